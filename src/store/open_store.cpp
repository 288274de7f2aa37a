#include "store/open_store.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string_view>

#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace neosl::store {
namespace {

// An integer key as an int no smaller than `min`, or INVALID_ARGUMENT naming the key.
StatusOr<int> IntKey(const Config& config, std::string_view key, int64_t min) {
  int64_t v = config.Int(key);
  if (v < min || v > INT_MAX) {
    return InvalidArgumentError(std::string(key) + " is " + std::to_string(v) + "; it must be between " +
                                std::to_string(min) + " and " + std::to_string(INT_MAX));
  }
  return static_cast<int>(v);
}

}  // namespace

StatusOr<std::unique_ptr<Store>> OpenStore(const Config& config, const std::string& data_dir) {
  const std::string& driver = config.String("store.driver");
  if (driver == "sqlite") {
    SqliteOptions options;
    const std::string& path = config.String("store.sqlite.path");
    options.path = path.empty() ? data_dir + "/neosl.db" : path;
    options.read_connections =
        std::max<int>(1, static_cast<int>(std::min<int64_t>(config.Int("store.sqlite.read_connections"), INT_MAX)));
    ASSIGN_OR_RETURN(options.busy_timeout_ms, IntKey(config, "store.sqlite.busy_timeout_ms", 0));
    return OpenSqliteStore(options);
  }
  if (driver == "postgres") {
    PostgresOptions options;
    options.dsn = config.String("store.postgres.dsn");
    if (options.dsn.empty()) {
      return InvalidArgumentError("store.postgres.dsn is empty; store.driver postgres needs it (" +
                                  Config::EnvName("store.postgres.dsn") + ")");
    }
    ASSIGN_OR_RETURN(options.pool_size, IntKey(config, "store.postgres.pool_size", 1));
    ASSIGN_OR_RETURN(options.connect_timeout_ms, IntKey(config, "store.postgres.connect_timeout_ms", 1));
    ASSIGN_OR_RETURN(options.statement_timeout_ms, IntKey(config, "store.postgres.statement_timeout_ms", 0));
    return OpenPostgresStore(options);
  }
  return InvalidArgumentError("store.driver '" + driver + "' is not supported (supported: sqlite, postgres)");
}

}  // namespace neosl::store
