#include "gateway/ws_hub.h"

#include <algorithm>

#include "gateway/ws_session.h"

namespace neosl::gateway {
namespace {

constexpr std::string_view kSubprotocol = "neosl.v1";

// Whether the client offered `name` among its comma-separated subprotocols.
bool Offered(std::string_view offered, std::string_view name) {
  while (!offered.empty()) {
    auto comma = offered.find(',');
    std::string_view item = offered.substr(0, comma);
    offered = comma == std::string_view::npos ? std::string_view() : offered.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == name) return true;
  }
  return false;
}

constexpr char kDescription[] = R"md(A WebSocket (RFC 6455) for live data. Authenticate like any route with
`Authorization: Bearer <key>`, or — from a browser, which cannot set headers — with the subprotocols
`Sec-WebSocket-Protocol: neosl.v1, bearer.<key>` (the server answers `neosl.v1`). Refusals come
before the upgrade, as the usual JSON error (401, 429 over the per-account connection limit).

Messages are JSON text frames.

Client → server:
- `{"op":"subscribe","id":"<your id>","channel":"<name>","params":{…}}`
- `{"op":"unsubscribe","id":"<id>"}`
- `{"op":"ping"}`

Server → client:
- `{"type":"subscribed","id":…,"channel":…}`
- `{"type":"event","id":…,"channel":…,"data":{…}}`
- `{"type":"end","id":…}` — the subscription's source finished
- `{"type":"unsubscribed","id":…}` — after it no event of that id follows
- `{"type":"error","id":…,"error":{"code":"NOT_FOUND","message":…,"details":[…]}}` — the REST error
  object; with an id, that subscription is over (or never started); without, the message was bad
- `{"type":"pong"}`

A malformed message or an unknown op gets an error frame; the connection stays open.

Limits (gateway.ws.*): 16 subscriptions per connection, messages from the client up to 16 KiB
(larger: closed with 1009), a bounded outbound queue (a client that stops reading is closed with
1013), pings after 30 s without traffic and a close after 60 s, 32 connections per account. On
shutdown the server closes with 1001.

Channels (name, role needed, params):)md";

}  // namespace

WsOptions WsOptionsFromConfig(const Config& config) {
  WsOptions o;
  o.max_subscriptions = size_t(std::max<int64_t>(1, config.Int("gateway.ws.max_subscriptions")));
  o.max_connections_per_account = int(std::max<int64_t>(1, config.Int("gateway.ws.max_connections_per_account")));
  o.limits.max_message_bytes = size_t(std::max<int64_t>(256, config.Int("gateway.ws.max_message_bytes")));
  o.limits.max_queued_messages = size_t(std::max<int64_t>(1, config.Int("gateway.ws.max_queued_messages")));
  o.limits.max_queued_bytes = size_t(std::max<int64_t>(1024, config.Int("gateway.ws.max_queued_bytes")));
  o.limits.idle_timeout = std::chrono::milliseconds(std::max<int64_t>(100, config.Int("gateway.ws.idle_timeout_ms")));
  o.limits.close_timeout = std::chrono::milliseconds(std::max<int64_t>(100, config.Int("gateway.ws.close_timeout_ms")));
  return o;
}

std::optional<WsHub::State::Channel> WsHub::State::Find(std::string_view name) const {
  std::lock_guard lock(mu);
  auto it = channels.find(name);
  if (it == channels.end()) return std::nullopt;
  return it->second;
}

std::string WsHub::State::ChannelList() const {
  std::lock_guard lock(mu);
  std::string out;
  for (const auto& [name, channel] : channels) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

bool WsHub::State::Acquire(const std::string& account) {
  std::lock_guard lock(mu);
  int& n = per_account[account];
  if (n >= options.max_connections_per_account) {
    if (n == 0) per_account.erase(account);
    return false;
  }
  ++n;
  connections.fetch_add(1);
  return true;
}

void WsHub::State::Release(const std::string& account) {
  std::lock_guard lock(mu);
  auto it = per_account.find(account);
  if (it == per_account.end()) return;
  if (--it->second <= 0) per_account.erase(it);
  connections.fetch_sub(1);
}

WsHub::WsHub(WsOptions options) : state_(std::make_shared<State>(std::move(options))) {}

WsHub::~WsHub() = default;

void WsHub::RegisterChannel(std::string name, Role required_role, WsChannelFactory factory, std::string description) {
  std::lock_guard lock(state_->mu);
  state_->channels[std::move(name)] = State::Channel{required_role, std::move(factory), std::move(description)};
}

StatusOr<WsAccept> WsHub::Accept(const Principal& principal, std::string trace_id, std::string subprotocol) {
  if (!state_->Acquire(principal.account.str())) {
    return ResourceExhaustedError("this account has " + std::to_string(state_->options.max_connections_per_account) +
                                  " WebSocket connections open already (gateway.ws.max_connections_per_account)")
        .WithDetail(ErrorDetail{"QuotaFailure", {}}
                        .Add("limit", "gateway.ws.max_connections_per_account")
                        .Add("max", int64_t(state_->options.max_connections_per_account)));
  }
  WsAccept accept;
  accept.handler = NewWsSession(state_, principal, std::move(trace_id));
  accept.subprotocol = std::move(subprotocol);
  accept.limits = state_->options.limits;
  return accept;
}

size_t WsHub::connections() const {
  return state_->connections.load();
}

size_t WsHub::subscriptions() const {
  return state_->subscriptions.load();
}

std::vector<std::string> WsHub::channels() const {
  std::lock_guard lock(state_->mu);
  std::vector<std::string> out;
  for (const auto& [name, channel] : state_->channels) out.push_back(name);
  return out;
}

const WsOptions& WsHub::options() const {
  return state_->options;
}

void RegisterWsRoute(Gateway& gateway, WsHub& hub) {
  Route route;
  route.method = "GET";
  route.path = "/v1/ws";
  route.operation_id = "WebSocket";
  route.summary = "Live data over a WebSocket: subscribe to channels";
  route.description = kDescription;
  {
    std::lock_guard lock(hub.state_->mu);
    for (const auto& [name, channel] : hub.state_->channels) {
      route.description += "\n- `" + name + "` (" + std::string(RoleName(channel.role)) + ")";
      if (!channel.description.empty()) route.description += ": " + channel.description;
    }
  }
  route.tag = "websocket";
  route.access = Route::Access::kKey;
  route.role = Role::kViewer;
  route.success_status = 101;
  route.websocket = true;
  route.handler = [&hub](RequestContext& ctx) -> StatusOr<Reply> {
    std::string_view offered = ctx.http.Header("sec-websocket-protocol");
    std::string subprotocol;
    if (!offered.empty()) {
      // Whoever offers subprotocols must offer ours: the answer has to be one of the offers.
      if (!Offered(offered, kSubprotocol)) {
        return InvalidArgumentError("Sec-WebSocket-Protocol must include neosl.v1")
            .WithDetail(ErrorDetail{"FieldViolation", {}}
                            .Add("field", "Sec-WebSocket-Protocol")
                            .Add("description", "offer neosl.v1 (and bearer.<key> to authenticate)"));
      }
      subprotocol = std::string(kSubprotocol);
    }
    ASSIGN_OR_RETURN(WsAccept accept, hub.Accept(*ctx.principal, ctx.trace_id, std::move(subprotocol)));
    Reply reply;
    reply.status = 101;
    reply.upgrade = std::make_shared<WsAccept>(std::move(accept));
    return reply;
  };
  gateway.AddRoute(std::move(route));
}

}  // namespace neosl::gateway
