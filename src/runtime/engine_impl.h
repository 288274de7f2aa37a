// Engine's implementation class, shared by engine.cpp (set-up, cache, watchdog) and
// engine_run.cpp (running an invocation). Internal to src/runtime.
#pragma once

#include <condition_variable>
#include <jsfriendapi.h>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <unistd.h>
#include <unordered_map>

#include <sys/resource.h>

#include "core/encoding.h"
#include "runtime/engine.h"
#include "runtime/js_support.h"
#include <js/CallAndConstruct.h>
#include <js/CompilationAndEvaluation.h>
#include <js/ContextOptions.h>
#include <js/GCAPI.h>
#include <js/Initialization.h>
#include <js/Modules.h>
#include <js/Principals.h>
#include <js/Promise.h>
#include <js/PropertyAndElement.h>
#include <js/SourceText.h>
#include <js/Stack.h>

namespace neosl::runtime {
namespace internal {

using Clock = std::chrono::steady_clock;

inline JSClass kCompileGlobalClass = {"global", JSCLASS_GLOBAL_FLAGS, &JS::DefaultGlobalClassOps};
inline constexpr const char* kModuleFile = "function.js";
inline constexpr size_t kNativeStackQuota = size_t{1} << 20;  // "too much recursion" well before the real stack ends
// Room over the invocation's own limit for what is not the function's: the engine's bookkeeping
// and our own allocations while the function runs.
inline constexpr size_t kAddressSpaceSlack = size_t{64} << 20;
// The GC heap's limit between invocations; during one it is the heap's size plus its limit.
inline constexpr size_t kHeapCeiling = kMaxMemoryBytes + (size_t{64} << 20);

inline bool CspAllows(JSContext* cx, JS::RuntimeCode, JS::HandleString) {
  // eval and new Function are off, as in Cloudflare Workers: code comes only from the module.
  (void)cx;
  return false;
}
inline const JSSecurityCallbacks kSecurity = {CspAllows, nullptr};

inline JSObject* RefuseImports(JSContext* cx, JS::HandleValue, JS::HandleObject) {
  JS_ReportErrorASCII(cx, "imports are not available: a function is a single module");
  return nullptr;
}

struct RealmGuard {
  // Leaves the context's private pointer clean whatever happens.
  explicit RealmGuard(JSContext* c) : cx(c) {}
  ~RealmGuard() { JS_SetContextPrivate(cx, nullptr); }
  JSContext* cx;
};

inline size_t AddressSpaceBytes(int statm_fd) {
  char buf[128];
  ssize_t n = pread(statm_fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return 0;
  buf[n] = '\0';
  return size_t(std::strtoull(buf, nullptr, 10)) * size_t(sysconf(_SC_PAGESIZE));
}

}  // namespace internal

using namespace internal;  // NOLINT(google-build-using-namespace): internal header

class Engine::Impl {
 public:
  explicit Impl(EngineOptions options) : options_(options) {}

  ~Impl() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (watchdog_.joinable()) watchdog_.join();
    if (cx_ != nullptr) {
      {
        JSAutoRealm ar(cx_, compile_global_);
        cache_.clear();
        index_.clear();
        prelude_ = nullptr;
      }
      compile_global_.reset();
      JS_DestroyContext(cx_);
    }
  }

  Status Init() {
    cx_ = JS_NewContext(kHeapCeiling);
    if (cx_ == nullptr) return InternalError("javascript engine: cannot create a context");
    ::js::UseInternalJobQueues(cx_);
    if (!JS::InitSelfHostedCode(cx_)) return InternalError("javascript engine: self-hosted code failed");
    JS_SetNativeStackQuota(cx_, kNativeStackQuota);
    JS::ContextOptionsRef(cx_).setWasm(false).setWasmBaseline(false).setWasmIon(false);
    JS_SetSecurityCallbacks(cx_, &kSecurity);
    JS::SetModuleResolveHook(JS_GetRuntime(cx_), RefuseImports);
    JS_AddInterruptCallback(cx_, [](JSContext* cx) -> bool {
      // Returning false ends the script with an uncatchable error: the time limit has passed.
      auto* st = static_cast<js::InvocationState*>(JS_GetContextPrivate(cx));
      return st == nullptr || st->timed_out == nullptr || !st->timed_out->load();
    });
    JS::SetOutOfMemoryCallback(
        cx_,
        [](JSContext* cx, void*) {
          if (void* p = JS_GetContextPrivate(cx)) static_cast<js::InvocationState*>(p)->out_of_memory = true;
        },
        nullptr);

    JS::RealmOptions realm;
    compile_global_.init(cx_, JS_NewGlobalObject(cx_, &kCompileGlobalClass, nullptr, JS::FireOnNewGlobalHook, realm));
    if (!compile_global_) return InternalError("javascript engine: cannot create the compile realm");
    JSAutoRealm ar(cx_, compile_global_);
    JS::CompileOptions options(cx_);
    options.setFileAndLine("neosl:prelude", 1);
    JS::SourceText<mozilla::Utf8Unit> text;
    auto src = js::PreludeSource();
    if (!text.init(cx_, src.data(), src.size(), JS::SourceOwnership::Borrowed)) {
      return InternalError("javascript engine: prelude");
    }
    prelude_ = JS::CompileGlobalScriptToStencil(cx_, options, text);
    if (!prelude_) {
      ScriptError e = js::TakeException(cx_);
      return InternalError("javascript engine: the prelude does not compile: " + e.message + " at " +
                           std::to_string(e.line) + ":" + std::to_string(e.column));
    }
    watchdog_ = std::thread([this] { WatchdogLoop(); });
    return Status();
  }

