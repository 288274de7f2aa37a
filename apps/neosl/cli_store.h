// Configuration and store for the commands that work on a data directory beside, or instead
// of, `neosl serve` (backup, restore, the audits): they load the configuration as serve does, so
// a deployment on PostgreSQL is read where it lives.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/config.h"
#include "core/status.h"
#include "store/store.h"

namespace neosl::app {

// The configuration as `neosl serve` loads it: defaults, the file (`file`, else NEOSL_CONFIG),
// NEOSL_* variables, then `overrides` (the command's flags) over all of them.
StatusOr<Config> LoadServeConfig(const std::optional<std::string>& file,
                                 const std::map<std::string, std::string>& overrides);

// The same with `data_dir` over data_dir: what a command beside serve works on.
StatusOr<Config> LoadCliConfig(const std::optional<std::string>& file, const std::optional<std::string>& data_dir);

// The store of an existing deployment, opened to read: `db_path` if given (a SQLite file), else
// the one the configuration names (store.driver: the data directory's SQLite file, or the
// PostgreSQL database). Never created and never migrated: NOT_FOUND for a missing file, so a typo
// does not look like an empty, valid store.
StatusOr<std::unique_ptr<store::Store>> OpenExistingStore(const Config& config, const std::string& db_path);

}  // namespace neosl::app
