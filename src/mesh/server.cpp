#include "mesh/server.h"

#include <algorithm>
#include <charconv>

#include <openssl/crypto.h>

#include "core/encoding.h"
#include "core/log.h"
#include "mesh/tls.h"
#include "neosl/mesh/v1/mesh.grpc.pb.h"
#include <google/protobuf/message.h>
#include <grpcpp/security/auth_context.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/server_interceptor.h>

namespace neosl::mesh {
namespace {

constexpr std::string_view kMeshTarget = "mesh";
constexpr size_t kMinNonce = 16, kMaxNonce = 64;

std::string_view Header(const grpc::CallbackServerContext* ctx, std::string_view key) {
  const auto& md = ctx->client_metadata();
  auto it = md.find(grpc::string_ref(key.data(), key.size()));
  if (it == md.end()) return {};
  return std::string_view(it->second.data(), it->second.size());
}

// In-process calls carry the pipeline's random per-process token, which never leaves the
// process, and come through a transport without a network peer.
constexpr std::string_view kInProcessKey = "x-neosl-inproc";

bool IsNetworkPeer(const std::string& peer) {
  return peer.rfind("ipv4:", 0) == 0 || peer.rfind("ipv6:", 0) == 0 || peer.rfind("unix:", 0) == 0;
}

bool IsIdentity(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

Status RateLimited(const RateLimiter::Decision& d, std::string_view operation) {
  // Built field by field with explicit alternatives: GCC 12 misreads the chained form as a use
  // of an uninitialised variant.
  ErrorDetail retry{"RetryInfo", {}};
  retry.fields.emplace_back("retry_after_ms", ErrorDetail::Value(std::in_place_index<1>, d.retry_after.count()));
  retry.fields.emplace_back("scope", ErrorDetail::Value(std::in_place_index<0>, ScopeName(d.scope)));
  return ResourceExhaustedError("rate limit exceeded (" + std::string(ScopeName(d.scope)) + ") for " +
                                std::string(operation) + "; retry after " + std::to_string(d.retry_after.count()) +
                                " ms")
      .WithDetail(std::move(retry));
}

// Adds this process's identity to in-process calls, replacing whatever the caller put there.
class CallerInterceptor final : public grpc::experimental::Interceptor {
 public:
  CallerInterceptor(const std::string* identity, const std::string* token) : identity_(identity), token_(token) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      auto* md = methods->GetSendInitialMetadata();
      md->erase(std::string(kCallerIdKey));
      md->emplace(std::string(kCallerIdKey), *identity_);
      md->erase(std::string(kInProcessKey));
      md->emplace(std::string(kInProcessKey), *token_);
    }
    methods->Proceed();
  }

 private:
  const std::string* identity_;
  const std::string* token_;
};

class CallerInterceptorFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  CallerInterceptorFactory(std::string identity, std::string token)
      : identity_(std::move(identity)), token_(std::move(token)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(grpc::experimental::ClientRpcInfo*) override {
    return new CallerInterceptor(&identity_, &token_);
  }

 private:
  std::string identity_;
  std::string token_;
};

class MeshService final : public v1::Mesh::CallbackService {
 public:
  MeshService(Pipeline& pipeline, std::string instance) : pipeline_(pipeline), instance_(std::move(instance)) {}
  grpc::ServerUnaryReactor* Attest(grpc::CallbackServerContext* ctx, const v1::AttestRequest*,
                                   v1::AttestResponse* response) override {
    return pipeline_.Unary(ctx, kMeshTarget, "Attest", [&](const CallContext&) {
      response->set_instance(instance_);
      return Status();
    });
  }

 private:
  Pipeline& pipeline_;
  std::string instance_;
};

}  // namespace

Pipeline::Pipeline(PipelineOptions options, const Clock& clock, RandomSource& random)
    : options_(std::move(options)), clock_(clock), random_(random) {
  uint8_t token[16];
  random_.Fill(token);
  inproc_token_ = HexEncode(token);
}

bool Pipeline::IsInProcess(const grpc::CallbackServerContext* ctx) const {
  std::string_view token = Header(ctx, kInProcessKey);
  if (token.size() != inproc_token_.size() || IsNetworkPeer(ctx->peer())) return false;
  return CRYPTO_memcmp(token.data(), inproc_token_.data(), token.size()) == 0;
}

