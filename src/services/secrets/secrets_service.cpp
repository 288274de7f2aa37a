#include "services/secrets/secrets_service.h"

#include <algorithm>
#include <iterator>
#include <set>
#include <unordered_map>

#include <boost/json.hpp>

#include "core/encoding.h"
#include "core/log.h"

namespace neosl::services {
namespace {

bool IsSecretName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

StatusOr<AccountId> CallerAccount(const mesh::CallContext& call) {
  if (call.account.empty() || !AccountId::IsWellFormed(call.account)) {
    return PermissionDeniedError("secrets belong to an account: the call carries none");
  }
  return AccountId(call.account);
}

std::string Actor(const mesh::CallContext& call) {
  return call.actor.empty() ? "service:" + call.caller : call.actor;
}

Status BadName(std::string_view field, std::string_view name) {
  return InvalidArgumentError("'" + std::string(name.substr(0, 64)) + "' is not a secret name: names are 1 to 64 of " +
                              "A-Z a-z 0-9 _ -")
      .WithDetail(
          ErrorDetail{"FieldViolation", {}}.Add("field", std::string(field)).Add("description", "bad secret name"));
}

Status CheckFunctionId(std::string_view id) {
  if (FunctionId::IsWellFormed(id)) return Status();
  return InvalidArgumentError("function_id must be a function id (fn_ and 20 base32 characters)")
      .WithDetail(ErrorDetail{"FieldViolation", {}}.Add("field", "function_id").Add("description", "bad function id"));
}

std::string Time(const std::optional<int64_t>& ms) {
  return ms ? FormatRfc3339Millis(*ms) : std::string();
}

}  // namespace

SecretsService::SecretsService(mesh::Pipeline& pipeline, store::Store& store, SecretSealer sealer,
                               services::secrets::AuditLog& audit, std::vector<crypto::PublicKey> trusted_audit_keys,
                               const Clock& clock, SecretsOptions options)
    : pipeline_(pipeline),
      store_(store),
      sealer_(std::move(sealer)),
      audit_(audit),
      trusted_audit_keys_(std::move(trusted_audit_keys)),
      clock_(clock),
      options_(options) {}

Status SecretsService::Put(const mesh::CallContext& call, const secretspb::PutSecretRequest& request,
                           secretspb::SecretInfo* response) {
  ASSIGN_OR_RETURN(AccountId account, CallerAccount(call));
  if (!IsSecretName(request.name())) {
    return InvalidArgumentError("secret names are 1 to 64 of A-Z a-z 0-9 _ -")
        .WithDetail(ErrorDetail{"FieldViolation", {}}.Add("field", "name").Add("description", "bad secret name"));
  }
  if (request.value().empty() == request.encrypted_value().empty()) {
    return InvalidArgumentError("give exactly one of value and encrypted_value");
  }
  const bool encrypted = !request.encrypted_value().empty();
  std::vector<uint8_t> blob;
  std::span<const uint8_t> value;
  if (encrypted) {
    auto decoded = HexDecode(request.encrypted_value());
    if (!decoded) return InvalidArgumentError("encrypted_value must be lowercase hex");
    blob = std::move(*decoded);
    value = blob;
  } else {
    value = std::span(reinterpret_cast<const uint8_t*>(request.value().data()), request.value().size());
    if (value.size() > options_.max_value_bytes) {
      return InvalidArgumentError("the value is over the " + std::to_string(options_.max_value_bytes) + "-byte limit");
    }
  }

  const int64_t now = clock_.NowUnixMillis();
  int64_t version = 1;
  int64_t created = now;
  std::optional<int64_t> rotated;
  Status s = store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto current, tx.QueryOptional("SELECT version, created_at_ms FROM secrets WHERE account_id = ? "
                                                    "AND name = ?",
                                                    {account.str(), request.name()}));
    if (current) {
      ASSIGN_OR_RETURN(int64_t v, current->Int(0));
      ASSIGN_OR_RETURN(created, current->Int(1));
      version = v + 1;
      rotated = now;
    } else {
      ASSIGN_OR_RETURN(auto count, tx.QueryOne("SELECT COUNT(*) FROM secrets WHERE account_id = ?", {account.str()}));
      ASSIGN_OR_RETURN(int64_t n, count.Int(0));
      if (n >= options_.max_secrets_per_account) {
        return ResourceExhaustedError("this account has " + std::to_string(n) + " secrets, the most it may keep")
            .WithDetail(ErrorDetail{"QuotaFailure", {}}
                            .Add("limit", options_.max_secrets_per_account)
                            .Add("resource", "secrets"));
      }
      version = 1;
      created = now;
      rotated.reset();
    }
    // The enclave seals the value for exactly this account, name and version.
    auto sealed = sealer_(account.str(), request.name(), uint32_t(version), encrypted, value);
    if (!sealed.ok() && encrypted && sealed.status().code() == StatusCode::kDataLoss) {
      // The client's blob, not our data: say how to make one the enclave can open.
      return InvalidArgumentError(
          "encrypted_value does not decrypt inside the enclave: encrypt to public_keys.ecies of "
          "/v1/attestation with the info string neosl-secret-v1 (docs/secrets.md)");
    }
    ASSIGN_OR_RETURN(std::vector<uint8_t> ciphertext, std::move(sealed));
    if (current) {
      RETURN_IF_ERROR(tx.Exec("UPDATE secrets SET version = ?, rotated_at_ms = ? WHERE account_id = ? AND name = ?",
                              {version, now, account.str(), request.name()}));
    } else {
      RETURN_IF_ERROR(tx.Exec("INSERT INTO secrets (account_id, name, version, created_at_ms) VALUES (?, ?, ?, ?)",
                              {account.str(), request.name(), version, now}));
    }
    RETURN_IF_ERROR(
        tx.Exec("INSERT INTO secret_versions (account_id, name, version, ciphertext, created_at_ms) "
                "VALUES (?, ?, ?, ?, ?)",
                {account.str(), request.name(), version, store::Blob(ciphertext), now}));
    services::secrets::AuditRecord record{
        account,
        now,
        current ? services::secrets::AuditAction::kRotate : services::secrets::AuditAction::kCreate,
        request.name(),
        Actor(call),
        {{"version", version}, {"client_encrypted", encrypted}}};
    return audit_.Append(tx, record).status();
  });
  RETURN_IF_ERROR(s);
  response->set_name(request.name());
  response->set_version(version);
  response->set_created_at(FormatRfc3339Millis(created));
  response->set_rotated_at(Time(rotated));
  return Status();
}

