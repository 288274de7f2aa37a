#include "devchain/vm/engine.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <unordered_set>
#include <utility>

#include "neo/fee.h"

namespace neosl::devchain {
namespace {

using neo::OpCode;

struct OpCodeEntry {
  uint8_t byte;
  std::string_view name;
};
// Generated from neo/opcode.h.
constexpr OpCodeEntry kOpCodeNames[] = {
    {0x00, "PUSHINT8"},   {0x01, "PUSHINT16"},  {0x02, "PUSHINT32"},    {0x03, "PUSHINT64"}, {0x04, "PUSHINT128"},
    {0x05, "PUSHINT256"}, {0x08, "PUSHT"},      {0x09, "PUSHF"},        {0x0A, "PUSHA"},     {0x0B, "PUSHNULL"},
    {0x0C, "PUSHDATA1"},  {0x0D, "PUSHDATA2"},  {0x0E, "PUSHDATA4"},    {0x0F, "PUSHM1"},    {0x10, "PUSH0"},
    {0x11, "PUSH1"},      {0x12, "PUSH2"},      {0x13, "PUSH3"},        {0x14, "PUSH4"},     {0x15, "PUSH5"},
    {0x16, "PUSH6"},      {0x17, "PUSH7"},      {0x18, "PUSH8"},        {0x19, "PUSH9"},     {0x1A, "PUSH10"},
    {0x1B, "PUSH11"},     {0x1C, "PUSH12"},     {0x1D, "PUSH13"},       {0x1E, "PUSH14"},    {0x1F, "PUSH15"},
    {0x20, "PUSH16"},     {0x21, "NOP"},        {0x22, "JMP"},          {0x23, "JMP_L"},     {0x24, "JMPIF"},
    {0x25, "JMPIF_L"},    {0x26, "JMPIFNOT"},   {0x27, "JMPIFNOT_L"},   {0x28, "JMPEQ"},     {0x29, "JMPEQ_L"},
    {0x2A, "JMPNE"},      {0x2B, "JMPNE_L"},    {0x2C, "JMPGT"},        {0x2D, "JMPGT_L"},   {0x2E, "JMPGE"},
    {0x2F, "JMPGE_L"},    {0x30, "JMPLT"},      {0x31, "JMPLT_L"},      {0x32, "JMPLE"},     {0x33, "JMPLE_L"},
    {0x34, "CALL"},       {0x35, "CALL_L"},     {0x36, "CALLA"},        {0x37, "CALLT"},     {0x38, "ABORT"},
    {0x39, "ASSERT"},     {0x3A, "THROW"},      {0x3B, "TRY"},          {0x3C, "TRY_L"},     {0x3D, "ENDTRY"},
    {0x3E, "ENDTRY_L"},   {0x3F, "ENDFINALLY"}, {0x40, "RET"},          {0x41, "SYSCALL"},   {0x43, "DEPTH"},
    {0x45, "DROP"},       {0x46, "NIP"},        {0x48, "XDROP"},        {0x49, "CLEAR"},     {0x4A, "DUP"},
    {0x4B, "OVER"},       {0x4D, "PICK"},       {0x4E, "TUCK"},         {0x50, "SWAP"},      {0x51, "ROT"},
    {0x52, "ROLL"},       {0x53, "REVERSE3"},   {0x54, "REVERSE4"},     {0x55, "REVERSEN"},  {0x56, "INITSSLOT"},
    {0x57, "INITSLOT"},   {0x58, "LDSFLD0"},    {0x59, "LDSFLD1"},      {0x5A, "LDSFLD2"},   {0x5B, "LDSFLD3"},
    {0x5C, "LDSFLD4"},    {0x5D, "LDSFLD5"},    {0x5E, "LDSFLD6"},      {0x5F, "LDSFLD"},    {0x60, "STSFLD0"},
    {0x61, "STSFLD1"},    {0x62, "STSFLD2"},    {0x63, "STSFLD3"},      {0x64, "STSFLD4"},   {0x65, "STSFLD5"},
    {0x66, "STSFLD6"},    {0x67, "STSFLD"},     {0x68, "LDLOC0"},       {0x69, "LDLOC1"},    {0x6A, "LDLOC2"},
    {0x6B, "LDLOC3"},     {0x6C, "LDLOC4"},     {0x6D, "LDLOC5"},       {0x6E, "LDLOC6"},    {0x6F, "LDLOC"},
    {0x70, "STLOC0"},     {0x71, "STLOC1"},     {0x72, "STLOC2"},       {0x73, "STLOC3"},    {0x74, "STLOC4"},
    {0x75, "STLOC5"},     {0x76, "STLOC6"},     {0x77, "STLOC"},        {0x78, "LDARG0"},    {0x79, "LDARG1"},
    {0x7A, "LDARG2"},     {0x7B, "LDARG3"},     {0x7C, "LDARG4"},       {0x7D, "LDARG5"},    {0x7E, "LDARG6"},
    {0x7F, "LDARG"},      {0x80, "STARG0"},     {0x81, "STARG1"},       {0x82, "STARG2"},    {0x83, "STARG3"},
    {0x84, "STARG4"},     {0x85, "STARG5"},     {0x86, "STARG6"},       {0x87, "STARG"},     {0x88, "NEWBUFFER"},
    {0x89, "MEMCPY"},     {0x8B, "CAT"},        {0x8C, "SUBSTR"},       {0x8D, "LEFT"},      {0x8E, "RIGHT"},
    {0x90, "INVERT"},     {0x91, "AND"},        {0x92, "OR"},           {0x93, "XOR"},       {0x97, "EQUAL"},
    {0x98, "NOTEQUAL"},   {0x99, "SIGN"},       {0x9A, "ABS"},          {0x9B, "NEGATE"},    {0x9C, "INC"},
    {0x9D, "DEC"},        {0x9E, "ADD"},        {0x9F, "SUB"},          {0xA0, "MUL"},       {0xA1, "DIV"},
    {0xA2, "MOD"},        {0xA3, "POW"},        {0xA4, "SQRT"},         {0xA5, "MODMUL"},    {0xA6, "MODPOW"},
    {0xA8, "SHL"},        {0xA9, "SHR"},        {0xAA, "NOT"},          {0xAB, "BOOLAND"},   {0xAC, "BOOLOR"},
    {0xB1, "NZ"},         {0xB3, "NUMEQUAL"},   {0xB4, "NUMNOTEQUAL"},  {0xB5, "LT"},        {0xB6, "LE"},
    {0xB7, "GT"},         {0xB8, "GE"},         {0xB9, "MIN"},          {0xBA, "MAX"},       {0xBB, "WITHIN"},
    {0xBE, "PACKMAP"},    {0xBF, "PACKSTRUCT"}, {0xC0, "PACK"},         {0xC1, "UNPACK"},    {0xC2, "NEWARRAY0"},
    {0xC3, "NEWARRAY"},   {0xC4, "NEWARRAY_T"}, {0xC5, "NEWSTRUCT0"},   {0xC6, "NEWSTRUCT"}, {0xC8, "NEWMAP"},
    {0xCA, "SIZE"},       {0xCB, "HASKEY"},     {0xCC, "KEYS"},         {0xCD, "VALUES"},    {0xCE, "PICKITEM"},
    {0xCF, "APPEND"},     {0xD0, "SETITEM"},    {0xD1, "REVERSEITEMS"}, {0xD2, "REMOVE"},    {0xD3, "CLEARITEMS"},
    {0xD4, "POPITEM"},    {0xD8, "ISNULL"},     {0xD9, "ISTYPE"},       {0xDB, "CONVERT"},   {0xE0, "ABORTMSG"},
    {0xE1, "ASSERTMSG"},
};

std::string Hex(uint64_t value, int digits) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%0*llx", digits, static_cast<unsigned long long>(value));
  return buf;
}

uint32_t ReadLe(std::span<const uint8_t> bytes) {
  uint32_t v = 0;
  for (size_t i = 0; i < bytes.size() && i < 4; ++i) v |= static_cast<uint32_t>(bytes[i]) << (8 * i);
  return v;
}

Status Fault(std::string message) {
  return FailedPreconditionError(std::move(message));
}

}  // namespace

