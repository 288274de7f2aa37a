#include "devchain/app_engine.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "devchain/engine_internal.h"
#include "devchain/native.h"
#include "neo/account.h"
#include "neo/interop.h"
#include "neo/signer.h"

namespace neosl::devchain {
namespace {

enum class Service : uint8_t {
  kContractCall,
  kGetCallFlags,
  kPlatform,
  kGetNetwork,
  kGetAddressVersion,
  kGetTrigger,
  kGetTime,
  kGetExecutingScriptHash,
  kGetCallingScriptHash,
  kGetEntryScriptHash,
  kCheckWitness,
  kGetInvocationCounter,
  kLog,
  kNotify,
  kGasLeft,
  kBurnGas,
  kGetRandom,
};

struct ServiceInfo {
  std::string_view name;
  int64_t price;  // × ExecFeeFactor, charged by the VM before Invoke
  Service service;
  uint8_t required_flags;  // of the calling context (InteropDescriptor.RequiredCallFlags)
};

// Names, prices and required flags as registered in ApplicationEngine.Contract.cs / .Runtime.cs.
// GetRandom is registered at 0 and charges by hardfork inside; the devchain charges 1 << 4 here.
constexpr ServiceInfo kServices[] = {
    {"System.Contract.Call", 1 << 15, Service::kContractCall, kReadStates | kAllowCall},
    {"System.Contract.GetCallFlags", 1 << 10, Service::kGetCallFlags, kCallNone},
    {"System.Runtime.Platform", 1 << 3, Service::kPlatform, kCallNone},
    {"System.Runtime.GetNetwork", 1 << 3, Service::kGetNetwork, kCallNone},
    {"System.Runtime.GetAddressVersion", 1 << 3, Service::kGetAddressVersion, kCallNone},
    {"System.Runtime.GetTrigger", 1 << 3, Service::kGetTrigger, kCallNone},
    {"System.Runtime.GetTime", 1 << 3, Service::kGetTime, kCallNone},
    {"System.Runtime.GetExecutingScriptHash", 1 << 4, Service::kGetExecutingScriptHash, kCallNone},
    {"System.Runtime.GetCallingScriptHash", 1 << 4, Service::kGetCallingScriptHash, kCallNone},
    {"System.Runtime.GetEntryScriptHash", 1 << 4, Service::kGetEntryScriptHash, kCallNone},
    {"System.Runtime.CheckWitness", 1 << 10, Service::kCheckWitness, kCallNone},
    {"System.Runtime.GetInvocationCounter", 1 << 4, Service::kGetInvocationCounter, kCallNone},
    {"System.Runtime.Log", 1 << 15, Service::kLog, kAllowNotify},
    {"System.Runtime.Notify", 1 << 15, Service::kNotify, kAllowNotify},
    {"System.Runtime.GasLeft", 1 << 4, Service::kGasLeft, kCallNone},
    {"System.Runtime.BurnGas", 1 << 4, Service::kBurnGas, kCallNone},
    {"System.Runtime.GetRandom", 1 << 4, Service::kGetRandom, kCallNone},
};

const ServiceInfo* FindService(uint32_t id) {
  struct Entry {
    uint32_t id;
    const ServiceInfo* info;
  };
  static const std::vector<Entry> table = [] {
    std::vector<Entry> t;
    for (const ServiceInfo& info : kServices) t.push_back({neo::InteropId(info.name), &info});
    return t;
  }();
  for (const Entry& e : table) {
    if (e.id == id) return e.info;
  }
  return nullptr;
}

Status Fault(std::string message) {
  return FailedPreconditionError(std::move(message));
}

std::string ToText(const std::vector<uint8_t>& bytes) {
  return {bytes.begin(), bytes.end()};
}

}  // namespace

std::string_view TriggerName(TriggerType t) {
  switch (t) {
    case TriggerType::kOnPersist: return "OnPersist";
    case TriggerType::kPostPersist: return "PostPersist";
    case TriggerType::kVerification: return "Verification";
    case TriggerType::kApplication: return "Application";
  }
  return "Application";
}

std::string_view VmStateName(VmState s) {
  switch (s) {
    case VmState::kNone: return "NONE";
    case VmState::kHalt: return "HALT";
    case VmState::kFault: return "FAULT";
  }
  return "NONE";
}

ApplicationEngine::ApplicationEngine(TriggerType trigger, const neo::Transaction* container,
                                     std::vector<neo::Signer> signers, DataCache& snapshot, const BlockContext& block,
                                     const NativeRegistry& natives, EngineSettings settings, int64_t gas_limit)
    : trigger_(trigger),
      container_(container),
      signers_(std::move(signers)),
      snapshot_(snapshot),
      block_(block),
      natives_(natives),
      settings_(settings),
      gas_limit_(gas_limit),
      // Read once, as Neo's constructor does (Policy's defaults before genesis wrote them).
      exec_fee_factor_(ExecFeeFactor(snapshot)),
      storage_price_(StoragePrice(snapshot)) {
  // Neo seeds GetRandom with the first 16 bytes of the transaction hash (and XORs the block
  // nonce in; devchain blocks carry no nonce in BlockContext, so that step is left out).
  if (container_ != nullptr) {
    std::copy_n(container_->hash().bytes().begin(), nonce_data_.size(), nonce_data_.begin());
  }
}

ApplicationEngine::~ApplicationEngine() = default;

ExecutionRecord ApplicationEngine::Run(std::span<const uint8_t> script) {
  notifications_.clear();
  invocation_counters_.clear();
  entry_script_hash_ = neo::ScriptHash(script);
  frames_.assign(1, Frame{entry_script_hash_, kAll});
  invocation_counters_.emplace_back(entry_script_hash_, 1);
  Engine vm(script, gas_limit_, exec_fee_factor_, this);
  vm_ = &vm;
  const VmState state = vm.Execute();
  vm_ = nullptr;
  frames_.clear();
  return Finish(state, vm.gas_consumed(), vm.exception(), vm.result_stack());
}

ExecutionRecord ApplicationEngine::RunNativeHooks() {
  notifications_.clear();
  Status status;
  for (const auto& contract : natives_.all()) {
    // Each hook runs as the native's own context, so its notifications and calls come from it.
    frames_.assign(1, Frame{contract->hash(), kAll});
    status = trigger_ == TriggerType::kPostPersist ? contract->PostPersist(*this) : contract->OnPersist(*this);
    if (!status.ok()) break;
  }
  frames_.clear();
  if (!status.ok()) return Finish(VmState::kFault, native_gas_, std::string(status.message()), {});
  return Finish(VmState::kHalt, native_gas_, std::nullopt, {});
}

ExecutionRecord ApplicationEngine::Finish(VmState state, int64_t gas_consumed, std::optional<std::string> exception,
                                          std::vector<StackItemPtr> stack) {
  ExecutionRecord record;
  record.trigger = trigger_;
  record.state = state;
  record.gas_consumed = gas_consumed;
  record.exception = std::move(exception);
  record.stack = std::move(stack);
  // Neo's OnFault drops the notifications (ApplicationEngine.OnFault sets them to null), so a
  // FAULTed execution's application log lists none; the devchain reports the same.
  if (state != VmState::kFault) record.notifications = std::move(notifications_);
  notifications_.clear();
  return record;
}

// ---- context ---------------------------------------------------------------------------------

const neo::UInt160& ApplicationEngine::executing_script_hash() const {
  static const neo::UInt160 kNone;
  return frames_.empty() ? kNone : frames_.back().script_hash;
}

std::optional<neo::UInt160> ApplicationEngine::calling_script_hash() const {
  if (frames_.size() < 2) return std::nullopt;
  return frames_[frames_.size() - 2].script_hash;
}

const neo::UInt160& ApplicationEngine::entry_script_hash() const {
  return entry_script_hash_;
}

int64_t ApplicationEngine::gas_left() const {
  const int64_t left = vm_ != nullptr ? vm_->gas_limit() - vm_->gas_consumed() : gas_limit_ - native_gas_;
  return std::max<int64_t>(left, 0);
}

Status ApplicationEngine::AddGas(int64_t datoshi) {
  if (vm_ != nullptr) return vm_->AddGas(datoshi);
  if (datoshi < 0) return InvalidArgumentError("AddFee can't be negative.");
  if (__builtin_add_overflow(native_gas_, datoshi, &native_gas_) || native_gas_ > gas_limit_) {
    return Fault("Insufficient GAS.");
  }
  return Status::Ok();
}

bool ApplicationEngine::IsContract(const neo::UInt160& hash) const {
  return natives_.Find(hash) != nullptr;
}

// ---- witnesses -------------------------------------------------------------------------------

bool ApplicationEngine::MatchCondition(const neo::WitnessCondition& condition) const {
  using Type = neo::WitnessConditionType;
  const auto& operands = condition.expressions();
  switch (condition.type()) {
    case Type::Boolean: return condition.expression();
    case Type::Not: return !operands.empty() && !MatchCondition(operands[0]);
    case Type::And:
      return std::all_of(operands.begin(), operands.end(), [this](const auto& c) { return MatchCondition(c); });
    case Type::Or:
      return std::any_of(operands.begin(), operands.end(), [this](const auto& c) { return MatchCondition(c); });
    case Type::ScriptHash: return !frames_.empty() && executing_script_hash() == condition.hash();
    case Type::CalledByContract: return calling_script_hash() == condition.hash();
    // The current context is the entry, or was called by it (CalledByEntryCondition.Match).
    case Type::CalledByEntry: return frames_.size() <= 2;
    // No contract here belongs to a group.
    case Type::Group:
    case Type::CalledByGroup: return false;
  }
  return false;
}

StatusOr<bool> ApplicationEngine::CheckWitness(const neo::UInt160& hash) const {
  if (calling_script_hash() == hash) return true;
  const auto signer =
      std::find_if(signers_.begin(), signers_.end(), [&hash](const neo::Signer& s) { return s.account == hash; });
  if (signer == signers_.end()) return false;
  // Signer.GetAllRules: every scope becomes an Allow rule, in this order, then the WitnessRules;
  // the first rule whose condition matches decides.
  using neo::WitnessScope;
  const WitnessScope scopes = signer->scopes;
  if (HasScope(scopes, WitnessScope::Global)) return true;
  if (HasScope(scopes, WitnessScope::CalledByEntry) && MatchCondition(neo::WitnessCondition::CalledByEntry())) {
    return true;
  }
  if (HasScope(scopes, WitnessScope::CustomContracts)) {
    for (const neo::UInt160& contract : signer->allowed_contracts) {
      if (!frames_.empty() && executing_script_hash() == contract) return true;
    }
  }
  // CustomGroups: never matches (no contract has groups).
  if (HasScope(scopes, WitnessScope::WitnessRules)) {
    for (const neo::WitnessRule& rule : signer->rules) {
      if (MatchCondition(rule.condition)) return rule.action == neo::WitnessRuleAction::Allow;
    }
  }
  return false;
}

// ---- notifications ---------------------------------------------------------------------------

// `state` is taken by value as the header declares; only a deep copy of it is kept.
// NOLINTNEXTLINE(performance-unnecessary-value-param)
Status ApplicationEngine::Notify(const neo::UInt160& contract, std::string event_name, StackItemPtr state) {
  if (event_name.size() > internal::kMaxEventName) {
    return InvalidArgumentError("Event name size " + std::to_string(event_name.size()) +
                                " exceeds maximum allowed size of 32 bytes (Parameter 'eventName')");
  }
  if (!internal::IsStrictUtf8(event_name)) return InvalidArgumentError("Event name is not valid UTF-8");
  if (state == nullptr || !state->IsCompound()) return InvalidArgumentError("Notification state must be an Array");
  if (!frames_.empty() && (frames_.back().flags & kAllowNotify) == 0) {
    return Fault("Cannot call this SYSCALL with the flag " + internal::CallFlagsToString(frames_.back().flags) + ".");
  }
  if (trigger_ == TriggerType::kApplication && notifications_.size() >= internal::kMaxNotificationCount) {
    return Fault("Maximum number of notifications `512` is reached.");
  }
  // The state is copied, as Neo's SendNotification does, so later changes to the array by the
  // script do not rewrite what was announced.
  notifications_.push_back(NotificationRecord{contract, std::move(event_name), internal::DeepCopy(state)});
  return Status::Ok();
}

// ---- contract calls --------------------------------------------------------------------------

StatusOr<StackItemPtr> ApplicationEngine::CallContract(const neo::UInt160& hash, std::string_view method, uint8_t flags,
                                                       std::vector<StackItemPtr> args) {
  if ((flags & ~kAll) != 0) {
    return InvalidArgumentError("Specified argument was out of the range of valid values. (Parameter 'callFlags')");
  }
  return CallInternal(hash, method, flags, std::move(args));
}

StatusOr<StackItemPtr> ApplicationEngine::CallInternal(const neo::UInt160& hash, std::string_view method, uint8_t flags,
                                                       std::vector<StackItemPtr> args) {
  const NativeContract* contract = natives_.Find(hash);
  if (contract == nullptr) {
    return Fault("Called Contract Does Not Exist: " + hash.ToString() + "." + std::string(method));
  }
  const NativeMethod* md = contract->FindMethod(method, args.size());
  if (md == nullptr) {
    return Fault("Method \"" + std::string(method) + "\" with " + std::to_string(args.size()) +
                 " parameter(s) doesn't exist in the contract " + hash.ToString() + ".");
  }
  if (frames_.size() >= internal::kMaxInvocationStackSize) {
    return Fault("MaxInvocationStackSize exceed: " + std::to_string(frames_.size() + 1));
  }
  // A safe method never writes or notifies, whatever the caller grants.
  if (md->safe) flags &= static_cast<uint8_t>(~(kWriteStates | kAllowNotify));
  const uint8_t calling_flags = frames_.empty() ? uint8_t{kAll} : frames_.back().flags;
  const uint8_t callee_flags = flags & calling_flags;
  auto counter = std::find_if(invocation_counters_.begin(), invocation_counters_.end(),
                              [&hash](const auto& entry) { return entry.first == hash; });
  if (counter == invocation_counters_.end()) {
    invocation_counters_.emplace_back(hash, 1);
  } else {
    ++counter->second;
  }

  // NativeContract.Invoke: the callee context's flags must include the method's, then its price.
  if ((md->required_flags & callee_flags) != md->required_flags) {
    return Fault("Cannot call this method with the flag " + internal::CallFlagsToString(callee_flags) + ".");
  }
  int64_t cpu = 0;
  int64_t storage = 0;
  int64_t price = 0;
  if (__builtin_mul_overflow(md->cpu_fee, exec_fee_factor_, &cpu) ||
      __builtin_mul_overflow(md->storage_fee, storage_price_, &storage) ||
      __builtin_add_overflow(cpu, storage, &price)) {
    return Fault("Insufficient GAS.");
  }
  RETURN_IF_ERROR(AddGas(price));

  frames_.push_back(Frame{hash, callee_flags});
  StatusOr<StackItemPtr> result = md->handler(*this, args);
  frames_.pop_back();
  if (!result.ok()) return result.status();
  if (md->return_type == "Void" || *result == nullptr) return StackItem::Null();
  return result;
}

Status ApplicationEngine::InvokeContractCall(Engine& vm) {
  // Parameters in declaration order come off the stack first: hash, method, flags, args.
  ASSIGN_OR_RETURN(std::vector<uint8_t> hash_bytes, vm.PopBytes());
  ASSIGN_OR_RETURN(std::vector<uint8_t> method_bytes, vm.PopBytes());
  ASSIGN_OR_RETURN(Int256 flags_value, vm.PopInteger());
  ASSIGN_OR_RETURN(StackItemPtr args, vm.Pop());
  ASSIGN_OR_RETURN(neo::UInt160 hash, internal::ArgHash160(*StackItem::ByteString(hash_bytes), "contractHash"));
  std::string method = ToText(method_bytes);
  if (!internal::IsStrictUtf8(method)) return Fault("The method name is not valid UTF-8.");
  if (!args->IsCompound()) {
    return Fault("System.Contract.Call expects an Array of arguments, got " +
                 std::string(StackItemTypeName(args->type())));
  }
  if (!method.empty() && method.front() == '_') {
    return Fault("Method name '" + method + "' cannot start with underscore. (Parameter 'method')");
  }
  const StatusOr<int64_t> flags = flags_value.ToInt64();
  if (!flags.ok() || *flags < 0 || *flags > kAll) {
    return Fault("Specified argument was out of the range of valid values. (Parameter 'callFlags')");
  }
  ASSIGN_OR_RETURN(StackItemPtr result, CallInternal(hash, method, static_cast<uint8_t>(*flags), args->items()));
  // Neo pushes the return value, and Null for a void method (ContextUnloaded of a dynamic call).
  vm.Push(std::move(result));
  return Status::Ok();
}

Status ApplicationEngine::InvokeNotify(Engine& vm) {
  ASSIGN_OR_RETURN(std::vector<uint8_t> name, vm.PopBytes());
  ASSIGN_OR_RETURN(StackItemPtr state, vm.Pop());
  if (name.size() > internal::kMaxEventName) {
    return Fault("Event name size " + std::to_string(name.size()) +
                 " exceeds maximum allowed size of 32 bytes (Parameter 'eventName')");
  }
  if (!state->IsCompound()) {
    return Fault("System.Runtime.Notify expects an Array state, got " + std::string(StackItemTypeName(state->type())));
  }
  std::string event_name = ToText(name);
  if (!internal::IsStrictUtf8(event_name)) return Fault("The event name is not valid UTF-8.");
  // Neo's limit on what a script may announce (natives are not held to it).
  StatusOr<Bytes> serialized = internal::Serialize(state, internal::kMaxNotificationSize, kMaxStackSize);
  if (!serialized.ok())
    return Fault("Notification state is too large or not serializable: " + std::string(serialized.status().message()));
  return Notify(executing_script_hash(), std::move(event_name), std::move(state));
}

Status ApplicationEngine::InvokeCheckWitness(Engine& vm) {
  ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, vm.PopBytes());
  neo::UInt160 hash;
  if (bytes.size() == 20) {
    hash = *neo::UInt160::FromBytes(bytes);
  } else if (bytes.size() == 33) {
    StatusOr<crypto::PublicKey> key = crypto::PublicKey::FromBytes(bytes);
    if (!key.ok()) return Fault("Invalid public key: " + std::string(key.status().message()));
    hash = neo::ScriptHash(neo::SingleSigScript(*key));
  } else {
    return Fault("Invalid hashOrPubkey length (Parameter 'hashOrPubkey')");
  }
  ASSIGN_OR_RETURN(bool witnessed, CheckWitness(hash));
  vm.Push(StackItem::Boolean(witnessed));
  return Status::Ok();
}

