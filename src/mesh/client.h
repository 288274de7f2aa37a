// The client side of the mesh (service-integration.md, "Error Handling", "Secure Channel
// Establishment" steps 6–10): one MeshClient per process calls any service by name.
//
//   discovery    the registry's live instances of the service, watched for changes
//   balancing    round-robin over instances that are healthy and whose breaker is closed
//   deadline     every call has one (CallOptions::timeout, else the default), never later than
//                the deadline of the call being served (CurrentCall()); sent as grpc-timeout and
//                x-deadline-ms
//   retries      UNAVAILABLE on an idempotent method (proto idempotency_level) is retried on
//                another instance with exponential backoff and jitter, within the deadline
//   breaker      one per instance: consecutive UNAVAILABLE opens it, calls skip it, a probe
//                closes it again
//   context      traceparent (new span), x-trace-id, x-caller-id, x-account-id, x-roles
//   attestation  before the first request to a method marked `(neosl.common.v1.sensitive)`, the
//                instance is challenged (Mesh/Attest with a fresh nonce) and its evidence checked
//                against the attestation policy; nothing sensitive is sent to an instance that has
//                not passed. The result is cached per instance and redone when the instance's
//                certificate changes (rotation) or its channel has to connect again.
//   streams      Stream() runs a server-streaming method with the same discovery, breaker,
//                context and attestation; a stream may have no deadline, and is not retried
//                (it may have delivered messages already).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "core/status.h"
#include "mesh/context.h"
#include "mesh/registry.h"
#include "mesh/resilience.h"
#include "mesh/tls.h"
#include "tee/verifier.h"
#include <grpcpp/channel.h>

namespace google::protobuf {
class Message;
}
namespace grpc {
class ClientContext;
}

namespace neosl::mesh {

class MeshServer;
class InProcessGate;

// Makes the channel to one instance.
class ChannelFactory {
 public:
  virtual ~ChannelFactory() = default;
  virtual StatusOr<std::shared_ptr<grpc::Channel>> Create(const Endpoint& endpoint) = 0;
  // In-process channels: the gate their calls start in (server.h). Null for network channels.
  virtual std::shared_ptr<InProcessGate> Gate() { return nullptr; }
};
// Every endpoint is this process's own server, reached in-process as `caller_identity`.
std::unique_ptr<ChannelFactory> InProcessChannels(MeshServer& server, std::string caller_identity);
// mTLS with this process's identity files; the server must present CN == endpoint.service.
std::unique_ptr<ChannelFactory> TlsChannels(IdentityFiles files, TlsOptions options = {});
// Plaintext (benchmarks only).
std::unique_ptr<ChannelFactory> InsecureChannels();

struct ClientOptions {
  std::string identity;  // this process's service identity (x-caller-id)
  std::chrono::milliseconds default_timeout{5000};
  int max_attempts = 3;  // including the first
  BackoffPolicy backoff;
  BreakerOptions breaker;
  // Evidence policy for sensitive methods; nullopt refuses every sensitive call.
  std::optional<tee::AttestationPolicy> attestation;
};

// The largest message a mesh channel sends or receives (the servers' default too).
inline constexpr int kMaxMessageBytes = 4 << 20;

struct CallOptions {
  std::optional<std::chrono::milliseconds> timeout;
  // Context for calls not made while serving one (the gateway): override what CurrentCall()
  // would give.
  std::optional<std::string> trace_id, account, roles, actor;
};

// A server-streaming call in flight (MeshClient::Stream). Destroying it cancels it, as Cancel.
class MeshStream {
 public:
  class Call;
  explicit MeshStream(std::shared_ptr<Call> call);
  ~MeshStream();
  MeshStream(const MeshStream&) = delete;
  MeshStream& operator=(const MeshStream&) = delete;

  // Cancels the call and waits until gRPC is done with it; after it returns no callback runs
  // again (on_done included), so the owner may go away, and the call's channel is released on
  // this thread, never on gRPC's. From inside one of the stream's own callbacks it cancels without
  // waiting for that callback to return.
  void Cancel();

 private:
  std::shared_ptr<Call> call_;
};

class MeshClient {
 public:
  MeshClient(ClientOptions options, Registry& registry, std::unique_ptr<ChannelFactory> channels, const Clock& clock,
             RandomSource& random);
  ~MeshClient();

  // Calls `method` ("/neosl.echo.v1.Echo/Echo") on an instance of `service` ("echo").
  // `request` and `response` must be the method's message types (INVALID_ARGUMENT otherwise).
  Status Call(std::string_view service, std::string_view method, const google::protobuf::Message& request,
              google::protobuf::Message* response, const CallOptions& options = {});

  // Calls the server-streaming `method` on an instance of `service`. `on_message` gets each
  // message (the method's response type, valid during the call only), one at a time and in
  // order; `on_done` the final status, once. Both run on gRPC's threads and must not block for
  // long: the next message is not read until on_message returns (the server's bounded queue is
  // the back-pressure). An error return (bad method, no instance, open circuit, failed
  // attestation) means no callback will run. Without options.timeout (and no deadline on the
  // call being served) the stream has no deadline.
  using OnMessage = std::function<void(const google::protobuf::Message&)>;
  using OnDone = std::function<void(const Status&)>;
  StatusOr<std::unique_ptr<MeshStream>> Stream(std::string_view service, std::string_view method,
                                               const google::protobuf::Message& request, OnMessage on_message,
                                               OnDone on_done, const CallOptions& options = {});

  struct InstanceStats {
    std::string instance, address;
    CircuitBreaker::State breaker;
    bool attested = false;
    std::string fingerprint;  // of the certificate the last verified evidence came over
    uint64_t calls = 0, failures = 0, attestations = 0;
  };
  std::vector<InstanceStats> Stats(std::string_view service);
  const std::string& identity() const { return options_.identity; }
  // The services this client has called (its pools), for metrics.
  std::vector<std::string> Services();

  struct Pool;
  struct Instance;
  struct MethodInfo;

 private:
  StatusOr<std::shared_ptr<Pool>> PoolFor(std::string_view service);
  StatusOr<const MethodInfo*> Method(std::string_view method);
  // The context an outgoing call carries: `options`, else the call being served, else new.
  CallContext Outgoing(const CallOptions& options);
  // Round-robin over healthy instances with a closed (or probing) breaker, preferring ones not in
  // `tried`; null if none. Counts the pool's instances and how many were skipped as open.
  std::shared_ptr<Instance> Pick(Pool& pool, const std::vector<const Instance*>& tried, size_t* total, size_t* open);
  // Before a sensitive request: the instance's evidence, checked now unless cached.
  Status Preflight(Instance& instance, std::chrono::system_clock::time_point deadline, const CallOptions& options);
  Status Attest(Instance& instance, std::chrono::system_clock::time_point deadline, const CallOptions& options);
  void AddMetadata(grpc::ClientContext& ctx, const CallContext& call,
                   std::optional<std::chrono::system_clock::time_point> deadline);
  // Runs one unary call on `instance` and waits for it.
  Status Invoke(Instance& instance, const MethodInfo& method, grpc::ClientContext& ctx,
                const google::protobuf::Message& request, google::protobuf::Message* response);

  ClientOptions options_;
  Registry& registry_;
  std::unique_ptr<ChannelFactory> channels_;
  std::shared_ptr<InProcessGate> gate_;
  const Clock& clock_;
  RandomSource& random_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Pool>, std::less<>> pools_;
  std::map<std::string, std::unique_ptr<MethodInfo>, std::less<>> methods_;
};

}  // namespace neosl::mesh
