// P-256 ECDSA: our Sign/Verify against raw OpenSSL EVP on a prepared key, in the same run, so the
// ratio survives a noisy machine. The message is 36 bytes, the size of Neo's signing data
// (4-byte network magic + 32-byte hash).
//
//   ./build/bench/neo_bench --benchmark_filter='Sign|Verify' --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include <benchmark/benchmark.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "core/random.h"
#include "crypto/p256.h"
#include "openssl_ecdsa.h"

namespace {

using neosl::DeterministicRandom;
using neosl::crypto::PrivateKey;
using neosl::crypto::PublicKey;
using neosl::crypto::Signature;

constexpr size_t kMessageSize = 36;

std::array<uint8_t, kMessageSize> Message() {
  std::array<uint8_t, kMessageSize> message{};
  DeterministicRandom random(36);
  random.Fill(message);
  return message;
}

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "benchmark setup failed: %s\n", what);
  std::abort();
}

using neosl::bench::OpenSslKey;

void BM_Sign(benchmark::State& state) {
  DeterministicRandom random(1);
  const PrivateKey key = PrivateKey::Generate(random);
  const auto message = Message();
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the benchmark idiom
    Signature sig = key.Sign(message);
    benchmark::DoNotOptimize(sig);
  }
}
BENCHMARK(BM_Sign);

void BM_OpenSslSign(benchmark::State& state) {
  OpenSslKey key;
  const auto message = Message();
  std::array<uint8_t, 80> der{};
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the benchmark idiom
    size_t der_len = der.size();
    if (EVP_DigestSignInit(key.ctx, nullptr, key.sha256, nullptr, key.pkey) != 1 ||
        EVP_DigestSign(key.ctx, der.data(), &der_len, message.data(), message.size()) != 1) {
      state.SkipWithError("EVP_DigestSign failed");
      break;
    }
    benchmark::DoNotOptimize(der);
  }
}
BENCHMARK(BM_OpenSslSign);

void BM_Verify(benchmark::State& state) {
  DeterministicRandom random(2);
  const PrivateKey key = PrivateKey::Generate(random);
  const PublicKey& public_key = key.public_key();
  const auto message = Message();
  const Signature sig = key.Sign(message);
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the benchmark idiom
    if (!public_key.Verify(message, sig)) {
      state.SkipWithError("Verify failed");
      break;
    }
  }
}
BENCHMARK(BM_Verify);

void BM_OpenSslVerify(benchmark::State& state) {
  OpenSslKey key;
  const auto message = Message();
  std::array<uint8_t, 80> der{};
  size_t der_len = der.size();
  if (EVP_DigestSignInit(key.ctx, nullptr, key.sha256, nullptr, key.pkey) != 1 ||
      EVP_DigestSign(key.ctx, der.data(), &der_len, message.data(), message.size()) != 1) {
    Die("EVP_DigestSign");
  }
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the benchmark idiom
    if (EVP_DigestVerifyInit(key.ctx, nullptr, key.sha256, nullptr, key.pkey) != 1 ||
        EVP_DigestVerify(key.ctx, der.data(), der_len, message.data(), message.size()) != 1) {
      state.SkipWithError("EVP_DigestVerify failed");
      break;
    }
  }
}
BENCHMARK(BM_OpenSslVerify);

// Parsing cost matters where keys arrive as bytes (multisig scripts, RPC).
void BM_PublicKeyFromCompressed(benchmark::State& state) {
  DeterministicRandom random(3);
  const auto encoded = PrivateKey::Generate(random).public_key().Compressed();
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the benchmark idiom
    auto key = PublicKey::FromBytes(encoded);
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(BM_PublicKeyFromCompressed);

}  // namespace
