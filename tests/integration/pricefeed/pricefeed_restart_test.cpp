// PriceFeedService against the devchain (service_fixture.h): an update decided before a crash is
// sent exactly once after the restart, a failed update is republished, a deleted feed publishes
// nothing.
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "integration/pricefeed/service_fixture.h"

namespace neosl::services::pricefeed_test {
namespace {

using PriceFeedRestartTest = PriceFeedServiceTest;

TEST_F(PriceFeedRestartTest, ARoundDecidedBeforeACrashIsSentOnceAfterTheRestart) {
  TrustTheReportKey();
  Boot(/*send=*/false);
  ASSERT_FALSE(HasFatalFailure());
  const std::string feed = AddFeed();
  ASSERT_FALSE(feed.empty());
  Observe();

  // Decided and recorded in the store, not sent: the crash point.
  auto updates = Updates(feed);
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].round, 1);
  EXPECT_EQ(updates[0].cause, "first");
  EXPECT_EQ(updates[0].outbox_key, Key(feed, 1));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM chain_outbox"), 1);
  auto queued = Outbox::Get(*store_, Key(feed, 1));
  ASSERT_TRUE(queued.ok()) << queued.status().ToString();
  EXPECT_EQ(queued->state, OutboxState::kQueued);
  EXPECT_EQ(queued->owner, "pricefeed");
  EXPECT_EQ(queued->account_id, kAccount);
  EXPECT_EQ(PairRound(), 1);
  EXPECT_EQ(FeedColumn(feed, "last_round"), 1);
  EXPECT_EQ(FeedColumn(feed, "last_price"), kPrice);
  EXPECT_EQ(FeedColumn(feed, "updates"), 1);
  const auto decided = UpdateReport(feed, 1);
  ASSERT_TRUE(decided);
  EXPECT_EQ(decided->price(), kPrice);
  const std::vector<uint8_t> decided_script = OutboxScript(Key(feed, 1));
  ASSERT_FALSE(decided_script.empty());
  Crash();
  EXPECT_FALSE(ChainPrice()) << "nothing was sent before the crash";
  EXPECT_TRUE(UpdatesOnChain().empty());

  // The next instance sends what the first decided, once.
  Boot(/*send=*/true);
  ASSERT_FALSE(HasFatalFailure());
  auto first = finals_.WaitFor(Key(feed, 1));
  ASSERT_TRUE(first) << "the queued update was never sent";
  EXPECT_EQ(first->state, OutboxState::kHalt) << first->error;
  EXPECT_EQ(first->attempts, 1);
  auto on_chain = ChainPrice();
  ASSERT_TRUE(on_chain);
  EXPECT_EQ(on_chain->round, 1);
  EXPECT_EQ(on_chain->price, kPrice);
  EXPECT_EQ(on_chain->decimals, 8);
  EXPECT_EQ(on_chain->timestamp, decided->timestamp_ms()) << "the round the first instance signed, not a new one";
  auto sent = UpdatesOnChain();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].script(), decided_script);
  EXPECT_EQ(sent[0].hash().ToString(), first->tx_hash);

  // The same prices: round 2 is observed, nothing is published.
  Observe();
  EXPECT_EQ(PairRound(), 2);
  EXPECT_EQ(Updates(feed).size(), 1u);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM chain_outbox"), 1);
  EXPECT_EQ(FeedColumn(feed, "last_round"), 1);
  EXPECT_EQ(service_->stats().updates, 0u);
  EXPECT_EQ(ChainPrice()->round, 1);

  // 2 % up, over the feed's 1 %: round 3 is published, and sent once.
  venues_.SetAllPrices(kMovedText);
  Observe();
  EXPECT_EQ(PairRound(), 3);
  updates = Updates(feed);
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[1].round, 3);
  EXPECT_EQ(updates[1].cause, "deviation");
  EXPECT_EQ(updates[1].outbox_key, Key(feed, 3));
  auto third = finals_.WaitFor(Key(feed, 3));
  ASSERT_TRUE(third);
  EXPECT_EQ(third->state, OutboxState::kHalt) << third->error;
  EXPECT_NE(third->tx_hash, first->tx_hash);
  on_chain = ChainPrice();
  ASSERT_TRUE(on_chain);
  EXPECT_EQ(on_chain->round, 3);
  EXPECT_EQ(on_chain->price, kMovedPrice);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM chain_outbox"), 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM chain_outbox WHERE state = 'halt'"), 2);
  EXPECT_EQ(FeedColumn(feed, "last_round"), 3);
  EXPECT_EQ(FeedColumn(feed, "last_price"), kMovedPrice);
  EXPECT_EQ(FeedColumn(feed, "updates"), 2);
  EXPECT_EQ(UpdatesOnChain().size(), 2u);
  EXPECT_EQ(finals_.Count(Key(feed, 1)), 1u);
  EXPECT_EQ(finals_.Count(Key(feed, 3)), 1u);
}

