#include "services/functions/function_store.h"

#include <algorithm>
#include <utility>

#include <boost/json.hpp>

namespace neosl::services::functions {
namespace {

namespace json = boost::json;

template <size_t N>
StatusOr<std::array<uint8_t, N>> Fixed(const store::Row& row, size_t i, std::string_view what) {
  ASSIGN_OR_RETURN(store::Blob blob, row.Bytes(i));
  if (blob.size() != N)
    return InternalError("stored " + std::string(what) + " has " + std::to_string(blob.size()) + " bytes");
  std::array<uint8_t, N> out{};
  std::copy(blob.begin(), blob.end(), out.begin());
  return out;
}

template <size_t N>
store::Blob ToBlob(const std::array<uint8_t, N>& a) {
  return store::Blob(a.begin(), a.end());
}

std::string SecretsJson(const std::vector<std::string>& names) {
  json::array a;
  for (const auto& n : names) a.emplace_back(n);
  return json::serialize(a);
}

StatusOr<std::vector<std::string>> SecretsFromJson(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) return InternalError("stored secrets list is not a JSON array");
  std::vector<std::string> out;
  for (const auto& n : v.as_array()) {
    if (!n.is_string()) return InternalError("stored secrets list holds a non-string");
    out.emplace_back(n.as_string());
  }
  return out;
}

std::string LogsJson(const std::vector<runtime::LogLine>& logs) {
  json::array a;
  for (const auto& l : logs)
    a.emplace_back(json::object{{"at_ms", l.at_ms}, {"level", l.level}, {"message", l.message}});
  return json::serialize(a);
}

StatusOr<std::vector<runtime::LogLine>> LogsFromJson(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) return InternalError("stored logs are not a JSON array");
  std::vector<runtime::LogLine> out;
  for (const auto& e : v.as_array()) {
    const json::object* o = e.if_object();
    if (!o) return InternalError("stored log line is not an object");
    runtime::LogLine line;
    if (auto* at = o->if_contains("at_ms"); at && at->is_int64()) line.at_ms = at->as_int64();
    if (auto* level = o->if_contains("level"); level && level->is_string()) line.level = level->as_string();
    if (auto* m = o->if_contains("message"); m && m->is_string()) line.message = m->as_string();
    out.push_back(std::move(line));
  }
  return out;
}

// Columns of a function joined with one of its versions, in the order ReadFunction expects.
constexpr std::string_view kFunctionColumns =
    "f.id, f.account_id, f.name, f.current_version, f.created_at_ms, v.version, v.source_hash, v.secrets, "
    "v.timeout_ms, v.memory_mb, v.description, v.created_at_ms";

StatusOr<FunctionRecord> ReadFunction(const store::Row& row) {
  FunctionRecord f;
  ASSIGN_OR_RETURN(f.id, row.Text(0));
  ASSIGN_OR_RETURN(f.account, row.Text(1));
  ASSIGN_OR_RETURN(f.name, row.Text(2));
  ASSIGN_OR_RETURN(int64_t current, row.Int(3));
  f.current_version = uint32_t(current);
  ASSIGN_OR_RETURN(f.created_at_ms, row.Int(4));
  ASSIGN_OR_RETURN(int64_t version, row.Int(5));
  f.version.version = uint32_t(version);
  ASSIGN_OR_RETURN(f.version.source_hash, Fixed<32>(row, 6, "source hash"));
  ASSIGN_OR_RETURN(std::string secrets, row.Text(7));
  ASSIGN_OR_RETURN(f.version.secrets, SecretsFromJson(secrets));
  ASSIGN_OR_RETURN(int64_t timeout_ms, row.Int(8));
  ASSIGN_OR_RETURN(int64_t memory_mb, row.Int(9));
  f.version.limits.timeout = std::chrono::milliseconds(timeout_ms);
  f.version.limits.memory_bytes = size_t(memory_mb) << 20;
  ASSIGN_OR_RETURN(f.version.description, row.Text(10));
  ASSIGN_OR_RETURN(f.version.created_at_ms, row.Int(11));
  return f;
}

Status InsertVersion(store::Transaction& tx, const std::string& id, const FunctionVersion& v) {
  return tx
      .Exec(
          "INSERT INTO function_versions (function_id, version, source, source_hash, secrets, timeout_ms, "
          "memory_mb, description, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {id, int64_t(v.version), v.source, ToBlob(v.source_hash), SecretsJson(v.secrets),
           int64_t(v.limits.timeout.count()), int64_t(v.limits.memory_bytes >> 20), v.description, v.created_at_ms})
      .status();
}

