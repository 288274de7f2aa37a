// GET /v1/ws: the gateway's WebSocket endpoint (docs/api.md, "WebSocket"). The hub holds the
// channels clients may subscribe to and the limits; RegisterWsRoute adds the route, which
// authenticates like every REST route and upgrades to a connection speaking the JSON protocol:
//
//   client → server  {"op":"subscribe","id":"<client's>","channel":"<name>","params":{…}}
//                    {"op":"unsubscribe","id":"…"}   {"op":"ping"}
//   server → client  {"type":"subscribed","id","channel"}   {"type":"event","id","channel","data"}
//                    {"type":"end","id"}   {"type":"unsubscribed","id"}   {"type":"pong"}
//                    {"type":"error","id"?,"error":{"code","message","details"}}
//
// Wiring (serve.cpp):
//
//   gateway::WsHub ws(gateway::WsOptionsFromConfig(config));
//   gateway::RegisterEchoStreamChannel(ws, *mesh->gateway_client);
//   gateway::RegisterWsRoute(gw, ws);  // before gw.Freeze()
//   gateway::HttpServer server(options, handler, observer,
//       [&gw](const gateway::HttpRequest& r, gateway::HttpResponse& res) { return gw.Upgrade(r, res); });
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "gateway/accounts.h"
#include "gateway/auth.h"
#include "gateway/gateway.h"
#include "gateway/ws_channel.h"
#include "gateway/ws_transport.h"

namespace neosl::gateway {

struct WsOptions {
  size_t max_subscriptions = 16;         // live subscriptions per connection
  int max_connections_per_account = 32;  // open WebSockets per account (over: 429 before the upgrade)
  WsLimits limits;                       // message size, outbound queue, keep-alive
};

// gateway.ws.* of the configuration.
WsOptions WsOptionsFromConfig(const Config& config);

class WsHub {
 public:
  explicit WsHub(WsOptions options);
  ~WsHub();
  WsHub(const WsHub&) = delete;
  WsHub& operator=(const WsHub&) = delete;

  // Adds channel `name` (before RegisterWsRoute, whose OpenAPI text lists the channels with
  // `description`). Keys without `required_role` are refused with PERMISSION_DENIED before the
  // factory runs.
  void RegisterChannel(std::string name, Role required_role, WsChannelFactory factory, std::string description = "");

  // A connection for `principal` (the route's handler calls this once it has authenticated the
  // request): RESOURCE_EXHAUSTED when the account has its maximum of connections open.
  StatusOr<WsAccept> Accept(const Principal& principal, std::string trace_id, std::string subprotocol);

  // Open connections and live subscriptions, over all accounts (for tests and metrics).
  size_t connections() const;
  size_t subscriptions() const;
  std::vector<std::string> channels() const;
  const WsOptions& options() const;

  struct State;

 private:
  friend void RegisterWsRoute(Gateway& gateway, WsHub& hub);
  std::shared_ptr<State> state_;  // shared with the connections, which may outlive the hub
};

// GET /v1/ws on `gateway`, served by `hub` (call before Gateway::Freeze).
void RegisterWsRoute(Gateway& gateway, WsHub& hub);

}  // namespace neosl::gateway
