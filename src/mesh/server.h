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
//
// Server-streaming methods hand theirs to Pipeline::ServerStream and write from any thread
// through a StreamWriter, whose queue is bounded: a client that does not keep up ends the stream
// with RESOURCE_EXHAUSTED "stream consumer too slow" instead of growing the server's memory.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
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
namespace google::protobuf {
class Message;
}

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

// The writing end of one server-streaming call (Pipeline::ServerStream). Thread-safe: the
// producer writes from its own thread while gRPC reports progress on its threads.
class StreamWriter {
 public:
  // The messages a stream holds for a client that has not read them yet.
  static constexpr size_t kDefaultMaxQueued = 256;

  // Queues a copy of `message` (the method's response type). False once the stream is over:
  // finished, cancelled by the client (or its deadline), or overflowed — when `max_queued`
  // messages are waiting, the stream ends with RESOURCE_EXHAUSTED "stream consumer too slow".
  bool Write(const google::protobuf::Message& message);
  // Ends the stream with `status`; queued messages are sent first when it is OK. Later calls,
  // and calls after the stream is over, do nothing.
  void Finish(const Status& status);
  // Whether the stream is over (no more Write will be accepted).
  bool done() const;
  // Whether the client cancelled the call (or its deadline passed, or the server shut down).
  bool cancelled() const;
  // Waits until the stream is over or `timeout` has passed; returns done(). For producers that
  // pause between messages and must stop at once when the client goes away.
  bool WaitDone(std::chrono::milliseconds timeout) const;
  // The admitted call: trace, caller, account, deadline.
  const CallContext& call() const { return call_; }

  // What a typed reactor does for the writer (ServerStreamReactor below).
  class Sink {
   public:
    virtual void StartWrite(const google::protobuf::Message* message) = 0;
    virtual void Finish(const grpc::Status& status) = 0;

   protected:
    ~Sink() = default;
  };
  StreamWriter(Sink* sink, CallContext call, size_t max_queued, std::function<void(const Status&, uint64_t)> on_end);
  // gRPC's notifications, forwarded by the reactor.
  void OnWriteDone(bool ok);
  void OnCancel();
  void OnDone();

 private:
  // Starts the next queued write or the pending finish; mu_ held.
  void Pump();
  void FinishLocked(const Status& status);

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  Sink* sink_;  // null after OnDone
  const CallContext call_;
  const size_t max_queued_;
  std::function<void(const Status&, uint64_t)> on_end_;  // logs the call once it is over
  std::deque<std::unique_ptr<google::protobuf::Message>> queue_;
  std::unique_ptr<google::protobuf::Message> in_flight_;
  bool over_ = false;       // no more writes accepted
  bool finishing_ = false;  // a finish waits for the queue to drain
  bool finished_ = false;   // Sink::Finish was called
  bool cancelled_ = false;
  Status status_;
  uint64_t written_ = 0;
};

namespace internal {
// A ServerWriteReactor that forwards to a StreamWriter and deletes itself when gRPC is done.
template <typename Response>
class ServerStreamReactor final : public grpc::ServerWriteReactor<Response>, public StreamWriter::Sink {
 public:
  void Bind(std::shared_ptr<StreamWriter> writer) { writer_ = std::move(writer); }
  void StartWrite(const google::protobuf::Message* message) override {
    grpc::ServerWriteReactor<Response>::StartWrite(static_cast<const Response*>(message));
  }
  void Finish(const grpc::Status& status) override { grpc::ServerWriteReactor<Response>::Finish(status); }
  void OnWriteDone(bool ok) override { writer_->OnWriteDone(ok); }
  void OnCancel() override { writer_->OnCancel(); }
  void OnDone() override {
    writer_->OnDone();
    delete this;
  }

 private:
  std::shared_ptr<StreamWriter> writer_;
};
}  // namespace internal

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

  // A server-streaming method: admits the call, then runs `handler` on the calling gRPC thread
  // with the call current. The handler must not block: it starts a producer (a thread, a
  // subscription) that writes through the writer and finishes it. A refused call never reaches
  // the handler.
  using StreamHandler = std::function<void(const std::shared_ptr<StreamWriter>&)>;
  template <typename Response>
  grpc::ServerWriteReactor<Response>* ServerStream(grpc::CallbackServerContext* ctx, std::string_view target,
                                                   std::string_view operation, const StreamHandler& handler,
                                                   size_t max_queued = StreamWriter::kDefaultMaxQueued) {
    auto* reactor = new internal::ServerStreamReactor<Response>();
    StartStream(
        ctx, target, operation, reactor, [reactor](std::shared_ptr<StreamWriter> w) { reactor->Bind(w); }, handler,
        max_queued);
    return reactor;
  }

  struct Counters {
    std::atomic<uint64_t> admitted{0}, unauthenticated{0}, denied{0}, rate_limited{0}, deadline{0}, evidence{0};
  };
  const Counters& counters() const { return counters_; }
  // The secret that marks this process's in-process channels (MeshServer::InProcessChannel).
  const std::string& inproc_token() const { return inproc_token_; }

 private:
  bool IsInProcess(const grpc::CallbackServerContext* ctx) const;
  void StartStream(grpc::CallbackServerContext* ctx, std::string_view target, std::string_view operation,
                   StreamWriter::Sink* sink, const std::function<void(std::shared_ptr<StreamWriter>)>& bind,
                   const StreamHandler& handler, size_t max_queued);
  void LogCall(const CallContext* call, std::string_view operation, std::chrono::steady_clock::time_point start,
               const Status& status, const std::string& peer, int64_t messages = -1);
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
