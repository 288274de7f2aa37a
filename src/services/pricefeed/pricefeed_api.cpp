// PriceFeedService's RPCs (pricefeed_service.h): prices as the rounds left them, and the
// account's feeds.
#include <algorithm>
#include <cctype>
#include <utility>

#include "core/encoding.h"
#include "core/ids.h"
#include "core/log.h"
#include "neo/uint.h"
#include "services/pricefeed/decimal.h"
#include "services/pricefeed/observe.h"
#include "services/pricefeed/pricefeed_internal.h"
#include "services/pricefeed/pricefeed_service.h"

namespace neosl::services {
namespace {

using pricefeed::FeedPolicy;
using pricefeed_internal::AsBlob;
using pricefeed_internal::CallerAccount;
using pricefeed_internal::NoFeed;
using pricefeed_internal::Parsed;
using pricefeed_internal::Serialized;

constexpr std::string_view kDefaultMethod = "updatePrice";
constexpr size_t kMaxMethodBytes = 32;
constexpr uint32_t kMaxDeviationBps = 10'000;
constexpr uint32_t kMaxHeartbeatS = 7 * 24 * 3600;
constexpr int kRecentUpdates = 10;

}  // namespace

StatusOr<std::string> PriceFeedService::NormalizePair(const std::string& text) const {
  std::string pair;
  for (char c : text) {
    if (c == '-' || c == '_') c = '/';
    pair += char(std::toupper(static_cast<unsigned char>(c)));
  }
  if (!pricefeed::IsPairName(pair)) {
    return FieldViolationError("pair", "pair must look like NEO/USD (or NEO-USD, NEO_USD)");
  }
  if (!pairs_.count(pair)) {
    std::string known;
    for (const auto& [p, st] : pairs_) known += (known.empty() ? "" : ", ") + p;
    return NotFoundError("pair " + pair + " is not observed here (pairs: " + known + ")")
        .WithDetail(ErrorDetail{"ResourceInfo", {}}.Add("resource_type", "pair").Add("resource_name", pair));
  }
  return pair;
}

grpc::ServerUnaryReactor* PriceFeedService::GetPrice(grpc::CallbackServerContext* ctx,
                                                     const pricefeedpb::GetPriceRequest* request,
                                                     pricefeedpb::PriceReport* response) {
  return pipeline_.UnaryAsync(
      ctx, kIdentity, "GetPrice",
      [this, request, response](const std::shared_ptr<const mesh::CallContext>& call,
                                const mesh::Pipeline::Done& done) {
        (void)call;
        auto pair = NormalizePair(request->pair());
        if (!pair.ok()) return done(pair.status());
        bool observe = false;
        {
          std::lock_guard lock(mu_);
          PairState& st = pairs_.at(*pair);
          const auto now = clock_.SteadyNow();
          st.watched_until = std::max(st.watched_until, now + options_.watch_ttl);
          // Nobody has followed it lately: its latest report may be old. One round now, and the
          // poller keeps it fresh from here on. Only where the rounds run: a follower answers
          // with what the leader stored (rounds of two replicas would reuse round numbers).
          const bool fresh = st.observed_at.time_since_epoch().count() != 0 &&
                             now - st.observed_at <= 2 * options_.poll_interval + options_.timeout;
          if (!fresh && !st.in_flight && leading_) {
            st.in_flight = true;
            observe = true;
          }
        }
        auto answer = [this, pair = *pair, response, done](const Status& round_status) {
          std::lock_guard lock(mu_);
          const PairState& st = pairs_.at(pair);
          if (!st.report) {
            if (!round_status.ok())
              return done(UnavailableError("no price for " + pair + " yet: " + std::string(round_status.message())));
            return done(
                UnavailableError("no price for " + pair + " yet: " +
                                 (st.reason.empty() ? std::string("its first round has not finished") : st.reason))
                    .WithDetail(ErrorDetail{"RetryInfo", {}}.Add("retry_delay_ms",
                                                                 std::to_string(options_.poll_interval.count()))));
          }
          *response = Shown(st, pair);
          done(Status());
        };
        if (!observe) return answer(Status());
        const bool queued = work_->TrySubmit([this, pair = *pair, answer] { answer(RunRound(pair)); });
        if (!queued) {
          {
            std::lock_guard lock(mu_);
            pairs_.at(*pair).in_flight = false;
          }
          answer(Status());
        }
      });
}

grpc::ServerUnaryReactor* PriceFeedService::ListPrices(grpc::CallbackServerContext* ctx,
                                                       const pricefeedpb::ListPricesRequest* /*request*/,
                                                       pricefeedpb::ListPricesResponse* response) {
  return pipeline_.Unary(ctx, kIdentity, "ListPrices", [&](const mesh::CallContext&) -> Status {
    std::lock_guard lock(mu_);
    for (const auto& [pair, st] : pairs_) *response->add_prices() = Shown(st, pair);
    return Status();
  });
}

grpc::ServerUnaryReactor* PriceFeedService::CreateFeed(grpc::CallbackServerContext* ctx,
                                                       const pricefeedpb::CreateFeedRequest* request,
                                                       pricefeedpb::Feed* response) {
  return pipeline_.Unary(ctx, kIdentity, "CreateFeed", [&](const mesh::CallContext& call) -> Status {
    ASSIGN_OR_RETURN(AccountId account, CallerAccount(call));
    ASSIGN_OR_RETURN(*response, AddFeed(account.str(), *request));
    return Status();
  });
}

StatusOr<pricefeedpb::Feed> PriceFeedService::AddFeed(const std::string& account,
                                                      const pricefeedpb::CreateFeedRequest& request) {
  ASSIGN_OR_RETURN(std::string pair, NormalizePair(request.pair()));
  const uint32_t deviation = request.deviation_bps() == 0 ? options_.default_deviation_bps : request.deviation_bps();
  if (deviation > kMaxDeviationBps) {
    return FieldViolationError("deviation_bps", "deviation_bps must be 1 to 10000 (0: the default, " +
                                                    std::to_string(options_.default_deviation_bps) + ")");
  }
  const uint32_t hysteresis = request.has_hysteresis_bps() ? request.hysteresis_bps() : deviation / 2;
  if (hysteresis > kMaxDeviationBps) return FieldViolationError("hysteresis_bps", "hysteresis_bps must be 0 to 10000");
  const uint32_t heartbeat = request.heartbeat_s() == 0 ? options_.default_heartbeat_s : request.heartbeat_s();
  if (heartbeat > kMaxHeartbeatS) {
    return FieldViolationError("heartbeat_s", "heartbeat_s must be 1 to 604800 (a week; 0: the default, " +
                                                  std::to_string(options_.default_heartbeat_s) + ")");
  }
  pricefeedpb::Feed config;
  config.set_pair(pair);
  config.set_deviation_bps(deviation);
  config.set_hysteresis_bps(hysteresis);
  config.set_heartbeat_s(heartbeat);
  if (request.has_target()) {
    const pricefeedpb::Target& t = request.target();
    auto contract = neo::UInt160::Parse(t.contract());
    if (!contract.ok()) {
      return FieldViolationError("target.contract",
                                 "target.contract must be a script hash like 0x followed by 40 hex digits");
    }
    std::string method = t.method().empty() ? std::string(kDefaultMethod) : t.method();
    if (method.size() > kMaxMethodBytes || method[0] == '_' || !std::all_of(method.begin(), method.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
        })) {
      return FieldViolationError("target.method",
                                 "target.method must be 1 to 32 letters, digits or _, not starting with _");
    }
    if (outbox_ == nullptr) {
      return FailedPreconditionError("this deployment publishes to no chain: create the feed without a target");
    }
    config.mutable_target()->set_contract(contract->ToString());
    config.mutable_target()->set_method(method);
  }
  const std::string id = FeedId::Generate(random_).str();
  const int64_t now_ms = clock_.NowUnixMillis();
  config.set_feed_id(id);
  config.set_created_at(FormatRfc3339Millis(now_ms));
  std::lock_guard commit(commit_mu_);
  const Status written = store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(store::Row count, tx.QueryOne("SELECT COUNT(*) FROM price_feeds WHERE account_id = ? AND "
                                                   "deleted_at_ms IS NULL",
                                                   {account}));
    ASSIGN_OR_RETURN(int64_t n, count.Int(0));
    if (size_t(n) >= options_.max_feeds_per_account) {
      return ResourceExhaustedError("at most " + std::to_string(options_.max_feeds_per_account) +
                                    " feeds per account (pricefeed.max_feeds_per_account)")
          .WithDetail(ErrorDetail{"QuotaFailure", {}}.Add("resource", "feeds per account"));
    }
    return tx
        .Exec("INSERT INTO price_feeds (id, account_id, pair, config, created_at_ms) VALUES (?, ?, ?, ?, ?)",
              {id, account, pair, AsBlob(Serialized(config)), now_ms})
        .status();
  });
  RETURN_IF_ERROR(written);
  FeedEntry f;
  f.id = id;
  f.account = account;
  f.pair = pair;
  f.policy = FeedPolicy{int64_t(deviation), int64_t(hysteresis), int64_t(heartbeat) * 1000};
  if (config.has_target()) {
    f.target_contract = config.target().contract();
    f.target_method = config.target().method();
  }
  {
    std::lock_guard lock(mu_);
    feeds_[id] = f;
  }
  log::Info("feed created", {{"feed", id}, {"pair", pair}, {"account", account}});
  return ShowFeed(id, account);
}

