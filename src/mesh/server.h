// The server side of the mesh: every call to every service passes the same pipeline
// (service-integration.md, "Secure Channel Establishment" steps 2, 7, 8, 11):
//
//   identity      the CN of the verified client certificate; in-process calls carry the
//                 identity of the in-process channel they came through (MeshServer::
//                 InProcessChannel), which only code in this process can open
//   trace         traceparent, else x-trace-id, else a new trace id; a new span per call
//   deadline      grpc-timeout, else x-deadline-ms; a call whose deadline has passed is refused
//   authorization the YAML policy (policy.h), deny by default → PERMISSION_DENIED
//   rate limits   global, per caller, per method → RESOURCE_EXHAUSTED + RetryInfo detail and
//                 the grpc-retry-pushback-ms trailer
//   attestation   a call with x-attestation-nonce gets the enclave's evidence for that nonce in
//                 the x-attestation-evidence response header
//   handler       runs with the CallContext current (CurrentCall(), and its trace id in every
//                 log line); its Status goes back with its structured details
//
// Services are written with gRPC's callback API; each method hands its body to Pipeline::Unary,
// which is what makes the checks above impossible to forget:
//
//   grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx, const EchoRequest* req,
//                                  EchoResponse* resp) override {
//     return pipeline_.Unary(ctx, "echo", "Echo", [&](const mesh::CallContext& call) {
//       resp->set_message(req->message());
//       return Status();
//     });
//   }
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "core/rate_limiter.h"
#include "core/status.h"
#include "mesh/context.h"
#include "mesh/policy.h"
#include <grpcpp/channel.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/support/server_callback.h>

namespace grpc {
class CallbackServerContext;
class Service;
}  // namespace grpc

namespace neosl::mesh {

// The enclave's evidence JSON (tee::EvidenceToJson) for a caller's nonce.
using EvidenceSource = std::function<StatusOr<std::string>(std::span<const uint8_t> nonce)>;

struct PipelineOptions {
  const AuthzPolicy* policy = nullptr;  // required
  RateLimiter* limiter = nullptr;       // null: no server-side limits
  EvidenceSource evidence;              // null: nonce-bearing calls get no evidence (clients refuse)
  // Plaintext listening (benchmarks only): no certificate, so x-caller-id is taken on trust.
  bool trust_caller_header = false;
  bool log_calls = false;  // one info line per call (else debug)
};

class Pipeline {
 public:
  Pipeline(PipelineOptions options, const Clock& clock, RandomSource& random);

  using Handler = std::function<Status(const CallContext&)>;
  // Admits the call and runs `handler` on the calling gRPC thread, for handlers that do not block
  // for long. `target` is the serving service's identity, `operation` the method's short name.
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* ctx, std::string_view target, std::string_view operation,
                                  const Handler& handler);

  // For handlers that finish later on another thread: call `done` exactly once.
  using Done = std::function<void(const Status&)>;
  using AsyncHandler = std::function<void(const std::shared_ptr<const CallContext>&, const Done&)>;
  grpc::ServerUnaryReactor* UnaryAsync(grpc::CallbackServerContext* ctx, std::string_view target,
                                       std::string_view operation, const AsyncHandler& handler);

  // The admission steps alone (streaming handlers use this and finish themselves).
  StatusOr<CallContext> Admit(grpc::CallbackServerContext* ctx, std::string_view target, std::string_view operation);

  struct Counters {
    std::atomic<uint64_t> admitted{0}, unauthenticated{0}, denied{0}, rate_limited{0}, deadline{0}, evidence{0};
  };
  const Counters& counters() const { return counters_; }
  // The secret that marks this process's in-process channels (MeshServer::InProcessChannel).
  const std::string& inproc_token() const { return inproc_token_; }

 private:
  bool IsInProcess(const grpc::CallbackServerContext* ctx) const;
  void Finish(grpc::ServerUnaryReactor* reactor, const CallContext* call, std::string_view operation,
              std::chrono::steady_clock::time_point start, const Status& status, grpc::CallbackServerContext* ctx);

  PipelineOptions options_;
  const Clock& clock_;
  RandomSource& random_;
  std::string inproc_token_;
  Counters counters_;
};

struct ServerOptions {
  std::string listen;                                    // HOST:PORT (port 0 picks one); empty: in-process only
  std::shared_ptr<grpc::ServerCredentials> credentials;  // required with `listen` unless insecure
  bool insecure = false;                                 // plaintext (benchmarks only)
  int max_message_bytes = 4 << 20;                       // as the client's kMaxMessageBytes
  // Connections are closed after this age (new handshakes pick up rotated certificates and the
  // current revocation list; calls in flight get `grace` to finish).
  std::chrono::milliseconds max_connection_age{30 * 60 * 1000};
  std::chrono::milliseconds max_connection_age_grace{30 * 1000};
};

// gRPC 1.51 crashes when a call is created on an in-process channel while its server shuts down,
// so in-process calls are started inside this gate and Shutdown closes it first: later calls get
// UNAVAILABLE, as they would from a stopped server across the network.
class InProcessGate {
 public:
  // Runs `start` (which must only create and start a call, not wait for it) unless closed.
  template <typename F>
  bool Run(F&& start) {
    std::shared_lock lock(mu_);
    if (closed_) return false;
    start();
    return true;
  }
  void Close() {
    std::unique_lock lock(mu_);
    closed_ = true;
  }

 private:
  std::shared_mutex mu_;
  bool closed_ = false;
};

// One gRPC server holding the services of this process plus the mesh's own (Attest).
class MeshServer {
 public:
  MeshServer(ServerOptions options, Pipeline& pipeline, std::string instance);
  ~MeshServer();

  // Before Start. The service must outlive the server.
  void AddService(grpc::Service* service);
  // Returns the bound "host:port", or "" when in-process only.
  StatusOr<std::string> Start();
  // A channel into this server for code in this process calling as `caller_identity`.
  std::shared_ptr<grpc::Channel> InProcessChannel(const std::string& caller_identity);
  // What in-process calls must start inside (see InProcessGate).
  std::shared_ptr<InProcessGate> gate() const { return gate_; }
  // Stops accepting, lets calls in flight finish until `grace` has passed, then cancels them.
  void Shutdown(std::chrono::milliseconds grace);

  const std::string& instance() const { return instance_; }

 private:
  ServerOptions options_;
  Pipeline& pipeline_;
  std::string instance_;
  std::vector<grpc::Service*> services_;
  std::unique_ptr<grpc::Service> mesh_service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<InProcessGate> gate_ = std::make_shared<InProcessGate>();
};

}  // namespace neosl::mesh
