#include "devchain/vm/stack_item.h"

#include <algorithm>
#include <string>
#include <utility>

namespace neosl::devchain {
namespace {

__extension__ typedef unsigned __int128 U128;

constexpr uint64_t kTopBit = uint64_t{1} << 63;

Status IntegerOverflow() {
  return InvalidArgumentError("integer exceeds NeoVM's MaxSize of 32 bytes");
}

}  // namespace

Int256 Int256::FromInt64(int64_t value) {
  Int256 r;
  r.w_[0] = static_cast<uint64_t>(value);
  const uint64_t fill = value < 0 ? ~uint64_t{0} : 0;
  r.w_[1] = r.w_[2] = r.w_[3] = fill;
  return r;
}

StatusOr<Int256> Int256::FromLe(std::span<const uint8_t> le) {
  if (le.size() > kMaxIntegerSize) {
    return InvalidArgumentError("MaxSize exceed: " + std::to_string(le.size()) + " bytes to an Integer");
  }
  const uint8_t fill = (!le.empty() && (le.back() & 0x80) != 0) ? 0xFF : 0x00;
  Int256 r;
  for (size_t i = 0; i < 32; ++i) {
    const uint64_t byte = i < le.size() ? le[i] : fill;
    r.w_[i / 8] |= byte << (8 * (i % 8));
  }
  return r;
}

std::vector<uint8_t> Int256::ToLe() const {
  if (IsZero()) return {};
  std::vector<uint8_t> out(32);
  for (size_t i = 0; i < 32; ++i) out[i] = static_cast<uint8_t>(w_[i / 8] >> (8 * (i % 8)));
  // Drop sign-extension bytes the next lower byte already implies.
  while (out.size() > 1) {
    const uint8_t last = out.back();
    const bool next_negative = (out[out.size() - 2] & 0x80) != 0;
    if ((last == 0x00 && !next_negative) || (last == 0xFF && next_negative)) {
      out.pop_back();
    } else {
      break;
    }
  }
  return out;
}

std::string Int256::ToDecimal() const {
  if (IsZero()) return "0";
  // The magnitude as unsigned words (|-2^255| = 2^255 still fits), then repeated division by 10.
  std::array<uint64_t, 4> m = w_;
  if (IsNegative()) {
    uint64_t carry = 1;
    for (uint64_t& word : m) {
      const U128 s = static_cast<U128>(~word) + carry;
      word = static_cast<uint64_t>(s);
      carry = static_cast<uint64_t>(s >> 64);
    }
  }
  std::string digits;
  while (m[0] != 0 || m[1] != 0 || m[2] != 0 || m[3] != 0) {
    U128 rem = 0;
    for (size_t i = 4; i-- > 0;) {
      const U128 cur = (rem << 64) | m[i];
      m[i] = static_cast<uint64_t>(cur / 10);
      rem = cur % 10;
    }
    digits.push_back(static_cast<char>('0' + static_cast<int>(rem)));
  }
  if (IsNegative()) digits.push_back('-');
  return {digits.rbegin(), digits.rend()};
}

StatusOr<Int256> Int256::FromDecimal(std::string_view text) {
  const bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  if (text.empty() || text.size() > 80) return InvalidArgumentError("not a decimal integer");
  const Int256 ten = FromInt64(10);
  Int256 value;
  for (char c : text) {
    if (c < '0' || c > '9') return InvalidArgumentError("not a decimal integer");
    // Accumulate negatively so that -2^255 parses without overflowing on the way.
    ASSIGN_OR_RETURN(value, value.Mul(ten));
    ASSIGN_OR_RETURN(value, value.Sub(FromInt64(c - '0')));
  }
  if (negative) return value;
  return value.Negate();
}

StatusOr<int64_t> Int256::ToInt64() const {
  const uint64_t fill = (w_[0] & kTopBit) != 0 ? ~uint64_t{0} : 0;
  if (w_[1] != fill || w_[2] != fill || w_[3] != fill) return OutOfRangeError("integer does not fit in 64 bits");
  return static_cast<int64_t>(w_[0]);
}

StatusOr<Int256> Int256::Add(const Int256& other) const {
  Int256 r;
  uint64_t carry = 0;
  for (size_t i = 0; i < 4; ++i) {
    const U128 sum = static_cast<U128>(w_[i]) + other.w_[i] + carry;
    r.w_[i] = static_cast<uint64_t>(sum);
    carry = static_cast<uint64_t>(sum >> 64);
  }
  if (IsNegative() == other.IsNegative() && r.IsNegative() != IsNegative()) return IntegerOverflow();
  return r;
}

StatusOr<Int256> Int256::Sub(const Int256& other) const {
  Int256 r;
  uint64_t borrow = 0;
  for (size_t i = 0; i < 4; ++i) {
    const U128 diff = static_cast<U128>(w_[i]) - other.w_[i] - borrow;
    r.w_[i] = static_cast<uint64_t>(diff);
    borrow = static_cast<uint64_t>(diff >> 64) != 0 ? 1 : 0;
  }
  if (IsNegative() != other.IsNegative() && r.IsNegative() != IsNegative()) return IntegerOverflow();
  return r;
}

StatusOr<Int256> Int256::Negate() const {
  return Int256().Sub(*this);
}

StatusOr<Int256> Int256::Mul(const Int256& other) const {
  // Multiply magnitudes (|-2^255| = 2^255 still fits 256 unsigned bits), then restore the sign.
  auto magnitude = [](const Int256& v) {
    if (!v.IsNegative()) return v.w_;
    std::array<uint64_t, 4> m{};
    uint64_t carry = 1;
    for (size_t i = 0; i < 4; ++i) {
      const U128 s = static_cast<U128>(~v.w_[i]) + carry;
      m[i] = static_cast<uint64_t>(s);
      carry = static_cast<uint64_t>(s >> 64);
    }
    return m;
  };
  const std::array<uint64_t, 4> a = magnitude(*this);
  const std::array<uint64_t, 4> b = magnitude(other);
  std::array<uint64_t, 8> p{};
  for (size_t i = 0; i < 4; ++i) {
    uint64_t carry = 0;
    for (size_t j = 0; j < 4; ++j) {
      const U128 t = static_cast<U128>(a[i]) * b[j] + p[i + j] + carry;
      p[i + j] = static_cast<uint64_t>(t);
      carry = static_cast<uint64_t>(t >> 64);
    }
    p[i + 4] = carry;
  }
  if (p[4] != 0 || p[5] != 0 || p[6] != 0 || p[7] != 0) return IntegerOverflow();
  const bool negative =
      IsNegative() != other.IsNegative() && !(std::all_of(p.begin(), p.begin() + 4, [](uint64_t w) { return w == 0; }));
  const bool is_min = p[3] == kTopBit && p[0] == 0 && p[1] == 0 && p[2] == 0;
  if ((p[3] & kTopBit) != 0 && !(negative && is_min)) return IntegerOverflow();
  Int256 r;
  for (size_t i = 0; i < 4; ++i) r.w_[i] = p[i];
  if (negative) {
    Int256 zero;
    uint64_t borrow = 0;
    for (size_t i = 0; i < 4; ++i) {
      const U128 diff = static_cast<U128>(zero.w_[i]) - r.w_[i] - borrow;
      zero.w_[i] = static_cast<uint64_t>(diff);
      borrow = static_cast<uint64_t>(diff >> 64) != 0 ? 1 : 0;
    }
    return zero;
  }
  return r;
}

std::strong_ordering operator<=>(const Int256& a, const Int256& b) {
  if (a.IsNegative() != b.IsNegative()) {
    return a.IsNegative() ? std::strong_ordering::less : std::strong_ordering::greater;
  }
  for (size_t i = 4; i-- > 0;) {
    if (a.w_[i] != b.w_[i]) return a.w_[i] <=> b.w_[i];
  }
  return std::strong_ordering::equal;
}

StackItemPtr StackItem::Null() {
  return StackItemPtr(new StackItem(StackItemType::kAny));
}

StackItemPtr StackItem::Boolean(bool value) {
  StackItemPtr item(new StackItem(StackItemType::kBoolean));
  item->boolean_ = value;
  return item;
}

StackItemPtr StackItem::Integer(Int256 value) {
  StackItemPtr item(new StackItem(StackItemType::kInteger));
  item->integer_ = value;
  return item;
}

StatusOr<StackItemPtr> StackItem::ByteString(std::vector<uint8_t> bytes) {
  if (bytes.size() > kMaxItemSize) {
    return InvalidArgumentError("MaxItemSize exceed: " + std::to_string(bytes.size()) + "/" +
                                std::to_string(kMaxItemSize));
  }
  StackItemPtr item(new StackItem(StackItemType::kByteString));
  item->bytes_ = std::move(bytes);
  return item;
}

StackItemPtr StackItem::Array(std::vector<StackItemPtr> items) {
  StackItemPtr item(new StackItem(StackItemType::kArray));
  item->items_ = std::move(items);
  return item;
}

StackItemPtr StackItem::Struct(std::vector<StackItemPtr> items) {
  StackItemPtr item(new StackItem(StackItemType::kStruct));
  item->items_ = std::move(items);
  return item;
}

StatusOr<bool> StackItem::GetBoolean() const {
  switch (type_) {
    case StackItemType::kAny: return false;
    case StackItemType::kBoolean: return boolean_;
    case StackItemType::kInteger: return !integer_.IsZero();
    case StackItemType::kByteString:
      // ByteString.GetBoolean refuses what could not be an Integer.
      if (bytes_.size() > kMaxIntegerSize) return InvalidArgumentError("MaxSize exceed: ByteString to Boolean");
      return std::any_of(bytes_.begin(), bytes_.end(), [](uint8_t b) { return b != 0; });
    case StackItemType::kArray:
    case StackItemType::kStruct: return true;
  }
  return true;
}

StatusOr<Int256> StackItem::GetInteger() const {
  switch (type_) {
    case StackItemType::kBoolean: return Int256::FromInt64(boolean_ ? 1 : 0);
    case StackItemType::kInteger: return integer_;
    case StackItemType::kByteString: return Int256::FromLe(bytes_);
    default: return InvalidArgumentError("cannot convert " + std::string(StackItemTypeName(type_)) + " to Integer");
  }
}

StatusOr<std::vector<uint8_t>> StackItem::GetBytes() const {
  switch (type_) {
    case StackItemType::kBoolean: return std::vector<uint8_t>{static_cast<uint8_t>(boolean_ ? 1 : 0)};
    case StackItemType::kInteger: return integer_.ToLe();
    case StackItemType::kByteString: return bytes_;
    default: return InvalidArgumentError("cannot convert " + std::string(StackItemTypeName(type_)) + " to ByteString");
  }
}

StatusOr<StackItemPtr> StackItem::ConvertTo(const StackItemPtr& item, uint8_t type) {
  const auto target = static_cast<StackItemType>(type);
  const auto refuse = [&] {
    return InvalidArgumentError("cannot convert " + std::string(StackItemTypeName(item->type_)) + " to type " +
                                std::to_string(type));
  };
  if (item->IsNull()) {
    // Null.ConvertTo: any defined type but Any, including Pointer, Buffer, Map and InteropInterface.
    constexpr uint8_t kDefinedTypes[] = {0x10, 0x20, 0x21, 0x28, 0x30, 0x40, 0x41, 0x48, 0x60};
    if (std::find(std::begin(kDefinedTypes), std::end(kDefinedTypes), type) == std::end(kDefinedTypes)) {
      return refuse();
    }
    return item;
  }
  if (type == static_cast<uint8_t>(item->type_)) return item;
  if (StackItemTypeName(target) == "?") return refuse();
  if (target == StackItemType::kBoolean) {
    ASSIGN_OR_RETURN(bool value, item->GetBoolean());
    return Boolean(value);
  }
  if (item->IsPrimitive()) {
    if (target == StackItemType::kInteger) {
      ASSIGN_OR_RETURN(Int256 value, item->GetInteger());
      return Integer(value);
    }
    if (target == StackItemType::kByteString) {
      ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, item->GetBytes());
      return ByteString(std::move(bytes));
    }
    return refuse();
  }
  if (target == StackItemType::kArray) return Array(item->items_);
  if (target == StackItemType::kStruct) return Struct(item->items_);
  return refuse();
}

