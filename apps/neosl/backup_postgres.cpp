#include "apps/neosl/backup_postgres.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <system_error>
#include <unistd.h>
#include <vector>

#include <openssl/crypto.h>
#include <sys/wait.h>

extern char** environ;

namespace neosl::backup {
namespace {

std::string ErrnoMessage(int err) {
  return std::error_code(err, std::generic_category()).message();
}

// The program `name` on $PATH, or "" if it is not there.
std::string FindProgram(const std::string& name) {
  const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe): a one-shot CLI; nothing sets it
  std::string dirs = path != nullptr && *path != '\0' ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = (end == start ? "." : dirs.substr(start, end - start)) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(char(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

StatusOr<SplitDsn> SplitUri(std::string_view dsn, size_t scheme_end) {
  SplitDsn out;
  const size_t authority = scheme_end + 3;
  size_t authority_end = dsn.find_first_of("/?#", authority);
  if (authority_end == std::string_view::npos) authority_end = dsn.size();
  std::string_view auth = dsn.substr(authority, authority_end - authority);
  std::string rest(dsn.substr(authority_end));
  size_t at = auth.rfind('@');
  std::string new_auth(auth);
  if (at != std::string_view::npos) {
    std::string_view userinfo = auth.substr(0, at);
    size_t colon = userinfo.find(':');
    if (colon != std::string_view::npos) {
      out.password = PercentDecode(userinfo.substr(colon + 1));
      new_auth = std::string(userinfo.substr(0, colon)) + std::string(auth.substr(at));
    }
  }
  // A password may also be a query parameter: ?password=…&…
  size_t q = rest.find('?');
  if (q != std::string::npos) {
    std::string query = rest.substr(q + 1), kept;
    size_t start = 0;
    while (start <= query.size()) {
      size_t amp = query.find('&', start);
      if (amp == std::string::npos) amp = query.size();
      std::string param = query.substr(start, amp - start);
      if (param.rfind("password=", 0) == 0) {
        out.password = PercentDecode(std::string_view(param).substr(9));
      } else if (!param.empty()) {
        kept += (kept.empty() ? "" : "&") + param;
      }
      start = amp + 1;
    }
    rest = rest.substr(0, q) + (kept.empty() ? "" : "?" + kept);
  }
  out.without_password = std::string(dsn.substr(0, authority)) + new_auth + rest;
  return out;
}

StatusOr<SplitDsn> SplitKeywords(std::string_view dsn) {
  SplitDsn out;
  size_t i = 0;
  while (i < dsn.size()) {
    while (i < dsn.size() && std::isspace(static_cast<unsigned char>(dsn[i]))) ++i;
    if (i == dsn.size()) break;
    const size_t word = i;
    while (i < dsn.size() && dsn[i] != '=' && !std::isspace(static_cast<unsigned char>(dsn[i]))) ++i;
    std::string key(dsn.substr(word, i - word));
    while (i < dsn.size() && std::isspace(static_cast<unsigned char>(dsn[i]))) ++i;
    if (i == dsn.size() || dsn[i] != '=') return InvalidArgumentError("store.postgres.dsn: a keyword has no '='");
    ++i;
    while (i < dsn.size() && std::isspace(static_cast<unsigned char>(dsn[i]))) ++i;
    std::string value;
    const bool quoted = i < dsn.size() && dsn[i] == '\'';
    if (quoted) ++i;
    while (i < dsn.size()) {
      char c = dsn[i];
      if (quoted ? c == '\'' : std::isspace(static_cast<unsigned char>(c))) break;
      if (c == '\\' && i + 1 < dsn.size()) c = dsn[++i];
      value.push_back(c);
      ++i;
    }
    if (quoted) {
      if (i == dsn.size()) return InvalidArgumentError("store.postgres.dsn: a quoted value is not closed");
      ++i;
    }
    if (key == "password") {
      out.password = std::move(value);
    } else {
      if (!out.without_password.empty()) out.without_password += ' ';
      out.without_password += std::string(dsn.substr(word, i - word));
    }
  }
  return out;
}

// Runs `program` with `args`, the password (if any) in PGPASSWORD; its stderr goes to ours, its
// stdout to `out_file` if given.
Status Run(const std::string& program, std::vector<std::string> args, const std::string& password,
           const std::string& out_file = "") {
  const std::string path = FindProgram(program);
  if (path.empty()) {
    return UnimplementedError(program + " is not installed, and a PostgreSQL store (store.driver: postgres) is " +
                              "backed up and restored with it; install Debian's postgresql-client");
  }
  args.insert(args.begin(), path);
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "PGPASSWORD=", 11) != 0) env.emplace_back(*e);
  }
  if (!password.empty()) env.push_back("PGPASSWORD=" + password);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);  // never a password prompt
  if (!out_file.empty()) posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_TRUNC, 0);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, path.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  for (auto& e : env) OPENSSL_cleanse(e.data(), e.size());  // the copy holding the password
  if (rc != 0) return UnavailableError("cannot run " + path + ": " + ErrnoMessage(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return UnavailableError("waiting for " + program + ": " + ErrnoMessage(errno));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status();
  return UnavailableError(program + " failed (exit status " +
                          std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)) +
                          "); its error is above");
}

}  // namespace

