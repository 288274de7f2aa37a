#include "neo/script_builder.h"

#include <algorithm>
#include <array>
#include <variant>

#include "crypto/p256.h"
#include "neo/interop.h"

namespace neosl::neo {

ScriptBuilder& ScriptBuilder::Emit(OpCode op, std::span<const uint8_t> operand) {
  script_.push_back(ToByte(op));
  script_.insert(script_.end(), operand.begin(), operand.end());
  return *this;
}

ScriptBuilder& ScriptBuilder::EmitRaw(std::span<const uint8_t> bytes) {
  script_.insert(script_.end(), bytes.begin(), bytes.end());
  return *this;
}

ScriptBuilder& ScriptBuilder::PushMinimalInteger(std::span<const uint8_t> minimal) {
  // Small values have one-byte opcodes: PUSHM1 (0x0F), PUSH0 (0x10) … PUSH16 (0x20).
  if (minimal.empty()) return Emit(OpCode::PUSH0);
  if (minimal.size() == 1 && (minimal[0] <= 16 || minimal[0] == 0xFF)) {
    return Emit(minimal[0] == 0xFF ? OpCode::PUSHM1 : static_cast<OpCode>(ToByte(OpCode::PUSH0) + minimal[0]));
  }
  static constexpr std::array<std::pair<size_t, OpCode>, 6> kWidths = {{{1, OpCode::PUSHINT8},
                                                                        {2, OpCode::PUSHINT16},
                                                                        {4, OpCode::PUSHINT32},
                                                                        {8, OpCode::PUSHINT64},
                                                                        {16, OpCode::PUSHINT128},
                                                                        {32, OpCode::PUSHINT256}}};
  const uint8_t pad = (minimal.back() & 0x80) != 0 ? 0xFF : 0x00;
  for (const auto& [width, op] : kWidths) {
    if (minimal.size() > width) continue;
    script_.push_back(ToByte(op));
    script_.insert(script_.end(), minimal.begin(), minimal.end());
    script_.insert(script_.end(), width - minimal.size(), pad);
    return *this;
  }
  return *this;  // unreachable: callers pass at most 32 bytes
}

ScriptBuilder& ScriptBuilder::EmitPushInt(int64_t value) {
  return EmitPushInteger(BigInteger::FromInt64(value));
}

ScriptBuilder& ScriptBuilder::EmitPushInteger(const BigInteger& value) {
  return PushMinimalInteger(value.le_bytes());
}

Status ScriptBuilder::EmitPushInteger(std::span<const uint8_t> le_twos_complement) {
  std::vector<uint8_t> minimal = MinimalTwosComplement(le_twos_complement);
  if (minimal.size() > 32) return InvalidArgumentError("integer is wider than NeoVM's 256 bits");
  PushMinimalInteger(minimal);
  return Status::Ok();
}

ScriptBuilder& ScriptBuilder::EmitPushBool(bool value) {
  return Emit(value ? OpCode::PUSHT : OpCode::PUSHF);
}

ScriptBuilder& ScriptBuilder::EmitPushBytes(std::span<const uint8_t> data) {
  const size_t n = data.size();
  if (n < 0x100) {
    script_.push_back(ToByte(OpCode::PUSHDATA1));
    script_.push_back(static_cast<uint8_t>(n));
  } else if (n < 0x10000) {
    script_.push_back(ToByte(OpCode::PUSHDATA2));
    for (int i = 0; i < 2; ++i) script_.push_back(static_cast<uint8_t>(n >> (8 * i)));
  } else {
    script_.push_back(ToByte(OpCode::PUSHDATA4));
    for (int i = 0; i < 4; ++i) script_.push_back(static_cast<uint8_t>(n >> (8 * i)));
  }
  return EmitRaw(data);
}

ScriptBuilder& ScriptBuilder::EmitPushString(std::string_view utf8) {
  return EmitPushBytes(std::span(reinterpret_cast<const uint8_t*>(utf8.data()), utf8.size()));
}

ScriptBuilder& ScriptBuilder::EmitPushNull() {
  return Emit(OpCode::PUSHNULL);
}

ScriptBuilder& ScriptBuilder::EmitPush(const UInt160& hash) {
  return EmitPushBytes(hash.span());
}

ScriptBuilder& ScriptBuilder::EmitPush(const UInt256& hash) {
  return EmitPushBytes(hash.span());
}

ScriptBuilder& ScriptBuilder::EmitPush(const crypto::PublicKey& key) {
  auto compressed = key.Compressed();
  return EmitPushBytes(std::span<const uint8_t>(compressed));
}

ScriptBuilder& ScriptBuilder::EmitPush(const ContractParam& param) {
  struct Visitor {
    ScriptBuilder& sb;
    void operator()(std::monostate) const { sb.EmitPushNull(); }
    void operator()(bool b) const { sb.EmitPushBool(b); }
    void operator()(const BigInteger& i) const { sb.EmitPushInteger(i); }
    void operator()(const std::vector<uint8_t>& bytes) const { sb.EmitPushBytes(bytes); }
    void operator()(const std::string& s) const { sb.EmitPushString(s); }
    void operator()(const UInt160& h) const { sb.EmitPush(h); }
    void operator()(const UInt256& h) const { sb.EmitPush(h); }
    void operator()(const PublicKeyBytes& key) const { sb.EmitPushBytes(key); }
    void operator()(const std::vector<ContractParam>& items) const {
      // Neo's EmitPush(ContractParameter) packs even an empty array as PUSH0 PACK.
      for (auto it = items.rbegin(); it != items.rend(); ++it) sb.EmitPush(*it);
      sb.EmitPushInt(static_cast<int64_t>(items.size()));
      sb.Emit(OpCode::PACK);
    }
  };
  std::visit(Visitor{*this}, param.value());
  return *this;
}

ScriptBuilder& ScriptBuilder::EmitSysCall(std::string_view interop_name) {
  return EmitSysCallId(InteropId(interop_name));
}

ScriptBuilder& ScriptBuilder::EmitSysCallId(uint32_t interop_id) {
  const std::array<uint8_t, 4> le = {static_cast<uint8_t>(interop_id), static_cast<uint8_t>(interop_id >> 8),
                                     static_cast<uint8_t>(interop_id >> 16), static_cast<uint8_t>(interop_id >> 24)};
  return Emit(OpCode::SYSCALL, le);
}

ScriptBuilder& ScriptBuilder::EmitContractCall(const UInt160& contract, std::string_view method, CallFlags flags,
                                               const std::vector<ContractParam>& args) {
  if (args.empty()) {
    Emit(OpCode::NEWARRAY0);
  } else {
    for (auto it = args.rbegin(); it != args.rend(); ++it) EmitPush(*it);
    EmitPushInt(static_cast<int64_t>(args.size()));
    Emit(OpCode::PACK);
  }
  EmitPushInt(static_cast<int64_t>(flags));
  EmitPushString(method);
  EmitPush(contract);
  return EmitSysCallId(kContractCallId);
}

Status ScriptBuilder::Nep17Transfer(const UInt160& token, const UInt160& from, const UInt160& to,
                                    const ContractParam& amount, const ContractParam& data) {
  const auto* value = std::get_if<BigInteger>(&amount.value());
  if (amount.type() != ContractParamType::Integer || value == nullptr) {
    return InvalidArgumentError("NEP-17 transfer amount must be an Integer");
  }
  if (value->negative()) return InvalidArgumentError("NEP-17 transfer amount must not be negative");
  EmitContractCall(token, "transfer", CallFlags::All,
                   {ContractParam::Hash160(from), ContractParam::Hash160(to), amount, data});
  return Status::Ok();
}

}  // namespace neosl::neo
