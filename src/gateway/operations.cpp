#include "gateway/operations.h"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "core/encoding.h"
#include "core/ids.h"
#include "core/log.h"
#include "crypto/hash.h"
#include "gateway/accounts.h"
#include "gateway/json_schema.h"
#include "gateway/json_text.h"
#include "mesh/resilience.h"
#include "net/fetcher.h"
#include "net/webhook_url.h"

namespace neosl::gateway {
namespace json = boost::json;

namespace {

constexpr std::string_view kAsyncField = "async";
constexpr std::string_view kWebhookField = "webhook_url";

// RFC 7240: Prefer is a comma-separated list of preferences, each possibly with parameters.
bool PrefersAsync(const HttpRequest& request) {
  std::string_view prefer = request.Header("prefer");
  while (!prefer.empty()) {
    size_t comma = prefer.find(',');
    std::string_view item = prefer.substr(0, comma);
    item = item.substr(0, item.find(';'));
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (EqualsIgnoreCase(item, "respond-async")) return true;
    if (comma == std::string_view::npos) break;
    prefer.remove_prefix(comma + 1);
  }
  return false;
}

// What Run needs to call the route again: everything a handler reads of a request.
json::object Snapshot(const RequestContext& ctx, const std::string& body) {
  json::array params;
  for (const auto& [name, value] : ctx.path_params)
    params.push_back(json::array{json::string(name), json::string(value)});
  json::array roles;
  for (Role r : ctx.principal->roles) roles.push_back(json::string(RoleName(r)));
  return json::object{{"method", ctx.http.method},
                      {"target", ctx.http.target},
                      {"path_params", std::move(params)},
                      {"body", body},
                      {"account", ctx.principal->account.str()},
                      {"key", ctx.principal->key.str()},
                      {"roles", std::move(roles)},
                      {"trace_id", ctx.trace_id}};
}

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// A stored JSON text as a value (a text that is not JSON, which the store never holds, as a string).
json::value AsJson(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value(json::string(text)) : v;
}

}  // namespace

std::string WebhookSecret(std::span<const uint8_t> webhook_key, const std::string& account) {
  const std::string label = std::string("neosl-webhook-secret-v1") + '\0' + account;
  const crypto::Digest256 d =
      crypto::HmacSha256(webhook_key, std::span(reinterpret_cast<const uint8_t*>(label.data()), label.size()));
  return "whsec_" + HexEncode(d);
}

std::string WebhookSignature(const std::string& secret, int64_t unix_seconds, std::string_view body) {
  const std::string signed_text = std::to_string(unix_seconds) + "." + std::string(body);
  const crypto::Digest256 d =
      crypto::HmacSha256(std::span(reinterpret_cast<const uint8_t*>(secret.data()), secret.size()),
                         std::span(reinterpret_cast<const uint8_t*>(signed_text.data()), signed_text.size()));
  return "t=" + std::to_string(unix_seconds) + ",v1=" + HexEncode(d);
}

boost::json::object RenderOperation(const OperationRecord& op) {
  json::object o{{"id", op.id},
                 {"kind", op.kind},
                 {"state", OperationStateName(op.state)},
                 {"done", IsFinal(op.state)},
                 {"attempts", op.attempts},
                 {"created_at", FormatRfc3339Millis(op.created_at_ms)}};
  if (op.started_at_ms) o["started_at"] = FormatRfc3339Millis(*op.started_at_ms);
  if (op.finished_at_ms) o["finished_at"] = FormatRfc3339Millis(*op.finished_at_ms);
  if (IsFinal(op.state)) o["http_status"] = op.http_status;
  if (op.state == OperationState::kSucceeded) o["result"] = AsJson(op.result_json);
  if (op.state == OperationState::kFailed || op.state == OperationState::kCancelled) o["error"] = AsJson(op.error_json);
  return o;
}

namespace {

// The webhook part of GET /v1/operations/{id}: its URL, state and attempts.
json::object RenderWebhook(const OperationRecord& op, const std::vector<DeliveryAttempt>& attempts) {
  json::array tried;
  for (const DeliveryAttempt& a : attempts) {
    json::object item{{"attempt", a.attempt},
                      {"at", FormatRfc3339Millis(a.at_ms)},
                      {"http_status", a.http_status},
                      {"duration_ms", a.duration_ms}};
    if (!a.error.empty()) item["error"] = a.error;
    tried.push_back(std::move(item));
  }
  json::object webhook{{"url", op.webhook_url},
                       {"state", op.webhook_state.empty() ? std::string("waiting") : op.webhook_state},
                       {"attempts", std::move(tried)}};
  if (op.webhook_next_at_ms && op.webhook_state == "pending") {
    webhook["next_attempt_at"] = FormatRfc3339Millis(*op.webhook_next_at_ms);
  }
  return webhook;
}

}  // namespace

struct Operations::Impl {
  struct Kind {
    Handler handler;  // the route's own
    bool resumable = false;
    // What Start needs to make the request a REST caller would have made.
    std::string method, path;
    Role role = Role::kOwner;
    SchemaPtr request;  // the route's own body schema (without async, webhook_url)
    std::function<bool(const json::value&)> withhold;
  };

