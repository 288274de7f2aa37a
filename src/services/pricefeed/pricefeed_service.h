// The Price Feed service (proto/neosl/pricefeed/v1, docs/pricefeed.md): the seed's Data
// Aggregator, Price Validator, Update Scheduler and On-chain Publisher.
//
// Every poll interval, each pair that somebody follows (a feed, or a GetPrice in the last
// watch_ttl) gets a round: the enclave fetches the pair's venues, aggregates and signs
// (observe.h). The service stores the pair's round and latest report, then asks every feed of the
// pair whether to publish (schedule.h); a publication is recorded — the feed's new state, the
// update, and for a feed with a target the transaction's outbox item (chain_tx/outbox.h) — in one
// store transaction, so that a crash can neither lose it nor send it twice. A round that misses
// its quorum leaves the pair degraded: nothing is published until a round meets it again.
//
// Rounds are numbered per pair, increasing, and the number is signed with the price; a feed
// publishes a round at most once, and only rounds newer than its last.
//
// Charging (issue #12): each update is paid for by the feed's account through the gas bank. When a
// round decides to publish, the fee (pricefeed.update, plus the most the transaction's fees may be
// for a feed with a target) is held before the update is recorded; an account that cannot pay
// gets no update — nothing recorded, nothing enqueued, the feed's state not advanced, so a later
// round publishes once it can pay — and its feed shows why meanwhile. An update without a
// transaction is charged once recorded; one with a transaction when the outbox has its outcome:
// included (halt or fault: its fees were paid) is charged with the real fees, failed is released.
// A hold's reference is the feed and the round, so a hold is found again by reserving the same
// work: after a restart, and when a round whose commit failed is run again.
//
// Threads: the poller thread starts rounds on the service's WorkQueue (pricefeed.threads); a
// pair has at most one round in flight. The RPCs run on gRPC threads (GetPrice's first round of a
// pair on the queue).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "chain_tx/outbox.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/work_queue.h"
#include "crypto/p256.h"
#include "enclave.pb.h"
#include "mesh/server.h"
#include "neosl/pricefeed/v1/pricefeed.grpc.pb.h"
#include "services/gasbank/charging.h"
#include "services/pricefeed/schedule.h"
#include "store/store.h"

namespace neosl::services {

namespace pricefeedpb = ::neosl::pricefeed::v1;

// How the service has the enclave run a round (RunningEnclave::PriceObserve in serve).
struct PriceEnclave {
  std::function<StatusOr<tee::v1::PriceObserveResponse>(const tee::v1::PriceObserveRequest&)> observe;
};

// A pair the service observes: its venues with whole ticker URLs (pricefeed.pairs.* config).
struct PairConfig {
  std::string pair;  // "NEO/USD"
  int decimals = 8;
  std::vector<tee::v1::PriceSource> sources;
};

struct PriceFeedOptions {
  std::vector<PairConfig> pairs;
  std::chrono::milliseconds poll_interval{1000};  // pricefeed.poll_interval_ms
  std::chrono::milliseconds timeout{2000};        // per venue
  uint32_t quorum = 3;
  int64_t max_age_ms = 60'000;
  int64_t mad_k_milli = 3000;
  int64_t outlier_floor_bps = 10;
  bool volume_weighted = false;
  size_t max_feeds_per_account = 100;
  uint32_t default_deviation_bps = 50;
  uint32_t default_heartbeat_s = 3600;
  std::chrono::seconds watch_ttl{600};  // a pair read with GetPrice is kept fresh this long
  size_t threads = 4;                   // rounds at once
  uint32_t valid_for_blocks = 0;        // an update transaction's window; 0: the outbox's default
  // When the account pays (gas bank on): the most an update transaction's system + network fee
  // may be (datoshi; the outbox item's max_fee, held with the update's fee), and how long its hold
  // stays open — longer than an update can take to be included or fail.
  int64_t max_update_fee = 50'000'000;  // pricefeed.max_update_fee (0.5 GAS)
  std::chrono::milliseconds update_hold_ttl{30 * 60 * 1000};
};

class PriceFeedService final : public pricefeedpb::PriceFeed::CallbackService {
 public:
  static constexpr std::string_view kIdentity = "pricefeed";
  static constexpr std::string_view kOutboxOwner = "pricefeed";

