// The automation chain follower (services/automation/sources.h) against real parts: an
// in-process devchain on 127.0.0.1:0 followed over its WebSocket, a SQLite store with the
// platform's migrations, and real signed GAS transfers from dev wallet 0. Block production is
// held and blocks are mined by hand, so each test knows which block holds what. The handler
// writes a row per block in the follower's transaction, so the table shows what committed: a
// block handled twice, or lost, shows there.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include "chain_requests/relay.h"
#include "chain_requests/request_store.h"
#include "integration/devchain/devchain_fixture.h"
#include "schema/migrations.h"
#include "services/automation/sources.h"
#include "store/sqlite_store.h"
#include "support/test_store_open.h"

namespace neosl::automation {
namespace {

using std::chrono::milliseconds;

constexpr auto kWait = std::chrono::seconds(30);  // for what comes in well under a second

// What the follower handed over and committed, as the test sees it.
struct Seen {
  uint32_t index = 0;
  neo::UInt256 hash;
  bool backlog = false;
  std::vector<neo::NotificationEvent> notifications;
};

// The follower's handler and after_commit: a row per block in the follower's transaction, and
// what committed, in order. A block can be made to fail a number of times, or always.
class Recorder {
 public:
  ChainFollower::Handler Handler() {
    return [this](store::Transaction& tx, const ChainBlock& block) -> Status {
      const uint32_t index = block.block.index;
      RETURN_IF_ERROR(
          tx.Exec("INSERT INTO follower_test_blocks (block_index, notifications, backlog) VALUES (?, ?, ?)",
                  {int64_t{index}, static_cast<int64_t>(block.notifications.size()), int64_t{block.backlog ? 1 : 0}})
              .status());
      std::lock_guard lock(mu_);
      ++attempts_[index];
      cv_.notify_all();
      if (fail_always_ || (fail_block_ == index && fail_times_ > 0)) {
        if (!fail_always_) --fail_times_;
        return UnavailableError("test: the handler failed");  // the row above is rolled back
      }
      return Status::Ok();
    };
  }
  ChainFollower::AfterCommit AfterCommit() {
    return [this](const ChainBlock& block) {
      std::lock_guard lock(mu_);
      committed_.push_back(Seen{block.block.index, block.block.hash, block.backlog, block.notifications});
      cv_.notify_all();
    };
  }

  void FailTimes(uint32_t block, int times) {
    std::lock_guard lock(mu_);
    fail_block_ = block;
    fail_times_ = times;
  }
  void FailAlways() {
    std::lock_guard lock(mu_);
    fail_always_ = true;
  }

  // Until block `index` has committed.
  bool WaitCommitted(uint32_t index) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return !committed_.empty() && committed_.back().index >= index; });
  }
  bool WaitAttempts(uint32_t index, int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return attempts_[index] >= n; });
  }

  std::vector<Seen> committed() {
    std::lock_guard lock(mu_);
    return committed_;
  }
  std::vector<uint32_t> indexes() {
    std::lock_guard lock(mu_);
    std::vector<uint32_t> out;
    for (const Seen& s : committed_) out.push_back(s.index);
    return out;
  }
  int attempts(uint32_t index) {
    std::lock_guard lock(mu_);
    return attempts_[index];
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Seen> committed_;
  std::map<uint32_t, int> attempts_;
  std::optional<uint32_t> fail_block_;
  int fail_times_ = 0;
  bool fail_always_ = false;
};

std::vector<uint32_t> Range(uint32_t from, uint32_t to) {
  std::vector<uint32_t> out;
  for (uint32_t i = from; i <= to; ++i) out.push_back(i);
  return out;
}

class ChainFollowerTest : public devchain::testing::DevchainTest {
 protected:
  void SetUp() override {
    StartChain();
    ASSERT_FALSE(HasFatalFailure());
    chain_->Stop();  // blocks are mined by hand
    auto store = ::neosl::testing::OpenTestStore({.path = dir_.File("neosl.db")});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = *std::move(store);
    ASSERT_TRUE(store_->Migrate(schema::Migrations()).ok());
    Status made = store::RunInTransaction(*store_, store::TxMode::kWrite, [](store::Transaction& tx) {
      return tx
          .Exec(
              "CREATE TABLE follower_test_blocks (block_index INTEGER NOT NULL, notifications INTEGER NOT NULL, "
              "backlog INTEGER NOT NULL)")
          .status();
    });
    ASSERT_TRUE(made.ok()) << made.ToString();
    subscriber_rpc_ = NewClient();
    follower_rpc_ = NewClient();
    ASSERT_NE(subscriber_rpc_, nullptr);
    ASSERT_NE(follower_rpc_, nullptr);
  }

  void TearDown() override {
    follower_.reset();  // before the chain and the clients it follows with
    DevchainTest::TearDown();
  }

  static ChainFollowerOptions Options(uint32_t confirmations = 0) {
    ChainFollowerOptions o;
    o.confirmations = confirmations;
    o.retry_interval = milliseconds(20);
    return o;
  }