std::string SyscallHandler::UnsupportedSyscallMessage(uint32_t id) const {
  return "unknown syscall " + Hex(id, 8);
}

std::string_view OpCodeName(uint8_t op) {
  for (const auto& entry : kOpCodeNames) {
    if (entry.byte == op) return entry.name;
  }
  return "";
}

Engine::Engine(std::span<const uint8_t> script, int64_t gas_limit_datoshi, int64_t exec_fee_factor,
               SyscallHandler* syscalls)
    : script_(script.begin(), script.end()),
      gas_limit_(gas_limit_datoshi),
      exec_fee_factor_(exec_fee_factor),
      syscalls_(syscalls) {}

VmState Engine::Execute() {
  while (state_ == VmState::kNone) {
    Status status = Step();
    if (!status.ok()) {
      state_ = VmState::kFault;
      exception_ = std::string(status.message());
    }
  }
  return state_;
}

StatusOr<StackItemPtr> Engine::Pop() {
  if (stack_.empty()) return Fault("stack underflow");
  StackItemPtr item = std::move(stack_.back());
  stack_.pop_back();
  return item;
}

StatusOr<Int256> Engine::PopInteger() {
  ASSIGN_OR_RETURN(StackItemPtr item, Pop());
  return item->GetInteger();
}

StatusOr<std::vector<uint8_t>> Engine::PopBytes() {
  ASSIGN_OR_RETURN(StackItemPtr item, Pop());
  return item->GetBytes();
}

