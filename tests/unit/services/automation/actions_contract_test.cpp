// Contract actions (actions.h) against real parts: an in-process devchain on 127.0.0.1:0, a real
// chain_tx::Outbox over the charging harness's SQLite store signing as dev wallet 1, and the fake
// gas bank behind the mesh policy. The outbox's listener settles each transaction through
// ActionRunner::SettleTransaction, as the engine does, and only then reports it to the test.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "chain_tx/outbox.h"
#include "core/encoding.h"
#include "crypto/p256.h"
#include "devchain/native.h"
#include "integration/chain_tx/outbox_finals.h"
#include "integration/devchain/devchain_fixture.h"
#include "neo/contract_param.h"
#include "neo/script_builder.h"
#include "services/automation/actions.h"
#include "unit/services/automation/actions_fixture.h"

namespace neosl::automation {
namespace {

using chain_tx::OutboxState;
using neosl::testing::GasBankCall;
using neosl::testing::Methods;
using ::testing::HasSubstr;
using testing::kAccount;
using testing::MakeRun;
using testing::MakeTrigger;

constexpr int64_t kTransactionFee = 10'000;  // automation.transaction in the default schedule

class ContractActionTest : public devchain::testing::DevchainTest {
 protected:
  void SetUp() override {
    StartChain();  // a block as soon as a transaction arrives
    ASSERT_FALSE(HasFatalFailure());
    h_.Open();
    ASSERT_FALSE(HasFatalFailure());
    outbox_rpc_ = NewClient();
    ASSERT_NE(outbox_rpc_, nullptr);
    service_ = std::make_unique<neo::KeyTransactionSigner>(devchain::DevWalletAt(1).key);
    options_.tx_hold_ttl = std::chrono::minutes(20);
    chain_tx::OutboxOptions oo;
    oo.poll_interval = std::chrono::milliseconds(20);
    outbox_ = std::make_unique<chain_tx::Outbox>(oo, h_.store(), *outbox_rpc_, *service_, SecureRandom::Instance(),
                                                 SystemClock::Instance());
    runner_ = std::make_unique<ActionRunner>(h_.Deps(outbox_.get()), options_);
    outbox_->Listen(std::string(ActionRunner::kOutboxOwner), [this](const chain_tx::OutboxRecord& r) {
      runner_->SettleTransaction(r);
      finals_.Add(r);
    });
    Status started = outbox_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
  }

  void TearDown() override {
    outbox_.reset();  // before the chain, the client and the bank it settles with
    h_.Stop();
    DevchainTest::TearDown();
  }

  static std::string Hash160(const neo::UInt160& h) { return h.ToString(); }
  static neo::UInt160 Wallet(uint32_t i) { return devchain::DevWalletAt(i).script_hash; }
  static std::vector<uint8_t> WireBytes(const neo::UInt160& h) { return {h.bytes().begin(), h.bytes().end()}; }

  // GAS.transfer(wallet 1, wallet 3, amount, data), wallet 1 being the outbox's signer: HALTs,
  // answering false, since the transaction is signed fee-only.
  static ContractAction Transfer(int64_t amount, ContractArg data = {"Any", "", {}}) {
    return ContractAction{std::string(devchain::testing::kGasHash),
                          "transfer",
                          {{"Hash160", Hash160(Wallet(1)), {}},
                           {"Hash160", Hash160(Wallet(3)), {}},
                           {"Integer", std::to_string(amount), {}},
                           std::move(data)},
                          0};
  }

  // SampleConsumer.request(service, payload): needs no witness, and says what it got.
  static ContractAction Request(std::string service, std::string payload_hex) {
    return ContractAction{devchain::NativeRegistry::SampleConsumerHash().ToString(),
                          "request",
                          {{"String", std::move(service), {}}, {"ByteArray", std::move(payload_hex), {}}},
                          0};
  }

  static std::vector<uint8_t> Script(const neo::UInt160& contract, std::string_view method,
                                     const std::vector<neo::ContractParam>& args) {
    neo::ScriptBuilder sb;
    sb.EmitContractCall(contract, method, neo::CallFlags::All, args);
    return sb.Take();
  }

  int64_t OutboxRows() { return h_.charging().Count("SELECT COUNT(*) FROM chain_outbox"); }

  // The transaction of a final record, as the chain has it.
  std::optional<devchain::TransactionLookup> OnChain(const chain_tx::OutboxRecord& r) {
    if (!r.tx_hash) return std::nullopt;
    auto lookup = chain_->GetTransaction(*neo::UInt256::Parse(*r.tx_hash));
    EXPECT_TRUE(lookup.ok()) << lookup.status().ToString();
    if (!lookup.ok()) return std::nullopt;
    return *std::move(lookup);
  }

