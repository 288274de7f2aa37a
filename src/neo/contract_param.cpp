#include "neo/contract_param.h"

#include <algorithm>
#include <utility>

#include <boost/json.hpp>

#include "core/encoding.h"
#include "crypto/p256.h"
#include "neo/rpc_types.h"  // Base64Encode / Base64Decode (strict, canonical)

namespace neosl::neo {
namespace {

constexpr std::pair<ContractParamType, std::string_view> kTypeNames[] = {
    {ContractParamType::Any, "Any"},
    {ContractParamType::Boolean, "Boolean"},
    {ContractParamType::Integer, "Integer"},
    {ContractParamType::ByteArray, "ByteArray"},
    {ContractParamType::String, "String"},
    {ContractParamType::Hash160, "Hash160"},
    {ContractParamType::Hash256, "Hash256"},
    {ContractParamType::PublicKey, "PublicKey"},
    {ContractParamType::Signature, "Signature"},
    {ContractParamType::Array, "Array"},
    {ContractParamType::Map, "Map"},
    {ContractParamType::InteropInterface, "InteropInterface"},
    {ContractParamType::Void, "Void"},
};

// 2^255 has 77 decimal digits; anything longer (after leading zeros) is out of range.
constexpr size_t kMaxDecimalDigits = 77;

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<uint8_t>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Reject over-long forms, surrogates and code points past U+10FFFF.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

Status Invalid(std::string message) {
  return InvalidArgumentError("contract parameter: " + std::move(message));
}

StatusOr<ContractParam> FromJsonAt(const boost::json::value& json, int depth);

StatusOr<ContractParam> ValueFromJson(ContractParamType type, const boost::json::value& v, int depth) {
  const std::string_view name = ContractParamTypeName(type);
  auto want_string = [&]() -> StatusOr<std::string_view> {
    const boost::json::string* s = v.if_string();
    if (s == nullptr) return Invalid(std::string(name) + " value must be a JSON string");
    return std::string_view(*s);
  };
  switch (type) {
    case ContractParamType::Any: return Invalid("Any takes no value");
    case ContractParamType::Boolean:
      if (!v.is_bool()) return Invalid("Boolean value must be true or false");
      return ContractParam::Bool(v.get_bool());
    case ContractParamType::Integer: {
      if (v.is_int64()) return ContractParam::Int(v.get_int64());
      if (v.is_uint64()) {
        ASSIGN_OR_RETURN(BigInteger big, BigInteger::FromDecimal(std::to_string(v.get_uint64())));
        return ContractParam::Int(std::move(big));
      }
      if (v.is_double()) return Invalid("Integer value is not an integer (send large values as a decimal string)");
      ASSIGN_OR_RETURN(std::string_view text, want_string());
      ASSIGN_OR_RETURN(BigInteger big, BigInteger::FromDecimal(text));
      return ContractParam::Int(std::move(big));
    }
    case ContractParamType::ByteArray:
    case ContractParamType::Signature: {
      ASSIGN_OR_RETURN(std::string_view text, want_string());
      std::optional<std::vector<uint8_t>> bytes = Base64Decode(text);
      if (!bytes) return Invalid(std::string(name) + " value is not canonical base64");
      if (type == ContractParamType::ByteArray) return ContractParam::Bytes(std::move(*bytes));
      return ContractParam::Signature(*bytes);
    }
    case ContractParamType::String: {
      ASSIGN_OR_RETURN(std::string_view text, want_string());
      return ContractParam::String(std::string(text));
    }
    case ContractParamType::Hash160: {
      ASSIGN_OR_RETURN(std::string_view text, want_string());
      StatusOr<UInt160> h = UInt160::Parse(text);
      if (!h.ok()) return Invalid("Hash160 value must be 40 hex digits (0x-prefixed, big-endian)");
      return ContractParam::Hash160(*h);
    }
    case ContractParamType::Hash256: {
      ASSIGN_OR_RETURN(std::string_view text, want_string());
      StatusOr<UInt256> h = UInt256::Parse(text);
      if (!h.ok()) return Invalid("Hash256 value must be 64 hex digits (0x-prefixed, big-endian)");
      return ContractParam::Hash256(*h);
    }
    case ContractParamType::PublicKey: {
      ASSIGN_OR_RETURN(std::string_view text, want_string());
      auto key = crypto::PublicKey::FromHex(text);
      if (!key.ok()) return Invalid("PublicKey value is not a valid secp256r1 point in hex");
      return ContractParam::PublicKey(*key);
    }
    case ContractParamType::Array: {
      const boost::json::array* items = v.if_array();
      if (items == nullptr) return Invalid("Array value must be a JSON array");
      std::vector<ContractParam> out;
      out.reserve(items->size());
      for (const boost::json::value& item : *items) {
        ASSIGN_OR_RETURN(ContractParam p, FromJsonAt(item, depth + 1));
        out.push_back(std::move(p));
      }
      return ContractParam::Array(std::move(out));
    }
    case ContractParamType::Map:
    case ContractParamType::InteropInterface:
    case ContractParamType::Void: break;
  }
  return Invalid("type " + std::string(name) + " is not supported as an argument");
}

StatusOr<ContractParam> FromJsonAt(const boost::json::value& json, int depth) {
  if (depth > kMaxContractParamDepth) {
    return Invalid("arrays nested deeper than " + std::to_string(kMaxContractParamDepth));
  }
  const boost::json::object* obj = json.if_object();
  if (obj == nullptr) return Invalid("expected an object {\"type\":…,\"value\":…}");
  const boost::json::value* type_json = obj->if_contains("type");
  if (type_json == nullptr || !type_json->is_string()) return Invalid("\"type\" must be a string");
  std::optional<ContractParamType> type = ContractParamTypeFromName(type_json->get_string());
  if (!type) return Invalid("unknown type \"" + std::string(type_json->get_string()) + "\"");
  const boost::json::value* value = obj->if_contains("value");
  if (value == nullptr || value->is_null()) {
    if (*type == ContractParamType::Map || *type == ContractParamType::InteropInterface ||
        *type == ContractParamType::Void) {
      return Invalid("type " + std::string(type_json->get_string()) + " is not supported as an argument");
    }
    return ContractParam::Null(*type);
  }
  return ValueFromJson(*type, *value, depth);
}

}  // namespace

std::string_view ContractParamTypeName(ContractParamType type) {
  for (const auto& [t, name] : kTypeNames) {
    if (t == type) return name;
  }
  return "Unknown";
}

std::optional<ContractParamType> ContractParamTypeFromName(std::string_view name) {
  for (const auto& [t, n] : kTypeNames) {
    if (n == name) return t;
  }
  return std::nullopt;
}

std::vector<uint8_t> MinimalTwosComplement(std::span<const uint8_t> le) {
  std::vector<uint8_t> out(le.begin(), le.end());
  // Drop a top byte that only repeats the sign of the byte below it. A lone 0x00 goes too (zero
  // is empty); a lone 0xFF is -1 and stays.
  while (!out.empty()) {
    const uint8_t top = out.back();
    const bool below_negative = out.size() >= 2 && (out[out.size() - 2] & 0x80) != 0;
    if (!((top == 0x00 && !below_negative) || (top == 0xFF && below_negative))) break;
    out.pop_back();
  }
  return out;
}

BigInteger BigInteger::FromInt64(int64_t value) {
  BigInteger b;
  b.decimal_ = std::to_string(value);
  std::vector<uint8_t> le(8);
  auto u = static_cast<uint64_t>(value);
  for (int i = 0; i < 8; ++i) le[i] = static_cast<uint8_t>(u >> (8 * i));
  b.le_ = MinimalTwosComplement(le);
  return b;
}

StatusOr<BigInteger> BigInteger::FromDecimal(std::string_view text) {
  std::string_view digits = text;
  bool negative = false;
  if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) {
    negative = digits.front() == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return InvalidArgumentError("integer must be decimal digits with an optional sign");
  }
  while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
  if (digits.size() > kMaxDecimalDigits) return InvalidArgumentError("integer is outside NeoVM's 256-bit range");
  // Magnitude, little-endian base 256; one spare byte keeps room for the sign bit.
  std::vector<uint8_t> mag(34, 0);
  for (char c : digits) {
    unsigned carry = static_cast<unsigned>(c - '0');
    for (uint8_t& byte : mag) {
      unsigned v = byte * 10u + carry;
      byte = static_cast<uint8_t>(v);
      carry = v >> 8;
    }
  }
  if (negative) {  // two's complement: invert and add one
    unsigned carry = 1;
    for (uint8_t& byte : mag) {
      unsigned v = static_cast<uint8_t>(~byte) + carry;
      byte = static_cast<uint8_t>(v);
      carry = v >> 8;
    }
  }
  BigInteger b;
  b.le_ = MinimalTwosComplement(mag);
  if (b.le_.size() > 32) return InvalidArgumentError("integer is outside NeoVM's 256-bit range");
  b.decimal_ = (negative && !b.le_.empty() ? "-" : "") + std::string(digits);
  return b;
}

