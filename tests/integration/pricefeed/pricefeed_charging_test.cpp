// Feed updates paid for through the gas bank (issue #12), with PriceFeedService against the
// devchain (service_fixture.h) and a FakeGasBank: the update's fee and the cap of its
// transaction's fees are held when a round decides it, before anything is recorded or enqueued;
// the outbox's outcome settles the hold — charged with the transaction's real fees when it was
// included, released when it failed — also after a restart; an account that cannot pay gets no
// update, and its feed shows why until it can pay again.
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/pricefeed/service_fixture.h"

namespace neosl::services::pricefeed_test {
namespace {

using neosl::testing::GasBankCall;
using neosl::testing::Methods;
using ::testing::HasSubstr;

class PriceFeedChargingTest : public PriceFeedServiceTest {
 protected:
  PriceFeedChargingTest() { charging_ = true; }

  // What the service holds for an update with a transaction: the update's fee and the cap of
  // the transaction's fees.
  int64_t HeldForASentUpdate(const GasBankCall& reserve) const {
    return bank_->Fee("pricefeed.update", {}) + reserve.chain_fee_cap;
  }
};

TEST_F(PriceFeedChargingTest, AnIncludedUpdateIsChargedWithItsTransactionsRealFees) {
  TrustTheReportKey();
  Boot(/*send=*/true);
  ASSERT_FALSE(HasFatalFailure());
  const std::string feed = AddFeed();
  ASSERT_FALSE(feed.empty());
  Observe();
  auto sent = finals_.WaitFor(Key(feed, 1));
  ASSERT_TRUE(sent);
  ASSERT_EQ(sent->state, OutboxState::kHalt) << sent->error;
  ASSERT_TRUE(sent->system_fee && sent->network_fee);
  ASSERT_TRUE(bank_->WaitForCalls(2)) << "the included update was never settled";

  auto calls = bank_->calls();
  ASSERT_EQ(Methods(calls), (std::vector<std::string>{"ReserveGas", "ChargeGas"}));
  const GasBankCall& reserve = calls[0];
  EXPECT_EQ(reserve.caller, "pricefeed");
  EXPECT_EQ(reserve.account, kAccount);
  EXPECT_EQ(reserve.operation, "pricefeed.update");
  EXPECT_TRUE(reserve.units.empty());
  EXPECT_EQ(reserve.reference, feed + ":1");  // the feed and its round
  EXPECT_GT(reserve.ttl_ms, 0) << "a hold that waits for a block says how long it may";
  EXPECT_EQ(reserve.chain_fee_cap, PriceFeedOptions{}.max_update_fee);
  EXPECT_EQ(reserve.amount, HeldForASentUpdate(reserve));
  const GasBankCall& charge = calls[1];
  EXPECT_EQ(charge.hold_id, reserve.hold_id);
  EXPECT_EQ(charge.account, kAccount);
  EXPECT_EQ(charge.operation, "pricefeed.update");
  EXPECT_EQ(charge.chain_system_fee, *sent->system_fee);
  EXPECT_EQ(charge.chain_network_fee, *sent->network_fee);
  EXPECT_GT(charge.chain_system_fee + charge.chain_network_fee, 0);
  EXPECT_EQ(bank_->HoldState(reserve.hold_id), "settled");
  // The transaction's fees were capped at what the hold covers.
  EXPECT_EQ(Int("SELECT max_fee FROM chain_outbox WHERE item_key = ?", {Key(feed, 1)}),
            PriceFeedOptions{}.max_update_fee);
}

TEST_F(PriceFeedChargingTest, AFailedUpdateReleasesItsHold) {
  // No report key on the contract: the outbox's test run FAULTs and the item fails unsent.
  Boot(/*send=*/true);
  ASSERT_FALSE(HasFatalFailure());
  const std::string feed = AddFeed();
  ASSERT_FALSE(feed.empty());
  Observe();
  auto failed = finals_.WaitFor(Key(feed, 1));
  ASSERT_TRUE(failed);
  ASSERT_EQ(failed->state, OutboxState::kFailed);
  ASSERT_TRUE(bank_->WaitForCalls(2));
  auto calls = bank_->calls();
  ASSERT_EQ(Methods(calls), (std::vector<std::string>{"ReserveGas", "ReleaseGas"}));
  EXPECT_EQ(calls[1].hold_id, calls[0].hold_id);
  EXPECT_EQ(bank_->HoldState(calls[0].hold_id), "released");
}

TEST_F(PriceFeedChargingTest, AnAccountThatCannotPayGetsNoUpdateAndItsFeedShowsWhy) {
  TrustTheReportKey();
  Boot(/*send=*/true);
  ASSERT_FALSE(HasFatalFailure());
  const std::string feed = AddFeed();
  ASSERT_FALSE(feed.empty());
  bank_->SetPoor(kAccount);
  Observe();

  // The round ran; the update was not recorded, not enqueued, and the feed did not move on.
  EXPECT_EQ(PairRound(), 1);
  EXPECT_TRUE(Updates(feed).empty());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM chain_outbox"), 0);
  EXPECT_EQ(FeedColumn(feed, "updates"), 0);
  EXPECT_EQ(service_->stats().updates, 0u);
  auto shown = GetFeed(feed);
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_EQ(shown->status(), "degraded");
  EXPECT_THAT(shown->reason(), HasSubstr("insufficient funds"));
  EXPECT_EQ(Methods(bank_->calls()), std::vector<std::string>{"ReserveGas"});

  // Still poor: the next round tries again, and publishes nothing.
  Observe();
  EXPECT_TRUE(Updates(feed).empty());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM chain_outbox"), 0);

  // Paid up: the next round publishes (the price it was owed), once, and the feed is active.
  bank_->SetPoor(kAccount, false);
  Observe();
  auto updates = Updates(feed);
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].round, 3);
  EXPECT_EQ(updates[0].cause, "first");
  auto landed = finals_.WaitFor(Key(feed, 3));
  ASSERT_TRUE(landed);
  EXPECT_EQ(landed->state, OutboxState::kHalt) << landed->error;
  EXPECT_EQ(ChainPrice()->round, 3);
  shown = GetFeed(feed);
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_EQ(shown->status(), "active");
  EXPECT_EQ(shown->reason(), "");
  ASSERT_TRUE(bank_->WaitForCalls(4));
  auto calls = bank_->calls();
  ASSERT_EQ(Methods(calls), (std::vector<std::string>{"ReserveGas", "ReserveGas", "ReserveGas", "ChargeGas"}));
  EXPECT_EQ(calls[2].reference, feed + ":3");
  EXPECT_EQ(calls[3].hold_id, calls[2].hold_id);
}

