#include "runtime/worker_pool.h"

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <signal.h>
#include <thread>

#include "core/log.h"
#include "tee/host.h"

namespace neosl::runtime {
namespace {

namespace v1 = tee::v1;
using std::chrono::milliseconds;

struct Job {
  Invocation invocation;
  LogSink sink;
  FunctionRunner::Done done;
  // A deploy-time check instead of an invocation: runs on the next free worker, ahead of queued
  // invocations (a worker serves one call at a time, so it must wait its turn like them).
  std::function<void(tee::EnclaveHost&)> check;
};

v1::EcallRequest RunRequest(const Invocation& inv) {
  v1::EcallRequest req;
  auto* r = req.mutable_run_function();
  r->set_account(inv.account);
  r->set_function_id(inv.function_id);
  r->set_version(inv.version);
  r->set_execution_id(inv.execution_id);
  r->set_source(inv.source);
  r->set_source_hash(std::string(inv.source_hash.begin(), inv.source_hash.end()));
  r->set_args_json(inv.args_json);
  r->set_trigger(std::string(TriggerName(inv.trigger)));
  r->set_timeout_ms(uint32_t(inv.limits.timeout.count()));
  r->set_memory_bytes(inv.limits.memory_bytes);
  auto* secrets = r->mutable_secrets();
  secrets->set_account(inv.account);
  for (const auto& s : inv.secrets) {
    auto* out = secrets->add_secrets();
    out->set_name(s.name);
    out->set_version(s.version);
    out->set_ciphertext(std::string(s.ciphertext.begin(), s.ciphertext.end()));
  }
  return req;
}

template <size_t N>
bool CopyHash(const std::string& from, std::array<uint8_t, N>* to) {
  if (from.size() != N) return false;
  std::copy(from.begin(), from.end(), to->begin());
  return true;
}

StatusOr<Outcome> OutcomeOf(const v1::RunFunctionResponse& r) {
  Outcome out;
  out.status = Status(static_cast<StatusCode>(r.status().code()), r.status().message());
  out.result_json = r.result_json();
  out.error_json = r.error_json();
  out.error.message = r.error().message();
  out.error.stack = r.error().stack();
  out.error.line = r.error().line();
  out.error.column = r.error().column();
  for (const auto& l : r.logs()) out.logs.push_back(LogLine{l.at_ms(), l.level(), l.message()});
  out.logs_truncated = r.logs_truncated();
  out.duration = std::chrono::microseconds(r.duration_us());
  out.cold = r.cold();
  if (!CopyHash(r.args_hash(), &out.args_hash) || !CopyHash(r.result_hash(), &out.result_hash) ||
      !CopyHash(r.signature(), &out.signature)) {
    return InternalError("the function worker answered without a complete proof");
  }
  return out;
}

}  // namespace

class WorkerPool::Impl {
 public:
  explicit Impl(WorkerPoolOptions options) : options_(std::move(options)) {}

  ~Impl() {
    stopped_ = true;
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) {
      if (w->thread.joinable()) w->thread.join();
    }
    for (auto& w : workers_) w->host->Stop();
    // Whatever is still queued is answered, never dropped silently.
    for (auto& job : queue_) job.done(UnavailableError("the functions runtime is stopping"));
  }

