// The engine's inside (engine.h): Engine::Impl with its own work — the in-memory index, firing
// time triggers, running actions and recording their outcomes, catch-up and resumption at Start —
// shared by engine.cpp (lifecycle, the API) and engine_events.cpp (chain and price triggers, the
// end of transactions). Not for use outside src/services/automation.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <boost/json.hpp>

#include "core/crash_point.h"
#include "core/encoding.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/work_queue.h"
#include "services/automation/cron.h"
#include "services/automation/engine.h"

namespace neosl::automation {
namespace engine_internal {

namespace json = boost::json;

constexpr std::string_view kTimePrefix = "t:";   // a time trigger's next firing
constexpr std::string_view kRetryPrefix = "r:";  // a run's next attempt
constexpr size_t kTriggerIdChars = 16;
// Catch-up "once" walks a cron schedule to the latest missed time; beyond this many steps (a
// per-second schedule down for more than a day) it fires at the last one it reached.
constexpr int kMaxScheduleSteps = 100'000;

inline std::string TimerId(std::string_view prefix, std::string_view id) {
  std::string out(prefix);
  out += id;
  return out;
}

inline std::string TimeContextJson(int64_t scheduled_ms) {
  return json::serialize(json::object{{"scheduled_at", FormatRfc3339Millis(scheduled_ms)}});
}

// What "fired" a manual run: a request.
inline std::string ManualContextJson(int64_t requested_ms) {
  return json::serialize(json::object{{"manual", true}, {"requested_at", FormatRfc3339Millis(requested_ms)}});
}

// What the engine keeps of a trigger in memory: what never changes (its spec), for deciding
// which triggers a timer, block, notification or price concerns. Everything that changes is read
// from the store inside the transaction that changes it.
struct Entry {
  std::string id;
  std::string account;
  TriggerSpec spec;
  std::optional<CronSchedule> cron;
};

}  // namespace engine_internal

using engine_internal::Entry;
using engine_internal::kMaxScheduleSteps;
using engine_internal::kRetryPrefix;
using engine_internal::kTimePrefix;
using engine_internal::ManualContextJson;
using engine_internal::TimeContextJson;
using engine_internal::TimerId;

struct Engine::Impl {
  Impl(EngineOptions o, store::Store& s, ActionRunner& a, const Clock& c, RandomSource& r)
      : opts(std::move(o)),
        store(s),
        triggers(s),
        actions(a),
        clock(c),
        random(r),
        timers(c, TimerRunner::Batched{[this](std::vector<DueTimer> due) { OnTimers(std::move(due)); }},
               opts.wait ? opts.wait : TimerRunner::SleepUntilDue()) {}

  EngineOptions opts;
  store::Store& store;
  TriggerStore triggers;
  ActionRunner& actions;
  const Clock& clock;
  RandomSource& random;
  TimerRunner timers;
  std::unique_ptr<WorkQueue> workers;

  // The API's changes of one trigger happen one at a time (never held while firing).
  std::mutex api_mu;

  mutable std::mutex mu;  // guards what follows; never held across a store transaction
  std::unordered_map<std::string, std::shared_ptr<const Entry>> entries;  // active triggers
  std::set<std::string> block_triggers;
  std::unordered_map<std::string, std::set<std::string>> event_triggers;  // contract → ids
  std::unordered_map<std::string, std::set<std::string>> price_triggers;  // pair → ids
  std::unordered_set<std::string> price_seen;                             // price triggers that had a tick since Start
  std::unordered_set<std::string> chain_caught_up;                        // chain triggers whose "once" catch-up fired
  // What a block's transaction recorded, for after its commit: runs to dispatch, triggers done.
  struct BlockOutcome {
    std::vector<std::string> runs;
    std::vector<std::string> completed;
    std::set<std::string> caught_up;  // fired their "once" catch-up in it
  };
  std::map<uint32_t, BlockOutcome> block_outcomes;
  bool started = false;
  bool stopped = false;

  mutable std::mutex idle_mu;
  std::condition_variable idle_cv;
  size_t in_flight = 0;
  // Runs queued or executing here, by id (how many times): Sync leaves those alone.
  std::unordered_map<std::string, size_t> dispatched;

  // SetRunEndListener's; called with listener_mu held, so that unsetting it waits for a call.
  std::mutex listener_mu;
  std::function<void(const RunRecord&)> on_run_end;