TEST_F(PriceFeedChargingTest, AnUpdateSentAfterARestartSettlesTheHoldItWasDecidedWith) {
  TrustTheReportKey();
  Boot(/*send=*/false);
  ASSERT_FALSE(HasFatalFailure());
  const std::string feed = AddFeed();
  ASSERT_FALSE(feed.empty());
  Observe();
  ASSERT_EQ(Methods(bank_->calls()), std::vector<std::string>{"ReserveGas"});
  const std::string hold = bank_->calls()[0].hold_id;
  ASSERT_FALSE(hold.empty());
  Crash();

  // The next instance knows nothing of the hold but its reference; it finds it again.
  Boot(/*send=*/true);
  ASSERT_FALSE(HasFatalFailure());
  auto sent = finals_.WaitFor(Key(feed, 1));
  ASSERT_TRUE(sent);
  ASSERT_EQ(sent->state, OutboxState::kHalt) << sent->error;
  ASSERT_TRUE(bank_->WaitForCalls(3));
  auto calls = bank_->calls();
  ASSERT_EQ(Methods(calls), (std::vector<std::string>{"ReserveGas", "ReserveGas", "ChargeGas"}));
  EXPECT_EQ(calls[1].reference, feed + ":1");
  EXPECT_EQ(calls[1].hold_id, hold) << "a second hold was taken for the same update";
  EXPECT_EQ(calls[2].hold_id, hold);
  EXPECT_EQ(calls[2].chain_system_fee, *sent->system_fee);
  EXPECT_EQ(bank_->HoldState(hold), "settled");
}

TEST_F(PriceFeedChargingTest, AnUpdateWithoutATransactionIsChargedOnceRecorded) {
  Boot(/*send=*/true);
  ASSERT_FALSE(HasFatalFailure());
  const std::string feed = AddFeed(/*target=*/false);
  ASSERT_FALSE(feed.empty());
  Observe();
  ASSERT_EQ(Updates(feed).size(), 1u);
  auto calls = bank_->calls();
  ASSERT_EQ(Methods(calls), (std::vector<std::string>{"ReserveGas", "ChargeGas"}));
  EXPECT_EQ(calls[0].chain_fee_cap, 0);
  EXPECT_EQ(calls[0].amount, bank_->Fee("pricefeed.update", {}));
  EXPECT_EQ(calls[1].hold_id, calls[0].hold_id);
  EXPECT_EQ(calls[1].chain_system_fee + calls[1].chain_network_fee, 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM chain_outbox"), 0);
}

}  // namespace
}  // namespace neosl::services::pricefeed_test
