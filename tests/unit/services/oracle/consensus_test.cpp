#include "services/oracle/consensus.h"

#include <ostream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/status_details.h"

namespace neosl::oracle {
// Test failures show "NotFound", not a byte.
void PrintTo(ResponseCode code, std::ostream* os) {
  *os << ResponseCodeName(code);
}

namespace {

using ::neosl::testing::FieldOf;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

SourceOutcome Ok(std::string result) {
  return {ResponseCode::kSuccess, std::move(result), ""};
}
SourceOutcome Fail(ResponseCode code, std::string detail = "") {
  return {code, "", std::move(detail)};
}

ConsensusSpec Spec(Rule rule) {
  return ConsensusSpec{.rule = rule};
}
ConsensusSpec MOfN(int m) {
  return ConsensusSpec{.rule = Rule::kMOfN, .m = m};
}
ConsensusSpec Median(uint32_t max_spread_bps, int min_sources = 0) {
  return ConsensusSpec{.rule = Rule::kMedian, .max_spread_bps = max_spread_bps, .min_sources = min_sources};
}

// ---- Rule names ----

TEST(ConsensusRule, NamesRoundTrip) {
  for (Rule rule : {Rule::kAllEqual, Rule::kMajority, Rule::kMedian, Rule::kMOfN}) {
    StatusOr<Rule> parsed = ParseRule(RuleName(rule));
    ASSERT_TRUE(parsed.ok()) << RuleName(rule);
    EXPECT_EQ(*parsed, rule);
  }
  EXPECT_EQ(RuleName(Rule::kMOfN), "m-of-n");
  EXPECT_EQ(RuleName(Rule::kAllEqual), "all-equal");
}

TEST(ConsensusRule, UnknownNameListsTheAllowedOnes) {
  StatusOr<Rule> parsed = ParseRule("Majority");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(parsed.status()), "rule");
  EXPECT_THAT(parsed.status().message(), HasSubstr("all-equal, majority, median, m-of-n"));
}

// ---- ValidateSpec ----

TEST(ConsensusValidateSpec, AcceptsSensibleSpecs) {
  EXPECT_TRUE(ValidateSpec(Spec(Rule::kAllEqual), 1).ok());
  EXPECT_TRUE(ValidateSpec(Spec(Rule::kMajority), 4).ok());
  EXPECT_TRUE(ValidateSpec(MOfN(1), 3).ok());
  EXPECT_TRUE(ValidateSpec(MOfN(3), 3).ok());
  EXPECT_TRUE(ValidateSpec(Median(0), 2).ok());
  EXPECT_TRUE(ValidateSpec(Median(50, 3), 3).ok());
}

TEST(ConsensusValidateSpec, NamesTheBadField) {
  struct Case {
    ConsensusSpec spec;
    size_t sources;
    std::string field;
  };
  const std::vector<Case> cases = {
      {Spec(Rule::kAllEqual), 0, "sources"},
      {MOfN(0), 3, "m"},
      {MOfN(4), 3, "m"},
      {MOfN(-1), 3, "m"},
      {ConsensusSpec{.rule = Rule::kMajority, .m = 2}, 3, "m"},
      {ConsensusSpec{.rule = Rule::kMedian, .m = 2}, 3, "m"},
      {ConsensusSpec{.rule = Rule::kAllEqual, .max_spread_bps = 10}, 3, "max_spread_bps"},
      {ConsensusSpec{.rule = Rule::kMOfN, .m = 2, .max_spread_bps = 10}, 3, "max_spread_bps"},
      {ConsensusSpec{.rule = Rule::kMajority, .min_sources = 2}, 3, "min_sources"},
      {Median(0, 4), 3, "min_sources"},
      {Median(0, -1), 3, "min_sources"},
  };
  for (const Case& c : cases) {
    Status status = ValidateSpec(c.spec, c.sources);
    SCOPED_TRACE(std::string(RuleName(c.spec.rule)) + " / " + c.field);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(FieldOf(status), c.field);
    EXPECT_THAT(status.message(), HasSubstr(c.field));
  }
}

TEST(ConsensusDecide, InvalidSpecIsAnErrorNotAPick) {
  ConsensusResult r = Decide(MOfN(3), {Ok("a"), Ok("a")});
  EXPECT_EQ(r.code, ResponseCode::kError);
  EXPECT_THAT(r.result, IsEmpty());
  EXPECT_THAT(r.detail, HasSubstr("m must be between 1 and"));
  EXPECT_EQ(Decide(Spec(Rule::kAllEqual), {}).code, ResponseCode::kError);
}

// ---- One source, no rule ----

TEST(ConsensusDecide, SingleSourcePassesThrough) {
  ConsensusResult ok = Decide(ConsensusSpec{}, {Ok("[42]")});
  EXPECT_EQ(ok.code, ResponseCode::kSuccess);
  EXPECT_EQ(ok.result, "[42]");
  EXPECT_THAT(ok.agreeing, ElementsAre(0u));

  ConsensusResult failed = Decide(ConsensusSpec{}, {Fail(ResponseCode::kForbidden, "HTTP 403")});
  EXPECT_EQ(failed.code, ResponseCode::kForbidden);
  EXPECT_THAT(failed.result, IsEmpty());
  EXPECT_THAT(failed.detail, HasSubstr("HTTP 403"));
  EXPECT_THAT(failed.agreeing, IsEmpty());
}

// ---- all-equal ----

TEST(ConsensusAllEqual, AllIdenticalSucceeds) {
  ConsensusResult r = Decide(Spec(Rule::kAllEqual), {Ok("[\"abc\"]"), Ok("[\"abc\"]"), Ok("[\"abc\"]")});
  EXPECT_EQ(r.code, ResponseCode::kSuccess);
  EXPECT_EQ(r.result, "[\"abc\"]");
  EXPECT_THAT(r.agreeing, ElementsAre(0u, 1u, 2u));
}

TEST(ConsensusAllEqual, ByteDifferenceIsDisagreement) {
  // Same JSON value, different bytes: equality rules compare bytes, not values.
  ConsensusResult r = Decide(Spec(Rule::kAllEqual), {Ok("[1.0]"), Ok("[1]")});
  EXPECT_EQ(r.code, ResponseCode::kConsensusUnreachable);
  EXPECT_THAT(r.result, IsEmpty());
  EXPECT_THAT(r.agreeing, IsEmpty());
  ASSERT_EQ(r.sources.size(), 2u);
  EXPECT_EQ(r.sources[0].group, 0);
  EXPECT_EQ(r.sources[1].group, 1);
}

TEST(ConsensusAllEqual, OneFailureBreaksIt) {
  ConsensusResult r = Decide(Spec(Rule::kAllEqual), {Ok("x"), Ok("x"), Fail(ResponseCode::kTimeout)});
  EXPECT_EQ(r.code, ResponseCode::kConsensusUnreachable);
  EXPECT_THAT(r.detail, HasSubstr("2 Timeout"));
  ASSERT_EQ(r.sources.size(), 3u);
  EXPECT_EQ(r.sources[2].code, ResponseCode::kTimeout);
  EXPECT_EQ(r.sources[2].group, -1);
}

// ---- Failures of every source ----

TEST(ConsensusDecide, AllFailedWithTheSameCodeReportsThatCode) {
  for (Rule rule : {Rule::kAllEqual, Rule::kMajority}) {
    ConsensusResult r = Decide(
        Spec(rule), {Fail(ResponseCode::kNotFound), Fail(ResponseCode::kNotFound), Fail(ResponseCode::kNotFound)});
    EXPECT_EQ(r.code, ResponseCode::kNotFound) << RuleName(rule);
    EXPECT_THAT(r.detail, HasSubstr("all 3 sources failed with NotFound"));
  }
  EXPECT_EQ(Decide(MOfN(1), {Fail(ResponseCode::kTimeout), Fail(ResponseCode::kTimeout)}).code, ResponseCode::kTimeout);
  EXPECT_EQ(Decide(Median(0), {Fail(ResponseCode::kTimeout), Fail(ResponseCode::kTimeout)}).code,
            ResponseCode::kTimeout);
}

TEST(ConsensusDecide, MixedFailuresAreUnreachable) {
  ConsensusResult r = Decide(Spec(Rule::kMajority), {Fail(ResponseCode::kNotFound), Fail(ResponseCode::kTimeout)});
  EXPECT_EQ(r.code, ResponseCode::kConsensusUnreachable);
  EXPECT_THAT(r.detail, HasSubstr("0 NotFound"));
  EXPECT_THAT(r.detail, HasSubstr("1 Timeout"));
}

TEST(ConsensusDecide, SomeSucceededSoNotAllFailedAlike) {
  // Two NotFound and one success: the rule fails, but not every source failed, so Unreachable.
  ConsensusResult r =
      Decide(Spec(Rule::kMajority), {Fail(ResponseCode::kNotFound), Ok("1"), Fail(ResponseCode::kNotFound)});
  EXPECT_EQ(r.code, ResponseCode::kConsensusUnreachable);
}

// ---- majority ----

TEST(ConsensusMajority, MoreThanHalfOfAllSources) {
  ConsensusResult r = Decide(Spec(Rule::kMajority), {Ok("a"), Ok("b"), Ok("a"), Fail(ResponseCode::kTimeout), Ok("a")});
  EXPECT_EQ(r.code, ResponseCode::kSuccess);
  EXPECT_EQ(r.result, "a");
  EXPECT_THAT(r.agreeing, ElementsAre(0u, 2u, 4u));
  EXPECT_THAT(r.detail, HasSubstr("3 of 5"));
}

TEST(ConsensusMajority, TwoAgainstTwoIsUnreachable) {
  ConsensusResult r = Decide(Spec(Rule::kMajority), {Ok("a"), Ok("b"), Ok("a"), Ok("b")});
  EXPECT_EQ(r.code, ResponseCode::kConsensusUnreachable);
  EXPECT_THAT(r.result, IsEmpty());
  EXPECT_THAT(r.detail, HasSubstr("needs 3 of 4"));
}

TEST(ConsensusMajority, HalfOfAllIsNotEnoughEvenIfTheRestFailed) {
  // Two of four agree and the other two failed: a majority counts all named sources.
  ConsensusResult r =
      Decide(Spec(Rule::kMajority), {Ok("a"), Fail(ResponseCode::kTimeout), Ok("a"), Fail(ResponseCode::kTimeout)});
  EXPECT_EQ(r.code, ResponseCode::kConsensusUnreachable);
}

// ---- m-of-n ----

TEST(ConsensusMOfN, Boundary) {
  const std::vector<SourceOutcome> outcomes = {Ok("a"), Ok("a"), Fail(ResponseCode::kTimeout), Ok("b"), Ok("a")};
  ConsensusResult three = Decide(MOfN(3), outcomes);
  EXPECT_EQ(three.code, ResponseCode::kSuccess);
  EXPECT_EQ(three.result, "a");
  EXPECT_THAT(three.agreeing, ElementsAre(0u, 1u, 4u));

  ConsensusResult four = Decide(MOfN(4), outcomes);
  EXPECT_EQ(four.code, ResponseCode::kConsensusUnreachable);
  EXPECT_THAT(four.detail, HasSubstr("at most 3"));
}

TEST(ConsensusMOfN, TwoResultsReachingMIsUnreachable) {
  ConsensusResult r = Decide(MOfN(2), {Ok("a"), Ok("b"), Ok("a"), Ok("b"), Ok("b")});
  EXPECT_EQ(r.code, ResponseCode::kConsensusUnreachable);
  EXPECT_THAT(r.detail, HasSubstr("{0, 2}"));
  EXPECT_THAT(r.detail, HasSubstr("{1, 3, 4}"));
}

TEST(ConsensusMOfN, OneOfNTakesTheOnlySuccess) {
  ConsensusResult r = Decide(MOfN(1), {Fail(ResponseCode::kTimeout), Ok("z"), Fail(ResponseCode::kNotFound)});
  EXPECT_EQ(r.code, ResponseCode::kSuccess);
  EXPECT_EQ(r.result, "z");
  EXPECT_THAT(r.agreeing, ElementsAre(1u));
}

// ---- median ----

TEST(ConsensusMedian, OddCount) {
  ConsensusResult r = Decide(Median(500), {Ok("[100.2]"), Ok("[99.8]"), Ok("[100]")});
  EXPECT_EQ(r.code, ResponseCode::kSuccess);
  EXPECT_EQ(r.result, "[100]");
  EXPECT_THAT(r.agreeing, ElementsAre(0u, 1u, 2u));
}

TEST(ConsensusMedian, EvenCountIsTheExactMean) {
  // Median 2.5, spread 3 / 2.5 = 12000 bps.
  ConsensusResult r = Decide(Median(12000), {Ok("[1]"), Ok("[4]"), Ok("[2]"), Ok("[3]")});
  EXPECT_EQ(r.code, ResponseCode::kSuccess);
  EXPECT_EQ(r.result, "[2.5]");

  // Beyond double precision: the mean of 0.1000…01 and 0.1000…02 (30 digits) is exact.
  ConsensusResult precise =
      Decide(Median(10), {Ok("[0.100000000000000000000000000001]"), Ok("[0.100000000000000000000000000002]")});
  EXPECT_EQ(precise.code, ResponseCode::kSuccess);
  EXPECT_EQ(precise.result, "[0.1000000000000000000000000000015]");
}

TEST(ConsensusMedian, AcceptedShapesAndExponents) {
  // Bare number, string, array of a string, array with exponent; all are 1500.
  ConsensusResult r = Decide(Median(0), {Ok("1500"), Ok("\"1.5e3\""), Ok("[\"1500.000\"]"), Ok(" [ 15E+2 ] ")});
  EXPECT_EQ(r.code, ResponseCode::kSuccess);
  EXPECT_EQ(r.result, "[1500]");
  EXPECT_THAT(r.agreeing, ElementsAre(0u, 1u, 2u, 3u));
}

TEST(ConsensusMedian, NegativeNumbers) {
  ConsensusResult r = Decide(Median(2000), {Ok("[-10]"), Ok("[-11]"), Ok("[-9.5]"), Ok("[-10.5]")});
  EXPECT_EQ(r.code, ResponseCode::kSuccess);
  EXPECT_EQ(r.result, "[-10.25]");  // (-10.5 + -10) / 2; spread 1.5 / 10.25 ≈ 1463 bps
}

TEST(ConsensusMedian, SpreadExactlyAtTheLimitPasses) {
  // (101 − 99) / 100 = 200 bps.
  const std::vector<SourceOutcome> outcomes = {Ok("[99]"), Ok("[100]"), Ok("[101]")};
  ConsensusResult at = Decide(Median(200), outcomes);
  EXPECT_EQ(at.code, ResponseCode::kSuccess);
  EXPECT_EQ(at.result, "[100]");

  ConsensusResult under = Decide(Median(199), outcomes);
  EXPECT_EQ(under.code, ResponseCode::kConsensusUnreachable);
  EXPECT_THAT(under.detail, HasSubstr("200 bps"));
  EXPECT_THAT(under.result, IsEmpty());
}

TEST(ConsensusMedian, SpreadJustOverTheLimitFails) {
  // (101.0001 − 99) / 100 = 200.01 bps: over 200, reported rounded up.
  ConsensusResult r = Decide(Median(200), {Ok("[99]"), Ok("[100]"), Ok("[101.0001]")});
  EXPECT_EQ(r.code, ResponseCode::kConsensusUnreachable);
  EXPECT_THAT(r.detail, HasSubstr("201 bps"));
}

TEST(ConsensusMedian, ZeroSpreadMeansEqualValues) {
  EXPECT_EQ(Decide(Median(0), {Ok("[1.10]"), Ok("[1.1]")}).code, ResponseCode::kSuccess);
  EXPECT_EQ(Decide(Median(0), {Ok("[1.1]"), Ok("[1.1000001]")}).code, ResponseCode::kConsensusUnreachable);
  // A zero median with different values has no bounded spread.
  ConsensusResult zero = Decide(Median(10000), {Ok("[-1]"), Ok("[0]"), Ok("[1]")});
  EXPECT_EQ(zero.code, ResponseCode::kConsensusUnreachable);
  EXPECT_THAT(zero.detail, HasSubstr("median is 0"));
  EXPECT_EQ(Decide(Median(0), {Ok("[0]"), Ok("[-0.0]")}).result, "[0]");
}

TEST(ConsensusMedian, NonNumbersCountAsErrors) {
  ConsensusResult r = Decide(Median(100), {Ok("[100]"), Ok("[\"abc\"]"), Ok("[100, 101]"), Ok("[100]"), Ok("{\"p\":1}"),
                                           Ok("[100]"), Ok("[100]")});
  EXPECT_EQ(r.code, ResponseCode::kSuccess);  // 4 of 7 is a majority
  EXPECT_EQ(r.result, "[100]");
  EXPECT_THAT(r.agreeing, ElementsAre(0u, 3u, 5u, 6u));
  ASSERT_EQ(r.sources.size(), 7u);
  EXPECT_EQ(r.sources[1].code, ResponseCode::kError);
  EXPECT_THAT(r.sources[1].note, HasSubstr("not a single number"));
  EXPECT_THAT(r.sources[2].note, HasSubstr("2 elements"));
  EXPECT_THAT(r.sources[4].note, HasSubstr("object"));
  EXPECT_EQ(r.sources[0].code, ResponseCode::kSuccess);
}

TEST(ConsensusMedian, AllNonNumbersIsError) {
  ConsensusResult r = Decide(Median(0), {Ok("[true]"), Ok("not json"), Ok("[]")});
  EXPECT_EQ(r.code, ResponseCode::kError);
}

TEST(ConsensusMedian, QuorumLoss) {
  // Default quorum is a majority: 2 numbers of 4 sources is not enough.
  const std::vector<SourceOutcome> outcomes = {Ok("[5]"), Fail(ResponseCode::kTimeout), Ok("[5]"), Ok("[null]")};
  ConsensusResult r = Decide(Median(0), outcomes);
  EXPECT_EQ(r.code, ResponseCode::kConsensusUnreachable);
  EXPECT_THAT(r.detail, HasSubstr("3 of 4"));
  EXPECT_THAT(r.detail, HasSubstr("1 Timeout"));
  EXPECT_THAT(r.detail, HasSubstr("3 Error"));

  // An explicit, lower quorum accepts them.
  ConsensusResult lower = Decide(Median(0, 2), outcomes);
  EXPECT_EQ(lower.code, ResponseCode::kSuccess);
  EXPECT_EQ(lower.result, "[5]");
  EXPECT_THAT(lower.agreeing, ElementsAre(0u, 2u));
}

TEST(ConsensusMedian, TooManyDigitsIsAnError) {
  const std::string digits41 = "1234567890123456789012345678901234567890.1";
  ConsensusResult r = Decide(Median(0, 1), {Ok("[" + digits41 + "]")});
  EXPECT_EQ(r.code, ResponseCode::kError);
  ASSERT_EQ(r.sources.size(), 1u);
  EXPECT_THAT(r.sources[0].note, HasSubstr("41 significant digits"));
}

// ---- Numbers ----

TEST(ConsensusNumbers, CanonicalDecimal) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"0", "0"},
      {"-0", "0"},
      {"-0.000e5", "0"},
      {"0e999999999999", "0"},
      {"123.4500", "123.45"},
      {"1.5e3", "1500"},
      {"1.5E-3", "0.0015"},
      {"-2.50e+1", "-25"},
      {"10", "10"},
      {"100e-2", "1"},
      {"12345678901234567890123456789012345678.9", "12345678901234567890123456789012345678.9"},
      {"1e39", "1" + std::string(39, '0')},
      {"1e-40", "0." + std::string(39, '0') + "1"},
      {"-9.99e39", "-999" + std::string(37, '0')},
  };
  for (const auto& [in, want] : cases) {
    StatusOr<std::string> got = CanonicalDecimal(in);
    ASSERT_TRUE(got.ok()) << in << ": " << got.status().ToString();
    EXPECT_EQ(*got, want) << in;
  }
}