StatusOr<CallContext> Pipeline::Admit(grpc::CallbackServerContext* ctx, std::string_view target,
                                      std::string_view operation) {
  CallContext call;
  call.operation = std::string(operation);

  // Trace context first, so that even a refusal is logged under the caller's trace.
  call.trace_id = TraceIdFromTraceparent(Header(ctx, kTraceparentKey));
  if (call.trace_id.empty() && IsTraceId(Header(ctx, kTraceIdKey)))
    call.trace_id = std::string(Header(ctx, kTraceIdKey));
  if (call.trace_id.empty()) call.trace_id = NewTraceId(random_);
  call.span_id = NewSpanId(random_);

  // Identity: the verified certificate's CN; in-process, the channel's identity.
  std::shared_ptr<const grpc::AuthContext> auth = ctx->auth_context();
  std::string identity = auth ? PeerIdentity(*auth) : std::string();
  if (identity.empty() && (options_.trust_caller_header || IsInProcess(ctx))) {
    identity = std::string(Header(ctx, kCallerIdKey));
  }
  if (identity.empty() || !IsIdentity(identity)) {
    counters_.unauthenticated.fetch_add(1, std::memory_order_relaxed);
    return UnauthenticatedError("no verified caller identity from " + ctx->peer() +
                                " (a mesh client certificate is required)");
  }
  call.caller = std::move(identity);
  call.account = std::string(Header(ctx, kAccountIdKey));
  call.roles = std::string(Header(ctx, kRolesKey));
  call.actor = std::string(Header(ctx, kActorKey));

  // Deadline: gRPC's own, else the seed's x-deadline-ms budget.
  auto deadline = ctx->deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) {
    call.deadline = deadline;
  } else if (std::string_view ms = Header(ctx, kDeadlineMsKey); !ms.empty()) {
    int64_t value = 0;
    auto [p, ec] = std::from_chars(ms.data(), ms.data() + ms.size(), value);
    if (ec == std::errc() && p == ms.data() + ms.size() && value >= 0) {
      call.deadline = clock_.Now() + std::chrono::milliseconds(value);
    }
  }
  if (call.deadline && *call.deadline <= clock_.Now()) {
    counters_.deadline.fetch_add(1, std::memory_order_relaxed);
    return DeadlineExceededError("deadline passed before " + std::string(target) + "." + std::string(operation) +
                                 " started");
  }

  // Authorization: the mesh's own Attest is open to every authenticated member.
  if (target != kMeshTarget) {
    if (Status s = options_.policy->Check(call.caller, target, operation); !s.ok()) {
      counters_.denied.fetch_add(1, std::memory_order_relaxed);
      return s;
    }
  }

  if (options_.limiter) {
    RateLimiter::Decision d = options_.limiter->AdmitGlobal();
    if (d.allowed) d = options_.limiter->AdmitCaller(call.caller, /*anonymous=*/false);
    if (d.allowed) d = options_.limiter->AdmitMethod(operation);
    if (!d.allowed) {
      counters_.rate_limited.fetch_add(1, std::memory_order_relaxed);
      ctx->AddTrailingMetadata(std::string(kRetryPushbackKey), std::to_string(d.retry_after.count()));
      return RateLimited(d, operation);
    }
  }

  if (std::string_view nonce_hex = Header(ctx, kAttestationNonceKey); !nonce_hex.empty()) {
    auto nonce = HexDecode(nonce_hex);
    if (!nonce || nonce->size() < kMinNonce || nonce->size() > kMaxNonce) {
      return InvalidArgumentError("x-attestation-nonce must be 16 to 64 bytes of hex");
    }
    if (options_.evidence) {
      auto evidence = options_.evidence(*nonce);
      if (!evidence.ok()) return evidence.status().Annotate("attestation evidence");
      ctx->AddInitialMetadata(std::string(kAttestationEvidenceKey), *evidence);
      counters_.evidence.fetch_add(1, std::memory_order_relaxed);
    }
  }
  counters_.admitted.fetch_add(1, std::memory_order_relaxed);
  return call;
}

