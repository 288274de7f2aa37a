#include "services/oracle/consensus.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <utility>

#include <boost/json.hpp>

namespace neosl::oracle {
namespace {

// ---- Unsigned integers as decimal digit strings ("0", "120"; no leading zeros) ----
// The numbers here stay under ~130 digits (see the limits in the header), so schoolbook
// arithmetic on text is exact, fast enough and easy to check.

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

std::string StripLeadingZeros(std::string s) {
  size_t first = s.find_first_not_of('0');
  if (first == std::string::npos) return "0";
  s.erase(0, first);
  return s;
}

int CompareMagnitude(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  int c = a.compare(b);
  return (c > 0) - (c < 0);
}

std::string AddMagnitude(const std::string& a, const std::string& b) {
  std::string out;
  int carry = 0;
  for (size_t i = 0; i < a.size() || i < b.size() || carry != 0; ++i) {
    int d = carry;
    if (i < a.size()) d += a[a.size() - 1 - i] - '0';
    if (i < b.size()) d += b[b.size() - 1 - i] - '0';
    out.push_back(static_cast<char>('0' + d % 10));
    carry = d / 10;
  }
  std::reverse(out.begin(), out.end());
  return StripLeadingZeros(std::move(out));
}

// a − b, for a ≥ b.
std::string SubtractMagnitude(const std::string& a, const std::string& b) {
  std::string out;
  int borrow = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    int d = a[a.size() - 1 - i] - '0' - borrow;
    if (i < b.size()) d -= b[b.size() - 1 - i] - '0';
    borrow = d < 0 ? 1 : 0;
    out.push_back(static_cast<char>('0' + d + 10 * borrow));
  }
  std::reverse(out.begin(), out.end());
  return StripLeadingZeros(std::move(out));
}

std::string MultiplySmall(const std::string& a, uint32_t factor) {
  std::string out;
  uint64_t carry = 0;
  for (size_t i = a.size(); i-- > 0;) {
    uint64_t d = static_cast<uint64_t>(a[i] - '0') * factor + carry;
    out.push_back(static_cast<char>('0' + d % 10));
    carry = d / 10;
  }
  for (; carry != 0; carry /= 10) out.push_back(static_cast<char>('0' + carry % 10));
  std::reverse(out.begin(), out.end());
  return StripLeadingZeros(std::move(out));
}

// ⌈a / b⌉, for b > 0.
std::string DivideCeil(const std::string& a, const std::string& b) {
  std::string quotient;
  std::string rest = "0";
  for (char c : a) {
    rest = StripLeadingZeros(rest + c);
    char digit = '0';
    for (; CompareMagnitude(rest, b) >= 0; ++digit) rest = SubtractMagnitude(rest, b);
    quotient.push_back(digit);
  }
  quotient = StripLeadingZeros(std::move(quotient));
  return rest == "0" ? quotient : AddMagnitude(quotient, "1");
}

// ---- Signed decimals: ±coefficient × 10^exponent ----

struct Decimal {
  bool negative = false;
  std::string coefficient = "0";  // no leading zeros; no trailing zeros unless "0"
  int64_t exponent = 0;           // 0 for zero, which is never negative

