// The functions service as it runs in `neosl serve`, minus the JavaScript engine: an in-process
// mesh under the default authorization policy, real SQLite with every migration, the real
// secrets service (sealing with a stand-in for the enclave, signing audit checkpoints with a test
// key) and a FakeRunner. The test calls as the gateway does, with an account in the metadata.
// With `charging_` set before Start, invocations are paid for through a FakeGasBank on the mesh.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/random.h"
#include "crypto/p256.h"
#include "mesh/client.h"
#include "mesh/context.h"
#include "mesh/policy.h"
#include "mesh/registry.h"
#include "mesh/server.h"
#include "neosl/functions/v1/functions.grpc.pb.h"
#include "neosl/secrets/v1/secrets.grpc.pb.h"
#include "schema/migrations.h"
#include "services/functions/functions_service.h"
#include "services/secrets/audit_log.h"
#include "services/secrets/secrets_service.h"
#include "store/sqlite_store.h"
#include "support/temp_dir.h"
#include "unit/services/functions/fake_gas_bank.h"
#include "unit/services/functions/fake_runner.h"
#include <grpcpp/client_context.h>

namespace neosl::testing {

namespace fpb = ::neosl::functions::v1;
namespace spb = ::neosl::secrets::v1;

inline constexpr char kAccountA[] = "acc_aaaaaaaaaaaaaaaaaaaa";
inline constexpr char kAccountB[] = "acc_bbbbbbbbbbbbbbbbbbbb";
inline constexpr char kSource[] = "export default async function (request) { return request.args; }\n";

class KeySigner final : public services::secrets::AuditSigner {
 public:
  explicit KeySigner(const crypto::PrivateKey& key) : key_(key) {}
  StatusOr<crypto::Signature> Sign(std::span<const uint8_t> message) override { return key_.Sign(message); }
  crypto::PublicKey public_key() override { return key_.public_key(); }

 private:
  const crypto::PrivateKey& key_;
};

class FunctionsServiceTest : public ::testing::Test {
 protected:
  // Tests that need other options set them before calling Start().
  void SetUp() override {}

  void Start() {
    auto store = store::OpenSqliteStore({.path = dir_.File("neosl.db")});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Migrate(schema::Migrations()).ok());
    auto policy = mesh::AuthzPolicy::FromYaml(mesh::DefaultAuthzPolicyYaml());
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
    policy_ = std::make_unique<mesh::AuthzPolicy>(std::move(*policy));
    mesh::PipelineOptions po;
    po.policy = policy_.get();
    po.evidence = evidence_;
    pipeline_ = std::make_unique<mesh::Pipeline>(std::move(po), SystemClock::Instance(), SecureRandom::Instance());

    signer_ = std::make_unique<KeySigner>(report_key_);
    audit_ = std::make_unique<services::secrets::AuditLog>(*signer_);
    // The enclave's sealing, stood in for: the "ciphertext" names what it seals.
    services::SecretSealer sealer = [](std::string_view account, std::string_view name, uint32_t version, bool,
                                       std::span<const uint8_t> value) -> StatusOr<std::vector<uint8_t>> {
      std::string s = "sealed:" + std::string(account) + ":" + std::string(name) + ":" + std::to_string(version) + ":" +
                      std::string(value.begin(), value.end());
      return std::vector<uint8_t>(s.begin(), s.end());
    };
    secrets_ = std::make_unique<services::SecretsService>(*pipeline_, *store_, std::move(sealer), *audit_,
                                                          std::vector<crypto::PublicKey>{report_key_.public_key()},
                                                          SystemClock::Instance());
    server_ = std::make_unique<mesh::MeshServer>(mesh::ServerOptions{}, *pipeline_, "test-1");
    registry_ = mesh::NewMemoryRegistry();
    mesh::ClientOptions co;
    co.identity = "functions";
    functions_client_ =
        std::make_unique<mesh::MeshClient>(co, *registry_, mesh::InProcessChannels(*server_, "functions"),
                                           SystemClock::Instance(), SecureRandom::Instance());
    runner_ = std::make_unique<FakeRunner>(report_key_);
    gasbank::GasCharger charger;
    if (charging_) {
      bank_ = std::make_unique<FakeGasBank>(*pipeline_);
      charger = gasbank::GasCharger(functions_client_.get());
      server_->AddService(bank_.get());
    }
    service_ = std::make_unique<services::FunctionsService>(*pipeline_, *store_, *runner_, *functions_client_,
                                                            SystemClock::Instance(), SecureRandom::Instance(),
                                                            report_key_.public_key(), options_, charger);
    server_->AddService(secrets_.get());
    server_->AddService(service_.get());
    ASSERT_TRUE(server_->Start().ok());
    std::vector<std::string> names = {"secrets", "functions"};
    if (charging_) names.emplace_back("gasbank");
    for (const std::string& name : names) {
      auto reg = registry_->Register(mesh::Endpoint{name, "test-1", "inproc", "t", true, {}});
      ASSERT_TRUE(reg.ok());
      registrations_.push_back(std::move(*reg));
    }
    channel_ = server_->InProcessChannel("gateway");
    functions_ = fpb::Functions::NewStub(channel_);
    secrets_stub_ = spb::Secrets::NewStub(channel_);
  }

