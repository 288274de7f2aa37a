// Rate-limit admissions through Redis (core/redis_bucket_store.h: one EVALSHA per admission over
// a pooled connection) against the in-process limiter, and against raw PING round trips to the
// same server over the same client, measured in the same run and interleaved round by round, so
// the ratios survive a machine shared with other work. When redis-benchmark is installed, its
// `-t ping -c 1` figures (hiredis, one connection) are printed beside them as an outside peer.
//
// Every admission is allowed (a rate far above what is reached), so each is a full refill-and-take.
// Latency is per admission, from one thread; throughput also from 4 threads sharing a pool of 8.
//
// Target: a Redis admission costs at most 2 raw round trips (admissions/s at least 0.5x PINGs/s,
// one thread): the script and the client add less than the network does.
//
// Usage: ratelimit_bench [seconds per measure = 1] [rounds = 5] [redis DSN; default: a throwaway
// redis-server on a loopback port]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "bench_util.h"
#include "core/clock.h"
#include "core/rate_limiter.h"
#include "core/redis_bucket_store.h"
#include "core/redis_client.h"
#include "support/redis_process.h"

namespace {

using namespace neosl;
using Steady = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "ratelimit_bench: %s\n", what.c_str());
  std::abort();
}

struct Measure {
  const char* name;
  std::vector<double> rates;    // per round, operations per second
  std::vector<double> latency;  // microseconds, every operation of every round (one thread only)
  double median = 0;
};

// Runs op() from one thread for about `seconds`, timing each call.
template <typename Op>
void Timed(double seconds, Measure& m, Op op) {
  size_t n = 0;
  const auto start = Steady::now();
  const auto until = start + std::chrono::duration<double>(seconds);
  auto now = start;
  do {
    const auto t0 = now;
    op();
    now = Steady::now();
    m.latency.push_back(std::chrono::duration<double, std::micro>(now - t0).count());
    ++n;
  } while (now < until);
  m.rates.push_back(static_cast<double>(n) / std::chrono::duration<double>(now - start).count());
}

// Runs op(thread) from `threads` threads for about `seconds`; total operations per second.
template <typename Op>
void Parallel(double seconds, int threads, Measure& m, Op op) {
  std::atomic<size_t> total{0};
  const auto start = Steady::now();
  const auto until = start + std::chrono::duration<double>(seconds);
  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      size_t n = 0;
      while (Steady::now() < until) {
        for (int i = 0; i < 8; ++i, ++n) op(t);
      }
      total += n;
    });
  }
  for (auto& w : workers) w.join();
  m.rates.push_back(static_cast<double>(total) / std::chrono::duration<double>(Steady::now() - start).count());
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

RateLimitConfig AlwaysAllowed() {
  RateLimitConfig c;
  c.default_caller = {1e9, 1e9};  // never runs dry: every admission is a full refill-and-take
  return c;
}

// redis-benchmark's PING_MBULK row at one connection: {rps, p50 ms, p99 ms}, or {} without it.
std::vector<double> RedisBenchmarkPing(int port, int requests) {
  if (::access("/usr/bin/redis-benchmark", X_OK) != 0) return {};
  std::string cmd = "/usr/bin/redis-benchmark -h 127.0.0.1 -p " + std::to_string(port) + " -t ping -c 1 -n " +
                    std::to_string(requests) + " --csv 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {};
  std::vector<double> out;
  char line[512];
  while (std::fgets(line, sizeof line, p) != nullptr) {
    // "PING_MBULK","rps","avg","min","p50","p95","p99","max" (Redis 7), quoted.
    if (std::string(line).rfind("\"PING_MBULK\"", 0) != 0) continue;
    std::vector<double> f;
    for (char* s = line; (s = std::strchr(s, ',')) != nullptr;) f.push_back(std::strtod(++s + 1, nullptr));
    if (f.size() >= 6) out = {f[0], f[3], f[5]};
  }
  ::pclose(p);
  return out;
}

}  // namespace

