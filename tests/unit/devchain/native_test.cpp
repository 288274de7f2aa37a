// The contracts: hashes, genesis state, NEP-17 transfers, fee burning, SampleConsumer.
#include <boost/json.hpp>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "devchain/engine_internal.h"
#include "neo/interop.h"
#include "unit/devchain/engine_fixture.h"

namespace neosl::devchain {
namespace {

using neo::ContractParam;
using neo::WitnessScope;
using testing::EngineTest;
using testing::Int;
using testing::SignerFor;
using testing::Text;

TEST(ContractHashTest, GivesTheNativeHashes) {
  const std::pair<std::string_view, std::string_view> natives[] = {
      {"ContractManagement", "0xfffdc93764dbaddd97c48f252a53ea4643faa3fd"},
      {"LedgerContract", "0xda65b600f7124ce6c79950c1772a36403104f2be"},
      {"NeoToken", "0xef4073a0f2b305a38ec4050e4d3d28bc40ea63f5"},
      {"GasToken", "0xd2a4cff31913016155e38e474a2c06d08be276cf"},
      {"PolicyContract", "0xcc5e4edd9f5f8dba8bb65734541df7a1c081c67b"},
  };
  NativeRegistry registry;
  for (const auto& [name, hash] : natives) {
    EXPECT_EQ(ContractHash(neo::UInt160(), 0, name).ToString(), hash) << name;
    ASSERT_NE(registry.FindByName(name), nullptr) << name;
    EXPECT_EQ(registry.FindByName(name)->hash().ToString(), hash);
  }
  EXPECT_EQ(NativeRegistry::GasHash().ToString(), "0xd2a4cff31913016155e38e474a2c06d08be276cf");
  EXPECT_EQ(NativeRegistry::SampleConsumerHash(), ContractHash(neo::UInt160(), 0, "SampleConsumer"));
  EXPECT_EQ(registry.FindById(1)->hash(), NativeRegistry::SampleConsumerHash());
  EXPECT_EQ(registry.FindByName("gastoken")->id(), -6);
  // Neo's order: ContractManagement, Ledger, NEO, GAS, Policy, then the samples.
  std::vector<int32_t> ids;
  for (const auto& c : registry.all()) ids.push_back(c->id());
  EXPECT_EQ(ids, (std::vector<int32_t>{-1, -4, -5, -6, -7, 1, 2}));
}

TEST(ContractStateJsonTest, GasToken) {
  NativeRegistry registry;
  const boost::json::value json = registry.Find(NativeRegistry::GasHash())->ContractStateJson();
  EXPECT_EQ(json.at("id").as_int64(), -6);
  EXPECT_EQ(json.at("hash").as_string(), "0xd2a4cff31913016155e38e474a2c06d08be276cf");
  const auto& nef = json.at("nef");
  EXPECT_EQ(nef.at("magic").as_uint64(), 860243278u);
  EXPECT_EQ(nef.at("compiler").as_string(), "neo-core-v3.0");
  const Bytes script = *Base64Decode(nef.at("script").as_string());
  EXPECT_EQ(script.size(), 5u * 7u);
  EXPECT_EQ(HexEncode(std::span(script).first(7)),
            "10"
            "41"
            "1af77b67"
            "40");  // PUSH0 CallNative RET
  // The checksum is the first 4 bytes of the double SHA-256 of the NEF without it.
  const Bytes nef_bytes = internal::NefBytes(script);
  const crypto::Digest256 digest = crypto::DoubleSha256(std::span(nef_bytes).first(nef_bytes.size() - 4));
  const uint32_t checksum = digest[0] | digest[1] << 8 | digest[2] << 16 | static_cast<uint32_t>(digest[3]) << 24;
  EXPECT_EQ(nef.at("checksum").as_uint64(), checksum);

  const auto& manifest = json.at("manifest");
  EXPECT_EQ(manifest.at("name").as_string(), "GasToken");
  EXPECT_EQ(manifest.at("supportedstandards").as_array(), boost::json::array{"NEP-17"});
  const auto& methods = manifest.at("abi").at("methods").as_array();
  const std::vector<std::string> names = {"balanceOf", "decimals", "symbol", "totalSupply", "transfer"};
  ASSERT_EQ(methods.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(methods[i].at("name").as_string(), names[i]);
    EXPECT_EQ(methods[i].at("offset").as_int64(), static_cast<int64_t>(7 * i));
  }
  EXPECT_EQ(boost::json::serialize(methods[4]),
            R"({"name":"transfer","parameters":[{"name":"from","type":"Hash160"},{"name":"to","type":"Hash160"},)"
            R"({"name":"amount","type":"Integer"},{"name":"data","type":"Any"}],"returntype":"Boolean",)"
            R"("offset":28,"safe":false})");
  EXPECT_EQ(boost::json::serialize(manifest.at("abi").at("events")),
            R"([{"name":"Transfer","parameters":[{"name":"from","type":"Hash160"},{"name":"to","type":"Hash160"},)"
            R"({"name":"amount","type":"Integer"}]}])");
  EXPECT_EQ(boost::json::serialize(manifest.at("permissions")), R"([{"contract":"*","methods":"*"}])");
  EXPECT_TRUE(manifest.at("extra").is_null());
}

TEST_F(EngineTest, GenesisState) {
  EXPECT_EQ(GasBalance(root_, alice_), 52'000'000 * kGas);
  EXPECT_EQ(NeoBalance(root_, alice_), 100'000'000);
  EXPECT_EQ(GasTotalSupply(root_)->ToDecimal(), "5200000000000000");
  EXPECT_EQ(FeePerByte(root_), 1000);
  EXPECT_EQ(ExecFeeFactor(root_), 30);
  EXPECT_EQ(StoragePrice(root_), 100000);
  // GAS account layout: Struct[balance]; NEO: Struct[balance, height, voteTo, lastGasPerVote].
  const Bytes gas_key = internal::Key(-6, 0x14, alice_.span());
  EXPECT_EQ(HexEncode(*root_.Get(gas_key)), "410121070000d5585f7912");
  const Bytes neo_key = internal::Key(-5, 0x14, alice_.span());
  // Struct(4) [Integer 100000000, Integer 0 (genesis height), Null, Integer 0]
  EXPECT_EQ(HexEncode(*root_.Get(neo_key)), "4104210400e1f5052100002100");
  StatusOr<StackItemPtr> neo_state = DeserializeStackItem(*root_.Get(neo_key));
  ASSERT_TRUE(neo_state.ok());
  ASSERT_EQ((*neo_state)->items().size(), 4u);
  EXPECT_EQ(Int((*neo_state)->items()[0]), 100'000'000);
  EXPECT_TRUE((*neo_state)->items()[2]->IsNull());
}

TEST_F(EngineTest, WalletGasTransfer) {
  const std::vector<uint8_t> script = Transfer(NativeRegistry::GasHash(), alice_, bob_, 5 * kGas);
  ExecutionRecord r = Run(script, {SignerFor(alice_, WitnessScope::CalledByEntry)});
  ASSERT_EQ(r.state, VmState::kHalt) << r.exception.value_or("");
  EXPECT_FALSE(r.exception.has_value());
  EXPECT_TRUE(r.stack.empty());  // ASSERT consumed the result
  EXPECT_EQ(GasBalance(root_, alice_), 52'000'000 * kGas - 5 * kGas);
  EXPECT_EQ(GasBalance(root_, bob_), 5 * kGas);

  ASSERT_EQ(r.notifications.size(), 1u);
  const NotificationRecord& n = r.notifications[0];
  EXPECT_EQ(n.contract, NativeRegistry::GasHash());
  EXPECT_EQ(n.event_name, "Transfer");
  ASSERT_EQ(n.state->items().size(), 3u);
  EXPECT_EQ(*n.state->items()[0]->GetBytes(), Bytes(alice_.span().begin(), alice_.span().end()));
  EXPECT_EQ(*n.state->items()[1]->GetBytes(), Bytes(bob_.span().begin(), bob_.span().end()));
  EXPECT_EQ(Int(n.state->items()[2]), 5 * kGas);
  EXPECT_EQ(boost::json::serialize(NotificationToJson(n)),
            R"({"contract":"0xd2a4cff31913016155e38e474a2c06d08be276cf","eventname":"Transfer","state":)"
            R"({"type":"Array","value":[{"type":"ByteString","value":")" +
                Base64Encode(alice_.span()) + R"("},{"type":"ByteString","value":")" + Base64Encode(bob_.span()) +
                R"("},{"type":"Integer","value":"500000000"}]}})");

  // Opcodes × ExecFeeFactor, the Contract.Call syscall × ExecFeeFactor, and transfer's price:
  // cpu 1 << 17 × ExecFeeFactor + storage 50 × StoragePrice.
  const int64_t expected = testing::OpcodePriceSum(script) * 30 + (1 << 15) * 30 + (1 << 17) * 30 + 50 * 100000;
  EXPECT_EQ(r.gas_consumed, expected);
}