void Pipeline::LogCall(const CallContext* call, std::string_view operation, std::chrono::steady_clock::time_point start,
                       const Status& status, const std::string& peer, int64_t messages) {
  log::Level level = options_.log_calls ? log::Level::kInfo : log::Level::kDebug;
  if (status.code() == StatusCode::kInternal || status.code() == StatusCode::kUnknown) level = log::Level::kWarn;
  if (!log::Enabled(level)) return;
  double ms = std::chrono::duration<double, std::milli>(clock_.SteadyNow() - start).count();
  log::ScopedTraceId trace(call ? std::string_view(call->trace_id) : log::CurrentTraceId());
  if (messages < 0) {
    log::Write(level, "mesh call",
               {{"operation", operation},
                {"caller", call ? std::string_view(call->caller) : std::string_view()},
                {"peer", peer},
                {"code", StatusCodeName(status.code())},
                {"ms", ms}});
  } else {
    log::Write(level, "mesh stream",
               {{"operation", operation},
                {"caller", call ? std::string_view(call->caller) : std::string_view()},
                {"peer", peer},
                {"code", StatusCodeName(status.code())},
                {"messages", messages},
                {"ms", ms}});
  }
}

void Pipeline::Finish(grpc::ServerUnaryReactor* reactor, const CallContext* call, std::string_view operation,
                      std::chrono::steady_clock::time_point start, const Status& status,
                      grpc::CallbackServerContext* ctx) {
  LogCall(call, operation, start, status, ctx->peer());
  reactor->Finish(ToGrpcStatus(status));
}

void Pipeline::StartStream(grpc::CallbackServerContext* ctx, std::string_view target, std::string_view operation,
                           StreamWriter::Sink* sink, const std::function<void(std::shared_ptr<StreamWriter>)>& bind,
                           const StreamHandler& handler, size_t max_queued) {
  auto start = clock_.SteadyNow();
  auto call = Admit(ctx, target, operation);
  auto context = std::make_shared<const CallContext>(call.ok() ? *call : CallContext{});
  bool admitted = call.ok();
  auto on_end = [this, context, admitted, op = std::string(operation), start, peer = ctx->peer()](const Status& status,
                                                                                                  uint64_t messages) {
    LogCall(admitted ? context.get() : nullptr, op, start, status, peer, int64_t(messages));
  };
  auto writer = std::make_shared<StreamWriter>(sink, *context, max_queued, std::move(on_end));
  bind(writer);
  if (!admitted) {
    writer->Finish(call.status());
    return;
  }
  ScopedCall scope(&writer->call());
  handler(writer);
}

StreamWriter::StreamWriter(Sink* sink, CallContext call, size_t max_queued,
                           std::function<void(const Status&, uint64_t)> on_end)
    : sink_(sink), call_(std::move(call)), max_queued_(std::max<size_t>(1, max_queued)), on_end_(std::move(on_end)) {}

bool StreamWriter::Write(const google::protobuf::Message& message) {
  std::lock_guard lock(mu_);
  if (over_) return false;
  if (queue_.size() >= max_queued_) {
    // The client reads slower than the producer writes: end the stream rather than buffer
    // without bound. The queue is dropped; the status follows the message in flight (gRPC's
    // in-process transport loses a write that a finish overtakes, and the call never ends).
    queue_.clear();
    over_ = true;
    finishing_ = true;
    status_ = ResourceExhaustedError("stream consumer too slow: " + std::to_string(max_queued_) +
                                     " messages were waiting to be read");
    cv_.notify_all();
    Pump();
    return false;
  }
  std::unique_ptr<google::protobuf::Message> copy(message.New());
  copy->CopyFrom(message);
  queue_.push_back(std::move(copy));
  Pump();
  return true;
}

void StreamWriter::Finish(const Status& status) {
  std::lock_guard lock(mu_);
  if (over_) return;
  over_ = true;
  finishing_ = true;
  status_ = status;
  cv_.notify_all();
  Pump();
}

bool StreamWriter::done() const {
  std::lock_guard lock(mu_);
  return over_;
}

bool StreamWriter::cancelled() const {
  std::lock_guard lock(mu_);
  return cancelled_;
}

bool StreamWriter::WaitDone(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return over_; });
}

// gRPC runs reactor callbacks of write and finish operations on its own threads, never inline in
// StartWrite or Finish, so they are called with mu_ held.
void StreamWriter::Pump() {
  if (finished_ || in_flight_) return;
  if (!queue_.empty()) {
    in_flight_ = std::move(queue_.front());
    queue_.pop_front();
    sink_->StartWrite(in_flight_.get());
  } else if (finishing_) {
    FinishLocked(status_);
  }
}

void StreamWriter::FinishLocked(const Status& status) {
  if (finished_) return;
  finished_ = true;
  over_ = true;
  status_ = status;
  cv_.notify_all();
  sink_->Finish(ToGrpcStatus(status));
}

