// The engine's chain and price triggers, and the end of contract runs' transactions (engine.h).
#include <set>
#include <utility>

#include "core/log.h"
#include "services/automation/engine.h"
#include "services/automation/engine_internal.h"

namespace neosl::automation {

Status Engine::RecordBlock(store::Transaction& tx, const ChainBlock& block) {
  Impl& m = *impl_;
  const int64_t now = m.clock.NowUnixMillis();
  const uint32_t height = block.block.index;
  const int64_t block_ms = static_cast<int64_t>(block.block.time_ms);
  std::vector<std::pair<std::shared_ptr<const Entry>, const neo::NotificationEvent*>> candidates;
  {
    std::lock_guard lock(m.mu);
    for (const std::string& id : m.block_triggers) {
      auto it = m.entries.find(id);
      if (it != m.entries.end() && BlockFires(std::get<BlockCondition>(it->second->spec.condition), height)) {
        candidates.emplace_back(it->second, nullptr);
      }
    }
    for (const neo::NotificationEvent& n : block.notifications) {
      auto ids = m.event_triggers.find(n.notification.contract.ToString());
      if (ids == m.event_triggers.end()) continue;
      for (const std::string& id : ids->second) {
        const auto& e = m.entries.at(id);
        if (EventFires(std::get<EventCondition>(e->spec.condition), n)) candidates.emplace_back(e, &n);
      }
    }
  }
  Impl::BlockOutcome outcome;
  std::set<std::string> once_fired;
  for (const auto& [e, n] : candidates) {
    auto t = m.triggers.Get(tx, e->id);
    if (!t.ok()) {
      if (t.status().code() == StatusCode::kNotFound) continue;
      return t.status();
    }
    if (t->status != TriggerStatus::kActive) continue;
    if (t->spec.end_at_ms && block_ms > *t->spec.end_at_ms) {
      Impl::Complete(*t, "end_at passed");
    } else if (!block.backlog || m.CatchUpAllows(*t, &once_fired)) {
      RunRecord run = n == nullptr ? m.NewRun(*t, BlockRunId(t->id, height), block_ms, BlockContextJson(block.block),
                                              block.backlog, now)
                                   : m.NewRun(*t, EventRunId(t->id, n->container.ToString(), n->index), block_ms,
                                              EventContextJson(*n), block.backlog, now);
      ASSIGN_OR_RETURN(bool inserted, m.Record(tx, *t, run));
      if (inserted) outcome.runs.push_back(run.id);
      Impl::AfterEventFiring(*t);
    }
    if (n == nullptr && std::get<BlockCondition>(t->spec.condition).at && t->status == TriggerStatus::kActive) {
      Impl::Complete(*t, "its block fired");
    }
    if (t->status == TriggerStatus::kCompleted) outcome.completed.push_back(t->id);
    t->updated_at_ms = now;
    RETURN_IF_ERROR(m.triggers.UpdateState(tx, *t));
  }
  // A retried block's transaction replaces what its failed attempt staged.
  outcome.caught_up = std::move(once_fired);
  std::lock_guard lock(m.mu);
  m.block_outcomes[height] = std::move(outcome);
  return Status::Ok();
}

void Engine::AfterBlock(const ChainBlock& block) {
  Impl& m = *impl_;
  Impl::BlockOutcome outcome;
  {
    std::lock_guard lock(m.mu);
    auto it = m.block_outcomes.find(block.block.index);
    if (it == m.block_outcomes.end()) return;
    outcome = std::move(it->second);
    m.block_outcomes.erase(it);
    m.chain_caught_up.insert(outcome.caught_up.begin(), outcome.caught_up.end());
  }
  for (const std::string& id : outcome.completed) m.Unindex(id);
  m.fired += outcome.runs.size();
  for (std::string& run : outcome.runs) m.Dispatch(std::move(run));
}

void Engine::OnPrice(const PriceTick& tick) {
  Impl& m = *impl_;
  std::vector<std::shared_ptr<const Entry>> candidates;
  {
    std::lock_guard lock(m.mu);
    auto ids = m.price_triggers.find(tick.pair);
    if (ids == m.price_triggers.end()) return;
    for (const std::string& id : ids->second) candidates.push_back(m.entries.at(id));
  }
  const int64_t now = m.clock.NowUnixMillis();
  std::vector<std::string> runs;
  std::vector<std::string> completed;
  std::vector<std::string> seen;
  Status s = store::RunInTransaction(m.store, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    runs.clear();
    completed.clear();
    seen.clear();
    for (const auto& e : candidates) {
      auto t = m.triggers.Get(tx, e->id);
      if (!t.ok()) {
        if (t.status().code() == StatusCode::kNotFound) continue;
        return t.status();
      }
      if (t->status != TriggerStatus::kActive) continue;
      auto prev = PriceStateFromJson(t->state_json);
      if (!prev.ok()) prev = PriceState{};
      PriceDecision d = EvaluatePrice(std::get<PriceCondition>(t->spec.condition), *prev, tick);
      bool first_since_start = false;
      {
        std::lock_guard lock(m.mu);
        first_since_start = !m.price_seen.count(t->id);
      }
      seen.push_back(t->id);
      // A crossing that happened while the service was down shows on the first tick after
      // Start; catch_up skip does not fire it.
      const bool missed = first_since_start && !t->state_json.empty();
      bool fire = d.fire && (!missed || t->spec.catch_up != CatchUp::kSkip);
      if (fire && t->spec.end_at_ms && tick.timestamp_ms > *t->spec.end_at_ms) {
        Impl::Complete(*t, "end_at passed");
        fire = false;
      }
      t->state_json = PriceStateToJson(d.next);
      if (fire) {
        RunRecord run =
            m.NewRun(*t, PriceRunId(t->id, tick.pair, tick.round), tick.timestamp_ms, d.context_json, missed, now);
        ASSIGN_OR_RETURN(bool inserted, m.Record(tx, *t, run));
        if (inserted) runs.push_back(run.id);
        Impl::AfterEventFiring(*t);
      }
      if (t->status == TriggerStatus::kCompleted) completed.push_back(t->id);
      t->updated_at_ms = now;
      RETURN_IF_ERROR(m.triggers.UpdateState(tx, *t));
    }
    return Status::Ok();
  });
  if (!s.ok()) {
    log::Warn("automation: recording a price firing failed", {{"pair", tick.pair}, {"error", s.ToString()}});
    return;
  }
  {
    std::lock_guard lock(m.mu);
    for (const std::string& id : seen) m.price_seen.insert(id);
  }
  for (const std::string& id : completed) m.Unindex(id);
  m.fired += runs.size();
  for (std::string& run : runs) m.Dispatch(std::move(run));
}

void Engine::OnTransaction(const chain_tx::OutboxRecord& record) {
  Impl& m = *impl_;
  m.actions.SettleTransaction(record);
  // "automation:<run id>" or "automation:<run id>#<attempt>".
  std::string run_id = record.key.substr(record.key.find(':') + 1);
  if (auto hash = run_id.rfind('#'); hash != std::string::npos && run_id.find(':', hash) == std::string::npos) {
    run_id.resize(hash);
  }
  auto run = m.triggers.GetRun(run_id);
  if (!run.ok() || IsFinal(run->status)) return;
  auto trigger = m.triggers.Get(run->account, run->trigger_id);
  if (!trigger.ok()) return;
  m.Finish(*trigger, *std::move(run), OutcomeOf(record));
}

}  // namespace neosl::automation
