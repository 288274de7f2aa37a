// The PostgreSQL backend (libpq): the shared store of the scale-out deployment, where several
// neosl processes write the same database.
//
// Isolation: write transactions run SERIALIZABLE, so code written against SQLite's single
// writer stays correct when writers really run in parallel; PostgreSQL's answer to a conflict
// (a serialization failure or deadlock) is ABORTED, which RunInTransaction retries. Read
// transactions run REPEATABLE READ READ ONLY: one snapshot, taken at their first statement.
// Store::Query runs on its own in a read-only transaction.
//
// Connections: a bounded pool, opened on demand. A caller waits up to connect_timeout_ms for a
// free connection (and for a new one to open), then gets UNAVAILABLE. A connection that broke
// is dropped, never handed out again, so once the server is back the store works again without
// being reopened. A statement that runs past statement_timeout_ms is cancelled by the server
// (UNAVAILABLE); one that gets no answer at all within that time plus connect_timeout_ms is
// abandoned with its connection, so a vanished server never hangs a caller.
//
// Messages never carry parameter values nor the DSN's password: PostgreSQL's DETAIL lines
// (which quote key values) are dropped, as are messages of the errors that quote input.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "store/store.h"

namespace neosl::store {

struct PostgresOptions {
  // A libpq connection string ("host=… dbname=… user=… password=…") or URI
  // ("postgresql://user:password@host:5432/db"); a secret, because of the password.
  std::string dsn;
  int pool_size = 8;                 // connections at most, per store
  int connect_timeout_ms = 5000;     // to get a connection: a free one, or a new one opened
  int statement_timeout_ms = 30000;  // per statement, enforced by the server; 0 is no limit
};

// Checks the options and opens one connection at once, so that a wrong DSN or an unreachable
// server shows at start: INVALID_ARGUMENT for the options, UNAVAILABLE for the server (a
// refused password included).
StatusOr<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options);

}  // namespace neosl::store
