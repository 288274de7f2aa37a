#include "services/pricefeed/pricefeed_service.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "core/business_metrics.h"
#include "core/encoding.h"
#include "core/ids.h"
#include "core/log.h"
#include "neo/contract_param.h"
#include "neo/script_builder.h"
#include "neo/uint.h"
#include "services/pricefeed/decimal.h"
#include "services/pricefeed/observe.h"
#include "services/pricefeed/pricefeed_internal.h"

namespace neosl::services {
namespace {

namespace v1 = tee::v1;
using pricefeed::Decision;
using pricefeed::FeedState;
using pricefeed_internal::AsBlob;
using pricefeed_internal::Hex;
using pricefeed_internal::Parsed;
using pricefeed_internal::Serialized;

// The live feeds, in the columns ParseFeed reads.
constexpr std::string_view kLiveFeeds =
    "SELECT id, account_id, pair, config, last_round, last_price, last_published_ms, last_direction, republish "
    "FROM price_feeds WHERE deleted_at_ms IS NULL";

}  // namespace

PriceFeedService::PriceFeedService(mesh::Pipeline& pipeline, store::Store& store, PriceEnclave enclave,
                                   const Clock& clock, RandomSource& random, const crypto::PublicKey& report_key,
                                   PriceFeedOptions options, gasbank::GasCharger charger)
    : pipeline_(pipeline),
      store_(store),
      enclave_(std::move(enclave)),
      clock_(clock),
      random_(random),
      report_key_hex_(HexEncode(report_key.Compressed())),
      options_(std::move(options)),
      charger_(charger),
      work_(std::make_unique<WorkQueue>(std::max<size_t>(1, options_.threads), 4096)) {
  for (const PairConfig& p : options_.pairs) pairs_[p.pair].config = &p;
}

PriceFeedService::~PriceFeedService() {
  Stop();
}

Status PriceFeedService::Start(chain_tx::Outbox* outbox, bool poll, bool lead) {
  {
    std::lock_guard lock(mu_);
    if (started_) return FailedPreconditionError("the price feed service is started already");
    started_ = true;
  }
  outbox_ = outbox;
  leading_ = lead;
  RETURN_IF_ERROR(Load());
  // Each followed pair's staleness, and the shortest heartbeat of its feeds, at every scrape.
  metrics::PriceFeed().staleness.AddCallback(this, [this, since = clock_.NowUnixMillis()](metrics::Sink& out) {
    std::lock_guard lock(mu_);
    for (const std::string& pair : Followed()) {
      const auto it = pairs_.find(pair);
      if (it == pairs_.end()) continue;
      const int64_t priced = it->second.report ? it->second.report->timestamp_ms() : since;
      out.Add({pair}, double(clock_.NowUnixMillis() - priced) / 1000);
    }
  });
  metrics::PriceFeed().heartbeat.AddCallback(this, [this](metrics::Sink& out) {
    std::lock_guard lock(mu_);
    std::map<std::string_view, int64_t> shortest;
    for (const auto& [id, f] : feeds_) {
      auto it = shortest.emplace(f.pair, f.policy.heartbeat_ms).first;
      it->second = std::min(it->second, f.policy.heartbeat_ms);
    }
    for (const auto& [pair, ms] : shortest) out.Add({pair}, double(ms) / 1000);
  });
  if (poll) poller_ = std::thread([this] { PollLoop(); });
  log::Info("price feed running", {{"pairs", std::to_string(options_.pairs.size())},
                                   {"feeds", std::to_string(feeds_.size())},
                                   {"poll_ms", std::to_string(options_.poll_interval.count())},
                                   {"publishing", outbox_ != nullptr ? "yes" : "no (no chain)"},
                                   {"rounds", lead ? "here" : "another replica's, until this one leads"}});
  return Status();
}

Status PriceFeedService::Lead() {
  {
    std::lock_guard lock(mu_);
    if (!started_) return FailedPreconditionError("the price feed service is not started");
    if (leading_) return Status();
    feeds_.clear();  // Load brings back the live ones, with the state the last leader stored
  }
  {
    std::lock_guard commit(commit_mu_);
    RETURN_IF_ERROR(Load());
  }
  leading_ = true;
  cv_.notify_all();
  log::Info("price feed: running the rounds", {});
  return Status();
}

void PriceFeedService::Stop() {
  metrics::PriceFeed().staleness.RemoveCallbacks(this);
  metrics::PriceFeed().heartbeat.RemoveCallbacks(this);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (poller_.joinable()) poller_.join();
  work_.reset();  // waits for the rounds in flight
  std::lock_guard lock(watchers_mu_);
  for (auto& w : watchers_) w.writer->Finish(UnavailableError("the price feed service is stopping"));
  watchers_.clear();
}

Status PriceFeedService::Load() {
  ASSIGN_OR_RETURN(auto pair_rows, store_.Query("SELECT pair, round, report, status, reason FROM price_pairs"));
  std::lock_guard lock(mu_);
  for (const store::Row& row : pair_rows) {
    ASSIGN_OR_RETURN(std::string pair, row.Text(0));
    auto it = pairs_.find(pair);
    if (it == pairs_.end()) continue;  // no longer configured: kept in the store, not observed
    PairState& st = it->second;
    ASSIGN_OR_RETURN(st.round, row.Int(1));
    if (!row.IsNull(2)) {
      ASSIGN_OR_RETURN(store::Blob blob, row.Bytes(2));
      ASSIGN_OR_RETURN(st.report, Parsed<pricefeedpb::PriceReport>(blob, "price report"));
    }
    ASSIGN_OR_RETURN(std::string status, row.Text(3));
    st.degraded = status == "degraded";
    ASSIGN_OR_RETURN(st.reason, row.Text(4));
  }
  ASSIGN_OR_RETURN(auto feed_rows, store_.Query(kLiveFeeds));
  for (const store::Row& row : feed_rows) {
    ASSIGN_OR_RETURN(FeedEntry f, ParseFeed(row));
    if (!pairs_.count(f.pair)) {
      log::Warn("a feed follows a pair that is no longer configured; it is idle", {{"feed", f.id}, {"pair", f.pair}});
    }
    feeds_[f.id] = std::move(f);
  }
  // A feed whose last update failed publishes its next round. The outbox records a failure
  // before it tells the listener, which marks the feed; a stop between the two loses the mark,
  // so it is found again here.
  ASSIGN_OR_RETURN(auto failed_rows,
                   store_.Query("SELECT f.id FROM price_feeds f JOIN price_updates u ON u.feed_id = f.id AND "
                                "u.round = f.last_round JOIN chain_outbox o ON o.item_key = u.outbox_key "
                                "WHERE f.deleted_at_ms IS NULL AND o.state IN ('failed', 'fault')"));
  for (const store::Row& row : failed_rows) {
    ASSIGN_OR_RETURN(std::string id, row.Text(0));
    if (auto it = feeds_.find(id); it != feeds_.end()) it->second.state.republish = true;
  }
  return Status();
}

StatusOr<PriceFeedService::FeedEntry> PriceFeedService::ParseFeed(const store::Row& row) const {
  FeedEntry f;
  ASSIGN_OR_RETURN(f.id, row.Text(0));
  ASSIGN_OR_RETURN(f.account, row.Text(1));
  ASSIGN_OR_RETURN(f.pair, row.Text(2));
  ASSIGN_OR_RETURN(store::Blob blob, row.Bytes(3));
  ASSIGN_OR_RETURN(auto config, Parsed<pricefeedpb::Feed>(blob, "feed"));
  f.policy.deviation_bps = config.deviation_bps();
  f.policy.hysteresis_bps = config.hysteresis_bps();
  f.policy.heartbeat_ms = int64_t(config.heartbeat_s()) * 1000;
  if (config.has_target()) {
    f.target_contract = config.target().contract();
    f.target_method = config.target().method();
  }
  ASSIGN_OR_RETURN(auto last_round, row.OptionalInt(4));
  f.last_round = last_round.value_or(0);
  ASSIGN_OR_RETURN(f.state.last_price, row.OptionalInt(5));
  ASSIGN_OR_RETURN(auto published, row.OptionalInt(6));
  f.state.last_published_ms = published.value_or(0);
  ASSIGN_OR_RETURN(int64_t direction, row.Int(7));
  f.state.last_direction = int(direction);
  ASSIGN_OR_RETURN(int64_t republish, row.Int(8));
  f.state.republish = republish != 0;
  return f;
}

Status PriceFeedService::SyncFeeds() {
  // Under the commit lock: no round is between copying the feeds and writing them back. Every
  // poll interval, so only the ids are read; a feed is parsed once, when it is new here.
  std::lock_guard commit(commit_mu_);
  ASSIGN_OR_RETURN(auto rows, store_.Query("SELECT id FROM price_feeds WHERE deleted_at_ms IS NULL"));
  std::set<std::string> live;
  for (const store::Row& row : rows) {
    ASSIGN_OR_RETURN(std::string id, row.Text(0));
    live.insert(std::move(id));
  }
  std::vector<std::string> added;
  {
    std::lock_guard lock(mu_);
    std::erase_if(feeds_, [&live](const auto& entry) { return live.count(entry.first) == 0; });
    for (const std::string& id : live) {
      if (feeds_.count(id) == 0) added.push_back(id);  // a known feed keeps its state
    }
  }
  for (const std::string& id : added) {
    ASSIGN_OR_RETURN(auto found, store_.Query(std::string(kLiveFeeds) + " AND id = ?", {id}));
    if (found.empty()) continue;  // deleted since
    ASSIGN_OR_RETURN(FeedEntry f, ParseFeed(found[0]));
    std::lock_guard lock(mu_);
    feeds_.emplace(id, std::move(f));
  }
  return Status();
}

Status PriceFeedService::Refresh() {
  ASSIGN_OR_RETURN(auto rows, store_.Query("SELECT pair, round, report, status, reason FROM price_pairs"));
  std::vector<pricefeedpb::PriceReport> fresh;
  {
    std::lock_guard lock(mu_);
    for (const store::Row& row : rows) {
      ASSIGN_OR_RETURN(std::string pair, row.Text(0));
      auto it = pairs_.find(pair);
      if (it == pairs_.end()) continue;
      PairState& st = it->second;
      ASSIGN_OR_RETURN(int64_t round, row.Int(1));
      ASSIGN_OR_RETURN(std::string status, row.Text(3));
      ASSIGN_OR_RETURN(std::string reason, row.Text(4));
      const bool degraded = status == "degraded";
      if (round == st.round && degraded == st.degraded && reason == st.reason) continue;
      if (round != st.round && !row.IsNull(2)) {
        ASSIGN_OR_RETURN(store::Blob blob, row.Bytes(2));
        ASSIGN_OR_RETURN(st.report, Parsed<pricefeedpb::PriceReport>(blob, "price report"));
      }
      st.round = round;
      st.degraded = degraded;
      st.reason = std::move(reason);
      fresh.push_back(Shown(st, pair));
    }
  }
  for (const auto& report : fresh) Publish(report);
  return SyncFeeds();
}

std::set<std::string> PriceFeedService::Followed() {
  std::set<std::string> followed;
  for (const auto& [id, f] : feeds_) followed.insert(f.pair);
  std::lock_guard lock(watchers_mu_);
  std::erase_if(watchers_, [](const Watcher& w) { return w.writer->done(); });
  for (const Watcher& w : watchers_) {
    if (!w.pair.empty()) followed.insert(w.pair);
  }
  return followed;
}

std::vector<std::string> PriceFeedService::ClaimDue() {
  const std::set<std::string> followed = Followed();
  const auto now = clock_.SteadyNow();
  std::vector<std::string> due;
  for (auto& [pair, st] : pairs_) {
    if (st.in_flight || (!followed.count(pair) && st.watched_until < now)) continue;
    st.in_flight = true;
    due.push_back(pair);
  }
  return due;
}

std::function<void()> PriceFeedService::RoundTask(const std::string& pair) {
  return [this, pair] {
    if (Status s = RunRound(pair); !s.ok()) log::Warn("price round failed", {{"pair", pair}, {"error", s.ToString()}});
  };
}

void PriceFeedService::PollLoop() {
  auto next = clock_.SteadyNow();
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const auto now = clock_.SteadyNow();
    if (now >= next) {
      // Every replica looks for feeds made through the others; a follower also for the rounds.
      lock.unlock();
      const Status synced = leading_ ? SyncFeeds() : Refresh();
      if (!synced.ok()) log::Warn("price feed: reading the store failed", {{"error", synced.ToString()}});
      lock.lock();
      if (stopping_) break;
      if (leading_) {
        for (const std::string& pair : ClaimDue()) {
          if (!work_->TrySubmit(RoundTask(pair))) pairs_.at(pair).in_flight = false;
        }
      }
      // The next tick on the grid; a tick missed by a slow round is skipped, not bunched up.
      next += options_.poll_interval;
      if (next <= now) next = now + options_.poll_interval;
    }
    cv_.wait_for(lock, next - clock_.SteadyNow(), [this] { return stopping_; });
  }
}

