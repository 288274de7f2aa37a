// Withdrawals from the gas bank against real parts: an in-process devchain on 127.0.0.1:0, a
// SQLite store with the platform's migrations, and a real chain_tx::Outbox whose signer is a hot
// wallet of its own, funded from dev wallet 0 with a real transfer. The account is credited by a
// deposit entry posted straight into the ledger; the GAS that comes out is read back from the
// chain. Every test ends with the ledger's audit.
#include "services/gasbank/withdrawals.h"

#include <algorithm>
#include <atomic>
#include <latch>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/p256.h"
#include "integration/chain_requests/relay_fixture.h"
#include "neo/account.h"
#include "services/gasbank/fees.h"
#include "services/gasbank/ledger.h"
#include "support/status_details.h"
#include "support/test_store_open.h"

namespace neosl::gasbank {
namespace {

using ::neosl::testing::FieldOf;

using chain_requests::testing::SwitchableRpc;
using chain_requests::testing::WaitUntil;
using devchain::testing::GasHash;

constexpr char kAlice[] = "acc_aliceaaaaaaaaaaaaaaa";
constexpr int64_t kStartMs = 1'700'000'000'000;
constexpr int64_t kGas = kDatoshiPerGas;
constexpr int64_t kReserve = WithdrawalOptions{}.fee_reserve;  // 0.1 GAS

// The schedule's own fee for a withdrawal, and a markup on chain fees, for the tests that price
// them.
constexpr char kPricedYaml[] = R"yaml(
operations:
  gasbank.withdrawal: {base: 1000}
chain:
  markup_bps: 1000
)yaml";

struct BankOptions {
  std::string fees_yaml = std::string(FeeSchedule::DefaultYaml());
  bool fund_hot = true;  // 50 GAS from dev wallet 0
  bool listen = true;    // the withdrawals' listener registered with the outbox
  bool start = true;     // the outbox started (false: the test starts it when it is ready)
};

class WithdrawalsTest : public devchain::testing::DevchainTest {
 protected:
  void SetUp() override {
    StartChain();  // blocks on demand, unless a test holds them
    ASSERT_FALSE(HasFatalFailure());
    // A long busy timeout: the concurrency test queues a hundred writers.
    auto store = ::neosl::testing::OpenTestStore({.path = dir_.File("neosl.db"), .busy_timeout_ms = 120'000});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = *std::move(store);
    ASSERT_TRUE(store_->Migrate(schema::Migrations()).ok());
    ledger_ = std::make_unique<Ledger>(*store_, clock_, ids_);
    outbox_rpc_ = NewClient();
    ASSERT_NE(outbox_rpc_, nullptr);
    rpc_switch_ = std::make_unique<SwitchableRpc>(*outbox_rpc_);
    hot_signer_ = std::make_unique<neo::KeyTransactionSigner>(crypto::PrivateKey::Generate(random_));
    hot_ = hot_signer_->account();
    first_block_ = chain_->height() + 1;
  }

  void TearDown() override {
    outbox_.reset();  // before the chain and the client it uses, and before the audit
    if (ledger_) {
      StatusOr<AuditReport> report = ledger_->Audit();
      ASSERT_TRUE(report.ok()) << report.status().ToString();
      EXPECT_TRUE(report->ok);
      for (const std::string& p : report->problems) ADD_FAILURE() << "audit: " << p;
    }
    DevchainTest::TearDown();
  }

  // The fee schedule, the withdrawals and a started outbox signing with the hot wallet.
  void StartBank(const BankOptions& options = {}) {
    auto fees = FeeSchedule::FromYaml(options.fees_yaml);
    ASSERT_TRUE(fees.ok()) << fees.status().ToString();
    fees_ = std::make_unique<FeeSchedule>(*std::move(fees));
    if (options.fund_hot) {
      ASSERT_TRUE(SendGasTransfer(hot_, 50 * kGas));
      ASSERT_EQ(GasOf(hot_), 50 * kGas);
    }
    withdrawals_ = std::make_unique<Withdrawals>(WithdrawalOptions{}, *store_, *fees_, hot_, clock_, ids_);
    chain_tx::OutboxOptions o;
    o.poll_interval = std::chrono::milliseconds(20);
    outbox_ =
        std::make_unique<chain_tx::Outbox>(o, *store_, *rpc_switch_, *hot_signer_, SecureRandom::Instance(), clock_);
    if (options.listen) outbox_->Listen(std::string(Withdrawals::kOutboxOwner), withdrawals_->Listener());
    if (options.start) StartOutbox();
  }

  void StartOutbox() {
    Status started = outbox_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
  }

  void Credit(const std::string& account, int64_t amount) {
    static int deposits = 0;
    const std::string key = "deposit:test:" + std::to_string(++deposits);
    auto posted = ledger_->Post(Entry{.key = key,
                                      .kind = "deposit",
                                      .account = account,
                                      .service = "gasbank",
                                      .reference = key,
                                      .lines = {{Book::kCustody, "", -amount}, {Book::kAvailable, account, amount}}});
    ASSERT_TRUE(posted.ok()) << posted.status().ToString();
  }

  Balance BalanceOf(const std::string& account) {
    auto b = ledger_->BalanceOf(account);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? *b : Balance{.available = -1};
  }

  int64_t Platform(Book book) {
    auto v = ledger_->PlatformBalance(book);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : -1;
  }

  int64_t Count(const std::string& table) {
    auto rows = store_->Query("SELECT COUNT(*) FROM " + table);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *(*rows)[0].Int(0) : -1;
  }

  // GAS.balanceOf(who) through the node's RPC.
  int64_t GasOf(const neo::UInt160& who) {
    auto r = rpc_->InvokeFunction(GasHash(), "balanceOf",
                                  neo::ContractParamsJson(std::vector{neo::ContractParam::Hash160(who)}), {});
    EXPECT_TRUE(r.ok() && !r->stack.empty()) << r.status().ToString();
    if (!r.ok() || r->stack.empty()) return -1;
    auto amount = r->stack[0].AsInt64();
    return amount.ok() ? *amount : -1;
  }

  WithdrawalInfo MustRequest(const std::string& to, int64_t amount, const std::string& key,
                             const std::string& account = kAlice) {
    auto w = withdrawals_->Request(account, to, amount, key, *outbox_);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return w.ok() ? *w : WithdrawalInfo{};
  }

  // Until the withdrawal has left `pending` (the listener or Recover applied its outcome).
  std::optional<WithdrawalInfo> WaitOutcome(const std::string& id, const std::string& account = kAlice) {
    std::optional<WithdrawalInfo> seen;
    const bool done = WaitUntil([&] {
      auto w = withdrawals_->Get(account, id);
      if (w.ok()) seen = *w;
      return w.ok() && w->state != "pending";
    });
    EXPECT_TRUE(done) << id << " is still pending";
    if (!done) return std::nullopt;
    return seen;
  }

  // Until the outbox's item of the withdrawal is final (whether or not anyone applied it).
  std::optional<chain_tx::OutboxRecord> WaitFinal(const std::string& id) {
    std::optional<chain_tx::OutboxRecord> seen;
    const bool done = WaitUntil([&] {
      auto r = chain_tx::Outbox::Get(*store_, "gasbank:" + id);
      if (r.ok()) seen = *r;
      return r.ok() && (r->state == chain_tx::OutboxState::kHalt || r->state == chain_tx::OutboxState::kFault ||
                        r->state == chain_tx::OutboxState::kFailed);
    });
    EXPECT_TRUE(done) << "the outbox item of " << id << " never ended";
    if (!done) return std::nullopt;
    return seen;
  }

  // GAS.transfer(hot, to, amount, null) + ASSERT: what a withdrawal should send.
  std::vector<uint8_t> TransferScript(const neo::UInt160& to, int64_t amount) {
    neo::ScriptBuilder sb;
    EXPECT_TRUE(sb.Nep17Transfer(GasHash(), hot_, to, neo::ContractParam::Int(amount)).ok());
    sb.Emit(neo::OpCode::ASSERT);
    return sb.Take();
  }

  // The hot wallet's transactions on chain since the fixture started (funding excluded).
  std::vector<neo::Transaction> HotTransactions() {
    std::vector<neo::Transaction> out;
    for (uint32_t i = first_block_; i <= chain_->height(); ++i) {
      auto block = chain_->GetBlock(i);
      EXPECT_TRUE(block.ok());
      if (!block.ok()) continue;
      for (const auto& tx : block->transactions()) {
        if (tx.sender() == hot_) out.push_back(tx);
      }
    }
    return out;
  }

  void Mine() {
    auto mined = chain_->MineBlock();
    ASSERT_TRUE(mined.ok()) << mined.status().ToString();
  }

  int64_t ChainFee(const neo::Transaction& tx) {
    auto fee = fees_->ChainFee(tx.system_fee(), tx.network_fee());
    EXPECT_TRUE(fee.ok());
    return fee.ok() ? *fee : -1;
  }

  ManualClock clock_{kStartMs};
  DeterministicRandom ids_{7};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<FeeSchedule> fees_;
  std::unique_ptr<neo::HttpRpcClient> outbox_rpc_;
  std::unique_ptr<SwitchableRpc> rpc_switch_;
  std::unique_ptr<neo::KeyTransactionSigner> hot_signer_;
  neo::UInt160 hot_;
  std::unique_ptr<Withdrawals> withdrawals_;
  std::unique_ptr<chain_tx::Outbox> outbox_;
  uint32_t first_block_ = 0;
};

TEST_F(WithdrawalsTest, AWithdrawalSettlesOnChain) {
  StartBank();
  Credit(kAlice, 10 * kGas);
  const devchain::DevWallet to = devchain::DevWalletAt(4);
  const int64_t to_before = GasOf(to.script_hash);
  const int64_t hot_before = GasOf(hot_);

  WithdrawalInfo w = MustRequest(to.address, 3 * kGas, "first");
  EXPECT_TRUE(w.id.starts_with("wd_")) << w.id;
  EXPECT_EQ(w.account, kAlice);
  EXPECT_EQ(w.to, to.address);
  EXPECT_EQ(w.amount, 3 * kGas);
  EXPECT_EQ(w.state, "pending");
  EXPECT_EQ(w.fee_reserved, kReserve);
  EXPECT_FALSE(w.replay);
  EXPECT_EQ(w.created_at_ms, kStartMs);

  auto done = WaitOutcome(w.id);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->state, "settled") << done->error;
  EXPECT_EQ(done->tx_state, "halt");
  EXPECT_EQ(done->error, "");

  // On chain: one transaction of the hot wallet, the transfer asked for, and exactly the amount
  // arrived.
  const auto txs = HotTransactions();
  ASSERT_EQ(txs.size(), 1u);
  EXPECT_EQ(txs[0].script(), TransferScript(to.script_hash, 3 * kGas));
  EXPECT_EQ(done->tx_hash, txs[0].hash().ToString());
  EXPECT_EQ(chain_->GetTransaction(txs[0].hash())->vm_state, devchain::VmState::kHalt);
  EXPECT_EQ(GasOf(to.script_hash), to_before + 3 * kGas);
  EXPECT_EQ(GasOf(hot_), hot_before - 3 * kGas - txs[0].system_fee() - txs[0].network_fee());

  // The fee charged is what the chain took (the default schedule prices no withdrawal).
  EXPECT_EQ(done->fee_charged, ChainFee(txs[0]));
  EXPECT_GT(done->fee_charged, 0);
  EXPECT_LE(done->fee_charged, kReserve);
  const Balance b = BalanceOf(kAlice);
  EXPECT_EQ(b.available, 10 * kGas - 3 * kGas - done->fee_charged);
  EXPECT_EQ(b.held, 0);
  EXPECT_EQ(b.pending_withdrawal, 0);
  EXPECT_EQ(Platform(Book::kRevenue), done->fee_charged);
  EXPECT_EQ(Platform(Book::kCustody), -10 * kGas + 3 * kGas);
  auto kinds = store_->Query("SELECT kind FROM gasbank_entries WHERE reference = ? ORDER BY seq", {w.id});
  ASSERT_TRUE(kinds.ok());
  std::vector<std::string> names;
  for (const auto& row : *kinds) names.push_back(*row.Text(0));
  EXPECT_EQ(names, (std::vector<std::string>{"withdrawal", "hold", "withdrawal_settle", "settle"}));

  // Get and List answer the same; another account sees nothing.
  auto listed = withdrawals_->List(kAlice);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, w.id);
  EXPECT_EQ((*listed)[0].fee_charged, done->fee_charged);
  EXPECT_EQ(withdrawals_->Get("acc_someoneelse", w.id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(withdrawals_->List("acc_someoneelse")->empty());
  auto all = Withdrawals::ListAll(*store_);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
  EXPECT_EQ(withdrawals_->List(kAlice, 0).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(WithdrawalsTest, TheSameKeySendsOnce) {
  StartBank();
  Credit(kAlice, 10 * kGas);
  const devchain::DevWallet to = devchain::DevWalletAt(4);
  const int64_t to_before = GasOf(to.script_hash);
  WithdrawalInfo first = MustRequest(to.address, 2 * kGas, "pay-rent");
  // At once, and by script hash rather than address: the same withdrawal.
  WithdrawalInfo again = MustRequest(to.script_hash.ToString(), 2 * kGas, "pay-rent");
  EXPECT_TRUE(again.replay);
  EXPECT_EQ(again.id, first.id);
  ASSERT_TRUE(WaitOutcome(first.id));
  // And after it settled.
  WithdrawalInfo late = MustRequest(to.address, 2 * kGas, "pay-rent");
  EXPECT_TRUE(late.replay);
  EXPECT_EQ(late.id, first.id);
  EXPECT_EQ(late.state, "settled");
  EXPECT_FALSE(late.tx_hash.empty());

  // Another amount or another address under the key: refused.
  EXPECT_EQ(withdrawals_->Request(kAlice, to.address, 2 * kGas + 1, "pay-rent", *outbox_).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(
      withdrawals_->Request(kAlice, devchain::DevWalletAt(5).address, 2 * kGas, "pay-rent", *outbox_).status().code(),
      StatusCode::kAlreadyExists);
  // The key is the account's own: another account may use it.
  Credit("acc_bobbbbbbbbbbbbbbbbbb", 5 * kGas);
  WithdrawalInfo bobs = MustRequest(to.address, kGas, "pay-rent", "acc_bobbbbbbbbbbbbbbbbbb");
  EXPECT_FALSE(bobs.replay);
  EXPECT_NE(bobs.id, first.id);
  ASSERT_TRUE(WaitOutcome(bobs.id, "acc_bobbbbbbbbbbbbbbbbbb"));

  EXPECT_EQ(Count("chain_outbox"), 2);
  EXPECT_EQ(Count("gasbank_withdrawals"), 2);
  const auto txs = HotTransactions();
  ASSERT_EQ(txs.size(), 2u);
  EXPECT_EQ(std::count_if(
                txs.begin(), txs.end(),
                [&](const neo::Transaction& tx) { return tx.script() == TransferScript(to.script_hash, 2 * kGas); }),
            1);
  EXPECT_EQ(GasOf(to.script_hash), to_before + 3 * kGas);
  EXPECT_EQ(BalanceOf(kAlice).available, 10 * kGas - 2 * kGas - late.fee_charged);
}

TEST_F(WithdrawalsTest, InsufficientFundsWriteNothing) {
  StartBank({.start = false});  // started once the balance after the accepted request is checked
  Credit(kAlice, kGas);
  const std::string to = devchain::DevWalletAt(4).address;
  const int64_t entries = Count("gasbank_entries");

  // One datoshi short of amount + reserve, and an account with nothing at all.
  auto refused = withdrawals_->Request(kAlice, to, kGas - kReserve + 1, "short", *outbox_);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("insufficient funds"), std::string::npos) << refused.status().ToString();
  // The amount alone is there, the reserve is not.
  EXPECT_EQ(withdrawals_->Request(kAlice, to, kGas, "all", *outbox_).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(withdrawals_->Request("acc_nobodynobodynobodyno", to, 1, "none", *outbox_).status().code(),
            StatusCode::kFailedPrecondition);
  const Balance b = BalanceOf(kAlice);
  EXPECT_EQ(b.available, kGas);
  EXPECT_EQ(b.held, 0);
  EXPECT_EQ(b.pending_withdrawal, 0);
  EXPECT_EQ(Count("gasbank_entries"), entries);
  EXPECT_EQ(Count("gasbank_holds"), 0);
  EXPECT_EQ(Count("gasbank_withdrawals"), 0);
  EXPECT_EQ(Count("chain_outbox"), 0);
  // The key was not used up by the refusal.
  EXPECT_EQ(withdrawals_->Request(kAlice, to, kGas - kReserve + 1, "short", *outbox_).status().code(),
            StatusCode::kFailedPrecondition);

  // Exactly amount + reserve: taken.
  WithdrawalInfo w = MustRequest(to, kGas - kReserve, "exact");
  EXPECT_EQ(BalanceOf(kAlice).available, 0);
  StartOutbox();
  auto done = WaitOutcome(w.id);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->state, "settled") << done->error;
  EXPECT_EQ(BalanceOf(kAlice).available, kReserve - done->fee_charged);
  EXPECT_TRUE(HotTransactions().size() == 1u);
}

TEST_F(WithdrawalsTest, RefusesMalformedRequests) {
  StartBank({.fund_hot = false});
  Credit(kAlice, 10 * kGas);
  const std::string to = devchain::DevWalletAt(4).address;
  auto field = [&](const std::string& t, int64_t amount, const std::string& key) {
    auto w = withdrawals_->Request(kAlice, t, amount, key, *outbox_);
    EXPECT_EQ(w.status().code(), StatusCode::kInvalidArgument) << t << " " << amount << " " << key;
    return FieldOf(w.status());
  };
  EXPECT_EQ(field("", kGas, "k"), "to");
  EXPECT_EQ(field("NotAnAddress", kGas, "k"), "to");
  EXPECT_EQ(field(to.substr(0, to.size() - 1) + (to.back() == 'a' ? "b" : "a"), kGas, "k"), "to");  // checksum
  EXPECT_EQ(field("0x1234", kGas, "k"), "to");
  EXPECT_EQ(field("0xd2a4cff31913016155e38e474a2c06d08be276cz", kGas, "k"), "to");
  EXPECT_EQ(field(to, 0, "k"), "amount");
  EXPECT_EQ(field(to, -5, "k"), "amount");
  EXPECT_EQ(field(to, std::numeric_limits<int64_t>::max() - kReserve + 1, "k"), "amount");
  EXPECT_EQ(field(to, kGas, ""), "idempotency_key");
  EXPECT_EQ(field(to, kGas, std::string(201, 'k')), "idempotency_key");
  EXPECT_EQ(field(to, kGas, "line\nbreak"), "idempotency_key");
  EXPECT_EQ(field(to, kGas, "caf\xc3\xa9"), "idempotency_key");
  EXPECT_EQ(Count("gasbank_withdrawals"), 0);
  EXPECT_EQ(BalanceOf(kAlice).available, 10 * kGas);

  // A key of 200 printable bytes and a script hash are fine (held, then returned: the hot
  // wallet here is empty).
  WithdrawalInfo w = MustRequest(devchain::DevWalletAt(4).script_hash.ToString(), 1, std::string(200, '~'));
  EXPECT_EQ(w.to, to);
  ASSERT_TRUE(WaitOutcome(w.id));
}

TEST_F(WithdrawalsTest, AnEmptyHotWalletReturnsTheWithdrawal) {
  StartBank({.fund_hot = false, .start = false});  // started once the pending state is checked
  Credit(kAlice, 5 * kGas);
  WithdrawalInfo w = MustRequest(devchain::DevWalletAt(4).address, 2 * kGas, "no-gas");
  const Balance held = BalanceOf(kAlice);
  EXPECT_EQ(held.available, 3 * kGas - kReserve);
  EXPECT_EQ(held.pending_withdrawal, 2 * kGas);
  EXPECT_EQ(held.held, kReserve);
  StartOutbox();

  auto done = WaitOutcome(w.id);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->state, "returned");
  EXPECT_EQ(done->tx_state, "failed");
  EXPECT_NE(done->error.find("test run"), std::string::npos) << done->error;
  EXPECT_EQ(done->fee_charged, 0);
  EXPECT_EQ(done->tx_hash, "");
  const Balance b = BalanceOf(kAlice);
  EXPECT_EQ(b.available, 5 * kGas);
  EXPECT_EQ(b.held, 0);
  EXPECT_EQ(b.pending_withdrawal, 0);
  EXPECT_EQ(Platform(Book::kRevenue), 0);
  auto hold = store_->Query("SELECT state FROM gasbank_holds WHERE reference = ?", {w.id});
  ASSERT_TRUE(hold.ok() && hold->size() == 1);
  EXPECT_EQ(*(*hold)[0].Text(0), "released");
  EXPECT_TRUE(HotTransactions().empty());
  EXPECT_EQ(rpc_switch_->sends, 0);
}

// The transfer passes its test run, then the hot wallet is drained before the block: the
// transaction FAULTs on chain. The amount comes back; the fees the chain took are charged, and
// only they (not the schedule's fee for a withdrawal), with the markup.
TEST_F(WithdrawalsTest, ATransferFaultingOnChainReturnsTheAmountAndChargesItsFees) {
  StartBank({.fees_yaml = kPricedYaml});
  Credit(kAlice, 10 * kGas);
  const devchain::DevWallet to = devchain::DevWalletAt(4);
  const int64_t to_before = GasOf(to.script_hash);
  chain_->Stop();
  rpc_switch_->drop_sends = true;
  WithdrawalInfo w = MustRequest(to.address, 3 * kGas, "doomed");
  ASSERT_TRUE(WaitUntil([&] {
    auto r = chain_tx::Outbox::Get(*store_, "gasbank:" + w.id);
    return r.ok() && r->state == chain_tx::OutboxState::kSent;
  }));

  neo::TransactionSender hot_sender(*rpc_, *hot_signer_, random_);
  neo::ScriptBuilder drain;
  ASSERT_TRUE(
      drain.Nep17Transfer(GasHash(), hot_, devchain::DevWalletAt(0).script_hash, neo::ContractParam::Int(49 * kGas))
          .ok());
  auto drain_tx = hot_sender.Build(drain.data());
  ASSERT_TRUE(drain_tx.ok()) << drain_tx.status().ToString();
  ASSERT_TRUE(hot_sender.Send(*drain_tx).ok());
  Mine();
  ASSERT_LT(GasOf(hot_), 3 * kGas);

  rpc_switch_->drop_sends = false;
  auto sent = chain_tx::Outbox::Get(*store_, "gasbank:" + w.id);
  ASSERT_TRUE(sent.ok());
  const auto hash = *neo::UInt256::Parse(*sent->tx_hash);
  ASSERT_TRUE(WaitUntil([&] {
    auto pool = chain_->MempoolHashes();
    return std::find(pool.begin(), pool.end(), hash) != pool.end();
  }));
  Mine();

  auto done = WaitOutcome(w.id);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->state, "returned");
  EXPECT_EQ(done->tx_state, "fault");
  EXPECT_NE(done->error.find("ASSERT"), std::string::npos) << done->error;
  auto lookup = chain_->GetTransaction(hash);
  ASSERT_TRUE(lookup.ok());
  EXPECT_EQ(lookup->vm_state, devchain::VmState::kFault);
  const auto txs = HotTransactions();
  const auto it = std::find_if(txs.begin(), txs.end(), [&](const neo::Transaction& tx) { return tx.hash() == hash; });
  ASSERT_NE(it, txs.end());
  const int64_t fees = it->system_fee() + it->network_fee();
  EXPECT_EQ(done->fee_charged, fees + (fees * 1000 + 9'999) / 10'000) << "the chain's fees with a 10% markup";
  EXPECT_EQ(done->fee_charged, ChainFee(*it));
  EXPECT_LE(done->fee_charged, kReserve);
  EXPECT_EQ(GasOf(to.script_hash), to_before);
  const Balance b = BalanceOf(kAlice);
  EXPECT_EQ(b.available, 10 * kGas - done->fee_charged);
  EXPECT_EQ(b.held, 0);
  EXPECT_EQ(b.pending_withdrawal, 0);
  EXPECT_EQ(Platform(Book::kCustody), -10 * kGas);
}

// The schedule's own fee is added to the chain's on success, and the whole is capped at the
// reserve. Outcomes applied by Recover: two banks with their own schedules share the outbox, and
// neither listens.
TEST_F(WithdrawalsTest, ChargesTheSchedulesFeeUpToTheReserve) {
  StartBank({.fees_yaml = kPricedYaml, .listen = false});
  Credit(kAlice, 10 * kGas);
  const devchain::DevWallet to = devchain::DevWalletAt(4);
  WithdrawalInfo w = MustRequest(to.address, kGas, "priced");
  ASSERT_TRUE(WaitFinal(w.id));
  auto recovered = withdrawals_->Recover();
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  EXPECT_EQ(*recovered, 1);
  auto done = withdrawals_->Get(kAlice, w.id);
  ASSERT_TRUE(done.ok());
  ASSERT_EQ(done->state, "settled") << done->error;
  auto txs = HotTransactions();
  ASSERT_EQ(txs.size(), 1u);
  EXPECT_EQ(done->fee_charged, 1000 + ChainFee(txs[0]));

  // A schedule whose fee alone exceeds the reserve: the reserve is all that is taken.
  auto dear = FeeSchedule::FromYaml("operations:\n  gasbank.withdrawal: {base: 1000000000}\n");
  ASSERT_TRUE(dear.ok()) << dear.status().ToString();
  Withdrawals dear_bank(WithdrawalOptions{}, *store_, *dear, hot_, clock_, ids_);
  auto second = dear_bank.Request(kAlice, to.address, kGas, "dear", *outbox_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_TRUE(WaitFinal(second->id));
  recovered = dear_bank.Recover();
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  EXPECT_EQ(*recovered, 1);
  auto dear_done = dear_bank.Get(kAlice, second->id);
  ASSERT_TRUE(dear_done.ok());
  EXPECT_EQ(dear_done->state, "settled");
  EXPECT_EQ(dear_done->fee_charged, kReserve);
  EXPECT_EQ(BalanceOf(kAlice).available, 10 * kGas - 2 * kGas - done->fee_charged - kReserve);
  EXPECT_EQ(Platform(Book::kRevenue), done->fee_charged + kReserve);
}

// The outbox finished while nobody listened (a crash between its final state and the
// listener): Recover applies the outcome, once however often it runs, and so does a late call
// of the listener.
TEST_F(WithdrawalsTest, RecoverAppliesAnUnheardOutcomeOnce) {
  StartBank({.listen = false});
  Credit(kAlice, 10 * kGas);
  const devchain::DevWallet to = devchain::DevWalletAt(4);
  const int64_t to_before = GasOf(to.script_hash);
  WithdrawalInfo w = MustRequest(to.address, 4 * kGas, "unheard");
  auto record = WaitFinal(w.id);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->state, chain_tx::OutboxState::kHalt) << record->error;
  EXPECT_EQ(withdrawals_->Get(kAlice, w.id)->state, "pending");
  EXPECT_EQ(BalanceOf(kAlice).pending_withdrawal, 4 * kGas);

  auto recovered = withdrawals_->Recover();
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  EXPECT_EQ(*recovered, 1);
  auto done = withdrawals_->Get(kAlice, w.id);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, "settled");
  const Balance after = BalanceOf(kAlice);
  const int64_t entries = Count("gasbank_entries");
  EXPECT_EQ(after.available, 6 * kGas - done->fee_charged);
  EXPECT_EQ(after.pending_withdrawal, 0);
  EXPECT_EQ(after.held, 0);

  recovered = withdrawals_->Recover();
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  EXPECT_EQ(*recovered, 0);
  withdrawals_->Listener()(*record);
  const Balance again = BalanceOf(kAlice);
  EXPECT_EQ(again.available, after.available);
  EXPECT_EQ(again.pending_withdrawal, 0);
  EXPECT_EQ(Count("gasbank_entries"), entries);
  EXPECT_EQ(withdrawals_->Get(kAlice, w.id)->updated_at_ms, done->updated_at_ms);
  EXPECT_EQ(HotTransactions().size(), 1u);
  EXPECT_EQ(GasOf(to.script_hash), to_before + 4 * kGas);
}

// A hundred requests at once against a balance for eight: exactly eight go through, the rest are
// refused, nothing overdraws, and the eight arrive on chain.
TEST_F(WithdrawalsTest, ConcurrentRequestsNeverOverdraw) {
  // The outbox starts once the requests are counted: a withdrawal settled meanwhile would give
  // its unused fee reserve back and move the balance this checks.
  StartBank({.start = false});
  constexpr int64_t kBalance = 10 * kGas + kGas / 2;
  constexpr int64_t kAmount = kGas;
  constexpr int kThreads = 100;
  Credit(kAlice, kBalance);
  const devchain::DevWallet to = devchain::DevWalletAt(4);
  const int64_t to_before = GasOf(to.script_hash);
  std::atomic<int> refused{0};
  std::atomic<int> other{0};
  std::vector<std::string> ids(kThreads);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      auto w = withdrawals_->Request(kAlice, to.address, kAmount, "burst-" + std::to_string(i), *outbox_);
      if (w.ok()) {
        ids[i] = w->id;
      } else if (w.status().code() == StatusCode::kFailedPrecondition) {
        ++refused;
      } else {
        ++other;
        ADD_FAILURE() << w.status().ToString();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::erase(ids, std::string());
  const int64_t expected = kBalance / (kAmount + kReserve);
  ASSERT_EQ(expected, 8);
  EXPECT_EQ(static_cast<int64_t>(ids.size()), expected);
  EXPECT_EQ(refused.load(), kThreads - expected);
  EXPECT_EQ(other.load(), 0);
  Balance b = BalanceOf(kAlice);
  EXPECT_EQ(b.available, kBalance - expected * (kAmount + kReserve));
  EXPECT_GE(b.available, 0);
  EXPECT_EQ(Count("chain_outbox"), expected);
  StartOutbox();

  int64_t charged = 0;
  for (const std::string& id : ids) {
    auto done = WaitOutcome(id);
    ASSERT_TRUE(done);
    EXPECT_EQ(done->state, "settled") << done->error;
    charged += done->fee_charged;
  }
  EXPECT_EQ(GasOf(to.script_hash), to_before + expected * kAmount);
  EXPECT_EQ(HotTransactions().size(), static_cast<size_t>(expected));
  b = BalanceOf(kAlice);
  EXPECT_EQ(b.available, kBalance - expected * kAmount - charged);
  EXPECT_EQ(b.held + b.pending_withdrawal, 0);
}

}  // namespace
}  // namespace neosl::gasbank
