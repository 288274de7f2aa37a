#include "mesh/resilience.h"

#include <atomic>
#include <climits>
#include <cmath>
#include <latch>
#include <limits>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/random.h"

namespace neosl::mesh {
namespace {

using std::chrono::milliseconds;

// Fails the test if asked for randomness: a delay without jitter must not need any.
class NoRandom final : public RandomSource {
 public:
  void Fill(std::span<uint8_t> /*out*/) override { ADD_FAILURE() << "BackoffDelay drew a random number"; }
};

BackoffPolicy NoJitter() {
  return BackoffPolicy{.initial = milliseconds(100), .max = milliseconds(1000), .multiplier = 2.0, .jitter = 0};
}

// ---- backoff ----

TEST(BackoffTest, GrowsGeometricallyUpToMax) {
  NoRandom random;
  BackoffPolicy policy = NoJitter();
  std::vector<int64_t> got;
  for (int attempt = 1; attempt <= 7; ++attempt) got.push_back(BackoffDelay(policy, attempt, random).count());
  EXPECT_EQ(got, (std::vector<int64_t>{100, 200, 400, 800, 1000, 1000, 1000}));
}

TEST(BackoffTest, OtherMultipliers) {
  NoRandom random;
  BackoffPolicy policy = NoJitter();
  policy.multiplier = 1.5;
  EXPECT_EQ(BackoffDelay(policy, 1, random), milliseconds(100));
  EXPECT_EQ(BackoffDelay(policy, 2, random), milliseconds(150));
  EXPECT_EQ(BackoffDelay(policy, 3, random), milliseconds(225));
  policy.multiplier = 1.0;
  EXPECT_EQ(BackoffDelay(policy, 50, random), milliseconds(100));
}

TEST(BackoffTest, AttemptsBelowOneCountAsTheFirst) {
  NoRandom random;
  EXPECT_EQ(BackoffDelay(NoJitter(), 0, random), milliseconds(100));
  EXPECT_EQ(BackoffDelay(NoJitter(), -7, random), milliseconds(100));
  EXPECT_EQ(BackoffDelay(NoJitter(), INT_MIN, random), milliseconds(100));
}

TEST(BackoffTest, HugeAttemptsSaturateAtMax) {
  NoRandom random;
  EXPECT_EQ(BackoffDelay(NoJitter(), 64, random), milliseconds(1000));
  EXPECT_EQ(BackoffDelay(NoJitter(), 1100, random), milliseconds(1000));  // 2^1099 is inf in double
  EXPECT_EQ(BackoffDelay(NoJitter(), INT_MAX, random), milliseconds(1000));
  BackoffPolicy big = NoJitter();
  big.max = milliseconds::max();
  big.multiplier = 10;
  milliseconds d = BackoffDelay(big, INT_MAX, random);
  EXPECT_GT(d.count(), 0);
  EXPECT_LE(d, milliseconds::max());
}

TEST(BackoffTest, NonsensePoliciesStayInRange) {
  NoRandom random;
  BackoffPolicy negative = NoJitter();
  negative.initial = milliseconds(-50);
  EXPECT_EQ(BackoffDelay(negative, 3, random), milliseconds(0));
  BackoffPolicy nan = NoJitter();
  nan.multiplier = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(BackoffDelay(nan, 3, random), milliseconds(1000));
  BackoffPolicy nan_jitter = NoJitter();
  nan_jitter.jitter = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(BackoffDelay(nan_jitter, 2, random), milliseconds(200));
  BackoffPolicy initial_over_max = NoJitter();
  initial_over_max.initial = milliseconds(5000);
  EXPECT_EQ(BackoffDelay(initial_over_max, 1, random), milliseconds(1000));
}

// Draws many jittered delays; each must lie in [base·(1-j), base·(1+j)], and together they must
// fill that range evenly (mean near base, both ends reached).
void CheckJitterSpread(const BackoffPolicy& policy, int attempt, double base) {
  DeterministicRandom random(42 + attempt);
  constexpr int kDraws = 20000;
  double lo = base * (1 - policy.jitter), hi = base * (1 + policy.jitter);
  double sum = 0, min = hi, max = lo;
  int below = 0;
  for (int i = 0; i < kDraws; ++i) {
    double d = static_cast<double>(BackoffDelay(policy, attempt, random).count());
    ASSERT_GE(d, std::floor(lo)) << "attempt " << attempt;
    ASSERT_LE(d, std::ceil(hi)) << "attempt " << attempt;
    ASSERT_LE(d, static_cast<double>(policy.max.count()) * (1 + policy.jitter));
    sum += d;
    min = std::min(min, d);
    max = std::max(max, d);
    if (d < base) ++below;
  }
  double width = hi - lo;
  EXPECT_NEAR(sum / kDraws, base, width * 0.02) << "attempt " << attempt;
  EXPECT_LT(min, lo + width * 0.01) << "attempt " << attempt;
  EXPECT_GT(max, hi - width * 0.01) << "attempt " << attempt;
  EXPECT_NEAR(static_cast<double>(below) / kDraws, 0.5, 0.03) << "attempt " << attempt;
}

TEST(BackoffTest, JitterIsUniformWithinBounds) {
  BackoffPolicy policy{.initial = milliseconds(100), .max = milliseconds(1000), .multiplier = 2.0, .jitter = 0.2};
  CheckJitterSpread(policy, 1, 100);
  CheckJitterSpread(policy, 3, 400);
  CheckJitterSpread(policy, 8, 1000);  // capped, then jittered: up to 1200
  policy.jitter = 0.5;
  CheckJitterSpread(policy, 2, 200);
}

TEST(BackoffTest, JitterAboveOneIsClampedToOne) {
  BackoffPolicy policy{.initial = milliseconds(100), .max = milliseconds(1000), .multiplier = 2.0, .jitter = 7};
  DeterministicRandom random(7);
  for (int i = 0; i < 2000; ++i) {
    milliseconds d = BackoffDelay(policy, 4, random);  // base 800
    ASSERT_GE(d.count(), 0);
    ASSERT_LE(d.count(), 1600);
  }
}

TEST(BackoffTest, SameSeedSameDelays) {
  BackoffPolicy policy;
  DeterministicRandom a(99), b(99);
  for (int attempt = 1; attempt < 20; ++attempt) {
    EXPECT_EQ(BackoffDelay(policy, attempt, a), BackoffDelay(policy, attempt, b));
  }
}

// ---- circuit breaker ----

class BreakerTest : public ::testing::Test {
 protected:
  BreakerOptions options{.failure_threshold = 3, .open_for = milliseconds(1000)};
  ManualClock clock;