  // A follower over the fixture's store and devchain, started.
  std::unique_ptr<ChainFollower> Follow(Recorder& recorder, ChainFollowerOptions options) {
    auto factory = chain_requests::WsSubscriberFactory(ws_url(), *subscriber_rpc_, SecureRandom::Instance());
    auto follower =
        std::make_unique<ChainFollower>(std::move(options), *store_, *follower_rpc_, std::move(factory),
                                        recorder.Handler(), recorder.AfterCommit(), SystemClock::Instance());
    Status s = follower->Start();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return follower;
  }

  // A block mined now with a GAS transfer from dev wallet 0 per amount; its index and the
  // number of notifications the chain made in it (OnPersist, HALTed transactions, PostPersist).
  struct Mined {
    uint32_t index = 0;
    size_t notifications = 0;
    std::vector<neo::UInt256> txs;
  };
  Mined Mine(const std::vector<int64_t>& transfers = {}) {
    Mined out;
    for (int64_t amount : transfers) {
      neo::Transaction tx = BuildGasTransfer(devchain::DevWalletAt(1).script_hash, amount);
      auto sent = sender_->Send(tx);
      EXPECT_TRUE(sent.ok()) << sent.status().ToString();
      out.txs.push_back(tx.hash());
    }
    auto mined = chain_->MineBlock();
    EXPECT_TRUE(mined.ok()) << mined.status().ToString();
    if (!mined.ok()) return out;
    out.index = mined->block.header().index();
    EXPECT_EQ(mined->block.transactions().size(), transfers.size());
    out.notifications = mined->on_persist.notifications.size() + mined->post_persist.notifications.size();
    for (const auto& e : mined->executions) {
      if (e.state == devchain::VmState::kHalt) out.notifications += e.notifications.size();
    }
    return out;
  }

  // block_index → rows committed for it.
  std::map<uint32_t, int64_t> Rows() {
    std::map<uint32_t, int64_t> out;
    auto rows = store_->Query("SELECT block_index, COUNT(*) FROM follower_test_blocks GROUP BY block_index");
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    if (!rows.ok()) return out;
    for (const auto& row : *rows) out[static_cast<uint32_t>(*row.Int(0))] = *row.Int(1);
    return out;
  }
  // Every block in [from, to] committed exactly once, and nothing else.
  void ExpectEachOnce(uint32_t from, uint32_t to) {
    std::map<uint32_t, int64_t> expected;
    for (uint32_t i : Range(from, to)) expected[i] = 1;
    EXPECT_EQ(Rows(), expected);
  }

  std::optional<uint32_t> Cursor() {
    auto c = chain_requests::ReadCursor(*store_, ChainFollowerOptions{}.cursor);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : std::nullopt;
  }

  std::unique_ptr<store::Store> store_;
  std::unique_ptr<neo::HttpRpcClient> subscriber_rpc_;
  std::unique_ptr<neo::HttpRpcClient> follower_rpc_;
  std::unique_ptr<ChainFollower> follower_;
};