  std::atomic<uint64_t> fired{0}, succeeded{0}, failed{0}, retried{0};

  // ---- the in-memory index ----

  StatusOr<std::shared_ptr<const Entry>> MakeEntry(const TriggerRecord& t) const {
    auto e = std::make_shared<Entry>();
    e->id = t.id;
    e->account = t.account;
    e->spec = t.spec;
    if (const auto* c = std::get_if<CronCondition>(&t.spec.condition)) {
      ASSIGN_OR_RETURN(TimeZone zone, c->timezone.empty() ? StatusOr<TimeZone>(TimeZone::Utc())
                                                          : TimeZone::Load(c->timezone, opts.zoneinfo_dir));
      ASSIGN_OR_RETURN(CronSchedule schedule, CronSchedule::Parse(c->expression, zone));
      e->cron = std::move(schedule);
    }
    return std::shared_ptr<const Entry>(std::move(e));
  }

  void Index(const std::shared_ptr<const Entry>& e) {
    bool new_pair = false;
    {
      std::lock_guard lock(mu);
      entries[e->id] = e;
      if (std::holds_alternative<BlockCondition>(e->spec.condition)) block_triggers.insert(e->id);
      if (const auto* c = std::get_if<EventCondition>(&e->spec.condition)) event_triggers[c->contract].insert(e->id);
      if (const auto* c = std::get_if<PriceCondition>(&e->spec.condition)) {
        auto& ids = price_triggers[c->pair];
        new_pair = ids.empty();
        ids.insert(e->id);
      }
    }
    if (new_pair && opts.on_new_price_pair) opts.on_new_price_pair();
  }

  void Unindex(const std::string& id) {
    std::lock_guard lock(mu);
    auto it = entries.find(id);
    if (it == entries.end()) return;
    const auto& spec = it->second->spec;
    block_triggers.erase(id);
    if (const auto* c = std::get_if<EventCondition>(&spec.condition)) {
      auto& ids = event_triggers[c->contract];
      ids.erase(id);
      if (ids.empty()) event_triggers.erase(c->contract);
    }
    if (const auto* c = std::get_if<PriceCondition>(&spec.condition)) {
      auto& ids = price_triggers[c->pair];
      ids.erase(id);
      if (ids.empty()) price_triggers.erase(c->pair);
    }
    entries.erase(it);
  }

  std::shared_ptr<const Entry> Find(const std::string& id) const {
    std::lock_guard lock(mu);
    auto it = entries.find(id);
    return it == entries.end() ? nullptr : it->second;
  }

  // ---- schedules ----

  // The first scheduled time of a time trigger strictly after `after_ms`.
  static std::optional<int64_t> NextAfter(const Entry& e, int64_t after_ms) {
    if (e.cron) return e.cron->Next(after_ms);
    const auto& c = std::get<IntervalCondition>(e.spec.condition);
    if (after_ms < c.start_at_ms) return c.start_at_ms;
    const int64_t k = (after_ms - c.start_at_ms) / c.every_ms + 1;
    return c.start_at_ms + k * c.every_ms;
  }

  // The latest scheduled time at or before `at_ms`, given that `from_ms` is one (the first missed).
  static int64_t LatestAtOrBefore(const Entry& e, int64_t from_ms, int64_t at_ms) {
    if (!e.cron) {
      const auto& c = std::get<IntervalCondition>(e.spec.condition);
      return c.start_at_ms + (at_ms - c.start_at_ms) / c.every_ms * c.every_ms;
    }
    int64_t latest = from_ms;
    for (int i = 0; i < kMaxScheduleSteps; ++i) {
      auto next = e.cron->Next(latest);
      if (!next || *next > at_ms) break;
      latest = *next;
    }
    return latest;
  }

  // After a firing (or none) at `t`: whether the trigger is done, and why.
  static void Complete(TriggerRecord& t, std::string reason) {
    t.status = TriggerStatus::kCompleted;
    t.status_reason = std::move(reason);
    t.next_due_ms.reset();
  }

  // Moves a time trigger's next_due_ms past `after_ms`, completing it when its schedule or
  // end_at or max_runs says so.
  static void Advance(const Entry& e, TriggerRecord& t, int64_t after_ms) {
    if (t.spec.max_runs != 0 && t.runs >= t.spec.max_runs) return Complete(t, "max_runs reached");
    auto next = NextAfter(e, after_ms);
    if (!next) return Complete(t, "the schedule has no more times");
    if (t.spec.end_at_ms && *next > *t.spec.end_at_ms) return Complete(t, "end_at passed");
    t.next_due_ms = next;
  }

