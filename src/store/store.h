// The storage interface every service uses. Backends: SQLite (embedded default, this module)
// and PostgreSQL (scale-out). Callers write one portable SQL dialect:
//   - placeholders are `?` (the PostgreSQL backend rewrites them to $1, $2, …);
//   - column types INTEGER (64-bit), TEXT, BLOB, REAL; booleans are INTEGER 0/1;
//   - timestamps are INTEGER milliseconds since the Unix epoch.
// Migrations may carry a per-backend override where the dialects differ.
//
// Error mapping (the same for every backend, checked by the conformance suite):
//   unique / primary-key violation        -> ALREADY_EXISTS
//   foreign-key / check / not-null        -> FAILED_PRECONDITION
//   a write inside a kRead transaction    -> FAILED_PRECONDITION
//   serialization failure, lock conflict  -> ABORTED      (safe to retry the transaction)
//   store unreachable / busy past timeout -> UNAVAILABLE
//   bad SQL, wrong parameter count        -> INTERNAL     (a bug in our code, not user input)
// Messages never include parameter values: they may be secrets or key hashes.
//
// Portable use, so code tested on SQLite also runs on PostgreSQL:
//   - after any failed statement, end the transaction (PostgreSQL refuses further statements in
//     it); RunInTransaction does this for you;
//   - a read transaction's snapshot starts at its first statement, not at Begin.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace neosl::store {

using Blob = std::vector<uint8_t>;

// A parameter or column value. std::monostate is SQL NULL.
using Value = std::variant<std::monostate, int64_t, double, std::string, Blob>;

inline Value Null() {
  return std::monostate{};
}

// One result row. Accessors check the column index and type; a mismatch is INTERNAL
// (it means our SQL and our code disagree), never undefined behaviour.
class Row {
 public:
  Row() = default;
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}

  size_t size() const { return values_.size(); }
  const Value& at(size_t i) const;  // NULL when i >= size()
  bool IsNull(size_t i) const;

  StatusOr<int64_t> Int(size_t i) const;
  StatusOr<double> Real(size_t i) const;
  StatusOr<std::string> Text(size_t i) const;
  StatusOr<Blob> Bytes(size_t i) const;
  // Int/Text that map NULL to std::nullopt.
  StatusOr<std::optional<int64_t>> OptionalInt(size_t i) const;
  StatusOr<std::optional<std::string>> OptionalText(size_t i) const;

 private:
  std::vector<Value> values_;
};

using Params = std::vector<Value>;

enum class TxMode {
  kRead,   // read-only snapshot; may run concurrently with other reads and one write
  kWrite,  // serialised with other writes
};

// A transaction. Destroying one that was not committed rolls it back.
class Transaction {
 public:
  virtual ~Transaction() = default;

  // Runs a statement that returns no rows; yields the number of rows changed.
  virtual StatusOr<int64_t> Exec(std::string_view sql, const Params& params = {}) = 0;
  // Runs a statement and returns all its rows.
  virtual StatusOr<std::vector<Row>> Query(std::string_view sql, const Params& params = {}) = 0;
  // Convenience: the single row of a query, NOT_FOUND if none, INTERNAL if more than one.
  StatusOr<Row> QueryOne(std::string_view sql, const Params& params = {});
  // Convenience: the first row if any.
  StatusOr<std::optional<Row>> QueryOptional(std::string_view sql, const Params& params = {});

  virtual Status Commit() = 0;
  virtual Status Rollback() = 0;
};

// A numbered schema migration. Versions start at 1 and are applied in order, each in its own
// write transaction together with the bump of the recorded schema version.
struct Migration {
  int version;
  std::string name;
  std::string sql;           // portable SQL; may hold several statements separated by ';'
  std::string postgres_sql;  // if non-empty, used instead of `sql` on PostgreSQL
};

class Store {
 public:
  virtual ~Store() = default;

  // "sqlite" or "postgres".
  virtual std::string_view backend() const = 0;

  virtual StatusOr<std::unique_ptr<Transaction>> Begin(TxMode mode) = 0;

  // One read statement outside an explicit transaction (the fast path for point lookups).
  virtual StatusOr<std::vector<Row>> Query(std::string_view sql, const Params& params = {}) = 0;

  // Cheap liveness check used by /v1/ready.
  virtual Status Ping() = 0;

  // Applies every migration newer than the recorded schema version. Idempotent. A store whose
  // recorded version is newer than the newest migration given is FAILED_PRECONDITION (an older
  // binary must not write to a newer schema). Migrations must be sorted with no gaps.
  virtual Status Migrate(const std::vector<Migration>& migrations) = 0;
  // The recorded schema version (0 for a fresh store).
  virtual StatusOr<int> SchemaVersion() = 0;
};

// Runs `fn` inside a transaction of `mode`, commits if it returns OK, and retries the whole
// transaction (up to `max_attempts`, after a jittered backoff of 1, 2, 4, … 32 ms) when the store
// answers ABORTED: a serialization conflict, which on PostgreSQL any two writers of one row (a
// counter, a balance) meet; retrying is how they take turns, so the default budget is ample.
Status RunInTransaction(Store& store, TxMode mode, const std::function<Status(Transaction&)>& fn,
                        int max_attempts = 20);

}  // namespace neosl::store
