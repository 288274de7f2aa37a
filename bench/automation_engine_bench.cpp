// The automation engine's firing lateness with 100,000 active interval triggers (issue #13,
// "Scale": p99 lateness under 50 ms), on a file-backed SQLite store with every migration and the
// real clock. Every firing's action is a webhook POST to a loopback receiver that answers 200 at
// once, through a host-side net::Fetcher over a tee::SocketRelay allowing 127.0.0.1/32, as in
// `neosl serve` with net.allow_private.
//
// The triggers are written straight into automation_triggers (TriggerStore::Insert, 10,000 per
// transaction) with periods of 60–120 s and first firings spread over the first period, so the
// firing rate (printed) is near 1,000/s, a rate two cores sustain with SQLite and a POST per
// firing (shorter periods, arguments 3 and 4, find the ceiling), and the engine loads them at
// Start. Catch-up is skip, so a Start slower than the lead would skip
// rather than distort (the bench stops if it happens).
//
// Lateness = automation_runs.recorded_at_ms − scheduled_at_ms (the engine reads the clock when a
// timer round's firings go into their store transaction; ms resolution), for runs scheduled in
// the window: from 2 s after the first firing to the end, read back after Stop. A firing
// scheduled in the window but not recorded 2 s after its end counts as late beyond any
// percentile. Also shown: scheduled → POST received at the loopback receiver, which adds the
// action queue and the fetch.
//
// Peer, in the same run and on the same schedule, after the engine: the bare TimerRunner
// (services/automation/timer_wheel.h) whose callback only records and re-arms — what the engine
// adds is the store and the actions. bench/automation_bench compares TimerRunner itself with a
// plain priority-queue loop.
//
// Usage: automation_engine_bench [seconds = 30] [triggers = 100000] [min period s = 60] [max period s = 120]
//                                [action threads = 4, EngineOptions' default]
//   build/bench/automation_engine_bench 30
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <sqlite3.h>
#include <sys/resource.h>

#include "bench_util.h"
#include "core/clock.h"
#include "core/random.h"
#include "net/fetcher.h"
#include "schema/migrations.h"
#include "services/automation/engine.h"
#include "services/automation/timer_wheel.h"
#include "services/automation/trigger_store.h"
#include "store/sqlite_store.h"
#include "tee/socket_relay.h"

namespace {

using namespace neosl;
using namespace neosl::automation;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Steady = std::chrono::steady_clock;

constexpr uint64_t kSeed = 13;
constexpr int64_t kLeadMs = 8'000;    // insert → first firing: room for Start to load them all
constexpr int64_t kWarmupMs = 2'000;  // firings not measured at the start of the run
constexpr int64_t kTailMs = 2'000;    // after the window, before Stop: late firings still count
constexpr size_t kInsertBatch = 10'000;
constexpr double kInf = std::numeric_limits<double>::infinity();

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "automation_engine_bench: %s\n", what.c_str());
  std::exit(1);  // NOLINT(concurrency-mt-unsafe): a one-shot benchmark gives up here
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.ToString());
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void SleepUntilMs(int64_t unix_ms) {
  std::this_thread::sleep_until(std::chrono::system_clock::time_point(std::chrono::milliseconds(unix_ms)));
}

double MsSince(Steady::time_point t) {
  return std::chrono::duration<double, std::milli>(Steady::now() - t).count();
}

// VmRSS / VmHWM of this process, in MiB.
double ProcStatusMiB(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(field)) return std::strtod(line.c_str() + std::strlen(field), nullptr) / 1024.0;
  }
  return 0;
}

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

// ---- the schedule ---------------------------------------------------------------------------

struct Trigger {
  int64_t period_ms;
  int64_t phase_ms;  // the first firing, after the run's origin
};

std::vector<Trigger> MakeSchedule(int n, int64_t min_period_ms, int64_t max_period_ms) {
  std::mt19937_64 rng(kSeed);
  std::uniform_int_distribution<int64_t> period(min_period_ms, max_period_ms);
  std::vector<Trigger> out;
  out.reserve(n);
  for (int i = 0; i < n; ++i) {
    const int64_t p = period(rng);
    out.push_back({p, std::uniform_int_distribution<int64_t>(0, p - 1)(rng)});
  }
  return out;
}

