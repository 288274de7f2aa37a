// Triggers and runs in the store (migration 12: automation_triggers, automation_runs).
//
// A run's primary key is its deterministic id (trigger.h, TimeRunId …): recording a firing is an
// INSERT that does nothing when the id is already there, so a firing is recorded at most once
// however many processes or restarts try — the "at most once per replica set" of issue #13.
// Recording a firing and advancing its trigger (runs, next_due_ms, state_json, status) happen in
// one transaction, so a firing is never lost between the two either.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "services/automation/trigger.h"
#include "store/store.h"

namespace neosl::automation {

struct Page {
  size_t limit = 50;
  std::string token;  // opaque; "" for the first page
};

class TriggerStore {
 public:
  explicit TriggerStore(store::Store& store) : store_(store) {}

  // ---- triggers ----
  Status Insert(store::Transaction& tx, const TriggerRecord& t);
  // NOT_FOUND "trigger <id> not found" when absent or of another account (never tells which).
  StatusOr<TriggerRecord> Get(const std::string& account, const std::string& id);
  StatusOr<TriggerRecord> Get(store::Transaction& tx, const std::string& id);  // any account
  // Newest first.
  StatusOr<std::vector<TriggerRecord>> List(const std::string& account, const Page& page, std::string* next_token);
  // Every trigger that is active (the engine's start).
  StatusOr<std::vector<TriggerRecord>> Active();
  StatusOr<size_t> CountForAccount(store::Transaction& tx, const std::string& account);
  // Writes status, status_reason, runs, next_due_ms, last_fired_at_ms, state_json, updated_at_ms.
  Status UpdateState(store::Transaction& tx, const TriggerRecord& t);
  // Deletes the trigger and its runs; false when it was not there.
  StatusOr<bool> Delete(store::Transaction& tx, const std::string& id);

  // ---- runs ----
  // Inserts `run` unless its id exists; true when inserted.
  StatusOr<bool> InsertRun(store::Transaction& tx, const RunRecord& run);
  Status UpdateRun(store::Transaction& tx, const RunRecord& run);
  StatusOr<RunRecord> GetRun(const std::string& run_id);
  // Newest (by scheduled time, then id) first.
  StatusOr<std::vector<RunRecord>> ListRuns(const std::string& trigger_id, const Page& page, std::string* next_token);
  // Runs not final (pending, running, retrying): what a restart must resume or fail.
  StatusOr<std::vector<RunRecord>> Unfinished();

  store::Store& store() { return store_; }

 private:
  store::Store& store_;
};

}  // namespace neosl::automation
