#include "support/postgres_cluster.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <grp.h>
#include <pwd.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <vector>

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "support/child_process.h"
#include <libpq-fe.h>
#include <netinet/in.h>

namespace neosl::testing {
namespace {

std::string Errno(const std::string& what) {
  return what + ": " + std::error_code(errno, std::generic_category()).message();
}

std::string RandomHex(size_t bytes) {
  std::ifstream in("/dev/urandom", std::ios::binary);
  std::string out;
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < bytes && in; ++i) {
    auto b = static_cast<unsigned char>(in.get());
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace

std::string PostgresCluster::BinDir() {
  auto usable = [](const std::filesystem::path& dir) {
    return ::access((dir / "initdb").c_str(), X_OK) == 0 && ::access((dir / "postgres").c_str(), X_OK) == 0;
  };
  const char* env = std::getenv("NEOSL_PG_BIN");  // NOLINT(concurrency-mt-unsafe): nothing sets the environment
  if (env != nullptr && *env != '\0') return usable(env) ? env : "";
  std::error_code ec;
  std::string best;
  int best_version = -1;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    char* end = nullptr;
    long version = std::strtol(name.c_str(), &end, 10);
    if (end == name.c_str() || *end != '\0' || !usable(entry.path() / "bin")) continue;
    if (version > best_version) {
      best_version = static_cast<int>(version);
      best = (entry.path() / "bin").string();
    }
  }
  return best;
}

std::unique_ptr<PostgresCluster> PostgresCluster::Launch(std::string* error) {
  std::unique_ptr<PostgresCluster> c(new PostgresCluster());
  c->bin_ = BinDir();
  if (c->bin_.empty()) {
    *error =
        "PostgreSQL is not installed: no /usr/lib/postgresql/<version>/bin with initdb and postgres "
        "(run scripts/install-deps, which installs the postgresql package, or set NEOSL_PG_BIN)";
    return nullptr;
  }
  c->temp_ = std::make_unique<TempDir>();
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");  // NOLINT(concurrency-mt-unsafe): copied out at once
    if (pw == nullptr) {
      *error = "running as root, which PostgreSQL refuses, and there is no 'postgres' user to run it as";
      return nullptr;
    }
    c->switch_user_ = true;
    c->uid_ = pw->pw_uid;
    c->gid_ = pw->pw_gid;
    if (::chown(c->temp_->path().c_str(), c->uid_, c->gid_) != 0) {
      *error = Errno("chown " + c->temp_->path());
      return nullptr;
    }
  }

  // The superuser's password is never used (we administer over the Unix socket, where local
  // connections are trusted), but scram on TCP needs one set.
  const std::string pwfile = c->temp_->File("pwfile");
  WriteFile(pwfile, RandomHex(16) + "\n");
  if (c->switch_user_ && ::chown(pwfile.c_str(), c->uid_, c->gid_) != 0) {
    *error = Errno("chown " + pwfile);
    return nullptr;
  }
  if (!c->RunAsServerUser({c->bin_ + "/initdb", "-D", c->temp_->File("data"), "-U", "postgres", "--auth-local=trust",
                           "--auth-host=scram-sha-256", "--pwfile=" + pwfile, "-E", "UTF8", "--locale=C", "--no-sync",
                           "--no-instructions"},
                          c->temp_->File("initdb.log"), error)) {
    *error = "initdb failed: " + *error + "\n" + ReadFile(c->temp_->File("initdb.log"));
    return nullptr;
  }
  std::filesystem::remove(pwfile);

  for (int attempt = 0; attempt < 3; ++attempt) {
    c->port_ = FreeLoopbackPort();
    if (c->port_ != 0 && c->Start(error)) break;
  }
  if (!c->running()) {
    if (error->empty()) *error = "found no free loopback port for PostgreSQL";
    return nullptr;
  }

