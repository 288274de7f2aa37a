// The runner's thread, driven by a ManualClock and a wait that only returns when woken: the test
// sees each time the thread goes to sleep (and what it saw), so nothing here sleeps to cover a
// race.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "services/automation/timer_wheel.h"

namespace neosl::automation {
namespace {

using std::chrono::milliseconds;

constexpr int64_t kStart = 1'700'000'000'000;
constexpr auto kPatience = std::chrono::seconds(30);  // only a hang waits this long

// The runner's wait for tests: records what the thread saw before sleeping, then sleeps until
// notified (a Schedule that becomes the earliest, Wake, Stop) whatever the due time.
class StepWaiter {
 public:
  struct Sleep {
    int64_t now_ms;
    std::optional<int64_t> next_due_ms;
  };

  TimerRunner::WaitFn Fn() {
    return [this](std::unique_lock<std::mutex>& lock, std::condition_variable& wake, int64_t now_ms,
                  std::optional<int64_t> next_due_ms) {
      {
        std::lock_guard guard(mu_);
        sleeps_.push_back({now_ms, next_due_ms});
      }
      changed_.notify_all();
      wake.wait(lock);
    };
  }

  // Blocks until the thread goes to sleep having seen the clock at `now_ms` or later: everything
  // due by then has been called back. The latest sleep.
  Sleep AwaitIdleAt(int64_t now_ms) {
    return Await([&](const Sleep& s) { return s.now_ms >= now_ms; });
  }
  // Blocks until the thread goes to sleep with `next_due_ms` as the earliest due time.
  Sleep AwaitSleepUntil(int64_t next_due_ms) {
    return Await([&](const Sleep& s) { return s.next_due_ms == next_due_ms; });
  }

 private:
  template <typename Pred>
  Sleep Await(Pred pred) {
    std::unique_lock lock(mu_);
    const bool met = changed_.wait_for(lock, kPatience, [&] { return !sleeps_.empty() && pred(sleeps_.back()); });
    EXPECT_TRUE(met) << "the runner never went to sleep as expected";
    return sleeps_.empty() ? Sleep{0, std::nullopt} : sleeps_.back();
  }

  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<Sleep> sleeps_;
};

struct Fired {
  std::string id;
  int64_t due_ms;
  int64_t lateness_ms;
};

// A runner on a manual clock whose callbacks are recorded. Callbacks run on the runner's thread;
// the test reads `fired` only after StepWaiter says the thread is asleep, which orders the two.
class TimerRunnerTest : public ::testing::Test {
 protected:
  void MakeRunner(const TimerRunner::Callback& extra = nullptr) {
    runner_ = std::make_unique<TimerRunner>(
        clock_,
        [this, extra](const std::string& id, int64_t due_ms, int64_t lateness_ms) {
          {
            std::lock_guard lock(fired_mu_);
            fired_.push_back({id, due_ms, lateness_ms});
          }
          fired_changed_.notify_all();
          if (extra) extra(id, due_ms, lateness_ms);
        },
        waiter_.Fn());
  }
  void AdvanceTo(int64_t now_ms) {
    clock_.Advance(milliseconds(now_ms - clock_.NowUnixMillis()));
    runner_->Wake();
    waiter_.AwaitIdleAt(now_ms);
  }
  // For a firing the clock does not announce; everything else waits for the thread to sleep.
  void AwaitFired(size_t n) {
    std::unique_lock lock(fired_mu_);
    EXPECT_TRUE(fired_changed_.wait_for(lock, kPatience, [&] { return fired_.size() >= n; }));
  }
  std::vector<std::string> FiredIds() {
    std::lock_guard lock(fired_mu_);
    std::vector<std::string> ids;
    for (const Fired& f : fired_) ids.push_back(f.id);
    return ids;
  }

