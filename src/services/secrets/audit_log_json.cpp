// The JSON form of the audit log (AuditExportToJson / AuditExportFromJson in audit_log.h).
#include <string>
#include <utility>

#include "core/encoding.h"
#include "services/secrets/audit_log.h"

namespace neosl::services::secrets {
namespace {

namespace json = boost::json;

StatusOr<std::string> GetString(const json::object& o, std::string_view key, std::string_view where) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string())
    return InvalidArgumentError(std::string(where) + "." + std::string(key) + ": expected a string");
  return std::string(v->as_string());
}

StatusOr<int64_t> GetInt(const json::object& o, std::string_view key, std::string_view where) {
  const json::value* v = o.if_contains(key);
  if (v != nullptr && v->is_int64()) return v->as_int64();
  if (v != nullptr && v->is_uint64() && v->as_uint64() <= uint64_t(INT64_MAX)) return int64_t(v->as_uint64());
  return InvalidArgumentError(std::string(where) + "." + std::string(key) + ": expected an integer");
}

StatusOr<store::Blob> GetHex(const json::object& o, std::string_view key, std::string_view where) {
  ASSIGN_OR_RETURN(std::string text, GetString(o, key, where));
  auto bytes = HexDecode(text);
  if (!bytes) return InvalidArgumentError(std::string(where) + "." + std::string(key) + ": expected hex");
  return *std::move(bytes);
}

const json::array* GetArray(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_array() ? &v->as_array() : nullptr;
}

}  // namespace

json::object AuditEntryToJson(const AuditEntry& e) {
  json::value details(json::string_view(e.details));  // the raw text, unless it is exactly a serialised object
  json::error_code ec;
  json::value parsed = json::parse(e.details, ec);
  if (!ec && parsed.is_object() && json::serialize(parsed) == e.details) details = std::move(parsed);
  return json::object{{"seq", e.seq},
                      {"at", FormatRfc3339Millis(e.at_ms)},
                      {"at_ms", e.at_ms},
                      {"action", e.action},
                      {"subject", e.subject},
                      {"actor", e.actor},
                      {"details", std::move(details)},
                      {"prev_hash", HexEncode(e.prev_hash)},
                      {"hash", HexEncode(e.hash)}};
}

json::object AuditCheckpointToJson(const AuditCheckpoint& c) {
  return json::object{{"seq", c.seq},
                      {"at", FormatRfc3339Millis(c.at_ms)},
                      {"at_ms", c.at_ms},
                      {"hash", HexEncode(c.hash)},
                      {"signature", HexEncode(c.signature)},
                      {"public_key", HexEncode(c.public_key)}};
}

json::object AuditVerificationToJson(const AuditVerification& v) {
  json::object o{{"ok", v.ok},
                 {"entries_checked", v.entries_checked},
                 {"last_verified_seq", v.last_verified_seq},
                 {"last_checkpoint_seq", v.last_checkpoint_seq}};
  o["first_bad_seq"] = v.first_bad_seq ? json::value(*v.first_bad_seq) : json::value(nullptr);
  o["reason"] = v.reason;
  return o;
}

json::object AuditExportToJson(const AccountId& account, std::span<const AuditEntry> entries,
                               std::span<const AuditCheckpoint> checkpoints, const AuditVerification& verification) {
  json::array es;
  es.reserve(entries.size());
  for (const AuditEntry& e : entries) es.emplace_back(AuditEntryToJson(e));
  json::array cs;
  for (const AuditCheckpoint& c : checkpoints) cs.emplace_back(AuditCheckpointToJson(c));
  return json::object{{"account", account.str()},
                      {"entries", std::move(es)},
                      {"checkpoints", std::move(cs)},
                      {"verification", AuditVerificationToJson(verification)}};
}

StatusOr<AuditExport> AuditExportFromJson(const json::value& doc) {
  if (!doc.is_object()) return InvalidArgumentError("audit export: expected an object");
  const json::object& o = doc.as_object();
  AuditExport out;
  ASSIGN_OR_RETURN(std::string account, GetString(o, "account", "audit export"));
  out.account = AccountId(std::move(account));
  const json::array* entries = GetArray(o, "entries");
  const json::array* checkpoints = GetArray(o, "checkpoints");
  if (entries == nullptr) return InvalidArgumentError("audit export.entries: expected an array");
  if (checkpoints == nullptr) return InvalidArgumentError("audit export.checkpoints: expected an array");
  for (size_t i = 0; i < entries->size(); ++i) {
    const std::string where = "entries[" + std::to_string(i) + "]";
    if (!(*entries)[i].is_object()) return InvalidArgumentError(where + ": expected an object");
    const json::object& eo = (*entries)[i].as_object();
    AuditEntry e;
    e.account = out.account;
    ASSIGN_OR_RETURN(e.seq, GetInt(eo, "seq", where));
    ASSIGN_OR_RETURN(e.at_ms, GetInt(eo, "at_ms", where));
    ASSIGN_OR_RETURN(e.action, GetString(eo, "action", where));
    ASSIGN_OR_RETURN(e.subject, GetString(eo, "subject", where));
    ASSIGN_OR_RETURN(e.actor, GetString(eo, "actor", where));
    const json::value* details = eo.if_contains("details");
    if (details != nullptr && details->is_object()) {
      e.details = json::serialize(*details);
    } else if (details != nullptr && details->is_string()) {
      e.details = std::string(details->as_string());
    } else {
      return InvalidArgumentError(where + ".details: expected an object");
    }
    ASSIGN_OR_RETURN(e.prev_hash, GetHex(eo, "prev_hash", where));
    ASSIGN_OR_RETURN(e.hash, GetHex(eo, "hash", where));
    out.entries.push_back(std::move(e));
  }
  for (size_t i = 0; i < checkpoints->size(); ++i) {
    const std::string where = "checkpoints[" + std::to_string(i) + "]";
    if (!(*checkpoints)[i].is_object()) return InvalidArgumentError(where + ": expected an object");
    const json::object& co = (*checkpoints)[i].as_object();
    AuditCheckpoint c;
    c.account = out.account;
    ASSIGN_OR_RETURN(c.seq, GetInt(co, "seq", where));
    ASSIGN_OR_RETURN(c.at_ms, GetInt(co, "at_ms", where));
    ASSIGN_OR_RETURN(c.hash, GetHex(co, "hash", where));
    ASSIGN_OR_RETURN(c.signature, GetHex(co, "signature", where));
    ASSIGN_OR_RETURN(c.public_key, GetHex(co, "public_key", where));
    out.checkpoints.push_back(std::move(c));
  }
  return out;
}

}  // namespace neosl::services::secrets