  OperationStore& store;
  RandomSource& random;
  const Clock& clock;
  const OperationsOptions options;

  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, Kind, std::less<>> kinds;  // by operationId
  std::deque<std::string> queue;                   // ids accepted, not yet begun
  std::map<std::string, std::string> withheld;     // bodies kept out of the store, by id
  size_t in_flight = 0;                            // queued + running
  bool stopping = false;
  std::vector<std::thread> threads;
  std::condition_variable delivery_cv;  // a delivery may be due
  bool delivery_due = false;
  std::thread deliverer;
  std::condition_variable housekeeping_cv;  // an operation ended, or a watch began
  std::condition_variable ended_cv;         // an operation ended here (Wait)
  bool ended = false;
  bool recovered = false;  // Recover ran: adopting others' operations may begin
  bool beat_now = false;   // Recover ran: look for silent owners at once
  std::thread housekeeper;

  // A subscription of the `operations` channel.
  struct Watch {
    std::string account;
    std::string operation_id;  // "": every operation of the account
    std::shared_ptr<WsEmitter> emitter;
    int64_t since_ms = 0;  // ends from the subscription on
    // Ends sent in the last kLateMargin before the latest, by id: a replica's end may be stored
    // a little after a later one (commit order, clocks), so the margin is read again each time.
    std::map<std::string, int64_t> sent;
    int64_t latest_ms = 0;
    bool over = false;
  };
  static constexpr int64_t kLateMargin = 10'000;
  static constexpr size_t kWatchPage = 200;
  // Guards the watches; held while their emitters are called, so that a subscription's handle,
  // which takes it to leave, returns only once no call for it is running.
  std::mutex watch_mu;
  std::map<uint64_t, Watch> watches;
  uint64_t next_watch = 0;

  Impl(OperationStore& s, RandomSource& r, const Clock& c, OperationsOptions o)
      : store(s), random(r), clock(c), options(std::move(o)) {}

  void Start() {
    for (int i = 0; i < std::max(1, options.threads); ++i) threads.emplace_back([this] { Work(); });
    if (options.fetcher) deliverer = std::thread([this] { Deliver(); });
    housekeeper = std::thread([this] { Housekeep(); });
  }

  void Stop() {
    {
      std::lock_guard lock(mu);
      if (stopping && threads.empty() && !deliverer.joinable() && !housekeeper.joinable()) return;
      stopping = true;
    }
    cv.notify_all();
    delivery_cv.notify_all();
    housekeeping_cv.notify_all();
    ended_cv.notify_all();
    for (auto& t : threads) t.join();
    threads.clear();
    if (deliverer.joinable()) deliverer.join();
    if (housekeeper.joinable()) housekeeper.join();
    std::lock_guard lock(watch_mu);
    for (auto& [key, w] : watches) {
      if (!w.over) w.emitter->End(UnavailableError("the gateway is shutting down"));
      w.over = true;
    }
  }

  // A pending operation cancelled by `by` (a key id, or service:<identity>).
  StatusOr<OperationRecord> Cancel(const std::string& account, const std::string& id, const std::string& by) {
    const std::string error = json::serialize(ErrorObject(CancelledError("cancelled by " + by + " before it began")));
    ASSIGN_OR_RETURN(OperationRecord op, store.Cancel(account, id, error));
    if (!op.webhook_url.empty()) DeliveryDue();
    Ended();
    return op;
  }

  // An operation ended here (or a watch began): the watches look at once.
  void Ended() {
    {
      std::lock_guard lock(mu);
      ended = true;
    }
    housekeeping_cv.notify_all();
    ended_cv.notify_all();
  }

  // ---- the housekeeper: heartbeats, adoption, the `operations` channel ----

  void Housekeep() {
    const auto beat_every = std::max(std::chrono::milliseconds(100), options.orphan_after / 6);
    auto next_beat = clock.SteadyNow();
    bool beat = true;
    for (;;) {
      if (beat || clock.SteadyNow() >= next_beat) {
        Beat();
        next_beat = clock.SteadyNow() + beat_every;
      }
      ServeWatches();
      std::unique_lock lock(mu);
      const auto until_beat = std::chrono::duration_cast<std::chrono::milliseconds>(next_beat - clock.SteadyNow());
      housekeeping_cv.wait_for(lock, std::clamp(until_beat, std::chrono::milliseconds(1), options.stream_poll),
                               [&] { return stopping || ended || beat_now; });
      ended = false;
      beat = std::exchange(beat_now, false);
      if (stopping) return;
    }
  }

  // Says this gateway is alive; adopts what silent ones left (once Recover has run).
  void Beat() {
    if (Status s = store.Heartbeat(options.owner); !s.ok()) {
      log::Warn("operations heartbeat not stored", {{"error", s.ToString()}});
      return;
    }
    {
      std::lock_guard lock(mu);
      if (!recovered || options.orphan_after.count() <= 0) return;
    }
    const int64_t before = clock.NowUnixMillis() - options.orphan_after.count();
    auto silent = store.SilentOwners(options.owner, before);
    if (!silent.ok()) {
      log::Warn("operation owners not read", {{"error", silent.status().ToString()}});
      return;
    }
    for (const std::string& gone : *silent) {
      auto adopted = store.Adopt(options.owner, gone, before);
      if (!adopted.ok()) {
        log::Warn("operations not adopted", {{"from", gone}, {"error", adopted.status().ToString()}});
        continue;
      }
      size_t resumed = 0, failed = 0;
      for (const OperationRecord& op : *adopted) {
        if (Status s = Resume(op, "the gateway that ran it (" + gone + ") stopped while it ran", &resumed, &failed);
            !s.ok()) {
          log::Warn("adopted operation not resumed", {{"operation", op.id}, {"error", s.ToString()}});
        }
      }
      log::Info("operations adopted", {{"from", gone}, {"resumed", resumed}, {"failed", failed}});
      DeliveryDue();  // its deliveries are ours now too
    }
  }

