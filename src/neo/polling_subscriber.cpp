// The parts of following the chain that need no WebSocket: filters (matching, and their JSON for
// neo-go's subscribe), building a block's events from getblock + getapplicationlog, and
// PollingSubscriber. WsSubscriber is in ws_subscriber.cpp.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/log.h"
#include "neo/subscriber_loop.h"
#include "neo/ws_subscriber.h"

namespace neosl::neo {
namespace json = boost::json;

bool Matches(const BlockFilter& f, const BlockInfo& block) {
  if (f.primary && block.primary != f.primary) return false;
  if (f.since && block.index < *f.since) return false;
  if (f.till && block.index > *f.till) return false;
  return true;
}

bool Matches(const TransactionFilter& f, const TransactionInfo& tx) {
  if (f.sender && tx.sender != f.sender) return false;
  if (f.signer && std::find(tx.signers.begin(), tx.signers.end(), *f.signer) == tx.signers.end()) return false;
  return true;
}

bool Matches(const ExecutionFilter& f, const UInt256& container, const ExecutionResult& execution) {
  if (f.state && execution.vm_state != *f.state) return false;
  if (f.container && container != *f.container) return false;
  return true;
}

bool Matches(const NotificationFilter& f, const ContractNotification& notification) {
  if (f.contract && notification.contract != *f.contract) return false;
  if (f.name && notification.event_name != *f.name) return false;
  return true;
}

std::vector<json::array> SubscribeRequests(const Subscriptions& s) {
  std::vector<json::array> out;
  out.push_back({"block_added"});
  auto with = [&](std::string_view stream, json::object filter) {
    json::array params{stream};
    if (!filter.empty()) params.emplace_back(std::move(filter));
    out.push_back(std::move(params));
  };
  if (s.transactions) {
    json::object f;
    if (s.transactions->sender) f["sender"] = s.transactions->sender->ToString();
    if (s.transactions->signer) f["signer"] = s.transactions->signer->ToString();
    with("transaction_added", std::move(f));
  }
  if (s.executions) {
    json::object f;
    if (s.executions->state) f["state"] = VmStateName(*s.executions->state);
    if (s.executions->container) f["container"] = s.executions->container->ToString();
    with("transaction_executed", std::move(f));
  }
  if (s.notifications) {
    json::object f;
    if (s.notifications->contract) f["contract"] = s.notifications->contract->ToString();
    if (s.notifications->name) f["name"] = *s.notifications->name;
    with("notification_from_execution", std::move(f));
  }
  return out;
}

void Dispatch(const ChainEvent& event, ChainEventHandler& handler) {
  if (const auto* e = std::get_if<ExecutionEvent>(&event)) return handler.OnExecution(*e);
  if (const auto* n = std::get_if<NotificationEvent>(&event)) return handler.OnNotification(*n);
  if (const auto* t = std::get_if<TransactionEvent>(&event)) return handler.OnTransaction(*t);
  handler.OnBlock(std::get<BlockEvent>(event));
}

std::chrono::milliseconds RetryDelay(const RetryOptions& retry, int attempt, RandomSource& random) {
  int64_t cap = std::max<int64_t>(retry.max_backoff.count(), 1);
  int64_t base = std::max<int64_t>(retry.initial_backoff.count(), 1);
  for (int i = 1; i < attempt && base < cap; ++i) base *= 2;
  base = std::min(base, cap);
  int64_t half = base / 2;
  return std::chrono::milliseconds(base - half + static_cast<int64_t>(random.NextU64() % uint64_t(half + 1)));
}

StatusOr<std::vector<ChainEvent>> BlockEventCollector::Collect(uint32_t index) {
  const Subscriptions& s = subscriptions_;
  ASSIGN_OR_RETURN(BlockInfo block, rpc_.GetBlock(index));
  if (block.index != index) {
    return InternalError("getblock " + std::to_string(index) + " answered block " + std::to_string(block.index));
  }
  std::vector<ChainEvent> events;
  const bool logs = s.executions.has_value() || s.notifications.has_value();
  // An execution, then its notifications; neo-go announces notifications of HALTed scripts only,
  // but every notification takes its place in the container's numbering.
  auto append = [&](const UInt256& container, const ExecutionResult& e, uint32_t& counter) {
    if (s.executions && Matches(*s.executions, container, e)) events.emplace_back(ExecutionEvent{index, container, e});
    for (const auto& n : e.notifications) {
      uint32_t position = counter++;
      if (e.vm_state != VmState::kHalt || !s.notifications || !Matches(*s.notifications, n)) continue;
      events.emplace_back(NotificationEvent{index, container, position, n});
    }
  };
  std::optional<ApplicationLog> block_log;
  if (logs) {
    ASSIGN_OR_RETURN(block_log, rpc_.GetApplicationLog(block.hash));
  }
  uint32_t block_counter = 0;
  if (block_log) {
    for (const auto& e : block_log->executions) {
      if (e.trigger == "OnPersist") append(block.hash, e, block_counter);
    }
  }
  const json::array* txs = nullptr;
  if (const auto* o = block.json.if_object()) {
    if (const json::value* t = o->if_contains("tx")) txs = t->if_array();
  }
  if (txs != nullptr) {
    for (const auto& tx_json : *txs) {
      ASSIGN_OR_RETURN(TransactionInfo tx, ParseTransactionInfo(tx_json));
      if (logs) {
        ASSIGN_OR_RETURN(ApplicationLog log, rpc_.GetApplicationLog(tx.hash));
        uint32_t counter = 0;
        for (const auto& e : log.executions) append(tx.hash, e, counter);
      }
      if (s.transactions && Matches(*s.transactions, tx)) {
        events.emplace_back(TransactionEvent{index, block.hash, std::move(tx)});
      }
    }
  }
  if (block_log) {
    for (const auto& e : block_log->executions) {
      if (e.trigger == "PostPersist") append(block.hash, e, block_counter);
    }
  }
  if (s.blocks && Matches(*s.blocks, block)) events.emplace_back(BlockEvent{std::move(block)});
  return events;
}

// ---- PollingSubscriber ----------------------------------------------------------------------

struct PollingSubscriber::Impl : SubscriberLoop {
  PollingSubscriberOptions opts;
  BlockEventCollector collector;
  RandomSource& random;