StatusOr<pricefeedpb::Feed> PriceFeedService::ShowFeed(const std::string& id, const std::string& account) {
  ASSIGN_OR_RETURN(auto rows, store_.Query("SELECT config, last_round, last_price, last_published_ms, updates, "
                                           "created_at_ms, deleted_at_ms, pair FROM price_feeds WHERE id = ? AND "
                                           "account_id = ?",
                                           {id, account}));
  if (rows.empty()) return NoFeed(id);
  const store::Row& row = rows[0];
  ASSIGN_OR_RETURN(store::Blob blob, row.Bytes(0));
  ASSIGN_OR_RETURN(pricefeedpb::Feed feed, Parsed<pricefeedpb::Feed>(blob, "feed"));
  ASSIGN_OR_RETURN(auto last_round, row.OptionalInt(1));
  ASSIGN_OR_RETURN(auto last_price, row.OptionalInt(2));
  ASSIGN_OR_RETURN(auto published, row.OptionalInt(3));
  ASSIGN_OR_RETURN(int64_t updates, row.Int(4));
  ASSIGN_OR_RETURN(int64_t created, row.Int(5));
  ASSIGN_OR_RETURN(auto deleted, row.OptionalInt(6));
  ASSIGN_OR_RETURN(std::string pair, row.Text(7));
  int decimals = 8;
  {
    std::lock_guard lock(mu_);
    if (auto it = pairs_.find(pair); it != pairs_.end()) {
      decimals = it->second.config->decimals;
      if (!deleted) {
        feed.set_status(it->second.degraded ? "degraded" : "active");
        feed.set_reason(it->second.reason);
      }
    } else if (!deleted) {
      feed.set_status("degraded");
      feed.set_reason("the pair is no longer configured here");
    }
  }
  if (!deleted && feed.has_target() && outbox_ == nullptr) {
    feed.set_status("degraded");
    feed.set_reason("this process publishes to no chain (it runs without one): updates wait");
  }
  if (!deleted && feed.status() == "active") {
    // The account could not pay for the update its last round decided: none is published until
    // it can (the next round that decides to publish tries again).
    std::lock_guard lock(mu_);
    if (auto it = feeds_.find(id); it != feeds_.end() && !it->second.unpaid.empty()) {
      feed.set_status("degraded");
      feed.set_reason(it->second.unpaid);
    }
  }
  feed.set_feed_id(id);
  if (deleted) {
    feed.set_status("deleted");
    feed.set_deleted_at(FormatRfc3339Millis(*deleted));
  }
  feed.set_last_round(uint64_t(last_round.value_or(0)));
  if (last_price) feed.set_last_price(pricefeed::FormatDecimal(*last_price, decimals));
  if (published) feed.set_last_published_at(FormatRfc3339Millis(*published));
  feed.set_updates(uint64_t(updates));
  feed.set_created_at(FormatRfc3339Millis(created));

  ASSIGN_OR_RETURN(auto updates_rows,
                   store_.Query("SELECT round, cause, report, outbox_key, created_at_ms FROM price_updates "
                                "WHERE feed_id = ? ORDER BY round DESC LIMIT " +
                                    std::to_string(kRecentUpdates),
                                {id}));
  for (const store::Row& u : updates_rows) {
    auto* out = feed.add_recent_updates();
    ASSIGN_OR_RETURN(int64_t round, u.Int(0));
    ASSIGN_OR_RETURN(std::string cause, u.Text(1));
    ASSIGN_OR_RETURN(store::Blob report_blob, u.Bytes(2));
    ASSIGN_OR_RETURN(auto report, Parsed<pricefeedpb::PriceReport>(report_blob, "price report"));
    ASSIGN_OR_RETURN(auto key, u.OptionalText(3));
    ASSIGN_OR_RETURN(int64_t at, u.Int(4));
    out->set_round(uint64_t(round));
    out->set_trigger(cause);
    out->set_price(report.price());
    out->set_price_decimal(report.price_decimal());
    out->set_timestamp(report.timestamp());
    out->set_created_at(FormatRfc3339Millis(at));
    if (key) {
      auto tx = chain_tx::Outbox::Get(store_, *key);
      if (tx.ok()) {
        out->set_tx_state(std::string(chain_tx::OutboxStateName(tx->state)));
        if (tx->tx_hash) out->set_tx_hash(*tx->tx_hash);
        out->set_error(tx->error);
      }
    }
  }
  return feed;
}