std::string_view StackItemTypeName(StackItemType type) {
  switch (type) {
    case StackItemType::kAny: return "Null";
    case StackItemType::kBoolean: return "Boolean";
    case StackItemType::kInteger: return "Integer";
    case StackItemType::kByteString: return "ByteString";
    case StackItemType::kArray: return "Array";
    case StackItemType::kStruct: return "Struct";
  }
  return "?";
}

namespace {

struct CompareBudget {
  size_t items = kMaxStackSize;
  size_t bytes = kMaxComparableSize;
};

StatusOr<bool> EqualsWithin(const StackItemPtr& a, const StackItemPtr& b, CompareBudget& budget) {
  if (a == b) return true;
  if (a->type() != b->type()) return false;
  switch (a->type()) {
    case StackItemType::kAny: return true;
    case StackItemType::kBoolean:
    case StackItemType::kInteger: return *a->GetInteger() == *b->GetInteger();
    case StackItemType::kByteString: {
      const std::vector<uint8_t> x = *a->GetBytes();
      const std::vector<uint8_t> y = *b->GetBytes();
      const size_t cost = std::max(x.size(), y.size());
      if (cost > budget.bytes) return InvalidArgumentError("The operand exceeds the maximum comparable size.");
      budget.bytes -= std::max<size_t>(cost, 1);
      return x == y;
    }
    case StackItemType::kArray: return false;  // reference equality, checked above
    case StackItemType::kStruct: {
      if (a->items().size() != b->items().size()) return false;
      for (size_t i = 0; i < a->items().size(); ++i) {
        if (budget.items == 0) return InvalidArgumentError("Too many struct items to compare.");
        --budget.items;
        ASSIGN_OR_RETURN(bool same, EqualsWithin(a->items()[i], b->items()[i], budget));
        if (!same) return false;
      }
      return true;
    }
  }
  return false;
}

StatusOr<StackItemPtr> CloneWithin(const StackItemPtr& item, size_t& budget) {
  std::vector<StackItemPtr> copy;
  copy.reserve(item->items().size());
  for (const StackItemPtr& child : item->items()) {
    if (budget == 0) return InvalidArgumentError("Beyond struct subitem clone limits!");
    --budget;
    if (child->type() == StackItemType::kStruct) {
      ASSIGN_OR_RETURN(StackItemPtr nested, CloneWithin(child, budget));
      copy.push_back(std::move(nested));
    } else {
      copy.push_back(child);
    }
  }
  return StackItem::Struct(std::move(copy));
}

}  // namespace

StatusOr<bool> ItemsEqual(const StackItemPtr& a, const StackItemPtr& b) {
  CompareBudget budget;
  return EqualsWithin(a, b, budget);
}

StatusOr<StackItemPtr> CloneStruct(const StackItemPtr& item) {
  size_t budget = kMaxStackSize - 1;
  return CloneWithin(item, budget);
}

}  // namespace neosl::devchain
