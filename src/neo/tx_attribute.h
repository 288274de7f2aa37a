// Transaction attributes: typed extensions of a transaction (priority, oracle answers, validity
// windows, conflicts, notary assistance).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <boost/json/fwd.hpp>

#include "core/status.h"
#include "neo/io.h"
#include "neo/uint.h"

namespace neosl::neo {

// Codes and names are Neo's (TransactionAttributeType.cs); the names are also the JSON "type".
enum class TransactionAttributeType : uint8_t {
  HighPriority = 0x01,
  OracleResponse = 0x11,
  NotValidBefore = 0x20,
  Conflicts = 0x21,
  NotaryAssisted = 0x22,
};
std::string_view TransactionAttributeTypeName(TransactionAttributeType type);

// OracleResponseCode.cs; the JSON "code" is the name.
enum class OracleResponseCode : uint8_t {
  Success = 0x00,
  ProtocolNotSupported = 0x10,
  ConsensusUnreachable = 0x12,
  NotFound = 0x14,
  Timeout = 0x16,
  Forbidden = 0x18,
  ResponseTooLarge = 0x1a,
  InsufficientFunds = 0x1c,
  ContentTypeNotSupported = 0x1f,
  Error = 0xff,
};
std::string_view OracleResponseCodeName(OracleResponseCode code);

// Byte layouts after the u8 type:
//   HighPriority    nothing
//   OracleResponse  u64 id, u8 code, var-bytes result (≤ 65535; empty unless code is Success)
//   NotValidBefore  u32 height
//   Conflicts       UInt256 hash
//   NotaryAssisted  u8 nkeys
struct HighPriorityAttribute {
  friend bool operator==(const HighPriorityAttribute&, const HighPriorityAttribute&) = default;
};
struct OracleResponseAttribute {
  static constexpr size_t kMaxResultSize = 0xFFFF;
  uint64_t id = 0;
  OracleResponseCode code = OracleResponseCode::Success;
  std::vector<uint8_t> result;
  friend bool operator==(const OracleResponseAttribute&, const OracleResponseAttribute&) = default;
};
struct NotValidBeforeAttribute {
  uint32_t height = 0;
  friend bool operator==(const NotValidBeforeAttribute&, const NotValidBeforeAttribute&) = default;
};
struct ConflictsAttribute {
  UInt256 hash;
  friend bool operator==(const ConflictsAttribute&, const ConflictsAttribute&) = default;
};
struct NotaryAssistedAttribute {
  uint8_t nkeys = 0;
  friend bool operator==(const NotaryAssistedAttribute&, const NotaryAssistedAttribute&) = default;
};

struct TransactionAttribute {
  using Value = std::variant<HighPriorityAttribute, OracleResponseAttribute, NotValidBeforeAttribute,
                             ConflictsAttribute, NotaryAssistedAttribute>;
  Value value;

  TransactionAttribute() = default;
  // Implicit, so that an attribute struct can stand where a TransactionAttribute is expected.
  // NOLINTBEGIN(google-explicit-constructor)
  TransactionAttribute(HighPriorityAttribute a) : value(a) {}
  TransactionAttribute(OracleResponseAttribute a) : value(std::move(a)) {}
  TransactionAttribute(NotValidBeforeAttribute a) : value(a) {}
  TransactionAttribute(ConflictsAttribute a) : value(a) {}
  TransactionAttribute(NotaryAssistedAttribute a) : value(a) {}
  // NOLINTEND(google-explicit-constructor)

  TransactionAttributeType type() const;
  // Neo's AllowMultiple: only Conflicts may appear more than once in a transaction.
  bool AllowMultiple() const { return type() == TransactionAttributeType::Conflicts; }

  // The rules the decoder enforces (oracle result size and code), for attributes built in code.
  Status Validate() const;
  void Encode(BinaryWriter& w) const;
  static StatusOr<TransactionAttribute> Decode(BinaryReader& r);
  size_t size() const;

  // Neo's ToJson: {"type":"HighPriority"}, {"type":"OracleResponse","id":1,"code":"Success",
  // "result":"<base64>"}, {"type":"NotValidBefore","height":1}, {"type":"Conflicts","hash":"0x…"},
  // {"type":"NotaryAssisted","nkeys":1}
  boost::json::value ToJson() const;
  static StatusOr<TransactionAttribute> FromJson(const boost::json::value& json);

  friend bool operator==(const TransactionAttribute&, const TransactionAttribute&) = default;
};

}  // namespace neosl::neo
