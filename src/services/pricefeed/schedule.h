// The price feed's Update Scheduler, per feed, as Chainlink Data Feeds do it: publish when the
// price has moved by the deviation threshold since the last published price, or when the
// heartbeat has passed since the last publication, whichever comes first — with hysteresis:
// right after a deviation update, a move back the other way must reach deviation + hysteresis
// to publish, so a price bouncing across the threshold does not publish on every bounce (the
// heartbeat still bounds how stale the published price gets).
//
// Pure functions of (policy, state, price, now): the service keeps the state in its store and
// tests drive time by hand.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace neosl::pricefeed {

struct FeedPolicy {
  int64_t deviation_bps = 50;   // 0.5 %; ≥ 1
  int64_t hysteresis_bps = 25;  // ≥ 0
  int64_t heartbeat_ms = 3'600'000;
};

struct FeedState {
  std::optional<int64_t> last_price;  // none: never published
  int64_t last_published_ms = 0;
  int last_direction = 0;  // +1 / −1: the last publication was a deviation up / down; 0 otherwise
  bool republish = false;  // the last publication failed: publish the next price regardless
};

enum class Trigger { kNone, kFirst, kDeviation, kHeartbeat, kRepublish };
std::string_view TriggerName(Trigger t);  // "none", "first", "deviation", "heartbeat", "republish"

struct Decision {
  Trigger trigger = Trigger::kNone;
  int64_t deviation_bps = 0;  // |price − last| / last in bps, rounded down (0 when never published)
  int direction = 0;          // sign(price − last)
  bool publish() const { return trigger != Trigger::kNone; }
};

// Deviation is compared exactly (|p − last| × 10000 ≥ threshold × last, in 128 bits); a move of
// exactly the threshold publishes. With several reasons at once: first, republish, deviation,
// heartbeat in that order.
Decision Decide(const FeedPolicy& policy, const FeedState& state, int64_t price, int64_t now_ms);

// The state after publishing `price` at `now_ms` for `decision`: last_direction is the direction
// of a deviation update, 0 after any other kind.
FeedState Published(const FeedState& state, const Decision& decision, int64_t price, int64_t now_ms);

}  // namespace neosl::pricefeed
