// The devchain's contracts, written in C++: Neo's native GAS, NEO, Policy and Ledger (with
// Neo's ids, hashes, ABIs and storage layouts), ContractManagement (only as the owner of
// contract states) and the sample dApp contracts SampleConsumer (docs/chain-requests.md) and
// SamplePriceFeed (docs/pricefeed.md).
//
// Hashes: Neo's Helper.GetContractHash(UInt160.Zero, 0, name) for every one of them, so the
// natives have their real hashes and the samples fixed ones:
//   ContractManagement -1 0xfffdc93764dbaddd97c48f252a53ea4643faa3fd
//   LedgerContract     -4 0xda65b600f7124ce6c79950c1772a36403104f2be
//   NeoToken           -5 0xef4073a0f2b305a38ec4050e4d3d28bc40ea63f5
//   GasToken           -6 0xd2a4cff31913016155e38e474a2c06d08be276cf
//   PolicyContract     -7 0xcc5e4edd9f5f8dba8bb65734541df7a1c081c67b
//   SampleConsumer      1 GetContractHash(Zero, 0, "SampleConsumer")
//   SamplePriceFeed     2 GetContractHash(Zero, 0, "SamplePriceFeed")
//
// Storage layouts (the values getstorage answers):
//   GAS  prefix 0x14 ‖ account → Struct[balance]; prefix 0x0b → totalSupply (Integer bytes)
//   NEO  prefix 0x14 ‖ account → Struct[balance, balanceHeight, voteTo(Null), lastGasPerVote(0)];
//        prefix 0x0b → totalSupply
//   Policy 0x0a FeePerByte, 0x12 ExecFeeFactor, 0x13 StoragePrice (Integer bytes)
//   Ledger 0x0c → current block: Struct[hash, index]
//   SampleConsumer 0x01 → next request id; 0x02 ‖ id(LE int) → Struct[requester, service,
//        payload, block]; 0x03 ‖ id → Struct[code, result, signature, responder]
//   SamplePriceFeed 0x01 → report key (33 bytes); 0x02 → owner (20 bytes); 0x03 ‖ pair(UTF-8)
//        → Struct[price, decimals, timestamp, round, updater]
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "core/status.h"
#include "devchain/app_engine.h"
#include "devchain/data_cache.h"
#include "devchain/vm/stack_item.h"
#include "neo/uint.h"

namespace neosl::devchain {

// Helper.GetContractHash: hash160 of ABORT; push sender; push nef checksum; push name.
neo::UInt160 ContractHash(const neo::UInt160& sender, uint32_t nef_checksum, std::string_view name);

inline constexpr int64_t kGasFactor = 100'000'000;  // datoshi per GAS
inline constexpr int64_t kNeoTotalSupply = 100'000'000;
inline constexpr int64_t kDefaultFeePerByte = 1000;
inline constexpr int64_t kDefaultExecFeeFactor = 30;
inline constexpr int64_t kDefaultStoragePrice = 100000;

struct NativeMethod {
  std::string name;
  // ABI parameters: name and ContractParameterType name ("Hash160", "Integer", "Any", "String",
  // "ByteArray", "Boolean", "Array", "PublicKey").
  std::vector<std::pair<std::string, std::string>> parameters;
  std::string return_type;  // "Void" for methods that push nothing
  int64_t cpu_fee = 0;      // × ExecFeeFactor
  int64_t storage_fee = 0;  // × StoragePrice
  uint8_t required_flags = kCallNone;
  bool safe = false;  // manifest "safe": read-only
  // Receives the arguments in declaration order; returns the value (ignored for Void).
  std::function<StatusOr<StackItemPtr>(ApplicationEngine&, std::vector<StackItemPtr>&)> handler;
};

struct NativeEvent {
  std::string name;
  std::vector<std::pair<std::string, std::string>> parameters;
};

class NativeContract {
 public:
  virtual ~NativeContract() = default;
  const std::string& name() const { return name_; }
  int32_t id() const { return id_; }
  const neo::UInt160& hash() const { return hash_; }
  const std::vector<NativeMethod>& methods() const { return methods_; }
  const std::vector<NativeEvent>& events() const { return events_; }
  // The method with this name and parameter count, or null.
  const NativeMethod* FindMethod(std::string_view name, size_t parameter_count) const;
  // The supported standards ("NEP-17" for the tokens).
  virtual std::vector<std::string> standards() const { return {}; }

