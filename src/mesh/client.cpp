#include "mesh/client.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <thread>

#include <boost/json/parse.hpp>

#include "core/encoding.h"
#include "core/log.h"
#include "mesh/context.h"
#include "mesh/server.h"
#include "neosl/common/v1/options.pb.h"
#include "neosl/mesh/v1/mesh.grpc.pb.h"
#include "tee/attestation.h"
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/client_callback.h>

namespace neosl::mesh {

struct MeshClient::Instance {
  Instance(Endpoint e, std::shared_ptr<grpc::Channel> c, const BreakerOptions& b, const Clock& clock)
      : endpoint(std::move(e)), channel(std::move(c)), breaker(b, clock) {}
  Endpoint endpoint;
  std::shared_ptr<grpc::Channel> channel;
  CircuitBreaker breaker;
  std::mutex mu;  // guards attested and fingerprint
  bool attested = false;
  std::string fingerprint;  // of the certificate the evidence was checked over
  std::atomic<uint64_t> calls{0}, failures{0}, attestations{0};
};

struct MeshClient::Pool {
  std::string service;
  std::mutex mu;
  std::vector<std::shared_ptr<Instance>> instances;
  std::atomic<uint64_t> next{0};
  std::unique_ptr<Registry::Watch> watch;
};

struct MeshClient::MethodInfo {
  MethodInfo(std::string p, bool i, bool s, bool streaming, const google::protobuf::Descriptor* in,
             const google::protobuf::Descriptor* out)
      : path(std::move(p)),
        rpc(path.c_str(),
            streaming ? grpc::internal::RpcMethod::SERVER_STREAMING : grpc::internal::RpcMethod::NORMAL_RPC),
        idempotent(i),
        sensitive(s),
        server_streaming(streaming),
        input(in),
        output(out) {}
  std::string path;  // stable storage for rpc's name
  grpc::internal::RpcMethod rpc;
  bool idempotent, sensitive, server_streaming;
  const google::protobuf::Descriptor* input;
  const google::protobuf::Descriptor* output;
};

namespace {

class InProcessFactory final : public ChannelFactory {
 public:
  InProcessFactory(MeshServer& server, std::string identity) : server_(server), identity_(std::move(identity)) {}
  StatusOr<std::shared_ptr<grpc::Channel>> Create(const Endpoint&) override {
    std::lock_guard lock(mu_);
    if (!channel_) channel_ = server_.InProcessChannel(identity_);
    return channel_;
  }
  std::shared_ptr<InProcessGate> Gate() override { return server_.gate(); }

 private:
  MeshServer& server_;
  std::string identity_;
  std::mutex mu_;
  std::shared_ptr<grpc::Channel> channel_;
};

class TlsFactory final : public ChannelFactory {
 public:
  TlsFactory(IdentityFiles files, TlsOptions options) : files_(std::move(files)), options_(options) {}
  StatusOr<std::shared_ptr<grpc::Channel>> Create(const Endpoint& endpoint) override {
    ASSIGN_OR_RETURN(auto creds, ChannelTlsCredentials(files_, endpoint.service, options_));
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kMaxMessageBytes);
    args.SetMaxSendMessageSize(kMaxMessageBytes);
    // SNI names the service, not the address (the server's certificate has SAN DNS:<service>).
    args.SetSslTargetNameOverride(endpoint.service);
    return grpc::CreateCustomChannel(endpoint.address, creds, args);
  }

 private:
  IdentityFiles files_;
  TlsOptions options_;
};

class InsecureFactory final : public ChannelFactory {
 public:
  StatusOr<std::shared_ptr<grpc::Channel>> Create(const Endpoint& endpoint) override {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kMaxMessageBytes);
    args.SetMaxSendMessageSize(kMaxMessageBytes);
    return grpc::CreateCustomChannel(endpoint.address, grpc::InsecureChannelCredentials(), args);
  }
};

std::chrono::system_clock::time_point Min(std::chrono::system_clock::time_point a,
                                          std::chrono::system_clock::time_point b) {
  return a < b ? a : b;
}

}  // namespace

std::unique_ptr<ChannelFactory> InProcessChannels(MeshServer& server, std::string caller_identity) {
  return std::make_unique<InProcessFactory>(server, std::move(caller_identity));
}

