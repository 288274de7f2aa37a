#include "gateway/gateway.h"

#include <chrono>

#include <boost/json.hpp>

#include "core/encoding.h"
#include "core/log.h"

namespace neosl::gateway {
namespace json = boost::json;
namespace {

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  if (path.empty() || path[0] != '/') return out;
  path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The trace id of a valid W3C traceparent ("00-<32 hex>-<16 hex>-<2 hex>"), or empty.
std::string TraceIdFrom(std::string_view traceparent) {
  if (traceparent.size() < 55 || traceparent[2] != '-' || traceparent[35] != '-' || traceparent[52] != '-') {
    return {};
  }
  std::string_view version = traceparent.substr(0, 2), trace = traceparent.substr(3, 32);
  if (!IsHex(version) || version == "ff" || !IsHex(trace) || trace == std::string(32, '0')) return {};
  if (!IsHex(traceparent.substr(36, 16))) return {};
  return std::string(trace);
}

// The key a browser sends as the WebSocket subprotocol "bearer.<key>", as an Authorization
// value; empty if there is none.
std::string BearerFromSubprotocols(std::string_view offered) {
  constexpr std::string_view kPrefix = "bearer.";
  while (!offered.empty()) {
    auto comma = offered.find(',');
    std::string_view item = offered.substr(0, comma);
    offered = comma == std::string_view::npos ? std::string_view() : offered.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.size() > kPrefix.size() && item.substr(0, kPrefix.size()) == kPrefix) {
      return "Bearer " + std::string(item.substr(kPrefix.size()));
    }
  }
  return {};
}

Status RateLimitedError(const RateLimiter::Decision& d) {
  if (!d.status.ok()) return d.status;  // shared store down with fail_open off: UNAVAILABLE, not 429
  return ResourceExhaustedError("rate limit exceeded (" + std::string(ScopeName(d.scope)) + "); retry after " +
                                std::to_string(d.retry_after.count()) + " ms")
      .WithDetail(ErrorDetail{"RetryInfo", {}}
                      .Add("retry_after_ms", int64_t(d.retry_after.count()))
                      .Add("scope", std::string(ScopeName(d.scope))));
}

}  // namespace

const std::string& RequestContext::PathParam(std::string_view name) const {
  static const std::string kEmpty;
  for (const auto& [k, v] : path_params) {
    if (k == name) return v;
  }
  return kEmpty;
}

Reply Reply::Json(const json::value& v, int status) {
  Reply r;
  r.status = status;
  r.body = json::serialize(v);
  return r;
}

json::object ErrorObject(const Status& status) {
  json::array details;
  for (const ErrorDetail& d : status.details()) {
    json::object o;
    o["type"] = d.type;
    for (const auto& [k, v] : d.fields) {
      if (const auto* s = std::get_if<std::string>(&v)) {
        o[k] = *s;
      } else if (const auto* i = std::get_if<int64_t>(&v)) {
        o[k] = *i;
      } else {
        o[k] = std::get<bool>(v);
      }
    }
    details.push_back(std::move(o));
  }
  json::object err;
  err["code"] = StatusCodeName(status.code());
  err["message"] = status.message();
  err["details"] = std::move(details);
  return err;
}

std::string ErrorBody(const Status& status) {
  json::object body;
  body["error"] = ErrorObject(status);
  return json::serialize(body);
}

Gateway::Gateway(Authenticator& auth, RateLimiter& limiter, RandomSource& random, bool log_requests)
    : auth_(auth), limiter_(limiter), random_(random), log_requests_(log_requests) {}

void Gateway::AddRoute(Route route) {
  compiled_.push_back(CompiledRoute{SplitPath(route.path)});
  routes_.push_back(std::move(route));
}

void Gateway::Freeze() {
  std::vector<std::string> names;
  for (const auto& r : routes_) names.push_back(r.operation_id);
  metrics_ = std::make_unique<HttpMetrics>(std::move(names));
  openapi_ = BuildOpenApi(routes_);
}

