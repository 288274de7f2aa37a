// The functions REST routes (src/gateway/grpc_routes.cpp) end to end in one process: the
// gateway's pipeline with API keys over SQLite, its mesh client attesting the service (simulated
// evidence of a chosen measurement), the real service with the test double of the runtime.
// What protobuf's JSON mapping cannot do is checked here: args and results as JSON values that
// reach the function, the signature and the caller exactly as written.
#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "gateway/accounts.h"
#include "gateway/auth.h"
#include "gateway/gateway.h"
#include "gateway/grpc_routes.h"
#include "tee/attestation.h"
#include "tee/sim_quote.h"
#include "unit/services/functions/service_fixture.h"

namespace neosl::testing {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

const std::array<uint8_t, 32> kMeasurement = [] {
  std::array<uint8_t, 32> m{};
  m.fill(0x5a);
  return m;
}();

class FunctionsRestRoutesTest : public FunctionsServiceTest {
 protected:
  void StartGateway() {
    // The service's enclave, simulated: its evidence binds the report key the fixture signs with.
    auto quoting = tee::SimQuotingEnclave::Create(SecureRandom::Instance());
    ASSERT_TRUE(quoting.ok());
    quoting_ = std::make_unique<tee::SimQuotingEnclave>(std::move(*quoting));
    for (int i = 0; i < 3; ++i) enclave_keys_.push_back(crypto::PrivateKey::Generate(SecureRandom::Instance()));
    evidence_ = [this](std::span<const uint8_t> nonce) -> StatusOr<std::string> {
      tee::EnclavePublicKeys keys{enclave_keys_[0].public_key(), enclave_keys_[1].public_key(),
                                  report_key_.public_key(), enclave_keys_[2].public_key()};
      tee::Evidence e;
      e.backend = "sim";
      e.measurement = kMeasurement;
      e.public_keys = tee::PublicKeysToJson(keys);
      e.report_data = tee::ReportData(tee::CanonicalPublicKeys(keys), nonce);
      e.timestamp_ms = SystemClock::Instance().NowUnixMillis();
      RETURN_IF_ERROR(quoting_->Quote(e));
      return json::serialize(tee::EvidenceToJson(e));
    };
    Start();

    hasher_ = std::make_unique<gateway::KeyHasher>(SecretBytes(std::string_view("0123456789abcdef0123456789abcdef")));
    accounts_ =
        std::make_unique<gateway::AccountStore>(*store_, *hasher_, SystemClock::Instance(), SecureRandom::Instance());
    auto account = accounts_->CreateAccount("acme");
    ASSERT_TRUE(account.ok());
    account_ = account->id;
    viewer_ = Key(gateway::Role::kViewer);
    invoker_ = Key(gateway::Role::kInvoker);
    developer_ = Key(gateway::Role::kDeveloper);

    mesh::ClientOptions co;
    co.identity = "gateway";
    tee::AttestationPolicy attestation;
    attestation.measurements.push_back(kMeasurement);
    attestation.allow_simulation = true;
    co.attestation = attestation;
    gateway_client_ = std::make_unique<mesh::MeshClient>(co, *registry_, mesh::InProcessChannels(*server_, "gateway"),
                                                         SystemClock::Instance(), SecureRandom::Instance());
    limiter_ = std::make_unique<RateLimiter>(RateLimitConfig{}, SystemClock::Instance());
    auth_ = std::make_unique<gateway::Authenticator>(*accounts_, *hasher_);
    gateway_ = std::make_unique<gateway::Gateway>(*auth_, *limiter_, SecureRandom::Instance(), false);
    std::vector<gateway::MeshRoute> routes;  // the functions service's (the others' stubs are not linked here)
    for (auto& route : gateway::BuiltinMeshRoutes()) {
      if (route.service == "functions") routes.push_back(std::move(route));
    }
    gateway::RegisterMeshRoutes(*gateway_, *gateway_client_, routes);
    gateway_->Freeze();
  }

  void TearDown() override {
    gateway_.reset();
    gateway_client_.reset();
    FunctionsServiceTest::TearDown();
  }

  std::string Key(gateway::Role role) {
    auto key = accounts_->CreateKey(account_, "k", {role});
    EXPECT_TRUE(key.ok());
    return key.ok() ? key->token : std::string();
  }

