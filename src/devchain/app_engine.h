// ApplicationEngine: one execution of a script against the devchain's state, with the interop
// services wallets' scripts use and the native contracts behind System.Contract.Call.
//
// The VM (vm/engine.h) runs one script with no CALL; contracts are C++ (native.h), so a call is
// a C++ call: System.Contract.Call pops (hash, method, flags, args), checks the method exists
// with that many parameters and that `flags` grant what it needs, charges its price, pushes the
// callee on the invocation stack (so GetCallingScriptHash and CheckWitness's CalledByEntry see
// it) and pushes its return value (Null for void methods, as Neo's ContextUnloaded does for a
// dynamic call).
//
// Syscalls served (names, ids and prices are Neo's, ApplicationEngine.*.cs):
//   System.Contract.Call (1<<15)          System.Contract.GetCallFlags (1<<10)
//   System.Runtime.Platform (1<<3)        System.Runtime.GetNetwork (1<<3)
//   System.Runtime.GetAddressVersion (1<<3) System.Runtime.GetTrigger (1<<3)
//   System.Runtime.GetTime (1<<3)         System.Runtime.GetExecutingScriptHash (1<<4)
//   System.Runtime.GetCallingScriptHash (1<<4) System.Runtime.GetEntryScriptHash (1<<4)
//   System.Runtime.CheckWitness (1<<10)   System.Runtime.GetInvocationCounter (1<<4)
//   System.Runtime.Log (1<<15)            System.Runtime.Notify (1<<15)
//   System.Runtime.GasLeft (1<<4)         System.Runtime.BurnGas (1<<4)
//   System.Runtime.GetRandom (0, as Neo charges it by hardfork; here 1<<4)
// Any other SYSCALL FAULTs with "syscall 0x… is not supported by the devchain".
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "core/status.h"
#include "devchain/data_cache.h"
#include "devchain/vm/engine.h"
#include "devchain/vm/stack_item.h"
#include "neo/transaction.h"
#include "neo/uint.h"
#include "neo/witness_rule.h"

namespace neosl::devchain {

class NativeRegistry;

enum class TriggerType : uint8_t {
  kOnPersist = 0x01,
  kPostPersist = 0x02,
  kVerification = 0x20,
  kApplication = 0x40,
};
std::string_view TriggerName(TriggerType t);  // "OnPersist", "PostPersist", "Verification", "Application"

// CallFlags (Neo.SmartContract.CallFlags).
enum CallFlag : uint8_t {
  kCallNone = 0,
  kReadStates = 0x01,
  kWriteStates = 0x02,
  kAllowCall = 0x04,
  kAllowNotify = 0x08,
  kStates = 0x03,
  kReadOnly = 0x05,
  kAll = 0x0F,
};

struct NotificationRecord {
  neo::UInt160 contract;
  std::string event_name;
  StackItemPtr state;  // an Array
};

// What one execution did: Neo's application log entry.
struct ExecutionRecord {
  TriggerType trigger = TriggerType::kApplication;
  VmState state = VmState::kNone;
  int64_t gas_consumed = 0;
  std::optional<std::string> exception;
  std::vector<StackItemPtr> stack;
  std::vector<NotificationRecord> notifications;
};

// Neo's JSON for stack items, as RpcServer prints them: {"type":"Integer","value":"1"},
// {"type":"ByteString","value":"<base64>"}, {"type":"Boolean","value":true},
// {"type":"Array","value":[…]}, {"type":"Struct","value":[…]}, {"type":"Any"}.
boost::json::value StackItemToJson(const StackItemPtr& item);
// {"contract":"0x…","eventname":…,"state":{"type":"Array","value":[…]}}
boost::json::value NotificationToJson(const NotificationRecord& n);
// {"trigger","vmstate","exception","gasconsumed","stack","notifications"} (an element of
// getapplicationlog's "executions"; gasconsumed is a decimal string of datoshi).
boost::json::value ExecutionToJson(const ExecutionRecord& e);
std::string_view VmStateName(VmState s);  // "NONE", "HALT", "FAULT"

// Neo's BinarySerializer for the subset's stack items (Null, Boolean, Integer, ByteString,
// Array, Struct): what StdLib.serialize writes and what native contracts keep in storage.
StatusOr<Bytes> SerializeStackItem(const StackItemPtr& item);
StatusOr<StackItemPtr> DeserializeStackItem(std::span<const uint8_t> bytes);

// The block being persisted (or, for read-only invocations, the block that would follow).
struct BlockContext {
  uint32_t index = 0;
  uint64_t timestamp_ms = 0;
  neo::UInt160 primary;  // the account that receives network fees
  // The transactions of the block, for the natives' OnPersist (fee burning); empty otherwise.
  std::vector<const neo::Transaction*> transactions;
};

struct EngineSettings {
  uint32_t network = 0;  // magic
  uint8_t address_version = 0x35;
};

class ApplicationEngine final : public SyscallHandler {
 public:
  // `container` may be null (invocations without a transaction, OnPersist/PostPersist).
  // `signers` are whose witnesses CheckWitness accepts (the transaction's, or those an
  // invokescript names). `snapshot`, `natives` and `container` must outlive the engine.
  ApplicationEngine(TriggerType trigger, const neo::Transaction* container, std::vector<neo::Signer> signers,
                    DataCache& snapshot, const BlockContext& block, const NativeRegistry& natives,
                    EngineSettings settings, int64_t gas_limit);
  ~ApplicationEngine() override;

