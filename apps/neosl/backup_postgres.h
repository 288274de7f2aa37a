// The PostgreSQL store (store.driver: postgres) in `neosl backup` / `neosl restore`, through
// the client tools of Debian's postgresql-client: `pg_dump --format=custom` and `pg_restore`.
// Kept apart from the SQLite path: it is written ahead of the PostgreSQL backend and has not run
// against it yet (docs/backup.md, "PostgreSQL").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace neosl::backup {

// pg_dump --format=custom of the database at `dsn` into the new file `dest` (0600). The dump is
// one transaction's snapshot, so it is consistent while `neosl serve` writes. UNIMPLEMENTED when
// pg_dump is not installed.
Status PostgresDump(const std::string& dsn, const std::string& dest);

// The schema version recorded in the database at `dsn` (psql; `scratch` is a file name it may
// use for psql's answer). UNIMPLEMENTED when psql is not installed.
StatusOr<int64_t> PostgresSchemaVersion(const std::string& dsn, const std::string& scratch);

// pg_restore of `dump` into the database at `dsn`, in one transaction that stops at the first
// error; `clean` drops the objects it restores first (restore --force). UNIMPLEMENTED when
// pg_restore is not installed.
Status PostgresRestore(const std::string& dsn, const std::string& dump, bool clean);

// A libpq connection string (key=value words, or a postgres:// URI) split into the string
// without its password and the password, so that the password can travel in PGPASSWORD instead
// of on a command line, which every user of the machine can read. INVALID_ARGUMENT for an
// unterminated quote.
struct SplitDsn {
  std::string without_password;
  std::string password;
};
StatusOr<SplitDsn> SplitPassword(std::string_view dsn);

}  // namespace neosl::backup
