#include "store/sqlite_store.h"

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <sqlite3.h>

#include "store/migrate.h"

namespace neosl::store {
namespace {

// Enough for every fixed SQL string a service uses; SQL built at run time (IN lists of varying
// length) past this point is prepared per use instead of growing the cache without bound.
constexpr size_t kMaxCachedStatements = 512;

// Lets the statement cache be searched with a string_view, without a copy per statement.
struct SqlHash {
  using is_transparent = void;
  size_t operator()(std::string_view sql) const { return std::hash<std::string_view>{}(sql); }
};

// SQL text in error messages is ours, never user data, but keep messages readable.
std::string Shorten(std::string_view sql) {
  constexpr size_t kMax = 160;
  return sql.size() <= kMax ? std::string(sql) : std::string(sql.substr(0, kMax)) + "…";
}

// Maps a result code onto the canonical codes of store.h. `in_tx` tells a lock conflict inside
// an open transaction (retry the whole transaction: ABORTED) from one while starting work
// (the busy timeout ran out: UNAVAILABLE). sqlite's messages name tables and columns, never
// bound values, so they are safe to pass on.
Status MapError(sqlite3* db, int rc, bool in_tx) {
  std::string msg =
      std::string("sqlite: ") + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)) + " (" + sqlite3_errstr(rc) + ")";
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_ROWID: return AlreadyExistsError(std::move(msg));
    case SQLITE_BUSY_SNAPSHOT: return AbortedError(std::move(msg));
    default: break;
  }
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:  // foreign key, check, not null, trigger RAISE(ABORT), datatype
    case SQLITE_MISMATCH:
    case SQLITE_READONLY:  // a write inside a kRead transaction
    case SQLITE_NOTADB: return FailedPreconditionError(std::move(msg));
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return in_tx ? AbortedError(std::move(msg)) : UnavailableError(std::move(msg));
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL: return UnavailableError(std::move(msg));
    case SQLITE_FULL:
    case SQLITE_NOMEM: return ResourceExhaustedError(std::move(msg));
    case SQLITE_TOOBIG: return InvalidArgumentError(std::move(msg));
    case SQLITE_CORRUPT: return DataLossError(std::move(msg));
    case SQLITE_INTERRUPT: return CancelledError(std::move(msg));
    default: return InternalError(std::move(msg));
  }
}

