// The automation price watcher (services/automation/sources.h) over a real in-process mesh: the
// default authorization policy, a pipeline and server, a client with the automation service's
// identity, and a test double of the price feed whose WatchPrices streams the test writes to and
// ends at will.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/random.h"
#include "mesh/client.h"
#include "mesh/policy.h"
#include "mesh/registry.h"
#include "mesh/server.h"
#include "neosl/pricefeed/v1/pricefeed.grpc.pb.h"
#include "services/automation/sources.h"

namespace neosl::automation {
namespace {

namespace pricefeedpb = ::neosl::pricefeed::v1;

constexpr auto kWait = std::chrono::seconds(20);  // for what comes in well under a second

// The price feed's WatchPrices, and nothing else: every all-pairs stream opened is kept for the
// test to write to (Push) and end (EndAll); a stream of one pair (which keeps it followed) is
// recorded by its pair.
class FakePriceFeed final : public pricefeedpb::PriceFeed::CallbackService {
 public:
  explicit FakePriceFeed(mesh::Pipeline& pipeline) : pipeline_(pipeline) {}

  grpc::ServerWriteReactor<pricefeedpb::PriceReport>* WatchPrices(
      grpc::CallbackServerContext* ctx, const pricefeedpb::WatchPricesRequest* request) override {
    if (!request->pair().empty()) {  // a stream that keeps a pair followed
      // Counted once its writer is kept, so that EndPairStreams after WaitAsked reaches it.
      return pipeline_.ServerStream<pricefeedpb::PriceReport>(
          ctx, "pricefeed", "WatchPrices",
          [this, pair = request->pair()](const std::shared_ptr<mesh::StreamWriter>& writer) {
            {
              std::lock_guard inner(mu_);
              pair_writers_.push_back(writer);
              asked_.push_back(pair);
            }
            cv_.notify_all();
          });
    }
    return pipeline_.ServerStream<pricefeedpb::PriceReport>(ctx, "pricefeed", "WatchPrices",
                                                            [this](const std::shared_ptr<mesh::StreamWriter>& writer) {
                                                              std::lock_guard lock(mu_);
                                                              writers_.push_back(writer);
                                                              cv_.notify_all();
                                                            });
  }
  // Ends the pair streams (the watcher opens them again on its next check).
  void EndPairStreams() {
    std::lock_guard lock(mu_);
    for (const auto& w : pair_writers_) w->Finish(Status::Ok());
  }

  // Until pair streams were opened `n` times in all.
  bool WaitAsked(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return asked_.size() >= n; });
  }
  std::vector<std::string> asked() {
    std::lock_guard lock(mu_);
    return asked_;
  }

  // Until `n` streams have been opened in all.
  bool WaitOpened(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return writers_.size() >= n; });
  }
  size_t opened() {
    std::lock_guard lock(mu_);
    return writers_.size();
  }
  // To every stream still open.
  void Push(const pricefeedpb::PriceReport& report) {
    std::lock_guard lock(mu_);
    for (const auto& w : writers_) {
      if (!w->done()) w->Write(report);
    }
  }
  void EndAll(const Status& status) {
    std::lock_guard lock(mu_);
    for (const auto& w : writers_) w->Finish(status);
  }
  // Until every stream opened is over (ended here, or cancelled by the client).
  bool WaitAllOver() {
    std::vector<std::shared_ptr<mesh::StreamWriter>> writers;
    {
      std::lock_guard lock(mu_);
      writers = writers_;
    }
    for (const auto& w : writers) {
      if (!w->WaitDone(std::chrono::duration_cast<std::chrono::milliseconds>(kWait))) return false;
    }
    return true;
  }

 private:
  mesh::Pipeline& pipeline_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<mesh::StreamWriter>> writers_;
  std::vector<std::string> asked_;
  std::vector<std::shared_ptr<mesh::StreamWriter>> pair_writers_;
};

pricefeedpb::PriceReport Report(std::string pair, int64_t price, uint64_t round, std::string status = "ok",
                                bool has_report = true) {
  pricefeedpb::PriceReport r;
  r.set_pair(std::move(pair));
  r.set_price(price);
  r.set_decimals(8);
  r.set_round(round);
  r.set_timestamp_ms(1'700'000'000'000 + static_cast<int64_t>(round));
  r.set_status(std::move(status));
  r.set_has_report(has_report);
  return r;
}