Status QuotaAndName(store::Transaction& tx, const std::string& account, const std::string& name,
                    int64_t max_per_account) {
  ASSIGN_OR_RETURN(auto taken,
                   tx.QueryOptional("SELECT id FROM functions WHERE account_id = ? AND name = ?", {account, name}));
  if (taken) {
    return AlreadyExistsError("a function named '" + name + "' exists in this account")
        .WithDetail(ErrorDetail{"ResourceInfo", {}}.Add("resource_type", "function").Add("resource_name", name));
  }
  ASSIGN_OR_RETURN(auto count, tx.QueryOne("SELECT COUNT(*) FROM functions WHERE account_id = ?", {account}));
  ASSIGN_OR_RETURN(int64_t n, count.Int(0));
  if (n >= max_per_account) {
    return ResourceExhaustedError("this account has " + std::to_string(n) + " functions, the most it may keep")
        .WithDetail(ErrorDetail{"QuotaFailure", {}}.Add("limit", max_per_account).Add("resource", "functions"));
  }
  return Status();
}

constexpr std::string_view kExecutionSummaryColumns =
    "id, account_id, function_id, seq, version, trigger_kind, status, error_code, error_message, error_line, "
    "error_column, logs_truncated, started_at_ms, duration_us, cold, source_hash, args_hash, result_hash, "
    "signature, signing_key";
constexpr std::string_view kExecutionDetailColumns = ", result_json, error_json, error_stack, logs, args_json";

StatusOr<ExecutionRecord> ReadExecution(const store::Row& row, bool full) {
  ExecutionRecord e;
  ASSIGN_OR_RETURN(e.id, row.Text(0));
  ASSIGN_OR_RETURN(e.account, row.Text(1));
  ASSIGN_OR_RETURN(e.function_id, row.Text(2));
  ASSIGN_OR_RETURN(e.seq, row.Int(3));
  ASSIGN_OR_RETURN(int64_t version, row.Int(4));
  e.version = uint32_t(version);
  ASSIGN_OR_RETURN(e.trigger, row.Text(5));
  ASSIGN_OR_RETURN(std::string status, row.Text(6));
  e.succeeded = status == "succeeded";
  ASSIGN_OR_RETURN(e.error_code, row.Text(7));
  ASSIGN_OR_RETURN(e.error.message, row.Text(8));
  ASSIGN_OR_RETURN(int64_t line, row.Int(9));
  ASSIGN_OR_RETURN(int64_t column, row.Int(10));
  e.error.line = int(line);
  e.error.column = int(column);
  ASSIGN_OR_RETURN(int64_t truncated, row.Int(11));
  e.logs_truncated = truncated != 0;
  ASSIGN_OR_RETURN(e.started_at_ms, row.Int(12));
  ASSIGN_OR_RETURN(e.duration_us, row.Int(13));
  ASSIGN_OR_RETURN(int64_t cold, row.Int(14));
  e.cold = cold != 0;
  ASSIGN_OR_RETURN(e.source_hash, Fixed<32>(row, 15, "source hash"));
  ASSIGN_OR_RETURN(e.args_hash, Fixed<32>(row, 16, "args hash"));
  ASSIGN_OR_RETURN(e.result_hash, Fixed<32>(row, 17, "result hash"));
  ASSIGN_OR_RETURN(e.signature, Fixed<64>(row, 18, "signature"));
  ASSIGN_OR_RETURN(e.signing_key, row.Bytes(19));
  if (full) {
    ASSIGN_OR_RETURN(e.result_json, row.Text(20));
    ASSIGN_OR_RETURN(e.error_json, row.Text(21));
    ASSIGN_OR_RETURN(e.error.stack, row.Text(22));
    ASSIGN_OR_RETURN(std::string logs, row.Text(23));
    ASSIGN_OR_RETURN(e.logs, LogsFromJson(logs));
    ASSIGN_OR_RETURN(e.args_json, row.Text(24));
  }
  return e;
}

}  // namespace

Status FunctionStore::CheckCreate(const std::string& account, const std::string& name, int64_t max_per_account) {
  return store::RunInTransaction(store_, store::TxMode::kRead, [&](store::Transaction& tx) {
    return QuotaAndName(tx, account, name, max_per_account);
  });
}

