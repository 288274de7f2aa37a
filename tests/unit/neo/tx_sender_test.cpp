#include "neo/tx_sender.h"

#include <deque>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/random.h"
#include "neo/account.h"
#include "neo/fee.h"

namespace neosl::neo {
namespace {

constexpr uint32_t kMagic = 894710606;  // TestNet

// An RpcClient whose answers the test scripts; it records what the sender asked and sent.
class ScriptedRpc final : public RpcClient {
 public:
  uint32_t block_count = 1000;
  InvocationResult test_run;
  std::deque<StatusOr<TransactionInfo>> tx_lookups;  // answers to getrawtransaction, in order
  ApplicationLog app_log;
  std::vector<std::vector<uint8_t>> sent;
  std::vector<std::string> policy_calls;
  std::optional<UInt256> forced_send_hash;

  StatusOr<VersionInfo> GetVersion() override {
    VersionInfo v;
    v.protocol.network = kMagic;
    v.protocol.max_valid_until_block_increment = 5760;
    return v;
  }
  StatusOr<uint32_t> GetBlockCount() override { return block_count; }
  StatusOr<UInt256> GetBlockHash(uint32_t) override { return UnimplementedError("not scripted"); }
  StatusOr<BlockInfo> GetBlock(const BlockRef&) override { return UnimplementedError("not scripted"); }
  StatusOr<BlockInfo> GetBlockHeader(const BlockRef&) override { return UnimplementedError("not scripted"); }
  StatusOr<TransactionInfo> GetRawTransaction(const UInt256&) override {
    if (tx_lookups.empty()) return NotFoundError("Unknown transaction");
    auto r = tx_lookups.front();
    if (tx_lookups.size() > 1) tx_lookups.pop_front();
    return r;
  }
  StatusOr<UInt256> SendRawTransaction(std::span<const uint8_t> tx) override {
    sent.emplace_back(tx.begin(), tx.end());
    if (forced_send_hash) return *forced_send_hash;
    auto decoded = Transaction::Decode(tx);
    if (!decoded.ok()) return decoded.status();
    return decoded->hash();
  }
  StatusOr<InvocationResult> InvokeFunction(const UInt160& contract, std::string_view method, const boost::json::array&,
                                            std::span<const RpcSigner>) override {
    EXPECT_EQ(contract, PolicyContractHash());
    policy_calls.emplace_back(method);
    InvocationResult r;
    r.state = VmState::kHalt;
    std::string value = method == "getFeePerByte" ? "1000" : "30";
    r.stack.emplace_back(boost::json::object{{"type", "Integer"}, {"value", value}});
    return r;
  }
  StatusOr<InvocationResult> InvokeScript(std::span<const uint8_t>, std::span<const RpcSigner> signers) override {
    EXPECT_EQ(signers.size(), 1u);
    return test_run;
  }
  StatusOr<ApplicationLog> GetApplicationLog(const UInt256&) override { return app_log; }
  StatusOr<Nep17Balances> GetNep17Balances(std::string_view) override { return UnimplementedError(""); }
  StatusOr<Nep17Transfers> GetNep17Transfers(std::string_view, std::optional<uint64_t>,
                                             std::optional<uint64_t>) override {
    return UnimplementedError("");
  }
  StatusOr<int64_t> CalculateNetworkFee(std::span<const uint8_t>) override { return UnimplementedError(""); }
  StatusOr<std::vector<uint8_t>> GetStorage(const UInt160&, std::span<const uint8_t>) override {
    return UnimplementedError("");
  }
};

class TxSenderTest : public ::testing::Test {
 protected:
  TxSenderTest()
      : random_(42),
        signer_(crypto::PrivateKey::Generate(random_)),
        sender_(rpc_, signer_, random_, [this](std::chrono::milliseconds) { OnWait(); }) {
    rpc_.test_run.state = VmState::kHalt;
    rpc_.test_run.gas_consumed = 997'775;
  }
  virtual void OnWait() { ++waits_; }

