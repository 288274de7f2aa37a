// The devchain's NeoVM: runs the scripts wallets emit (pushes, stack shuffles, arrays, simple
// arithmetic and logic, jumps, SYSCALL) with Neo's semantics, limits and GAS prices. Any other
// opcode FAULTs with "opcode <NAME> (0x..) is not supported by the devchain VM".
//
// One script, one context: there is no CALL, TRY or slot, so RET (or running off the end of the
// script) moves the evaluation stack to the result stack and HALTs.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "devchain/vm/stack_item.h"
#include "neo/opcode.h"

namespace neosl::devchain {

enum class VmState { kNone, kHalt, kFault };

class Engine;

// Interop services. The engine asks Price first and charges Price × exec_fee_factor before
// Invoke; Invoke pops its arguments from the engine's stack and pushes its results. An error
// from either FAULTs the engine with the status message; Price answers NOT_FOUND for an id it
// does not serve.
class SyscallHandler {
 public:
  virtual ~SyscallHandler() = default;
  virtual StatusOr<int64_t> Price(uint32_t id) = 0;
  virtual Status Invoke(uint32_t id, Engine& engine) = 0;
  // The FAULT message for an id Price answered NOT_FOUND for (or for any SYSCALL without a
  // handler): "unknown syscall 0x…" unless the handler says otherwise.
  virtual std::string UnsupportedSyscallMessage(uint32_t id) const;
};

// Neo's opcode name ("PUSHDATA1"), or "" for a byte that is no opcode.
std::string_view OpCodeName(uint8_t op);

class Engine {
 public:
  // `syscalls` may be null (every SYSCALL then FAULTs) and must outlive Execute.
  Engine(std::span<const uint8_t> script, int64_t gas_limit_datoshi, int64_t exec_fee_factor, SyscallHandler* syscalls);

  // Runs to HALT or FAULT; later calls return the final state.
  VmState Execute();

  VmState state() const { return state_; }
  const std::vector<StackItemPtr>& result_stack() const { return result_; }
  // Datoshi charged so far, including the charge that went past the limit on "Insufficient GAS."
  // (as Neo's FeeConsumed).
  int64_t gas_consumed() const { return gas_consumed_; }
  int64_t gas_limit() const { return gas_limit_; }
  // Charges datoshi as they are (no ExecFeeFactor): what interop services and native contracts
  // cost beyond their syscall price. FAILED_PRECONDITION "Insufficient GAS." past the limit (the
  // charge still counts in gas_consumed, as Neo's FeeConsumed); INVALID_ARGUMENT if negative.
  Status AddGas(int64_t datoshi);
  const std::optional<std::string>& exception() const { return exception_; }

  // Evaluation stack, for syscall handlers. The pops fail on an empty stack or a wrong type.
  const std::vector<StackItemPtr>& stack() const { return stack_; }
  StatusOr<StackItemPtr> Pop();
  StatusOr<Int256> PopInteger();
  StatusOr<std::vector<uint8_t>> PopBytes();
  StatusOr<bool> PopBoolean();
  void Push(StackItemPtr item) { stack_.push_back(std::move(item)); }

 private:
  struct Instruction {
    neo::OpCode op;
    size_t size;                       // opcode + operand bytes
    std::span<const uint8_t> operand;  // without a PUSHDATA length prefix
  };

  StatusOr<Instruction> Decode(size_t position) const;
  Status AddFee(int64_t price);
  Status Step();
  Status ExecuteInstruction(const Instruction& ins);
  Status Jump(const Instruction& ins, bool condition_holds);
  Status PushBytes(std::span<const uint8_t> bytes);
  StatusOr<StackItemPtr> Peek(size_t depth) const;
  StatusOr<size_t> PopCount();
  Status CheckStackSize() const;
  void Return();

  std::vector<uint8_t> script_;
  int64_t gas_limit_;
  int64_t exec_fee_factor_;
  SyscallHandler* syscalls_;

  VmState state_ = VmState::kNone;
  size_t ip_ = 0;
  size_t next_ip_ = 0;
  int64_t gas_consumed_ = 0;
  std::optional<std::string> exception_;
  std::vector<StackItemPtr> stack_;
  std::vector<StackItemPtr> result_;
};

}  // namespace neosl::devchain
