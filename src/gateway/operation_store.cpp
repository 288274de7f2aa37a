#include "gateway/operation_store.h"

#include <utility>

#include "store/page_token.h"

namespace neosl::gateway {
namespace {

constexpr std::string_view kColumns =
    "id, account_id, kind, state, request_json, http_status, result_json, error_json, webhook_url, owner, attempts, "
    "created_at_ms, updated_at_ms, started_at_ms, finished_at_ms, webhook_state, webhook_attempts, "
    "webhook_first_at_ms, webhook_next_at_ms";

StatusOr<OperationRecord> ReadOperation(const store::Row& row) {
  OperationRecord op;
  ASSIGN_OR_RETURN(op.id, row.Text(0));
  ASSIGN_OR_RETURN(op.account, row.Text(1));
  ASSIGN_OR_RETURN(op.kind, row.Text(2));
  ASSIGN_OR_RETURN(std::string state, row.Text(3));
  ASSIGN_OR_RETURN(op.state, ParseOperationState(state));
  ASSIGN_OR_RETURN(op.request_json, row.Text(4));
  ASSIGN_OR_RETURN(int64_t status, row.Int(5));
  op.http_status = static_cast<int>(status);
  ASSIGN_OR_RETURN(op.result_json, row.Text(6));
  ASSIGN_OR_RETURN(op.error_json, row.Text(7));
  ASSIGN_OR_RETURN(op.webhook_url, row.Text(8));
  ASSIGN_OR_RETURN(op.owner, row.Text(9));
  ASSIGN_OR_RETURN(op.attempts, row.Int(10));
  ASSIGN_OR_RETURN(op.created_at_ms, row.Int(11));
  ASSIGN_OR_RETURN(op.updated_at_ms, row.Int(12));
  ASSIGN_OR_RETURN(op.started_at_ms, row.OptionalInt(13));
  ASSIGN_OR_RETURN(op.finished_at_ms, row.OptionalInt(14));
  ASSIGN_OR_RETURN(op.webhook_state, row.Text(15));
  ASSIGN_OR_RETURN(op.webhook_attempts, row.Int(16));
  ASSIGN_OR_RETURN(op.webhook_first_at_ms, row.OptionalInt(17));
  ASSIGN_OR_RETURN(op.webhook_next_at_ms, row.OptionalInt(18));
  return op;
}

StatusOr<std::vector<OperationRecord>> ReadOperations(const std::vector<store::Row>& rows) {
  std::vector<OperationRecord> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    ASSIGN_OR_RETURN(OperationRecord op, ReadOperation(row));
    out.push_back(std::move(op));
  }
  return out;
}

// The end of an operation makes its webhook's delivery due at once (one parameter: now).
constexpr std::string_view kDeliveryDue =
    "webhook_state = CASE WHEN webhook_url = '' THEN '' ELSE 'pending' END, "
    "webhook_next_at_ms = CASE WHEN webhook_url = '' THEN NULL ELSE ? END";

Status NotFound(const std::string& id) {
  return NotFoundError("operation " + id + " not found");
}

StatusOr<OperationRecord> GetIn(store::Transaction& tx, const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT " + std::string(kColumns) + " FROM operations WHERE id = ?", {id}));
  if (rows.empty()) return NotFound(id);
  return ReadOperation(rows[0]);
}

}  // namespace

std::string_view OperationStateName(OperationState state) {
  switch (state) {
    case OperationState::kPending: return "pending";
    case OperationState::kRunning: return "running";
    case OperationState::kSucceeded: return "succeeded";
    case OperationState::kFailed: return "failed";
    case OperationState::kCancelled: return "cancelled";
  }
  return "pending";
}

StatusOr<OperationState> ParseOperationState(std::string_view name) {
  for (OperationState s : {OperationState::kPending, OperationState::kRunning, OperationState::kSucceeded,
                           OperationState::kFailed, OperationState::kCancelled}) {
    if (OperationStateName(s) == name) return s;
  }
  return DataLossError("unknown operation state '" + std::string(name) + "'");
}