StatusOr<bool> Engine::PopBoolean() {
  ASSIGN_OR_RETURN(StackItemPtr item, Pop());
  return item->GetBoolean();
}

StatusOr<StackItemPtr> Engine::Peek(size_t depth) const {
  if (depth >= stack_.size()) {
    return Fault("Peek out of bounds: " + std::to_string(depth) + "/" + std::to_string(stack_.size()));
  }
  return stack_[stack_.size() - 1 - depth];
}

// An Integer used as a count or index: Neo casts it to int, so it must fit 32 bits and be >= 0.
StatusOr<size_t> Engine::PopCount() {
  ASSIGN_OR_RETURN(Int256 value, PopInteger());
  StatusOr<int64_t> n = value.ToInt64();
  if (!n.ok() || *n > INT32_MAX || *n < INT32_MIN) return Fault("count or index does not fit in 32 bits");
  if (*n < 0) return Fault("count or index is negative: " + std::to_string(*n));
  return static_cast<size_t>(*n);
}

StatusOr<Engine::Instruction> Engine::Decode(size_t position) const {
  const uint8_t byte = script_[position];
  const auto op = static_cast<OpCode>(byte);
  size_t operand_size = 0;
  size_t prefix_size = 0;
  switch (op) {
    case OpCode::PUSHINT8:
    case OpCode::PUSHINT16:
    case OpCode::PUSHINT32:
    case OpCode::PUSHINT64:
    case OpCode::PUSHINT128:
    case OpCode::PUSHINT256: operand_size = size_t{1} << byte; break;
    case OpCode::JMP:
    case OpCode::JMPIF:
    case OpCode::JMPIFNOT:
    case OpCode::CONVERT: operand_size = 1; break;
    case OpCode::JMP_L:
    case OpCode::JMPIF_L:
    case OpCode::JMPIFNOT_L:
    case OpCode::SYSCALL: operand_size = 4; break;
    case OpCode::PUSHDATA1: prefix_size = 1; break;
    case OpCode::PUSHDATA2: prefix_size = 2; break;
    case OpCode::PUSHDATA4: prefix_size = 4; break;
    default: break;
  }
  const size_t remaining = script_.size() - position - 1;
  const auto truncated = [&] {
    return Fault("instruction " + std::string(OpCodeName(byte)) + " at offset " + std::to_string(position) +
                 " is truncated");
  };
  if (prefix_size > remaining) return truncated();
  if (prefix_size > 0) operand_size = ReadLe(std::span(script_).subspan(position + 1, prefix_size));
  if (operand_size > remaining - prefix_size) return truncated();
  return Instruction{op, 1 + prefix_size + operand_size,
                     std::span(script_).subspan(position + 1 + prefix_size, operand_size)};
}