grpc::ServerUnaryReactor* PriceFeedService::GetFeed(grpc::CallbackServerContext* ctx,
                                                    const pricefeedpb::GetFeedRequest* request,
                                                    pricefeedpb::Feed* response) {
  return pipeline_.Unary(ctx, kIdentity, "GetFeed", [&](const mesh::CallContext& call) -> Status {
    ASSIGN_OR_RETURN(AccountId account, CallerAccount(call));
    if (!FeedId::IsWellFormed(request->id())) {
      return FieldViolationError("id", "id must look like fd_ followed by 20 characters");
    }
    ASSIGN_OR_RETURN(*response, ShowFeed(request->id(), account.str()));
    return Status();
  });
}

grpc::ServerUnaryReactor* PriceFeedService::ListFeeds(grpc::CallbackServerContext* ctx,
                                                      const pricefeedpb::ListFeedsRequest* /*request*/,
                                                      pricefeedpb::ListFeedsResponse* response) {
  return pipeline_.Unary(ctx, kIdentity, "ListFeeds", [&](const mesh::CallContext& call) -> Status {
    ASSIGN_OR_RETURN(AccountId account, CallerAccount(call));
    ASSIGN_OR_RETURN(auto rows,
                     store_.Query("SELECT id FROM price_feeds WHERE account_id = ? AND deleted_at_ms IS NULL "
                                  "ORDER BY created_at_ms, id",
                                  {account.str()}));
    for (const store::Row& row : rows) {
      ASSIGN_OR_RETURN(std::string id, row.Text(0));
      ASSIGN_OR_RETURN(*response->add_feeds(), ShowFeed(id, account.str()));
    }
    return Status();
  });
}

