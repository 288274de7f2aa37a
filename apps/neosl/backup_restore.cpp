// `neosl restore`: check everything, then write. The archive is read twice: once to check all of
// it without writing a byte, then again into a staging directory inside the target (re-checking
// as it goes, in case the file changed in between), from which each file is renamed into place.
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <memory>
#include <system_error>
#include <unistd.h>
#include <vector>

#include <boost/json.hpp>
#include <sys/file.h>
#include <sys/stat.h>

#include "apps/neosl/backup_archive.h"
#include "apps/neosl/backup_internal.h"
#include "apps/neosl/backup_postgres.h"
#include "apps/neosl/backup_sqlite.h"
#include "core/encoding.h"
#include "schema/migrations.h"

namespace neosl::app::backup_internal {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string ErrnoMessage(int err) {
  return std::error_code(err, std::generic_category()).message();
}

struct Staged {
  std::string name;
  std::string path;
};

// Writes each member to a numbered file of the staging directory as ReadArchive hands it over:
// 0600 while written, the member's own mode once complete and fsynced.
class StagingSink final : public backup::MemberSink {
 public:
  explicit StagingSink(std::string dir) : dir_(std::move(dir)) {}
  ~StagingSink() override {
    if (fd_ >= 0) ::close(fd_);
  }
  StagingSink(const StagingSink&) = delete;
  StagingSink& operator=(const StagingSink&) = delete;

