// The enclave as `neosl serve` runs it: the child process, its network relay, the development
// signer, and the calls the gateway makes (readiness, attestation).
#pragma once

#include <atomic>
#include <memory>
#include <span>
#include <string>

#include <boost/json/value.hpp>

#include "core/config.h"
#include "core/status.h"
#include "tee/host.h"
#include "tee/socket_relay.h"

namespace neosl::app {

struct RunningEnclave {
  std::shared_ptr<tee::SocketRelay> relay;
  std::unique_ptr<tee::EnclaveHost> host;
  std::chrono::milliseconds timeout{10'000};
  // Set by Stop, so the exit it causes is not logged as a crash.
  std::shared_ptr<std::atomic<bool>> stopping = std::make_shared<std::atomic<bool>>(false);

  Status Ping();
  // The evidence JSON for `nonce` (retried across an enclave restart).
  StatusOr<boost::json::value> Attest(std::span<const uint8_t> nonce);
  void Stop();
  ~RunningEnclave() { Stop(); }
};

// The arguments of `neosl enclave` for this configuration (the host appends --channel-fd).
// In development (signer policy without enclave.sigstruct_file) this also makes the signer key
// <data_dir>/enclave-signer.key once and signs this build into <data_dir>/enclave.sigstruct.
StatusOr<std::vector<std::string>> EnclaveArgs(const Config& config, const std::string& data_dir);

// Starts the enclave and waits until it answers (or fails with the reason it exited).
StatusOr<std::unique_ptr<RunningEnclave>> StartEnclave(const Config& config, const std::string& data_dir);

}  // namespace neosl::app