TEST_F(ChainFollowerTest, BlocksArriveInOrderWithTheirNotifications) {
  Recorder recorder;
  const uint32_t first = chain_->height() + 1;
  follower_ = Follow(recorder, Options());
  EXPECT_EQ(follower_->Start().code(), StatusCode::kFailedPrecondition);  // once

  const Mined a = Mine({1'000});
  const Mined b = Mine();
  const Mined c = Mine({2'000, 3'000});
  ASSERT_EQ(a.index, first);
  ASSERT_TRUE(recorder.WaitCommitted(c.index));

  EXPECT_EQ(recorder.indexes(), Range(first, c.index));
  const std::vector<Seen> seen = recorder.committed();
  const std::vector<Mined> mined = {a, b, c};
  for (size_t i = 0; i < mined.size(); ++i) {
    const Seen& s = seen[i];
    EXPECT_FALSE(s.backlog) << "mined after Start";
    EXPECT_EQ(s.notifications.size(), mined[i].notifications) << "block " << s.index;
    for (const auto& n : s.notifications) EXPECT_EQ(n.block_index, s.index);
    // Each transfer's GAS Transfer is there, from its transaction, in chain order.
    std::vector<neo::UInt256> transfers;
    for (const auto& n : s.notifications) {
      if (n.notification.event_name == "Transfer" && n.container != s.hash) {  // not OnPersist/PostPersist
        transfers.push_back(n.container);
      }
    }
    EXPECT_EQ(transfers, mined[i].txs) << "block " << s.index;
  }
  // The amounts arrive as the node sent them.
  const auto& n = seen[0].notifications;
  auto it = std::find_if(n.begin(), n.end(), [&](const neo::NotificationEvent& e) { return e.container == a.txs[0]; });
  ASSERT_NE(it, n.end());
  auto args = it->notification.state.AsArray();
  ASSERT_TRUE(args.ok() && args->size() == 3);
  EXPECT_EQ((*args)[2].IntegerText().value(), "1000");

  ExpectEachOnce(first, c.index);
  EXPECT_EQ(Cursor(), c.index);
  EXPECT_EQ(follower_->last_block(), c.index);
}

TEST_F(ChainFollowerTest, AHandlerErrorRetriesTheSameBlockWithoutSkippingOrDoubling) {
  Recorder recorder;
  const uint32_t first = chain_->height() + 1;
  recorder.FailTimes(first + 1, 2);
  follower_ = Follow(recorder, Options());
  Mine();
  Mine({5'000});
  const Mined last = Mine();
  ASSERT_TRUE(recorder.WaitCommitted(last.index));

  EXPECT_EQ(recorder.attempts(first), 1);
  EXPECT_EQ(recorder.attempts(first + 1), 3);  // two failures, then the commit
  EXPECT_EQ(recorder.attempts(last.index), 1);
  EXPECT_EQ(recorder.indexes(), Range(first, last.index));
  ExpectEachOnce(first, last.index);  // the failed attempts' rows were rolled back
  EXPECT_EQ(Cursor(), last.index);
}

TEST_F(ChainFollowerTest, ARestartResumesFromTheCursorAndMarksWhatWasMissedAsBacklog) {
  const uint32_t first = chain_->height() + 1;
  Recorder before;
  follower_ = Follow(before, Options());
  Mine();
  const Mined stopped_at = Mine({1'000});
  ASSERT_TRUE(before.WaitCommitted(stopped_at.index));
  follower_.reset();

  // Mined while nobody follows.
  const Mined m1 = Mine();
  const Mined m2 = Mine({2'000});
  const Mined m3 = Mine();

  Recorder after;
  follower_ = Follow(after, Options());
  ASSERT_TRUE(after.WaitCommitted(m3.index));
  const Mined live = Mine({3'000});
  ASSERT_TRUE(after.WaitCommitted(live.index));

  EXPECT_EQ(before.indexes(), Range(first, stopped_at.index));
  EXPECT_EQ(after.indexes(), Range(m1.index, live.index));
  const std::vector<Seen> seen = after.committed();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_TRUE(seen[0].backlog);
  EXPECT_TRUE(seen[1].backlog);
  EXPECT_TRUE(seen[2].backlog);
  EXPECT_FALSE(seen[3].backlog) << "mined after the restart";
  EXPECT_EQ(seen[1].notifications.size(), m2.notifications);
  EXPECT_EQ(seen[3].notifications.size(), live.notifications);
  ExpectEachOnce(first, live.index);
  EXPECT_EQ(Cursor(), live.index);
}

TEST_F(ChainFollowerTest, ConfirmationsHoldBlocksAndHeldBlocksAreNotLostOnRestart) {
  const uint32_t first = chain_->height() + 1;
  Recorder before;
  follower_ = Follow(before, Options(/*confirmations=*/2));
  const Mined b1 = Mine({1'000});
  Mine();  // b2
  const Mined b3 = Mine();
  ASSERT_TRUE(before.WaitCommitted(b1.index));  // two blocks on top of it
  const Mined b4 = Mine();
  ASSERT_TRUE(before.WaitCommitted(b1.index + 1));
  EXPECT_EQ(before.indexes(), Range(first, b1.index + 1)) << "b3 needs b5";
  EXPECT_EQ(before.committed()[0].notifications.size(), b1.notifications);
  follower_.reset();
  EXPECT_EQ(Cursor(), b1.index + 1);

  // b3 and b4 were seen but not handed over: the next follower is given them again, as backlog.
  Recorder after;
  follower_ = Follow(after, Options(/*confirmations=*/2));
  const Mined b5 = Mine();
  ASSERT_TRUE(after.WaitCommitted(b3.index));
  Mine();  // b6
  ASSERT_TRUE(after.WaitCommitted(b4.index));
  EXPECT_EQ(after.indexes(), Range(b3.index, b4.index));
  EXPECT_TRUE(after.committed()[0].backlog);
  EXPECT_TRUE(after.committed()[1].backlog);
  Mine();  // b7
  ASSERT_TRUE(after.WaitCommitted(b5.index));
  EXPECT_FALSE(after.committed().back().backlog);
  EXPECT_EQ(after.indexes(), Range(b3.index, b5.index)) << "b6 needs b8";
  ExpectEachOnce(first, b5.index);
}

TEST_F(ChainFollowerTest, StopIsPromptWhileABlockWaitsToBeRetried) {
  Recorder recorder;
  recorder.FailAlways();
  const uint32_t first = chain_->height() + 1;
  ChainFollowerOptions o = Options();
  o.retry_interval = std::chrono::minutes(5);
  follower_ = Follow(recorder, o);
  Mine();
  ASSERT_TRUE(recorder.WaitAttempts(first, 1));
  const auto start = std::chrono::steady_clock::now();
  follower_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(recorder.attempts(first), 1);
  EXPECT_TRUE(recorder.committed().empty());
  EXPECT_TRUE(Rows().empty());
  // Nothing recorded but where following starts: the next start begins at that block.
  EXPECT_EQ(Cursor(), first - 1);
  EXPECT_EQ(follower_->last_block(), std::nullopt);
}

}  // namespace
}  // namespace neosl::automation
