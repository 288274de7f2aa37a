// Function invocations through the runtime's in-process API (runtime::WorkerPool: the host's
// pool of sandboxed function-worker enclave processes), cold and warm; bench/functions.sh runs
// it beside Node.js peers and prints the ratios.
//
//   build/bench/functions_bench [neosl binary] [seconds per measure = 3] [function.js]
//
// Cold: every invocation is a new function version, so the worker compiles it. Warm: the same
// version again, compiled once. Prints one JSON line per measure (p50/p99 µs, invocations/s).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "bench_enclave.h"
#include "bench_util.h"
#include "crypto/hash.h"
#include "runtime/engine.h"
#include "runtime/worker_pool.h"
#include "tee/host.h"

namespace {

using namespace neosl;
using Clock = std::chrono::steady_clock;

constexpr char kTrivial[] =
    "export default async function (request, context) {\n"
    "  let s = 0;\n"
    "  for (let i = 0; i < 100; i++) s += i;\n"
    "  return { sum: s, args: request.args };\n"
    "}\n";

runtime::Invocation Make(const std::string& source, uint32_t version) {
  runtime::Invocation inv;
  inv.account = "acc_aaaaaaaaaaaaaaaaaaaa";
  inv.function_id = "fn_aaaaaaaaaaaaaaaaaaaa";
  inv.version = version;
  inv.execution_id = "ex_aaaaaaaaaaaaaaaaaaaa";
  inv.source = source;
  auto h = crypto::Sha256(std::span(reinterpret_cast<const uint8_t*>(source.data()), source.size()));
  std::copy(h.begin(), h.end(), inv.source_hash.begin());
  inv.args_json = "[1,2,3]";
  return inv;
}

void Report(const char* name, std::vector<double>& us, double seconds) {
  std::printf("{\"measure\":\"%s\",\"p50_us\":%.1f,\"p99_us\":%.1f,\"per_second\":%.0f,\"n\":%zu}\n", name,
              bench::Percentile(us, 0.5), bench::Percentile(us, 0.99), double(us.size()) / seconds, us.size());
}

// The engine alone, in this process: what the pool adds is the ECALL, the proof and the queue.
class NullHost final : public runtime::InvocationHost {
 public:
  StatusOr<std::span<const uint8_t>> Secret(std::string_view) override { return NotFoundError("none"); }
  StatusOr<runtime::FetchResult> Fetch(const runtime::FetchCall&) override { return UnavailableError("none"); }
  StatusOr<std::string> NeoInvokeRead(std::string_view, std::string_view, std::string_view) override {
    return UnavailableError("none");
  }
  void Log(const runtime::LogLine&) override {}
  void Random(std::span<uint8_t> out) override { std::fill(out.begin(), out.end(), 4); }
  int64_t NowUnixMillis() override { return 0; }
};

void MeasureEngine(const std::string& source, double seconds) {
  auto engine = runtime::Engine::Create({});
  if (!engine.ok()) return;
  NullHost host;
  runtime::Invocation warm = Make(source, 1);
  (void)(*engine)->Run(warm, host);
  std::vector<double> us;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    const auto t0 = Clock::now();
    auto out = (*engine)->Run(warm, host);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (!out.status.ok()) return;
  }
  Report("engine_in_process_warm", us, std::chrono::duration<double>(Clock::now() - start).count());
  engine->reset();
  runtime::Engine::ShutdownProcess();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string binary = std::filesystem::absolute(
      argc > 1 ? argv[1] : (std::filesystem::path(argv[0]).parent_path().parent_path() / "neosl").string());
  const double seconds = argc > 2 ? std::strtod(argv[2], nullptr) : 3.0;
  std::string source = kTrivial;
  if (argc > 3) {
    std::ifstream in(argv[3]);
    std::stringstream ss;
    ss << in.rdbuf();
    source = ss.str();
  }

  const auto dir = std::filesystem::temp_directory_path() / ("neosl-functions-bench-" + std::to_string(getpid()));
  // The main enclave makes the keys the workers load.
  auto enclave = bench::StartBenchEnclave(binary, dir);
  if (!enclave.ok()) {
    std::fprintf(stderr, "functions_bench: %s\n", enclave.status().ToString().c_str());
    return 1;
  }
  runtime::WorkerPoolOptions po;
  po.binary = binary;
  po.enclave_args = enclave->args;
  po.workers = 1;  // one invocation at a time: latency, not throughput
  auto pool = runtime::WorkerPool::Start(po);
  if (!pool.ok()) {
    std::fprintf(stderr, "functions_bench: %s\n", pool.status().ToString().c_str());
    return 1;
  }

  uint32_t version = 1;
  auto measure = [&](bool cold) {
    std::vector<double> us, inside;
    runtime::Invocation warm = Make(source, 1'000'000);
    (void)(*pool)->Run(warm);  // compile the warm version once, outside the measure
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    const auto start = Clock::now();
    while (Clock::now() < end) {
      runtime::Invocation inv = cold ? Make(source, version++) : warm;
      const auto t0 = Clock::now();
      auto out = (*pool)->Run(std::move(inv));
      const auto t1 = Clock::now();
      if (!out.ok() || !out->status.ok()) {
        std::fprintf(stderr, "functions_bench: %s\n",
                     out.ok() ? out->status.ToString().c_str() : out.status().ToString().c_str());
        return std::vector<double>{};
      }
      us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      inside.push_back(double(out->duration.count()));
    }
    std::printf("{\"measure\":\"%s_inside_engine\",\"p50_us\":%.1f}\n", cold ? "neosl_cold" : "neosl_warm",
                bench::Percentile(inside, 0.5));
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    Report(cold ? "neosl_cold" : "neosl_warm", us, elapsed);
    return us;
  };
  measure(false);
  measure(true);
  if (argc > 4 && std::string(argv[4]) == "--engine") MeasureEngine(source, seconds);
  if (argc > 4 && std::string(argv[4]) == "--throughput") {
    // Many invocations in flight on a pool of two workers: the runtime's own ceiling.
    pool->reset();
    po.workers = 2;
    auto pool2 = runtime::WorkerPool::Start(po);
    if (!pool2.ok()) return 1;
    std::atomic<uint64_t> done{0};
    std::atomic<bool> stop{false};
    std::mutex mu;
    std::condition_variable cv;
    int in_flight = 0;
    runtime::Invocation warm = Make(source, 2'000'000);
    const auto start = Clock::now();
    const auto end = start + std::chrono::duration<double>(seconds);
    while (Clock::now() < end) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return in_flight < 16; });
        ++in_flight;
      }
      (*pool2)->RunAsync(warm, nullptr, [&](StatusOr<runtime::Outcome>) {
        done.fetch_add(1);
        std::lock_guard lock(mu);
        --in_flight;
        cv.notify_one();
      });
    }
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return in_flight == 0; });
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("{\"measure\":\"pool_throughput_2_workers\",\"per_second\":%.0f}\n", double(done.load()) / elapsed);
    (void)stop;
  }
  pool->reset();
  enclave->host->Stop();
  std::filesystem::remove_all(dir);
  return 0;
}
