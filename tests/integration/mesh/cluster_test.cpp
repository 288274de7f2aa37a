// The mesh across real processes: `neosl ca init`, then `neosl serve --role echo` replicas and a
// `neosl serve --role gateway`, each its own process on loopback, talking gRPC over mutual TLS
// and finding each other through the registry (a shared directory, or etcd). The REST suite runs
// against the gateway.
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/etcd_process.h"
#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace neosl::testing {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using Env = std::vector<std::pair<std::string, std::string>>;

json::object ParseObject(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

std::string Str(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

class Cluster {
 public:
  explicit Cluster(Env extra = {}) : extra_(std::move(extra)) {
    auto r = RunNeosl({"ca", "init", "--dir", ca_dir()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }

  std::string ca_dir() const { return root_.File("ca"); }
  std::string registry_dir() const { return root_.File("registry"); }

  // The environment every member shares: the CA to get certificates from, the registry.
  Env MemberEnv(Env more = {}) const {
    Env env = {{"NEOSL_MESH_TLS_CA_DIR", ca_dir()},
               {"NEOSL_MESH_REGISTRY_DIR", registry_dir()},
               {"NEOSL_MESH_REGISTRY_LEASE_MS", "2000"},
               {"NEOSL_LOG_LEVEL", "info"}};
    // Later entries replace earlier ones (a process sees only the first of duplicate names).
    auto set = [&env](const std::pair<std::string, std::string>& kv) {
      for (auto& e : env) {
        if (e.first == kv.first) {
          e.second = kv.second;
          return;
        }
      }
      env.push_back(kv);
    };
    for (auto& e : extra_) set(e);
    for (auto& e : more) set(e);
    return env;
  }

  ServerProcess* Start(const std::string& role, Env more = {}) {
    ServerOptions options;
    options.args = {"--role", role};
    options.env = MemberEnv(std::move(more));
    std::string error;
    auto p = ServerProcess::Start(options, &error);
    EXPECT_NE(p, nullptr) << role << ": " << error;
    if (!p) return nullptr;
    members_.push_back(std::move(p));
    return members_.back().get();
  }

 private:
  TempDir root_;
  Env extra_;
  std::vector<std::unique_ptr<ServerProcess>> members_;
};

HttpResult PostEcho(HttpClient& http, const std::string& key, const std::string& path, const std::string& body,
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
  headers.emplace_back("authorization", "Bearer " + key);
  headers.emplace_back("content-type", "application/json");
  return http.Request("POST", path, body, headers);
}

TEST(MeshClusterTest, TheRestSuiteRunsAcrossProcessesOverMutualTls) {
  Cluster cluster;
  ServerProcess* echo1 = cluster.Start("echo");
  ServerProcess* echo2 = cluster.Start("echo");
  ServerProcess* gateway = cluster.Start("gateway");
  ASSERT_TRUE(echo1 && echo2 && gateway);
  HttpClient http(gateway->address());
  const std::string key = gateway->admin_key();

  {
    SCOPED_TRACE("round-robin over both replicas, as the gateway's identity");
    std::set<std::string> instances;
    for (int i = 0; i < 8; ++i) {
      HttpResult r = PostEcho(http, key, "/v1/echo", R"({"message":"hello"})");
      ASSERT_EQ(r.status, 200) << r.body;
      auto o = ParseObject(r.body);
      EXPECT_EQ(Str(o, "message"), "hello");
      EXPECT_EQ(Str(o, "caller"), "gateway");
      EXPECT_THAT(Str(o, "account"), ::testing::StartsWith("acc_"));
      instances.insert(Str(o, "instance"));
    }
    EXPECT_EQ(instances.size(), 2u);
  }
  {
    SCOPED_TRACE("the caller's trace id reaches the service and comes back");
    const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    HttpResult r = PostEcho(http, key, "/v1/echo", R"({"message":"t"})",
                            {{"traceparent", "00-" + trace + "-00f067aa0ba902b7-01"}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Str(ParseObject(r.body), "trace_id"), trace);
    EXPECT_EQ(r.Header("x-trace-id"), trace);
  }
  {
    SCOPED_TRACE("a relay hops between the echo processes with one trace");
    HttpResult r = PostEcho(http, key, "/v1/echo/relay", R"({"echo":{"message":"far"},"hops":3})");
    ASSERT_EQ(r.status, 200) << r.body;
    auto o = ParseObject(r.body);
    EXPECT_EQ(Str(o, "message"), "far");
    EXPECT_EQ(o.at("hops").as_int64(), 3);
    EXPECT_EQ(Str(o, "caller"), "echo");  // the last hop came from an echo process, over mTLS
    EXPECT_EQ(Str(o, "trace_id"), r.Header("x-trace-id"));
  }
  {
    SCOPED_TRACE("a sensitive call first verifies the echo process's enclave");
    HttpResult r = PostEcho(http, key, "/v1/echo/sensitive", R"({"message":"classified"})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Str(ParseObject(r.body), "message"), "classified");
    EXPECT_THAT(gateway->Logs(), HasSubstr("mesh peer attested"));
  }
  {
    SCOPED_TRACE("service errors keep their code, HTTP status and details");
    HttpResult r = PostEcho(http, key, "/v1/echo", R"({"message":"x","fail_code":"NOT_FOUND"})");
    EXPECT_EQ(r.status, 404) << r.body;
    EXPECT_EQ(Str(ParseObject(r.body)["error"].as_object(), "code"), "NOT_FOUND");
    r = PostEcho(http, key, "/v1/echo", R"({"message":"x","delay_ms":-1})");
    EXPECT_EQ(r.status, 400) << r.body;
    r = PostEcho(http, key, "/v1/echo", "", {});
    EXPECT_EQ(r.status, 400) << r.body;
  }
  {
    SCOPED_TRACE("the mesh shows in /metrics and /v1/ready");
    HttpResult m = http.Get("/metrics");
    ASSERT_EQ(m.status, 200);
    EXPECT_THAT(m.body, HasSubstr("neosl_mesh_client_calls_total{caller=\"gateway\",service=\"echo\",instance=\"echo-"));
    EXPECT_THAT(m.body, HasSubstr("neosl_mesh_client_attestations_total{caller=\"gateway\",service=\"echo\""));
    EXPECT_THAT(m.body, HasSubstr("neosl_mesh_client_circuit_open{"));
    HttpResult ready = http.Get("/v1/ready");
    EXPECT_EQ(ready.status, 200) << ready.body;
    EXPECT_THAT(ready.body, HasSubstr("\"registry\""));
  }
  {
    SCOPED_TRACE("no API key: refused at the gateway");
    HttpResult r = http.Request("POST", "/v1/echo", R"({"message":"x"})", {{"content-type", "application/json"}});
    EXPECT_EQ(r.status, 401) << r.body;
  }
}

TEST(MeshClusterTest, DeadlineExceededPropagatesToTheRestCaller) {
  Cluster cluster;
  ServerProcess* echo = cluster.Start("echo");
  ServerProcess* gateway = cluster.Start("gateway", {{"NEOSL_MESH_CLIENT_TIMEOUT_MS", "800"}});
  ASSERT_TRUE(echo && gateway);
  HttpClient http(gateway->address());
  auto start = std::chrono::steady_clock::now();
  HttpResult r =
      PostEcho(http, gateway->admin_key(), "/v1/echo/relay", R"({"echo":{"message":"slow","delay_ms":5000},"hops":2})");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 504) << r.body;
  EXPECT_EQ(Str(ParseObject(r.body)["error"].as_object(), "code"), "DEADLINE_EXCEEDED");
  EXPECT_LT(took, std::chrono::milliseconds(3000));  // the 5 s echo was cut off by the 0.8 s budget
}

TEST(MeshClusterTest, CallsKeepSucceedingWhenOneOfTwoReplicasIsKilled) {
  Cluster cluster;
  ServerProcess* echo1 = cluster.Start("echo");
  ServerProcess* echo2 = cluster.Start("echo");
  ServerProcess* gateway = cluster.Start("gateway");
  ASSERT_TRUE(echo1 && echo2 && gateway);
  HttpClient http(gateway->address());
  const std::string key = gateway->admin_key();
  for (int i = 0; i < 4; ++i) ASSERT_EQ(PostEcho(http, key, "/v1/echo", R"({"message":"a"})").status, 200);

  echo1->Stop(SIGKILL);  // no goodbye: its registration lingers until the lease runs out
  int ok = 0;
  std::set<std::string> instances;
  for (int i = 0; i < 30; ++i) {
    HttpResult r = PostEcho(http, key, "/v1/echo", R"({"message":"b"})");
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status == 200) {
      ++ok;
      instances.insert(Str(ParseObject(r.body), "instance"));
    }
  }
  EXPECT_EQ(ok, 30);
  EXPECT_EQ(instances.size(), 1u);  // all answered by the survivor
}

TEST(MeshClusterTest, ACallerTheEchoPolicyDoesNotAllowGetsPermissionDenied) {
  Cluster cluster;
  TempDir dir;
  WriteFile(dir.File("policy.yaml"), R"yaml(
service: "gateway"
allowed_calls:
  - target_service: "echo"
    operations: ["Relay"]
)yaml");
  ServerProcess* echo = cluster.Start("echo", {{"NEOSL_MESH_POLICY_FILE", dir.File("policy.yaml")}});
  ServerProcess* gateway = cluster.Start("gateway");
  ASSERT_TRUE(echo && gateway);
  HttpClient http(gateway->address());
  HttpResult r = PostEcho(http, gateway->admin_key(), "/v1/echo", R"({"message":"no"})");
  EXPECT_EQ(r.status, 403) << r.body;
  auto err = ParseObject(r.body)["error"].as_object();
  EXPECT_EQ(Str(err, "code"), "PERMISSION_DENIED");
  auto details = err["details"].as_array();
  ASSERT_EQ(details.size(), 1u);
  EXPECT_EQ(Str(details[0].as_object(), "type"), "AuthorizationError");
  EXPECT_EQ(Str(details[0].as_object(), "resource"), "echo/Echo");
  EXPECT_EQ(Str(details[0].as_object(), "caller"), "gateway");
}

TEST(MeshClusterTest, AMemberWithACertificateFromAnotherCaIsRefused) {
  Cluster cluster;
  ServerProcess* echo = cluster.Start("echo", {{"NEOSL_MESH_LOG_CALLS", "true"}});
  ASSERT_TRUE(echo);
  // A gateway whose certificate comes from a CA of its own, sharing only the registry.
  TempDir other;
  auto r = RunNeosl({"ca", "init", "--dir", other.File("ca")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ServerProcess* gateway =
      cluster.Start("gateway", {{"NEOSL_MESH_TLS_CA_DIR", other.File("ca")}, {"NEOSL_MESH_CLIENT_TIMEOUT_MS", "1500"}});
  ASSERT_TRUE(gateway);
  HttpClient http(gateway->address());
  HttpResult res = PostEcho(http, gateway->admin_key(), "/v1/echo", R"({"message":"x"})");
  ASSERT_EQ(res.status, 503) << res.body;  // no handshake, so no call
  EXPECT_EQ(Str(ParseObject(res.body)["error"].as_object(), "code"), "UNAVAILABLE");
  EXPECT_THAT(echo->Logs(), ::testing::Not(HasSubstr("\"msg\":\"mesh call\"")));
}

TEST(MeshClusterTest, AMemberWithoutACertificateDoesNotStart) {
  Cluster cluster;
  ServerOptions options;
  options.args = {"--role", "gateway"};
  options.env = cluster.MemberEnv({{"NEOSL_MESH_TLS_CA_DIR", ""}});
  std::string error;
  auto p = ServerProcess::Start(options, &error);
  EXPECT_EQ(p, nullptr);
  EXPECT_THAT(error, HasSubstr("no mesh certificate"));
  EXPECT_THAT(error, HasSubstr("neosl ca issue"));
}

TEST(MeshClusterTest, AnEtcdBackedClusterDiscoversANewReplicaWithinItsLease) {
  if (EtcdProcess::Binary().empty()) GTEST_SKIP() << "etcd is not installed (scripts/install-deps installs it)";
  std::string error;
  auto etcd = EtcdProcess::Launch(&error);
  ASSERT_NE(etcd, nullptr) << error;
  // The loop below calls as fast as answers come back: the per-key limit must not be what it meets.
  Cluster cluster({{"NEOSL_MESH_REGISTRY_BACKEND", "etcd"},
                   {"NEOSL_MESH_REGISTRY_ETCD_ENDPOINTS", etcd->endpoint()},
                   {"NEOSL_MESH_REGISTRY_LEASE_MS", "2000"},
                   {"NEOSL_RATE_LIMITS_PER_CALLER_DEFAULT_REQUESTS_PER_SECOND", "1000000"},
                   {"NEOSL_RATE_LIMITS_PER_CALLER_DEFAULT_BURST", "1000000"}});
  ServerProcess* echo1 = cluster.Start("echo");
  ServerProcess* gateway = cluster.Start("gateway");
  ASSERT_TRUE(echo1 && gateway);
  HttpClient http(gateway->address());
  const std::string key = gateway->admin_key();
  HttpResult r = PostEcho(http, key, "/v1/echo", R"({"message":"one"})");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string first = Str(ParseObject(r.body), "instance");

  ServerProcess* echo2 = cluster.Start("echo");
  ASSERT_TRUE(echo2);
  auto registered = std::chrono::steady_clock::now();
  std::string second;
  while (second.empty() && std::chrono::steady_clock::now() - registered < std::chrono::seconds(10)) {
    HttpResult x = PostEcho(http, key, "/v1/echo", R"({"message":"two"})");
    ASSERT_EQ(x.status, 200) << x.body;
    std::string instance = Str(ParseObject(x.body), "instance");
    if (instance != first) second = instance;
  }
  auto discovered = std::chrono::steady_clock::now() - registered;
  ASSERT_FALSE(second.empty()) << "the gateway never called the new replica";
  EXPECT_LT(discovered, std::chrono::milliseconds(2000)) << "discovery took longer than the lease";
  std::printf("etcd discovery of a new replica: %lld ms (lease 2000 ms)\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(discovered).count()));
}

}  // namespace
}  // namespace neosl::testing