Status OperationStore::Insert(OperationRecord& op) {
  op.created_at_ms = op.updated_at_ms = clock_.NowUnixMillis();
  op.state = OperationState::kPending;
  return store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    return tx
        .Exec(
            "INSERT INTO operations (id, account_id, kind, state, request_json, http_status, result_json, "
            "error_json, webhook_url, owner, attempts, created_at_ms, updated_at_ms) "
            "VALUES (?, ?, ?, 'pending', ?, 0, '', '', ?, ?, 0, ?, ?)",
            {op.id, op.account, op.kind, op.request_json, op.webhook_url, op.owner, op.created_at_ms, op.updated_at_ms})
        .status();
  });
}

StatusOr<OperationRecord> OperationStore::Get(const std::string& account, const std::string& id) {
  ASSIGN_OR_RETURN(auto rows,
                   store_.Query("SELECT " + std::string(kColumns) + " FROM operations WHERE id = ? AND account_id = ?",
                                {id, account}));
  if (rows.empty()) return NotFound(id);
  return ReadOperation(rows[0]);
}

StatusOr<OperationRecord> OperationStore::Get(const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, store_.Query("SELECT " + std::string(kColumns) + " FROM operations WHERE id = ?", {id}));
  if (rows.empty()) return NotFound(id);
  return ReadOperation(rows[0]);
}

StatusOr<std::vector<OperationRecord>> OperationStore::List(const std::string& account, size_t limit,
                                                            const std::string& token, std::string* next_token) {
  if (limit < 1 || limit > 100) return FieldViolationError("limit", "limit must be 1 to 100");
  std::string sql = "SELECT " + std::string(kColumns) + " FROM operations WHERE account_id = ?";
  store::Params params{account};
  if (!token.empty()) {
    ASSIGN_OR_RETURN(auto after, store::ParseTimeIdPageToken(token));
    sql += " AND (created_at_ms < ? OR (created_at_ms = ? AND id < ?))";
    params.insert(params.end(), {after.first, after.first, after.second});
  }
  sql += " ORDER BY created_at_ms DESC, id DESC LIMIT ?";
  params.emplace_back(static_cast<int64_t>(limit + 1));
  ASSIGN_OR_RETURN(auto rows, store_.Query(sql, params));
  std::vector<OperationRecord> out;
  for (size_t i = 0; i < rows.size() && i < limit; ++i) {
    ASSIGN_OR_RETURN(OperationRecord op, ReadOperation(rows[i]));
    out.push_back(std::move(op));
  }
  next_token->clear();
  if (rows.size() > limit) *next_token = store::TimeIdPageToken(out.back().created_at_ms, out.back().id);
  return out;
}

StatusOr<OperationRecord> OperationStore::Begin(const std::string& id) {
  OperationRecord op;
  RETURN_IF_ERROR(store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(op, GetIn(tx, id));
    if (op.state != OperationState::kPending) {
      return FailedPreconditionError("operation " + id + " is " + std::string(OperationStateName(op.state)));
    }
    const int64_t now = clock_.NowUnixMillis();
    op.state = OperationState::kRunning;
    op.attempts += 1;
    op.started_at_ms = now;
    op.updated_at_ms = now;
    return tx
        .Exec(
            "UPDATE operations SET state = 'running', attempts = ?, started_at_ms = ?, updated_at_ms = ? "
            "WHERE id = ? AND state = 'pending'",
            {op.attempts, now, now, id})
        .status();
  }));
  return op;
}