// Firings scheduled in [from, to) ms after the origin.
size_t ExpectedFirings(const std::vector<Trigger>& triggers, int64_t from, int64_t to) {
  size_t n = 0;
  for (const Trigger& t : triggers) {
    const int64_t first = t.phase_ms >= from
                              ? t.phase_ms
                              : t.phase_ms + (from - t.phase_ms + t.period_ms - 1) / t.period_ms * t.period_ms;
    if (first < to) n += static_cast<size_t>((to - 1 - first) / t.period_ms + 1);
  }
  return n;
}

// ---- the webhook receiver -------------------------------------------------------------------

// Answers 200 at once and notes, per firing, how long after its scheduled time the POST arrived
// (from the Idempotency-Key, "<trigger>:t:<scheduled ms>"). Keeps nothing else: the tests'
// TestServer keeps every request, which would show in the RSS figure. It lets the client close
// first, so the fetcher's side holds the TIME_WAIT, which Linux reuses on loopback
// (tcp_tw_reuse=2): a thousand connections a second would otherwise run out of ports.
class Receiver {
 public:
  Receiver() {
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    asio::co_spawn(ioc_, Accept(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~Receiver() {
    ioc_.stop();
    thread_.join();
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  std::string Url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/hook"; }
  uint64_t requests() const { return requests_.load(); }
  // (scheduled ms, ms from then to the POST's arrival), one per POST.
  std::vector<std::pair<int64_t, double>> arrivals() const {
    std::lock_guard lock(mu_);
    return arrivals_;
  }

 private:
  static constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kAwait);
      if (ec) co_return;
      asio::co_spawn(ioc_, Serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> Serve(tcp::socket socket) {
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    auto [ec, n] = co_await http::async_read(socket, buffer, request, kAwait);
    if (ec) co_return;
    const int64_t now_us = NowMicros();
    ++requests_;
    const std::string_view key = request["Idempotency-Key"];
    if (const size_t at = key.rfind(":t:"); at != std::string_view::npos) {
      int64_t scheduled = 0;
      std::from_chars(key.data() + at + 3, key.data() + key.size(), scheduled);
      std::lock_guard lock(mu_);
      arrivals_.emplace_back(scheduled, static_cast<double>(now_us - scheduled * 1'000) / 1'000.0);
    }
    static constexpr std::string_view kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
    auto [wec, written] = co_await asio::async_write(socket, asio::buffer(kOk), kAwait);
    if (wec) co_return;
    char byte = 0;
    co_await socket.async_read_some(asio::buffer(&byte, 1), kAwait);  // until the client closes
  }

  asio::io_context ioc_;  // before the acceptor and the sessions, which it outlives
  tcp::acceptor acceptor_{ioc_};
  std::thread thread_;
  std::atomic<uint64_t> requests_{0};
  mutable std::mutex mu_;
  std::vector<std::pair<int64_t, double>> arrivals_;
};

// ---- the engine run -------------------------------------------------------------------------

struct EngineRun {
  std::vector<double> lateness_ms;  // recorded in the window; a missing firing is +inf
  std::vector<double> to_post_ms;   // scheduled → POST received, for firings in the window
  size_t expected = 0;
  size_t recorded = 0;
  size_t catch_up_runs = 0;
  std::vector<std::pair<std::string, int64_t>> statuses;  // every run, by status
  EngineStats stats;
  uint64_t posts = 0;
  double insert_ms = 0, start_ms = 0, stop_ms = 0;
  double rss_started_mib = 0, rss_end_mib = 0, hwm_mib = 0;
  double cpu_s = 0, wall_s = 0;
  size_t max_in_flight = 0;
};

std::string TriggerIdOf(size_t i) {
  std::string n = std::to_string(i);
  return "tg_b" + std::string(15 - n.size(), '0') + n;  // tg_ + 16, as the engine's ids
}

std::string AccountOf(size_t i) {
  std::string n = std::to_string(i % 100);
  return "acc_" + std::string(20 - n.size(), 'b') + n;
}

EngineRun RunEngine(const std::vector<Trigger>& triggers, int seconds, size_t threads, const std::string& dir) {
  EngineRun out;
  SystemClock& clock = SystemClock::Instance();
  auto opened = store::OpenSqliteStore({.path = dir + "/neosl.db"});
  Check(opened.status(), "opening the store");
  std::unique_ptr<store::Store> db = *std::move(opened);
  Check(db->Migrate(schema::Migrations()), "migrating");

  Receiver receiver;
  auto relay = tee::SocketRelay::Create({.allow_private = {"127.0.0.1/32"}});
  Check(relay.status(), "the socket relay");
  auto fetcher = net::Fetcher::Create({}, **relay);
  Check(fetcher.status(), "the fetcher");
  ActionDeps deps;
  deps.fetcher = fetcher->get();
  deps.clock = &clock;
  ActionRunner actions(deps, ActionOptions{});

  // The triggers as Engine::Create would have stored them, first firing at origin + phase.
  const auto insert_begin = Steady::now();
  const int64_t origin = clock.NowUnixMillis() + kLeadMs;
  TriggerStore store(*db);
  for (size_t from = 0; from < triggers.size(); from += kInsertBatch) {
    Check(store::RunInTransaction(
              *db, store::TxMode::kWrite,
              [&](store::Transaction& tx) -> Status {
                const size_t to = std::min(triggers.size(), from + kInsertBatch);
                for (size_t i = from; i < to; ++i) {
                  TriggerRecord t;
                  t.id = TriggerIdOf(i);
                  t.account = AccountOf(i);
                  t.spec.name = "bench";
                  t.spec.condition = IntervalCondition{triggers[i].period_ms, origin + triggers[i].phase_ms};
                  t.spec.action = WebhookAction{receiver.Url(), {}};
                  t.spec.catch_up = CatchUp::kSkip;
                  t.status = TriggerStatus::kActive;
                  t.next_due_ms = origin + triggers[i].phase_ms;
                  t.created_at_ms = t.updated_at_ms = origin - kLeadMs;
                  RETURN_IF_ERROR(store.Insert(tx, t));
                }
                return Status::Ok();
              }),
          "inserting triggers");
  }
  out.insert_ms = MsSince(insert_begin);

  DeterministicRandom random(kSeed);
  EngineOptions options;
  options.threads = threads;
  Engine engine(std::move(options), *db, actions, clock, random);
  const auto start_begin = Steady::now();
  Check(engine.Start(), "starting the engine");
  out.start_ms = MsSince(start_begin);
  if (clock.NowUnixMillis() >= origin) {
    Die("Start took " + std::to_string(static_cast<int64_t>(out.start_ms)) + " ms, past the first firings (lead " +
        std::to_string(kLeadMs) + " ms): catch-up would skip some");
  }
  out.rss_started_mib = ProcStatusMiB("VmRSS:");
  std::fprintf(stderr,
               "automation_engine_bench: %zu triggers in %.0f ms, Start %.0f ms, %zu timers; firing from +%lld ms\n",
               triggers.size(), out.insert_ms, out.start_ms, engine.stats().timers,
               static_cast<long long>(origin - clock.NowUnixMillis()));

  SleepUntilMs(origin);
  const double cpu_begin = CpuSeconds();
  const auto wall_begin = Steady::now();
  const int64_t stop_at = origin + 1'000LL * seconds + kTailMs;
  for (int64_t next = origin + 5'000; clock.NowUnixMillis() < stop_at; next += 5'000) {
    const int64_t until = std::min(next, stop_at);
    while (clock.NowUnixMillis() < until) {  // samples the action queue every 100 ms
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      out.max_in_flight = std::max(out.max_in_flight, engine.stats().queued);
    }
    const EngineStats s = engine.stats();
    std::fprintf(stderr, "  +%2lld s: %llu fired, %llu succeeded, %llu failed, %zu in flight, RSS %.0f MiB\n",
                 static_cast<long long>((until - origin) / 1000), static_cast<unsigned long long>(s.fired),
                 static_cast<unsigned long long>(s.succeeded), static_cast<unsigned long long>(s.failed), s.queued,
                 ProcStatusMiB("VmRSS:"));
  }
  out.cpu_s = CpuSeconds() - cpu_begin;
  out.wall_s = std::chrono::duration<double>(Steady::now() - wall_begin).count();
  out.rss_end_mib = ProcStatusMiB("VmRSS:");
  const auto stop_begin = Steady::now();
  engine.Stop();  // waits for the actions queued
  out.stop_ms = MsSince(stop_begin);
  out.hwm_mib = ProcStatusMiB("VmHWM:");
  out.stats = engine.stats();
  out.posts = receiver.requests();

  const int64_t from = origin + kWarmupMs;
  const int64_t to = origin + 1'000LL * seconds;
  out.expected = ExpectedFirings(triggers, kWarmupMs, 1'000LL * seconds);
  auto rows = db->Query(
      "SELECT scheduled_at_ms, recorded_at_ms, catch_up FROM automation_runs WHERE scheduled_at_ms >= ? AND "
      "scheduled_at_ms < ?",
      {from, to});
  Check(rows.status(), "reading the runs");
  for (const store::Row& row : *rows) {
    out.lateness_ms.push_back(static_cast<double>(*row.Int(1) - *row.Int(0)));
    if (*row.Int(2) != 0) ++out.catch_up_runs;
  }
  out.recorded = out.lateness_ms.size();
  for (size_t i = out.recorded; i < out.expected; ++i) out.lateness_ms.push_back(kInf);
  for (const auto& [scheduled, ms] : receiver.arrivals()) {
    if (scheduled >= from && scheduled < to) out.to_post_ms.push_back(ms);
  }
  auto statuses = db->Query("SELECT status, COUNT(*) FROM automation_runs GROUP BY status ORDER BY status");
  Check(statuses.status(), "counting the runs");
  for (const store::Row& row : *statuses) out.statuses.emplace_back(*row.Text(0), *row.Int(1));
  return out;
}

// ---- the peer: the bare TimerRunner ---------------------------------------------------------

std::vector<double> RunTimerRunner(const std::vector<Trigger>& triggers, int seconds) {
  std::vector<double> lateness;
  SystemClock& clock = SystemClock::Instance();
  const int64_t origin = clock.NowUnixMillis() + 1'000;
  const int64_t from = origin + kWarmupMs;
  const int64_t to = origin + 1'000LL * seconds;
  const int64_t end = to + kTailMs;
  TimerRunner* self = nullptr;
  TimerRunner runner(clock, [&](const std::string& id, int64_t due_ms, int64_t) {
    if (due_ms >= from && due_ms < to) lateness.push_back(static_cast<double>(NowMicros() - due_ms * 1'000) / 1'000.0);
    size_t i = 0;
    std::from_chars(id.data(), id.data() + id.size(), i);
    if (due_ms + triggers[i].period_ms < end) self->Schedule(id, due_ms + triggers[i].period_ms);
  });
  self = &runner;
  for (size_t i = 0; i < triggers.size(); ++i) runner.Schedule(std::to_string(i), origin + triggers[i].phase_ms);
  runner.Start();
  SleepUntilMs(end);
  runner.Stop();
  return lateness;
}

struct Summary {
  double p50, p99, max;
};

Summary Summarize(const std::vector<double>& v) {
  return {bench::Percentile(v, 0.50), bench::Percentile(v, 0.99),
          v.empty() ? 0 : *std::max_element(v.begin(), v.end())};
}

// JSON has no infinity: a firing never recorded is null.
std::string JsonMs(double v) {
  if (std::isinf(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

}  // namespace

int main(int argc, char** argv) try {
  auto arg = [&](int i, int fallback) {
    if (argc <= i) return fallback;
    int value = 0;
    const char* end = argv[i] + std::strlen(argv[i]);
    return std::from_chars(argv[i], end, value).ptr == end ? value : -1;
  };
  const int seconds = arg(1, 30);
  const int n = arg(2, 100'000);
  const int min_period_s = arg(3, 60);
  const int max_period_s = arg(4, 120);
  const int threads = arg(5, static_cast<int>(EngineOptions{}.threads));
  if (1'000LL * seconds <= kWarmupMs + 1'000 || n <= 0 || min_period_s < 1 || max_period_s < min_period_s ||
      threads < 1) {
    std::fprintf(stderr,
                 "usage: automation_engine_bench [seconds = 30, > 3] [triggers = 100000] [min period s = 60] "
                 "[max period s = 120] [action threads = 4]\n");
    return 2;
  }
  const std::vector<Trigger> triggers = MakeSchedule(n, 1'000LL * min_period_s, 1'000LL * max_period_s);
  double rate = 0;  // the schedule's mean firings per second
  for (const Trigger& t : triggers) rate += 1'000.0 / static_cast<double>(t.period_ms);

  char dir_template[] = "/tmp/automation_engine_bench.XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (dir == nullptr) Die("mkdtemp failed");
  std::fprintf(stderr, "automation_engine_bench: %d triggers, ~%.0f firings/s, engine for %d s ...\n", n, rate,
               seconds);
  const EngineRun engine = RunEngine(triggers, seconds, static_cast<size_t>(threads), dir);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::fprintf(stderr, "automation_engine_bench: the bare TimerRunner on the same schedule for %d s ...\n", seconds);
  const std::vector<double> timer = RunTimerRunner(triggers, seconds);

  const double window_s = static_cast<double>(1'000LL * seconds - kWarmupMs) / 1'000.0;
  const Summary e = Summarize(engine.lateness_ms);
  const Summary post = Summarize(engine.to_post_ms);
  const Summary t = Summarize(timer);
  const double ratio = t.p99 > 0 ? e.p99 / t.p99 : 0;
  const bool met = e.p99 < 50.0;

  std::printf(
      "automation engine bench: %d interval triggers (periods %d-%d s, seed %llu), ~%.0f firings/s scheduled, SQLite "
      "%s (WAL), webhook to 127.0.0.1 via SocketRelay + Fetcher, %d action threads, %u cores\n",
      n, min_period_s, max_period_s, static_cast<unsigned long long>(kSeed), rate, sqlite3_libversion(), threads,
      std::thread::hardware_concurrency());
  std::printf("window %.0f s after %lld s warm-up; insert %.0f ms, Start %.0f ms, Stop (drain) %.0f ms\n", window_s,
              static_cast<long long>(kWarmupMs / 1000), engine.insert_ms, engine.start_ms, engine.stop_ms);
  std::printf("%-22s p50 %8.3f ms  p99 %8.3f ms  max %9.3f ms  %6.0f firings/s  (%zu of %zu expected recorded)\n",
              "engine lateness", e.p50, e.p99, e.max, static_cast<double>(engine.recorded) / window_s, engine.recorded,
              engine.expected);
  std::printf("%-22s p50 %8.3f ms  p99 %8.3f ms  max %9.3f ms  (%zu POSTs)\n", "engine scheduled->POST", post.p50,
              post.p99, post.max, engine.to_post_ms.size());
  std::printf("%-22s p50 %8.3f ms  p99 %8.3f ms  max %9.3f ms  %6.0f firings/s  (%zu)\n", "TimerRunner lateness", t.p50,
              t.p99, t.max, static_cast<double>(timer.size()) / window_s, timer.size());
  std::printf(
      "actions: %llu fired, %llu succeeded, %llu failed, %llu retried; %llu POSTs received; %zu catch-up runs;",
      static_cast<unsigned long long>(engine.stats.fired), static_cast<unsigned long long>(engine.stats.succeeded),
      static_cast<unsigned long long>(engine.stats.failed), static_cast<unsigned long long>(engine.stats.retried),
      static_cast<unsigned long long>(engine.posts), engine.catch_up_runs);
  for (const auto& [status, count] : engine.statuses)
    std::printf(" %s %lld", status.c_str(), static_cast<long long>(count));
  std::printf("; at most %zu in flight\n", engine.max_in_flight);
  std::printf(
      "process: RSS %.0f MiB after Start, %.0f MiB at the end, peak %.0f MiB; CPU %.1f s in %.1f s (%.2f cores)\n",
      engine.rss_started_mib, engine.rss_end_mib, engine.hwm_mib, engine.cpu_s, engine.wall_s,
      engine.cpu_s / engine.wall_s);
  std::printf("%-22s %7.1f   p99 lateness < 50 ms: %s\n", "p99 engine / timer", ratio, met ? "met" : "NOT met");
  auto json = [&](const char* measure, const Summary& s, size_t count) {
    std::printf(
        "{\"measure\":\"%s\",\"triggers\":%d,\"seconds\":%d,\"p50_ms\":%s,\"p99_ms\":%s,\"max_ms\":%s,"
        "\"count\":%zu,\"per_second\":%.0f}\n",
        measure, n, seconds, JsonMs(s.p50).c_str(), JsonMs(s.p99).c_str(), JsonMs(s.max).c_str(), count,
        static_cast<double>(count) / window_s);
  };
  json("engine lateness", e, engine.recorded);
  json("engine scheduled to webhook", post, engine.to_post_ms.size());
  json("timer runner lateness", t, timer.size());
  std::printf(
      "{\"measure\":\"engine/timer p99\",\"ratio\":%.3f,\"target_p99_ms\":50,\"met\":%s,\"rss_peak_mib\":%.0f,"
      "\"cpu_cores\":%.2f}\n",
      ratio, met ? "true" : "false", engine.hwm_mib, engine.cpu_s / engine.wall_s);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "automation_engine_bench: %s\n", e.what());
  return 1;
}