TEST_F(EngineTest, TransferWithoutWitnessReturnsFalse) {
  const std::vector<uint8_t> script = Transfer(NativeRegistry::GasHash(), alice_, bob_, kGas);
  ExecutionRecord r = Run(script, {SignerFor(bob_, WitnessScope::CalledByEntry)});
  EXPECT_EQ(r.state, VmState::kFault);
  EXPECT_EQ(r.exception, "ASSERT is executed with false result.");
  EXPECT_TRUE(r.notifications.empty());  // Neo drops a FAULTed execution's notifications
  EXPECT_EQ(GasBalance(root_, bob_), 0);

  // Without ASSERT the script HALTs with false on the stack, and nothing moved.
  r = Run(Transfer(NativeRegistry::GasHash(), alice_, bob_, kGas, false), {});
  ASSERT_EQ(r.state, VmState::kHalt);
  EXPECT_FALSE(*r.stack[0]->GetBoolean());
  EXPECT_TRUE(r.notifications.empty());
}

TEST_F(EngineTest, TransferEdgeCases) {
  const auto signer = SignerFor(alice_, WitnessScope::CalledByEntry);
  // Negative amount: FAULT with Neo's message.
  ExecutionRecord r = Run(Call(NativeRegistry::GasHash(), "transfer",
                               {ContractParam::Hash160(alice_), ContractParam::Hash160(bob_), ContractParam::Int(-1),
                                ContractParam::Null()}),
                          {signer});
  EXPECT_EQ(r.state, VmState::kFault);
  EXPECT_EQ(r.exception, "cannot be negative (Parameter 'amount')");
  // More than the balance: false.
  r = Run(Transfer(NativeRegistry::GasHash(), bob_, alice_, 1, false), {SignerFor(bob_, WitnessScope::Global)});
  EXPECT_FALSE(*r.stack[0]->GetBoolean());
  // To oneself and zero amounts succeed and notify, without moving anything.
  r = Run(Transfer(NativeRegistry::GasHash(), alice_, alice_, kGas), {signer});
  ASSERT_EQ(r.state, VmState::kHalt);
  EXPECT_EQ(r.notifications.size(), 1u);
  r = Run(Transfer(NativeRegistry::GasHash(), alice_, bob_, 0), {signer});
  ASSERT_EQ(r.state, VmState::kHalt);
  EXPECT_EQ(r.notifications.size(), 1u);
  EXPECT_EQ(GasBalance(root_, alice_), 52'000'000 * kGas);
  // Sending the whole balance deletes the GAS account entry.
  ASSERT_EQ(Run(Transfer(NativeRegistry::GasHash(), alice_, bob_, 7), {signer}).state, VmState::kHalt);
  ASSERT_EQ(
      Run(Transfer(NativeRegistry::GasHash(), bob_, alice_, 7), {SignerFor(bob_, WitnessScope::CalledByEntry)}).state,
      VmState::kHalt);
  EXPECT_FALSE(root_.Get(internal::Key(-6, 0x14, bob_.span())).has_value());
}