// The ticks the watcher gave, for the test thread to wait on.
class Ticks {
 public:
  PriceWatcher::OnTick OnTick() {
    return [this](const PriceTick& t) {
      std::lock_guard lock(mu_);
      ticks_.push_back(t);
      cv_.notify_all();
    };
  }
  bool WaitFor(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return ticks_.size() >= n; });
  }
  std::vector<PriceTick> ticks() {
    std::lock_guard lock(mu_);
    return ticks_;
  }
  std::vector<uint64_t> rounds() {
    std::lock_guard lock(mu_);
    std::vector<uint64_t> out;
    for (const PriceTick& t : ticks_) out.push_back(t.round);
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<PriceTick> ticks_;
};

class PriceWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto policy = mesh::AuthzPolicy::FromYaml(mesh::DefaultAuthzPolicyYaml());
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
    policy_ = std::make_unique<mesh::AuthzPolicy>(std::move(*policy));
    mesh::PipelineOptions po;
    po.policy = policy_.get();
    pipeline_ = std::make_unique<mesh::Pipeline>(std::move(po), SystemClock::Instance(), SecureRandom::Instance());
    feed_ = std::make_unique<FakePriceFeed>(*pipeline_);
    server_ = std::make_unique<mesh::MeshServer>(mesh::ServerOptions{}, *pipeline_, "feed-1");
    server_->AddService(feed_.get());
    ASSERT_TRUE(server_->Start().ok());
    registry_ = mesh::NewMemoryRegistry();
    mesh::ClientOptions co;
    co.identity = "automation";  // the policy lets it call WatchPrices
    client_ = std::make_unique<mesh::MeshClient>(co, *registry_, mesh::InProcessChannels(*server_, co.identity),
                                                 SystemClock::Instance(), SecureRandom::Instance());
  }

  void TearDown() override {
    watcher_.reset();  // before the client and server it streams over
    registration_.reset();
    if (server_) server_->Shutdown(std::chrono::milliseconds(1000));
  }

  void Register() {
    auto reg = registry_->Register(mesh::Endpoint{"pricefeed", "feed-1", "inproc", "t", true, {}});
    ASSERT_TRUE(reg.ok()) << reg.status().ToString();
    registration_ = std::move(*reg);
  }

  void Watch(PriceWatcher::Pairs pairs = nullptr,
             std::chrono::milliseconds keep_every = std::chrono::milliseconds(60'000)) {
    watcher_ = std::make_unique<PriceWatcher>(*client_, ticks_.OnTick(), SecureRandom::Instance(), std::move(pairs),
                                              keep_every);
    Status s = watcher_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Until the watcher says it is connected.
  bool WaitConnected() {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (!watcher_->connected()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the poll interval
    }
    return true;
  }

  std::unique_ptr<mesh::AuthzPolicy> policy_;
  std::unique_ptr<mesh::Pipeline> pipeline_;
  std::unique_ptr<FakePriceFeed> feed_;
  std::unique_ptr<mesh::MeshServer> server_;
  std::unique_ptr<mesh::Registry> registry_;
  std::unique_ptr<mesh::Registration> registration_;
  std::unique_ptr<mesh::MeshClient> client_;
  Ticks ticks_;
  std::unique_ptr<PriceWatcher> watcher_;
};

TEST_F(PriceWatcherTest, TicksArriveInOrderForReportsWithAFreshPrice) {
  Register();
  Watch();
  EXPECT_EQ(watcher_->Start().code(), StatusCode::kFailedPrecondition);  // once
  ASSERT_TRUE(feed_->WaitOpened(1));
  ASSERT_TRUE(WaitConnected());

  feed_->Push(Report("NEO/USD", 1'123'000'000, 1));
  feed_->Push(Report("GAS/USD", 0, 0, "ok", /*has_report=*/false));  // no round yet: nothing
  feed_->Push(Report("NEO/USD", 1'123'000'000, 1, "degraded"));      // the old round again: nothing
  feed_->Push(Report("GAS/USD", 412'000'000, 7));
  feed_->Push(Report("NEO/USD", 1'150'000'000, 2));
  ASSERT_TRUE(ticks_.WaitFor(3));

  const std::vector<PriceTick> t = ticks_.ticks();
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].pair, "NEO/USD");
  EXPECT_EQ(t[0].price, 1'123'000'000);
  EXPECT_EQ(t[0].decimals, 8u);
  EXPECT_EQ(t[0].round, 1u);
  EXPECT_EQ(t[0].timestamp_ms, 1'700'000'000'001);
  EXPECT_EQ(t[1].pair, "GAS/USD");
  EXPECT_EQ(t[1].round, 7u);
  EXPECT_EQ(t[2].pair, "NEO/USD");
  EXPECT_EQ(t[2].price, 1'150'000'000);
}

TEST_F(PriceWatcherTest, OpensTheStreamAgainWhenItEnds) {
  Register();
  Watch();
  ASSERT_TRUE(feed_->WaitOpened(1));
  feed_->Push(Report("NEO/USD", 100, 1));
  ASSERT_TRUE(ticks_.WaitFor(1));

  feed_->EndAll(Status::Ok());  // the feed ended the stream
  ASSERT_TRUE(feed_->WaitOpened(2));
  ASSERT_TRUE(WaitConnected());
  feed_->Push(Report("NEO/USD", 101, 2));
  ASSERT_TRUE(ticks_.WaitFor(2));

  feed_->EndAll(UnavailableError("test: the feed went away"));  // and failed it
  ASSERT_TRUE(feed_->WaitOpened(3));
  ASSERT_TRUE(WaitConnected());
  feed_->Push(Report("NEO/USD", 102, 3));
  ASSERT_TRUE(ticks_.WaitFor(3));
  EXPECT_EQ(ticks_.rounds(), (std::vector<uint64_t>{1, 2, 3}));
}

TEST_F(PriceWatcherTest, KeepsTryingUntilThePriceFeedIsThere) {
  Watch();  // no instance registered: opening fails, and is retried
  EXPECT_FALSE(watcher_->connected());
  Register();
  ASSERT_TRUE(feed_->WaitOpened(1));
  ASSERT_TRUE(WaitConnected());
  feed_->Push(Report("NEO/USD", 100, 1));
  ASSERT_TRUE(ticks_.WaitFor(1));
}

TEST_F(PriceWatcherTest, StopCancelsTheStreamPromptly) {
  Register();
  Watch();
  ASSERT_TRUE(feed_->WaitOpened(1));
  ASSERT_TRUE(WaitConnected());
  const auto start = std::chrono::steady_clock::now();
  watcher_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(watcher_->connected());
  EXPECT_TRUE(feed_->WaitAllOver()) << "the feed still streams to a stopped watcher";
  // Nothing more arrives, and nothing is opened again.
  feed_->Push(Report("NEO/USD", 100, 1));
  EXPECT_TRUE(ticks_.ticks().empty());
  EXPECT_EQ(feed_->opened(), 1u);
}

// The feed observes a pair only while somebody follows it: a stream of each of the triggers'
// pairs is kept open — opened with the main stream, for a new pair when poked, and again after it
// ended when the next check comes.
TEST_F(PriceWatcherTest, KeepsTheTriggersPairsFollowed) {
  Register();
  std::mutex mu;
  std::vector<std::string> pairs{"NEO/USD"};
  Watch(
      [&] {
        std::lock_guard lock(mu);
        return pairs;
      },
      std::chrono::milliseconds(3'600'000));
  ASSERT_TRUE(feed_->WaitAsked(1));
  {
    std::lock_guard lock(mu);
    pairs.push_back("GAS/USD");
  }
  watcher_->Poke();
  ASSERT_TRUE(feed_->WaitAsked(2));
  EXPECT_EQ(feed_->asked(), (std::vector<std::string>{"NEO/USD", "GAS/USD"}));
  watcher_.reset();
  // Streams that end are opened again on the timer.
  Watch([] { return std::vector<std::string>{"BTC/USD"}; }, std::chrono::milliseconds(20));
  ASSERT_TRUE(feed_->WaitAsked(3));
  feed_->EndPairStreams();
  ASSERT_TRUE(feed_->WaitAsked(4));
  EXPECT_EQ(feed_->asked().back(), "BTC/USD");
}

}  // namespace
}  // namespace neosl::automation