// Until setReportKey, every updatePrice FAULTs in the outbox's test run: the item fails unsent and
// the feed is marked to publish its next round whatever the price did — in memory, and in the
// store for the next instance.
TEST_F(PriceFeedRestartTest, AFailedUpdateRepublishesTheNextRound) {
  Boot(/*send=*/true);
  ASSERT_FALSE(HasFatalFailure());
  const std::string feed = AddFeed();
  ASSERT_FALSE(feed.empty());
  Observe();
  auto failed = finals_.WaitFor(Key(feed, 1));
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->state, OutboxState::kFailed);
  EXPECT_NE(failed->error.find("no report key is set"), std::string::npos) << failed->error;
  EXPECT_EQ(FeedColumn(feed, "republish"), 1);

  // The same prices, and the running service publishes again: republish (which fails again).
  Observe();
  auto updates = Updates(feed);
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[1].round, 2);
  EXPECT_EQ(updates[1].cause, "republish");
  auto again = finals_.WaitFor(Key(feed, 2));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->state, OutboxState::kFailed);
  EXPECT_EQ(FeedColumn(feed, "republish"), 1);
  EXPECT_FALSE(ChainPrice());

  // The mark survives a restart; with the key trusted, the republished round lands.
  Crash();
  TrustTheReportKey();
  Boot(/*send=*/true);
  ASSERT_FALSE(HasFatalFailure());
  Observe();
  updates = Updates(feed);
  ASSERT_EQ(updates.size(), 3u);
  EXPECT_EQ(updates[2].round, 3);
  EXPECT_EQ(updates[2].cause, "republish");
  EXPECT_EQ(FeedColumn(feed, "republish"), 0);
  auto landed = finals_.WaitFor(Key(feed, 3));
  ASSERT_TRUE(landed);
  EXPECT_EQ(landed->state, OutboxState::kHalt) << landed->error;
  auto on_chain = ChainPrice();
  ASSERT_TRUE(on_chain);
  EXPECT_EQ(on_chain->round, 3);
  EXPECT_EQ(on_chain->price, kPrice);

  // Published: the next unchanged round is not.
  Observe();
  EXPECT_EQ(PairRound(), 4);
  EXPECT_EQ(Updates(feed).size(), 3u);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM chain_outbox"), 3);
  EXPECT_EQ(UpdatesOnChain().size(), 1u);
}

// A feed deleted in the store (DeleteFeed's own UPDATE, as another instance on the store would
// run it) publishes nothing, while the process that still has it in memory runs rounds, nor after
// a restart.
TEST_F(PriceFeedRestartTest, ADeletedFeedPublishesNothing) {
  TrustTheReportKey();
  Boot(/*send=*/true);
  ASSERT_FALSE(HasFatalFailure());
  const std::string feed = AddFeed();
  ASSERT_FALSE(feed.empty());
  Observe();
  auto first = finals_.WaitFor(Key(feed, 1));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->state, OutboxState::kHalt) << first->error;

  Status deleted = store::RunInTransaction(*store_, store::TxMode::kWrite, [&](store::Transaction& tx) {
    return tx
        .Exec("UPDATE price_feeds SET deleted_at_ms = ? WHERE id = ? AND deleted_at_ms IS NULL",
              {SystemClock::Instance().NowUnixMillis(), feed})
        .status();
  });
  ASSERT_TRUE(deleted.ok()) << deleted.ToString();
  venues_.SetAllPrices(kMovedText);
  Observe();
  EXPECT_EQ(PairRound(), 2);
  EXPECT_EQ(Updates(feed).size(), 1u);
  EXPECT_EQ(FeedColumn(feed, "last_round"), 1);

  Crash();
  Boot(/*send=*/true);
  ASSERT_FALSE(HasFatalFailure());
  venues_.SetAllPrices("11.80");
  Observe();
  EXPECT_EQ(PairRound(), 3);
  EXPECT_EQ(Updates(feed).size(), 1u);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM chain_outbox"), 1);
  EXPECT_EQ(service_->stats().updates, 0u);
  EXPECT_EQ(ChainPrice()->round, 1);
  EXPECT_EQ(UpdatesOnChain().size(), 1u);
}

// The outbox records an item's failure, then tells the listener, which marks the feed to
// republish in a transaction of its own; the outbox never tells anyone of an item already final
// at Start. A process that dies between the two loses the mark, so Load finds such feeds again
// (a feed whose last update's item failed). Here an outbox without the service's listener stands
// in for that process.
TEST_F(PriceFeedRestartTest, AFailureRecordedJustBeforeACrashIsStillRepublished) {
  Boot(/*send=*/false);
  ASSERT_FALSE(HasFatalFailure());
  const std::string feed = AddFeed();
  ASSERT_FALSE(feed.empty());
  Observe();
  Crash();
  {
    chain_tx::OutboxOptions oo;
    oo.poll_interval = std::chrono::milliseconds(20);
    Outbox dying(oo, *store_, *outbox_rpc_, *outbox_signer_, SecureRandom::Instance(), SystemClock::Instance());
    ASSERT_TRUE(dying.Start().ok());
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    std::optional<OutboxState> state;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = Outbox::Get(*store_, Key(feed, 1));
      if (r.ok() && r->state != OutboxState::kQueued) {
        state = r->state;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polls the store, bounded above
    }
    ASSERT_EQ(state, OutboxState::kFailed);
  }
  TrustTheReportKey();
  Boot(/*send=*/true);
  ASSERT_FALSE(HasFatalFailure());
  Observe();
  auto updates = Updates(feed);
  ASSERT_EQ(updates.size(), 2u) << "round 1 failed and nothing was republished after the restart";
  EXPECT_EQ(updates[1].cause, "republish");
}

}  // namespace
}  // namespace neosl::services::pricefeed_test
