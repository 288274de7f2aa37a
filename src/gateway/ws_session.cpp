// One WebSocket connection of GET /v1/ws: the JSON protocol (ws_hub.h) over a WsOutput.
//
// Threads: client messages arrive on the connection's I/O thread; sources emit from theirs. The
// session's lock guards its table of subscriptions and is never held while a subscription handle
// is destroyed (which waits for the source's callbacks) or while a source is started.
#include "gateway/ws_session.h"

#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "core/log.h"

namespace neosl::gateway {
namespace {

namespace json = boost::json;

constexpr size_t kMaxIdBytes = 128;
constexpr size_t kMaxChannelBytes = 64;

std::string Frame(std::string_view type, std::string_view id) {
  json::object o;
  o["type"] = type;
  o["id"] = id;
  return json::serialize(o);
}

std::string ErrorFrame(const std::optional<std::string>& id, const Status& status) {
  json::object o;
  o["type"] = "error";
  if (id) o["id"] = *id;
  o["error"] = ErrorObject(status);
  return json::serialize(o);
}

class WsSession;

// The emitter of one subscription. Until the factory has returned, what the source emits is held
// back, so the client always sees "subscribed" first.
// Events a source may emit before its subscription has started: what the outbound queue holds
// besides the "subscribed" frame that goes first.
size_t PendingBound(const WsLimits& limits) {
  return limits.max_queued_messages > 1 ? limits.max_queued_messages - 1 : 1;
}

class Emitter final : public WsEmitter {
 public:
  Emitter(std::weak_ptr<WsSession> session, std::string id, std::string channel, size_t max_pending)
      : session_(std::move(session)), id_(std::move(id)), channel_(std::move(channel)), max_pending_(max_pending) {}

  bool Event(json::value data) override;
  void End(const Status& status) override;

  // The subscription is over for the session (unsubscribed, connection closed): emit nothing more.
  void Deactivate() {
    std::lock_guard lock(mu_);
    active_ = false;
    pending_.clear();
  }
  // After the factory returned: "subscribed", then what the source emitted meanwhile. Returns
  // whether the source has ended already.
  bool Start();
  const std::string& id() const { return id_; }

 private:
  bool Send(std::string frame);  // mu_ held

  std::weak_ptr<WsSession> session_;
  const std::string id_, channel_;
  const size_t max_pending_;
  std::mutex mu_;
  bool active_ = true, started_ = false, ended_ = false;
  bool overflowed_ = false;  // the source emitted more than max_pending_ before Start
  std::vector<std::string> pending_;
};

class WsSession final : public WsConnectionHandler, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(std::shared_ptr<WsHub::State> state, Principal principal, std::string trace_id)
      : state_(std::move(state)), principal_(std::move(principal)), trace_id_(std::move(trace_id)) {}
  ~WsSession() override { ReleaseSlot(); }

  void OnOpen(std::shared_ptr<WsOutput> output) override {
    std::lock_guard lock(mu_);
    output_ = std::move(output);
  }

  void OnMessage(std::string_view data, bool text) override {
    log::ScopedTraceId trace(trace_id_);
    Reap();
    if (!text) return SendError(std::nullopt, InvalidArgumentError("send JSON text frames, not binary ones"));
    boost::system::error_code ec;
    json::value v = json::parse(data, ec);
    if (ec || !v.is_object()) {
      return SendError(std::nullopt,
                       FieldViolationError("(message)", "a message must be a JSON object: " +
                                                            (ec ? ec.message() : std::string("not an object"))));
    }
    const json::object& msg = v.as_object();
    std::optional<std::string> id;
    if (const json::value* i = msg.if_contains("id"); i && i->is_string()) id = std::string(i->as_string());
    const json::value* op = msg.if_contains("op");
    if (!op || !op->is_string())
      return SendError(id, FieldViolationError("op", "op must be subscribe, unsubscribe or ping"));
    std::string_view name = op->as_string();
    if (name == "subscribe") return Subscribe(msg);
    if (name == "unsubscribe") return Unsubscribe(msg);
    if (name == "ping") {
      json::object pong{{"type", "pong"}};
      if (id) pong["id"] = *id;
      Send(json::serialize(pong));
      return;
    }
    SendError(id,
              FieldViolationError("op", "unknown op '" + std::string(name) + "': use subscribe, unsubscribe or ping"));
  }

