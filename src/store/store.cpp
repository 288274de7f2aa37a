#include "store/store.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include "store/migrate.h"

namespace neosl::store {
namespace {

// Indexed like Value's alternatives.
constexpr std::string_view kTypeNames[] = {"NULL", "INTEGER", "REAL", "TEXT", "BLOB"};

std::string_view TypeName(const Value& v) {
  return kTypeNames[v.index()];
}

template <typename T>
constexpr std::string_view ExpectedName() {
  if constexpr (std::is_same_v<T, int64_t>) {
    return "INTEGER";
  } else if constexpr (std::is_same_v<T, double>) {
    return "REAL";
  } else if constexpr (std::is_same_v<T, std::string>) {
    return "TEXT";
  } else {
    static_assert(std::is_same_v<T, Blob>);
    return "BLOB";
  }
}

// The column as a T, or INTERNAL: a mismatch means our SQL and our code disagree.
template <typename T>
StatusOr<const T*> Get(const std::vector<Value>& values, size_t i) {
  if (i >= values.size()) {
    return InternalError("row column " + std::to_string(i) + " out of range (row has " + std::to_string(values.size()) +
                         " columns)");
  }
  const T* v = std::get_if<T>(&values[i]);
  if (v == nullptr) {
    return InternalError("row column " + std::to_string(i) + ": expected " + std::string(ExpectedName<T>()) + ", got " +
                         std::string(TypeName(values[i])));
  }
  return v;
}

}  // namespace

const Value& Row::at(size_t i) const {
  // Out of range yields NULL rather than undefined behaviour in release builds; the typed
  // accessors report the index as INTERNAL.
  static const Value kNull;
  return i < values_.size() ? values_[i] : kNull;
}

bool Row::IsNull(size_t i) const {
  // Out of range is "not NULL" so that the accessor the caller reaches next reports the bug.
  return i < values_.size() && std::holds_alternative<std::monostate>(values_[i]);
}

StatusOr<int64_t> Row::Int(size_t i) const {
  ASSIGN_OR_RETURN(const int64_t* v, Get<int64_t>(values_, i));
  return *v;
}

StatusOr<double> Row::Real(size_t i) const {
  ASSIGN_OR_RETURN(const double* v, Get<double>(values_, i));
  return *v;
}

StatusOr<std::string> Row::Text(size_t i) const {
  ASSIGN_OR_RETURN(const std::string* v, Get<std::string>(values_, i));
  return *v;
}

StatusOr<Blob> Row::Bytes(size_t i) const {
  ASSIGN_OR_RETURN(const Blob* v, Get<Blob>(values_, i));
  return *v;
}

StatusOr<std::optional<int64_t>> Row::OptionalInt(size_t i) const {
  if (IsNull(i)) return std::optional<int64_t>();
  ASSIGN_OR_RETURN(const int64_t* v, Get<int64_t>(values_, i));
  return std::optional<int64_t>(*v);
}

StatusOr<std::optional<std::string>> Row::OptionalText(size_t i) const {
  if (IsNull(i)) return std::optional<std::string>();
  ASSIGN_OR_RETURN(const std::string* v, Get<std::string>(values_, i));
  return std::optional<std::string>(*v);
}

StatusOr<Row> Transaction::QueryOne(std::string_view sql, const Params& params) {
  ASSIGN_OR_RETURN(std::vector<Row> rows, Query(sql, params));
  if (rows.empty()) return NotFoundError("query returned no row");
  if (rows.size() > 1) {
    return InternalError("query expected to return one row returned " + std::to_string(rows.size()));
  }
  return std::move(rows.front());
}

StatusOr<std::optional<Row>> Transaction::QueryOptional(std::string_view sql, const Params& params) {
  ASSIGN_OR_RETURN(std::vector<Row> rows, Query(sql, params));
  if (rows.empty()) return std::optional<Row>();
  return std::optional<Row>(std::move(rows.front()));
}

Status RunInTransaction(Store& store, TxMode mode, const std::function<Status(Transaction&)>& fn, int max_attempts) {
  if (max_attempts < 1) max_attempts = 1;
  Status last;
  for (int attempt = 1; attempt <= max_attempts; ++attempt) {
    StatusOr<std::unique_ptr<Transaction>> tx = store.Begin(mode);
    if (!tx.ok()) {
      last = tx.status();
    } else {
      last = fn(**tx);
      if (last.ok()) {
        last = (*tx)->Commit();
      } else {
        // fn's error is the one worth reporting; the destructor would roll back anyway.
        (void)(*tx)->Rollback();
      }
    }
    if (last.code() != StatusCode::kAborted) return last;
    // Transactions that conflicted once tend to conflict again if retried in step: back off
    // 1, 2, 4, … ms (at most 32), with jitter, before the next attempt.
    if (attempt < max_attempts) {
      thread_local std::minstd_rand jitter(uint32_t(std::hash<std::thread::id>{}(std::this_thread::get_id())));
      const int64_t base_us = int64_t{1000} << std::min(attempt - 1, 5);
      std::this_thread::sleep_for(std::chrono::microseconds(base_us + int64_t(jitter() % uint32_t(base_us))));
    }
  }
  return last.Annotate("transaction aborted " + std::to_string(max_attempts) + " times");
}

namespace internal {

StatusOr<int> RecordedVersion(Transaction& tx) {
  ASSIGN_OR_RETURN(Row row, tx.QueryOne("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  ASSIGN_OR_RETURN(int64_t version, row.Int(0));
  return static_cast<int>(version);
}

Status ApplyMigrations(const std::vector<Migration>& migrations,
                       const std::function<StatusOr<std::unique_ptr<Transaction>>()>& begin,
                       const std::function<Status(Transaction&, const Migration&)>& apply) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return InvalidArgumentError("migrations must be numbered 1, 2, 3… in order without gaps; position " +
                                  std::to_string(i) + " holds version " + std::to_string(migrations[i].version));
    }
  }
  const int newest = static_cast<int>(migrations.size());
  while (true) {
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> tx, begin());
    ASSIGN_OR_RETURN(int current, RecordedVersion(*tx));
    if (current > newest) {
      return FailedPreconditionError("database schema version " + std::to_string(current) +
                                     " is newer than this binary supports (" + std::to_string(newest) + ")");
    }
    if (current == newest) return tx->Commit();
    const Migration& m = migrations[static_cast<size_t>(current)];
    const int64_t now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    Status status = apply(*tx, m);
    if (status.ok()) {
      status = tx->Exec("INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)",
                        {int64_t{m.version}, m.name, now_ms})
                   .status();
    }
    if (status.ok()) status = tx->Commit();
    if (!status.ok()) return status.Annotate("migration " + std::to_string(m.version) + " (" + m.name + ")");
  }
}

}  // namespace internal
}  // namespace neosl::store