Status OperationStore::Finish(const std::string& id, OperationState state, int http_status,
                              const std::string& result_json, const std::string& error_json) {
  if (state != OperationState::kSucceeded && state != OperationState::kFailed) {
    return InternalError("an operation finishes succeeded or failed");
  }
  return store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    const int64_t now = clock_.NowUnixMillis();
    ASSIGN_OR_RETURN(int64_t changed,
                     tx.Exec("UPDATE operations SET state = ?, http_status = ?, result_json = ?, error_json = ?, "
                             "finished_at_ms = ?, updated_at_ms = ?, " +
                                 std::string(kDeliveryDue) + " WHERE id = ? AND state = 'running'",
                             {std::string(OperationStateName(state)), int64_t{http_status}, result_json, error_json,
                              now, now, now, id}));
    if (changed == 0) return FailedPreconditionError("operation " + id + " is not running");
    return Status::Ok();
  });
}

StatusOr<OperationRecord> OperationStore::Cancel(const std::string& account, const std::string& id,
                                                 const std::string& error_json) {
  OperationRecord op;
  RETURN_IF_ERROR(store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(op, GetIn(tx, id));
    if (op.account != account) return NotFound(id);
    if (op.state == OperationState::kCancelled) return Status::Ok();
    if (op.state != OperationState::kPending) {
      return FailedPreconditionError("operation " + id + " is " + std::string(OperationStateName(op.state)) +
                                     ": only a pending operation can be cancelled");
    }
    const int64_t now = clock_.NowUnixMillis();
    op.state = OperationState::kCancelled;
    op.http_status = HttpStatusFor(StatusCode::kCancelled);
    op.error_json = error_json;
    op.finished_at_ms = now;
    op.updated_at_ms = now;
    return tx
        .Exec(
            "UPDATE operations SET state = 'cancelled', http_status = ?, error_json = ?, finished_at_ms = ?, "
            "updated_at_ms = ?, " +
                std::string(kDeliveryDue) + " WHERE id = ? AND state = 'pending'",
            {int64_t{op.http_status}, error_json, now, now, now, id})
        .status();
  }));
  return op;
}

Status OperationStore::Requeue(const std::string& id) {
  return store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    return tx
        .Exec("UPDATE operations SET state = 'pending', updated_at_ms = ? WHERE id = ? AND state = 'running'",
              {clock_.NowUnixMillis(), id})
        .status();
  });
}

StatusOr<std::vector<OperationRecord>> OperationStore::Unfinished(const std::string& owner) {
  ASSIGN_OR_RETURN(auto rows, store_.Query("SELECT " + std::string(kColumns) +
                                               " FROM operations WHERE state IN ('pending', 'running') AND owner = ? "
                                               "ORDER BY created_at_ms, id",
                                           {owner}));
  return ReadOperations(rows);
}

StatusOr<std::vector<OperationRecord>> OperationStore::PendingDeliveries(const std::string& owner, size_t limit) {
  ASSIGN_OR_RETURN(auto rows, store_.Query("SELECT " + std::string(kColumns) +
                                               " FROM operations WHERE webhook_state = 'pending' AND owner = ? "
                                               "ORDER BY webhook_next_at_ms, id LIMIT ?",
                                           {owner, static_cast<int64_t>(limit)}));
  return ReadOperations(rows);
}

Status OperationStore::RecordDelivery(const std::string& id, const DeliveryAttempt& attempt,
                                      std::string_view next_state, std::optional<int64_t> next_at_ms) {
  return store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    RETURN_IF_ERROR(
        tx.Exec("INSERT INTO operation_deliveries (operation_id, attempt, at_ms, http_status, error, "
                "duration_ms) VALUES (?, ?, ?, ?, ?, ?)",
                {id, attempt.attempt, attempt.at_ms, int64_t{attempt.http_status}, attempt.error, attempt.duration_ms})
            .status());
    ASSIGN_OR_RETURN(
        int64_t changed,
        tx.Exec("UPDATE operations SET webhook_state = ?, webhook_attempts = ?, webhook_next_at_ms = ?, "
                "webhook_first_at_ms = COALESCE(webhook_first_at_ms, ?), updated_at_ms = ? "
                "WHERE id = ? AND webhook_state = 'pending'",
                {std::string(next_state), attempt.attempt, next_at_ms ? store::Value(*next_at_ms) : store::Null(),
                 attempt.at_ms, clock_.NowUnixMillis(), id}));
    if (changed == 0) return FailedPreconditionError("operation " + id + " has no delivery pending");
    return Status::Ok();
  });
}

