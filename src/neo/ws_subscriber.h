// Following the chain: block, transaction, execution and notification events, delivered once
// each and in chain order, from either of two sources behind one interface:
//   WsSubscriber       neo-go's WebSocket notification subsystem (ws://host:port/ws): `subscribe`
//                      to block_added, transaction_added, transaction_executed and
//                      notification_from_execution; reconnects, resubscribes, and fills whatever
//                      the stream missed (a dropped connection, `event_missed`) over JSON-RPC.
//   PollingSubscriber  plain JSON-RPC (getblockcount, getblock, getapplicationlog), for nodes
//                      without a WebSocket endpoint, such as neo-cli.
//
// The unit of delivery is the block: the events of block N are handed over, in neo-go's order,
// only once N is complete, and blocks are handed over in height order, each exactly once. Within
// a block the order is: the OnPersist execution and its notifications; for each transaction its
// execution, its notifications (HALT only, as neo-go announces them) and the transaction; the
// PostPersist execution and its notifications; then the block. A notification is identified by
// (container, index): its position among all notifications of that transaction (or, for the
// block's own scripts, of OnPersist then PostPersist), which is stable across sources.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <boost/json/array.hpp>

#include "core/random.h"
#include "core/status.h"
#include "neo/rpc_client.h"
#include "neo/rpc_types.h"
#include "neo/uint.h"

namespace neosl::neo {

// Filters, as neo-go's subscribe takes them (conjunctions; unset fields match everything).
struct BlockFilter {
  std::optional<uint32_t> primary;
  std::optional<uint32_t> since;  // inclusive block index
  std::optional<uint32_t> till;   // inclusive block index
};
struct TransactionFilter {
  std::optional<UInt160> sender;
  std::optional<UInt160> signer;
};
struct ExecutionFilter {
  std::optional<VmState> state;
  std::optional<UInt256> container;
};
struct NotificationFilter {
  std::optional<UInt160> contract;
  std::optional<std::string> name;
};

// Which event streams to follow; an unset stream is not delivered.
struct Subscriptions {
  std::optional<BlockFilter> blocks;                // block_added
  std::optional<TransactionFilter> transactions;    // transaction_added
  std::optional<ExecutionFilter> executions;        // transaction_executed
  std::optional<NotificationFilter> notifications;  // notification_from_execution
};

// The params of the subscribe requests WsSubscriber sends: ["block_added"] (always, unfiltered:
// it closes each block) and, as asked, e.g. ["notification_from_execution",{"contract":"0x…"}].
std::vector<boost::json::array> SubscribeRequests(const Subscriptions& s);

bool Matches(const BlockFilter& f, const BlockInfo& block);
bool Matches(const TransactionFilter& f, const TransactionInfo& tx);
bool Matches(const ExecutionFilter& f, const UInt256& container, const ExecutionResult& execution);
bool Matches(const NotificationFilter& f, const ContractNotification& notification);

struct BlockEvent {
  BlockInfo block;
};
struct TransactionEvent {
  uint32_t block_index = 0;
  UInt256 block_hash;
  TransactionInfo tx;
};
struct ExecutionEvent {
  uint32_t block_index = 0;
  UInt256 container;  // the transaction, or the block for OnPersist/PostPersist
  ExecutionResult execution;
};
struct NotificationEvent {
  uint32_t block_index = 0;
  UInt256 container;
  uint32_t index = 0;  // position among the container's notifications
  ContractNotification notification;
};

using ChainEvent = std::variant<ExecutionEvent, NotificationEvent, TransactionEvent, BlockEvent>;

// Callbacks run on the subscriber's one thread, in chain order; a slow callback delays the
// following events but loses none. They must not call Stop().
class ChainEventHandler {
 public:
  virtual ~ChainEventHandler() = default;
  virtual void OnExecution(const ExecutionEvent&) {}
  virtual void OnNotification(const NotificationEvent&) {}
  virtual void OnTransaction(const TransactionEvent&) {}
  virtual void OnBlock(const BlockEvent&) {}
  // The source failed (connection lost, node error) and is retrying; nothing is lost.
  virtual void OnError(const Status&) {}
};

class ChainSubscriber {
 public:
  virtual ~ChainSubscriber() = default;
  // Starts following on a thread of the subscriber's own. Call once; `handler` must outlive it.
  virtual Status Start(ChainEventHandler& handler) = 0;
  // Stops and joins; no callback runs once it returns. Idempotent.
  virtual void Stop() = 0;
  // The last block whose events have all been delivered (a resume point to persist).
  virtual std::optional<uint32_t> last_delivered() const = 0;
};

void Dispatch(const ChainEvent& event, ChainEventHandler& handler);

// Builds the events of one block from JSON-RPC: getblock, and getapplicationlog for the block
// and each transaction when executions or notifications are followed. Both subscribers use it
// to fill gaps; a devchain can use it to replay.
class BlockEventCollector {
 public:
  BlockEventCollector(RpcClient& rpc, Subscriptions subscriptions)
      : rpc_(rpc), subscriptions_(std::move(subscriptions)) {}

