#include <deque>
#include <functional>
#include <future>

#include "runtime/engine_impl.h"

namespace neosl::runtime {

RefPtr<JS::Stencil> Engine::Impl::Compile(std::string_view source, ScriptError* error) {
  JS::CompileOptions options(cx_);
  options.setFileAndLine(kModuleFile, 1);
  JS::SourceText<mozilla::Utf8Unit> text;
  if (!text.init(cx_, source.data(), source.size(), JS::SourceOwnership::Borrowed)) {
    *error = js::TakeException(cx_);
    return nullptr;
  }
  RefPtr<JS::Stencil> stencil = JS::CompileModuleScriptToStencil(cx_, options, text);
  if (!stencil) {
    *error = js::TakeException(cx_);
    return nullptr;
  }
  ++stats_.compilations;
  return stencil;
}

JS::Stencil* Engine::Impl::Compiled(const Invocation& inv, bool* cold, ScriptError* error) {
  std::string key = inv.function_id + ":" + std::to_string(inv.version) + ":" + HexEncode(inv.source_hash);
  if (auto it = index_.find(key); it != index_.end()) {
    cache_.splice(cache_.begin(), cache_, it->second);
    ++stats_.cache_hits;
    *cold = false;
    return cache_.front().stencil.get();
  }
  *cold = true;
  RefPtr<JS::Stencil> stencil = Compile(inv.source, error);
  if (!stencil) return nullptr;
  cache_.push_front(Cached{key, std::move(stencil)});
  index_[std::move(key)] = cache_.begin();
  while (cache_.size() > options_.max_cached_versions) {
    index_.erase(cache_.back().key);
    cache_.pop_back();
  }
  return cache_.front().stencil.get();
}

Status Engine::InitProcess(bool jit) {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [jit] {
    if (!jit) JS::DisableJitBackend();
    ok = JS_Init();
  });
  return ok ? Status() : InternalError("javascript engine: JS_Init failed");
}

// The engine's own thread: a SpiderMonkey context belongs to the thread that made it, so every
// use of it — set-up, runs, checks, collections, teardown — happens here, whoever calls.
class Engine::Thread {
 public:
  explicit Thread(EngineOptions options) : options_(options) {}

  Status Start() {
    std::promise<Status> started;
    auto result = started.get_future();
    thread_ = std::thread([this, &started] { Loop(&started); });
    Status s = result.get();
    if (!s.ok()) thread_.join();
    return s;
  }

  ~Thread() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  // Runs `task` on the engine thread and waits for it.
  template <typename F>
  auto Call(F task) -> decltype(task(std::declval<Impl&>())) {
    using R = decltype(task(std::declval<Impl&>()));
    std::packaged_task<R()> job([this, &task] { return task(*impl_); });
    auto result = job.get_future();
    {
      std::lock_guard lock(mu_);
      queue_.push_back([&job] { job(); });
    }
    cv_.notify_all();
    return result.get();
  }

 private:
  void Loop(std::promise<Status>* started) {
    impl_ = std::make_unique<Impl>(options_);
    Status s = impl_->Init();
    if (!s.ok()) {
      impl_.reset();
      started->set_value(s);
      return;
    }
    started->set_value(Status());
    std::unique_lock lock(mu_);
    while (true) {
      if (queue_.empty()) {
        if (stopping_) break;
        if (impl_->garbage_due()) {
          // Idle: collect now, between invocations rather than inside one.
          lock.unlock();
          impl_->CollectGarbage();
          lock.lock();
          continue;
        }
        cv_.wait(lock);
        continue;
      }
      auto job = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
    lock.unlock();
    impl_.reset();
  }

  EngineOptions options_;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
};

void Engine::ShutdownProcess() {
  JS_ShutDown();
}

StatusOr<std::unique_ptr<Engine>> Engine::Create(EngineOptions options) {
  RETURN_IF_ERROR(InitProcess(options.jit));
  if (!options.own_thread) {
    auto impl = std::make_unique<Impl>(options);
    RETURN_IF_ERROR(impl->Init());
    return std::unique_ptr<Engine>(new Engine(std::move(impl)));
  }
  auto thread = std::make_unique<Thread>(options);
  RETURN_IF_ERROR(thread->Start());
  return std::unique_ptr<Engine>(new Engine(std::move(thread)));
}

Engine::Engine(std::unique_ptr<Thread> thread) : thread_(std::move(thread)) {}
Engine::Engine(std::unique_ptr<Impl> impl) : inline_(std::move(impl)) {}
Engine::~Engine() = default;

Outcome Engine::Run(const Invocation& invocation, InvocationHost& host) {
  if (inline_) {
    if (inline_->garbage_due()) inline_->CollectGarbage();
    return inline_->Run(invocation, host);
  }
  return thread_->Call([&](Impl& impl) { return impl.Run(invocation, host); });
}
Status Engine::Check(std::string_view source, ScriptError* error) {
  if (inline_) return inline_->Check(source, error);
  return thread_->Call([&](Impl& impl) { return impl.Check(source, error); });
}
void Engine::CollectGarbage() {
  if (inline_) return inline_->CollectGarbage();
  thread_->Call([](Impl& impl) {
    impl.CollectGarbage();
    return 0;
  });
}
bool Engine::CollectGarbageIfDue() {
  if (!inline_ || !inline_->garbage_due()) return false;
  inline_->CollectGarbage();
  return true;
}
Engine::Stats Engine::stats() const {
  if (inline_) return inline_->stats();
  return thread_->Call([](Impl& impl) { return impl.stats(); });
}

}  // namespace neosl::runtime