TEST_F(EngineTest, NeoTransferAndReadOnlyMethods) {
  ExecutionRecord r =
      Run(Transfer(NativeRegistry::NeoHash(), alice_, bob_, 10), {SignerFor(alice_, WitnessScope::CalledByEntry)});
  ASSERT_EQ(r.state, VmState::kHalt) << r.exception.value_or("");
  EXPECT_EQ(NeoBalance(root_, bob_), 10);
  EXPECT_EQ(NeoBalance(root_, alice_), 100'000'000 - 10);
  EXPECT_EQ(GasBalance(root_, bob_), 0);  // no GAS distribution on the devchain

  neo::ScriptBuilder sb;
  sb.EmitContractCall(NativeRegistry::NeoHash(), "symbol", neo::CallFlags::All, {});
  sb.EmitContractCall(NativeRegistry::NeoHash(), "decimals", neo::CallFlags::All, {});
  sb.EmitContractCall(NativeRegistry::GasHash(), "decimals", neo::CallFlags::All, {});
  sb.EmitContractCall(NativeRegistry::NeoHash(), "totalSupply", neo::CallFlags::All, {});
  sb.EmitContractCall(NativeRegistry::NeoHash(), "balanceOf", neo::CallFlags::All, {ContractParam::Hash160(bob_)});
  sb.EmitContractCall(NativeRegistry::PolicyHash(), "getFeePerByte", neo::CallFlags::All, {});
  sb.EmitContractCall(NativeRegistry::PolicyHash(), "getExecFeeFactor", neo::CallFlags::All, {});
  sb.EmitContractCall(NativeRegistry::PolicyHash(), "getStoragePrice", neo::CallFlags::All, {});
  r = Run(sb.data(), {});
  ASSERT_EQ(r.state, VmState::kHalt) << r.exception.value_or("");
  ASSERT_EQ(r.stack.size(), 8u);
  EXPECT_EQ(Text(r.stack[0]), "NEO");
  EXPECT_EQ(Int(r.stack[1]), 0);
  EXPECT_EQ(Int(r.stack[2]), 8);
  EXPECT_EQ(Int(r.stack[3]), 100'000'000);
  EXPECT_EQ(Int(r.stack[4]), 10);
  EXPECT_EQ(Int(r.stack[5]), 1000);
  EXPECT_EQ(Int(r.stack[6]), 30);
  EXPECT_EQ(Int(r.stack[7]), 100000);

  // balanceOf needs a 20-byte account.
  r = Run(Call(NativeRegistry::GasHash(), "balanceOf", {ContractParam::Bytes({1, 2, 3})}), {});
  EXPECT_EQ(r.state, VmState::kFault);
}

