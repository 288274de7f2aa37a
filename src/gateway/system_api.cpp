// Liveness, readiness, metrics and the API description.
#include <boost/json.hpp>

#include "core/business_metrics.h"
#include "gateway/routes.h"

#ifndef NEOSL_VERSION
#define NEOSL_VERSION "0.0.0"
#endif

namespace neosl::gateway {
namespace json = boost::json;

void RegisterSystemRoutes(Gateway& gateway, std::vector<ReadinessCheck> checks, const Clock& clock,
                          std::vector<MetricsSource> metrics) {
  auto started = clock.SteadyNow();
  Gateway* gw = &gateway;
  neosl::metrics::RegisterAll();  // every family on the first scrape, at 0 until counted

  gateway.AddRoute(
      Route{.method = "GET",
            .path = "/v1/health",
            .operation_id = "GetHealth",
            .summary = "Liveness: the process is up and serving HTTP",
            .tag = "system",
            .access = Route::Access::kPublic,
            .response = Object({{"status", String().OneOf({"ok"}), kRequired},
                                {"version", String(), kRequired},
                                {"uptime_seconds", Integer(), kRequired}}),
            .handler = [&clock, started](RequestContext&) -> StatusOr<Reply> {
              auto up = std::chrono::duration_cast<std::chrono::seconds>(clock.SteadyNow() - started).count();
              return Reply::Json(json::object{{"status", "ok"}, {"version", NEOSL_VERSION}, {"uptime_seconds", up}});
            }});

  gateway.AddRoute(
      Route{.method = "GET",
            .path = "/v1/ready",
            .operation_id = "GetReady",
            .summary = "Readiness: every dependency answers (503 while one does not, or while draining)",
            .tag = "system",
            .access = Route::Access::kPublic,
            .response =
                Object({{"status", String().OneOf({"ready", "not_ready", "draining"}), kRequired},
                        {"checks", Object({}).AllowAdditional().Describe("name → \"ok\" or the failure"), kRequired}}),
            .handler = [gw, checks = std::move(checks)](RequestContext&) -> StatusOr<Reply> {
              json::object results;
              bool ready = true;
              for (const auto& c : checks) {
                Status s = c.check();
                results[c.name] = s.ok() ? std::string("ok") : s.ToString();
                ready = ready && s.ok();
              }
              const char* status = gw->draining() ? "draining" : ready ? "ready" : "not_ready";
              int code = (ready && !gw->draining()) ? 200 : 503;
              return Reply::Json(json::object{{"status", status}, {"checks", std::move(results)}}, code);
            }});

  gateway.AddRoute(Route{.method = "GET",
                         .path = "/metrics",
                         .operation_id = "GetMetrics",
                         .summary = "Prometheus metrics (text exposition format 0.0.4)",
                         .tag = "system",
                         .access = Route::Access::kPublic,
                         .response_content_type = "text/plain",
                         .handler = [gw, metrics = std::move(metrics)](RequestContext&) -> StatusOr<Reply> {
                           Reply r;
                           r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                           r.body = gw->metrics().Render();
                           for (const auto& source : metrics) r.body += source();
                           r.body += neosl::metrics::Default().Render();  // the services' business metrics
                           return r;
                         }});

  gateway.AddRoute(Route{.method = "GET",
                         .path = "/v1/openapi.json",
                         .operation_id = "GetOpenApi",
                         .summary = "This API, as an OpenAPI 3.1 document",
                         .tag = "system",
                         .access = Route::Access::kPublic,
                         .response = Object({}).AllowAdditional(),
                         .handler = [gw](RequestContext&) -> StatusOr<Reply> {
                           Reply r;
                           r.body = gw->openapi();
                           return r;
                         }});
}

}  // namespace neosl::gateway