  bool IsZero() const { return coefficient == "0"; }
};

Decimal MakeDecimal(bool negative, std::string coefficient, int64_t exponent) {
  coefficient = StripLeadingZeros(std::move(coefficient));
  if (coefficient == "0") return Decimal{};
  size_t last = coefficient.find_last_not_of('0');
  exponent += static_cast<int64_t>(coefficient.size() - 1 - last);
  coefficient.resize(last + 1);
  return Decimal{negative, std::move(coefficient), exponent};
}

// |d| as an integer in units of 10^exponent, for exponent ≤ d.exponent.
std::string ScaledTo(const Decimal& d, int64_t exponent) {
  if (d.IsZero()) return "0";
  return d.coefficient + std::string(static_cast<size_t>(d.exponent - exponent), '0');
}

int Compare(const Decimal& a, const Decimal& b) {
  if (a.negative != b.negative) return a.negative ? -1 : 1;
  int64_t e = std::min(a.exponent, b.exponent);
  int c = CompareMagnitude(ScaledTo(a, e), ScaledTo(b, e));
  return a.negative ? -c : c;
}

Decimal Add(const Decimal& a, const Decimal& b) {
  int64_t e = std::min(a.exponent, b.exponent);
  std::string x = ScaledTo(a, e);
  std::string y = ScaledTo(b, e);
  if (a.negative == b.negative) return MakeDecimal(a.negative, AddMagnitude(x, y), e);
  if (CompareMagnitude(x, y) >= 0) return MakeDecimal(a.negative, SubtractMagnitude(x, y), e);
  return MakeDecimal(b.negative, SubtractMagnitude(y, x), e);
}

Decimal Negate(Decimal d) {
  if (!d.IsZero()) d.negative = !d.negative;
  return d;
}

// d / 2 = d × 5 / 10, exactly.
Decimal Half(const Decimal& d) {
  return MakeDecimal(d.negative, MultiplySmall(d.coefficient, 5), d.exponent - 1);
}

std::string ToPlain(const Decimal& d) {
  if (d.IsZero()) return "0";
  std::string out = d.negative ? "-" : "";
  if (d.exponent >= 0) return out + d.coefficient + std::string(static_cast<size_t>(d.exponent), '0');
  auto fraction_digits = static_cast<size_t>(-d.exponent);
  if (d.coefficient.size() > fraction_digits) {
    size_t point = d.coefficient.size() - fraction_digits;
    return out + d.coefficient.substr(0, point) + "." + d.coefficient.substr(point);
  }
  return out + "0." + std::string(fraction_digits - d.coefficient.size(), '0') + d.coefficient;
}

// A JSON number (RFC 8259 §6) within the header's limits.
StatusOr<Decimal> ParseNumber(std::string_view s) {
  auto not_a_number = [] { return InvalidArgumentError("not a JSON number"); };
  auto digits_end = [&](size_t from) {
    while (from < s.size() && IsDigit(s[from])) ++from;
    return from;
  };
  size_t i = 0;
  bool negative = i < s.size() && s[i] == '-';
  if (negative) ++i;
  size_t int_end = digits_end(i);
  if (int_end == i || (s[i] == '0' && int_end - i > 1)) return not_a_number();
  std::string coefficient(s.substr(i, int_end - i));
  int64_t exponent = 0;
  i = int_end;
  if (i < s.size() && s[i] == '.') {
    size_t frac_end = digits_end(i + 1);
    if (frac_end == i + 1) return not_a_number();
    coefficient.append(s.substr(i + 1, frac_end - i - 1));
    exponent = -static_cast<int64_t>(frac_end - i - 1);
    i = frac_end;
  }
  std::string_view exponent_digits = "0";
  bool exponent_negative = false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) exponent_negative = s[i++] == '-';
    size_t exp_end = digits_end(i);
    if (exp_end == i) return not_a_number();
    exponent_digits = s.substr(i, exp_end - i);
    size_t first = exponent_digits.find_first_not_of('0');
    exponent_digits = first == std::string_view::npos ? "0" : exponent_digits.substr(first);
    i = exp_end;
  }
  if (i != s.size()) return not_a_number();

  if (coefficient.find_first_not_of('0') == std::string::npos) return Decimal{};  // 0e999999999999 too
  auto out_of_range = [] {
    return OutOfRangeError("number out of range: |x| must be below 1e" + std::to_string(kMaxMagnitudeExponent) +
                           " and at least 1e-" + std::to_string(kMaxMagnitudeExponent));
  };
  if (exponent_digits.size() > 9) return out_of_range();
  int64_t e = 0;
  for (char c : exponent_digits) e = e * 10 + (c - '0');
  Decimal d = MakeDecimal(negative, std::move(coefficient), exponent + (exponent_negative ? -e : e));
  if (d.coefficient.size() > static_cast<size_t>(kMaxSignificantDigits)) {
    return OutOfRangeError("number has " + std::to_string(d.coefficient.size()) + " significant digits, more than " +
                           std::to_string(kMaxSignificantDigits));
  }
  int64_t magnitude = d.exponent + static_cast<int64_t>(d.coefficient.size()) - 1;  // of the leading digit
  if (magnitude >= kMaxMagnitudeExponent || magnitude < -kMaxMagnitudeExponent) return out_of_range();
  return d;
}