  Status Start() {
    int n = options_.workers > 0 ? options_.workers : int(std::max(1u, std::thread::hardware_concurrency()));
    capacity_ = options_.queue_capacity > 0 ? options_.queue_capacity : size_t(64) * size_t(n);
    for (int i = 0; i < n; ++i) {
      auto w = std::make_unique<Worker>();
      Worker* self = w.get();
      tee::EnclaveHostOptions o;
      o.binary = options_.binary;
      o.args = options_.enclave_args;
      o.args.emplace_back("--function-worker");
      if (!options_.jit) o.args.emplace_back("--no-jit");
      tee::OcallHandler relay = options_.relay ? tee::RelayOcallHandler(options_.relay) : nullptr;
      o.ocalls = [this, self, relay](const v1::OcallRequest& request, tee::Channel& channel) {
        return ServeOcall(*self, relay, request, channel);
      };
      // Console lines are handled on the channel's reader thread, in the order they were
      // written (the channel's worker threads would race them); the sink only queues.
      o.channel.serve_on_reader = [](const v1::Frame& frame) {
        return frame.has_ocall() && frame.ocall().has_function_log();
      };
      o.on_exit = [this, i](const std::string& why) {
        if (!stopped_.load()) log::Warn("function worker exited", {{"worker", std::to_string(i)}, {"why", why}});
      };
      auto host = tee::EnclaveHost::Start(std::move(o));
      if (!host.ok()) return host.status().Annotate("function worker");
      w->host = std::move(*host);
      workers_.push_back(std::move(w));
    }
    for (auto& w : workers_) {
      if (!w->host->WaitReady(options_.start_timeout)) {
        return UnavailableError("a function worker did not start within " +
                                std::to_string(options_.start_timeout.count()) + " ms");
      }
      RETURN_IF_ERROR(WarmUp(*w));
    }
    for (auto& w : workers_) {
      Worker* self = w.get();
      w->thread = std::thread([this, self] { Dispatch(*self); });
    }
    return Status();
  }

  void RunAsync(Invocation invocation, LogSink sink, Done done) {
    if (Status s = ValidateLimits(invocation.limits); !s.ok()) return done(s);
    if (invocation.secrets.size() > kMaxSecretsPerFunction) {
      return done(InvalidArgumentError("at most " + std::to_string(kMaxSecretsPerFunction) + " secrets"));
    }
    {
      std::lock_guard lock(mu_);
      if (stopping_) return done(UnavailableError("the functions runtime is stopping"));
      if (queue_.size() >= capacity_) {
        ++rejected_;
        return done(ResourceExhaustedError("the functions runtime is busy: " + std::to_string(capacity_) +
                                           " invocations are waiting; retry later")
                        .WithDetail(ErrorDetail{"RetryInfo", {}}.Add("retry_delay_ms", int64_t(100))));
      }
      queue_.push_back(Job{std::move(invocation), std::move(sink), std::move(done)});
    }
    cv_.notify_one();
  }

