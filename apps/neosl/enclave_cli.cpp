#include "apps/neosl/enclave_cli.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <boost/json.hpp>

#include "apps/neosl/function_worker.h"
#include "apps/neosl/serve.h"
#include "core/clock.h"
#include "core/encoding.h"
#include "core/log.h"
#include "core/random.h"
#include "crypto/ecies.h"
#include "crypto/ecvrf.h"
#include "crypto/hash.h"
#include "net/fetcher.h"
#include "services/oracle/oracle_run.h"
#include "services/oracle/source_fetch.h"
#include "services/pricefeed/observe.h"
#include "tee/attestation.h"
#include "tee/channel.h"
#include "tee/enclave_server.h"
#include "tee/host.h"
#include "tee/keys.h"
#include "tee/locked_memory.h"
#include "tee/measurement.h"
#include "tee/sandbox.h"
#include "tee/sealing.h"
#include "tee/secret_vault.h"
#include "tee/sim_quote.h"
#include "tee/tls_relay.h"
#include "tee/verifier.h"

namespace neosl::app {
namespace {

constexpr size_t kMaxVrfAlphaBytes = 4096;

namespace json = boost::json;
namespace v1 = neosl::tee::v1;

int Fail(std::string_view command, const Status& s) {
  std::fprintf(stderr, "neosl %.*s: %s\n", int(command.size()), command.data(), s.ToString().c_str());
  return 1;
}

StatusOr<std::string> ReadText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct EnclaveFlags {
  int channel_fd = -1;
  std::string sealed_dir;
  std::string platform_secret;
  std::string seal_policy = "signer";
  std::string sigstruct;
  std::string ca_file = "/etc/ssl/certs/ca-certificates.crt";
  bool test_commands = false;
  bool migrate_in = false;  // receive keys from the previous build instead of loading them
  // A function worker (docs/functions.md): serves run_function / check_function with a
  // JavaScript engine, under a filter that also allows its JIT and its RLIMIT_AS.
  bool function_worker = false;
  bool jit = true;
};

// Everything the enclave holds, made before the sandbox closes the file system.
struct EnclaveState {
  tee::Measurement measurement{};
  std::unique_ptr<tee::Sealer> sealer;
  tee::SealPolicy policy = tee::SealPolicy::kSigner;
  std::optional<tee::EnclaveKeys> keys;         // unset in a --migrate-in enclave until the import
  std::optional<crypto::PrivateKey> ephemeral;  // --migrate-in: the key the old build exports to
  std::optional<tee::SecretVault> vault;        // secrets at rest; set with `keys`
  std::optional<tee::SimQuotingEnclave> quoting;
  std::string ca_pem;
  bool test_commands = false;
  FunctionWorker worker;  // --function-worker only