void PriceFeedService::PollOnce() {
  if (Status s = SyncFeeds(); !s.ok()) log::Warn("price feed: reading the feeds failed", {{"error", s.ToString()}});
  std::vector<std::string> started;
  {
    std::lock_guard lock(mu_);
    started = ClaimDue();
  }
  for (const std::string& pair : started) work_->Submit(RoundTask(pair));
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] {
    return std::none_of(started.begin(), started.end(), [&](const std::string& p) { return pairs_[p].in_flight; });
  });
}

Status PriceFeedService::ObservePair(const std::string& pair) {
  {
    std::lock_guard lock(mu_);
    auto it = pairs_.find(pair);
    if (it == pairs_.end()) return NotFoundError("pair " + pair + " is not configured");
    if (it->second.in_flight) return AbortedError("a round of " + pair + " is in flight");
    it->second.in_flight = true;
  }
  return RunRound(pair);
}

Status PriceFeedService::RunRound(const std::string& pair) {
  int64_t round = 0;
  v1::PriceObserveRequest req;
  {
    std::lock_guard lock(mu_);
    PairState& st = pairs_.at(pair);
    round = st.round + 1;
    req.set_pair(pair);
    req.set_decimals(uint32_t(st.config->decimals));
    req.set_round(uint64_t(round));
    for (const auto& s : st.config->sources) *req.add_sources() = s;
  }
  req.set_timeout_ms(uint32_t(options_.timeout.count()));
  req.set_max_age_ms(options_.max_age_ms);
  req.set_quorum(std::min<uint32_t>(options_.quorum, uint32_t(req.sources_size())));
  req.set_mad_k_milli(options_.mad_k_milli);
  req.set_outlier_floor_bps(options_.outlier_floor_bps);
  req.set_volume_weighted(options_.volume_weighted);

  auto observed = enclave_.observe(req);
  if (!observed.ok()) {
    // No round without the enclave: the pair is degraded like a round without its quorum.
    log::Warn("price round failed in the enclave", {{"pair", pair}, {"error", observed.status().ToString()}});
    v1::PriceObserveResponse failed;
    failed.set_reason("the enclave could not run the round: " + observed.status().ToString());
    observed = std::move(failed);
  }
  Status s = Commit(pair, round, *observed);
  for (const auto& src : observed->sources()) metrics::PriceFeed().venue_quotes.Inc({src.venue(), src.status()});
  metrics::PriceFeed().rounds.Inc({pair, !s.ok() ? "error" : observed->ok() ? "ok" : "degraded"});
  {
    std::lock_guard lock(mu_);
    PairState& st = pairs_.at(pair);
    st.in_flight = false;
    st.observed_at = clock_.SteadyNow();
    ++stats_.rounds;
  }
  cv_.notify_all();
  return s;
}

