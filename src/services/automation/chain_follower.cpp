// ChainFollower (sources.h): blocks and every notification, handed to the engine block by block
// in one store transaction with the cursor, so each block is handled exactly once across
// restarts. Like the relay and the deposit watcher, it works on the subscriber's one thread: a
// block that cannot be recorded is retried there, and the subscriber goes on only once it is.
//
// Backlog: at Start the node's block count N is read (after the cursor); blocks 0 … N−1 were on
// chain before the follower started, so a block is `backlog` when its index < N. That covers
// blocks mined while the service was down (delivered again from cursor + 1), and blocks held for
// confirmations and not yet recorded when it stopped. A block mined after that read is live,
// even if the subscriber delivers it late. A first start without a cursor follows from the block
// after the tip, so it sees no backlog. A node unreachable at Start is asked at the first block
// instead (blocks on chain when it was first reached are backlog).
//
// Confirmations: blocks are held, in order, until `confirmations` more have arrived; only then
// is the oldest handed over and the cursor moved to it. Held blocks are not recorded, so after a
// restart the subscriber delivers them again from cursor + 1.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

#include "chain_requests/request_store.h"
#include "core/business_metrics.h"
#include "core/log.h"
#include "services/automation/sources.h"

namespace neosl::automation {

struct ChainFollower::Impl final : neo::ChainEventHandler {
  Impl(ChainFollowerOptions o, store::Store& s, neo::RpcClient& r, SubscriberFactory f, Handler h, AfterCommit a,
       const Clock& c)
      : opts(std::move(o)),
        store(s),
        rpc(r),
        factory(std::move(f)),
        handler(std::move(h)),
        after_commit(std::move(a)),
        clock(c) {}

  // The subscriber's thread: a block's notifications, then the block.
  void OnNotification(const neo::NotificationEvent& event) override { notifications.push_back(event); }
  void OnBlock(const neo::BlockEvent& event) override;
  void OnError(const Status& status) override {
    log::Debug("automation: following the chain failed; the subscriber retries", {{"error", status.ToString()}});
  }

  // Records `block` (handler and cursor in one transaction), retrying until it commits; false
  // when Stop came first (the block stays unrecorded).
  bool Record(const ChainBlock& block);

  const ChainFollowerOptions opts;
  store::Store& store;
  neo::RpcClient& rpc;
  const SubscriberFactory factory;
  const Handler handler;
  const AfterCommit after_commit;
  const Clock& clock;

  std::mutex lifecycle_mu;
  bool started = false;
  bool stopped = false;
  std::unique_ptr<neo::ChainSubscriber> subscriber;

  // Set by Stop: a block waiting to retry gives up.
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool closing = false;

  // Fixed at Start.
  // The node's block count then; unset when the node could not be reached at Start, and then read
  // at the first block (the subscriber's thread): blocks on chain when it was first reached.
  std::optional<uint32_t> backlog_below;
  bool had_cursor = false;

  // The subscriber's thread only.
  std::vector<neo::NotificationEvent> notifications;  // of the block being delivered
  std::deque<ChainBlock> held;                        // waiting for confirmations
  bool cursor_started = false;

  std::atomic<int64_t> last_block{-1};
};

void ChainFollower::Impl::OnBlock(const neo::BlockEvent& event) {
  const uint32_t index = event.block.index;
  ChainBlock block;
  block.block = event.block;
  block.notifications = std::move(notifications);
  notifications.clear();
  // Only this block's: the subscriber hands a block's events over just before the block itself.
  std::erase_if(block.notifications, [index](const neo::NotificationEvent& n) { return n.block_index != index; });
  if (!backlog_below) {
    auto count = rpc.GetBlockCount();
    backlog_below = count.ok() ? *count : index;
  }
  block.backlog = index < *backlog_below;

  // The subscriber delivers each block once and in order; a block at or before one already
  // recorded or held would be handled twice, so it is dropped.
  const int64_t last = held.empty() ? last_block.load() : int64_t{held.back().block.index};
  if (int64_t{index} <= last) {
    log::Warn("automation: the chain follower was given a block again; ignored",
              {{"block", index}, {"last", last}, {"cursor", opts.cursor}});
    return;
  }
  if (!had_cursor && !cursor_started) {  // the first block of a follower that had no cursor
    Status s = chain_requests::StartCursorBefore(store, opts.cursor, index, clock.NowUnixMillis());
    if (!s.ok()) {
      log::Warn("automation: recording where the chain is followed from failed", {{"error", s.ToString()}});
    }
    cursor_started = true;
  }

  held.push_back(std::move(block));
  while (!held.empty() && uint64_t{held.front().block.index} + opts.confirmations <= index) {
    if (!Record(held.front())) return;  // stopping: it and those after it stay unrecorded
    held.pop_front();
  }
}

bool ChainFollower::Impl::Record(const ChainBlock& block) {
  const uint32_t index = block.block.index;
  for (int failures = 0;; ++failures) {
    {
      std::unique_lock lock(stop_mu);
      if (failures > 0) stop_cv.wait_for(lock, opts.retry_interval, [&] { return closing; });
      if (closing) return false;
    }
    Status s = store::RunInTransaction(store, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
      RETURN_IF_ERROR(handler(tx, block));
      return chain_requests::AdvanceCursor(tx, opts.cursor, index, clock.NowUnixMillis());
    });
    if (!s.ok()) {
      log::Warn("automation: handling a block failed; retrying it",
                {{"block", index}, {"attempt", failures + 1}, {"error", s.ToString()}});
      continue;
    }
    last_block.store(index);
    metrics::ChainFollowers().block.Set({opts.cursor}, index);
    metrics::ChainFollowers().block_time.Set({opts.cursor}, double(block.block.time_ms) / 1000);
    if (after_commit) after_commit(block);
    return true;
  }
}

