// ApplicationEngine: syscalls, contract calls, CheckWitness, gas accounting, serialisation, JSON.
#include <boost/json.hpp>

#include "core/encoding.h"
#include "devchain/engine_internal.h"
#include "devchain/vm/stack_item.h"
#include "neo/account.h"
#include "neo/interop.h"
#include "neo/witness_rule.h"
#include "unit/devchain/engine_fixture.h"

namespace neosl::devchain {
namespace {

using neo::CallFlags;
using neo::ContractParam;
using neo::WitnessCondition;
using neo::WitnessScope;
using testing::Account;
using testing::EngineTest;
using testing::Int;
using testing::SignerFor;
using testing::Text;

// ---- syscalls ---------------------------------------------------------------------------------

TEST_F(EngineTest, SyscallIdsAndPricesAreNeos) {
  EXPECT_EQ(neo::InteropId("System.Contract.Call"), 0x525b7d62u);
  EXPECT_EQ(neo::InteropId("System.Runtime.CheckWitness"), 0x8cec27f8u);
  EXPECT_EQ(neo::InteropId("System.Runtime.Notify"), 0x616f0195u);
  DataCache snapshot(&root_);
  ApplicationEngine engine(TriggerType::kApplication, nullptr, {}, snapshot, block_, natives_, settings_, kGas);
  const std::pair<std::string_view, int64_t> prices[] = {
      {"System.Contract.Call", 1 << 15},
      {"System.Contract.GetCallFlags", 1 << 10},
      {"System.Runtime.Platform", 1 << 3},
      {"System.Runtime.GetNetwork", 1 << 3},
      {"System.Runtime.GetAddressVersion", 1 << 3},
      {"System.Runtime.GetTrigger", 1 << 3},
      {"System.Runtime.GetTime", 1 << 3},
      {"System.Runtime.GetExecutingScriptHash", 1 << 4},
      {"System.Runtime.GetCallingScriptHash", 1 << 4},
      {"System.Runtime.GetEntryScriptHash", 1 << 4},
      {"System.Runtime.CheckWitness", 1 << 10},
      {"System.Runtime.GetInvocationCounter", 1 << 4},
      {"System.Runtime.Log", 1 << 15},
      {"System.Runtime.Notify", 1 << 15},
      {"System.Runtime.GasLeft", 1 << 4},
      {"System.Runtime.BurnGas", 1 << 4},
      {"System.Runtime.GetRandom", 1 << 4},
  };
  for (const auto& [name, price] : prices) {
    StatusOr<int64_t> got = engine.Price(neo::InteropId(name));
    ASSERT_TRUE(got.ok()) << name;
    EXPECT_EQ(*got, price) << name;
  }
  EXPECT_EQ(engine.Price(neo::InteropId("System.Storage.Get")).status().code(), StatusCode::kNotFound);
}

TEST_F(EngineTest, UnknownSyscallFaultsWithTheDevchainMessage) {
  const std::vector<uint8_t> script = {0x41, 0x78, 0x56, 0x34, 0x12};
  ExecutionRecord r = Run(script, {});
  EXPECT_EQ(r.state, VmState::kFault);
  EXPECT_EQ(r.exception, "syscall 0x12345678 is not supported by the devchain");
}

TEST_F(EngineTest, RuntimeServicesAnswerFromTheContext) {
  neo::ScriptBuilder sb;
  sb.EmitSysCall("System.Runtime.Platform");
  sb.EmitSysCall("System.Runtime.GetNetwork");
  sb.EmitSysCall("System.Runtime.GetTime");
  sb.EmitSysCall("System.Runtime.GetTrigger");
  sb.EmitSysCall("System.Runtime.GetCallingScriptHash");
  sb.EmitSysCall("System.Runtime.GetEntryScriptHash");
  sb.EmitSysCall("System.Contract.GetCallFlags");
  sb.EmitSysCall("System.Runtime.GetAddressVersion");
  const std::vector<uint8_t> script = sb.Take();
  ExecutionRecord r = Run(script, {});
  ASSERT_EQ(r.state, VmState::kHalt) << r.exception.value_or("");
  ASSERT_EQ(r.stack.size(), 8u);
  EXPECT_EQ(Text(r.stack[0]), "NEO");
  EXPECT_EQ(Int(r.stack[1]), 0x444C534E);
  EXPECT_EQ(Int(r.stack[2]), 1'700'000'000'123);
  EXPECT_EQ(Int(r.stack[3]), 0x40);
  EXPECT_TRUE(r.stack[4]->IsNull());
  const neo::UInt160 entry = neo::ScriptHash(script);
  EXPECT_EQ(*r.stack[5]->GetBytes(), std::vector<uint8_t>(entry.span().begin(), entry.span().end()));
  EXPECT_EQ(Int(r.stack[6]), 0x0F);
  EXPECT_EQ(Int(r.stack[7]), 0x35);
}

TEST_F(EngineTest, GetRandomDiffersBetweenCalls) {
  neo::ScriptBuilder sb;
  sb.EmitSysCall("System.Runtime.GetRandom").EmitSysCall("System.Runtime.GetRandom");
  ExecutionRecord r = Run(sb.data(), {});
  ASSERT_EQ(r.state, VmState::kHalt);
  ASSERT_EQ(r.stack.size(), 2u);
  EXPECT_FALSE(*r.stack[0]->GetInteger() == *r.stack[1]->GetInteger());
  EXPECT_FALSE(r.stack[0]->GetInteger()->IsNegative());
}

TEST_F(EngineTest, NotifyFromTheEntryScriptIsRecordedAndCopied) {
  neo::ScriptBuilder sb;
  sb.EmitPushInt(7).EmitPushInt(1).Emit(neo::OpCode::PACK);  // [7]
  sb.Emit(neo::OpCode::DUP);
  sb.EmitPushString("Ping");
  sb.EmitSysCall("System.Runtime.Notify");
  sb.EmitPushInt(8).Emit(neo::OpCode::APPEND);  // changes the array after the notification
  const std::vector<uint8_t> script = sb.Take();
  ExecutionRecord r = Run(script, {});
  ASSERT_EQ(r.state, VmState::kHalt) << r.exception.value_or("");
  ASSERT_EQ(r.notifications.size(), 1u);
  EXPECT_EQ(r.notifications[0].contract, neo::ScriptHash(script));
  EXPECT_EQ(r.notifications[0].event_name, "Ping");
  EXPECT_EQ(r.notifications[0].state->items().size(), 1u);  // the APPEND did not reach it
}

TEST_F(EngineTest, NotifyRefusesALongEventName) {
  neo::ScriptBuilder sb;
  sb.Emit(neo::OpCode::NEWARRAY0);
  sb.EmitPushString(std::string(33, 'x'));
  sb.EmitSysCall("System.Runtime.Notify");
  ExecutionRecord r = Run(sb.data(), {});
  EXPECT_EQ(r.state, VmState::kFault);
  EXPECT_EQ(r.exception, "Event name size 33 exceeds maximum allowed size of 32 bytes (Parameter 'eventName')");
}

TEST_F(EngineTest, BurnGasChargesAndRefusesNonPositive) {
  neo::ScriptBuilder sb;
  sb.EmitPushInt(1000).EmitSysCall("System.Runtime.BurnGas");
  ExecutionRecord r = Run(sb.data(), {});
  ASSERT_EQ(r.state, VmState::kHalt);
  EXPECT_EQ(r.gas_consumed, testing::OpcodePriceSum(sb.data()) * 30 + (1 << 4) * 30 + 1000);
  neo::ScriptBuilder zero;
  zero.EmitPushInt(0).EmitSysCall("System.Runtime.BurnGas");
  EXPECT_EQ(Run(zero.data(), {}).exception, "GAS must be positive.");
}

// ---- contract calls ---------------------------------------------------------------------------

TEST_F(EngineTest, CallRefusesUnderscoreUnknownMethodAndUnknownContract) {
  ExecutionRecord r = Run(Call(NativeRegistry::GasHash(), "_initialize", {}), {});
  EXPECT_EQ(r.state, VmState::kFault);
  EXPECT_EQ(r.exception, "Method name '_initialize' cannot start with underscore. (Parameter 'method')");

  r = Run(Call(NativeRegistry::GasHash(), "balanceOf", {}), {});
  EXPECT_EQ(r.exception,
            "Method \"balanceOf\" with 0 parameter(s) doesn't exist in the contract "
            "0xd2a4cff31913016155e38e474a2c06d08be276cf.");

  r = Run(Call(Account(0x77), "symbol", {}), {});
  EXPECT_EQ(r.exception, "Called Contract Does Not Exist: 0x7777777777777777777777777777777777777777.symbol");
}

TEST_F(EngineTest, CallChecksTheMethodsRequiredFlags) {
  // transfer needs States | AllowCall | AllowNotify; ReadOnly grants ReadStates | AllowCall.
  const std::vector<ContractParam> args = {ContractParam::Hash160(alice_), ContractParam::Hash160(bob_),
                                           ContractParam::Int(1), ContractParam::Null()};
  ExecutionRecord r = Run(Call(NativeRegistry::GasHash(), "transfer", args, CallFlags::ReadOnly),
                          {SignerFor(alice_, WitnessScope::CalledByEntry)});
  EXPECT_EQ(r.state, VmState::kFault);
  EXPECT_EQ(r.exception, "Cannot call this method with the flag ReadOnly.");
  // A read-only method is fine with ReadStates alone.
  r = Run(Call(NativeRegistry::GasHash(), "balanceOf", {ContractParam::Hash160(alice_)}, CallFlags::ReadStates), {});
  EXPECT_EQ(r.state, VmState::kHalt) << r.exception.value_or("");
}

TEST_F(EngineTest, PaymentHookRefusesOtherCallersAndGettersAnswerNull) {
  // onNEP17Payment from the entry script: the sample refuses anything but GAS as the caller.
  ExecutionRecord r = Run(Call(NativeRegistry::SampleConsumerHash(), "onNEP17Payment",
                               {ContractParam::Hash160(alice_), ContractParam::Int(1), ContractParam::Null()}),
                          {});
  EXPECT_EQ(r.exception, "only GAS is accepted");
  // getRequest of an unknown id returns Null.
  r = Run(Call(NativeRegistry::SampleConsumerHash(), "getRequest", {ContractParam::Int(99)}), {});
  ASSERT_EQ(r.state, VmState::kHalt);
  ASSERT_EQ(r.stack.size(), 1u);
  EXPECT_TRUE(r.stack[0]->IsNull());
}

TEST_F(EngineTest, InsufficientGasFaults) {
  const std::vector<uint8_t> script = Transfer(NativeRegistry::GasHash(), alice_, bob_, kGas);
  ExecutionRecord r = Run(script, {SignerFor(alice_, WitnessScope::CalledByEntry)}, 1'000'000);
  EXPECT_EQ(r.state, VmState::kFault);
  EXPECT_EQ(r.exception, "Insufficient GAS.");
  EXPECT_GT(r.gas_consumed, 1'000'000);
  EXPECT_TRUE(r.notifications.empty());
  EXPECT_EQ(GasBalance(root_, bob_), 0);
}

// ---- CheckWitness -----------------------------------------------------------------------------

// A contract that checks a witness itself, or moves GAS on a caller's behalf, so that calls
// "through a contract" can be tested.
class Relay final : public NativeContract {
 public:
  Relay() : NativeContract("Relay", 100) {
    AddMethod({"checkWitness",
               {{"account", "Hash160"}},
               "Boolean",
               0,
               0,
               kCallNone,
               false,
               [](ApplicationEngine& engine, std::vector<StackItemPtr>& args) -> StatusOr<StackItemPtr> {
                 ASSIGN_OR_RETURN(neo::UInt160 account, neo::UInt160::FromBytes(*args[0]->GetBytes()));
                 ASSIGN_OR_RETURN(bool ok, engine.CheckWitness(account));
                 return StackItem::Boolean(ok);
               }});
    AddMethod({"relayTransfer",
               {{"from", "Hash160"}, {"to", "Hash160"}, {"amount", "Integer"}},
               "Boolean",
               0,
               0,
               kAll,
               false,
               [](ApplicationEngine& engine, std::vector<StackItemPtr>& args) {
                 return engine.CallContract(NativeRegistry::GasHash(), "transfer", kAll,
                                            {args[0], args[1], args[2], StackItem::Null()});
               }});
  }
};

class WitnessTest : public EngineTest {
 protected:
  WitnessTest() { EXPECT_TRUE(natives_.Register(std::make_unique<Relay>()).ok()); }

