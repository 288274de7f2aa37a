// PolicyContract (its fee settings, read-only: the devchain has no committee to change them),
// LedgerContract (the current block) and ContractManagement (only as the owner of contract states).
#include <utility>

#include <boost/json.hpp>

#include "devchain/engine_internal.h"
#include "devchain/native.h"

namespace neosl::devchain {
namespace {

constexpr int32_t kContractManagementId = -1;
constexpr int32_t kLedgerId = -4;
constexpr int32_t kPolicyId = -7;

constexpr uint8_t kPrefixFeePerByte = 0x0a;
constexpr uint8_t kPrefixExecFeeFactor = 0x12;
constexpr uint8_t kPrefixStoragePrice = 0x13;
constexpr uint8_t kPrefixCurrentBlock = 0x0c;
constexpr int64_t kMinimumDeploymentFee = 10 * kGasFactor;

using Params = std::vector<std::pair<std::string, std::string>>;

int64_t PolicyValue(const DataCache& state, uint8_t prefix, int64_t fallback) {
  StatusOr<Int256> value = internal::ReadInteger(state, internal::Key(kPolicyId, prefix), Int256::FromInt64(fallback));
  if (!value.ok()) return fallback;
  StatusOr<int64_t> v = value->ToInt64();
  return v.ok() ? *v : fallback;
}

NativeMethod PolicyGetter(std::string name, uint8_t prefix, int64_t fallback) {
  return {std::move(name),
          Params{},
          "Integer",
          1 << 15,
          0,
          kReadStates,
          true,
          [prefix, fallback](ApplicationEngine& engine, std::vector<StackItemPtr>&) -> StatusOr<StackItemPtr> {
            return StackItem::Integer(PolicyValue(engine.snapshot(), prefix, fallback));
          }};
}

class PolicyContract final : public NativeContract {
 public:
  PolicyContract() : NativeContract("PolicyContract", kPolicyId) {
    AddMethod(PolicyGetter("getFeePerByte", kPrefixFeePerByte, kDefaultFeePerByte));
    AddMethod(PolicyGetter("getExecFeeFactor", kPrefixExecFeeFactor, kDefaultExecFeeFactor));
    AddMethod(PolicyGetter("getStoragePrice", kPrefixStoragePrice, kDefaultStoragePrice));
  }

  Status Initialize(ApplicationEngine& engine) override {
    DataCache& s = engine.snapshot();
    internal::WriteInteger(s, internal::Key(id(), kPrefixFeePerByte), Int256::FromInt64(kDefaultFeePerByte));
    internal::WriteInteger(s, internal::Key(id(), kPrefixExecFeeFactor), Int256::FromInt64(kDefaultExecFeeFactor));
    internal::WriteInteger(s, internal::Key(id(), kPrefixStoragePrice), Int256::FromInt64(kDefaultStoragePrice));
    return Status::Ok();
  }
};

// HashIndexState: Struct[hash (32 bytes), index].
StatusOr<StackItemPtr> CurrentBlock(const DataCache& state) {
  ASSIGN_OR_RETURN(StackItemPtr item, internal::ReadItem(state, internal::Key(kLedgerId, kPrefixCurrentBlock)));
  if (item == nullptr) return FailedPreconditionError("no block has been persisted yet");
  if (item->type() != StackItemType::kStruct || item->items().size() != 2) {
    return DataLossError("LedgerContract's current block entry is malformed");
  }
  return item;
}

class LedgerContract final : public NativeContract {
 public:
  LedgerContract() : NativeContract("LedgerContract", kLedgerId) {
    AddMethod({"currentHash", Params{}, "Hash256", 1 << 15, 0, kReadStates, true,
               [](ApplicationEngine& engine, std::vector<StackItemPtr>&) -> StatusOr<StackItemPtr> {
                 ASSIGN_OR_RETURN(StackItemPtr current, CurrentBlock(engine.snapshot()));
                 return current->items()[0];
               }});
    AddMethod({"currentIndex", Params{}, "Integer", 1 << 15, 0, kReadStates, true,
               [](ApplicationEngine& engine, std::vector<StackItemPtr>&) -> StatusOr<StackItemPtr> {
                 ASSIGN_OR_RETURN(StackItemPtr current, CurrentBlock(engine.snapshot()));
                 return current->items()[1];
               }});
  }
};

// ContractState.ToStackItem: Array[id, updateCounter, hash, nef bytes, manifest]. The devchain
// gives the manifest as its JSON text (Neo gives a Struct of its fields).
StackItemPtr ContractStateItem(const NativeContract& contract) {
  const Bytes script = internal::NativeScript(contract.methods().size());
  const std::string manifest = boost::json::serialize(contract.ContractStateJson().at("manifest"));
  return StackItem::Array({StackItem::Integer(int64_t{contract.id()}), StackItem::Integer(int64_t{0}),
                           internal::HashItem(contract.hash()), internal::BytesItem(internal::NefBytes(script)),
                           internal::StringItem(manifest)});
}

class ContractManagement final : public NativeContract {
 public:
  ContractManagement() : NativeContract("ContractManagement", kContractManagementId) {
    AddMethod({"getContract",
               {{"hash", "Hash160"}},
               "Array",
               1 << 15,
               0,
               kReadStates,
               true,
               [](ApplicationEngine& engine, std::vector<StackItemPtr>& args) -> StatusOr<StackItemPtr> {
                 ASSIGN_OR_RETURN(neo::UInt160 hash, internal::ArgHash160(args[0], "hash"));
                 const NativeContract* contract = engine.natives().Find(hash);
                 return contract == nullptr ? StackItem::Null() : ContractStateItem(*contract);
               }});
    AddMethod({"getMinimumDeploymentFee", Params{}, "Integer", 1 << 15, 0, kReadStates, true,
               [](ApplicationEngine&, std::vector<StackItemPtr>&) -> StatusOr<StackItemPtr> {
                 return StackItem::Integer(kMinimumDeploymentFee);
               }});
    AddEvent({"Deploy", {{"hash", "Hash160"}}});
    AddEvent({"Update", {{"hash", "Hash160"}}});
    AddEvent({"Destroy", {{"hash", "Hash160"}}});
  }
};

}  // namespace

namespace internal {
std::unique_ptr<NativeContract> MakeContractManagement() {
  return std::make_unique<ContractManagement>();
}
std::unique_ptr<NativeContract> MakeLedgerContract() {
  return std::make_unique<LedgerContract>();
}
std::unique_ptr<NativeContract> MakePolicyContract() {
  return std::make_unique<PolicyContract>();
}
}  // namespace internal

int64_t FeePerByte(const DataCache& state) {
  return PolicyValue(state, kPrefixFeePerByte, kDefaultFeePerByte);
}

int64_t ExecFeeFactor(const DataCache& state) {
  return PolicyValue(state, kPrefixExecFeeFactor, kDefaultExecFeeFactor);
}

int64_t StoragePrice(const DataCache& state) {
  return PolicyValue(state, kPrefixStoragePrice, kDefaultStoragePrice);
}

void SetCurrentBlock(DataCache& state, const neo::UInt256& hash, uint32_t index) {
  const StackItemPtr item =
      StackItem::Struct({internal::BytesItem(hash.span()), StackItem::Integer(static_cast<int64_t>(index))});
  // A 2-item struct of a hash and an integer always serialises.
  state.Put(internal::Key(kLedgerId, kPrefixCurrentBlock), *SerializeStackItem(item));
}

}  // namespace neosl::devchain