Status FunctionStore::Create(const FunctionRecord& f, int64_t max_per_account) {
  return store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    RETURN_IF_ERROR(QuotaAndName(tx, f.account, f.name, max_per_account));
    RETURN_IF_ERROR(
        tx.Exec("INSERT INTO functions (id, account_id, name, current_version, execution_seq, "
                "created_at_ms) VALUES (?, ?, ?, ?, 0, ?)",
                {f.id, f.account, f.name, int64_t(f.version.version), f.created_at_ms}));
    return InsertVersion(tx, f.id, f.version);
  });
}

StatusOr<FunctionRecord> FunctionStore::Get(const std::string& account, const std::string& id, uint32_t version) {
  std::string sql = "SELECT " + std::string(kFunctionColumns) +
                    ", v.source FROM functions f JOIN function_versions v ON v.function_id = f.id AND v.version = " +
                    (version == 0 ? "f.current_version" : "?") + " WHERE f.id = ? AND f.account_id = ?";
  store::Params params;
  if (version != 0) params.emplace_back(int64_t(version));
  params.emplace_back(id);
  params.emplace_back(account);
  ASSIGN_OR_RETURN(auto rows, store_.Query(sql, params));
  if (rows.empty()) {
    if (version != 0) {
      ASSIGN_OR_RETURN(auto exists, store_.Query("SELECT current_version FROM functions WHERE id = ? AND "
                                                 "account_id = ?",
                                                 {id, account}));
      if (!exists.empty()) {
        return NotFoundError("function " + id + " has no version " + std::to_string(version))
            .WithDetail(ErrorDetail{"ResourceInfo", {}}
                            .Add("resource_type", "function_version")
                            .Add("resource_name", id + "@" + std::to_string(version)));
      }
    }
    return NotFoundError("no function " + id)
        .WithDetail(ErrorDetail{"ResourceInfo", {}}.Add("resource_type", "function").Add("resource_name", id));
  }
  ASSIGN_OR_RETURN(FunctionRecord f, ReadFunction(rows[0]));
  ASSIGN_OR_RETURN(f.version.source, rows[0].Text(12));
  return f;
}

Status FunctionStore::AddVersion(const std::string& account, const std::string& id, const FunctionVersion& version) {
  return store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto row, tx.QueryOptional("SELECT current_version FROM functions WHERE id = ? AND account_id = ?",
                                                {id, account}));
    if (!row) return NotFoundError("no function " + id);
    ASSIGN_OR_RETURN(int64_t current, row->Int(0));
    if (current + 1 != int64_t(version.version)) {
      return AbortedError("function " + id + " was updated meanwhile (now version " + std::to_string(current) +
                          "); retry");
    }
    RETURN_IF_ERROR(InsertVersion(tx, id, version));
    return tx
        .Exec("UPDATE functions SET current_version = ? WHERE id = ? AND account_id = ?",
              {int64_t(version.version), id, account})
        .status();
  });
}

Status FunctionStore::Delete(const std::string& account, const std::string& id) {
  return store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(int64_t n, tx.Exec("DELETE FROM functions WHERE id = ? AND account_id = ?", {id, account}));
    if (n == 0) return NotFoundError("no function " + id);
    RETURN_IF_ERROR(tx.Exec("DELETE FROM function_versions WHERE function_id = ?", {id}).status());
    return tx.Exec("DELETE FROM executions WHERE function_id = ? AND account_id = ?", {id, account}).status();
  });
}

StatusOr<std::vector<FunctionRecord>> FunctionStore::List(const std::string& account, const std::string& after_name,
                                                          int limit) {
  ASSIGN_OR_RETURN(auto rows, store_.Query("SELECT " + std::string(kFunctionColumns) +
                                               " FROM functions f JOIN function_versions v ON v.function_id = f.id "
                                               "AND v.version = f.current_version WHERE f.account_id = ? AND "
                                               "f.name > ? ORDER BY f.name LIMIT ?",
                                           {account, after_name, int64_t(limit)}));
  std::vector<FunctionRecord> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    ASSIGN_OR_RETURN(FunctionRecord f, ReadFunction(row));
    out.push_back(std::move(f));
  }
  return out;
}

