// The devchain's ledger, mempool and persistence, driven through the Chain API with real
// signed N3 transactions.
#include "devchain/chain.h"

#include <condition_variable>
#include <mutex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "crypto/hash.h"
#include "devchain/native.h"
#include "neo/account.h"
#include "neo/fee.h"
#include "neo/rpc_types.h"
#include "neo/script_builder.h"
#include "support/temp_dir.h"

namespace neosl::devchain {
namespace {

using neo::UInt160;
using neo::UInt256;
using ::testing::HasSubstr;

constexpr int64_t kGas = kGasFactor;

std::vector<uint8_t> SigPush(const crypto::Signature& sig) {
  return neo::SignatureInvocation(sig);
}

struct TxSpec {
  std::vector<uint8_t> script;
  int64_t system_fee = -1;   // -1: what a trial run consumes
  int64_t network_fee = -1;  // -1: Chain::CalculateNetworkFee
  int64_t network_fee_delta = 0;
  int32_t valid_for = 100;  // validUntilBlock = height + valid_for
  uint32_t magic = 0;       // 0: the chain's
  std::vector<neo::TransactionAttribute> attributes;
  uint32_t nonce = 1;
};

class ChainTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(OpenChain().ok()); }

  Status OpenChain(bool reset = false, uint32_t network = kDefaultNetwork) {
    chain_.reset();
    ChainOptions o;
    o.data_dir = dir_.path();
    o.reset = reset;
    o.network = network;
    o.block_time = std::chrono::milliseconds(0);
    o.dev_wallets = 3;
    o.clock = &clock_;
    auto c = Chain::Open(o);
    if (!c.ok()) return c.status();
    chain_ = std::move(*c);
    return Status::Ok();
  }

  std::vector<uint8_t> TransferScript(const UInt160& token, const UInt160& from, const UInt160& to, int64_t amount) {
    neo::ScriptBuilder sb;
    EXPECT_TRUE(sb.Nep17Transfer(token, from, to, neo::ContractParam::Int(amount)).ok());
    sb.Emit(neo::OpCode::ASSERT);
    return sb.Take();
  }

  // A transaction signed by `key` (single-sig, CalledByEntry).
  neo::Transaction Sign(const crypto::PrivateKey& key, TxSpec spec) {
    const auto verification = neo::SingleSigScript(key.public_key());
    const UInt160 account = neo::ScriptHash(verification);
    neo::Signer signer{.account = account, .scopes = neo::WitnessScope::CalledByEntry};
    if (spec.system_fee < 0) {
      ExecutionRecord r = chain_->InvokeScript(spec.script, {signer});
      spec.system_fee = r.gas_consumed;
    }
    neo::TransactionBuilder b;
    b.SetNonce(spec.nonce)
        .SetSystemFee(spec.system_fee)
        .SetNetworkFee(0)
        .SetValidUntilBlock(static_cast<uint32_t>(static_cast<int64_t>(chain_->height()) + spec.valid_for))
        .SetScript(spec.script)
        .AddSigner(signer)
        .SetAttributes(spec.attributes);
    auto placeholder = b.Build();
    EXPECT_TRUE(placeholder.ok()) << placeholder.status().ToString();
    if (spec.network_fee < 0) {
      auto with_witness =
          placeholder->WithWitnesses({neo::Witness{.invocation = SigPush({}), .verification = verification}});
      auto fee = chain_->CalculateNetworkFee(with_witness.Encode());
      EXPECT_TRUE(fee.ok()) << fee.status().ToString();
      spec.network_fee = *fee;
    }
    b.SetNetworkFee(spec.network_fee + spec.network_fee_delta);
    auto tx = b.Build();
    EXPECT_TRUE(tx.ok());
    const uint32_t magic = spec.magic != 0 ? spec.magic : chain_->network();
    auto sig = key.Sign(neo::SigningData(*tx, magic));
    return tx->WithWitnesses({neo::Witness{.invocation = SigPush(sig), .verification = verification}});
  }

  const DevWallet& W(int i) { return chain_->dev_wallets()[static_cast<size_t>(i)]; }

  std::optional<int64_t> RpcCode(const Status& s) { return neo::NeoRpcErrorCode(s); }

  StatusOr<Int256> TotalSupply() {
    neo::ScriptBuilder sb;
    sb.EmitContractCall(NativeRegistry::GasHash(), "totalSupply", neo::CallFlags::ReadOnly, {});
    ExecutionRecord r = chain_->InvokeScript(sb.data(), {});
    if (r.state != VmState::kHalt || r.stack.size() != 1) return InternalError("totalSupply failed");
    return r.stack[0]->GetInteger();
  }

  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Chain> chain_;
};