Status SecretsService::Delete(const mesh::CallContext& call, const secretspb::DeleteSecretRequest& request,
                              secretspb::DeleteSecretResponse* response) {
  ASSIGN_OR_RETURN(AccountId account, CallerAccount(call));
  if (!IsSecretName(request.name())) return InvalidArgumentError("secret names are 1 to 64 of A-Z a-z 0-9 _ -");
  Status s = store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto current, tx.QueryOptional("SELECT version FROM secrets WHERE account_id = ? AND name = ?",
                                                    {account.str(), request.name()}));
    if (!current) return NotFoundError("no secret named '" + request.name() + "'");
    ASSIGN_OR_RETURN(int64_t version, current->Int(0));
    RETURN_IF_ERROR(
        tx.Exec("DELETE FROM secret_versions WHERE account_id = ? AND name = ?", {account.str(), request.name()}));
    RETURN_IF_ERROR(tx.Exec("DELETE FROM secrets WHERE account_id = ? AND name = ?", {account.str(), request.name()}));
    services::secrets::AuditRecord record{
        account,     clock_.NowUnixMillis(), services::secrets::AuditAction::kDelete, request.name(),
        Actor(call), {{"versions", version}}};
    return audit_.Append(tx, record).status();
  });
  RETURN_IF_ERROR(s);
  response->set_name(request.name());
  response->set_deleted(true);
  return Status();
}

