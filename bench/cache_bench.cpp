// The chain-read cache: JSON-RPC calls the node answers for N function invocations that read the
// same contract state within one block, with the process's cache off and on.
//
//   build/bench/cache_bench [neosl binary] [invocations = 1000] [readers = 2]
//
// Real parts throughout: the functions runtime's worker pool (sandboxed enclave workers running
// the JavaScript), context.neo.invokeRead answered by the serve path's ChainForFunctions over
// HTTP, and the devchain's JSON-RPC server, which counts the calls it answers. The devchain mines
// only when a transaction arrives and none does, so every invocation reads the same block (the
// bench checks the height did not move). `readers` threads invoke at once, as a gateway would.
// Prints one JSON line per mode and the ratio of calls, off / on.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "apps/neosl/chain_reads.h"
#include "bench_enclave.h"
#include "core/clock.h"
#include "core/random.h"
#include "crypto/hash.h"
#include "devchain/chain.h"
#include "devchain/native.h"
#include "devchain/rpc_server.h"
#include "neo/chain_cache.h"
#include "runtime/worker_pool.h"

namespace {
using namespace neosl;
using SteadyClock = std::chrono::steady_clock;

// Reads one account's NEO balance and the token's total supply: two state reads per invocation.
std::string Source(const std::string& account) {
  return "export default async function (request, context) {\n"
         "  const neoToken = '" +
         devchain::NativeRegistry::NeoHash().ToString() +
         "';\n"
         "  const balance = await context.neo.invokeRead(neoToken, 'balanceOf',\n"
         "      [{ type: 'Hash160', value: '" +
         account +
         "' }]);\n"
         "  const supply = await context.neo.invokeRead(neoToken, 'totalSupply', []);\n"
         "  return { balance: balance.stack[0].value, supply: supply.stack[0].value };\n"
         "}\n";
}

runtime::Invocation Make(const std::string& source, int i) {
  runtime::Invocation inv;
  inv.account = "acc_aaaaaaaaaaaaaaaaaaaa";
  inv.function_id = "fn_aaaaaaaaaaaaaaaaaaaa";
  inv.version = 1;
  inv.execution_id = "ex_" + std::to_string(1'000'000 + i);
  inv.source = source;
  auto h = crypto::Sha256(std::span(reinterpret_cast<const uint8_t*>(source.data()), source.size()));
  std::copy(h.begin(), h.end(), inv.source_hash.begin());
  inv.args_json = "null";
  return inv;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "cache_bench: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string binary = std::filesystem::absolute(
      argc > 1 ? argv[1] : (std::filesystem::path(argv[0]).parent_path().parent_path() / "neosl").string());
  const int invocations = argc > 2 ? std::atoi(argv[2]) : 1000;
  const int readers = argc > 3 ? std::atoi(argv[3]) : 2;
  if (invocations < 1 || readers < 1) return Fail("usage: cache_bench [neosl] [invocations >= 1] [readers >= 1]");

  const auto dir = std::filesystem::temp_directory_path() / ("neosl-cache-bench-" + std::to_string(getpid()));
  struct Cleanup {
    std::filesystem::path dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{dir};

  devchain::ChainOptions chain_options;
  chain_options.data_dir = (dir / "chain").string();
  chain_options.block_time = std::chrono::milliseconds(0);  // a block only for a transaction: none comes
  auto chain = devchain::Chain::Open(chain_options);
  if (!chain.ok()) return Fail(chain.status().ToString());
  auto server = devchain::RpcServer::Start({.host = "127.0.0.1", .port = 0, .threads = 2}, **chain);
  if (!server.ok()) return Fail(server.status().ToString());
  const std::string url = "http://127.0.0.1:" + std::to_string((*server)->port());

  // Which ChainForFunctions answers context.neo.invokeRead: one per mode.
  std::atomic<app::ChainForFunctions*> chain_reads{nullptr};