  // Writes the contract's initial state (Neo's Initialize at genesis).
  virtual Status Initialize(ApplicationEngine&) { return Status::Ok(); }
  virtual Status OnPersist(ApplicationEngine&) { return Status::Ok(); }
  virtual Status PostPersist(ApplicationEngine&) { return Status::Ok(); }

  // Neo's ContractState JSON as getcontractstate prints it: {"id","updatecounter":0,"hash",
  // "nef":{"magic":860243278,"compiler":"neo-core-v3.0","source":"","tokens":[],"script":b64,
  // "checksum"},"manifest":{"name","groups":[],"features":{},"supportedstandards","abi":{
  // "methods":[{"name","parameters","returntype","offset","safe"}],"events":[…]},
  // "permissions":[{"contract":"*","methods":"*"}],"trusts":[],"extra":null}}. The script is
  // Neo's native stub (per method: PUSH0, SYSCALL System.Contract.CallNative, RET; offsets 7·i).
  boost::json::value ContractStateJson() const;

 protected:
  NativeContract(std::string name, int32_t id);
  void AddMethod(NativeMethod method) { methods_.push_back(std::move(method)); }
  void AddEvent(NativeEvent event) { events_.push_back(std::move(event)); }

 private:
  std::string name_;
  int32_t id_;
  neo::UInt160 hash_;
  std::vector<NativeMethod> methods_;
  std::vector<NativeEvent> events_;
};

// Reads of native state the chain needs outside an execution.
int64_t GasBalance(const DataCache& state, const neo::UInt160& account);
int64_t NeoBalance(const DataCache& state, const neo::UInt160& account);
StatusOr<Int256> GasTotalSupply(const DataCache& state);
int64_t FeePerByte(const DataCache& state);
int64_t ExecFeeFactor(const DataCache& state);
int64_t StoragePrice(const DataCache& state);
// Ledger's current block (written by the chain when it persists a block).
void SetCurrentBlock(DataCache& state, const neo::UInt256& hash, uint32_t index);

// Mints or burns outside a script (genesis distribution, OnPersist fee burning); emits the
// Transfer notification through `engine` as Neo's FungibleToken.Mint/Burn do. Burn fails
// FAILED_PRECONDITION if the balance is short.
Status MintGas(ApplicationEngine& engine, const neo::UInt160& account, int64_t amount, bool call_on_payment);
Status BurnGas(ApplicationEngine& engine, const neo::UInt160& account, int64_t amount);
Status MintNeo(ApplicationEngine& engine, const neo::UInt160& account, int64_t amount);

class NativeRegistry {
 public:
  // GAS, NEO, Policy, Ledger, ContractManagement, SampleConsumer and SamplePriceFeed.
  NativeRegistry();
  const NativeContract* Find(const neo::UInt160& hash) const;
  const NativeContract* FindByName(std::string_view name) const;  // case-insensitive
  const NativeContract* FindById(int32_t id) const;
  // Adds a contract after the built-in ones (tests use it for probe contracts). INVALID_ARGUMENT
  // if its id or hash is already registered.
  Status Register(std::unique_ptr<NativeContract> contract);
  // In id order (natives -1…-7 first by Neo's order, then SampleConsumer and SamplePriceFeed).
  const std::vector<std::unique_ptr<NativeContract>>& all() const { return contracts_; }

  static const neo::UInt160& GasHash();
  static const neo::UInt160& NeoHash();
  static const neo::UInt160& PolicyHash();
  static const neo::UInt160& LedgerHash();
  static const neo::UInt160& SampleConsumerHash();
  static const neo::UInt160& SamplePriceFeedHash();

 private:
  std::vector<std::unique_ptr<NativeContract>> contracts_;
};

}  // namespace neosl::devchain