  // Runs `script` as the entry context (its script hash is the entry and first executing hash)
  // and returns the record. A FAULT leaves the snapshot's contents undefined: the caller drops it.
  ExecutionRecord Run(std::span<const uint8_t> script);

  // OnPersist / PostPersist: calls every native's hook in id order (no script), as Neo does.
  ExecutionRecord RunNativeHooks();

  // ---- for native contracts --------------------------------------------------------------
  TriggerType trigger() const { return trigger_; }
  const neo::Transaction* container() const { return container_; }
  DataCache& snapshot() { return snapshot_; }
  const BlockContext& block() const { return block_; }
  const NativeRegistry& natives() const { return natives_; }
  const EngineSettings& settings() const { return settings_; }

  // Neo's CheckWitness: the signer's scopes against the current calling context (Global,
  // CalledByEntry, CustomContracts, CustomGroups (never matches: no contract has groups here),
  // WitnessRules with every condition type). Also true when `hash` is the calling script hash.
  StatusOr<bool> CheckWitness(const neo::UInt160& hash) const;
  // Appends a notification from the executing contract (must be called by a native or the
  // entry script). INVALID_ARGUMENT for an event name over 32 bytes.
  Status Notify(const neo::UInt160& contract, std::string event_name, StackItemPtr state);
  // Charges datoshi against the gas limit (FAULT "Insufficient GAS." past it).
  Status AddGas(int64_t datoshi);
  // Calls a contract method from C++ (a native calling another, e.g. onNEP17Payment), with the
  // same checks and accounting as System.Contract.Call. Void methods return Null.
  StatusOr<StackItemPtr> CallContract(const neo::UInt160& hash, std::string_view method, uint8_t flags,
                                      std::vector<StackItemPtr> args);
  // Whether `hash` is a deployed contract (a native or the sample): NEP-17 transfers call
  // onNEP17Payment only on those.
  bool IsContract(const neo::UInt160& hash) const;

  const neo::UInt160& executing_script_hash() const;
  std::optional<neo::UInt160> calling_script_hash() const;
  const neo::UInt160& entry_script_hash() const;
  int64_t exec_fee_factor() const { return exec_fee_factor_; }
  int64_t gas_left() const;

  // SyscallHandler
  StatusOr<int64_t> Price(uint32_t id) override;
  Status Invoke(uint32_t id, Engine& engine) override;
  // "syscall 0x… is not supported by the devchain"
  std::string UnsupportedSyscallMessage(uint32_t id) const override;

 private:
  // One entry of the invocation stack: whose code runs and with which CallFlags.
  struct Frame {
    neo::UInt160 script_hash;
    uint8_t flags = kAll;
  };

  // The checks and accounting every call goes through (CallContractInternal + NativeContract
  // .Invoke in Neo): contract and method lookup, flags, price, then the method itself.
  StatusOr<StackItemPtr> CallInternal(const neo::UInt160& hash, std::string_view method, uint8_t flags,
                                      std::vector<StackItemPtr> args);
  Status InvokeContractCall(Engine& vm);
  Status InvokeNotify(Engine& vm);
  Status InvokeCheckWitness(Engine& vm);
  Status InvokeGetRandom(Engine& vm);
  bool MatchCondition(const neo::WitnessCondition& condition) const;
  ExecutionRecord Finish(VmState state, int64_t gas_consumed, std::optional<std::string> exception,
                         std::vector<StackItemPtr> stack);

  TriggerType trigger_;
  const neo::Transaction* container_;
  std::vector<neo::Signer> signers_;
  DataCache& snapshot_;
  BlockContext block_;
  const NativeRegistry& natives_;
  EngineSettings settings_;
  int64_t gas_limit_;
  int64_t exec_fee_factor_ = 30;
  int64_t storage_price_ = 100000;
  int64_t native_gas_ = 0;  // charged by AddGas while no script runs (native hooks)
  Engine* vm_ = nullptr;
  neo::UInt160 entry_script_hash_;
  std::vector<Frame> frames_;  // invocation stack; frames_[0] is the entry
  std::vector<std::pair<neo::UInt160, int>> invocation_counters_;
  std::vector<NotificationRecord> notifications_;
  std::array<uint8_t, 16> nonce_data_{};
  uint32_t random_times_ = 0;
};

}  // namespace neosl::devchain