Status Engine::AddGas(int64_t datoshi) {
  if (datoshi < 0) return InvalidArgumentError("AddFee can't be negative.");
  if (__builtin_add_overflow(gas_consumed_, datoshi, &gas_consumed_) || gas_consumed_ > gas_limit_) {
    return Fault("Insufficient GAS.");
  }
  return Status::Ok();
}

Status Engine::AddFee(int64_t price) {
  int64_t fee = 0;
  if (__builtin_mul_overflow(price, exec_fee_factor_, &fee) ||
      __builtin_add_overflow(gas_consumed_, fee, &gas_consumed_) || gas_consumed_ > gas_limit_) {
    return Fault("Insufficient GAS.");
  }
  return Status::Ok();
}

void Engine::Return() {
  for (StackItemPtr& item : stack_) result_.push_back(std::move(item));
  stack_.clear();
  state_ = VmState::kHalt;
}

// Neo's ReferenceCounter: one reference per stack slot plus one per item of every reachable
// Array or Struct (each counted once however often it is referenced).
Status Engine::CheckStackSize() const {
  size_t count = stack_.size() + result_.size();
  std::vector<const StackItem*> pending;
  for (const auto* stack : {&stack_, &result_}) {
    for (const StackItemPtr& item : *stack) {
      if (item->IsCompound()) pending.push_back(item.get());
    }
  }
  std::unordered_set<const StackItem*> seen;
  while (!pending.empty() && count <= kMaxStackSize) {
    const StackItem* item = pending.back();
    pending.pop_back();
    if (!seen.insert(item).second) continue;
    count += item->items().size();
    for (const StackItemPtr& child : item->items()) {
      if (child->IsCompound()) pending.push_back(child.get());
    }
  }
  if (count > kMaxStackSize) {
    return Fault("MaxStackSize exceed: " + std::to_string(count) + "/" + std::to_string(kMaxStackSize));
  }
  return Status::Ok();
}