  gateway::HttpResponse Http(const std::string& method, const std::string& target, const std::string& body,
                             const std::string& token) {
    std::string authorization = "Bearer " + token;
    gateway::HttpRequest request{method, target, body, "127.0.0.1", {{"authorization", authorization}}};
    gateway::HttpResponse response;
    gateway_->Handle(request, response);
    return response;
  }

  static json::object Object(const gateway::HttpResponse& r) {
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    EXPECT_FALSE(ec) << r.body;
    return v.is_object() ? v.as_object() : json::object();
  }

  std::string CreateHello(const std::string& extra = "") {
    auto r = Http("POST", "/v1/functions",
                  R"({"name":"hello","source":"export default async function (r) { return r.args; }")" + extra + "}",
                  developer_);
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(Object(r)["id"].as_string());
  }

  std::unique_ptr<tee::SimQuotingEnclave> quoting_;
  std::vector<crypto::PrivateKey> enclave_keys_;
  std::unique_ptr<gateway::KeyHasher> hasher_;
  std::unique_ptr<gateway::AccountStore> accounts_;
  AccountId account_;
  std::string viewer_, invoker_, developer_;
  std::unique_ptr<mesh::MeshClient> gateway_client_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<gateway::Authenticator> auth_;
  std::unique_ptr<gateway::Gateway> gateway_;
};

TEST_F(FunctionsRestRoutesTest, ArgsAndResultsTravelAsWrittenAndTheProofHolds) {
  StartGateway();
  const std::string id = CreateHello();
  const std::string args = R"({"b": 2.50, "a": [1, 1e3, "\u00e9"]})";
  auto r = Http("POST", "/v1/functions/" + id + "/invoke", "{\"args\": " + args + " }", invoker_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(runner_->invocations().at(0).args_json, args);  // the function got the text as sent
  // The double echoes the args as its result: spliced into the answer as written, not re-printed.
  EXPECT_THAT(r.body, HasSubstr("\"result\":" + args));
  EXPECT_THAT(r.body, HasSubstr("\"args\":" + args));
  json::object e = Object(r);
  EXPECT_EQ(e["status"], "succeeded");
  EXPECT_EQ(e["args_json"].as_string(), args);
  EXPECT_EQ(e["result_json"].as_string(), args);
  EXPECT_EQ(e["result"], json::parse(args));
  EXPECT_FALSE(e.contains("error"));

  // The proof from the REST fields alone.
  auto hash = [](const json::value& v) {
    auto bytes = HexDecode(v.as_string());
    std::array<uint8_t, 32> out{};
    std::copy(bytes->begin(), bytes->end(), out.begin());
    return out;
  };
  EXPECT_EQ(hash(e["args_hash"]), FakeRunner::Sha(std::string(e["args_json"].as_string())));
  EXPECT_EQ(hash(e["result_hash"]), FakeRunner::Sha(std::string(e["result_json"].as_string())));
  auto sig = HexDecode(e["enclave_signature"].as_string());
  ASSERT_TRUE(sig && sig->size() == 64);
  crypto::Signature s{};
  std::copy(sig->begin(), sig->end(), s.begin());
  auto message =
      runtime::ResultSigningMessage(std::string(e["function_id"].as_string()), uint32_t(e["version"].as_int64()),
                                    hash(e["source_hash"]), hash(e["args_hash"]), hash(e["result_hash"]));
  EXPECT_TRUE(report_key_.public_key().Verify(message, s));

  // Stored the same; the list has summaries.
  auto got = Http("GET", "/v1/executions/" + std::string(e["id"].as_string()), "", viewer_);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(Object(got)["result"], json::parse(args));
  auto list = Http("GET", "/v1/functions/" + id + "/executions?limit=10", "", viewer_);
  ASSERT_EQ(list.status, 200) << list.body;
  auto executions = Object(list)["executions"].as_array();
  ASSERT_EQ(executions.size(), 1u);
  EXPECT_EQ(executions[0].at("id"), e["id"]);

  // No args: null. A failure: 200, status failed, no result.
  runner_->Script({.status = DeadlineExceededError("ran past 10000 ms")});
  auto failed = Http("POST", "/v1/functions/" + id + "/invoke", "", invoker_);
  ASSERT_EQ(failed.status, 200) << failed.body;
  json::object f = Object(failed);
  EXPECT_EQ(f["status"], "failed");
  EXPECT_EQ(f["args_json"], "null");
  EXPECT_TRUE(f["result"].is_null());
  EXPECT_EQ(f["error"].at("code"), "DEADLINE_EXCEEDED");
}

TEST_F(FunctionsRestRoutesTest, UpdatesVersionsAndSecretListsOverRest) {
  StartGateway();
  const std::string id = CreateHello(R"(,"secrets":["a","b"],"limits":{"timeout_ms":2000})");
  auto get = Http("GET", "/v1/functions/" + id, "", viewer_);
  ASSERT_EQ(get.status, 200) << get.body;
  EXPECT_EQ(Object(get)["secrets"], json::parse(R"(["a","b"])"));
  EXPECT_EQ(Object(get)["limits"].at("timeout_ms"), 2000);

  auto described = Http("PUT", "/v1/functions/" + id, R"({"description":"now with docs"})", developer_);
  ASSERT_EQ(described.status, 200) << described.body;
  EXPECT_EQ(Object(described)["version"], 2);
  EXPECT_EQ(Object(described)["secrets"], json::parse(R"(["a","b"])"));  // left out: unchanged

  auto cleared = Http("PUT", "/v1/functions/" + id, R"({"secrets":[]})", developer_);
  ASSERT_EQ(cleared.status, 200) << cleared.body;
  EXPECT_EQ(Object(cleared)["secrets"], json::array());
  EXPECT_EQ(Object(cleared)["version"], 3);

  auto old = Http("GET", "/v1/functions/" + id + "?version=1", "", viewer_);
  ASSERT_EQ(old.status, 200) << old.body;
  EXPECT_EQ(Object(old)["version"], 1);
  EXPECT_EQ(Object(old)["current_version"], 3);

  EXPECT_EQ(Http("PUT", "/v1/functions/" + id, R"({"secrets":"a"})", developer_).status, 400);
  EXPECT_EQ(Http("PUT", "/v1/functions/" + id, R"({"description":"x"})", invoker_).status, 403);
  auto deleted = Http("DELETE", "/v1/functions/" + id, "", developer_);
  EXPECT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(Http("GET", "/v1/functions/" + id, "", viewer_).status, 404);
}

TEST_F(FunctionsRestRoutesTest, RefusalsMapToHttp) {
  StartGateway();
  const std::string id = CreateHello();
  auto conflict = Http("POST", "/v1/functions", R"({"name":"hello","source":"x"})", developer_);
  EXPECT_EQ(conflict.status, 409) << conflict.body;
  runner_->FailCheck({"unexpected end of input", "", 2, 1});
  auto syntax = Http("POST", "/v1/functions", R"({"name":"broken","source":"export default {"})", developer_);
  EXPECT_EQ(syntax.status, 400);
  EXPECT_THAT(syntax.body, HasSubstr("line 2, column 1"));
  EXPECT_THAT(syntax.body, HasSubstr("\"line\":"));

  runner_->Script({.refuse = ResourceExhaustedError("the runtime's queue is full")});
  EXPECT_EQ(Http("POST", "/v1/functions/" + id + "/invoke", "{}", invoker_).status, 429);
  runner_->Script({.refuse = UnavailableError("no worker")});
  EXPECT_EQ(Http("POST", "/v1/functions/" + id + "/invoke", "{}", invoker_).status, 503);
  auto bad_args = Http("POST", "/v1/functions/" + id + "/invoke", R"({"args": "x", "extra": 1})", invoker_);
  EXPECT_EQ(bad_args.status, 400);
  EXPECT_EQ(Http("POST", "/v1/functions/" + id + "/invoke", "{}", viewer_).status, 403);
  EXPECT_EQ(Http("GET", "/v1/functions/fn_aaaaaaaaaaaaaaaaaaaa", "", viewer_).status, 404);
  EXPECT_EQ(Http("GET", "/v1/executions/ex_aaaaaaaaaaaaaaaaaaaa", "", viewer_).status, 404);
}

}  // namespace
}  // namespace neosl::testing
