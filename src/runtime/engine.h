// The JavaScript engine of a function worker (docs/functions.md, "The runtime"): SpiderMonkey,
// one context per Engine, a fresh global (realm) per invocation, compiled code cached per
// function version. Runs inside the enclave (an enclave worker process); this header is free of
// engine types so the worker's glue and the tests need no SpiderMonkey headers.
//
// An Engine owns a thread on which all its JavaScript runs (a SpiderMonkey context belongs to
// the thread that made it): callers on any thread are served one at a time, and the engine
// collects garbage on that thread while idle. A process holds one Engine.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "runtime/runner.h"

namespace neosl::runtime {

// An outbound request from `fetch()`, as the function made it (validated by the fetcher).
struct FetchCall {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<uint8_t> body;
  std::chrono::milliseconds timeout{kMaxFetchTimeout};  // already capped by the time left
  std::string redirect = "follow";                      // follow | manual | error
};

struct FetchResult {
  int status = 0;
  std::string status_text;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::vector<uint8_t> body;
  std::string url;  // after redirects
  bool redirected = false;
};

// What an invocation may reach outside its realm, supplied by the worker for each invocation.
// Errors come back to JavaScript as exceptions (rejected promises) carrying the message, so
// messages must be fit for the developer and free of secrets.
class InvocationHost {
 public:
  virtual ~InvocationHost() = default;
  // The value of a granted secret, valid until the invocation ends. NOT_FOUND when not granted.
  virtual StatusOr<std::span<const uint8_t>> Secret(std::string_view name) = 0;
  virtual StatusOr<FetchResult> Fetch(const FetchCall& call) = 0;
  // Neo's invokefunction, read-only: the RPC result object as JSON text.
  virtual StatusOr<std::string> NeoInvokeRead(std::string_view contract, std::string_view method,
                                              std::string_view args_json) = 0;
  // Each console line as it is written (also kept in the Outcome).
  virtual void Log(const LogLine& line) = 0;
  virtual void Random(std::span<uint8_t> out) = 0;
  virtual int64_t NowUnixMillis() = 0;
};

struct EngineOptions {
  // The process's address-space accounting (docs/functions.md, "Memory"): when set, the engine
  // keeps RLIMIT_AS at the current size plus twice the invocation's memory limit while
  // JavaScript runs, so memory the GC heap does not count (ArrayBuffer contents) is bounded too. `statm_fd`
  // is an fd open on /proc/self/statm (kept across the sandbox); -1 leaves RLIMIT_AS alone.
  int statm_fd = -1;
  bool jit = true;                   // SpiderMonkey's baseline and Ion JITs
  size_t max_cached_versions = 128;  // compiled function versions kept (LRU)
  // A full GC after this many invocations (realms are collected only by a full GC); also run
  // when the heap grows past twice its size after the last one.
  int gc_every = 256;
  // true: the engine runs on a thread of its own and collects garbage while idle. false: on the
  // thread that calls Create — which must then make every call — saving two thread hand-offs
  // per invocation (the function worker, which serves one invocation at a time, runs so); a due
  // collection then runs at CollectGarbageIfDue, or else at the start of the next call.
  bool own_thread = true;
};

class Engine {
 public:
  // Once per process, before any Engine: JS_Init. INTERNAL if the engine cannot start.
  static Status InitProcess(bool jit);
  // After the last Engine is gone: JS_ShutDown (optional; a process may just exit).
  static void ShutdownProcess();

  static StatusOr<std::unique_ptr<Engine>> Create(EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs one invocation to its Outcome: status, result_json / error / error_json, logs,
  // duration, cold. Hashes and the signature are the caller's (it holds the keys).
  Outcome Run(const Invocation& invocation, InvocationHost& host);

  // Compiles `source` as a function module without running it: INVALID_ARGUMENT with line and
  // column when it does not compile or imports anything.
  Status Check(std::string_view source, ScriptError* error);

  // A full garbage collection now. Realms of finished invocations are freed only by one; the
  // engine runs one by itself while idle, every gc_every invocations, after a memory limit was
  // hit, or when the heap doubled — never inside an invocation.
  void CollectGarbage();
  // For an engine without a thread of its own: runs the collection that is due, if one is, so
  // that a caller with idle time (after sending an answer) keeps it off the next invocation.
  // Returns whether it collected. An engine with its own thread does this by itself: false.
  bool CollectGarbageIfDue();

  struct Stats {
    uint64_t invocations = 0, compilations = 0, cache_hits = 0, gcs = 0;
    size_t cached_versions = 0;
    size_t gc_heap_bytes = 0;
  };
  Stats stats() const;

  class Impl;
  class Thread;

 private:
  explicit Engine(std::unique_ptr<Thread> thread);
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Thread> thread_;
  std::unique_ptr<Impl> inline_;
};

}  // namespace neosl::runtime