  Status Check(std::string_view source, ScriptError* error) {
    v1::EcallRequest req;
    req.mutable_check_function()->set_source(std::string(source));
    auto result = std::make_shared<std::promise<StatusOr<v1::EcallResponse>>>();
    auto answer = result->get_future();
    {
      std::lock_guard lock(mu_);
      if (stopping_) return UnavailableError("the functions runtime is stopping");
      Job job;
      job.check = [req, result](tee::EnclaveHost& host) { result->set_value(host.Call(req, milliseconds(10'000))); };
      job.done = [result](StatusOr<Outcome> o) { result->set_value(o.status()); };  // only if never run
      queue_.push_front(std::move(job));
    }
    cv_.notify_one();
    auto r = answer.get();
    if (!r.ok()) return r.status();
    if (!r->has_check_error()) return Status();
    error->message = r->check_error().message();
    error->line = r->check_error().line();
    error->column = r->check_error().column();
    return InvalidArgumentError(error->message);
  }

  Stats stats() const {
    std::lock_guard lock(mu_);
    Stats s;
    s.workers = workers_.size();
    s.queued = queue_.size();
    s.running = running_;
    s.completed = completed_;
    s.rejected = rejected_;
    s.killed = killed_;
    for (const auto& w : workers_) s.restarts += w->host->restarts();
    return s;
  }

 private:
  struct Worker {
    std::unique_ptr<tee::EnclaveHost> host;
    std::thread thread;
    std::mutex sink_mu;
    LogSink sink;  // the running invocation's
  };

  // A worker makes its engine on the first call: make it now, not in the first invocation.
  Status WarmUp(Worker& w) {
    v1::EcallRequest req;
    req.mutable_check_function()->set_source("export default () => null;");
    auto r = w.host->Call(req, options_.start_timeout);
    if (!r.ok()) return r.status().Annotate("starting a function worker's engine");
    return Status();
  }

  v1::OcallResponse ServeOcall(Worker& w, const tee::OcallHandler& relay, const v1::OcallRequest& request,
                               tee::Channel& channel) {
    v1::OcallResponse response;
    auto fail = [&response](const Status& s) {
      response.mutable_status()->set_code(static_cast<int>(s.code()));
      response.mutable_status()->set_message(std::string(s.message()));
      return response;
    };
    switch (request.call_case()) {
      case v1::OcallRequest::kFunctionLog: {
        std::lock_guard lock(w.sink_mu);
        if (w.sink) {
          const auto& l = request.function_log();
          w.sink(LogLine{l.at_ms(), l.level(), l.message()});
        }
        return response;
      }
      case v1::OcallRequest::kNeoInvokeRead: {
        if (!options_.neo_read) return fail(UnavailableError("neo.invokeRead: no chain is configured"));
        const auto& c = request.neo_invoke_read();
        auto json = options_.neo_read(c.contract(), c.method(), c.args_json());
        if (!json.ok()) return fail(json.status());
        response.set_json(std::move(*json));
        return response;
      }
      default:
        if (relay) return relay(request, channel);
        return fail(UnavailableError("fetch: outbound connections are not configured"));
    }
  }

  void Dispatch(Worker& w) {
    while (true) {
      Job job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        job = std::move(queue_.front());
        queue_.pop_front();
        if (!job.check) ++running_;
      }
      if (job.check) {
        job.check(*w.host);
        continue;
      }
      {
        std::lock_guard lock(w.sink_mu);
        w.sink = job.sink;
      }
      const milliseconds budget = job.invocation.limits.timeout + options_.grace;
      auto answer = w.host->Call(RunRequest(job.invocation), budget);
      {
        std::lock_guard lock(w.sink_mu);
        w.sink = nullptr;
      }
      StatusOr<Outcome> outcome = UnavailableError("no answer");
      if (answer.ok()) {
        outcome = answer->has_run_function() ? OutcomeOf(answer->run_function())
                                             : StatusOr<Outcome>(InternalError("the worker gave no outcome"));
      } else if (answer.status().code() == StatusCode::kDeadlineExceeded) {
        // Stuck past its deadline and the grace: the worker goes, the invocation timed out.
        const int pid = w.host->pid();
        if (pid > 0) kill(pid, SIGKILL);
        {
          std::lock_guard lock(mu_);
          ++killed_;
        }
        outcome = DeadlineExceededError("the function ran past its time limit of " +
                                        std::to_string(job.invocation.limits.timeout.count()) +
                                        " ms and its worker was stopped");
      } else if (answer.status().code() == StatusCode::kUnavailable) {
        outcome = ResourceExhaustedError(
            "the function's worker died while running it (memory or stack "
            "exhausted outside the engine's checks); it was restarted");
      } else {
        outcome = answer.status();
      }
      {
        std::lock_guard lock(mu_);
        --running_;
        ++completed_;
      }
      const bool replaced = !answer.ok();
      job.done(std::move(outcome));
      // A worker that was killed or died is being restarted by its supervisor: take the next job
      // only once the new one answers.
      if (replaced && (!w.host->WaitReady(options_.start_timeout) || !WarmUp(w).ok())) {
        log::Error("a function worker did not come back", {});
      }
    }
  }

  WorkerPoolOptions options_;
  std::vector<std::unique_ptr<Worker>> workers_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  size_t capacity_ = 0;
  size_t running_ = 0;
  uint64_t completed_ = 0, rejected_ = 0, killed_ = 0;
  bool stopping_ = false;
  std::atomic<bool> stopped_{false};  // exits from here on are ours, not news
};

StatusOr<std::unique_ptr<WorkerPool>> WorkerPool::Start(WorkerPoolOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<WorkerPool>(new WorkerPool(std::move(impl)));
}

WorkerPool::WorkerPool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WorkerPool::~WorkerPool() = default;

void WorkerPool::RunAsync(Invocation invocation, LogSink sink, Done done) {
  impl_->RunAsync(std::move(invocation), std::move(sink), std::move(done));
}
Status WorkerPool::Check(std::string_view source, ScriptError* error) {
  return impl_->Check(source, error);
}
WorkerPool::Stats WorkerPool::stats() const {
  return impl_->stats();
}

}  // namespace neosl::runtime
