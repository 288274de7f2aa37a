// The chain request relay as `neosl serve` runs it (role all): contracts' ServiceRequest
// notifications answered by this process's services, in transactions signed by the enclave's
// Neo account (docs/chain-requests.md). On the devchain the faucet tops that account up at start.
#pragma once

#include <memory>

#include "apps/neosl/devchain_cli.h"
#include "apps/neosl/enclave_host.h"
#include "chain_requests/relay.h"
#include "chain_tx/outbox.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/random.h"
#include "neo/rpc_client.h"
#include "services/gasbank/deposits.h"
#include "services/oracle/oracle_service.h"
#include "services/random/random_service.h"
#include "store/store.h"
#include "tee/enclave_signer.h"

namespace neosl::app {

// How a follower of the chain gets its events: pushed over the devchain's /ws, or by polling a
// node's JSON-RPC every `poll_ms`. `rpc` is the follower's own client.
chain_requests::SubscriberFactory Subscribers(EmbeddedChain* devchain, neo::RpcClient& rpc, RandomSource& random,
                                              int64_t poll_ms);

// What the relay uses besides the store and the chain client; owned by the caller, alive as
// long as the relay.
struct RelayParts {
  std::unique_ptr<tee::EnclaveNeoSigner> signer;
  std::unique_ptr<neo::HttpRpcClient> subscriber_rpc;
};

// Starts the relay with the random and oracle services registered (chain_requests.* config).
// `devchain` is the embedded chain, or null with a node at `chain_options.url`. In role all it
// takes every request (a service this process lacks is answered 12, UNIMPLEMENTED); in a
// service's own role (random, oracle) only that service's, under the cursor
// "chain_requests.<role>", so that the random and oracle processes' relays share the chain.
StatusOr<std::unique_ptr<chain_requests::Relay>> StartRelay(const Config& config, const std::string& role,
                                                            EmbeddedChain* devchain,
                                                            const neo::HttpRpcClientOptions& chain_options,
                                                            store::Store& store, neo::RpcClient& rpc,
                                                            RunningEnclave& enclave, services::RandomService* random,
                                                            services::OracleService* oracle, const Clock& clock,
                                                            RandomSource& random_source, RelayParts* parts);

// What the outbox uses besides the store; owned by the caller, alive as long as the outbox.
struct OutboxParts {
  std::unique_ptr<tee::EnclaveNeoSigner> signer;
  std::unique_ptr<neo::HttpRpcClient> rpc;
};

// The outbox the services send their transactions through (chain_tx/outbox.h), signed by the
// enclave's Neo account (funded from the faucet on the devchain). Made, not started: the
// services register their listeners first.
StatusOr<std::unique_ptr<chain_tx::Outbox>> MakeOutbox(const Config& config, EmbeddedChain* devchain,
                                                       const neo::HttpRpcClientOptions& chain_options,
                                                       store::Store& store, RunningEnclave& enclave, const Clock& clock,
                                                       RandomSource& random_source, OutboxParts* parts);

// What the deposit watcher uses besides the store; owned by the caller, alive as long as it.
struct DepositParts {
  std::unique_ptr<neo::HttpRpcClient> subscriber_rpc;
};

// Starts crediting GAS transfers to the accounts' deposit addresses after `confirmations` blocks
// (the gas bank's gasbank.confirmations; services/gasbank/deposits.h), following the chain like
// the relay does. A store that has never followed the chain starts after the node's tip: no
// deposit address existed before.
StatusOr<std::unique_ptr<gasbank::DepositWatcher>> StartDepositWatcher(const Config& config, uint32_t confirmations,
                                                                       EmbeddedChain* devchain,
                                                                       const neo::HttpRpcClientOptions& chain_options,
                                                                       store::Store& store, const Clock& clock,
                                                                       RandomSource& random_source,
                                                                       DepositParts* parts);

}  // namespace neosl::app
