// The outbox's worker: every poll (or Wake) it reads the queued and sent items from the store
// and takes each one step forward (outbox.h), storing every step before the one that depends on
// it. What it keeps in memory only saves work (when an item was last found waiting); a new
// process reads everything it needs back from the store.
#include "chain_tx/outbox.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "chain_tx/outbox_store.h"
#include "core/business_metrics.h"
#include "core/log.h"
#include "neo/rpc_types.h"

namespace neosl::chain_tx {
namespace {

using internal::OutboxRow;

// Errors of TransactionSender::Build that the same script would meet again: its test run FAULTs,
// its fees exceed the cap, or it is refused outright.
bool Permanent(const Status& s) {
  return s.code() == StatusCode::kFailedPrecondition || s.code() == StatusCode::kResourceExhausted ||
         s.code() == StatusCode::kInvalidArgument;
}

constexpr int64_t kAlreadyExists = -501;  // on chain
constexpr int64_t kAlreadyInPool = -503;

}  // namespace

struct Outbox::Impl {
  Impl(OutboxOptions o, store::Store& s, neo::RpcClient& r, neo::TransactionSigner& signer, RandomSource& random,
       const Clock& c)
      : opts(o), store(s), rpc(r), clock(c), sender(r, signer, random) {}

  // What this process knows of an unfinished item beyond its row (worker thread only).
  struct Local {
    // The height at which its transaction was last found waiting (relayed, or in the pool):
    // nothing can have changed for it until the chain moves past it. Unset: look now.
    std::optional<uint32_t> waiting_at;
    std::string last_error;  // the last trouble logged, so a repeated one is logged once
    std::string refusal;     // the node's last refusal to relay its transaction
  };

  void Run();
  void Pass();
  void SendNew(OutboxRow& row, Local& local, uint32_t height);
  void RelayTx(OutboxRow& row, Local& local, std::span<const uint8_t> tx, uint32_t height);
  void Check(OutboxRow& row, Local& local, uint32_t height);
  void Finish(OutboxRow& row, OutboxState state, std::optional<uint32_t> block_index,
              std::optional<int64_t> gas_consumed, const std::string& error);
  void Trouble(const OutboxRow& row, Local& local, std::string_view what, const Status& s);
  void Moved(const OutboxRow& row, const Status& s);
  void Tell(const OutboxRecord& record);
  bool Stopping();

  const OutboxOptions opts;
  store::Store& store;
  neo::RpcClient& rpc;
  const Clock& clock;
  neo::TransactionSender sender;  // worker thread only

  std::mutex mu;
  std::condition_variable cv;
  bool woken = false;
  bool stopping = false;
  bool started = false;

  std::mutex lifecycle_mu;  // Start and Stop
  std::thread worker;

  std::mutex listeners_mu;
  std::map<std::string, std::vector<Listener>, std::less<>> listeners;

