// ScriptBuilder: emits NeoVM scripts byte for byte as Neo's ScriptBuilder and its extension
// methods (Neo.VM/ScriptBuilder.cs, Neo/VM/Helper.cs) do, so the scripts we build hash and price
// exactly like the ones neo and neo-go build.
//
// Pushes of primitives have distinct names (EmitPushInt, EmitPushBool, …): with overloads a string
// literal would silently pick the bool one.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "neo/contract_param.h"
#include "neo/opcode.h"
#include "neo/uint.h"

namespace neosl::crypto {
class PublicKey;
}

namespace neosl::neo {

// Neo's CallFlags (src/Neo/SmartContract/CallFlags.cs).
enum class CallFlags : uint8_t {
  None = 0,
  ReadStates = 0b0001,
  WriteStates = 0b0010,
  AllowCall = 0b0100,
  AllowNotify = 0b1000,
  States = ReadStates | WriteStates,
  ReadOnly = ReadStates | AllowCall,
  All = States | AllowCall | AllowNotify,
};

class ScriptBuilder {
 public:
  // The opcode followed by the operand bytes as given (no length prefix added).
  ScriptBuilder& Emit(OpCode op, std::span<const uint8_t> operand = {});
  ScriptBuilder& EmitRaw(std::span<const uint8_t> bytes);

  // -1…16 → PUSHM1…PUSH16; otherwise PUSHINT8/16/32/64/128/256, the narrowest that holds the
  // value, sign-extended.
  ScriptBuilder& EmitPushInt(int64_t value);
  ScriptBuilder& EmitPushInteger(const BigInteger& value);
  // A little-endian two's-complement integer of any length; INVALID_ARGUMENT past 256 bits.
  Status EmitPushInteger(std::span<const uint8_t> le_twos_complement);
  // PUSHT / PUSHF (N3; Neo 2 used PUSH1 / PUSH0).
  ScriptBuilder& EmitPushBool(bool value);
  // PUSHDATA1 below 0x100 bytes (an empty push is PUSHDATA1 00), PUSHDATA2 below 0x10000, else PUSHDATA4.
  ScriptBuilder& EmitPushBytes(std::span<const uint8_t> data);
  ScriptBuilder& EmitPushString(std::string_view utf8);
  ScriptBuilder& EmitPushNull();
  ScriptBuilder& EmitPush(const UInt160& hash);           // 20 bytes, wire order
  ScriptBuilder& EmitPush(const UInt256& hash);           // 32 bytes, wire order
  ScriptBuilder& EmitPush(const crypto::PublicKey& key);  // 33-byte compressed point
  // As Neo's EmitPush(ContractParameter): null → PUSHNULL; arrays push their items in reverse,
  // then the count, then PACK.
  ScriptBuilder& EmitPush(const ContractParam& param);

  ScriptBuilder& EmitSysCall(std::string_view interop_name);
  ScriptBuilder& EmitSysCallId(uint32_t interop_id);

  // Neo's EmitDynamicCall: the arguments as an array (NEWARRAY0 when there are none, else each
  // argument in reverse order, the count, PACK), then the call flags, the method name, the
  // contract hash, and SYSCALL System.Contract.Call.
  ScriptBuilder& EmitContractCall(const UInt160& contract, std::string_view method, CallFlags flags,
                                  const std::vector<ContractParam>& args);

  // contract.transfer(from, to, amount, data) with CallFlags::All, as neo's and neo-go's wallets
  // emit it. `amount` must be a non-negative Integer (INVALID_ARGUMENT otherwise).
  Status Nep17Transfer(const UInt160& token, const UInt160& from, const UInt160& to, const ContractParam& amount,
                       const ContractParam& data = ContractParam::Null());

  const std::vector<uint8_t>& data() const { return script_; }
  std::vector<uint8_t> Take() { return std::move(script_); }
  size_t size() const { return script_.size(); }

 private:
  // Pushes an already-minimal encoding of at most 32 bytes.
  ScriptBuilder& PushMinimalInteger(std::span<const uint8_t> minimal);
  std::vector<uint8_t> script_;
};

}  // namespace neosl::neo
