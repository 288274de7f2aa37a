// Starts a real redis-server ($NEOSL_REDIS_SERVER or /usr/bin/redis-server) on a free loopback
// port for one test: no persistence, a temporary working directory, DEBUG allowed (to make it
// slow on purpose), ready once it answers PING. Stop and Restart keep the port, to test what
// clients do while Redis is down and after it comes back.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <sys/types.h>

#include "support/temp_dir.h"

namespace neosl::testing {

class RedisProcess {
 public:
  // The redis-server binary, or "" if there is none (tests then GTEST_SKIP).
  static std::string Binary();

  // Returns nullptr and fills `error` (with the server's log) if it did not come up.
  static std::unique_ptr<RedisProcess> Launch(std::string* error);
  // Kills the server and removes its directory.
  ~RedisProcess();
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  int port() const { return port_; }
  // "redis://127.0.0.1:<port>/0"
  std::string dsn() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
  bool running() const { return pid_ > 0; }

  // SIGTERM, then SIGKILL after `grace` (0: SIGKILL at once); waits for the exit.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  // Starts the server again on the same port, empty, and waits until it answers PING.
  bool Restart(std::string* error);

  std::string Logs() const;

 private:
  RedisProcess() = default;
  bool StartOnce(std::string* error);

  std::unique_ptr<TempDir> temp_;
  std::string binary_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace neosl::testing
