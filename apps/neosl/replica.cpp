#include "apps/neosl/replica.h"

#include <pthread.h>
#include <thread>

#include "core/log.h"

namespace neosl::app {

StatusOr<ChainConnection> ConnectChain(const Config& config, const std::string& data_dir, bool embed,
                                       std::shared_ptr<neo::ChainReadCache> cache, Clock& clock, RandomSource& random) {
  ChainConnection c;
  std::string url = config.String("chain.rpc_url");
  const std::string& mode = config.String("chain.mode");
  if (mode != "devchain" && mode != "rpc") {
    return InvalidArgumentError("chain.mode must be devchain or rpc, not '" + mode + "'");
  }
  if (url.empty()) {
    if (mode == "rpc") return InvalidArgumentError("chain.mode is rpc but chain.rpc_url is empty");
    if (!embed) return c;  // no chain here
    auto started = StartEmbeddedChain(config, data_dir);
    if (!started.ok()) return started.status().Annotate("starting the devchain");
    c.devchain = std::move(*started);
    url = c.devchain->rpc_url;
    log::Info("devchain running (a development network, not a Neo node)",
              {{"rpc", url}, {"network", c.devchain->chain->network()}, {"height", c.devchain->chain->height()}});
  }
  c.options.url = url;
  c.options.attempt_timeout = std::chrono::milliseconds(2000);
  c.options.call_timeout = std::chrono::milliseconds(3000);
  c.options.max_attempts = 1;
  c.options.cache = std::move(cache);
  auto client = neo::HttpRpcClient::Create(c.options, clock, random);
  if (!client.ok()) return client.status().Annotate("chain.rpc_url");
  c.rpc = std::move(*client);
  return c;
}

std::string SingletonLeaseName(const std::string& role) {
  // A gateway hosts no singletons: its lease is one of its own, so that gateways on the store of
  // role `all` processes never keep the lease from them.
  return role == "all" ? "singletons" : "singletons." + role;
}

StatusOr<std::unique_ptr<Replica>> Replica::Start(const Config& config, const std::string& data_dir,
                                                  const std::string& role, store::Store& store, ChainConnection& chain,
                                                  RunningEnclave& enclave, MeshHost& mesh, Clock& clock,
                                                  RandomSource& random) {
  std::unique_ptr<Replica> r(new Replica());
  ASSIGN_OR_RETURN(r->id_, coord::LoadInstanceId(data_dir));
  r->lease_name_ = SingletonLeaseName(role);
  coord::LeaseOptions options;
  options.name = r->lease_name_;
  options.holder = r->id_;
  options.ttl = std::chrono::milliseconds(config.Int("replicas.lease_ttl_ms"));
  options.renew_every = std::chrono::milliseconds(config.Int("replicas.renew_ms"));
  options.retry_every = std::chrono::milliseconds(config.Int("replicas.retry_ms"));
  if (options.renew_every * 2 > options.ttl || options.retry_every.count() <= 0) {
    return InvalidArgumentError(
        "replicas.renew_ms must be at most half of replicas.lease_ttl_ms, and replicas.retry_ms positive");
  }
  Replica* self = r.get();
  r->lease_ = std::make_unique<coord::Lease>(
      store, clock, options, [self](int64_t epoch) { self->Elected(epoch); },
      [self](const Status& lost) { self->Lost(lost); });
  // The singletons write through a store fenced by the lease: refused unless this replica leads.
  r->fenced_ = coord::MakeFencedStore(store, *r->lease_);
  ASSIGN_OR_RETURN(r->singletons_,
                   Singletons::Prepare(SingletonDeps{config, role, chain.devchain.get(), chain.options, *r->fenced_,
                                                     chain.rpc.get(), enclave, mesh, clock, random}));
  if (Status s = r->lease_->Start(); !s.ok()) return s.Annotate("starting the replica lease");
  if (r->lease_->leader()) {
    RETURN_IF_ERROR(r->Lead());
  } else {
    log::Info("following: another replica runs the singletons", {{"lease", r->lease_name_}});
  }
  return r;
}

Status Replica::Lead() {
  RETURN_IF_ERROR(singletons_->Lead());
  log::Info("running the singletons", {{"lease", lease_name_}, {"epoch", lease_->epoch()}});
  return Status();
}

void Replica::Elected(int64_t epoch) {
  std::lock_guard lock(mu_);
  elected_ = epoch;
  cv_.notify_all();
}

void Replica::Lost(const Status& status) {
  std::lock_guard lock(mu_);
  lost_ = status;
  cv_.notify_all();
}

int Replica::Run(sigset_t& stop_signals) {
  std::thread signal_waiter([this, &stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::lock_guard lock(mu_);
    signal_ = sig;
    cv_.notify_all();
  });
  int exit_code = 0;
  for (;;) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return signal_ != 0 || !lost_.ok() || elected_ != 0; });
    if (signal_ != 0) {
      log::Info("draining", {{"signal", signal_ == SIGTERM ? "SIGTERM" : "SIGINT"}});
      break;
    }
    if (!lost_.ok()) {
      log::Error("stopping: this replica lost the singletons' lease and its writes are fenced off",
                 {{"lease", lease_name_}, {"message", lost_.message()}});
      exit_code = 3;
      break;
    }
    elected_ = 0;
    lock.unlock();
    if (!singletons_->leading()) {  // elected after start-up
      if (Status s = Lead(); !s.ok()) {
        log::Error("stopping: the singletons did not start", {{"message", s.ToString()}});
        exit_code = 1;
        break;
      }
    }
  }
  bool signalled = false;
  {
    std::lock_guard lock(mu_);
    signalled = signal_ != 0;
  }
  if (!signalled) pthread_kill(signal_waiter.native_handle(), SIGTERM);  // ends the waiter's sigwait
  signal_waiter.join();
  return exit_code;
}

Replica::~Replica() {
  singletons_.reset();
  if (lease_) lease_->Stop();  // hands the lease over at once, now that nothing of ours writes under it
}

}  // namespace neosl::app