  Outcome Run(const Invocation& inv, InvocationHost& host);
  Status Check(std::string_view source, ScriptError* error);
  bool garbage_due() const { return gc_due_; }

  void CollectGarbage() {
    JS_GC(cx_);
    ++stats_.gcs;
    since_gc_ = 0;
    gc_due_ = false;
    heap_after_gc_ = JS_GetGCParameter(cx_, JSGC_BYTES);
  }

  Stats stats() const {
    Stats s = stats_;
    s.cached_versions = cache_.size();
    s.gc_heap_bytes = JS_GetGCParameter(cx_, JSGC_BYTES);
    return s;
  }

 private:
  struct Cached {
    std::string key;
    RefPtr<JS::Stencil> stencil;
  };

  // Runs the module in the current (fresh) realm: the result as JSON in `result_json`, or the
  // failure. Exceptions are taken into `error`.
  Status RunInRealm(const Invocation& inv, JS::Stencil* stencil, std::string* result_json, ScriptError* error);

  // The compiled module for this function version, compiling it on a miss. Null with `error`
  // filled when it does not compile. Runs in the compile realm.
  JS::Stencil* Compiled(const Invocation& inv, bool* cold, ScriptError* error);
  RefPtr<JS::Stencil> Compile(std::string_view source, ScriptError* error);

  // The watchdog is woken only when a deadline comes before the one it already waits for (the
  // first after idling, or a shorter limit): invocations of one function arm ever later
  // deadlines, and the watchdog, waking at a stale one, simply waits again.
  void Arm(Clock::time_point deadline) {
    bool wake;
    {
      std::lock_guard lock(mu_);
      deadline_ = deadline;
      armed_ = true;
      timed_out_ = false;
      wake = deadline < watching_until_;
    }
    if (wake) cv_.notify_all();
  }
  void Disarm() {
    std::lock_guard lock(mu_);
    armed_ = false;
  }
  void WatchdogLoop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      if (armed_ && Clock::now() >= deadline_) {
        timed_out_ = true;
        armed_ = false;
        JS_RequestInterruptCallback(cx_);
        continue;
      }
      watching_until_ = armed_ ? deadline_ : Clock::time_point::max();
      if (armed_) {
        cv_.wait_until(lock, watching_until_);
      } else {
        cv_.wait(lock);
      }
    }
  }

  // RLIMIT_AS at the current size plus `budget` (or back to the hard limit with 0).
  void LimitAddressSpace(size_t budget) {
    if (options_.statm_fd < 0) return;
    if (!hard_limit_) {  // the hard limit only ever goes down, and nothing here lowers it
      rlimit rl{};
      if (getrlimit(RLIMIT_AS, &rl) != 0) return;
      hard_limit_ = rl.rlim_max;
    }
    rlimit rl{};
    rl.rlim_max = *hard_limit_;
    rlim_t soft = rl.rlim_max;
    if (budget > 0) {
      const size_t now = AddressSpaceBytes(options_.statm_fd);
      if (now == 0) return;
      // Twice the budget: the GC heap (capped at the budget itself) runs out first and fails
      // cleanly; SpiderMonkey cannot survive running out of address space inside a collection.
      soft = std::min<rlim_t>(rl.rlim_max, rlim_t(now + 2 * budget + kAddressSpaceSlack));
    }
    rl.rlim_cur = soft;
    (void)setrlimit(RLIMIT_AS, &rl);
  }

  EngineOptions options_;
  JSContext* cx_ = nullptr;
  JS::PersistentRootedObject compile_global_;
  RefPtr<JS::Stencil> prelude_;
  std::list<Cached> cache_;  // most recently used first
  std::unordered_map<std::string, std::list<Cached>::iterator> index_;
  Stats stats_;
  int since_gc_ = 0;
  bool gc_due_ = false;
  size_t heap_after_gc_ = 0;
  std::optional<rlim_t> hard_limit_;  // RLIMIT_AS's, read once

  std::mutex mu_;
  std::condition_variable cv_;
  std::thread watchdog_;
  Clock::time_point deadline_;
  Clock::time_point watching_until_ = Clock::time_point::max();  // what the watchdog waits for
  bool armed_ = false;
  bool stopping_ = false;
  std::atomic<bool> timed_out_{false};

  friend class Engine;
};

}  // namespace neosl::runtime
