// Starts the real `neosl serve` binary (or another long-running subcommand) (path from $NEOSL_BINARY, which ctest sets)
// on port 0 with a temporary data directory, waits until it has written its bound address, and stops it with a signal,
// returning its exit status. Its stderr (the log) is kept for assertions.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

#include "support/temp_dir.h"

namespace neosl::testing {

std::string NeoslBinary();

struct ServerOptions {
  std::vector<std::pair<std::string, std::string>> env;  // added to the environment
  std::vector<std::string> args;                         // added after `serve`
  std::string config_yaml;                               // if set, written and passed as --config
  std::string data_dir;                                  // reuse a directory (restarts)
  // Replaces `serve --listen 127.0.0.1:0` (e.g. {"devchain", "--port", "0"}); `--data DIR`
  // follows either way, and the process must write DIR/listen.addr once it listens.
  std::vector<std::string> command;
  std::string binary;  // another neosl binary (e.g. a rebuilt copy); default NeoslBinary()
};

class ServerProcess {
 public:
  // Returns nullptr and fills `error` (with the server's log) if it did not come up.
  static std::unique_ptr<ServerProcess> Start(ServerOptions options, std::string* error);
  ~ServerProcess();

  const std::string& address() const { return address_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string admin_key() const;
  std::string Logs() const;
  pid_t pid() const { return pid_; }

  // Sends `sig` and waits for exit; returns the exit code (128+signal if killed).
  int Stop(int sig = 15, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Waits for the process to exit on its own (a crash point); its exit code (128+signal if
  // killed), or -2 if it is still running after `timeout`.
  int WaitExit(std::chrono::milliseconds timeout);
  bool running() const { return pid_ > 0; }

 private:
  ServerProcess() = default;
  std::unique_ptr<TempDir> temp_;
  std::string data_dir_;
  std::string log_path_;
  std::string address_;
  pid_t pid_ = -1;
};

// Runs the neosl binary with `args` to completion, capturing stdout and stderr.
struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};
CommandResult RunNeosl(const std::vector<std::string>& args,
                       const std::vector<std::pair<std::string, std::string>>& env = {});

}  // namespace neosl::testing
