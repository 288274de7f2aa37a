// Stack items outside the VM: Neo's BinarySerializer, the RPC JSON of items, notifications and
// executions, and the small conversions the engine and the contracts share.
#include <algorithm>
#include <map>
#include <unordered_set>
#include <utility>

#include <boost/json.hpp>

#include "core/encoding.h"
#include "devchain/app_engine.h"
#include "devchain/engine_internal.h"
#include "neo/io.h"

namespace neosl::devchain {
namespace internal {

bool IsStrictUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<uint8_t>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t extra = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;
    for (size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<uint8_t>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    constexpr uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

std::string CallFlagsToString(uint8_t flags) {
  // .NET's Enum.ToString for [Flags]: an exact name, else the greedy decomposition from the
  // largest value down, printed in ascending order.
  struct Named {
    uint8_t value;
    std::string_view name;
  };
  static constexpr Named kNames[] = {
      {kAll, "All"},       {kAllowNotify, "AllowNotify"}, {kReadOnly, "ReadOnly"},    {kAllowCall, "AllowCall"},
      {kStates, "States"}, {kWriteStates, "WriteStates"}, {kReadStates, "ReadStates"}};
  if (flags == 0) return "None";
  uint8_t rest = flags;
  std::vector<std::string_view> found;
  for (const Named& n : kNames) {
    if (n.value == flags) return std::string(n.name);
  }
  for (const Named& n : kNames) {
    if ((rest & n.value) == n.value) {
      rest = static_cast<uint8_t>(rest - n.value);
      found.push_back(n.name);
    }
  }
  if (rest != 0) return std::to_string(flags);
  std::string out;
  for (auto it = found.rbegin(); it != found.rend(); ++it) {
    if (!out.empty()) out += ", ";
    out += *it;
  }
  return out;
}

namespace {

uint64_t Rotl(uint64_t x, int r) {
  return (x << r) | (x >> (64 - r));
}

uint64_t Fmix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

uint64_t Le64(std::span<const uint8_t> b) {
  uint64_t v = 0;
  for (size_t i = 0; i < b.size() && i < 8; ++i) v |= static_cast<uint64_t>(b[i]) << (8 * i);
  return v;
}

StackItemPtr CopyWithin(const StackItemPtr& item, std::map<const StackItem*, StackItemPtr>& copies) {
  if (!item->IsCompound()) return item;
  if (auto it = copies.find(item.get()); it != copies.end()) return it->second;
  StackItemPtr copy = item->type() == StackItemType::kStruct ? StackItem::Struct() : StackItem::Array();
  copies.emplace(item.get(), copy);
  for (const StackItemPtr& child : item->items()) copy->mutable_items().push_back(CopyWithin(child, copies));
  return copy;
}

}  // namespace

std::array<uint8_t, 16> Murmur128(std::span<const uint8_t> data, uint32_t seed) {
  constexpr uint64_t c1 = 0x87c37b91114253d5ULL;
  constexpr uint64_t c2 = 0x4cf5ad432745937fULL;
  uint64_t h1 = seed;
  uint64_t h2 = seed;
  const size_t blocks = data.size() / 16;
  for (size_t i = 0; i < blocks; ++i) {
    uint64_t k1 = Le64(data.subspan(i * 16, 8));
    uint64_t k2 = Le64(data.subspan(i * 16 + 8, 8));
    k1 *= c1;
    k1 = Rotl(k1, 31);
    k1 *= c2;
    h1 ^= k1;
    h1 = Rotl(h1, 27);
    h1 += h2;
    h1 = h1 * 5 + 0x52dce729;
    k2 *= c2;
    k2 = Rotl(k2, 33);
    k2 *= c1;
    h2 ^= k2;
    h2 = Rotl(h2, 31);
    h2 += h1;
    h2 = h2 * 5 + 0x38495ab5;
  }
  const std::span<const uint8_t> tail = data.subspan(blocks * 16);
  if (tail.size() > 8) {
    uint64_t k2 = Le64(tail.subspan(8));
    k2 *= c2;
    k2 = Rotl(k2, 33);
    k2 *= c1;
    h2 ^= k2;
  }
  if (!tail.empty()) {
    uint64_t k1 = Le64(tail.first(std::min<size_t>(tail.size(), 8)));
    k1 *= c1;
    k1 = Rotl(k1, 31);
    k1 *= c2;
    h1 ^= k1;
  }
  h1 ^= data.size();
  h2 ^= data.size();
  h1 += h2;
  h2 += h1;
  h1 = Fmix(h1);
  h2 = Fmix(h2);
  h1 += h2;
  h2 += h1;
  std::array<uint8_t, 16> out{};
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<uint8_t>(h1 >> (8 * i));
    out[8 + i] = static_cast<uint8_t>(h2 >> (8 * i));
  }
  return out;
}

StackItemPtr DeepCopy(const StackItemPtr& item) {
  std::map<const StackItem*, StackItemPtr> copies;
  return CopyWithin(item, copies);
}

StackItemPtr BytesItem(std::span<const uint8_t> bytes) {
  StatusOr<StackItemPtr> item = StackItem::ByteString(std::vector<uint8_t>(bytes.begin(), bytes.end()));
  return item.ok() ? *item : StackItem::Null();
}

StackItemPtr StringItem(std::string_view text) {
  return BytesItem(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

StackItemPtr HashItem(const neo::UInt160& hash) {
  return BytesItem(hash.span());
}

StatusOr<neo::UInt160> ArgHash160(const StackItemPtr& item, std::string_view name) {
  if (item->IsPrimitive()) {
    ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, item->GetBytes());
    if (bytes.size() == neo::UInt160::kSize) return *neo::UInt160::FromBytes(bytes);
  }
  return FailedPreconditionError("The argument \"" + std::string(name) + "\" must be a 20-byte Hash160.");
}

StatusOr<Int256> ArgInteger(const StackItemPtr& item, std::string_view name) {
  StatusOr<Int256> value = item->GetInteger();
  if (!value.ok()) {
    return FailedPreconditionError("The argument \"" + std::string(name) +
                                   "\" must be an Integer: " + std::string(value.status().message()));
  }
  return value;
}

StatusOr<std::string> ArgString(const StackItemPtr& item, std::string_view name) {
  if (item->IsPrimitive()) {
    ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, item->GetBytes());
    std::string text(bytes.begin(), bytes.end());
    if (IsStrictUtf8(text)) return text;
  }
  return FailedPreconditionError("The argument \"" + std::string(name) + "\" must be a UTF-8 string.");
}

StatusOr<Bytes> ArgBytes(const StackItemPtr& item, std::string_view name) {
  if (item->IsNull()) return Bytes{};
  if (item->IsPrimitive()) return item->GetBytes();
  return FailedPreconditionError("The argument \"" + std::string(name) + "\" must be a byte array.");
}

neo::UInt160 Actor(const ApplicationEngine& engine) {
  if (engine.container() != nullptr) return engine.container()->sender();
  return engine.calling_script_hash().value_or(engine.entry_script_hash());
}

Bytes Key(int32_t contract_id, uint8_t prefix, std::span<const uint8_t> rest) {
  Bytes key{prefix};
  key.insert(key.end(), rest.begin(), rest.end());
  return StorageKey(contract_id, key);
}

StatusOr<Int256> ReadInteger(const DataCache& state, std::span<const uint8_t> key, const Int256& fallback) {
  std::optional<Bytes> value = state.Get(key);
  if (!value) return fallback;
  return Int256::FromLe(*value);
}

void WriteInteger(DataCache& state, Bytes key, const Int256& value) {
  state.Put(std::move(key), value.ToLe());
}

StatusOr<StackItemPtr> ReadItem(const DataCache& state, std::span<const uint8_t> key) {
  std::optional<Bytes> value = state.Get(key);
  if (!value) return StackItemPtr();
  return DeserializeStackItem(*value);
}

Status WriteItem(DataCache& state, Bytes key, const StackItemPtr& item) {
  ASSIGN_OR_RETURN(Bytes value, SerializeStackItem(item));
  state.Put(std::move(key), std::move(value));
  return Status::Ok();
}

StatusOr<Bytes> Serialize(const StackItemPtr& root, size_t max_size, size_t max_items) {
  neo::BinaryWriter w;
  std::unordered_set<const StackItem*> serialized;
  std::vector<StackItemPtr> pending{root};
  size_t items = 0;
  while (!pending.empty()) {
    if (++items > max_items)
      return InvalidArgumentError("too many items to serialize (max " + std::to_string(max_items) + ")");
    StackItemPtr item = std::move(pending.back());
    pending.pop_back();
    w.U8(static_cast<uint8_t>(item->type()));
    switch (item->type()) {
      case StackItemType::kAny: break;
      case StackItemType::kBoolean: w.Bool(*item->GetBoolean()); break;
      case StackItemType::kInteger:
      case StackItemType::kByteString: w.VarBytes(*item->GetBytes()); break;
      case StackItemType::kArray:
      case StackItemType::kStruct:
        // Neo refuses a compound item met twice (a cycle, or the same array shared).
        if (!serialized.insert(item.get()).second) return InvalidArgumentError("a compound item is referenced twice");
        w.VarInt(item->items().size());
        for (auto it = item->items().rbegin(); it != item->items().rend(); ++it) pending.push_back(*it);
        break;
    }
    if (w.size() > max_size)
      return InvalidArgumentError("serialized item exceeds " + std::to_string(max_size) + " bytes");
  }
  return w.Take();
}

namespace {

StatusOr<StackItemPtr> DeserializeAt(neo::BinaryReader& r, size_t max_size, size_t& items_left) {
  if (items_left == 0) return InvalidArgumentError("too many items to deserialize");
  --items_left;
  ASSIGN_OR_RETURN(uint8_t type, r.U8("stack item type"));
  switch (static_cast<StackItemType>(type)) {
    case StackItemType::kAny: return StackItem::Null();
    case StackItemType::kBoolean: {
      ASSIGN_OR_RETURN(bool value, r.Bool("Boolean"));
      return StackItem::Boolean(value);
    }
    case StackItemType::kInteger: {
      ASSIGN_OR_RETURN(Bytes le, r.VarBytes("Integer", kMaxIntegerSize));
      ASSIGN_OR_RETURN(Int256 value, Int256::FromLe(le));
      if (value.ToLe() != le) return InvalidArgumentError("Integer is not minimally encoded");
      return StackItem::Integer(value);
    }
    case StackItemType::kByteString: {
      ASSIGN_OR_RETURN(Bytes bytes, r.VarBytes("ByteString", max_size));
      return StackItem::ByteString(std::move(bytes));
    }
    case StackItemType::kArray:
    case StackItemType::kStruct: {
      ASSIGN_OR_RETURN(uint64_t count, r.VarInt("item count", items_left));
      std::vector<StackItemPtr> children;
      children.reserve(count);
      for (uint64_t i = 0; i < count; ++i) {
        ASSIGN_OR_RETURN(StackItemPtr child, DeserializeAt(r, max_size, items_left));
        children.push_back(std::move(child));
      }
      return static_cast<StackItemType>(type) == StackItemType::kArray ? StackItem::Array(std::move(children))
                                                                       : StackItem::Struct(std::move(children));
    }
  }
  return InvalidArgumentError("unsupported stack item type " + std::to_string(type));
}

constexpr size_t kMaxJsonItems = kMaxStackSize;

boost::json::value ToJsonWithin(const StackItemPtr& item, size_t& budget) {
  boost::json::object out;
  out["type"] = item->IsNull() ? "Any" : StackItemTypeName(item->type());
  if (budget == 0) return out;
  --budget;
  switch (item->type()) {
    case StackItemType::kAny: break;
    case StackItemType::kBoolean: out["value"] = *item->GetBoolean(); break;
    case StackItemType::kInteger: out["value"] = item->GetInteger()->ToDecimal(); break;
    case StackItemType::kByteString: out["value"] = Base64Encode(*item->GetBytes()); break;
    case StackItemType::kArray:
    case StackItemType::kStruct: {
      boost::json::array values;
      for (const StackItemPtr& child : item->items()) values.push_back(ToJsonWithin(child, budget));
      out["value"] = std::move(values);
      break;
    }
  }
  return out;
}

}  // namespace
}  // namespace internal

StatusOr<Bytes> SerializeStackItem(const StackItemPtr& item) {
  return internal::Serialize(item, kMaxItemSize, kMaxStackSize);
}

StatusOr<StackItemPtr> DeserializeStackItem(std::span<const uint8_t> bytes) {
  neo::BinaryReader r(bytes);
  size_t items_left = kMaxStackSize;
  ASSIGN_OR_RETURN(StackItemPtr item, internal::DeserializeAt(r, std::min(bytes.size(), kMaxItemSize), items_left));
  RETURN_IF_ERROR(r.ExpectEnd("stack item"));
  return item;
}

boost::json::value StackItemToJson(const StackItemPtr& item) {
  // Bounded like the VM's stack, so a cyclic or hugely shared array cannot blow up the output.
  size_t budget = internal::kMaxJsonItems;
  return internal::ToJsonWithin(item, budget);
}

boost::json::value NotificationToJson(const NotificationRecord& n) {
  return boost::json::object{{"contract", n.contract.ToString()},
                             {"eventname", n.event_name},
                             {"state", StackItemToJson(n.state ? n.state : StackItem::Array())}};
}

boost::json::value ExecutionToJson(const ExecutionRecord& e) {
  boost::json::array stack;
  for (const StackItemPtr& item : e.stack) stack.push_back(StackItemToJson(item));
  boost::json::array notifications;
  for (const NotificationRecord& n : e.notifications) notifications.push_back(NotificationToJson(n));
  boost::json::object out;
  out["trigger"] = TriggerName(e.trigger);
  out["vmstate"] = VmStateName(e.state);
  out["exception"] = e.exception ? boost::json::value(*e.exception) : boost::json::value(nullptr);
  out["gasconsumed"] = std::to_string(e.gas_consumed);
  out["stack"] = std::move(stack);
  out["notifications"] = std::move(notifications);
  return out;
}

}  // namespace neosl::devchain
