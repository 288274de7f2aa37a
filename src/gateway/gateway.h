// The REST front door's request pipeline, independent of the transport:
//
//   trace context → global limit → route match (404/405) → authentication → role check →
//   per-caller and per-method limits → body parse and validation → handler → error rendering,
//   metrics and one structured log line.
//
// Routes are declared in a table (method, path template, operation id, access, body schemas,
// handler); the same table generates /v1/openapi.json, so the document lists exactly what is
// served.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/clock.h"
#include "core/random.h"
#include "core/rate_limiter.h"
#include "core/status.h"
#include "gateway/accounts.h"
#include "gateway/auth.h"
#include "gateway/http_types.h"
#include "gateway/json_schema.h"
#include "gateway/metrics.h"
#include "gateway/ws_transport.h"

namespace neosl::gateway {

struct RequestContext {
  const HttpRequest& http;
  std::vector<std::pair<std::string, std::string>> path_params;
  std::optional<Principal> principal;  // set on authenticated routes
  boost::json::value body;             // the validated body, or null for routes without one
  std::string trace_id;

  // The value of `{name}` in the route's path; empty if the route has none.
  const std::string& PathParam(std::string_view name) const;
};

struct Reply {
  int status = 200;
  std::string body;  // serialised JSON unless content_type says otherwise
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  // WebSocket routes: set to accept the upgrade (the server answers 101 and hands over).
  std::shared_ptr<WsAccept> upgrade;

  static Reply Json(const boost::json::value& v, int status = 200);
};

using Handler = std::function<StatusOr<Reply>(RequestContext&)>;

struct Route {
  enum class Access { kPublic, kKey };

  std::string method;        // "GET"
  std::string path;          // "/v1/accounts/{id}/keys"
  std::string operation_id;  // "CreateApiKey": metrics label, rate-limit key, OpenAPI id
  std::string summary;
  std::string tag;
  Access access = Access::kKey;
  Role role = Role::kViewer;     // least role a key needs (kAdmin: platform operators only)
  SchemaPtr request = nullptr;   // JSON body schema; null for routes that take no body
  SchemaPtr response = nullptr;  // documented success body; null for non-JSON responses
  int success_status = 200;
  std::string response_content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> query = {};  // documented query params: name, description
  Handler handler = nullptr;
  std::string description = {};  // longer OpenAPI text (Markdown)
  // A WebSocket upgrade (GET): browsers cannot set headers, so the key may also come as the
  // subprotocol "bearer.<key>" next to "neosl.v1"; success is 101.
  bool websocket = false;
  // The handler waits on another service (a mesh call): HttpServer runs it on a handler thread,
  // off the I/O thread (Gateway::Blocking).
  bool blocking = false;
};

class Gateway {
 public:
  Gateway(Authenticator& auth, RateLimiter& limiter, RandomSource& random, bool log_requests);

  void AddRoute(Route route);
  // Call once after the last AddRoute and before the first Handle.
  void Freeze();

  // Runs the whole pipeline for one request. Never throws.
  void Handle(const HttpRequest& request, HttpResponse& response);
  // The same for a WebSocket upgrade request (HttpServer's UpgradeHandler): the accepted upgrade
  // of a WebSocket route, or nullopt with `response` filled (401, 403, 404, 429, …).
  std::optional<WsAccept> Upgrade(const HttpRequest& request, HttpResponse& response);
  // Whether the request's route is a blocking one (HttpServer's BlockingPredicate). Cheap: a
  // route lookup; requests that match no route are answered inline.
  bool Blocking(const HttpRequest& request) const;

  const std::vector<Route>& routes() const { return routes_; }
  HttpMetrics& metrics() { return *metrics_; }
  // The OpenAPI 3.1 document of every route, built at Freeze.
  const std::string& openapi() const { return openapi_; }

  // While draining, responses ask clients to close their connections.
  void SetDraining() { draining_ = true; }
  bool draining() const { return draining_; }

 private:
  struct CompiledRoute {
    std::vector<std::string> segments;  // "{id}" marks a parameter
  };
  // Index of the route matching method and path; routes_.size() when none matches. Sets
  // `*path_matched` if some route has the path with another method.
  size_t Match(std::string_view method, std::string_view path, std::vector<std::pair<std::string, std::string>>* params,
               std::string* allow) const;
  StatusOr<Reply> Run(size_t route, RequestContext& ctx, const HttpRequest& request, std::string* key_id);
  void Dispatch(const HttpRequest& request, HttpResponse& response, std::optional<WsAccept>* upgrade);

  Authenticator& auth_;
  RateLimiter& limiter_;
  RandomSource& random_;
  bool log_requests_;
  std::vector<Route> routes_;
  std::vector<CompiledRoute> compiled_;
  std::unique_ptr<HttpMetrics> metrics_;
  std::string openapi_;
  std::atomic<bool> draining_{false};
};

// The seed's error body: {"error":{"code":"…","message":"…","details":[…]}}.
std::string ErrorBody(const Status& status);
// Its inner object: {"code":"…","message":"…","details":[…]} (WebSocket error frames carry it).
boost::json::object ErrorObject(const Status& status);

// Builds the OpenAPI document for `routes` (openapi.cpp).
std::string BuildOpenApi(const std::vector<Route>& routes);

}  // namespace neosl::gateway
