#include "apps/neosl/cli_store.h"

#include <filesystem>
#include <map>

#include "store/open_store.h"
#include "store/sqlite_store.h"

namespace neosl::app {

StatusOr<Config> LoadServeConfig(const std::optional<std::string>& file,
                                 const std::map<std::string, std::string>& overrides) {
  auto env = Config::ProcessEnvironment();
  std::optional<std::string> path = file;
  if (!path) {
    auto it = env.find("NEOSL_CONFIG");
    if (it != env.end() && !it->second.empty()) path = it->second;
  }
  return Config::Load(path, env, overrides);
}

StatusOr<Config> LoadCliConfig(const std::optional<std::string>& file, const std::optional<std::string>& data_dir) {
  std::map<std::string, std::string> overrides;
  if (data_dir) overrides["data_dir"] = *data_dir;
  return LoadServeConfig(file, overrides);
}

StatusOr<std::unique_ptr<store::Store>> OpenExistingStore(const Config& config, const std::string& db_path) {
  std::string sqlite_path = db_path;
  if (sqlite_path.empty() && config.String("store.driver") == "sqlite") {
    sqlite_path = config.String("store.sqlite.path");
    if (sqlite_path.empty()) sqlite_path = config.String("data_dir") + "/neosl.db";
  }
  if (sqlite_path.empty()) return store::OpenStore(config, config.String("data_dir"));
  if (!std::filesystem::is_regular_file(sqlite_path)) return NotFoundError("no database at " + sqlite_path);
  store::SqliteOptions options;
  options.path = sqlite_path;
  options.read_connections = 1;
  return store::OpenSqliteStore(options);
}

}  // namespace neosl::app