  void Fail(CircuitBreaker& b, int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(b.Allow());
      b.Record(false);
    }
  }
};

TEST_F(BreakerTest, StartsClosed) {
  CircuitBreaker b(options, clock);
  EXPECT_EQ(b.state(), CircuitBreaker::State::kClosed);
  EXPECT_EQ(b.RetryIn(), milliseconds(0));
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(b.Allow());
}

TEST_F(BreakerTest, OpensAfterThresholdConsecutiveFailures) {
  CircuitBreaker b(options, clock);
  Fail(b, 2);
  EXPECT_EQ(b.state(), CircuitBreaker::State::kClosed);
  Fail(b, 1);
  EXPECT_EQ(b.state(), CircuitBreaker::State::kOpen);
  EXPECT_FALSE(b.Allow());
  EXPECT_EQ(b.RetryIn(), milliseconds(1000));
}

TEST_F(BreakerTest, SuccessResetsTheCount) {
  CircuitBreaker b(options, clock);
  Fail(b, 2);
  ASSERT_TRUE(b.Allow());
  b.Record(true);
  Fail(b, 2);
  EXPECT_EQ(b.state(), CircuitBreaker::State::kClosed);
  Fail(b, 1);
  EXPECT_EQ(b.state(), CircuitBreaker::State::kOpen);
}

TEST_F(BreakerTest, FailsFastUntilOpenForHasPassed) {
  CircuitBreaker b(options, clock);
  Fail(b, 3);
  clock.Advance(milliseconds(400));
  EXPECT_FALSE(b.Allow());
  EXPECT_EQ(b.RetryIn(), milliseconds(600));
  clock.Advance(milliseconds(599));
  EXPECT_FALSE(b.Allow());
  EXPECT_EQ(b.RetryIn(), milliseconds(1));
  clock.Advance(milliseconds(1));
  EXPECT_EQ(b.RetryIn(), milliseconds(0));
  EXPECT_EQ(b.state(), CircuitBreaker::State::kOpen);  // until a probe goes
  EXPECT_TRUE(b.Allow());
  EXPECT_EQ(b.state(), CircuitBreaker::State::kHalfOpen);
  EXPECT_EQ(b.RetryIn(), milliseconds(0));
}

TEST_F(BreakerTest, HalfOpenLetsExactlyOneProbeThrough) {
  CircuitBreaker b(options, clock);
  Fail(b, 3);
  clock.Advance(milliseconds(1000));
  EXPECT_TRUE(b.Allow());
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(b.Allow());
  clock.Advance(milliseconds(60000));  // time alone does not release a second probe
  EXPECT_FALSE(b.Allow());
}

TEST_F(BreakerTest, ProbeSuccessCloses) {
  CircuitBreaker b(options, clock);
  Fail(b, 3);
  clock.Advance(milliseconds(1000));
  ASSERT_TRUE(b.Allow());
  b.Record(true);
  EXPECT_EQ(b.state(), CircuitBreaker::State::kClosed);
  EXPECT_TRUE(b.Allow());
  EXPECT_TRUE(b.Allow());
  // The count starts over: it takes the full threshold to open again.
  Fail(b, 2);
  EXPECT_EQ(b.state(), CircuitBreaker::State::kClosed);
}

TEST_F(BreakerTest, ProbeFailureReopensForAnotherPeriod) {
  CircuitBreaker b(options, clock);
  Fail(b, 3);
  clock.Advance(milliseconds(1500));
  ASSERT_TRUE(b.Allow());
  clock.Advance(milliseconds(200));
  b.Record(false);
  EXPECT_EQ(b.state(), CircuitBreaker::State::kOpen);
  EXPECT_EQ(b.RetryIn(), milliseconds(1000));
  EXPECT_FALSE(b.Allow());
  clock.Advance(milliseconds(1000));
  EXPECT_TRUE(b.Allow());
  EXPECT_EQ(b.state(), CircuitBreaker::State::kHalfOpen);
}

TEST_F(BreakerTest, LateReportsWhileOpenChangeNothing) {
  CircuitBreaker b(options, clock);
  // Two calls in flight when the breaker opens.
  ASSERT_TRUE(b.Allow());
  ASSERT_TRUE(b.Allow());
  Fail(b, 3);
  clock.Advance(milliseconds(500));
  b.Record(true);
  EXPECT_EQ(b.state(), CircuitBreaker::State::kOpen);
  b.Record(false);
  EXPECT_EQ(b.RetryIn(), milliseconds(500));  // not extended
}

TEST_F(BreakerTest, ThresholdBelowOneActsAsOne) {
  options.failure_threshold = 0;
  CircuitBreaker b(options, clock);
  Fail(b, 1);
  EXPECT_EQ(b.state(), CircuitBreaker::State::kOpen);
}

TEST_F(BreakerTest, ZeroOpenForProbesAtOnce) {
  options.open_for = milliseconds(0);
  CircuitBreaker b(options, clock);
  Fail(b, 3);
  EXPECT_EQ(b.RetryIn(), milliseconds(0));
  EXPECT_TRUE(b.Allow());
  EXPECT_FALSE(b.Allow());
}

TEST_F(BreakerTest, HugeOpenForDoesNotOverflow) {
  options.open_for = milliseconds::max();
  CircuitBreaker b(options, clock);
  Fail(b, 3);
  EXPECT_FALSE(b.Allow());
  EXPECT_GT(b.RetryIn(), milliseconds(0));
}

TEST(BreakerStateNameTest, Names) {
  EXPECT_EQ(BreakerStateName(CircuitBreaker::State::kClosed), "closed");
  EXPECT_EQ(BreakerStateName(CircuitBreaker::State::kOpen), "open");
  EXPECT_EQ(BreakerStateName(CircuitBreaker::State::kHalfOpen), "half_open");
}

TEST_F(BreakerTest, ConcurrentCallersGetOneProbe) {
  constexpr int kThreads = 16;
  constexpr int kRounds = 200;
  CircuitBreaker b(options, clock);
  Fail(b, 3);
  for (int round = 0; round < kRounds; ++round) {
    clock.Advance(milliseconds(1000));
    std::atomic<int> allowed{0};
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        start.arrive_and_wait();
        for (int i = 0; i < 4; ++i) {
          if (b.Allow()) allowed.fetch_add(1);
        }
      });
    }
    for (auto& t : threads) t.join();
    ASSERT_EQ(allowed.load(), 1) << "round " << round;
    ASSERT_EQ(b.state(), CircuitBreaker::State::kHalfOpen);
    b.Record(false);  // reopen for the next round
    ASSERT_EQ(b.state(), CircuitBreaker::State::kOpen);
  }
}

TEST_F(BreakerTest, ConcurrentFailuresOpenItOnce) {
  constexpr int kThreads = 8;
  options.failure_threshold = 1000;
  CircuitBreaker b(options, clock);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < 1000; ++i) {
        if (b.Allow()) b.Record(false);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(b.state(), CircuitBreaker::State::kOpen);
  EXPECT_EQ(b.RetryIn(), milliseconds(1000));
}

}  // namespace
}  // namespace neosl::mesh
