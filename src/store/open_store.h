// Opens the store the configuration names (`store.driver`): the embedded SQLite file, or the
// shared PostgreSQL database of a scale-out deployment. Serve and the CLIs open their store
// through this, so they all honour the same keys.
#pragma once

#include <memory>
#include <string>

#include "core/config.h"
#include "core/status.h"
#include "store/store.h"

namespace neosl::store {

// store.driver "sqlite": store.sqlite.path (empty: <data_dir>/neosl.db), .read_connections,
// .busy_timeout_ms. "postgres": store.postgres.dsn, .pool_size, .connect_timeout_ms,
// .statement_timeout_ms. INVALID_ARGUMENT naming the key for an unknown driver or a value out
// of range; otherwise what the backend's Open answers. Migrations are the caller's to run.
StatusOr<std::unique_ptr<Store>> OpenStore(const Config& config, const std::string& data_dir);

}  // namespace neosl::store
