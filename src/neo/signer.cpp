#include "neo/signer.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/encoding.h"
#include "neo/payload_json.h"

namespace neosl::neo {

namespace {

struct ScopeName {
  WitnessScope flag;
  std::string_view name;
};
// Ascending by value: the order .NET prints a [Flags] enum in.
constexpr ScopeName kScopeNames[] = {
    {WitnessScope::CalledByEntry, "CalledByEntry"},
    {WitnessScope::CustomContracts, "CustomContracts"},
    {WitnessScope::CustomGroups, "CustomGroups"},
    {WitnessScope::WitnessRules, "WitnessRules"},
    {WitnessScope::Global, "Global"},
};

constexpr uint8_t kAllScopeBits = 0x01 | 0x10 | 0x20 | 0x40 | 0x80;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Status CountWithin(size_t n, std::string_view what) {
  if (n > Signer::kMaxSubitems) {
    return InvalidArgumentError("signer " + std::string(what) + ": " + std::to_string(n) +
                                " entries exceed the maximum of " + std::to_string(Signer::kMaxSubitems));
  }
  return Status();
}

}  // namespace

Status ValidateWitnessScope(uint8_t scopes) {
  if (scopes & ~kAllScopeBits) {
    return InvalidArgumentError("signer scopes 0x" + HexEncode(std::span<const uint8_t>(&scopes, 1)) +
                                " has unknown flags");
  }
  if ((scopes & 0x80) && scopes != 0x80) {
    return InvalidArgumentError("signer scopes: Global cannot be combined with other flags");
  }
  return Status();
}

std::string WitnessScopeToString(WitnessScope scopes) {
  if (scopes == WitnessScope::None) return "None";
  std::string out;
  for (const auto& s : kScopeNames) {
    if (!HasScope(scopes, s.flag)) continue;
    if (!out.empty()) out += ", ";
    out += s.name;
  }
  return out;
}

StatusOr<WitnessScope> ParseWitnessScope(std::string_view text) {
  uint8_t bits = 0;
  std::string_view rest = text;
  while (true) {
    size_t comma = rest.find(',');
    std::string_view part = Trim(rest.substr(0, comma));
    bool known = false;
    if (part == "None") {
      known = true;
    } else {
      for (const auto& s : kScopeNames) {
        if (part == s.name) {
          bits |= static_cast<uint8_t>(s.flag);
          known = true;
        }
      }
    }
    if (!known) return InvalidArgumentError("signer scopes: unknown scope \"" + std::string(part) + "\"");
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  RETURN_IF_ERROR(ValidateWitnessScope(bits));
  return static_cast<WitnessScope>(bits);
}

bool operator==(const Signer& a, const Signer& b) {
  if (a.account != b.account || a.scopes != b.scopes || a.allowed_contracts != b.allowed_contracts ||
      a.rules != b.rules || a.allowed_groups.size() != b.allowed_groups.size()) {
    return false;
  }
  for (size_t i = 0; i < a.allowed_groups.size(); ++i) {
    if (!SamePublicKey(a.allowed_groups[i], b.allowed_groups[i])) return false;
  }
  return true;
}

Status Signer::Validate() const {
  RETURN_IF_ERROR(ValidateWitnessScope(static_cast<uint8_t>(scopes)));
  if (!HasScope(scopes, WitnessScope::CustomContracts) && !allowed_contracts.empty()) {
    return InvalidArgumentError("signer allowed_contracts set without the CustomContracts scope");
  }
  if (!HasScope(scopes, WitnessScope::CustomGroups) && !allowed_groups.empty()) {
    return InvalidArgumentError("signer allowed_groups set without the CustomGroups scope");
  }
  if (!HasScope(scopes, WitnessScope::WitnessRules) && !rules.empty()) {
    return InvalidArgumentError("signer rules set without the WitnessRules scope");
  }
  RETURN_IF_ERROR(CountWithin(allowed_contracts.size(), "allowed contracts"));
  RETURN_IF_ERROR(CountWithin(allowed_groups.size(), "allowed groups"));
  RETURN_IF_ERROR(CountWithin(rules.size(), "rules"));
  for (const auto& rule : rules) RETURN_IF_ERROR(rule.Validate());
  return Status();
}

void Signer::Encode(BinaryWriter& w) const {
  w.Hash(account);
  w.U8(static_cast<uint8_t>(scopes));
  if (HasScope(scopes, WitnessScope::CustomContracts)) {
    w.VarInt(allowed_contracts.size());
    for (const auto& c : allowed_contracts) w.Hash(c);
  }
  if (HasScope(scopes, WitnessScope::CustomGroups)) {
    w.VarInt(allowed_groups.size());
    for (const auto& g : allowed_groups) WritePublicKey(w, g);
  }
  if (HasScope(scopes, WitnessScope::WitnessRules)) {
    w.VarInt(rules.size());
    for (const auto& r : rules) r.Encode(w);
  }
}

StatusOr<Signer> Signer::Decode(BinaryReader& r) {
  Signer s;
  ASSIGN_OR_RETURN(s.account, r.ReadUInt160("signer account"));
  ASSIGN_OR_RETURN(uint8_t scopes, r.U8("signer scopes"));
  RETURN_IF_ERROR(ValidateWitnessScope(scopes));
  s.scopes = static_cast<WitnessScope>(scopes);
  if (HasScope(s.scopes, WitnessScope::CustomContracts)) {
    ASSIGN_OR_RETURN(uint64_t n, r.VarInt("signer allowed contracts count", kMaxSubitems));
    for (uint64_t i = 0; i < n; ++i) {
      ASSIGN_OR_RETURN(auto hash, r.ReadUInt160("signer allowed contract"));
      s.allowed_contracts.push_back(hash);
    }
  }
  if (HasScope(s.scopes, WitnessScope::CustomGroups)) {
    ASSIGN_OR_RETURN(uint64_t n, r.VarInt("signer allowed groups count", kMaxSubitems));
    for (uint64_t i = 0; i < n; ++i) {
      ASSIGN_OR_RETURN(auto key, ReadPublicKey(r, "signer allowed group"));
      s.allowed_groups.push_back(std::move(key));
    }
  }
  if (HasScope(s.scopes, WitnessScope::WitnessRules)) {
    ASSIGN_OR_RETURN(uint64_t n, r.VarInt("signer rules count", kMaxSubitems));
    for (uint64_t i = 0; i < n; ++i) {
      ASSIGN_OR_RETURN(auto rule, WitnessRule::Decode(r));
      s.rules.push_back(std::move(rule));
    }
  }
  return s;
}

size_t Signer::size() const {
  size_t n = UInt160::kSize + 1;
  if (HasScope(scopes, WitnessScope::CustomContracts)) {
    n += VarIntSize(allowed_contracts.size()) + allowed_contracts.size() * UInt160::kSize;
  }
  if (HasScope(scopes, WitnessScope::CustomGroups)) n += VarIntSize(allowed_groups.size()) + allowed_groups.size() * 33;
  if (HasScope(scopes, WitnessScope::WitnessRules)) {
    n += VarIntSize(rules.size());
    for (const auto& r : rules) n += r.size();
  }
  return n;
}

boost::json::value Signer::ToJson() const {
  boost::json::object o;
  o["account"] = account.ToString();
  o["scopes"] = WitnessScopeToString(scopes);
  if (HasScope(scopes, WitnessScope::CustomContracts)) {
    boost::json::array a;
    for (const auto& c : allowed_contracts) a.emplace_back(c.ToString());
    o["allowedcontracts"] = std::move(a);
  }
  if (HasScope(scopes, WitnessScope::CustomGroups)) {
    boost::json::array a;
    for (const auto& g : allowed_groups) a.emplace_back(PublicKeyToHex(g));
    o["allowedgroups"] = std::move(a);
  }
  if (HasScope(scopes, WitnessScope::WitnessRules)) {
    boost::json::array a;
    for (const auto& r : rules) a.push_back(r.ToJson());
    o["rules"] = std::move(a);
  }
  return o;
}

StatusOr<Signer> Signer::FromJson(const boost::json::value& json) {
  ASSIGN_OR_RETURN(const boost::json::object* o, rpcjson::AsObject(json, "signer"));
  Signer s;
  ASSIGN_OR_RETURN(std::string_view account, rpcjson::StringField(*o, "account", "signer"));
  if (account.size() == 34) {  // an address; a hash is 40 hex digits
    ASSIGN_OR_RETURN(s.account, rpcjson::ParseAddress(account, "signer account"));
  } else {
    auto hash = UInt160::Parse(account);
    if (!hash.ok()) return hash.status().Annotate("signer account");
    s.account = *hash;
  }
  ASSIGN_OR_RETURN(std::string_view scopes, rpcjson::StringField(*o, "scopes", "signer"));
  ASSIGN_OR_RETURN(s.scopes, ParseWitnessScope(scopes));
  // As Neo's Signer.FromJson: a list is read only when its flag is set, and is then required.
  if (HasScope(s.scopes, WitnessScope::CustomContracts)) {
    ASSIGN_OR_RETURN(const boost::json::array* a, rpcjson::ArrayField(*o, "allowedcontracts", "signer"));
    RETURN_IF_ERROR(CountWithin(a->size(), "allowed contracts"));
    for (const auto& v : *a) {
      const boost::json::string* str = v.if_string();
      if (!str) return InvalidArgumentError("signer allowedcontracts: expected strings");
      auto hash = UInt160::Parse(*str);
      if (!hash.ok()) return hash.status().Annotate("signer allowedcontracts");
      s.allowed_contracts.push_back(*hash);
    }
  }
  if (HasScope(s.scopes, WitnessScope::CustomGroups)) {
    ASSIGN_OR_RETURN(const boost::json::array* a, rpcjson::ArrayField(*o, "allowedgroups", "signer"));
    RETURN_IF_ERROR(CountWithin(a->size(), "allowed groups"));
    for (const auto& v : *a) {
      const boost::json::string* str = v.if_string();
      if (!str) return InvalidArgumentError("signer allowedgroups: expected strings");
      ASSIGN_OR_RETURN(auto key, PublicKeyFromHex(*str, "signer allowedgroups"));
      s.allowed_groups.push_back(std::move(key));
    }
  }
  if (HasScope(s.scopes, WitnessScope::WitnessRules)) {
    ASSIGN_OR_RETURN(const boost::json::array* a, rpcjson::ArrayField(*o, "rules", "signer"));
    RETURN_IF_ERROR(CountWithin(a->size(), "rules"));
    for (const auto& v : *a) {
      ASSIGN_OR_RETURN(auto rule, WitnessRule::FromJson(v));
      s.rules.push_back(std::move(rule));
    }
  }
  return s;
}

}  // namespace neosl::neo