// Whether `sql` holds nothing but blanks, semicolons and comments.
bool OnlyTrivia(std::string_view sql) {
  size_t i = 0;
  while (i < sql.size()) {
    char c = sql[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == ';') {
      ++i;
    } else if (sql.substr(i, 2) == "--") {
      size_t end = sql.find('\n', i);
      i = end == std::string_view::npos ? sql.size() : end + 1;
    } else if (sql.substr(i, 2) == "/*") {
      size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else {
      return false;
    }
  }
  return true;
}

// One sqlite3 handle and its statement cache. Used by one thread at a time (the pool hands it
// out exclusively), hence SQLITE_OPEN_NOMUTEX.
class Connection {
 public:
  static StatusOr<std::unique_ptr<Connection>> Open(const SqliteOptions& options, bool writer) {
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(options.path.c_str(), &db, flags, nullptr);
    auto conn = std::unique_ptr<Connection>(new Connection(db));  // closes db on every path
    if (rc != SQLITE_OK) {
      return MapError(db, rc, false).Annotate("opening SQLite database " + options.path);
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, options.busy_timeout_ms);
    if (writer) {
      // WAL is a property of the file, so the writer sets it once for every connection.
      ASSIGN_OR_RETURN(std::vector<Row> mode, conn->Query("PRAGMA journal_mode=WAL", {}, false));
      StatusOr<std::string> name = mode.empty() ? InternalError("no row") : mode[0].Text(0);
      if (!name.ok() || *name != "wal") {
        return FailedPreconditionError("SQLite database " + options.path + " cannot use WAL journal mode");
      }
    }
    RETURN_IF_ERROR(conn->Exec("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL", {}, false));
    if (!writer) RETURN_IF_ERROR(conn->Exec("PRAGMA query_only=ON", {}, false));
    return conn;
  }

  ~Connection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* db() const { return db_; }
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

  // Several ';'-separated statements are allowed only without parameters (migrations).
  StatusOr<int64_t> Exec(std::string_view sql, const Params& params, bool in_tx) {
    int64_t changed = 0;
    while (true) {
      std::string_view tail;
      ASSIGN_OR_RETURN(Statement stmt, Prepare(sql, &tail));
      if (stmt.get() == nullptr) return changed;  // only comments or blanks were left
      if (!OnlyTrivia(tail) && !params.empty()) {
        return InternalError("several SQL statements with parameters: " + Shorten(sql));
      }
      int64_t before = sqlite3_total_changes64(db_);
      RETURN_IF_ERROR(Run(stmt.get(), params, in_tx, nullptr));
      // sqlite3_changes64 keeps the count of the last INSERT/UPDATE/DELETE, so a statement
      // that changed nothing (DDL, SELECT) must not report it.
      if (sqlite3_total_changes64(db_) != before) changed += sqlite3_changes64(db_);
      if (OnlyTrivia(tail)) return changed;
      sql = tail;
    }
  }

  StatusOr<std::vector<Row>> Query(std::string_view sql, const Params& params, bool in_tx) {
    std::string_view tail;
    ASSIGN_OR_RETURN(Statement stmt, Prepare(sql, &tail));
    if (stmt.get() == nullptr) return InternalError("empty SQL query");
    if (!OnlyTrivia(tail)) return InternalError("Query takes one SQL statement: " + Shorten(sql));
    std::vector<Row> rows;
    RETURN_IF_ERROR(Run(stmt.get(), params, in_tx, &rows));
    return rows;
  }

 private:
  // A prepared statement borrowed from the cache (reset on release) or owned (finalized).
  class Statement {
   public:
    Statement(sqlite3_stmt* stmt, bool owned) : stmt_(stmt), owned_(owned) {}
    Statement(Statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)), owned_(other.owned_) {}
    Statement& operator=(Statement&&) = delete;
    ~Statement() {
      if (stmt_ == nullptr) return;
      if (owned_) {
        sqlite3_finalize(stmt_);
      } else {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);  // so a cached statement never pins a caller's buffer
      }
    }
    sqlite3_stmt* get() const { return stmt_; }

   private:
    sqlite3_stmt* stmt_;
    bool owned_;
  };

  explicit Connection(sqlite3* db) : db_(db) {}

  // Prepares the first statement of `sql`; `tail` receives the rest. A statement is cached only
  // when it is the whole of `sql`, so the cache key is exactly the text callers pass.
  StatusOr<Statement> Prepare(std::string_view sql, std::string_view* tail) {
    if (auto it = cache_.find(sql); it != cache_.end()) {
      *tail = {};
      return Statement(it->second, false);
    }
    sqlite3_stmt* stmt = nullptr;
    const char* rest = nullptr;
    bool cacheable = cache_.size() < kMaxCachedStatements;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                cacheable ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, &rest);
    if (rc != SQLITE_OK) {
      // Bad SQL (SQLITE_ERROR) maps to INTERNAL; a busy or unreadable file keeps its own code.
      Status status = MapError(db_, rc, false);
      if (status.code() != StatusCode::kInternal) return status;
      return InternalError(std::string(status.message()) + " preparing: " + Shorten(sql));
    }
    *tail = sql.substr(static_cast<size_t>(rest - sql.data()));
    if (stmt != nullptr && cacheable && OnlyTrivia(*tail)) {
      cache_.emplace(std::string(sql), stmt);
      return Statement(stmt, false);
    }
    return Statement(stmt, true);
  }

  // Binds `params`, steps to the end and collects rows into `rows` if given.
  Status Run(sqlite3_stmt* stmt, const Params& params, bool in_tx, std::vector<Row>* rows) {
    int expected = sqlite3_bind_parameter_count(stmt);
    if (static_cast<size_t>(expected) != params.size()) {
      return InternalError("statement takes " + std::to_string(expected) + " parameters, " +
                           std::to_string(params.size()) + " given: " + Shorten(sqlite3_sql(stmt)));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      int rc = Bind(stmt, static_cast<int>(i) + 1, params[i]);
      if (rc != SQLITE_OK) return MapError(db_, rc, in_tx).Annotate("binding parameter");
    }
    while (true) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) return Status::Ok();
      if (rc != SQLITE_ROW) return MapError(db_, rc, in_tx);
      if (rows != nullptr) rows->push_back(ReadRow(stmt));
    }
  }

  static int Bind(sqlite3_stmt* stmt, int i, const Value& v) {
    // The caller's params outlive the step loop and bindings are cleared afterwards, so
    // SQLITE_STATIC spares a copy of every string and blob.
    if (std::holds_alternative<std::monostate>(v)) return sqlite3_bind_null(stmt, i);
    if (auto* n = std::get_if<int64_t>(&v)) return sqlite3_bind_int64(stmt, i, *n);
    if (auto* d = std::get_if<double>(&v)) return sqlite3_bind_double(stmt, i, *d);
    if (auto* s = std::get_if<std::string>(&v)) {
      return sqlite3_bind_text64(stmt, i, s->data(), s->size(), SQLITE_STATIC, SQLITE_UTF8);
    }
    const Blob& b = std::get<Blob>(v);
    // A null data pointer would bind NULL, not an empty blob.
    if (b.empty()) return sqlite3_bind_zeroblob(stmt, i, 0);
    return sqlite3_bind_blob64(stmt, i, b.data(), b.size(), SQLITE_STATIC);
  }

  static Row ReadRow(sqlite3_stmt* stmt) {
    int n = sqlite3_column_count(stmt);
    std::vector<Value> values;
    values.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      switch (sqlite3_column_type(stmt, i)) {
        case SQLITE_INTEGER: values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, i))); break;
        case SQLITE_FLOAT: values.emplace_back(sqlite3_column_double(stmt, i)); break;
        case SQLITE_TEXT: {
          auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
          values.emplace_back(std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt, i))));
          break;
        }
        case SQLITE_BLOB: {
          auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt, i));
          values.emplace_back(Blob(p, p + sqlite3_column_bytes(stmt, i)));
          break;
        }
        default: values.emplace_back(std::monostate{});
      }
    }
    return Row(std::move(values));
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*, SqlHash, std::equal_to<>> cache_;
};

