#include "services/pricefeed/aggregate.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "services/pricefeed/decimal.h"

namespace neosl::pricefeed {
namespace {

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

constexpr u128 kU128Max = std::numeric_limits<u128>::max();

u128 Abs(i128 v) {
  return v < 0 ? static_cast<u128>(-v) : static_cast<u128>(v);
}

// `value` / 10^decimals as decimal text without trailing fractional zeros: 75000 at 3 → "75",
// 410 at 2 → "4.1", -5 at 3 → "-0.005". Ours rather than decimal.h's: 128 bits, no padding.
std::string FormatScaled(i128 value, int decimals) {
  u128 magnitude = Abs(value);
  std::string digits;  // least significant first
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude != 0);
  while (digits.size() <= static_cast<size_t>(decimals)) digits.push_back('0');
  std::reverse(digits.begin(), digits.end());
  std::string out = value < 0 ? "-" : "";
  out += digits.substr(0, digits.size() - decimals);
  std::string fraction = digits.substr(digits.size() - decimals);
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  if (!fraction.empty()) out += "." + fraction;
  return out;
}

std::string Seconds(i128 ms) {
  return FormatScaled(ms, 3) + " s";
}

// Basis points as a percentage; a deviation too small to show at that resolution says so.
std::string Percent(u128 bps, bool nonzero) {
  if (bps == 0 && nonzero) return "< 0.01 %";
  return FormatScaled(static_cast<i128>(bps), 2) + " %";
}

// Twice the median of `values` (the sum of the two middle ones when even), so that it is exact.
u128 TwiceMedian(std::vector<u128> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? 2 * values[n / 2] : values[n / 2 - 1] + values[n / 2];
}

// twice / 2, rounded half to even. For the sum of two int64 prices the result lies between them.
int64_t HalfEven(u128 twice) {
  u128 half = twice / 2;
  if (twice % 2 == 1 && half % 2 == 1) ++half;
  return static_cast<int64_t>(half);
}

int64_t Median(const std::vector<const Quote*>& quotes) {
  std::vector<u128> prices;
  prices.reserve(quotes.size());
  for (const Quote* q : quotes) prices.push_back(static_cast<u128>(q->price));
  return HalfEven(TwiceMedian(std::move(prices)));
}

// The volume-weighted median: the lowest price at which the cumulative volume, in price order,
// passes half the total. When it reaches exactly half at some price, every value up to the next
// price with volume splits the weight evenly, so — as the plain median does for an even count —
// the result is the mean of those two straddling prices, rounded half to even (equal volumes thus
// give the plain median). Quotes without volume weigh nothing; when none has any, the plain median.
int64_t VolumeWeightedMedian(std::vector<const Quote*> quotes) {
  u128 total = 0;
  for (const Quote* q : quotes) total += static_cast<u128>(q->volume);
  if (total == 0) return Median(quotes);
  std::sort(quotes.begin(), quotes.end(), [](const Quote* a, const Quote* b) { return a->price < b->price; });
  u128 cumulative = 0;
  for (size_t i = 0; i < quotes.size(); ++i) {
    cumulative += static_cast<u128>(quotes[i]->volume);
    if (2 * cumulative < total) continue;
    if (2 * cumulative > total) return quotes[i]->price;
    // Exactly half: the other half's weight is positive, so a next price with volume exists.
    for (size_t j = i + 1; j < quotes.size(); ++j) {
      if (quotes[j]->volume > 0) {
        return HalfEven(static_cast<u128>(quotes[i]->price) + static_cast<u128>(quotes[j]->price));
      }
    }
  }
  return Median(quotes);  // not reached: the cumulative volume ends at the total
}

// Checks what the venue gave and marks it stale if its time is out of the window.
void CheckQuote(SourceOutcome& s, int64_t now_ms, const AggregateOptions& options) {
  if (!s.quote) {
    s.status = SourceStatus::kFailed;
    s.reason = "no quote";
    return;
  }
  if (s.quote->price <= 0) {
    s.status = SourceStatus::kFailed;
    s.reason = "price " + std::to_string(s.quote->price) + " is not positive";
    return;
  }
  if (s.quote->volume < 0) {
    s.status = SourceStatus::kFailed;
    s.reason = "volume " + std::to_string(s.quote->volume) + " is negative";
    return;
  }
  const i128 age = static_cast<i128>(now_ms) - s.quote->as_of_ms();
  if (age > options.max_age_ms) {
    s.status = SourceStatus::kStale;
    s.reason = Seconds(age) + " old, max " + Seconds(options.max_age_ms);
  } else if (-age > options.max_future_ms) {
    s.status = SourceStatus::kStale;
    s.reason = Seconds(-age) + " ahead, max " + Seconds(options.max_future_ms);
  }
}

// Marks the outliers among `fresh` (all kUsed). Exact: with s2 = 2m and D = |2p − s2| = 2|p − m|,
// and 4·MAD the twice-median of the D, the header's tests become
//   |p − m| × 10^7 > k_milli × 14826 × MAD   ⇔  D × 2·10^7 > k_milli × 14826 × 4·MAD
//   |p − m| × 10^4 > floor_bps × m           ⇔  D × 10^4   > floor_bps × s2
// in which no side is rounded and none passes 2^128 (the one product that could is saturated).
void RejectOutliers(const std::vector<SourceOutcome*>& fresh, const AggregateOptions& options) {
  std::vector<u128> prices;
  prices.reserve(fresh.size());
  for (const SourceOutcome* s : fresh) prices.push_back(static_cast<u128>(s->quote->price));
  const u128 s2 = TwiceMedian(prices);
  std::vector<u128> deviations;  // D, in fresh's order
  deviations.reserve(fresh.size());
  for (u128 p : prices) deviations.push_back(Abs(static_cast<i128>(2 * p) - static_cast<i128>(s2)));
  const u128 mad4 = TwiceMedian(deviations);

  const u128 k = static_cast<u128>(std::max<int64_t>(options.mad_k_milli, 0)) * 14826;
  // Past 2^128 the bound exceeds every D × 2·10^7 (< 2^90) anyway.
  const u128 mad_bound = mad4 != 0 && k > kU128Max / mad4 ? kU128Max : k * mad4;
  const u128 floor_bps = static_cast<u128>(std::max<int64_t>(options.outlier_floor_bps, 0));

  for (size_t i = 0; i < fresh.size(); ++i) {
    const u128 d = deviations[i];
    if (d * 20'000'000 <= mad_bound || d * 10'000 <= floor_bps * s2) continue;
    fresh[i]->status = SourceStatus::kOutlier;
    // For the reason, both rounded to the nearest basis point of the exact median: the deviation
    // D/s2 and the larger of the two limits (mad_bound < D × 2·10^7 here, so no saturation).
    const u128 deviation_bps = (d * 20'000 + s2) / (2 * s2);
    const u128 mad_limit_bps = (mad_bound + 1'000 * s2) / (2'000 * s2);
    fresh[i]->reason = Percent(deviation_bps, true) + (2 * prices[i] > s2 ? " above" : " below") + " the median " +
                       FormatDecimal(HalfEven(s2), options.decimals) + ", max " +
                       Percent(std::max(mad_limit_bps, floor_bps), false);
  }
}

}  // namespace

std::string_view SourceStatusName(SourceStatus s) {
  switch (s) {
    case SourceStatus::kUsed: return "used";
    case SourceStatus::kFailed: return "failed";
    case SourceStatus::kStale: return "stale";
    case SourceStatus::kOutlier: return "outlier";
  }
  return "unknown";
}

int Aggregate::used() const {
  return static_cast<int>(std::count_if(sources.begin(), sources.end(),
                                        [](const SourceOutcome& s) { return s.status == SourceStatus::kUsed; }));
}

Aggregate AggregateQuotes(std::vector<SourceOutcome> sources, int64_t now_ms, const AggregateOptions& options) {
  Aggregate out;
  out.sources = std::move(sources);

  // Only kUsed inputs are judged; kFailed (and anything already judged) keeps its status and reason.
  std::vector<SourceOutcome*> fresh;
  for (SourceOutcome& s : out.sources) {
    if (s.status != SourceStatus::kUsed) continue;
    CheckQuote(s, now_ms, options);
    if (s.status == SourceStatus::kUsed) fresh.push_back(&s);
  }
  if (!fresh.empty()) RejectOutliers(fresh, options);

  std::vector<const Quote*> used;
  for (const SourceOutcome* s : fresh) {
    if (s->status == SourceStatus::kUsed) used.push_back(&*s->quote);
  }
  // A quorum under 1 would leave no price to take.
  const size_t quorum = static_cast<size_t>(std::max(options.quorum, 1));
  if (used.size() < quorum) {
    out.reason = std::to_string(used.size()) + " of " + std::to_string(out.sources.size()) +
                 " sources usable, quorum is " + std::to_string(quorum);
    std::string why;
    for (const SourceOutcome& s : out.sources) {
      if (s.status == SourceStatus::kUsed) continue;
      if (!why.empty()) why += "; ";
      why += s.venue + " " + std::string(SourceStatusName(s.status));
      if (!s.reason.empty()) why += ": " + s.reason;
    }
    if (!why.empty()) out.reason += " (" + why + ")";
    return out;
  }
  out.ok = true;
  out.price = options.volume_weighted ? VolumeWeightedMedian(std::move(used)) : Median(used);
  return out;
}

}  // namespace neosl::pricefeed
