// Stack items of the devchain's NeoVM subset (Neo.VM/Types/*.cs): Null, Boolean, Integer,
// ByteString, Array and Struct. Conversions fail with the message the engine reports as its
// FAULT exception; they never throw.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace neosl::devchain {

// ExecutionEngineLimits.Default and Integer.MaxSize.
inline constexpr size_t kMaxIntegerSize = 32;
inline constexpr size_t kMaxItemSize = size_t{65535} * 2;
inline constexpr size_t kMaxStackSize = 2048;
inline constexpr size_t kMaxComparableSize = 65536;

// A 256-bit two's-complement integer: exactly the range of Neo's Integer, whose value may take
// at most 32 bytes (-2^255 … 2^255 - 1). Arithmetic reports overflow past that as an error.
class Int256 {
 public:
  Int256() = default;  // zero
  static Int256 FromInt64(int64_t value);
  // Little-endian two's complement of at most 32 bytes (an empty span is zero).
  static StatusOr<Int256> FromLe(std::span<const uint8_t> le);
  // Minimal little-endian two's complement, as BigInteger.ToByteArray; zero is empty (as Neo's
  // Integer.Memory).
  std::vector<uint8_t> ToLe() const;
  // Decimal text as BigInteger.ToString(): "-" for negatives, no leading zeros ("0" for zero).
  std::string ToDecimal() const;
  // An optional '-' then decimal digits; INVALID_ARGUMENT on anything else or outside the range.
  static StatusOr<Int256> FromDecimal(std::string_view text);

  bool IsZero() const { return w_[0] == 0 && w_[1] == 0 && w_[2] == 0 && w_[3] == 0; }
  bool IsNegative() const { return (w_[3] >> 63) != 0; }
  int Sign() const { return IsNegative() ? -1 : IsZero() ? 0 : 1; }
  // The value as int64 when it fits.
  StatusOr<int64_t> ToInt64() const;

  StatusOr<Int256> Add(const Int256& other) const;
  StatusOr<Int256> Sub(const Int256& other) const;
  StatusOr<Int256> Mul(const Int256& other) const;
  StatusOr<Int256> Negate() const;

  friend bool operator==(const Int256& a, const Int256& b) { return a.w_ == b.w_; }
  friend std::strong_ordering operator<=>(const Int256& a, const Int256& b);

 private:
  std::array<uint64_t, 4> w_{};  // w_[0] is the least significant word
};

// Neo's StackItemType byte values.
enum class StackItemType : uint8_t {
  kAny = 0x00,  // Null
  kBoolean = 0x20,
  kInteger = 0x21,
  kByteString = 0x28,
  kArray = 0x40,
  kStruct = 0x41,
};

class StackItem;
using StackItemPtr = std::shared_ptr<StackItem>;

// One item. Primitives are immutable; Array and Struct are reference types whose items the
// engine mutates in place (APPEND). An array that contains itself is never freed: the devchain
// VM has no cycle collector.
class StackItem {
 public:
  static StackItemPtr Null();
  static StackItemPtr Boolean(bool value);
  static StackItemPtr Integer(Int256 value);
  static StackItemPtr Integer(int64_t value) { return Integer(Int256::FromInt64(value)); }
  // INVALID_ARGUMENT past kMaxItemSize.
  static StatusOr<StackItemPtr> ByteString(std::vector<uint8_t> bytes);
  static StackItemPtr Array(std::vector<StackItemPtr> items = {});
  static StackItemPtr Struct(std::vector<StackItemPtr> items = {});

  StackItemType type() const { return type_; }
  bool IsNull() const { return type_ == StackItemType::kAny; }
  bool IsCompound() const { return type_ == StackItemType::kArray || type_ == StackItemType::kStruct; }
  bool IsPrimitive() const { return !IsNull() && !IsCompound(); }

  // Conversions as StackItem.GetBoolean / GetInteger / GetSpan.
  StatusOr<bool> GetBoolean() const;
  StatusOr<Int256> GetInteger() const;
  // Primitives only: Boolean is 01 / 00, Integer its minimal encoding.
  StatusOr<std::vector<uint8_t>> GetBytes() const;

  // CONVERT (StackItem.ConvertTo): to its own type is the item itself; Null converts to any type
  // but Any and stays Null; primitives convert to Boolean, Integer and ByteString; Array and Struct
  // into each other (sharing items) and to Boolean. INVALID_ARGUMENT otherwise, and for types
  // outside the subset (Pointer, Buffer, Map, InteropInterface).
  static StatusOr<StackItemPtr> ConvertTo(const StackItemPtr& item, uint8_t type);

  // The items of an Array or Struct (empty for other types).
  const std::vector<StackItemPtr>& items() const { return items_; }
  std::vector<StackItemPtr>& mutable_items() { return items_; }

 private:
  explicit StackItem(StackItemType type) : type_(type) {}

  StackItemType type_;
  bool boolean_ = false;
  Int256 integer_;
  std::vector<uint8_t> bytes_;
  std::vector<StackItemPtr> items_;
};

std::string_view StackItemTypeName(StackItemType type);

// StackItem.Equals as EQUAL uses it: primitives of the same type by value, Arrays by reference,
// Structs deeply (bounded by kMaxStackSize items and kMaxComparableSize bytes).
StatusOr<bool> ItemsEqual(const StackItemPtr& a, const StackItemPtr& b);

// Struct.Clone: nested Structs are copied, other items shared; at most kMaxStackSize - 1 items.
StatusOr<StackItemPtr> CloneStruct(const StackItemPtr& item);

}  // namespace neosl::devchain
