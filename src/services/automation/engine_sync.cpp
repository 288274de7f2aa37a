// The engine catching up with other replicas' API changes (Engine::Sync, engine.h).
#include <string>
#include <unordered_set>
#include <vector>

#include "core/log.h"
#include "services/automation/engine.h"
#include "services/automation/engine_internal.h"

namespace neosl::automation {

Status Engine::Sync() {
  Impl& m = *impl_;
  std::lock_guard api(m.api_mu);  // this replica's own API changes wait; firings go on
  ASSIGN_OR_RETURN(std::vector<store::Row> rows,
                   m.store.Query("SELECT id FROM automation_triggers WHERE status = 'active'"));
  std::unordered_set<std::string> active;
  active.reserve(rows.size());
  for (const store::Row& row : rows) {
    ASSIGN_OR_RETURN(std::string id, row.Text(0));
    active.insert(std::move(id));
  }
  std::vector<std::string> added;
  std::vector<std::string> dropped;
  {
    std::lock_guard lock(m.mu);
    for (const std::string& id : active) {
      if (!m.entries.contains(id)) added.push_back(id);
    }
    for (const auto& [id, entry] : m.entries) {
      if (!active.contains(id)) dropped.push_back(id);
    }
  }
  for (const std::string& id : dropped) {
    // Paused, deleted or completed elsewhere (a trigger this engine completed has left the
    // index already). A firing already recorded still runs: it was decided before the change.
    m.Unindex(id);
    m.timers.Cancel(TimerId(kTimePrefix, id));
  }
  size_t indexed = 0;
  for (const std::string& id : added) {
    TriggerRecord t;
    Status read = store::RunInTransaction(m.store, store::TxMode::kRead, [&](store::Transaction& tx) -> Status {
      ASSIGN_OR_RETURN(t, m.triggers.Get(tx, id));
      return Status();
    });
    if (read.code() == StatusCode::kNotFound) continue;  // deleted since the query
    RETURN_IF_ERROR(read);
    if (t.status != TriggerStatus::kActive) continue;
    auto entry = m.MakeEntry(t);
    if (!entry.ok()) {
      log::Warn("automation: a trigger cannot be scheduled", {{"trigger", id}, {"error", entry.status().ToString()}});
      continue;
    }
    // The replica that made or resumed it computed next_due_ms; time triggers fire from it.
    m.Index(*entry);
    m.Arm(t);
    ++indexed;
  }
  // Manual runs another replica's API recorded (RunNow there does not dispatch: its engine is not
  // started). A pending run this engine has queued already is left alone; one it has started is
  // no longer pending, and Execute refuses to start a run twice either way.
  ASSIGN_OR_RETURN(std::vector<store::Row> pending,
                   m.store.Query("SELECT id FROM automation_runs WHERE status = 'pending'"));
  size_t manual = 0;
  {
    std::lock_guard lock(m.mu);  // Stop waits: the workers stay while runs are dispatched
    for (const store::Row& row : pending) {
      ASSIGN_OR_RETURN(std::string id, row.Text(0));
      if (!IsManualRunId(id) || m.IsDispatched(id) || !m.started || m.stopped) continue;
      m.Dispatch(std::move(id));
      ++manual;
    }
  }
  if (indexed > 0 || !dropped.empty() || manual > 0) {
    log::Info("automation: picked up other replicas' changes",
              {{"indexed", indexed}, {"dropped", dropped.size()}, {"manual_runs", manual}});
  }
  return Status();
}

}  // namespace neosl::automation
