// Stores executions in batches: one thread takes every execution waiting and writes them in one
// transaction (FunctionStore::AddExecutions), so that a busy service pays for one commit per batch
// rather than one per invocation, and no invocation waits for more than the batch ahead of it.
// How many wait is bounded by the runtime, which holds each invocation until it is answered.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/status.h"
#include "services/functions/function_store.h"

namespace neosl::services::functions {

class ExecutionWriter {
 public:
  // Called on the writer's thread once the record is stored (OK, record.seq set) or not.
  using Done = std::function<void(const Status&, ExecutionRecord& record)>;

  ExecutionWriter(FunctionStore& store, int64_t max_kept, size_t max_batch = 128);
  // Stores what is queued, then joins.
  ~ExecutionWriter();
  ExecutionWriter(const ExecutionWriter&) = delete;
  ExecutionWriter& operator=(const ExecutionWriter&) = delete;

  void Add(ExecutionRecord record, Done done);

  // Batches written so far (for tests: that batching happens).
  uint64_t batches() const;

 private:
  struct Pending {
    ExecutionRecord record;
    Done done;
  };
  void Run();

  FunctionStore& store_;
  const int64_t max_kept_;
  const size_t max_batch_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  uint64_t batches_ = 0;
  std::thread thread_;  // last: starts once the rest is built
};

}  // namespace neosl::services::functions