grpc::ServerUnaryReactor* PriceFeedService::DeleteFeed(grpc::CallbackServerContext* ctx,
                                                       const pricefeedpb::DeleteFeedRequest* request,
                                                       pricefeedpb::Feed* response) {
  return pipeline_.Unary(ctx, kIdentity, "DeleteFeed", [&](const mesh::CallContext& call) -> Status {
    ASSIGN_OR_RETURN(AccountId account, CallerAccount(call));
    if (!FeedId::IsWellFormed(request->id())) {
      return FieldViolationError("id", "id must look like fd_ followed by 20 characters");
    }
    std::lock_guard commit(commit_mu_);
    int64_t changed = 0;
    const Status written =
        store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
          ASSIGN_OR_RETURN(changed,
                           tx.Exec("UPDATE price_feeds SET deleted_at_ms = ? WHERE id = ? AND account_id = ? AND "
                                   "deleted_at_ms IS NULL",
                                   {clock_.NowUnixMillis(), request->id(), account.str()}));
          return Status();
        });
    RETURN_IF_ERROR(written);
    if (changed == 0) return NoFeed(request->id());
    {
      std::lock_guard lock(mu_);
      feeds_.erase(request->id());
    }
    log::Info("feed deleted", {{"feed", request->id()}, {"account", account.str()}});
    ASSIGN_OR_RETURN(*response, ShowFeed(request->id(), account.str()));
    return Status();
  });
}

grpc::ServerWriteReactor<pricefeedpb::PriceReport>* PriceFeedService::WatchPrices(
    grpc::CallbackServerContext* ctx, const pricefeedpb::WatchPricesRequest* request) {
  return pipeline_.ServerStream<pricefeedpb::PriceReport>(
      ctx, kIdentity, "WatchPrices",
      [this, wanted = request->pair()](const std::shared_ptr<mesh::StreamWriter>& writer) {
        std::string pair;
        if (!wanted.empty()) {
          auto normalized = NormalizePair(wanted);
          if (!normalized.ok()) return writer->Finish(normalized.status());
          pair = *normalized;
          std::lock_guard lock(mu_);
          PairState& st = pairs_.at(pair);
          st.watched_until = std::max(st.watched_until, clock_.SteadyNow() + options_.watch_ttl);
        }
        std::lock_guard lock(watchers_mu_);
        std::erase_if(watchers_, [](const Watcher& w) { return w.writer->done(); });
        watchers_.push_back(Watcher{pair, writer});
      });
}

}  // namespace neosl::services