  // A pending operation runs (again); a running one runs again when its kind is resumable, and
  // otherwise fails ABORTED, `why`.
  Status Resume(const OperationRecord& op, const std::string& why, size_t* resumed, size_t* failed) {
    bool resumable = false;
    {
      std::lock_guard lock(mu);
      auto it = kinds.find(op.kind);
      resumable = it != kinds.end() && it->second.resumable;
    }
    if (op.state == OperationState::kRunning && !resumable) {
      Status aborted = AbortedError(why + "; " + op.kind +
                                    " is not run twice, since what it did may not be undoable: check its effects "
                                    "(GET the resource) and call again");
      RETURN_IF_ERROR(store.Finish(op.id, OperationState::kFailed, HttpStatusFor(aborted.code()), "",
                                   json::serialize(ErrorObject(aborted))));
      *failed += 1;
      if (!op.webhook_url.empty()) DeliveryDue();
      Ended();
      return Status::Ok();
    }
    if (op.state == OperationState::kRunning) RETURN_IF_ERROR(store.Requeue(op.id));
    Enqueue(op.id);
    *resumed += 1;
    return Status::Ok();
  }

  // Sends each watch the ends it has not had. The store is read without the watches' lock, so
  // that a subscription leaving never waits for a query.
  void ServeWatches() {
    std::map<std::string, int64_t> accounts;                       // account → read ends from
    std::map<uint64_t, std::pair<std::string, std::string>> ones;  // key → (account, operation id)
    {
      std::lock_guard lock(watch_mu);
      for (const auto& [key, w] : watches) {
        if (w.over) continue;
        if (!w.operation_id.empty()) {
          ones.emplace(key, std::pair(w.account, w.operation_id));
          continue;
        }
        const int64_t from = std::max(w.since_ms, w.latest_ms - kLateMargin);
        auto [it, fresh] = accounts.emplace(w.account, from);
        if (!fresh) it->second = std::min(it->second, from);
      }
    }
    std::map<std::string, std::vector<OperationRecord>> ends;
    for (const auto& [account, from] : accounts) {
      std::vector<OperationRecord>& out = ends[account];
      // Page by page, each after the last end of the one before.
      int64_t after_ms = from - 1;
      std::string after_id;
      for (;;) {
        auto page = store.FinishedAfter(account, after_ms, after_id, kWatchPage);
        if (!page.ok()) {
          log::Warn("operation ends not read", {{"error", page.status().ToString()}});
          break;
        }
        const bool full = page->size() == kWatchPage;
        if (full) {
          after_ms = page->back().finished_at_ms.value_or(after_ms);
          after_id = page->back().id;
        }
        for (OperationRecord& op : *page) out.push_back(std::move(op));
        if (!full) break;
      }
    }
    std::map<uint64_t, StatusOr<OperationRecord>> looked;
    for (const auto& [key, one] : ones) looked.emplace(key, store.Get(one.first, one.second));

    std::lock_guard lock(watch_mu);
    for (auto& [key, w] : watches) {
      if (w.over) continue;
      if (auto it = looked.find(key); it != looked.end()) {
        Answer(w, it->second);
        continue;
      }
      auto it = ends.find(w.account);
      if (it == ends.end()) continue;  // subscribed since the reads
      Offer(w, it->second);
      const int64_t keep_from = w.latest_ms - kLateMargin;
      std::erase_if(w.sent, [&](const auto& kv) { return kv.second < keep_from; });
    }
  }

  void Offer(Watch& w, const std::vector<OperationRecord>& ends) {
    // Below the margin `sent` no longer remembers: those were sent, or were too late to be.
    const int64_t floor = std::max(w.since_ms, w.latest_ms - kLateMargin);
    for (const OperationRecord& op : ends) {
      if (w.over) return;
      const int64_t at = op.finished_at_ms.value_or(0);
      if (at < floor || w.sent.contains(op.id)) continue;
      w.sent.emplace(op.id, at);
      w.latest_ms = std::max(w.latest_ms, at);
      if (!w.emitter->Event(RenderOperation(op))) w.over = true;
    }
  }

  // One operation's watch, with what the store said of it.
  void Answer(Watch& w, const StatusOr<OperationRecord>& op) {
    if (!op.ok()) {
      if (op.status().code() == StatusCode::kNotFound) {
        w.emitter->End(op.status());
        w.over = true;
      }
      return;  // the store is down: the next look may see it
    }
    if (!IsFinal(op->state)) return;
    w.over = true;
    if (w.emitter->Event(RenderOperation(*op))) w.emitter->End(Status::Ok());
  }

  void DeliveryDue() {
    {
      std::lock_guard lock(mu);
      delivery_due = true;
    }
    delivery_cv.notify_all();
  }

  // ---- webhooks ----

