// The mesh framework end to end inside one test process: the server pipeline (identity, authz,
// rate limits, deadlines, trace, evidence), the client (discovery, round-robin, retries, breaker,
// attestation) and the echo service, over gRPC's in-process channel and over loopback.
#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/serialize.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/random.h"
#include "core/rate_limiter.h"
#include "crypto/p256.h"
#include "mesh/client.h"
#include "mesh/context.h"
#include "mesh/policy.h"
#include "mesh/registry.h"
#include "mesh/server.h"
#include "neosl/echo/v1/echo.grpc.pb.h"
#include "services/echo/echo_service.h"
#include "support/temp_dir.h"
#include "tee/attestation.h"
#include "tee/sim_quote.h"
#include "unit/mesh/tls_test_support.h"
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>

namespace neosl::mesh {
namespace {

using echo::v1::EchoRequest;
using echo::v1::EchoResponse;
using echo::v1::RelayRequest;
using ::testing::HasSubstr;

constexpr char kPolicy[] = R"yaml(
service: "gateway"
allowed_calls:
  - target_service: "echo"
    operations: ["Echo", "EchoSensitive", "Relay"]
---
service: "echo"
allowed_calls:
  - target_service: "echo"
    operations: ["Echo", "Relay"]
---
service: "random"
allowed_calls:
  - target_service: "echo"
    operations: ["Relay"]
)yaml";

const std::array<uint8_t, 32> kGoodMeasurement = [] {
  std::array<uint8_t, 32> m{};
  m.fill(0x11);
  return m;
}();
const std::array<uint8_t, 32> kOtherMeasurement = [] {
  std::array<uint8_t, 32> m{};
  m.fill(0x22);
  return m;
}();

// Real sim evidence (tee/sim_quote.h) for a chosen measurement: what an enclave running that
// program would hand out.
class FakeEnclave {
 public:
  explicit FakeEnclave(std::array<uint8_t, 32> measurement) : measurement_(measurement) {
    for (int i = 0; i < 4; ++i) keys_.push_back(crypto::PrivateKey::Generate(random_));
    quoting_ = std::make_unique<tee::SimQuotingEnclave>(std::move(*tee::SimQuotingEnclave::Create(random_)));
  }
  EvidenceSource Source() {
    return [this](std::span<const uint8_t> nonce) -> StatusOr<std::string> {
      tee::EnclavePublicKeys pub{keys_[0].public_key(), keys_[1].public_key(), keys_[2].public_key(),
                                 keys_[3].public_key()};
      tee::Evidence e;
      e.backend = "sim";
      e.measurement = measurement_;
      e.public_keys = tee::PublicKeysToJson(pub);
      e.report_data = tee::ReportData(tee::CanonicalPublicKeys(pub), nonce);
      e.timestamp_ms = SystemClock::Instance().NowUnixMillis();
      RETURN_IF_ERROR(quoting_->Quote(e));
      quotes_.fetch_add(1);
      return boost::json::serialize(tee::EvidenceToJson(e));
    };
  }
  int quotes() const { return quotes_.load(); }