Status SecretsService::List(const mesh::CallContext& call, secretspb::ListSecretsResponse* response) {
  ASSIGN_OR_RETURN(AccountId account, CallerAccount(call));
  ASSIGN_OR_RETURN(auto rows, store_.Query("SELECT name, version, created_at_ms, rotated_at_ms FROM secrets "
                                           "WHERE account_id = ? ORDER BY name",
                                           {account.str()}));
  for (const auto& row : rows) {
    auto* info = response->add_secrets();
    ASSIGN_OR_RETURN(std::string name, row.Text(0));
    ASSIGN_OR_RETURN(int64_t version, row.Int(1));
    ASSIGN_OR_RETURN(int64_t created, row.Int(2));
    ASSIGN_OR_RETURN(std::optional<int64_t> rotated, row.OptionalInt(3));
    info->set_name(std::move(name));
    info->set_version(version);
    info->set_created_at(FormatRfc3339Millis(created));
    info->set_rotated_at(Time(rotated));
  }
  ASSIGN_OR_RETURN(auto grants, store_.Query("SELECT name, function_id FROM secret_grants WHERE account_id = ? "
                                             "ORDER BY name, function_id",
                                             {account.str()}));
  // (ORDER BY follows the backend's collation, so match by name rather than merge.)
  std::unordered_map<std::string_view, secretspb::SecretInfo*> by_name;
  for (auto& info : *response->mutable_secrets()) by_name.emplace(info.name(), &info);
  for (const auto& row : grants) {
    ASSIGN_OR_RETURN(std::string name, row.Text(0));
    auto it = by_name.find(name);
    if (it == by_name.end()) continue;  // granted, but not stored (deleted, or not yet created)
    ASSIGN_OR_RETURN(std::string function_id, row.Text(1));
    it->second->add_functions(std::move(function_id));
  }
  return Status();
}

Status SecretsService::Grant(const mesh::CallContext& call, const secretspb::GrantSecretsRequest& request,
                             secretspb::GrantSecretsResponse* response) {
  ASSIGN_OR_RETURN(AccountId account, CallerAccount(call));
  RETURN_IF_ERROR(CheckFunctionId(request.function_id()));
  std::set<std::string> wanted;
  for (const auto& name : request.names()) {
    if (!IsSecretName(name)) return BadName("names", name);
    wanted.insert(name);
  }
  if (wanted.size() > kMaxGrantsPerFunction) {
    return InvalidArgumentError("a function may be granted at most " + std::to_string(kMaxGrantsPerFunction) +
                                " secrets");
  }
  std::vector<std::string> added;
  std::vector<std::string> removed;
  std::vector<std::string> missing;
  Status s = store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    added.clear();
    removed.clear();
    missing.clear();
    ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT name FROM secret_grants WHERE account_id = ? AND function_id = ?",
                                         {account.str(), request.function_id()}));
    std::set<std::string> current;
    for (const auto& row : rows) {
      ASSIGN_OR_RETURN(std::string name, row.Text(0));
      current.insert(std::move(name));
    }
    std::set_difference(wanted.begin(), wanted.end(), current.begin(), current.end(), std::back_inserter(added));
    std::set_difference(current.begin(), current.end(), wanted.begin(), wanted.end(), std::back_inserter(removed));
    const int64_t now = clock_.NowUnixMillis();
    for (const auto& name : added) {
      RETURN_IF_ERROR(
          tx.Exec("INSERT INTO secret_grants (account_id, function_id, name, granted_at_ms) VALUES (?, ?, ?, ?)",
                  {account.str(), request.function_id(), name, now}));
      services::secrets::AuditRecord record{account, now,         services::secrets::AuditAction::kGrant,
                                            name,    Actor(call), {{"function_id", request.function_id()}}};
      RETURN_IF_ERROR(audit_.Append(tx, record).status());
    }
    for (const auto& name : removed) {
      RETURN_IF_ERROR(tx.Exec("DELETE FROM secret_grants WHERE account_id = ? AND function_id = ? AND name = ?",
                              {account.str(), request.function_id(), name}));
      services::secrets::AuditRecord record{account, now,         services::secrets::AuditAction::kRevoke,
                                            name,    Actor(call), {{"function_id", request.function_id()}}};
      RETURN_IF_ERROR(audit_.Append(tx, record).status());
    }
    for (const auto& name : wanted) {
      ASSIGN_OR_RETURN(auto stored, tx.QueryOptional("SELECT 1 FROM secrets WHERE account_id = ? AND name = ?",
                                                     {account.str(), name}));
      if (!stored) missing.push_back(name);
    }
    return Status();
  });
  RETURN_IF_ERROR(s);
  response->set_function_id(request.function_id());
  for (const auto& name : wanted) response->add_granted(name);
  for (auto& name : added) response->add_added(std::move(name));
  for (auto& name : removed) response->add_removed(std::move(name));
  for (auto& name : missing) response->add_missing(std::move(name));
  return Status();
}