  // INVALID_ARGUMENT naming webhook_url unless it is a URL the deliverer may POST to
  // (net/webhook_url.h).
  Status CheckWebhook(const std::string& url) const {
    if (!options.fetcher) return FailedPreconditionError("webhooks are not available on this gateway");
    net::WebhookUrlRules rules;
    rules.allow_http = options.allow_http_webhooks;
    rules.http_setting = "operations.allow_http_webhooks";
    rules.check_destination = options.check_destination;
    return net::CheckWebhookUrl(url, kWebhookField, rules);
  }

  void DeliverOne(const OperationRecord& op) {
    const int64_t attempt = op.webhook_attempts + 1;
    const std::string body = json::serialize(RenderOperation(op));
    const int64_t now_ms = clock.NowUnixMillis();
    const std::string secret = WebhookSecret(options.webhook_key.bytes(), op.account);
    net::FetchRequest request;
    request.method = "POST";
    request.url = op.webhook_url;
    request.headers = {{"content-type", "application/json"},
                       {"neosl-signature", WebhookSignature(secret, now_ms / 1000, body)},
                       {"neosl-operation", op.id},
                       {"neosl-delivery-attempt", std::to_string(attempt)}};
    request.body.assign(body.begin(), body.end());
    request.timeout = options.webhook_timeout;
    request.redirect = net::RedirectMode::kError;  // a redirect could lead anywhere: not followed
    const auto started = clock.SteadyNow();
    StatusOr<net::FetchResponse> answer = options.fetcher->Fetch(request);
    DeliveryAttempt a;
    a.attempt = attempt;
    a.at_ms = now_ms;
    a.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock.SteadyNow() - started).count();
    if (answer.ok()) a.http_status = answer->status;
    const bool delivered = answer.ok() && answer->status >= 200 && answer->status < 300;
    if (!delivered) {
      a.error = answer.ok() ? "answered HTTP " + std::to_string(answer->status) : answer.status().ToString();
    }
    std::string next_state = "delivered";
    std::optional<int64_t> next_at;
    if (!delivered) {
      const int64_t first = op.webhook_first_at_ms.value_or(now_ms);
      const mesh::BackoffPolicy policy{options.webhook_backoff, options.webhook_max_backoff, 2.0, 0.2};
      const int64_t at = now_ms + mesh::BackoffDelay(policy, int(std::min<int64_t>(attempt, 64)), random).count();
      if (at > first + options.webhook_retry_for.count()) {
        next_state = "failed";
      } else {
        next_state = "pending";
        next_at = at;
      }
    }
    Status recorded = store.RecordDelivery(op.id, a, next_state, next_at);
    if (!recorded.ok()) {
      log::Warn("webhook delivery not recorded", {{"operation", op.id}, {"error", recorded.ToString()}});
      return;
    }
    log::Info(delivered ? "webhook delivered" : "webhook attempt failed",
              {{"operation", op.id}, {"attempt", attempt}, {"status", a.http_status}, {"next", next_state}});
  }

  // The deliverer: what is due, then a wait until the next is (at most a second: another replica
  // or a restart may have made one due), or until an operation ends. One query a round.
  void Deliver() {
    constexpr size_t kRound = 16;
    for (;;) {
      auto pending = store.PendingDeliveries(options.owner, kRound);
      size_t delivered = 0;
      std::chrono::milliseconds wait(1000);
      if (pending.ok()) {
        for (const OperationRecord& op : *pending) {
          const int64_t now = clock.NowUnixMillis();
          const int64_t due = op.webhook_next_at_ms.value_or(now);
          if (due > now) {  // soonest first: the rest are later still
            wait = std::min(wait, std::chrono::milliseconds(due - now));
            break;
          }
          {
            std::lock_guard lock(mu);
            if (stopping) return;
          }
          DeliverOne(op);
          delivered += 1;
        }
      } else {
        log::Warn("webhook deliveries not read", {{"error", pending.status().ToString()}});
      }
      std::unique_lock lock(mu);
      if (stopping) return;
      if (delivered == kRound) continue;  // more may be due
      delivery_cv.wait_for(lock, wait, [&] { return stopping || delivery_due; });
      delivery_due = false;
      if (stopping) return;
    }
  }

  void Enqueue(std::string id) {
    {
      std::lock_guard lock(mu);
      queue.push_back(std::move(id));
      in_flight += 1;
    }
    cv.notify_one();
  }