std::unique_ptr<ChannelFactory> TlsChannels(IdentityFiles files, TlsOptions options) {
  return std::make_unique<TlsFactory>(std::move(files), options);
}

std::unique_ptr<ChannelFactory> InsecureChannels() {
  return std::make_unique<InsecureFactory>();
}

MeshClient::MeshClient(ClientOptions options, Registry& registry, std::unique_ptr<ChannelFactory> channels,
                       const Clock& clock, RandomSource& random)
    : options_(std::move(options)),
      registry_(registry),
      channels_(std::move(channels)),
      gate_(channels_->Gate()),
      clock_(clock),
      random_(random) {}

MeshClient::~MeshClient() {
  // Stop the watches before the pools they update go away.
  std::map<std::string, std::shared_ptr<Pool>, std::less<>> pools;
  {
    std::lock_guard lock(mu_);
    pools.swap(pools_);
  }
  for (auto& [name, pool] : pools) pool->watch.reset();
}

StatusOr<const MeshClient::MethodInfo*> MeshClient::Method(std::string_view method) {
  std::lock_guard lock(mu_);
  auto it = methods_.find(method);
  if (it == methods_.end()) {
    // "/neosl.echo.v1.Echo/Echo" → "neosl.echo.v1.Echo.Echo"
    if (method.size() < 4 || method[0] != '/' || method.find('/', 1) == std::string_view::npos) {
      return InvalidArgumentError("method must look like /package.Service/Method, not '" + std::string(method) + "'");
    }
    std::string full(method.substr(1));
    full[full.find('/')] = '.';
    const auto* desc = google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full);
    if (!desc) return UnimplementedError("unknown method " + std::string(method));
    if (desc->client_streaming()) {
      return UnimplementedError(std::string(method) + " streams from the client, which the mesh client does not do");
    }
    const auto& opts = desc->options();
    bool idempotent = opts.idempotency_level() != google::protobuf::MethodOptions::IDEMPOTENCY_UNKNOWN;
    bool sensitive = opts.GetExtension(common::v1::sensitive);
    it = methods_
             .emplace(std::string(method),
                      std::make_unique<MethodInfo>(std::string(method), idempotent, sensitive, desc->server_streaming(),
                                                   desc->input_type(), desc->output_type()))
             .first;
  }
  return it->second.get();
}

StatusOr<std::shared_ptr<MeshClient::Pool>> MeshClient::PoolFor(std::string_view service) {
  {
    std::lock_guard lock(mu_);
    auto it = pools_.find(service);
    if (it != pools_.end()) return it->second;
  }
  auto pool = std::make_shared<Pool>();
  pool->service = std::string(service);
  std::weak_ptr<Pool> weak = pool;
  // Channels are made outside the pool's lock (making a TLS channel reads credential files), so
  // calls keep flowing while the set changes. Updates come one at a time (the initial resolve,
  // then the watch's thread), so the set read first is still the one replaced at the end.
  auto update = [this, weak](const std::vector<Endpoint>& endpoints) {
    auto p = weak.lock();
    if (!p) return;
    std::vector<std::shared_ptr<Instance>> current;
    {
      std::lock_guard lock(p->mu);
      current = p->instances;
    }
    std::vector<std::pair<std::shared_ptr<Instance>, bool>> next;  // instance, its new health
    for (const Endpoint& e : endpoints) {
      std::shared_ptr<Instance> found;
      for (auto& old : current) {
        if (old->endpoint.instance == e.instance && old->endpoint.address == e.address) found = old;
      }
      if (found) {
        next.emplace_back(std::move(found), e.healthy);  // same connection, perhaps new health
        continue;
      }
      auto channel = channels_->Create(e);
      if (!channel.ok()) {
        log::Warn("cannot open a channel to a mesh instance",
                  {{"service", e.service}, {"instance", e.instance}, {"error", channel.status().ToString()}});
        continue;
      }
      next.emplace_back(std::make_shared<Instance>(e, std::move(*channel), options_.breaker, clock_), e.healthy);
    }
    std::lock_guard lock(p->mu);
    p->instances.clear();
    for (auto& [instance, healthy] : next) {
      instance->endpoint.healthy = healthy;
      p->instances.push_back(std::move(instance));
    }
  };
  auto initial = registry_.Resolve(service);
  if (!initial.ok()) return initial.status().Annotate("resolving " + std::string(service));
  update(*initial);
  auto watch = registry_.WatchService(service, update);
  if (!watch.ok()) return watch.status().Annotate("watching " + std::string(service));
  pool->watch = std::move(*watch);

  std::lock_guard lock(mu_);
  auto [it, inserted] = pools_.emplace(std::string(service), pool);
  return it->second;  // a concurrent first call may have won; its pool is as good
}

