// SQLite for `neosl backup` / `neosl restore`: a consistent copy of a live database and the
// questions restore asks of a data directory.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <sys/types.h>

#include "core/status.h"

namespace neosl::backup {

// Copies the database `source` into `dest` (which must not exist; made 0600) with SQLite's
// online backup API, from a read connection that holds one read transaction for the whole copy:
// the copy is the database as of one commit even while `neosl serve` keeps writing (WAL readers
// do not block the writer, and the pinned snapshot keeps the backup from restarting). The copy
// is then checked with PRAGMA quick_check and fsynced. `progress(done_pages, total_pages)` is
// called between steps.
Status SnapshotSqlite(const std::string& source, const std::string& dest,
                      const std::function<void(int64_t, int64_t)>& progress);

// The schema version recorded in the database file `path` (the newest applied migration;
// 0 without a schema_migrations table). Opened read-only, never migrated.
StatusOr<int64_t> SqliteSchemaVersion(const std::string& path);

// The pid of another process that holds a POSIX lock on `path` (every SQLite connection in WAL
// mode keeps a shared lock on its database file while it is open), or nullopt if none does or
// the file does not exist.
StatusOr<std::optional<pid_t>> FileLockedBy(const std::string& path);

}  // namespace neosl::backup