StatusOr<SplitDsn> SplitPassword(std::string_view dsn) {
  for (std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (dsn.substr(0, scheme.size()) == scheme) return SplitUri(dsn, scheme.size() - 3);
  }
  return SplitKeywords(dsn);
}

Status PostgresDump(const std::string& dsn, const std::string& dest) {
  if (dsn.empty()) return InvalidArgumentError("store.driver is postgres but store.postgres.dsn is empty");
  ASSIGN_OR_RETURN(SplitDsn split, SplitPassword(dsn));
  // pg_dump truncates and keeps an existing file's mode: made here 0600, it stays so.
  int fd = ::open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return UnavailableError("cannot create " + dest + ": " + ErrnoMessage(errno));
  ::close(fd);
  Status s =
      Run("pg_dump", {"--format=custom", "--no-password", "--file=" + dest, "--dbname=" + split.without_password},
          split.password);
  OPENSSL_cleanse(split.password.data(), split.password.size());
  if (!s.ok()) ::unlink(dest.c_str());
  return s;
}

StatusOr<int64_t> PostgresSchemaVersion(const std::string& dsn, const std::string& scratch) {
  ASSIGN_OR_RETURN(SplitDsn split, SplitPassword(dsn));
  int fd = ::open(scratch.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return UnavailableError("cannot create " + scratch + ": " + ErrnoMessage(errno));
  ::close(fd);
  Status s =
      Run("psql",
          {"--no-password", "--no-psqlrc", "--tuples-only", "--no-align", "--set=ON_ERROR_STOP=1",
           "--command=SELECT COALESCE(MAX(version), 0) FROM schema_migrations", "--dbname=" + split.without_password},
          split.password, scratch);
  OPENSSL_cleanse(split.password.data(), split.password.size());
  std::string text;
  if (s.ok()) {
    fd = ::open(scratch.c_str(), O_RDONLY | O_CLOEXEC);
    char buf[64];
    ssize_t n = fd < 0 ? -1 : ::read(fd, buf, sizeof buf);
    if (fd >= 0) ::close(fd);
    if (n > 0) text.assign(buf, size_t(n));
  }
  ::unlink(scratch.c_str());
  RETURN_IF_ERROR(s);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < 0) return DataLossError("psql answered no schema version");
  return int64_t(v);
}

Status PostgresRestore(const std::string& dsn, const std::string& dump, bool clean) {
  if (dsn.empty()) return InvalidArgumentError("the backup holds a PostgreSQL dump but store.postgres.dsn is empty");
  ASSIGN_OR_RETURN(SplitDsn split, SplitPassword(dsn));
  std::vector<std::string> args = {"--format=custom",      "--no-password", "--exit-on-error",
                                   "--single-transaction", "--no-owner",    "--dbname=" + split.without_password};
  if (clean) args.insert(args.end(), {"--clean", "--if-exists"});
  args.push_back(dump);
  Status s = Run("pg_restore", std::move(args), split.password);
  OPENSSL_cleanse(split.password.data(), split.password.size());
  return s;
}

}  // namespace neosl::backup
