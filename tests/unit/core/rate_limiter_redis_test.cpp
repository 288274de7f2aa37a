// Shared rate limits (core/redis_bucket_store.h) against a real redis-server started per test on
// a loopback port (tests/support/redis_process.h). A "replica" is a RateLimiter with its own
// RedisBucketStore and its own manual clock: the two replicas' clocks are a day apart, which the
// shared buckets must not notice, since they are timed by Redis.
#include <algorithm>
#include <atomic>
#include <fstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/log.h"
#include "core/rate_limiter.h"
#include "core/redis_bucket_store.h"
#include "support/redis_process.h"
#include "support/temp_dir.h"

namespace neosl {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

struct Replica {
  ManualClock clock;
  RedisBucketStore* store = nullptr;  // owned by limiter
  std::unique_ptr<RateLimiter> limiter;
};

RateLimitConfig Limits(double rps, double burst) {
  RateLimitConfig c;
  c.global = {rps, burst};
  c.default_caller = {rps, burst};
  return c;
}

// How many lines of the log file hold `text`.
int CountLines(const std::string& path, std::string_view text) {
  log::Flush();
  std::ifstream in(path);
  int n = 0;
  for (std::string line; std::getline(in, line);) n += line.find(text) != std::string::npos ? 1 : 0;
  return n;
}

template <typename Pred>
bool PollUntil(Pred pred, std::chrono::milliseconds timeout) {
  auto deadline = Steady::now() + timeout;
  while (!pred()) {
    if (Steady::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);  // polling a condition with a deadline
  }
  return true;
}

class SharedRateLimitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::RedisProcess::Binary().empty()) {
      GTEST_SKIP() << "redis-server not installed (scripts/install-deps installs it, or set NEOSL_REDIS_SERVER)";
    }
    std::string error;
    redis_ = testing::RedisProcess::Launch(&error);
    ASSERT_TRUE(redis_) << error;
  }
  void TearDown() override {
    if (logging_) {
      ASSERT_TRUE(log::Init(log::Options{}).ok());
    }
  }

  // `timeout` is generous by default: a loaded test machine must not turn a test about sharing
  // into one about fallbacks. The tests of slowness pass their own.
  std::unique_ptr<Replica> NewReplica(const RateLimitConfig& limits, bool fail_open = true,
                                      std::chrono::milliseconds timeout = 2s, int64_t clock_ms = 1'700'000'000'000) {
    auto r = std::make_unique<Replica>();
    r->clock.Advance(std::chrono::milliseconds(clock_ms - 1'700'000'000'000));
    auto endpoint = redis::ParseDsn(redis_->dsn());
    EXPECT_TRUE(endpoint.ok());
    RedisBucketStoreOptions o;
    o.endpoint = std::move(*endpoint);
    o.timeout = timeout;
    o.connections = 4;
    o.fail_open = fail_open;
    auto store = std::make_unique<RedisBucketStore>(std::move(o));
    r->store = store.get();
    RateLimiter::Shared shared;
    shared.store = std::move(store);
    shared.fail_open = fail_open;
    r->limiter = std::make_unique<RateLimiter>(limits, r->clock, std::move(shared));
    EXPECT_TRUE(r->store->WaitUp(10s)) << redis_->Logs();
    return r;
  }

  // A connection for looking at Redis from the side.
  std::unique_ptr<redis::Connection> Admin() {
    auto endpoint = redis::ParseDsn(redis_->dsn());
    auto conn = redis::Connection::Open(*endpoint, Steady::now() + 5s);
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    return conn.ok() ? std::move(*conn) : nullptr;
  }
  int64_t Integer(std::initializer_list<std::string_view> command) {
    auto conn = Admin();
    if (!conn) return -1000;
    auto r = conn->Call(command, Steady::now() + 5s);
    EXPECT_TRUE(r.ok() && r->type == redis::Reply::Type::kInteger) << (r.ok() ? r->text : r.status().ToString());
    return r.ok() ? r->integer : -1000;
  }

  std::string LogToFile() {
    logging_ = true;
    std::string path = log_dir_.File("neosl.log");
    EXPECT_TRUE(log::Init(log::Options{log::Level::kInfo, true, path}).ok());
    return path;
  }

  std::unique_ptr<testing::RedisProcess> redis_;
  testing::TempDir log_dir_;
  bool logging_ = false;
};