void StreamWriter::OnWriteDone(bool ok) {
  std::lock_guard lock(mu_);
  in_flight_.reset();
  if (ok) {
    ++written_;
    Pump();
    return;
  }
  // The write failed: the call is broken (cancelled, or the connection went away).
  queue_.clear();
  cancelled_ = true;
  FinishLocked(CancelledError("the stream's client went away"));
}

void StreamWriter::OnCancel() {
  std::lock_guard lock(mu_);
  cancelled_ = true;
  queue_.clear();
  FinishLocked(CancelledError("the stream was cancelled by its client"));  // every call must finish
  cv_.notify_all();
}

void StreamWriter::OnDone() {
  Status status;
  uint64_t written;
  {
    std::lock_guard lock(mu_);
    sink_ = nullptr;
    over_ = true;
    cv_.notify_all();
    status = status_;
    written = written_;
  }
  if (on_end_) on_end_(status, written);
}

grpc::ServerUnaryReactor* Pipeline::Unary(grpc::CallbackServerContext* ctx, std::string_view target,
                                          std::string_view operation, const Handler& handler) {
  return UnaryAsync(
      ctx, target, operation,
      [&handler](const std::shared_ptr<const CallContext>& call, const Done& done) { done(handler(*call)); });
}

grpc::ServerUnaryReactor* Pipeline::UnaryAsync(grpc::CallbackServerContext* ctx, std::string_view target,
                                               std::string_view operation, const AsyncHandler& handler) {
  auto start = clock_.SteadyNow();
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto call = Admit(ctx, target, operation);
  if (!call.ok()) {
    Finish(reactor, nullptr, operation, start, call.status(), ctx);
    return reactor;
  }
  auto shared = std::make_shared<const CallContext>(std::move(*call));
  std::string op(operation);
  ScopedCall scope(shared.get());
  handler(shared, [this, reactor, shared, op, start, ctx](const Status& status) {
    Finish(reactor, shared.get(), op, start, status, ctx);
  });
  return reactor;
}

MeshServer::MeshServer(ServerOptions options, Pipeline& pipeline, std::string instance)
    : options_(std::move(options)), pipeline_(pipeline), instance_(std::move(instance)) {
  mesh_service_ = std::make_unique<MeshService>(pipeline_, instance_);
}

MeshServer::~MeshServer() {
  Shutdown(std::chrono::milliseconds(0));
}

void MeshServer::AddService(grpc::Service* service) {
  services_.push_back(service);
}

StatusOr<std::string> MeshServer::Start() {
  grpc::ServerBuilder builder;
  int port = 0;
  if (!options_.listen.empty()) {
    std::shared_ptr<grpc::ServerCredentials> creds = options_.credentials;
    if (!creds) {
      if (!options_.insecure) {
        return FailedPreconditionError("mesh server on " + options_.listen + " has no TLS credentials");
      }
      creds = grpc::InsecureServerCredentials();
    }
    builder.AddListeningPort(options_.listen, creds, &port);
  }
  builder.SetMaxReceiveMessageSize(options_.max_message_bytes);
  builder.SetMaxSendMessageSize(options_.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, int(options_.max_connection_age.count()));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, int(options_.max_connection_age_grace.count()));
  builder.RegisterService(mesh_service_.get());
  for (grpc::Service* s : services_) builder.RegisterService(s);
  server_ = builder.BuildAndStart();
  if (!server_) return UnavailableError("cannot start the mesh server on " + options_.listen);
  if (options_.listen.empty()) return std::string();
  if (port == 0) return UnavailableError("cannot listen on " + options_.listen + " (address in use or invalid?)");
  std::string host = options_.listen.substr(0, options_.listen.rfind(':'));
  return host + ":" + std::to_string(port);
}

std::shared_ptr<grpc::Channel> MeshServer::InProcessChannel(const std::string& caller_identity) {
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<CallerInterceptorFactory>(caller_identity, pipeline_.inproc_token()));
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options_.max_message_bytes);
  args.SetMaxSendMessageSize(options_.max_message_bytes);
  return server_->experimental().InProcessChannelWithInterceptors(args, std::move(interceptors));
}

void MeshServer::Shutdown(std::chrono::milliseconds grace) {
  gate_->Close();
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
  server_.reset();
}

}  // namespace neosl::mesh