size_t Gateway::Match(std::string_view method, std::string_view path,
                      std::vector<std::pair<std::string, std::string>>* params, std::string* allow) const {
  std::vector<std::string> segments = SplitPath(path);
  for (size_t i = 0; i < routes_.size(); ++i) {
    const auto& pattern = compiled_[i].segments;
    if (pattern.size() != segments.size()) continue;
    std::vector<std::pair<std::string, std::string>> found;
    bool match = true;
    for (size_t s = 0; s < pattern.size() && match; ++s) {
      const std::string& p = pattern[s];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
        bool ok = false;
        std::string value = PercentDecode(segments[s], &ok);
        match = ok && !value.empty();
        found.emplace_back(p.substr(1, p.size() - 2), std::move(value));
      } else {
        match = p == segments[s];
      }
    }
    if (!match) continue;
    if (routes_[i].method == method) {
      *params = std::move(found);
      return i;
    }
    if (!allow->empty()) *allow += ", ";
    *allow += routes_[i].method;
  }
  return routes_.size();
}

StatusOr<Reply> Gateway::Run(size_t index, RequestContext& ctx, const HttpRequest& request, std::string* key_id) {
  const Route& route = routes_[index];
  if (route.access == Route::Access::kKey) {
    std::string authorization(request.Header("authorization"));
    if (authorization.empty() && route.websocket) {
      authorization = BearerFromSubprotocols(request.Header("sec-websocket-protocol"));
    }
    auto principal = auth_.Authenticate(authorization);
    if (!principal.ok()) {
      // Failed authentications are limited per client address, which blunts key guessing.
      if (principal.status().code() == StatusCode::kUnauthenticated) {
        auto d = limiter_.AdmitCaller("ip:" + request.remote_address, /*anonymous=*/true);
        if (!d.allowed) {
          metrics_->RateLimited(1);
          return RateLimitedError(d);
        }
      }
      return principal.status();
    }
    *key_id = principal->key.str();
    auto d = limiter_.AdmitCaller(principal->key.str(), /*anonymous=*/false);
    if (!d.allowed) {
      metrics_->RateLimited(1);
      return RateLimitedError(d);
    }
    if (!principal->Has(route.role)) {
      // Field by field with explicit alternatives: GCC 12 misreads the chained form as a use of
      // an uninitialised variant (as in mesh/server.cpp).
      ErrorDetail detail{"AuthorizationError", {}};
      detail.fields.emplace_back("service", ErrorDetail::Value(std::in_place_index<0>, "gateway"));
      detail.fields.emplace_back("operation", ErrorDetail::Value(std::in_place_index<0>, route.operation_id));
      detail.fields.emplace_back("required_role",
                                 ErrorDetail::Value(std::in_place_index<0>, std::string(RoleName(route.role))));
      return PermissionDeniedError("this operation needs the '" + std::string(RoleName(route.role)) + "' role")
          .WithDetail(std::move(detail));
    }
    ctx.principal = std::move(*principal);
  }
  auto d = limiter_.AdmitMethod(route.operation_id);
  if (!d.allowed) {
    metrics_->RateLimited(2);
    return RateLimitedError(d);
  }
  if (route.request) {
    ASSIGN_OR_RETURN(ctx.body, ParseAndValidate(request.body, *route.request));
  }
  return route.handler(ctx);
}

void Gateway::Handle(const HttpRequest& request, HttpResponse& response) {
  Dispatch(request, response, nullptr);
}

bool Gateway::Blocking(const HttpRequest& request) const {
  std::vector<std::pair<std::string, std::string>> params;
  std::string allow;
  size_t route = Match(request.method, request.Path(), &params, &allow);
  return route < routes_.size() && routes_[route].blocking;
}

std::optional<WsAccept> Gateway::Upgrade(const HttpRequest& request, HttpResponse& response) {
  std::optional<WsAccept> accept;
  Dispatch(request, response, &accept);
  return accept;
}

