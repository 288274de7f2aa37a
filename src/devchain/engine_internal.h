// Helpers shared by the ApplicationEngine and the contracts' sources; not part of the devchain's
// interface (nothing outside src/devchain/app_engine*.cpp and native*.cpp includes this).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "devchain/data_cache.h"
#include "devchain/vm/stack_item.h"
#include "neo/uint.h"

namespace neosl::devchain {

class ApplicationEngine;
class NativeContract;

namespace internal {

// Neo's limits for notifications (ApplicationEngine.Runtime.cs).
inline constexpr size_t kMaxEventName = 32;
inline constexpr size_t kMaxNotificationSize = 1024;
inline constexpr size_t kMaxNotificationCount = 512;
inline constexpr size_t kMaxInvocationStackSize = 1024;

// Strict UTF-8 (as Neo's StrictUTF8: no overlongs, no surrogates, nothing past U+10FFFF).
bool IsStrictUtf8(std::string_view text);
// .NET's [Flags] ToString of CallFlags as Neo prints it in messages: "All", "ReadOnly",
// "States, AllowCall", "None".
std::string CallFlagsToString(uint8_t flags);

// BinarySerializer with explicit limits (the serialised size and the number of items).
StatusOr<Bytes> Serialize(const StackItemPtr& item, size_t max_size, size_t max_items);

// Deep copy of an item as Neo's DeepCopy: compound items are copied recursively, primitives
// shared (they are immutable).
StackItemPtr DeepCopy(const StackItemPtr& item);

// MurmurHash3 x64 128-bit, as Neo's Murmur128 (h1 then h2, little-endian): GetRandom's source.
std::array<uint8_t, 16> Murmur128(std::span<const uint8_t> data, uint32_t seed);

// Stack items for common values; these never exceed kMaxItemSize.
StackItemPtr BytesItem(std::span<const uint8_t> bytes);
StackItemPtr StringItem(std::string_view text);
StackItemPtr HashItem(const neo::UInt160& hash);

// Method arguments, converted as Neo's ApplicationEngine.Convert does for the parameter's type;
// `name` is the parameter's name, for the FAULT message.
StatusOr<neo::UInt160> ArgHash160(const StackItemPtr& item, std::string_view name);
StatusOr<Int256> ArgInteger(const StackItemPtr& item, std::string_view name);
StatusOr<std::string> ArgString(const StackItemPtr& item, std::string_view name);
// Null converts to an empty byte array.
StatusOr<Bytes> ArgBytes(const StackItemPtr& item, std::string_view name);

// Who acts in a contract's method: the transaction's sender, or the calling contract when there
// is no transaction (the sample contracts' requester, owner and updater).
neo::UInt160 Actor(const ApplicationEngine& engine);

// Storage: the contract's key bytes (prefix, then the rest).
Bytes Key(int32_t contract_id, uint8_t prefix, std::span<const uint8_t> rest = {});
// An Integer kept as its minimal little-endian bytes (Neo's StorageItem of a BigInteger).
StatusOr<Int256> ReadInteger(const DataCache& state, std::span<const uint8_t> key, const Int256& fallback);
void WriteInteger(DataCache& state, Bytes key, const Int256& value);
// A BinarySerializer'd item; null when the key is absent.
StatusOr<StackItemPtr> ReadItem(const DataCache& state, std::span<const uint8_t> key);
Status WriteItem(DataCache& state, Bytes key, const StackItemPtr& item);

// The contracts of the registry, in its order.
std::unique_ptr<NativeContract> MakeContractManagement();
std::unique_ptr<NativeContract> MakeLedgerContract();
std::unique_ptr<NativeContract> MakeNeoToken();
std::unique_ptr<NativeContract> MakeGasToken();
std::unique_ptr<NativeContract> MakePolicyContract();
std::unique_ptr<NativeContract> MakeSampleConsumer();
std::unique_ptr<NativeContract> MakeSamplePriceFeed();

// SamplePriceFeed's chain record, rebuilt from updatePrice's arguments: the BinarySerializer bytes
// of Array["neosl-price-v1", pair, price, decimals, timestamp, round] (as
// services/pricefeed/price_record.h's ChainRecord, which the devchain does not link).
StatusOr<Bytes> PriceChainRecord(std::string_view pair, const Int256& price, const Int256& decimals,
                                 const Int256& timestamp, const Int256& round);

// The NEF of a native contract: its stub script (PUSH0, SYSCALL System.Contract.CallNative, RET
// per method) and the file's serialisation and checksum (NefFile.cs).
Bytes NativeScript(size_t method_count);
Bytes NefBytes(std::span<const uint8_t> script);  // with the checksum
uint32_t NefChecksum(std::span<const uint8_t> script);

}  // namespace internal
}  // namespace neosl::devchain
