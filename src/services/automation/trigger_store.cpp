#include "services/automation/trigger_store.h"

#include <utility>

#include "store/page_token.h"

namespace neosl::automation {
namespace {

constexpr std::string_view kTriggerColumns =
    "id, account_id, spec_json, status, status_reason, runs, next_due_ms, last_fired_at_ms, state_json, "
    "created_at_ms, updated_at_ms";

constexpr std::string_view kRunColumns =
    "id, trigger_id, account_id, status, scheduled_at_ms, recorded_at_ms, finished_at_ms, attempts, "
    "next_attempt_at_ms, context_json, catch_up, execution_id, tx_hash, http_status, error";

store::Value OptionalValue(const std::optional<int64_t>& v) {
  return v ? store::Value(*v) : store::Null();
}

StatusOr<TriggerRecord> ReadTrigger(const store::Row& row) {
  TriggerRecord t;
  ASSIGN_OR_RETURN(t.id, row.Text(0));
  ASSIGN_OR_RETURN(t.account, row.Text(1));
  ASSIGN_OR_RETURN(std::string spec_json, row.Text(2));
  auto spec = SpecFromJson(spec_json);
  if (!spec.ok()) {
    return DataLossError("trigger " + t.id + " has an unreadable spec: " + std::string(spec.status().message()));
  }
  t.spec = *std::move(spec);
  ASSIGN_OR_RETURN(std::string status, row.Text(3));
  ASSIGN_OR_RETURN(t.status, ParseTriggerStatus(status));
  ASSIGN_OR_RETURN(t.status_reason, row.Text(4));
  ASSIGN_OR_RETURN(int64_t runs, row.Int(5));
  t.runs = static_cast<uint64_t>(runs);
  ASSIGN_OR_RETURN(t.next_due_ms, row.OptionalInt(6));
  ASSIGN_OR_RETURN(t.last_fired_at_ms, row.OptionalInt(7));
  ASSIGN_OR_RETURN(t.state_json, row.Text(8));
  ASSIGN_OR_RETURN(t.created_at_ms, row.Int(9));
  ASSIGN_OR_RETURN(t.updated_at_ms, row.Int(10));
  return t;
}

StatusOr<RunRecord> ReadRun(const store::Row& row) {
  RunRecord r;
  ASSIGN_OR_RETURN(r.id, row.Text(0));
  ASSIGN_OR_RETURN(r.trigger_id, row.Text(1));
  ASSIGN_OR_RETURN(r.account, row.Text(2));
  ASSIGN_OR_RETURN(std::string status, row.Text(3));
  ASSIGN_OR_RETURN(r.status, ParseRunStatus(status));
  ASSIGN_OR_RETURN(r.scheduled_at_ms, row.Int(4));
  ASSIGN_OR_RETURN(r.recorded_at_ms, row.Int(5));
  ASSIGN_OR_RETURN(r.finished_at_ms, row.OptionalInt(6));
  ASSIGN_OR_RETURN(int64_t attempts, row.Int(7));
  r.attempts = static_cast<uint32_t>(attempts);
  ASSIGN_OR_RETURN(r.next_attempt_at_ms, row.OptionalInt(8));
  ASSIGN_OR_RETURN(r.context_json, row.Text(9));
  ASSIGN_OR_RETURN(int64_t catch_up, row.Int(10));
  r.catch_up = catch_up != 0;
  ASSIGN_OR_RETURN(r.execution_id, row.Text(11));
  ASSIGN_OR_RETURN(r.tx_hash, row.Text(12));
  ASSIGN_OR_RETURN(int64_t http_status, row.Int(13));
  r.http_status = static_cast<int32_t>(http_status);
  ASSIGN_OR_RETURN(r.error, row.Text(14));
  return r;
}

Status CheckLimit(const Page& page) {
  if (page.limit == 0 || page.limit > 1000) return InternalError("page limit out of range");
  return Status::Ok();
}

}  // namespace

Status TriggerStore::Insert(store::Transaction& tx, const TriggerRecord& t) {
  return tx
      .Exec(
          "INSERT INTO automation_triggers (id, account_id, name, kind, spec_json, status, status_reason, runs, "
          "next_due_ms, last_fired_at_ms, state_json, created_at_ms, updated_at_ms) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {t.id, t.account, t.spec.name, std::string(TriggerKindName(t.spec.kind())), SpecToJson(t.spec),
           std::string(TriggerStatusName(t.status)), t.status_reason, static_cast<int64_t>(t.runs),
           OptionalValue(t.next_due_ms), OptionalValue(t.last_fired_at_ms), t.state_json, t.created_at_ms,
           t.updated_at_ms})
      .status();
}