  // `charger`: how updates are paid for (gas bank holds); default: not charged.
  PriceFeedService(mesh::Pipeline& pipeline, store::Store& store, PriceEnclave enclave, const Clock& clock,
                   RandomSource& random, const crypto::PublicKey& report_key, PriceFeedOptions options,
                   gasbank::GasCharger charger = {});
  ~PriceFeedService() override;  // Stop()

  // Loads the pairs' rounds and reports and the feeds from the store. `outbox` publishes to
  // contracts (null: no chain here, and feeds with a target are refused); register Listener()
  // with it before it starts. With `poll`, a thread runs rounds every poll interval; without,
  // rounds run only through PollOnce (tests drive time themselves). Call once.
  //
  // Replicas: one runs the rounds (it holds the lease); the others start with `lead` false and
  // serve reads and streams from what the leader stores, refreshed every poll interval, until
  // Lead. Feeds made or deleted through any replica reach the leader the same way.
  Status Start(chain_tx::Outbox* outbox, bool poll = true, bool lead = true);
  // Takes the rounds over: reloads the pairs and feeds from the store (the deposed leader's last
  // rounds included), then runs rounds and publishes. FAILED_PRECONDITION unless started.
  Status Lead();
  bool leading() const { return leading_.load(); }
  void Stop();

  // Looks for feeds made through other replicas, then runs a round of every followed pair now and
  // waits for them (tests, benchmarks).
  void PollOnce();
  // Runs a round of `pair` now on the calling thread (tests).
  Status ObservePair(const std::string& pair);

  // CreateFeed for `account` (the RPC, and tests that drive the service directly).
  StatusOr<pricefeedpb::Feed> AddFeed(const std::string& account, const pricefeedpb::CreateFeedRequest& request);

  // The outbox's listener for kOutboxOwner: an update's hold is charged or released by its
  // outcome, and a failed or faulted update makes its feed publish the next round regardless.
  chain_tx::Outbox::Listener Listener();

  struct Stats {
    uint64_t rounds = 0;    // rounds run
    uint64_t degraded = 0;  // rounds that missed their quorum
    uint64_t updates = 0;   // publications decided
  };
  Stats stats() const;

  grpc::ServerUnaryReactor* GetPrice(grpc::CallbackServerContext* ctx, const pricefeedpb::GetPriceRequest* request,
                                     pricefeedpb::PriceReport* response) override;
  grpc::ServerUnaryReactor* ListPrices(grpc::CallbackServerContext* ctx, const pricefeedpb::ListPricesRequest* request,
                                       pricefeedpb::ListPricesResponse* response) override;
  grpc::ServerUnaryReactor* CreateFeed(grpc::CallbackServerContext* ctx, const pricefeedpb::CreateFeedRequest* request,
                                       pricefeedpb::Feed* response) override;
  grpc::ServerUnaryReactor* GetFeed(grpc::CallbackServerContext* ctx, const pricefeedpb::GetFeedRequest* request,
                                    pricefeedpb::Feed* response) override;
  grpc::ServerUnaryReactor* ListFeeds(grpc::CallbackServerContext* ctx, const pricefeedpb::ListFeedsRequest* request,
                                      pricefeedpb::ListFeedsResponse* response) override;
  grpc::ServerUnaryReactor* DeleteFeed(grpc::CallbackServerContext* ctx, const pricefeedpb::DeleteFeedRequest* request,
                                       pricefeedpb::Feed* response) override;
  grpc::ServerWriteReactor<pricefeedpb::PriceReport>* WatchPrices(
      grpc::CallbackServerContext* ctx, const pricefeedpb::WatchPricesRequest* request) override;