void Gateway::Dispatch(const HttpRequest& request, HttpResponse& response, std::optional<WsAccept>* upgrade) {
  auto start = std::chrono::steady_clock::now();
  metrics_->in_flight.fetch_add(1, std::memory_order_relaxed);

  RequestContext ctx{request, {}, std::nullopt, nullptr, TraceIdFrom(request.Header("traceparent"))};
  if (ctx.trace_id.empty()) {
    uint8_t id[16];
    random_.Fill(id);
    ctx.trace_id = HexEncode(id);
  }
  log::ScopedTraceId trace_scope(ctx.trace_id);

  size_t route = routes_.size();
  std::string allow, key_id;
  StatusOr<Reply> result = [&]() -> StatusOr<Reply> {
    auto g = limiter_.AdmitGlobal();
    if (!g.allowed) {
      metrics_->RateLimited(0);
      return RateLimitedError(g);
    }
    route = Match(request.method, request.Path(), &ctx.path_params, &allow);
    if (route == routes_.size()) {
      if (!allow.empty()) {
        return Status(StatusCode::kUnimplemented, "method " + std::string(request.method) + " is not allowed on " +
                                                      std::string(request.Path()) + " (allowed: " + allow + ")");
      }
      return NotFoundError("no route for " + std::string(request.method) + " " + std::string(request.Path()));
    }
    ASSIGN_OR_RETURN(Reply reply, Run(route, ctx, request, &key_id));
    if (reply.upgrade && !upgrade) {
      // A WebSocket route reached by a plain request (or through a server without upgrades).
      Reply r;
      r.status = 426;
      r.body = ErrorBody(
          FailedPreconditionError(std::string(request.Path()) +
                                  " is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket)"));
      r.headers.emplace_back("upgrade", "websocket");
      return r;
    }
    return reply;
  }();

  uint8_t span[8];
  random_.Fill(span);
  response.headers.emplace_back("x-trace-id", ctx.trace_id);
  response.headers.emplace_back("traceparent", "00-" + ctx.trace_id + "-" + HexEncode(span) + "-01");
  if (result.ok() && result->upgrade) {
    // Accepted: the 101 carries the trace headers (and the subprotocol, from the accept).
    response.status = 101;
    WsAccept accept = std::move(*result->upgrade);
    accept.headers.insert(accept.headers.end(), response.headers.begin(), response.headers.end());
    *upgrade = std::move(accept);
  } else if (result.ok()) {
    response.status = result->status;
    response.body = std::move(result->body);
    response.content_type = std::move(result->content_type);
    for (auto& h : result->headers) response.headers.push_back(std::move(h));
  } else {
    const Status& s = result.status();
    response.status = HttpStatusFor(s.code());
    if (!allow.empty() && route == routes_.size()) {
      response.status = 405;  // method not allowed: the one HTTP status with no gRPC code of its own
      response.headers.emplace_back("allow", allow);
    }
    if (s.code() == StatusCode::kUnauthenticated) {
      response.headers.emplace_back("www-authenticate", "Bearer");
    }
    for (const auto& d : s.details()) {
      if (d.type != "RetryInfo") continue;
      for (const auto& [k, v] : d.fields) {
        if (k == "retry_after_ms") {
          int64_t ms = std::get<int64_t>(v);
          response.headers.emplace_back("retry-after", std::to_string((ms + 999) / 1000));
        }
      }
    }
    response.content_type = "application/json";
    response.body = ErrorBody(s);
  }
  if (draining_) response.close = true;

  auto elapsed = std::chrono::steady_clock::now() - start;
  metrics_->Observe(route, response.status, elapsed);
  metrics_->in_flight.fetch_sub(1, std::memory_order_relaxed);
  if (log_requests_) {
    double ms = std::chrono::duration<double, std::milli>(elapsed).count();
    std::string_view op = route < routes_.size() ? std::string_view(routes_[route].operation_id) : "unmatched";
    std::string_view error = result.ok() ? std::string_view() : StatusCodeName(result.status().code());
    std::string_view message = result.ok() ? std::string_view() : result.status().message();
    log::Info("request", {{"method", request.method},
                          {"path", request.Path()},
                          {"route", op},
                          {"status", response.status},
                          {"duration_ms", ms},
                          {"remote", request.remote_address},
                          {"key_id", key_id},
                          {"bytes_out", response.body.size()},
                          {"error", error},
                          {"message", message}});
  }
}

}  // namespace neosl::gateway