TEST_F(EngineTest, LedgerReadsTheCurrentBlock) {
  ExecutionRecord r = Run(Call(NativeRegistry::LedgerHash(), "currentIndex", {}), {});
  EXPECT_EQ(r.state, VmState::kFault);  // nothing persisted yet
  std::array<uint8_t, 32> h{};
  h.fill(0x5A);
  SetCurrentBlock(root_, neo::UInt256(h), 42);
  neo::ScriptBuilder sb;
  sb.EmitContractCall(NativeRegistry::LedgerHash(), "currentIndex", neo::CallFlags::All, {});
  sb.EmitContractCall(NativeRegistry::LedgerHash(), "currentHash", neo::CallFlags::All, {});
  r = Run(sb.data(), {});
  ASSERT_EQ(r.state, VmState::kHalt) << r.exception.value_or("");
  EXPECT_EQ(Int(r.stack[0]), 42);
  EXPECT_EQ(*r.stack[1]->GetBytes(), Bytes(h.begin(), h.end()));
}

TEST_F(EngineTest, GasToTheSampleCallsItsPaymentHook) {
  const std::vector<uint8_t> script =
      Transfer(NativeRegistry::GasHash(), alice_, NativeRegistry::SampleConsumerHash(), 3 * kGas);
  ExecutionRecord r = Run(script, {SignerFor(alice_, WitnessScope::CalledByEntry)});
  ASSERT_EQ(r.state, VmState::kHalt) << r.exception.value_or("");
  EXPECT_EQ(GasBalance(root_, NativeRegistry::SampleConsumerHash()), 3 * kGas);
  ASSERT_EQ(r.notifications.size(), 1u);
  // onNEP17Payment's price is part of the bill.
  EXPECT_GT(r.gas_consumed, testing::OpcodePriceSum(script) * 30 + (1 << 15) * 30 + (1 << 17) * 30 + 50 * 100000);

  r = Run(Transfer(NativeRegistry::NeoHash(), alice_, NativeRegistry::SampleConsumerHash(), 1),
          {SignerFor(alice_, WitnessScope::CalledByEntry)});
  EXPECT_EQ(r.state, VmState::kFault);
  EXPECT_EQ(r.exception, "only GAS is accepted");
  EXPECT_EQ(NeoBalance(root_, NativeRegistry::SampleConsumerHash()), 0);
}