 private:
  struct FeedEntry {
    std::string id;
    std::string account;
    std::string pair;
    pricefeed::FeedPolicy policy;
    std::optional<std::string> target_contract;  // 0x…
    std::string target_method;
    pricefeed::FeedState state;
    int64_t last_round = 0;
    std::string unpaid;  // why the account could not pay for its last decided update; empty once it can
  };
  // An update a round decided, and the hold that pays for it.
  struct Publication {
    FeedEntry* feed = nullptr;
    pricefeed::Decision decision;
    std::optional<std::string> outbox_key;
    gasbank::ChargeHold hold;
  };
  struct PairState {
    const PairConfig* config = nullptr;
    int64_t round = 0;                               // the last round number given out
    std::optional<pricefeedpb::PriceReport> report;  // the latest ok report
    bool degraded = false;
    std::string reason;
    // Degraded: the venues as the round that missed its quorum saw them (shown instead of the
    // older report's).
    google::protobuf::RepeatedPtrField<pricefeedpb::SourceQuote> degraded_quotes;
    bool in_flight = false;
    std::chrono::steady_clock::time_point watched_until{};
    std::chrono::steady_clock::time_point observed_at{};
  };

  StatusOr<std::string> NormalizePair(const std::string& text) const;
  Status Load();
  // A row of price_feeds as the service holds it.
  StatusOr<FeedEntry> ParseFeed(const store::Row& row) const;
  // Feeds added or deleted in the store (through another replica) since the last look.
  Status SyncFeeds();
  // A follower's refresh: the pairs' rounds the leader has stored since (each new report goes to
  // the watchers), and the feeds.
  Status Refresh();
  // The pairs with a feed or a watcher of their own (mu_ held).
  std::set<std::string> Followed();
  // The followed pairs without a round in flight, marked in flight (mu_ held).
  std::vector<std::string> ClaimDue();
  // A round of `pair` for the work queue; a failure is logged.
  std::function<void()> RoundTask(const std::string& pair);
  void PollLoop();
  // The round itself: the enclave, then Commit. `pair` was marked in flight by the caller.
  Status RunRound(const std::string& pair);
  Status Commit(const std::string& pair, int64_t round, const tee::v1::PriceObserveResponse& observed);
  pricefeedpb::PriceReport Shown(const PairState& state, const std::string& pair) const;
  StatusOr<pricefeedpb::Feed> ShowFeed(const std::string& id, const std::string& account);
  void Publish(const pricefeedpb::PriceReport& report);
  StatusOr<std::vector<uint8_t>> UpdateScript(const FeedEntry& feed, const tee::v1::PriceObserveResponse& observed,
                                              const std::string& pair, int64_t round, uint32_t decimals) const;

  // Charging (pricefeed_charging.cpp). Holds each publication's fee; one whose account cannot
  // pay is dropped, and its feed shows why (mu_ not held).
  void ReserveUpdates(int64_t round, std::vector<Publication>* publications);
  // After the round's commit: charges the updates recorded without a transaction, releases the
  // holds of feeds deleted meanwhile (`gone`), and keeps the others' for the outbox's outcome.
  // Not `committed`: the holds stay open for the round, which runs again under the same number
  // and finds them by their reference (or they expire).
  void SettleRecorded(const std::vector<Publication>& publications, const std::set<std::string>& gone, bool committed);
  // The outbox's outcome of an update: halt or fault is charged with the transaction's real fees,
  // failed is released.
  void SettleSent(const chain_tx::OutboxRecord& record);
  gasbank::ReserveOptions UpdateHoldOptions(bool sends) const;

  mesh::Pipeline& pipeline_;
  store::Store& store_;
  PriceEnclave enclave_;
  const Clock& clock_;
  RandomSource& random_;
  std::string report_key_hex_;
  const PriceFeedOptions options_;
  gasbank::GasCharger charger_;
  chain_tx::Outbox* outbox_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // a round finished (PollOnce), or stopping (the poller)
  bool stopping_ = false;
  bool started_ = false;
  std::atomic<bool> leading_{false};
  std::map<std::string, PairState> pairs_;
  std::map<std::string, FeedEntry> feeds_;  // live feeds by id
  Stats stats_;
  std::mutex commit_mu_;  // one store writer for rounds and feed changes
  std::mutex holds_mu_;
  std::map<std::string, gasbank::ChargeHold> holds_;  // by outbox key: updates waiting for their outcome

  struct Watcher {
    std::string pair;  // empty: every pair
    std::shared_ptr<mesh::StreamWriter> writer;
  };
  std::mutex watchers_mu_;  // after mu_ when both are held
  std::vector<Watcher> watchers_;

  std::thread poller_;
  std::unique_ptr<WorkQueue> work_;  // joined in Stop, before the rest goes
};

}  // namespace neosl::services
