// The enclave as `neosl serve` runs it: the child process, its network relay, the development
// signer, and the calls the gateway makes (readiness, attestation).
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "core/config.h"
#include "core/status.h"
#include "crypto/p256.h"
#include "runtime/worker_pool.h"
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
  // A secret's value, encrypted by the enclave for the host to store (docs/secrets.md): `value`
  // is the plaintext, or with kEncrypted an ECIES blob made client-side to the enclave's key
  // (info "neosl-secret-v1"). INVALID_ARGUMENT for an empty account or name or a value over
  // 64 KiB; DATA_LOSS for an encrypted value that does not decrypt. Retried across a restart.
  enum class SecretForm { kPlaintext, kEncrypted };
  StatusOr<std::vector<uint8_t>> SealSecret(std::string_view account, std::string_view name, uint32_t version,
                                            SecretForm form, std::span<const uint8_t> value,
                                            uint32_t max_value_bytes = 0);
  // The enclave's report key, and a signature by it over SHA-256(message) (checked against the
  // key before it is returned).
  StatusOr<crypto::PublicKey> ReportKey();
  StatusOr<crypto::Signature> SignReport(std::span<const uint8_t> message);
  // The enclave's VRF public key, and its ECVRF proof (RFC 9381, P-256) over `alpha` with the
  // output beta; the proof is verified against the key before it is returned. Retried across a
  // restart (the proof is deterministic, so a retry gives the same answer).
  StatusOr<crypto::PublicKey> VrfKey();
  struct VrfResult {
    std::array<uint8_t, 81> proof;
    std::array<uint8_t, 32> output;
  };
  // `key` is VrfKey()'s answer, read once by the caller rather than by an ECALL per proof.
  StatusOr<VrfResult> VrfProve(std::span<const uint8_t> alpha, const crypto::PublicKey& key);
  // The enclave's deposit key for a gas bank account (tee::DeriveDepositKey: the same account
  // always gets the same key, across restarts and migrations), the public half only.
  // INVALID_ARGUMENT for an account that is not 1..64 bytes of [A-Za-z0-9_-]. Retried across a
  // restart (a pure function of the account). Plugs into gasbank::DepositKeyDeriver.
  StatusOr<crypto::PublicKey> DepositKey(const std::string& account);
  // An oracle request run in the enclave (services/oracle/oracle_run.h). The answer's signatures
  // are checked against the report key before it is returned. Not retried: a request whose
  // enclave died is answered with the error and may be asked again.
  StatusOr<tee::v1::OracleRunResponse> OracleRun(const tee::v1::OracleRunRequest& request,
                                                 const crypto::PublicKey& report_key,
                                                 std::chrono::milliseconds call_timeout);
  // A successful result post-processed by a function (oracle::FinalizeOracle), checked the same way.
  StatusOr<tee::v1::OracleRunResponse> OracleFinalize(const tee::v1::OracleFinalizeRequest& request,
                                                      const crypto::PublicKey& report_key);
  // A price round run in the enclave (services/pricefeed/observe.h); an ok answer's two
  // signatures are checked against the report key before it is returned.
  StatusOr<tee::v1::PriceObserveResponse> PriceObserve(const tee::v1::PriceObserveRequest& request,
                                                       const crypto::PublicKey& report_key,
                                                       std::chrono::milliseconds call_timeout);
  void Stop();
  ~RunningEnclave() { Stop(); }
};

// The arguments of `neosl enclave` for this configuration (the host appends --channel-fd).
// In development (signer policy without enclave.sigstruct_file) this also makes the signer key
// <data_dir>/enclave-signer.key once and signs this build into <data_dir>/enclave.sigstruct.
StatusOr<std::vector<std::string>> EnclaveArgs(const Config& config, const std::string& data_dir);

// Starts the enclave and waits until it answers (or fails with the reason it exited).
// This program's own path (/proc/self/exe): the enclave and the function workers are run from it.
StatusOr<std::string> SelfPath();

StatusOr<std::unique_ptr<RunningEnclave>> StartEnclave(const Config& config, const std::string& data_dir);

// The functions runtime: function-worker enclave processes beside `enclave` (which must be
// ready: the workers load its sealed keys), sharing its network relay (functions.* config).
// `neo_read` answers context.neo.invokeRead.
using NeoRead = std::function<StatusOr<std::string>(const std::string&, const std::string&, const std::string&)>;
StatusOr<std::unique_ptr<runtime::WorkerPool>> StartFunctionWorkers(const Config& config, const std::string& data_dir,
                                                                    RunningEnclave& enclave, NeoRead neo_read);

}  // namespace neosl::app