// A fixed set of connections handed out one caller at a time. The writer is a pool of one,
// which is what serialises write transactions inside this process; waiting is bounded by the
// busy timeout like any other lock wait.
class ConnectionPool {
 public:
  void Add(std::unique_ptr<Connection> conn) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(conn));
    size_++;
  }

  StatusOr<std::unique_ptr<Connection>> Acquire(int timeout_ms, std::string_view what) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return !idle_.empty(); })) {
      return UnavailableError("all " + std::to_string(size_) + " SQLite " + std::string(what) +
                              " connections stayed busy for " + std::to_string(timeout_ms) + " ms");
    }
    std::unique_ptr<Connection> conn = std::move(idle_.back());
    idle_.pop_back();
    return conn;
  }

  void Release(std::unique_ptr<Connection> conn) {
    // A failed ROLLBACK must not leak an open transaction into the next borrower's work.
    if (conn->InTransaction()) sqlite3_exec(conn->db(), "ROLLBACK", nullptr, nullptr, nullptr);
    {
      std::lock_guard<std::mutex> lock(mu_);
      idle_.push_back(std::move(conn));
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  size_t size_ = 0;
};

// Everything a transaction needs, shared so that a transaction outliving its Store stays safe.
struct Shared {
  SqliteOptions options;
  ConnectionPool writer;
  ConnectionPool readers;
};

// Returns the connection to its pool however the borrower's scope ends.
class Lease {
 public:
  Lease(ConnectionPool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
  Lease(Lease&&) = default;
  Lease& operator=(Lease&&) = delete;
  ~Lease() {
    if (conn_) pool_->Release(std::move(conn_));
  }
  Connection* operator->() const { return conn_.get(); }

 private:
  ConnectionPool* pool_;
  std::unique_ptr<Connection> conn_;
};

StatusOr<Lease> Borrow(ConnectionPool& pool, int timeout_ms, std::string_view what) {
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, pool.Acquire(timeout_ms, what));
  return Lease(&pool, std::move(conn));
}

class SqliteTransaction final : public Transaction {
 public:
  SqliteTransaction(std::shared_ptr<Shared> shared, Lease lease)
      : shared_(std::move(shared)), lease_(std::move(lease)) {}

  ~SqliteTransaction() override {
    if (lease_) (void)End("ROLLBACK");
  }

  StatusOr<int64_t> Exec(std::string_view sql, const Params& params) override {
    RETURN_IF_ERROR(CheckUsable());
    return (*lease_)->Exec(sql, params, true);
  }

  StatusOr<std::vector<Row>> Query(std::string_view sql, const Params& params) override {
    RETURN_IF_ERROR(CheckUsable());
    return (*lease_)->Query(sql, params, true);
  }

  Status Commit() override {
    RETURN_IF_ERROR(CheckUsable());
    return End("COMMIT");
  }

  Status Rollback() override {
    if (!lease_) return FailedPreconditionError("transaction already ended");
    return End("ROLLBACK");
  }

 private:
  Status CheckUsable() {
    if (!lease_) return FailedPreconditionError("transaction already ended");
    // Some errors (I/O, full disk) make SQLite roll back on its own; carrying on would run the
    // rest of the caller's statements in autocommit mode.
    if (!(*lease_)->InTransaction()) {
      lease_.reset();
      return AbortedError("transaction was rolled back by SQLite after an earlier error");
    }
    return Status::Ok();
  }

  Status End(std::string_view sql) {
    Status status;
    if ((*lease_)->InTransaction()) status = (*lease_)->Exec(sql, {}, true).status();
    lease_.reset();  // rolls back whatever a failed COMMIT left open
    return status;
  }

  std::shared_ptr<Shared> shared_;  // declared first: outlives the lease into its pools
  std::optional<Lease> lease_;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

  std::string_view backend() const override { return "sqlite"; }

  StatusOr<std::unique_ptr<Transaction>> Begin(TxMode mode) override {
    bool write = mode == TxMode::kWrite;
    ASSIGN_OR_RETURN(Lease lease, Borrow(write ? shared_->writer : shared_->readers, shared_->options.busy_timeout_ms,
                                         write ? "write" : "read"));
    // IMMEDIATE takes the write lock now, so a write transaction never has to upgrade (and
    // fail) halfway. A deferred BEGIN takes its WAL snapshot at the first read.
    RETURN_IF_ERROR(lease->Exec(write ? "BEGIN IMMEDIATE" : "BEGIN", {}, false));
    return std::unique_ptr<Transaction>(new SqliteTransaction(shared_, std::move(lease)));
  }

  StatusOr<std::vector<Row>> Query(std::string_view sql, const Params& params) override {
    ASSIGN_OR_RETURN(Lease lease, Reader());
    return lease->Query(sql, params, false);
  }

  Status Ping() override {
    ASSIGN_OR_RETURN(Lease lease, Reader());
    return lease->Query("SELECT 1", {}, false).status();
  }

  Status Migrate(const std::vector<Migration>& migrations) override;
  StatusOr<int> SchemaVersion() override;

 private:
  StatusOr<Lease> Reader() { return Borrow(shared_->readers, shared_->options.busy_timeout_ms, "read"); }

  std::shared_ptr<Shared> shared_;
};

constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
    "name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)";

Status SqliteStore::Migrate(const std::vector<Migration>& migrations) {
  // SQLite's write lock is the migration lock.
  return internal::ApplyMigrations(
      migrations,
      [this]() -> StatusOr<std::unique_ptr<Transaction>> {
        ASSIGN_OR_RETURN(std::unique_ptr<Transaction> tx, Begin(TxMode::kWrite));
        RETURN_IF_ERROR(tx->Exec(kCreateMigrationsTable));
        return tx;
      },
      [](Transaction& tx, const Migration& m) { return tx.Exec(m.sql).status(); });
}

StatusOr<int> SqliteStore::SchemaVersion() {
  ASSIGN_OR_RETURN(std::unique_ptr<Transaction> tx, Begin(TxMode::kRead));
  ASSIGN_OR_RETURN(std::optional<Row> table, tx->QueryOptional("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                                               "name = 'schema_migrations'"));
  if (!table) return 0;
  return internal::RecordedVersion(*tx);
}

}  // namespace

StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  if (options.path.empty() || options.path == ":memory:") {
    return InvalidArgumentError("SQLite store needs a database file path, not \"" + options.path + "\"");
  }
  if (options.read_connections < 1) {
    return InvalidArgumentError("SQLite store needs at least one read connection");
  }
  if (options.busy_timeout_ms < 0) {
    return InvalidArgumentError("SQLite busy timeout must not be negative");
  }
  // sqlite's own answer for this is "unable to open database file", which names nothing.
  std::filesystem::path dir = std::filesystem::path(options.path).parent_path();
  std::error_code ec;
  if (!dir.empty() && !std::filesystem::is_directory(dir, ec)) {
    return NotFoundError("cannot open SQLite database " + options.path + ": directory " + dir.string() +
                         " does not exist");
  }

  auto shared = std::make_shared<Shared>();
  shared->options = options;
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> writer, Connection::Open(options, true));
  shared->writer.Add(std::move(writer));
  for (int i = 0; i < options.read_connections; ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<Connection> reader, Connection::Open(options, false));
    shared->readers.Add(std::move(reader));
  }
  return std::unique_ptr<Store>(new SqliteStore(std::move(shared)));
}

}  // namespace neosl::store
