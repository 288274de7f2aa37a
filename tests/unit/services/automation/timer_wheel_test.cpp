// The timer heap on its own: due order, ties in schedule order, replace, cancel, batches, and a
// random workload checked against a plain model.
#include "services/automation/timer_wheel.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

namespace neosl::automation {
namespace {

std::vector<std::string> Ids(const std::vector<DueTimer>& due) {
  std::vector<std::string> ids;
  ids.reserve(due.size());
  for (const DueTimer& t : due) ids.push_back(t.id);
  return ids;
}

TEST(TimerWheelTest, PopsOnlyWhatIsDueInDueOrder) {
  TimerWheel wheel;
  EXPECT_FALSE(wheel.NextDue().has_value());
  wheel.Schedule("c", 300);
  wheel.Schedule("a", 100);
  wheel.Schedule("d", 400);
  wheel.Schedule("b", 200);
  EXPECT_EQ(wheel.size(), 4u);
  EXPECT_EQ(wheel.NextDue(), 100);

  EXPECT_TRUE(wheel.PopDue(99).empty());
  std::vector<DueTimer> due = wheel.PopDue(300);
  EXPECT_EQ(Ids(due), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(due[0].due_ms, 100);
  EXPECT_EQ(due[2].due_ms, 300);
  EXPECT_EQ(wheel.size(), 1u);
  EXPECT_EQ(wheel.NextDue(), 400);
  EXPECT_EQ(Ids(wheel.PopDue(1'000)), (std::vector<std::string>{"d"}));
  EXPECT_EQ(wheel.size(), 0u);
  EXPECT_FALSE(wheel.NextDue().has_value());
}

TEST(TimerWheelTest, ScheduleReportsWhenItBecomesTheEarliest) {
  TimerWheel wheel;
  EXPECT_TRUE(wheel.Schedule("a", 500));
  EXPECT_FALSE(wheel.Schedule("b", 600));
  EXPECT_TRUE(wheel.Schedule("c", 400));
  EXPECT_FALSE(wheel.Schedule("d", 400));  // ties go behind: c stays first
  EXPECT_TRUE(wheel.Schedule("b", 100));   // moved earlier
}

TEST(TimerWheelTest, ScheduleReplacesAnExistingTimerEarlierOrLater) {
  TimerWheel wheel;
  wheel.Schedule("a", 100);
  wheel.Schedule("b", 200);
  wheel.Schedule("c", 300);
  wheel.Schedule("a", 250);  // later
  wheel.Schedule("c", 50);   // earlier
  EXPECT_EQ(wheel.size(), 3u);
  EXPECT_EQ(wheel.DueOf("a"), 250);
  EXPECT_EQ(wheel.DueOf("c"), 50);
  EXPECT_EQ(Ids(wheel.PopDue(1'000)), (std::vector<std::string>{"c", "b", "a"}));
}

TEST(TimerWheelTest, CancelRemovesOnlyThatTimer) {
  TimerWheel wheel;
  wheel.Schedule("a", 100);
  wheel.Schedule("b", 200);
  wheel.Schedule("c", 300);
  EXPECT_TRUE(wheel.Cancel("a"));  // the earliest
  EXPECT_TRUE(wheel.Cancel("c"));  // the last
  EXPECT_FALSE(wheel.Cancel("a"));
  EXPECT_FALSE(wheel.Cancel("never"));
  EXPECT_FALSE(wheel.DueOf("a").has_value());
  EXPECT_EQ(wheel.size(), 1u);
  EXPECT_EQ(wheel.NextDue(), 200);
  EXPECT_EQ(Ids(wheel.PopDue(1'000)), (std::vector<std::string>{"b"}));
  EXPECT_FALSE(wheel.Cancel("b"));  // popped timers are gone
  wheel.Schedule("a", 10);          // and an id can be used again
  EXPECT_EQ(Ids(wheel.PopDue(10)), (std::vector<std::string>{"a"}));
}

TEST(TimerWheelTest, EqualDueTimesComeOutInScheduleOrderAndAReplaceQueuesBehind) {
  TimerWheel wheel;
  std::vector<std::string> expected;
  for (int i = 0; i < 1'000; ++i) {
    std::string id = "t" + std::to_string(i);
    wheel.Schedule(id, 7'000);
    expected.push_back(id);
  }
  wheel.Schedule("t0", 7'000);  // replaced: now the newest at that time
  expected.erase(expected.begin());
  expected.emplace_back("t0");
  EXPECT_EQ(Ids(wheel.PopDue(7'000)), expected);
}

TEST(TimerWheelTest, PopDueHandsOutAtMostMaxAndKeepsTheRest) {
  TimerWheel wheel;
  for (int i = 0; i < 10; ++i) wheel.Schedule("t" + std::to_string(i), i);
  EXPECT_EQ(Ids(wheel.PopDue(100, 3)), (std::vector<std::string>{"t0", "t1", "t2"}));
  EXPECT_EQ(Ids(wheel.PopDue(100, 3)), (std::vector<std::string>{"t3", "t4", "t5"}));
  EXPECT_EQ(wheel.size(), 4u);
  EXPECT_TRUE(wheel.PopDue(100, 0).empty());
  EXPECT_EQ(wheel.PopDue(100).size(), 4u);
}

TEST(TimerWheelTest, NegativeAndExtremeDueTimesOrderCorrectly) {
  TimerWheel wheel;
  wheel.Schedule("max", INT64_MAX);
  wheel.Schedule("min", INT64_MIN);
  wheel.Schedule("zero", 0);
  EXPECT_EQ(Ids(wheel.PopDue(INT64_MAX)), (std::vector<std::string>{"min", "zero", "max"}));
}

// 100,000 timers with many equal due times, then random replaces and cancels: every live timer
// comes out exactly once, in (due, last schedule) order, as a std::set model says.
TEST(TimerWheelTest, AHundredThousandTimersWithReplacesAndCancelsMatchAModel) {
  constexpr int kTimers = 100'000;
  std::mt19937_64 rng(13);
  std::uniform_int_distribution<int64_t> due_of(0, 50'000);  // about two timers per due time
  std::uniform_int_distribution<int> pick(0, kTimers - 1);

  TimerWheel wheel;
  std::map<std::string, std::pair<int64_t, uint64_t>> live;  // id → (due, schedule order)
  uint64_t seq = 0;
  auto schedule = [&](const std::string& id, int64_t due) {
    wheel.Schedule(id, due);
    live[id] = {due, seq++};
  };
  for (int i = 0; i < kTimers; ++i) schedule("t" + std::to_string(i), due_of(rng));
  for (int i = 0; i < 30'000; ++i) {
    const std::string id = "t" + std::to_string(pick(rng));
    if (i % 3 == 0) {
      EXPECT_EQ(wheel.Cancel(id), live.erase(id) == 1);
    } else {
      schedule(id, due_of(rng));
    }
  }
  ASSERT_EQ(wheel.size(), live.size());

  std::set<std::tuple<int64_t, uint64_t, std::string>> model;
  for (const auto& [id, at] : live) model.emplace(at.first, at.second, id);

  std::vector<DueTimer> popped;
  for (int64_t now = 0; now <= 50'000; now += 997) {
    for (DueTimer& t : wheel.PopDue(now)) {
      EXPECT_LE(t.due_ms, now);
      popped.emplace_back(std::move(t));
    }
  }
  for (DueTimer& t : wheel.PopDue(INT64_MAX)) popped.push_back(std::move(t));

  ASSERT_EQ(popped.size(), model.size());
  size_t i = 0;
  for (const auto& [due, unused, id] : model) {
    ASSERT_EQ(popped[i].id, id) << "at " << i;
    ASSERT_EQ(popped[i].due_ms, due);
    ++i;
  }
  EXPECT_EQ(wheel.size(), 0u);
}

}  // namespace
}  // namespace neosl::automation