  DeterministicRandom random_;
  ScriptedRpc rpc_;
  KeyTransactionSigner signer_;
  TransactionSender sender_;
  int waits_ = 0;
  const std::vector<uint8_t> script_ = {0x11, 0x40};  // PUSH1 RET
};

TEST_F(TxSenderTest, BuildPricesAndSignsLikeNeosWallet) {
  SendOptions options;
  options.extra_system_fee = 25;
  auto tx = sender_.Build(script_, options);
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();
  EXPECT_EQ(tx->system_fee(), 997'775 + 25);
  EXPECT_EQ(tx->valid_until_block(), 999u + 5760u);  // height + MaxValidUntilBlockIncrement
  ASSERT_EQ(tx->signers().size(), 1u);
  EXPECT_EQ(tx->signers()[0].account, signer_.account());
  EXPECT_EQ(tx->signers()[0].scopes, WitnessScope::CalledByEntry);
  // Network fee: the signed size at FeePerByte 1000 plus the single-sig verification cost × 30.
  auto verify_cost = NetworkFeeForWitness(signer_.verification_script(), 30);
  ASSERT_TRUE(verify_cost.ok());
  EXPECT_EQ(tx->network_fee(), int64_t(tx->size()) * 1000 + *verify_cost);
  // The witness verifies against the network's signing data and the signer's account.
  ASSERT_EQ(tx->witnesses().size(), 1u);
  EXPECT_EQ(ScriptHash(tx->witnesses()[0].verification), signer_.account());
  EXPECT_TRUE(
      VerifyWitness(SigningData(*tx, kMagic), tx->witnesses()[0].invocation, tx->witnesses()[0].verification).ok());
  EXPECT_FALSE(
      VerifyWitness(SigningData(*tx, kMagic + 1), tx->witnesses()[0].invocation, tx->witnesses()[0].verification).ok());
  // Policy is read once and cached.
  ASSERT_TRUE(sender_.Build(script_).ok());
  EXPECT_EQ(rpc_.policy_calls.size(), 2u);
}

TEST_F(TxSenderTest, AFaultingScriptIsNotSent) {
  rpc_.test_run.state = VmState::kFault;
  rpc_.test_run.exception = "ASSERT is executed with false result.";
  auto r = sender_.Execute(script_);
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(r.status().message()).find("ASSERT is executed"), std::string::npos);
  EXPECT_TRUE(rpc_.sent.empty());
}

TEST_F(TxSenderTest, FeeCapAndWindowAreEnforced) {
  SendOptions capped;
  capped.max_total_fee = 1'000'000;  // below system + network fee
  EXPECT_EQ(sender_.Build(script_, capped).status().code(), StatusCode::kResourceExhausted);
  SendOptions too_long;
  too_long.valid_for_blocks = 5761;
  EXPECT_EQ(sender_.Build(script_, too_long).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(sender_.Build({}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TxSenderTest, WaitsThroughMempoolToInclusionAndReadsTheLog) {
  auto tx = sender_.Build(script_);
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE(sender_.Send(*tx).ok());
  ASSERT_EQ(rpc_.sent.size(), 1u);
  EXPECT_EQ(rpc_.sent[0], tx->Encode());
  TransactionInfo pending;
  pending.hash = tx->hash();
  TransactionInfo included = pending;
  included.block_hash = *UInt256::Parse("0x" + std::string(64, 'b'));
  rpc_.tx_lookups = {NotFoundError("Unknown transaction"), pending, pending, included};
  rpc_.app_log.executions.push_back(ExecutionResult{"Application", VmState::kHalt, std::nullopt, 12345, {}, {}});
  auto outcome = sender_.WaitForInclusion(*tx, std::chrono::milliseconds(1));
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->state, VmState::kHalt);
  EXPECT_EQ(outcome->gas_consumed, 12345);
  EXPECT_EQ(outcome->block_hash, *included.block_hash);
  EXPECT_EQ(waits_, 3);  // three polls found it missing or pending
}

TEST_F(TxSenderTest, ExpiresOnceTheChainPassesValidUntilBlock) {
  SendOptions options;
  options.valid_for_blocks = 3;
  auto tx = sender_.Build(script_, options);
  ASSERT_TRUE(tx.ok());
  EXPECT_EQ(tx->valid_until_block(), 1002u);
  // Each wait produces a block; the transaction never appears.
  int polls = 0;
  TransactionSender growing(rpc_, signer_, random_, [&](std::chrono::milliseconds) {
    ++polls;
    ++rpc_.block_count;
  });
  auto outcome = growing.WaitForInclusion(*tx, std::chrono::milliseconds(1));
  EXPECT_EQ(outcome.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(std::string(outcome.status().message()).find("expired at block 1002"), std::string::npos);
  EXPECT_EQ(rpc_.block_count, 1003u);  // it gave up exactly when height reached validUntilBlock
  EXPECT_EQ(polls, 3);
}

TEST_F(TxSenderTest, AFaultOnChainIsAbortedWithTheException) {
  TransactionInfo included;
  included.block_hash = *UInt256::Parse("0x" + std::string(64, 'c'));
  rpc_.tx_lookups = {included};
  rpc_.app_log.executions.push_back(
      ExecutionResult{"Application", VmState::kFault, std::string("divide by zero"), 500, {}, {}});
  auto r = sender_.Execute(script_);
  EXPECT_EQ(r.status().code(), StatusCode::kAborted);
  EXPECT_NE(std::string(r.status().message()).find("divide by zero"), std::string::npos);
  EXPECT_EQ(rpc_.sent.size(), 1u);
}

TEST_F(TxSenderTest, ANodeReportingAnotherHashIsDataLoss) {
  auto tx = sender_.Build(script_);
  ASSERT_TRUE(tx.ok());
  rpc_.forced_send_hash = *UInt256::Parse("0x" + std::string(64, 'd'));
  EXPECT_EQ(sender_.Send(*tx).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace neosl::neo
