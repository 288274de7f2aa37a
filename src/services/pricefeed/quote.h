// A venue's quote for one pair, as the price feed's adapters (venues.h) read it and its
// aggregation (aggregate.h) weighs it. Prices are exact: integers counting 10^-decimals units of
// the quote currency, never floating point.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace neosl::pricefeed {

// The largest number of decimals a pair may be configured with (int64 then still holds prices
// up to 9.2 × 10^(18 − decimals)).
inline constexpr int kMaxDecimals = 18;

// Volumes are counted in 10^-kVolumeDecimals units of the base asset.
inline constexpr int kVolumeDecimals = 8;

struct Quote {
  std::string venue;                    // "binance", "coinbase", … (venues.h VenueName)
  int64_t price = 0;                    // > 0, in 10^-decimals units of the quote currency
  int64_t volume = 0;                   // 24 h traded base volume, 10^-kVolumeDecimals units; 0 if unknown
  std::optional<int64_t> timestamp_ms;  // when the venue says the price is from (Unix ms), if it says
  int64_t fetched_at_ms = 0;            // when the enclave received the answer (Unix ms)

  // The quote's age reference: the venue's time if it gave one, else when it was fetched.
  int64_t as_of_ms() const { return timestamp_ms.value_or(fetched_at_ms); }
};

}  // namespace neosl::pricefeed
