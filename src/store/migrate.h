// The migration loop both backends run (internal to src/store): one migration per transaction,
// each re-reading the recorded version under the backend's lock, so that processes migrating
// one database at once apply each migration exactly once, and a schema newer than the binary is
// refused.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace neosl::store::internal {

// `begin` opens a write transaction that holds the backend's migration lock and in which the
// schema_migrations table exists; `apply` runs one migration's SQL in it.
Status ApplyMigrations(const std::vector<Migration>& migrations,
                       const std::function<StatusOr<std::unique_ptr<Transaction>>()>& begin,
                       const std::function<Status(Transaction&, const Migration&)>& apply);

// The highest version recorded in schema_migrations (0 for none).
StatusOr<int> RecordedVersion(Transaction& tx);

}  // namespace neosl::store::internal