Status Engine::Step() {
  if (ip_ >= script_.size()) {  // running off the end is an implicit RET (price 0)
    Return();
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(Instruction ins, Decode(ip_));
  RETURN_IF_ERROR(AddFee(neo::OpCodePrice(ins.op)));
  next_ip_ = ip_ + ins.size;
  RETURN_IF_ERROR(ExecuteInstruction(ins));
  RETURN_IF_ERROR(CheckStackSize());
  ip_ = next_ip_;
  return Status::Ok();
}

Status Engine::Jump(const Instruction& ins, bool condition_holds) {
  if (!condition_holds) return Status::Ok();
  const int64_t offset =
      ins.operand.size() == 1 ? static_cast<int8_t>(ins.operand[0]) : static_cast<int32_t>(ReadLe(ins.operand));
  const int64_t target = static_cast<int64_t>(ip_) + offset;
  if (target < 0 || target >= static_cast<int64_t>(script_.size())) {
    return Fault("Jump out of range for position: " + std::to_string(target));
  }
  next_ip_ = static_cast<size_t>(target);
  return Status::Ok();
}

Status Engine::PushBytes(std::span<const uint8_t> bytes) {
  ASSIGN_OR_RETURN(StackItemPtr item, StackItem::ByteString(std::vector<uint8_t>(bytes.begin(), bytes.end())));
  Push(std::move(item));
  return Status::Ok();
}

Status Engine::ExecuteInstruction(const Instruction& ins) {
  const auto push_int = [this](const StatusOr<Int256>& value) -> Status {
    RETURN_IF_ERROR(value.status());
    Push(StackItem::Integer(*value));
    return Status::Ok();
  };
  // Pops x2 then x1, as Neo's binary operators do.
  const auto pop_two_ints = [this]() -> StatusOr<std::pair<Int256, Int256>> {
    ASSIGN_OR_RETURN(Int256 x2, PopInteger());
    ASSIGN_OR_RETURN(Int256 x1, PopInteger());
    return std::pair{x1, x2};
  };
  const uint8_t byte = static_cast<uint8_t>(ins.op);
  if (byte >= neo::ToByte(OpCode::PUSHM1) && byte <= neo::ToByte(OpCode::PUSH16)) {
    Push(StackItem::Integer(static_cast<int64_t>(byte) - neo::ToByte(OpCode::PUSH0)));
    return Status::Ok();
  }
  switch (ins.op) {
    case OpCode::PUSHINT8:
    case OpCode::PUSHINT16:
    case OpCode::PUSHINT32:
    case OpCode::PUSHINT64:
    case OpCode::PUSHINT128:
    case OpCode::PUSHINT256: return push_int(Int256::FromLe(ins.operand));
    case OpCode::PUSHT:
    case OpCode::PUSHF: Push(StackItem::Boolean(ins.op == OpCode::PUSHT)); return Status::Ok();
    case OpCode::PUSHNULL: Push(StackItem::Null()); return Status::Ok();
    case OpCode::PUSHDATA1:
    case OpCode::PUSHDATA2:
    case OpCode::PUSHDATA4: return PushBytes(ins.operand);

    case OpCode::NOP: return Status::Ok();
    case OpCode::JMP:
    case OpCode::JMP_L: return Jump(ins, true);
    case OpCode::JMPIF:
    case OpCode::JMPIF_L:
    case OpCode::JMPIFNOT:
    case OpCode::JMPIFNOT_L: {
      ASSIGN_OR_RETURN(bool condition, PopBoolean());
      const bool if_not = ins.op == OpCode::JMPIFNOT || ins.op == OpCode::JMPIFNOT_L;
      return Jump(ins, condition != if_not);
    }
    case OpCode::ABORT: return Fault("ABORT is executed.");
    case OpCode::ASSERT: {
      ASSIGN_OR_RETURN(bool condition, PopBoolean());
      if (!condition) return Fault("ASSERT is executed with false result.");
      return Status::Ok();
    }
    case OpCode::THROW: {
      // VMUnhandledException's message: the text of a ByteString, or of an array's first item.
      ASSIGN_OR_RETURN(StackItemPtr item, Pop());
      if (item->IsCompound() && !item->items().empty()) item = item->items()[0];
      std::string message = "An unhandled exception was thrown.";
      if (item->type() == StackItemType::kByteString) {
        const std::vector<uint8_t> text = *item->GetBytes();
        message += ' ';
        message.append(text.begin(), text.end());
      }
      return Fault(std::move(message));
    }
    case OpCode::RET: Return(); return Status::Ok();
    case OpCode::SYSCALL: {
      const uint32_t id = ReadLe(ins.operand);
      if (syscalls_ == nullptr) return Fault("unknown syscall " + Hex(id, 8));
      const auto unknown = [this, id] { return Fault(syscalls_->UnsupportedSyscallMessage(id)); };
      StatusOr<int64_t> price = syscalls_->Price(id);
      if (!price.ok()) return price.status().code() == StatusCode::kNotFound ? unknown() : price.status();
      if (*price < 0) return InternalError("syscall " + Hex(id, 8) + " has a negative price");
      RETURN_IF_ERROR(AddFee(*price));
      return syscalls_->Invoke(id, *this);
    }

    case OpCode::DEPTH: Push(StackItem::Integer(static_cast<int64_t>(stack_.size()))); return Status::Ok();
    case OpCode::DROP: return Pop().status();
    case OpCode::NIP:
      RETURN_IF_ERROR(Peek(1).status());
      stack_.erase(stack_.end() - 2);
      return Status::Ok();
    case OpCode::DUP:
    case OpCode::OVER: {
      ASSIGN_OR_RETURN(StackItemPtr item, Peek(ins.op == OpCode::DUP ? 0 : 1));
      Push(std::move(item));
      return Status::Ok();
    }
    case OpCode::PICK: {
      ASSIGN_OR_RETURN(size_t n, PopCount());
      ASSIGN_OR_RETURN(StackItemPtr item, Peek(n));
      Push(std::move(item));
      return Status::Ok();
    }
    case OpCode::SWAP:
      RETURN_IF_ERROR(Peek(1).status());
      std::swap(stack_[stack_.size() - 1], stack_[stack_.size() - 2]);
      return Status::Ok();
    case OpCode::ROT: {
      RETURN_IF_ERROR(Peek(2).status());
      StackItemPtr third = stack_[stack_.size() - 3];
      stack_.erase(stack_.end() - 3);
      Push(std::move(third));
      return Status::Ok();
    }
    case OpCode::REVERSE3:
      RETURN_IF_ERROR(Peek(2).status());
      std::reverse(stack_.end() - 3, stack_.end());
      return Status::Ok();

    case OpCode::NEWARRAY0: Push(StackItem::Array()); return Status::Ok();
    case OpCode::NEWSTRUCT0: Push(StackItem::Struct()); return Status::Ok();
    case OpCode::NEWARRAY: {
      ASSIGN_OR_RETURN(size_t n, PopCount());
      if (n > kMaxStackSize) return Fault("MaxStackSize exceed: " + std::to_string(n));
      Push(StackItem::Array(std::vector<StackItemPtr>(n, StackItem::Null())));
      return Status::Ok();
    }
    case OpCode::PACK: {
      ASSIGN_OR_RETURN(size_t n, PopCount());
      if (n > stack_.size()) return Fault("PACK of " + std::to_string(n) + " items from a shorter stack");
      std::vector<StackItemPtr> items(stack_.rbegin(), stack_.rbegin() + static_cast<ptrdiff_t>(n));
      stack_.resize(stack_.size() - n);
      Push(StackItem::Array(std::move(items)));
      return Status::Ok();
    }
    case OpCode::UNPACK: {
      ASSIGN_OR_RETURN(StackItemPtr item, Pop());
      if (!item->IsCompound()) return Fault("UNPACK of a " + std::string(StackItemTypeName(item->type())));
      for (auto it = item->items().rbegin(); it != item->items().rend(); ++it) Push(*it);
      Push(StackItem::Integer(static_cast<int64_t>(item->items().size())));
      return Status::Ok();
    }
    case OpCode::SIZE: {
      ASSIGN_OR_RETURN(StackItemPtr item, Pop());
      if (item->IsCompound()) {
        Push(StackItem::Integer(static_cast<int64_t>(item->items().size())));
        return Status::Ok();
      }
      ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, item->GetBytes());
      Push(StackItem::Integer(static_cast<int64_t>(bytes.size())));
      return Status::Ok();
    }
    case OpCode::PICKITEM: {
      ASSIGN_OR_RETURN(Int256 key, PopInteger());
      ASSIGN_OR_RETURN(StackItemPtr item, Pop());
      const StatusOr<int64_t> index = key.ToInt64();
      if (!index.ok() || *index > INT32_MAX || *index < INT32_MIN) return Fault("index does not fit in 32 bits");
      const auto out_of_range = [&index] { return Fault("The value " + std::to_string(*index) + " is out of range."); };
      if (item->IsCompound()) {
        if (*index < 0 || static_cast<size_t>(*index) >= item->items().size()) return out_of_range();
        Push(item->items()[static_cast<size_t>(*index)]);
        return Status::Ok();
      }
      ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, item->GetBytes());
      if (*index < 0 || static_cast<size_t>(*index) >= bytes.size()) return out_of_range();
      Push(StackItem::Integer(static_cast<int64_t>(bytes[static_cast<size_t>(*index)])));
      return Status::Ok();
    }
    case OpCode::APPEND: {
      ASSIGN_OR_RETURN(StackItemPtr new_item, Pop());
      ASSIGN_OR_RETURN(StackItemPtr array, Pop());
      if (!array->IsCompound()) return Fault("APPEND to a " + std::string(StackItemTypeName(array->type())));
      if (new_item->type() == StackItemType::kStruct) {
        ASSIGN_OR_RETURN(new_item, CloneStruct(new_item));
      }
      array->mutable_items().push_back(std::move(new_item));
      return Status::Ok();
    }
    case OpCode::CONVERT: {
      ASSIGN_OR_RETURN(StackItemPtr item, Pop());
      ASSIGN_OR_RETURN(StackItemPtr converted, StackItem::ConvertTo(item, ins.operand[0]));
      Push(std::move(converted));
      return Status::Ok();
    }
    case OpCode::ISNULL: {
      ASSIGN_OR_RETURN(StackItemPtr item, Pop());
      Push(StackItem::Boolean(item->IsNull()));
      return Status::Ok();
    }

    case OpCode::NOT: {
      ASSIGN_OR_RETURN(bool x, PopBoolean());
      Push(StackItem::Boolean(!x));
      return Status::Ok();
    }
    case OpCode::BOOLAND:
    case OpCode::BOOLOR: {
      ASSIGN_OR_RETURN(bool x2, PopBoolean());
      ASSIGN_OR_RETURN(bool x1, PopBoolean());
      Push(StackItem::Boolean(ins.op == OpCode::BOOLAND ? (x1 && x2) : (x1 || x2)));
      return Status::Ok();
    }
    case OpCode::NZ: {
      ASSIGN_OR_RETURN(Int256 x, PopInteger());
      Push(StackItem::Boolean(!x.IsZero()));
      return Status::Ok();
    }
    case OpCode::NUMEQUAL:
    case OpCode::NUMNOTEQUAL: {
      ASSIGN_OR_RETURN(auto xs, pop_two_ints());
      Push(StackItem::Boolean((xs.first == xs.second) == (ins.op == OpCode::NUMEQUAL)));
      return Status::Ok();
    }
    case OpCode::EQUAL:
    case OpCode::NOTEQUAL: {
      ASSIGN_OR_RETURN(StackItemPtr x2, Pop());
      ASSIGN_OR_RETURN(StackItemPtr x1, Pop());
      ASSIGN_OR_RETURN(bool equal, ItemsEqual(x1, x2));
      Push(StackItem::Boolean(equal == (ins.op == OpCode::EQUAL)));
      return Status::Ok();
    }
    case OpCode::LT:
    case OpCode::LE:
    case OpCode::GT:
    case OpCode::GE: {
      // Neo answers false when either operand is Null instead of failing the conversion.
      ASSIGN_OR_RETURN(StackItemPtr x2, Pop());
      ASSIGN_OR_RETURN(StackItemPtr x1, Pop());
      if (x1->IsNull() || x2->IsNull()) {
        Push(StackItem::Boolean(false));
        return Status::Ok();
      }
      ASSIGN_OR_RETURN(Int256 b, x2->GetInteger());
      ASSIGN_OR_RETURN(Int256 a, x1->GetInteger());
      const bool result = ins.op == OpCode::LT   ? a < b
                          : ins.op == OpCode::LE ? a <= b
                          : ins.op == OpCode::GT ? a > b
                                                 : a >= b;
      Push(StackItem::Boolean(result));
      return Status::Ok();
    }
    case OpCode::INC:
    case OpCode::DEC: {
      ASSIGN_OR_RETURN(Int256 x, PopInteger());
      const Int256 one = Int256::FromInt64(1);
      return push_int(ins.op == OpCode::INC ? x.Add(one) : x.Sub(one));
    }
    case OpCode::ADD:
    case OpCode::SUB:
    case OpCode::MUL: {
      ASSIGN_OR_RETURN(auto xs, pop_two_ints());
      const auto& [x1, x2] = xs;
      return push_int(ins.op == OpCode::ADD ? x1.Add(x2) : ins.op == OpCode::SUB ? x1.Sub(x2) : x1.Mul(x2));
    }
    case OpCode::SIGN: {
      ASSIGN_OR_RETURN(Int256 x, PopInteger());
      Push(StackItem::Integer(static_cast<int64_t>(x.Sign())));
      return Status::Ok();
    }
    case OpCode::NEGATE:
    case OpCode::ABS: {
      ASSIGN_OR_RETURN(Int256 x, PopInteger());
      if (ins.op == OpCode::ABS && !x.IsNegative()) return push_int(x);
      return push_int(x.Negate());
    }

    default: {
      const std::string_view name = OpCodeName(byte);
      if (name.empty()) return Fault("opcode " + Hex(byte, 2) + " is undefined");
      return Fault("opcode " + std::string(name) + " (" + Hex(byte, 2) + ") is not supported by the devchain VM");
    }
  }
}

}  // namespace neosl::devchain