  Status Begin(const backup::Member& m) override {
    const std::string path = dir_ + "/" + std::to_string(staged_.size());
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd_ < 0) return UnavailableError("cannot create " + path + ": " + ErrnoMessage(errno));
    staged_.push_back({m.name, path});
    mode_ = m.mode & 0777;  // never set-id or sticky bits from an archive
    return Status();
  }
  Status Data(std::span<const uint8_t> chunk) override {
    size_t done = 0;
    while (done < chunk.size()) {
      ssize_t n = ::write(fd_, chunk.data() + done, chunk.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return UnavailableError("cannot write " + staged_.back().path + ": " + ErrnoMessage(errno));
      done += size_t(n);
    }
    return Status();
  }
  Status End() override {
    bool ok = ::fsync(fd_) == 0 && ::fchmod(fd_, mode_) == 0;
    int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (!ok) return UnavailableError("cannot finish " + staged_.back().path + ": " + ErrnoMessage(err));
    return Status();
  }
  const std::vector<Staged>& staged() const { return staged_; }

 private:
  std::string dir_;
  int fd_ = -1;
  mode_t mode_ = 0600;
  std::vector<Staged> staged_;
};

// The staging directory inside the target, removed with whatever is left in it.
struct Staging {
  std::string dir;
  ~Staging() {
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
};

const backup::Member* Find(const backup::Manifest& m, std::string_view kind) {
  for (const backup::Member& e : m.members) {
    if (e.kind == kind) return &e;
  }
  return nullptr;
}

// What the manifest asks for is something this binary can do.
Status CheckManifest(const backup::Manifest& m) {
  const int64_t newest = int64_t(schema::Migrations().size());
  if (m.schema_version > newest) {
    return FailedPreconditionError("the backup's schema version " + std::to_string(m.schema_version) +
                                   " is newer than this binary's newest migration (" + std::to_string(newest) +
                                   "); restore it with neosl " + m.neosl_version + " or newer");
  }
  for (const backup::Member& e : m.members) {
    if (e.kind != backup::kKindFile && e.kind != backup::kKindSqlite && e.kind != backup::kKindPostgres) {
      return InvalidArgumentError("member " + e.name + " is of a kind this binary does not know: " + e.kind);
    }
  }
  if (m.store_driver == "sqlite") {
    const backup::Member* db = Find(m, backup::kKindSqlite);
    if (db == nullptr || db->name != "neosl.db") return InvalidArgumentError("the backup holds no neosl.db");
  } else if (m.store_driver == "postgres") {
    if (Find(m, backup::kKindPostgres) == nullptr) return InvalidArgumentError("the backup holds no PostgreSQL dump");
  } else {
    return InvalidArgumentError("the backup is of store driver '" + m.store_driver + "', which this binary lacks");
  }
  return Status();
}

// The lock `neosl serve` holds on DIR/serve.lock while it runs, taken for the restore so that no
// server starts on the directory meanwhile. -1 when there is no such file (a new directory, or
// one no server has used).
StatusOr<int> HoldServeLock(const std::string& dir) {
  const std::string path = dir + "/serve.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && errno == ENOENT) return -1;
  if (fd < 0) return UnavailableError("cannot open " + path + ": " + ErrnoMessage(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return FailedPreconditionError("a `neosl serve` is running on " + dir + " (it holds " + path +
                                     "): stop it first");
    }
    return UnavailableError("cannot lock " + path + ": " + ErrnoMessage(err));
  }
  return fd;
}

// The target may be written: new or empty, or --force and nothing in the way.
Status CheckTarget(const std::string& dir, const backup::Manifest& m, bool force) {
  std::error_code ec;
  auto st = fs::status(dir, ec);
  if (st.type() == fs::file_type::not_found) return Status();
  if (ec) return UnavailableError("cannot look at " + dir + ": " + ec.message());
  if (st.type() != fs::file_type::directory) return FailedPreconditionError(dir + " exists and is not a directory");
  if (fs::directory_iterator(dir, ec) == fs::directory_iterator()) return Status();
  if (!force) {
    return FailedPreconditionError(dir +
                                   " is not empty: restore into a new or empty directory, or give --force to "
                                   "overwrite the backup's files there (nothing else in it is touched)");
  }
  for (const backup::Member& e : m.members) {
    if (e.kind == backup::kKindPostgres) continue;
    // Every directory on the way must be a real one: a symbolic link could lead outside DIR.
    fs::path at(dir);
    const fs::path name(e.name);
    for (auto it = name.begin(); it != name.end(); ++it) {
      at /= *it;
      auto type = fs::symlink_status(at, ec).type();
      const bool last = std::next(it) == name.end();
      if (type == fs::file_type::not_found) break;
      if (!last && type != fs::file_type::directory) {
        return FailedPreconditionError(at.string() + " is not a directory (a link?): refusing to write through it");
      }
      if (last && type == fs::file_type::directory) {
        return FailedPreconditionError(at.string() + " is a directory where the backup has a file");
      }
    }
    if (e.kind == backup::kKindSqlite) {
      ASSIGN_OR_RETURN(std::optional<pid_t> pid, backup::FileLockedBy(dir + "/" + e.name));
      if (pid) {
        return FailedPreconditionError(dir + "/" + e.name + " is open in process " + std::to_string(*pid) +
                                       " (is `neosl serve` running on " + dir + "?): stop it first");
      }
    }
  }
  return Status();
}

Status MakeParents(const std::string& dir, const std::string& name) {
  fs::path at(dir);
  fs::path rel = fs::path(name).parent_path();
  for (const fs::path& part : rel) {
    at /= part;
    if (::mkdir(at.c_str(), 0700) != 0 && errno != EEXIST) {
      return UnavailableError("cannot create " + at.string() + ": " + ErrnoMessage(errno));
    }
  }
  return Status();
}

// Renames a staged file into place; a database's stale -wal/-shm/-journal go first, or SQLite
// would replay another database's log into the restored one.
Status Install(const std::string& dir, const Staged& s, bool database) {
  RETURN_IF_ERROR(MakeParents(dir, s.name));
  const std::string target = dir + "/" + s.name;
  if (database) {
    for (const char* suffix : {"-wal", "-shm", "-journal"}) {
      if (::unlink((target + suffix).c_str()) != 0 && errno != ENOENT) {
        return UnavailableError("cannot remove " + target + suffix + ": " + ErrnoMessage(errno));
      }
    }
  }
  if (::rename(s.path.c_str(), target.c_str()) != 0) {
    return UnavailableError("cannot rename into " + target + ": " + ErrnoMessage(errno));
  }
  return FsyncDir(fs::path(target).parent_path().string());
}

StatusOr<json::object> Restore(const RestoreFlags& f) {
  int fd = ::open(f.in.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return NotFoundError("--in: there is no file " + f.in);
  if (fd < 0) return UnavailableError("cannot open " + f.in + ": " + ErrnoMessage(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  // 1. The whole archive, checked before anything is written.
  std::fprintf(stderr, "neosl restore: checking %s\n", f.in.c_str());
  auto checked = backup::ReadArchive(fd);
  if (!checked.ok()) return checked.status().Annotate(f.in);
  const backup::Manifest& manifest = *checked;
  std::fprintf(stderr, "neosl restore: %s is whole: %zu files, schema version %lld, made %s by neosl %s\n",
               f.in.c_str(), manifest.members.size(), static_cast<long long>(manifest.schema_version),
               FormatRfc3339Millis(manifest.created_at_ms).c_str(), manifest.neosl_version.c_str());
  RETURN_IF_ERROR(CheckManifest(manifest));
  std::string dsn;
  if (manifest.store_driver == "postgres") {
    ASSIGN_OR_RETURN(Config config, LoadCliConfig(f.config_file, f.data_dir));
    dsn = config.Has("store.postgres.dsn") ? config.String("store.postgres.dsn") : "";
    if (dsn.empty()) {
      return InvalidArgumentError(
          "the backup holds a PostgreSQL dump: give --config with store.postgres.dsn (or "
          "NEOSL_STORE_POSTGRES_DSN) for the database to restore it into");
    }
  }
  ASSIGN_OR_RETURN(int serve_lock, HoldServeLock(f.data_dir));
  struct Unlock {
    int fd;
    ~Unlock() {
      if (fd >= 0) ::close(fd);  // closing releases the flock
    }
  } unlock{serve_lock};
  RETURN_IF_ERROR(CheckTarget(f.data_dir, manifest, f.force));

  // 2. Into a staging directory inside the target, so that every rename stays on one filesystem.
  std::error_code ec;
  if (!fs::exists(f.data_dir, ec)) {
    fs::create_directories(f.data_dir, ec);
    if (ec) return UnavailableError("cannot create " + f.data_dir + ": " + ec.message());
    ::chmod(f.data_dir.c_str(), 0700);
  }
  Staging staging{f.data_dir + "/.neosl-restore-XXXXXX"};
  if (::mkdtemp(staging.dir.data()) == nullptr) {
    int err = errno;
    staging.dir.clear();
    return UnavailableError("cannot create a staging directory in " + f.data_dir + ": " + ErrnoMessage(err));
  }
  if (::lseek(fd, 0, SEEK_SET) != 0) return UnavailableError("cannot rewind " + f.in + ": " + ErrnoMessage(errno));
  StagingSink sink(staging.dir);
  auto again = backup::ReadArchive(fd, &sink);
  if (!again.ok()) return again.status().Annotate(f.in + " (second reading)");
  if (backup::ManifestToJson(*again) != backup::ManifestToJson(manifest)) {
    return DataLossError(f.in + " changed while it was being restored");
  }

  // 3. The PostgreSQL dump first: if it fails, nothing has been put into the data directory.
  const std::vector<Staged>& staged = sink.staged();
  for (size_t i = 0; i < staged.size(); ++i) {
    if (manifest.members[i].kind != backup::kKindPostgres) continue;
    std::fprintf(stderr, "neosl restore: pg_restore of %s\n", staged[i].name.c_str());
    RETURN_IF_ERROR(backup::PostgresRestore(dsn, staged[i].path, f.force));
  }
  // 4. Files, then the databases, each renamed into place.
  for (bool databases : {false, true}) {
    for (size_t i = 0; i < staged.size(); ++i) {
      const std::string& kind = manifest.members[i].kind;
      if (kind == backup::kKindPostgres || (kind == backup::kKindSqlite) != databases) continue;
      RETURN_IF_ERROR(Install(f.data_dir, staged[i], databases));
      std::fprintf(stderr, "neosl restore: wrote %s\n", staged[i].name.c_str());
    }
  }
  RETURN_IF_ERROR(FsyncDir(f.data_dir));

  json::array members, left_out;
  uint64_t bytes = 0;
  for (const backup::Member& m : manifest.members) {
    members.push_back(json::object{{"name", m.name}, {"kind", m.kind}, {"bytes", m.size}});
    bytes += m.size;
  }
  for (const auto& [what, why] : manifest.not_included) {
    left_out.push_back(json::object{{"what", what}, {"why", why}});
  }
  return json::object{{"data_dir", f.data_dir},
                      {"files", manifest.members.size()},
                      {"bytes", bytes},
                      {"store_driver", manifest.store_driver},
                      {"schema_version", manifest.schema_version},
                      {"with_devchain", manifest.with_devchain},
                      {"created_at", FormatRfc3339Millis(manifest.created_at_ms)},
                      {"neosl_version", manifest.neosl_version},
                      {"members", std::move(members)},
                      {"not_included", std::move(left_out)}};
}

}  // namespace

int RunRestore(const RestoreFlags& flags) {
  auto summary = Restore(flags);
  if (!summary.ok()) return Fail("restore", summary.status());
  std::printf("%s\n", json::serialize(*summary).c_str());
  return 0;
}

}  // namespace neosl::app::backup_internal