  auto enclave = bench::StartBenchEnclave(binary, dir);
  if (!enclave.ok()) return Fail(enclave.status().ToString());
  runtime::WorkerPoolOptions po;
  po.binary = binary;
  po.enclave_args = enclave->args;
  po.workers = readers;
  po.neo_read = [&chain_reads](const std::string& contract, const std::string& method, const std::string& params) {
    return chain_reads.load()->InvokeRead(contract, method, params);
  };
  auto pool = runtime::WorkerPool::Start(po);
  if (!pool.ok()) return Fail(pool.status().ToString());

  const std::string source = Source(devchain::DevWalletAt(1).script_hash.ToString());
  std::string expected;  // every invocation's result, the same in both modes

  auto run = [&](const char* mode, bool cached) -> StatusOr<uint64_t> {
    std::shared_ptr<neo::ChainReadCache> cache;
    if (cached) cache = std::make_shared<neo::ChainReadCache>(neo::ChainCacheOptions{}, SystemClock::Instance());
    app::ChainForFunctions reads(url, cache, SystemClock::Instance(), SecureRandom::Instance());
    chain_reads.store(&reads);
    const uint32_t height = (*chain)->height();
    const uint64_t before = (*server)->calls_answered();
    std::atomic<int> next{0}, failed{0};
    std::mutex mu;
    std::string failure;
    const auto start = SteadyClock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < readers; ++t) {
      threads.emplace_back([&] {
        for (int i = next.fetch_add(1); i < invocations; i = next.fetch_add(1)) {
          auto out = (*pool)->Run(Make(source, i));
          std::lock_guard lock(mu);
          Status s = !out.ok() ? out.status() : out->status;
          if (s.ok() && expected.empty()) expected = out->result_json;
          if (s.ok() && out->result_json != expected) s = InternalError("result " + out->result_json);
          if (!s.ok()) {
            failed.fetch_add(1);
            failure = s.ToString();
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
    const uint64_t calls = (*server)->calls_answered() - before;
    chain_reads.store(nullptr);
    if (failed.load() > 0) return InternalError(std::to_string(failed.load()) + " invocations failed: " + failure);
    if ((*chain)->height() != height) return InternalError("a block was mined during the run");
    std::string extra;
    if (cache) {
      auto s = cache->stats();
      extra = ",\"state_hits\":" + std::to_string(s.state_hits) + ",\"state_misses\":" + std::to_string(s.state_misses);
    }
    std::printf(
        "{\"measure\":\"%s\",\"invocations\":%d,\"reads\":%d,\"rpc_calls\":%llu,\"block\":%u,\"seconds\":%.2f,"
        "\"invocations_per_second\":%.0f%s}\n",
        mode, invocations, 2 * invocations, static_cast<unsigned long long>(calls), height, seconds,
        double(invocations) / seconds, extra.c_str());
    std::fflush(stdout);
    return calls;
  };

  // Compile the function once so that neither mode pays for it.
  chain_reads.store(nullptr);
  {
    app::ChainForFunctions warm(url, nullptr, SystemClock::Instance(), SecureRandom::Instance());
    chain_reads.store(&warm);
    auto out = (*pool)->Run(Make(source, -1));
    chain_reads.store(nullptr);
    if (!out.ok() || !out->status.ok()) {
      return Fail("warm-up: " + (out.ok() ? out->status.ToString() : out.status().ToString()));
    }
    std::printf("{\"result\":%s}\n", out->result_json.c_str());
  }
  auto off = run("cache_off", false);
  if (!off.ok()) return Fail(off.status().ToString());
  auto on = run("cache_on", true);
  if (!on.ok()) return Fail(on.status().ToString());
  std::printf("{\"measure\":\"rpc_calls_off_over_on\",\"ratio\":%.1f,\"target\":100}\n",
              double(*off) / double(std::max<uint64_t>(1, *on)));
  return 0;
}