std::string_view TrimJsonSpace(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\r";
  size_t first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

std::string_view KindName(boost::json::kind kind) {
  switch (kind) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "boolean";
    case boost::json::kind::object: return "object";
    case boost::json::kind::array: return "array";
    case boost::json::kind::string: return "string";
    default: return "number";
  }
}

StatusOr<Decimal> ParseSingleNumber(std::string_view result) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(result, ec);
  if (ec) return InvalidArgumentError("result is not JSON");
  const boost::json::value* element = &value;
  // Boost.JSON keeps numbers as doubles; the exact digits are read from the text, which has
  // just been validated as `number` or `[ number ]` when the value is one.
  std::string_view text = TrimJsonSpace(result);
  if (value.is_array()) {
    const boost::json::array& array = value.get_array();
    if (array.size() != 1) {
      return InvalidArgumentError("result is an array of " + std::to_string(array.size()) + " elements, not 1");
    }
    element = &array[0];
    text = TrimJsonSpace(text.substr(1, text.size() - 2));
  }
  if (element->is_string()) {
    const boost::json::string& s = element->get_string();
    return ParseNumber(std::string_view(s.data(), s.size()));
  }
  if (element->is_number()) return ParseNumber(text);
  return InvalidArgumentError("result holds a " + std::string(KindName(element->kind())) + ", not a number");
}

// ---- Decisions ----

std::string JoinIndexes(const std::vector<size_t>& indexes) {
  std::string out;
  for (size_t i : indexes) out += (out.empty() ? "" : ", ") + std::to_string(i);
  return out;
}

// The rule was not met: the code every source failed with when they all failed alike,
// ConsensusUnreachable otherwise.
ConsensusResult NotMet(std::vector<SourceVerdict> sources, std::string why) {
  ConsensusResult r;
  const ResponseCode first = sources.front().code;
  bool all_failed_alike = first != ResponseCode::kSuccess &&
                          std::all_of(sources.begin(), sources.end(), [&](auto& s) { return s.code == first; });
  if (all_failed_alike) {
    r.code = first;
    r.detail = sources.size() == 1 ? "the source failed with "
                                   : "all " + std::to_string(sources.size()) + " sources failed with ";
    r.detail += ResponseCodeName(first);
    if (sources.size() == 1 && !sources.front().note.empty()) r.detail += ": " + sources.front().note;
  } else {
    r.code = ResponseCode::kConsensusUnreachable;
    r.detail = std::move(why);
    std::string failures;
    for (size_t i = 0; i < sources.size(); ++i) {
      if (sources[i].code == ResponseCode::kSuccess) continue;
      failures +=
          (failures.empty() ? "" : ", ") + std::to_string(i) + " " + std::string(ResponseCodeName(sources[i].code));
    }
    if (!failures.empty()) r.detail += "; failed sources: " + failures;
  }
  r.sources = std::move(sources);
  return r;
}

