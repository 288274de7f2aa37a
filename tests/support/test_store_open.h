// Opening, in the test process, the store a test works on: SQLite by default, PostgreSQL in the
// "pg." copies of the integration tests (see test_store.h). Apart from test_store.h so that only
// the tests that open a store link src/store.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "store/sqlite_store.h"
#include "store/store.h"

namespace neosl::testing {

// On SQLite, OpenSqliteStore(options); on PostgreSQL, the database named by options.path (the
// one SharedStoreEnv(options.path) points neosl at). Migrations are the caller's to run.
StatusOr<std::unique_ptr<store::Store>> OpenTestStore(const store::SqliteOptions& options);

// The store StoreEnv(data_dir) points a neosl process at: DIR/neosl.db, or that directory's
// database. On SQLite a missing file is NOT_FOUND rather than created.
StatusOr<std::unique_ptr<store::Store>> OpenDataDirStore(const std::string& data_dir);

}  // namespace neosl::testing