  // Worker thread only.
  std::map<std::string, Local, std::less<>> locals;
  std::string store_error;  // the last failure to read the queue, logged once
  std::string node_error;   // the last getblockcount failure, logged once
};

bool Outbox::Impl::Stopping() {
  std::lock_guard lock(mu);
  return stopping;
}

void Outbox::Impl::Run() {
  while (true) {
    Pass();
    std::unique_lock lock(mu);
    cv.wait_for(lock, opts.poll_interval, [&] { return stopping || woken; });
    if (stopping) return;
    woken = false;
  }
}

void Outbox::Impl::Pass() {
  auto rows = internal::Unfinished(store);
  if (!rows.ok()) {
    if (store_error != rows.status().ToString()) {
      store_error = rows.status().ToString();
      log::Warn("outbox: reading the queue failed; retrying", {{"error", store_error}});
    }
    return;
  }
  store_error.clear();
  std::set<std::string_view> keys;
  for (const OutboxRow& r : *rows) keys.insert(r.record.key);
  std::erase_if(locals, [&](const auto& entry) { return !keys.contains(entry.first); });
  if (rows->empty()) return;

  // The height first: a transaction unknown to the node after it was in no block up to it.
  auto count = rpc.GetBlockCount();
  if (!count.ok()) {
    if (node_error != count.status().ToString()) {
      node_error = count.status().ToString();
      log::Warn("outbox: the node is not reachable; retrying", {{"error", node_error}});
    }
    return;
  }
  if (!node_error.empty()) log::Info("outbox: the node is reachable again");
  node_error.clear();
  const uint32_t height = *count == 0 ? 0 : *count - 1;

  for (OutboxRow& row : *rows) {
    if (Stopping()) return;
    Local& local = locals[row.record.key];
    if (row.record.state == OutboxState::kQueued) {
      SendNew(row, local, height);
    } else if (local.waiting_at != height) {
      Check(row, local, height);
    }
  }
}

void Outbox::Impl::SendNew(OutboxRow& row, Local& local, uint32_t height) {
  auto params = sender.Params();
  if (!params.ok()) return Trouble(row, local, "reading the network's parameters", params.status());
  neo::SendOptions options;
  options.scopes = row.scopes.value_or(opts.scopes);
  // 0 there too leaves the window to Build: the network's maximum.
  options.valid_for_blocks =
      std::min(row.valid_for != 0 ? row.valid_for : opts.valid_for_blocks, params->max_valid_until_block_increment);
  options.max_total_fee = row.max_fee != 0 ? row.max_fee : opts.max_fee;
  auto tx = sender.Build(row.script, options);
  if (!tx.ok()) {
    if (Permanent(tx.status())) {
      return Finish(row, OutboxState::kFailed, std::nullopt, std::nullopt,
                    "not sent: " + std::string(tx.status().message()));
    }
    return Trouble(row, local, "building the transaction", tx.status());
  }
  const std::vector<uint8_t> bytes = tx->Encode();
  // Stored before it leaves the process: after a crash it is found by hash, or relayed as is.
  const std::optional<std::string> replaces =
      row.record.state == OutboxState::kSent ? row.record.tx_hash : std::optional<std::string>();
  const int64_t now = clock.NowUnixMillis();
  if (Status s = internal::SaveSent(store, row.record.key, replaces, *tx, bytes, now); !s.ok()) {
    if (s.code() == StatusCode::kFailedPrecondition) return Moved(row, s);
    return Trouble(row, local, "storing the transaction", s);
  }
  metrics::Outbox().sent.Inc({row.record.owner});
  OutboxRecord& r = row.record;
  r.state = OutboxState::kSent;
  r.attempts += 1;
  r.tx_hash = tx->hash().ToString();
  r.valid_until = tx->valid_until_block();
  r.system_fee = tx->system_fee();
  r.network_fee = tx->network_fee();
  r.updated_at_ms = now;
  local.refusal.clear();
  log::Info("outbox transaction built", {{"key", r.key},
                                         {"owner", r.owner},
                                         {"tx", *r.tx_hash},
                                         {"attempt", r.attempts},
                                         {"valid_until", *r.valid_until},
                                         {"system_fee", *r.system_fee},
                                         {"network_fee", *r.network_fee}});
  RelayTx(row, local, bytes, height);
}

void Outbox::Impl::RelayTx(OutboxRow& row, Local& local, std::span<const uint8_t> tx, uint32_t height) {
  auto sent = rpc.SendRawTransaction(tx);
  const int64_t code = sent.ok() ? 0 : neo::NeoRpcErrorCode(sent.status()).value_or(0);
  if (sent.ok() || code == kAlreadyInPool) {
    local.waiting_at = height;  // the next block tells what became of it
    local.last_error.clear();
    return;
  }
  if (code == kAlreadyExists) {
    local.waiting_at.reset();  // on chain already: looked up on the next poll
    return;
  }
  if (code != 0) {
    // Refused (fees, funds, policy): the same bytes again once the chain has moved, and the reason
    // kept for the error should the transaction expire.
    local.waiting_at = height;
    local.refusal = std::string(sent.status().message());
  } else {
    local.waiting_at.reset();  // no answer: tried again on the next poll
  }
  Trouble(row, local, "relaying the transaction", sent.status());
}

void Outbox::Impl::Check(OutboxRow& row, Local& local, uint32_t height) {
  OutboxRecord& r = row.record;
  auto hash = neo::UInt256::Parse(*r.tx_hash);
  if (!hash.ok()) {
    return Finish(row, OutboxState::kFailed, std::nullopt, std::nullopt,
                  "the stored transaction hash does not parse: " + std::string(hash.status().message()));
  }
  auto info = rpc.GetRawTransaction(*hash);
  if (info.ok()) {
    if (!info->block_hash) {
      local.waiting_at = height;  // in the pool
      return;
    }
    auto app_log = rpc.GetApplicationLog(*hash);
    if (!app_log.ok()) return Trouble(row, local, "reading the application log", app_log.status());
    auto header = rpc.GetBlockHeader(*info->block_hash);
    if (!header.ok()) return Trouble(row, local, "reading the including block", header.status());
    const auto exec = std::find_if(app_log->executions.begin(), app_log->executions.end(),
                                   [](const neo::ExecutionResult& x) { return x.trigger == "Application"; });
    if (exec == app_log->executions.end()) {
      return Trouble(row, local, "reading the application log",
                     DataLossError("the application log has no Application execution"));
    }
    if (exec->vm_state == neo::VmState::kHalt) {
      return Finish(row, OutboxState::kHalt, header->index, exec->gas_consumed, "");
    }
    return Finish(row, OutboxState::kFault, header->index, exec->gas_consumed,
                  exec->exception.value_or("FAULT without an exception text"));
  }
  if (info.status().code() != StatusCode::kNotFound) {
    return Trouble(row, local, "looking the transaction up", info.status());
  }
  if (height < *r.valid_until) {
    // Lost on the way, dropped from the pool, or never relayed before a restart.
    auto bytes = internal::StoredTransaction(store, r.key, *r.tx_hash);
    if (!bytes.ok()) {
      if (bytes.status().code() == StatusCode::kFailedPrecondition) return Moved(row, bytes.status());
      return Trouble(row, local, "reading the stored transaction", bytes.status());
    }
    return RelayTx(row, local, *bytes, height);
  }
  // In no block up to its validUntilBlock, so never: another transaction is safe.
  metrics::Outbox().expired.Inc({r.owner});
  const int64_t max_attempts = row.max_attempts != 0 ? row.max_attempts : opts.max_attempts;
  if (r.attempts >= max_attempts) {
    std::string error = "gave up: " + std::to_string(r.attempts) + " transactions expired without being included";
    if (!local.refusal.empty()) error += " (the node refused the last: " + local.refusal + ")";
    return Finish(row, OutboxState::kFailed, std::nullopt, std::nullopt, error);
  }
  log::Warn("outbox: the transaction expired without being included; building another",
            {{"key", r.key}, {"tx", *r.tx_hash}, {"valid_until", *r.valid_until}, {"attempt", r.attempts}});
  SendNew(row, local, height);
}

void Outbox::Impl::Finish(OutboxRow& row, OutboxState state, std::optional<uint32_t> block_index,
                          std::optional<int64_t> gas_consumed, const std::string& error) {
  OutboxRecord& r = row.record;
  const int64_t now = clock.NowUnixMillis();
  const std::optional<std::string> tx = r.state == OutboxState::kSent ? r.tx_hash : std::optional<std::string>();
  Status s = state == OutboxState::kFailed
                 ? internal::SaveFailed(store, r.key, tx, error, now)
                 : internal::SaveIncluded(store, r.key, *tx, state, *block_index, *gas_consumed, error, now);
  if (!s.ok()) {
    if (s.code() == StatusCode::kFailedPrecondition) return Moved(row, s);
    return Trouble(row, locals[r.key], "recording the outcome", s);  // the step runs again next poll
  }
  r.state = state;
  r.block_index = block_index;
  r.gas_consumed = gas_consumed;
  r.error = error;
  r.updated_at_ms = now;
  locals.erase(r.key);
  metrics::Outbox().finished.Inc({r.owner, OutboxStateName(state)});
  if (block_index)
    metrics::Outbox().fees.Inc({r.owner}, uint64_t(r.system_fee.value_or(0) + r.network_fee.value_or(0)));
  (state == OutboxState::kHalt ? log::Info : log::Warn)("outbox item done",
                                                        {{"key", r.key},
                                                         {"owner", r.owner},
                                                         {"state", OutboxStateName(state)},
                                                         {"tx", r.tx_hash.value_or("")},
                                                         {"block", block_index ? int64_t{*block_index} : int64_t{-1}},
                                                         {"gas_consumed", gas_consumed.value_or(0)},
                                                         {"attempts", r.attempts},
                                                         {"error", error}});
  Tell(r);
}

void Outbox::Impl::Trouble(const OutboxRow& row, Local& local, std::string_view what, const Status& s) {
  std::string text = std::string(what) + ": " + s.ToString();
  if (text == local.last_error) return;
  log::Warn("outbox: a step failed; retrying", {{"key", row.record.key}, {"owner", row.record.owner}, {"error", text}});
  local.last_error = std::move(text);
}

void Outbox::Impl::Moved(const OutboxRow& row, const Status& s) {
  // Another outbox on the same store took the item forward: its row is read again next poll.
  log::Info("outbox: the item moved on elsewhere", {{"key", row.record.key}, {"error", s.ToString()}});
  locals.erase(row.record.key);
}

void Outbox::Impl::Tell(const OutboxRecord& record) {
  std::vector<Listener> told;
  {
    std::lock_guard lock(listeners_mu);
    if (auto it = listeners.find(record.owner); it != listeners.end()) told = it->second;
  }
  for (const Listener& l : told) l(record);
}

Outbox::Outbox(OutboxOptions options, store::Store& store, neo::RpcClient& rpc, neo::TransactionSigner& signer,
               RandomSource& random, const Clock& clock)
    : impl_(std::make_unique<Impl>(options, store, rpc, signer, random, clock)) {}

Outbox::~Outbox() {
  Stop();
}

StatusOr<bool> Outbox::Enqueue(store::Transaction& tx, const OutboxItem& item, int64_t now_ms) {
  return internal::InsertQueued(tx, item, now_ms);
}

StatusOr<bool> Outbox::Enqueue(const OutboxItem& item) {
  bool inserted = false;
  RETURN_IF_ERROR(store::RunInTransaction(impl_->store, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(inserted, Enqueue(tx, item, impl_->clock.NowUnixMillis()));
    return Status::Ok();
  }));
  if (inserted) Wake();
  return inserted;
}