TEST_F(SharedRateLimitTest, TwoReplicasShareOneBurst) {
  // 0.01 tokens per second: nothing refills while the test runs.
  auto a = NewReplica(Limits(0.01, 37));
  auto b = NewReplica(Limits(0.01, 37), true, 2s, 1'700'086'400'000);  // a day ahead of a
  std::atomic<int> admitted{0}, refused{0};
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      RateLimiter& limiter = *(t % 2 == 0 ? a : b)->limiter;
      for (int i = 0; i < 30; ++i) {
        auto d = limiter.AdmitGlobal();
        if (d.allowed) {
          ++admitted;
        } else {
          ++refused;
          EXPECT_TRUE(d.status.ok()) << d.status.ToString();  // a bucket's refusal, not an outage
          EXPECT_EQ(d.scope, RateLimiter::Scope::kGlobal);
          EXPECT_GT(d.retry_after, 0ms);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 37);  // not 2 x 37: one bucket for both
  EXPECT_EQ(refused.load(), 4 * 30 - 37);
  EXPECT_EQ(a->limiter->shared_stats().decided_locally + b->limiter->shared_stats().decided_locally, 0u);

  // Callers: one bucket per key across replicas, distinct keys apart.
  EXPECT_TRUE(a->limiter->AdmitCaller("alice", false).allowed);
  EXPECT_TRUE(b->limiter->AdmitCaller("bob", false).allowed);
  int alice = 1;
  for (int i = 0; i < 100; ++i) alice += (i % 2 ? a : b)->limiter->AdmitCaller("alice", false).allowed ? 1 : 0;
  EXPECT_EQ(alice, 37);
  EXPECT_EQ(Integer({"EXISTS", "neosl:rl:caller:alice"}), 1);
  EXPECT_EQ(Integer({"EXISTS", "neosl:rl:caller:bob"}), 1);
}

TEST_F(SharedRateLimitTest, RetryAfterIsWithinOneTokensTimeAndRefillComesThen) {
  auto a = NewReplica(Limits(10, 1));  // a token every 100 ms
  auto b = NewReplica(Limits(10, 1));
  const auto start = Steady::now();
  ASSERT_TRUE(a->limiter->AdmitGlobal().allowed);
  auto refused = b->limiter->AdmitGlobal();
  ASSERT_FALSE(refused.allowed);
  EXPECT_GT(refused.retry_after, 0ms);
  EXPECT_LE(refused.retry_after, 100ms);
  // Poll both replicas until one gets the next token; every refusal on the way promises at most
  // the rest of the 100 ms.
  bool got = false;
  int polls = 0;
  while (!got && Steady::now() - start < 2s) {
    auto d = (polls++ % 2 ? a : b)->limiter->AdmitGlobal();
    got = d.allowed;
    if (!got) {
      EXPECT_GT(d.retry_after, 0ms);
      EXPECT_LE(d.retry_after, 100ms);
    }
  }
  const auto elapsed = Steady::now() - start;
  ASSERT_TRUE(got);
  // Redis's clock between the two takes is inside this process's window around them.
  EXPECT_GE(elapsed, 100ms);
  EXPECT_LT(elapsed, 600ms);  // loose: a loaded machine may delay the polls
}

TEST_F(SharedRateLimitTest, SustainedRateIsTheConfiguredOneAcrossReplicas) {
  constexpr double kRate = 50, kBurst = 5;
  auto a = NewReplica(Limits(kRate, kBurst));
  auto b = NewReplica(Limits(kRate, kBurst));
  std::atomic<int> admitted{0};
  std::atomic<bool> stop{false};
  const auto start = Steady::now();
  std::vector<std::thread> threads;
  for (Replica* r : {a.get(), b.get()}) {
    threads.emplace_back([&, r] {
      while (!stop.load()) {
        auto d = r->limiter->AdmitGlobal();
        if (d.allowed)
          ++admitted;
        else
          EXPECT_LE(d.retry_after, 20ms);  // 1 / rate
      }
    });
  }
  std::this_thread::sleep_for(1s);  // the measured interval itself, not a wait for a race
  stop = true;
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Steady::now() - start).count();
  // Every take happened inside [start, now] on Redis's clock: at most burst + rate x seconds.
  // Polling without pause loses at most the edges (0.2 s given to a busy machine). Two separate
  // buckets would admit about twice as many.
  EXPECT_LE(admitted.load(), kBurst + kRate * seconds + 1) << seconds;
  EXPECT_GE(admitted.load(), kBurst + kRate * (seconds - 0.2) - 1) << seconds;
  EXPECT_EQ(a->limiter->shared_stats().decided_locally + b->limiter->shared_stats().decided_locally, 0u);
}

TEST_F(SharedRateLimitTest, IdleBucketsExpireOnceTheyWouldBeFull) {
  auto a = NewReplica(Limits(1000, 5));
  ASSERT_TRUE(a->limiter->AdmitGlobal().allowed);
  // One token missing refills in 1 ms; the key lives that long plus a second.
  int64_t ttl = Integer({"PTTL", "neosl:rl:global"});
  EXPECT_GT(ttl, 900);
  EXPECT_LE(ttl, 1001);
  EXPECT_TRUE(PollUntil([&] { return Integer({"EXISTS", "neosl:rl:global"}) == 0; }, 5s));
}

