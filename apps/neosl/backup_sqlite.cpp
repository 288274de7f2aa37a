#include "apps/neosl/backup_sqlite.h"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <system_error>
#include <unistd.h>

#include <sqlite3.h>

namespace neosl::backup {
namespace {

// Pages copied per step: small enough for steady progress, large enough to be quick.
constexpr int kPagesPerStep = 4096;

std::string ErrnoMessage(int err) {
  return std::error_code(err, std::generic_category()).message();
}

// sqlite's messages name files and tables, never values.
Status SqliteError(sqlite3* db, int rc, const std::string& what) {
  std::string msg = what + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return DataLossError(std::move(msg));
    case SQLITE_FULL: return ResourceExhaustedError(std::move(msg));
    case SQLITE_CANTOPEN: return NotFoundError(std::move(msg));
    default: return UnavailableError(std::move(msg));
  }
}

class Db {
 public:
  ~Db() { sqlite3_close_v2(db_); }
  static StatusOr<Db> Open(const std::string& path, int flags) {
    Db d;
    int rc = sqlite3_open_v2(path.c_str(), &d.db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) return SqliteError(d.db_, rc, "opening " + path);
    sqlite3_extended_result_codes(d.db_, 1);
    sqlite3_busy_timeout(d.db_, 5000);
    return d;
  }
  Db(Db&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  Db& operator=(Db&&) = delete;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  sqlite3* get() const { return db_; }

  Status Exec(const char* sql, const std::string& what) {
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    return rc == SQLITE_OK ? Status() : SqliteError(db_, rc, what);
  }

  // The first column of the first row as text ("" when there is no row).
  StatusOr<std::string> Text(const char* sql, const std::string& what) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, what);
    rc = sqlite3_step(stmt);
    std::string out;
    if (rc == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      if (text != nullptr) out = reinterpret_cast<const char*>(text);
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqliteError(db_, rc, what);
    return out;
  }

 private:
  Db() = default;
  sqlite3* db_ = nullptr;
};

Status FsyncFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return UnavailableError("cannot open " + path + ": " + ErrnoMessage(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return UnavailableError("cannot fsync " + path + ": " + ErrnoMessage(err));
  return Status();
}

Status Copy(const std::string& source, const std::string& dest, const std::function<void(int64_t, int64_t)>& progress) {
  // A read connection like the store's own readers: read-write open (a WAL database needs its
  // -shm writable) with every write refused.
  ASSIGN_OR_RETURN(Db src, Db::Open(source, SQLITE_OPEN_READWRITE));
  RETURN_IF_ERROR(src.Exec("PRAGMA query_only=ON", "opening " + source));
  // BEGIN is deferred: the read transaction, and with it the snapshot, starts at the first read.
  // Held across every step, it pins one commit; without it each step would see the newest one
  // and a write by `neosl serve` between steps would restart the copy.
  RETURN_IF_ERROR(src.Exec("BEGIN", "reading " + source));
  RETURN_IF_ERROR(src.Text("SELECT count(*) FROM sqlite_master", "reading " + source).status());

  int fd = ::open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return UnavailableError("cannot create " + dest + ": " + ErrnoMessage(errno));
  ::close(fd);
  ASSIGN_OR_RETURN(Db dst, Db::Open(dest, SQLITE_OPEN_READWRITE));
  sqlite3_backup* backup = sqlite3_backup_init(dst.get(), "main", src.get(), "main");
  if (backup == nullptr) return SqliteError(dst.get(), sqlite3_errcode(dst.get()), "starting the backup of " + source);
  int rc = SQLITE_OK;
  while (true) {
    rc = sqlite3_backup_step(backup, kPagesPerStep);
    const int64_t total = sqlite3_backup_pagecount(backup);
    if (progress) progress(total - sqlite3_backup_remaining(backup), total);
    if (rc != SQLITE_OK) break;
  }
  const int finish = sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) return SqliteError(dst.get(), rc, "copying " + source);
  if (finish != SQLITE_OK) return SqliteError(dst.get(), finish, "copying " + source);
  RETURN_IF_ERROR(src.Exec("COMMIT", "reading " + source));

  ASSIGN_OR_RETURN(std::string check, dst.Text("PRAGMA quick_check", "checking the copy of " + source));
  if (check != "ok") return DataLossError("the copy of " + source + " fails PRAGMA quick_check: " + check);
  // The copy stands alone: a rollback-journal file with no -wal beside it (`neosl serve` turns
  // WAL back on when it opens it).
  ASSIGN_OR_RETURN(std::string mode, dst.Text("PRAGMA journal_mode=DELETE", "finishing the copy of " + source));
  if (mode != "delete") return InternalError("the copy of " + source + " stayed in journal mode " + mode);
  return Status();
}

}  // namespace

Status SnapshotSqlite(const std::string& source, const std::string& dest,
                      const std::function<void(int64_t, int64_t)>& progress) {
  Status s = Copy(source, dest, progress);
  if (s.ok()) s = FsyncFile(dest);
  if (!s.ok()) {
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) ::unlink((dest + suffix).c_str());
  }
  return s;
}

StatusOr<int64_t> SqliteSchemaVersion(const std::string& path) {
  ASSIGN_OR_RETURN(Db db, Db::Open(path, SQLITE_OPEN_READONLY));
  ASSIGN_OR_RETURN(std::string table,
                   db.Text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
                           "reading the schema version of " + path));
  if (table.empty()) return 0;
  ASSIGN_OR_RETURN(std::string version, db.Text("SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                                                "reading the schema version of " + path));
  char* end = nullptr;
  long long v = std::strtoll(version.c_str(), &end, 10);
  if (version.empty() || *end != '\0' || v < 0) {
    return DataLossError(path + " records a schema version that is not a number");
  }
  return int64_t(v);
}

StatusOr<std::optional<pid_t>> FileLockedBy(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && errno == ENOENT) return std::optional<pid_t>();
  if (fd < 0) return UnavailableError("cannot open " + path + ": " + ErrnoMessage(errno));
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 0;  // the whole file, including SQLite's lock bytes at 1 GiB
  int rc = ::fcntl(fd, F_GETLK, &lock);
  int err = errno;
  ::close(fd);
  if (rc != 0) return UnavailableError("cannot query the locks on " + path + ": " + ErrnoMessage(err));
  if (lock.l_type == F_UNLCK) return std::optional<pid_t>();
  return std::optional<pid_t>(lock.l_pid);
}

}  // namespace neosl::backup
