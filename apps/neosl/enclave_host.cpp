#include "apps/neosl/enclave_host.h"

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <boost/json.hpp>
#include <openssl/crypto.h>

#include "apps/neosl/serve.h"
#include "core/log.h"
#include "core/random.h"
#include "crypto/ecvrf.h"
#include "tee/measurement.h"
#include "tee/sealing.h"

namespace neosl::app {
namespace {

namespace json = boost::json;
namespace v1 = tee::v1;

std::string Or(const std::string& value, const std::string& fallback) {
  return value.empty() ? fallback : value;
}

}  // namespace

StatusOr<std::string> SelfPath() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return UnavailableError("cannot find this program's path: " + ec.message());
  return path.string();
}

StatusOr<std::vector<std::string>> EnclaveArgs(const Config& config, const std::string& data_dir) {
  if (config.String("enclave.backend") != "sim") {
    return UnimplementedError("enclave.backend '" + config.String("enclave.backend") +
                              "' is not built into this binary (supported: sim; sgx: see docs/enclave.md)");
  }
  const std::string sealed_dir = Or(config.String("enclave.sealed_dir"), data_dir + "/enclave");
  const std::string secret = Or(config.String("enclave.platform_secret_file"), data_dir + "/platform.secret");
  const std::string& policy = config.String("enclave.seal_policy");
  if (policy != "signer" && policy != "measurement") {
    return InvalidArgumentError("enclave.seal_policy must be signer or measurement, not '" + policy + "'");
  }
  std::error_code ec;
  std::filesystem::create_directories(sealed_dir, ec);
  if (ec) return UnavailableError("cannot create " + sealed_dir + ": " + ec.message());
  std::filesystem::permissions(sealed_dir, std::filesystem::perms::owner_all, ec);

  std::vector<std::string> args = {"enclave",
                                   "--sealed-dir",
                                   sealed_dir,
                                   "--platform-secret",
                                   secret,
                                   "--seal-policy",
                                   policy,
                                   "--ca-file",
                                   config.String("enclave.ca_file")};
  std::string sigstruct = config.String("enclave.sigstruct_file");
  if (policy == "signer" && sigstruct.empty()) {
    // Development: a signer key kept beside the data signs whatever build runs, so rebuilds keep
    // their sealed state. Production signs offline and sets enclave.sigstruct_file.
    ASSIGN_OR_RETURN(SecretBytes key_bytes,
                     tee::LoadOrCreatePlatformSecret(data_dir + "/enclave-signer.key", SecureRandom::Instance()));
    ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::FromBytes(key_bytes.bytes()));
    ASSIGN_OR_RETURN(std::string self, SelfPath());
    ASSIGN_OR_RETURN(tee::Measurement m, tee::MeasureFile(self));
    ASSIGN_OR_RETURN(tee::SigStruct signed_measurement, tee::SigStruct::Sign(key, m, 1));
    sigstruct = data_dir + "/enclave.sigstruct";
    RETURN_IF_ERROR(WriteFileAtomic(sigstruct, signed_measurement.Encode(), 0600));
  }
  if (!sigstruct.empty()) {
    args.insert(args.end(), {"--sigstruct", sigstruct});
  }
  return args;
}

StatusOr<std::unique_ptr<RunningEnclave>> StartEnclave(const Config& config, const std::string& data_dir) {
  ASSIGN_OR_RETURN(std::vector<std::string> args, EnclaveArgs(config, data_dir));
  ASSIGN_OR_RETURN(std::string self, SelfPath());
  auto running = std::make_unique<RunningEnclave>();
  running->timeout = std::chrono::milliseconds(config.Int("enclave.call_timeout_ms"));
  auto allow_private = tee::ParseAllowList(config.String("net.allow_private"));
  if (!allow_private.ok()) return allow_private.status().Annotate("net.allow_private");
  const int64_t per_host_rate = config.Int("net.per_host_rate");
  const int64_t per_host_burst = config.Int("net.per_host_burst");
  if (per_host_rate < 0 || per_host_burst < 0) {
    return InvalidArgumentError("net.per_host_rate and net.per_host_burst must not be negative");
  }
  tee::SocketRelayOptions relay_options;
  relay_options.allow_private_networks = config.Bool("enclave.allow_private_networks");
  relay_options.allow_private = *std::move(allow_private);
  relay_options.per_host_rate = double(per_host_rate);
  relay_options.per_host_burst = double(per_host_burst);
  ASSIGN_OR_RETURN(running->relay, tee::SocketRelay::Create(std::move(relay_options)));

  // Why the last child exited, for the start-up error.
  auto last_exit = std::make_shared<std::pair<std::mutex, std::string>>();
  tee::EnclaveHostOptions options;
  options.binary = self;
  options.args = args;
  options.ocalls = tee::RelayOcallHandler(running->relay);
  // A network OCALL holds its host thread while it waits on the peer (a NetRecv up to its
  // timeout), and oracle requests fetch their sources at once: enough threads that slow sources
  // do not hold up the quick ones (16 oracle requests in flight, several sources each).
  options.channel.workers = 64;
  options.on_exit = [last_exit, stopping = running->stopping](const std::string& why) {
    {
      std::lock_guard lock(last_exit->first);
      last_exit->second = why;
    }
    if (!stopping->load()) log::Warn("enclave exited; restarting it", {{"reason", why}});
  };
  ASSIGN_OR_RETURN(running->host, tee::EnclaveHost::Start(std::move(options)));
  if (!running->host->WaitReady(std::chrono::seconds(20))) {
    std::string why;
    {
      std::lock_guard lock(last_exit->first);
      why = last_exit->second;
    }
    running->Stop();
    return UnavailableError("the enclave did not start" + (why.empty() ? std::string() : " (" + why + ")") +
                            "; its error is in the log above");
  }
  return running;
}

