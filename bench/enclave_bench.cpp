// The ECALL boundary under load, with its peer measured in the same run:
//   - round trip: a 16-byte ping through EnclaveHost to the real `neosl enclave` (sandboxed
//     child process) and back, one caller: p50 / p99 latency (target p50 < 20 µs);
//   - signatures: P-256 signatures per second through the enclave (`sign` ECALLs from N host
//     threads) against raw OpenSSL (EVP_DigestSign, N threads in this process) — target ≥ 0.5.
// Usage: enclave_bench [path to neosl] [seconds per run = 3] [threads = 2]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "bench_util.h"
#include "tee/host.h"

namespace {

using namespace neosl;
using Steady = std::chrono::steady_clock;

using neosl::bench::Percentile;

// Runs `op` on `threads` threads for `seconds`; returns operations per second.
template <typename Op>
double Throughput(int threads, double seconds, Op op) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> done{0};
  std::vector<std::thread> workers;
  auto start = Steady::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        if (!op()) std::abort();
        ++n;
      }
      done += n;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  return static_cast<double>(done.load()) / std::chrono::duration<double>(Steady::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string binary =
      argc > 1 ? argv[1] : (std::filesystem::path(argv[0]).parent_path().parent_path() / "neosl").string();
  const double seconds = argc > 2 ? std::atof(argv[2]) : 3.0;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  const auto dir = std::filesystem::temp_directory_path() / ("neosl-enclave-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "sealed");

  tee::EnclaveHostOptions o;
  o.binary = std::filesystem::absolute(binary).string();
  o.args = {"enclave",
            "--sealed-dir",
            (dir / "sealed").string(),
            "--platform-secret",
            (dir / "platform.secret").string(),
            "--seal-policy",
            "measurement"};
  auto host = tee::EnclaveHost::Start(o);
  if (!host.ok() || !(*host)->WaitReady(std::chrono::seconds(20))) {
    std::fprintf(stderr, "the enclave did not start (%s)\n", binary.c_str());
    return 1;
  }
  std::printf("enclave bench: %s, %.0f s per run, %d threads\n\n", binary.c_str(), seconds, threads);

  // Round trip, one caller.
  tee::v1::EcallRequest ping;
  ping.mutable_ping()->set_payload(std::string(16, 'x'));
  for (int i = 0; i < 2000; ++i) (void)(*host)->Call(ping, std::chrono::seconds(5));  // warm up
  std::vector<double> us;
  auto until = Steady::now() + std::chrono::duration<double>(seconds);
  while (Steady::now() < until) {
    auto t0 = Steady::now();
    if (!(*host)->Call(ping, std::chrono::seconds(5)).ok()) return 1;
    us.push_back(std::chrono::duration<double, std::micro>(Steady::now() - t0).count());
  }
  std::printf(
      "ECALL round trip (16-byte ping, 1 caller): p50 %.1f us, p99 %.1f us over %zu calls (target p50 < 20 us)\n",
      Percentile(us, 0.5), Percentile(us, 0.99), us.size());

  // Signatures through the enclave.
  tee::v1::EcallRequest sign;
  sign.mutable_sign()->set_key(tee::v1::SignRequest::NEO);
  sign.mutable_sign()->set_message(std::string(36, 's'));
  const double enclave_rate =
      Throughput(threads, seconds, [&] { return (*host)->Call(sign, std::chrono::seconds(5)).ok(); });

  // Peer: raw OpenSSL P-256 signatures in this process, same threads, same message size.
  EVP_PKEY* key = EVP_EC_gen("P-256");
  const double openssl_rate = Throughput(threads, seconds, [&] {
    unsigned char sig[80];
    size_t len = sizeof sig;
    const unsigned char msg[36] = {};
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok = EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
              EVP_DigestSign(ctx, sig, &len, msg, sizeof msg) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
  });
  EVP_PKEY_free(key);

  // The same through batched sign ECALLs (16 messages a call).
  tee::v1::EcallRequest batch;
  batch.mutable_sign()->set_key(tee::v1::SignRequest::NEO);
  for (int i = 0; i < 16; ++i) batch.mutable_sign()->add_messages(std::string(36, static_cast<char>('a' + i)));
  const double batch_rate = 16 * Throughput(threads, seconds, [&] {
                              auto r = (*host)->Call(batch, std::chrono::seconds(5));
                              return r.ok() && r->signatures().signatures_size() == 16;
                            });
  std::printf("raw OpenSSL P-256 signatures in-process (%d threads): %.0f/s\n", threads, openssl_rate);
  std::printf("through the enclave, one per ECALL:  %.0f/s, ratio %.2f\n", enclave_rate, enclave_rate / openssl_rate);
  std::printf("through the enclave, 16 per ECALL:   %.0f/s, ratio %.2f (target >= 0.5)\n", batch_rate,
              batch_rate / openssl_rate);
  (*host)->Stop();
  std::filesystem::remove_all(dir);
  return 0;
}