Status MeshClient::Attest(Instance& instance, std::chrono::system_clock::time_point deadline,
                          const CallOptions& options) {
  if (!options_.attestation) {
    return FailedPreconditionError("attestation: no attestation policy is configured, so sensitive calls are refused");
  }
  uint8_t nonce[32];
  random_.Fill(nonce);
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline);
  ctx.AddMetadata(std::string(kAttestationNonceKey), HexEncode(nonce));
  ctx.AddMetadata(std::string(kCallerIdKey), options_.identity);
  if (options.trace_id) ctx.AddMetadata(std::string(kTraceIdKey), *options.trace_id);
  v1::AttestRequest request;
  v1::AttestResponse response;
  ASSIGN_OR_RETURN(const MethodInfo* method, Method("/neosl.mesh.v1.Mesh/Attest"));
  Status status = Invoke(instance, *method, ctx, request, &response);
  if (!status.ok()) return status.Annotate("attesting " + instance.endpoint.instance);

  const auto& headers = ctx.GetServerInitialMetadata();
  auto it = headers.find(std::string(kAttestationEvidenceKey));
  if (it == headers.end()) {
    return FailedPreconditionError("attestation: " + instance.endpoint.instance + " sent no evidence");
  }
  boost::system::error_code ec;
  auto json = boost::json::parse(std::string_view(it->second.data(), it->second.size()), ec);
  if (ec) return FailedPreconditionError("attestation: " + instance.endpoint.instance + " sent malformed evidence");
  ASSIGN_OR_RETURN(tee::Evidence evidence, tee::EvidenceFromJson(json));
  auto verified = tee::VerifyEvidence(evidence, nonce, *options_.attestation, clock_);
  if (!verified.ok()) {
    log::Warn("mesh peer failed attestation; nothing sensitive was sent", {{"service", instance.endpoint.service},
                                                                           {"instance", instance.endpoint.instance},
                                                                           {"reason", verified.status().message()}});
    return Status(verified.status().code(), "attestation of " + instance.endpoint.instance +
                                                " failed: " + std::string(verified.status().message()));
  }
  std::string fingerprint = ctx.auth_context() ? PeerCertificateFingerprint(*ctx.auth_context()) : std::string();
  {
    std::lock_guard lock(instance.mu);
    instance.attested = true;
    instance.fingerprint = std::move(fingerprint);
  }
  instance.attestations.fetch_add(1, std::memory_order_relaxed);
  log::Info("mesh peer attested", {{"service", instance.endpoint.service},
                                   {"instance", instance.endpoint.instance},
                                   {"backend", evidence.backend},
                                   {"measurement", HexEncode(evidence.measurement)}});
  return Status();
}

CallContext MeshClient::Outgoing(const CallOptions& options) {
  const CallContext* parent = CurrentCall();
  CallContext call;
  call.trace_id = options.trace_id.value_or(parent ? parent->trace_id : std::string());
  if (!IsTraceId(call.trace_id)) call.trace_id = NewTraceId(random_);
  call.account = options.account.value_or(parent ? parent->account : std::string());
  call.roles = options.roles.value_or(parent ? parent->roles : std::string());
  call.actor = options.actor.value_or(parent ? parent->actor : std::string());
  if (parent) call.deadline = parent->deadline;
  return call;
}

std::shared_ptr<MeshClient::Instance> MeshClient::Pick(Pool& pool, const std::vector<const Instance*>& tried,
                                                       size_t* total, size_t* open) {
  std::lock_guard lock(pool.mu);
  *total = pool.instances.size();
  *open = 0;
  uint64_t start = pool.next.fetch_add(1, std::memory_order_relaxed);
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < *total; ++i) {
      auto& candidate = pool.instances[(start + i) % *total];
      if (!candidate->endpoint.healthy) continue;
      bool seen = std::find(tried.begin(), tried.end(), candidate.get()) != tried.end();
      if (pass == 0 && seen) continue;
      if (!candidate->breaker.Allow()) {
        if (pass == 0) ++*open;
        continue;
      }
      return candidate;
    }
  }
  return nullptr;
}