namespace {

// One execution inside a write transaction. `*result` is the execution's own outcome: NOT_FOUND
// (and nothing written) if its function is gone. The return value is the transaction's.
Status InsertExecution(store::Transaction& tx, ExecutionRecord& e, int64_t max_kept, Status* result) {
  // The counter row serialises concurrent executions of one function on every backend.
  ASSIGN_OR_RETURN(auto rows, tx.Query("UPDATE functions SET execution_seq = execution_seq + 1 WHERE id = ? AND "
                                       "account_id = ? RETURNING execution_seq",
                                       {e.function_id, e.account}));
  if (rows.empty()) {
    *result = NotFoundError("function " + e.function_id + " was deleted while it ran");
    return Status();
  }
  ASSIGN_OR_RETURN(e.seq, rows[0].Int(0));
  RETURN_IF_ERROR(
      tx.Exec("INSERT INTO executions (id, account_id, function_id, seq, version, trigger_kind, status, "
              "result_json, error_json, error_code, error_message, error_line, error_column, error_stack, logs, "
              "logs_truncated, started_at_ms, duration_us, cold, args_json, source_hash, args_hash, result_hash, "
              "signature, signing_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
              "?, ?, ?)",
              {e.id,
               e.account,
               e.function_id,
               e.seq,
               int64_t(e.version),
               e.trigger,
               std::string(e.succeeded ? "succeeded" : "failed"),
               e.result_json,
               e.error_json,
               e.error_code,
               e.error.message,
               int64_t(e.error.line),
               int64_t(e.error.column),
               e.error.stack,
               LogsJson(e.logs),
               int64_t(e.logs_truncated ? 1 : 0),
               e.started_at_ms,
               e.duration_us,
               int64_t(e.cold ? 1 : 0),
               e.args_json,
               ToBlob(e.source_hash),
               ToBlob(e.args_hash),
               ToBlob(e.result_hash),
               ToBlob(e.signature),
               store::Blob(e.signing_key)})
          .status());
  // Storage stays bounded: only the newest `max_kept` of each function are kept. Each execution
  // pushes exactly one out, deleted by its key: a range `seq <= n` on every insert would walk the
  // deleted rows PostgreSQL has not vacuumed yet, ever more of them. What a lowered max_kept
  // leaves behind goes with a range delete every 1,024th execution.
  if (e.seq > max_kept) {
    const int64_t out = e.seq - max_kept;
    RETURN_IF_ERROR(tx.Exec(out % 1024 == 0 ? "DELETE FROM executions WHERE function_id = ? AND seq <= ?"
                                            : "DELETE FROM executions WHERE function_id = ? AND seq = ?",
                            {e.function_id, out})
                        .status());
  }
  *result = Status();
  return Status();
}

}  // namespace

Status FunctionStore::AddExecution(ExecutionRecord& e, int64_t max_kept) {
  ExecutionRecord* one = &e;
  return AddExecutions(std::span<ExecutionRecord* const>(&one, 1), max_kept)[0];
}

std::vector<Status> FunctionStore::AddExecutions(std::span<ExecutionRecord* const> records, int64_t max_kept) {
  std::vector<Status> results(records.size());
  // A function's execution counter is one row that the writer of every replica updates: on
  // PostgreSQL their concurrent batches conflict and take turns through RunInTransaction's retry.
  Status whole = store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    for (size_t i = 0; i < records.size(); ++i) {
      RETURN_IF_ERROR(InsertExecution(tx, *records[i], max_kept, &results[i]));
    }
    return Status();
  });
  if (whole.ok()) return results;
  if (records.size() == 1) return {whole};
  for (size_t i = 0; i < records.size(); ++i) results[i] = AddExecution(*records[i], max_kept);
  return results;
}

StatusOr<ExecutionRecord> FunctionStore::GetExecution(const std::string& account, const std::string& id) {
  ASSIGN_OR_RETURN(
      auto rows, store_.Query("SELECT " + std::string(kExecutionSummaryColumns) + std::string(kExecutionDetailColumns) +
                                  " FROM executions WHERE id = ? AND account_id = ?",
                              {id, account}));
  if (rows.empty()) {
    return NotFoundError("no execution " + id)
        .WithDetail(ErrorDetail{"ResourceInfo", {}}.Add("resource_type", "execution").Add("resource_name", id));
  }
  return ReadExecution(rows[0], /*full=*/true);
}

StatusOr<std::vector<ExecutionRecord>> FunctionStore::ListExecutions(const std::string& account,
                                                                     const std::string& function_id, int64_t before_seq,
                                                                     int limit) {
  ASSIGN_OR_RETURN(auto rows,
                   store_.Query("SELECT " + std::string(kExecutionSummaryColumns) +
                                    " FROM executions WHERE function_id = ? AND account_id = ? AND "
                                    "seq < ? ORDER BY seq DESC LIMIT ?",
                                {function_id, account, before_seq > 0 ? before_seq : INT64_MAX, int64_t(limit)}));
  std::vector<ExecutionRecord> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    ASSIGN_OR_RETURN(ExecutionRecord e, ReadExecution(row, /*full=*/false));
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace neosl::services::functions
