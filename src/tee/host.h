// The host side of the enclave: starts `neosl enclave` as a child on one end of a socketpair,
// supervises it, and restarts it when it dies.
//
// The child runs `binary args… --channel-fd 3`: the channel end is always fd 3, and every other
// descriptor but stdin, stdout and stderr is closed before exec. It is killed if the host dies.
// When the child exits, calls in flight fail UNAVAILABLE, the reason is logged (a SIGSYS is the
// seccomp filter killing it) and a new child is started after `restart_delay` (at most 1 s for
// the first restarts; with backoff if it keeps dying right after it starts).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>

#include "core/status.h"
#include "tee/channel.h"
#include "tee/tls_relay.h"

namespace neosl::tee {

struct EnclaveHostOptions {
  // The program to run (absolute path) and its arguments after the program name,
  // e.g. {"enclave", "--sealed-dir", dir}. The host appends `--channel-fd 3`.
  std::string binary;
  std::vector<std::string> args;
  // Serves the enclave's network OCALLs (connect, send, recv, close). Log and ping OCALLs are
  // answered by the host itself; without a handler the others are answered UNIMPLEMENTED.
  OcallHandler ocalls;
  // Delay before restarting a dead child; capped at 1 s for the first restarts.
  std::chrono::milliseconds restart_delay{100};
  // Called (on the supervisor thread) with why each child exited, e.g. "killed by signal 31
  // (SIGSYS: killed by the seccomp filter)", for logs and metrics. Must not call back into the host.
  std::function<void(const std::string&)> on_exit;
  // How long Stop() lets the child exit after closing the channel, and again after SIGTERM.
  std::chrono::milliseconds stop_grace{2000};
  // The host side of the channel (workers serve OCALLs).
  ChannelOptions channel;
};

// True for ECALLs that may be sent again after the enclave died mid-call: ping, get_public_keys,
// sign (RFC 6979 signatures are deterministic), attest, unseal and ecies_decrypt.
bool IsRetrySafe(const v1::EcallRequest& request);

// "exited with code 3", "killed by signal 11 (SIGSEGV)", "killed by signal 31 (SIGSYS: killed by
// the seccomp filter)", from a waitpid() status.
std::string DescribeWaitStatus(int wait_status);

// Serves the enclave's network OCALLs (NetConnect, NetSend, NetRecv, NetClose) with `relay`
// (a SocketRelay in production), for EnclaveHostOptions::ocalls. Other OCALLs: UNIMPLEMENTED.
OcallHandler RelayOcallHandler(std::shared_ptr<ByteRelay> relay);

class EnclaveHost {
 public:
  // Starts the first child. Fails if the binary cannot be executed; it does not wait for the
  // child to answer (WaitReady does).
  static StatusOr<std::unique_ptr<EnclaveHost>> Start(EnclaveHostOptions options);

  ~EnclaveHost();  // Stop()
  EnclaveHost(const EnclaveHost&) = delete;
  EnclaveHost& operator=(const EnclaveHost&) = delete;

  // One ECALL to the current child. UNAVAILABLE while it is restarting or if it dies mid-call;
  // otherwise as Channel::Call.
  StatusOr<v1::EcallResponse> Call(const v1::EcallRequest& request, std::chrono::milliseconds timeout);
  // As Call, but a retry-safe request (IsRetrySafe) that failed because the child died is sent
  // again to the next child, until `timeout` runs out. Other requests are sent once.
  StatusOr<v1::EcallResponse> CallRetrying(const v1::EcallRequest& request, std::chrono::milliseconds timeout);

  // The current child's pid, or -1 between children.
  int pid() const;
  // Children started after the first.
  uint64_t restarts() const { return restarts_.load(std::memory_order_relaxed); }
  // True once a child answered a ping within `timeout`.
  bool WaitReady(std::chrono::milliseconds timeout);

  // Closes the channel (the child exits), SIGTERM then SIGKILL if it does not within the grace
  // period, reaps it, and stops restarting. Calls fail UNAVAILABLE afterwards. Idempotent.
  void Stop();

 private:
  explicit EnclaveHost(EnclaveHostOptions options);

  void Supervise();
  Status SpawnChild();
  // Waits for the current child to exit and reaps it; returns how it exited.
  std::string ReapChild(pid_t pid);
  v1::OcallResponse ServeOcall(const v1::OcallRequest& request, Channel& channel);
  std::chrono::milliseconds RestartDelay(uint32_t quick_deaths) const;

  const EnclaveHostOptions options_;
  std::atomic<uint64_t> restarts_{0};

  mutable std::mutex mu_;
  std::condition_variable cv_;        // state changes below
  std::shared_ptr<Channel> channel_;  // null between children
  uint64_t generation_ = 0;           // bumped for every child started
  pid_t child_pid_ = -1;              // the running child, -1 between children
  bool child_exited_ = false;         // child_pid_ has exited and is being reaped
  bool first_spawn_done_ = false;
  Status first_spawn_status_;
  bool stopping_ = false;
  bool supervisor_done_ = false;

  std::mutex stop_mu_;  // serialises Stop()
  std::thread supervisor_;
};

}  // namespace neosl::tee