  void Work() {
    for (;;) {
      std::string id;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (stopping) return;  // what is queued stays pending in the store
        id = std::move(queue.front());
        queue.pop_front();
      }
      Run(id);
      std::lock_guard lock(mu);
      in_flight -= 1;
    }
  }

  // Accepts the request as a pending operation: 202 with it.
  StatusOr<Reply> Accept(const std::string& kind, RequestContext& ctx, const std::string& body, bool preferred,
                         bool withhold, const std::string& webhook_url) {
    ASSIGN_OR_RETURN(OperationRecord op, Enter(kind, ctx, body, withhold, webhook_url));
    Reply reply = Reply::Json(RenderOperation(op), 202);
    reply.headers.emplace_back("location", "/v1/operations/" + op.id);
    if (preferred) reply.headers.emplace_back("preference-applied", "respond-async");
    return reply;
  }

  // Stores the request as a pending operation and queues it.
  StatusOr<OperationRecord> Enter(const std::string& kind, const RequestContext& ctx, const std::string& body,
                                  bool withhold, const std::string& webhook_url) {
    if (!ctx.principal) return InternalError("an asynchronous route without a caller");
    if (!webhook_url.empty()) RETURN_IF_ERROR(CheckWebhook(webhook_url));
    {
      std::lock_guard lock(mu);
      if (stopping) return UnavailableError("the gateway is shutting down");
      if (queue.size() >= options.max_queued) {
        return UnavailableError("too many operations are waiting to run; try again later");
      }
    }
    OperationRecord op;
    op.id = GenerateId("op_", 20, random);
    op.account = ctx.principal->account.str();
    op.kind = kind;
    json::object snapshot = Snapshot(ctx, withhold ? std::string() : body);
    if (withhold) snapshot["withheld"] = true;
    op.request_json = json::serialize(snapshot);
    op.owner = options.owner;
    op.webhook_url = webhook_url;
    if (withhold) {
      std::lock_guard lock(mu);
      withheld[op.id] = body;
    }
    if (Status inserted = store.Insert(op); !inserted.ok()) {
      std::lock_guard lock(mu);
      withheld.erase(op.id);
      return inserted;
    }
    Enqueue(op.id);
    log::Info("operation accepted", {{"operation", op.id}, {"kind", kind}, {"key", ctx.principal->key.str()}});
    return op;
  }

  void Run(const std::string& id) {
    auto begun = store.Begin(id);
    if (!begun.ok()) {
      // Cancelled before it began (FAILED_PRECONDITION), or the store is down: then it stays
      // pending and the next start runs it.
      if (begun.status().code() != StatusCode::kFailedPrecondition) {
        log::Warn("operation not begun", {{"operation", id}, {"error", begun.status().ToString()}});
      }
      return;
    }
    const OperationRecord& op = *begun;
    StatusOr<Reply> reply = Call(op);
    {
      std::lock_guard lock(mu);
      withheld.erase(id);
    }
    Status finished;
    if (reply.ok()) {
      finished = store.Finish(id, OperationState::kSucceeded, reply->status, reply->body, "");
    } else {
      finished = store.Finish(id, OperationState::kFailed, HttpStatusFor(reply.status().code()), "",
                              json::serialize(ErrorObject(reply.status())));
    }
    if (!finished.ok()) {
      // Left running in the store: the next start resumes or fails it.
      log::Warn("operation outcome not stored", {{"operation", id}, {"error", finished.ToString()}});
      return;
    }
    if (!op.webhook_url.empty()) DeliveryDue();
    Ended();
    log::Info("operation finished",
              {{"operation", id}, {"kind", op.kind}, {"ok", reply.ok()}, {"attempt", op.attempts}});
  }

  // The route's own handler, with the request and caller as accepted.
  StatusOr<Reply> Call(const OperationRecord& op) {
    Handler handler;
    {
      std::lock_guard lock(mu);
      auto it = kinds.find(op.kind);
      if (it == kinds.end()) return UnimplementedError("operations of kind " + op.kind + " are not served here");
      handler = it->second.handler;
    }
    boost::system::error_code ec;
    json::value parsed = json::parse(op.request_json, ec);
    if (ec || !parsed.is_object()) return DataLossError("operation " + op.id + " has an unreadable request");
    const json::object& snap = parsed.as_object();
    const std::string method = Str(snap, "method"), target = Str(snap, "target");
    std::string body = Str(snap, "body");
    if (const json::value* w = snap.if_contains("withheld"); w && w->is_bool() && w->as_bool()) {
      std::lock_guard lock(mu);
      auto it = withheld.find(op.id);
      if (it == withheld.end()) {
        return AbortedError(
            "the gateway restarted before the operation ran, and its request carried values that "
            "are never stored (header values): call again");
      }
      body = it->second;
    }
    HttpRequest http;
    http.method = method;
    http.target = target;
    http.body = body;
    Principal principal;
    principal.account = AccountId(Str(snap, "account"));
    principal.key = ApiKeyId(Str(snap, "key"));
    if (const json::value* roles = snap.if_contains("roles"); roles && roles->is_array()) {
      for (const auto& r : roles->as_array()) {
        if (auto role = r.is_string() ? ParseRole(r.as_string()) : std::nullopt) principal.roles.push_back(*role);
      }
    }
    RequestContext ctx{http, {}, principal, json::value(), Str(snap, "trace_id")};
    if (const json::value* params = snap.if_contains("path_params"); params && params->is_array()) {
      for (const auto& p : params->as_array()) {
        if (p.is_array() && p.as_array().size() == 2 && p.as_array()[0].is_string() && p.as_array()[1].is_string()) {
          ctx.path_params.emplace_back(std::string(p.as_array()[0].as_string()),
                                       std::string(p.as_array()[1].as_string()));
        }
      }
    }
    if (!body.empty()) {
      ctx.body = json::parse(body, ec);
      if (ec) return DataLossError("operation " + op.id + " has an unreadable body");
    }
    log::ScopedTraceId trace(ctx.trace_id);
    return handler(ctx);
  }
};

Operations::Operations(OperationStore& store, RandomSource& random, const Clock& clock, OperationsOptions options)
    : impl_(std::make_shared<Impl>(store, random, clock, std::move(options))) {
  impl_->Start();
}

