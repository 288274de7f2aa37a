// The price feed's Price Validator and Data Aggregator: from the quotes the venues gave for one
// pair, drop the stale ones and the outliers, check the quorum, and take the median.
//
//   stale    as_of_ms older than now − max_age_ms (or more than max_future_ms ahead of now)
//   outlier  |p − m| > k × 1.4826 × MAD and |p − m| > outlier_floor_bps of m, where m is the median
//            of the fresh quotes and MAD the median of |p − m| (1.4826 × MAD estimates σ for a
//            normal distribution; the floor keeps venues a tick apart from being called outliers
//            when the others agree exactly and MAD is 0)
//   quorum   at least `quorum` quotes left, else the result is degraded (not ok) and says why
//   price    the median of what is left (the mean of the two middle ones, rounded half to even,
//            when even), or with volume_weighted the volume-weighted median (falling back to the
//            plain median when no quote has a volume)
// Integers throughout (int64 prices, 128-bit intermediates): the same inputs give the same price
// on every machine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/pricefeed/quote.h"

namespace neosl::pricefeed {

struct AggregateOptions {
  int64_t max_age_ms = 60'000;
  int64_t max_future_ms = 5'000;
  int quorum = 3;
  int64_t mad_k_milli = 3'000;  // k = 3.000
  int64_t outlier_floor_bps = 10;
  bool volume_weighted = false;
  int decimals = 0;  // the prices' decimals, for writing them in reasons only
};

enum class SourceStatus { kUsed, kFailed, kStale, kOutlier };
std::string_view SourceStatusName(SourceStatus s);  // "used", "failed", "stale", "outlier"

// One venue's part in a round: what it gave (or why not) and what the aggregation made of it.
struct SourceOutcome {
  std::string venue;
  SourceStatus status = SourceStatus::kUsed;  // on input: kUsed with a quote, or kFailed with a reason
  std::optional<Quote> quote;
  std::string reason;  // kFailed: why the venue gave nothing; kStale / kOutlier: by how much
};

struct Aggregate {
  bool ok = false;
  int64_t price = 0;                   // ok only
  std::vector<SourceOutcome> sources;  // every input, in input order, with its final status
  std::string reason;                  // !ok: e.g. "2 of 5 sources usable, quorum is 3 (…)"
  int used() const;                    // sources with status kUsed
};

Aggregate AggregateQuotes(std::vector<SourceOutcome> sources, int64_t now_ms, const AggregateOptions& options);

}  // namespace neosl::pricefeed