  RunRecord NewRun(const TriggerRecord& t, std::string id, int64_t scheduled_ms, std::string context, bool catch_up,
                   int64_t now) const {
    RunRecord r;
    r.id = std::move(id);
    r.trigger_id = t.id;
    r.account = t.account;
    r.status = RunStatus::kPending;
    r.scheduled_at_ms = scheduled_ms;
    r.recorded_at_ms = now;
    r.context_json = std::move(context);
    r.catch_up = catch_up;
    return r;
  }

  // Records `run` and counts it on `t`; false when some process recorded it already.
  StatusOr<bool> Record(store::Transaction& tx, TriggerRecord& t, const RunRecord& run) {
    ASSIGN_OR_RETURN(bool inserted, triggers.InsertRun(tx, run));
    if (inserted) {
      ++t.runs;
      t.last_fired_at_ms = run.scheduled_at_ms;
    }
    return inserted;
  }

  void Arm(const TriggerRecord& t) {
    const std::string timer = TimerId(kTimePrefix, t.id);
    if (t.status == TriggerStatus::kActive && t.next_due_ms) {
      timers.Schedule(timer, *t.next_due_ms);
    } else {
      timers.Cancel(timer);
    }
  }

  // ---- time triggers ----

  void OnTimers(std::vector<DueTimer> due) {
    std::vector<DueTimer> time;
    for (auto& d : due) {
      if (d.id.starts_with(kRetryPrefix)) {
        Dispatch(d.id.substr(kRetryPrefix.size()));
      } else if (d.id.starts_with(kTimePrefix)) {
        time.push_back(std::move(d));
      }
    }
    if (!time.empty()) FireTime(time);
  }

  void FireTime(const std::vector<DueTimer>& due) {
    const int64_t now = clock.NowUnixMillis();
    std::vector<TriggerRecord> after;  // the triggers as committed, to arm
    std::vector<std::string> runs;
    Status s = store::RunInTransaction(store, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
      after.clear();
      runs.clear();
      for (const DueTimer& d : due) {
        const std::string id = d.id.substr(kTimePrefix.size());
        auto e = Find(id);
        if (!e) continue;  // deleted, paused or completed since
        auto t = triggers.Get(tx, id);
        if (!t.ok()) {
          if (t.status().code() == StatusCode::kNotFound) continue;
          return t.status();
        }
        if (t->status != TriggerStatus::kActive || !t->next_due_ms) continue;
        if (*t->next_due_ms != d.due_ms) {  // a stale timer: the row knows the real next time
          after.push_back(*std::move(t));
          continue;
        }
        RunRecord run = NewRun(*t, TimeRunId(id, d.due_ms), d.due_ms, TimeContextJson(d.due_ms), false, now);
        ASSIGN_OR_RETURN(bool inserted, Record(tx, *t, run));
        if (inserted) runs.push_back(run.id);
        Advance(*e, *t, d.due_ms);
        t->updated_at_ms = now;
        RETURN_IF_ERROR(triggers.UpdateState(tx, *t));
        after.push_back(*std::move(t));
      }
      return Status::Ok();
    });
    if (!s.ok()) {
      // Nothing was recorded: the same timers again shortly (a firing is late, never lost).
      log::Warn("automation: recording firings failed; retrying", {{"error", s.ToString()}, {"timers", due.size()}});
      for (const DueTimer& d : due) timers.Schedule(d.id, now + 1000);
      return;
    }
    fired += runs.size();
    if (!runs.empty()) CrashPoint("automation.fire.after_record");
    for (const TriggerRecord& t : after) {
      Arm(t);
      if (t.status == TriggerStatus::kCompleted) Unindex(t.id);
    }
    for (const std::string& run : runs) Dispatch(run);
  }

  // ---- running actions ----

  void Dispatch(std::string run_id) {
    {
      std::lock_guard lock(idle_mu);
      ++in_flight;
      ++dispatched[run_id];
    }
    workers->Submit([this, run_id = std::move(run_id)] {
      Execute(run_id);
      std::lock_guard lock(idle_mu);
      if (auto it = dispatched.find(run_id); it != dispatched.end() && --it->second == 0) dispatched.erase(it);
      if (--in_flight == 0) idle_cv.notify_all();
    });
  }

