#include "store/postgres_store.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/migrate.h"
#include "store/postgres_connection.h"
#include "store/postgres_sql.h"

namespace neosl::store {
namespace {

using postgres::Clock;
using postgres::Connection;
using postgres::ConnectSettings;
using postgres::StatementResult;
using postgres::TranslatedStatement;

// How each kind of transaction begins. Sessions are read-only by default (see ResolveSettings),
// so a write transaction says READ WRITE.
constexpr std::string_view kBeginWrite = "BEGIN ISOLATION LEVEL SERIALIZABLE READ WRITE";
constexpr std::string_view kBeginRead = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
// Migrations run READ COMMITTED behind an advisory lock: every statement after the lock takes
// a fresh snapshot and so sees what the previous holder committed. (SERIALIZABLE would fix
// its snapshot at the lock statement, before the wait, and re-apply a migration.)
constexpr std::string_view kBeginMigrate = "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE";
// A fixed key: "neoslmig" as a big-endian int64. Advisory locks are per database, as schemas are.
constexpr std::string_view kLockMigrations = "SELECT pg_advisory_xact_lock(7954886858350881127)";

// A fixed set of connections, opened as they are first needed, handed out one caller at a time.
class Pool {
 public:
  Pool(std::shared_ptr<const ConnectSettings> settings, int size) : settings_(std::move(settings)), size_(size) {}

  const ConnectSettings& settings() const { return *settings_; }

  // An idle connection that is still open, or a new one while fewer than `size` exist; waits
  // for one to come back until `deadline`, then UNAVAILABLE.
  StatusOr<std::unique_ptr<Connection>> Acquire(Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      while (!idle_.empty()) {
        std::unique_ptr<Connection> conn = std::move(idle_.back());
        idle_.pop_back();
        if (conn->StillOpen()) {
          conn->reused = true;
          return conn;
        }
        --open_;  // closed by the server meanwhile: drop it and look again
      }
      if (open_ < size_) {
        ++open_;
        lock.unlock();
        StatusOr<std::unique_ptr<Connection>> conn = Connection::Open(settings_, deadline);
        if (!conn.ok()) Forget();
        return conn;
      }
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() && open_ >= size_) {
        return UnavailableError("postgres: all " + std::to_string(size_) + " connections stayed busy for " +
                                std::to_string(settings_->connect_timeout_ms) + " ms");
      }
    }
  }

  void Release(std::unique_ptr<Connection> conn) {
    // Whatever the borrower left open is rolled back; a connection that cannot even do that
    // (or broke earlier) is closed rather than handed to the next caller.
    if (conn->usable() && conn->InTransaction()) (void)conn->RunNative("ROLLBACK");
    conn->unbounded = false;
    if (!conn->usable() || conn->InTransaction()) {
      conn.reset();
      Forget();
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      idle_.push_back(std::move(conn));
    }
    cv_.notify_one();
  }

 private:
  void Forget() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      --open_;
    }
    cv_.notify_one();
  }

  std::shared_ptr<const ConnectSettings> settings_;
  const int size_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;  // idle, lent out, or being opened
};

// Returns the connection to its pool however the borrower's scope ends.
class Lease {
 public:
  Lease(std::shared_ptr<Pool> pool, std::unique_ptr<Connection> conn)
      : pool_(std::move(pool)), conn_(std::move(conn)) {}
  Lease(Lease&&) = default;
  Lease& operator=(Lease&&) = delete;
  ~Lease() {
    if (conn_) pool_->Release(std::move(conn_));
  }
  Connection* operator->() const { return conn_.get(); }
  bool usable() const { return conn_ && conn_->usable(); }

 private:
  std::shared_ptr<Pool> pool_;  // a transaction may outlive its store
  std::unique_ptr<Connection> conn_;
};

// Splits, translates and checks the parameter count before anything reaches the server, so
// that our own mistakes are INTERNAL and leave the transaction usable.
StatusOr<std::vector<TranslatedStatement>> Prepare(std::string_view sql, const Params& params) {
  std::vector<std::string_view> parts = postgres::SplitStatements(sql);
  if (parts.size() > 1 && !params.empty()) {
    return InternalError("several SQL statements with parameters: " + std::string(sql.substr(0, 160)));
  }
  std::vector<TranslatedStatement> out;
  for (std::string_view part : parts) {
    ASSIGN_OR_RETURN(TranslatedStatement t, postgres::TranslateStatement(part));
    if (static_cast<size_t>(t.parameter_count) != params.size()) {
      return InternalError("statement takes " + std::to_string(t.parameter_count) + " parameters, " +
                           std::to_string(params.size()) + " given: " + std::string(part.substr(0, 160)));
    }
    out.push_back(std::move(t));
  }
  return out;
}