  ManualClock clock_{kStart};
  StepWaiter waiter_;
  std::mutex fired_mu_;
  std::condition_variable fired_changed_;
  std::vector<Fired> fired_;
  std::unique_ptr<TimerRunner> runner_;
};

TEST_F(TimerRunnerTest, FiresEachTimerWhenDueInDueOrderWithItsLateness) {
  MakeRunner();
  runner_->Schedule("b", kStart + 200);
  runner_->Schedule("a", kStart + 100);
  runner_->Schedule("c", kStart + 300);
  runner_->Start();
  EXPECT_EQ(waiter_.AwaitIdleAt(kStart).next_due_ms, kStart + 100);
  EXPECT_TRUE(fired_.empty());

  AdvanceTo(kStart + 100);
  EXPECT_EQ(FiredIds(), (std::vector<std::string>{"a"}));
  EXPECT_EQ(fired_[0].due_ms, kStart + 100);
  EXPECT_EQ(fired_[0].lateness_ms, 0);

  AdvanceTo(kStart + 350);  // b and c both overdue: in due order, each with its lateness
  EXPECT_EQ(FiredIds(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(fired_[1].lateness_ms, 150);
  EXPECT_EQ(fired_[2].lateness_ms, 50);
  EXPECT_EQ(runner_->size(), 0u);
  EXPECT_FALSE(waiter_.AwaitIdleAt(kStart + 350).next_due_ms.has_value());
}

TEST_F(TimerRunnerTest, ReplaceAndCancelBeforeTheDueTimeAreHonoured) {
  MakeRunner();
  runner_->Start();
  runner_->Schedule("moved", kStart + 100);
  runner_->Schedule("cancelled", kStart + 100);
  runner_->Schedule("kept", kStart + 100);
  runner_->Schedule("moved", kStart + 500);
  EXPECT_TRUE(runner_->Cancel("cancelled"));
  AdvanceTo(kStart + 100);
  EXPECT_EQ(FiredIds(), (std::vector<std::string>{"kept"}));
  AdvanceTo(kStart + 500);
  EXPECT_EQ(FiredIds(), (std::vector<std::string>{"kept", "moved"}));
}

TEST_F(TimerRunnerTest, AScheduleEarlierThanTheNextDueWakesTheThread) {
  MakeRunner();
  runner_->Schedule("late", kStart + 60'000);
  runner_->Start();
  waiter_.AwaitSleepUntil(kStart + 60'000);

  // No Wake(): only the Schedule can get the thread to look again.
  EXPECT_TRUE(runner_->Schedule("soon", kStart + 5));
  waiter_.AwaitSleepUntil(kStart + 5);
  // A later one is not the earliest, so it need not wake anybody.
  EXPECT_FALSE(runner_->Schedule("later", kStart + 70'000));

  AdvanceTo(kStart + 5);
  EXPECT_EQ(FiredIds(), (std::vector<std::string>{"soon"}));
}

TEST_F(TimerRunnerTest, AScheduleAlreadyDueFiresWithoutTheClockMoving) {
  MakeRunner();
  runner_->Start();
  waiter_.AwaitIdleAt(kStart);
  runner_->Schedule("now", kStart);
  AwaitFired(1);
  EXPECT_EQ(FiredIds(), (std::vector<std::string>{"now"}));
  EXPECT_EQ(fired_[0].lateness_ms, 0);
}

TEST_F(TimerRunnerTest, ManyTimersWithOneDueTimeFireOnceEachInScheduleOrder) {
  MakeRunner();
  std::vector<std::string> expected;
  for (int i = 0; i < 5'000; ++i) {  // many batches of kBatch
    expected.push_back("t" + std::to_string(i));
    runner_->Schedule(expected.back(), kStart + 1'000);
  }
  runner_->Start();
  AdvanceTo(kStart + 1'000);
  EXPECT_EQ(FiredIds(), expected);
}

TEST_F(TimerRunnerTest, ACallbackCanRearmItsOwnTimer) {
  MakeRunner([this](const std::string& id, int64_t due_ms, int64_t) { runner_->Schedule(id, due_ms + 1'000); });
  runner_->Schedule("every-second", kStart + 1'000);
  runner_->Start();
  AdvanceTo(kStart + 3'500);  // one jump over three due times: each fires, rearming the next
  ASSERT_EQ(fired_.size(), 3u);
  EXPECT_EQ(fired_[0].due_ms, kStart + 1'000);
  EXPECT_EQ(fired_[1].due_ms, kStart + 2'000);
  EXPECT_EQ(fired_[2].due_ms, kStart + 3'000);
  EXPECT_EQ(runner_->DueOf("every-second"), kStart + 4'000);
}

TEST_F(TimerRunnerTest, StopJoinsPromptlyWithTimersPendingAndLeavesThemSet) {
  MakeRunner();
  for (int i = 0; i < 1'000; ++i) runner_->Schedule("t" + std::to_string(i), kStart + 3'600'000);
  runner_->Start();
  waiter_.AwaitSleepUntil(kStart + 3'600'000);
  runner_->Stop();
  runner_->Stop();  // idempotent
  EXPECT_TRUE(fired_.empty());
  EXPECT_EQ(runner_->size(), 1'000u);
}

// The real wait on the real clock: Stop must not wait for the hour-away due time.
TEST(TimerRunnerRealClockTest, StopJoinsPromptlyWhileSleepingUntilAFarDueTime) {
  SystemClock clock;
  std::atomic<int> fired{0};
  TimerRunner runner(clock, [&](const std::string&, int64_t, int64_t) { ++fired; });
  for (int i = 0; i < 1'000; ++i) runner.Schedule("t" + std::to_string(i), clock.NowUnixMillis() + 3'600'000);
  runner.Start();
  const auto begin = std::chrono::steady_clock::now();
  runner.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::milliseconds(500));
  EXPECT_EQ(fired.load(), 0);
}

TEST(TimerRunnerRealClockTest, StopWithoutStartAndDestroyWhileRunningAreSafe) {
  SystemClock clock;
  {
    TimerRunner never_started(clock, [](const std::string&, int64_t, int64_t) {});
  }
  TimerRunner running(clock, [](const std::string&, int64_t, int64_t) {});
  running.Start();
}

// 100,000 timers over 100 s of manual time (about one per ms, so many share a due time), the
// clock moved a second at a time: every timer fires exactly once, in (due, schedule) order, and
// never before it is due nor more than a step after.
TEST_F(TimerRunnerTest, AHundredThousandTimersFireExactlyOnceInDueOrder) {
  constexpr int kTimers = 100'000;
  constexpr int64_t kSpanMs = 100'000;
  constexpr int64_t kStepMs = 1'000;
  MakeRunner();
  std::mt19937_64 rng(13);
  std::uniform_int_distribution<int64_t> offset(1, kSpanMs);
  struct Expected {
    int64_t due_ms;
    int order;
    std::string id;
  };
  std::vector<Expected> expected;
  for (int i = 0; i < kTimers; ++i) {
    expected.push_back({kStart + offset(rng), i, "trigger-" + std::to_string(i)});
    runner_->Schedule(expected.back().id, expected.back().due_ms);
  }
  EXPECT_EQ(runner_->size(), static_cast<size_t>(kTimers));
  runner_->Start();
  for (int64_t now = kStart + kStepMs; now <= kStart + kSpanMs; now += kStepMs) {
    AdvanceTo(now);
    ASSERT_TRUE(fired_.empty() || fired_.back().due_ms <= now);
  }
  runner_->Stop();

  std::sort(expected.begin(), expected.end(), [](const Expected& a, const Expected& b) {
    return a.due_ms != b.due_ms ? a.due_ms < b.due_ms : a.order < b.order;
  });
  ASSERT_EQ(fired_.size(), expected.size());
  std::set<std::string> seen;
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(fired_[i].id, expected[i].id) << "at " << i;
    ASSERT_EQ(fired_[i].due_ms, expected[i].due_ms);
    ASSERT_GE(fired_[i].lateness_ms, 0);
    ASSERT_LT(fired_[i].lateness_ms, kStepMs);
    seen.insert(fired_[i].id);
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kTimers));
  EXPECT_EQ(runner_->size(), 0u);
}

// Schedule and Cancel from several threads while the runner fires: each id's last word wins and
// nothing is lost or doubled.
TEST_F(TimerRunnerTest, ScheduleAndCancelFromManyThreadsWhileFiring) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5'000;
  MakeRunner();
  runner_->Start();
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = "w" + std::to_string(t) + "-" + std::to_string(i);
        runner_->Schedule(id, kStart + 1 + i % 100);
        if (i % 2 == 1) runner_->Cancel(id);  // odd ones are cancelled before they are due
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(runner_->size(), static_cast<size_t>(kThreads * kPerThread / 2));
  AdvanceTo(kStart + 100);
  ASSERT_EQ(fired_.size(), static_cast<size_t>(kThreads * kPerThread / 2));
  const std::vector<std::string> fired_ids = FiredIds();
  const std::set<std::string> ids(fired_ids.begin(), fired_ids.end());
  EXPECT_EQ(ids.size(), fired_.size());
  for (size_t i = 1; i < fired_.size(); ++i) ASSERT_LE(fired_[i - 1].due_ms, fired_[i].due_ms);
}

}  // namespace
}  // namespace neosl::automation