void Outbox::Wake() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->woken = true;
  }
  impl_->cv.notify_one();
}

Status Outbox::Start() {
  const OutboxOptions& o = impl_->opts;
  if (o.poll_interval.count() <= 0) return InvalidArgumentError("outbox: poll_interval must be positive");
  if (o.max_attempts < 1) return InvalidArgumentError("outbox: max_attempts must be at least 1");
  if (o.max_fee < 0) return InvalidArgumentError("outbox: max_fee must not be negative");
  std::lock_guard lifecycle(impl_->lifecycle_mu);
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->started || impl_->stopping) return FailedPreconditionError("outbox: Start is called once");
    impl_->started = true;
  }
  // The store answers before the worker relies on it; the worker's first pass takes these up.
  ASSIGN_OR_RETURN(auto unfinished,
                   impl_->store.Query("SELECT COUNT(*) FROM chain_outbox WHERE state IN ('queued', 'sent')"));
  ASSIGN_OR_RETURN(int64_t pending, unfinished.at(0).Int(0));
  log::Info("outbox started", {{"pending", pending}, {"poll_ms", static_cast<int64_t>(o.poll_interval.count())}});
  impl_->worker = std::thread([this] { impl_->Run(); });
  return Status::Ok();
}

void Outbox::Stop() {
  std::lock_guard lifecycle(impl_->lifecycle_mu);
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->worker.joinable()) impl_->worker.join();
}

void Outbox::Listen(std::string owner, Listener listener) {
  std::lock_guard lock(impl_->listeners_mu);
  impl_->listeners[std::move(owner)].push_back(std::move(listener));
}

StatusOr<OutboxRecord> Outbox::Get(const std::string& key) {
  return Get(impl_->store, key);
}

StatusOr<OutboxRecord> Outbox::Get(store::Store& store, const std::string& key) {
  return internal::ReadRecord(store, key);
}

}  // namespace neosl::chain_tx