  // The HTTPS client over the host's relay, made on first use (it needs the channel).
  std::mutex fetch_mu;
  std::unique_ptr<tee::OcallByteRelay> relay;
  std::unique_ptr<tee::EnclaveTlsClient> tls;
  std::unique_ptr<net::Fetcher> oracle_fetcher;  // Neo OracleService limits (oracle/source_fetch.h)
  std::unique_ptr<net::Fetcher> price_fetcher;   // venues' tickers (pricefeed/observe.h)
};

v1::EcallResponse Error(const Status& s) {
  return tee::EcallErrorResponse(s);
}

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Evidence binding `public_keys` and `nonce_bytes`, quoted.
v1::EcallResponse Evidence(EnclaveState& st, const tee::PublicKeys& public_keys, const std::string& nonce_bytes) {
  if (nonce_bytes.empty() || nonce_bytes.size() > 64) {
    return Error(InvalidArgumentError("attest: the nonce must be 1 to 64 bytes"));
  }
  const auto canonical = public_keys.Canonical();
  std::span<const uint8_t> nonce = Bytes(nonce_bytes);
  tee::Evidence e;
  e.backend = std::string(tee::kBackendSim);
  e.measurement = st.measurement;
  e.report_data = tee::ReportData(canonical, nonce);
  e.public_keys = public_keys.ToJson();
  e.timestamp_ms = SystemClock::Instance().NowUnixMillis();
  if (Status s = st.quoting->Quote(e); !s.ok()) return Error(s);
  v1::EcallResponse r;
  r.set_evidence_json(json::serialize(tee::EvidenceToJson(e)));
  return r;
}

v1::EcallResponse MigrationOffer(EnclaveState& st, const v1::MigrationOfferRequest& req) {
  const crypto::PublicKey& eph = st.ephemeral->public_key();
  return Evidence(st, tee::PublicKeys{eph, eph, eph, eph}, req.nonce());
}

// The old build's side: exports only to an attested enclave with the named measurement.
v1::EcallResponse MigrationExport(EnclaveState& st, const v1::MigrationExportRequest& req) {
  if (req.measurement().size() != 32) return Error(InvalidArgumentError("migration: the measurement must be 32 bytes"));
  boost::system::error_code ec;
  json::value parsed = json::parse(req.evidence_json(), ec);
  if (ec) return Error(InvalidArgumentError("migration: the evidence is not JSON"));
  auto evidence = tee::EvidenceFromJson(parsed);
  if (!evidence.ok()) return Error(evidence.status().Annotate("migration"));
  tee::AttestationPolicy policy;
  policy.measurements.emplace_back();
  std::copy(req.measurement().begin(), req.measurement().end(), policy.measurements.back().begin());
  // A sim enclave can only be moved to another sim enclave, and vice versa.
  policy.allow_simulation = evidence->backend == tee::kBackendSim;
  auto verified = tee::VerifyEvidence(*evidence, Bytes(req.nonce()), policy, SystemClock::Instance());
  if (!verified.ok()) return Error(verified.status().Annotate("migration: the new enclave's evidence"));
  const auto& k = verified->keys;
  if (!(k.neo == k.vrf && k.neo == k.report && k.neo == k.ecies)) {
    return Error(InvalidArgumentError("migration: the evidence is not a migration offer (its four keys differ)"));
  }
  auto blob = tee::ExportForMigration(*st.keys, k.neo, SecureRandom::Instance());
  if (!blob.ok()) return Error(blob.status());
  v1::EcallResponse r;
  r.set_sealed(std::string(blob->begin(), blob->end()));
  return r;
}

// The new build's side: the keys, sealed to this build, replace the sealed key file (the host
// kept a copy of the old one).
v1::EcallResponse MigrationImport(EnclaveState& st, const v1::MigrationImportRequest& req) {
  auto keys = tee::ImportMigration(*st.ephemeral, Bytes(req.blob()));
  if (!keys.ok()) return Error(keys.status().Annotate("migration"));
  auto sealed = st.sealer->Seal(st.policy, keys->Serialize().bytes(), tee::kKeysSealLabel, SecureRandom::Instance());
  if (!sealed.ok()) return Error(sealed.status());
  // Inside the sandbox the sealed directory is "/".
  if (Status s = tee::internal::WriteFileDurably("/" + std::string(tee::kKeysFileName), *sealed, true); !s.ok()) {
    return Error(s);
  }
  st.keys.emplace(std::move(*keys));
  v1::EcallResponse r;
  r.set_pong("imported");
  return r;
}

// A secret's value, encrypted for the host to store. The value is in no answer and no message.
v1::EcallResponse SecretSeal(EnclaveState& st, const v1::SecretSealRequest& req) {
  if (!st.vault) return Error(FailedPreconditionError("secret_seal: this enclave has no secrets key"));
  if (req.account().empty() || req.name().empty()) {
    return Error(InvalidArgumentError("secret_seal: the account and name must not be empty"));
  }
  v1::EcallResponse r;
  const size_t limit = req.max_value_bytes() == 0 ? tee::kMaxSecretValueSize
                                                  : std::min<size_t>(req.max_value_bytes(), tee::kMaxSecretValueSize);
  auto seal = [&](std::span<const uint8_t> value) {
    if (value.size() > limit) {
      return Error(InvalidArgumentError("secret_seal: the value is over the " + std::to_string(limit) + "-byte limit"));
    }
    auto ciphertext = st.vault->Encrypt(req.account(), req.name(), req.version(), value);
    if (!ciphertext.ok()) return Error(ciphertext.status());
    r.set_secret_ciphertext(std::string(ciphertext->begin(), ciphertext->end()));
    return r;
  };
  switch (req.value_case()) {
    case v1::SecretSealRequest::kPlaintext: return seal(Bytes(req.plaintext()));
    case v1::SecretSealRequest::kEncryptedValue: {
      if (req.encrypted_value().size() > tee::kMaxSecretValueSize + crypto::kEciesOverhead) {
        return Error(InvalidArgumentError("secret_seal: the value is over the " +
                                          std::to_string(tee::kMaxSecretValueSize) + "-byte limit"));
      }
      auto plain = crypto::EciesDecrypt(st.keys->ecies, Bytes(req.encrypted_value()), Bytes(tee::kSecretEciesInfo));
      // Any blob that does not decrypt is corrupt, without saying more (docs/enclave.md).
      if (!plain.ok()) return Error(DataLossError("secret_seal: encrypted_value does not decrypt"));
      return seal(plain->bytes());
    }
    case v1::SecretSealRequest::VALUE_NOT_SET: break;
  }
  return Error(InvalidArgumentError("secret_seal: plaintext or encrypted_value is required"));
}

// Test only: proves a ciphertext opens inside the enclave, answering its digest and length.
v1::EcallResponse SecretDigest(EnclaveState& st, const v1::SecretDigestRequest& req) {
  if (!st.vault) return Error(FailedPreconditionError("secret_digest: this enclave has no secrets key"));
  auto plain = st.vault->Decrypt(req.account(), req.name(), req.version(), Bytes(req.ciphertext()));
  if (!plain.ok()) return Error(plain.status());
  const auto digest = crypto::Sha256(plain->bytes());
  v1::EcallResponse r;
  r.mutable_secret_digest()->set_sha256(std::string(digest.begin(), digest.end()));
  r.mutable_secret_digest()->set_length(plain->size());
  return r;
}

// Test only: reads secrets through a provider made for an invocation, as the JS runtime does,
// answering each value's digest and length.
v1::EcallResponse SecretRead(EnclaveState& st, const v1::SecretReadRequest& req) {
  if (!st.vault) return Error(FailedPreconditionError("secret_read: this enclave has no secrets key"));
  auto provider = tee::ProviderForInvocation(*st.vault, req.secrets());
  if (!provider.ok()) return Error(provider.status());
  v1::EcallResponse r;
  for (const auto& name : req.names()) {
    auto value = (*provider)->Get(name);
    if (!value.ok()) return Error(value.status());
    const auto digest = crypto::Sha256(*value);
    auto* d = r.mutable_secret_digests()->add_digests();
    d->set_sha256(std::string(digest.begin(), digest.end()));
    d->set_length(value->size());
  }
  return r;
}

v1::EcallResponse Fetch(EnclaveState& st, const v1::FetchRequest& req, tee::Channel& channel) {
  tee::EnclaveTlsClient* client = nullptr;
  {
    std::lock_guard lock(st.fetch_mu);
    if (!st.tls) {
      st.relay = std::make_unique<tee::OcallByteRelay>(channel);
      auto made = tee::EnclaveTlsClient::Create(tee::TlsClientOptions{.ca_pem = st.ca_pem}, *st.relay);
      if (!made.ok()) return Error(made.status());
      st.tls = std::move(*made);
    }
    client = st.tls.get();
  }
  tee::HttpsRequest https;
  https.method = req.method().empty() ? "GET" : req.method();
  https.url = req.url();
  for (const auto& h : req.headers()) https.headers.emplace_back(h.name(), h.value());
  https.body.assign(req.body().begin(), req.body().end());
  if (req.timeout_ms() > 0) https.timeout = std::chrono::milliseconds(req.timeout_ms());
  auto response = client->Fetch(https);
  if (!response.ok()) return Error(response.status());
  v1::EcallResponse r;
  auto* out = r.mutable_fetch();
  out->set_status(static_cast<uint32_t>(response->status));
  for (const auto& [name, value] : response->headers) {
    auto* h = out->add_headers();
    h->set_name(name);
    h->set_value(value);
  }
  out->set_body(std::string(response->body.begin(), response->body.end()));
  return r;
}

v1::EcallResponse OracleRun(EnclaveState& st, const v1::OracleRunRequest& req, tee::Channel& channel) {
  const net::Fetcher* fetcher = nullptr;
  {
    std::lock_guard lock(st.fetch_mu);
    if (!st.oracle_fetcher) {
      if (!st.relay) st.relay = std::make_unique<tee::OcallByteRelay>(channel);
      net::FetcherOptions options = oracle::OracleFetcherOptions();
      options.ca_pem = st.ca_pem;
      auto made = net::Fetcher::Create(std::move(options), *st.relay);
      if (!made.ok()) return Error(made.status());
      st.oracle_fetcher = std::move(*made);
    }
    fetcher = st.oracle_fetcher.get();
  }
  const oracle::RunEnvironment env{fetcher, &st.keys->report, st.vault ? &*st.vault : nullptr};
  auto out = oracle::RunOracle(req, env);
  if (!out.ok()) return Error(out.status());
  v1::EcallResponse r;
  *r.mutable_oracle_run() = std::move(*out);
  return r;
}

v1::EcallResponse PriceObserve(EnclaveState& st, const v1::PriceObserveRequest& req, tee::Channel& channel) {
  const net::Fetcher* fetcher = nullptr;
  {
    std::lock_guard lock(st.fetch_mu);
    if (!st.price_fetcher) {
      if (!st.relay) st.relay = std::make_unique<tee::OcallByteRelay>(channel);
      net::FetcherOptions options = pricefeed::PriceFetcherOptions();
      options.ca_pem = st.ca_pem;
      auto made = net::Fetcher::Create(std::move(options), *st.relay);
      if (!made.ok()) return Error(made.status());
      st.price_fetcher = std::move(*made);
    }
    fetcher = st.price_fetcher.get();
  }
  const pricefeed::ObserveEnvironment env{fetcher, &st.keys->report, &SystemClock::Instance()};
  auto out = pricefeed::Observe(req, env);
  if (!out.ok()) return Error(out.status());
  v1::EcallResponse r;
  *r.mutable_price_observe() = std::move(*out);
  return r;
}

v1::EcallResponse Serve(EnclaveState& st, const v1::EcallRequest& req, tee::Channel& channel) {
  v1::EcallResponse r;
  const auto call = req.call_case();
  const bool migration_target = call == v1::EcallRequest::kMigrationOffer || call == v1::EcallRequest::kMigrationImport;
  if (st.ephemeral.has_value() != migration_target && call != v1::EcallRequest::kPing) {
    return Error(FailedPreconditionError(st.ephemeral ? "this enclave is receiving a migration and serves nothing else"
                                                      : "this enclave is not receiving a migration"));
  }
  switch (req.call_case()) {
    case v1::EcallRequest::kPing: r.set_pong(req.ping().payload()); return r;
    case v1::EcallRequest::kGetPublicKeys: {
      const auto keys = st.keys->Public();
      auto* out = r.mutable_public_keys();
      auto compressed = [](const crypto::PublicKey& k) {
        auto c = k.Compressed();
        return std::string(c.begin(), c.end());
      };
      out->set_neo(compressed(keys.neo));
      out->set_vrf(compressed(keys.vrf));
      out->set_report(compressed(keys.report));
      out->set_ecies(compressed(keys.ecies));
      out->set_measurement(std::string(st.measurement.begin(), st.measurement.end()));
      return r;
    }
    case v1::EcallRequest::kVrfProve: {
      const std::string& alpha = req.vrf_prove().alpha();
      if (alpha.size() > kMaxVrfAlphaBytes) {
        return Error(InvalidArgumentError("vrf_prove: alpha is over " + std::to_string(kMaxVrfAlphaBytes) + " bytes"));
      }
      const crypto::ecvrf::Proof pi =
          crypto::ecvrf::Prove(st.keys->vrf, std::span(reinterpret_cast<const uint8_t*>(alpha.data()), alpha.size()));
      auto beta = crypto::ecvrf::ProofToHash(pi);
      if (!beta.ok()) return Error(InternalError("vrf_prove: the enclave's own proof does not decode"));
      r.mutable_vrf_proof()->set_proof(std::string(pi.begin(), pi.end()));
      r.mutable_vrf_proof()->set_output(std::string(beta->begin(), beta->end()));
      return r;
    }
    case v1::EcallRequest::kSign: {
      const crypto::PrivateKey& signing_key =
          req.sign().key() == v1::SignRequest::REPORT ? st.keys->report : st.keys->neo;
      if (req.sign().messages_size() > 0) {
        if (req.sign().messages_size() > 256) return Error(InvalidArgumentError("sign: at most 256 messages a call"));
        auto* out = r.mutable_signatures();
        for (const auto& each : req.sign().messages()) {
          crypto::Signature sig =
              signing_key.Sign(std::span(reinterpret_cast<const uint8_t*>(each.data()), each.size()));
          out->add_signatures(std::string(sig.begin(), sig.end()));
        }
        return r;
      }
      const auto& m = req.sign().message();
      std::span<const uint8_t> message(reinterpret_cast<const uint8_t*>(m.data()), m.size());
      const crypto::PrivateKey& key = req.sign().key() == v1::SignRequest::REPORT ? st.keys->report : st.keys->neo;
      crypto::Signature sig = key.Sign(message);
      r.set_signature(std::string(sig.begin(), sig.end()));
      return r;
    }
    case v1::EcallRequest::kAttest: return Evidence(st, st.keys->Public(), req.attest().nonce());
    case v1::EcallRequest::kMigrationOffer: return MigrationOffer(st, req.migration_offer());
    case v1::EcallRequest::kMigrationExport: return MigrationExport(st, req.migration_export());
    case v1::EcallRequest::kMigrationImport: return MigrationImport(st, req.migration_import());
    case v1::EcallRequest::kSeal: {
      const auto& p = req.seal().plaintext();
      auto sealed = st.sealer->Seal(st.policy, std::span(reinterpret_cast<const uint8_t*>(p.data()), p.size()),
                                    "host/" + req.seal().label(), SecureRandom::Instance());
      if (!sealed.ok()) return Error(sealed.status());
      r.set_sealed(std::string(sealed->begin(), sealed->end()));
      return r;
    }
    case v1::EcallRequest::kUnseal: {
      // Only what the host sealed itself ("host/" labels) comes back out; the enclave's own
      // state and the secrets it keeps are never unsealed for the host.
      const auto& b = req.unseal().blob();
      auto plain = st.sealer->Unseal(std::span(reinterpret_cast<const uint8_t*>(b.data()), b.size()),
                                     "host/" + req.unseal().label());
      if (!plain.ok()) return Error(plain.status());
      r.set_plaintext(std::string(plain->bytes().begin(), plain->bytes().end()));
      return r;
    }
    case v1::EcallRequest::kEciesDecrypt: {
      if (!st.test_commands) {
        return Error(PermissionDeniedError(
            "ecies_decrypt is not served to the host: secrets are decrypted only inside the enclave"));
      }
      const auto& b = req.ecies_decrypt().blob();
      const auto& info = req.ecies_decrypt().info();
      auto plain = crypto::EciesDecrypt(st.keys->ecies, std::span(reinterpret_cast<const uint8_t*>(b.data()), b.size()),
                                        std::span(reinterpret_cast<const uint8_t*>(info.data()), info.size()));
      if (!plain.ok()) return Error(plain.status());
      r.set_plaintext(std::string(plain->bytes().begin(), plain->bytes().end()));
      return r;
    }
    case v1::EcallRequest::kFetch: return Fetch(st, req.fetch(), channel);
    case v1::EcallRequest::kOracleRun: return OracleRun(st, req.oracle_run(), channel);
    case v1::EcallRequest::kPriceObserve: return PriceObserve(st, req.price_observe(), channel);
    case v1::EcallRequest::kOracleFinalize: {
      auto out = oracle::FinalizeOracle(req.oracle_finalize(), st.keys->report);
      if (!out.ok()) return Error(out.status());
      *r.mutable_oracle_run() = std::move(*out);
      return r;
    }
    case v1::EcallRequest::kDepositKey: return tee::ServeDepositKey(st.keys->neo, req.deposit_key());
    case v1::EcallRequest::kSecretSeal: return SecretSeal(st, req.secret_seal());
    case v1::EcallRequest::kRunFunction: return RunFunction(st.worker, req.run_function(), channel);
    case v1::EcallRequest::kCheckFunction: return CheckFunction(st.worker, req.check_function());
    case v1::EcallRequest::kTest: {
      if (!st.test_commands) return Error(PermissionDeniedError("test commands are disabled in this enclave"));
      const auto& t = req.test();
      if (t.has_secret_digest()) return SecretDigest(st, t.secret_digest());
      if (t.has_secret_read()) return SecretRead(st, t.secret_read());
      if (t.crash()) std::abort();
      if (t.sleep_ms() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(t.sleep_ms()));
      r.set_test(t.echo());
      return r;
    }
    case v1::EcallRequest::CALL_NOT_SET: break;
  }
  return Error(InvalidArgumentError("empty or unknown ECALL"));
}

// Locks the pages the process holds now — the keys, loaded before the sandbox — so they are
// never swapped out. Later mappings are not locked (see tee::LockCurrentMemory).
std::string LockMemory() {
  Status s = tee::LockCurrentMemory();
  return s.ok() ? "key pages locked" : "not locked: " + std::string(s.message());
}

int RunEnclave(const EnclaveFlags& f) {
  const std::string_view cmd = "enclave";
  if (f.channel_fd < 0)
    return Fail(cmd, InvalidArgumentError("--channel-fd is required (neosl serve starts the enclave)"));
  if (f.sealed_dir.empty() || f.platform_secret.empty()) {
    return Fail(cmd, InvalidArgumentError("--sealed-dir and --platform-secret are required"));
  }
  // No log::Init here: it starts a flusher thread, and the sandbox needs a single-threaded
  // process. Until the channel is up, the few lines go to stderr (the host's log), never to the
  // host's stdout, which may carry a command's result.
  dup2(STDERR_FILENO, STDOUT_FILENO);
  auto st = std::make_unique<EnclaveState>();
  st->test_commands = f.test_commands;
  if (f.seal_policy == "signer") {
    st->policy = tee::SealPolicy::kSigner;
  } else if (f.seal_policy == "measurement") {
    st->policy = tee::SealPolicy::kMeasurement;
  } else {
    return Fail(cmd, InvalidArgumentError("--seal-policy must be signer or measurement"));
  }

  auto measurement = tee::MeasureSelf();
  if (!measurement.ok()) return Fail(cmd, measurement.status());
  st->measurement = *measurement;
  auto secret = tee::LoadOrCreatePlatformSecret(f.platform_secret, SecureRandom::Instance());
  if (!secret.ok()) return Fail(cmd, secret.status());
  std::optional<tee::SigStruct> sigstruct;
  if (!f.sigstruct.empty()) {
    auto text = ReadText(f.sigstruct);
    if (!text.ok()) return Fail(cmd, text.status());
    auto decoded = tee::SigStruct::Decode(*text);
    if (!decoded.ok()) return Fail(cmd, decoded.status().Annotate(f.sigstruct));
    sigstruct = std::move(*decoded);
  }
  st->sealer = std::make_unique<tee::Sealer>(std::move(*secret), st->measurement, std::move(sigstruct));
  if (st->policy == tee::SealPolicy::kSigner) {
    if (Status s = st->sealer->SignerStatus(); !s.ok()) return Fail(cmd, s.Annotate("signer sealing policy"));
  }
  if (f.migrate_in) {
    st->ephemeral.emplace(crypto::PrivateKey::Generate(SecureRandom::Instance()));
  } else {
    auto keys = tee::KeyStore::LoadOrCreate(*st->sealer, st->policy, f.sealed_dir, SecureRandom::Instance());
    if (!keys.ok()) return Fail(cmd, keys.status());
    st->keys.emplace(std::move(*keys));
    auto vault = tee::SecretVault::ForEnclaveKeys(*st->keys);
    if (!vault.ok()) return Fail(cmd, vault.status());
    st->vault.emplace(std::move(*vault));
  }
  auto quoting = tee::SimQuotingEnclave::Create(SecureRandom::Instance());
  if (!quoting.ok()) return Fail(cmd, quoting.status());
  st->quoting.emplace(std::move(*quoting));
  if (!f.ca_file.empty()) {
    auto pem = ReadText(f.ca_file);
    if (!pem.ok()) return Fail(cmd, pem.status().Annotate("--ca-file"));
    st->ca_pem = std::move(*pem);
  }

  const std::string memory = LockMemory();
  tee::SandboxOptions sandbox{.sealed_dir = f.sealed_dir, .keep_fds = {f.channel_fd, 2}};
  int statm = -1;
  if (f.function_worker) {
    if (f.migrate_in) return Fail(cmd, InvalidArgumentError("--function-worker and --migrate-in exclude each other"));
    // Kept across the sandbox: the engine reads its address-space size from it (no /proc inside).
    statm = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (statm < 0) return Fail(cmd, InternalError("cannot open /proc/self/statm"));
    sandbox.keep_fds.push_back(statm);
    sandbox.filter.allow_jit = f.jit;
    sandbox.filter.allow_address_space_limit = true;
  }
  if (Status s = tee::ApplySandbox(sandbox); !s.ok()) {
    return Fail(cmd, s.Annotate("sandbox"));
  }
  if (f.function_worker) {
    // The engine is made by the first call, on the channel's one worker thread (the sandbox
    // above needed a single-threaded process; the engine starts threads of its own).
    st->worker.enabled = true;
    st->worker.engine_options.statm_fd = statm;
    st->worker.engine_options.jit = f.jit;
    if (Status s = runtime::Engine::InitProcess(f.jit); !s.ok()) return Fail(cmd, s);
    st->worker.vault = &*st->vault;
    st->worker.report_key = &st->keys->report;
    st->worker.ca_pem = st->ca_pem;
  }
  EnclaveState* state = st.get();
  std::atomic<bool> announced{false};
  tee::ChannelOptions channel_options;
  // A function worker serves one call at a time, all on one thread that owns its engine.
  if (f.function_worker) {
    channel_options.workers = 1;
    channel_options.after_serve = [state] { BetweenCalls(state->worker); };
  } else {
    // Oracle requests wait on the network for seconds; enough threads that a few slow sources
    // do not hold up signing and proving (the oracle service bounds how many it sends at once).
    channel_options.workers = 16;
  }
  // Short calls that never block skip the hand-off to a worker thread; fetch (which makes
  // OCALLs) and test commands (which may sleep) go to the workers.
  channel_options.serve_on_reader = [&announced](const v1::Frame& frame) {
    if (!frame.has_ecall() || !announced.load()) return false;
    switch (frame.ecall().call_case()) {
      case v1::EcallRequest::kPing:
      case v1::EcallRequest::kGetPublicKeys: return true;
      case v1::EcallRequest::kSign:  // a batch is worth the hand-off: batches then sign in parallel
        return frame.ecall().sign().messages_size() == 0;
      default: return false;
    }
  };
  const int rc = tee::RunEnclaveServer(
      f.channel_fd,
      [state, &announced, memory](const v1::EcallRequest& req, tee::Channel& channel) {
        if (!announced.exchange(true)) {
          tee::OcallLogSink(channel).Info(
              "enclave ready",
              {{"backend", "sim"}, {"measurement", tee::MeasurementHex(state->measurement)}, {"memory", memory}});
        }
        return Serve(*state, req, channel);
      },
      channel_options);
  if (f.function_worker) {
    // The engine belongs to the channel's worker thread, which is gone: leave without tearing it
    // down or running static destructors SpiderMonkey's own state may race with. Nothing in it
    // needs saving; secrets were wiped after each invocation.
    (void)st->worker.engine.release();
    std::fflush(nullptr);
    _exit(rc);
  }
  return rc;
}

int RunMeasure(const std::string& binary) {
  auto m = binary.empty() ? tee::MeasureSelf() : tee::MeasureFile(binary);
  if (!m.ok()) return Fail("enclave measure", m.status());
  std::printf("%s\n", json::serialize(json::object{{"measurement", tee::MeasurementHex(*m)}}).c_str());
  return 0;
}

struct SignFlags {
  std::string key_file;
  std::string binary;
  uint32_t isv_svn = 1;
  std::string out;
  bool new_key = false;
};

int RunSign(const SignFlags& f) {
  const std::string_view cmd = "enclave sign";
  if (f.new_key) {
    // A fresh signing key: 32 random bytes as hex in a 0600 file, made once.
    auto made = tee::LoadOrCreatePlatformSecret(f.key_file, SecureRandom::Instance());
    if (!made.ok()) return Fail(cmd, made.status());
  }
  auto raw = tee::internal::ReadSmallFile(f.key_file, 64);
  if (!raw.ok()) return Fail(cmd, raw.status());
  auto key = crypto::PrivateKey::FromBytes(*raw);
  if (!key.ok()) return Fail(cmd, InvalidArgumentError(f.key_file + " does not hold a P-256 signing key"));
  auto m = f.binary.empty() ? tee::MeasureSelf() : tee::MeasureFile(f.binary);
  if (!m.ok()) return Fail(cmd, m.status());
  auto sig = tee::SigStruct::Sign(*key, *m, f.isv_svn);
  if (!sig.ok()) return Fail(cmd, sig.status());
  const std::string encoded = sig->Encode();
  if (!f.out.empty()) {
    if (Status s = WriteFileAtomic(f.out, encoded + "\n", 0644); !s.ok()) return Fail(cmd, s);
  }
  std::printf("%s\n", encoded.c_str());
  return 0;
}

struct MigrateFlags {
  std::string from;  // the previous build's binary
  std::string sealed_dir;
  std::string platform_secret;
  std::string seal_policy = "measurement";
  std::string from_sigstruct;
  std::string sigstruct;
};

std::unique_ptr<tee::EnclaveHost> StartOne(const std::string& binary, std::vector<std::string> args, std::string* why) {
  tee::EnclaveHostOptions o;
  o.binary = binary;
  o.args = std::move(args);
  auto reason = std::make_shared<std::string>();
  o.on_exit = [reason](const std::string& r) { *reason = r; };
  auto host = tee::EnclaveHost::Start(std::move(o));
  if (!host.ok()) {
    *why = host.status().ToString();
    return nullptr;
  }
  if (!(*host)->WaitReady(std::chrono::seconds(20))) {
    (*host)->Stop();
    *why = "it did not start (" + *reason + "); its error is above";
    return nullptr;
  }
  return std::move(*host);
}

// Moves the sealed keys from the previous build (--from) to this one: both run side by side on
// the same sealed directory; the old one exports only to evidence carrying this build's
// measurement. The old key file is kept as keys.sealed.<old measurement>.
int RunMigrate(const MigrateFlags& f) {
  const std::string_view cmd = "enclave migrate";
  (void)log::Init({.level = log::Level::kInfo, .json = true});  // stderr: stdout carries the result
  auto self = std::filesystem::read_symlink("/proc/self/exe");
  auto to = tee::MeasureSelf();
  auto from = tee::MeasureFile(f.from);
  if (!to.ok()) return Fail(cmd, to.status());
  if (!from.ok()) return Fail(cmd, from.status().Annotate("--from"));
  if (*to == *from) return Fail(cmd, InvalidArgumentError("--from is this very build: nothing to migrate"));
  std::vector<std::string> common = {"--sealed-dir",    f.sealed_dir,    "--platform-secret",
                                     f.platform_secret, "--seal-policy", f.seal_policy};
  std::vector<std::string> old_args = {"enclave"};
  old_args.insert(old_args.end(), common.begin(), common.end());
  if (!f.from_sigstruct.empty()) old_args.insert(old_args.end(), {"--sigstruct", f.from_sigstruct});
  std::vector<std::string> new_args = {"enclave", "--migrate-in"};
  new_args.insert(new_args.end(), common.begin(), common.end());
  if (!f.sigstruct.empty()) new_args.insert(new_args.end(), {"--sigstruct", f.sigstruct});

  std::string why;
  auto old_enclave = StartOne(std::filesystem::absolute(f.from).string(), old_args, &why);
  if (!old_enclave) return Fail(cmd, UnavailableError("the previous build's enclave: " + why));
  v1::EcallRequest keys_req;
  keys_req.mutable_get_public_keys();
  auto old_keys = old_enclave->Call(keys_req, std::chrono::seconds(10));
  if (!old_keys.ok()) return Fail(cmd, old_keys.status());
  auto new_enclave = StartOne(self.string(), new_args, &why);
  if (!new_enclave) return Fail(cmd, UnavailableError("this build's enclave: " + why));

  std::string nonce(32, '\0');
  SecureRandom::Instance().Fill(std::span(reinterpret_cast<uint8_t*>(nonce.data()), nonce.size()));
  v1::EcallRequest offer;
  offer.mutable_migration_offer()->set_nonce(nonce);
  auto evidence = new_enclave->Call(offer, std::chrono::seconds(10));
  if (!evidence.ok()) return Fail(cmd, evidence.status());
  v1::EcallRequest exp;
  exp.mutable_migration_export()->set_evidence_json(evidence->evidence_json());
  exp.mutable_migration_export()->set_nonce(nonce);
  exp.mutable_migration_export()->set_measurement(std::string(to->begin(), to->end()));
  auto blob = old_enclave->Call(exp, std::chrono::seconds(10));
  if (!blob.ok()) return Fail(cmd, blob.status());
  old_enclave->Stop();

  const std::string key_file = f.sealed_dir + "/" + std::string(tee::kKeysFileName);
  const std::string backup = key_file + "." + tee::MeasurementHex(*from).substr(0, 16);
  std::error_code ec;
  std::filesystem::copy_file(key_file, backup, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) return Fail(cmd, UnavailableError("cannot keep a copy of " + key_file + ": " + ec.message()));
  v1::EcallRequest import;
  import.mutable_migration_import()->set_blob(blob->sealed());
  auto imported = new_enclave->Call(import, std::chrono::seconds(10));
  new_enclave->Stop();
  if (!imported.ok()) return Fail(cmd, imported.status());

  // Check: this build now opens the keys by itself, and they are the old ones.
  std::vector<std::string> check_args = {"enclave"};
  check_args.insert(check_args.end(), common.begin(), common.end());
  if (!f.sigstruct.empty()) check_args.insert(check_args.end(), {"--sigstruct", f.sigstruct});
  auto check = StartOne(self.string(), check_args, &why);
  if (!check) return Fail(cmd, InternalError("this build cannot open the migrated keys: " + why));
  auto new_keys = check->Call(keys_req, std::chrono::seconds(10));
  check->Stop();
  if (!new_keys.ok() || new_keys->public_keys().neo() != old_keys->public_keys().neo()) {
    return Fail(cmd, InternalError("the migrated keys are not the previous build's"));
  }
  json::object out{{"migrated", true},
                   {"from", tee::MeasurementHex(*from)},
                   {"to", tee::MeasurementHex(*to)},
                   {"previous_key_file", backup}};
  std::printf("%s\n", json::serialize(out).c_str());
  return 0;
}

}  // namespace

std::function<int()> AddEnclaveCommands(CLI::App& app) {
  auto* cmd = app.add_subcommand("enclave", "The enclave program (started by neosl serve) and its tools");
  cmd->require_subcommand(0, 1);  // `neosl enclave` alone is the enclave program
  auto run = std::make_shared<EnclaveFlags>();
  cmd->add_option("--channel-fd", run->channel_fd, "the socket to the host (set by neosl serve)");
  cmd->add_option("--sealed-dir", run->sealed_dir, "the sealed-state directory; the only one the enclave can touch");
  cmd->add_option("--platform-secret", run->platform_secret, "the platform secret file (0600, made once)");
  cmd->add_option("--seal-policy", run->seal_policy, "signer (default) or measurement");
  cmd->add_option("--sigstruct", run->sigstruct, "the signed measurement (neosl enclave sign), for the signer policy");
  cmd->add_option("--ca-file", run->ca_file, "trust anchors for HTTPS made inside the enclave");
  cmd->add_flag("--test-commands", run->test_commands, "serve test-only ECALLs (tests and benchmarks only)");
  cmd->add_flag("--migrate-in", run->migrate_in, "receive the keys of the previous build (neosl enclave migrate)");
  cmd->add_flag("--function-worker", run->function_worker,
                "run JavaScript functions (started by neosl serve's worker pool; docs/functions.md)");
  cmd->add_flag("--jit,!--no-jit", run->jit, "with --function-worker: use SpiderMonkey's JIT (default on)");

  auto* measure = cmd->add_subcommand("measure", "Print the enclave measurement (SHA-256) of a binary");
  auto measure_binary = std::make_shared<std::string>();
  measure->add_option("--binary", *measure_binary, "the neosl binary (default: this one)");

  auto* sign = cmd->add_subcommand(
      "sign", "Sign a binary's measurement with the enclave-signing key (a sigstruct, for the signer sealing policy)");
  auto sign_flags = std::make_shared<SignFlags>();
  sign->add_option("--key", sign_flags->key_file, "the signing key: a file of 32 raw bytes (mode 0600)")->required();
  sign->add_flag("--new-key", sign_flags->new_key, "create the key file if it does not exist");
  sign->add_option("--binary", sign_flags->binary, "the neosl binary to sign (default: this one)");
  sign->add_option("--isv-svn", sign_flags->isv_svn, "security version; sealed state never opens in a lower one");
  sign->add_option("--out", sign_flags->out, "also write the sigstruct JSON here");

  auto* migrate = cmd->add_subcommand(
      "migrate", "Move the sealed keys of the previous build (--from) to this build, through attested evidence");
  auto migrate_flags = std::make_shared<MigrateFlags>();
  migrate->add_option("--from", migrate_flags->from, "the previous build's neosl binary")->required();
  migrate->add_option("--sealed-dir", migrate_flags->sealed_dir, "the sealed-state directory")->required();
  migrate->add_option("--platform-secret", migrate_flags->platform_secret, "the platform secret file")->required();
  migrate->add_option("--seal-policy", migrate_flags->seal_policy, "measurement (default) or signer");
  migrate->add_option("--from-sigstruct", migrate_flags->from_sigstruct, "the previous build's sigstruct");
  migrate->add_option("--sigstruct", migrate_flags->sigstruct, "this build's sigstruct");

  return [cmd, measure, sign, migrate, run, measure_binary, sign_flags, migrate_flags]() -> int {
    if (migrate->parsed()) return RunMigrate(*migrate_flags);
    if (measure->parsed()) return RunMeasure(*measure_binary);
    if (sign->parsed()) return RunSign(*sign_flags);
    if (cmd->parsed()) return RunEnclave(*run);
    return -1;
  };
}

}  // namespace neosl::app
