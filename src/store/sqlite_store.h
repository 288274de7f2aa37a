// The embedded SQLite backend: WAL journal, foreign keys on, one writer connection and a small
// pool of read-only connections, prepared statements cached per connection.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "store/store.h"

namespace neosl::store {

struct SqliteOptions {
  std::string path;            // database file; ":memory:" is refused (the pool needs a file)
  int read_connections = 4;    // size of the read-only pool
  int busy_timeout_ms = 5000;  // how long a statement waits on a lock before UNAVAILABLE
};

StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options);

}  // namespace neosl::store