ConsensusResult DecideEqual(const ConsensusSpec& spec, const std::vector<SourceOutcome>& outcomes,
                            std::vector<SourceVerdict> sources) {
  const size_t n = outcomes.size();
  std::vector<std::vector<size_t>> groups;  // members of each distinct successful result
  for (size_t i = 0; i < n; ++i) {
    if (sources[i].code != ResponseCode::kSuccess) continue;
    auto same = std::find_if(groups.begin(), groups.end(),
                             [&](const auto& g) { return outcomes[g.front()].result == outcomes[i].result; });
    if (same == groups.end()) same = groups.insert(groups.end(), std::vector<size_t>{});
    same->push_back(i);
    sources[i].group = static_cast<int>(same - groups.begin());
  }
  const size_t needed = spec.rule == Rule::kAllEqual   ? n
                        : spec.rule == Rule::kMajority ? n / 2 + 1
                                                       : static_cast<size_t>(spec.m);
  const std::string rule(RuleName(spec.rule));
  std::vector<size_t> reaching;  // groups with enough members
  size_t largest = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    largest = std::max(largest, groups[g].size());
    if (groups[g].size() >= needed) reaching.push_back(g);
  }
  if (reaching.size() > 1) {
    std::string sets;
    for (size_t g : reaching) sets += (sets.empty() ? "{" : ", {") + JoinIndexes(groups[g]) + "}";
    return NotMet(std::move(sources), rule + ": " + std::to_string(reaching.size()) +
                                          " different results each have at least " + std::to_string(needed) +
                                          " sources (" + sets + ")");
  }
  if (reaching.empty()) {
    return NotMet(std::move(sources), rule + " needs " + std::to_string(needed) + " of " + std::to_string(n) +
                                          " sources to agree; at most " + std::to_string(largest) + " do");
  }
  ConsensusResult r;
  const std::vector<size_t>& agreeing = groups[reaching.front()];
  r.code = ResponseCode::kSuccess;
  r.result = outcomes[agreeing.front()].result;
  r.detail = rule + ": " + std::to_string(agreeing.size()) + " of " + std::to_string(n) + " sources agree";
  r.agreeing = agreeing;
  r.sources = std::move(sources);
  return r;
}

ConsensusResult DecideMedian(const ConsensusSpec& spec, const std::vector<SourceOutcome>& outcomes,
                             std::vector<SourceVerdict> sources) {
  const size_t n = outcomes.size();
  std::vector<std::pair<Decimal, size_t>> numbers;  // value, source index
  for (size_t i = 0; i < n; ++i) {
    if (sources[i].code != ResponseCode::kSuccess) continue;
    StatusOr<Decimal> number = ParseSingleNumber(outcomes[i].result);
    if (!number.ok()) {
      sources[i].code = ResponseCode::kError;
      sources[i].note = "not a single number: " + std::string(number.status().message());
      continue;
    }
    sources[i].group = 0;
    numbers.emplace_back(std::move(number).value(), i);
  }
  const size_t quorum = spec.min_sources > 0 ? static_cast<size_t>(spec.min_sources) : n / 2 + 1;
  if (numbers.size() < quorum) {
    return NotMet(std::move(sources), "median needs numbers from " + std::to_string(quorum) + " of " +
                                          std::to_string(n) + " sources; " + std::to_string(numbers.size()) +
                                          " gave one");
  }
  std::stable_sort(numbers.begin(), numbers.end(),
                   [](const auto& a, const auto& b) { return Compare(a.first, b.first) < 0; });
  const size_t k = numbers.size();
  const Decimal median = k % 2 == 1 ? numbers[k / 2].first : Half(Add(numbers[k / 2 - 1].first, numbers[k / 2].first));

  // spread ≤ bps / 10000  ⇔  (max − min) × 10000 ≤ bps × |median|, in whole units of 10^e.
  const Decimal range = Add(numbers.back().first, Negate(numbers.front().first));
  const int64_t e = std::min(range.exponent, median.exponent);
  const std::string range_units = MultiplySmall(ScaledTo(range, e), 10000);
  const std::string median_units = ScaledTo(median, e);
  if (CompareMagnitude(range_units, MultiplySmall(median_units, spec.max_spread_bps)) > 0) {
    std::string spread =
        median.IsZero() ? "unbounded (the median is 0)" : DivideCeil(range_units, median_units) + " bps (rounded up)";
    return NotMet(std::move(sources), "median: the spread of the numbers is " + spread + ", over max_spread_bps " +
                                          std::to_string(spec.max_spread_bps));
  }
  ConsensusResult r;
  r.code = ResponseCode::kSuccess;
  r.result = "[" + ToPlain(median) + "]";
  r.detail = "median of " + std::to_string(k) + " numbers from " + std::to_string(n) + " sources, spread within " +
             std::to_string(spec.max_spread_bps) + " bps";
  for (const auto& number : numbers) r.agreeing.push_back(number.second);
  std::sort(r.agreeing.begin(), r.agreeing.end());
  r.sources = std::move(sources);
  return r;
}