  bool IsDispatched(const std::string& run_id) const {
    std::lock_guard lock(idle_mu);
    return dispatched.contains(run_id);
  }

  void Execute(const std::string& run_id) {
    auto run = triggers.GetRun(run_id);
    if (!run.ok()) {
      if (run.status().code() != StatusCode::kNotFound) {
        log::Warn("automation: reading a run failed", {{"run", run_id}, {"error", run.status().ToString()}});
      }
      return;  // NOT_FOUND: its trigger was deleted
    }
    // Running: an attempt has started (and, being asked again, would start another: a contract
    // call's next attempt is a new transaction). Only Resume, at Start, may run such a run again.
    if (IsFinal(run->status) || run->status == RunStatus::kRunning) return;
    auto trigger = triggers.Get(run->account, run->trigger_id);
    if (!trigger.ok()) return;
    // The attempt is recorded as running before the action starts: a crash from here on leaves
    // a run that a restart will not repeat unless repeating is safe.
    const uint32_t attempt = run->attempts + 1;
    run->status = RunStatus::kRunning;
    run->attempts = attempt;
    run->next_attempt_at_ms.reset();
    Status s = store::RunInTransaction(store, store::TxMode::kWrite,
                                       [&](store::Transaction& tx) { return triggers.UpdateRun(tx, *run); });
    if (!s.ok()) {
      // Nothing started: the same attempt again in a second (a firing is late, never lost).
      log::Warn("automation: starting a run failed; trying again", {{"run", run_id}, {"error", s.ToString()}});
      timers.Schedule(TimerId(kRetryPrefix, run_id), clock.NowUnixMillis() + 1000);
      return;
    }
    if (attempt > 1) ++retried;
    CrashPoint("automation.action.before_run");
    const ActionOutcome outcome = actions.Run(*trigger, *run, attempt);
    Finish(*trigger, *std::move(run), outcome);
  }

  // Records the outcome of the run's current attempt.
  void Finish(const TriggerRecord& trigger, RunRecord run, const ActionOutcome& out) {
    const int64_t now = clock.NowUnixMillis();
    if (!out.execution_id.empty()) run.execution_id = out.execution_id;
    if (!out.tx_hash.empty()) run.tx_hash = out.tx_hash;
    if (out.http_status != 0) run.http_status = out.http_status;
    bool retry = false;
    switch (out.kind) {
      case ActionOutcome::Kind::kPending:
        run.status = RunStatus::kRunning;  // the outbox tells the end (OnTransaction)
        break;
      case ActionOutcome::Kind::kSucceeded:
        run.status = RunStatus::kSucceeded;
        run.finished_at_ms = now;
        run.error.clear();
        break;
      case ActionOutcome::Kind::kFailed:
        run.error = out.error;
        if (out.retryable && run.attempts < trigger.spec.retry.max_attempts) {
          retry = true;
          run.status = RunStatus::kRetrying;
          run.next_attempt_at_ms = now + trigger.spec.retry.BackoffAfter(run.attempts);
        } else {
          run.status = RunStatus::kFailed;
          run.finished_at_ms = now;
        }
        break;
    }
    Status s = store::RunInTransaction(store, store::TxMode::kWrite,
                                       [&](store::Transaction& tx) { return triggers.UpdateRun(tx, run); });
    if (!s.ok()) {
      log::Warn("automation: recording a run's outcome failed", {{"run", run.id}, {"error", s.ToString()}});
      return;
    }
    if (run.status == RunStatus::kSucceeded) ++succeeded;
    if (run.status == RunStatus::kFailed) ++failed;
    if (retry) timers.Schedule(TimerId(kRetryPrefix, run.id), *run.next_attempt_at_ms);
    if (IsFinal(run.status)) {
      std::lock_guard lock(listener_mu);
      if (on_run_end) on_run_end(run);
    }
  }

  // ---- Start: catch-up and resumption ----

