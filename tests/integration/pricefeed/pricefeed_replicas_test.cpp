// Two replicas of the price feed on one store (service_fixture.h): the leader runs the rounds;
// the follower serves what the leader stored, and a feed made through the follower is published
// by the leader. When the follower takes over it goes on from the leader's last round and with
// the leader's feed state: an unchanged price publishes nothing new.
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "integration/pricefeed/service_fixture.h"

namespace neosl::services::pricefeed_test {
namespace {

using PriceFeedReplicaTest = PriceFeedServiceTest;

TEST_F(PriceFeedReplicaTest, AFollowerServesTheLeadersRoundsAndTakesOverWhereItLeft) {
  TrustTheReportKey();
  Boot(/*send=*/true);
  ASSERT_FALSE(HasFatalFailure());

  // The follower: the same store, no rounds of its own, the store read every 20 ms.
  PriceFeedOptions options = Options();
  options.poll_interval = std::chrono::milliseconds(20);
  PriceEnclave enclave{[this](const tee::v1::PriceObserveRequest& req) {
    return pricefeed::Observe(req, {fetcher_.get(), &report_key_, &SystemClock::Instance()});
  }};
  auto follower = std::make_unique<PriceFeedService>(*pipeline_, *store_, std::move(enclave), SystemClock::Instance(),
                                                     SecureRandom::Instance(), report_key_.public_key(), options);
  ASSERT_TRUE(follower->Start(nullptr, /*poll=*/true, /*lead=*/false).ok());
  EXPECT_FALSE(follower->leading());
  mesh::MeshServer server(mesh::ServerOptions{}, *pipeline_, "feed-2");
  server.AddService(follower.get());
  ASSERT_TRUE(server.Start().ok());
  auto stub = pricefeedpb::PriceFeed::NewStub(server.InProcessChannel("gateway"));
  // GET /v1/prices/{pair} through the follower: UNAVAILABLE until it has a report.
  auto price = [&]() -> StatusOr<pricefeedpb::PriceReport> {
    pricefeedpb::GetPriceRequest req;
    req.set_pair(kPair);
    pricefeedpb::PriceReport out;
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-account-id", kAccount);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    RETURN_IF_ERROR(mesh::FromGrpcStatus(stub->GetPrice(&ctx, req, &out)));
    return out;
  };
  auto before = price();
  EXPECT_EQ(before.status().code(), StatusCode::kUnavailable) << "a follower does not run a round on demand";

  // A feed made through the follower (no target: its updates are recorded, not sent).
  pricefeedpb::CreateFeedRequest create;
  create.set_pair(kPair);
  create.set_deviation_bps(100);
  create.set_heartbeat_s(3600);
  auto feed = follower->AddFeed(kAccount, create);
  ASSERT_TRUE(feed.ok()) << feed.status().ToString();
  const std::string id = feed->feed_id();

  // The leader's round: it publishes the follower's feed, and the follower shows the round.
  service_->PollOnce();
  EXPECT_EQ(PairRound(), 1);
  ASSERT_EQ(Updates(id).size(), 1u) << "the leader did not learn of the feed made through the follower";
  EXPECT_EQ(Updates(id)[0].cause, "first");
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  StatusOr<pricefeedpb::PriceReport> shown = price();
  while (!(shown.ok() && shown->round() == 1) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling the follower's refresh
    shown = price();
  }
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_EQ(shown->round(), 1u);
  EXPECT_TRUE(shown->has_report());
  EXPECT_EQ(shown->price(), kPrice);
  EXPECT_EQ(follower->stats().rounds, 0u) << "a follower runs no rounds";

  // The leader goes; the follower takes over. The price has not moved: round 2 publishes nothing,
  // because the feed's last price came over from the store.
  Crash();
  ASSERT_TRUE(follower->Lead().ok());
  EXPECT_TRUE(follower->leading());
  follower->PollOnce();  // its poll thread runs rounds too, now: at least one more round
  EXPECT_GE(PairRound(), 2);
  auto after = price();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_GE(after->round(), 2u);
  EXPECT_EQ(Updates(id).size(), 1u) << "the new leader treated the feed as never published";

  follower->Stop();
  server.Shutdown(std::chrono::milliseconds(1000));
}

}  // namespace
}  // namespace neosl::services::pricefeed_test