Status MeshClient::Preflight(Instance& instance, std::chrono::system_clock::time_point deadline,
                             const CallOptions& options) {
  bool attested;
  {
    std::lock_guard lock(instance.mu);
    attested = instance.attested;
  }
  // A channel that is not connected will make a new connection, perhaps to a rotated
  // certificate: challenge again first, so the request follows a fresh verification.
  // (In-process channels have no connection to replace.)
  if (attested && !gate_ && instance.channel->GetState(false) != GRPC_CHANNEL_READY) attested = false;
  if (attested) return Status();
  Status s = Attest(instance, deadline, options);
  if (s.ok()) return s;
  if (s.code() != StatusCode::kUnavailable) {
    instance.breaker.Record(true);  // the instance answered; it is the evidence that failed
    return s;
  }
  instance.breaker.Record(false);
  instance.failures.fetch_add(1, std::memory_order_relaxed);
  return s;
}

void MeshClient::AddMetadata(grpc::ClientContext& ctx, const CallContext& call,
                             std::optional<std::chrono::system_clock::time_point> deadline) {
  ctx.AddMetadata(std::string(kTraceparentKey), call.Traceparent());
  ctx.AddMetadata(std::string(kTraceIdKey), call.trace_id);
  ctx.AddMetadata(std::string(kCallerIdKey), options_.identity);
  if (deadline) {
    ctx.set_deadline(*deadline);
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - clock_.Now());
    ctx.AddMetadata(std::string(kDeadlineMsKey), std::to_string(std::max<int64_t>(0, remaining.count())));
  }
  if (!call.account.empty()) ctx.AddMetadata(std::string(kAccountIdKey), call.account);
  if (!call.roles.empty()) ctx.AddMetadata(std::string(kRolesKey), call.roles);
  if (!call.actor.empty()) ctx.AddMetadata(std::string(kActorKey), call.actor);
}

Status MeshClient::Call(std::string_view service, std::string_view method, const google::protobuf::Message& request,
                        google::protobuf::Message* response, const CallOptions& options) {
  ASSIGN_OR_RETURN(const MethodInfo* info, Method(method));
  if (info->server_streaming) {
    return InvalidArgumentError(std::string(method) + " is a server-streaming method: use MeshClient::Stream");
  }
  if (request.GetDescriptor() != info->input || response->GetDescriptor() != info->output) {
    return InvalidArgumentError(std::string(method) + " takes " + info->input->full_name() + " and returns " +
                                info->output->full_name());
  }
  ASSIGN_OR_RETURN(std::shared_ptr<Pool> pool, PoolFor(service));

  CallContext call = Outgoing(options);
  auto now = clock_.Now();
  auto deadline = now + options.timeout.value_or(options_.default_timeout);
  if (call.deadline) deadline = Min(deadline, *call.deadline);
  CallOptions attest_options = options;
  attest_options.trace_id = call.trace_id;

  std::vector<const Instance*> tried;
  Status last = UnavailableError("no instance of service '" + std::string(service) + "' is registered");
  for (int attempt = 1; attempt <= std::max(1, options_.max_attempts); ++attempt) {
    now = clock_.Now();
    if (now >= deadline) {
      return DeadlineExceededError(
          "deadline exceeded calling " + std::string(service) + " " + std::string(method) +
          (attempt > 1 ? " (after " + std::to_string(attempt - 1) + " attempts: " + std::string(last.message()) + ")"
                       : ""));
    }
    size_t open = 0, total = 0;
    std::shared_ptr<Instance> chosen = Pick(*pool, tried, &total, &open);
    if (!chosen) {
      last = total == 0 ? UnavailableError("no instance of service '" + std::string(service) + "' is registered")
             : open > 0 ? UnavailableError("circuit open for every instance of '" + std::string(service) + "'")
                        : UnavailableError("no healthy instance of service '" + std::string(service) + "'");
      if (total > 0 && open > 0) return last;  // fail fast: the breakers are open
    } else {
      tried.push_back(chosen.get());
      bool ready = true;
      if (info->sensitive) {
        Status s = Preflight(*chosen, deadline, attest_options);
        if (!s.ok() && s.code() != StatusCode::kUnavailable) return s;
        if (!s.ok()) {
          last = s;
          ready = false;
        }
      }
      if (ready) {
        call.span_id = NewSpanId(random_);
        grpc::ClientContext ctx;
        AddMetadata(ctx, call, deadline);
        chosen->calls.fetch_add(1, std::memory_order_relaxed);
        Status s = Invoke(*chosen, *info, ctx, request, response);
        if (info->sensitive && ctx.auth_context()) {
          // A rotated server certificate means new evidence before the next sensitive call.
          std::string fingerprint = PeerCertificateFingerprint(*ctx.auth_context());
          std::lock_guard lock(chosen->mu);
          if (!fingerprint.empty() && fingerprint != chosen->fingerprint) chosen->attested = false;
        }
        if (s.code() != StatusCode::kUnavailable) {
          chosen->breaker.Record(true);
          return s;
        }
        chosen->breaker.Record(false);
        chosen->failures.fetch_add(1, std::memory_order_relaxed);
        last = s;
        if (!info->idempotent) return s;  // it may have run: only the caller can decide to repeat it
      }
    }
    if (attempt < options_.max_attempts) {
      auto delay = BackoffDelay(options_.backoff, attempt, random_);
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_.Now());
      if (left <= std::chrono::milliseconds(0)) continue;
      // A real wait between attempts; the deadline bounds it.
      std::this_thread::sleep_for(std::min(delay, left));
    }
  }
  return last;
}

