#include "mesh/resilience.h"

#include <algorithm>
#include <cmath>

namespace neosl::mesh {
namespace {

// A uniform double in [0, 1) from the top 53 bits.
double UniformUnit(RandomSource& random) {
  return static_cast<double>(random.NextU64() >> 11) * 0x1.0p-53;
}

// Well inside int64 milliseconds, so the final conversion cannot overflow.
constexpr double kMaxMillis = 0x1.0p62;

}  // namespace

std::chrono::milliseconds BackoffDelay(const BackoffPolicy& policy, int attempt, RandomSource& random) {
  const double max_ms = std::clamp(static_cast<double>(policy.max.count()), 0.0, kMaxMillis);
  double jitter = policy.jitter;
  if (!(jitter >= 0)) jitter = 0;  // also NaN
  jitter = std::min(jitter, 1.0);

  // pow saturates to inf for a huge exponent; `!(x < max)` also catches NaN from a bad multiplier.
  const int exponent = std::max(attempt, 1) - 1;
  double base = static_cast<double>(policy.initial.count()) * std::pow(policy.multiplier, exponent);
  if (!(base < max_ms)) base = max_ms;
  base = std::max(base, 0.0);

  double delay = base;
  if (jitter > 0) delay *= 1.0 - jitter + 2.0 * jitter * UniformUnit(random);
  delay = std::clamp(delay, 0.0, std::min(max_ms * (1.0 + jitter), kMaxMillis));
  return std::chrono::milliseconds(std::llround(delay));
}

CircuitBreaker::CircuitBreaker(BreakerOptions options, const Clock& clock) : options_(options), clock_(clock) {
  options_.failure_threshold = std::max(options_.failure_threshold, 1);
  // Clamped to [0, 1 year]: opened_at_ + open_for is in steady_clock's nanoseconds, which a
  // milliseconds::max() would overflow.
  options_.open_for = std::clamp(options_.open_for, std::chrono::milliseconds(0),
                                 std::chrono::milliseconds(std::chrono::hours(24 * 366)));
}

bool CircuitBreaker::Allow() {
  std::lock_guard lock(mu_);
  switch (state_) {
    case State::kClosed: return true;
    case State::kOpen:
      if (clock_.SteadyNow() < opened_at_ + options_.open_for) return false;
      state_ = State::kHalfOpen;
      probe_in_flight_ = true;
      return true;
    case State::kHalfOpen:
      if (probe_in_flight_) return false;
      probe_in_flight_ = true;
      return true;
  }
  return false;
}

void CircuitBreaker::Record(bool success) {
  std::lock_guard lock(mu_);
  switch (state_) {
    case State::kClosed:
      if (success) {
        failures_ = 0;
      } else if (++failures_ >= options_.failure_threshold) {
        state_ = State::kOpen;
        opened_at_ = clock_.SteadyNow();
      }
      return;
    case State::kOpen: return;  // a call from before it opened; the probe decides
    case State::kHalfOpen:
      probe_in_flight_ = false;
      failures_ = 0;
      if (success) {
        state_ = State::kClosed;
      } else {
        state_ = State::kOpen;
        opened_at_ = clock_.SteadyNow();
      }
      return;
  }
}

CircuitBreaker::State CircuitBreaker::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

std::chrono::milliseconds CircuitBreaker::RetryIn() const {
  std::lock_guard lock(mu_);
  if (state_ != State::kOpen) return std::chrono::milliseconds(0);
  auto left = opened_at_ + options_.open_for - clock_.SteadyNow();
  if (left <= std::chrono::steady_clock::duration::zero()) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(left);
}

std::string_view BreakerStateName(CircuitBreaker::State state) {
  switch (state) {
    case CircuitBreaker::State::kClosed: return "closed";
    case CircuitBreaker::State::kOpen: return "open";
    case CircuitBreaker::State::kHalfOpen: return "half_open";
  }
  return "?";
}

}  // namespace neosl::mesh
