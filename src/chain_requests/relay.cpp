// Relay: its lifecycle, and the subscriber's side (reading and recording requests block by
// block). The worker that answers them is in relay_worker.cpp.
#include "chain_requests/relay.h"

#include <algorithm>
#include <utility>

#include "chain_requests/relay_internal.h"
#include "core/business_metrics.h"
#include "core/log.h"

namespace neosl::chain_requests {

bool Inbox::PushAnswer(RequestKey key, ChainAnswer answer) {
  {
    std::lock_guard lock(mu);
    if (closed) return false;
    answers.emplace_back(std::move(key), std::move(answer));
  }
  cv.notify_all();
  return true;
}

SubscriberFactory WsSubscriberFactory(std::string ws_url, neo::RpcClient& rpc, RandomSource& random) {
  return [url = std::move(ws_url), &rpc, &random](
             const neo::Subscriptions& subscriptions,
             std::optional<uint32_t> start_index) -> StatusOr<std::unique_ptr<neo::ChainSubscriber>> {
    neo::WsSubscriberOptions o;
    o.url = url;
    o.subscriptions = subscriptions;
    o.start_index = start_index;
    ASSIGN_OR_RETURN(auto s, neo::WsSubscriber::Create(std::move(o), rpc, random));
    return std::unique_ptr<neo::ChainSubscriber>(std::move(s));
  };
}

SubscriberFactory PollingSubscriberFactory(neo::RpcClient& rpc, RandomSource& random,
                                           std::chrono::milliseconds poll_interval) {
  return [&rpc, &random, poll_interval](
             const neo::Subscriptions& subscriptions,
             std::optional<uint32_t> start_index) -> StatusOr<std::unique_ptr<neo::ChainSubscriber>> {
    neo::PollingSubscriberOptions o;
    o.subscriptions = subscriptions;
    o.start_index = start_index;
    o.poll_interval = poll_interval;
    ASSIGN_OR_RETURN(auto s, neo::PollingSubscriber::Create(std::move(o), rpc, random));
    return std::unique_ptr<neo::ChainSubscriber>(std::move(s));
  };
}

// ---- the subscriber's thread ----------------------------------------------------------------

bool Relay::Impl::Allowed(const neo::UInt160& contract) const {
  return opts.contracts.empty() ||
         std::find(opts.contracts.begin(), opts.contracts.end(), contract) != opts.contracts.end();
}

bool Relay::Impl::Takes(const std::string& service) const {
  return opts.services.empty() || std::find(opts.services.begin(), opts.services.end(), service) != opts.services.end();
}

void Relay::Impl::OnNotification(const neo::NotificationEvent& event) {
  if (event.notification.event_name != kServiceRequestEvent || !Allowed(event.notification.contract)) return;
  auto request = ParseServiceRequest(event);
  if (!request.ok()) {
    ++rejected;
    metrics::ChainRequests().rejected.Inc();
    log::Warn("chain request rejected", {{"contract", event.notification.contract.ToString()},
                                         {"tx", event.container.ToString()},
                                         {"index", event.index},
                                         {"block", event.block_index},
                                         {"reason", request.status().message()}});
    return;
  }
  if (!Takes(request->service)) return;  // another service's relay records it
  request->noticed_at = clock.SteadyNow();
  block_requests.push_back(*std::move(request));
}

void Relay::Impl::OnBlock(const neo::BlockEvent& event) {
  const uint32_t index = event.block.index;
  std::vector<ChainRequest> batch = std::move(block_requests);
  block_requests.clear();
  if (last_block.load() < 0) {  // the first block of a relay that had no cursor
    Status s = requests.StartCursorBefore(opts.name, index);
    if (!s.ok()) log::Warn("chain requests: recording where following starts failed", {{"error", s.ToString()}});
  }
  // A block is recorded (its requests and the cursor) or following waits: the subscriber does
  // not go on to the next block before this callback returns, so nothing is skipped. On Stop
  // the block stays unrecorded and the next Start resumes before it.
  for (int failures = 0;; ++failures) {
    {
      std::unique_lock lock(inbox->mu);
      if (inbox->closed) return;
      if (failures > 0) {
        inbox->cv.wait_for(lock, opts.retry_interval, [&] { return inbox->closed; });
        if (inbox->closed) return;
      }
    }
    auto fresh = requests.RecordBlock(opts.name, index, batch);
    if (!fresh.ok()) {
      log::Warn("chain requests: recording a block failed; retrying",
                {{"block", index}, {"error", fresh.status().ToString()}});
      continue;
    }
    for (const ChainRequest& r : *fresh) {
      log::Info("chain request received", {{"request", r.key.ToString()},
                                           {"service", r.service},
                                           {"requester", r.requester.ToString()},
                                           {"tx", r.tx_hash.ToString()},
                                           {"block", r.block_index}});
    }
    received += fresh->size();
    last_block.store(index);
    for (const ChainRequest& r : *fresh) metrics::ChainRequests().received.Inc({metrics::ChainServiceLabel(r.service)});
    metrics::ChainFollowers().block.Set({opts.name}, index);
    metrics::ChainFollowers().block_time.Set({opts.name}, double(event.block.time_ms) / 1000);
    {
      std::lock_guard lock(inbox->mu);
      if (inbox->closed) return;
      inbox->blocks.push_back(Inbox::Block{index, event.block.tx_hashes});
      for (auto& r : *fresh) inbox->requests.push_back(std::move(r));
    }
    inbox->cv.notify_all();
    return;
  }
}

void Relay::Impl::OnError(const Status& status) {
  log::Debug("chain requests: following the chain failed; the subscriber retries", {{"error", status.ToString()}});
}

// ---- Relay ----------------------------------------------------------------------------------

Relay::Relay(RelayOptions options, store::Store& store, neo::RpcClient& rpc, neo::TransactionSigner& signer,
             RandomSource& random, SubscriberFactory subscribers, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), store, rpc, signer, random, std::move(subscribers), clock)) {}