TEST_F(SharedRateLimitTest, RedisDownFailOpenUsesLocalBucketsAndLogsOnce) {
  const std::string log_path = LogToFile();
  auto a = NewReplica(Limits(0.01, 3));
  EXPECT_TRUE(a->limiter->AdmitGlobal().allowed);  // through Redis: the local bucket stays full
  redis_->Stop(0ms);                               // SIGKILL
  int admitted = 0;
  for (int i = 0; i < 50; ++i) {
    const auto t0 = Steady::now();
    auto d = a->limiter->AdmitGlobal();
    EXPECT_LT(Steady::now() - t0, 500ms) << i;  // no waiting on a dead server
    if (d.allowed)
      ++admitted;
    else
      EXPECT_TRUE(d.status.ok()) << "a local bucket's refusal: " << d.status.ToString();
  }
  EXPECT_EQ(admitted, 3);  // the local bucket's burst; the manual clock never refills it
  auto stats = a->limiter->shared_stats();
  EXPECT_FALSE(stats.store.up);
  EXPECT_EQ(stats.store.outages, 1u);
  EXPECT_EQ(stats.decided_locally, 50u);
  EXPECT_EQ(CountLines(log_path, "Redis unreachable or slow"), 1);  // once per outage, not per request
  const std::string metrics = a->limiter->RenderMetrics();
  EXPECT_NE(metrics.find("neosl_rate_limit_shared_up 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("neosl_rate_limit_shared_outages_total 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("neosl_rate_limit_shared_fallbacks_total{outcome=\"local\"} 50\n"), std::string::npos);
}

TEST_F(SharedRateLimitTest, RedisDownFailClosedRefusesWithUnavailable) {
  auto a = NewReplica(Limits(0.01, 1), /*fail_open=*/false);
  EXPECT_TRUE(a->limiter->AdmitCaller("k", false).allowed);
  auto limited = a->limiter->AdmitCaller("k", false);
  EXPECT_FALSE(limited.allowed);
  EXPECT_TRUE(limited.status.ok());  // the bucket is empty: RESOURCE_EXHAUSTED for the caller
  redis_->Stop(0ms);
  for (int i = 0; i < 5; ++i) {
    auto d = a->limiter->AdmitCaller("other", false);  // a fresh caller is refused all the same
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.status.code(), StatusCode::kUnavailable) << d.status.ToString();
    EXPECT_EQ(d.scope, RateLimiter::Scope::kCaller);
  }
  EXPECT_EQ(a->limiter->shared_stats().refused_unavailable, 5u);
  EXPECT_EQ(a->limiter->shared_stats().decided_locally, 0u);
}

TEST_F(SharedRateLimitTest, RecoversAfterRedisRestartsWithoutRestartingTheLimiter) {
  const std::string log_path = LogToFile();
  auto a = NewReplica(Limits(0.01, 2));
  auto b = NewReplica(Limits(0.01, 2));
  redis_->Stop(0ms);
  // Both serve traffic through the outage, so both see it (a replica that sent nothing would
  // find out on its first request after the restart, and decide that one locally).
  EXPECT_TRUE(a->limiter->AdmitGlobal().allowed);  // locally
  EXPECT_TRUE(b->limiter->AdmitGlobal().allowed);
  EXPECT_FALSE(a->store->Stats().up);
  EXPECT_FALSE(b->store->Stats().up);
  std::string error;
  ASSERT_TRUE(redis_->Restart(&error)) << error;  // empty: the buckets start full again
  ASSERT_TRUE(PollUntil([&] { return a->store->Stats().up && b->store->Stats().up; }, 10s));
  const uint64_t local_before = a->limiter->shared_stats().decided_locally;
  int admitted = 0;
  for (int i = 0; i < 10; ++i) admitted += (i % 2 ? a : b)->limiter->AdmitGlobal().allowed ? 1 : 0;
  EXPECT_EQ(admitted, 2);  // shared again (local buckets would give each replica its own)
  EXPECT_EQ(a->limiter->shared_stats().decided_locally, local_before);
  EXPECT_EQ(Integer({"EXISTS", "neosl:rl:global"}), 1);
  EXPECT_GE(CountLines(log_path, "Redis answers again"), 1);
}