  const neo::UInt160& relay() const { return natives_.FindByName("Relay")->hash(); }

  // Whether a 1-datoshi transfer from alice succeeds, directly or through Relay.
  bool Moves(const neo::Signer& signer, bool through_relay) {
    const std::vector<ContractParam> args = {ContractParam::Hash160(alice_), ContractParam::Hash160(bob_),
                                             ContractParam::Int(1)};
    std::vector<ContractParam> direct_args = args;
    direct_args.push_back(ContractParam::Null());
    ExecutionRecord r = Run(
        through_relay ? Call(relay(), "relayTransfer", args) : Call(NativeRegistry::GasHash(), "transfer", direct_args),
        {signer});
    EXPECT_EQ(r.state, VmState::kHalt) << r.exception.value_or("");
    return r.state == VmState::kHalt && r.stack.size() == 1 && *r.stack[0]->GetBoolean();
  }

  neo::Signer WithRules(std::vector<neo::WitnessRule> rules) {
    neo::Signer s = SignerFor(alice_, WitnessScope::WitnessRules);
    s.rules = std::move(rules);
    return s;
  }
};

TEST_F(WitnessTest, EntryScriptCheckWitness) {
  neo::ScriptBuilder sb;
  sb.EmitPush(alice_).EmitSysCall("System.Runtime.CheckWitness");
  EXPECT_TRUE(*Run(sb.data(), {SignerFor(alice_, WitnessScope::CalledByEntry)}).stack[0]->GetBoolean());
  EXPECT_FALSE(*Run(sb.data(), {SignerFor(alice_, WitnessScope::None)}).stack[0]->GetBoolean());
  EXPECT_FALSE(*Run(sb.data(), {SignerFor(bob_, WitnessScope::Global)}).stack[0]->GetBoolean());
}

TEST_F(WitnessTest, GlobalAndCalledByEntry) {
  EXPECT_TRUE(Moves(SignerFor(alice_, WitnessScope::Global), true));
  EXPECT_TRUE(Moves(SignerFor(alice_, WitnessScope::CalledByEntry), false));
  EXPECT_FALSE(Moves(SignerFor(alice_, WitnessScope::CalledByEntry), true));
  EXPECT_FALSE(Moves(SignerFor(alice_, WitnessScope::None), false));
}

TEST_F(WitnessTest, CustomContracts) {
  neo::Signer gas_only = SignerFor(alice_, WitnessScope::CustomContracts);
  gas_only.allowed_contracts = {NativeRegistry::GasHash()};
  EXPECT_TRUE(Moves(gas_only, false));
  EXPECT_TRUE(Moves(gas_only, true));  // the check runs in GAS, which is allowed

  neo::Signer relay_only = SignerFor(alice_, WitnessScope::CustomContracts);
  relay_only.allowed_contracts = {relay()};
  EXPECT_FALSE(Moves(relay_only, true));
  ExecutionRecord r = Run(Call(relay(), "checkWitness", {ContractParam::Hash160(alice_)}), {relay_only});
  ASSERT_EQ(r.state, VmState::kHalt);
  EXPECT_TRUE(*r.stack[0]->GetBoolean());
}

TEST_F(WitnessTest, WitnessRules) {
  using neo::WitnessRuleAction;
  const neo::WitnessRule by_relay{WitnessRuleAction::Allow, WitnessCondition::CalledByContract(relay())};
  EXPECT_TRUE(Moves(WithRules({by_relay}), true));
  EXPECT_FALSE(Moves(WithRules({by_relay}), false));

  const neo::WitnessRule gas_not_via_relay{
      WitnessRuleAction::Allow,
      WitnessCondition::And({WitnessCondition::ScriptHash(NativeRegistry::GasHash()),
                             WitnessCondition::Not(WitnessCondition::CalledByContract(relay()))})};
  EXPECT_TRUE(Moves(WithRules({gas_not_via_relay}), false));
  EXPECT_FALSE(Moves(WithRules({gas_not_via_relay}), true));

  // The first matching rule decides: a Deny before an Allow-everything wins.
  const neo::WitnessRule deny_gas{WitnessRuleAction::Deny, WitnessCondition::ScriptHash(NativeRegistry::GasHash())};
  const neo::WitnessRule allow_all{WitnessRuleAction::Allow, WitnessCondition::Boolean(true)};
  EXPECT_FALSE(Moves(WithRules({deny_gas, allow_all}), false));
  EXPECT_TRUE(Moves(WithRules({allow_all, deny_gas}), false));
}

// ---- serialisation and JSON -------------------------------------------------------------------

Bytes Serialized(const StackItemPtr& item) {
  StatusOr<Bytes> bytes = SerializeStackItem(item);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : Bytes{};
}

TEST(BinarySerializerTest, MatchesNeosVectors) {
  // UT_BinarySerializer.TestSerialize.
  EXPECT_EQ(Serialized(*StackItem::ByteString(Bytes(5, 0))), (Bytes{0x28, 0x05, 0, 0, 0, 0, 0}));
  EXPECT_EQ(Serialized(StackItem::Boolean(true)), (Bytes{0x20, 0x01}));
  EXPECT_EQ(Serialized(StackItem::Integer(1)), (Bytes{0x21, 0x01, 0x01}));
  EXPECT_EQ(Serialized(StackItem::Array({StackItem::Integer(1)})), (Bytes{0x40, 0x01, 0x21, 0x01, 0x01}));
  EXPECT_EQ(Serialized(StackItem::Struct({StackItem::Integer(1)})), (Bytes{0x41, 0x01, 0x21, 0x01, 0x01}));
  StackItemPtr cyclic = StackItem::Array();
  cyclic->mutable_items().push_back(cyclic);
  EXPECT_FALSE(SerializeStackItem(cyclic).ok());
  cyclic->mutable_items().clear();
  // UT_BinarySerializer.TestDeserializeStackItem: an Array whose item has type byte 0x01.
  const Bytes bad = {0x40, 0x01, 0x01};
  EXPECT_FALSE(DeserializeStackItem(bad).ok());
}

TEST(BinarySerializerTest, RoundTripsAndRejectsNonCanonical) {
  const StackItemPtr item = StackItem::Struct({StackItem::Null(), StackItem::Boolean(false), StackItem::Integer(-129),
                                               StackItem::Integer(0), *StackItem::ByteString(Bytes(300, 0xAB)),
                                               StackItem::Array({StackItem::Integer(int64_t{1} << 40)})});
  const Bytes bytes = Serialized(item);
  StatusOr<StackItemPtr> back = DeserializeStackItem(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*ItemsEqual(item, *back) || Serialized(*back) == bytes);
  EXPECT_EQ(Serialized(*back), bytes);

  Bytes trailing = bytes;
  trailing.push_back(0);
  EXPECT_FALSE(DeserializeStackItem(trailing).ok());
  EXPECT_FALSE(DeserializeStackItem(Bytes{0x21, 0x02, 0x01, 0x00}).ok());        // 1 padded to 2 bytes
  EXPECT_FALSE(DeserializeStackItem(Bytes{0x20, 0x02}).ok());                    // Boolean 2
  EXPECT_FALSE(DeserializeStackItem(Bytes{0x28, 0xFD, 0x01, 0x00, 0x00}).ok());  // over-long var-int
}

TEST(StackItemJsonTest, Shapes) {
  const StackItemPtr item =
      StackItem::Array({StackItem::Null(), StackItem::Boolean(true), StackItem::Integer(-5),
                        *StackItem::ByteString(Bytes{1, 2, 3}), StackItem::Struct({StackItem::Integer(0)})});
  EXPECT_EQ(boost::json::serialize(StackItemToJson(item)),
            R"({"type":"Array","value":[{"type":"Any"},{"type":"Boolean","value":true},)"
            R"({"type":"Integer","value":"-5"},{"type":"ByteString","value":"AQID"},)"
            R"({"type":"Struct","value":[{"type":"Integer","value":"0"}]}]})");
  ExecutionRecord record;
  record.state = VmState::kHalt;
  record.gas_consumed = 997775;
  record.stack = {StackItem::Integer(1)};
  EXPECT_EQ(boost::json::serialize(ExecutionToJson(record)),
            R"({"trigger":"Application","vmstate":"HALT","exception":null,"gasconsumed":"997775",)"
            R"("stack":[{"type":"Integer","value":"1"}],"notifications":[]})");
}

TEST(Int256DecimalTest, RoundTripsTheExtremes) {
  const std::string max = "57896044618658097711785492504343953926634992332820282019728792003956564819967";
  const std::string min = "-57896044618658097711785492504343953926634992332820282019728792003956564819968";
  for (const std::string& text : {max, min, std::string("0"), std::string("-1"), std::string("100000000")}) {
    StatusOr<Int256> v = Int256::FromDecimal(text);
    ASSERT_TRUE(v.ok()) << text;
    EXPECT_EQ(v->ToDecimal(), text);
  }
  EXPECT_FALSE(Int256::FromDecimal(max + "0").ok());
  EXPECT_FALSE(Int256::FromDecimal("12a").ok());
  EXPECT_FALSE(Int256::FromDecimal("").ok());
}

TEST(Murmur128Test, MatchesNeosVectors) {
  const auto hex = [](std::string_view s) {
    return HexEncode(internal::Murmur128(std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()), 123));
  };
  EXPECT_EQ(hex("hello"), "0bc59d0ad25fde2982ed65af61227a0e");
  EXPECT_EQ(hex("world"), "3d3810fed480472bd214a14023bb407f");
  EXPECT_EQ(hex("hello world"), "e0a0632d4f51302c55e3b3e48d28795d");
  const Bytes bytes = *HexDecode("718f952132679baa9c5c2aa0d329fd2a");
  EXPECT_EQ(HexEncode(internal::Murmur128(bytes, 123)), "9b4aa747ff0cf4e41b3d96251551c8ae");
}

TEST(CallFlagsTextTest, AsDotNetPrintsThem) {
  EXPECT_EQ(internal::CallFlagsToString(kAll), "All");
  EXPECT_EQ(internal::CallFlagsToString(kReadOnly), "ReadOnly");
  EXPECT_EQ(internal::CallFlagsToString(kCallNone), "None");
  EXPECT_EQ(internal::CallFlagsToString(kStates | kAllowNotify), "States, AllowNotify");
  EXPECT_EQ(internal::CallFlagsToString(kStates | kAllowCall), "WriteStates, ReadOnly");
}

}  // namespace
}  // namespace neosl::devchain