ChainFollower::ChainFollower(ChainFollowerOptions options, store::Store& store, neo::RpcClient& rpc,
                             SubscriberFactory subscribers, Handler handler, AfterCommit after_commit,
                             const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), store, rpc, std::move(subscribers), std::move(handler),
                                   std::move(after_commit), clock)) {}

ChainFollower::~ChainFollower() {
  Stop();
}

Status ChainFollower::Start() {
  Impl& m = *impl_;
  std::lock_guard lock(m.lifecycle_mu);
  if (m.started) return FailedPreconditionError("the chain follower was already started");
  if (m.opts.cursor.empty()) return InvalidArgumentError("the chain follower needs a cursor name");
  if (m.opts.retry_interval.count() <= 0) return InvalidArgumentError("retry_interval must be positive");
  if (!m.factory) return InvalidArgumentError("the chain follower needs a subscriber factory");
  if (!m.handler) return InvalidArgumentError("the chain follower needs a handler");

  ASSIGN_OR_RETURN(std::optional<uint32_t> cursor, chain_requests::ReadCursor(m.store, m.opts.cursor));
  // After the cursor: a block mined in between is already on chain, and backlog. A node that
  // cannot be reached now is asked again at the first block: serve starts (not ready) without it.
  if (auto count = m.rpc.GetBlockCount(); count.ok()) m.backlog_below = *count;
  const std::optional<uint32_t> start = cursor ? std::optional<uint32_t>(*cursor + 1) : std::nullopt;

  neo::Subscriptions subscriptions;
  subscriptions.blocks = neo::BlockFilter{};
  subscriptions.notifications = neo::NotificationFilter{};  // every contract, every event
  ASSIGN_OR_RETURN(m.subscriber, m.factory(subscriptions, start));
  if (m.subscriber == nullptr) return InvalidArgumentError("the subscriber factory returned no subscriber");
  m.started = true;
  m.had_cursor = cursor.has_value();
  if (cursor) m.last_block.store(*cursor);
  if (Status s = m.subscriber->Start(m); !s.ok()) {
    m.stopped = true;
    return s;
  }
  log::Info("automation chain follower started", {{"cursor", m.opts.cursor},
                                                  {"from_block", start ? int64_t{*start} : int64_t{-1}},
                                                  {"backlog_below", m.backlog_below ? int64_t{*m.backlog_below} : -1},
                                                  {"confirmations", m.opts.confirmations}});
  return Status::Ok();
}

void ChainFollower::Stop() {
  Impl& m = *impl_;
  std::lock_guard lock(m.lifecycle_mu);
  if (!m.started || m.stopped) return;
  m.stopped = true;
  {
    std::lock_guard stop_lock(m.stop_mu);
    m.closing = true;
  }
  m.stop_cv.notify_all();
  m.subscriber->Stop();
  log::Info("automation chain follower stopped", {{"cursor", m.opts.cursor}});
}

// The cursor until this follower records a block of its own.
std::optional<uint32_t> ChainFollower::last_block() const {
  const int64_t last = impl_->last_block.load();
  if (last < 0) return std::nullopt;
  return static_cast<uint32_t>(last);
}

}  // namespace neosl::automation