  void OnClose() override {
    std::map<std::string, Subscription, std::less<>> subs;
    std::vector<std::unique_ptr<WsSubscription>> ended;
    {
      std::lock_guard lock(mu_);
      closed_ = true;
      subs.swap(subs_);
      ended.swap(ended_);
      output_.reset();
    }
    for (auto& [id, sub] : subs) sub.emitter->Deactivate();
    state_->subscriptions.fetch_sub(subs.size());
    subs.clear();  // stops the sources
    ended.clear();
    ReleaseSlot();
  }

  // From emitters (any thread).
  bool Send(std::string frame) {
    std::shared_ptr<WsOutput> out;
    {
      std::lock_guard lock(mu_);
      out = output_;
    }
    return out && out->Send(std::move(frame));
  }

  void Close(uint16_t code, std::string reason) {
    std::shared_ptr<WsOutput> out;
    {
      std::lock_guard lock(mu_);
      out = output_;
    }
    if (out) out->Close(code, std::move(reason));
  }

  // A source called End: its subscription leaves the table; the handle is destroyed later on the
  // I/O thread (not here, inside the source's own callback).
  void SourceEnded(const Emitter* emitter) {
    std::lock_guard lock(mu_);
    auto it = subs_.find(emitter->id());
    if (it == subs_.end() || it->second.emitter.get() != emitter) return;
    ended_.push_back(std::move(it->second.handle));
    subs_.erase(it);
    state_->subscriptions.fetch_sub(1);
  }

 private:
  struct Subscription {
    std::shared_ptr<Emitter> emitter;
    std::unique_ptr<WsSubscription> handle;
  };

  void SendError(const std::optional<std::string>& id, const Status& status) { Send(ErrorFrame(id, status)); }

  void Subscribe(const json::object& msg) {
    std::optional<std::string> id;
    if (const json::value* i = msg.if_contains("id"); i && i->is_string()) id = std::string(i->as_string());
    if (!id || id->empty() || id->size() > kMaxIdBytes) {
      return SendError(std::nullopt, FieldViolationError("id", "subscribe needs an id: a string of 1 to 128 bytes"));
    }
    for (const auto& [key, value] : msg) {
      if (key != "op" && key != "id" && key != "channel" && key != "params") {
        return SendError(id, FieldViolationError(key, "unknown field '" + std::string(key) + "' in subscribe"));
      }
    }
    const json::value* channel_value = msg.if_contains("channel");
    if (!channel_value || !channel_value->is_string() || channel_value->as_string().empty() ||
        channel_value->as_string().size() > kMaxChannelBytes) {
      return SendError(id, FieldViolationError("channel", "subscribe needs a channel name"));
    }
    std::string channel_name(channel_value->as_string());
    json::object params;
    if (const json::value* p = msg.if_contains("params")) {
      if (!p->is_object()) return SendError(id, FieldViolationError("params", "params must be a JSON object"));
      params = p->as_object();
    }
    size_t active;
    bool taken;
    {
      std::lock_guard lock(mu_);
      if (closed_) return;
      active = subs_.size();
      taken = subs_.count(*id) > 0;
    }
    if (taken) return SendError(id, AlreadyExistsError("subscription '" + *id + "' is already active"));
    if (active >= state_->options.max_subscriptions) {
      return SendError(id, ResourceExhaustedError("at most " + std::to_string(state_->options.max_subscriptions) +
                                                  " subscriptions per connection (gateway.ws.max_subscriptions)"));
    }
    auto channel = state_->Find(channel_name);
    if (!channel) {
      return SendError(
          id,
          NotFoundError("no channel '" + channel_name + "' (channels: " + state_->ChannelList() + ")")
              .WithDetail(
                  ErrorDetail{"ResourceInfo", {}}.Add("resource_type", "channel").Add("resource_name", channel_name)));
    }
    if (!principal_.Has(channel->role)) {
      return SendError(id, PermissionDeniedError("channel '" + channel_name + "' needs the '" +
                                                 std::string(RoleName(channel->role)) + "' role")
                               .WithDetail(ErrorDetail{"AuthorizationError", {}}
                                               .Add("service", "gateway")
                                               .Add("operation", "subscribe:" + channel_name)
                                               .Add("required_role", std::string(RoleName(channel->role)))));
    }

    auto emitter = std::make_shared<Emitter>(weak_from_this(), *id, channel_name, PendingBound(state_->options.limits));
    auto handle = channel->factory(WsSubscriber{principal_, trace_id_, *id}, params, emitter);
    if (handle.ok() && !*handle) handle = InternalError("channel '" + channel_name + "' started no subscription");
    if (!handle.ok()) {
      emitter->Deactivate();
      log::Info("websocket subscription refused",
                {{"channel", channel_name}, {"code", StatusCodeName(handle.status().code())}});
      return SendError(id, handle.status());
    }
    std::unique_ptr<WsSubscription> orphan;
    {
      std::lock_guard lock(mu_);
      if (closed_) {
        orphan = std::move(*handle);
      } else {
        subs_[*id] = Subscription{emitter, std::move(*handle)};
        state_->subscriptions.fetch_add(1);
      }
    }
    if (orphan) {  // the connection closed meanwhile (server stopping)
      emitter->Deactivate();
      return;
    }
    log::Info("websocket subscription", {{"channel", channel_name}, {"account", principal_.account.str()}});
    if (emitter->Start()) SourceEnded(emitter.get());
  }