 private:
  std::array<uint8_t, 32> measurement_;
  SecureRandom& random_ = SecureRandom::Instance();
  std::vector<crypto::PrivateKey> keys_;
  std::unique_ptr<tee::SimQuotingEnclave> quoting_;
  std::atomic<int> quotes_{0};
};

tee::AttestationPolicy AllowOnly(std::array<uint8_t, 32> measurement) {
  tee::AttestationPolicy p;
  p.measurements.push_back(measurement);
  p.allow_simulation = true;
  return p;
}

// One echo instance: its pipeline, server and service.
struct EchoNode {
  std::unique_ptr<Pipeline> pipeline;
  std::unique_ptr<MeshServer> server;
  std::unique_ptr<services::EchoService> service;
  std::string address;  // loopback nodes only
};

class MeshFrameworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto policy = AuthzPolicy::FromYaml(kPolicy);
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
    policy_ = std::make_unique<AuthzPolicy>(std::move(*policy));
    registry_ = NewMemoryRegistry();
  }

  // An echo node. `listen` empty: in-process; else plaintext loopback trusting x-caller-id.
  EchoNode& AddNode(const std::string& instance, const std::string& listen = "", RateLimiter* limiter = nullptr,
                    EvidenceSource evidence = nullptr) {
    auto node = std::make_unique<EchoNode>();
    PipelineOptions o;
    o.policy = policy_.get();
    o.limiter = limiter;
    o.evidence = std::move(evidence);
    o.trust_caller_header = !listen.empty();
    node->pipeline = std::make_unique<Pipeline>(std::move(o), SystemClock::Instance(), SecureRandom::Instance());
    ServerOptions so;
    so.listen = listen;
    so.insecure = !listen.empty();
    node->server = std::make_unique<MeshServer>(so, *node->pipeline, instance);
    node->service = std::make_unique<services::EchoService>(*node->pipeline, instance, nullptr);
    node->server->AddService(node->service.get());
    auto bound = node->server->Start();
    EXPECT_TRUE(bound.ok()) << bound.status().ToString();
    node->address = bound.ok() ? *bound : "";
    auto reg =
        registry_->Register(Endpoint{"echo", instance, listen.empty() ? "inproc" : node->address, "t", true, {}});
    EXPECT_TRUE(reg.ok());
    registrations_.push_back(std::move(*reg));
    nodes_.push_back(std::move(node));
    return *nodes_.back();
  }

  std::unique_ptr<MeshClient> InProcessClient(EchoNode& node, const std::string& identity,
                                              std::optional<tee::AttestationPolicy> attestation = std::nullopt,
                                              ClientOptions options = {}) {
    options.identity = identity;
    options.attestation = std::move(attestation);
    return std::make_unique<MeshClient>(options, *registry_, InProcessChannels(*node.server, identity),
                                        SystemClock::Instance(), SecureRandom::Instance());
  }

  std::unique_ptr<AuthzPolicy> policy_;
  std::unique_ptr<Registry> registry_;
  std::vector<std::unique_ptr<Registration>> registrations_;
  std::vector<std::unique_ptr<EchoNode>> nodes_;
};

TEST_F(MeshFrameworkTest, AnAllowedCallerIsServedAndSeenUnderItsIdentity) {
  EchoNode& node = AddNode("echo-a");
  auto client = InProcessClient(node, "gateway");
  EchoRequest req;
  req.set_message("hello");
  EchoResponse resp;
  CallOptions options;
  options.account = "acc_1";
  Status s = client->Call("echo", "/neosl.echo.v1.Echo/Echo", req, &resp, options);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(resp.message(), "hello");
  EXPECT_EQ(resp.caller(), "gateway");
  EXPECT_EQ(resp.account(), "acc_1");
  EXPECT_EQ(resp.instance(), "echo-a");
  EXPECT_TRUE(IsTraceId(resp.trace_id()));
  EXPECT_GT(resp.deadline_ms(), 0);
  EXPECT_LE(resp.deadline_ms(), 5000);
}

TEST_F(MeshFrameworkTest, ACallerNotInAllowedCallsGetsPermissionDeniedWithTheSeedDetails) {
  EchoNode& node = AddNode("echo-a");
  auto client = InProcessClient(node, "random");
  EchoRequest req;
  EchoResponse resp;
  Status s = client->Call("echo", "/neosl.echo.v1.Echo/Echo", req, &resp);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  ASSERT_EQ(s.details().size(), 1u);
  EXPECT_EQ(s.details()[0].type, "AuthorizationError");
  bool saw_resource = false;
  for (const auto& [k, v] : s.details()[0].fields) {
    if (k == "resource") saw_resource = std::get<std::string>(v) == "echo/Echo";
  }
  EXPECT_TRUE(saw_resource);
  EXPECT_EQ(node.service->echo_calls(), 1u);               // the handler was entered …
  EXPECT_EQ(node.pipeline->counters().denied.load(), 1u);  // … and refused before any work
  EXPECT_EQ(node.pipeline->counters().admitted.load(), 0u);
  // An unknown identity is denied too: deny by default.
  auto stranger = InProcessClient(node, "oracle");
  EXPECT_EQ(stranger->Call("echo", "/neosl.echo.v1.Echo/Relay", RelayRequest(), &resp).code(),
            StatusCode::kPermissionDenied);
}

