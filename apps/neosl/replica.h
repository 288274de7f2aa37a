// A serving process's place among its replicas: the chain it follows, the lease it takes part
// in, and the singletons (singletons.h) it runs while it holds the lease.
//
// Every serving process takes part: role `all` under the lease "singletons"; any other role
// under "singletons.<role>", so that each service's replicas elect their own leader (the price
// feed's rounds, the gas bank's deposits and withdrawals, automation, the relay of the random or
// oracle service). A gateway hosts none; its lease of its own keeps it from taking the one of
// role `all` processes on the same store.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <signal.h>
#include <string>

#include "apps/neosl/devchain_cli.h"
#include "apps/neosl/enclave_host.h"
#include "apps/neosl/mesh_host.h"
#include "apps/neosl/singletons.h"
#include "coord/lease.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/random.h"
#include "neo/rpc_client.h"
#include "store/store.h"

namespace neosl::app {

struct ChainConnection {
  std::unique_ptr<EmbeddedChain> devchain;  // the embedded devchain, when it is the chain
  neo::HttpRpcClientOptions options;        // options.url: the node's JSON-RPC ("" without a chain)
  std::unique_ptr<neo::HttpRpcClient> rpc;  // null without a chain
};

// The node at chain.rpc_url; else, with `embed` (the process that serves the API), the embedded
// devchain; else no chain (a service role on a single machine). chain.mode rpc requires the URL.
// Every client made from the connection's options reads through `cache` (may be null).
StatusOr<ChainConnection> ConnectChain(const Config& config, const std::string& data_dir, bool embed,
                                       std::shared_ptr<neo::ChainReadCache> cache, Clock& clock, RandomSource& random);

// The lease name of a process of `role`.
std::string SingletonLeaseName(const std::string& role);

class Replica {
 public:
  // Takes part in the lease and, if this replica wins it at once (a lone replica does), starts
  // the singletons before returning. `store` is the unfenced store; the singletons get a fenced
  // one.
  static StatusOr<std::unique_ptr<Replica>> Start(const Config& config, const std::string& data_dir,
                                                  const std::string& role, store::Store& store, ChainConnection& chain,
                                                  RunningEnclave& enclave, MeshHost& mesh, Clock& clock,
                                                  RandomSource& random);

  // Until a stop signal (0); starts the singletons when this replica is elected later. A replica
  // that loses the lease stops at once (3: crash-only, its supervisor restarts it as a follower),
  // and one whose singletons do not start too (1).
  int Run(sigset_t& stop_signals);

  const std::string& id() const { return id_; }
  const std::string& lease_name() const { return lease_name_; }
  bool leader() const { return lease_ && lease_->leader(); }

  // Stops the singletons, then hands the lease over.
  ~Replica();

 private:
  Replica() = default;
  Status Lead();
  void Elected(int64_t epoch);
  void Lost(const Status& status);

  std::string id_, lease_name_;
  std::unique_ptr<coord::Lease> lease_;
  std::unique_ptr<store::Store> fenced_;
  std::unique_ptr<Singletons> singletons_;

  // What Run waits for: a stop signal, the lease won, or the lease lost.
  std::mutex mu_;
  std::condition_variable cv_;
  int signal_ = 0;
  int64_t elected_ = 0;
  Status lost_;
};

}  // namespace neosl::app
