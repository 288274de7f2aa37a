// Waiting for runs to end, for RunTrigger (automation_service.h): a call that answers with its
// run once the run has succeeded or failed — for a contract action, once its transaction has
// halted or faulted on chain, which takes blocks.
//
// A gRPC thread must not block that long, so a wait is a callback: Await registers it and one
// thread answers every wait. The engine tells the waiter at once of the runs it ends
// (Engine::SetRunEndListener → Ended); the store is read besides, right after a wait begins (the
// run may have ended before it did) and every `poll` after, since the run may be executed by
// another replica's engine (the leader's), whose ends are not told here.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "services/automation/trigger.h"
#include "services/automation/trigger_store.h"
#include "store/store.h"

namespace neosl::automation {

class RunWaiter {
 public:
  using Done = std::function<void(StatusOr<RunRecord>)>;

  // `store` must outlive it. Starts its thread.
  RunWaiter(store::Store& store, std::chrono::milliseconds poll);
  // Answers every wait still open UNAVAILABLE, then joins.
  ~RunWaiter();
  RunWaiter(const RunWaiter&) = delete;
  RunWaiter& operator=(const RunWaiter&) = delete;

  // Calls `done` exactly once, on the waiter's thread (or on this one, when shutting down): with
  // the run once it has ended; DEADLINE_EXCEEDED, naming the run, when `timeout` passes first (the
  // run itself goes on); NOT_FOUND when the run is gone (its trigger was deleted); UNAVAILABLE when
  // the waiter stops first.
  void Await(const std::string& run_id, std::chrono::milliseconds timeout, Done done);

  // `run` has ended (the engine's listener): its waits are answered now.
  void Ended(const RunRecord& run);

  // Waits open (tests).
  size_t waiting() const;

 private:
  struct Wait {
    std::string run_id;
    std::chrono::milliseconds timeout;
    std::chrono::steady_clock::time_point deadline;
    std::chrono::steady_clock::time_point next_read;
    Done done;
    std::optional<StatusOr<RunRecord>> answer;
  };

  void Loop();

  TriggerStore runs_;
  const std::chrono::milliseconds poll_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::vector<Wait> waits_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace neosl::automation