TEST_F(ChainTest, GenesisFundsTheDevelopmentWalletsAndIsSignedByTheValidator) {
  EXPECT_EQ(chain_->height(), 0u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(chain_->GasBalance(W(i).script_hash), 10'000 * kGas);
  auto genesis = chain_->GetBlock(0);
  ASSERT_TRUE(genesis.ok()) << genesis.status().ToString();
  EXPECT_EQ(genesis->hash(), chain_->tip_hash());
  EXPECT_TRUE(genesis->header().prev_hash().IsZero());
  EXPECT_EQ(genesis->header().next_consensus(), ValidatorWallet().script_hash);
  // The header's witness is the validator's signature over network magic ‖ hash.
  neo::BinaryWriter w;
  w.U32(chain_->network());
  w.Hash(genesis->hash());
  EXPECT_TRUE(
      neo::VerifyWitness(w.Take(), genesis->header().witness().invocation, genesis->header().witness().verification)
          .ok());
  // The dev wallets are the same on every devchain (public, documented seeds).
  EXPECT_EQ(W(0).address, DevWalletAt(0).address);
  EXPECT_NE(W(0).address, W(1).address);
}

TEST_F(ChainTest, GasTransferAddsUpAcrossARestart) {
  const UInt160 a = W(0).script_hash, b = W(1).script_hash, v = ValidatorWallet().script_hash;
  const int64_t a0 = chain_->GasBalance(a), b0 = chain_->GasBalance(b), v0 = chain_->GasBalance(v);
  auto supply0 = TotalSupply();
  ASSERT_TRUE(supply0.ok());

  neo::Transaction tx = Sign(W(0).key, {.script = TransferScript(NativeRegistry::GasHash(), a, b, 25 * kGas)});
  auto hash = chain_->SubmitTransaction(tx.Encode());
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_EQ(*hash, tx.hash());
  EXPECT_THAT(chain_->MempoolHashes(), ::testing::ElementsAre(tx.hash()));
  auto events = chain_->MineBlock();
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->block.transactions().size(), 1u);
  ASSERT_EQ(events->executions.size(), 1u);
  EXPECT_EQ(events->executions[0].state, VmState::kHalt) << events->executions[0].exception.value_or("");
  EXPECT_TRUE(chain_->MempoolHashes().empty());

  const int64_t fees = tx.system_fee() + tx.network_fee();
  auto check = [&] {
    EXPECT_EQ(chain_->GasBalance(a), a0 - 25 * kGas - fees);
    EXPECT_EQ(chain_->GasBalance(b), b0 + 25 * kGas);
    EXPECT_EQ(chain_->GasBalance(v), v0 + tx.network_fee());  // network fees go to the validator
    auto supply = TotalSupply();
    ASSERT_TRUE(supply.ok());
    auto burnt = supply0->Sub(Int256::FromInt64(tx.system_fee()));
    EXPECT_TRUE(*supply == *burnt) << "total supply must fall by exactly the system fee";
    auto log = chain_->GetApplicationLog(tx.hash());
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    auto parsed = neo::ParseApplicationLog(*log);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    ASSERT_EQ(parsed->executions.size(), 1u);
    EXPECT_EQ(parsed->executions[0].vm_state, neo::VmState::kHalt);
    EXPECT_EQ(parsed->executions[0].gas_consumed, tx.system_fee());
    ASSERT_EQ(parsed->executions[0].notifications.size(), 1u);
    const auto& n = parsed->executions[0].notifications[0];
    EXPECT_EQ(n.contract, NativeRegistry::GasHash());
    EXPECT_EQ(n.event_name, "Transfer");
    auto items = n.state.AsArray();
    ASSERT_TRUE(items.ok());
    ASSERT_EQ(items->size(), 3u);
    EXPECT_EQ(*(*items)[0].AsBytes(), std::vector<uint8_t>(a.span().begin(), a.span().end()));
    EXPECT_EQ(*(*items)[1].AsBytes(), std::vector<uint8_t>(b.span().begin(), b.span().end()));
    EXPECT_EQ(*(*items)[2].AsInt64(), 25 * kGas);
    // The token tracker saw the transfer on both sides, and the fee burn/mint of the block.
    auto sent = chain_->Nep17Transfers(a, 0, UINT64_MAX);
    auto transfer = std::find_if(sent.begin(), sent.end(), [&](const auto& t) { return t.tx_hash == tx.hash(); });
    ASSERT_NE(transfer, sent.end());
    EXPECT_TRUE(transfer->sent);
    EXPECT_EQ(transfer->amount, std::to_string(25 * kGas));
    EXPECT_EQ(transfer->counterparty, b);
    auto received = chain_->Nep17Transfers(b, 0, UINT64_MAX);
    EXPECT_TRUE(std::any_of(received.begin(), received.end(),
                            [&](const auto& t) { return t.tx_hash == tx.hash() && !t.sent; }));
    auto burn = std::find_if(sent.begin(), sent.end(), [&](const auto& t) { return t.tx_hash.IsZero() && t.sent; });
    ASSERT_NE(burn, sent.end()) << "the fee burn is a block-level transfer";
    EXPECT_EQ(burn->amount, std::to_string(fees));
    EXPECT_FALSE(burn->counterparty.has_value());
    auto looked_up = chain_->GetTransaction(tx.hash());
    ASSERT_TRUE(looked_up.ok());
    EXPECT_EQ(looked_up->block_index, 1u);
    EXPECT_EQ(looked_up->tx, tx);
    EXPECT_EQ(looked_up->vm_state, VmState::kHalt);
  };
  check();
  const UInt256 tip = chain_->tip_hash();

  ASSERT_TRUE(OpenChain().ok());  // restart on the same data dir
  EXPECT_EQ(chain_->height(), 1u);
  EXPECT_EQ(chain_->tip_hash(), tip);
  check();
  auto next = chain_->MineBlock();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->block.header().prev_hash(), tip);
  EXPECT_EQ(next->block.header().index(), 2u);
}

