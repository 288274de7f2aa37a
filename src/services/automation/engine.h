// The automation engine (issue #13; docs/automation.md "How firing works"): it decides when
// triggers fire, records each firing as a run before its action starts, runs the actions on a
// work queue, retries failed ones with backoff, and resumes or fails what a crash interrupted.
//
// Time triggers (cron, interval) sit in one TimerRunner (an indexed heap: no timer per trigger).
// When one falls due the engine, in one store transaction, inserts the run (its id is the trigger
// and the scheduled time, so the insert does nothing if any process already recorded it) and
// moves the trigger's next_due_ms on; only then is the action queued. Chain triggers are recorded
// in the chain follower's transaction for their block (with its cursor), price triggers in one
// transaction with their new PriceState.
//
// Catch-up (at Start, for time missed while down; ChainBlock::backlog for chain triggers):
//   skip  nothing missed fires; the schedule resumes from now;
//   once  one run, for the latest missed time (block: height; event: the first missed event);
//   all   every missed firing, in order (at most max_catch_up per trigger, then as skip).
// Paused triggers skip what falls due while paused.
//
// After a crash (Start): a run still `pending` (its action never started) is run; a `retrying`
// one waits for its next attempt; a `running` one is run again only when that cannot do it twice
// (ActionRunner::SafeToResume: a contract call, keyed in the outbox) and otherwise marked failed,
// "interrupted by a restart" — never doubled.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "core/status.h"
#include "services/automation/actions.h"
#include "services/automation/sources.h"
#include "services/automation/timer_wheel.h"
#include "services/automation/trigger.h"
#include "services/automation/trigger_store.h"
#include "store/store.h"

namespace neosl::automation {

struct EngineOptions {
  size_t threads = 4;  // actions at once (automation.threads)
  size_t max_triggers_per_account = 10'000;
  size_t max_catch_up = 100;  // catch_up all: runs per trigger at most
  std::string zoneinfo_dir = "/usr/share/zoneinfo";
  // Tests: how the timer thread waits (TimerRunner::WaitFn); default: the system clock's.
  TimerRunner::WaitFn wait = nullptr;
  // Called (on the API's thread, no lock held) when a price trigger's pair is newly watched, so
  // the price watcher can have the feed observe it now (PriceWatcher::Poke).
  std::function<void()> on_new_price_pair = nullptr;
};

struct EngineStats {
  uint64_t fired = 0;      // runs recorded by this process
  uint64_t succeeded = 0;  // runs that ended succeeded
  uint64_t failed = 0;     // runs that ended failed
  uint64_t retried = 0;    // attempts after the first
  size_t timers = 0;       // time triggers armed
  size_t queued = 0;       // actions waiting for a worker
};

class Engine {
 public:
  Engine(EngineOptions options, store::Store& store, ActionRunner& actions, const Clock& clock, RandomSource& random);
  ~Engine();  // Stop()
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Loads active triggers (catch-up applied), resumes or fails unfinished runs, arms timers and
  // starts the timer thread and the workers. Once.
  Status Start();
  // Stops firing and waits for actions in flight. Runs left pending or retrying stay recorded.
  void Stop();

  // ---- the API (automation_service.h) ----
  // Validated spec in; the stored trigger out (status active, or paused when `paused`).
  // RESOURCE_EXHAUSTED past max_triggers_per_account. A time trigger's first firing is its next
  // scheduled time after now (interval: start_at_ms when in the future).
  StatusOr<TriggerRecord> Create(const std::string& account, TriggerSpec spec, bool paused);
  StatusOr<TriggerRecord> Pause(const std::string& account, const std::string& id);
  // A paused trigger resumes from now: firings due while paused are skipped.
  // FAILED_PRECONDITION for a completed trigger.
  StatusOr<TriggerRecord> Resume(const std::string& account, const std::string& id);
  StatusOr<TriggerRecord> Delete(const std::string& account, const std::string& id);
  // A manual run (RunTrigger): records a run of the trigger now, ManualRunId(id, now), and runs
  // its action like any other run — at most once, retried by the trigger's retry policy, resumed
  // or failed after a crash as any run is. Active and paused triggers (trying out an action before
  // resuming is a use); FAILED_PRECONDITION for a completed one. The trigger itself is left alone:
  // its schedule (next_due_ms), status, `runs` and last_fired_at do not change, so a manual run
  // neither moves a firing nor counts towards max_runs. The run is returned as recorded (pending).
  // An engine not started (a replica that is not the leader) leaves it pending in the store, where
  // the leader's Sync picks it up.
  StatusOr<RunRecord> RunNow(const std::string& account, const std::string& id);
  // Called with every run this engine ends (succeeded, or failed for good), after its outcome is
  // stored; null: nobody. Must be quick: it runs on a worker or the outbox listener's thread.
  // Returns once no earlier listener is running.
  void SetRunEndListener(std::function<void(const RunRecord&)> listener);

  // ---- the sources ----
  // The chain follower's handler: records the block's firings in `tx` (with the cursor).
  Status RecordBlock(store::Transaction& tx, const ChainBlock& block);
  // After that transaction commits: queues the recorded runs.
  void AfterBlock(const ChainBlock& block);
  // The price watcher's callback.
  void OnPrice(const PriceTick& tick);
  // The outbox's listener (ActionRunner::kOutboxOwner): a contract run's transaction ended.
  void OnTransaction(const chain_tx::OutboxRecord& record);

  // Brings the index in line with the store: triggers made active by another replica's API
  // (whose engine is not started: it is not the leader, coord/lease.h) are indexed and armed,
  // triggers it paused or deleted are dropped, and manual runs it recorded (still pending) are
  // run. Serve calls it every automation.sync_ms while this replica runs the singletons; a lone
  // replica's own changes are in the index already.
  Status Sync();

  // The pairs active price triggers follow (what the price watcher keeps observed).
  std::vector<std::string> PricePairs() const;

  // Tests: makes the timer thread read the clock again (after moving a ManualClock), and waits
  // until no action is queued or running.
  void Wake();
  void WaitIdle();

  EngineStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace neosl::automation
