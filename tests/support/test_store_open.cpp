#include "support/test_store_open.h"

#include <filesystem>

#include "store/postgres_store.h"
#include "support/test_store.h"

namespace neosl::testing {
namespace {

StatusOr<std::unique_ptr<store::Store>> OpenPostgres(const std::string& key) {
  store::PostgresOptions options;
  options.dsn = PostgresDsnFor(key);
  options.pool_size = 2;
  return store::OpenPostgresStore(options);
}

}  // namespace

StatusOr<std::unique_ptr<store::Store>> OpenTestStore(const store::SqliteOptions& options) {
  if (OnPostgres()) return OpenPostgres(options.path);
  return store::OpenSqliteStore(options);
}

StatusOr<std::unique_ptr<store::Store>> OpenDataDirStore(const std::string& data_dir) {
  const std::string path = data_dir + "/neosl.db";
  if (OnPostgres()) return OpenPostgres(path);
  if (!std::filesystem::is_regular_file(path)) return NotFoundError("no database at " + path);
  return store::OpenSqliteStore({.path = path, .read_connections = 1});
}

}  // namespace neosl::testing