TEST(ConsensusNumbers, RejectsWhatJsonRejects) {
  for (std::string bad :
       {"", "-", "+1", "01", "1.", ".5", "1e", "1e+", "0x10", "1 ", " 1", "NaN", "Infinity", "1,5", "--1", "1.2.3"}) {
    StatusOr<std::string> got = CanonicalDecimal(bad);
    ASSERT_FALSE(got.ok()) << "'" << bad << "'";
    EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument) << "'" << bad << "'";
  }
}

TEST(ConsensusNumbers, RejectsBeyondTheLimits) {
  for (std::string far : {"1e40", "99.9e39", "1e-41", "1e1000000000", "12345678901234567890123456789012345678901"}) {
    StatusOr<std::string> got = CanonicalDecimal(far);
    ASSERT_FALSE(got.ok()) << far;
  }
  EXPECT_EQ(CanonicalDecimal("1e40").status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(CanonicalDecimal("1e-41").status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(CanonicalDecimal("1e1000000000").status().code(), StatusCode::kOutOfRange);
  // Trailing zeros are not significant: 1 followed by 45 zeros after the point is fine.
  EXPECT_EQ(*CanonicalDecimal("1." + std::string(45, '0')), "1");
}

TEST(ConsensusNumbers, SingleNumber) {
  EXPECT_EQ(*SingleNumber("[1.23]"), "1.23");
  EXPECT_EQ(*SingleNumber("\n-7\n"), "-7");
  EXPECT_EQ(*SingleNumber("[\"0.000100\"]"), "0.0001");
  EXPECT_EQ(*SingleNumber("\"2E2\""), "200");
  // Digits past double precision survive.
  EXPECT_EQ(*SingleNumber("[12345678901234567890.123456789]"), "12345678901234567890.123456789");
  for (std::string bad : {"[]", "[1,2]", "[[1]]", "{\"a\":1}", "null", "true", "\"abc\"", "[\" 1\"]", "1 2", ""}) {
    StatusOr<std::string> got = SingleNumber(bad);
    ASSERT_FALSE(got.ok()) << bad;
    EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace neosl::oracle
