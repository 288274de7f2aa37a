#include "neo/witness_rule.h"

#include <algorithm>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/encoding.h"
#include "neo/payload_json.h"

namespace neosl::neo {

namespace {

using T = WitnessConditionType;

bool IsComposite(T t) {
  return t == T::And || t == T::Or;
}
bool HasHash(T t) {
  return t == T::ScriptHash || t == T::CalledByContract;
}
bool HasGroup(T t) {
  return t == T::Group || t == T::CalledByGroup;
}

constexpr T kAllTypes[] = {T::Boolean,      T::Not,   T::And,           T::Or,
                           T::ScriptHash,   T::Group, T::CalledByEntry, T::CalledByContract,
                           T::CalledByGroup};

std::optional<T> TypeFromCode(uint8_t code) {
  for (T t : kAllTypes) {
    if (static_cast<uint8_t>(t) == code) return t;
  }
  return std::nullopt;
}

std::optional<T> TypeFromName(std::string_view name) {
  for (T t : kAllTypes) {
    if (WitnessConditionTypeName(t) == name) return t;
  }
  return std::nullopt;
}

Status TooDeep() {
  return InvalidArgumentError("witness condition nested deeper than " +
                              std::to_string(WitnessCondition::kMaxNestingDepth) + " levels");
}

Status BadOperandCount(T t, size_t n) {
  return InvalidArgumentError(std::string(WitnessConditionTypeName(t)) + " condition: " + std::to_string(n) +
                              " expressions, expected 1.." + std::to_string(WitnessCondition::kMaxSubitems));
}

}  // namespace

std::string_view WitnessConditionTypeName(WitnessConditionType type) {
  switch (type) {
    case T::Boolean: return "Boolean";
    case T::Not: return "Not";
    case T::And: return "And";
    case T::Or: return "Or";
    case T::ScriptHash: return "ScriptHash";
    case T::Group: return "Group";
    case T::CalledByEntry: return "CalledByEntry";
    case T::CalledByContract: return "CalledByContract";
    case T::CalledByGroup: return "CalledByGroup";
  }
  return "Unknown";
}

WitnessCondition WitnessCondition::Boolean(bool expression) {
  WitnessCondition c(T::Boolean);
  c.expression_ = expression;
  return c;
}
WitnessCondition WitnessCondition::Not(WitnessCondition expression) {
  WitnessCondition c(T::Not);
  c.expressions_.push_back(std::move(expression));
  return c;
}
WitnessCondition WitnessCondition::And(std::vector<WitnessCondition> expressions) {
  WitnessCondition c(T::And);
  c.expressions_ = std::move(expressions);
  return c;
}
WitnessCondition WitnessCondition::Or(std::vector<WitnessCondition> expressions) {
  WitnessCondition c(T::Or);
  c.expressions_ = std::move(expressions);
  return c;
}
WitnessCondition WitnessCondition::ScriptHash(const UInt160& hash) {
  WitnessCondition c(T::ScriptHash);
  c.hash_ = hash;
  return c;
}
WitnessCondition WitnessCondition::Group(const crypto::PublicKey& group) {
  WitnessCondition c(T::Group);
  c.group_ = group;
  return c;
}
WitnessCondition WitnessCondition::CalledByEntry() {
  return WitnessCondition(T::CalledByEntry);
}
WitnessCondition WitnessCondition::CalledByContract(const UInt160& hash) {
  WitnessCondition c(T::CalledByContract);
  c.hash_ = hash;
  return c;
}
WitnessCondition WitnessCondition::CalledByGroup(const crypto::PublicKey& group) {
  WitnessCondition c(T::CalledByGroup);
  c.group_ = group;
  return c;
}

bool operator==(const WitnessCondition& a, const WitnessCondition& b) {
  if (a.type_ != b.type_) return false;
  switch (a.type_) {
    case T::Boolean: return a.expression_ == b.expression_;
    case T::Not:
    case T::And:
    case T::Or: return a.expressions_ == b.expressions_;
    case T::ScriptHash:
    case T::CalledByContract: return a.hash_ == b.hash_;
    case T::Group:
    case T::CalledByGroup:
      if (!a.group_ || !b.group_) return a.group_.has_value() == b.group_.has_value();
      return SamePublicKey(*a.group_, *b.group_);
    case T::CalledByEntry: return true;
  }
  return false;
}

Status WitnessCondition::Validate() const {
  return ValidateAt(kMaxNestingDepth);
}

Status WitnessCondition::ValidateAt(int depth_left) const {
  if (depth_left <= 0) return TooDeep();
  if (type_ == T::Not && expressions_.size() != 1) {
    return InvalidArgumentError("Not condition must hold exactly one expression");
  }
  if (IsComposite(type_) && (expressions_.empty() || expressions_.size() > kMaxSubitems)) {
    return BadOperandCount(type_, expressions_.size());
  }
  if (HasGroup(type_) && !group_) {
    return InvalidArgumentError(std::string(WitnessConditionTypeName(type_)) + " condition without a group key");
  }
  for (const auto& e : expressions_) RETURN_IF_ERROR(e.ValidateAt(depth_left - 1));
  return Status();
}

void WitnessCondition::Encode(BinaryWriter& w) const {
  w.U8(static_cast<uint8_t>(type_));
  switch (type_) {
    case T::Boolean: w.Bool(expression_); break;
    case T::Not:
      if (!expressions_.empty()) expressions_.front().Encode(w);
      break;
    case T::And:
    case T::Or:
      w.VarInt(expressions_.size());
      for (const auto& e : expressions_) e.Encode(w);
      break;
    case T::ScriptHash:
    case T::CalledByContract: w.Hash(hash_); break;
    case T::Group:
    case T::CalledByGroup:
      if (group_) WritePublicKey(w, *group_);
      break;
    case T::CalledByEntry: break;
  }
}

size_t WitnessCondition::size() const {
  size_t n = 1;
  if (type_ == T::Boolean) n += 1;
  if (IsComposite(type_)) n += VarIntSize(expressions_.size());
  for (const auto& e : expressions_) n += e.size();
  if (HasHash(type_)) n += UInt160::kSize;
  if (HasGroup(type_)) n += 33;
  return n;
}

StatusOr<WitnessCondition> WitnessCondition::Decode(BinaryReader& r) {
  return DecodeAt(r, kMaxNestingDepth);
}

StatusOr<WitnessCondition> WitnessCondition::DecodeAt(BinaryReader& r, int depth_left) {
  if (depth_left <= 0) return TooDeep();
  ASSIGN_OR_RETURN(uint8_t code, r.U8("witness condition type"));
  std::optional<T> type = TypeFromCode(code);
  if (!type) return InvalidArgumentError("unknown witness condition type " + std::to_string(code));
  WitnessCondition c(*type);
  switch (*type) {
    case T::Boolean: {
      ASSIGN_OR_RETURN(c.expression_, r.Bool("Boolean condition expression"));
      break;
    }
    case T::Not: {
      ASSIGN_OR_RETURN(auto inner, DecodeAt(r, depth_left - 1));
      c.expressions_.push_back(std::move(inner));
      break;
    }
    case T::And:
    case T::Or: {
      ASSIGN_OR_RETURN(uint64_t n, r.VarInt("witness condition expressions count", kMaxSubitems));
      if (n == 0) return BadOperandCount(*type, 0);
      for (uint64_t i = 0; i < n; ++i) {
        ASSIGN_OR_RETURN(auto e, DecodeAt(r, depth_left - 1));
        c.expressions_.push_back(std::move(e));
      }
      break;
    }
    case T::ScriptHash:
    case T::CalledByContract: {
      ASSIGN_OR_RETURN(c.hash_, r.ReadUInt160("witness condition hash"));
      break;
    }
    case T::Group:
    case T::CalledByGroup: {
      ASSIGN_OR_RETURN(c.group_, ReadPublicKey(r, "witness condition group"));
      break;
    }
    case T::CalledByEntry: break;
  }
  return c;
}

boost::json::value WitnessCondition::ToJson() const {
  boost::json::object o;
  o["type"] = WitnessConditionTypeName(type_);
  switch (type_) {
    case T::Boolean: o["expression"] = expression_; break;
    case T::Not:
      if (!expressions_.empty()) o["expression"] = expressions_.front().ToJson();
      break;
    case T::And:
    case T::Or: {
      boost::json::array a;
      for (const auto& e : expressions_) a.push_back(e.ToJson());
      o["expressions"] = std::move(a);
      break;
    }
    case T::ScriptHash:
    case T::CalledByContract: o["hash"] = hash_.ToString(); break;
    case T::Group:
    case T::CalledByGroup:
      if (group_) o["group"] = PublicKeyToHex(*group_);
      break;
    case T::CalledByEntry: break;
  }
  return o;
}

StatusOr<WitnessCondition> WitnessCondition::FromJson(const boost::json::value& json) {
  return FromJsonAt(json, kMaxNestingDepth);
}

StatusOr<WitnessCondition> WitnessCondition::FromJsonAt(const boost::json::value& json, int depth_left) {
  if (depth_left <= 0) return TooDeep();
  ASSIGN_OR_RETURN(const boost::json::object* o, rpcjson::AsObject(json, "witness condition"));
  ASSIGN_OR_RETURN(std::string_view name, rpcjson::StringField(*o, "type", "witness condition"));
  std::optional<T> type = TypeFromName(name);
  if (!type) return InvalidArgumentError("unknown witness condition type \"" + std::string(name) + "\"");
  WitnessCondition c(*type);
  std::string what = std::string(name) + " condition";
  switch (*type) {
    case T::Boolean: {
      ASSIGN_OR_RETURN(const boost::json::value* v, rpcjson::Field(*o, "expression", what));
      const bool* b = v->if_bool();
      if (!b) return InvalidArgumentError(what + ": \"expression\" must be true or false");
      c.expression_ = *b;
      break;
    }
    case T::Not: {
      ASSIGN_OR_RETURN(const boost::json::value* v, rpcjson::Field(*o, "expression", what));
      ASSIGN_OR_RETURN(auto inner, FromJsonAt(*v, depth_left - 1));
      c.expressions_.push_back(std::move(inner));
      break;
    }
    case T::And:
    case T::Or: {
      ASSIGN_OR_RETURN(const boost::json::array* a, rpcjson::ArrayField(*o, "expressions", what));
      if (a->empty() || a->size() > kMaxSubitems) return BadOperandCount(*type, a->size());
      for (const auto& v : *a) {
        ASSIGN_OR_RETURN(auto e, FromJsonAt(v, depth_left - 1));
        c.expressions_.push_back(std::move(e));
      }
      break;
    }
    case T::ScriptHash:
    case T::CalledByContract: {
      ASSIGN_OR_RETURN(std::string_view h, rpcjson::StringField(*o, "hash", what));
      auto parsed = UInt160::Parse(h);
      if (!parsed.ok()) return parsed.status().Annotate(what + " hash");
      c.hash_ = *parsed;
      break;
    }
    case T::Group:
    case T::CalledByGroup: {
      ASSIGN_OR_RETURN(std::string_view g, rpcjson::StringField(*o, "group", what));
      ASSIGN_OR_RETURN(c.group_, PublicKeyFromHex(g, what + " group"));
      break;
    }
    case T::CalledByEntry: break;
  }
  return c;
}

void WitnessRule::Encode(BinaryWriter& w) const {
  w.U8(static_cast<uint8_t>(action));
  condition.Encode(w);
}

StatusOr<WitnessRule> WitnessRule::Decode(BinaryReader& r) {
  WitnessRule rule;
  ASSIGN_OR_RETURN(uint8_t action, r.U8("witness rule action"));
  if (action > 1)
    return InvalidArgumentError("witness rule action " + std::to_string(action) + " is not Deny or Allow");
  rule.action = static_cast<WitnessRuleAction>(action);
  ASSIGN_OR_RETURN(rule.condition, WitnessCondition::Decode(r));
  return rule;
}

boost::json::value WitnessRule::ToJson() const {
  return boost::json::object{{"action", action == WitnessRuleAction::Allow ? "Allow" : "Deny"},
                             {"condition", condition.ToJson()}};
}

StatusOr<WitnessRule> WitnessRule::FromJson(const boost::json::value& json) {
  ASSIGN_OR_RETURN(const boost::json::object* o, rpcjson::AsObject(json, "witness rule"));
  ASSIGN_OR_RETURN(std::string_view action, rpcjson::StringField(*o, "action", "witness rule"));
  WitnessRule rule;
  if (action == "Allow") {
    rule.action = WitnessRuleAction::Allow;
  } else if (action == "Deny") {
    rule.action = WitnessRuleAction::Deny;
  } else {
    return InvalidArgumentError("witness rule action \"" + std::string(action) + "\" is not Deny or Allow");
  }
  ASSIGN_OR_RETURN(const boost::json::value* cond, rpcjson::Field(*o, "condition", "witness rule"));
  ASSIGN_OR_RETURN(rule.condition, WitnessCondition::FromJson(*cond));
  return rule;
}

void WritePublicKey(BinaryWriter& w, const crypto::PublicKey& key) {
  const auto compressed = key.Compressed();
  w.Bytes(std::span<const uint8_t>(compressed.data(), compressed.size()));
}

StatusOr<crypto::PublicKey> ReadPublicKey(BinaryReader& r, std::string_view what) {
  ASSIGN_OR_RETURN(auto bytes, r.Bytes(what, 33));
  if (bytes[0] == 0x04) {
    return InvalidArgumentError(std::string(what) + ": uncompressed public key (non-canonical; Neo encodes 33 bytes)");
  }
  if (bytes[0] != 0x02 && bytes[0] != 0x03) {
    return InvalidArgumentError(std::string(what) + ": invalid public key prefix " + std::to_string(bytes[0]));
  }
  auto key = crypto::PublicKey::FromBytes(bytes);
  if (!key.ok()) return key.status().Annotate(what);
  return key;
}

std::string PublicKeyToHex(const crypto::PublicKey& key) {
  const auto compressed = key.Compressed();
  return HexEncode(std::span<const uint8_t>(compressed.data(), compressed.size()));
}

StatusOr<crypto::PublicKey> PublicKeyFromHex(std::string_view hex, std::string_view what) {
  auto bytes = HexDecode(hex);
  if (!bytes) return InvalidArgumentError(std::string(what) + ": public key is not hex");
  auto key = crypto::PublicKey::FromBytes(*bytes);
  if (!key.ok()) return key.status().Annotate(what);
  return key;
}

bool SamePublicKey(const crypto::PublicKey& a, const crypto::PublicKey& b) {
  const auto ca = a.Compressed();
  const auto cb = b.Compressed();
  return std::equal(ca.begin(), ca.end(), cb.begin(), cb.end());
}

}  // namespace neosl::neo
