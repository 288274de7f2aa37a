#include "services/automation/engine.h"

#include <algorithm>
#include <utility>

#include "core/business_metrics.h"
#include "core/ids.h"
#include "core/log.h"
#include "services/automation/engine_internal.h"

namespace neosl::automation {

using engine_internal::kTriggerIdChars;

namespace {
// Manual runs of one trigger asked for in the same millisecond (ManualRunId) take the next ones.
constexpr int64_t kMaxManualIdTries = 16;
}  // namespace

// ---- Engine ----

Engine::Engine(EngineOptions options, store::Store& store, ActionRunner& actions, const Clock& clock,
               RandomSource& random)
    : impl_(std::make_unique<Impl>(std::move(options), store, actions, clock, random)) {}

Engine::~Engine() {
  Stop();
}

Status Engine::Start() {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    if (m.started) return FailedPreconditionError("the automation engine was already started");
    m.started = true;
  }
  if (m.opts.threads == 0) return InvalidArgumentError("automation.threads must be at least 1");
  m.workers = std::make_unique<WorkQueue>(m.opts.threads, SIZE_MAX);

  const int64_t now = m.clock.NowUnixMillis();
  ASSIGN_OR_RETURN(std::vector<TriggerRecord> active, m.triggers.Active());
  std::vector<std::string> runs;
  size_t broken = 0;
  for (TriggerRecord& t : active) {
    auto e = m.MakeEntry(t);
    if (!e.ok()) {  // a zone file removed since, say: the trigger cannot be scheduled
      ++broken;
      log::Warn("automation: a trigger cannot be scheduled", {{"trigger", t.id}, {"error", e.status().ToString()}});
      continue;
    }
    if ((*e)->cron || std::holds_alternative<IntervalCondition>(t.spec.condition)) {
      RETURN_IF_ERROR(m.CatchUp(t, **e, now, &runs));
      if (t.status != TriggerStatus::kActive) continue;
      m.Index(*e);
      m.Arm(t);
    } else {
      m.Index(*e);
    }
  }
  m.fired += runs.size();  // catch-up firings
  ASSIGN_OR_RETURN(std::vector<RunRecord> unfinished, m.triggers.Unfinished());
  for (const RunRecord& r : unfinished) {
    if (std::find(runs.begin(), runs.end(), r.id) != runs.end()) continue;  // just caught up
    RETURN_IF_ERROR(m.Resume(r, &runs));
  }
  m.timers.Start();
  metrics::Automation().WatchEngine(this, [&m] {
    return metrics::AutomationMetrics::EngineCounts{m.fired, m.succeeded, m.failed, m.retried};
  });
  for (std::string& r : runs) m.Dispatch(std::move(r));
  log::Info("automation engine running", {{"triggers", active.size() - broken},
                                          {"timers", m.timers.size()},
                                          {"resumed_runs", unfinished.size()},
                                          {"threads", m.opts.threads}});
  return Status::Ok();
}

void Engine::Stop() {
  metrics::Automation().UnwatchEngine(this);
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    if (!m.started || m.stopped) return;
    m.stopped = true;
  }
  m.timers.Stop();
  m.workers.reset();  // runs what is queued, then joins
}

StatusOr<TriggerRecord> Engine::Create(const std::string& account, TriggerSpec spec, bool paused) {
  Impl& m = *impl_;
  std::lock_guard api(m.api_mu);
  const int64_t now = m.clock.NowUnixMillis();
  TriggerRecord t;
  t.id = GenerateId("tg_", kTriggerIdChars, m.random);
  t.account = account;
  t.spec = std::move(spec);
  t.status = paused ? TriggerStatus::kPaused : TriggerStatus::kActive;
  t.created_at_ms = now;
  t.updated_at_ms = now;
  ASSIGN_OR_RETURN(auto entry, m.MakeEntry(t));
  const bool timed = entry->cron || std::holds_alternative<IntervalCondition>(t.spec.condition);
  if (timed && !paused) {
    if (const auto* c = std::get_if<IntervalCondition>(&t.spec.condition); c && c->start_at_ms > now) {
      t.next_due_ms = c->start_at_ms;
      if (t.spec.end_at_ms && *t.next_due_ms > *t.spec.end_at_ms) Impl::Complete(t, "end_at passed");
    } else {
      Impl::Advance(*entry, t, now);
    }
    if (t.status == TriggerStatus::kCompleted) {
      return FailedPreconditionError("the trigger would never fire: " + t.status_reason);
    }
  }
  RETURN_IF_ERROR(store::RunInTransaction(m.store, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(size_t count, m.triggers.CountForAccount(tx, account));
    if (count >= m.opts.max_triggers_per_account) {
      return ResourceExhaustedError("the account has " + std::to_string(count) + " triggers, the most allowed (" +
                                    std::to_string(m.opts.max_triggers_per_account) + "); delete some first");
    }
    return m.triggers.Insert(tx, t);
  }));
  if (!paused) {
    m.Index(entry);
    m.Arm(t);
  }
  log::Info("trigger created", {{"trigger", t.id},
                                {"account", account},
                                {"kind", TriggerKindName(t.spec.kind())},
                                {"action", ActionKindName(t.spec.action)},
                                {"status", TriggerStatusName(t.status)}});
  return t;
}

StatusOr<TriggerRecord> Engine::Pause(const std::string& account, const std::string& id) {
  Impl& m = *impl_;
  std::lock_guard api(m.api_mu);
  ASSIGN_OR_RETURN(TriggerRecord t, m.triggers.Get(account, id));
  if (t.status != TriggerStatus::kActive) return t;  // paused already, or completed: nothing to do
  const int64_t now = m.clock.NowUnixMillis();
  RETURN_IF_ERROR(store::RunInTransaction(m.store, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(t, m.triggers.Get(tx, id));
    if (t.status != TriggerStatus::kActive) return Status::Ok();
    t.status = TriggerStatus::kPaused;
    t.next_due_ms.reset();
    t.updated_at_ms = now;
    return m.triggers.UpdateState(tx, t);
  }));
  m.Unindex(id);
  m.Arm(t);
  log::Info("trigger paused", {{"trigger", id}, {"account", account}});
  return t;
}