Status MeshClient::Invoke(Instance& instance, const MethodInfo& method, grpc::ClientContext& ctx,
                          const google::protobuf::Message& request, google::protobuf::Message* response) {
  if (!gate_) {
    // Network channels: the blocking form, which waits on the caller's own thread.
    return FromGrpcStatus(grpc::internal::BlockingUnaryCall<google::protobuf::Message, google::protobuf::Message>(
        instance.channel.get(), method.rpc, &ctx, request, response));
  }
  // In-process: the callback form, so that starting the call (inside the gate, which shutdown
  // closes) and waiting for it (outside) are separate steps.
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status result;
  bool started = gate_->Run([&] {
    grpc::internal::CallbackUnaryCall<google::protobuf::Message, google::protobuf::Message>(
        instance.channel.get(), method.rpc, &ctx, &request, response, [&](grpc::Status s) {
          std::lock_guard lock(mu);
          result = std::move(s);
          done = true;
          cv.notify_one();
        });
  });
  if (!started) return UnavailableError("the in-process server is shutting down");
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return done; });
  return FromGrpcStatus(result);
}

// One server-streaming call: gRPC's read reactor, reading one message at a time. User callbacks
// go through Deliver, which Cancel can shut off and wait out.
class MeshStream::Call final : public grpc::ClientReadReactor<google::protobuf::Message> {
 public:
  Call(std::shared_ptr<MeshClient::Instance> instance, bool sensitive,
       std::unique_ptr<google::protobuf::Message> request, std::unique_ptr<google::protobuf::Message> response,
       MeshClient::OnMessage on_message, MeshClient::OnDone on_done)
      : instance_(std::move(instance)),
        sensitive_(sensitive),
        request_(std::move(request)),
        response_(std::move(response)),
        on_message_(std::move(on_message)),
        on_done_(std::move(on_done)) {}

  grpc::ClientContext& context() { return ctx_; }

