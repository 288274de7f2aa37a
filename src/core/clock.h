// Time, passed in rather than read from globals, so tests can drive it (STYLE.md).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace neosl {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall time, for timestamps that leave the process.
  virtual std::chrono::system_clock::time_point Now() const = 0;
  // Monotonic time, for durations, timeouts and token buckets.
  virtual std::chrono::steady_clock::time_point SteadyNow() const = 0;

  int64_t NowUnixMillis() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Now().time_since_epoch()).count();
  }
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point SteadyNow() const override { return std::chrono::steady_clock::now(); }
  // The process-wide real clock; owners still pass it down explicitly.
  static SystemClock& Instance();
};

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t unix_millis = 1'700'000'000'000) : ms_(unix_millis) {}
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms_.load()));
  }
  std::chrono::steady_clock::time_point SteadyNow() const override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(ms_.load()));
  }
  void Advance(std::chrono::milliseconds d) { ms_ += d.count(); }

 private:
  std::atomic<int64_t> ms_;
};

}  // namespace neosl