StatusOr<TriggerRecord> Engine::Resume(const std::string& account, const std::string& id) {
  Impl& m = *impl_;
  std::lock_guard api(m.api_mu);
  ASSIGN_OR_RETURN(TriggerRecord t, m.triggers.Get(account, id));
  if (t.status == TriggerStatus::kCompleted) {
    return FailedPreconditionError("trigger " + id + " is completed (" + t.status_reason + "); create a new one");
  }
  if (t.status == TriggerStatus::kActive) return t;
  ASSIGN_OR_RETURN(auto entry, m.MakeEntry(t));
  const int64_t now = m.clock.NowUnixMillis();
  const bool timed = entry->cron || std::holds_alternative<IntervalCondition>(t.spec.condition);
  RETURN_IF_ERROR(store::RunInTransaction(m.store, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(t, m.triggers.Get(tx, id));
    if (t.status != TriggerStatus::kPaused) return Status::Ok();
    t.status = TriggerStatus::kActive;
    t.status_reason.clear();
    if (timed) {
      const auto* c = std::get_if<IntervalCondition>(&t.spec.condition);
      if (c && c->start_at_ms > now) {
        t.next_due_ms = c->start_at_ms;
      } else {
        Impl::Advance(*entry, t, now);
      }
    } else if (t.spec.end_at_ms && *t.spec.end_at_ms < now) {
      Impl::Complete(t, "end_at passed");
    }
    // A price trigger starts afresh: what the price did while paused does not fire it.
    if (std::holds_alternative<PriceCondition>(t.spec.condition)) t.state_json.clear();
    t.updated_at_ms = now;
    return m.triggers.UpdateState(tx, t);
  }));
  if (t.status == TriggerStatus::kActive) {
    m.Index(entry);
    m.Arm(t);
  }
  log::Info("trigger resumed", {{"trigger", id}, {"account", account}, {"status", TriggerStatusName(t.status)}});
  return t;
}

StatusOr<TriggerRecord> Engine::Delete(const std::string& account, const std::string& id) {
  Impl& m = *impl_;
  std::lock_guard api(m.api_mu);
  ASSIGN_OR_RETURN(TriggerRecord t, m.triggers.Get(account, id));
  RETURN_IF_ERROR(store::RunInTransaction(m.store, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    return m.triggers.Delete(tx, id).status();
  }));
  m.Unindex(id);
  m.timers.Cancel(TimerId(kTimePrefix, id));
  log::Info("trigger deleted", {{"trigger", id}, {"account", account}});
  return t;
}

StatusOr<RunRecord> Engine::RunNow(const std::string& account, const std::string& id) {
  Impl& m = *impl_;
  std::lock_guard api(m.api_mu);
  ASSIGN_OR_RETURN(TriggerRecord t, m.triggers.Get(account, id));
  const int64_t now = m.clock.NowUnixMillis();
  RunRecord run;
  RETURN_IF_ERROR(store::RunInTransaction(m.store, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(t, m.triggers.Get(tx, id));  // deleted since: NOT_FOUND
    if (t.status == TriggerStatus::kCompleted) {
      return FailedPreconditionError("trigger " + id + " is completed (" + t.status_reason + "); create a new one");
    }
    // Another replica's API may have taken this millisecond: the id moves on, the time stays.
    for (int64_t at = now; at < now + kMaxManualIdTries; ++at) {
      run = m.NewRun(t, ManualRunId(id, at), now, ManualContextJson(now), /*catch_up=*/false, now);
      ASSIGN_OR_RETURN(bool inserted, m.triggers.InsertRun(tx, run));
      if (inserted) return Status::Ok();
    }
    return AbortedError("trigger " + id + " was run many times this very millisecond; try again");
  }));
  ++m.fired;
  bool dispatched = false;
  {
    // Held while dispatching so that Stop cannot take the workers away in between.
    std::lock_guard lock(m.mu);
    if (m.started && !m.stopped) {
      m.Dispatch(run.id);
      dispatched = true;
    }
  }
  log::Info("trigger run manually", {{"trigger", id},
                                     {"account", account},
                                     {"run", run.id},
                                     {"action", ActionKindName(t.spec.action)},
                                     {"here", dispatched}});
  return run;
}

void Engine::SetRunEndListener(std::function<void(const RunRecord&)> listener) {
  std::lock_guard lock(impl_->listener_mu);
  impl_->on_run_end = std::move(listener);
}

std::vector<std::string> Engine::PricePairs() const {
  std::lock_guard lock(impl_->mu);
  std::vector<std::string> pairs;
  for (const auto& [pair, ids] : impl_->price_triggers) pairs.push_back(pair);
  return pairs;
}

void Engine::Wake() {
  impl_->timers.Wake();
}

void Engine::WaitIdle() {
  std::unique_lock lock(impl_->idle_mu);
  impl_->idle_cv.wait(lock, [&] { return impl_->in_flight == 0; });
}

EngineStats Engine::stats() const {
  const Impl& m = *impl_;
  EngineStats s;
  s.fired = m.fired.load();
  s.succeeded = m.succeeded.load();
  s.failed = m.failed.load();
  s.retried = m.retried.load();
  s.timers = m.timers.size();
  {
    std::lock_guard lock(m.idle_mu);
    s.queued = m.in_flight;
  }
  return s;
}

}  // namespace neosl::automation