StatusOr<std::vector<uint8_t>> PriceFeedService::UpdateScript(const FeedEntry& feed,
                                                              const v1::PriceObserveResponse& observed,
                                                              const std::string& pair, int64_t round,
                                                              uint32_t decimals) const {
  ASSIGN_OR_RETURN(neo::UInt160 contract, neo::UInt160::Parse(*feed.target_contract));
  ASSIGN_OR_RETURN(neo::ContractParam pair_param, neo::ContractParam::String(pair));
  const std::string& sig = observed.chain_signature();
  neo::ScriptBuilder sb;
  sb.EmitContractCall(
      contract, feed.target_method, neo::CallFlags::All,
      {std::move(pair_param), neo::ContractParam::Int(observed.price()), neo::ContractParam::Int(int64_t(decimals)),
       neo::ContractParam::Int(observed.timestamp_ms()), neo::ContractParam::Int(round),
       neo::ContractParam::Bytes(std::vector<uint8_t>(sig.begin(), sig.end()))});
  return sb.Take();
}

Status PriceFeedService::Commit(const std::string& pair, int64_t round, const v1::PriceObserveResponse& observed) {
  std::lock_guard commit(commit_mu_);
  const int64_t now_ms = clock_.NowUnixMillis();
  uint32_t decimals = 0;
  std::vector<FeedEntry> feeds;
  bool was_degraded = false;
  {
    std::lock_guard lock(mu_);
    const PairState& st = pairs_.at(pair);
    decimals = uint32_t(st.config->decimals);
    was_degraded = st.degraded;
    for (const auto& [id, f] : feeds_) {
      if (f.pair == pair) feeds.push_back(f);
    }
  }

  pricefeedpb::PriceReport report;
  report.set_pair(pair);
  report.set_decimals(decimals);
  for (const auto& src : observed.sources()) {
    auto* q = report.add_quotes();
    q->set_venue(src.venue());
    q->set_status(src.status());
    q->set_reason(src.reason());
    if (src.has_quote()) {
      q->set_price(pricefeed::FormatDecimal(src.price(), int(decimals)));
      q->set_as_of(FormatRfc3339Millis(src.timestamp_ms()));
    }
    if (src.status() == "used") report.add_sources(src.venue());
  }

  if (!observed.ok()) {
    const Status written =
        store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
          ASSIGN_OR_RETURN(
              int64_t changed,
              tx.Exec("UPDATE price_pairs SET status = 'degraded', reason = ?, updated_at_ms = ? WHERE pair = ?",
                      {observed.reason(), now_ms, pair}));
          if (changed == 0) {
            RETURN_IF_ERROR(tx.Exec("INSERT INTO price_pairs (pair, round, report, status, reason, updated_at_ms) "
                                    "VALUES (?, 0, NULL, 'degraded', ?, ?)",
                                    {pair, observed.reason(), now_ms})
                                .status());
          }
          return Status();
        });
    RETURN_IF_ERROR(written);
    pricefeedpb::PriceReport shown;
    {
      std::lock_guard lock(mu_);
      PairState& st = pairs_.at(pair);
      st.degraded = true;
      st.reason = observed.reason();
      st.degraded_quotes = report.quotes();
      ++stats_.degraded;
      shown = Shown(st, pair);
    }
    if (!was_degraded) {
      log::Warn("price feed degraded: no quorum, not publishing", {{"pair", pair}, {"reason", observed.reason()}});
      Publish(shown);
    }
    return Status();
  }

  report.set_price(observed.price());
  report.set_price_decimal(pricefeed::FormatDecimal(observed.price(), int(decimals)));
  report.set_timestamp_ms(observed.timestamp_ms());
  report.set_timestamp(FormatRfc3339Millis(observed.timestamp_ms()));
  report.set_round(uint64_t(round));
  report.set_record(Hex(observed.record()));
  report.set_signature(Hex(observed.signature()));
  report.set_chain_signature(Hex(observed.chain_signature()));
  report.set_public_key(report_key_hex_);
  report.set_status("ok");
  report.set_has_report(true);

  std::vector<Publication> publications;
  for (FeedEntry& f : feeds) {
    if (round <= f.last_round) continue;  // never a round twice, nor an older one
    Decision d = pricefeed::Decide(f.policy, f.state, observed.price(), observed.timestamp_ms());
    if (!d.publish()) continue;
    // A feed with a target publishes nothing where there is no chain to send to (role
    // pricefeed): it waits, rather than record updates that never go out.
    if (f.target_contract && outbox_ == nullptr) continue;
    Publication p{&f, d, std::nullopt, {}};
    if (f.target_contract) p.outbox_key = "pricefeed:" + f.id + ":" + std::to_string(round);
    publications.push_back(std::move(p));
  }
  ReserveUpdates(round, &publications);

  const std::string report_bytes = Serialized(report);
  std::set<std::string> gone;  // feeds deleted meanwhile (by another process): nothing was written for them
  const Status written = store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    gone.clear();  // a retried transaction starts over
    ASSIGN_OR_RETURN(
        int64_t changed,
        tx.Exec("UPDATE price_pairs SET round = ?, report = ?, status = 'ok', reason = '', updated_at_ms = ? "
                "WHERE pair = ?",
                {round, AsBlob(report_bytes), now_ms, pair}));
    if (changed == 0) {
      RETURN_IF_ERROR(tx.Exec("INSERT INTO price_pairs (pair, round, report, status, reason, updated_at_ms) "
                              "VALUES (?, ?, ?, 'ok', '', ?)",
                              {pair, round, AsBlob(report_bytes), now_ms})
                          .status());
    }
    for (const Publication& p : publications) {
      const FeedState next = pricefeed::Published(p.feed->state, p.decision, observed.price(), observed.timestamp_ms());
      ASSIGN_OR_RETURN(
          int64_t live,
          tx.Exec("UPDATE price_feeds SET last_round = ?, last_price = ?, last_published_ms = ?, "
                  "last_direction = ?, republish = 0, updates = updates + 1 "
                  "WHERE id = ? AND deleted_at_ms IS NULL",
                  {round, observed.price(), observed.timestamp_ms(), int64_t(next.last_direction), p.feed->id}));
      if (live == 0) {
        gone.insert(p.feed->id);
        continue;
      }
      RETURN_IF_ERROR(
          tx.Exec("INSERT INTO price_updates (feed_id, round, cause, report, outbox_key, created_at_ms) "
                  "VALUES (?, ?, ?, ?, ?, ?)",
                  {p.feed->id, round, std::string(pricefeed::TriggerName(p.decision.trigger)), AsBlob(report_bytes),
                   p.outbox_key ? store::Value(*p.outbox_key) : store::Null(), now_ms})
              .status());
      if (p.outbox_key) {
        ASSIGN_OR_RETURN(auto script, UpdateScript(*p.feed, observed, pair, round, decimals));
        chain_tx::OutboxItem item;
        item.key = *p.outbox_key;
        item.owner = std::string(kOutboxOwner);
        item.account_id = p.feed->account;
        item.script = std::move(script);
        item.valid_for_blocks = options_.valid_for_blocks;
        item.max_attempts = 1;  // an expired update is superseded by the next round, not resent
        if (p.hold.charged()) item.max_fee = options_.max_update_fee;  // what the hold covers
        RETURN_IF_ERROR(chain_tx::Outbox::Enqueue(tx, item, now_ms).status());
      }
    }
    return Status();
  });
  SettleRecorded(publications, gone, written.ok());
  RETURN_IF_ERROR(written);

  {
    std::lock_guard lock(mu_);
    PairState& st = pairs_.at(pair);
    st.round = round;
    st.report = report;
    st.degraded = false;
    st.reason.clear();
    st.degraded_quotes.Clear();
    for (const std::string& id : gone) feeds_.erase(id);
    std::erase_if(publications, [&](const Publication& p) { return gone.count(p.feed->id) > 0; });
    for (const Publication& p : publications) {
      auto it = feeds_.find(p.feed->id);
      if (it == feeds_.end()) continue;
      it->second.state = pricefeed::Published(it->second.state, p.decision, observed.price(), observed.timestamp_ms());
      it->second.last_round = round;
      ++stats_.updates;
    }
  }
  if (was_degraded) log::Info("price feed recovered its quorum", {{"pair", pair}, {"round", std::to_string(round)}});
  for (const Publication& p : publications) {
    metrics::PriceFeed().updates.Inc({pair, pricefeed::TriggerName(p.decision.trigger)});
    log::Info("price update", {{"feed", p.feed->id},
                               {"pair", pair},
                               {"round", std::to_string(round)},
                               {"price", report.price_decimal()},
                               {"trigger", std::string(pricefeed::TriggerName(p.decision.trigger))},
                               {"deviation_bps", std::to_string(p.decision.deviation_bps)}});
  }
  if (outbox_ != nullptr && std::any_of(publications.begin(), publications.end(),
                                        [](const Publication& p) { return p.outbox_key.has_value(); })) {
    outbox_->Wake();
  }
  Publish(report);
  return Status();
}