Status SecretsService::Resolve(const mesh::CallContext& call, const secretspb::ResolveSecretsRequest& request,
                               secretspb::ResolveSecretsResponse* response) {
  ASSIGN_OR_RETURN(AccountId account, CallerAccount(call));
  RETURN_IF_ERROR(CheckFunctionId(request.function_id()));
  if (!request.execution_id().empty() && !ExecutionId::IsWellFormed(request.execution_id())) {
    return InvalidArgumentError("execution_id must be an execution id (ex_ and 20 base32 characters)");
  }
  std::set<std::string> asked;
  for (const auto& name : request.names()) {
    if (!IsSecretName(name)) return BadName("names", name);
    asked.insert(name);
  }
  if (asked.size() > kMaxGrantsPerFunction) return InvalidArgumentError("too many names");

  auto fill = [&](store::Transaction& tx) -> Status {
    // The granted names, joined with what is stored under them now.
    ASSIGN_OR_RETURN(auto rows,
                     tx.Query("SELECT g.name, s.version, v.ciphertext FROM secret_grants g "
                              "LEFT JOIN secrets s ON s.account_id = g.account_id AND s.name = g.name "
                              "LEFT JOIN secret_versions v ON v.account_id = s.account_id AND v.name = s.name "
                              "AND v.version = s.version "
                              "WHERE g.account_id = ? AND g.function_id = ? ORDER BY g.name",
                              {account.str(), request.function_id()}));
    std::set<std::string> granted;
    for (const auto& row : rows) {
      ASSIGN_OR_RETURN(std::string name, row.Text(0));
      ASSIGN_OR_RETURN(std::optional<int64_t> version, row.OptionalInt(1));
      granted.insert(name);
      const bool wanted = asked.empty() || asked.contains(name);
      if (!wanted) continue;
      if (!version) {
        if (asked.empty()) continue;  // "everything granted" hands out what is stored
        return NotFoundError("no secret named '" + name + "' is stored; the function is granted it")
            .WithDetail(ErrorDetail{"ResourceInfo", {}}.Add("resource_type", "secret").Add("resource_name", name));
      }
      ASSIGN_OR_RETURN(store::Blob ciphertext, row.Bytes(2));
      auto* out = response->add_secrets();
      out->set_name(name);
      out->set_version(uint32_t(*version));
      out->set_ciphertext(std::string(ciphertext.begin(), ciphertext.end()));
    }
    for (const auto& name : asked) {
      if (!granted.contains(name)) {
        return PermissionDeniedError("function " + request.function_id() + " is not granted the secret '" + name + "'")
            .WithDetail(ErrorDetail{"AuthorizationError", {}}
                            .Add("resource", "secret/" + name)
                            .Add("reason", "not granted to the function"));
      }
    }
    return Status();
  };
  boost::json::object details{{"function_id", request.function_id()}};
  if (!request.execution_id().empty()) details["execution_id"] = request.execution_id();
  return HandOut(account, "function:" + request.function_id(), std::move(details), fill, response);
}

