// The Secrets service (proto/neosl/secrets/v1, docs/secrets.md): the seed's Secret Store, Access
// Control and Audit Logger. Values reach it as plaintext over the (attested) mesh or already
// encrypted to the enclave; either way the enclave seals them and this service stores only
// ciphertext. Every change is written to the account's hash-chained audit log in the same
// transaction, so a change whose audit entry cannot be written does not happen.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "mesh/server.h"
#include "neosl/secrets/v1/secrets.grpc.pb.h"
#include "services/secrets/audit_log.h"
#include "store/store.h"

namespace neosl::services {

namespace secretspb = ::neosl::secrets::v1;

// How the service has the enclave seal a value: (account, name, version, encrypted?, bytes) →
// ciphertext. `encrypted` bytes are the client's ECIES blob; otherwise the plaintext.
using SecretSealer = std::function<StatusOr<std::vector<uint8_t>>(
    std::string_view account, std::string_view name, uint32_t version, bool encrypted, std::span<const uint8_t> value)>;

struct SecretsOptions {
  int64_t max_secrets_per_account = 1000;
  size_t max_value_bytes = size_t{64} * 1024;
};

class SecretsService final : public secretspb::Secrets::CallbackService {
 public:
  static constexpr std::string_view kIdentity = "secrets";

  // `trusted_audit_key`: the report key checkpoints must be signed by (the enclave's); empty
  // accepts any valid signature.
  SecretsService(mesh::Pipeline& pipeline, store::Store& store, SecretSealer sealer, services::secrets::AuditLog& audit,
                 std::vector<crypto::PublicKey> trusted_audit_keys, const Clock& clock, SecretsOptions options = {});

  grpc::ServerUnaryReactor* PutSecret(grpc::CallbackServerContext* ctx, const secretspb::PutSecretRequest* request,
                                      secretspb::SecretInfo* response) override;
  grpc::ServerUnaryReactor* DeleteSecret(grpc::CallbackServerContext* ctx,
                                         const secretspb::DeleteSecretRequest* request,
                                         secretspb::DeleteSecretResponse* response) override;
  grpc::ServerUnaryReactor* ListSecrets(grpc::CallbackServerContext* ctx, const secretspb::ListSecretsRequest* request,
                                        secretspb::ListSecretsResponse* response) override;
  grpc::ServerUnaryReactor* ListSecretAudit(grpc::CallbackServerContext* ctx,
                                            const secretspb::ListSecretAuditRequest* request,
                                            secretspb::ListSecretAuditResponse* response) override;
  grpc::ServerUnaryReactor* GrantSecrets(grpc::CallbackServerContext* ctx,
                                         const secretspb::GrantSecretsRequest* request,
                                         secretspb::GrantSecretsResponse* response) override;
  grpc::ServerUnaryReactor* ResolveSecrets(grpc::CallbackServerContext* ctx,
                                           const secretspb::ResolveSecretsRequest* request,
                                           secretspb::ResolveSecretsResponse* response) override;
  grpc::ServerUnaryReactor* ResolveRequestSecrets(grpc::CallbackServerContext* ctx,
                                                  const secretspb::ResolveRequestSecretsRequest* request,
                                                  secretspb::ResolveSecretsResponse* response) override;

  static constexpr size_t kMaxGrantsPerFunction = 100;

 private:
  Status Put(const mesh::CallContext& call, const secretspb::PutSecretRequest& request,
             secretspb::SecretInfo* response);
  Status Delete(const mesh::CallContext& call, const secretspb::DeleteSecretRequest& request,
                secretspb::DeleteSecretResponse* response);
  Status List(const mesh::CallContext& call, secretspb::ListSecretsResponse* response);
  Status Audit(const mesh::CallContext& call, const secretspb::ListSecretAuditRequest& request,
               secretspb::ListSecretAuditResponse* response);
  Status Grant(const mesh::CallContext& call, const secretspb::GrantSecretsRequest& request,
               secretspb::GrantSecretsResponse* response);
  Status Resolve(const mesh::CallContext& call, const secretspb::ResolveSecretsRequest& request,
                 secretspb::ResolveSecretsResponse* response);
  Status ResolveForRequest(const mesh::CallContext& call, const secretspb::ResolveRequestSecretsRequest& request,
                           secretspb::ResolveSecretsResponse* response);
  // In one store transaction: `fill` puts the ciphertexts in `response`, and each is audited as
  // a read by `actor` with `details` (and its version). On failure nothing is handed out.
  Status HandOut(const AccountId& account, const std::string& actor, const boost::json::object& details,
                 const std::function<Status(store::Transaction&)>& fill, secretspb::ResolveSecretsResponse* response);

  mesh::Pipeline& pipeline_;
  store::Store& store_;
  SecretSealer sealer_;
  services::secrets::AuditLog& audit_;
  std::vector<crypto::PublicKey> trusted_audit_keys_;
  const Clock& clock_;
  SecretsOptions options_;
};

}  // namespace neosl::services