  std::vector<GasBankCall> Successful(std::string_view method) {
    std::vector<GasBankCall> out;
    for (const auto& c : h_.bank().calls(method)) {
      if (c.answer == StatusCode::kOk) out.push_back(c);
    }
    return out;
  }

  testing::ActionsHarness h_;
  ActionOptions options_;
  std::unique_ptr<neo::HttpRpcClient> outbox_rpc_;
  std::unique_ptr<neo::KeyTransactionSigner> service_;
  std::unique_ptr<chain_tx::Outbox> outbox_;
  std::unique_ptr<ActionRunner> runner_;
  chain_tx::testing::Finals finals_;
};

TEST_F(ContractActionTest, SendsTheCallOnceUnderTheRunsKeyAndChargesItsRealFees) {
  TriggerRecord trigger = MakeTrigger(Request("price", "00ff41"));
  RunRecord run = MakeRun(trigger);
  ActionOutcome first = runner_->Run(trigger, run, 1);
  EXPECT_EQ(first.kind, ActionOutcome::Kind::kPending) << first.error;
  ActionOutcome again = runner_->Run(trigger, run, 1);  // a resumed run: nothing new is sent
  EXPECT_NE(again.kind, ActionOutcome::Kind::kFailed) << again.error;

  const std::string key = "automation:" + run.id;
  auto told = finals_.WaitFor(key);
  ASSERT_TRUE(told);
  ASSERT_EQ(told->state, OutboxState::kHalt) << told->error;
  EXPECT_EQ(told->owner, "automation");
  EXPECT_EQ(told->account_id, kAccount);
  EXPECT_EQ(OutboxRows(), 1);
  ActionOutcome done = OutcomeOf(*told);
  EXPECT_EQ(done.kind, ActionOutcome::Kind::kSucceeded);
  EXPECT_EQ(done.tx_hash, *told->tx_hash);

  // On chain: exactly SampleConsumer.request("price", 0x00ff41), and its effect.
  auto tx = OnChain(*told);
  ASSERT_TRUE(tx);
  EXPECT_EQ(tx->tx.script(),
            Script(devchain::NativeRegistry::SampleConsumerHash(), "request",
                   {*neo::ContractParam::String("price"), neo::ContractParam::Bytes({0x00, 0xff, 0x41})}));
  auto log = rpc_->GetApplicationLog(tx->tx.hash());
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_EQ(log->executions.size(), 1u);
  EXPECT_EQ(log->executions[0].vm_state, neo::VmState::kHalt);
  ASSERT_EQ(log->executions[0].notifications.size(), 1u);
  const auto& n = log->executions[0].notifications[0];
  EXPECT_EQ(n.contract, devchain::NativeRegistry::SampleConsumerHash());
  EXPECT_EQ(n.event_name, "ServiceRequest");
  auto state = n.state.AsArray();
  ASSERT_TRUE(state.ok() && state->size() == 5);
  EXPECT_EQ((*state)[2].AsString().value(), "price");
  EXPECT_EQ((*state)[3].AsBytes().value(), (std::vector<uint8_t>{0x00, 0xff, 0x41}));

  // Held before it was queued; charged the schedule's fee and the chain's real fees, once.
  auto calls = h_.bank().calls();
  ASSERT_GE(calls.size(), 2u);
  EXPECT_EQ(calls[0].method, "ReserveGas");
  EXPECT_EQ(calls[0].caller, "automation");
  EXPECT_EQ(calls[0].account, kAccount);
  EXPECT_EQ(calls[0].operation, "automation.transaction");
  EXPECT_EQ(calls[0].reference, run.id);
  EXPECT_EQ(calls[0].chain_fee_cap, options_.default_max_tx_fee);
  EXPECT_EQ(calls[0].ttl_ms, 20 * 60 * 1000);
  auto charges = Successful("ChargeGas");
  ASSERT_EQ(charges.size(), 1u);
  EXPECT_EQ(charges[0].hold_id, calls[0].hold_id);
  EXPECT_EQ(charges[0].operation, "automation.transaction");
  EXPECT_EQ(charges[0].chain_system_fee, *told->system_fee);
  EXPECT_EQ(charges[0].chain_network_fee, *told->network_fee);
  EXPECT_EQ(charges[0].amount, kTransactionFee + *told->system_fee + *told->network_fee);
  EXPECT_EQ(h_.bank().HoldState(calls[0].hold_id), "settled");
  EXPECT_TRUE(h_.bank().calls("ReleaseGas").empty());

  // Settled again (the listener and a resumed run both), and run again once final: the same
  // outcome, still one item, one transaction and one charge.
  runner_->SettleTransaction(*told);
  ActionOutcome resumed = runner_->Run(trigger, run, 1);
  EXPECT_EQ(resumed.kind, ActionOutcome::Kind::kSucceeded) << resumed.error;
  EXPECT_EQ(resumed.tx_hash, *told->tx_hash);
  EXPECT_EQ(OutboxRows(), 1);
  EXPECT_EQ(finals_.Count(key), 1u);
  EXPECT_EQ(Successful("ChargeGas").size(), 1u);
  for (const auto& r : h_.bank().calls("ReserveGas")) EXPECT_EQ(r.hold_id, calls[0].hold_id) << "one hold";
  EXPECT_EQ(h_.bank().HoldState(calls[0].hold_id), "settled");
}

TEST_F(ContractActionTest, ACallCannotSpendAsThePlatformAccount) {
  TriggerRecord trigger = MakeTrigger(Transfer(1'000));
  RunRecord run = MakeRun(trigger);
  ASSERT_EQ(runner_->Run(trigger, run, 1).kind, ActionOutcome::Kind::kPending);
  auto told = finals_.WaitFor("automation:" + run.id);
  ASSERT_TRUE(told);
  ASSERT_EQ(told->state, OutboxState::kHalt) << told->error;
  auto tx = OnChain(*told);
  ASSERT_TRUE(tx);
  ASSERT_EQ(tx->tx.signers().size(), 1u);
  EXPECT_EQ(tx->tx.signers()[0].account, Wallet(1)) << "the platform account pays";
  EXPECT_EQ(tx->tx.signers()[0].scopes, neo::WitnessScope::None) << "and grants the call nothing";
  auto log = rpc_->GetApplicationLog(tx->tx.hash());
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_EQ(log->executions.size(), 1u);
  EXPECT_TRUE(log->executions[0].notifications.empty()) << "no Transfer";
  ASSERT_EQ(log->executions[0].stack.size(), 1u);
  EXPECT_EQ(log->executions[0].stack[0].AsBool().value(), false);
}

TEST_F(ContractActionTest, ALaterAttemptHasAKeyAndAHoldOfItsOwn) {
  TriggerRecord trigger = MakeTrigger(Transfer(777));
  RunRecord run = MakeRun(trigger);
  EXPECT_EQ(runner_->Run(trigger, run, 2).kind, ActionOutcome::Kind::kPending);
  auto told = finals_.WaitFor("automation:" + run.id + "#2");
  ASSERT_TRUE(told);
  EXPECT_EQ(told->state, OutboxState::kHalt) << told->error;
  EXPECT_FALSE(chain_tx::Outbox::Get(h_.store(), "automation:" + run.id).ok()) << "attempt 1 was never enqueued";
  auto reserves = h_.bank().calls("ReserveGas");
  ASSERT_FALSE(reserves.empty());
  EXPECT_EQ(reserves[0].reference, run.id + "#2");
  EXPECT_EQ(Successful("ChargeGas").size(), 1u);
}

TEST_F(ContractActionTest, EveryArgumentTypeReachesTheChainAsTheApiWroteIt) {
  const auto key = devchain::DevWalletAt(5).key.public_key().Compressed();
  const std::string key_hex = HexEncode(key);
  const std::string hash256 = "0x" + std::string(62, '0') + "ab";
  ContractArg data{"Array",
                   "",
                   {{"Boolean", "true", {}},
                    {"Boolean", "false", {}},
                    {"Integer", "-57896044618658097711785492504343953926634992332820282019728792003956564819968", {}},
                    {"Integer", "0", {}},
                    {"ByteArray", "00ff10", {}},
                    {"ByteArray", "", {}},
                    {"String", "héllo", {}},
                    {"Hash160", Hash160(Wallet(7)), {}},
                    {"Hash256", hash256, {}},
                    {"PublicKey", key_hex, {}},
                    {"Any", "", {}},
                    {"Array", "", {{"Integer", "42", {}}, {"Array", "", {}}}}}};
  TriggerRecord trigger = MakeTrigger(Transfer(1, data));
  RunRecord run = MakeRun(trigger);
  ASSERT_EQ(runner_->Run(trigger, run, 1).kind, ActionOutcome::Kind::kPending);
  auto told = finals_.WaitFor("automation:" + run.id);
  ASSERT_TRUE(told);
  ASSERT_EQ(told->state, OutboxState::kHalt) << told->error;

  auto pk = crypto::PublicKey::FromBytes(key);
  ASSERT_TRUE(pk.ok());
  std::vector<neo::ContractParam> items = {
      neo::ContractParam::Bool(true),
      neo::ContractParam::Bool(false),
      neo::ContractParam::Int(*neo::BigInteger::FromDecimal(
          "-57896044618658097711785492504343953926634992332820282019728792003956564819968")),
      neo::ContractParam::Int(0),
      neo::ContractParam::Bytes({0x00, 0xff, 0x10}),
      neo::ContractParam::Bytes({}),
      *neo::ContractParam::String("héllo"),
      neo::ContractParam::Hash160(Wallet(7)),
      neo::ContractParam::Hash256(*neo::UInt256::Parse(hash256)),
      neo::ContractParam::PublicKey(*pk),
      neo::ContractParam::Null(),
      neo::ContractParam::Array({neo::ContractParam::Int(42), neo::ContractParam::Array({})}),
  };
  auto tx = OnChain(*told);
  ASSERT_TRUE(tx);
  EXPECT_EQ(tx->tx.script(), Script(devchain::testing::GasHash(), "transfer",
                                    {neo::ContractParam::Hash160(Wallet(1)), neo::ContractParam::Hash160(Wallet(3)),
                                     neo::ContractParam::Int(1), neo::ContractParam::Array(std::move(items))}));
}

TEST_F(ContractActionTest, ATransactionNeverSentIsAFailureAndItsHoldIsReleased) {
  TriggerRecord trigger =
      MakeTrigger(ContractAction{std::string(devchain::testing::kGasHash), "noSuchMethod", {{"Integer", "1", {}}}, 0});
  RunRecord run = MakeRun(trigger);
  EXPECT_EQ(runner_->Run(trigger, run, 1).kind, ActionOutcome::Kind::kPending);
  auto told = finals_.WaitFor("automation:" + run.id);
  ASSERT_TRUE(told);
  EXPECT_EQ(told->state, OutboxState::kFailed);
  ActionOutcome out = OutcomeOf(*told);
  EXPECT_EQ(out.kind, ActionOutcome::Kind::kFailed);
  EXPECT_TRUE(out.retryable);
  EXPECT_THAT(out.error, HasSubstr("test run"));

  auto reserve = h_.bank().calls("ReserveGas");
  ASSERT_FALSE(reserve.empty());
  EXPECT_EQ(Methods(h_.bank().calls()), (std::vector<std::string>{"ReserveGas", "ReserveGas", "ReleaseGas"}))
      << "held, found again by the settlement, released";
  EXPECT_EQ(h_.bank().HoldState(reserve[0].hold_id), "released");
  EXPECT_TRUE(h_.bank().calls("ChargeGas").empty());
}

TEST_F(ContractActionTest, TheTriggersMaxFeeCapsTheTransaction) {
  ContractAction capped = Transfer(5);
  capped.max_fee = 1;
  TriggerRecord trigger = MakeTrigger(capped);
  RunRecord run = MakeRun(trigger);
  EXPECT_EQ(runner_->Run(trigger, run, 1).kind, ActionOutcome::Kind::kPending);
  auto told = finals_.WaitFor("automation:" + run.id);
  ASSERT_TRUE(told);
  EXPECT_EQ(told->state, OutboxState::kFailed);
  EXPECT_THAT(told->error, HasSubstr("cap of 1"));
  EXPECT_FALSE(told->tx_hash);
  EXPECT_TRUE(Successful("ReleaseGas").size() == 1u);
}

TEST_F(ContractActionTest, AnAccountThatCannotPayQueuesNothing) {
  h_.bank().SetPoor(kAccount);
  TriggerRecord trigger = MakeTrigger(Transfer(5));
  ActionOutcome out = runner_->Run(trigger, MakeRun(trigger), 1);
  EXPECT_EQ(out.kind, ActionOutcome::Kind::kFailed);
  EXPECT_TRUE(out.retryable) << "the account may be topped up before the next attempt";
  EXPECT_THAT(out.error, HasSubstr("insufficient funds"));
  EXPECT_EQ(OutboxRows(), 0);
}

TEST_F(ContractActionTest, AnArgumentThatDoesNotConvertFailsBeforeAnythingIsHeld) {
  for (const ContractArg& bad : {ContractArg{"Integer", "twelve", {}}, ContractArg{"PublicKey", "02zz", {}},
                                 ContractArg{"Hash256", "0x12", {}}, ContractArg{"Map", "", {}}}) {
    TriggerRecord trigger = MakeTrigger(Transfer(5, bad));
    ActionOutcome out = runner_->Run(trigger, MakeRun(trigger), 1);
    EXPECT_EQ(out.kind, ActionOutcome::Kind::kFailed) << bad.type;
    EXPECT_FALSE(out.retryable) << bad.type;
    EXPECT_THAT(out.error, HasSubstr("args[3]")) << out.error;
  }
  EXPECT_TRUE(h_.bank().calls().empty());
  EXPECT_EQ(OutboxRows(), 0);
}

}  // namespace
}  // namespace neosl::automation