Status SecretsService::ResolveForRequest(const mesh::CallContext& call,
                                         const secretspb::ResolveRequestSecretsRequest& request,
                                         secretspb::ResolveSecretsResponse* response) {
  ASSIGN_OR_RETURN(AccountId account, CallerAccount(call));
  if (!OracleRequestId::IsWellFormed(request.request_id())) {
    return InvalidArgumentError("request_id must be an oracle request's id (orc_ and 20 base32 characters)");
  }
  std::set<std::string> asked;
  for (const auto& name : request.names()) {
    if (!IsSecretName(name)) return BadName("names", name);
    asked.insert(name);
  }
  if (asked.empty()) return InvalidArgumentError("names: name the secrets the request needs");
  if (asked.size() > kMaxGrantsPerFunction) return InvalidArgumentError("too many names");
  auto fill = [&](store::Transaction& tx) -> Status {
    for (const auto& name : asked) {
      ASSIGN_OR_RETURN(auto row, tx.QueryOptional("SELECT s.version, v.ciphertext FROM secrets s "
                                                  "JOIN secret_versions v ON v.account_id = s.account_id "
                                                  "AND v.name = s.name AND v.version = s.version "
                                                  "WHERE s.account_id = ? AND s.name = ?",
                                                  {account.str(), name}));
      if (!row) {
        return NotFoundError("no secret named '" + name + "' is stored (the request's headers name it)")
            .WithDetail(ErrorDetail{"ResourceInfo", {}}.Add("resource_type", "secret").Add("resource_name", name));
      }
      ASSIGN_OR_RETURN(int64_t version, row->Int(0));
      ASSIGN_OR_RETURN(store::Blob ciphertext, row->Bytes(1));
      auto* out = response->add_secrets();
      out->set_name(name);
      out->set_version(uint32_t(version));
      out->set_ciphertext(std::string(ciphertext.begin(), ciphertext.end()));
    }
    return Status();
  };
  return HandOut(account, "oracle:" + request.request_id(), boost::json::object{{"request_id", request.request_id()}},
                 fill, response);
}

Status SecretsService::HandOut(const AccountId& account, const std::string& actor, const boost::json::object& details,
                               const std::function<Status(store::Transaction&)>& fill,
                               secretspb::ResolveSecretsResponse* response) {
  Status s = store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    response->clear_secrets();
    RETURN_IF_ERROR(fill(tx));
    // A value handed out is a read: audited before the ciphertext leaves.
    const int64_t now = clock_.NowUnixMillis();
    for (const auto& secret : response->secrets()) {
      boost::json::object entry = details;
      entry["version"] = secret.version();
      services::secrets::AuditRecord record{account,       now,   services::secrets::AuditAction::kRead,
                                            secret.name(), actor, std::move(entry)};
      RETURN_IF_ERROR(audit_.Append(tx, record).status());
    }
    return Status();
  });
  if (!s.ok()) {
    response->clear_secrets();
    return s;
  }
  response->set_account(account.str());
  return Status();
}