TEST_F(EngineTest, OnPersistBurnsFeesAndPaysNetworkFeesToThePrimary) {
  neo::TransactionBuilder builder;
  builder.SetNonce(7).SetSystemFee(kGas).SetNetworkFee(kGas / 2).SetValidUntilBlock(100);
  builder.AddSigner(SignerFor(alice_, WitnessScope::CalledByEntry)).SetScript({0x40});
  StatusOr<neo::Transaction> tx = builder.Build();
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();
  const Int256 supply_before = *GasTotalSupply(root_);

  DataCache snapshot(&root_);
  BlockContext block = block_;
  block.primary = bob_;
  block.transactions = {&*tx};
  ApplicationEngine engine(TriggerType::kOnPersist, nullptr, {}, snapshot, block, natives_, settings_, 0);
  ExecutionRecord r = engine.RunNativeHooks();
  ASSERT_EQ(r.state, VmState::kHalt) << r.exception.value_or("");
  EXPECT_EQ(r.trigger, TriggerType::kOnPersist);
  EXPECT_EQ(r.gas_consumed, 0);
  snapshot.Commit();

  EXPECT_EQ(GasBalance(root_, alice_), 52'000'000 * kGas - kGas - kGas / 2);
  EXPECT_EQ(GasBalance(root_, bob_), kGas / 2);
  EXPECT_EQ(*GasTotalSupply(root_), *supply_before.Sub(Int256::FromInt64(kGas)));
  ASSERT_EQ(r.notifications.size(), 2u);
  EXPECT_TRUE(r.notifications[0].state->items()[1]->IsNull());  // burn: to is Null
  EXPECT_EQ(Int(r.notifications[0].state->items()[2]), kGas + kGas / 2);
  EXPECT_TRUE(r.notifications[1].state->items()[0]->IsNull());  // mint: from is Null
  EXPECT_EQ(Int(r.notifications[1].state->items()[2]), kGas / 2);

  // A sender who cannot pay FAULTs the hook.
  DataCache poor(&root_);
  neo::TransactionBuilder b2;
  b2.SetSystemFee(kGas).SetValidUntilBlock(100).AddSigner(SignerFor(testing::Account(0x33), WitnessScope::None));
  b2.SetScript({0x40});
  StatusOr<neo::Transaction> tx2 = b2.Build();
  ASSERT_TRUE(tx2.ok());
  block.transactions = {&*tx2};
  ApplicationEngine engine2(TriggerType::kOnPersist, nullptr, {}, poor, block, natives_, settings_, 0);
  EXPECT_EQ(engine2.RunNativeHooks().state, VmState::kFault);
}

class SampleTest : public EngineTest {
 protected:
  SampleTest() {
    neo::TransactionBuilder builder;
    builder.SetValidUntilBlock(100).AddSigner(SignerFor(alice_, WitnessScope::CalledByEntry)).SetScript({0x40});
    tx_ = *builder.Build();
  }

  ExecutionRecord Sample(std::string_view method, const std::vector<ContractParam>& args) {
    return Run(Call(NativeRegistry::SampleConsumerHash(), method, args), {SignerFor(alice_, WitnessScope::None)},
               20 * kGas, &tx_);
  }

  neo::Transaction tx_ = *neo::TransactionBuilder().SetValidUntilBlock(1).AddSigner({}).SetScript({0x40}).Build();
};

