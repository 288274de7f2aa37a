// ECVRF-P256-SHA256-TAI prove and verify (crypto/ecvrf.h) against OpenSSL's ECDSA P-256 sign and
// verify through EVP on a prepared key, measured in the same run and interleaved round by round,
// so that the ratios survive a machine shared with other work. Inputs are 32 bytes (alpha for the
// VRF, the message for ECDSA, which hashes it with SHA-256); 256 different inputs are cycled so
// that try-and-increment takes its usual mix of one, two or more attempts.
//
// Targets: prove at least 0.4x ECDSA sign, verify at least 0.4x ECDSA verify (operations per
// second).
//
// Usage: vrf_bench [seconds per measure = 2] [rounds = 5]
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "core/random.h"
#include "crypto/ecvrf.h"
#include "crypto/p256.h"
#include "openssl_ecdsa.h"

namespace {

using namespace neosl;
using Steady = std::chrono::steady_clock;

constexpr size_t kInputSize = 32;
constexpr size_t kInputs = 256;
using Input = std::array<uint8_t, kInputSize>;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "vrf_bench: %s\n", what);
  std::abort();
}

// The ECDSA peer (bench/openssl_ecdsa.h), signing and verifying one input.
struct EcdsaPeer {
  bench::OpenSslKey key;
  EVP_PKEY* pkey = key.pkey;
  EVP_MD* sha256 = key.sha256;
  EVP_MD_CTX* ctx = key.ctx;

  std::vector<uint8_t> Sign(const Input& message) {
    std::vector<uint8_t> der(80);
    size_t len = der.size();
    if (EVP_DigestSignInit(ctx, nullptr, sha256, nullptr, pkey) != 1 ||
        EVP_DigestSign(ctx, der.data(), &len, message.data(), message.size()) != 1) {
      Die("EVP_DigestSign failed");
    }
    der.resize(len);
    return der;
  }
  bool Verify(const Input& message, const std::vector<uint8_t>& der) {
    return EVP_DigestVerifyInit(ctx, nullptr, sha256, nullptr, pkey) == 1 &&
           EVP_DigestVerify(ctx, der.data(), der.size(), message.data(), message.size()) == 1;
  }
};

// Runs op(i) for i = 0, 1, 2, … for about `seconds`; operations per second.
template <typename Op>
double Rate(double seconds, Op op) {
  size_t n = 0;
  const auto start = Steady::now();
  const auto until = start + std::chrono::duration<double>(seconds);
  Steady::time_point now;
  do {
    for (int i = 0; i < 16; ++i, ++n) op(n % kInputs);
    now = Steady::now();
  } while (now < until);
  return static_cast<double>(n) / std::chrono::duration<double>(now - start).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Measure {
  const char* name;
  std::vector<double> rates;
  double median = 0;
};

void PrintRatio(const char* name, double ratio, double target) {
  const bool met = ratio >= target;
  std::printf("%-24s %6.3f   target >= %.2f: %s\n", name, ratio, target, met ? "met" : "MISSED");
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::strtod(argv[1], nullptr) : 2.0;
  const int rounds = argc > 2 ? static_cast<int>(std::strtol(argv[2], nullptr, 10)) : 5;
  if (seconds <= 0 || rounds <= 0) Die("usage: vrf_bench [seconds per measure = 2] [rounds = 5]");

  DeterministicRandom random(9381);
  const crypto::PrivateKey key = crypto::PrivateKey::Generate(random);
  const auto public_key = key.public_key().Compressed();
  EcdsaPeer ecdsa;
  std::vector<Input> inputs(kInputs);
  std::vector<crypto::ecvrf::Proof> proofs;
  std::vector<std::vector<uint8_t>> signatures;
  for (Input& input : inputs) {
    random.Fill(input);
    proofs.push_back(crypto::ecvrf::Prove(key, input));
    signatures.push_back(ecdsa.Sign(input));
    if (!crypto::ecvrf::Verify(public_key, proofs.back(), input).ok()) Die("a proof did not verify");
    if (!ecdsa.Verify(input, signatures.back())) Die("an ECDSA signature did not verify");
  }

  Measure prove{"vrf prove"}, sign{"ecdsa sign (EVP)"}, verify{"vrf verify"}, ecdsa_verify{"ecdsa verify (EVP)"};
  const double slice = seconds / rounds;
  crypto::ecvrf::Proof sink{};
  bool all_ok = true;
  for (int round = 0; round < rounds; ++round) {
    prove.rates.push_back(Rate(slice, [&](size_t i) { sink = crypto::ecvrf::Prove(key, inputs[i]); }));
    sign.rates.push_back(Rate(slice, [&](size_t i) { sink[0] ^= ecdsa.Sign(inputs[i])[4]; }));
    verify.rates.push_back(
        Rate(slice, [&](size_t i) { all_ok &= crypto::ecvrf::Verify(public_key, proofs[i], inputs[i]).ok(); }));
    ecdsa_verify.rates.push_back(Rate(slice, [&](size_t i) { all_ok &= ecdsa.Verify(inputs[i], signatures[i]); }));
  }
  if (!all_ok) Die("a verification failed during the run");

  std::printf("vrf bench: ECVRF-P256-SHA256-TAI vs %s ECDSA P-256, %zu-byte inputs, %d rounds x %.2f s, median\n",
              OpenSSL_version(OPENSSL_VERSION), kInputSize, rounds, slice);
  for (Measure* m : {&prove, &sign, &verify, &ecdsa_verify}) {
    m->median = Median(m->rates);
    const auto [lo, hi] = std::minmax_element(m->rates.begin(), m->rates.end());
    std::printf("%-24s %9.0f /s  %7.2f us/op   (rounds %.0f..%.0f)\n", m->name, m->median, 1e6 / m->median, *lo, *hi);
  }
  const double prove_ratio = prove.median / sign.median;
  const double verify_ratio = verify.median / ecdsa_verify.median;
  PrintRatio("prove / ecdsa sign", prove_ratio, 0.4);
  PrintRatio("verify / ecdsa verify", verify_ratio, 0.4);

  for (const Measure* m : {&prove, &sign, &verify, &ecdsa_verify}) {
    std::printf("{\"measure\":\"%s\",\"per_second\":%.0f,\"us_per_op\":%.2f,\"rounds\":%d}\n", m->name, m->median,
                1e6 / m->median, rounds);
  }
  std::printf("{\"measure\":\"prove/sign\",\"ratio\":%.3f,\"target\":0.4,\"met\":%s}\n", prove_ratio,
              prove_ratio >= 0.4 ? "true" : "false");
  std::printf("{\"measure\":\"verify/verify\",\"ratio\":%.3f,\"target\":0.4,\"met\":%s}\n", verify_ratio,
              verify_ratio >= 0.4 ? "true" : "false");
  return 0;
}