TEST_F(MeshFrameworkTest, ServiceErrorsKeepCodeMessageAndDetails) {
  Status original = PermissionDeniedError("no").WithDetail(
      ErrorDetail{"AuthorizationError", {}}.Add("service", "echo").Add("n", int64_t(7)).Add("b", true));
  Status back = FromGrpcStatus(ToGrpcStatus(original));
  EXPECT_EQ(back.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(back.message(), "no");
  ASSERT_EQ(back.details().size(), 1u);
  ASSERT_EQ(back.details()[0].fields.size(), 3u);
  EXPECT_EQ(std::get<int64_t>(back.details()[0].fields[1].second), 7);
  EXPECT_EQ(std::get<bool>(back.details()[0].fields[2].second), true);

  EchoNode& node = AddNode("echo-a");
  auto client = InProcessClient(node, "gateway");
  EchoRequest req;
  req.set_fail_code("FAILED_PRECONDITION");
  EchoResponse resp;
  Status s = client->Call("echo", "/neosl.echo.v1.Echo/Echo", req, &resp);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("FAILED_PRECONDITION"));
}

TEST_F(MeshFrameworkTest, TraceAccountAndDeadlinePropagateAcrossRelays) {
  // An echo instance that relays through the mesh with its own client, as identity "echo".
  Pipeline pipeline(PipelineOptions{policy_.get()}, SystemClock::Instance(), SecureRandom::Instance());
  MeshServer server(ServerOptions{}, pipeline, "echo-r");
  ClientOptions co;
  co.identity = "echo";
  MeshClient relay_client(co, *registry_, InProcessChannels(server, "echo"), SystemClock::Instance(),
                          SecureRandom::Instance());
  services::EchoService service(pipeline, "echo-r", &relay_client);
  server.AddService(&service);
  ASSERT_TRUE(server.Start().ok());
  auto reg = registry_->Register(Endpoint{"echo", "echo-r", "inproc", "t", true, {}});
  ASSERT_TRUE(reg.ok());
  ClientOptions go;
  go.identity = "gateway";
  MeshClient gateway(go, *registry_, InProcessChannels(server, "gateway"), SystemClock::Instance(),
                     SecureRandom::Instance());

  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  RelayRequest relay;
  relay.set_hops(3);
  relay.mutable_echo()->set_message("deep");
  EchoResponse resp;
  CallOptions options;
  options.trace_id = trace;
  options.account = "acc_9";
  options.timeout = std::chrono::milliseconds(3000);
  Status s = gateway.Call("echo", "/neosl.echo.v1.Echo/Relay", relay, &resp, options);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(resp.message(), "deep");
  EXPECT_EQ(resp.hops(), 3u);
  EXPECT_EQ(resp.trace_id(), trace);   // one trace through every hop
  EXPECT_EQ(resp.account(), "acc_9");  // the account travels with it
  EXPECT_EQ(resp.caller(), "echo");    // the last hop was made by the echo service
  EXPECT_GT(resp.deadline_ms(), 0);
  // Never more than the first caller gave (grpc-timeout rounds up to its unit, hence the slack).
  EXPECT_LE(resp.deadline_ms(), 3100);

  // The innermost call waits longer than the first caller's deadline: DEADLINE_EXCEEDED comes
  // back through every hop, and well before the echo's own delay.
  relay.mutable_echo()->set_delay_ms(5000);
  options.timeout = std::chrono::milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  s = gateway.Call("echo", "/neosl.echo.v1.Echo/Relay", relay, &resp, options);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << s.ToString();
  EXPECT_LT(took, std::chrono::milliseconds(2000));
  server.Shutdown(std::chrono::milliseconds(6000));  // lets the delayed echo finish
}