TEST_F(ChainTest, BlocksLinkByHashIndexMerkleRootAndTime) {
  for (int i = 0; i < 3; ++i) {
    neo::Transaction tx =
        Sign(W(i).key, {.script = TransferScript(NativeRegistry::GasHash(), W(i).script_hash, W(0).script_hash, kGas)});
    ASSERT_TRUE(chain_->SubmitTransaction(tx.Encode()).ok());
    ASSERT_TRUE(chain_->MineBlock().ok());
  }
  for (uint32_t i = 1; i <= chain_->height(); ++i) {
    auto prev = chain_->GetBlock(i - 1);
    auto block = chain_->GetBlock(i);
    ASSERT_TRUE(prev.ok() && block.ok());
    EXPECT_EQ(block->header().prev_hash(), prev->hash());
    EXPECT_EQ(block->header().index(), i);
    EXPECT_GT(block->header().timestamp(), prev->header().timestamp());
    std::vector<UInt256> hashes;
    for (const auto& tx : block->transactions()) hashes.push_back(tx.hash());
    EXPECT_EQ(block->header().merkle_root(), neo::ComputeMerkleRoot(hashes));
    auto by_hash = chain_->GetBlock(block->hash());
    ASSERT_TRUE(by_hash.ok());
    EXPECT_EQ(by_hash->Encode(), block->Encode());
    // Bytes round trip: what RPC serves decodes to the same hash.
    auto decoded = neo::Block::Decode(block->Encode());
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->hash(), block->hash());
  }
  EXPECT_EQ(RpcCode(chain_->GetBlock(chain_->height() + 1).status()), -101);
}

