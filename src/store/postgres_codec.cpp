#include "store/postgres_codec.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

namespace neosl::store::postgres {
namespace {

using Oid = unsigned int;

// Type OIDs of pg_type (stable across releases; catalog/pg_type_d.h is a server header).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kCharOid = 18;
constexpr Oid kNameOid = 19;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;
constexpr Oid kOidOid = 26;
constexpr Oid kJsonOid = 114;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kUnknownOid = 705;
constexpr Oid kBpcharOid = 1042;
constexpr Oid kVarcharOid = 1043;
constexpr Oid kNumericOid = 1700;
constexpr Oid kVoidOid = 2278;
constexpr Oid kJsonbOid = 3802;

uint64_t ReadBigEndian(const char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

void WriteBigEndian(uint64_t v, char* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

// NUMERIC in binary: ndigits, weight, sign, dscale (16 bits each), then base-10000 digits, the
// first of weight `weight`. SUM over integers yields NUMERIC with dscale 0: that comes back as
// an integer, as SQLite's SUM does; anything with a fraction (AVG) comes back as a double.
Status DecodeNumeric(const char* p, size_t len, Value* out) {
  if (len < 8) return InternalError("postgres: malformed NUMERIC value");
  const auto ndigits = static_cast<int16_t>(ReadBigEndian(p, 2));
  const auto weight = static_cast<int16_t>(ReadBigEndian(p + 2, 2));
  const auto sign = static_cast<uint16_t>(ReadBigEndian(p + 4, 2));
  const auto dscale = static_cast<uint16_t>(ReadBigEndian(p + 6, 2));
  if (ndigits < 0 || len != 8 + 2 * static_cast<size_t>(ndigits)) {
    return InternalError("postgres: malformed NUMERIC value");
  }
  switch (sign) {
    case 0xC000: *out = std::numeric_limits<double>::quiet_NaN(); return Status::Ok();
    case 0xD000: *out = std::numeric_limits<double>::infinity(); return Status::Ok();
    case 0xF000: *out = -std::numeric_limits<double>::infinity(); return Status::Ok();
    default: break;
  }
  const bool negative = sign == 0x4000;
  auto digit = [&](int i) {
    return i >= 0 && i < ndigits ? static_cast<int>(ReadBigEndian(p + 8 + 2 * static_cast<size_t>(i), 2)) : 0;
  };

  if (dscale == 0) {
    const uint64_t limit = negative ? uint64_t{1} << 63 : static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    uint64_t magnitude = 0;
    bool fits = true;
    for (int i = 0; i <= weight && fits; ++i) {
      auto d = static_cast<uint64_t>(digit(i));
      fits = magnitude <= (limit - d) / 10000;
      magnitude = magnitude * 10000 + d;
    }
    if (fits) {
      *out = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
      return Status::Ok();
    }
  }
  // Through decimal text, so the double is the one nearest the exact value.
  std::string text = negative ? "-" : "";
  if (weight < 0) text += '0';
  for (int i = 0; i <= weight; ++i) {
    std::string group = std::to_string(digit(i));
    if (i > 0) text.append(4 - group.size(), '0');
    text += group;
  }
  text += '.';
  for (int w = -1; w >= weight - (ndigits - 1) || w == -1; --w) {
    std::string group = std::to_string(digit(weight - w));
    text.append(4 - group.size(), '0');
    text += group;
  }
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) {
    value = negative ? -HUGE_VAL : HUGE_VAL;
  } else if (ec != std::errc()) {
    return InternalError("postgres: malformed NUMERIC value");
  }
  *out = value;
  return Status::Ok();
}

}  // namespace

Status DecodeColumn(Oid type, const char* p, size_t len, int column, Value* out) {
  auto want = [&](size_t n) -> Status {
    if (len == n) return Status::Ok();
    return InternalError("postgres: column " + std::to_string(column) + " has a malformed binary value");
  };
  switch (type) {
    case kBoolOid:
      RETURN_IF_ERROR(want(1));
      *out = int64_t{p[0] != 0 ? 1 : 0};
      break;
    case kInt2Oid:
      RETURN_IF_ERROR(want(2));
      *out = int64_t{static_cast<int16_t>(ReadBigEndian(p, 2))};
      break;
    case kInt4Oid:
      RETURN_IF_ERROR(want(4));
      *out = int64_t{static_cast<int32_t>(ReadBigEndian(p, 4))};
      break;
    case kOidOid:
      RETURN_IF_ERROR(want(4));
      *out = static_cast<int64_t>(ReadBigEndian(p, 4));
      break;
    case kInt8Oid:
      RETURN_IF_ERROR(want(8));
      *out = static_cast<int64_t>(ReadBigEndian(p, 8));
      break;
    case kFloat4Oid: {
      RETURN_IF_ERROR(want(4));
      auto bits = static_cast<uint32_t>(ReadBigEndian(p, 4));
      float f = 0;
      std::memcpy(&f, &bits, sizeof f);
      *out = static_cast<double>(f);
      break;
    }
    case kFloat8Oid: {
      RETURN_IF_ERROR(want(8));
      uint64_t bits = ReadBigEndian(p, 8);
      double d = 0;
      std::memcpy(&d, &bits, sizeof d);
      *out = d;
      break;
    }
    case kNumericOid: return DecodeNumeric(p, len, out);
    case kTextOid:
    case kVarcharOid:
    case kBpcharOid:
    case kNameOid:
    case kCharOid:
    case kUnknownOid:
    case kJsonOid: out->emplace<std::string>(p, len); break;
    case kJsonbOid:  // a version byte, then the text
      if (len < 1) return InternalError("postgres: malformed JSONB value");
      out->emplace<std::string>(p + 1, len - 1);
      break;
    case kByteaOid: out->emplace<Blob>(p, p + len); break;
    case kVoidOid: *out = Null(); break;
    default:
      return InternalError("postgres: column " + std::to_string(column) + " has type OID " + std::to_string(type) +
                           ", which the portable dialect does not use (cast it to TEXT, BIGINT or DOUBLE PRECISION)");
  }
  return Status::Ok();
}

EncodedParams::EncodedParams(const Params& params)
    : types_(params.size(), 0),
      values_(params.size(), nullptr),
      lengths_(params.size(), 0),
      formats_(params.size(), 1),
      numbers_(params.size()) {
  static const char kEmpty = 0;  // a non-null pointer for empty text and blobs (null means NULL)
  for (size_t i = 0; i < params.size(); ++i) {
    const Value& v = params[i];
    if (const auto* x = std::get_if<int64_t>(&v)) {
      types_[i] = kInt8Oid;
      WriteBigEndian(static_cast<uint64_t>(*x), numbers_[i].data());
      values_[i] = numbers_[i].data();
      lengths_[i] = 8;
    } else if (const auto* d = std::get_if<double>(&v)) {
      types_[i] = kFloat8Oid;
      uint64_t bits = 0;
      std::memcpy(&bits, d, sizeof bits);
      WriteBigEndian(bits, numbers_[i].data());
      values_[i] = numbers_[i].data();
      lengths_[i] = 8;
    } else if (const auto* s = std::get_if<std::string>(&v)) {
      types_[i] = kTextOid;
      values_[i] = s->empty() ? &kEmpty : s->data();
      lengths_[i] = static_cast<int>(s->size());
    } else if (const auto* b = std::get_if<Blob>(&v)) {
      types_[i] = kByteaOid;
      values_[i] = b->empty() ? &kEmpty : reinterpret_cast<const char*>(b->data());
      lengths_[i] = static_cast<int>(b->size());
    }
  }
}

}  // namespace neosl::store::postgres