TEST_F(MeshFrameworkTest, AnExpiredXDeadlineMsIsRefusedWithoutGrpcTimeout) {
  EchoNode& node = AddNode("echo-a", "127.0.0.1:0");
  auto channel = grpc::CreateChannel(node.address, grpc::InsecureChannelCredentials());
  auto stub = echo::v1::Echo::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-caller-id", "gateway");
  ctx.AddMetadata("x-deadline-ms", "0");
  EchoRequest req;
  EchoResponse resp;
  grpc::Status gs = stub->Echo(&ctx, req, &resp);
  EXPECT_EQ(gs.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << gs.error_message();

  grpc::ClientContext ok_ctx;
  ok_ctx.AddMetadata("x-caller-id", "gateway");
  ok_ctx.AddMetadata("x-deadline-ms", "1500");
  ok_ctx.AddMetadata("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  gs = stub->Echo(&ok_ctx, req, &resp);
  ASSERT_TRUE(gs.ok()) << gs.error_message();
  EXPECT_GT(resp.deadline_ms(), 0);
  EXPECT_LE(resp.deadline_ms(), 1500);
  EXPECT_EQ(resp.trace_id(), "0af7651916cd43dd8448eb211c80319c");
}

TEST_F(MeshFrameworkTest, ANetworkCallWithoutACertificateIsUnauthenticated) {
  PipelineOptions o;
  o.policy = policy_.get();  // trust_caller_header stays false: a certificate is required
  Pipeline pipeline(o, SystemClock::Instance(), SecureRandom::Instance());
  ServerOptions so;
  so.listen = "127.0.0.1:0";
  so.insecure = true;
  MeshServer server(so, pipeline, "echo-x");
  services::EchoService service(pipeline, "echo-x", nullptr);
  server.AddService(&service);
  auto bound = server.Start();
  ASSERT_TRUE(bound.ok());
  auto stub = echo::v1::Echo::NewStub(grpc::CreateChannel(*bound, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-caller-id", "gateway");  // a claim, not a proof
  EchoResponse resp;
  grpc::Status gs = stub->Echo(&ctx, EchoRequest(), &resp);
  EXPECT_EQ(gs.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(pipeline.counters().unauthenticated.load(), 1u);
}

TEST_F(MeshFrameworkTest, OverTheRateLimitIsResourceExhaustedWithARetryHint) {
  auto limits = RateLimitsFromYaml(R"yaml(
rate_limits:
  per_method:
    Echo: {requests_per_second: 1, burst: 2}
)yaml");
  ASSERT_TRUE(limits.ok()) << limits.status().ToString();
  RateLimiter limiter(*limits, SystemClock::Instance());
  EchoNode& node = AddNode("echo-a", "", &limiter);
  auto client = InProcessClient(node, "gateway");
  EchoResponse resp;
  EXPECT_TRUE(client->Call("echo", "/neosl.echo.v1.Echo/Echo", EchoRequest(), &resp).ok());
  EXPECT_TRUE(client->Call("echo", "/neosl.echo.v1.Echo/Echo", EchoRequest(), &resp).ok());
  Status s = client->Call("echo", "/neosl.echo.v1.Echo/Echo", EchoRequest(), &resp);
  ASSERT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  ASSERT_FALSE(s.details().empty());
  EXPECT_EQ(s.details()[0].type, "RetryInfo");
  EXPECT_EQ(s.details()[0].fields[0].first, "retry_after_ms");
  EXPECT_GT(std::get<int64_t>(s.details()[0].fields[0].second), 0);
  // Other methods have their own budget.
  EXPECT_NE(client->Call("echo", "/neosl.echo.v1.Echo/Relay", RelayRequest(), &resp).code(),
            StatusCode::kResourceExhausted);
}

TEST_F(MeshFrameworkTest, SensitiveCallsGoOnlyToAnAttestedServerAndTheResultIsCached) {
  FakeEnclave enclave(kGoodMeasurement);
  EchoNode& node = AddNode("echo-a", "", nullptr, enclave.Source());
  auto client = InProcessClient(node, "gateway", AllowOnly(kGoodMeasurement));
  EchoRequest req;
  req.set_message("secret stuff");
  EchoResponse resp;
  for (int i = 0; i < 3; ++i) {
    Status s = client->Call("echo", "/neosl.echo.v1.Echo/EchoSensitive", req, &resp);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  EXPECT_EQ(enclave.quotes(), 1);  // verified once, then cached for the instance
  auto stats = client->Stats("echo");
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_TRUE(stats[0].attested);
  EXPECT_EQ(node.service->sensitive_calls(), 3u);
  // Non-sensitive calls never ask for evidence.
  EXPECT_TRUE(client->Call("echo", "/neosl.echo.v1.Echo/Echo", req, &resp).ok());
  EXPECT_EQ(enclave.quotes(), 1);
}

TEST_F(MeshFrameworkTest, AServerWithTheWrongMeasurementIsRefusedBeforeSensitiveDataLeaves) {
  FakeEnclave enclave(kOtherMeasurement);
  EchoNode& node = AddNode("echo-a", "", nullptr, enclave.Source());
  auto client = InProcessClient(node, "gateway", AllowOnly(kGoodMeasurement));
  EchoRequest req;
  req.set_message("secret stuff");
  EchoResponse resp;
  Status s = client->Call("echo", "/neosl.echo.v1.Echo/EchoSensitive", req, &resp);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_THAT(std::string(s.message()), HasSubstr("measurement"));
  EXPECT_EQ(node.service->sensitive_calls(), 0u);  // the request never reached the server
  EXPECT_EQ(enclave.quotes(), 1);

  // A server without an enclave gives no evidence: refused too.
  EchoNode& bare = AddNode("echo-b");
  auto client2 = InProcessClient(bare, "gateway", AllowOnly(kGoodMeasurement));
  registrations_.front().reset();  // only echo-b is left
  s = client2->Call("echo", "/neosl.echo.v1.Echo/EchoSensitive", req, &resp);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_THAT(std::string(s.message()), HasSubstr("no evidence"));
  EXPECT_EQ(bare.service->sensitive_calls(), 0u);

  // And a client with no attestation policy refuses every sensitive call.
  auto client3 = InProcessClient(node, "gateway");
  EXPECT_EQ(client3->Call("echo", "/neosl.echo.v1.Echo/EchoSensitive", req, &resp).code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(MeshFrameworkTest, AttestationIsRedoneWhenTheServerCertificateRotates) {
  neosl::testing::TempDir dir;
  auto ca = CertificateAuthority::Init(dir.File("ca"), {}, SystemClock::Instance());
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  IdentityFiles server_files = testing::WriteIssued(**ca, dir.File("echo"), "echo");
  IdentityFiles client_files = testing::WriteIssued(**ca, dir.File("gateway"), "gateway");

  FakeEnclave enclave(kGoodMeasurement);
  PipelineOptions o;
  o.policy = policy_.get();
  o.evidence = enclave.Source();
  Pipeline pipeline(o, SystemClock::Instance(), SecureRandom::Instance());
  ServerOptions so;
  so.listen = "127.0.0.1:0";
  auto creds = ServerTlsCredentials(server_files);
  ASSERT_TRUE(creds.ok()) << creds.status().ToString();
  so.credentials = *creds;
  // Connections age out fast, so the client reconnects (to the rotated certificate) soon.
  so.max_connection_age = std::chrono::milliseconds(300);
  so.max_connection_age_grace = std::chrono::milliseconds(100);
  MeshServer server(so, pipeline, "echo-tls");
  services::EchoService service(pipeline, "echo-tls", nullptr);
  server.AddService(&service);
  auto bound = server.Start();
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  auto reg = registry_->Register(Endpoint{"echo", "echo-tls", *bound, "t", true, {}});
  ASSERT_TRUE(reg.ok());

  ClientOptions co;
  co.identity = "gateway";
  co.attestation = AllowOnly(kGoodMeasurement);
  MeshClient client(co, *registry_, TlsChannels(client_files), SystemClock::Instance(), SecureRandom::Instance());
  EchoRequest req;
  req.set_message("over tls");
  EchoResponse resp;
  Status s = client.Call("echo", "/neosl.echo.v1.Echo/EchoSensitive", req, &resp);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(resp.caller(), "gateway");  // the CN of the client certificate
  const std::string first = testing::FingerprintOfFile(server_files.cert_file());
  ASSERT_EQ(client.Stats("echo")[0].fingerprint, first);

  // The server's certificate is renewed (as its rotator would).
  testing::WriteIssued(**ca, server_files.dir, "echo");
  const std::string second = testing::FingerprintOfFile(server_files.cert_file());
  ASSERT_NE(first, second);
  bool reattested = testing::WaitUntil([&] {
    Status r = client.Call("echo", "/neosl.echo.v1.Echo/EchoSensitive", req, &resp);
    EXPECT_TRUE(r.ok()) << r.ToString();
    return client.Stats("echo")[0].fingerprint == second;
  });
  EXPECT_TRUE(reattested);
  EXPECT_GE(client.Stats("echo")[0].attestations, 2u);
  EXPECT_GE(enclave.quotes(), 2);
}

TEST_F(MeshFrameworkTest, WhenOneOfTwoReplicasDiesCallsKeepSucceeding) {
  EchoNode& a = AddNode("echo-a", "127.0.0.1:0");
  EchoNode& b = AddNode("echo-b", "127.0.0.1:0");
  ClientOptions options;
  options.identity = "gateway";
  options.backoff.initial = std::chrono::milliseconds(5);
  options.backoff.max = std::chrono::milliseconds(20);
  MeshClient client(options, *registry_, InsecureChannels(), SystemClock::Instance(), SecureRandom::Instance());
  EchoRequest req;
  req.set_message("x");
  EchoResponse resp;
  std::set<std::string> seen;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(client.Call("echo", "/neosl.echo.v1.Echo/Echo", req, &resp).ok());
    seen.insert(resp.instance());
  }
  EXPECT_EQ(seen.size(), 2u);  // round-robin reached both

  a.server->Shutdown(std::chrono::milliseconds(0));  // echo-a dies; its registration lingers
  int ok = 0;
  for (int i = 0; i < 40; ++i) {
    Status s = client.Call("echo", "/neosl.echo.v1.Echo/Echo", req, &resp);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (s.ok()) {
      ++ok;
      EXPECT_EQ(resp.instance(), "echo-b");
    }
  }
  EXPECT_EQ(ok, 40);
  for (const auto& st : client.Stats("echo")) {
    if (st.instance == "echo-a") {
      EXPECT_GT(st.failures, 0u);
      EXPECT_EQ(st.breaker, CircuitBreaker::State::kOpen);  // it stopped being tried
    }
  }
  (void)b;
}

TEST_F(MeshFrameworkTest, WithEveryInstanceDownTheBreakerFailsFast) {
  EchoNode& a = AddNode("echo-a", "127.0.0.1:0");
  a.server->Shutdown(std::chrono::milliseconds(0));
  ClientOptions options;
  options.identity = "gateway";
  options.max_attempts = 1;
  options.breaker.failure_threshold = 3;
  options.breaker.open_for = std::chrono::milliseconds(60'000);
  MeshClient client(options, *registry_, InsecureChannels(), SystemClock::Instance(), SecureRandom::Instance());
  EchoResponse resp;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(client.Call("echo", "/neosl.echo.v1.Echo/Echo", EchoRequest(), &resp).code(), StatusCode::kUnavailable);
  }
  Status s = client.Call("echo", "/neosl.echo.v1.Echo/Echo", EchoRequest(), &resp);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr("circuit open"));
  EXPECT_EQ(client.Stats("echo")[0].calls, 3u);  // the fourth never left
}

TEST_F(MeshFrameworkTest, UnknownServicesAndMethodsAreClearErrors) {
  EchoNode& node = AddNode("echo-a");
  auto client = InProcessClient(node, "gateway");
  EchoResponse resp;
  EXPECT_EQ(client->Call("nobody", "/neosl.echo.v1.Echo/Echo", EchoRequest(), &resp).code(), StatusCode::kUnavailable);
  EXPECT_EQ(client->Call("echo", "/neosl.echo.v1.Echo/Nope", EchoRequest(), &resp).code(), StatusCode::kUnimplemented);
  EXPECT_EQ(client->Call("echo", "Echo", EchoRequest(), &resp).code(), StatusCode::kInvalidArgument);
  RelayRequest wrong;
  EXPECT_EQ(client->Call("echo", "/neosl.echo.v1.Echo/Echo", wrong, &resp).code(), StatusCode::kInvalidArgument);
}

TEST(TraceContextTest, ParsesOnlyValidTraceparents) {
  EXPECT_EQ(TraceIdFromTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(TraceIdFromTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"), "");
  EXPECT_EQ(TraceIdFromTraceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), "");
  EXPECT_EQ(TraceIdFromTraceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"), "");
  EXPECT_EQ(TraceIdFromTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"), "");
  EXPECT_EQ(TraceIdFromTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"), "");
  EXPECT_EQ(TraceIdFromTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"),
            "4bf92f3577b34da6a3ce929d0e0e4736");
}

}  // namespace
}  // namespace neosl::mesh
