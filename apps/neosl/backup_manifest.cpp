// The manifest of the backup archive (declared in backup_archive.h): one JSON object.
#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <boost/json.hpp>

#include "apps/neosl/backup_archive.h"
#include "core/encoding.h"

namespace neosl::backup {
namespace {

namespace json = boost::json;

std::string FormatOctalMode(uint32_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", unsigned(mode & 07777));
  return text;
}

bool IsLowerHex64(std::string_view s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

std::string ManifestToJson(const Manifest& m) {
  json::array members;
  for (const Member& e : m.members) {
    members.push_back(json::object{
        {"name", e.name}, {"kind", e.kind}, {"size", e.size}, {"mode", FormatOctalMode(e.mode)}, {"sha256", e.sha256}});
  }
  json::array left_out;
  for (const auto& [what, why] : m.not_included) left_out.push_back(json::object{{"what", what}, {"why", why}});
  json::object o{{"format", kFormatName},
                 {"format_version", m.format_version},
                 {"neosl_version", m.neosl_version},
                 {"store_driver", m.store_driver},
                 {"schema_version", m.schema_version},
                 {"created_at", FormatRfc3339Millis(m.created_at_ms)},
                 {"created_at_ms", m.created_at_ms},
                 {"with_devchain", m.with_devchain},
                 {"members", std::move(members)},
                 {"not_included", std::move(left_out)}};
  return json::serialize(o) + "\n";
}

namespace {

StatusOr<const json::value*> Field(const json::object& o, std::string_view name, json::kind kind,
                                   const std::string& where) {
  const json::value* v = o.if_contains(name);
  bool ok = v != nullptr && (v->kind() == kind || (kind == json::kind::int64 && v->is_uint64()));
  if (!ok) return InvalidArgumentError(where + ": field '" + std::string(name) + "' is missing or of the wrong type");
  return v;
}

StatusOr<int64_t> IntField(const json::object& o, std::string_view name, const std::string& where) {
  ASSIGN_OR_RETURN(const json::value* v, Field(o, name, json::kind::int64, where));
  if (v->is_uint64() && v->as_uint64() > uint64_t(INT64_MAX)) {
    return InvalidArgumentError(where + ": field '" + std::string(name) + "' is out of range");
  }
  return v->to_number<int64_t>();
}

StatusOr<std::string> StringField(const json::object& o, std::string_view name, const std::string& where) {
  ASSIGN_OR_RETURN(const json::value* v, Field(o, name, json::kind::string, where));
  return std::string(v->as_string());
}

}  // namespace

StatusOr<Manifest> ManifestFromJson(std::string_view text) {
  const std::string where = "the manifest";
  json::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec || !doc.is_object()) return InvalidArgumentError("the manifest is not a JSON object");
  const json::object& o = doc.as_object();
  ASSIGN_OR_RETURN(std::string format, StringField(o, "format", where));
  if (format != kFormatName) return InvalidArgumentError("the manifest is not of a neosl backup ('" + format + "')");
  Manifest m;
  ASSIGN_OR_RETURN(int64_t version, IntField(o, "format_version", where));
  if (version > kFormatVersion) {
    return FailedPreconditionError("the archive's format version " + std::to_string(version) +
                                   " is newer than this binary reads (" + std::to_string(kFormatVersion) +
                                   "); restore it with a newer neosl");
  }
  if (version < 1) return InvalidArgumentError("the manifest's format_version is not valid");
  m.format_version = int(version);
  ASSIGN_OR_RETURN(m.neosl_version, StringField(o, "neosl_version", where));
  ASSIGN_OR_RETURN(m.store_driver, StringField(o, "store_driver", where));
  ASSIGN_OR_RETURN(m.schema_version, IntField(o, "schema_version", where));
  ASSIGN_OR_RETURN(m.created_at_ms, IntField(o, "created_at_ms", where));
  ASSIGN_OR_RETURN(const json::value* devchain, Field(o, "with_devchain", json::kind::bool_, where));
  m.with_devchain = devchain->as_bool();
  ASSIGN_OR_RETURN(const json::value* members, Field(o, "members", json::kind::array, where));
  for (const json::value& v : members->as_array()) {
    const std::string at = "manifest member " + std::to_string(m.members.size());
    if (!v.is_object()) return InvalidArgumentError(at + " is not an object");
    const json::object& e = v.as_object();
    Member member;
    ASSIGN_OR_RETURN(member.name, StringField(e, "name", at));
    RETURN_IF_ERROR(ValidateMemberName(member.name).Annotate(at));
    ASSIGN_OR_RETURN(member.kind, StringField(e, "kind", at));
    ASSIGN_OR_RETURN(int64_t size, IntField(e, "size", at));
    if (size < 0) return InvalidArgumentError(at + ": negative size");
    member.size = uint64_t(size);
    ASSIGN_OR_RETURN(std::string mode, StringField(e, "mode", at));
    char* end = nullptr;
    unsigned long parsed = std::strtoul(mode.c_str(), &end, 8);
    if (mode.empty() || *end != '\0' || parsed > 07777) return InvalidArgumentError(at + ": mode is not octal");
    member.mode = uint32_t(parsed);
    ASSIGN_OR_RETURN(member.sha256, StringField(e, "sha256", at));
    if (!IsLowerHex64(member.sha256)) return InvalidArgumentError(at + ": sha256 is not 64 lowercase hex digits");
    m.members.push_back(std::move(member));
  }
  ASSIGN_OR_RETURN(const json::value* left_out, Field(o, "not_included", json::kind::array, where));
  for (const json::value& v : left_out->as_array()) {
    if (!v.is_object()) return InvalidArgumentError("manifest: not_included holds a non-object");
    ASSIGN_OR_RETURN(std::string what, StringField(v.as_object(), "what", "not_included"));
    ASSIGN_OR_RETURN(std::string why, StringField(v.as_object(), "why", "not_included"));
    m.not_included.emplace_back(std::move(what), std::move(why));
  }
  return m;
}

}  // namespace neosl::backup
