// One libpq connection of the PostgreSQL backend (postgres_store.cpp): connecting and running
// statements without blocking past a deadline, binding store::Value parameters, decoding
// result rows and mapping PostgreSQL's errors onto the codes of store.h. Internal to
// src/store; callers use postgres_store.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/postgres_sql.h"
#include "store/postgres_store.h"
#include "store/store.h"

struct pg_conn;  // libpq's PGconn, kept out of this header

namespace neosl::store::postgres {

using Clock = std::chrono::steady_clock;

// What every connection of one store is opened with, resolved once from PostgresOptions.
struct ConnectSettings {
  ConnectSettings() = default;
  ConnectSettings(const ConnectSettings&) = delete;
  ConnectSettings& operator=(const ConnectSettings&) = delete;
  ~ConnectSettings();  // wipes the password, wherever it is held

  std::vector<std::string> keywords;  // libpq connection keywords and their values, in order
  std::vector<std::string> values;
  std::string password;  // only to scrub it from messages, should libpq ever quote it
  int connect_timeout_ms = 0;
  int statement_timeout_ms = 0;

  // `message` without the password (if any) and without DETAIL/HINT lines.
  std::string Clean(std::string_view message) const;
};

// INVALID_ARGUMENT for a DSN libpq cannot parse (without libpq's message, which may quote it).
StatusOr<std::shared_ptr<const ConnectSettings>> ResolveSettings(const PostgresOptions& options);

struct StatementResult {
  std::vector<Row> rows;
  int64_t changed = 0;  // rows inserted, updated or deleted
  std::string command;  // PostgreSQL's command tag ("INSERT 0 1", "ROLLBACK", …)
};

class Connection {
 public:
  // UNAVAILABLE if the server cannot be reached or refuses us before `deadline`.
  static StatusOr<std::unique_ptr<Connection>> Open(std::shared_ptr<const ConnectSettings> settings,
                                                    Clock::time_point deadline);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // False once the connection broke or was abandoned: it must not be used or pooled again.
  bool usable() const { return usable_; }
  // Set by the pool when it hands out a connection that sat idle: such a connection may have
  // died unnoticed, so a failure on it is worth one retry on another.
  bool reused = false;
  // Set for migrations, which may rightly run for long (an index on a big table) and have
  // their server-side statement timeout lifted: then the client does not give up either.
  bool unbounded = false;

  // For an idle connection: false if the server has closed it meanwhile (a restart, an
  // administrator's kill). Never blocks.
  bool StillOpen();
  // Whether a transaction is open on the server, failed or not.
  bool InTransaction() const;

  // One translated statement with `params` bound by type (int64 → int8, double → float8,
  // string → text, Blob → bytea, NULL untyped).
  StatusOr<StatementResult> Run(const TranslatedStatement& statement, const Params& params);
  // PostgreSQL's own SQL, without parameters; several statements are allowed. Rows are not
  // returned.
  StatusOr<StatementResult> RunNative(std::string_view sql);

 private:
  Connection(pg_conn* conn, std::shared_ptr<const ConnectSettings> settings)
      : conn_(conn), settings_(std::move(settings)) {}

  StatusOr<StatementResult> Collect(std::string_view sql, bool binary);
  // Waits for the socket; false when `deadline` passed first.
  bool Wait(bool write, std::optional<Clock::time_point> deadline);
  // UNAVAILABLE for a connection that stopped working; marks it unusable.
  Status Lost(std::string_view what);

  pg_conn* conn_;
  std::shared_ptr<const ConnectSettings> settings_;
  bool usable_ = true;
};

// Maps a SQLSTATE onto the codes of store.h (exposed for tests).
StatusCode CodeForSqlState(std::string_view sqlstate);

}  // namespace neosl::store::postgres