Operations::~Operations() {
  Stop();
}

void Operations::Stop() {
  impl_->Stop();
}

size_t Operations::in_flight() const {
  std::lock_guard lock(impl_->mu);
  return impl_->in_flight;
}

Route Operations::Asynchronous(Route route, bool resumable, std::function<bool(const json::value&)> withhold) {
  // A body that has an "async" of its own keeps it; the caller then asks with Prefer alone.
  const bool own_async_field = route.request && route.request->HasProperty(kAsyncField);
  const SchemaPtr original_request = route.request;
  if (route.request && !own_async_field) {
    route.request =
        WithProperty(route.request, Property{std::string(kAsyncField),
                                             Boolean().Describe("answer 202 with an operation at once (as "
                                                                "`Prefer: respond-async`); GET /v1/operations/{id} "
                                                                "gives the outcome"),
                                             kOptional});
  }
  if (route.request) {
    route.request =
        WithProperty(route.request,
                     Property{std::string(kWebhookField),
                              String()
                                  .Length(1, int64_t(net::kMaxWebhookUrlBytes))
                                  .Describe("with an asynchronous call: https:// URL the outcome is POSTed to, signed "
                                            "(Neosl-Signature), retried with backoff for a day"),
                              kOptional});
  }
  route.description += std::string(route.description.empty() ? "" : "\n\n") +
                       "**Asynchronous:** with `Prefer: respond-async`" +
                       (own_async_field ? std::string() : std::string(" or `\"async\": true`")) +
                       " the answer is 202 with an operation (its `Location` is `/v1/operations/{id}`), and its "
                       "outcome, once done, is this answer" +
                       (resumable ? ". A restart runs it again if it was interrupted."
                                  : ". A restart fails it (ABORTED) if it was interrupted while running.");
  {
    std::lock_guard lock(impl_->mu);
    impl_->kinds[route.operation_id] =
        Impl::Kind{route.handler, resumable, route.method, route.path, route.role, original_request, withhold};
  }
  std::weak_ptr<Impl> weak = impl_;
  Handler inner = route.handler;
  route.handler = [weak, inner, withhold, kind = route.operation_id,
                   own_async_field](RequestContext& ctx) -> StatusOr<Reply> {
    const bool preferred = PrefersAsync(ctx.http);
    bool asked = preferred;
    // The body without our field, as the route's own handler expects it: cut out of the text,
    // every other byte as sent (a function's args are proven over their exact text).
    std::optional<std::string> stripped;
    if (!own_async_field && ctx.body.is_object() && ctx.body.as_object().contains(kAsyncField)) {
      const json::value& flag = ctx.body.as_object().at(kAsyncField);
      asked = asked || (flag.is_bool() && flag.as_bool());
      ctx.body.as_object().erase(kAsyncField);
      stripped = WithoutMember(ctx.http.body, kAsyncField);
    }
    std::string webhook_url;
    if (ctx.body.is_object() && ctx.body.as_object().contains(kWebhookField)) {
      const json::value& url = ctx.body.as_object().at(kWebhookField);
      if (url.is_string()) webhook_url = std::string(url.as_string());
      ctx.body.as_object().erase(kWebhookField);
      stripped = WithoutMember(stripped ? std::string_view(*stripped) : ctx.http.body, kWebhookField);
      if (!asked) {
        return FieldViolationError(std::string(kWebhookField),
                                   "a webhook is for an asynchronous call: add \"async\": true or send "
                                   "Prefer: respond-async");
      }
    }
    std::string body = stripped ? *stripped : std::string(ctx.http.body);
    if (asked) {
      auto impl = weak.lock();
      if (!impl) return UnavailableError("the gateway is shutting down");
      return impl->Accept(kind, ctx, body, preferred, withhold && withhold(ctx.body), webhook_url);
    }
    if (!stripped) return inner(ctx);
    HttpRequest http = ctx.http;
    http.body = *stripped;
    RequestContext plain{http, ctx.path_params, ctx.principal, ctx.body, ctx.trace_id};
    return inner(plain);
  };
  return route;
}

namespace {

// A route of the operations API whose handler needs the live Impl.
template <typename Fn>
Route OperationsRoute(std::weak_ptr<Operations::Impl> weak, std::string method, std::string path,
                      std::string operation_id, std::string summary, Role role, SchemaPtr response, Fn fn) {
  Route r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.operation_id = std::move(operation_id);
  r.summary = std::move(summary);
  r.tag = "operations";
  r.role = role;
  r.response = std::move(response);
  r.handler = [weak, fn](RequestContext& ctx) -> StatusOr<Reply> {
    auto impl = weak.lock();
    if (!impl) return UnavailableError("the gateway is shutting down");
    return fn(*impl, ctx);
  };
  return r;
}

}  // namespace

