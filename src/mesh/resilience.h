// Client-side resilience: exponential backoff with jitter and a per-target circuit breaker.
// Both are plain state machines over a Clock, so tests drive them with a ManualClock.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "core/clock.h"
#include "core/random.h"

namespace neosl::mesh {

struct BackoffPolicy {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{1000};
  double multiplier = 2.0;
  double jitter = 0.2;  // each delay is scaled by a uniform factor in [1 - jitter, 1 + jitter]
};

// The delay before retry number `attempt` (1 = the first retry): initial × multiplier^(attempt-1),
// capped at max, then jittered. Never negative, never above max × (1 + jitter). An attempt below 1
// counts as 1; a huge attempt (or multiplier) saturates at max instead of overflowing. jitter is
// clamped to [0, 1]; with jitter 0 no random number is drawn.
std::chrono::milliseconds BackoffDelay(const BackoffPolicy& policy, int attempt, RandomSource& random);

struct BreakerOptions {
  int failure_threshold = 5;                 // consecutive failures that open the breaker (below 1: 1)
  std::chrono::milliseconds open_for{5000};  // how long it fails fast before probing
};

// Closed: calls pass; `failure_threshold` consecutive failures open it. Open: calls fail fast
// until `open_for` has passed, then one probe is let through (half-open). The probe's success
// closes it; its failure opens it again for another `open_for`. Thread-safe.
//
// Outcomes reported while open (calls let through before it opened) change nothing. The breaker
// cannot tell a late report from the probe's, so in half-open the first report decides.
class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };

  CircuitBreaker(BreakerOptions options, const Clock& clock);

  // Whether a call may go now. In half-open, true for exactly one caller until it reports.
  bool Allow();
  // Report the outcome of a call that Allow() let through. Only failures that say the target is
  // unhealthy count (the client passes UNAVAILABLE, DEADLINE_EXCEEDED from the transport,
  // RESOURCE_EXHAUSTED from the server's limiter does not).
  void Record(bool success);

  // The state as of the last Allow()/Record(): an open breaker whose `open_for` has passed stays
  // kOpen until the next Allow() lets the probe through (RetryIn() is then 0).
  State state() const;
  // How long until an open breaker lets a probe through (0 unless open).
  std::chrono::milliseconds RetryIn() const;

 private:
  BreakerOptions options_;
  const Clock& clock_;
  mutable std::mutex mu_;
  State state_ = State::kClosed;
  int failures_ = 0;
  bool probe_in_flight_ = false;
  std::chrono::steady_clock::time_point opened_at_{};
};

// "closed", "open", "half_open" (for logs and metric labels).
std::string_view BreakerStateName(CircuitBreaker::State state);

}  // namespace neosl::mesh
