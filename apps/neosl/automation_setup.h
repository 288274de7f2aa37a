// Contract automation as `neosl serve` runs it (role all; automation.* config,
// docs/automation.md): the service and its engine are made with the mesh, and started once the
// chain's outbox exists, with the chain follower for block and event triggers and the price
// watcher for price triggers.
#pragma once

#include <memory>

#include "apps/neosl/devchain_cli.h"
#include "apps/neosl/enclave_host.h"
#include "chain_tx/outbox.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/random.h"
#include "mesh/client.h"
#include "mesh/server.h"
#include "neo/rpc_client.h"
#include "net/fetcher.h"
#include "services/automation/actions.h"
#include "services/automation/automation_service.h"
#include "services/automation/engine.h"
#include "services/automation/sources.h"
#include "services/gasbank/charging.h"
#include "store/store.h"

namespace neosl::app {

// Everything automation runs on besides the store and the mesh; owned by the mesh host.
struct AutomationParts {
  std::unique_ptr<net::Fetcher> fetcher;  // webhooks, over the enclave's SSRF-checking relay
  std::unique_ptr<automation::ActionRunner> actions;
  std::unique_ptr<automation::Engine> engine;
  // Started by StartAutomation:
  std::unique_ptr<neo::HttpRpcClient> subscriber_rpc;
  std::unique_ptr<automation::ChainFollower> follower;
  std::unique_ptr<automation::PriceWatcher> prices;

  // Stops the sources, then the engine (actions in flight finish). Idempotent.
  void Stop();
  ~AutomationParts();
};

// The service (for the mesh server) with its engine and actions in `parts`; nothing started.
// `client` is automation's own mesh client (functions, the gas bank, the price feed).
StatusOr<std::unique_ptr<services::AutomationService>> MakeAutomationService(
    const Config& config, mesh::Pipeline& pipeline, RunningEnclave& enclave, store::Store& store,
    mesh::MeshClient& client, gasbank::GasCharger charger, const Clock& clock, RandomSource& random,
    AutomationParts* parts);

// Starts the engine with `outbox` for contract actions (registers its listener: call before the
// outbox starts), then the chain follower and, with `prices`, the price watcher over `client`.
Status StartAutomation(const Config& config, AutomationParts& parts, chain_tx::Outbox& outbox, EmbeddedChain* devchain,
                       const neo::HttpRpcClientOptions& chain_options, store::Store& store, mesh::MeshClient* prices,
                       const Clock& clock, RandomSource& random);

}  // namespace neosl::app