void Operations::RegisterRoutes(Gateway& gateway) {
  auto operation = Object(
      {{"id", String().Describe("op_…")},
       {"kind", String().Describe("the operationId of the call: InvokeFunction, CreateOracleRequest, …")},
       {"state", String().OneOf({"pending", "running", "succeeded", "failed", "cancelled"})},
       {"done", Boolean().Describe("succeeded, failed or cancelled: it will not change again")},
       {"attempts", Integer().Describe("runs begun (a restart that runs it again adds one)")},
       {"created_at", String()},
       {"started_at", String()},
       {"finished_at", String()},
       {"http_status", Integer().Describe("done: the status the synchronous call would have answered")},
       {"result", Object({}).AllowAdditional().Describe("succeeded: the synchronous call's answer")},
       {"error", Object({{"code", String()}, {"message", String()}, {"details", Array(Object({}).AllowAdditional())}})
                     .Describe("failed or cancelled: the error, as in an error body")}});
  auto list = Object({{"operations", Array(operation).Describe("newest first")}, {"next_page_token", String()}});
  std::weak_ptr<Impl> weak = impl_;

  gateway.AddRoute(OperationsRoute(weak, "GET", "/v1/operations/{id}", "GetOperation",
                                   "An asynchronous operation: its state, and its answer once done", Role::kViewer,
                                   operation, [](Impl& impl, RequestContext& ctx) -> StatusOr<Reply> {
                                     ASSIGN_OR_RETURN(OperationRecord op, impl.store.Get(ctx.principal->account.str(),
                                                                                         ctx.PathParam("id")));
                                     json::object out = RenderOperation(op);
                                     if (!op.webhook_url.empty()) {
                                       ASSIGN_OR_RETURN(auto attempts, impl.store.Deliveries(op.id));
                                       out["webhook"] = RenderWebhook(op, attempts);
                                     }
                                     return Reply::Json(out);
                                   }));

  gateway.AddRoute(OperationsRoute(
      weak, "DELETE", "/v1/operations/{id}", "CancelOperation",
      "Cancel an operation that has not begun (one running is not stopped: 400 FAILED_PRECONDITION)", Role::kInvoker,
      operation, [](Impl& impl, RequestContext& ctx) -> StatusOr<Reply> {
        ASSIGN_OR_RETURN(OperationRecord op,
                         impl.Cancel(ctx.principal->account.str(), ctx.PathParam("id"), ctx.principal->key.str()));
        return Reply::Json(RenderOperation(op));
      }));

  Route all =
      OperationsRoute(weak, "GET", "/v1/operations", "ListOperations", "The account's operations, newest first",
                      Role::kViewer, list, [](Impl& impl, RequestContext& ctx) -> StatusOr<Reply> {
                        size_t limit = 50;
                        std::string text, token;
                        if (ctx.http.QueryParam("limit", &text)) {
                          int64_t n = 0;
                          const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
                          if (ec != std::errc() || end != text.data() + text.size() || n < 1 || n > 100) {
                            return FieldViolationError("limit", "limit must be an integer from 1 to 100");
                          }
                          limit = size_t(n);
                        }
                        ctx.http.QueryParam("page_token", &token);
                        std::string next;
                        ASSIGN_OR_RETURN(auto ops, impl.store.List(ctx.principal->account.str(), limit, token, &next));
                        json::array out;
                        for (const auto& op : ops) out.push_back(RenderOperation(op));
                        return Reply::Json(json::object{{"operations", std::move(out)}, {"next_page_token", next}});
                      });
  all.query = {{"limit", "1..100 (default 50)"}, {"page_token", "next_page_token of the previous page"}};
  gateway.AddRoute(std::move(all));

  gateway.AddRoute(
      OperationsRoute(weak, "GET", "/v1/webhooks/secret", "GetWebhookSecret",
                      "The account's secret for checking the Neosl-Signature of webhook deliveries", Role::kOwner,
                      Object({{"secret", String().Describe("whsec_…: the HMAC-SHA256 key, as this text")},
                              {"header", String()},
                              {"scheme", String()}}),
                      [](Impl& impl, RequestContext& ctx) -> StatusOr<Reply> {
                        if (!impl.options.fetcher)
                          return FailedPreconditionError("webhooks are not available on this gateway");
                        return Reply::Json(json::object{
                            {"secret", WebhookSecret(impl.options.webhook_key.bytes(), ctx.principal->account.str())},
                            {"header", "Neosl-Signature"},
                            {"scheme", "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.\" + body)>"}});
                      }));
}

namespace {

// A path parameter as Start puts it into a target: ids and names only, nothing that would change
// the path.
bool IsPathValue(std::string_view v) {
  if (v.empty() || v.size() > 128) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.' || c == ':' || c == '~';
  });
}

}  // namespace