StatusOr<TriggerRecord> TriggerStore::Get(const std::string& account, const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, store_.Query("SELECT " + std::string(kTriggerColumns) +
                                               " FROM automation_triggers WHERE id = ? AND account_id = ?",
                                           {id, account}));
  if (rows.empty()) {
    return NotFoundError("trigger " + id + " not found")
        .WithDetail(ErrorDetail{"ResourceInfo", {}}.Add("resource_type", "trigger").Add("resource_name", id));
  }
  return ReadTrigger(rows[0]);
}

StatusOr<TriggerRecord> TriggerStore::Get(store::Transaction& tx, const std::string& id) {
  ASSIGN_OR_RETURN(
      auto row,
      tx.QueryOptional("SELECT " + std::string(kTriggerColumns) + " FROM automation_triggers WHERE id = ?", {id}));
  if (!row) return NotFoundError("trigger " + id + " not found");
  return ReadTrigger(*row);
}

StatusOr<std::vector<TriggerRecord>> TriggerStore::List(const std::string& account, const Page& page,
                                                        std::string* next_token) {
  RETURN_IF_ERROR(CheckLimit(page));
  std::string sql = "SELECT " + std::string(kTriggerColumns) + " FROM automation_triggers WHERE account_id = ?";
  store::Params params{account};
  if (!page.token.empty()) {
    ASSIGN_OR_RETURN(auto after, store::ParseTimeIdPageToken(page.token));
    sql += " AND (created_at_ms < ? OR (created_at_ms = ? AND id < ?))";
    params.insert(params.end(), {after.first, after.first, after.second});
  }
  sql += " ORDER BY created_at_ms DESC, id DESC LIMIT ?";
  params.emplace_back(static_cast<int64_t>(page.limit + 1));
  ASSIGN_OR_RETURN(auto rows, store_.Query(sql, params));
  std::vector<TriggerRecord> out;
  for (size_t i = 0; i < rows.size() && i < page.limit; ++i) {
    ASSIGN_OR_RETURN(TriggerRecord t, ReadTrigger(rows[i]));
    out.push_back(std::move(t));
  }
  next_token->clear();
  if (rows.size() > page.limit) *next_token = store::TimeIdPageToken(out.back().created_at_ms, out.back().id);
  return out;
}

StatusOr<std::vector<TriggerRecord>> TriggerStore::Active() {
  ASSIGN_OR_RETURN(auto rows, store_.Query("SELECT " + std::string(kTriggerColumns) +
                                           " FROM automation_triggers WHERE status = 'active' ORDER BY id"));
  std::vector<TriggerRecord> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    ASSIGN_OR_RETURN(TriggerRecord t, ReadTrigger(row));
    out.push_back(std::move(t));
  }
  return out;
}

StatusOr<size_t> TriggerStore::CountForAccount(store::Transaction& tx, const std::string& account) {
  ASSIGN_OR_RETURN(auto row, tx.QueryOne("SELECT COUNT(*) FROM automation_triggers WHERE account_id = ?", {account}));
  ASSIGN_OR_RETURN(int64_t n, row.Int(0));
  return static_cast<size_t>(n);
}

Status TriggerStore::UpdateState(store::Transaction& tx, const TriggerRecord& t) {
  ASSIGN_OR_RETURN(
      int64_t changed,
      tx.Exec("UPDATE automation_triggers SET status = ?, status_reason = ?, runs = ?, next_due_ms = ?, "
              "last_fired_at_ms = ?, state_json = ?, updated_at_ms = ? WHERE id = ?",
              {std::string(TriggerStatusName(t.status)), t.status_reason, static_cast<int64_t>(t.runs),
               OptionalValue(t.next_due_ms), OptionalValue(t.last_fired_at_ms), t.state_json, t.updated_at_ms, t.id}));
  if (changed == 0) return NotFoundError("trigger " + t.id + " not found");
  return Status::Ok();
}