  // Creates and starts the call; `self` keeps this alive until gRPC reports OnDone.
  void Start(std::shared_ptr<Call> self, const grpc::internal::RpcMethod& method) {
    self_ = std::move(self);
    grpc::internal::ClientCallbackReaderFactory<google::protobuf::Message>::Create(instance_->channel.get(), method,
                                                                                   &ctx_, request_.get(), this);
    // A hold keeps the call from finishing until the stream is over or cancelled: gRPC releases
    // the call before OnDone, so TryCancel is only safe while the hold is on.
    AddHold();
    StartRead(response_.get());
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) {  // the stream is over; OnDone follows once the hold is off
      ReleaseHold(/*cancel=*/false);
      return;
    }
    ++messages_;
    Deliver([this] { on_message_(*response_); });
    // After a Cancel the call fails its next read at once, so reading on is harmless.
    StartRead(response_.get());
  }

  void OnDone(const grpc::Status& status) override {
    Status s = FromGrpcStatus(status);
    // A stream that never delivered anything and found nobody home counts against the instance.
    if (s.code() == StatusCode::kUnavailable && messages_ == 0) {
      instance_->breaker.Record(false);
      instance_->failures.fetch_add(1, std::memory_order_relaxed);
    } else {
      instance_->breaker.Record(true);
    }
    if (sensitive_ && ctx_.auth_context()) {
      std::string fingerprint = PeerCertificateFingerprint(*ctx_.auth_context());
      std::lock_guard lock(instance_->mu);
      if (!fingerprint.empty() && fingerprint != instance_->fingerprint) instance_->attested = false;
    }
    Deliver([this, &s] { on_done_(s); });
    // Let go of the call before saying it is over, so that the MeshStream, which waits for that,
    // holds the last reference and the call (with its instance, and perhaps the last channel) is
    // destroyed on the owner's thread. A channel must not die on gRPC's callback thread: when it is
    // the process's last, gRPC 1.51 deletes the callback queue that thread is serving
    // (grpc_cq_internal_unref "prior > 0").
    std::shared_ptr<Latch> over = over_;
    self_.reset();  // the last reference only if the MeshStream went away inside a callback
    over->Set();
  }

  void Cancel() {
    {
      std::lock_guard lock(mu_);
      cancelled_ = true;
    }
    ReleaseHold(/*cancel=*/true);
    {
      // Inside one of our own callbacks: that callback is the caller, and gRPC reports the end
      // only after it returns, so do not wait.
      std::lock_guard lock(mu_);
      if (in_callback_ && callback_thread_ == std::this_thread::get_id()) return;
    }
    over_->Wait();  // cancelled (or ended on its own): OnDone follows promptly
  }

 private:
  // Set once gRPC is done with the call; outlives the call, which may go the moment it is set.
  class Latch {
   public:
    void Set() {
      std::lock_guard lock(mu_);
      set_ = true;
      cv_.notify_all();
    }
    void Wait() {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return set_; });
    }

   private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool set_ = false;
  };

  // Takes the hold off, once; with `cancel`, cancels the call first (while the hold keeps it).
  void ReleaseHold(bool cancel) {
    {
      std::lock_guard lock(hold_mu_);
      if (hold_released_) return;
      hold_released_ = true;
      if (cancel) ctx_.TryCancel();
    }
    RemoveHold();
  }

  template <typename F>
  void Deliver(F&& f) {
    {
      std::lock_guard lock(mu_);
      if (cancelled_) return;
      in_callback_ = true;
      callback_thread_ = std::this_thread::get_id();
    }
    f();
    std::lock_guard lock(mu_);
    in_callback_ = false;
    callback_thread_ = std::thread::id();
  }

  std::shared_ptr<MeshClient::Instance> instance_;
  const bool sensitive_;
  grpc::ClientContext ctx_;
  std::unique_ptr<google::protobuf::Message> request_, response_;
  MeshClient::OnMessage on_message_;
  MeshClient::OnDone on_done_;
  std::shared_ptr<Call> self_;
  std::shared_ptr<Latch> over_ = std::make_shared<Latch>();
  uint64_t messages_ = 0;  // gRPC's threads only, one callback at a time
  std::mutex mu_;
  bool cancelled_ = false, in_callback_ = false;
  std::mutex hold_mu_;
  bool hold_released_ = false;
  std::thread::id callback_thread_;
};

MeshStream::MeshStream(std::shared_ptr<Call> call) : call_(std::move(call)) {}

MeshStream::~MeshStream() {
  Cancel();
}

void MeshStream::Cancel() {
  if (call_) call_->Cancel();
}

