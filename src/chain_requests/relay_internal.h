// Relay's insides (internal to src/chain_requests): relay.cpp holds the lifecycle and the
// subscriber side, relay_worker.cpp the worker that answers.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "chain_requests/relay.h"
#include "chain_requests/request_store.h"

namespace neosl::chain_requests {

using SteadyTime = std::chrono::steady_clock::time_point;

// What the subscriber thread and `done` callbacks hand to the worker. Shared, because a `done`
// may be called after the relay is gone: once closed, whatever arrives is dropped.
struct Inbox {
  struct Block {
    uint32_t index = 0;
    std::vector<neo::UInt256> tx_hashes;
  };

  std::mutex mu;
  std::condition_variable cv;
  bool closed = false;
  std::vector<Block> blocks;
  std::vector<ChainRequest> requests;  // newly recorded
  std::vector<std::pair<RequestKey, ChainAnswer>> answers;

  bool empty() const { return blocks.empty() && requests.empty() && answers.empty(); }
  // False (and nothing kept) once closed.
  bool PushAnswer(RequestKey key, ChainAnswer answer);
};

// A request the worker is taking forward (worker thread only).
struct Entry {
  ChainRequest request;
  RequestState state = RequestState::kReceived;
  std::optional<ChainAnswer> answer;   // set from kAnswering on
  std::optional<ChainAnswer> unsaved;  // kReceived: an answer the store failed to take; retried
  // kReceived: the handler was asked (this run), and until when it may answer.
  bool dispatched = false;
  std::optional<SteadyTime> handler_deadline;
  // kAnswering / kSent: not before this after an error.
  SteadyTime retry_at{};
  // kSent: the transaction, and whether it is to be looked up on chain.
  std::optional<neo::UInt256> tx_hash;
  std::vector<uint8_t> tx;
  uint32_t valid_until = 0;
  int64_t attempts = 0;
  bool check = false;
  bool done = false;  // answered or failed: dropped after this pass
};

struct Relay::Impl final : neo::ChainEventHandler {
  Impl(RelayOptions o, store::Store& s, neo::RpcClient& r, neo::TransactionSigner& sig, RandomSource& rand,
       SubscriberFactory f, const Clock& c)
      : opts(std::move(o)),
        rpc(r),
        factory(std::move(f)),
        clock(c),
        requests(s, c),
        sender(r, sig, rand),
        inbox(std::make_shared<Inbox>()) {}

  // ---- relay.cpp: the subscriber's thread --------------------------------------------------
  void OnNotification(const neo::NotificationEvent& event) override;
  void OnBlock(const neo::BlockEvent& event) override;
  void OnError(const Status& status) override;
  bool Allowed(const neo::UInt160& contract) const;
  bool Takes(const std::string& service) const;  // opts.services allows it

  // ---- relay_worker.cpp: the worker thread --------------------------------------------------
  void Run();
  void Load(std::vector<RequestRecord> records);
  void TakeBlock(const Inbox::Block& block);
  void TakeAnswer(const RequestKey& key, ChainAnswer answer);
  void Step(Entry& e);
  void Dispatch(Entry& e);
  void SaveAnswer(Entry& e, ChainAnswer answer);
  void SendNew(Entry& e);
  void RelayTx(Entry& e);
  void Check(Entry& e);
  void Fail(Entry& e, std::optional<uint32_t> block_index, const std::string& reason);
  void Refresh(Entry& e);
  void RetryLater(Entry& e);
  bool Closing();
  bool Confirmed(const Entry& e) const;
  Entry* Find(const RequestKey& key);
  std::chrono::milliseconds NextWake() const;

  const RelayOptions opts;
  neo::RpcClient& rpc;
  SubscriberFactory factory;
  const Clock& clock;
  RequestStore requests;
  neo::TransactionSender sender;

  std::mutex handlers_mu;
  std::map<std::string, ServiceHandler, std::less<>> handlers;

  std::shared_ptr<Inbox> inbox;

  std::mutex lifecycle_mu;
  bool started = false;
  bool stopped = false;
  std::unique_ptr<neo::ChainSubscriber> subscriber;
  std::thread worker;

  // Subscriber thread only: the requests of the block in progress.
  std::vector<ChainRequest> block_requests;

  // Worker thread only.
  std::vector<Entry> pending;
  std::optional<uint32_t> tip;

  std::atomic<uint64_t> received{0}, rejected{0}, answered{0}, failed{0}, transactions{0}, pending_count{0};
  std::atomic<int64_t> last_block{-1};
};

}  // namespace neosl::chain_requests
