// A throwaway PostgreSQL server for tests: initdb into a temporary directory, the server on a
// free loopback port (TCP with password authentication for the store under test, a Unix socket
// in the same directory for our own administration), fsync off. Each CreateDatabase() makes a
// fresh database and returns a DSN for it.
//
// The server is the test process's own child (the `postgres` binary run directly rather than
// through pg_ctl, which would detach it): it is told to shut down should the test process die
// (PR_SET_PDEATHSIG, tied to the thread that started it, so start it from the main thread), and
// the destructor stops it and removes its files. PostgreSQL refuses to run as root, so when
// the tests run as root it runs as the `postgres` system user (Debian's package creates it).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <sys/types.h>

#include "support/temp_dir.h"

namespace neosl::testing {

class PostgresCluster {
 public:
  // The directory of initdb and postgres: $NEOSL_PG_BIN, else the newest
  // /usr/lib/postgresql/<version>/bin that has both; "" if there is none.
  static std::string BinDir();

  // Returns nullptr and fills `error` if PostgreSQL is not installed or did not come up (with
  // its log).
  static std::unique_ptr<PostgresCluster> Launch(std::string* error);
  ~PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  // A new, empty database owned by the test role; its DSN, or "" with `error`.
  std::string CreateDatabase(std::string* error);
  // The DSN of `dbname` over TCP as the test role, with `password` (tests give a wrong one).
  std::string Dsn(const std::string& dbname, const std::string& password) const;
  const std::string& password() const { return password_; }
  int port() const { return port_; }
  bool running() const { return pid_ > 0; }

  // Immediate shutdown, as in a crash: clients' connections drop at once. The data stays.
  void Stop();
  // Starts the server again on the same port and data, and waits until it accepts connections.
  bool Start(std::string* error);

  std::string Logs() const;

 private:
  PostgresCluster() = default;
  bool RunAsServerUser(const std::vector<std::string>& args, const std::string& log, std::string* error);
  pid_t SpawnAsServerUser(const std::vector<std::string>& args, const std::string& log, std::string* error);
  bool Admin(const std::string& sql, std::string* error);
  std::string AdminDsn() const;

  std::unique_ptr<TempDir> temp_;
  std::string bin_;
  bool switch_user_ = false;  // running as root: the server runs as `postgres`
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string password_;
  std::mutex mu_;
  int databases_ = 0;
};

}  // namespace neosl::testing