Status SecretsService::Audit(const mesh::CallContext& call, const secretspb::ListSecretAuditRequest& request,
                             secretspb::ListSecretAuditResponse* response) {
  ASSIGN_OR_RETURN(AccountId account, CallerAccount(call));
  int64_t limit = request.limit() == 0 ? 100 : request.limit();
  if (limit < 1 || limit > 1000) return InvalidArgumentError("limit must be 1 to 1000");
  if (request.after_seq() < 0) return InvalidArgumentError("after_seq must not be negative");
  ASSIGN_OR_RETURN(auto entries, services::secrets::ListAuditEntries(store_, account, request.after_seq(), limit));
  ASSIGN_OR_RETURN(auto verification, services::secrets::VerifyAuditLog(store_, account, trusted_audit_keys_));
  for (const auto& e : entries) {
    auto* out = response->add_entries();
    out->set_seq(e.seq);
    out->set_at(FormatRfc3339Millis(e.at_ms));
    out->set_action(e.action);
    out->set_subject(e.subject);
    out->set_actor(e.actor);
    out->set_details(e.details);
    out->set_prev_hash(HexEncode(e.prev_hash));
    out->set_hash(HexEncode(e.hash));
  }
  auto* v = response->mutable_verification();
  v->set_ok(verification.ok);
  v->set_entries_checked(verification.entries_checked);
  v->set_last_verified_seq(verification.last_verified_seq);
  v->set_last_checkpoint_seq(verification.last_checkpoint_seq);
  v->set_first_bad_seq(verification.first_bad_seq.value_or(0));
  v->set_reason(verification.reason);
  if (!verification.ok) {
    log::Error("secrets audit log failed verification", {{"account", account.str()}, {"reason", verification.reason}});
  }
  return Status();
}

grpc::ServerUnaryReactor* SecretsService::GrantSecrets(grpc::CallbackServerContext* ctx,
                                                       const secretspb::GrantSecretsRequest* request,
                                                       secretspb::GrantSecretsResponse* response) {
  return pipeline_.Unary(ctx, kIdentity, "GrantSecrets",
                         [&](const mesh::CallContext& call) { return Grant(call, *request, response); });
}

grpc::ServerUnaryReactor* SecretsService::ResolveSecrets(grpc::CallbackServerContext* ctx,
                                                         const secretspb::ResolveSecretsRequest* request,
                                                         secretspb::ResolveSecretsResponse* response) {
  return pipeline_.Unary(ctx, kIdentity, "ResolveSecrets",
                         [&](const mesh::CallContext& call) { return Resolve(call, *request, response); });
}

grpc::ServerUnaryReactor* SecretsService::ResolveRequestSecrets(grpc::CallbackServerContext* ctx,
                                                                const secretspb::ResolveRequestSecretsRequest* request,
                                                                secretspb::ResolveSecretsResponse* response) {
  return pipeline_.Unary(ctx, kIdentity, "ResolveRequestSecrets",
                         [&](const mesh::CallContext& call) { return ResolveForRequest(call, *request, response); });
}

grpc::ServerUnaryReactor* SecretsService::PutSecret(grpc::CallbackServerContext* ctx,
                                                    const secretspb::PutSecretRequest* request,
                                                    secretspb::SecretInfo* response) {
  return pipeline_.Unary(ctx, kIdentity, "PutSecret",
                         [&](const mesh::CallContext& call) { return Put(call, *request, response); });
}

grpc::ServerUnaryReactor* SecretsService::DeleteSecret(grpc::CallbackServerContext* ctx,
                                                       const secretspb::DeleteSecretRequest* request,
                                                       secretspb::DeleteSecretResponse* response) {
  return pipeline_.Unary(ctx, kIdentity, "DeleteSecret",
                         [&](const mesh::CallContext& call) { return Delete(call, *request, response); });
}

grpc::ServerUnaryReactor* SecretsService::ListSecrets(grpc::CallbackServerContext* ctx,
                                                      const secretspb::ListSecretsRequest*,
                                                      secretspb::ListSecretsResponse* response) {
  return pipeline_.Unary(ctx, kIdentity, "ListSecrets",
                         [&](const mesh::CallContext& call) { return List(call, response); });
}

grpc::ServerUnaryReactor* SecretsService::ListSecretAudit(grpc::CallbackServerContext* ctx,
                                                          const secretspb::ListSecretAuditRequest* request,
                                                          secretspb::ListSecretAuditResponse* response) {
  return pipeline_.Unary(ctx, kIdentity, "ListSecretAudit",
                         [&](const mesh::CallContext& call) { return Audit(call, *request, response); });
}

}  // namespace neosl::services
