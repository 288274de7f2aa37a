#include "services/pricefeed/schedule.h"

#include <algorithm>
#include <limits>

namespace neosl::pricefeed {
namespace {

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

u128 Abs(i128 v) {
  return v < 0 ? static_cast<u128>(-v) : static_cast<u128>(v);
}

}  // namespace

std::string_view TriggerName(Trigger t) {
  switch (t) {
    case Trigger::kNone: return "none";
    case Trigger::kFirst: return "first";
    case Trigger::kDeviation: return "deviation";
    case Trigger::kHeartbeat: return "heartbeat";
    case Trigger::kRepublish: return "republish";
  }
  return "unknown";
}

Decision Decide(const FeedPolicy& policy, const FeedState& state, int64_t price, int64_t now_ms) {
  Decision d;
  if (!state.last_price) {
    d.trigger = Trigger::kFirst;
    return d;
  }
  // Published prices are positive; a stored 0 or negative one must not divide by zero or flip
  // the comparison, hence the magnitudes (from 0, any move is an unbounded deviation).
  const i128 diff = static_cast<i128>(price) - *state.last_price;
  const u128 move = Abs(diff);
  const u128 last = Abs(*state.last_price);
  d.direction = (diff > 0) - (diff < 0);
  constexpr int64_t kMaxBps = std::numeric_limits<int64_t>::max();
  if (last == 0) {
    d.deviation_bps = move == 0 ? 0 : kMaxBps;
  } else {
    d.deviation_bps = static_cast<int64_t>(std::min<u128>(move * 10'000 / last, kMaxBps));  // move < 2^64
  }

  // The policy's documented minimums are enforced here so that a bad policy cannot publish an
  // unchanged price on every call.
  u128 threshold_bps = static_cast<u128>(std::max<int64_t>(policy.deviation_bps, 1));
  if (state.last_direction != 0 && d.direction == -state.last_direction) {
    threshold_bps += static_cast<u128>(std::max<int64_t>(policy.hysteresis_bps, 0));
  }
  const bool deviated = move != 0 && move * 10'000 >= threshold_bps * last;  // both sides < 2^128
  const bool heartbeat = static_cast<i128>(now_ms) - state.last_published_ms >= policy.heartbeat_ms;

  if (state.republish) {
    d.trigger = Trigger::kRepublish;
  } else if (deviated) {
    d.trigger = Trigger::kDeviation;
  } else if (heartbeat) {
    d.trigger = Trigger::kHeartbeat;
  }
  return d;
}

FeedState Published(const FeedState& state, const Decision& decision, int64_t price, int64_t now_ms) {
  FeedState next = state;
  next.last_price = price;
  next.last_published_ms = now_ms;
  next.last_direction = decision.trigger == Trigger::kDeviation ? decision.direction : 0;
  next.republish = false;
  return next;
}

}  // namespace neosl::pricefeed
