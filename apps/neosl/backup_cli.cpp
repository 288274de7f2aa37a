#include "apps/neosl/backup_cli.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <memory>
#include <system_error>
#include <unistd.h>

#include <boost/json.hpp>
#include <sys/stat.h>

#include "apps/neosl/backup_archive.h"
#include "apps/neosl/backup_internal.h"
#include "apps/neosl/backup_plan.h"
#include "apps/neosl/backup_postgres.h"
#include "apps/neosl/backup_sqlite.h"
#include "core/encoding.h"

#ifndef NEOSL_VERSION
#define NEOSL_VERSION "0.0.0"
#endif

namespace neosl::app {
namespace backup_internal {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string ErrnoMessage(int err) {
  return std::error_code(err, std::generic_category()).message();
}

// A private directory beside the archive for the database snapshots, removed with what is in it.
class Scratch {
 public:
  static StatusOr<std::unique_ptr<Scratch>> Make(const std::string& beside) {
    std::string templ = (fs::path(beside).parent_path() / ".neosl-backup-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) {
      return UnavailableError("cannot create a scratch directory beside " + beside + ": " + ErrnoMessage(errno));
    }
    return std::unique_ptr<Scratch>(new Scratch(templ));
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  std::string File(const std::string& name) const { return dir_ + "/" + name; }

 private:
  explicit Scratch(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

Status CheckOut(const std::string& out, const std::string& data_dir) {
  if (out.empty()) return InvalidArgumentError("--out is required");
  std::error_code ec;
  const fs::path parent = fs::weakly_canonical(fs::absolute(out).parent_path(), ec);
  if (ec || !fs::is_directory(parent, ec)) {
    return InvalidArgumentError("--out: the directory of " + out + " does not exist");
  }
  const fs::path data = fs::weakly_canonical(fs::absolute(data_dir), ec);
  const std::string p = parent.string() + "/";
  if (p.rfind(data.string() + "/", 0) == 0) {
    return InvalidArgumentError("--out: " + out + " is inside the data directory; keep backups elsewhere");
  }
  return Status();
}

// Adds the file at `path` to the archive, with the mode of `mode_of` (a snapshot keeps the mode
// of the database it copies) or its own.
Status AddPath(backup::ArchiveWriter& writer, const Source& s, const std::string& path,
               const std::string& mode_of = "") {
  struct stat original {};
  if (!mode_of.empty() && ::stat(mode_of.c_str(), &original) != 0) {
    return UnavailableError("cannot stat " + mode_of + ": " + ErrnoMessage(errno));
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return UnavailableError("cannot read " + path + ": " + ErrnoMessage(errno));
  struct stat st {};
  Status status;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    status = FailedPreconditionError(path + " is not a regular file");
  } else {
    const mode_t mode = (mode_of.empty() ? st.st_mode : original.st_mode) & 0777;
    status = writer.AddFile(s.member, s.kind, mode, fd, uint64_t(st.st_size));
  }
  ::close(fd);
  return status;
}

void Progress(const std::string& member, int64_t done, int64_t total) {
  std::fprintf(stderr, "neosl backup: %s: %lld/%lld pages\n", member.c_str(), static_cast<long long>(done),
               static_cast<long long>(total));
}

StatusOr<json::object> Backup(const BackupFlags& f) {
  ASSIGN_OR_RETURN(Config config, LoadCliConfig(f.config_file, f.data_dir));
  const std::string& data_dir = config.String("data_dir");
  std::error_code ec;
  if (!fs::is_directory(data_dir, ec)) return NotFoundError("no data directory at " + data_dir);
  RETURN_IF_ERROR(CheckOut(f.out, data_dir));
  ASSIGN_OR_RETURN(Plan plan, PlanBackup(config, data_dir, f.with_devchain));

  ASSIGN_OR_RETURN(std::unique_ptr<Scratch> scratch, Scratch::Make(fs::absolute(f.out).string()));
  const std::string tmp = f.out + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return UnavailableError("cannot create " + tmp + ": " + ErrnoMessage(errno));
  // An older file of that name keeps its mode through O_TRUNC: the archive holds secrets.
  struct Closer {
    int fd;
    std::string path;
    bool keep = false;
    ~Closer() {
      ::close(fd);
      if (!keep) ::unlink(path.c_str());
    }
  } closer{fd, tmp};
  if (::fchmod(fd, 0600) != 0) return UnavailableError("cannot chmod " + tmp + ": " + ErrnoMessage(errno));

  backup::ArchiveWriter writer(fd);
  backup::Manifest manifest;
  manifest.neosl_version = NEOSL_VERSION;
  manifest.store_driver = plan.store_driver;
  manifest.with_devchain = f.with_devchain;
  manifest.created_at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  for (size_t i = 0; i < plan.sources.size(); ++i) {
    const Source& s = plan.sources[i];
    if (s.kind == backup::kKindSqlite) {
      const std::string snapshot = scratch->File(std::to_string(i) + ".db");
      RETURN_IF_ERROR(backup::SnapshotSqlite(s.path, snapshot, [&](int64_t done, int64_t total) {
        // One step copies everything of a small database: only larger ones report steps.
        if (total > 4096) Progress(s.member, done, total);
      }));
      if (s.member == "neosl.db") {
        ASSIGN_OR_RETURN(manifest.schema_version, backup::SqliteSchemaVersion(snapshot));
      }
      RETURN_IF_ERROR(AddPath(writer, s, snapshot, s.path));
      ::unlink(snapshot.c_str());  // its space back before the next one
    } else if (s.kind == backup::kKindPostgres) {
      const std::string dump = scratch->File("store.pgdump");
      RETURN_IF_ERROR(backup::PostgresDump(plan.postgres_dsn, dump));
      // Read after the dump: migrations run only when a server starts, not during a backup.
      ASSIGN_OR_RETURN(manifest.schema_version,
                       backup::PostgresSchemaVersion(plan.postgres_dsn, scratch->File("schema_version")));
      RETURN_IF_ERROR(AddPath(writer, s, dump));
      ::unlink(dump.c_str());
    } else {
      RETURN_IF_ERROR(AddPath(writer, s, s.path));
    }
    std::fprintf(stderr, "neosl backup: added %s (%llu bytes)\n", s.member.c_str(),
                 static_cast<unsigned long long>(writer.members().back().size));
  }
  manifest.not_included = plan.not_included;
  RETURN_IF_ERROR(writer.Finish(manifest));
  if (::fsync(fd) != 0) return UnavailableError("cannot fsync " + tmp + ": " + ErrnoMessage(errno));
  if (::rename(tmp.c_str(), f.out.c_str()) != 0) {
    return UnavailableError("cannot rename " + tmp + " to " + f.out + ": " + ErrnoMessage(errno));
  }
  closer.keep = true;
  RETURN_IF_ERROR(FsyncDir(fs::absolute(f.out).parent_path().string()));

  // Names and sizes only: no member's bytes or digest, some of them being keys.
  json::array members, left_out;
  for (const backup::Member& m : writer.members()) {
    members.push_back(json::object{{"name", m.name}, {"kind", m.kind}, {"bytes", m.size}});
  }
  for (const auto& [what, why] : plan.not_included) left_out.push_back(json::object{{"what", what}, {"why", why}});
  return json::object{{"archive", f.out},
                      {"bytes", writer.bytes_written()},
                      {"sha256", writer.FileSha256()},
                      {"files", writer.members().size()},
                      {"store_driver", manifest.store_driver},
                      {"schema_version", manifest.schema_version},
                      {"with_devchain", manifest.with_devchain},
                      {"created_at", FormatRfc3339Millis(manifest.created_at_ms)},
                      {"members", std::move(members)},
                      {"not_included", std::move(left_out)}};
}

}  // namespace

int Fail(std::string_view command, const Status& status) {
  std::fprintf(stderr, "neosl %.*s: %.*s\n", int(command.size()), command.data(), int(status.message().size()),
               status.message().data());
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kNotFound:
    case StatusCode::kAlreadyExists:
    case StatusCode::kDataLoss:
    case StatusCode::kOutOfRange: return 1;
    default: return 2;
  }
}

std::string Or(const std::string& value, const std::string& fallback) {
  return value.empty() ? fallback : value;
}

Status FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return UnavailableError("cannot open " + dir + ": " + ErrnoMessage(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return UnavailableError("cannot fsync " + dir + ": " + ErrnoMessage(err));
  return Status();
}

int RunBackup(const BackupFlags& flags) {
  auto summary = Backup(flags);
  if (!summary.ok()) return Fail("backup", summary.status());
  std::printf("%s\n", json::serialize(*summary).c_str());
  return 0;
}

}  // namespace backup_internal

namespace {

constexpr char kBackupFooter[] = R"(
In the archive: the store (a consistent snapshot taken with SQLite's online backup API, or
pg_dump for store.driver postgres), the sealed enclave state (enclave/), the platform secret,
the admin key, the API key hashing secret, the development enclave signer key, and the mesh
certificates and keys (mesh/). With --with-devchain, the devchain's database too. Not in it:
what a running server writes for itself (listen.addr, serve.lock, instance.id,
observability.addr), logs, the file registry's leases, enclave.sigstruct (re-signed at start),
*.tmp, and secrets given inline in the configuration. Details: docs/backup.md.

The archive holds the platform secret, from which the sealing keys derive, and the keys above:
whoever has it has everything in it. It is written mode 0600; store and ship it encrypted.
It is written to FILE.tmp, fsynced, then renamed to FILE. Progress goes to stderr and a JSON
summary to stdout (no secrets). Exit 0 ok, 1 refused (bad flags, no data), 2 could not run.)";

constexpr char kRestoreFooter[] = R"(
Checks the whole archive first (every member's SHA-256 against the manifest, the archive's own
SHA-256, the tar headers, its end) and writes nothing unless all of it holds. Refuses a DIR
that exists and is not empty unless --force, and a backup whose schema is newer than this
binary's migrations. With --force it overwrites only the files the backup holds (removing a
restored database's stale -wal/-shm), never anything outside DIR, and refuses while a process
has a database in DIR open. Files get their original modes (secrets 0600); databases are written
under a temporary name and renamed. Exit 0 ok, 1 refused or invalid archive, 2 could not run.)";

}  // namespace

std::function<int()> AddBackupCommands(CLI::App& app) {
  auto b = std::make_shared<backup_internal::BackupFlags>();
  auto r = std::make_shared<backup_internal::RestoreFlags>();
  auto* backup = app.add_subcommand(
      "backup", "Write a consistent snapshot of a data directory's state to one archive (works while serving)");
  backup->add_option("--out", b->out, "the archive to write (mode 0600: it holds the platform secret)")->required();
  backup->add_option("--data", b->data_dir, "the data directory (env NEOSL_DATA_DIR; default ./data)");
  backup->add_option("--config", b->config_file,
                     "the configuration `neosl serve` runs with (env NEOSL_CONFIG), for where things are");
  backup->add_flag("--with-devchain", b->with_devchain,
                   "include the embedded devchain's database (what deposits on a development chain point to)");
  backup->footer(kBackupFooter);

  auto* restore =
      app.add_subcommand("restore", "Check a backup archive, then restore it into a new (or empty) data directory");
  restore->add_option("--in", r->in, "the archive written by `neosl backup`")->required();
  restore->add_option("--data", r->data_dir, "the data directory to restore into")->required();
  restore->add_option("--config", r->config_file,
                      "configuration with store.postgres.dsn, for a PostgreSQL backup (env NEOSL_CONFIG)");
  restore->add_flag("--force", r->force, "restore into a non-empty directory, overwriting the backup's files there");
  restore->footer(kRestoreFooter);
  return [=]() -> int {
    if (backup->parsed()) return backup_internal::RunBackup(*b);
    if (restore->parsed()) return backup_internal::RunRestore(*r);
    return -1;
  };
}

}  // namespace neosl::app
