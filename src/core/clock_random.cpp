#include <cstdio>
#include <cstdlib>

#include <openssl/rand.h>

#include "core/clock.h"
#include "core/random.h"

namespace neosl {

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

uint64_t RandomSource::NextU64() {
  uint8_t b[8];
  Fill(b);
  uint64_t v = 0;
  for (uint8_t x : b) v = (v << 8) | x;
  return v;
}

void SecureRandom::Fill(std::span<uint8_t> out) {
  if (out.empty()) return;
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    std::fputs("fatal: the system CSPRNG failed\n", stderr);
    std::abort();
  }
}

SecureRandom& SecureRandom::Instance() {
  static SecureRandom r;
  return r;
}

void DeterministicRandom::Fill(std::span<uint8_t> out) {
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < out.size(); i += 8) {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    for (size_t j = 0; j < 8 && i + j < out.size(); ++j) out[i + j] = uint8_t(z >> (8 * j));
  }
}

}  // namespace neosl