StatusOr<TranslatedStatement> PrepareQuery(std::string_view sql, const Params& params) {
  ASSIGN_OR_RETURN(std::vector<TranslatedStatement> parts, Prepare(sql, params));
  if (parts.empty()) return InternalError("empty SQL query");
  if (parts.size() > 1) return InternalError("Query takes one SQL statement: " + std::string(sql.substr(0, 160)));
  return std::move(parts.front());
}

enum class Kind { kRead, kWrite, kMigrate };

class PostgresTransaction final : public Transaction {
 public:
  explicit PostgresTransaction(Lease lease) : lease_(std::move(lease)) {}
  ~PostgresTransaction() override {
    if (lease_) (void)Rollback();
  }

  StatusOr<int64_t> Exec(std::string_view sql, const Params& params) override {
    RETURN_IF_ERROR(CheckUsable());
    ASSIGN_OR_RETURN(std::vector<TranslatedStatement> parts, Prepare(sql, params));
    int64_t changed = 0;
    for (const TranslatedStatement& part : parts) {
      ASSIGN_OR_RETURN(StatementResult r, Note((*lease_)->Run(part, params)));
      changed += r.changed;
    }
    return changed;
  }

  StatusOr<std::vector<Row>> Query(std::string_view sql, const Params& params) override {
    RETURN_IF_ERROR(CheckUsable());
    ASSIGN_OR_RETURN(TranslatedStatement statement, PrepareQuery(sql, params));
    ASSIGN_OR_RETURN(StatementResult r, Note((*lease_)->Run(statement, params)));
    return std::move(r.rows);
  }

  // A PostgreSQL-only script (a migration's override), run as written.
  Status ExecNative(std::string_view sql) {
    RETURN_IF_ERROR(CheckUsable());
    return Note((*lease_)->RunNative(sql)).status();
  }

  Status Commit() override {
    if (Status usable = CheckUsable(); !usable.ok()) {
      // A failed transaction cannot commit; it ends here all the same.
      if (lease_) (void)Rollback();
      return usable;
    }
    StatusOr<StatementResult> r = (*lease_)->RunNative("COMMIT");
    bool lost = !(*lease_)->usable();
    lease_.reset();
    if (lost) {
      // Retrying would risk doing the work twice: say plainly that nobody knows.
      return UnavailableError(std::string(r.status().message()) +
                              " (during COMMIT: the transaction may or may not have been committed)");
    }
    if (!r.ok()) return r.status();
    // COMMIT of a transaction the server had already failed answers ROLLBACK.
    if (r->command == "ROLLBACK") return AbortedError("postgres: the transaction was rolled back at COMMIT");
    return Status::Ok();
  }

  Status Rollback() override {
    if (!lease_) return FailedPreconditionError("transaction already ended");
    Status status;
    if ((*lease_)->usable()) status = (*lease_)->RunNative("ROLLBACK").status();
    // On a lost connection the server has ended the transaction itself: rolled back, as asked.
    if (!(*lease_)->usable()) status = Status::Ok();
    lease_.reset();
    return status;
  }

 private:
  Status CheckUsable() {
    if (!lease_) return FailedPreconditionError("transaction already ended");
    if (!failed_.ok()) {
      // PostgreSQL refuses every statement of a failed transaction; say why, keeping ABORTED
      // (and UNAVAILABLE) so that a caller who swallowed the error still retries.
      StatusCode code = failed_.code() == StatusCode::kAborted || failed_.code() == StatusCode::kUnavailable
                            ? failed_.code()
                            : StatusCode::kFailedPrecondition;
      return Status(code, "transaction failed earlier and must be ended: " + std::string(failed_.message()));
    }
    return Status::Ok();
  }

  StatusOr<StatementResult> Note(StatusOr<StatementResult> r) {
    if (!r.ok() && failed_.ok()) failed_ = r.status();
    return r;
  }

  std::optional<Lease> lease_;
  Status failed_;  // the first error a statement met; PostgreSQL has then aborted the transaction
};

class PostgresStore final : public Store {
 public:
  explicit PostgresStore(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}

  std::string_view backend() const override { return "postgres"; }

  StatusOr<std::unique_ptr<Transaction>> Begin(TxMode mode) override {
    ASSIGN_OR_RETURN(auto tx, BeginKind(mode == TxMode::kWrite ? Kind::kWrite : Kind::kRead));
    return std::unique_ptr<Transaction>(std::move(tx));
  }