Relay::~Relay() {
  Stop();
}

void Relay::Register(std::string service, ServiceHandler handler) {
  std::lock_guard lock(impl_->handlers_mu);
  impl_->handlers[std::move(service)] = std::move(handler);
}

Status Relay::Start() {
  Impl& m = *impl_;
  std::lock_guard lock(m.lifecycle_mu);
  if (m.started) return FailedPreconditionError("the chain request relay was already started");
  if (m.opts.name.empty()) return InvalidArgumentError("the relay needs a cursor name");
  if (m.opts.max_attempts < 1) return InvalidArgumentError("max_attempts must be at least 1");
  if (m.opts.retry_interval.count() <= 0) return InvalidArgumentError("retry_interval must be positive");
  if (m.opts.handler_timeout.count() < 0) return InvalidArgumentError("handler_timeout must not be negative");
  if (m.opts.max_fee < 0) return InvalidArgumentError("max_fee must not be negative");
  if (!m.factory) return InvalidArgumentError("the relay needs a subscriber factory");

  ASSIGN_OR_RETURN(std::optional<uint32_t> cursor, m.requests.Cursor(m.opts.name));
  ASSIGN_OR_RETURN(std::vector<RequestRecord> unfinished, m.requests.Unfinished());
  std::erase_if(unfinished, [&m](const RequestRecord& r) { return !m.Takes(r.request.service); });
  std::optional<uint32_t> start = cursor ? std::optional<uint32_t>(*cursor + 1) : m.opts.start_index;

  neo::Subscriptions subscriptions;
  subscriptions.blocks = neo::BlockFilter{};
  subscriptions.notifications = neo::NotificationFilter{};
  subscriptions.notifications->name = std::string(kServiceRequestEvent);
  if (m.opts.contracts.size() == 1) subscriptions.notifications->contract = m.opts.contracts[0];
  ASSIGN_OR_RETURN(m.subscriber, m.factory(subscriptions, start));
  if (m.subscriber == nullptr) return InvalidArgumentError("the subscriber factory returned no subscriber");

  m.started = true;
  if (cursor) m.last_block.store(*cursor);
  m.Load(std::move(unfinished));
  m.worker = std::thread([&m] { m.Run(); });
  Status s = m.subscriber->Start(m);
  if (!s.ok()) {
    {
      std::lock_guard inbox_lock(m.inbox->mu);
      m.inbox->closed = true;
    }
    m.inbox->cv.notify_all();
    m.worker.join();
    m.stopped = true;
    return s;
  }
  log::Info("chain request relay started", {{"cursor", m.opts.name},
                                            {"from_block", start ? int64_t{*start} : int64_t{-1}},
                                            {"unfinished", m.pending_count.load()},
                                            {"confirmations", m.opts.confirmations}});
  return Status::Ok();
}

void Relay::Stop() {
  Impl& m = *impl_;
  std::lock_guard lock(m.lifecycle_mu);
  if (!m.started || m.stopped) return;
  m.stopped = true;
  {
    std::lock_guard inbox_lock(m.inbox->mu);
    m.inbox->closed = true;
  }
  m.inbox->cv.notify_all();
  m.subscriber->Stop();
  if (m.worker.joinable()) m.worker.join();
  log::Info("chain request relay stopped", {{"cursor", m.opts.name}, {"pending", m.pending_count.load()}});
}

RelayStats Relay::stats() const {
  const Impl& m = *impl_;
  RelayStats s;
  s.received = m.received.load();
  s.rejected = m.rejected.load();
  s.answered = m.answered.load();
  s.failed = m.failed.load();
  s.transactions = m.transactions.load();
  s.pending = m.pending_count.load();
  int64_t last = m.last_block.load();
  if (last >= 0) s.last_block = static_cast<uint32_t>(last);
  return s;
}

}  // namespace neosl::chain_requests
