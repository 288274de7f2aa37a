#include "services/pricefeed/decimal.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <string>
#include <string_view>

#include "services/pricefeed/quote.h"

namespace neosl::pricefeed {
namespace {

__extension__ typedef __int128 i128;  // -Wpedantic: a GCC extension, on purpose

constexpr size_t kMaxSignificant = 64;
constexpr int64_t kMaxExponent = 100'000;  // far past any shift that could still fit; keeps the arithmetic small
constexpr i128 kInt64Max = std::numeric_limits<int64_t>::max();

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// Index past the run of digits starting at `i`.
size_t SkipDigits(std::string_view s, size_t i) {
  while (i < s.size() && IsDigit(s[i])) ++i;
  return i;
}

}  // namespace

StatusOr<int64_t> ParseDecimal(std::string_view text, int decimals) {
  if (decimals < 0 || decimals > kMaxDecimals) {
    return InvalidArgumentError("decimals must be between 0 and " + std::to_string(kMaxDecimals) + ", not " +
                                std::to_string(decimals));
  }
  // digits ["." digits] [("e" | "E") ["+" | "-"] digits], nothing else.
  const size_t int_end = SkipDigits(text, 0);
  if (int_end == 0) return InvalidArgumentError("not a decimal number: must start with a digit");
  size_t frac_begin = int_end;
  size_t frac_end = int_end;
  size_t i = int_end;
  if (i < text.size() && text[i] == '.') {
    frac_begin = i + 1;
    frac_end = SkipDigits(text, frac_begin);
    if (frac_end == frac_begin) return InvalidArgumentError("not a decimal number: no digits after '.'");
    i = frac_end;
  }
  int64_t exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
    const size_t exp_end = SkipDigits(text, i);
    if (exp_end == i) return InvalidArgumentError("not a decimal number: no digits in the exponent");
    for (; i < exp_end; ++i) exponent = std::min(kMaxExponent, exponent * 10 + (text[i] - '0'));
    if (negative) exponent = -exponent;
  }
  if (i != text.size()) return InvalidArgumentError("not a decimal number: unexpected characters");

  // The significant digits, leading zeros dropped: value = digits × 10^(exponent − fraction length).
  std::string digits;
  digits.reserve(int_end + (frac_end - frac_begin));
  digits.append(text.substr(0, int_end));
  digits.append(text.substr(frac_begin, frac_end - frac_begin));
  if (digits.size() > kMaxSignificant) {
    return InvalidArgumentError("decimal number has more than " + std::to_string(kMaxSignificant) + " digits");
  }
  const size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return int64_t{0};
  digits.erase(0, first);

  const int64_t shift = exponent - int64_t(frac_end - frac_begin) + decimals;
  const int64_t n = int64_t(digits.size());
  const Status overflow =
      OutOfRangeError("decimal number does not fit in int64 at " + std::to_string(decimals) + " decimals");
  // digits has no leading zero, so it is at least 10^(n−1): n + shift > 19 digits is past int64.
  if (n + shift > 19) return overflow;
  const int64_t keep = n + shift;  // digits left of the scaled point
  i128 value = 0;
  for (int64_t k = 0; k < keep && k < n; ++k) value = value * 10 + (digits[size_t(k)] - '0');
  for (int64_t k = n; k < keep; ++k) value *= 10;
  if (keep < n) {
    // Round the dropped digits half to even. With keep < 0 they are below 0.1 units: round down.
    if (keep >= 0) {
      const char next = digits[size_t(keep)];
      const bool rest_nonzero = digits.find_first_not_of('0', size_t(keep) + 1) != std::string::npos;
      if (next > '5' || (next == '5' && (rest_nonzero || (value & 1) != 0))) ++value;
    }
  }
  if (value > kInt64Max) return overflow;
  return int64_t(value);
}

std::string FormatDecimal(int64_t value, int decimals) {
  if (decimals < 0) decimals = 0;
  // The magnitude as unsigned, so that INT64_MIN formats too.
  const uint64_t magnitude = value < 0 ? uint64_t(0) - uint64_t(value) : uint64_t(value);
  std::string digits = std::to_string(magnitude);
  if (digits.size() <= size_t(decimals)) digits.insert(0, size_t(decimals) + 1 - digits.size(), '0');
  if (decimals > 0) digits.insert(digits.size() - size_t(decimals), 1, '.');
  if (value < 0) digits.insert(0, 1, '-');
  return digits;
}

std::string ShortestDecimal(double d) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  if (ec != std::errc()) return {};
  return std::string(buf, end);
}

}  // namespace neosl::pricefeed
