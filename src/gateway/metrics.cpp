#include "gateway/metrics.h"

#include <cstdio>

namespace neosl::gateway {

#ifndef NEOSL_VERSION
#define NEOSL_VERSION "0.0.0"
#endif
#ifndef NEOSL_GIT_COMMIT
#define NEOSL_GIT_COMMIT "unknown"
#endif

HttpMetrics::HttpMetrics(std::vector<std::string> routes)
    : routes_(std::move(routes)),
      series_(new RouteSeries[routes_.size() + 1]),
      started_(std::chrono::system_clock::now()) {
  routes_.emplace_back("unmatched");
}

HttpMetrics::~HttpMetrics() {
  for (size_t r = 0; r < routes_.size(); ++r) {
    for (auto& s : series_[r].by_status) delete s.load();
  }
}

void HttpMetrics::Observe(size_t route, int status, std::chrono::nanoseconds latency) {
  if (route >= routes_.size()) route = routes_.size() - 1;
  if (status < 0 || status >= kMaxStatus) status = 0;
  auto& slot = series_[route].by_status[status];
  Series* s = slot.load(std::memory_order_acquire);
  if (!s) {
    auto* fresh = new Series();
    if (slot.compare_exchange_strong(s, fresh, std::memory_order_acq_rel)) {
      s = fresh;
    } else {
      delete fresh;  // another thread won; `s` now holds its series
    }
  }
  s->count.fetch_add(1, std::memory_order_relaxed);
  s->sum_ns.fetch_add(static_cast<uint64_t>(latency.count()), std::memory_order_relaxed);
  double seconds = std::chrono::duration<double>(latency).count();
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      s->buckets[i].fetch_add(1, std::memory_order_relaxed);
      break;  // cumulative counts are summed at render time
    }
  }
}

void HttpMetrics::RateLimited(size_t scope) {
  if (scope < rate_limited_.size()) rate_limited_[scope].fetch_add(1, std::memory_order_relaxed);
}

std::string HttpMetrics::Render() const {
  std::string out;
  char buf[256];
  out +=
      "# HELP neosl_build_info Build information; the value is always 1.\n"
      "# TYPE neosl_build_info gauge\n";
  out += "neosl_build_info{version=\"" NEOSL_VERSION "\",commit=\"" NEOSL_GIT_COMMIT "\",compiler=\"gcc " __VERSION__
         "\"} 1\n";
  std::snprintf(
      buf, sizeof buf,
      "# HELP neosl_process_start_time_seconds Start time of the process since the Unix epoch.\n"
      "# TYPE neosl_process_start_time_seconds gauge\n"
      "neosl_process_start_time_seconds %lld\n",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(started_.time_since_epoch()).count()));
  out += buf;

  std::string counts =
      "# HELP neosl_http_requests_total HTTP requests answered, by route and status code.\n"
      "# TYPE neosl_http_requests_total counter\n";
  std::string hist =
      "# HELP neosl_http_request_duration_seconds Time from a request's last byte read to its "
      "response, by route and status code.\n"
      "# TYPE neosl_http_request_duration_seconds histogram\n";
  for (size_t r = 0; r < routes_.size(); ++r) {
    for (int code = 0; code < kMaxStatus; ++code) {
      const Series* s = series_[r].by_status[code].load(std::memory_order_acquire);
      if (!s) continue;
      std::string labels = "route=\"" + routes_[r] + "\",code=\"" + std::to_string(code) + "\"";
      uint64_t count = s->count.load(std::memory_order_relaxed);
      counts += "neosl_http_requests_total{" + labels + "} " + std::to_string(count) + "\n";
      uint64_t cumulative = 0;
      for (size_t i = 0; i < kBuckets.size(); ++i) {
        cumulative += s->buckets[i].load(std::memory_order_relaxed);
        std::snprintf(buf, sizeof buf, "%g", kBuckets[i]);
        hist += "neosl_http_request_duration_seconds_bucket{" + labels + ",le=\"" + buf + "\"} " +
                std::to_string(cumulative) + "\n";
      }
      hist += "neosl_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " + std::to_string(count) + "\n";
      std::snprintf(buf, sizeof buf, "%.9f", double(s->sum_ns.load(std::memory_order_relaxed)) / 1e9);
      hist += "neosl_http_request_duration_seconds_sum{" + labels + "} " + buf + "\n";
      hist += "neosl_http_request_duration_seconds_count{" + labels + "} " + std::to_string(count) + "\n";
    }
  }
  out += counts;
  out += hist;

  out +=
      "# HELP neosl_http_requests_in_flight Requests being handled now.\n"
      "# TYPE neosl_http_requests_in_flight gauge\n"
      "neosl_http_requests_in_flight " +
      std::to_string(in_flight.load()) + "\n";
  out +=
      "# HELP neosl_http_connections_open Client connections open now.\n"
      "# TYPE neosl_http_connections_open gauge\n"
      "neosl_http_connections_open " +
      std::to_string(connections_open.load()) + "\n";
  out +=
      "# HELP neosl_http_connections_total Client connections accepted.\n"
      "# TYPE neosl_http_connections_total counter\n"
      "neosl_http_connections_total " +
      std::to_string(connections_total.load()) + "\n";
  out +=
      "# HELP neosl_rate_limited_total Requests refused by a rate limit, by bucket scope.\n"
      "# TYPE neosl_rate_limited_total counter\n";
  const char* scopes[] = {"global", "per_caller", "per_method"};
  for (size_t i = 0; i < rate_limited_.size(); ++i) {
    out += std::string("neosl_rate_limited_total{scope=\"") + scopes[i] + "\"} " +
           std::to_string(rate_limited_[i].load()) + "\n";
  }
  return out;
}

}  // namespace neosl::gateway