ContractParam ContractParam::Null(ContractParamType type) {
  return ContractParam(type, std::monostate{});
}
ContractParam ContractParam::Bool(bool value) {
  return ContractParam(ContractParamType::Boolean, value);
}
ContractParam ContractParam::Int(int64_t value) {
  return ContractParam(ContractParamType::Integer, BigInteger::FromInt64(value));
}
ContractParam ContractParam::Int(BigInteger value) {
  return ContractParam(ContractParamType::Integer, std::move(value));
}
ContractParam ContractParam::Bytes(std::vector<uint8_t> value) {
  return ContractParam(ContractParamType::ByteArray, std::move(value));
}
StatusOr<ContractParam> ContractParam::String(std::string utf8) {
  if (!IsValidUtf8(utf8)) return Invalid("String value is not valid UTF-8");
  return ContractParam(ContractParamType::String, std::move(utf8));
}
ContractParam ContractParam::Hash160(const UInt160& value) {
  return ContractParam(ContractParamType::Hash160, value);
}
ContractParam ContractParam::Hash256(const UInt256& value) {
  return ContractParam(ContractParamType::Hash256, value);
}
ContractParam ContractParam::PublicKey(const crypto::PublicKey& key) {
  PublicKeyBytes out{};
  auto compressed = key.Compressed();
  std::span<const uint8_t> bytes(compressed);
  std::copy_n(bytes.begin(), std::min(bytes.size(), out.size()), out.begin());
  return ContractParam(ContractParamType::PublicKey, out);
}
StatusOr<ContractParam> ContractParam::Signature(std::span<const uint8_t> signature64) {
  if (signature64.size() != 64) {
    return Invalid("Signature must be 64 bytes (r‖s), got " + std::to_string(signature64.size()));
  }
  return ContractParam(ContractParamType::Signature, std::vector<uint8_t>(signature64.begin(), signature64.end()));
}
ContractParam ContractParam::Array(std::vector<ContractParam> items) {
  return ContractParam(ContractParamType::Array, std::move(items));
}

