#include "apps/neosl/backup_plan.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "apps/neosl/backup_archive.h"
#include "apps/neosl/backup_internal.h"

namespace neosl::app::backup_internal {
namespace {

namespace fs = std::filesystem;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Leftovers of interrupted atomic writes and lock files: never state.
bool Transient(std::string_view name) {
  return EndsWith(name, ".tmp") || name == ".lock";
}

// A single file, if it is there: key files that a configuration may not have (no signer key
// with an offline sigstruct, no admin key file when an operator moved it away).
void AddFileIfPresent(Plan& plan, const std::string& member, const std::string& path) {
  std::error_code ec;
  auto st = fs::symlink_status(path, ec);
  if (ec || st.type() == fs::file_type::not_found) return;
  if (st.type() != fs::file_type::regular) {
    plan.not_included.emplace_back(member, "not a regular file at " + path + " (links are not followed)");
    return;
  }
  plan.sources.push_back({member, std::string(backup::kKindFile), path});
}

// Every regular file under `dir` as `prefix`/<relative path>, in a stable order.
Status AddTree(Plan& plan, const std::string& prefix, const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(dir, ec))) return Status();
  std::vector<Source> found;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
  if (ec) return UnavailableError("cannot list " + dir + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return UnavailableError("cannot list " + dir + ": " + ec.message());
    const fs::path& p = it->path();
    const std::string member = prefix + "/" + p.lexically_relative(dir).generic_string();
    if (Transient(p.filename().string())) continue;
    auto type = it->symlink_status(ec).type();
    if (type == fs::file_type::directory) continue;
    if (type != fs::file_type::regular) {
      plan.not_included.emplace_back(member, "not a regular file (links are not followed)");
      continue;
    }
    if (Status s = backup::ValidateMemberName(member); !s.ok()) {
      plan.not_included.emplace_back(p.string(), std::string(s.message()));
      continue;
    }
    found.push_back({member, std::string(backup::kKindFile), p.string()});
  }
  std::sort(found.begin(), found.end(), [](const Source& a, const Source& b) { return a.member < b.member; });
  plan.sources.insert(plan.sources.end(), found.begin(), found.end());
  return Status();
}

// Entries at the top of the data directory that no rule covers, so that the operator hears of
// state this version does not know about instead of losing it silently.
void NoteUnknown(Plan& plan, const std::string& data_dir) {
  // Backed up by the rules above, or left out on purpose (backup_plan.h says why).
  std::set<std::string> known = {
      "neosl.db",   "platform.secret",   "admin.key", "key-hash.secret", "enclave",           "enclave-signer.key",
      "mesh",       "devchain",          "registry",  "listen.addr",     "enclave.sigstruct", "instance.id",
      "serve.lock", "observability.addr"};
  for (const Source& s : plan.sources) {
    fs::path rel = fs::path(s.path).lexically_relative(data_dir);
    if (!rel.empty() && *rel.begin() != "..") known.insert(rel.begin()->string());
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(data_dir, ec)) {
    const std::string name = entry.path().filename().string();
    const bool sqlite_side_file = EndsWith(name, "-wal") || EndsWith(name, "-shm") || EndsWith(name, "-journal");
    if (known.count(name) != 0 || Transient(name) || sqlite_side_file || name.rfind(".neosl-", 0) == 0) continue;
    plan.not_included.emplace_back(name, "in the data directory but not known to this version of neosl");
  }
}

}  // namespace

StatusOr<Plan> PlanBackup(const Config& config, const std::string& data_dir, bool with_devchain) {
  Plan plan;
  plan.store_driver = config.String("store.driver");
  if (plan.store_driver == "sqlite") {
    const std::string db = Or(config.String("store.sqlite.path"), data_dir + "/neosl.db");
    std::error_code ec;
    if (!fs::is_regular_file(db, ec)) return NotFoundError("no database at " + db + ": nothing to back up");
    plan.sources.push_back({"neosl.db", std::string(backup::kKindSqlite), db});
  } else if (plan.store_driver == "postgres") {
    plan.postgres_dsn = config.Has("store.postgres.dsn") ? config.String("store.postgres.dsn") : "";
    if (plan.postgres_dsn.empty()) {
      return InvalidArgumentError("store.driver is postgres but store.postgres.dsn is not set");
    }
    plan.sources.push_back({"store.pgdump", std::string(backup::kKindPostgres), ""});
  } else {
    return InvalidArgumentError("store.driver '" + plan.store_driver + "' cannot be backed up (sqlite, postgres)");
  }

  AddFileIfPresent(plan, "platform.secret",
                   Or(config.String("enclave.platform_secret_file"), data_dir + "/platform.secret"));
  AddFileIfPresent(plan, "admin.key", data_dir + "/admin.key");
  if (!config.String("auth.key_hash_secret").empty()) {
    plan.not_included.emplace_back("auth.key_hash_secret",
                                   "given inline in the configuration: keep it with the configuration, or no API key "
                                   "will match after a restore");
  } else {
    AddFileIfPresent(plan, "key-hash.secret",
                     Or(config.String("auth.key_hash_secret_file"), data_dir + "/key-hash.secret"));
  }
  if (config.String("enclave.sigstruct_file").empty()) {
    AddFileIfPresent(plan, "enclave-signer.key", data_dir + "/enclave-signer.key");
  } else {
    plan.not_included.emplace_back("enclave.sigstruct_file",
                                   "signed offline: keep it (and its signer key) with your release artefacts");
  }
  RETURN_IF_ERROR(AddTree(plan, "enclave", Or(config.String("enclave.sealed_dir"), data_dir + "/enclave")));
  RETURN_IF_ERROR(AddTree(plan, "mesh", Or(config.String("mesh.tls.dir"), data_dir + "/mesh")));
  if (!config.String("mesh.tls.ca_dir").empty()) {
    plan.not_included.emplace_back("mesh.tls.ca_dir",
                                   "the mesh CA holds its private key: back up its directory on its own");
  }

  const std::string chain_dir = Or(config.String("chain.devchain.data_dir"), data_dir + "/devchain");
  std::error_code ec;
  const bool chain_there = fs::is_regular_file(chain_dir + "/chain.db", ec);
  if (with_devchain) {
    if (!chain_there) {
      return FailedPreconditionError("--with-devchain: there is no devchain database at " + chain_dir + "/chain.db");
    }
    plan.sources.push_back({"devchain/chain.db", std::string(backup::kKindSqlite), chain_dir + "/chain.db"});
  } else if (chain_there) {
    plan.not_included.emplace_back("devchain/", "the development chain: give --with-devchain to include it");
  }
  NoteUnknown(plan, data_dir);
  return plan;
}

}  // namespace neosl::app::backup_internal
