// Typed contract-call arguments (Neo's ContractParameter) and their RPC JSON form.
//
//   {"type":"Integer","value":"1000"}            Integer: decimal string (a JSON integer is accepted)
//   {"type":"Boolean","value":true}
//   {"type":"ByteArray","value":"AQID"}          ByteArray, Signature: base64 (RFC 4648, padded)
//   {"type":"String","value":"hello"}
//   {"type":"Hash160","value":"0xd2a4…76cf"}     Hash160/Hash256: display form, "0x" optional on input
//   {"type":"PublicKey","value":"02…"}           compressed hex (uncompressed accepted on input)
//   {"type":"Array","value":[{…},{…}]}
//   {"type":"Any"}                               no value (or "value":null) for any type: pushes null
//
// This mirrors ContractParameter.FromJson/ToJson in neo (src/Neo/SmartContract/ContractParameter.cs);
// where Neo is lax we are strict: Boolean takes only a JSON bool (Neo reads any non-empty string as
// true), Signature must be 64 bytes, String must be UTF-8, integers must fit NeoVM's 256 bits. Map,
// InteropInterface and Void are valid type names (used by NEP-6 and ABIs) but not argument values.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/value.hpp>

#include "core/status.h"
#include "neo/uint.h"

namespace neosl::crypto {
class PublicKey;
}

namespace neosl::neo {

// Byte values as Neo's ContractParameterType.
enum class ContractParamType : uint8_t {
  Any = 0x00,
  Boolean = 0x10,
  Integer = 0x11,
  ByteArray = 0x12,
  String = 0x13,
  Hash160 = 0x14,
  Hash256 = 0x15,
  PublicKey = 0x16,
  Signature = 0x17,
  Array = 0x20,
  Map = 0x22,
  InteropInterface = 0x30,
  Void = 0xFF,
};

std::string_view ContractParamTypeName(ContractParamType type);
// Case-sensitive, as Neo's Enum.Parse.
std::optional<ContractParamType> ContractParamTypeFromName(std::string_view name);

// A signed integer of at most 256 bits (NeoVM's limit), held as a canonical decimal string and as
// its minimal little-endian two's-complement encoding (zero is the empty encoding).
class BigInteger {
 public:
  BigInteger() = default;  // zero
  static BigInteger FromInt64(int64_t value);
  // Optional sign ('-' or '+') then decimal digits; leading zeros allowed. INVALID_ARGUMENT on
  // anything else or a value outside [-2^255, 2^255).
  static StatusOr<BigInteger> FromDecimal(std::string_view text);

  const std::string& decimal() const { return decimal_; }
  const std::vector<uint8_t>& le_bytes() const { return le_; }
  bool negative() const { return !le_.empty() && (le_.back() & 0x80) != 0; }

  friend bool operator==(const BigInteger& a, const BigInteger& b) { return a.le_ == b.le_; }

 private:
  std::string decimal_ = "0";
  std::vector<uint8_t> le_;
};

// Trims a little-endian two's-complement integer to its shortest form (redundant 0x00/0xFF
// sign bytes removed; zero becomes empty).
std::vector<uint8_t> MinimalTwosComplement(std::span<const uint8_t> le);

using PublicKeyBytes = std::array<uint8_t, 33>;  // compressed SEC1 encoding

class ContractParam {
 public:
  using Value = std::variant<std::monostate,               // null
                             bool,                         // Boolean
                             BigInteger,                   // Integer
                             std::vector<uint8_t>,         // ByteArray, Signature (64 bytes)
                             std::string,                  // String (UTF-8)
                             UInt160,                      // Hash160
                             UInt256,                      // Hash256
                             PublicKeyBytes,               // PublicKey
                             std::vector<ContractParam>>;  // Array

  ContractParam() = default;  // Any, null

  // A parameter of `type` without a value; scripts push it as PUSHNULL, as Neo does.
  static ContractParam Null(ContractParamType type = ContractParamType::Any);
  static ContractParam Bool(bool value);
  static ContractParam Int(int64_t value);
  static ContractParam Int(BigInteger value);
  static ContractParam Bytes(std::vector<uint8_t> value);
  static StatusOr<ContractParam> String(std::string utf8);
  static ContractParam Hash160(const UInt160& value);
  static ContractParam Hash256(const UInt256& value);
  static ContractParam PublicKey(const crypto::PublicKey& key);
  static StatusOr<ContractParam> Signature(std::span<const uint8_t> signature64);
  static ContractParam Array(std::vector<ContractParam> items);

  ContractParamType type() const { return type_; }
  bool is_null() const { return std::holds_alternative<std::monostate>(value_); }
  const Value& value() const { return value_; }

  friend bool operator==(const ContractParam& a, const ContractParam& b) {
    return a.type_ == b.type_ && a.value_ == b.value_;
  }

 private:
  ContractParam(ContractParamType type, Value value) : type_(type), value_(std::move(value)) {}
  ContractParamType type_ = ContractParamType::Any;
  Value value_;
};

// Arrays nest at most this deep in JSON input.
inline constexpr int kMaxContractParamDepth = 16;

StatusOr<ContractParam> ContractParamFromJson(const boost::json::value& json);
boost::json::value ContractParamToJson(const ContractParam& param);

}  // namespace neosl::neo