TEST_F(SharedRateLimitTest, SlowRedisNeverHoldsAnAdmissionMuchLongerThanTheTimeout) {
  constexpr auto kTimeout = 50ms;
  auto a = NewReplica(Limits(0.01, 1e9), true, kTimeout);  // a local bucket that never runs dry
  ASSERT_TRUE(a->limiter->AdmitGlobal().allowed);
  std::atomic<bool> slept{false};
  std::thread sleeper([&] {
    auto conn = Admin();
    if (conn) {
      auto r = conn->Call({"DEBUG", "SLEEP", "1"}, Steady::now() + 10s);  // the whole server stalls 1 s
      EXPECT_TRUE(r.ok() && !r->is_error()) << (r.ok() ? r->text : r.status().ToString());
    }
    slept = true;
  });
  Steady::duration worst{0};
  int admissions = 0;
  while (!slept.load()) {
    const auto t0 = Steady::now();
    EXPECT_TRUE(a->limiter->AdmitGlobal().allowed);
    worst = std::max(worst, Steady::now() - t0);
    ++admissions;
    std::this_thread::sleep_for(1ms);  // pacing, to leave the two cores to Redis and the maintainer
  }
  sleeper.join();
  EXPECT_GT(a->limiter->shared_stats().decided_locally, 0u) << "the stall was never seen";
  // A client that blocked would take the whole stall (~1 s); the margin over the timeout is for
  // a loaded machine (CI), not for Redis.
  EXPECT_LT(worst, kTimeout + 500ms) << admissions << " admissions";
  // After the stall the pool is rebuilt and admissions go through Redis again.
  ASSERT_TRUE(PollUntil([&] { return a->store->Stats().up; }, 10s));
  const uint64_t local = a->limiter->shared_stats().decided_locally;
  EXPECT_TRUE(a->limiter->AdmitGlobal().allowed);
  EXPECT_EQ(a->limiter->shared_stats().decided_locally, local);
}

TEST_F(SharedRateLimitTest, AFlushedScriptCacheIsReloadedWithEval) {
  auto a = NewReplica(Limits(0.01, 3));
  EXPECT_TRUE(a->limiter->AdmitGlobal().allowed);
  auto admin = Admin();
  ASSERT_TRUE(admin);
  auto flushed = admin->Call({"SCRIPT", "FLUSH"}, Steady::now() + 5s);
  ASSERT_TRUE(flushed.ok() && !flushed->is_error());
  EXPECT_TRUE(a->limiter->AdmitGlobal().allowed);  // NOSCRIPT, then EVAL on the same connection
  EXPECT_TRUE(a->limiter->AdmitGlobal().allowed);
  EXPECT_FALSE(a->limiter->AdmitGlobal().allowed);  // the same bucket throughout
  EXPECT_EQ(a->limiter->shared_stats().decided_locally, 0u);
  EXPECT_EQ(a->store->Stats().outages, 0u);
}

TEST_F(SharedRateLimitTest, TheGatewayFactoryReadsRateLimitsRedis) {
  std::map<std::string, std::string> env = {{"NEOSL_RATE_LIMITS_REDIS_DSN", redis_->dsn()},
                                            {"NEOSL_RATE_LIMITS_GLOBAL_REQUESTS_PER_SECOND", "1"},
                                            {"NEOSL_RATE_LIMITS_GLOBAL_BURST", "3"}};
  auto config = Config::Load(std::nullopt, env);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ManualClock clock;
  auto a = NewGatewayRateLimiter(*config, clock);
  auto b = NewGatewayRateLimiter(*config, clock);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE((*a)->shared_stats().configured);
  ASSERT_TRUE(PollUntil([&] { return (*a)->shared_stats().store.up && (*b)->shared_stats().store.up; }, 10s));
  int admitted = 0;
  for (int i = 0; i < 8; ++i) admitted += (i % 2 ? *a : *b)->AdmitGlobal().allowed ? 1 : 0;
  EXPECT_EQ(admitted, 3);  // these calls take milliseconds: at one token a second, none refills
  EXPECT_EQ((*a)->shared_stats().decided_locally, 0u);

  auto local = NewGatewayRateLimiter(*Config::Load(std::nullopt, {}), clock);
  ASSERT_TRUE(local.ok());
  EXPECT_FALSE((*local)->shared_stats().configured);
  EXPECT_EQ((*local)->RenderMetrics(), "");

  auto bad = Config::Load(std::nullopt, {{"NEOSL_RATE_LIMITS_REDIS_DSN", "redis://:hunter2@/0"}});
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->ToJson().find("hunter2"), std::string::npos);  // the DSN is a secret key
  auto refused = NewGatewayRateLimiter(*bad, clock);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("rate_limits.redis.dsn"), std::string_view::npos);
  EXPECT_EQ(refused.status().message().find("hunter2"), std::string_view::npos);
}

}  // namespace
}  // namespace neosl
