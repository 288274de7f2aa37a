#include "gateway/metrics.h"

#include <thread>

#include <gtest/gtest.h>

#include "gateway/server.h"

namespace neosl::gateway {
namespace {

using namespace std::chrono_literals;

TEST(HttpMetricsTest, HistogramBucketsAreCumulative) {
  HttpMetrics m({"GetMe"});
  m.Observe(0, 200, 50us);   // ≤ 0.0001
  m.Observe(0, 200, 700us);  // ≤ 0.001
  m.Observe(0, 200, 2s);     // ≤ 5
  m.Observe(0, 404, 1ms);
  std::string text = m.Render();
  auto has = [&](const std::string& line) { return text.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(has(R"(neosl_http_requests_total{route="GetMe",code="200"} 3)")) << text;
  EXPECT_TRUE(has(R"(neosl_http_requests_total{route="GetMe",code="404"} 1)"));
  EXPECT_TRUE(has(R"(neosl_http_request_duration_seconds_bucket{route="GetMe",code="200",le="0.0001"} 1)"));
  EXPECT_TRUE(has(R"(neosl_http_request_duration_seconds_bucket{route="GetMe",code="200",le="0.001"} 2)"));
  EXPECT_TRUE(has(R"(neosl_http_request_duration_seconds_bucket{route="GetMe",code="200",le="1"} 2)"));
  EXPECT_TRUE(has(R"(neosl_http_request_duration_seconds_bucket{route="GetMe",code="200",le="5"} 3)"));
  EXPECT_TRUE(has(R"(neosl_http_request_duration_seconds_bucket{route="GetMe",code="200",le="+Inf"} 3)"));
  EXPECT_TRUE(has(R"(neosl_http_request_duration_seconds_count{route="GetMe",code="200"} 3)"));
  EXPECT_TRUE(has(R"(neosl_http_request_duration_seconds_sum{route="GetMe",code="200"} 2.000750000)"));
}

TEST(HttpMetricsTest, OutOfRangeRouteAndStatusGoToUnmatched) {
  HttpMetrics m({"A"});
  m.Observe(99, 200, 1us);
  m.Observe(0, 9999, 1us);
  std::string text = m.Render();
  EXPECT_NE(text.find(R"(neosl_http_requests_total{route="unmatched",code="200"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(neosl_http_requests_total{route="A",code="0"} 1)"), std::string::npos);
}

TEST(HttpMetricsTest, ConcurrentObservationsAreAllCounted) {
  HttpMetrics m({"A", "B"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&m, t] {
      for (int i = 0; i < 10000; ++i) m.Observe(size_t(t % 2), 200 + (i % 3), 1us);
    });
  }
  for (auto& t : threads) t.join();
  std::string text = m.Render();
  uint64_t total = 0;
  for (size_t pos = 0; (pos = text.find("neosl_http_requests_total{", pos)) != std::string::npos; ++pos) {
    total += std::stoull(text.substr(text.find("} ", pos) + 2));
  }
  EXPECT_EQ(total, 40000u);
}

TEST(ListenAddressTest, ParsesAndRejects) {
  std::string host;
  uint16_t port;
  ASSERT_TRUE(ParseListenAddress("127.0.0.1:8080", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 8080);
  ASSERT_TRUE(ParseListenAddress("[::1]:0", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);
  ASSERT_TRUE(ParseListenAddress("localhost:1", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  for (const char* bad : {"", "8080", ":80", "host:", "h:65536", "h:-1", "h:8o", "h:123456"}) {
    EXPECT_EQ(ParseListenAddress(bad, &host, &port).code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace neosl::gateway