namespace {

int Run(int argc, char** argv) {
  const double seconds = argc > 1 ? std::strtod(argv[1], nullptr) : 1.0;
  const int rounds = argc > 2 ? static_cast<int>(std::strtol(argv[2], nullptr, 10)) : 5;
  if (seconds <= 0 || rounds <= 0) Die("usage: ratelimit_bench [seconds per measure = 1] [rounds = 5] [redis DSN]");

  std::unique_ptr<testing::RedisProcess> server;
  std::string dsn;
  if (argc > 3) {
    dsn = argv[3];
  } else {
    std::string error;
    server = testing::RedisProcess::Launch(&error);
    if (!server) Die("starting redis-server: " + error);
    dsn = server->dsn();
  }
  auto endpoint = redis::ParseDsn(dsn);
  if (!endpoint.ok()) Die(endpoint.status().ToString());
  const std::string where = endpoint->Describe();
  const int port = endpoint->port;

  ManualClock clock;  // the local limiter never needs real time: its bucket never runs dry
  RateLimiter local(AlwaysAllowed(), clock);

  RedisBucketStoreOptions options;
  options.endpoint = std::move(*endpoint);
  options.timeout = std::chrono::milliseconds(1000);  // measure Redis, not fallbacks
  options.key_prefix = "neosl:bench:";
  options.connections = 8;
  auto store = std::make_unique<RedisBucketStore>(std::move(options));
  RedisBucketStore* store_ptr = store.get();
  RateLimiter shared(AlwaysAllowed(), clock, RateLimiter::Shared{std::move(store), true});
  if (!store_ptr->WaitUp(std::chrono::seconds(10))) Die("Redis at " + where + " did not come up");

  auto raw_endpoint = redis::ParseDsn(dsn);
  auto raw = redis::Connection::Open(*raw_endpoint, Steady::now() + std::chrono::seconds(5));
  if (!raw.ok()) Die(raw.status().ToString());

  Measure mem{"in-memory admit"}, red{"redis admit"}, ping{"raw PING (same client)"};
  Measure mem4{"in-memory admit, 4 thr"}, red4{"redis admit, 4 thr"};
  const std::string callers[4] = {"bench-a", "bench-b", "bench-c", "bench-d"};
  bool all_ok = true;
  for (int round = 0; round < rounds; ++round) {
    Timed(seconds, mem, [&] { all_ok &= local.AdmitCaller("bench-a", false).allowed; });
    Timed(seconds, red, [&] { all_ok &= shared.AdmitCaller("bench-a", false).allowed; });
    Timed(seconds, ping, [&] {
      auto r = (*raw)->Call({"PING"}, Steady::now() + std::chrono::seconds(1));
      all_ok &= r.ok() && r->text == "PONG";
    });
    Parallel(seconds, 4, mem4, [&](int t) { all_ok &= local.AdmitCaller(callers[t], false).allowed; });
    Parallel(seconds, 4, red4, [&](int t) { all_ok &= shared.AdmitCaller(callers[t], false).allowed; });
  }
  if (!all_ok) Die("an admission was refused or a PING failed during the run");
  if (shared.shared_stats().decided_locally != 0) Die("some admissions fell back to local buckets");

  std::printf("ratelimit bench: Redis at %s, %d rounds x %.2f s, median of rounds; latency over all calls\n",
              where.c_str(), rounds, seconds);
  for (Measure* m : {&mem, &red, &ping, &mem4, &red4}) {
    m->median = Median(m->rates);
    if (m->latency.empty()) {
      std::printf("%-26s %10.0f /s\n", m->name, m->median);
    } else {
      std::printf("%-26s %10.0f /s   p50 %7.2f us   p99 %7.2f us\n", m->name, m->median,
                  bench::Percentile(m->latency, 0.5), bench::Percentile(m->latency, 0.99));
    }
  }
  const std::vector<double> peer = server ? RedisBenchmarkPing(port, 50000) : std::vector<double>{};
  if (peer.size() == 3) {
    std::printf("%-26s %10.0f /s   p50 %7.2f us   p99 %7.2f us\n", "redis-benchmark ping -c 1", peer[0], peer[1] * 1000,
                peer[2] * 1000);
  }
  const double vs_ping = red.median / ping.median;
  const double vs_memory = red.median / mem.median;
  std::printf("%-26s %7.3f   target >= 0.50: %s\n", "redis admit / raw PING", vs_ping,
              vs_ping >= 0.5 ? "met" : "MISSED");
  std::printf("%-26s %7.4f   (the price of sharing; no target)\n", "redis admit / in-memory", vs_memory);

  for (const Measure* m : {&mem, &red, &ping, &mem4, &red4}) {
    std::printf("{\"measure\":\"%s\",\"per_second\":%.0f", m->name, m->median);
    if (!m->latency.empty()) {
      std::printf(",\"p50_us\":%.2f,\"p99_us\":%.2f", bench::Percentile(m->latency, 0.5),
                  bench::Percentile(m->latency, 0.99));
    }
    std::printf(",\"rounds\":%d}\n", rounds);
  }
  if (peer.size() == 3) {
    std::printf("{\"measure\":\"redis-benchmark ping -c 1\",\"per_second\":%.0f,\"p50_us\":%.2f,\"p99_us\":%.2f}\n",
                peer[0], peer[1] * 1000, peer[2] * 1000);
  }
  std::printf("{\"measure\":\"redis/ping\",\"ratio\":%.3f,\"target\":0.5,\"met\":%s}\n", vs_ping,
              vs_ping >= 0.5 ? "true" : "false");
  std::printf("{\"measure\":\"redis/memory\",\"ratio\":%.4f}\n", vs_memory);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {  // std::thread, std::vector: nothing else throws here
    std::fprintf(stderr, "ratelimit_bench: %s\n", e.what());
    return 1;
  }
}
