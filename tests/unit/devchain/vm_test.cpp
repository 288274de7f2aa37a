#include <initializer_list>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "devchain/vm/engine.h"
#include "neo/fee.h"
#include "neo/interop.h"
#include "neo/script_builder.h"

namespace neosl::devchain {
namespace {

using neo::OpCode;

constexpr int64_t kFactor = 30;                   // Neo's default ExecFeeFactor
constexpr int64_t kPlentyOfGas = 10'000'000'000;  // 100 GAS

const char* const kMaxInt256 = "57896044618658097711785492504343953926634992332820282019728792003956564819967";
const char* const kMinInt256 = "-57896044618658097711785492504343953926634992332820282019728792003956564819968";

std::vector<uint8_t> Ops(std::initializer_list<OpCode> ops) {
  std::vector<uint8_t> out;
  for (OpCode op : ops) out.push_back(neo::ToByte(op));
  return out;
}

Engine Exec(const std::vector<uint8_t>& script, SyscallHandler* handler = nullptr, int64_t gas = kPlentyOfGas) {
  Engine engine(script, gas, kFactor, handler);
  engine.Execute();
  return engine;
}

int64_t IntAt(const Engine& e, size_t i) {
  return *e.result_stack().at(i)->GetInteger()->ToInt64();
}

bool BoolAt(const Engine& e, size_t i) {
  EXPECT_EQ(e.result_stack().at(i)->type(), StackItemType::kBoolean);
  return *e.result_stack().at(i)->GetBoolean();
}

std::vector<uint8_t> BigPush(const char* decimal) {
  neo::ScriptBuilder sb;
  sb.EmitPushInteger(*neo::BigInteger::FromDecimal(decimal));
  return sb.Take();
}

std::vector<uint8_t> Concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(DevchainVm, PushIntRoundTripsBoundaryValues) {
  for (const char* text : {"0", "-1", "16", "17", "127", "128", "-128", "-129", "32767", "32768", "9223372036854775807",
                           "-9223372036854775808", "170141183460469231731687303715884105727",
                           "170141183460469231731687303715884105728", kMaxInt256, kMinInt256}) {
    const neo::BigInteger value = *neo::BigInteger::FromDecimal(text);
    Engine e = Exec(BigPush(text));
    ASSERT_EQ(e.state(), VmState::kHalt) << text << ": " << e.exception().value_or("");
    ASSERT_EQ(e.result_stack().size(), 1u);
    EXPECT_EQ(e.result_stack()[0]->GetInteger()->ToLe(), value.le_bytes()) << text;
  }
}

TEST(DevchainVm, PushConstants) {
  Engine e = Exec(Ops({OpCode::PUSHM1, OpCode::PUSH0, OpCode::PUSH16, OpCode::PUSHT, OpCode::PUSHF, OpCode::PUSHNULL}));
  ASSERT_EQ(e.state(), VmState::kHalt);
  ASSERT_EQ(e.result_stack().size(), 6u);
  EXPECT_EQ(IntAt(e, 0), -1);
  EXPECT_EQ(IntAt(e, 1), 0);
  EXPECT_EQ(IntAt(e, 2), 16);
  EXPECT_TRUE(BoolAt(e, 3));
  EXPECT_FALSE(BoolAt(e, 4));
  EXPECT_TRUE(e.result_stack()[5]->IsNull());
}

TEST(DevchainVm, PushDataAllWidths) {
  std::vector<uint8_t> big(300, 0xAB);
  neo::ScriptBuilder sb;
  sb.EmitPushBytes(std::vector<uint8_t>{1, 2, 3}).EmitPushBytes(big);
  std::vector<uint8_t> script = sb.Take();
  // PUSHDATA4 with a 2-byte payload.
  for (uint8_t b : {0x0E, 0x02, 0x00, 0x00, 0x00, 0x07, 0x08}) script.push_back(b);
  Engine e = Exec(script);
  ASSERT_EQ(e.state(), VmState::kHalt) << e.exception().value_or("");
  EXPECT_EQ(*e.result_stack()[0]->GetBytes(), (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(*e.result_stack()[1]->GetBytes(), big);
  EXPECT_EQ(*e.result_stack()[2]->GetBytes(), (std::vector<uint8_t>{7, 8}));
}

TEST(DevchainVm, TruncatedInstructionsFault) {
  for (const auto& script : std::vector<std::vector<uint8_t>>{{0x0C, 0x05, 1, 2},
                                                              {0x0C},
                                                              {0x0D, 0x01},
                                                              {0x0E, 0xFF, 0xFF, 0xFF, 0xFF, 0},
                                                              {0x01, 0x00},
                                                              {0x22},
                                                              {0x41, 1, 2}}) {
    Engine e = Exec(script);
    EXPECT_EQ(e.state(), VmState::kFault);
    EXPECT_NE(e.exception().value_or("").find("truncated"), std::string::npos) << e.exception().value_or("");
  }
}

TEST(DevchainVm, JumpsTakeAndSkipAndValidateTargets) {
  // PUSHT; JMPIF +3 → PUSH2 (skipping PUSH1).
  Engine taken = Exec({0x08, 0x24, 0x03, 0x11, 0x12});
  ASSERT_EQ(taken.state(), VmState::kHalt);
  ASSERT_EQ(taken.result_stack().size(), 1u);
  EXPECT_EQ(IntAt(taken, 0), 2);
  Engine not_taken = Exec({0x08, 0x26, 0x03, 0x11, 0x12});  // JMPIFNOT
  ASSERT_EQ(not_taken.state(), VmState::kHalt);
  EXPECT_EQ(not_taken.result_stack().size(), 2u);
  // PUSH3; loop: DEC DUP JMPIF_L -2 → counts down to 0.
  Engine loop = Exec({0x13, 0x9D, 0x4A, 0x25, 0xFE, 0xFF, 0xFF, 0xFF});
  ASSERT_EQ(loop.state(), VmState::kHalt) << loop.exception().value_or("");
  ASSERT_EQ(loop.result_stack().size(), 1u);
  EXPECT_EQ(IntAt(loop, 0), 0);
  Engine out = Exec({0x22, 0x7F, 0x21});
  EXPECT_EQ(out.state(), VmState::kFault);
  EXPECT_EQ(out.exception(), "Jump out of range for position: 127");
  Engine to_end = Exec({0x22, 0x02});  // the script's length is no valid target
  EXPECT_EQ(to_end.state(), VmState::kFault);
  Engine back = Exec({0x21, 0x22, 0xFE});
  EXPECT_EQ(back.state(), VmState::kFault);
}

TEST(DevchainVm, StackOperations) {
  // 1 2 3 4 → OVER → 1 2 3 4 3 → ROT → 1 2 4 3 3 → SWAP (no-op on equal) → NIP → 1 2 4 3
  // → PUSH3 PICK → 1 2 4 3 1 → REVERSE3 → 1 2 1 3 4 → DROP → 1 2 1 3 → DUP → … 3 3 → DEPTH → 6
  Engine e =
      Exec(Ops({OpCode::PUSH1, OpCode::PUSH2, OpCode::PUSH3, OpCode::PUSH4, OpCode::OVER, OpCode::ROT, OpCode::SWAP,
                OpCode::NIP, OpCode::PUSH3, OpCode::PICK, OpCode::REVERSE3, OpCode::DROP, OpCode::DUP, OpCode::DEPTH}));
  ASSERT_EQ(e.state(), VmState::kHalt) << e.exception().value_or("");
  std::vector<int64_t> got;
  for (size_t i = 0; i < e.result_stack().size(); ++i) got.push_back(IntAt(e, i));
  EXPECT_EQ(got, (std::vector<int64_t>{1, 2, 1, 3, 3, 5}));
  Engine swapped = Exec(Ops({OpCode::PUSH1, OpCode::PUSH2, OpCode::SWAP}));
  ASSERT_EQ(swapped.result_stack().size(), 2u);
  EXPECT_EQ(IntAt(swapped, 0), 2);
  EXPECT_EQ(IntAt(swapped, 1), 1);
  EXPECT_EQ(Exec(Ops({OpCode::PUSH1, OpCode::SWAP})).state(), VmState::kFault);
  EXPECT_EQ(Exec(Ops({OpCode::DROP})).exception(), "stack underflow");
  EXPECT_EQ(Exec(Ops({OpCode::PUSH1, OpCode::PUSHM1, OpCode::PICK})).state(), VmState::kFault);
}

TEST(DevchainVm, ArraysAndStructs) {
  // PUSH3 PUSH2 PUSH1 PUSH3 PACK → [1,2,3]; DUP PUSH4 APPEND; DUP SIZE; OVER PUSH0 PICKITEM
  Engine e =
      Exec(Ops({OpCode::PUSH3, OpCode::PUSH2, OpCode::PUSH1, OpCode::PUSH3, OpCode::PACK, OpCode::DUP, OpCode::PUSH4,
                OpCode::APPEND, OpCode::DUP, OpCode::SIZE, OpCode::OVER, OpCode::PUSH3, OpCode::PICKITEM}));
  ASSERT_EQ(e.state(), VmState::kHalt) << e.exception().value_or("");
  ASSERT_EQ(e.result_stack().size(), 3u);
  const auto& array = e.result_stack()[0];
  ASSERT_EQ(array->type(), StackItemType::kArray);
  ASSERT_EQ(array->items().size(), 4u);
  EXPECT_EQ(*array->items()[0]->GetInteger()->ToInt64(), 1);
  EXPECT_EQ(*array->items()[3]->GetInteger()->ToInt64(), 4);
  EXPECT_EQ(IntAt(e, 1), 4);
  EXPECT_EQ(IntAt(e, 2), 4);

  Engine unpack = Exec(Ops({OpCode::PUSH2, OpCode::PUSH1, OpCode::PUSH2, OpCode::PACK, OpCode::UNPACK}));
  ASSERT_EQ(unpack.state(), VmState::kHalt);
  ASSERT_EQ(unpack.result_stack().size(), 3u);
  EXPECT_EQ(IntAt(unpack, 0), 2);
  EXPECT_EQ(IntAt(unpack, 1), 1);
  EXPECT_EQ(IntAt(unpack, 2), 2);

  Engine fresh = Exec(Ops({OpCode::PUSH2, OpCode::NEWARRAY, OpCode::NEWARRAY0, OpCode::NEWSTRUCT0}));
  ASSERT_EQ(fresh.state(), VmState::kHalt);
  EXPECT_EQ(fresh.result_stack()[0]->items().size(), 2u);
  EXPECT_TRUE(fresh.result_stack()[0]->items()[1]->IsNull());
  EXPECT_EQ(fresh.result_stack()[2]->type(), StackItemType::kStruct);

  // Appending a struct appends a copy: changing the original later does not show in the array.
  Engine copy = Exec(Ops({OpCode::NEWARRAY0, OpCode::NEWSTRUCT0, OpCode::OVER, OpCode::OVER, OpCode::APPEND,
                          OpCode::PUSH1, OpCode::APPEND}));
  ASSERT_EQ(copy.state(), VmState::kHalt) << copy.exception().value_or("");
  ASSERT_EQ(copy.result_stack()[0]->items().size(), 1u);
  EXPECT_TRUE(copy.result_stack()[0]->items()[0]->items().empty());

  Engine range = Exec(Ops({OpCode::NEWARRAY0, OpCode::PUSH0, OpCode::PICKITEM}));
  EXPECT_EQ(range.exception(), "The value 0 is out of range.");
  EXPECT_EQ(Exec(Ops({OpCode::PUSH5, OpCode::PACK})).state(), VmState::kFault);
}

TEST(DevchainVm, StackOverflowPast2048Faults) {
  std::vector<uint8_t> full(kMaxStackSize, neo::ToByte(OpCode::PUSH0));
  EXPECT_EQ(Exec(full).state(), VmState::kHalt);
  full.push_back(neo::ToByte(OpCode::PUSH0));
  Engine over = Exec(full);
  EXPECT_EQ(over.state(), VmState::kFault);
  EXPECT_EQ(over.exception(), "MaxStackSize exceed: 2049/2048");
  // Items inside arrays count too: an array of 2048 items plus its stack slot is 2049.
  Engine nested = Exec(Concat({BigPush("2048"), Ops({OpCode::NEWARRAY})}));
  EXPECT_EQ(nested.state(), VmState::kFault);
  EXPECT_EQ(Exec(Concat({BigPush("2047"), Ops({OpCode::NEWARRAY})})).state(), VmState::kHalt);
}

TEST(DevchainVm, ArithmeticAndComparisons) {
  Engine e =
      Exec(Ops({OpCode::PUSH5, OpCode::PUSH3, OpCode::SUB, OpCode::PUSH7, OpCode::MUL, OpCode::INC, OpCode::PUSHM1,
                OpCode::ADD, OpCode::DEC, OpCode::NEGATE, OpCode::DUP, OpCode::ABS, OpCode::OVER, OpCode::SIGN}));
  ASSERT_EQ(e.state(), VmState::kHalt) << e.exception().value_or("");
  EXPECT_EQ(IntAt(e, 0), -13);
  EXPECT_EQ(IntAt(e, 1), 13);
  EXPECT_EQ(IntAt(e, 2), -1);

  struct Case {
    OpCode op;
    int64_t a, b;
    bool want;
  };
  for (const Case& c :
       {Case{OpCode::LT, 1, 2, true}, Case{OpCode::LT, 2, 2, false}, Case{OpCode::LE, 2, 2, true},
        Case{OpCode::GT, -1, -2, true}, Case{OpCode::GE, -3, -2, false}, Case{OpCode::NUMEQUAL, 4, 4, true},
        Case{OpCode::NUMNOTEQUAL, 4, 4, false}, Case{OpCode::EQUAL, 4, 4, true}, Case{OpCode::NOTEQUAL, 4, 5, true},
        Case{OpCode::BOOLAND, 1, 0, false}, Case{OpCode::BOOLOR, 1, 0, true}}) {
    neo::ScriptBuilder sb;
    sb.EmitPushInt(c.a).EmitPushInt(c.b).Emit(c.op);
    Engine r = Exec(sb.Take());
    ASSERT_EQ(r.state(), VmState::kHalt) << static_cast<int>(c.op);
    EXPECT_EQ(BoolAt(r, 0), c.want) << static_cast<int>(c.op) << " " << c.a << " " << c.b;
  }
  // LT with Null is false rather than a fault; EQUAL across types is false.
  EXPECT_FALSE(BoolAt(Exec(Ops({OpCode::PUSHNULL, OpCode::PUSH1, OpCode::LT})), 0));
  EXPECT_FALSE(BoolAt(Exec(Ops({OpCode::PUSHT, OpCode::PUSH1, OpCode::EQUAL})), 0));
  EXPECT_TRUE(BoolAt(Exec(Ops({OpCode::PUSHT, OpCode::PUSH1, OpCode::NUMEQUAL})), 0));
  EXPECT_FALSE(BoolAt(Exec(Ops({OpCode::NEWARRAY0, OpCode::NEWARRAY0, OpCode::EQUAL})), 0));
  EXPECT_TRUE(BoolAt(Exec(Ops({OpCode::NEWSTRUCT0, OpCode::NEWSTRUCT0, OpCode::EQUAL})), 0));
  EXPECT_TRUE(BoolAt(Exec(Ops({OpCode::PUSH0, OpCode::NOT})), 0));
  EXPECT_FALSE(BoolAt(Exec(Ops({OpCode::PUSH0, OpCode::NZ})), 0));
  EXPECT_TRUE(BoolAt(Exec(Ops({OpCode::PUSHNULL, OpCode::ISNULL})), 0));
  EXPECT_EQ(Exec(Ops({OpCode::PUSHNULL, OpCode::PUSH1, OpCode::ADD})).state(), VmState::kFault);
}

TEST(DevchainVm, ByteStringConversions) {
  // FF → -1; 00 00 is false; a 33-byte string is no Integer.
  Engine minus_one = Exec({0x0C, 0x01, 0xFF, 0x10, 0x9E});
  ASSERT_EQ(minus_one.state(), VmState::kHalt);
  EXPECT_EQ(IntAt(minus_one, 0), -1);
  EXPECT_TRUE(BoolAt(Exec({0x0C, 0x02, 0x00, 0x00, 0xAA}), 0));
  EXPECT_EQ(IntAt(Exec({0x0C, 0x03, 0x00, 0x00, 0x00, 0xCA}), 0), 3);  // SIZE
  std::vector<uint8_t> wide = {0x0C, 33};
  wide.insert(wide.end(), 33, 0x01);
  EXPECT_EQ(Exec(Concat({wide, Ops({OpCode::PUSH0, OpCode::ADD})})).state(), VmState::kFault);
  EXPECT_EQ(Exec(Concat({wide, Ops({OpCode::NOT})})).state(), VmState::kFault);
  EXPECT_TRUE(BoolAt(Exec({0x0C, 0x01, 0x05, 0x15, 0x97}), 0) == false);  // ByteString 05 vs Integer 5
}

TEST(DevchainVm, Convert) {
  constexpr uint8_t kConvert = 0xDB;
  // Integer 0x1234 → ByteString 34 12 → Integer → Boolean.
  Engine chain = Exec({0x01, 0x34, 0x12, kConvert, 0x28, 0x4A, kConvert, 0x21, 0x4A, kConvert, 0x20});
  ASSERT_EQ(chain.state(), VmState::kHalt) << chain.exception().value_or("");
  ASSERT_EQ(chain.result_stack().size(), 3u);
  EXPECT_EQ(chain.result_stack()[0]->type(), StackItemType::kByteString);
  EXPECT_EQ(*chain.result_stack()[0]->GetBytes(), (std::vector<uint8_t>{0x34, 0x12}));
  EXPECT_EQ(chain.result_stack()[1]->type(), StackItemType::kInteger);
  EXPECT_EQ(IntAt(chain, 1), 0x1234);
  EXPECT_TRUE(BoolAt(chain, 2));
  // PUSHT → ByteString 01; Array → Struct; Null stays Null; Integer → Buffer is outside the subset.
  EXPECT_EQ(*Exec({0x08, kConvert, 0x28}).result_stack()[0]->GetBytes(), (std::vector<uint8_t>{1}));
  EXPECT_EQ(Exec({0xC2, kConvert, 0x41}).result_stack()[0]->type(), StackItemType::kStruct);
  EXPECT_TRUE(Exec({0x0B, kConvert, 0x21}).result_stack()[0]->IsNull());
  EXPECT_TRUE(Exec({0x0B, kConvert, 0x30}).result_stack()[0]->IsNull());
  EXPECT_EQ(Exec({0x0B, kConvert, 0x00}).state(), VmState::kFault);
  EXPECT_EQ(Exec({0x11, kConvert, 0x30}).state(), VmState::kFault);
  EXPECT_EQ(Exec({0xC2, kConvert, 0x21}).state(), VmState::kFault);
  EXPECT_EQ(Exec({0x11, kConvert}).state(), VmState::kFault);  // truncated operand
  // PICKITEM on a ByteString reads a byte; a negative index is out of range.
  EXPECT_EQ(IntAt(Exec({0x0C, 0x02, 0x07, 0xF0, 0x11, 0xCE}), 0), 0xF0);
  EXPECT_EQ(Exec(Ops({OpCode::NEWARRAY0, OpCode::PUSHM1, OpCode::PICKITEM})).exception(),
            "The value -1 is out of range.");
}

TEST(DevchainVm, ArithmeticOverflowPast32BytesFaults) {
  const auto max = BigPush(kMaxInt256);
  const auto min = BigPush(kMinInt256);
  EXPECT_EQ(Exec(Concat({max, Ops({OpCode::INC})})).state(), VmState::kFault);
  EXPECT_EQ(Exec(Concat({max, Ops({OpCode::PUSH1, OpCode::ADD})})).state(), VmState::kFault);
  EXPECT_EQ(Exec(Concat({min, Ops({OpCode::DEC})})).state(), VmState::kFault);
  EXPECT_EQ(Exec(Concat({min, Ops({OpCode::PUSH1, OpCode::SUB})})).state(), VmState::kFault);
  EXPECT_EQ(Exec(Concat({min, Ops({OpCode::NEGATE})})).state(), VmState::kFault);
  EXPECT_EQ(Exec(Concat({min, Ops({OpCode::ABS})})).state(), VmState::kFault);
  EXPECT_EQ(Exec(Concat({max, Ops({OpCode::PUSH2, OpCode::MUL})})).state(), VmState::kFault);
  // 2^128 × 2^127 = 2^255 overflows; -2^128 × 2^127 = -2^255 is the minimum and fits.
  const auto two128 = BigPush("340282366920938463463374607431768211456");
  const auto minus_two128 = BigPush("-340282366920938463463374607431768211456");
  const auto two127 = BigPush("170141183460469231731687303715884105728");
  EXPECT_EQ(Exec(Concat({two128, two127, Ops({OpCode::MUL})})).state(), VmState::kFault);
  Engine fits = Exec(Concat({minus_two128, two127, Ops({OpCode::MUL})}));
  ASSERT_EQ(fits.state(), VmState::kHalt);
  EXPECT_EQ(fits.result_stack()[0]->GetInteger()->ToLe(), neo::BigInteger::FromDecimal(kMinInt256)->le_bytes());
  // In range at the edges.
  Engine edge = Exec(Concat({max, Ops({OpCode::DEC, OpCode::INC})}));
  ASSERT_EQ(edge.state(), VmState::kHalt);
  EXPECT_EQ(edge.result_stack()[0]->GetInteger()->ToLe(), neo::BigInteger::FromDecimal(kMaxInt256)->le_bytes());
  Engine product = Exec(Concat({BigPush("-3037000499"), BigPush("3037000499"), Ops({OpCode::MUL})}));
  EXPECT_EQ(IntAt(product, 0), -9223372030926249001);
}

TEST(DevchainVm, GasIsChargedPerOpcodeTimesFactor) {
  Engine e = Exec(Ops({OpCode::PUSH1, OpCode::PUSH2, OpCode::ADD}));
  ASSERT_EQ(e.state(), VmState::kHalt);
  const int64_t expected =
      (neo::OpCodePrice(OpCode::PUSH1) + neo::OpCodePrice(OpCode::PUSH2) + neo::OpCodePrice(OpCode::ADD)) * kFactor;
  EXPECT_EQ(e.gas_consumed(), expected);
  EXPECT_EQ(e.gas_consumed(), 300);  // (1 + 1 + 8) × 30
  // PUSHDATA1 (8) + NEWARRAY0 (16) + PUSHINT128 (4) + RET (0) = 28 × 30.
  std::vector<uint8_t> script = {0x0C, 0x00, 0xC2, 0x04};
  script.insert(script.end(), 16, 0);
  script.push_back(0x40);
  EXPECT_EQ(Exec(script).gas_consumed(), 840);

  Engine exact = Exec(Ops({OpCode::PUSH1, OpCode::PUSH2, OpCode::ADD}), nullptr, 300);
  EXPECT_EQ(exact.state(), VmState::kHalt);
  Engine short_of_gas = Exec(Ops({OpCode::PUSH1, OpCode::PUSH2, OpCode::ADD}), nullptr, 299);
  EXPECT_EQ(short_of_gas.state(), VmState::kFault);
  EXPECT_EQ(short_of_gas.exception(), "Insufficient GAS.");
  EXPECT_TRUE(short_of_gas.result_stack().empty());
}

TEST(DevchainVm, OpCodeNamesMatchTheEnum) {
  EXPECT_EQ(OpCodeName(neo::ToByte(OpCode::PUSHINT8)), "PUSHINT8");
  EXPECT_EQ(OpCodeName(neo::ToByte(OpCode::SYSCALL)), "SYSCALL");
  EXPECT_EQ(OpCodeName(neo::ToByte(OpCode::JMPIFNOT_L)), "JMPIFNOT_L");
  EXPECT_EQ(OpCodeName(neo::ToByte(OpCode::ASSERTMSG)), "ASSERTMSG");
  EXPECT_EQ(OpCodeName(0x42), "");
}

TEST(DevchainVm, FaultMessages) {
  Engine call = Exec({0x11, 0x34, 0x00});
  EXPECT_EQ(call.state(), VmState::kFault);
  EXPECT_EQ(call.exception(), "opcode CALL (0x34) is not supported by the devchain VM");
  EXPECT_EQ(Exec({0xA1}).exception(), "opcode DIV (0xa1) is not supported by the devchain VM");
  EXPECT_EQ(Exec({0xFF}).exception(), "opcode 0xff is undefined");
  EXPECT_EQ(Exec(Ops({OpCode::PUSHF, OpCode::ASSERT})).exception(), "ASSERT is executed with false result.");
  EXPECT_EQ(Exec(Ops({OpCode::PUSHT, OpCode::ASSERT})).state(), VmState::kHalt);
  EXPECT_EQ(Exec(Ops({OpCode::ABORT})).exception(), "ABORT is executed.");
  neo::ScriptBuilder sb;
  sb.EmitPushString("boom").Emit(OpCode::THROW);
  EXPECT_EQ(Exec(sb.Take()).exception(), "An unhandled exception was thrown. boom");
  Engine sys = Exec({0x41, 0x78, 0x56, 0x34, 0x12});
  EXPECT_EQ(sys.exception(), "unknown syscall 0x12345678");
}

// Records a System.Contract.Call as Neo's handler would pop it and returns a canned result.
class MockContractCall : public SyscallHandler {
 public:
  explicit MockContractCall(StackItemPtr result) : result_(std::move(result)) {}

  StatusOr<int64_t> Price(uint32_t id) override {
    if (id != neo::kContractCallId) return NotFoundError("no such syscall");
    return int64_t{1} << 15;
  }
  Status Invoke(uint32_t id, Engine& engine) override {
    ++calls;
    last_id = id;
    ASSIGN_OR_RETURN(hash, engine.PopBytes());
    ASSIGN_OR_RETURN(std::vector<uint8_t> method_bytes, engine.PopBytes());
    method.assign(method_bytes.begin(), method_bytes.end());
    ASSIGN_OR_RETURN(Int256 flag_value, engine.PopInteger());
    flags = *flag_value.ToInt64();
    ASSIGN_OR_RETURN(args, engine.Pop());
    engine.Push(result_);
    return Status::Ok();
  }

  int calls = 0;
  uint32_t last_id = 0;
  std::vector<uint8_t> hash;
  std::string method;
  int64_t flags = -1;
  StackItemPtr args;

 private:
  StackItemPtr result_;
};

neo::UInt160 Hash(uint8_t fill) {
  std::array<uint8_t, 20> bytes{};
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(fill + i);
  return neo::UInt160(neo::FixedHash<20>(bytes));
}

TEST(DevchainVm, ContractCallReachesHandlerWithArguments) {
  neo::ScriptBuilder sb;
  sb.EmitContractCall(Hash(0x10), "balanceOf", neo::CallFlags::ReadOnly,
                      {neo::ContractParam::Hash160(Hash(0x40)), neo::ContractParam::Int(-7)});
  MockContractCall handler(StackItem::Integer(int64_t{12345}));
  Engine e = Exec(sb.Take(), &handler);
  ASSERT_EQ(e.state(), VmState::kHalt) << e.exception().value_or("");
  EXPECT_EQ(handler.calls, 1);
  EXPECT_EQ(handler.last_id, neo::kContractCallId);
  const neo::UInt160 contract = Hash(0x10);
  EXPECT_EQ(handler.hash, std::vector<uint8_t>(contract.span().begin(), contract.span().end()));
  EXPECT_EQ(handler.method, "balanceOf");
  EXPECT_EQ(handler.flags, static_cast<int64_t>(neo::CallFlags::ReadOnly));
  ASSERT_EQ(handler.args->type(), StackItemType::kArray);
  ASSERT_EQ(handler.args->items().size(), 2u);
  const neo::UInt160 account = Hash(0x40);
  EXPECT_EQ(*handler.args->items()[0]->GetBytes(), std::vector<uint8_t>(account.span().begin(), account.span().end()));
  EXPECT_EQ(*handler.args->items()[1]->GetInteger()->ToInt64(), -7);
  ASSERT_EQ(e.result_stack().size(), 1u);
  EXPECT_EQ(IntAt(e, 0), 12345);
  // The syscall's price is charged × factor on top of the opcodes.
  EXPECT_GE(e.gas_consumed(), (int64_t{1} << 15) * kFactor);

  neo::ScriptBuilder none;
  none.EmitContractCall(Hash(0x10), "symbol", neo::CallFlags::ReadOnly, {});
  MockContractCall empty_handler(StackItem::Null());
  Engine no_args = Exec(none.Take(), &empty_handler);
  ASSERT_EQ(no_args.state(), VmState::kHalt);
  EXPECT_TRUE(empty_handler.args->items().empty());
}

std::vector<uint8_t> TransferThenAssert() {
  neo::ScriptBuilder sb;
  EXPECT_TRUE(sb.Nep17Transfer(Hash(0x01), Hash(0x21), Hash(0x41), neo::ContractParam::Int(100000000)).ok());
  sb.Emit(OpCode::ASSERT);  // neo's Wallet.MakeTransaction appends ASSERT after each transfer
  return sb.Take();
}

TEST(DevchainVm, Nep17TransferWithAssert) {
  MockContractCall ok(StackItem::Boolean(true));
  Engine success = Exec(TransferThenAssert(), &ok);
  ASSERT_EQ(success.state(), VmState::kHalt) << success.exception().value_or("");
  EXPECT_TRUE(success.result_stack().empty());
  EXPECT_EQ(ok.method, "transfer");
  EXPECT_EQ(ok.flags, static_cast<int64_t>(neo::CallFlags::All));
  ASSERT_EQ(ok.args->items().size(), 4u);
  EXPECT_EQ(*ok.args->items()[2]->GetInteger()->ToInt64(), 100000000);
  EXPECT_TRUE(ok.args->items()[3]->IsNull());

  MockContractCall refused(StackItem::Boolean(false));
  Engine failure = Exec(TransferThenAssert(), &refused);
  EXPECT_EQ(failure.state(), VmState::kFault);
  EXPECT_EQ(failure.exception(), "ASSERT is executed with false result.");
  EXPECT_EQ(refused.calls, 1);

  // An id the handler does not serve, and a handler error, FAULT with their messages.
  MockContractCall other(StackItem::Null());
  EXPECT_EQ(Exec({0x41, 0x56, 0xE7, 0xB3, 0x27}, &other).exception(), "unknown syscall 0x27b3e756");
  EXPECT_EQ(other.calls, 0);
  neo::ScriptBuilder bad;
  bad.EmitPushInt(1).EmitSysCallId(neo::kContractCallId);  // too few arguments for the handler
  Engine underflow = Exec(bad.Take(), &other);
  EXPECT_EQ(underflow.state(), VmState::kFault);
  EXPECT_EQ(underflow.exception(), "stack underflow");
  EXPECT_EQ(other.calls, 1);

  // Not enough GAS for the syscall's price: the handler is never invoked.
  MockContractCall unpaid(StackItem::Boolean(true));
  Engine poor = Exec(TransferThenAssert(), &unpaid, 10000);
  EXPECT_EQ(poor.exception(), "Insufficient GAS.");
  EXPECT_EQ(unpaid.calls, 0);
}

}  // namespace
}  // namespace neosl::devchain