StatusOr<ContractParam> ContractParamFromJson(const boost::json::value& json) {
  return FromJsonAt(json, 0);
}

boost::json::value ContractParamToJson(const ContractParam& param) {
  boost::json::object obj;
  obj["type"] = ContractParamTypeName(param.type());
  struct Visitor {
    boost::json::object& obj;
    void operator()(std::monostate) const {}
    void operator()(bool b) const { obj["value"] = b; }
    void operator()(const BigInteger& i) const { obj["value"] = i.decimal(); }
    void operator()(const std::vector<uint8_t>& bytes) const { obj["value"] = Base64Encode(bytes); }
    void operator()(const std::string& s) const { obj["value"] = s; }
    void operator()(const UInt160& h) const { obj["value"] = h.ToString(); }
    void operator()(const UInt256& h) const { obj["value"] = h.ToString(); }
    void operator()(const PublicKeyBytes& key) const { obj["value"] = HexEncode(key); }
    void operator()(const std::vector<ContractParam>& items) const {
      boost::json::array arr;
      arr.reserve(items.size());
      for (const ContractParam& p : items) arr.push_back(ContractParamToJson(p));
      obj["value"] = std::move(arr);
    }
  };
  std::visit(Visitor{obj}, param.value());
  return obj;
}

}  // namespace neosl::neo