  std::optional<uint32_t> next;  // worker thread only

  Impl(PollingSubscriberOptions o, RpcClient& rpc, RandomSource& r)
      : opts(std::move(o)), collector(rpc, opts.subscriptions), random(r) {
    if (opts.start_index) next = *opts.start_index;
  }

  bool Stopping() {
    std::lock_guard lock(mu);
    return stopping;
  }

  // Waits `d` unless stopped first; false when stopping.
  bool Wait(std::chrono::milliseconds d) {
    std::unique_lock lock(mu);
    return !cv.wait_for(lock, d, [&] { return stopping; });
  }

  Status CatchUp() {
    ASSIGN_OR_RETURN(uint32_t count, collector.rpc().GetBlockCount());
    if (!next) next = count;  // start with the block after the current tip
    while (*next < count && !Stopping()) {
      ASSIGN_OR_RETURN(auto events, collector.Collect(*next));
      for (const auto& e : events) Dispatch(e, *handler);
      last.store(*next);
      ++*next;
    }
    return Status::Ok();
  }

  void Run() {
    int failures = 0;
    while (!Stopping()) {
      Status s = CatchUp();
      if (s.ok()) {
        failures = 0;
        if (!Wait(opts.poll_interval)) break;
        continue;
      }
      auto delay = RetryDelay(opts.retry, ++failures, random);
      log::Warn("chain polling failed", {{"error", s.ToString()}, {"retry_ms", static_cast<int64_t>(delay.count())}});
      handler->OnError(s);
      if (!Wait(delay)) break;
    }
  }
};

StatusOr<std::unique_ptr<PollingSubscriber>> PollingSubscriber::Create(PollingSubscriberOptions options, RpcClient& rpc,
                                                                       RandomSource& random) {
  if (options.poll_interval.count() <= 0) return InvalidArgumentError("poll_interval must be positive");
  return std::unique_ptr<PollingSubscriber>(
      new PollingSubscriber(std::make_unique<Impl>(std::move(options), rpc, random)));
}

PollingSubscriber::PollingSubscriber(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PollingSubscriber::~PollingSubscriber() {
  Stop();
}

Status PollingSubscriber::Start(ChainEventHandler& handler) {
  return impl_->StartThread(handler, impl_->collector.rpc(), impl_->next, [this] { impl_->Run(); });
}

void PollingSubscriber::Stop() {
  impl_->StopThread();
}

std::optional<uint32_t> PollingSubscriber::last_delivered() const {
  return impl_->LastDelivered();
}

}  // namespace neosl::neo
