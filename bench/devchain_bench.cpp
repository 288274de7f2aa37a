// The devchain under load, with its peers measured in the same run:
//   - sendrawtransaction: signed GAS transfers accepted per second over JSON-RPC (HTTP
//     keep-alive, C client threads), against (a) getblockcount over the same connections — the
//     HTTP + JSON-RPC floor — and (b) bare signature verification (OpenSSL ECDSA P-256) on one
//     core — the cryptographic floor every accepted transaction must pay.
//   - block production: time to persist a full block (512 transfers) and the interval overhead
//     of the block timer (actual − configured interval).
// Usage: devchain_bench [transactions=4000] [client threads=4]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "core/clock.h"
#include "core/random.h"
#include "devchain/chain.h"
#include "devchain/native.h"
#include "devchain/rpc_server.h"
#include "neo/account.h"
#include "neo/fee.h"
#include "neo/rpc_client.h"
#include "neo/script_builder.h"

namespace {

using namespace neosl;
using Steady = std::chrono::steady_clock;

double Seconds(Steady::duration d) {
  return std::chrono::duration<double>(d).count();
}

using neosl::bench::Percentile;

std::vector<neo::Transaction> SignTransfers(devchain::Chain& chain, int count, uint32_t nonce_base) {
  const auto& wallets = chain.dev_wallets();
  std::vector<neo::Transaction> out;
  out.reserve(static_cast<size_t>(count));
  const uint32_t height = chain.height();
  for (int i = 0; i < count; ++i) {
    const devchain::DevWallet& from = wallets[static_cast<size_t>(i) % wallets.size()];
    const devchain::DevWallet& to = wallets[(static_cast<size_t>(i) + 1) % wallets.size()];
    neo::ScriptBuilder sb;
    (void)sb.Nep17Transfer(devchain::NativeRegistry::GasHash(), from.script_hash, to.script_hash,
                           neo::ContractParam::Int(1000 + i));
    sb.Emit(neo::OpCode::ASSERT);
    const auto verification = neo::SingleSigScript(from.key.public_key());
    neo::TransactionBuilder b;
    b.SetNonce(nonce_base + static_cast<uint32_t>(i))
        .SetSystemFee(20'000'000)  // a GAS transfer needs ~0.1 GAS at the default ExecFeeFactor
        .SetValidUntilBlock(height + 1000)
        .SetScript(sb.Take())
        .AddSigner(neo::Signer{.account = from.script_hash, .scopes = neo::WitnessScope::CalledByEntry});
    auto unsigned_tx = b.Build();
    size_t size = unsigned_tx->EncodeUnsigned().size() + 1 + *neo::WitnessSize(verification);
    b.SetNetworkFee(*neo::CalculateNetworkFee(size, {verification}, 1000, 30));
    auto tx = b.Build();
    out.push_back(tx->WithWitnesses(
        {neo::Witness{.invocation = neo::SignatureInvocation(from.key.Sign(neo::SigningData(*tx, chain.network()))),
                      .verification = verification}}));
  }
  return out;
}

struct LoadResult {
  double per_second = 0;
  double p50_ms = 0, p99_ms = 0;
  int errors = 0;
};

// Runs `call(i)` for i in [0, n) over `threads` clients, each with its own connection.
template <typename Call>
LoadResult RunLoad(const std::string& url, int n, int threads, Call call) {
  std::atomic<int> next{0};
  std::atomic<int> errors{0};
  std::mutex mu;
  std::vector<double> latencies;
  auto start = Steady::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      neo::HttpRpcClientOptions o;
      o.url = url;
      o.max_attempts = 1;
      auto client = neo::HttpRpcClient::Create(o, SystemClock::Instance(), SecureRandom::Instance());
      if (!client.ok()) {
        errors += n;
        return;
      }
      std::vector<double> local;
      for (int i = next++; i < n; i = next++) {
        auto t0 = Steady::now();
        if (!call(**client, i)) ++errors;
        local.push_back(Seconds(Steady::now() - t0) * 1000);
      }
      std::lock_guard lock(mu);
      latencies.insert(latencies.end(), local.begin(), local.end());
    });
  }
  for (auto& w : workers) w.join();
  LoadResult r;
  r.per_second = n / Seconds(Steady::now() - start);
  r.p50_ms = Percentile(latencies, 0.5);
  r.p99_ms = Percentile(latencies, 0.99);
  r.errors = errors;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 4000;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 4;
  const std::string dir = std::filesystem::temp_directory_path() / ("neosl-devchain-bench-" + std::to_string(getpid()));

  devchain::ChainOptions options;
  options.data_dir = dir;
  options.reset = true;
  options.block_time = std::chrono::milliseconds(0);
  options.dev_wallets = 32;
  auto chain = devchain::Chain::Open(options);
  if (!chain.ok()) {
    std::fprintf(stderr, "%s\n", chain.status().ToString().c_str());
    return 1;
  }
  auto server = devchain::RpcServer::Start({.host = "127.0.0.1", .port = 0, .threads = 2}, **chain);
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  const std::string url = "http://127.0.0.1:" + std::to_string((*server)->port());
  std::printf("devchain bench: %d transactions, %d client threads, 2 server threads\n", n, threads);

  // Peer 1: bare ECDSA verification of the same transactions' witnesses, one core.
  auto txs = SignTransfers(**chain, n, 1);
  auto t0 = Steady::now();
  int verified = 0;
  for (const auto& tx : txs) {
    verified += neo::VerifyWitness(neo::SigningData(tx, (*chain)->network()), tx.witnesses()[0].invocation,
                                   tx.witnesses()[0].verification)
                    .ok();
  }
  const double verify_rate = n / Seconds(Steady::now() - t0);

  // Peer 2: the JSON-RPC round trip without work.
  LoadResult noop = RunLoad(url, n, threads, [](neo::RpcClient& c, int) { return c.GetBlockCount().ok(); });

  // The devchain: sendrawtransaction, full validation (decode, witness, fees, balance, trial run).
  std::vector<std::vector<uint8_t>> raw;
  for (const auto& tx : txs) raw.push_back(tx.Encode());
  std::mutex error_mu;
  std::string first_error;
  LoadResult send = RunLoad(url, n, threads, [&](neo::RpcClient& c, int i) {
    auto r = c.SendRawTransaction(raw[static_cast<size_t>(i)]);
    if (!r.ok()) {
      std::lock_guard lock(error_mu);
      if (first_error.empty()) first_error = r.status().ToString();
    }
    return r.ok();
  });
  if (!first_error.empty()) std::printf("first sendrawtransaction error: %s\n", first_error.c_str());

  std::printf("\n%-44s %12s %10s %10s %8s\n", "operation", "per second", "p50 ms", "p99 ms", "errors");
  std::printf("%-44s %12.0f %10s %10s %8d\n", "peer: ECDSA P-256 verify (1 core)", verify_rate, "-", "-", n - verified);
  std::printf("%-44s %12.0f %10.3f %10.3f %8d\n", "peer: getblockcount over JSON-RPC", noop.per_second, noop.p50_ms,
              noop.p99_ms, noop.errors);
  std::printf("%-44s %12.0f %10.3f %10.3f %8d\n", "devchain: sendrawtransaction accepted", send.per_second, send.p50_ms,
              send.p99_ms, send.errors);
  std::printf("ratio sendrawtransaction / getblockcount: %.2f\n", send.per_second / noop.per_second);
  std::printf("ratio sendrawtransaction / bare verify:   %.2f\n", send.per_second / verify_rate);

  // Block production: persist the pool in full blocks (512 transfers each).
  std::vector<double> block_ms;
  size_t persisted = 0;
  while (!(*chain)->MempoolHashes().empty()) {
    auto b0 = Steady::now();
    auto events = (*chain)->MineBlock();
    if (!events.ok()) {
      std::fprintf(stderr, "%s\n", events.status().ToString().c_str());
      return 1;
    }
    if (events->block.transactions().size() == devchain::kMaxTransactionsPerBlock) {
      block_ms.push_back(Seconds(Steady::now() - b0) * 1000);
    }
    persisted += events->block.transactions().size();
  }
  // Empty blocks: their cost in time, and what each adds to chain.db. Sizes are taken with the
  // chain closed, when SQLite has checkpointed its write-ahead log into the database.
  (*server)->Stop();
  server->reset();
  chain->reset();
  const auto db = std::filesystem::path(dir) / "chain.db";
  const uintmax_t disk0 = std::filesystem::file_size(db);
  options.reset = false;
  auto reopened = devchain::Chain::Open(options);
  if (!reopened.ok()) return 1;
  auto e0 = Steady::now();
  for (int i = 0; i < 400; ++i) (void)(*reopened)->MineBlock();
  const double empty_ms = Seconds(Steady::now() - e0) * 1000 / 400;
  reopened->reset();
  const double bytes_per_empty = static_cast<double>(std::filesystem::file_size(db) - disk0) / 400;
  if (!block_ms.empty()) {
    const double full = Percentile(block_ms, 0.5);
    std::printf(
        "\nfull block (512 transfers) persisted in %.1f ms median (%.1f us per transaction; %zu blocks, %zu tx)\n",
        full, full * 1000 / 512, block_ms.size(), persisted);
  }
  std::printf("empty block persisted in %.2f ms; it adds %.0f bytes to chain.db (%.0f MB a day at 1 s blocks)\n",
              empty_ms, bytes_per_empty, bytes_per_empty * 86400 / 1e6);

  // The block timer: 40 blocks at 100 ms.
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Steady::time_point> seen;
  options.block_time = std::chrono::milliseconds(100);
  auto timed = devchain::Chain::Open(options);
  if (!timed.ok()) return 1;
  (*timed)->Subscribe({.on_block = [&](const devchain::BlockEvents&) {
    std::lock_guard lock(mu);
    seen.push_back(Steady::now());
    cv.notify_all();
  }});
  (*timed)->Start();
  {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(30), [&] { return seen.size() >= 41; });
  }
  (*timed)->Stop();
  std::vector<double> intervals;
  for (size_t i = 1; i < seen.size(); ++i) intervals.push_back(Seconds(seen[i] - seen[i - 1]) * 1000);
  double mean = 0;
  for (double v : intervals) mean += v;
  mean /= std::max<size_t>(1, intervals.size());
  std::printf("block timer at 100 ms: mean interval %.2f ms (overhead %+.2f ms), p99 %.2f ms over %zu blocks\n", mean,
              mean - 100, Percentile(intervals, 0.99), intervals.size());
  std::filesystem::remove_all(dir);
  return 0;
}
