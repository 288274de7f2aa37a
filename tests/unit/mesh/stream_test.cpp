// Server-streaming calls through the mesh: MeshClient::Stream against the echo service's
// EchoStream (Pipeline::ServerStream and its bounded StreamWriter), in-process and over mTLS.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/random.h"
#include "mesh/client.h"
#include "mesh/context.h"
#include "mesh/policy.h"
#include "mesh/registry.h"
#include "mesh/server.h"
#include "neosl/echo/v1/echo.pb.h"
#include "services/echo/echo_service.h"
#include "support/temp_dir.h"
#include "unit/mesh/tls_test_support.h"

namespace neosl::mesh {
namespace {

using echo::v1::EchoRequest;
using echo::v1::EchoResponse;
using echo::v1::EchoStreamRequest;
using ::testing::HasSubstr;
using testing::WaitUntil;

constexpr char kStream[] = "/neosl.echo.v1.Echo/EchoStream";

constexpr char kPolicy[] = R"yaml(
service: "gateway"
allowed_calls:
  - target_service: "echo"
    operations: ["Echo", "EchoStream"]
---
service: "random"
allowed_calls:
  - target_service: "echo"
    operations: ["Echo"]
)yaml";

// What a stream delivered, for the test thread to wait on.
class Collector {
 public:
  MeshClient::OnMessage OnMessage() {
    return [this](const google::protobuf::Message& m) {
      const auto& answer = dynamic_cast<const EchoResponse&>(m);
      std::lock_guard lock(mu_);
      EXPECT_FALSE(done_) << "a message after on_done";
      messages_.push_back(answer);
      cv_.notify_all();
    };
  }
  MeshClient::OnDone OnDone() {
    return [this](const Status& s) {
      std::lock_guard lock(mu_);
      EXPECT_FALSE(done_) << "on_done twice";
      done_ = true;
      status_ = s;
      cv_.notify_all();
    };
  }
  // Waits for on_done (up to 20 s); returns its status.
  Status Wait() {
    std::unique_lock lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, std::chrono::seconds(20), [this] { return done_; })) << "the stream never ended";
    return status_;
  }
  bool WaitForMessages(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return messages_.size() >= n || done_; }) &&
           messages_.size() >= n;
  }
  std::vector<EchoResponse> messages() {
    std::lock_guard lock(mu_);
    return messages_;
  }
  bool done() {
    std::lock_guard lock(mu_);
    return done_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<EchoResponse> messages_;
  bool done_ = false;
  Status status_;
};

EchoStreamRequest Request(uint32_t count, uint32_t delay_ms = 0, std::string fail = "") {
  EchoStreamRequest r;
  r.set_message("tick");
  r.set_count(count);
  r.set_delay_ms(delay_ms);
  r.set_fail_code(std::move(fail));
  return r;
}

class MeshStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto policy = AuthzPolicy::FromYaml(kPolicy);
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
    policy_ = std::make_unique<AuthzPolicy>(std::move(*policy));
    registry_ = NewMemoryRegistry();
  }
  void TearDown() override {
    registration_.reset();
    if (server_) server_->Shutdown(std::chrono::milliseconds(0));
    service_.reset();
    server_.reset();
  }

  // One echo instance; `credentials` null: in-process only.
  void StartEcho(std::shared_ptr<grpc::ServerCredentials> credentials = nullptr) {
    pipeline_ =
        std::make_unique<Pipeline>(PipelineOptions{policy_.get()}, SystemClock::Instance(), SecureRandom::Instance());
    ServerOptions so;
    const bool network = credentials != nullptr;
    if (network) {
      so.listen = "127.0.0.1:0";
      so.credentials = std::move(credentials);
    }
    server_ = std::make_unique<MeshServer>(so, *pipeline_, "echo-s");
    service_ = std::make_unique<services::EchoService>(*pipeline_, "echo-s", nullptr);
    server_->AddService(service_.get());
    auto bound = server_->Start();
    ASSERT_TRUE(bound.ok()) << bound.status().ToString();
    auto reg = registry_->Register(Endpoint{"echo", "echo-s", network ? *bound : "inproc", "t", true, {}});
    ASSERT_TRUE(reg.ok());
    registration_ = std::move(*reg);
  }

  std::unique_ptr<MeshClient> Client(const std::string& identity) {
    ClientOptions o;
    o.identity = identity;
    return std::make_unique<MeshClient>(o, *registry_, InProcessChannels(*server_, identity), SystemClock::Instance(),
                                        SecureRandom::Instance());
  }

  std::unique_ptr<AuthzPolicy> policy_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<MeshServer> server_;
  std::unique_ptr<services::EchoService> service_;
  std::unique_ptr<Registration> registration_;
};