  Status CatchUp(TriggerRecord& t, const Entry& e, int64_t now, std::vector<std::string>* runs) {
    if (!t.next_due_ms || *t.next_due_ms > now) return Status::Ok();
    const int64_t first_missed = *t.next_due_ms;
    return store::RunInTransaction(store, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
      ASSIGN_OR_RETURN(TriggerRecord fresh, triggers.Get(tx, t.id));
      if (fresh.next_due_ms != t.next_due_ms || fresh.status != TriggerStatus::kActive) {
        t = std::move(fresh);  // someone else moved it on
        return Status::Ok();
      }
      t = std::move(fresh);
      size_t recorded = 0;
      auto fire = [&](int64_t at) -> Status {
        RunRecord run = NewRun(t, TimeRunId(t.id, at), at, TimeContextJson(at), true, now);
        ASSIGN_OR_RETURN(bool inserted, Record(tx, t, run));
        if (inserted) runs->push_back(run.id);
        ++recorded;
        return Status::Ok();
      };
      const bool in_window = !t.spec.end_at_ms || first_missed <= *t.spec.end_at_ms;
      switch (t.spec.catch_up) {
        case CatchUp::kSkip: break;
        case CatchUp::kOnce:
          if (in_window) {
            int64_t latest = LatestAtOrBefore(e, first_missed, now);
            if (t.spec.end_at_ms && latest > *t.spec.end_at_ms) latest = first_missed;
            RETURN_IF_ERROR(fire(latest));
          }
          break;
        case CatchUp::kAll:
          for (std::optional<int64_t> at = first_missed;
               at && *at <= now && recorded < opts.max_catch_up && (!t.spec.end_at_ms || *at <= *t.spec.end_at_ms) &&
               (t.spec.max_runs == 0 || t.runs < t.spec.max_runs);
               at = NextAfter(e, *at)) {
            RETURN_IF_ERROR(fire(*at));
          }
          break;
      }
      Advance(e, t, now);
      t.updated_at_ms = now;
      return triggers.UpdateState(tx, t);
    });
  }

  Status Resume(const RunRecord& run, std::vector<std::string>* runs) {
    switch (run.status) {
      case RunStatus::kPending: runs->push_back(run.id); return Status::Ok();
      case RunStatus::kRetrying:
        timers.Schedule(TimerId(kRetryPrefix, run.id), run.next_attempt_at_ms.value_or(clock.NowUnixMillis()));
        return Status::Ok();
      case RunStatus::kRunning: {
        auto t = triggers.Get(run.account, run.trigger_id);
        if (t.ok() && ActionRunner::SafeToResume(t->spec.action)) {
          // The same attempt again: a contract call finds its outbox item and hold by its key.
          RunRecord again = run;
          again.status = RunStatus::kPending;
          again.attempts = run.attempts > 0 ? run.attempts - 1 : 0;
          RETURN_IF_ERROR(store::RunInTransaction(
              store, store::TxMode::kWrite, [&](store::Transaction& tx) { return triggers.UpdateRun(tx, again); }));
          runs->push_back(run.id);
          return Status::Ok();
        }
        RunRecord failed_run = run;
        failed_run.status = RunStatus::kFailed;
        failed_run.finished_at_ms = clock.NowUnixMillis();
        failed_run.error =
            "interrupted by a restart while its action ran; not repeated, since the action may have taken effect";
        ++failed;
        return store::RunInTransaction(store, store::TxMode::kWrite,
                                       [&](store::Transaction& tx) { return triggers.UpdateRun(tx, failed_run); });
      }
      case RunStatus::kSucceeded:
      case RunStatus::kFailed: return Status::Ok();
    }
    return Status::Ok();
  }

  // ---- chain and price triggers ----

  // Whether a firing that a backlog block (or a price tick right after Start) would record is to
  // be recorded, by the trigger's catch_up policy.
  bool CatchUpAllows(const TriggerRecord& t, std::set<std::string>* once_fired) {
    switch (t.spec.catch_up) {
      case CatchUp::kSkip: return false;
      case CatchUp::kAll: return true;
      case CatchUp::kOnce: {
        std::lock_guard lock(mu);
        if (chain_caught_up.count(t.id) || once_fired->count(t.id)) return false;
        once_fired->insert(t.id);
        return true;
      }
    }
    return false;
  }

  // Completion rules shared by chain and price triggers after a firing at `at_ms`.
  static void AfterEventFiring(TriggerRecord& t) {
    if (t.spec.max_runs != 0 && t.runs >= t.spec.max_runs) Complete(t, "max_runs reached");
  }
};

}  // namespace neosl::automation
