// Exact decimal text ↔ fixed-point integers, for prices and volumes (no floating point).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace neosl::pricefeed {

// Parses a non-negative decimal number as venues write it — "123", "0.000123", "1.5e-7",
// "1.2E+3", "12." is refused, leading "+" refused — into an integer count of 10^-decimals units,
// rounding half to even past `decimals` digits. INVALID_ARGUMENT for text that is not such a
// number (empty, sign, spaces, hex, NaN/Infinity, more than 64 significant characters),
// OUT_OF_RANGE when the value does not fit in int64 at that scale. `decimals` in [0, 18].
StatusOr<int64_t> ParseDecimal(std::string_view text, int decimals);

// The inverse for display: 12345 at 2 decimals → "123.45"; 5 at 3 → "0.005"; trailing zeros
// kept ("1.50" at 2). Negative values get a leading '-'.
std::string FormatDecimal(int64_t value, int decimals);

// The shortest decimal text that reads back as `d` (std::to_chars), for venues that answer
// with JSON numbers (CoinGecko): "11.23", "1e-07". `d` must be finite.
std::string ShortestDecimal(double d);

}  // namespace neosl::pricefeed