Status ApplicationEngine::InvokeGetRandom(Engine& vm) {
  // Neo since HF_Aspidochelone: Murmur128 of the nonce with seed network + call count.
  const std::array<uint8_t, 16> buffer = internal::Murmur128(nonce_data_, settings_.network + random_times_++);
  std::vector<uint8_t> unsigned_le(buffer.begin(), buffer.end());
  unsigned_le.push_back(0);  // BigInteger(buffer, isUnsigned: true)
  ASSIGN_OR_RETURN(Int256 value, Int256::FromLe(unsigned_le));
  vm.Push(StackItem::Integer(value));
  return Status::Ok();
}

// ---- SyscallHandler --------------------------------------------------------------------------

std::string ApplicationEngine::UnsupportedSyscallMessage(uint32_t id) const {
  char buf[64];
  std::snprintf(buf, sizeof buf, "syscall 0x%08x is not supported by the devchain", id);
  return buf;
}

StatusOr<int64_t> ApplicationEngine::Price(uint32_t id) {
  const ServiceInfo* info = FindService(id);
  if (info == nullptr) return NotFoundError(UnsupportedSyscallMessage(id));
  return info->price;
}

Status ApplicationEngine::Invoke(uint32_t id, Engine& vm) {
  const ServiceInfo* info = FindService(id);
  if (info == nullptr) return Fault(UnsupportedSyscallMessage(id));
  const uint8_t flags = frames_.empty() ? uint8_t{kAll} : frames_.back().flags;
  if ((flags & info->required_flags) != info->required_flags) {
    return Fault("Cannot call this SYSCALL with the flag " + internal::CallFlagsToString(flags) + ".");
  }
  const auto push_hash = [&vm](const neo::UInt160& hash) { vm.Push(internal::HashItem(hash)); };
  switch (info->service) {
    case Service::kContractCall: return InvokeContractCall(vm);
    case Service::kGetCallFlags: vm.Push(StackItem::Integer(int64_t{flags})); return Status::Ok();
    case Service::kPlatform: vm.Push(internal::StringItem("NEO")); return Status::Ok();
    case Service::kGetNetwork: vm.Push(StackItem::Integer(int64_t{settings_.network})); return Status::Ok();
    case Service::kGetAddressVersion:
      vm.Push(StackItem::Integer(int64_t{settings_.address_version}));
      return Status::Ok();
    case Service::kGetTrigger: vm.Push(StackItem::Integer(static_cast<int64_t>(trigger_))); return Status::Ok();
    case Service::kGetTime: {
      std::vector<uint8_t> le;
      le.reserve(9);
      for (int i = 0; i < 8; ++i) le.push_back(static_cast<uint8_t>(block_.timestamp_ms >> (8 * i)));
      le.push_back(0);  // a ulong: never negative
      vm.Push(StackItem::Integer(*Int256::FromLe(le)));
      return Status::Ok();
    }
    case Service::kGetExecutingScriptHash: push_hash(executing_script_hash()); return Status::Ok();
    case Service::kGetCallingScriptHash: {
      const std::optional<neo::UInt160> calling = calling_script_hash();
      vm.Push(calling ? internal::HashItem(*calling) : StackItem::Null());
      return Status::Ok();
    }
    case Service::kGetEntryScriptHash: push_hash(entry_script_hash_); return Status::Ok();
    case Service::kCheckWitness: return InvokeCheckWitness(vm);
    case Service::kGetInvocationCounter: {
      int64_t count = 1;
      for (const auto& [hash, n] : invocation_counters_) {
        if (hash == executing_script_hash()) count = n;
      }
      vm.Push(StackItem::Integer(count));
      return Status::Ok();
    }
    case Service::kLog: {
      // Accepted and checked as Neo does; the devchain keeps no log output.
      ASSIGN_OR_RETURN(std::vector<uint8_t> message, vm.PopBytes());
      if (message.size() > internal::kMaxNotificationSize) {
        return Fault("Notification size " + std::to_string(message.size()) +
                     " exceeds maximum allowed size of 1024 bytes (Parameter 'state')");
      }
      if (!internal::IsStrictUtf8(ToText(message))) {
        return Fault("Failed to convert byte array to string: Invalid UTF-8 sequence (Parameter 'state')");
      }
      return Status::Ok();
    }
    case Service::kNotify: return InvokeNotify(vm);
    case Service::kGasLeft: vm.Push(StackItem::Integer(gas_left())); return Status::Ok();
    case Service::kBurnGas: {
      ASSIGN_OR_RETURN(Int256 value, vm.PopInteger());
      const StatusOr<int64_t> datoshi = value.ToInt64();
      if (!datoshi.ok()) return Fault("Value was either too large or too small for an Int64.");
      if (*datoshi <= 0) return Fault("GAS must be positive.");
      return AddGas(*datoshi);
    }
    case Service::kGetRandom: return InvokeGetRandom(vm);
  }
  return Fault(UnsupportedSyscallMessage(id));
}

}  // namespace neosl::devchain
