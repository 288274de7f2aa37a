#include "neo/tx_attribute.h"

#include <optional>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "neo/payload_json.h"

namespace neosl::neo {

namespace {

using A = TransactionAttributeType;
using C = OracleResponseCode;

constexpr A kAllTypes[] = {A::HighPriority, A::OracleResponse, A::NotValidBefore, A::Conflicts, A::NotaryAssisted};
constexpr C kAllCodes[] = {
    C::Success,          C::ProtocolNotSupported, C::ConsensusUnreachable,    C::NotFound, C::Timeout, C::Forbidden,
    C::ResponseTooLarge, C::InsufficientFunds,    C::ContentTypeNotSupported, C::Error};

std::optional<C> CodeFromByte(uint8_t b) {
  for (C c : kAllCodes) {
    if (static_cast<uint8_t>(c) == b) return c;
  }
  return std::nullopt;
}

Status ValidateOracle(const OracleResponseAttribute& o) {
  if (o.result.size() > OracleResponseAttribute::kMaxResultSize) {
    return InvalidArgumentError("OracleResponse result exceeds " +
                                std::to_string(OracleResponseAttribute::kMaxResultSize) + " bytes");
  }
  // Neo refuses a result on a failed response: only Success carries data.
  if (o.code != C::Success && !o.result.empty()) {
    return InvalidArgumentError("OracleResponse result must be empty when the code is not Success");
  }
  return Status();
}

}  // namespace

std::string_view TransactionAttributeTypeName(TransactionAttributeType type) {
  switch (type) {
    case A::HighPriority: return "HighPriority";
    case A::OracleResponse: return "OracleResponse";
    case A::NotValidBefore: return "NotValidBefore";
    case A::Conflicts: return "Conflicts";
    case A::NotaryAssisted: return "NotaryAssisted";
  }
  return "Unknown";
}

std::string_view OracleResponseCodeName(OracleResponseCode code) {
  switch (code) {
    case C::Success: return "Success";
    case C::ProtocolNotSupported: return "ProtocolNotSupported";
    case C::ConsensusUnreachable: return "ConsensusUnreachable";
    case C::NotFound: return "NotFound";
    case C::Timeout: return "Timeout";
    case C::Forbidden: return "Forbidden";
    case C::ResponseTooLarge: return "ResponseTooLarge";
    case C::InsufficientFunds: return "InsufficientFunds";
    case C::ContentTypeNotSupported: return "ContentTypeNotSupported";
    case C::Error: return "Error";
  }
  return "Unknown";
}

TransactionAttributeType TransactionAttribute::type() const {
  return kAllTypes[value.index()];  // the variant's alternatives follow kAllTypes' order
}

Status TransactionAttribute::Validate() const {
  if (const auto* o = std::get_if<OracleResponseAttribute>(&value)) return ValidateOracle(*o);
  return Status();
}

void TransactionAttribute::Encode(BinaryWriter& w) const {
  w.U8(static_cast<uint8_t>(type()));
  if (const auto* o = std::get_if<OracleResponseAttribute>(&value)) {
    w.U64(o->id);
    w.U8(static_cast<uint8_t>(o->code));
    w.VarBytes(o->result);
  } else if (const auto* n = std::get_if<NotValidBeforeAttribute>(&value)) {
    w.U32(n->height);
  } else if (const auto* c = std::get_if<ConflictsAttribute>(&value)) {
    w.Hash(c->hash);
  } else if (const auto* k = std::get_if<NotaryAssistedAttribute>(&value)) {
    w.U8(k->nkeys);
  }
}

StatusOr<TransactionAttribute> TransactionAttribute::Decode(BinaryReader& r) {
  ASSIGN_OR_RETURN(uint8_t type, r.U8("transaction attribute type"));
  switch (type) {
    case static_cast<uint8_t>(A::HighPriority): return TransactionAttribute(HighPriorityAttribute{});
    case static_cast<uint8_t>(A::OracleResponse): {
      OracleResponseAttribute o;
      ASSIGN_OR_RETURN(o.id, r.U64("OracleResponse id"));
      ASSIGN_OR_RETURN(uint8_t code, r.U8("OracleResponse code"));
      std::optional<C> c = CodeFromByte(code);
      if (!c) return InvalidArgumentError("OracleResponse code " + std::to_string(code) + " is not defined");
      o.code = *c;
      ASSIGN_OR_RETURN(o.result, r.VarBytes("OracleResponse result", OracleResponseAttribute::kMaxResultSize));
      RETURN_IF_ERROR(ValidateOracle(o));
      return TransactionAttribute(std::move(o));
    }
    case static_cast<uint8_t>(A::NotValidBefore): {
      ASSIGN_OR_RETURN(uint32_t height, r.U32("NotValidBefore height"));
      return TransactionAttribute(NotValidBeforeAttribute{height});
    }
    case static_cast<uint8_t>(A::Conflicts): {
      ASSIGN_OR_RETURN(UInt256 hash, r.ReadUInt256("Conflicts hash"));
      return TransactionAttribute(ConflictsAttribute{hash});
    }
    case static_cast<uint8_t>(A::NotaryAssisted): {
      ASSIGN_OR_RETURN(uint8_t nkeys, r.U8("NotaryAssisted nkeys"));
      return TransactionAttribute(NotaryAssistedAttribute{nkeys});
    }
    default: return InvalidArgumentError("unknown transaction attribute type " + std::to_string(type));
  }
}

size_t TransactionAttribute::size() const {
  switch (type()) {
    case A::HighPriority: return 1;
    case A::OracleResponse: {
      const auto& o = std::get<OracleResponseAttribute>(value);
      return 1 + 8 + 1 + VarIntSize(o.result.size()) + o.result.size();
    }
    case A::NotValidBefore: return 1 + 4;
    case A::Conflicts: return 1 + UInt256::kSize;
    case A::NotaryAssisted: return 1 + 1;
  }
  return 1;
}

boost::json::value TransactionAttribute::ToJson() const {
  boost::json::object j;
  j["type"] = TransactionAttributeTypeName(type());
  if (const auto* o = std::get_if<OracleResponseAttribute>(&value)) {
    j["id"] = o->id;
    j["code"] = OracleResponseCodeName(o->code);
    j["result"] = Base64Encode(o->result);
  } else if (const auto* n = std::get_if<NotValidBeforeAttribute>(&value)) {
    j["height"] = n->height;
  } else if (const auto* c = std::get_if<ConflictsAttribute>(&value)) {
    j["hash"] = c->hash.ToString();
  } else if (const auto* k = std::get_if<NotaryAssistedAttribute>(&value)) {
    j["nkeys"] = k->nkeys;
  }
  return j;
}

StatusOr<TransactionAttribute> TransactionAttribute::FromJson(const boost::json::value& json) {
  ASSIGN_OR_RETURN(const boost::json::object* j, rpcjson::AsObject(json, "transaction attribute"));
  ASSIGN_OR_RETURN(std::string_view name, rpcjson::StringField(*j, "type", "transaction attribute"));
  if (name == "HighPriority") return TransactionAttribute(HighPriorityAttribute{});
  if (name == "OracleResponse") {
    OracleResponseAttribute o;
    ASSIGN_OR_RETURN(o.id, rpcjson::UintField(*j, "id", UINT64_MAX, "OracleResponse"));
    ASSIGN_OR_RETURN(std::string_view code, rpcjson::StringField(*j, "code", "OracleResponse"));
    std::optional<C> c;
    for (C candidate : kAllCodes) {
      if (OracleResponseCodeName(candidate) == code) c = candidate;
    }
    if (!c) return InvalidArgumentError("OracleResponse code \"" + std::string(code) + "\" is not defined");
    o.code = *c;
    ASSIGN_OR_RETURN(std::string_view result, rpcjson::StringField(*j, "result", "OracleResponse"));
    ASSIGN_OR_RETURN(o.result, rpcjson::Base64Decode(result, "OracleResponse result"));
    RETURN_IF_ERROR(ValidateOracle(o));
    return TransactionAttribute(std::move(o));
  }
  if (name == "NotValidBefore") {
    ASSIGN_OR_RETURN(uint64_t height, rpcjson::UintField(*j, "height", UINT32_MAX, "NotValidBefore"));
    return TransactionAttribute(NotValidBeforeAttribute{static_cast<uint32_t>(height)});
  }
  if (name == "Conflicts") {
    ASSIGN_OR_RETURN(std::string_view hash, rpcjson::StringField(*j, "hash", "Conflicts"));
    auto parsed = UInt256::Parse(hash);
    if (!parsed.ok()) return parsed.status().Annotate("Conflicts hash");
    return TransactionAttribute(ConflictsAttribute{*parsed});
  }
  if (name == "NotaryAssisted") {
    ASSIGN_OR_RETURN(uint64_t nkeys, rpcjson::UintField(*j, "nkeys", UINT8_MAX, "NotaryAssisted"));
    return TransactionAttribute(NotaryAssistedAttribute{static_cast<uint8_t>(nkeys)});
  }
  return InvalidArgumentError("unknown transaction attribute type \"" + std::string(name) + "\"");
}

}  // namespace neosl::neo