  void TearDown() override {
    if (runner_) runner_->Release();
    registrations_.clear();
    if (server_) server_->Shutdown(std::chrono::milliseconds(1000));
    service_.reset();
    functions_client_.reset();
    runner_.reset();
  }

  // One call as the gateway makes it for `account`.
  static Status Call(const std::function<grpc::Status(grpc::ClientContext*)>& fn,
                     const std::string& account = kAccountA) {
    grpc::ClientContext ctx;
    if (!account.empty()) ctx.AddMetadata("x-account-id", account);
    ctx.AddMetadata("x-actor-id", "key:test");
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return mesh::FromGrpcStatus(fn(&ctx));
  }

  StatusOr<fpb::Function> Create(const std::string& name, std::vector<std::string> secrets = {},
                                 const std::string& account = kAccountA, const std::string& source = kSource) {
    fpb::CreateFunctionRequest req;
    req.set_name(name);
    req.set_source(source);
    for (auto& s : secrets) req.add_secrets(s);
    return Create(req, account);
  }
  StatusOr<fpb::Function> Create(const fpb::CreateFunctionRequest& req, const std::string& account = kAccountA) {
    fpb::Function resp;
    RETURN_IF_ERROR(Call([&](grpc::ClientContext* c) { return functions_->CreateFunction(c, req, &resp); }, account));
    return resp;
  }
  StatusOr<fpb::Function> Get(const std::string& id, int version = 0, const std::string& account = kAccountA) {
    fpb::GetFunctionRequest req;
    req.set_id(id);
    req.set_version(version);
    fpb::Function resp;
    RETURN_IF_ERROR(Call([&](grpc::ClientContext* c) { return functions_->GetFunction(c, req, &resp); }, account));
    return resp;
  }
  StatusOr<fpb::Function> Update(const fpb::UpdateFunctionRequest& req, const std::string& account = kAccountA) {
    fpb::Function resp;
    RETURN_IF_ERROR(Call([&](grpc::ClientContext* c) { return functions_->UpdateFunction(c, req, &resp); }, account));
    return resp;
  }
  Status Delete(const std::string& id, const std::string& account = kAccountA) {
    fpb::DeleteFunctionRequest req;
    req.set_id(id);
    fpb::DeleteFunctionResponse resp;
    return Call([&](grpc::ClientContext* c) { return functions_->DeleteFunction(c, req, &resp); }, account);
  }
  StatusOr<fpb::ListFunctionsResponse> List(int limit = 0, const std::string& token = "",
                                            const std::string& account = kAccountA) {
    fpb::ListFunctionsRequest req;
    req.set_limit(limit);
    req.set_page_token(token);
    fpb::ListFunctionsResponse resp;
    RETURN_IF_ERROR(Call([&](grpc::ClientContext* c) { return functions_->ListFunctions(c, req, &resp); }, account));
    return resp;
  }
  StatusOr<fpb::Execution> Invoke(const std::string& id, const std::string& args = "",
                                  const std::string& account = kAccountA) {
    fpb::InvokeFunctionRequest req;
    req.set_id(id);
    req.set_args_json(args);
    fpb::Execution resp;
    RETURN_IF_ERROR(Call([&](grpc::ClientContext* c) { return functions_->InvokeFunction(c, req, &resp); }, account));
    return resp;
  }
  StatusOr<fpb::Execution> GetExecution(const std::string& id, const std::string& account = kAccountA) {
    fpb::GetExecutionRequest req;
    req.set_id(id);
    fpb::Execution resp;
    RETURN_IF_ERROR(Call([&](grpc::ClientContext* c) { return functions_->GetExecution(c, req, &resp); }, account));
    return resp;
  }
  StatusOr<fpb::ListExecutionsResponse> Executions(const std::string& id, int limit = 0, const std::string& token = "",
                                                   const std::string& account = kAccountA) {
    fpb::ListExecutionsRequest req;
    req.set_id(id);
    req.set_limit(limit);
    req.set_page_token(token);
    fpb::ListExecutionsResponse resp;
    RETURN_IF_ERROR(Call([&](grpc::ClientContext* c) { return functions_->ListExecutions(c, req, &resp); }, account));
    return resp;
  }
  Status PutSecret(const std::string& name, const std::string& value, const std::string& account = kAccountA) {
    spb::PutSecretRequest req;
    req.set_name(name);
    req.set_value(value);
    spb::SecretInfo resp;
    return Call([&](grpc::ClientContext* c) { return secrets_stub_->PutSecret(c, req, &resp); }, account);
  }
  // The account's audit entries as "action subject actor" lines.
  std::vector<std::string> Audit(const std::string& account = kAccountA) {
    spb::ListSecretAuditRequest req;
    req.set_limit(1000);
    spb::ListSecretAuditResponse resp;
    Status s = Call([&](grpc::ClientContext* c) { return secrets_stub_->ListSecretAudit(c, req, &resp); }, account);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<std::string> out;
    for (const auto& e : resp.entries()) out.push_back(e.action() + " " + e.subject() + " " + e.actor());
    return out;
  }