TEST_F(SampleTest, RequestEmitsServiceRequest) {
  ExecutionRecord r = Sample("request", {*ContractParam::String("weather"), ContractParam::Bytes({1, 2, 3})});
  ASSERT_EQ(r.state, VmState::kHalt) << r.exception.value_or("");
  ASSERT_EQ(r.stack.size(), 1u);
  EXPECT_EQ(Int(r.stack[0]), 1);
  ASSERT_EQ(r.notifications.size(), 1u);
  EXPECT_EQ(boost::json::serialize(NotificationToJson(r.notifications[0])),
            "{\"contract\":\"" + NativeRegistry::SampleConsumerHash().ToString() +
                R"(","eventname":"ServiceRequest","state":{"type":"Array","value":[)"
                R"({"type":"Integer","value":"1"},{"type":"ByteString","value":")" +
                Base64Encode(alice_.span()) +
                R"("},{"type":"ByteString","value":"d2VhdGhlcg=="},{"type":"ByteString","value":"AQID"},)"
                R"({"type":"ByteString","value":"b25TZXJ2aWNlUmVzcG9uc2U="}]}})");
  // request's price: cpu 1 << 15 × 30 + storage 100 × StoragePrice.
  const std::vector<uint8_t> script = Call(NativeRegistry::SampleConsumerHash(), "request",
                                           {*ContractParam::String("weather"), ContractParam::Bytes({1, 2, 3})});
  EXPECT_EQ(r.gas_consumed, testing::OpcodePriceSum(script) * 30 + (1 << 15) * 30 + (1 << 15) * 30 + 100 * 100000);

  r = Sample("request", {*ContractParam::String("price"), ContractParam::Bytes({})});
  EXPECT_EQ(Int(r.stack[0]), 2);
  r = Sample("getRequest", {ContractParam::Int(1)});
  ASSERT_EQ(r.state, VmState::kHalt);
  ASSERT_EQ(r.stack[0]->type(), StackItemType::kArray);
  ASSERT_EQ(r.stack[0]->items().size(), 4u);
  EXPECT_EQ(Text(r.stack[0]->items()[1]), "weather");
  EXPECT_EQ(Int(r.stack[0]->items()[3]), 1);  // block index
}

TEST_F(SampleTest, RequestValidatesItsArguments) {
  EXPECT_EQ(Sample("request", {*ContractParam::String(""), ContractParam::Bytes({})}).exception,
            "service must be 1 to 64 bytes of UTF-8, got 0 bytes");
  EXPECT_EQ(Sample("request", {*ContractParam::String(std::string(65, 's')), ContractParam::Bytes({})}).exception,
            "service must be 1 to 64 bytes of UTF-8, got 65 bytes");
  EXPECT_EQ(Sample("request", {*ContractParam::String("s"), ContractParam::Bytes(Bytes(4097, 0))}).exception,
            "payload must be at most 4096 bytes, got 4097");
}

TEST_F(SampleTest, ResponseIsStoredOnceAndReadable) {
  ASSERT_EQ(Sample("request", {*ContractParam::String("weather"), ContractParam::Bytes({9})}).state, VmState::kHalt);
  const std::vector<ContractParam> answer = {ContractParam::Int(1), ContractParam::Int(200),
                                             ContractParam::Bytes({'o', 'k'}), ContractParam::Bytes(Bytes(64, 0x55))};
  ExecutionRecord r = Sample("onServiceResponse", answer);
  ASSERT_EQ(r.state, VmState::kHalt) << r.exception.value_or("");
  ASSERT_EQ(r.stack.size(), 1u);
  EXPECT_TRUE(r.stack[0]->IsNull());  // a void method called dynamically leaves Null, as Neo
  ASSERT_EQ(r.notifications.size(), 1u);
  EXPECT_EQ(r.notifications[0].event_name, "ServiceResponse");
  EXPECT_EQ(Int(r.notifications[0].state->items()[0]), 1);
  EXPECT_EQ(Int(r.notifications[0].state->items()[1]), 200);

  r = Sample("getResponse", {ContractParam::Int(1)});
  ASSERT_EQ(r.state, VmState::kHalt);
  ASSERT_EQ(r.stack[0]->items().size(), 4u);
  EXPECT_EQ(Int(r.stack[0]->items()[0]), 200);
  EXPECT_EQ(Text(r.stack[0]->items()[1]), "ok");
  EXPECT_EQ(r.stack[0]->items()[2]->GetBytes()->size(), 64u);
  EXPECT_EQ(*r.stack[0]->items()[3]->GetBytes(), Bytes(alice_.span().begin(), alice_.span().end()));

  r = Sample("onServiceResponse", answer);
  EXPECT_EQ(r.state, VmState::kFault);
  EXPECT_EQ(r.exception, "request 1 already answered");
  std::vector<ContractParam> unknown = answer;
  unknown[0] = ContractParam::Int(7);
  EXPECT_EQ(Sample("onServiceResponse", unknown).exception, "unknown request 7");
  EXPECT_TRUE(Sample("getResponse", {ContractParam::Int(7)}).stack[0]->IsNull());
}

}  // namespace
}  // namespace neosl::devchain