// Each refusal names Neo's RPC error and leaves the ledger, the pool and the balances as they were.
TEST_F(ChainTest, RejectedTransactionsChangeNothing) {
  const UInt160 a = W(0).script_hash, b = W(1).script_hash;
  auto script = TransferScript(NativeRegistry::GasHash(), a, b, kGas);
  // One accepted transaction, mined, so that replays have something to replay.
  neo::Transaction mined = Sign(W(0).key, {.script = script, .nonce = 7});
  ASSERT_TRUE(chain_->SubmitTransaction(mined.Encode()).ok());
  ASSERT_TRUE(chain_->MineBlock().ok());
  neo::Transaction pooled = Sign(W(0).key, {.script = script, .nonce = 8});
  ASSERT_TRUE(chain_->SubmitTransaction(pooled.Encode()).ok());

  const uint32_t height = chain_->height();
  const UInt256 tip = chain_->tip_hash();
  const int64_t a0 = chain_->GasBalance(a), b0 = chain_->GasBalance(b);
  auto pool0 = chain_->MempoolHashes();

  auto expect_refused = [&](const std::vector<uint8_t>& raw, int64_t code, std::string_view says) {
    auto r = chain_->SubmitTransaction(raw);
    ASSERT_FALSE(r.ok()) << "accepted a transaction that must be refused with " << code;
    EXPECT_EQ(RpcCode(r.status()), code) << r.status().ToString();
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(std::string(says)));
    EXPECT_EQ(chain_->height(), height);
    EXPECT_EQ(chain_->tip_hash(), tip);
    EXPECT_EQ(chain_->MempoolHashes(), pool0);
    EXPECT_EQ(chain_->GasBalance(a), a0);
    EXPECT_EQ(chain_->GasBalance(b), b0);
  };

  // A signature by another key, and one over another network's magic.
  neo::Transaction forged = Sign(W(0).key, {.script = script, .nonce = 9});
  neo::Transaction by_other = Sign(W(1).key, {.script = script, .nonce = 9});
  auto witnesses = forged.witnesses();
  witnesses[0].invocation = by_other.witnesses()[0].invocation;
  expect_refused(forged.WithWitnesses(witnesses).Encode(), -508, "Invalid signature");
  expect_refused(Sign(W(0).key, {.script = script, .magic = 860833102, .nonce = 10}).Encode(), -508,
                 "Invalid signature");
  // validUntilBlock at the tip (expired) and past the maximum increment.
  expect_refused(Sign(W(0).key, {.script = script, .valid_for = 0, .nonce = 11}).Encode(), -510, "Expired");
  expect_refused(
      Sign(W(0).key, {.script = script, .valid_for = int32_t(kMaxValidUntilBlockIncrement) + 1, .nonce = 12}).Encode(),
      -510, "Expired");
  // One datoshi under the network fee formula.
  expect_refused(Sign(W(0).key, {.script = script, .network_fee_delta = -1, .nonce = 13}).Encode(), -504,
                 "Insufficient network fee");
  // A system fee the execution does not fit in.
  expect_refused(Sign(W(0).key, {.script = script, .system_fee = 1000, .nonce = 14}).Encode(), -505,
                 "does not cover the execution");
  // Replays: on chain, and in the pool.
  expect_refused(mined.Encode(), -501, "already exists");
  expect_refused(pooled.Encode(), -503, "Already in pool");
  // A sender without GAS.
  auto broke = crypto::PrivateKey::FromBytes(crypto::Sha256(crypto::AsBytes("a key with no GAS")));
  ASSERT_TRUE(broke.ok());
  auto broke_hash = neo::ScriptHash(neo::SingleSigScript(broke->public_key()));
  expect_refused(
      Sign(*broke, {.script = TransferScript(NativeRegistry::GasHash(), broke_hash, b, 0), .nonce = 15}).Encode(), -511,
      "Insufficient funds");
  // Attributes the devchain cannot honour.
  expect_refused(Sign(W(0).key, {.script = script, .attributes = {neo::HighPriorityAttribute{}}, .nonce = 16}).Encode(),
                 -507, "HighPriority");
  // Bytes that are no transaction, a script that is no script, and an oversize payload.
  expect_refused({0x00, 0x01, 0x02}, -32602, "Invalid transaction");
  expect_refused(
      Sign(W(0).key, {.script = {0x0C, 0x05, 0x01}, .system_fee = 0, .network_fee = 2'000'000, .nonce = 17}).Encode(),
      -506, "Invalid transaction script");
  expect_refused(std::vector<uint8_t>(neo::Transaction::kMaxTransactionSize + 1, 0), -509, "Invalid inventory size");

  // After all that, the chain still works and nothing refused made it in.
  auto events = chain_->MineBlock();
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->block.transactions().size(), 1u);
  EXPECT_EQ(events->block.transactions()[0].hash(), pooled.hash());
}

