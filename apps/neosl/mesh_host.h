// The mesh as `neosl serve` runs it (docs/mesh.md): in role `all`, the gateway and every service
// in this process on gRPC's in-process channel; in a single role, this process's service (or the
// gateway's client) on mutual TLS with its certificate kept fresh, registered in and discovering
// through the registry.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/random.h"
#include "core/rate_limiter.h"
#include "core/status.h"
#include "mesh/client.h"
#include "mesh/policy.h"
#include "mesh/registry.h"
#include "mesh/server.h"
#include "mesh/tls.h"

namespace grpc {
class Service;
}
namespace neosl::store {
class Store;
}
namespace neosl::runtime {
class FunctionRunner;
}
namespace neosl::services::secrets {
class AuditSigner;
class AuditLog;
}  // namespace neosl::services::secrets
namespace neosl::gateway {
class OperationsService;
}
namespace neosl::services {
class RandomService;
class OracleService;
class PriceFeedService;
class GasBankService;
}  // namespace neosl::services

namespace neosl::app {

struct RunningEnclave;
struct AutomationParts;

// The roles `neosl serve --role` accepts.
const std::vector<std::string>& MeshRoles();

struct MeshHost {
  std::string role;
  std::string instance;
  std::unique_ptr<mesh::Registry> registry;
  std::unique_ptr<mesh::AuthzPolicy> policy;
  std::unique_ptr<RateLimiter> limiter;
  std::unique_ptr<mesh::CertRotator> rotator;
  std::unique_ptr<mesh::Pipeline> pipeline;
  std::unique_ptr<mesh::MeshServer> server;
  // The clients of the identities in this process: the gateway's, and each service's own.
  std::unique_ptr<mesh::MeshClient> gateway_client;
  std::vector<std::unique_ptr<mesh::MeshClient>> service_clients;
  std::unique_ptr<services::secrets::AuditSigner> audit_signer;
  std::unique_ptr<services::secrets::AuditLog> audit_log;
  std::vector<std::unique_ptr<grpc::Service>> services;
  // The random service among `services` (roles all and random), for the chain relay's answers.
  services::RandomService* random = nullptr;
  // The oracle service among `services` (roles all and oracle), for the relay's answers.
  services::OracleService* oracle = nullptr;
  // The price feed among `services` (roles all and pricefeed). Role all: serve starts it with
  // the chain's outbox; role pricefeed: started here, publishing to no chain.
  services::PriceFeedService* pricefeed = nullptr;
  // The gas bank among `services` (roles all and gasbank, with gasbank.enabled). Role all: serve
  // starts it with the chain's outbox; role gasbank: started here, with no chain (withdrawals
  // answer UNAVAILABLE there).
  services::GasBankService* gasbank = nullptr;
  // Contract automation (role all, with automation.enabled): its service is among `services`;
  // serve starts its engine and sources once the chain's outbox exists. `automation_client` is
  // its own identity's client (functions, the gas bank, the price feed).
  std::unique_ptr<AutomationParts> automation;
  mesh::MeshClient* automation_client = nullptr;
  // The gateway's operations for the services (roles all and gateway), among `services`: serve
  // attaches the operations once it has built them.
  gateway::OperationsService* operations = nullptr;
  std::vector<std::unique_ptr<mesh::Registration>> registrations;
  std::string bound;  // the gRPC address of a service role

  bool serves_http() const { return role == "all" || role == "gateway"; }
  // The mesh's Prometheus metrics (mesh/metrics.h) for this process.
  std::string RenderMetrics() const;
  // Deregisters, lets calls in flight finish within `grace`, stops renewing.
  void Stop(std::chrono::milliseconds grace);
  MeshHost();
  ~MeshHost();
};

// Builds and starts the mesh of `role` ("all", "gateway", "echo", "secrets", "functions",
// "random", "oracle", "pricefeed", "gasbank").
// `enclave` supplies evidence for attestation, seals secrets and holds the report key results are
// signed with; `store` is this process's store. `runner` runs JavaScript for the functions service
// (roles all and functions) and must outlive the host; null: no runtime in this process, and the
// functions service answers every call UNAVAILABLE "functions runtime not running".
StatusOr<std::unique_ptr<MeshHost>> StartMesh(const Config& config, const std::string& data_dir,
                                              const std::string& role, RunningEnclave& enclave, store::Store& store,
                                              runtime::FunctionRunner* runner, const Clock& clock,
                                              RandomSource& random);

}  // namespace neosl::app