StatusOr<std::vector<DeliveryAttempt>> OperationStore::Deliveries(const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, store_.Query("SELECT attempt, at_ms, http_status, error, duration_ms FROM "
                                           "operation_deliveries WHERE operation_id = ? ORDER BY attempt",
                                           {id}));
  std::vector<DeliveryAttempt> out;
  for (const auto& row : rows) {
    DeliveryAttempt a;
    ASSIGN_OR_RETURN(a.attempt, row.Int(0));
    ASSIGN_OR_RETURN(a.at_ms, row.Int(1));
    ASSIGN_OR_RETURN(int64_t status, row.Int(2));
    a.http_status = static_cast<int>(status);
    ASSIGN_OR_RETURN(a.error, row.Text(3));
    ASSIGN_OR_RETURN(a.duration_ms, row.Int(4));
    out.push_back(std::move(a));
  }
  return out;
}

StatusOr<std::vector<OperationRecord>> OperationStore::FinishedAfter(const std::string& account, int64_t after_ms,
                                                                     const std::string& after_id, size_t limit) {
  ASSIGN_OR_RETURN(auto rows,
                   store_.Query("SELECT " + std::string(kColumns) +
                                    " FROM operations WHERE account_id = ? AND finished_at_ms IS NOT NULL AND "
                                    "(finished_at_ms > ? OR (finished_at_ms = ? AND id > ?)) "
                                    "ORDER BY finished_at_ms, id LIMIT ?",
                                {account, after_ms, after_ms, after_id, static_cast<int64_t>(limit)}));
  return ReadOperations(rows);
}

Status OperationStore::Heartbeat(const std::string& owner) {
  return store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    return tx
        .Exec(
            "INSERT INTO operation_owners (owner, seen_at_ms) VALUES (?, ?) "
            "ON CONFLICT (owner) DO UPDATE SET seen_at_ms = excluded.seen_at_ms",
            {owner, clock_.NowUnixMillis()})
        .status();
  });
}

StatusOr<std::vector<std::string>> OperationStore::SilentOwners(const std::string& me, int64_t before_ms) {
  ASSIGN_OR_RETURN(auto rows, store_.Query("SELECT owner FROM operation_owners WHERE seen_at_ms < ? AND owner <> ? "
                                           "ORDER BY seen_at_ms LIMIT 16",
                                           {before_ms, me}));
  std::vector<std::string> out;
  for (const auto& row : rows) {
    ASSIGN_OR_RETURN(std::string owner, row.Text(0));
    out.push_back(std::move(owner));
  }
  return out;
}

StatusOr<std::vector<OperationRecord>> OperationStore::Adopt(const std::string& me, const std::string& gone,
                                                             int64_t before_ms) {
  std::vector<OperationRecord> adopted;
  RETURN_IF_ERROR(store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    adopted.clear();
    ASSIGN_OR_RETURN(int64_t forgotten,
                     tx.Exec("DELETE FROM operation_owners WHERE owner = ? AND seen_at_ms < ?", {gone, before_ms}));
    if (forgotten == 0) return Status::Ok();  // adopted by another, or alive again
    ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT " + std::string(kColumns) +
                                             " FROM operations WHERE state IN ('pending', 'running') AND owner = ? "
                                             "ORDER BY created_at_ms, id",
                                         {gone}));
    ASSIGN_OR_RETURN(adopted, ReadOperations(rows));
    for (OperationRecord& op : adopted) op.owner = me;
    return tx
        .Exec(
            "UPDATE operations SET owner = ?, updated_at_ms = ? WHERE owner = ? AND "
            "(state IN ('pending', 'running') OR webhook_state = 'pending')",
            {me, clock_.NowUnixMillis(), gone})
        .status();
  }));
  return adopted;
}

}  // namespace neosl::gateway
