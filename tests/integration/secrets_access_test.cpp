// Secrets access control end to end, in one process around the real enclave (`neosl enclave`,
// sandboxed): the secrets service on an in-process mesh under the default authorization policy,
// SQLite, the audit log signed by the enclave's report key. The test plays two mesh callers —
// the gateway (stores secrets for an account) and the functions service (grants them to a
// function and has them handed out for an invocation) — and then does what the JS runtime does
// with what it got: opens it inside the enclave through a SecretProvider (the secret_read test
// command answers digests, never values).
#include <chrono>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/ids.h"
#include "core/random.h"
#include "crypto/hash.h"
#include "mesh/client.h"
#include "mesh/policy.h"
#include "mesh/registry.h"
#include "mesh/server.h"
#include "neosl/secrets/v1/secrets.pb.h"
#include "schema/migrations.h"
#include "services/secrets/audit_log.h"
#include "services/secrets/secrets_service.h"
#include "store/sqlite_store.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/test_store_open.h"
#include "tee/host.h"

namespace neosl {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace pb = ::neosl::secrets::v1;

constexpr char kAccountA[] = "acc_aaaaaaaaaaaaaaaaaaaa";
constexpr char kAccountB[] = "acc_bbbbbbbbbbbbbbbbbbbb";

std::string Sha256Of(const std::string& s) {
  auto d = crypto::Sha256(std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  return {d.begin(), d.end()};
}

// Checkpoints signed by the enclave's report key, as `neosl serve` signs them.
class EnclaveSigner final : public services::secrets::AuditSigner {
 public:
  EnclaveSigner(tee::EnclaveHost& host, crypto::PublicKey key) : host_(host), key_(std::move(key)) {}
  StatusOr<crypto::Signature> Sign(std::span<const uint8_t> message) override {
    tee::v1::EcallRequest req;
    req.mutable_sign()->set_key(tee::v1::SignRequest::REPORT);
    req.mutable_sign()->set_message(std::string(message.begin(), message.end()));
    ASSIGN_OR_RETURN(tee::v1::EcallResponse r, host_.Call(req, milliseconds(10'000)));
    if (r.signature().size() != 64) return InternalError("bad signature size");
    crypto::Signature s{};
    std::copy(r.signature().begin(), r.signature().end(), s.begin());
    return s;
  }
  crypto::PublicKey public_key() override { return key_; }

 private:
  tee::EnclaveHost& host_;
  crypto::PublicKey key_;
};

class SecretsAccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.File("sealed"));
    tee::EnclaveHostOptions o;
    o.binary = testing::NeoslBinary();
    o.args = {"enclave",       "--sealed-dir", dir_.File("sealed"), "--platform-secret", dir_.File("platform.secret"),
              "--seal-policy", "measurement",  "--test-commands"};
    auto host = tee::EnclaveHost::Start(std::move(o));
    ASSERT_TRUE(host.ok()) << host.status().ToString();
    enclave_ = std::move(*host);
    ASSERT_TRUE(enclave_->WaitReady(milliseconds(20'000)));

    tee::v1::EcallRequest keys_req;
    keys_req.mutable_get_public_keys();
    auto keys = enclave_->Call(keys_req, milliseconds(10'000));
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    const std::string& report = keys->public_keys().report();
    auto report_key =
        crypto::PublicKey::FromBytes(std::span(reinterpret_cast<const uint8_t*>(report.data()), report.size()));
    ASSERT_TRUE(report_key.ok());
    std::array<uint8_t, 32> measurement{};
    ASSERT_EQ(keys->public_keys().measurement().size(), 32u);
    std::copy(keys->public_keys().measurement().begin(), keys->public_keys().measurement().end(), measurement.begin());

    auto store = ::neosl::testing::OpenTestStore({.path = dir_.File("neosl.db")});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Migrate(schema::Migrations()).ok());

    signer_ = std::make_unique<EnclaveSigner>(*enclave_, *report_key);
    audit_ = std::make_unique<services::secrets::AuditLog>(*signer_);
    auto policy = mesh::AuthzPolicy::FromYaml(mesh::DefaultAuthzPolicyYaml());
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
    policy_ = std::make_unique<mesh::AuthzPolicy>(std::move(*policy));

    mesh::PipelineOptions po;
    po.policy = policy_.get();
    tee::EnclaveHost* enclave = enclave_.get();
    po.evidence = [enclave](std::span<const uint8_t> nonce) -> StatusOr<std::string> {
      tee::v1::EcallRequest req;
      req.mutable_attest()->set_nonce(std::string(nonce.begin(), nonce.end()));
      ASSIGN_OR_RETURN(tee::v1::EcallResponse r, enclave->Call(req, milliseconds(10'000)));
      return r.evidence_json();
    };
    pipeline_ = std::make_unique<mesh::Pipeline>(std::move(po), SystemClock::Instance(), SecureRandom::Instance());
    services::SecretSealer sealer = [enclave](std::string_view account, std::string_view name, uint32_t version,
                                              bool encrypted,
                                              std::span<const uint8_t> value) -> StatusOr<std::vector<uint8_t>> {
      tee::v1::EcallRequest req;
      auto* seal = req.mutable_secret_seal();
      seal->set_account(std::string(account));
      seal->set_name(std::string(name));
      seal->set_version(version);
      std::string bytes(value.begin(), value.end());
      if (encrypted) {
        seal->set_encrypted_value(bytes);
      } else {
        seal->set_plaintext(bytes);
      }
      ASSIGN_OR_RETURN(tee::v1::EcallResponse r, enclave->Call(req, milliseconds(10'000)));
      return std::vector<uint8_t>(r.secret_ciphertext().begin(), r.secret_ciphertext().end());
    };
    service_ = std::make_unique<services::SecretsService>(*pipeline_, *store_, std::move(sealer), *audit_,
                                                          std::vector<crypto::PublicKey>{*report_key},
                                                          SystemClock::Instance());
    server_ = std::make_unique<mesh::MeshServer>(mesh::ServerOptions{}, *pipeline_, "secrets-t");
    server_->AddService(service_.get());
    ASSERT_TRUE(server_->Start().ok());
    registry_ = mesh::NewMemoryRegistry();
    auto reg = registry_->Register(mesh::Endpoint{"secrets", "secrets-t", "inproc", "t", true, {}});
    ASSERT_TRUE(reg.ok());
    registration_ = std::move(*reg);

    tee::AttestationPolicy attestation;
    attestation.measurements.push_back(measurement);
    attestation.allow_simulation = true;
    gateway_ = Client("gateway", attestation);
    functions_ = Client("functions", std::nullopt);
  }

  void TearDown() override {
    gateway_.reset();
    functions_.reset();
    registration_.reset();
    if (server_) server_->Shutdown(milliseconds(1000));
  }

  std::unique_ptr<mesh::MeshClient> Client(const std::string& identity,
                                           std::optional<tee::AttestationPolicy> attestation) {
    mesh::ClientOptions options;
    options.identity = identity;
    options.attestation = std::move(attestation);
    return std::make_unique<mesh::MeshClient>(options, *registry_, mesh::InProcessChannels(*server_, identity),
                                              SystemClock::Instance(), SecureRandom::Instance());
  }

  static mesh::CallOptions As(const std::string& account) {
    mesh::CallOptions o;
    o.account = account;
    o.actor = "key:test";
    return o;
  }

  Status Put(const std::string& account, const std::string& name, const std::string& value) {
    pb::PutSecretRequest req;
    req.set_name(name);
    req.set_value(value);
    pb::SecretInfo info;
    return gateway_->Call("secrets", "/neosl.secrets.v1.Secrets/PutSecret", req, &info, As(account));
  }

  StatusOr<pb::GrantSecretsResponse> Grant(mesh::MeshClient& client, const std::string& account,
                                           const std::string& function, std::vector<std::string> names) {
    pb::GrantSecretsRequest req;
    req.set_function_id(function);
    for (auto& n : names) req.add_names(std::move(n));
    pb::GrantSecretsResponse resp;
    RETURN_IF_ERROR(client.Call("secrets", "/neosl.secrets.v1.Secrets/GrantSecrets", req, &resp, As(account)));
    return resp;
  }

  StatusOr<pb::ResolveSecretsResponse> Resolve(mesh::MeshClient& client, const std::string& account,
                                               const std::string& function, std::vector<std::string> names,
                                               const std::string& execution = "") {
    pb::ResolveSecretsRequest req;
    req.set_function_id(function);
    req.set_execution_id(execution);
    for (auto& n : names) req.add_names(std::move(n));
    pb::ResolveSecretsResponse resp;
    RETURN_IF_ERROR(client.Call("secrets", "/neosl.secrets.v1.Secrets/ResolveSecrets", req, &resp, As(account)));
    return resp;
  }

  // What the runtime does with a resolution: reads `names` inside the enclave as `account`.
  StatusOr<std::vector<tee::v1::SecretDigest>> ReadInEnclave(const std::string& account,
                                                             const pb::ResolveSecretsResponse& resolved,
                                                             std::vector<std::string> names) {
    tee::v1::EcallRequest req;
    auto* read = req.mutable_test()->mutable_secret_read();
    read->mutable_secrets()->set_account(account);
    for (const auto& s : resolved.secrets()) {
      auto* out = read->mutable_secrets()->add_secrets();
      out->set_name(s.name());
      out->set_version(s.version());
      out->set_ciphertext(s.ciphertext());
    }
    for (auto& n : names) read->add_names(std::move(n));
    ASSIGN_OR_RETURN(tee::v1::EcallResponse r, enclave_->Call(req, milliseconds(10'000)));
    return std::vector<tee::v1::SecretDigest>(r.secret_digests().digests().begin(), r.secret_digests().digests().end());
  }

  std::vector<services::secrets::AuditEntry> AuditOf(const std::string& account) {
    auto entries = services::secrets::ListAuditEntries(*store_, AccountId(account), 0, 1000);
    EXPECT_TRUE(entries.ok()) << entries.status().ToString();
    return entries.ok() ? *entries : std::vector<services::secrets::AuditEntry>{};
  }

  std::string NewFunction() { return FunctionId::Generate(SecureRandom::Instance()).str(); }

  testing::TempDir dir_;
  std::unique_ptr<tee::EnclaveHost> enclave_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<EnclaveSigner> signer_;
  std::unique_ptr<services::secrets::AuditLog> audit_;
  std::unique_ptr<mesh::AuthzPolicy> policy_;
  std::unique_ptr<mesh::Pipeline> pipeline_;
  std::unique_ptr<services::SecretsService> service_;
  std::unique_ptr<mesh::MeshServer> server_;
  std::unique_ptr<mesh::Registry> registry_;
  std::unique_ptr<mesh::Registration> registration_;
  std::unique_ptr<mesh::MeshClient> gateway_, functions_;
};

TEST_F(SecretsAccessTest, AGrantedFunctionGetsItsSecretsAndOnlyTheEnclaveOpensThem) {
  ASSERT_TRUE(Put(kAccountA, "api_key", "value-of-api-key").ok());
  ASSERT_TRUE(Put(kAccountA, "db_pass", "value-of-db-pass").ok());
  ASSERT_TRUE(Put(kAccountA, "unrelated", "value-unrelated").ok());
  const std::string fn = NewFunction();

  auto granted = Grant(*functions_, kAccountA, fn, {"db_pass", "api_key", "api_key", "not_yet"});
  ASSERT_TRUE(granted.ok()) << granted.status().ToString();
  EXPECT_THAT(granted->granted(), ElementsAre("api_key", "db_pass", "not_yet"));
  EXPECT_THAT(granted->added(), ElementsAre("api_key", "db_pass", "not_yet"));
  EXPECT_TRUE(granted->removed().empty());
  EXPECT_THAT(granted->missing(), ElementsAre("not_yet"));

  // The list shows which functions may read each secret.
  pb::ListSecretsResponse list;
  ASSERT_TRUE(
      gateway_->Call("secrets", "/neosl.secrets.v1.Secrets/ListSecrets", pb::ListSecretsRequest(), &list, As(kAccountA))
          .ok());
  ASSERT_EQ(list.secrets_size(), 3);
  EXPECT_THAT(list.secrets(0).functions(), ElementsAre(fn));  // api_key
  EXPECT_THAT(list.secrets(1).functions(), ElementsAre(fn));  // db_pass
  EXPECT_TRUE(list.secrets(2).functions().empty());           // unrelated

  const std::string execution = ExecutionId::Generate(SecureRandom::Instance()).str();
  auto resolved = Resolve(*functions_, kAccountA, fn, {}, execution);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->account(), kAccountA);
  ASSERT_EQ(resolved->secrets_size(), 2);  // every granted secret that is stored
  EXPECT_EQ(resolved->secrets(0).name(), "api_key");
  EXPECT_EQ(resolved->secrets(1).name(), "db_pass");
  for (const auto& s : resolved->secrets()) {
    EXPECT_EQ(s.version(), 1u);
    EXPECT_THAT(s.ciphertext(), ::testing::Not(HasSubstr("value-of")));  // sealed, not plaintext
  }

  auto read = ReadInEnclave(kAccountA, *resolved, {"db_pass", "api_key"});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].sha256(), Sha256Of("value-of-db-pass"));
  EXPECT_EQ((*read)[0].length(), 16u);
  EXPECT_EQ((*read)[1].sha256(), Sha256Of("value-of-api-key"));
  // What was not granted is not in the invocation's provider.
  EXPECT_EQ(ReadInEnclave(kAccountA, *resolved, {"unrelated"}).status().code(), StatusCode::kNotFound);

  // Audit: three creates, three grants, two reads naming the function and the execution.
  auto audit = AuditOf(kAccountA);
  std::vector<std::string> actions;
  for (const auto& e : audit) actions.push_back(e.action + ":" + e.subject);
  EXPECT_THAT(actions, ElementsAre("create:api_key", "create:db_pass", "create:unrelated", "grant:api_key",
                                   "grant:db_pass", "grant:not_yet", "read:api_key", "read:db_pass"));
  EXPECT_EQ(audit[6].actor, "function:" + fn);
  EXPECT_THAT(audit[6].details, HasSubstr(execution));
  EXPECT_THAT(audit[3].details, HasSubstr(fn));
  const std::vector<crypto::PublicKey> trusted = {signer_->public_key()};
  auto verified = services::secrets::VerifyAuditLog(*store_, AccountId(kAccountA), trusted);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok) << verified->reason;
}

TEST_F(SecretsAccessTest, UngrantedMissingAndCrossAccountReadsFail) {
  ASSERT_TRUE(Put(kAccountA, "token", "a-token").ok());
  ASSERT_TRUE(Put(kAccountA, "other", "a-other").ok());
  ASSERT_TRUE(Put(kAccountB, "token", "b-token").ok());
  const std::string fn = NewFunction();
  ASSERT_TRUE(Grant(*functions_, kAccountA, fn, {"token", "gone"}).ok());

  // A secret the function is not granted: PERMISSION_DENIED, and nothing handed out.
  auto r = Resolve(*functions_, kAccountA, fn, {"token", "other"});
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << r.status().ToString();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("other"));
  // Granted but not stored: NOT_FOUND.
  r = Resolve(*functions_, kAccountA, fn, {"gone"});
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << r.status().ToString();
  // Another account naming this function gets nothing of account A's: its grants are its own.
  r = Resolve(*functions_, kAccountB, fn, {"token"});
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << r.status().ToString();
  r = Resolve(*functions_, kAccountB, fn, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->secrets_size(), 0);
  // A function of account B granted "token" gets B's token, never A's.
  const std::string fn_b = NewFunction();
  ASSERT_TRUE(Grant(*functions_, kAccountB, fn_b, {"token"}).ok());
  auto rb = Resolve(*functions_, kAccountB, fn_b, {"token"});
  ASSERT_TRUE(rb.ok());
  auto read = ReadInEnclave(kAccountB, *rb, {"token"});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ((*read)[0].sha256(), Sha256Of("b-token"));

  // A's ciphertext presented as account B's does not open inside the enclave.
  auto ra = Resolve(*functions_, kAccountA, fn, {"token"});
  ASSERT_TRUE(ra.ok());
  EXPECT_EQ(ReadInEnclave(kAccountB, *ra, {"token"}).status().code(), StatusCode::kDataLoss);
  // Nor as another name.
  pb::ResolveSecretsResponse renamed = *ra;
  renamed.mutable_secrets(0)->set_name("other");
  EXPECT_EQ(ReadInEnclave(kAccountA, renamed, {"other"}).status().code(), StatusCode::kDataLoss);

  // Only reads that handed something out are audited as reads.
  size_t reads = 0;
  for (const auto& e : AuditOf(kAccountA)) reads += e.action == "read";
  EXPECT_EQ(reads, 1u);
}

TEST_F(SecretsAccessTest, OnlyTheFunctionsServiceMayGrantOrResolve) {
  ASSERT_TRUE(Put(kAccountA, "token", "a-token").ok());
  const std::string fn = NewFunction();
  auto g = Grant(*gateway_, kAccountA, fn, {"token"});
  EXPECT_EQ(g.status().code(), StatusCode::kPermissionDenied) << g.status().ToString();
  auto echo = Client("echo", std::nullopt);
  EXPECT_EQ(Grant(*echo, kAccountA, fn, {"token"}).status().code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(Grant(*functions_, kAccountA, fn, {"token"}).ok());
  auto r = Resolve(*gateway_, kAccountA, fn, {"token"});
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << r.status().ToString();
  EXPECT_EQ(Resolve(*echo, kAccountA, fn, {"token"}).status().code(), StatusCode::kPermissionDenied);
  // A call that carries no account is refused too.
  pb::ResolveSecretsRequest req;
  req.set_function_id(fn);
  pb::ResolveSecretsResponse resp;
  EXPECT_EQ(functions_->Call("secrets", "/neosl.secrets.v1.Secrets/ResolveSecrets", req, &resp).code(),
            StatusCode::kPermissionDenied);
}

TEST_F(SecretsAccessTest, RegrantingRevokesAndRotationHandsOutTheNewVersion) {
  ASSERT_TRUE(Put(kAccountA, "one", "first").ok());
  ASSERT_TRUE(Put(kAccountA, "two", "second").ok());
  const std::string fn = NewFunction();
  ASSERT_TRUE(Grant(*functions_, kAccountA, fn, {"one", "two"}).ok());
  auto g = Grant(*functions_, kAccountA, fn, {"two"});
  ASSERT_TRUE(g.ok());
  EXPECT_THAT(g->removed(), ElementsAre("one"));
  EXPECT_TRUE(g->added().empty());
  EXPECT_EQ(Resolve(*functions_, kAccountA, fn, {"one"}).status().code(), StatusCode::kPermissionDenied);
  // The same grant again changes nothing and audits nothing.
  const size_t before = AuditOf(kAccountA).size();
  g = Grant(*functions_, kAccountA, fn, {"two"});
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->added().empty() && g->removed().empty());
  EXPECT_EQ(AuditOf(kAccountA).size(), before);

  ASSERT_TRUE(Put(kAccountA, "two", "second-rotated").ok());
  auto r = Resolve(*functions_, kAccountA, fn, {"two"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->secrets(0).version(), 2u);
  auto read = ReadInEnclave(kAccountA, *r, {"two"});
  ASSERT_TRUE(read.ok());
  EXPECT_EQ((*read)[0].sha256(), Sha256Of("second-rotated"));

  // A deleted secret is no longer handed out; the grant stays, so the name's next secret is.
  pb::DeleteSecretRequest del;
  del.set_name("two");
  pb::DeleteSecretResponse deleted;
  ASSERT_TRUE(gateway_->Call("secrets", "/neosl.secrets.v1.Secrets/DeleteSecret", del, &deleted, As(kAccountA)).ok());
  EXPECT_EQ(Resolve(*functions_, kAccountA, fn, {"two"}).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(Put(kAccountA, "two", "reborn").ok());
  r = Resolve(*functions_, kAccountA, fn, {"two"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->secrets(0).version(), 1u);

  // Revoking everything (a deleted function).
  g = Grant(*functions_, kAccountA, fn, {});
  ASSERT_TRUE(g.ok());
  EXPECT_THAT(g->removed(), ElementsAre("two"));
  std::vector<std::string> actions;
  for (const auto& e : AuditOf(kAccountA)) actions.push_back(e.action + ":" + e.subject);
  EXPECT_THAT(actions, ::testing::Contains("revoke:one"));
  EXPECT_THAT(actions, ::testing::Contains("revoke:two"));
  EXPECT_EQ(actions.back(), "revoke:two");
}

TEST_F(SecretsAccessTest, AReadThatCannotBeAuditedHandsNothingOut) {
  ASSERT_TRUE(Put(kAccountA, "token", "a-token").ok());
  const std::string fn = NewFunction();
  ASSERT_TRUE(Grant(*functions_, kAccountA, fn, {"token"}).ok());
  // The audit log refuses writes (as a full disk or a broken replica would).
  const bool postgres = store_->backend() == "postgres";
  ASSERT_TRUE(store::RunInTransaction(*store_, store::TxMode::kWrite, [postgres](store::Transaction& tx) -> Status {
                if (postgres) {
                  RETURN_IF_ERROR(tx.Exec("CREATE FUNCTION audit_refuses() RETURNS trigger LANGUAGE plpgsql AS "
                                          "'BEGIN RAISE EXCEPTION ''audit log unavailable''; END'")
                                      .status());
                  return tx
                      .Exec(
                          "CREATE TRIGGER audit_refuses BEFORE INSERT ON audit_log FOR EACH ROW "
                          "EXECUTE FUNCTION audit_refuses()")
                      .status();
                }
                return tx
                    .Exec(
                        "CREATE TRIGGER audit_refuses BEFORE INSERT ON audit_log "
                        "BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END")
                    .status();
              }).ok());
  auto r = Resolve(*functions_, kAccountA, fn, {"token"});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(AuditOf(kAccountA).size(), 2u);  // create, grant: no read
  // Grants are not changed without their entries either.
  auto g = Grant(*functions_, kAccountA, fn, {});
  EXPECT_FALSE(g.ok());
  ASSERT_TRUE(
      store::RunInTransaction(*store_, store::TxMode::kWrite, [postgres](store::Transaction& tx) -> Status {
        return tx.Exec(postgres ? "DROP TRIGGER audit_refuses ON audit_log" : "DROP TRIGGER audit_refuses").status();
      }).ok());
  r = Resolve(*functions_, kAccountA, fn, {"token"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->secrets_size(), 1);
}

TEST_F(SecretsAccessTest, BadInputIsRefusedWithTheFieldNamed) {
  const std::string fn = NewFunction();
  auto g = Grant(*functions_, kAccountA, "not-a-function", {"x"});
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(g.status().message()), HasSubstr("function_id"));
  g = Grant(*functions_, kAccountA, fn, {"bad name!"});
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(g.status().message()), HasSubstr("bad name!"));
  std::vector<std::string> many;
  for (int i = 0; i <= 100; ++i) many.push_back("s" + std::to_string(i));
  g = Grant(*functions_, kAccountA, fn, many);
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);
  many.pop_back();
  EXPECT_TRUE(Grant(*functions_, kAccountA, fn, many).ok());  // 100 is allowed
  auto r = Resolve(*functions_, kAccountA, fn, {}, "ex_nope");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  r = Resolve(*functions_, kAccountA, fn, {std::string(65, 'a')});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);

  // The enclave's side: a provider made from malformed invocation secrets is refused.
  pb::ResolveSecretsResponse twice;
  for (int i = 0; i < 2; ++i) {
    auto* s = twice.add_secrets();
    s->set_name("dup");
    s->set_version(1);
  }
  EXPECT_EQ(ReadInEnclave(kAccountA, twice, {"dup"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadInEnclave("", pb::ResolveSecretsResponse(), {}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace neosl
