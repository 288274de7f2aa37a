// Sources of randomness, passed in so tests can be deterministic.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <string>

namespace neosl {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual void Fill(std::span<uint8_t> out) = 0;
  uint64_t NextU64();
};

// The operating system's CSPRNG through OpenSSL's RAND_bytes. Aborts if the CSPRNG fails:
// continuing without randomness would be worse than stopping.
class SecureRandom final : public RandomSource {
 public:
  void Fill(std::span<uint8_t> out) override;
  static SecureRandom& Instance();
};

// A seeded, reproducible generator (splitmix64) for tests. Never for keys.
class DeterministicRandom final : public RandomSource {
 public:
  explicit DeterministicRandom(uint64_t seed) : state_(seed) {}
  void Fill(std::span<uint8_t> out) override;

 private:
  std::mutex mu_;
  uint64_t state_;
};

}  // namespace neosl
