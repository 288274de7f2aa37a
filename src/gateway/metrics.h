// Prometheus metrics of the HTTP front door: request counts and latency histograms by route
// and status code, requests in flight, open connections, rate-limit refusals, build info.
// The hot path is lock-free: a series is found by (route index, status code) in a fixed table
// of atomics, created on first use with a compare-and-swap.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace neosl::gateway {

class HttpMetrics {
 public:
  // `routes`: the operation ids in route-table order; index routes.size() is "unmatched".
  explicit HttpMetrics(std::vector<std::string> routes);
  ~HttpMetrics();

  void Observe(size_t route, int status, std::chrono::nanoseconds latency);
  void RateLimited(size_t scope);  // 0 global, 1 per_caller, 2 per_method

  std::atomic<int64_t> in_flight{0};
  std::atomic<int64_t> connections_open{0};
  std::atomic<uint64_t> connections_total{0};

  // The Prometheus text exposition format (version 0.0.4).
  std::string Render() const;

  static constexpr std::array<double, 14> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                      0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   5.0};

 private:
  struct Series {
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> sum_ns{0};
    std::array<std::atomic<uint64_t>, kBuckets.size()> buckets{};
  };
  static constexpr int kMaxStatus = 600;
  struct RouteSeries {
    std::array<std::atomic<Series*>, kMaxStatus> by_status{};
  };

  std::vector<std::string> routes_;
  std::unique_ptr<RouteSeries[]> series_;
  std::array<std::atomic<uint64_t>, 3> rate_limited_{};
  std::chrono::system_clock::time_point started_;
};

}  // namespace neosl::gateway
