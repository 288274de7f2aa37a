// chain_requests::Relay answers requests from the chain (docs/chain-requests.md), each exactly
// once: it follows the chain through a ChainSubscriber, reads every ServiceRequest notification
// of a HALTed transaction (from any contract, or from an allow-list), hands it to the handler
// registered for its service, and answers with a transaction calling the contract back:
// System.Contract.Call(contract, callback, All, [requestId, code, result, signature]), signed by
// the TransactionSigner given (the enclave's Neo account in production).
//
// Each request moves through these states, every one recorded in the store (request_store.h)
// before the step that depends on it is taken:
//
//   received ──▶ answering ──▶ sent ──▶ answered
//                    │           │ ↺ expired, never included: a new transaction, the same answer
//                    └───────────┴──▶ failed
//
//   received   the request is recorded, with the resume cursor, in the store transaction of its
//              block, before anything is done with it; a replayed notification (a restart, a
//              subscription from an earlier height) finds its key (contract, requestId) and is
//              skipped. A service without a handler is answered 12 (UNIMPLEMENTED). After a
//              restart the handler is asked again: nothing of the first ask was kept.
//   answering  the answer (code, result, signature) is stored and is the only answer the request
//              ever gets: a late or second `done` is dropped, and no handler runs again.
//   sent       the signed callback transaction's hash and bytes are stored *before* it is relayed.
//              On every block, and after a restart, it is looked up on chain: included → answered
//              or failed by its VM state; unknown and still valid → the same bytes are relayed
//              again; unknown and past validUntilBlock (so it can never be included) → a new
//              transaction carrying the same answer replaces it. Never two live transactions.
//   answered   the callback transaction was included and HALTed.
//   failed     it FAULTed (e.g. the contract already had an answer), its test run FAULTed (so it
//              was never sent), or max_attempts transactions expired; `error` says why.
//
// Threads: the subscriber's thread records requests; one worker thread of the relay runs the
// handlers, builds, stores and sends transactions and follows them. Handlers run on that worker:
// they must not block, but answer (from any thread, at any time) through `done`.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chain_requests/request.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/status.h"
#include "neo/rpc_client.h"
#include "neo/tx_sender.h"
#include "neo/uint.h"
#include "neo/ws_subscriber.h"
#include "store/store.h"

namespace neosl::chain_requests {

// Answers a request, once, by calling `done` (from any thread, now or later). Code 0 is success;
// otherwise the gRPC canonical code with a UTF-8 message as result (ChainAnswer::Failure /
// FromStatus). Runs on the relay's worker: it must not block, nor call the relay's Stop. Copy
// what is kept of `request`: the reference is valid during the call only.
using ServiceHandler = std::function<void(const ChainRequest& request, std::function<void(ChainAnswer)> done)>;

// Makes the subscriber the relay follows the chain with: `subscriptions` is what the relay needs
// (blocks, and ServiceRequest notifications); `start_index` the first block to deliver (unset: the
// block after the node's tip).
using SubscriberFactory = std::function<StatusOr<std::unique_ptr<neo::ChainSubscriber>>(
    const neo::Subscriptions& subscriptions, std::optional<uint32_t> start_index)>;

// Factories for neo-go's WebSocket protocol and for plain JSON-RPC polling. `rpc` (the same
// node's JSON-RPC; better a client of its own than the relay's) and `random` must outlive them.
SubscriberFactory WsSubscriberFactory(std::string ws_url, neo::RpcClient& rpc, RandomSource& random);
SubscriberFactory PollingSubscriberFactory(neo::RpcClient& rpc, RandomSource& random,
                                           std::chrono::milliseconds poll_interval);

struct RelayOptions {
  // The resume cursor's name in the store: one per relay following one chain.
  std::string name = "chain_requests";
  // Contracts whose requests are served; empty: any contract.
  std::vector<neo::UInt160> contracts;
  // Services whose requests this relay takes; empty: every service (one without a handler is
  // answered 12). Where each service runs in processes of its own, each runs a relay for its
  // service, with a cursor `name` of its own: the others' requests are neither recorded nor
  // loaded by it, and are left to their relays.
  std::vector<std::string> services;
  // Blocks after the request's block before it is acted on (0: at once). N3's dBFT gives
  // single-block finality, so 0 is safe on N3 networks.
  uint32_t confirmations = 0;
  // Where to start following when the store has no cursor yet (the first run); unset: the block
  // after the node's tip. Once there is a cursor, following resumes at cursor + 1.
  std::optional<uint32_t> start_index;
  // validUntilBlock of a callback transaction = height + this: how long a transaction that is not
  // included holds up its request before a new one replaces it.
  uint32_t valid_for_blocks = 100;
  // Callback transactions built per request before it is given up as failed.
  int max_attempts = 5;
  // Fee cap per callback transaction, datoshi (0: none). Over it the request fails.
  int64_t max_fee = 0;
  // A handler that has not called `done` by then is answered 4 (DEADLINE_EXCEEDED); 0: never.
  std::chrono::milliseconds handler_timeout{60'000};
  // Wait before retrying after a store or node error.
  std::chrono::milliseconds retry_interval{1'000};
};

struct RelayStats {
  uint64_t received = 0;               // new requests recorded since Start
  uint64_t rejected = 0;               // malformed ServiceRequest notifications ignored
  uint64_t answered = 0;               // callbacks included with HALT
  uint64_t failed = 0;                 // requests that ended failed
  uint64_t transactions = 0;           // callback transactions built and stored (re-relays not counted)
  uint64_t pending = 0;                // requests not yet answered or failed
  std::optional<uint32_t> last_block;  // the last block whose requests are all recorded
};

class Relay {
 public:
  // Every reference must outlive the relay.
  Relay(RelayOptions options, store::Store& store, neo::RpcClient& rpc, neo::TransactionSigner& signer,
        RandomSource& random, SubscriberFactory subscribers, const Clock& clock);
  ~Relay();  // Stop()
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Before Start: a request for a service registered later may already have been answered 12.
  void Register(std::string service, ServiceHandler handler);

  // Loads the unfinished requests and the cursor, starts the worker and the subscriber. Call once.
  // INVALID_ARGUMENT for bad options; the store's or the factory's error.
  Status Start();
  // Stops following and the worker, and joins them. Idempotent. Requests in flight stay recorded
  // and are taken up by the next Start (here or in another process on the same store).
  void Stop();

  RelayStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace neosl::chain_requests
