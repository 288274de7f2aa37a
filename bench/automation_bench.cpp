// Firing lateness of 100,000 active interval triggers (issue #13, "Scale"): periods of 1–10 s
// (whole seconds) and random phases from a fixed seed, on the real clock. Each firing re-arms
// its trigger at due + period, so the schedule is fixed in advance and late firings do not drift.
//
// Measured in the same run, one after the other on the same schedule:
//   - TimerRunner (services/automation/timer_wheel.h): one thread, re-arming from its callback;
//   - the peer: the simplest correct loop, a std::priority_queue and a thread that sleeps until
//     the earliest due time.
// Lateness is the wall clock at the callback minus the due time, in microseconds.
//
// Target (issue #13): p99 lateness under 50 ms. The whole engine (firings recorded in SQLite,
// webhook actions) against this TimerRunner: bench/automation_engine_bench.cpp; event-to-action
// latency on the devchain: bench/automation_event_bench.cpp.
//
// Usage: automation_bench [seconds per implementation = 10] [triggers = 100000]
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <queue>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "core/clock.h"
#include "services/automation/timer_wheel.h"

namespace {

using namespace neosl;
using Steady = std::chrono::steady_clock;
using automation::TimerRunner;

constexpr uint64_t kSeed = 13;

struct Trigger {
  int64_t period_ms;
  int64_t first_due_ms;  // relative to the start of a run
};

std::vector<Trigger> MakeSchedule(int n) {
  std::mt19937_64 rng(kSeed);
  std::uniform_int_distribution<int64_t> seconds(1, 10);
  std::vector<Trigger> triggers;
  triggers.reserve(n);
  for (int i = 0; i < n; ++i) {
    const int64_t period = 1'000 * seconds(rng);
    triggers.push_back({period, std::uniform_int_distribution<int64_t>(0, period - 1)(rng)});
  }
  return triggers;
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Result {
  std::vector<double> lateness_ms;
  double seconds = 0;
  double setup_ms = 0;
};

std::string TriggerId(int i) {
  return "trigger-" + std::to_string(i);
}

int TriggerIndex(const std::string& id) {
  int index = 0;
  std::from_chars(id.data() + 8, id.data() + id.size(), index);  // after "trigger-"
  return index;
}

// Both runs fire only what is due before their end; a firing re-arms only within it.
void Record(Result& result, int64_t due_ms) {
  result.lateness_ms.push_back(static_cast<double>(NowMicros() - due_ms * 1'000) / 1'000.0);
}

Result RunTimerRunner(const std::vector<Trigger>& triggers, int seconds) {
  Result result;
  result.lateness_ms.reserve(static_cast<size_t>(triggers.size() * 0.3 * seconds * 1.1));
  SystemClock& clock = SystemClock::Instance();
  int64_t end_ms = 0;
  TimerRunner* self = nullptr;
  TimerRunner runner(clock, [&](const std::string& id, int64_t due_ms, int64_t) {
    Record(result, due_ms);
    const int64_t next = due_ms + triggers[TriggerIndex(id)].period_ms;
    if (next < end_ms) self->Schedule(id, next);
  });
  self = &runner;

  const auto setup_begin = Steady::now();
  const int64_t start_ms = clock.NowUnixMillis() + 500;  // room to schedule them all first
  end_ms = start_ms + 1'000LL * seconds;
  for (size_t i = 0; i < triggers.size(); ++i) {
    const int64_t due = start_ms + triggers[i].first_due_ms;
    if (due < end_ms) runner.Schedule(TriggerId(static_cast<int>(i)), due);
  }
  result.setup_ms = std::chrono::duration<double, std::milli>(Steady::now() - setup_begin).count();
  runner.Start();
  std::this_thread::sleep_until(std::chrono::system_clock::time_point(std::chrono::milliseconds(end_ms)));
  while (runner.size() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the last, if late
  runner.Stop();
  result.seconds = seconds;
  return result;
}

// The peer: a priority queue and a thread that sleeps until the earliest due time.
Result RunPriorityQueue(const std::vector<Trigger>& triggers, int seconds) {
  Result result;
  result.lateness_ms.reserve(static_cast<size_t>(triggers.size() * 0.3 * seconds * 1.1));
  struct Due {
    int64_t due_ms;
    int index;
    bool operator>(const Due& o) const { return due_ms > o.due_ms; }
  };
  const auto setup_begin = Steady::now();
  const int64_t start_ms = SystemClock::Instance().NowUnixMillis() + 500;
  const int64_t end_ms = start_ms + 1'000LL * seconds;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> queue;
  for (size_t i = 0; i < triggers.size(); ++i) {
    const int64_t due = start_ms + triggers[i].first_due_ms;
    if (due < end_ms) queue.push({due, static_cast<int>(i)});
  }
  result.setup_ms = std::chrono::duration<double, std::milli>(Steady::now() - setup_begin).count();

  std::thread loop([&] {
    while (!queue.empty()) {
      const Due top = queue.top();
      if (top.due_ms * 1'000 > NowMicros()) {
        std::this_thread::sleep_until(std::chrono::system_clock::time_point(std::chrono::milliseconds(top.due_ms)));
        continue;
      }
      queue.pop();
      Record(result, top.due_ms);
      const int64_t next = top.due_ms + triggers[top.index].period_ms;
      if (next < end_ms) queue.push({next, top.index});
    }
  });
  loop.join();
  result.seconds = seconds;
  return result;
}

struct Summary {
  double p50, p99, max, per_second;
  size_t firings;
};

Summary Summarize(const Result& r) {
  const double max = r.lateness_ms.empty() ? 0 : *std::max_element(r.lateness_ms.begin(), r.lateness_ms.end());
  return {bench::Percentile(r.lateness_ms, 0.50), bench::Percentile(r.lateness_ms, 0.99), max,
          static_cast<double>(r.lateness_ms.size()) / r.seconds, r.lateness_ms.size()};
}

}  // namespace

int main(int argc, char** argv) {
  auto arg = [&](int i, int fallback) {
    if (argc <= i) return fallback;
    int value = 0;
    const char* end = argv[i] + std::strlen(argv[i]);
    return std::from_chars(argv[i], end, value).ptr == end ? value : -1;
  };
  const int seconds = arg(1, 10);
  const int n = arg(2, 100'000);
  if (seconds <= 0 || n <= 0) {
    std::fprintf(stderr, "usage: automation_bench [seconds per implementation = 10] [triggers = 100000]\n");
    return 2;
  }
  const std::vector<Trigger> triggers = MakeSchedule(n);
  std::fprintf(stderr, "automation_bench: %d triggers, TimerRunner for %d s ...\n", n, seconds);
  const Result runner = RunTimerRunner(triggers, seconds);
  std::fprintf(stderr, "automation_bench: priority_queue loop for %d s ...\n", seconds);
  const Result plain = RunPriorityQueue(triggers, seconds);

  const Summary a = Summarize(runner);
  const Summary b = Summarize(plain);
  const double ratio = b.p99 > 0 ? a.p99 / b.p99 : 0;
  const bool met = a.p99 < 50.0;
  std::printf("automation bench: %d interval triggers (periods 1-10 s, seed %llu), %d s each, real clock, %u cores\n",
              n, static_cast<unsigned long long>(kSeed), seconds, std::thread::hardware_concurrency());
  auto print = [](const char* name, const Summary& s, double setup_ms) {
    std::printf(
        "%-20s lateness p50 %7.3f ms  p99 %7.3f ms  max %8.3f ms  %8.0f firings/s  (%zu firings, setup %.0f ms)\n",
        name, s.p50, s.p99, s.max, s.per_second, s.firings, setup_ms);
  };
  print("TimerRunner", a, runner.setup_ms);
  print("priority_queue loop", b, plain.setup_ms);
  std::printf("%-20s %6.3f   target p99 < 50 ms: %s\n", "p99 runner / plain", ratio, met ? "met" : "MISSED");
  auto json = [&](const char* measure, const Summary& s) {
    std::printf(
        "{\"measure\":\"%s\",\"triggers\":%d,\"seconds\":%d,\"lateness_p50_ms\":%.3f,\"lateness_p99_ms\":%.3f,"
        "\"lateness_max_ms\":%.3f,\"firings_per_second\":%.0f,\"firings\":%zu}\n",
        measure, n, seconds, s.p50, s.p99, s.max, s.per_second, s.firings);
  };
  json("timer runner", a);
  json("priority_queue loop", b);
  std::printf("{\"measure\":\"runner/plain p99\",\"ratio\":%.3f,\"target_p99_ms\":50,\"met\":%s}\n", ratio,
              met ? "true" : "false");
  return 0;
}
