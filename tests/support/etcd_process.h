// Starts a real single-member etcd (3.4+, $NEOSL_ETCD or /usr/bin/etcd) on loopback for one test:
// a temporary data directory, free client and peer ports, short heartbeat and election timeouts
// (so one-second leases are allowed and it elects itself quickly), ready once
// /v3/maintenance/status answers. Stop and Start again reuse the same data directory and ports,
// to test what clients do while etcd is down and after it restarts.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <sys/types.h>

#include "support/temp_dir.h"

namespace neosl::testing {

class EtcdProcess {
 public:
  // The etcd binary, or "" if there is none (tests then GTEST_SKIP).
  static std::string Binary();

  // Returns nullptr and fills `error` (with etcd's log) if it did not come up.
  static std::unique_ptr<EtcdProcess> Launch(std::string* error);
  // Kills etcd and removes its data directory.
  ~EtcdProcess();
  EtcdProcess(const EtcdProcess&) = delete;
  EtcdProcess& operator=(const EtcdProcess&) = delete;

  // "http://127.0.0.1:<port>"
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(client_port_); }
  bool running() const { return pid_ > 0; }

  // SIGTERM, then SIGKILL after `grace`; waits for the exit. The data directory stays.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  // Starts etcd again on the same ports and waits until it answers: on the same data directory,
  // or with `wipe_data` on an empty one (a cluster rebuilt after losing its data).
  bool Restart(std::string* error, bool wipe_data = false);

  std::string Logs() const;

 private:
  EtcdProcess() = default;
  bool StartOnce(std::string* error);

  std::unique_ptr<TempDir> temp_;
  std::string binary_;
  int client_port_ = 0;
  int peer_port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace neosl::testing
