// chain_tx::Outbox against real parts: an in-process devchain on 127.0.0.1:0 reached over JSON-RPC,
// a SQLite store with the platform's migrations, transactions signed by dev wallet 1. Outcomes are
// awaited through the outbox's listener; where a test needs a transaction to miss a block, it holds
// the devchain's block production (chain_->Stop()) and mines by hand, and holds relays with the
// relay tests' SwitchableRpc.
#include "chain_tx/outbox.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "devchain/native.h"
#include "integration/chain_requests/relay_fixture.h"
#include "integration/chain_tx/outbox_finals.h"
#include "support/test_store_open.h"

namespace neosl::chain_tx {
namespace {

using chain_requests::testing::SwitchableRpc;
using chain_requests::testing::WaitUntil;
using std::chrono::milliseconds;

constexpr char kOwner[] = "test";
constexpr int64_t kStartMs = 1'700'000'000'000;

using chain_tx::testing::Finals;

class OutboxTest : public devchain::testing::DevchainTest {
 protected:
  void SetUp() override {
    StartChain();  // blocks on demand, unless a test holds them
    ASSERT_FALSE(HasFatalFailure());
    auto store = ::neosl::testing::OpenTestStore({.path = dir_.File("neosl.db")});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = *std::move(store);
    ASSERT_TRUE(store_->Migrate(schema::Migrations()).ok());
    outbox_rpc_ = NewClient();
    ASSERT_NE(outbox_rpc_, nullptr);
    rpc_switch_ = std::make_unique<SwitchableRpc>(*outbox_rpc_);
    service_ = std::make_unique<neo::KeyTransactionSigner>(devchain::DevWalletAt(1).key);
    first_block_ = chain_->height() + 1;
  }

  void TearDown() override {
    outbox_.reset();  // before the chain and the client it uses
    DevchainTest::TearDown();
  }

  static OutboxOptions Options() {
    OutboxOptions o;
    o.poll_interval = milliseconds(20);
    return o;
  }

