// The relay's worker: takes each recorded request through answering → sent → answered / failed
// (relay.h), storing every step before taking the next.
#include <algorithm>
#include <utility>

#include "chain_requests/relay_internal.h"
#include "core/business_metrics.h"
#include "core/log.h"
#include "neo/transaction.h"

namespace neosl::chain_requests {
namespace {

// Errors of TransactionSender::Build that the same request would meet again: the callback's
// test run FAULTs, its fees exceed the cap, or the script is refused.
bool Permanent(const Status& s) {
  return s.code() == StatusCode::kFailedPrecondition || s.code() == StatusCode::kResourceExhausted ||
         s.code() == StatusCode::kInvalidArgument;
}

}  // namespace

bool Relay::Impl::Closing() {
  std::lock_guard lock(inbox->mu);
  return inbox->closed;
}

Entry* Relay::Impl::Find(const RequestKey& key) {
  for (Entry& e : pending) {
    if (e.request.key == key) return &e;
  }
  return nullptr;
}

bool Relay::Impl::Confirmed(const Entry& e) const {
  if (opts.confirmations == 0) return true;
  return tip && uint64_t{*tip} >= uint64_t{e.request.block_index} + opts.confirmations;
}

void Relay::Impl::RetryLater(Entry& e) {
  e.retry_at = clock.SteadyNow() + opts.retry_interval;
  if (e.state == RequestState::kSent) e.check = true;
}

std::chrono::milliseconds Relay::Impl::NextWake() const {
  const SteadyTime now = clock.SteadyNow();
  std::optional<SteadyTime> due;
  auto consider = [&](SteadyTime t) { due = due ? std::min(*due, t) : t; };
  for (const Entry& e : pending) {
    switch (e.state) {
      case RequestState::kReceived:
        if (!e.dispatched && !e.unsaved && Confirmed(e)) consider(now);  // e.g. loaded at start
        if (e.unsaved) consider(e.retry_at);
        if (e.dispatched && e.handler_deadline) consider(*e.handler_deadline);
        break;
      case RequestState::kAnswering: consider(e.retry_at); break;
      case RequestState::kSent:
        if (e.check) consider(e.retry_at);
        break;
      default: break;
    }
  }
  // Without anything due, inbox activity wakes the worker; the cap only bounds a clock that
  // does not move with real time.
  auto wait = due ? std::chrono::duration_cast<std::chrono::milliseconds>(*due - now) : std::chrono::minutes(1);
  return std::clamp<std::chrono::milliseconds>(wait, std::chrono::milliseconds(0), std::chrono::minutes(1));
}

void Relay::Impl::Load(std::vector<RequestRecord> records) {
  for (RequestRecord& r : records) {
    Entry e;
    e.request = std::move(r.request);
    e.state = r.state;
    e.answer = std::move(r.answer);
    e.attempts = r.attempts;
    if (e.state == RequestState::kSent) {
      e.tx_hash = r.answer_tx_hash;
      e.tx = std::move(r.answer_tx);
      auto decoded = neo::Transaction::Decode(e.tx);
      if (decoded.ok()) {
        e.valid_until = decoded->valid_until_block();
      } else {
        // Looked up by hash all the same; if it is not on chain it is treated as expired.
        log::Error("chain request: the stored callback transaction does not decode",
                   {{"request", e.request.key.ToString()}, {"error", decoded.status().ToString()}});
      }
      e.check = true;  // whatever became of it while we were away
    }
    pending.push_back(std::move(e));
  }
  pending_count.store(pending.size());
}

void Relay::Impl::Run() {
  // Warm up what every callback transaction needs, so the first answer is not slower.
  if (auto params = sender.Params(); !params.ok()) {
    log::Warn("chain requests: the node's network parameters are not available yet",
              {{"error", params.status().ToString()}});
  }
  if (auto count = rpc.GetBlockCount(); count.ok() && *count > 0) tip = *count - 1;

  while (true) {
    std::vector<Inbox::Block> blocks;
    std::vector<ChainRequest> fresh;
    std::vector<std::pair<RequestKey, ChainAnswer>> answers;
    {
      std::unique_lock lock(inbox->mu);
      inbox->cv.wait_for(lock, NextWake(), [&] { return inbox->closed || !inbox->empty(); });
      if (inbox->closed) return;
      std::swap(blocks, inbox->blocks);
      std::swap(fresh, inbox->requests);
      std::swap(answers, inbox->answers);
    }
    for (ChainRequest& r : fresh) {
      if (Find(r.key) != nullptr) continue;
      Entry e;
      e.request = std::move(r);
      pending.push_back(std::move(e));
    }
    for (const Inbox::Block& b : blocks) TakeBlock(b);
    for (auto& [key, answer] : answers) TakeAnswer(key, std::move(answer));
    for (Entry& e : pending) {
      if (Closing()) return;
      if (!e.done) Step(e);
    }
    std::erase_if(pending, [](const Entry& e) { return e.done; });
    pending_count.store(pending.size());
    metrics::ChainRequests().pending.Set({opts.name}, double(pending.size()));
  }
}

void Relay::Impl::TakeBlock(const Inbox::Block& block) {
  if (!tip || block.index > *tip) tip = block.index;
  // Every transaction still out is looked up: included, still waiting, or gone.
  for (Entry& e : pending) {
    if (e.state == RequestState::kSent) e.check = true;
  }
}

void Relay::Impl::TakeAnswer(const RequestKey& key, ChainAnswer answer) {
  Entry* e = Find(key);
  if (e == nullptr || e->state != RequestState::kReceived || e->unsaved) {
    log::Warn("chain request: an answer arrived for a request that already has one; dropped",
              {{"request", key.ToString()}, {"code", answer.code}});
    return;
  }
  if (answer.result.size() > kMaxResult) {
    log::Error("chain request: the service's result is too large",
               {{"request", key.ToString()}, {"service", e->request.service}, {"bytes", answer.result.size()}});
    answer =
        ChainAnswer::Failure(StatusCode::kInternal, "the " + e->request.service + " service's result of " +
                                                        std::to_string(answer.result.size()) + " bytes exceeds 4096");
  }
  SaveAnswer(*e, std::move(answer));
}

void Relay::Impl::Step(Entry& e) {
  const SteadyTime now = clock.SteadyNow();
  switch (e.state) {
    case RequestState::kReceived:
      if (!Confirmed(e)) return;
      if (e.unsaved) {
        if (now >= e.retry_at) SaveAnswer(e, *e.unsaved);
      } else if (!e.dispatched) {
        Dispatch(e);
      } else if (e.handler_deadline && now >= *e.handler_deadline) {
        log::Warn("chain request: the handler did not answer in time",
                  {{"request", e.request.key.ToString()}, {"service", e.request.service}});
        SaveAnswer(e, ChainAnswer::Failure(StatusCode::kDeadlineExceeded,
                                           "the " + e.request.service + " service did not answer within " +
                                               std::to_string(opts.handler_timeout.count()) + " ms"));
      }
      // An answer saved just now is sent in this same pass.
      if (e.state == RequestState::kAnswering) SendNew(e);
      return;
    case RequestState::kAnswering:
      if (now >= e.retry_at) SendNew(e);
      return;
    case RequestState::kSent:
      if (e.check && now >= e.retry_at) Check(e);
      return;
    case RequestState::kAnswered:
    case RequestState::kFailed: e.done = true; return;
  }
}

void Relay::Impl::Dispatch(Entry& e) {
  ServiceHandler handler;
  {
    std::lock_guard lock(handlers_mu);
    auto it = handlers.find(e.request.service);
    if (it != handlers.end()) handler = it->second;
  }
  e.dispatched = true;
  if (opts.handler_timeout.count() > 0) e.handler_deadline = clock.SteadyNow() + opts.handler_timeout;
  if (!handler) {
    log::Warn("chain request for a service this neosl does not run",
              {{"request", e.request.key.ToString()}, {"service", e.request.service}});
    SaveAnswer(e, ChainAnswer::Failure(StatusCode::kUnimplemented,
                                       "neosl does not provide the service \"" + e.request.service + "\""));
    return;
  }
  auto once = std::make_shared<std::atomic<bool>>(false);
  auto done = [box = inbox, key = e.request.key, once](ChainAnswer answer) {
    if (once->exchange(true)) {
      log::Warn("chain request: a handler answered twice; the second answer is dropped", {{"request", key.ToString()}});
      return;
    }
    if (!box->PushAnswer(key, std::move(answer))) {
      log::Info("chain request: answered after the relay stopped; it is asked again on the next start",
                {{"request", key.ToString()}});
    }
  };
  handler(e.request, std::move(done));
}

void Relay::Impl::SaveAnswer(Entry& e, ChainAnswer answer) {
  Status s = requests.SaveAnswer(e.request.key, answer);
  if (s.ok()) {
    e.unsaved.reset();
    e.state = RequestState::kAnswering;
    e.answer = std::move(answer);
    e.retry_at = {};
    return;
  }
  if (s.code() == StatusCode::kFailedPrecondition) {
    Refresh(e);  // the row moved on without us: take its state
    return;
  }
  // Kept until the store takes it: an answer, once given, is the one the request gets.
  log::Warn("chain request: storing the answer failed; retrying",
            {{"request", e.request.key.ToString()}, {"error", s.ToString()}});
  e.unsaved = std::move(answer);
  RetryLater(e);
}

void Relay::Impl::SendNew(Entry& e) {
  const std::optional<neo::UInt256> replaces = e.state == RequestState::kSent ? e.tx_hash : std::nullopt;
  auto params = sender.Params();
  if (!params.ok()) {
    log::Warn("chain request: the node is not reachable", {{"error", params.status().ToString()}});
    RetryLater(e);
    return;
  }
  neo::SendOptions options;
  options.valid_for_blocks = std::min(opts.valid_for_blocks, params->max_valid_until_block_increment);
  options.max_total_fee = opts.max_fee;
  auto tx = sender.Build(CallbackScript(e.request, *e.answer), options);
  if (!tx.ok()) {
    if (Permanent(tx.status())) {
      Fail(e, std::nullopt, "the callback cannot be sent: " + std::string(tx.status().message()));
    } else {
      log::Warn("chain request: building the callback failed; retrying",
                {{"request", e.request.key.ToString()}, {"error", tx.status().ToString()}});
      RetryLater(e);
    }
    return;
  }
  std::vector<uint8_t> bytes = tx->Encode();
  // Stored before it leaves the process: after a crash it is found by hash or sent again as is.
  Status s = requests.SaveTransaction(e.request.key, replaces, tx->hash(), bytes);
  if (!s.ok()) {
    log::Warn("chain request: storing the callback transaction failed; it is not sent",
              {{"request", e.request.key.ToString()}, {"error", s.ToString()}});
    if (s.code() == StatusCode::kFailedPrecondition) {
      Refresh(e);
    } else {
      RetryLater(e);
    }
    return;
  }
  ++transactions;
  metrics::ChainRequests().transactions.Inc({metrics::ChainServiceLabel(e.request.service)});
  e.state = RequestState::kSent;
  e.tx_hash = tx->hash();
  e.tx = std::move(bytes);
  e.valid_until = tx->valid_until_block();
  ++e.attempts;
  RelayTx(e);
}

void Relay::Impl::RelayTx(Entry& e) {
  auto sent = rpc.SendRawTransaction(e.tx);
  if (sent.ok()) {
    e.check = false;  // the next block says what became of it
    // From the notification to the answer on its way, for this process's first answer to it
    // (bench/oracle.sh reads it); -1 when the request came from the store after a restart.
    const int64_t since_notified_us =
        e.request.noticed_at && e.attempts == 1
            ? std::chrono::duration_cast<std::chrono::microseconds>(clock.SteadyNow() - *e.request.noticed_at).count()
            : -1;
    log::Info("chain request answer sent", {{"request", e.request.key.ToString()},
                                            {"service", e.request.service},
                                            {"tx", e.tx_hash->ToString()},
                                            {"code", e.answer ? e.answer->code : 0},
                                            {"valid_until", e.valid_until},
                                            {"attempt", e.attempts},
                                            {"since_notified_us", since_notified_us}});
    return;
  }
  // Refused, or no way to tell: looked up again later (on chain, in the pool, or relayed again).
  const int64_t code = neo::NeoRpcErrorCode(sent.status()).value_or(0);
  const bool known = code == -501 || code == -503;  // AlreadyExists, AlreadyInPool
  if (!known) {
    log::Warn(
        "chain request: relaying the callback failed; retrying",
        {{"request", e.request.key.ToString()}, {"tx", e.tx_hash->ToString()}, {"error", sent.status().ToString()}});
  }
  e.check = true;
  RetryLater(e);
}

void Relay::Impl::Check(Entry& e) {
  e.check = false;
  const neo::UInt256 hash = *e.tx_hash;
  // The height first: if the transaction is unknown after it, it was in no block up to it.
  auto count = rpc.GetBlockCount();
  if (!count.ok()) return RetryLater(e);
  const uint32_t height = *count == 0 ? 0 : *count - 1;
  auto info = rpc.GetRawTransaction(hash);
  if (info.ok()) {
    if (!info->block_hash) return;  // in the pool; the next block tells
    auto app_log = rpc.GetApplicationLog(hash);
    auto header = rpc.GetBlockHeader(*info->block_hash);
    if (!app_log.ok() || !header.ok()) return RetryLater(e);
    const auto exec = std::find_if(app_log->executions.begin(), app_log->executions.end(),
                                   [](const neo::ExecutionResult& x) { return x.trigger == "Application"; });
    if (exec == app_log->executions.end()) {
      log::Error("chain request: the callback's application log has no Application execution",
                 {{"tx", hash.ToString()}});
      return RetryLater(e);
    }
    if (exec->vm_state != neo::VmState::kHalt) {
      Fail(e, header->index, "the callback transaction FAULTed: " + exec->exception.value_or("no exception text"));
      return;
    }
    Status s = requests.MarkAnswered(e.request.key, hash, header->index);
    if (!s.ok()) {
      if (s.code() == StatusCode::kFailedPrecondition) return Refresh(e);
      return RetryLater(e);
    }
    e.state = RequestState::kAnswered;
    e.done = true;
    ++answered;
    metrics::ChainRequests().answered.Inc({metrics::ChainServiceLabel(e.request.service)});
    log::Info("chain request answered", {{"request", e.request.key.ToString()},
                                         {"service", e.request.service},
                                         {"code", e.answer ? e.answer->code : 0},
                                         {"tx", hash.ToString()},
                                         {"block", header->index},
                                         {"blocks_after_request", int64_t{header->index} - e.request.block_index}});
    return;
  }
  if (info.status().code() != StatusCode::kNotFound) return RetryLater(e);
  if (height < e.valid_until) {
    RelayTx(e);  // lost on the way, or never relayed before a restart: the same bytes again
    return;
  }
  // Expired without being included, so it never can be: another transaction is safe.
  if (e.attempts >= opts.max_attempts) {
    Fail(e, std::nullopt,
         "gave up: " + std::to_string(e.attempts) + " callback transactions expired without being included");
    return;
  }
  log::Warn("chain request: the callback transaction expired without being included; sending another",
            {{"request", e.request.key.ToString()}, {"tx", hash.ToString()}, {"valid_until", e.valid_until}});
  SendNew(e);
}

void Relay::Impl::Fail(Entry& e, std::optional<uint32_t> block_index, const std::string& reason) {
  const std::optional<neo::UInt256> tx = e.state == RequestState::kSent ? e.tx_hash : std::nullopt;
  Status s = requests.MarkFailed(e.request.key, tx, block_index, reason);
  if (!s.ok()) {
    log::Warn("chain request: recording the failure failed",
              {{"request", e.request.key.ToString()}, {"reason", reason}, {"error", s.ToString()}});
    if (s.code() == StatusCode::kFailedPrecondition) return Refresh(e);
    return RetryLater(e);  // the step that failed runs again and comes back here
  }
  e.state = RequestState::kFailed;
  e.done = true;
  ++failed;
  metrics::ChainRequests().failed.Inc({metrics::ChainServiceLabel(e.request.service)});
  log::Warn("chain request failed", {{"request", e.request.key.ToString()},
                                     {"service", e.request.service},
                                     {"tx", tx ? tx->ToString() : std::string()},
                                     {"reason", reason}});
}

void Relay::Impl::Refresh(Entry& e) {
  auto record = requests.Get(e.request.key);
  if (!record.ok()) {
    log::Warn("chain request: reading it back failed",
              {{"request", e.request.key.ToString()}, {"error", record.status().ToString()}});
    return RetryLater(e);
  }
  e.state = record->state;
  e.answer = record->answer;
  e.attempts = record->attempts;
  e.unsaved.reset();
  if (record->answer_tx_hash) {
    e.tx_hash = record->answer_tx_hash;
    e.tx = record->answer_tx;
    if (auto decoded = neo::Transaction::Decode(e.tx); decoded.ok()) e.valid_until = decoded->valid_until_block();
    e.check = true;
  }
  e.done = e.state == RequestState::kAnswered || e.state == RequestState::kFailed;
}

}  // namespace neosl::chain_requests