StatusOr<std::unique_ptr<runtime::WorkerPool>> StartFunctionWorkers(const Config& config, const std::string& data_dir,
                                                                    RunningEnclave& enclave, NeoRead neo_read) {
  runtime::WorkerPoolOptions options;
  ASSIGN_OR_RETURN(options.binary, SelfPath());
  ASSIGN_OR_RETURN(options.enclave_args, EnclaveArgs(config, data_dir));
  const int64_t workers = config.Int("functions.workers");
  const int64_t queue = config.Int("functions.queue_capacity");
  const int64_t grace = config.Int("functions.worker_grace_ms");
  if (workers < 0 || workers > 256) return InvalidArgumentError("functions.workers must be 0 to 256");
  if (queue < 0 || queue > 1'000'000) return InvalidArgumentError("functions.queue_capacity must be 0 to 1000000");
  if (grace < 100 || grace > 60'000) return InvalidArgumentError("functions.worker_grace_ms must be 100 to 60000");
  options.workers = int(workers);
  options.queue_capacity = size_t(queue);
  options.jit = config.Bool("functions.jit");
  options.grace = std::chrono::milliseconds(grace);
  options.relay = enclave.relay;
  options.neo_read = std::move(neo_read);
  return runtime::WorkerPool::Start(std::move(options));
}

Status RunningEnclave::Ping() {
  v1::EcallRequest req;
  req.mutable_ping()->set_payload("ready?");
  return host->Call(req, std::chrono::milliseconds(1000)).status();
}

StatusOr<json::value> RunningEnclave::Attest(std::span<const uint8_t> nonce) {
  v1::EcallRequest req;
  req.mutable_attest()->set_nonce(std::string(nonce.begin(), nonce.end()));
  ASSIGN_OR_RETURN(v1::EcallResponse r, host->CallRetrying(req, timeout));
  boost::system::error_code ec;
  json::value v = json::parse(r.evidence_json(), ec);
  if (ec) return InternalError("the enclave returned evidence that is not JSON");
  return v;
}

StatusOr<std::vector<uint8_t>> RunningEnclave::SealSecret(std::string_view account, std::string_view name,
                                                          uint32_t version, SecretForm form,
                                                          std::span<const uint8_t> value, uint32_t max_value_bytes) {
  v1::EcallRequest req;
  auto* seal = req.mutable_secret_seal();
  seal->set_max_value_bytes(max_value_bytes);
  seal->set_account(std::string(account));
  seal->set_name(std::string(name));
  seal->set_version(version);
  std::string bytes(value.begin(), value.end());
  if (form == SecretForm::kEncrypted) {
    seal->set_encrypted_value(std::move(bytes));
  } else {
    seal->set_plaintext(std::move(bytes));
  }
  auto r = host->CallRetrying(req, timeout);
  // The request's copy of a plaintext value is not needed any more.
  if (seal->has_plaintext()) OPENSSL_cleanse(seal->mutable_plaintext()->data(), seal->plaintext().size());
  if (!r.ok()) return r.status();
  return std::vector<uint8_t>(r->secret_ciphertext().begin(), r->secret_ciphertext().end());
}

StatusOr<crypto::PublicKey> RunningEnclave::ReportKey() {
  v1::EcallRequest req;
  req.mutable_get_public_keys();
  ASSIGN_OR_RETURN(v1::EcallResponse r, host->CallRetrying(req, timeout));
  const std::string& key = r.public_keys().report();
  return crypto::PublicKey::FromBytes(std::span(reinterpret_cast<const uint8_t*>(key.data()), key.size()));
}

StatusOr<crypto::Signature> RunningEnclave::SignReport(std::span<const uint8_t> message) {
  ASSIGN_OR_RETURN(crypto::PublicKey key, ReportKey());
  v1::EcallRequest req;
  req.mutable_sign()->set_key(v1::SignRequest::REPORT);
  req.mutable_sign()->set_message(std::string(message.begin(), message.end()));
  ASSIGN_OR_RETURN(v1::EcallResponse r, host->CallRetrying(req, timeout));
  const std::string& sig = r.signature();
  if (sig.size() != 64) return InternalError("the enclave returned a report signature of the wrong size");
  crypto::Signature s{};
  std::copy(sig.begin(), sig.end(), s.begin());
  if (!key.Verify(message, s)) return InternalError("the enclave's report signature does not verify");
  return s;
}

StatusOr<crypto::PublicKey> RunningEnclave::VrfKey() {
  v1::EcallRequest req;
  req.mutable_get_public_keys();
  ASSIGN_OR_RETURN(v1::EcallResponse r, host->CallRetrying(req, timeout));
  const std::string& key = r.public_keys().vrf();
  return crypto::PublicKey::FromBytes(std::span(reinterpret_cast<const uint8_t*>(key.data()), key.size()));
}

StatusOr<RunningEnclave::VrfResult> RunningEnclave::VrfProve(std::span<const uint8_t> alpha,
                                                             const crypto::PublicKey& key) {
  v1::EcallRequest req;
  req.mutable_vrf_prove()->set_alpha(std::string(alpha.begin(), alpha.end()));
  ASSIGN_OR_RETURN(v1::EcallResponse r, host->CallRetrying(req, timeout));
  const std::string& proof = r.vrf_proof().proof();
  const std::string& output = r.vrf_proof().output();
  VrfResult out{};
  if (proof.size() != out.proof.size() || output.size() != out.output.size()) {
    return InternalError("the enclave returned a VRF proof of the wrong size");
  }
  std::copy(proof.begin(), proof.end(), out.proof.begin());
  std::copy(output.begin(), output.end(), out.output.begin());
  const auto compressed = key.Compressed();
  auto beta = crypto::ecvrf::Verify(compressed, out.proof, alpha);
  if (!beta.ok() || *beta != out.output) return InternalError("the enclave's VRF proof does not verify");
  return out;
}

StatusOr<crypto::PublicKey> RunningEnclave::DepositKey(const std::string& account) {
  v1::EcallRequest req;
  req.mutable_deposit_key()->set_account(account);
  ASSIGN_OR_RETURN(v1::EcallResponse r, host->CallRetrying(req, timeout));
  if (r.result_case() != v1::EcallResponse::kDepositKey || r.deposit_key().size() != 33) {
    return InternalError("the enclave answered deposit_key without a compressed key");
  }
  const std::string& key = r.deposit_key();
  return crypto::PublicKey::FromBytes(std::span(reinterpret_cast<const uint8_t*>(key.data()), key.size()));
}

namespace {

bool VerifiesBytes(const crypto::PublicKey& key, const std::string& message, const std::string& signature) {
  if (signature.size() != 64) return false;
  crypto::Signature s{};
  std::copy(signature.begin(), signature.end(), s.begin());
  return key.Verify(std::span(reinterpret_cast<const uint8_t*>(message.data()), message.size()), s);
}

}  // namespace

StatusOr<v1::OracleRunResponse> RunningEnclave::OracleRun(const v1::OracleRunRequest& request,
                                                          const crypto::PublicKey& report_key,
                                                          std::chrono::milliseconds call_timeout) {
  v1::EcallRequest req;
  *req.mutable_oracle_run() = request;
  ASSIGN_OR_RETURN(v1::EcallResponse r, host->Call(req, call_timeout));
  if (!r.has_oracle_run()) return InternalError("the enclave answered oracle_run without an outcome");
  v1::OracleRunResponse out = std::move(*r.mutable_oracle_run());
  if (!VerifiesBytes(report_key, out.record(), out.signature())) {
    return InternalError("the enclave's oracle signature does not verify");
  }
  if (request.has_chain() && !VerifiesBytes(report_key, out.chain_result(), out.chain_signature())) {
    return InternalError("the enclave's oracle chain signature does not verify");
  }
  return out;
}

StatusOr<v1::OracleRunResponse> RunningEnclave::OracleFinalize(const v1::OracleFinalizeRequest& request,
                                                               const crypto::PublicKey& report_key) {
  v1::EcallRequest req;
  *req.mutable_oracle_finalize() = request;
  ASSIGN_OR_RETURN(v1::EcallResponse r, host->Call(req, timeout));
  if (!r.has_oracle_run()) return InternalError("the enclave answered oracle_finalize without an outcome");
  v1::OracleRunResponse out = std::move(*r.mutable_oracle_run());
  if (!VerifiesBytes(report_key, out.record(), out.signature())) {
    return InternalError("the enclave's oracle signature does not verify");
  }
  return out;
}

StatusOr<v1::PriceObserveResponse> RunningEnclave::PriceObserve(const v1::PriceObserveRequest& request,
                                                                const crypto::PublicKey& report_key,
                                                                std::chrono::milliseconds call_timeout) {
  v1::EcallRequest req;
  *req.mutable_price_observe() = request;
  ASSIGN_OR_RETURN(v1::EcallResponse r, host->Call(req, call_timeout));
  if (!r.has_price_observe()) return InternalError("the enclave answered price_observe without an outcome");
  v1::PriceObserveResponse out = std::move(*r.mutable_price_observe());
  if (out.ok() && (!VerifiesBytes(report_key, out.record(), out.signature()) ||
                   !VerifiesBytes(report_key, out.chain_record(), out.chain_signature()))) {
    return InternalError("the enclave's price signatures do not verify");
  }
  return out;
}

void RunningEnclave::Stop() {
  stopping->store(true);
  if (host) host->Stop();
}

}  // namespace neosl::app