TEST_F(ChainTest, MultisigWitnessesVerifyInKeyOrder) {
  std::vector<crypto::PrivateKey> keys;
  std::vector<crypto::PublicKey> pubs;
  for (int i = 0; i < 3; ++i) {
    auto k = crypto::PrivateKey::FromBytes(crypto::Sha256(crypto::AsBytes("multisig " + std::to_string(i))));
    ASSERT_TRUE(k.ok());
    pubs.push_back(k->public_key());
    keys.push_back(std::move(*k));
  }
  auto verification = neo::MultiSigScript(2, pubs);
  ASSERT_TRUE(verification.ok());
  const UInt160 multisig = neo::ScriptHash(*verification);
  ASSERT_TRUE(chain_->Fund(multisig, 100 * kGas, false, true).ok());
  EXPECT_EQ(chain_->GasBalance(multisig), 100 * kGas);

  // Signatures must follow the order of the keys in the script (sorted by point).
  std::vector<size_t> order = {0, 1, 2};
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return pubs[x] < pubs[y]; });

  auto script = TransferScript(NativeRegistry::GasHash(), multisig, W(0).script_hash, kGas);
  neo::Signer signer{.account = multisig, .scopes = neo::WitnessScope::CalledByEntry};
  auto build = [&](uint32_t nonce, std::vector<size_t> signers_in_order) {
    neo::TransactionBuilder b;
    b.SetNonce(nonce)
        .SetSystemFee(chain_->InvokeScript(script, {signer}).gas_consumed)
        .SetValidUntilBlock(chain_->height() + 10)
        .SetScript(script)
        .AddSigner(signer);
    auto placeholder = b.Build();
    std::vector<uint8_t> two_pushes = SigPush({});
    auto second = SigPush({});
    two_pushes.insert(two_pushes.end(), second.begin(), second.end());
    auto fee = chain_->CalculateNetworkFee(
        placeholder->WithWitnesses({neo::Witness{.invocation = two_pushes, .verification = *verification}}).Encode());
    EXPECT_TRUE(fee.ok()) << fee.status().ToString();
    b.SetNetworkFee(*fee);
    auto tx = b.Build();
    std::vector<uint8_t> invocation;
    for (size_t i : signers_in_order) {
      auto push = SigPush(keys[i].Sign(neo::SigningData(*tx, chain_->network())));
      invocation.insert(invocation.end(), push.begin(), push.end());
    }
    return tx->WithWitnesses({neo::Witness{.invocation = invocation, .verification = *verification}});
  };
  auto wrong_order = chain_->SubmitTransaction(build(1, {order[1], order[0]}).Encode());
  EXPECT_EQ(RpcCode(wrong_order.status()), -508) << wrong_order.status().ToString();
  auto ok = chain_->SubmitTransaction(build(2, {order[0], order[2]}).Encode());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  auto events = chain_->MineBlock();
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->executions.size(), 1u);
  EXPECT_EQ(events->executions[0].state, VmState::kHalt);
}

TEST_F(ChainTest, ConflictsReplaceOnlyWithAHigherFeeFromTheSameSender) {
  auto script = TransferScript(NativeRegistry::GasHash(), W(0).script_hash, W(1).script_hash, kGas);
  neo::Transaction first = Sign(W(0).key, {.script = script, .nonce = 1});
  ASSERT_TRUE(chain_->SubmitTransaction(first.Encode()).ok());
  // Paying no more network fee than the transaction it would replace is not enough.
  auto refused = chain_->SubmitTransaction(Sign(W(0).key, {.script = script,
                                                           .network_fee = first.network_fee(),
                                                           .attributes = {neo::ConflictsAttribute{first.hash()}},
                                                           .nonce = 3})
                                               .Encode());
  EXPECT_FALSE(refused.ok());
  neo::Transaction better = Sign(W(0).key, {.script = script,
                                            .network_fee_delta = first.network_fee(),
                                            .attributes = {neo::ConflictsAttribute{first.hash()}},
                                            .nonce = 4});
  ASSERT_TRUE(chain_->SubmitTransaction(better.Encode()).ok());
  EXPECT_THAT(chain_->MempoolHashes(), ::testing::ElementsAre(better.hash()));
  ASSERT_TRUE(chain_->MineBlock().ok());
  // Once `better` is on chain, `first` can never come back.
  auto again = chain_->SubmitTransaction(first.Encode());
  EXPECT_EQ(RpcCode(again.status()), -501) << again.status().ToString();
}

TEST_F(ChainTest, OnDemandMiningIncludesATransactionWithoutBeingAsked) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<UInt256> included;
  chain_->Subscribe({.on_block = [&](const BlockEvents& e) {
    std::lock_guard lock(mu);
    for (const auto& tx : e.block.transactions()) included.push_back(tx.hash());
    cv.notify_all();
  }});
  chain_->Start();
  neo::Transaction tx =
      Sign(W(0).key, {.script = TransferScript(NativeRegistry::GasHash(), W(0).script_hash, W(1).script_hash, kGas)});
  ASSERT_TRUE(chain_->SubmitTransaction(tx.Encode()).ok());
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return !included.empty(); }));
  EXPECT_EQ(included[0], tx.hash());
  lock.unlock();
  chain_->Stop();
}