  c->password_ = RandomHex(16);
  if (!c->Admin("CREATE ROLE neosl LOGIN PASSWORD '" + c->password_ + "'", error)) return nullptr;
  return c;
}

PostgresCluster::~PostgresCluster() {
  Stop();
}

bool PostgresCluster::RunAsServerUser(const std::vector<std::string>& args, const std::string& log,
                                      std::string* error) {
  pid_t pid = SpawnAsServerUser(args, log, error);
  if (pid < 0) return false;
  int status = 0;
  if ((status = WaitForExit(pid, std::chrono::seconds(120))) == -2) {
    ::kill(pid, SIGKILL);
    status = WaitForExit(pid, std::chrono::seconds(10));
    *error = args[0] + " did not finish within 120 s";
    return false;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    *error = args[0] + " exited with status " + std::to_string(status);
    return false;
  }
  return true;
}

pid_t PostgresCluster::SpawnAsServerUser(const std::vector<std::string>& args, const std::string& log,
                                         std::string* error) {
  // Everything the child needs is made before fork: after it, only async-signal-safe calls.
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  argv.reserve(copy.size() + 1);
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0) {
    *error = Errno("opening " + log);
    return -1;
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    *error = Errno("fork");
    ::close(out);
    return -1;
  }
  if (pid == 0) {
    int in = ::open("/dev/null", O_RDONLY);
    if (in < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) ::_exit(126);
    if (in > 2) ::close(in);
    if (switch_user_ && (::setgroups(0, nullptr) != 0 || ::setgid(gid_) != 0 || ::setuid(uid_) != 0)) ::_exit(125);
    // After setuid, which would clear it: the server shuts down (immediately) if we die.
    if (::prctl(PR_SET_PDEATHSIG, SIGQUIT) != 0 || ::getppid() != parent) ::_exit(124);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out);
  return pid;
}

std::string PostgresCluster::AdminDsn() const {
  return "host=" + temp_->path() + " port=" + std::to_string(port_) + " user=postgres dbname=postgres";
}

bool PostgresCluster::Start(std::string* error) {
  if (running()) return true;
  const std::string log = temp_->File("postgres.log");
  // fsync off for speed. synchronous_commit stays on: with it off, a commit could still sit in
  // shared memory when Stop() kills the server, and tests of a restart would lose it.
  pid_ = SpawnAsServerUser({bin_ + "/postgres", "-D", temp_->File("data"), "-c", "listen_addresses=127.0.0.1", "-c",
                            "port=" + std::to_string(port_), "-c", "unix_socket_directories=" + temp_->path(), "-c",
                            "fsync=off", "-c", "full_page_writes=off", "-c", "shared_buffers=16MB", "-c",
                            "max_connections=100", "-c", "log_min_messages=warning"},
                           log, error);
  if (pid_ < 0) return false;
  const std::string dsn = AdminDsn() + " connect_timeout=2";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (PQping(dsn.c_str()) == PQPING_OK) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      *error = "postgres exited before accepting connections; log:\n" + Logs();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling for readiness
  }
  *error = "postgres did not accept connections within 60 s; log:\n" + Logs();
  Stop();
  return false;
}

void PostgresCluster::Stop() {
  if (pid_ <= 0) return;
  // SIGQUIT is the immediate shutdown: the server ends every session and exits without a
  // checkpoint, as pg_ctl stop -m immediate does. Its own children are gone when it exits.
  ::kill(pid_, SIGQUIT);
  int status = 0;
  if ((status = WaitForExit(pid_, std::chrono::seconds(30))) == -2) {
    ::kill(pid_, SIGKILL);
    status = WaitForExit(pid_, std::chrono::seconds(10));
  }
  pid_ = -1;
}

bool PostgresCluster::Admin(const std::string& sql, std::string* error) {
  PGconn* conn = PQconnectdb(AdminDsn().c_str());
  bool ok = PQstatus(conn) == CONNECTION_OK;
  if (!ok) {
    *error = std::string("connecting as the superuser: ") + PQerrorMessage(conn);
  } else {
    PGresult* r = PQexec(conn, sql.c_str());
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) *error = "\"" + sql.substr(0, 40) + "…\": " + PQresultErrorMessage(r);
    PQclear(r);
  }
  PQfinish(conn);
  return ok;
}

std::string PostgresCluster::CreateDatabase(std::string* error) {
  std::string name;
  {
    std::lock_guard<std::mutex> lock(mu_);
    name = "db" + std::to_string(++databases_);
  }
  if (!Admin("CREATE DATABASE " + name + " OWNER neosl", error)) return "";
  return Dsn(name, password_);
}

std::string PostgresCluster::Dsn(const std::string& dbname, const std::string& password) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + dbname + " user=neosl password=" + password;
}

std::string PostgresCluster::Logs() const {
  return temp_ ? ReadFile(temp_->File("postgres.log")) : "";
}

}  // namespace neosl::testing