  StatusOr<std::vector<Row>> Query(std::string_view sql, const Params& params) override {
    ASSIGN_OR_RETURN(TranslatedStatement statement, PrepareQuery(sql, params));
    // Autocommit in a read-only session: nothing to undo, so running it again on another
    // connection after a stale one failed is safe.
    ASSIGN_OR_RETURN(StatementResult r, WithConnection([&](Lease& lease) { return lease->Run(statement, params); }));
    return std::move(r.rows);
  }

  Status Ping() override { return Query("SELECT 1", {}).status(); }

  Status Migrate(const std::vector<Migration>& migrations) override;
  StatusOr<int> SchemaVersion() override;

 private:
  // Runs `fn` on a pooled connection. One that sat idle may have been closed under us (a
  // server restart) without the pool noticing: when `fn` fails on it and it turns out broken,
  // `fn` runs again on the next, until one works or a freshly opened one gives the answer.
  template <typename Fn>
  auto WithConnection(Fn fn) -> decltype(fn(std::declval<Lease&>())) {
    const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(pool_->settings().connect_timeout_ms);
    while (true) {
      ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, pool_->Acquire(deadline));
      const bool reused = conn->reused;
      Lease lease(pool_, std::move(conn));
      auto result = fn(lease);
      if (result.ok() || !reused || lease.usable()) return result;
    }
  }

  StatusOr<std::unique_ptr<PostgresTransaction>> BeginKind(Kind kind) {
    std::string_view begin = kind == Kind::kWrite ? kBeginWrite : kind == Kind::kRead ? kBeginRead : kBeginMigrate;
    return WithConnection([&](Lease& lease) -> StatusOr<std::unique_ptr<PostgresTransaction>> {
      RETURN_IF_ERROR(lease->RunNative(begin));
      if (kind == Kind::kMigrate) {
        // A migration may wait for another process's, or build an index on a big table: the
        // per-request statement timeout does not apply (SET LOCAL ends with the transaction).
        RETURN_IF_ERROR(lease->RunNative("SET LOCAL statement_timeout = 0"));
        lease->unbounded = true;
      }
      return std::make_unique<PostgresTransaction>(std::move(lease));
    });
  }

  std::shared_ptr<Pool> pool_;
};

constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
    "name TEXT NOT NULL, applied_at_ms BIGINT NOT NULL)";

Status PostgresStore::Migrate(const std::vector<Migration>& migrations) {
  return internal::ApplyMigrations(
      migrations,
      [this]() -> StatusOr<std::unique_ptr<Transaction>> {
        ASSIGN_OR_RETURN(std::unique_ptr<PostgresTransaction> tx, BeginKind(Kind::kMigrate));
        RETURN_IF_ERROR(tx->ExecNative(kLockMigrations));  // held until the transaction ends
        RETURN_IF_ERROR(tx->ExecNative(kCreateMigrationsTable));
        return std::unique_ptr<Transaction>(std::move(tx));
      },
      [](Transaction& tx, const Migration& m) {
        // An override is PostgreSQL's own SQL and runs as written; portable SQL is translated.
        return m.postgres_sql.empty() ? tx.Exec(m.sql, {}).status()
                                      : static_cast<PostgresTransaction&>(tx).ExecNative(m.postgres_sql);
      });
}

StatusOr<int> PostgresStore::SchemaVersion() {
  ASSIGN_OR_RETURN(std::unique_ptr<PostgresTransaction> tx, BeginKind(Kind::kRead));
  ASSIGN_OR_RETURN(Row table, tx->QueryOne("SELECT to_regclass('schema_migrations') IS NOT NULL"));
  ASSIGN_OR_RETURN(int64_t exists, table.Int(0));
  if (exists == 0) return 0;
  return internal::RecordedVersion(*tx);
}

}  // namespace

StatusOr<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options) {
  ASSIGN_OR_RETURN(std::shared_ptr<const ConnectSettings> settings, postgres::ResolveSettings(options));
  auto pool = std::make_shared<Pool>(settings, options.pool_size);
  // One connection now, so that a wrong DSN or password shows at start, not at the first request.
  {
    ASSIGN_OR_RETURN(std::unique_ptr<Connection> first,
                     pool->Acquire(Clock::now() + std::chrono::milliseconds(options.connect_timeout_ms)));
    pool->Release(std::move(first));
  }
  return std::unique_ptr<Store>(new PostgresStore(std::move(pool)));
}

}  // namespace neosl::store
