#include "apps/neosl/mesh_host.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include <boost/json/serialize.hpp>

#include "apps/neosl/automation_setup.h"
#include "apps/neosl/enclave_host.h"
#include "apps/neosl/gasbank_setup.h"
#include "apps/neosl/pricefeed_setup.h"
#include "core/encoding.h"
#include "core/log.h"
#include "gateway/operations_service.h"
#include "mesh/metrics.h"
#include "services/echo/echo_service.h"
#include "services/functions/functions_service.h"
#include "services/functions/unavailable_service.h"
#include "services/gasbank/charging.h"
#include "services/oracle/oracle_service.h"
#include "services/random/random_service.h"
#include "services/secrets/audit_log.h"
#include "services/secrets/secrets_service.h"
#include "tee/measurement.h"
#include "tee/verifier.h"

#ifndef NEOSL_VERSION
#define NEOSL_VERSION "0.0.0"
#endif

namespace neosl::app {
namespace {

std::string Or(const std::string& value, const std::string& fallback) {
  return value.empty() ? fallback : value;
}

StatusOr<std::string> ReadText(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError(std::string(what) + ": cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

StatusOr<std::unique_ptr<mesh::Registry>> OpenRegistry(const Config& config, const std::string& data_dir,
                                                       const std::string& role, const Clock& clock) {
  if (role == "all") return mesh::NewMemoryRegistry();
  mesh::RegistryOptions options;
  options.lease_ttl = std::chrono::milliseconds(config.Int("mesh.registry.lease_ms"));
  if (options.lease_ttl < std::chrono::milliseconds(1000)) {
    return InvalidArgumentError("mesh.registry.lease_ms must be at least 1000");
  }
  const std::string& backend = config.String("mesh.registry.backend");
  if (backend == "file")
    return mesh::NewFileRegistry(Or(config.String("mesh.registry.dir"), data_dir + "/registry"), options, clock);
  if (backend == "etcd") {
    mesh::EtcdOptions etcd;
    etcd.endpoints = SplitComma(config.String("mesh.registry.etcd_endpoints"));
    etcd.prefix = config.String("mesh.registry.etcd_prefix");
    if (etcd.endpoints.empty()) return InvalidArgumentError("mesh.registry.etcd_endpoints is empty");
    return mesh::NewEtcdRegistry(etcd, options);
  }
  return InvalidArgumentError("mesh.registry.backend must be file or etcd, not '" + backend + "'");
}

// The evidence policy for sensitive calls: the configured file, else this build's enclave.
StatusOr<tee::AttestationPolicy> AttestationPolicyFor(const Config& config) {
  const std::string& file = config.String("mesh.attestation_policy_file");
  if (!file.empty()) {
    ASSIGN_OR_RETURN(std::string yaml, ReadText(file, "mesh.attestation_policy_file"));
    return tee::AttestationPolicy::FromYaml(yaml);
  }
  tee::AttestationPolicy policy;
  ASSIGN_OR_RETURN(tee::Measurement self, tee::MeasureSelf());
  policy.measurements.push_back(self);
  policy.allow_simulation = config.String("enclave.backend") == "sim";
  return policy;
}

mesh::ClientOptions ClientOptionsFor(const Config& config, std::string identity,
                                     std::optional<tee::AttestationPolicy> attestation) {
  mesh::ClientOptions o;
  o.identity = std::move(identity);
  o.default_timeout = std::chrono::milliseconds(config.Int("mesh.client.timeout_ms"));
  o.max_attempts = int(std::max<int64_t>(1, config.Int("mesh.client.max_attempts")));
  o.backoff.initial = std::chrono::milliseconds(config.Int("mesh.client.backoff_initial_ms"));
  o.backoff.max = std::chrono::milliseconds(config.Int("mesh.client.backoff_max_ms"));
  o.breaker.failure_threshold = int(std::max<int64_t>(1, config.Int("mesh.client.breaker_failures")));
  o.breaker.open_for = std::chrono::milliseconds(config.Int("mesh.client.breaker_open_ms"));
  o.attestation = std::move(attestation);
  return o;
}

// The identity files of this process, issued and kept fresh from mesh.tls.ca_dir when set.
StatusOr<mesh::IdentityFiles> PrepareIdentity(const Config& config, const std::string& data_dir,
                                              const std::string& identity, const Clock& clock,
                                              std::unique_ptr<mesh::CertRotator>* rotator) {
  mesh::IdentityFiles files{Or(config.String("mesh.tls.dir"), data_dir + "/mesh"), identity};
  std::error_code ec;
  std::filesystem::create_directories(files.dir, ec);
  if (ec) return UnavailableError("cannot create " + files.dir + ": " + ec.message());
  std::filesystem::permissions(files.dir, std::filesystem::perms::owner_all, ec);
  const std::string& ca_dir = config.String("mesh.tls.ca_dir");
  int64_t hours = config.Int("mesh.tls.cert_hours");
  if (hours < mesh::kMinCertValidity.count() || hours > mesh::kMaxCertValidity.count()) {
    return InvalidArgumentError("mesh.tls.cert_hours must be 24 to 48");
  }
  if (!ca_dir.empty()) {
    mesh::RotatorOptions options;
    options.validity = std::chrono::hours(hours);
    *rotator = std::make_unique<mesh::CertRotator>(files, mesh::LocalIssuer(ca_dir, clock), options, clock);
    RETURN_IF_ERROR((*rotator)->EnsureFresh());
    (*rotator)->Start();
    return files;
  }
  for (const std::string& f : {files.cert_file(), files.key_file(), files.ca_file()}) {
    if (access(f.c_str(), R_OK) != 0) {
      return FailedPreconditionError("no mesh certificate: " + f +
                                     " is missing; run `neosl ca issue --dir CA --service " + identity + " --out " +
                                     files.dir + "` or set mesh.tls.ca_dir");
    }
  }
  log::Warn("mesh.tls.ca_dir is not set: this process cannot renew its certificate", {{"cert", files.cert_file()}});
  return files;
}

std::unique_ptr<mesh::ChannelFactory> Channels(const Config& config, const mesh::IdentityFiles& files) {
  if (config.Bool("mesh.insecure")) return mesh::InsecureChannels();
  return mesh::TlsChannels(files);
}

// How a service pays for its work through the gas bank (issue #12): over the service's own
// client, so that the bank knows who charges; nothing is charged with gasbank.enabled false.
gasbank::GasCharger ChargerFor(const Config& config, mesh::MeshClient& client) {
  return config.Bool("gasbank.enabled") ? gasbank::GasCharger(&client) : gasbank::GasCharger();
}

// Audit checkpoints signed by the enclave's report key.
class EnclaveAuditSigner final : public services::secrets::AuditSigner {
 public:
  EnclaveAuditSigner(RunningEnclave& enclave, crypto::PublicKey key) : enclave_(enclave), key_(std::move(key)) {}
  StatusOr<crypto::Signature> Sign(std::span<const uint8_t> message) override { return enclave_.SignReport(message); }
  crypto::PublicKey public_key() override { return key_; }

 private:
  RunningEnclave& enclave_;
  crypto::PublicKey key_;
};

// The secrets service of this process, sealing through its enclave and auditing into its store.
StatusOr<std::unique_ptr<grpc::Service>> MakeSecretsService(const Config& config, MeshHost& host,
                                                            RunningEnclave& enclave, store::Store& store,
                                                            const Clock& clock) {
  services::SecretsOptions options;
  options.max_secrets_per_account = config.Int("secrets.max_per_account");
  const int64_t max_value = config.Int("secrets.max_value_bytes");
  if (max_value < 1 || max_value > 65536) return InvalidArgumentError("secrets.max_value_bytes must be 1 to 65536");
  options.max_value_bytes = size_t(max_value);
  if (options.max_secrets_per_account < 1) return InvalidArgumentError("secrets.max_per_account must be at least 1");
  ASSIGN_OR_RETURN(crypto::PublicKey report, enclave.ReportKey());
  host.audit_signer = std::make_unique<EnclaveAuditSigner>(enclave, report);
  host.audit_log = std::make_unique<services::secrets::AuditLog>(*host.audit_signer);
  // The enclave enforces the value limit too: only it sees the size of an encrypted value.
  services::SecretSealer sealer = [&enclave, max_value](std::string_view account, std::string_view name,
                                                        uint32_t version, bool encrypted,
                                                        std::span<const uint8_t> value) {
    return enclave.SealSecret(
        account, name, version,
        encrypted ? RunningEnclave::SecretForm::kEncrypted : RunningEnclave::SecretForm::kPlaintext, value,
        uint32_t(max_value));
  };
  return std::make_unique<services::SecretsService>(*host.pipeline, store, std::move(sealer), *host.audit_log,
                                                    std::vector<crypto::PublicKey>{report}, clock, options);
}

// The functions service of this process, calling the secrets service through `client`; without
// a runtime, a stand-in that answers UNAVAILABLE.
StatusOr<std::unique_ptr<grpc::Service>> MakeFunctionsService(const Config& config, MeshHost& host,
                                                              RunningEnclave& enclave, store::Store& store,
                                                              runtime::FunctionRunner* runner, mesh::MeshClient& client,
                                                              const Clock& clock, RandomSource& random) {
  if (!runner) {
    log::Warn("functions runtime not running: the functions API answers UNAVAILABLE", {});
    return std::make_unique<services::UnavailableFunctionsService>(*host.pipeline);
  }
  services::FunctionsOptions options;
  options.max_functions_per_account = config.Int("functions.max_per_account");
  options.max_executions_kept = config.Int("functions.max_executions_kept");
  const int64_t queue = config.Int("functions.log_stream_queue");
  const int64_t threads = config.Int("functions.service_threads");
  if (options.max_functions_per_account < 1)
    return InvalidArgumentError("functions.max_per_account must be at least 1");
  if (options.max_executions_kept < 1) return InvalidArgumentError("functions.max_executions_kept must be at least 1");
  if (queue < 1 || queue > 100000) return InvalidArgumentError("functions.log_stream_queue must be 1 to 100000");
  if (threads < 1 || threads > 256) return InvalidArgumentError("functions.service_threads must be 1 to 256");
  options.log_stream_queue = size_t(queue);
  options.threads = size_t(threads);
  ASSIGN_OR_RETURN(crypto::PublicKey report, enclave.ReportKey());
  return std::make_unique<services::FunctionsService>(*host.pipeline, store, *runner, client, clock, random,
                                                      std::move(report), options, ChargerFor(config, client));
}

// The random service of this process, proving with its enclave's VRF key and charging through
// `client`.
StatusOr<std::unique_ptr<services::RandomService>> MakeRandomService(const Config& config, MeshHost& host,
                                                                     RunningEnclave& enclave, store::Store& store,
                                                                     mesh::MeshClient& client, const Clock& clock,
                                                                     RandomSource& random) {
  ASSIGN_OR_RETURN(crypto::PublicKey vrf_key, enclave.VrfKey());
  services::VrfProver prover = [&enclave, vrf_key](std::span<const uint8_t> alpha) -> StatusOr<services::VrfAnswer> {
    ASSIGN_OR_RETURN(RunningEnclave::VrfResult r, enclave.VrfProve(alpha, vrf_key));
    return services::VrfAnswer{r.proof, r.output};
  };
  return std::make_unique<services::RandomService>(*host.pipeline, store, std::move(prover), std::move(vrf_key), clock,
                                                   random, ChargerFor(config, client));
}

// The oracle service of this process, running requests in its enclave (oracle.* config).
StatusOr<std::unique_ptr<services::OracleService>> MakeOracleService(const Config& config, MeshHost& host,
                                                                     RunningEnclave& enclave, store::Store& store,
                                                                     mesh::MeshClient& client, const Clock& clock,
                                                                     RandomSource& random) {
  services::OracleOptions options;
  const int64_t timeout_ms = config.Int("oracle.timeout_ms");
  const int64_t max_result = config.Int("oracle.max_result_bytes");
  const int64_t threads = config.Int("oracle.threads");
  const int64_t queue = config.Int("oracle.queue");
  if (timeout_ms < 100 || timeout_ms > 30000) return InvalidArgumentError("oracle.timeout_ms must be 100 to 30000");
  if (max_result < 1 || max_result > 65535) return InvalidArgumentError("oracle.max_result_bytes must be 1 to 65535");
  if (threads < 1 || threads > 256) return InvalidArgumentError("oracle.threads must be 1 to 256");
  if (queue < 1 || queue > 1000000) return InvalidArgumentError("oracle.queue must be 1 to 1000000");
  options.timeout = std::chrono::milliseconds(timeout_ms);
  options.max_result_bytes = size_t(max_result);
  options.threads = size_t(threads);
  options.queue = size_t(queue);
  options.allow_http = config.Bool("oracle.allow_http");
  options.content_types.clear();
  const std::string types = config.String("oracle.content_types");
  for (size_t start = 0; start <= types.size();) {
    size_t comma = types.find(',', start);
    if (comma == std::string::npos) comma = types.size();
    std::string t = types.substr(start, comma - start);
    t.erase(0, t.find_first_not_of(" \t"));
    t.erase(t.find_last_not_of(" \t") + 1);
    if (!t.empty()) options.content_types.push_back(std::move(t));
    start = comma + 1;
  }
  if (options.content_types.empty()) return InvalidArgumentError("oracle.content_types must name a media type");
  ASSIGN_OR_RETURN(crypto::PublicKey report, enclave.ReportKey());
  // The enclave's call may take every source's timeout (they run at once) plus the way there.
  const auto call_timeout = options.timeout + std::chrono::milliseconds(10'000);
  services::OracleEnclave calls;
  calls.run = [&enclave, report, call_timeout](const tee::v1::OracleRunRequest& request) {
    return enclave.OracleRun(request, report, call_timeout);
  };
  calls.finalize = [&enclave, report](const tee::v1::OracleFinalizeRequest& request) {
    return enclave.OracleFinalize(request, report);
  };
  auto service =
      std::make_unique<services::OracleService>(*host.pipeline, store, std::move(calls), client, clock, random,
                                                std::move(report), std::move(options), ChargerFor(config, client));
  ASSIGN_OR_RETURN(int interrupted, service->FailInterrupted());
  if (interrupted > 0) {
    log::Warn("oracle requests interrupted by the last stop were failed", {{"count", std::to_string(interrupted)}});
  }
  return service;
}

}  // namespace

const std::vector<std::string>& MeshRoles() {
  static const std::vector<std::string> roles = {"all",    "gateway", "echo",      "secrets", "functions",
                                                 "random", "oracle",  "pricefeed", "gasbank", "automation"};
  return roles;
}

MeshHost::MeshHost() = default;

StatusOr<std::unique_ptr<MeshHost>> StartMesh(const Config& config, const std::string& data_dir,
                                              const std::string& role, RunningEnclave& enclave_ref, store::Store& store,
                                              runtime::FunctionRunner* runner, const Clock& clock,
                                              RandomSource& random) {
  RunningEnclave* enclave = &enclave_ref;
  if (std::find(MeshRoles().begin(), MeshRoles().end(), role) == MeshRoles().end()) {
    std::string all;
    for (const auto& r : MeshRoles()) all += (all.empty() ? "" : ", ") + r;
    return InvalidArgumentError("unknown role '" + role + "' (roles: " + all + ")");
  }
  auto host = std::make_unique<MeshHost>();
  host->role = role;
  uint8_t suffix[3];
  random.Fill(suffix);
  host->instance = Or(config.String("mesh.instance"), role + "-" + HexEncode(suffix));

  ASSIGN_OR_RETURN(host->registry, OpenRegistry(config, data_dir, role, clock));

  const std::string& policy_file = config.String("mesh.policy_file");
  auto policy = policy_file.empty() ? mesh::AuthzPolicy::FromYaml(mesh::DefaultAuthzPolicyYaml())
                                    : mesh::AuthzPolicy::FromFile(policy_file);
  if (!policy.ok()) return policy.status().Annotate("mesh.policy_file");
  host->policy = std::make_unique<mesh::AuthzPolicy>(std::move(*policy));
  const std::string& limits_file = config.String("mesh.rate_limits_file");
  auto limits = limits_file.empty() ? mesh::RateLimitsFromYaml(mesh::DefaultRateLimitsYaml())
                                    : mesh::RateLimitsFromFile(limits_file);
  if (!limits.ok()) return limits.status().Annotate("mesh.rate_limits_file");
  host->limiter = std::make_unique<RateLimiter>(std::move(*limits), clock);

  auto attestation = AttestationPolicyFor(config);
  if (!attestation.ok()) return attestation.status().Annotate("mesh.attestation_policy_file");

  const bool insecure = config.Bool("mesh.insecure");
  if (insecure && role != "all") {
    log::Warn("mesh.insecure: gRPC between processes is plaintext and unauthenticated (benchmarks only)", {});
  }

  mesh::PipelineOptions pipeline;
  pipeline.policy = host->policy.get();
  pipeline.limiter = host->limiter.get();
  pipeline.trust_caller_header = insecure;
  pipeline.log_calls = config.Bool("mesh.log_calls");
  if (enclave) {
    pipeline.evidence = [enclave](std::span<const uint8_t> nonce) -> StatusOr<std::string> {
      ASSIGN_OR_RETURN(boost::json::value evidence, enclave->Attest(nonce));
      return boost::json::serialize(evidence);
    };
  }
  host->pipeline = std::make_unique<mesh::Pipeline>(std::move(pipeline), clock, random);

  if (role == "all") {
    host->server = std::make_unique<mesh::MeshServer>(mesh::ServerOptions{}, *host->pipeline, host->instance);
    auto echo_client = std::make_unique<mesh::MeshClient>(
        ClientOptionsFor(config, std::string(services::EchoService::kIdentity), *attestation), *host->registry,
        mesh::InProcessChannels(*host->server, std::string(services::EchoService::kIdentity)), clock, random);
    host->services.push_back(
        std::make_unique<services::EchoService>(*host->pipeline, host->instance, echo_client.get()));
    host->service_clients.push_back(std::move(echo_client));
    ASSIGN_OR_RETURN(auto secrets, MakeSecretsService(config, *host, enclave_ref, store, clock));
    host->services.push_back(std::move(secrets));
    if (config.Bool("gasbank.enabled")) {
      ASSIGN_OR_RETURN(auto gasbank, MakeGasBankService(config, *host->pipeline, enclave_ref, store, clock, random));
      host->gasbank = gasbank.get();
      host->services.push_back(std::move(gasbank));
    }
    // The functions service calls the secrets and gas bank services in this process, as "functions".
    auto functions_client = std::make_unique<mesh::MeshClient>(
        ClientOptionsFor(config, std::string(services::FunctionsService::kIdentity), *attestation), *host->registry,
        mesh::InProcessChannels(*host->server, std::string(services::FunctionsService::kIdentity)), clock, random);
    ASSIGN_OR_RETURN(auto functions,
                     MakeFunctionsService(config, *host, enclave_ref, store, runner, *functions_client, clock, random));
    host->services.push_back(std::move(functions));
    host->service_clients.push_back(std::move(functions_client));
    // The random service calls the gas bank in this process, as "random".
    auto random_client = std::make_unique<mesh::MeshClient>(
        ClientOptionsFor(config, std::string(services::RandomService::kIdentity), *attestation), *host->registry,
        mesh::InProcessChannels(*host->server, std::string(services::RandomService::kIdentity)), clock, random);
    ASSIGN_OR_RETURN(auto random_service,
                     MakeRandomService(config, *host, enclave_ref, store, *random_client, clock, random));
    host->random = random_service.get();
    host->services.push_back(std::move(random_service));
    host->service_clients.push_back(std::move(random_client));
    // The oracle calls the secrets, functions and gas bank services in this process, as "oracle".
    auto oracle_client = std::make_unique<mesh::MeshClient>(
        ClientOptionsFor(config, std::string(services::OracleService::kIdentity), *attestation), *host->registry,
        mesh::InProcessChannels(*host->server, std::string(services::OracleService::kIdentity)), clock, random);
    ASSIGN_OR_RETURN(auto oracle_service,
                     MakeOracleService(config, *host, enclave_ref, store, *oracle_client, clock, random));
    host->oracle = oracle_service.get();
    host->services.push_back(std::move(oracle_service));
    host->service_clients.push_back(std::move(oracle_client));
    if (config.Bool("pricefeed.enabled")) {
      // The price feed calls the gas bank in this process, as "pricefeed".
      auto pricefeed_client = std::make_unique<mesh::MeshClient>(
          ClientOptionsFor(config, std::string(services::PriceFeedService::kIdentity), *attestation), *host->registry,
          mesh::InProcessChannels(*host->server, std::string(services::PriceFeedService::kIdentity)), clock, random);
      ASSIGN_OR_RETURN(auto pricefeed, MakePriceFeedService(config, *host->pipeline, enclave_ref, store, clock, random,
                                                            ChargerFor(config, *pricefeed_client)));
      host->pricefeed = pricefeed.get();
      host->services.push_back(std::move(pricefeed));
      host->service_clients.push_back(std::move(pricefeed_client));
    }
    if (config.Bool("automation.enabled")) {
      // Automation calls functions, the gas bank and the price feed in this process, as "automation".
      auto automation_client = std::make_unique<mesh::MeshClient>(
          ClientOptionsFor(config, std::string(services::AutomationService::kIdentity), *attestation), *host->registry,
          mesh::InProcessChannels(*host->server, std::string(services::AutomationService::kIdentity)), clock, random);
      host->automation = std::make_unique<AutomationParts>();
      ASSIGN_OR_RETURN(
          auto automation,
          MakeAutomationService(config, *host->pipeline, enclave_ref, store, *automation_client,
                                ChargerFor(config, *automation_client), clock, random, host->automation.get()));
      host->automation_client = automation_client.get();
      host->services.push_back(std::move(automation));
      host->service_clients.push_back(std::move(automation_client));
    }
    // The gateway's operations for the services (attached by serve once they exist).
    auto operations = std::make_unique<gateway::OperationsService>(*host->pipeline);
    host->operations = operations.get();
    host->services.push_back(std::move(operations));
    for (auto& s : host->services) host->server->AddService(s.get());
    ASSIGN_OR_RETURN(std::string bound, host->server->Start());
    (void)bound;
    host->gateway_client =
        std::make_unique<mesh::MeshClient>(ClientOptionsFor(config, "gateway", *attestation), *host->registry,
                                           mesh::InProcessChannels(*host->server, "gateway"), clock, random);
    for (std::string_view service :
         {services::EchoService::kIdentity, services::SecretsService::kIdentity, services::FunctionsService::kIdentity,
          services::RandomService::kIdentity, services::OracleService::kIdentity, services::PriceFeedService::kIdentity,
          services::GasBankService::kIdentity, services::AutomationService::kIdentity,
          gateway::OperationsService::kIdentity}) {
      if (service == services::PriceFeedService::kIdentity && host->pricefeed == nullptr) continue;
      if (service == services::AutomationService::kIdentity && host->automation == nullptr) continue;
      if (service == services::GasBankService::kIdentity && host->gasbank == nullptr) continue;
      ASSIGN_OR_RETURN(auto reg, host->registry->Register(mesh::Endpoint{
                                     std::string(service), host->instance, "inproc", NEOSL_VERSION, true, {}}));
      host->registrations.push_back(std::move(reg));
    }
    return host;
  }

  ASSIGN_OR_RETURN(mesh::IdentityFiles files, PrepareIdentity(config, data_dir, role, clock, &host->rotator));
  // Every other role has a server on the network, registered for the others to find.
  mesh::ServerOptions server;
  server.listen = config.String("mesh.listen");
  server.insecure = insecure;
  if (!insecure) {
    ASSIGN_OR_RETURN(server.credentials, mesh::ServerTlsCredentials(files));
  }
  host->server = std::make_unique<mesh::MeshServer>(std::move(server), *host->pipeline, host->instance);
  if (role == "gateway") {
    // The gateway serves its operations to the services, as mesh service `gateway`.
    host->gateway_client = std::make_unique<mesh::MeshClient>(ClientOptionsFor(config, "gateway", *attestation),
                                                              *host->registry, Channels(config, files), clock, random);
    auto operations = std::make_unique<gateway::OperationsService>(*host->pipeline);
    host->operations = operations.get();
    host->services.push_back(std::move(operations));
    host->server->AddService(host->operations);
    ASSIGN_OR_RETURN(host->bound, host->server->Start());
    std::string advertise = Or(config.String("mesh.advertise"), host->bound);
    ASSIGN_OR_RETURN(
        auto reg,
        host->registry->Register(mesh::Endpoint{
            std::string(gateway::OperationsService::kIdentity), host->instance, advertise, NEOSL_VERSION, true, {}}));
    host->registrations.push_back(std::move(reg));
    return host;
  }
  auto client = std::make_unique<mesh::MeshClient>(ClientOptionsFor(config, role, *attestation), *host->registry,
                                                   Channels(config, files), clock, random);
  if (role == "echo") {
    host->services.push_back(std::make_unique<services::EchoService>(*host->pipeline, host->instance, client.get()));
  } else if (role == "secrets") {
    ASSIGN_OR_RETURN(auto secrets, MakeSecretsService(config, *host, enclave_ref, store, clock));
    host->services.push_back(std::move(secrets));
  } else if (role == "functions") {
    ASSIGN_OR_RETURN(auto functions,
                     MakeFunctionsService(config, *host, enclave_ref, store, runner, *client, clock, random));
    host->services.push_back(std::move(functions));
  } else if (role == "random") {
    ASSIGN_OR_RETURN(auto random_service, MakeRandomService(config, *host, enclave_ref, store, *client, clock, random));
    host->random = random_service.get();
    host->services.push_back(std::move(random_service));
  } else if (role == "oracle") {
    ASSIGN_OR_RETURN(auto oracle_service, MakeOracleService(config, *host, enclave_ref, store, *client, clock, random));
    host->oracle = oracle_service.get();
    host->services.push_back(std::move(oracle_service));
  } else if (role == "pricefeed") {
    // Started by the replica's singletons (singletons.h): rounds only where the lease is held.
    ASSIGN_OR_RETURN(auto pricefeed, MakePriceFeedService(config, *host->pipeline, enclave_ref, store, clock, random,
                                                          ChargerFor(config, *client)));
    host->pricefeed = pricefeed.get();
    host->services.push_back(std::move(pricefeed));
  } else if (role == "gasbank") {
    if (!config.Bool("gasbank.enabled")) return InvalidArgumentError("role gasbank needs gasbank.enabled");
    ASSIGN_OR_RETURN(auto gasbank, MakeGasBankService(config, *host->pipeline, enclave_ref, store, clock, random));
    host->gasbank = gasbank.get();
    host->services.push_back(std::move(gasbank));
  } else if (role == "automation") {
    if (!config.Bool("automation.enabled")) return InvalidArgumentError("role automation needs automation.enabled");
    // Automation calls functions, the gas bank and the price feed over the mesh, as "automation".
    host->automation = std::make_unique<AutomationParts>();
    ASSIGN_OR_RETURN(auto automation,
                     MakeAutomationService(config, *host->pipeline, enclave_ref, store, *client,
                                           ChargerFor(config, *client), clock, random, host->automation.get()));
    host->automation_client = client.get();
    host->services.push_back(std::move(automation));
  }
  host->service_clients.push_back(std::move(client));
  for (auto& s : host->services) host->server->AddService(s.get());
  ASSIGN_OR_RETURN(host->bound, host->server->Start());
  std::string advertise = Or(config.String("mesh.advertise"), host->bound);
  ASSIGN_OR_RETURN(auto reg,
                   host->registry->Register(mesh::Endpoint{role, host->instance, advertise, NEOSL_VERSION, true, {}}));
  host->registrations.push_back(std::move(reg));
  return host;
}

std::string MeshHost::RenderMetrics() const {
  std::vector<mesh::MeshClient*> clients;
  std::vector<std::string> identities;
  if (gateway_client) {
    clients.push_back(gateway_client.get());
    identities.emplace_back("gateway");
  }
  for (const auto& c : service_clients) {
    clients.push_back(c.get());
    identities.push_back(c->identity());
  }
  return mesh::RenderMetrics(server ? pipeline.get() : nullptr, clients, identities);
}

void MeshHost::Stop(std::chrono::milliseconds grace) {
  // Leave the registry first, so clients stop picking this instance while it drains.
  for (auto& r : registrations) (void)r->Close();
  registrations.clear();
  if (server) server->Shutdown(grace);
  if (rotator) rotator->Stop();
}

MeshHost::~MeshHost() {
  if (automation) automation->Stop();  // no firing while the services it calls go away
  Stop(std::chrono::milliseconds(0));
  // Clients before the registry they watch; services before the clients they use.
  gateway_client.reset();
  server.reset();
  services.clear();
  automation.reset();
  service_clients.clear();
  audit_log.reset();
  audit_signer.reset();
  registry.reset();
}

}  // namespace neosl::app