  services::FunctionsOptions options_;
  bool charging_ = false;          // through bank_
  mesh::EvidenceSource evidence_;  // for callers that attest the server (none by default)
  TempDir dir_;
  crypto::PrivateKey report_key_ = crypto::PrivateKey::Generate(SecureRandom::Instance());
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<mesh::AuthzPolicy> policy_;
  std::unique_ptr<mesh::Pipeline> pipeline_;
  std::unique_ptr<KeySigner> signer_;
  std::unique_ptr<services::secrets::AuditLog> audit_;
  std::unique_ptr<services::SecretsService> secrets_;
  std::unique_ptr<mesh::MeshServer> server_;
  std::unique_ptr<mesh::Registry> registry_;
  std::unique_ptr<mesh::MeshClient> functions_client_;
  std::unique_ptr<FakeRunner> runner_;
  std::unique_ptr<FakeGasBank> bank_;
  std::unique_ptr<services::FunctionsService> service_;
  std::vector<std::unique_ptr<mesh::Registration>> registrations_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<fpb::Functions::Stub> functions_;
  std::unique_ptr<spb::Secrets::Stub> secrets_stub_;
};

// ASSERT on a StatusOr and bind its value.
#define FN_ASSERT_OK_AND_ASSIGN(lhs, expr)                                                                    \
  auto NEOSL_CONCAT_(fn_tmp_, __LINE__) = (expr);                                                             \
  ASSERT_TRUE(NEOSL_CONCAT_(fn_tmp_, __LINE__).ok()) << NEOSL_CONCAT_(fn_tmp_, __LINE__).status().ToString(); \
  lhs = std::move(NEOSL_CONCAT_(fn_tmp_, __LINE__)).value()

}  // namespace neosl::testing
