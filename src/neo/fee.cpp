#include "neo/fee.h"

#include <array>
#include <initializer_list>

#include "neo/account.h"
#include "neo/interop.h"
#include "neo/script_builder.h"

namespace neosl::neo {
namespace {

// ApplicationEngine.OpCodePrices.cs, grouped by price.
struct PriceGroup {
  int64_t price;
  std::initializer_list<OpCode> ops;
};
const PriceGroup kPriceGroups[] = {
    {1 << 0, {OpCode::PUSHINT8, OpCode::PUSHINT16, OpCode::PUSHINT32, OpCode::PUSHINT64, OpCode::PUSHT,  OpCode::PUSHF,
              OpCode::PUSHNULL, OpCode::PUSHM1,    OpCode::PUSH0,     OpCode::PUSH1,     OpCode::PUSH2,  OpCode::PUSH3,
              OpCode::PUSH4,    OpCode::PUSH5,     OpCode::PUSH6,     OpCode::PUSH7,     OpCode::PUSH8,  OpCode::PUSH9,
              OpCode::PUSH10,   OpCode::PUSH11,    OpCode::PUSH12,    OpCode::PUSH13,    OpCode::PUSH14, OpCode::PUSH15,
              OpCode::PUSH16,   OpCode::NOP,       OpCode::ASSERT,    OpCode::ASSERTMSG}},
    {1 << 1, {OpCode::JMP,     OpCode::JMP_L,   OpCode::JMPIF,   OpCode::JMPIF_L,  OpCode::JMPIFNOT, OpCode::JMPIFNOT_L,
              OpCode::JMPEQ,   OpCode::JMPEQ_L, OpCode::JMPNE,   OpCode::JMPNE_L,  OpCode::JMPGT,    OpCode::JMPGT_L,
              OpCode::JMPGE,   OpCode::JMPGE_L, OpCode::JMPLT,   OpCode::JMPLT_L,  OpCode::JMPLE,    OpCode::JMPLE_L,
              OpCode::DEPTH,   OpCode::DROP,    OpCode::NIP,     OpCode::DUP,      OpCode::OVER,     OpCode::PICK,
              OpCode::TUCK,    OpCode::SWAP,    OpCode::ROT,     OpCode::REVERSE3, OpCode::REVERSE4, OpCode::LDSFLD0,
              OpCode::LDSFLD1, OpCode::LDSFLD2, OpCode::LDSFLD3, OpCode::LDSFLD4,  OpCode::LDSFLD5,  OpCode::LDSFLD6,
              OpCode::LDSFLD,  OpCode::STSFLD0, OpCode::STSFLD1, OpCode::STSFLD2,  OpCode::STSFLD3,  OpCode::STSFLD4,
              OpCode::STSFLD5, OpCode::STSFLD6, OpCode::STSFLD,  OpCode::LDLOC0,   OpCode::LDLOC1,   OpCode::LDLOC2,
              OpCode::LDLOC3,  OpCode::LDLOC4,  OpCode::LDLOC5,  OpCode::LDLOC6,   OpCode::LDLOC,    OpCode::STLOC0,
              OpCode::STLOC1,  OpCode::STLOC2,  OpCode::STLOC3,  OpCode::STLOC4,   OpCode::STLOC5,   OpCode::STLOC6,
              OpCode::STLOC,   OpCode::LDARG0,  OpCode::LDARG1,  OpCode::LDARG2,   OpCode::LDARG3,   OpCode::LDARG4,
              OpCode::LDARG5,  OpCode::LDARG6,  OpCode::LDARG,   OpCode::STARG0,   OpCode::STARG1,   OpCode::STARG2,
              OpCode::STARG3,  OpCode::STARG4,  OpCode::STARG5,  OpCode::STARG6,   OpCode::STARG,    OpCode::ISNULL,
              OpCode::ISTYPE}},
    {1 << 2,
     {OpCode::PUSHINT128, OpCode::PUSHINT256, OpCode::PUSHA, OpCode::TRY, OpCode::TRY_L, OpCode::ENDTRY,
      OpCode::ENDTRY_L, OpCode::ENDFINALLY, OpCode::INVERT, OpCode::SIGN, OpCode::ABS, OpCode::NEGATE, OpCode::INC,
      OpCode::DEC, OpCode::NOT, OpCode::NZ, OpCode::SIZE}},
    {1 << 3, {OpCode::PUSHDATA1, OpCode::AND,      OpCode::OR,          OpCode::XOR,    OpCode::ADD,   OpCode::SUB,
              OpCode::MUL,       OpCode::DIV,      OpCode::MOD,         OpCode::SHL,    OpCode::SHR,   OpCode::BOOLAND,
              OpCode::BOOLOR,    OpCode::NUMEQUAL, OpCode::NUMNOTEQUAL, OpCode::LT,     OpCode::LE,    OpCode::GT,
              OpCode::GE,        OpCode::MIN,      OpCode::MAX,         OpCode::WITHIN, OpCode::NEWMAP}},
    {1 << 4,
     {OpCode::XDROP, OpCode::CLEAR, OpCode::ROLL, OpCode::REVERSEN, OpCode::INITSSLOT, OpCode::NEWARRAY0,
      OpCode::NEWSTRUCT0, OpCode::KEYS, OpCode::REMOVE, OpCode::CLEARITEMS, OpCode::POPITEM}},
    {1 << 5, {OpCode::EQUAL, OpCode::NOTEQUAL, OpCode::MODMUL}},
    {1 << 6, {OpCode::INITSLOT, OpCode::POW, OpCode::SQRT, OpCode::HASKEY, OpCode::PICKITEM}},
    {1 << 8, {OpCode::NEWBUFFER}},
    {1 << 9,
     {OpCode::PUSHDATA2, OpCode::CALL, OpCode::CALL_L, OpCode::CALLA, OpCode::THROW, OpCode::NEWARRAY,
      OpCode::NEWARRAY_T, OpCode::NEWSTRUCT}},
    {1 << 11,
     {OpCode::MEMCPY, OpCode::CAT, OpCode::SUBSTR, OpCode::LEFT, OpCode::RIGHT, OpCode::MODPOW, OpCode::PACKMAP,
      OpCode::PACKSTRUCT, OpCode::PACK, OpCode::UNPACK}},
    {1 << 12, {OpCode::PUSHDATA4}},
    {1 << 13, {OpCode::VALUES, OpCode::APPEND, OpCode::SETITEM, OpCode::REVERSEITEMS, OpCode::CONVERT}},
    {1 << 15, {OpCode::CALLT}},
    // ABORT, ABORTMSG, RET and SYSCALL cost 0 (a syscall is priced by its interop descriptor).
};

std::array<int64_t, 256> BuildPriceTable() {
  std::array<int64_t, 256> table{};
  for (const auto& [price, ops] : kPriceGroups) {
    for (OpCode op : ops) table[ToByte(op)] = price;
  }
  return table;
}

// The price of the opcode Neo's ScriptBuilder would use to push `value`.
int64_t PushPrice(int64_t value) {
  ScriptBuilder sb;
  sb.EmitPushInt(value);
  return OpCodePrice(static_cast<OpCode>(sb.data()[0]));
}

size_t VarIntLength(uint64_t n) {
  return n < 0xFD ? 1 : n <= 0xFFFF ? 3 : n <= 0xFFFFFFFF ? 5 : 9;
}

StatusOr<VerificationScriptInfo> ParseStandard(std::span<const uint8_t> script) {
  auto info = ParseVerificationScript(script);
  if (!info.ok()) {
    return UnimplementedError("network fee needs a standard single-sig or multisig verification script (" +
                              std::string(info.status().message()) + ")");
  }
  return info;
}

}  // namespace

int64_t OpCodePrice(OpCode op) {
  static const std::array<int64_t, 256> kTable = BuildPriceTable();
  return kTable[ToByte(op)];
}

StatusOr<int64_t> NetworkFeeForWitness(std::span<const uint8_t> verification_script, int64_t exec_fee_factor) {
  if (exec_fee_factor <= 0) return InvalidArgumentError("exec fee factor must be positive");
  ASSIGN_OR_RETURN(VerificationScriptInfo info, ParseStandard(verification_script));
  const int64_t m = info.m, n = static_cast<int64_t>(info.keys.size());
  const int64_t push_data = OpCodePrice(OpCode::PUSHDATA1), syscall = OpCodePrice(OpCode::SYSCALL);
  int64_t cost = 0;
  if (info.kind == VerificationScriptInfo::Kind::kSingleSig) {
    cost = push_data * 2 + syscall + kCheckSigPrice;
  } else {
    cost = push_data * (m + n) + PushPrice(m) + PushPrice(n) + syscall + CheckMultisigPrice(static_cast<int>(n));
  }
  int64_t fee = 0;
  if (__builtin_mul_overflow(cost, exec_fee_factor, &fee)) return OutOfRangeError("network fee overflows int64");
  return fee;
}

StatusOr<size_t> WitnessSize(std::span<const uint8_t> verification_script) {
  ASSIGN_OR_RETURN(VerificationScriptInfo info, ParseStandard(verification_script));
  const size_t invocation = 66 * static_cast<size_t>(info.m);
  return VarIntLength(invocation) + invocation + VarIntLength(verification_script.size()) + verification_script.size();
}

StatusOr<int64_t> CalculateNetworkFee(size_t tx_size_with_witnesses,
                                      const std::vector<std::vector<uint8_t>>& verification_scripts,
                                      int64_t fee_per_byte, int64_t exec_fee_factor) {
  if (fee_per_byte < 0) return InvalidArgumentError("fee per byte must not be negative");
  int64_t total = 0;
  if (tx_size_with_witnesses > static_cast<size_t>(INT64_MAX) ||
      __builtin_mul_overflow(static_cast<int64_t>(tx_size_with_witnesses), fee_per_byte, &total)) {
    return OutOfRangeError("network fee overflows int64");
  }
  for (const std::vector<uint8_t>& script : verification_scripts) {
    ASSIGN_OR_RETURN(int64_t witness_fee, NetworkFeeForWitness(script, exec_fee_factor));
    if (__builtin_add_overflow(total, witness_fee, &total)) return OutOfRangeError("network fee overflows int64");
  }
  return total;
}

}  // namespace neosl::neo
