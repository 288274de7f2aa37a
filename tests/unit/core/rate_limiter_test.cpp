#include "core/rate_limiter.h"

#include <gtest/gtest.h>

namespace neosl {
namespace {

using namespace std::chrono_literals;

RateLimitConfig Config(double rps, double burst) {
  RateLimitConfig c;
  c.global = {rps, burst};
  c.default_caller = {rps, burst};
  c.anonymous = {rps, burst};
  return c;
}

TEST(RateLimiterTest, BurstThenRefillAtTheConfiguredRate) {
  ManualClock clock;
  RateLimiter limiter(Config(10, 5), clock);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.AdmitGlobal().allowed) << i;
  auto refused = limiter.AdmitGlobal();
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.scope, RateLimiter::Scope::kGlobal);
  EXPECT_EQ(refused.retry_after, 100ms);  // one token at 10/s
  clock.Advance(99ms);
  EXPECT_FALSE(limiter.AdmitGlobal().allowed);
  clock.Advance(1ms);
  EXPECT_TRUE(limiter.AdmitGlobal().allowed);
  // A long pause refills only up to the burst.
  clock.Advance(10s);
  int admitted = 0;
  while (limiter.AdmitGlobal().allowed) ++admitted;
  EXPECT_EQ(admitted, 5);
}

TEST(RateLimiterTest, CallersHaveTheirOwnBucketsAndOverrides) {
  ManualClock clock;
  RateLimitConfig c = Config(1, 2);
  c.per_caller["vip"] = {1, 10};
  RateLimiter limiter(c, clock);
  EXPECT_TRUE(limiter.AdmitCaller("a", false).allowed);
  EXPECT_TRUE(limiter.AdmitCaller("a", false).allowed);
  EXPECT_FALSE(limiter.AdmitCaller("a", false).allowed);
  EXPECT_TRUE(limiter.AdmitCaller("b", false).allowed);  // b is untouched by a
  int vip = 0;
  while (limiter.AdmitCaller("vip", false).allowed) ++vip;
  EXPECT_EQ(vip, 10);
  // The override applies to keys only; an anonymous caller named "vip" gets the anonymous spec.
  int anon = 0;
  while (limiter.AdmitCaller("vip", true).allowed && anon < 100) ++anon;
  EXPECT_LE(anon, 10);
}

TEST(RateLimiterTest, MethodsAreLimitedOnlyWhenConfigured) {
  ManualClock clock;
  RateLimitConfig c;
  c.per_method["InvokeFunction"] = {2, 1};
  RateLimiter limiter(c, clock);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(limiter.AdmitMethod("GetMe").allowed);
  EXPECT_TRUE(limiter.AdmitMethod("InvokeFunction").allowed);
  auto d = limiter.AdmitMethod("InvokeFunction");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.scope, RateLimiter::Scope::kMethod);
  EXPECT_EQ(d.retry_after, 500ms);
}

TEST(RateLimiterTest, ZeroRateDisablesABucket) {
  ManualClock clock;
  RateLimiter limiter(Config(0, 0), clock);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.AdmitGlobal().allowed);
}

TEST(RateLimiterTest, ManyDistinctCallersDoNotGrowWithoutBound) {
  ManualClock clock;
  RateLimiter limiter(Config(1000, 1), clock);
  // 200k distinct anonymous addresses, each refilled by the time the table is swept.
  for (int i = 0; i < 200'000; ++i) {
    ASSERT_TRUE(limiter.AdmitCaller("ip:" + std::to_string(i), true).allowed);
    if (i % 1000 == 0) clock.Advance(10ms);
  }
  SUCCEED();  // under ASan/LSan this also proves evicted buckets are freed, not leaked
}

TEST(RateLimitConfigTest, ReadsTheSeedsYamlShape) {
  auto cfg = neosl::Config::Load(std::nullopt, {{"NEOSL_RATE_LIMITS_GLOBAL_BURST", "7"}});
  ASSERT_TRUE(cfg.ok());
  auto c = RateLimitConfig::FromConfig(*cfg);
  EXPECT_EQ(c.global.burst, 7);
  EXPECT_GT(c.default_caller.requests_per_second, 0);
  EXPECT_GT(c.anonymous.requests_per_second, 0);
  EXPECT_TRUE(c.per_caller.empty());
  EXPECT_TRUE(c.per_method.empty());
}

}  // namespace
}  // namespace neosl