chain_tx::Outbox::Listener PriceFeedService::Listener() {
  return [this](const chain_tx::OutboxRecord& record) {
    SettleSent(record);
    if (record.state == chain_tx::OutboxState::kHalt) return;
    // "pricefeed:<feed>:<round>": the feed publishes its next round whatever the price did.
    const size_t first = record.key.find(':');
    const size_t last = record.key.rfind(':');
    if (first == std::string::npos || last <= first) return;
    const std::string feed_id = record.key.substr(first + 1, last - first - 1);
    log::Warn(
        "price update transaction did not succeed; the next round is published",
        {{"feed", feed_id}, {"state", std::string(chain_tx::OutboxStateName(record.state))}, {"error", record.error}});
    std::lock_guard commit(commit_mu_);
    Status s = store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
      return tx.Exec("UPDATE price_feeds SET republish = 1 WHERE id = ?", {feed_id}).status();
    });
    if (!s.ok()) log::Warn("could not mark a feed to republish", {{"feed", feed_id}, {"error", s.ToString()}});
    std::lock_guard lock(mu_);
    if (auto it = feeds_.find(feed_id); it != feeds_.end()) it->second.state.republish = true;
  };
}

PriceFeedService::Stats PriceFeedService::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

pricefeedpb::PriceReport PriceFeedService::Shown(const PairState& st, const std::string& pair) const {
  pricefeedpb::PriceReport out;
  if (st.report) {
    out = *st.report;
  } else {
    out.set_pair(pair);
    out.set_decimals(uint32_t(st.config->decimals));
    out.set_public_key(report_key_hex_);
  }
  if (st.degraded && !st.degraded_quotes.empty()) *out.mutable_quotes() = st.degraded_quotes;
  out.set_status(st.degraded ? "degraded" : "ok");
  out.set_reason(st.reason);
  out.set_has_report(st.report.has_value());
  return out;
}

void PriceFeedService::Publish(const pricefeedpb::PriceReport& report) {
  std::lock_guard lock(watchers_mu_);
  std::erase_if(watchers_, [](const Watcher& w) { return w.writer->done(); });
  for (const Watcher& w : watchers_) {
    if (w.pair.empty() || w.pair == report.pair()) w.writer->Write(report);
  }
}

}  // namespace neosl::services
