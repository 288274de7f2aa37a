// How an oracle request that names several sources gets one answer (issue #10): every source is
// fetched and filtered on its own inside the enclave, and a consensus rule turns their outcomes
// into the single response the contract receives. A rule that cannot be met is answered with
// ConsensusUnreachable, never with a silent pick.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "services/oracle/response_code.h"

namespace neosl::oracle {

// all-equal: every source succeeded with byte-identical results.
// majority:  more than half of all named sources succeeded with byte-identical results.
// m-of-n:    at least m sources succeeded with byte-identical results, and no other result did.
// median:    each successful source holds one number; enough of them, spread within a bound.
enum class Rule { kAllEqual, kMajority, kMedian, kMOfN };

// "all-equal", "majority", "median", "m-of-n".
std::string_view RuleName(Rule rule);
// The rule with that name; INVALID_ARGUMENT (field "rule") naming the allowed values otherwise.
StatusOr<Rule> ParseRule(std::string_view name);

struct ConsensusSpec {
  Rule rule = Rule::kAllEqual;
  int m = 0;                    // m-of-n only: 1 ≤ m ≤ n.
  uint32_t max_spread_bps = 0;  // median only: (max − min) / |median| in basis points; 0 = all equal.
  int min_sources = 0;          // median only: quorum of sources with a number; 0 = a majority of n.
};

// OK when `spec` makes sense for `sources` named sources. Otherwise INVALID_ARGUMENT naming the
// field ("sources", "m", "max_spread_bps", "min_sources"); a field set for a rule that does not
// use it is an error too, so a caller's typo is not silently ignored.
Status ValidateSpec(const ConsensusSpec& spec, size_t sources);

// What one source gave: its own code and, on Success, the filtered bytes (for a JPath filter a
// JSON array such as `[123.45]`, with no filter the raw body). `detail` is for humans.
struct SourceOutcome {
  ResponseCode code = ResponseCode::kError;
  std::string result;
  std::string detail;
};

// How Decide saw one source.
struct SourceVerdict {
  // The source's own code, except that under median a successful source whose result is not
  // exactly one number counts as Error.
  ResponseCode code = ResponseCode::kError;
  // Equality rules: sources with byte-identical successful results share a group, numbered from
  // 0 in order of first appearance. Median: 0 for every source that gave a number. -1 for a
  // source that failed.
  int group = -1;
  // Why the source failed (its own detail, or why its result was not a number); empty otherwise.
  std::string note;
};

struct ConsensusResult {
  ResponseCode code = ResponseCode::kError;
  std::string result;                  // the answer; empty unless code is Success
  std::string detail;                  // why (not), for humans: counts and indexes, never results
  std::vector<size_t> agreeing;        // on Success, the sources (ascending) that formed the answer
  std::vector<SourceVerdict> sources;  // one per outcome, same order
};

// Applies `spec` to the outcomes of its sources, in the order the request named them.
// - Success with the agreed bytes (median: `[<CanonicalDecimal of the median>]`) when the rule
//   is met. The median of an even count is the exact mean of the two middle values.
// - When every source failed with the same code (median: counting non-numbers as Error), that
//   code: one source with no rule thus passes its own failure through.
// - Otherwise ConsensusUnreachable, including when two different results each reach m.
// - Error when ValidateSpec rejects `spec`.
ConsensusResult Decide(const ConsensusSpec& spec, const std::vector<SourceOutcome>& outcomes);

// Numbers accepted under median: JSON number syntax (RFC 8259), at most kMaxSignificantDigits
// significant digits, and 0 or 10^-kMaxMagnitudeExponent ≤ |x| < 10^kMaxMagnitudeExponent.
inline constexpr int kMaxSignificantDigits = 40;
inline constexpr int kMaxMagnitudeExponent = 40;

// `number_text` (a JSON number such as "-1.50e3") in plain decimal notation: no exponent, no
// trailing zeros after the point, no point for an integer, "0" for any zero ("-1500").
// INVALID_ARGUMENT if it is not a JSON number, OUT_OF_RANGE beyond the limits above.
StatusOr<std::string> CanonicalDecimal(std::string_view number_text);

// The one number a source's result holds, as CanonicalDecimal: a JSON number, a JSON string
// holding a JSON number, or a one-element JSON array of either (what a JPath filter returns).
// INVALID_ARGUMENT for anything else, OUT_OF_RANGE beyond the limits above.
StatusOr<std::string> SingleNumber(std::string_view result);

}  // namespace neosl::oracle