TEST_F(ChainTest, ReadOnlyInvocationsKeepNothing) {
  const UInt160 a = W(0).script_hash;
  const int64_t before = chain_->GasBalance(a);
  neo::Signer signer{.account = a, .scopes = neo::WitnessScope::CalledByEntry};
  ExecutionRecord r =
      chain_->InvokeScript(TransferScript(NativeRegistry::GasHash(), a, W(1).script_hash, 5 * kGas), {signer});
  EXPECT_EQ(r.state, VmState::kHalt) << r.exception.value_or("");
  EXPECT_EQ(r.notifications.size(), 1u);
  EXPECT_EQ(chain_->GasBalance(a), before);
  // Without the signer the transfer returns false and ASSERT faults.
  ExecutionRecord unsigned_run =
      chain_->InvokeScript(TransferScript(NativeRegistry::GasHash(), a, W(1).script_hash, 5 * kGas), {});
  EXPECT_EQ(unsigned_run.state, VmState::kFault);
}

TEST_F(ChainTest, ResetStartsOverAndAnotherNetworkIsRefused) {
  ASSERT_TRUE(chain_->MineBlock().ok());
  ASSERT_TRUE(chain_->MineBlock().ok());
  EXPECT_EQ(chain_->height(), 2u);
  Status other = OpenChain(false, 12345);
  EXPECT_EQ(other.code(), StatusCode::kFailedPrecondition) << other.ToString();
  EXPECT_THAT(std::string(other.message()), HasSubstr("--reset"));
  ASSERT_TRUE(OpenChain(true).ok());
  EXPECT_EQ(chain_->height(), 0u);
  EXPECT_EQ(chain_->GasBalance(W(0).script_hash), 10'000 * kGas);
}

TEST_F(ChainTest, SampleConsumerRequestAndResponseOnChain) {
  neo::ScriptBuilder sb;
  auto service = neo::ContractParam::String("functions");
  ASSERT_TRUE(service.ok());
  sb.EmitContractCall(NativeRegistry::SampleConsumerHash(), "request", neo::CallFlags::All,
                      {*service, neo::ContractParam::Bytes({'{', '}'})});
  neo::Transaction tx = Sign(W(0).key, {.script = sb.Take()});
  ASSERT_TRUE(chain_->SubmitTransaction(tx.Encode()).ok());
  auto events = chain_->MineBlock();
  ASSERT_TRUE(events.ok());
  const ExecutionRecord& e = events->executions.at(0);
  ASSERT_EQ(e.state, VmState::kHalt) << e.exception.value_or("");
  ASSERT_EQ(e.notifications.size(), 1u);
  EXPECT_EQ(e.notifications[0].event_name, "ServiceRequest");
  EXPECT_EQ(e.notifications[0].contract, NativeRegistry::SampleConsumerHash());
  ASSERT_EQ(e.stack.size(), 1u);
  auto request_id = e.stack[0]->GetInteger();
  ASSERT_TRUE(request_id.ok());

  neo::ScriptBuilder answer;
  answer.EmitContractCall(
      NativeRegistry::SampleConsumerHash(), "onServiceResponse", neo::CallFlags::All,
      {neo::ContractParam::Int(*request_id->ToInt64()), neo::ContractParam::Int(0),
       neo::ContractParam::Bytes({'4', '2'}), neo::ContractParam::Bytes(std::vector<uint8_t>(64, 1))});
  neo::Transaction reply = Sign(W(1).key, {.script = answer.Take()});
  ASSERT_TRUE(chain_->SubmitTransaction(reply.Encode()).ok());
  ASSERT_TRUE(chain_->MineBlock().ok());

  neo::ScriptBuilder read;
  read.EmitContractCall(NativeRegistry::SampleConsumerHash(), "getResponse", neo::CallFlags::ReadOnly,
                        {neo::ContractParam::Int(*request_id->ToInt64())});
  ExecutionRecord r = chain_->InvokeScript(read.data(), {});
  ASSERT_EQ(r.state, VmState::kHalt) << r.exception.value_or("");
  ASSERT_EQ(r.stack.size(), 1u);
  ASSERT_EQ(r.stack[0]->items().size(), 4u);
  EXPECT_EQ(*r.stack[0]->items()[1]->GetBytes(), (std::vector<uint8_t>{'4', '2'}));
}

}  // namespace
}  // namespace neosl::devchain