TEST_F(MeshStreamTest, MessagesArriveInOrderWithTheCallersContext) {
  StartEcho();
  auto client = Client("gateway");
  Collector got;
  CallOptions options;
  options.account = "acc_1";
  options.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  auto stream = client->Stream("echo", kStream, Request(50), got.OnMessage(), got.OnDone(), options);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  Status s = got.Wait();
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto messages = got.messages();
  ASSERT_EQ(messages.size(), 50u);
  for (uint32_t i = 0; i < messages.size(); ++i) {
    EXPECT_EQ(messages[i].hops(), i);
    EXPECT_EQ(messages[i].message(), "tick");
  }
  EXPECT_EQ(messages[0].caller(), "gateway");
  EXPECT_EQ(messages[0].account(), "acc_1");
  EXPECT_EQ(messages[0].trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(messages[0].deadline_ms(), 0);  // a stream without a timeout has no deadline

  // With a timeout, the deadline travels like a unary call's.
  Collector timed;
  options.timeout = std::chrono::milliseconds(3000);
  stream = client->Stream("echo", kStream, Request(1), timed.OnMessage(), timed.OnDone(), options);
  ASSERT_TRUE(stream.ok());
  ASSERT_TRUE(timed.Wait().ok());
  ASSERT_EQ(timed.messages().size(), 1u);
  EXPECT_GT(timed.messages()[0].deadline_ms(), 0);
  EXPECT_LE(timed.messages()[0].deadline_ms(), 3100);
}

TEST_F(MeshStreamTest, ErrorsAndTheirDetailsPropagate) {
  StartEcho();
  auto client = Client("gateway");
  Collector got;
  auto stream = client->Stream("echo", kStream, Request(3, 0, "FAILED_PRECONDITION"), got.OnMessage(), got.OnDone());
  ASSERT_TRUE(stream.ok());
  Status s = got.Wait();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_THAT(std::string(s.message()), HasSubstr("FAILED_PRECONDITION"));
  EXPECT_EQ(got.messages().size(), 3u);  // the messages before the error all arrive
  ASSERT_EQ(s.details().size(), 1u);
  EXPECT_EQ(s.details()[0].type, "EchoStreamInfo");
  EXPECT_EQ(std::get<int64_t>(s.details()[0].fields[0].second), 3);

  Collector bad;
  stream = client->Stream("echo", kStream, Request(100'001), bad.OnMessage(), bad.OnDone());
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ(bad.Wait().code(), StatusCode::kInvalidArgument);
}

TEST_F(MeshStreamTest, ACallerThePolicyDoesNotAllowIsDeniedWithTheSeedDetails) {
  StartEcho();
  auto client = Client("random");
  Collector got;
  auto stream = client->Stream("echo", kStream, Request(5), got.OnMessage(), got.OnDone());
  ASSERT_TRUE(stream.ok());
  Status s = got.Wait();
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  ASSERT_EQ(s.details().size(), 1u);
  EXPECT_EQ(s.details()[0].type, "AuthorizationError");
  EXPECT_TRUE(got.messages().empty());
  EXPECT_EQ(service_->streams_started(), 0u);  // refused before the handler
  EXPECT_EQ(pipeline_->counters().denied.load(), 1u);
}

TEST_F(MeshStreamTest, CancelMidStreamStopsTheServerSide) {
  StartEcho();
  auto client = Client("gateway");
  std::atomic<bool> cancelled{false};
  std::atomic<int> after_cancel{0};
  Collector got;
  auto on_message = got.OnMessage();
  auto stream = client->Stream(
      "echo", kStream, Request(100'000, 5),
      [&](const google::protobuf::Message& m) {
        if (cancelled) after_cancel.fetch_add(1);
        on_message(m);
      },
      [&](const Status&) { after_cancel.fetch_add(1); });  // on_done must not run after Cancel
  ASSERT_TRUE(stream.ok());
  ASSERT_TRUE(got.WaitForMessages(3));
  (*stream)->Cancel();
  cancelled = true;
  EXPECT_TRUE(WaitUntil([&] { return service_->streams_cancelled() == 1 && service_->active_streams() == 0; }));
  EXPECT_EQ(after_cancel.load(), 0);
  EXPECT_LT(got.messages().size(), 1000u);
  stream->reset();  // destroying a cancelled stream is fine
}

TEST_F(MeshStreamTest, ASlowConsumerEndsWithResourceExhausted) {
  StartEcho();
  auto client = Client("gateway");
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  Collector got;
  auto on_message = got.OnMessage();
  auto stream = client->Stream(
      "echo", kStream, Request(100'000),
      [&](const google::protobuf::Message& m) {
        on_message(m);
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return release; });  // the consumer stalls on its first message
      },
      got.OnDone());
  ASSERT_TRUE(stream.ok());
  // The producer stops when the server's queue overflows; only then does the consumer go on.
  EXPECT_TRUE(WaitUntil([&] { return service_->streams_started() == 1 && service_->active_streams() == 0; }));
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  Status s = got.Wait();
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  EXPECT_THAT(std::string(s.message()), HasSubstr("stream consumer too slow"));
  EXPECT_LT(got.messages().size(), 1000u);
  EXPECT_EQ(service_->streams_cancelled(), 0u);
}

TEST_F(MeshStreamTest, ADeadlineEndsALongStream) {
  StartEcho();
  auto client = Client("gateway");
  Collector got;
  CallOptions options;
  options.timeout = std::chrono::milliseconds(300);
  auto stream = client->Stream("echo", kStream, Request(100'000, 20), got.OnMessage(), got.OnDone(), options);
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ(got.Wait().code(), StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(got.messages().empty());
  EXPECT_TRUE(WaitUntil([&] { return service_->active_streams() == 0; }));
}

TEST_F(MeshStreamTest, DestroyingTheHandleWhileMessagesFlowIsSafe) {
  StartEcho();
  auto client = Client("gateway");
  for (int i = 0; i < 300; ++i) {
    // State the callbacks touch lives in this iteration only: a callback after the handle is
    // gone would use freed memory (and ASan builds would say so).
    auto seen = std::make_unique<std::atomic<int>>(0);
    auto gone = std::make_unique<std::atomic<bool>>(false);
    std::atomic<int>* seen_ptr = seen.get();
    std::atomic<bool>* gone_ptr = gone.get();
    auto stream = client->Stream(
        "echo", kStream, Request(100'000, 1),
        [seen_ptr, gone_ptr](const google::protobuf::Message&) {
          EXPECT_FALSE(gone_ptr->load());
          seen_ptr->fetch_add(1);
        },
        [gone_ptr](const Status&) { EXPECT_FALSE(gone_ptr->load()); });
    ASSERT_TRUE(stream.ok()) << stream.status().ToString();
    // Vary the moment: at once, or after a few messages.
    int wait_for = i % 3;
    while (seen->load() < wait_for) std::this_thread::yield();
    stream->reset();
    gone->store(true);
  }
  EXPECT_TRUE(WaitUntil([&] { return service_->active_streams() == 0; }));
  EXPECT_EQ(service_->streams_started(), 300u);
}

TEST_F(MeshStreamTest, ServerShutdownEndsOpenStreamsWithoutHanging) {
  StartEcho();
  auto client = Client("gateway");
  Collector got;
  auto stream = client->Stream("echo", kStream, Request(100'000, 10), got.OnMessage(), got.OnDone());
  ASSERT_TRUE(stream.ok());
  ASSERT_TRUE(got.WaitForMessages(1));
  server_->Shutdown(std::chrono::milliseconds(0));
  Status s = got.Wait();
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(WaitUntil([&] { return service_->active_streams() == 0; }));
  // Later streams are refused at once.
  Collector late;
  auto refused = client->Stream("echo", kStream, Request(1), late.OnMessage(), late.OnDone());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
}

TEST_F(MeshStreamTest, UnaryAndStreamingMethodsAreNotMixedUp) {
  StartEcho();
  auto client = Client("gateway");
  EchoResponse resp;
  EXPECT_EQ(client->Call("echo", kStream, Request(1), &resp).code(), StatusCode::kInvalidArgument);
  Collector got;
  auto s = client->Stream("echo", "/neosl.echo.v1.Echo/Echo", EchoRequest(), got.OnMessage(), got.OnDone());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  s = client->Stream("echo", kStream, EchoRequest(), got.OnMessage(), got.OnDone());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  s = client->Stream("nobody", kStream, Request(1), got.OnMessage(), got.OnDone());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(got.done());  // refused streams run no callback
}

TEST_F(MeshStreamTest, StreamsWorkOverMutualTls) {
  neosl::testing::TempDir dir;
  auto ca = CertificateAuthority::Init(dir.File("ca"), {}, SystemClock::Instance());
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  IdentityFiles server_files = testing::WriteIssued(**ca, dir.File("echo"), "echo");
  IdentityFiles client_files = testing::WriteIssued(**ca, dir.File("gateway"), "gateway");
  auto creds = ServerTlsCredentials(server_files);
  ASSERT_TRUE(creds.ok()) << creds.status().ToString();
  StartEcho(*creds);

  ClientOptions co;
  co.identity = "gateway";
  MeshClient client(co, *registry_, TlsChannels(client_files), SystemClock::Instance(), SecureRandom::Instance());
  Collector got;
  auto stream = client.Stream("echo", kStream, Request(20), got.OnMessage(), got.OnDone());
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  Status done = got.Wait();
  ASSERT_TRUE(done.ok()) << done.ToString();
  auto messages = got.messages();
  ASSERT_EQ(messages.size(), 20u);
  EXPECT_EQ(messages[19].hops(), 19u);
  EXPECT_EQ(messages[0].caller(), "gateway");  // the CN of the client certificate

  Collector endless;
  stream = client.Stream("echo", kStream, Request(100'000, 5), endless.OnMessage(), endless.OnDone());
  ASSERT_TRUE(stream.ok());
  ASSERT_TRUE(endless.WaitForMessages(2));
  stream->reset();
  EXPECT_TRUE(WaitUntil([&] { return service_->streams_cancelled() == 1 && service_->active_streams() == 0; }));
}

}  // namespace
}  // namespace neosl::mesh