  // Over the fixture's store, switchable client and clock, told to finals_; not started.
  std::unique_ptr<Outbox> MakeOutbox(OutboxOptions options = Options()) {
    auto outbox = std::make_unique<Outbox>(options, *store_, *rpc_switch_, *service_, SecureRandom::Instance(), clock_);
    outbox->Listen(kOwner, finals_.listener());
    return outbox;
  }
  void StartOutbox(OutboxOptions options = Options()) {
    outbox_ = MakeOutbox(options);
    Status s = outbox_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // `amount` datoshi of GAS from the service account to dev wallet 3: a script that HALTs, told
  // apart from the others by its amount.
  static std::vector<uint8_t> Transfer(int64_t amount) {
    neo::ScriptBuilder sb;
    EXPECT_TRUE(sb.Nep17Transfer(devchain::testing::GasHash(), devchain::DevWalletAt(1).script_hash,
                                 devchain::DevWalletAt(3).script_hash, neo::ContractParam::Int(amount))
                    .ok());
    sb.Emit(neo::OpCode::ASSERT);
    return sb.Take();
  }

  static OutboxItem Item(std::string key, std::vector<uint8_t> script) {
    OutboxItem item;
    item.key = std::move(key);
    item.owner = kOwner;
    item.account_id = "acc_test";
    item.script = std::move(script);
    return item;
  }

  void Enqueue(const OutboxItem& item) {
    auto inserted = outbox_->Enqueue(item);
    ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();
    ASSERT_TRUE(*inserted);
  }

  std::optional<OutboxRecord> Record(const std::string& key) {
    auto r = Outbox::Get(*store_, key);
    if (!r.ok()) return std::nullopt;
    return *std::move(r);
  }

  // Until the stored record of `key` is sent with `attempts` transactions built.
  std::optional<OutboxRecord> WaitForSent(const std::string& key, int64_t attempts) {
    std::optional<OutboxRecord> seen;
    const bool ok = WaitUntil([&] {
      seen = Record(key);
      return seen && seen->state == OutboxState::kSent && seen->attempts == attempts;
    });
    EXPECT_TRUE(ok) << key << " never reached sent with " << attempts << " attempts";
    if (!ok) return std::nullopt;
    return seen;
  }

  bool WaitInPool(const std::string& tx_hash) {
    const auto hash = *neo::UInt256::Parse(tx_hash);
    return WaitUntil([&] {
      auto pool = chain_->MempoolHashes();
      return std::find(pool.begin(), pool.end(), hash) != pool.end();
    });
  }

  void Mine() {
    auto mined = chain_->MineBlock();
    ASSERT_TRUE(mined.ok()) << mined.status().ToString();
  }

  // The transactions on chain since the fixture started that run `script`.
  std::vector<neo::Transaction> OnChain(const std::vector<uint8_t>& script) {
    std::vector<neo::Transaction> out;
    for (uint32_t i = first_block_; i <= chain_->height(); ++i) {
      auto block = chain_->GetBlock(i);
      EXPECT_TRUE(block.ok());
      if (!block.ok()) continue;
      for (const auto& tx : block->transactions()) {
        if (tx.script() == script) out.push_back(tx);
      }
    }
    return out;
  }

  ManualClock clock_{kStartMs};
  Finals finals_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<neo::HttpRpcClient> outbox_rpc_;
  std::unique_ptr<SwitchableRpc> rpc_switch_;
  std::unique_ptr<neo::KeyTransactionSigner> service_;
  std::unique_ptr<Outbox> outbox_;
  uint32_t first_block_ = 0;
};

TEST_F(OutboxTest, SendsAnItemOnceAndRecordsItsOutcome) {
  int other_owner = 0;
  outbox_ = MakeOutbox();
  outbox_->Listen("someone else", [&](const OutboxRecord&) { ++other_owner; });
  ASSERT_TRUE(outbox_->Start().ok());
  const auto script = Transfer(1'000);
  Enqueue(Item("pay:1", script));

  auto told = finals_.WaitFor("pay:1");
  ASSERT_TRUE(told);
  EXPECT_EQ(told->state, OutboxState::kHalt) << told->error;
  EXPECT_EQ(told->owner, kOwner);
  EXPECT_EQ(told->account_id, "acc_test");
  EXPECT_EQ(told->attempts, 1);
  EXPECT_EQ(told->error, "");
  EXPECT_EQ(told->created_at_ms, kStartMs) << "timestamps come from the clock given";

  const auto txs = OnChain(script);
  ASSERT_EQ(txs.size(), 1u);
  EXPECT_EQ(told->tx_hash, txs[0].hash().ToString());
  EXPECT_EQ(told->system_fee, txs[0].system_fee());
  EXPECT_EQ(told->network_fee, txs[0].network_fee());
  EXPECT_GT(txs[0].network_fee(), 0);
  EXPECT_EQ(told->valid_until, txs[0].valid_until_block());
  auto lookup = chain_->GetTransaction(txs[0].hash());
  ASSERT_TRUE(lookup.ok());
  EXPECT_EQ(told->block_index, lookup->block_index);
  auto app_log = rpc_->GetApplicationLog(txs[0].hash());
  ASSERT_TRUE(app_log.ok());
  EXPECT_EQ(told->gas_consumed, app_log->executions.at(0).gas_consumed);
  EXPECT_GT(*told->gas_consumed, 0);
  EXPECT_LE(*told->gas_consumed, *told->system_fee);

  // The store holds what the listener was told.
  auto stored = outbox_->Get("pay:1");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->state, OutboxState::kHalt);
  EXPECT_EQ(stored->tx_hash, told->tx_hash);
  EXPECT_EQ(stored->gas_consumed, told->gas_consumed);
  EXPECT_EQ(OutboxStateName(stored->state), "halt");

  // Told once: another item later, and still one call for the first; none for another owner.
  Enqueue(Item("pay:2", Transfer(1'001)));
  ASSERT_TRUE(finals_.WaitFor("pay:2"));
  EXPECT_EQ(finals_.Count("pay:1"), 1u);
  EXPECT_EQ(other_owner, 0);
}

TEST_F(OutboxTest, TheSameKeyNeverSendsTwice) {
  StartOutbox();
  const auto first = Transfer(2'000);
  const auto second = Transfer(2'001);
  Enqueue(Item("once", first));
  auto again = outbox_->Enqueue(Item("once", second));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again) << "the key is there already";

  auto told = finals_.WaitFor("once");
  ASSERT_TRUE(told);
  EXPECT_EQ(told->state, OutboxState::kHalt) << told->error;
  // And once it is final, too, inside a caller's transaction.
  auto tx = store_->Begin(store::TxMode::kWrite);
  ASSERT_TRUE(tx.ok());
  auto late = Outbox::Enqueue(**tx, Item("once", second), kStartMs);
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(*late);
  ASSERT_TRUE((*tx)->Commit().ok());
  outbox_->Wake();

  Enqueue(Item("after", Transfer(2'002)));  // the worker has passed the repeated key since
  ASSERT_TRUE(finals_.WaitFor("after"));
  EXPECT_EQ(OnChain(first).size(), 1u);
  EXPECT_TRUE(OnChain(second).empty());
  EXPECT_EQ(Record("once")->tx_hash, told->tx_hash);
  EXPECT_EQ(finals_.Count("once"), 1u);
}

TEST_F(OutboxTest, AScriptFaultingInItsTestRunFailsUnsent) {
  StartOutbox();
  neo::ScriptBuilder sb;
  sb.EmitPushString("no luck").Emit(neo::OpCode::THROW);
  Enqueue(Item("doomed", sb.Take()));
  // Over the fee cap: failed the same way.
  OutboxItem capped = Item("capped", Transfer(3'000));
  capped.max_fee = 1;
  Enqueue(capped);

  auto doomed = finals_.WaitFor("doomed");
  ASSERT_TRUE(doomed);
  EXPECT_EQ(doomed->state, OutboxState::kFailed);
  EXPECT_NE(doomed->error.find("no luck"), std::string::npos) << doomed->error;
  EXPECT_NE(doomed->error.find("test run"), std::string::npos) << doomed->error;
  EXPECT_EQ(doomed->attempts, 0);
  EXPECT_FALSE(doomed->tx_hash);
  EXPECT_FALSE(doomed->system_fee);

  auto over = finals_.WaitFor("capped");
  ASSERT_TRUE(over);
  EXPECT_EQ(over->state, OutboxState::kFailed);
  EXPECT_NE(over->error.find("cap of 1"), std::string::npos) << over->error;
  EXPECT_EQ(over->attempts, 0);

  EXPECT_EQ(rpc_switch_->sends, 0) << "nothing was relayed";
  EXPECT_EQ(Record("doomed")->state, OutboxState::kFailed);
}

// The devchain's test run is the execution as the next block would see it, so a script FAULTs on
// chain only when the chain changes between the test run and the block. This one asserts that
// Ledger.currentIndex is the height of its test run; relays are held until another block is in.
TEST_F(OutboxTest, ATransactionFaultingOnChainEndsFault) {
  chain_->Stop();
  rpc_switch_->drop_sends = true;
  const uint32_t height = chain_->height();
  neo::ScriptBuilder sb;
  sb.EmitContractCall(devchain::NativeRegistry::LedgerHash(), "currentIndex", neo::CallFlags::ReadStates, {})
      .EmitPushInt(height)
      .Emit(neo::OpCode::NUMEQUAL)
      .Emit(neo::OpCode::ASSERT);
  const auto script = sb.Take();
  StartOutbox();
  Enqueue(Item("late", script));
  auto sent = WaitForSent("late", 1);
  ASSERT_TRUE(sent);
  Mine();  // empty: the transaction is still held
  rpc_switch_->drop_sends = false;
  ASSERT_TRUE(WaitInPool(*sent->tx_hash));
  Mine();

  auto told = finals_.WaitFor("late");
  ASSERT_TRUE(told);
  EXPECT_EQ(told->state, OutboxState::kFault);
  EXPECT_NE(told->error.find("ASSERT"), std::string::npos) << told->error;
  EXPECT_EQ(told->block_index, height + 2);
  EXPECT_EQ(told->tx_hash, sent->tx_hash);
  EXPECT_EQ(told->attempts, 1) << "a FAULT is final: nothing is sent again";
  EXPECT_GT(told->gas_consumed.value_or(0), 0);
  ASSERT_EQ(OnChain(script).size(), 1u);
  EXPECT_EQ(chain_->GetTransaction(*neo::UInt256::Parse(*told->tx_hash))->vm_state, devchain::VmState::kFault);
}

TEST_F(OutboxTest, ARestartFollowsTheTransactionInThePool) {
  chain_->Stop();
  const auto script = Transfer(4'000);
  StartOutbox();
  Enqueue(Item("pooled", script));
  auto sent = WaitForSent("pooled", 1);
  ASSERT_TRUE(sent);
  ASSERT_TRUE(WaitInPool(*sent->tx_hash));
  outbox_.reset();  // stopped with the transaction relayed, before any block

  clock_.Advance(std::chrono::seconds(5));
  StartOutbox();
  Mine();
  auto told = finals_.WaitFor("pooled");
  ASSERT_TRUE(told);
  EXPECT_EQ(told->state, OutboxState::kHalt) << told->error;
  EXPECT_EQ(told->tx_hash, sent->tx_hash);
  EXPECT_EQ(told->attempts, 1);
  EXPECT_EQ(told->created_at_ms, kStartMs);
  EXPECT_EQ(told->updated_at_ms, kStartMs + 5'000);
  const auto txs = OnChain(script);
  ASSERT_EQ(txs.size(), 1u);
  EXPECT_EQ(txs[0].hash().ToString(), *sent->tx_hash);
  EXPECT_EQ(rpc_switch_->sends, 1) << "the second outbox found it in the pool: no relay, no new transaction";
  EXPECT_EQ(finals_.Count("pooled"), 1u);
}

TEST_F(OutboxTest, ARestartRelaysTheStoredBytes) {
  rpc_switch_->drop_sends = true;  // stored, then "crashed" before the node got it
  const auto script = Transfer(5'000);
  StartOutbox();
  Enqueue(Item("stored", script));
  auto sent = WaitForSent("stored", 1);
  ASSERT_TRUE(sent);
  outbox_.reset();
  auto bytes = store_->Query("SELECT tx FROM chain_outbox WHERE item_key = 'stored'");
  ASSERT_TRUE(bytes.ok() && bytes->size() == 1);
  const auto stored = *(*bytes)[0].Bytes(0);
  EXPECT_TRUE(OnChain(script).empty());

  rpc_switch_->drop_sends = false;
  StartOutbox();
  auto told = finals_.WaitFor("stored");
  ASSERT_TRUE(told);
  EXPECT_EQ(told->state, OutboxState::kHalt) << told->error;
  EXPECT_EQ(told->tx_hash, sent->tx_hash);
  EXPECT_EQ(told->attempts, 1);
  const auto txs = OnChain(script);
  ASSERT_EQ(txs.size(), 1u);
  EXPECT_EQ(txs[0].Encode(), stored) << "the very bytes stored before the crash";
}

TEST_F(OutboxTest, AnExpiredTransactionIsReplaced) {
  chain_->Stop();
  rpc_switch_->drop_sends = true;
  OutboxOptions options = Options();
  options.valid_for_blocks = 1;
  const auto script = Transfer(6'000);
  StartOutbox(options);
  Enqueue(Item("renewed", script));
  auto first = WaitForSent("renewed", 1);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->valid_until, chain_->height() + 1);
  Mine();  // its last block passes without it

  auto second = WaitForSent("renewed", 2);
  ASSERT_TRUE(second);
  EXPECT_NE(second->tx_hash, first->tx_hash);
  EXPECT_EQ(second->valid_until, chain_->height() + 1);
  rpc_switch_->drop_sends = false;
  ASSERT_TRUE(WaitInPool(*second->tx_hash));
  Mine();

  auto told = finals_.WaitFor("renewed");
  ASSERT_TRUE(told);
  EXPECT_EQ(told->state, OutboxState::kHalt) << told->error;
  EXPECT_EQ(told->tx_hash, second->tx_hash);
  EXPECT_EQ(told->attempts, 2);
  const auto txs = OnChain(script);
  ASSERT_EQ(txs.size(), 1u);
  EXPECT_EQ(txs[0].hash().ToString(), *second->tx_hash);
  EXPECT_EQ(chain_->GetTransaction(*neo::UInt256::Parse(*first->tx_hash)).status().code(), StatusCode::kNotFound);
}

TEST_F(OutboxTest, GivesUpAfterMaxAttempts) {
  chain_->Stop();
  rpc_switch_->drop_sends = true;
  OutboxOptions options = Options();
  options.valid_for_blocks = 1;
  StartOutbox(options);
  OutboxItem item = Item("hopeless", Transfer(7'000));
  item.max_attempts = 2;  // the item's own limit over the outbox's 3
  Enqueue(item);
  ASSERT_TRUE(WaitForSent("hopeless", 1));
  Mine();
  ASSERT_TRUE(WaitForSent("hopeless", 2));
  Mine();

  auto told = finals_.WaitFor("hopeless");
  ASSERT_TRUE(told);
  EXPECT_EQ(told->state, OutboxState::kFailed);
  EXPECT_EQ(told->attempts, 2);
  EXPECT_NE(told->error.find("2 transactions expired"), std::string::npos) << told->error;
  EXPECT_TRUE(OnChain(item.script).empty());
  EXPECT_EQ(rpc_switch_->sends, 0);
}

TEST_F(OutboxTest, AnEnqueueRolledBackSendsNothing) {
  StartOutbox();
  const auto rolled_back = Transfer(8'000);
  const auto committed = Transfer(8'001);
  {
    auto tx = store_->Begin(store::TxMode::kWrite);
    ASSERT_TRUE(tx.ok());
    auto inserted = Outbox::Enqueue(**tx, Item("rolled back", rolled_back), kStartMs);
    ASSERT_TRUE(inserted.ok() && *inserted);
    ASSERT_TRUE((*tx)->Rollback().ok());
  }
  outbox_->Wake();
  {
    auto tx = store_->Begin(store::TxMode::kWrite);
    ASSERT_TRUE(tx.ok());
    auto inserted = Outbox::Enqueue(**tx, Item("committed", committed), kStartMs);
    ASSERT_TRUE(inserted.ok() && *inserted);
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  outbox_->Wake();

  auto told = finals_.WaitFor("committed");
  ASSERT_TRUE(told);
  EXPECT_EQ(told->state, OutboxState::kHalt) << told->error;
  EXPECT_EQ(Outbox::Get(*store_, "rolled back").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(OnChain(rolled_back).empty());
  EXPECT_EQ(OnChain(committed).size(), 1u);
  EXPECT_EQ(finals_.Count("rolled back"), 0u);
}

TEST_F(OutboxTest, RefusesBadItemsAndASecondStart) {
  StartOutbox();
  EXPECT_EQ(outbox_->Enqueue(Item("", Transfer(1))).status().code(), StatusCode::kInvalidArgument);
  OutboxItem no_owner = Item("k", Transfer(1));
  no_owner.owner.clear();
  EXPECT_EQ(outbox_->Enqueue(no_owner).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(outbox_->Enqueue(Item("k", {})).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(outbox_->Get("k").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(outbox_->Start().code(), StatusCode::kFailedPrecondition);

  OutboxOptions bad = Options();
  bad.max_attempts = 0;
  EXPECT_EQ(MakeOutbox(bad)->Start().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace neosl::chain_tx