StatusOr<std::unique_ptr<MeshStream>> MeshClient::Stream(std::string_view service, std::string_view method,
                                                         const google::protobuf::Message& request, OnMessage on_message,
                                                         OnDone on_done, const CallOptions& options) {
  ASSIGN_OR_RETURN(const MethodInfo* info, Method(method));
  if (!info->server_streaming) {
    return InvalidArgumentError(std::string(method) + " is not a server-streaming method: use MeshClient::Call");
  }
  if (request.GetDescriptor() != info->input) {
    return InvalidArgumentError(std::string(method) + " takes " + info->input->full_name());
  }
  if (!on_message || !on_done) return InvalidArgumentError("a stream needs both on_message and on_done");
  ASSIGN_OR_RETURN(std::shared_ptr<Pool> pool, PoolFor(service));

  CallContext call = Outgoing(options);
  auto now = clock_.Now();
  std::optional<std::chrono::system_clock::time_point> deadline = call.deadline;
  if (options.timeout) deadline = deadline ? Min(*deadline, now + *options.timeout) : now + *options.timeout;
  // The attestation exchange is a unary call and always has a deadline.
  auto attest_deadline = deadline.value_or(now + options_.default_timeout);
  CallOptions attest_options = options;
  attest_options.trace_id = call.trace_id;

  // Picking an instance (and attesting it) is retried on the next instance; the stream itself is
  // not, as it may have delivered messages before failing.
  std::vector<const Instance*> tried;
  Status last = UnavailableError("no instance of service '" + std::string(service) + "' is registered");
  for (int attempt = 1; attempt <= std::max(1, options_.max_attempts); ++attempt) {
    if (deadline && clock_.Now() >= *deadline) {
      return DeadlineExceededError("deadline exceeded starting a stream of " + std::string(service) + " " +
                                   std::string(method));
    }
    size_t open = 0, total = 0;
    std::shared_ptr<Instance> chosen = Pick(*pool, tried, &total, &open);
    if (!chosen) {
      if (total == 0) return UnavailableError("no instance of service '" + std::string(service) + "' is registered");
      if (open > 0) return UnavailableError("circuit open for every instance of '" + std::string(service) + "'");
      return last.code() == StatusCode::kUnavailable && attempt > 1
                 ? last
                 : UnavailableError("no healthy instance of service '" + std::string(service) + "'");
    }
    tried.push_back(chosen.get());
    if (info->sensitive) {
      Status s = Preflight(*chosen, attest_deadline, attest_options);
      if (!s.ok() && s.code() != StatusCode::kUnavailable) return s;
      if (!s.ok()) {
        last = s;
        continue;
      }
    }
    std::unique_ptr<google::protobuf::Message> copy(request.New());
    copy->CopyFrom(request);
    std::unique_ptr<google::protobuf::Message> response(
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(info->output)->New());
    auto stream = std::make_shared<MeshStream::Call>(chosen, info->sensitive, std::move(copy), std::move(response),
                                                     std::move(on_message), std::move(on_done));
    call.span_id = NewSpanId(random_);
    AddMetadata(stream->context(), call, deadline);
    chosen->calls.fetch_add(1, std::memory_order_relaxed);
    if (!gate_) {
      stream->Start(stream, info->rpc);
    } else if (!gate_->Run([&] { stream->Start(stream, info->rpc); })) {
      return UnavailableError("the in-process server is shutting down");
    }
    return std::make_unique<MeshStream>(std::move(stream));
  }
  return last;
}

std::vector<std::string> MeshClient::Services() {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, pool] : pools_) out.push_back(name);
  return out;
}

std::vector<MeshClient::InstanceStats> MeshClient::Stats(std::string_view service) {
  std::vector<InstanceStats> out;
  std::shared_ptr<Pool> pool;
  {
    std::lock_guard lock(mu_);
    auto it = pools_.find(service);
    if (it == pools_.end()) return out;
    pool = it->second;
  }
  std::lock_guard lock(pool->mu);
  for (const auto& i : pool->instances) {
    InstanceStats s;
    s.instance = i->endpoint.instance;
    s.address = i->endpoint.address;
    s.breaker = i->breaker.state();
    {
      std::lock_guard ilock(i->mu);
      s.attested = i->attested;
      s.fingerprint = i->fingerprint;
    }
    s.calls = i->calls.load();
    s.failures = i->failures.load();
    s.attestations = i->attestations.load();
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace neosl::mesh
