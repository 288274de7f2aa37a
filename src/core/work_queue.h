// A few threads for a service's blocking steps (store transactions, calls to other services, the
// enclave), so that none of them runs on a gRPC thread. TrySubmit refuses new work when the queue
// is full (back-pressure); Submit always queues, for work whose number is bounded elsewhere
// (e.g. the completions of invocations already running).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace neosl {

class WorkQueue {
 public:
  WorkQueue(size_t threads, size_t capacity);
  // Runs what is queued, then joins.
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // False when `capacity` tasks are waiting already.
  bool TrySubmit(std::function<void()> task);
  // Always queues.
  void Submit(std::function<void()> task);

 private:
  void Run();

  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace neosl