StatusOr<bool> TriggerStore::Delete(store::Transaction& tx, const std::string& id) {
  RETURN_IF_ERROR(tx.Exec("DELETE FROM automation_runs WHERE trigger_id = ?", {id}).status());
  ASSIGN_OR_RETURN(int64_t changed, tx.Exec("DELETE FROM automation_triggers WHERE id = ?", {id}));
  return changed != 0;
}

StatusOr<bool> TriggerStore::InsertRun(store::Transaction& tx, const RunRecord& r) {
  ASSIGN_OR_RETURN(int64_t inserted,
                   tx.Exec("INSERT INTO automation_runs (" + std::string(kRunColumns) +
                               ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                           {r.id, r.trigger_id, r.account, std::string(RunStatusName(r.status)), r.scheduled_at_ms,
                            r.recorded_at_ms, OptionalValue(r.finished_at_ms), static_cast<int64_t>(r.attempts),
                            OptionalValue(r.next_attempt_at_ms), r.context_json, int64_t{r.catch_up ? 1 : 0},
                            r.execution_id, r.tx_hash, int64_t{r.http_status}, r.error}));
  return inserted != 0;
}

Status TriggerStore::UpdateRun(store::Transaction& tx, const RunRecord& r) {
  ASSIGN_OR_RETURN(
      int64_t changed,
      tx.Exec("UPDATE automation_runs SET status = ?, finished_at_ms = ?, attempts = ?, "
              "next_attempt_at_ms = ?, execution_id = ?, tx_hash = ?, http_status = ?, error = ? "
              "WHERE id = ?",
              {std::string(RunStatusName(r.status)), OptionalValue(r.finished_at_ms), static_cast<int64_t>(r.attempts),
               OptionalValue(r.next_attempt_at_ms), r.execution_id, r.tx_hash, int64_t{r.http_status}, r.error, r.id}));
  if (changed == 0) return NotFoundError("run " + r.id + " not found");
  return Status::Ok();
}

StatusOr<RunRecord> TriggerStore::GetRun(const std::string& run_id) {
  ASSIGN_OR_RETURN(auto rows,
                   store_.Query("SELECT " + std::string(kRunColumns) + " FROM automation_runs WHERE id = ?", {run_id}));
  if (rows.empty()) return NotFoundError("run " + run_id + " not found");
  return ReadRun(rows[0]);
}

StatusOr<std::vector<RunRecord>> TriggerStore::ListRuns(const std::string& trigger_id, const Page& page,
                                                        std::string* next_token) {
  RETURN_IF_ERROR(CheckLimit(page));
  std::string sql = "SELECT " + std::string(kRunColumns) + " FROM automation_runs WHERE trigger_id = ?";
  store::Params params{trigger_id};
  if (!page.token.empty()) {
    ASSIGN_OR_RETURN(auto after, store::ParseTimeIdPageToken(page.token));
    sql += " AND (scheduled_at_ms < ? OR (scheduled_at_ms = ? AND id < ?))";
    params.insert(params.end(), {after.first, after.first, after.second});
  }
  sql += " ORDER BY scheduled_at_ms DESC, id DESC LIMIT ?";
  params.emplace_back(static_cast<int64_t>(page.limit + 1));
  ASSIGN_OR_RETURN(auto rows, store_.Query(sql, params));
  std::vector<RunRecord> out;
  for (size_t i = 0; i < rows.size() && i < page.limit; ++i) {
    ASSIGN_OR_RETURN(RunRecord r, ReadRun(rows[i]));
    out.push_back(std::move(r));
  }
  next_token->clear();
  if (rows.size() > page.limit) *next_token = store::TimeIdPageToken(out.back().scheduled_at_ms, out.back().id);
  return out;
}

StatusOr<std::vector<RunRecord>> TriggerStore::Unfinished() {
  ASSIGN_OR_RETURN(auto rows, store_.Query("SELECT " + std::string(kRunColumns) +
                                           " FROM automation_runs WHERE status IN ('pending', 'running', 'retrying') "
                                           "ORDER BY scheduled_at_ms, id"));
  std::vector<RunRecord> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    ASSIGN_OR_RETURN(RunRecord r, ReadRun(row));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace neosl::automation
