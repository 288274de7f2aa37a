#include "services/secrets/secrets_service.h"

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