StatusOr<OperationRecord> Operations::Start(const StartRequest& request) {
  Impl::Kind kind;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->kinds.find(request.kind);
    if (it == impl_->kinds.end()) {
      std::string known;
      for (const auto& [name, k] : impl_->kinds) known += (known.empty() ? "" : ", ") + name;
      return FieldViolationError("kind",
                                 "'" + request.kind + "' is not a call that can be made asynchronous (" + known + ")");
    }
    kind = it->second;
  }
  if (!AccountId::IsWellFormed(request.account)) {
    return PermissionDeniedError("an operation belongs to an account: the call carries none");
  }
  // The target, as the REST caller would have named it.
  std::string target;
  size_t used = 0;
  for (size_t i = 0; i < kind.path.size();) {
    if (kind.path[i] != '{') {
      target += kind.path[i++];
      continue;
    }
    const size_t close = kind.path.find('}', i);
    const std::string name = kind.path.substr(i + 1, close - i - 1);
    auto given = std::find_if(request.path_params.begin(), request.path_params.end(),
                              [&](const auto& p) { return p.first == name; });
    if (given == request.path_params.end()) {
      return FieldViolationError("path_params", request.kind + " needs path parameter '" + name + "'");
    }
    if (!IsPathValue(given->second)) {
      return FieldViolationError("path_params", "'" + name + "' must be 1 to 128 of letters, digits and _ - . : ~");
    }
    target += given->second;
    used += 1;
    i = close + 1;
  }
  if (used != request.path_params.size()) {
    return FieldViolationError("path_params", request.kind + " takes only the parameters of " + kind.path);
  }
  json::value body;
  if (!request.body.empty()) {
    boost::system::error_code ec;
    body = json::parse(request.body, ec);
    if (ec) return FieldViolationError("body_json", "is not JSON: " + ec.message());
  }
  if (kind.request) {
    if (body.is_null()) body = json::object();
    RETURN_IF_ERROR(kind.request->Validate(body));
  }
  HttpRequest http;
  http.method = kind.method;
  http.target = target;
  http.body = request.body;
  Principal principal;
  principal.account = AccountId(request.account);
  principal.key = ApiKeyId("service:" + request.caller);
  principal.roles = {kind.role};
  RequestContext ctx{http, request.path_params, principal, body, request.trace_id};
  const bool withhold = kind.withhold && body.is_object() && kind.withhold(body);
  return impl_->Enter(request.kind, ctx, request.body, withhold, request.webhook_url);
}

StatusOr<OperationRecord> Operations::Get(const std::string& account, const std::string& id) {
  return impl_->store.Get(account, id);
}

StatusOr<std::vector<OperationRecord>> Operations::List(const std::string& account, size_t limit,
                                                        const std::string& token, std::string* next_token) {
  return impl_->store.List(account, limit, token, next_token);
}

StatusOr<OperationRecord> Operations::Cancel(const std::string& account, const std::string& id, const std::string& by) {
  return impl_->Cancel(account, id, by);
}

StatusOr<OperationRecord> Operations::Wait(const std::string& account, const std::string& id,
                                           std::chrono::milliseconds timeout) {
  const auto deadline = impl_->clock.SteadyNow() + timeout;
  for (;;) {
    ASSIGN_OR_RETURN(OperationRecord op, impl_->store.Get(account, id));
    const auto now = impl_->clock.SteadyNow();
    if (IsFinal(op.state) || now >= deadline) return op;
    // Woken by an end here; another replica's is seen at the next look.
    std::unique_lock lock(impl_->mu);
    if (impl_->stopping) return UnavailableError("the gateway is shutting down");
    impl_->ended_cv.wait_for(lock, std::min(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now),
                                            impl_->options.stream_poll));
  }
}

Status Operations::Recover() {
  ASSIGN_OR_RETURN(auto unfinished, impl_->store.Unfinished(impl_->options.owner));
  size_t resumed = 0, failed = 0;
  for (const OperationRecord& op : unfinished) {
    RETURN_IF_ERROR(impl_->Resume(op, "the gateway restarted while the operation ran", &resumed, &failed));
  }
  if (resumed + failed > 0) log::Info("operations recovered", {{"resumed", resumed}, {"failed", failed}});
  {
    std::lock_guard lock(impl_->mu);
    impl_->recovered = true;
    impl_->beat_now = true;
  }
  impl_->housekeeping_cv.notify_all();
  return Status::Ok();
}

namespace {

// A subscription of the `operations` channel: leaving takes the watch out, after any call for it.
class OperationsSubscription final : public WsSubscription {
 public:
  OperationsSubscription(std::weak_ptr<Operations::Impl> impl, uint64_t key) : impl_(std::move(impl)), key_(key) {}
  ~OperationsSubscription() override;

 private:
  std::weak_ptr<Operations::Impl> impl_;
  uint64_t key_;
};

}  // namespace

WsChannelFactory Operations::Channel() {
  SchemaPtr params = Object({{"operation_id", String().Length(1, 64).Describe("only this operation")}});
  std::weak_ptr<Impl> weak = impl_;
  return [weak, params](const WsSubscriber& subscriber, const json::object& given,
                        std::shared_ptr<WsEmitter> emitter) -> StatusOr<std::unique_ptr<WsSubscription>> {
    RETURN_IF_ERROR(params->Validate(given));
    auto impl = weak.lock();
    if (!impl) return UnavailableError("the gateway is shutting down");
    Impl::Watch w;
    w.account = subscriber.principal.account.str();
    w.operation_id = Str(given, "operation_id");
    w.emitter = std::move(emitter);
    w.since_ms = impl->clock.NowUnixMillis();
    uint64_t key = 0;
    {
      std::lock_guard lock(impl->watch_mu);
      key = impl->next_watch++;
      impl->watches.emplace(key, std::move(w));
    }
    impl->Ended();  // an operation_id that has ended is answered at once
    return std::unique_ptr<WsSubscription>(std::make_unique<OperationsSubscription>(weak, key));
  };
}

OperationsSubscription::~OperationsSubscription() {
  if (auto impl = impl_.lock()) {
    std::lock_guard lock(impl->watch_mu);
    impl->watches.erase(key_);
  }
}

}  // namespace neosl::gateway
