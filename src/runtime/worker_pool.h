// The host side of the JavaScript runtime (docs/functions.md, "The runtime"): a pool of
// function workers — `neosl enclave --function-worker` processes, sandboxed like the enclave,
// each running one invocation at a time in its SpiderMonkey engine — behind FunctionRunner.
//
// Invocations wait in one bounded queue (RESOURCE_EXHAUSTED when it is full: back-pressure, never
// unbounded memory) and go to the first idle worker. A worker that does not answer by the
// invocation's deadline plus a grace period is killed and restarted (its supervisor does that);
// a worker that dies mid-invocation answers it RESOURCE_EXHAUSTED or INTERNAL and is restarted.
// Other invocations, on other workers, live on.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/runner.h"
#include "tee/tls_relay.h"

namespace neosl::runtime {

struct WorkerPoolOptions {
  // The enclave program and its arguments, as the host starts its enclave ({"enclave",
  // "--sealed-dir", …}); the pool adds --function-worker (and --no-jit). The sealed keys must
  // exist already: start the pool after the enclave is ready.
  std::string binary;
  std::vector<std::string> enclave_args;
  int workers = 0;            // 0: one per CPU
  size_t queue_capacity = 0;  // 0: 64 per worker
  bool jit = true;
  // How long past an invocation's own time limit its worker may stay silent before it is killed.
  std::chrono::milliseconds grace{2'000};
  std::chrono::milliseconds start_timeout{30'000};
  // Outbound connections of fetch() (a tee::SocketRelay with the operator's allow-list); null:
  // fetch fails UNAVAILABLE.
  std::shared_ptr<tee::ByteRelay> relay;
  // context.neo.invokeRead: (contract, method, args JSON) → invokefunction's result as JSON.
  // Null: UNAVAILABLE.
  std::function<StatusOr<std::string>(const std::string&, const std::string&, const std::string&)> neo_read;
};

class WorkerPool final : public FunctionRunner {
 public:
  // Starts the workers and waits until each answers (or start_timeout passes).
  static StatusOr<std::unique_ptr<WorkerPool>> Start(WorkerPoolOptions options);
  ~WorkerPool() override;

  void RunAsync(Invocation invocation, LogSink sink, Done done) override;
  Status Check(std::string_view source, ScriptError* error) override;

  struct Stats {
    size_t workers = 0, queued = 0, running = 0;
    uint64_t completed = 0, rejected = 0, killed = 0, restarts = 0;
  };
  Stats stats() const;

  class Impl;

 private:
  explicit WorkerPool(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace neosl::runtime