  void Unsubscribe(const json::object& msg) {
    const json::value* i = msg.if_contains("id");
    if (!i || !i->is_string()) return SendError(std::nullopt, FieldViolationError("id", "unsubscribe needs the id"));
    std::string id(i->as_string());
    Subscription sub;
    {
      std::lock_guard lock(mu_);
      auto it = subs_.find(id);
      if (it != subs_.end()) {
        sub = std::move(it->second);
        subs_.erase(it);
        state_->subscriptions.fetch_sub(1);
      }
    }
    if (!sub.emitter) return SendError(id, NotFoundError("no active subscription '" + id + "'"));
    sub.emitter->Deactivate();
    sub.handle.reset();  // waits out the source's callbacks: no event of `id` follows the answer
    Send(Frame("unsubscribed", id));
  }

  // Destroys the handles of sources that ended (on the I/O thread, outside the lock).
  void Reap() {
    std::vector<std::unique_ptr<WsSubscription>> ended;
    {
      std::lock_guard lock(mu_);
      ended.swap(ended_);
    }
    ended.clear();
  }

  void ReleaseSlot() {
    if (released_.exchange(true)) return;
    state_->Release(principal_.account.str());
  }

  const std::shared_ptr<WsHub::State> state_;
  const Principal principal_;
  const std::string trace_id_;
  std::atomic<bool> released_{false};

  std::mutex mu_;
  std::shared_ptr<WsOutput> output_;
  bool closed_ = false;
  std::map<std::string, Subscription, std::less<>> subs_;
  std::vector<std::unique_ptr<WsSubscription>> ended_;
};

bool Emitter::Send(std::string frame) {
  auto session = session_.lock();
  return session && session->Send(std::move(frame));
}

bool Emitter::Event(json::value data) {
  std::lock_guard lock(mu_);
  if (!active_) return false;
  json::object o;
  o["type"] = "event";
  o["id"] = id_;
  o["channel"] = channel_;
  o["data"] = std::move(data);
  std::string frame = json::serialize(o);
  if (!started_) {
    if (pending_.size() >= max_pending_) {
      // More than the outbound queue may hold, before the client has even heard "subscribed":
      // the same bound as a slow client's, so the same end (Start closes with 1013). Refusing
      // quietly instead would leave a subscription whose source has stopped.
      overflowed_ = true;
      active_ = false;
      pending_.clear();
      return false;
    }
    pending_.push_back(std::move(frame));
    return true;
  }
  return Send(std::move(frame));
}

void Emitter::End(const Status& status) {
  std::string frame;
  {
    std::lock_guard lock(mu_);
    if (!active_ || ended_) return;
    ended_ = true;
    active_ = false;
    frame = status.ok() ? Frame("end", id_) : ErrorFrame(id_, status);
    if (!started_) {
      pending_.push_back(std::move(frame));
      return;  // Start reports the end
    }
  }
  // The subscription leaves the table before the client hears of the end, so an id reused at
  // once is free. No event can follow: active_ is false.
  auto session = session_.lock();
  if (!session) return;
  session->SourceEnded(this);
  session->Send(std::move(frame));
}

bool Emitter::Start() {
  std::lock_guard lock(mu_);
  started_ = true;
  if (overflowed_) {
    if (auto session = session_.lock()) session->Close(kWsCloseTryAgainLater, "client too slow: outbound queue full");
    return false;  // closing: the session's close removes the subscription
  }
  if (!active_ && !ended_) return false;  // deactivated meanwhile
  json::object o{{"type", "subscribed"}, {"id", id_}, {"channel", channel_}};
  Send(json::serialize(o));
  for (auto& frame : pending_) Send(std::move(frame));
  pending_.clear();
  return ended_;
}

}  // namespace

std::shared_ptr<WsConnectionHandler> NewWsSession(std::shared_ptr<WsHub::State> state, Principal principal,
                                                  std::string trace_id) {
  return std::make_shared<WsSession>(std::move(state), std::move(principal), std::move(trace_id));
}

}  // namespace neosl::gateway