constexpr std::array<Rule, 4> kRules = {Rule::kAllEqual, Rule::kMajority, Rule::kMedian, Rule::kMOfN};

}  // namespace

std::string_view RuleName(Rule rule) {
  switch (rule) {
    case Rule::kAllEqual: return "all-equal";
    case Rule::kMajority: return "majority";
    case Rule::kMedian: return "median";
    case Rule::kMOfN: return "m-of-n";
  }
  return "unknown";
}

StatusOr<Rule> ParseRule(std::string_view name) {
  for (Rule rule : kRules) {
    if (RuleName(rule) == name) return rule;
  }
  return FieldViolationError("rule", "unknown consensus rule; allowed: all-equal, majority, median, m-of-n");
}

Status ValidateSpec(const ConsensusSpec& spec, size_t sources) {
  if (sources == 0) return FieldViolationError("sources", "sources must name at least one source, not 0");
  const std::string rule(RuleName(spec.rule));
  if (spec.rule == Rule::kMOfN) {
    if (spec.m < 1 || static_cast<size_t>(spec.m) > sources) {
      return FieldViolationError("m", "m must be between 1 and the number of sources (" + std::to_string(sources) +
                                          "), not " + std::to_string(spec.m));
    }
  } else if (spec.m != 0) {
    return FieldViolationError("m", "m applies only to the m-of-n rule, not " + rule);
  }
  if (spec.rule == Rule::kMedian) {
    if (spec.min_sources < 0 || static_cast<size_t>(spec.min_sources) > sources) {
      return FieldViolationError("min_sources", "min_sources must be between 1 and the number of sources (" +
                                                    std::to_string(sources) + "), or 0 for a majority; not " +
                                                    std::to_string(spec.min_sources));
    }
  } else {
    if (spec.max_spread_bps != 0) {
      return FieldViolationError("max_spread_bps", "max_spread_bps applies only to the median rule, not " + rule);
    }
    if (spec.min_sources != 0) {
      return FieldViolationError("min_sources", "min_sources applies only to the median rule, not " + rule);
    }
  }
  return Status::Ok();
}

ConsensusResult Decide(const ConsensusSpec& spec, const std::vector<SourceOutcome>& outcomes) {
  std::vector<SourceVerdict> sources(outcomes.size());
  for (size_t i = 0; i < outcomes.size(); ++i) {
    sources[i].code = outcomes[i].code;
    if (outcomes[i].code != ResponseCode::kSuccess) sources[i].note = outcomes[i].detail;
  }
  if (Status valid = ValidateSpec(spec, outcomes.size()); !valid.ok()) {
    ConsensusResult r;
    r.code = ResponseCode::kError;
    r.detail = "invalid consensus spec: " + std::string(valid.message());
    r.sources = std::move(sources);
    return r;
  }
  return spec.rule == Rule::kMedian ? DecideMedian(spec, outcomes, std::move(sources))
                                    : DecideEqual(spec, outcomes, std::move(sources));
}

StatusOr<std::string> CanonicalDecimal(std::string_view number_text) {
  ASSIGN_OR_RETURN(Decimal d, ParseNumber(number_text));
  return ToPlain(d);
}

StatusOr<std::string> SingleNumber(std::string_view result) {
  ASSIGN_OR_RETURN(Decimal d, ParseSingleNumber(result));
  return ToPlain(d);
}

}  // namespace neosl::oracle
