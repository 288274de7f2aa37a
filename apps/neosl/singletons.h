// The work one replica of a set does for all of them, started when it wins the lease
// (coord/lease.h) and stopped before it lets the lease go:
//   - the chain request relay (contracts' ServiceRequest notifications);
//   - the chain outbox, and what sends through it: price updates, withdrawals, automation's
//     contract calls;
//   - automation's schedules and its chain and price followers;
//   - the price feed's rounds and the gas bank's withdrawal recovery;
//   - deposit crediting.
// The relay, the outbox, the deposit watcher and automation's followers write through the
// fenced store they are given, so a deposed leader's writes fail. The services' own singleton
// writes (price rounds, withdrawal outcomes, automation firings) go through their stores and are
// kept exactly-once by their keys and conditional updates (docs/operations.md#replicas).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "apps/neosl/chain_relay.h"
#include "apps/neosl/devchain_cli.h"
#include "apps/neosl/enclave_host.h"
#include "apps/neosl/mesh_host.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/random.h"
#include "neo/rpc_client.h"
#include "store/store.h"

namespace neosl::app {

struct SingletonDeps {
  const Config& config;
  std::string role;         // the process's mesh role: "all", "gateway" or one service
  EmbeddedChain* devchain;  // null with a node at chain_options.url, or without a chain
  neo::HttpRpcClientOptions chain_options;
  store::Store& store;  // fenced by the lease (coord::MakeFencedStore): writes fail unless leading
  // Null without a chain (a service role with no chain.rpc_url): the price feed's rounds run and
  // publish nothing, the gas bank serves balances and holds but no withdrawals, nothing follows
  // the chain; automation refuses to start.
  neo::RpcClient* chain_rpc;
  RunningEnclave& enclave;
  MeshHost& mesh;
  Clock& clock;
  RandomSource& random;
};

class Singletons {
 public:
  // Every replica, at start: the outbox (made on the fenced store, not started) with the
  // services' listeners, and the gas bank started with it, so that any replica takes withdrawal
  // requests (they enqueue in the request's own transaction; the leader's outbox sends them);
  // the price feed as a follower, serving the leader's rounds from the store.
  static StatusOr<std::unique_ptr<Singletons>> Prepare(const SingletonDeps& deps);
  // The leader, once elected: the relay (in role all, for every service; in role random or
  // oracle, for that service, with a cursor of its own), automation, the outbox's worker, the
  // price feed's rounds, the deposit watcher. Call once.
  Status Lead();
  bool leading() const { return leading_; }

  // Stops them: the relay and the deposit watcher, then what sends through the outbox, then the
  // outbox.
  ~Singletons();
  Singletons(const Singletons&) = delete;
  Singletons& operator=(const Singletons&) = delete;

 private:
  explicit Singletons(const SingletonDeps& deps) : deps_(deps), mesh_(deps.mesh) {}

  const SingletonDeps deps_;
  MeshHost& mesh_;
  bool leading_ = false;
  RelayParts relay_parts_;
  std::unique_ptr<chain_requests::Relay> relay_;
  OutboxParts outbox_parts_;
  std::unique_ptr<chain_tx::Outbox> outbox_;
  DepositParts deposit_parts_;
  std::unique_ptr<gasbank::DepositWatcher> deposits_;
  bool automation_started_ = false;
  // Automation's Sync every automation.sync_ms: triggers other replicas' APIs changed.
  std::thread sync_;
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  bool stopping_ = false;
  bool pricefeed_started_ = false;
  bool gasbank_started_ = false;
};

}  // namespace neosl::app