  // The events of block `index` that the subscriptions select, in delivery order.
  StatusOr<std::vector<ChainEvent>> Collect(uint32_t index);

  const Subscriptions& subscriptions() const { return subscriptions_; }
  RpcClient& rpc() { return rpc_; }

 private:
  RpcClient& rpc_;
  Subscriptions subscriptions_;
};

struct RetryOptions {
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{10'000};
};

struct WsSubscriberOptions {
  std::string url;  // "ws://127.0.0.1:20332/ws" or "wss://…"
  Subscriptions subscriptions;
  // The first block to deliver (resuming after a restart); unset: the block after the tip the
  // node reports when Start is called (or, if it cannot be reached then, once subscribed).
  std::optional<uint32_t> start_index;
  std::chrono::milliseconds connect_timeout{10'000};
  // After half of this without a frame the subscriber pings; a node silent for all of it is
  // dropped (and reconnected to).
  std::chrono::milliseconds idle_timeout{30'000};
  RetryOptions retry;
  std::string ca_file;  // wss: extra PEM trust anchors
};

class WsSubscriber final : public ChainSubscriber {
 public:
  // `rpc` (the same node's JSON-RPC) fills gaps; `rpc` and `random` must outlive the subscriber.
  static StatusOr<std::unique_ptr<WsSubscriber>> Create(WsSubscriberOptions options, RpcClient& rpc,
                                                        RandomSource& random);
  ~WsSubscriber() override;
  WsSubscriber(const WsSubscriber&) = delete;
  WsSubscriber& operator=(const WsSubscriber&) = delete;

  Status Start(ChainEventHandler& handler) override;
  void Stop() override;
  std::optional<uint32_t> last_delivered() const override;

 private:
  struct Impl;
  explicit WsSubscriber(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct PollingSubscriberOptions {
  Subscriptions subscriptions;
  std::optional<uint32_t> start_index;  // as for WsSubscriberOptions
  // How often to ask for the block count once caught up; a fraction of the block time.
  std::chrono::milliseconds poll_interval{1'000};
  RetryOptions retry;
};

class PollingSubscriber final : public ChainSubscriber {
 public:
  static StatusOr<std::unique_ptr<PollingSubscriber>> Create(PollingSubscriberOptions options, RpcClient& rpc,
                                                             RandomSource& random);
  ~PollingSubscriber() override;
  PollingSubscriber(const PollingSubscriber&) = delete;
  PollingSubscriber& operator=(const PollingSubscriber&) = delete;

  Status Start(ChainEventHandler& handler) override;
  void Stop() override;
  std::optional<uint32_t> last_delivered() const override;

 private:
  struct Impl;
  explicit PollingSubscriber(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// min(max, initial · 2^(attempt-1)), the upper half jittered; shared by the subscribers.
std::chrono::milliseconds RetryDelay(const RetryOptions& retry, int attempt, RandomSource& random);

}  // namespace neosl::neo
