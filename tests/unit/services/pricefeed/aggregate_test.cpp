#include "services/pricefeed/aggregate.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace neosl::pricefeed {
// Test failures show "outlier", not a number.
void PrintTo(SourceStatus s, std::ostream* os) {
  *os << SourceStatusName(s);
}

namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr int64_t kNow = 1'700'000'000'000;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr SourceStatus kUsed = SourceStatus::kUsed;
constexpr SourceStatus kFailed = SourceStatus::kFailed;
constexpr SourceStatus kStale = SourceStatus::kStale;
constexpr SourceStatus kOutlier = SourceStatus::kOutlier;

// A venue's answer: priced a second ago by its own clock, fetched just now.
SourceOutcome Source(std::string venue, int64_t price, int64_t volume = 0) {
  Quote q{.venue = venue, .price = price, .volume = volume, .timestamp_ms = kNow - 1'000, .fetched_at_ms = kNow};
  return SourceOutcome{.venue = std::move(venue), .status = kUsed, .quote = std::move(q), .reason = ""};
}

SourceOutcome Down(std::string venue, std::string reason) {
  return SourceOutcome{
      .venue = std::move(venue), .status = kFailed, .quote = std::nullopt, .reason = std::move(reason)};
}

// Quotes of the given prices from venues "v0", "v1", …
std::vector<SourceOutcome> Sources(const std::vector<int64_t>& prices) {
  std::vector<SourceOutcome> out;
  for (size_t i = 0; i < prices.size(); ++i) out.push_back(Source("v" + std::to_string(i), prices[i]));
  return out;
}

std::vector<SourceStatus> Statuses(const Aggregate& a) {
  std::vector<SourceStatus> out;
  for (const SourceOutcome& s : a.sources) out.push_back(s.status);
  return out;
}

// For the median tests: no quote is far enough off to be dropped.
AggregateOptions NoOutliers() {
  AggregateOptions o;
  o.outlier_floor_bps = 1'000'000;
  return o;
}

TEST(SourceStatusNameTest, NamesEveryStatus) {
  EXPECT_EQ(SourceStatusName(kUsed), "used");
  EXPECT_EQ(SourceStatusName(kFailed), "failed");
  EXPECT_EQ(SourceStatusName(kStale), "stale");
  EXPECT_EQ(SourceStatusName(kOutlier), "outlier");
}

// ---- Outliers ----

TEST(AggregateOutlierTest, OneVenueTenPercentOffAmongFiveIsDropped) {
  Aggregate a = AggregateQuotes(Sources({10000, 10005, 9995, 10002, 11000}), kNow, {});
  ASSERT_TRUE(a.ok) << a.reason;
  EXPECT_THAT(Statuses(a), ElementsAre(kUsed, kUsed, kUsed, kUsed, kOutlier));
  EXPECT_EQ(a.used(), 4);
  EXPECT_EQ(a.price, 10001);  // the mean of 10000 and 10002
  // m = 10002, MAD = 3: the MAD limit is 3 × 1.4826 × 3 = 13.3 units, 0.13 % of m.
  EXPECT_EQ(a.sources[4].reason, "9.98 % above the median 10002, max 0.13 %");
  EXPECT_THAT(a.reason, IsEmpty());
  // With the pair's decimals the median reads as a price.
  AggregateOptions two_decimals;
  two_decimals.decimals = 2;
  EXPECT_EQ(AggregateQuotes(Sources({10000, 10005, 9995, 10002, 11000}), kNow, two_decimals).sources[4].reason,
            "9.98 % above the median 100.02, max 0.13 %");
}

TEST(AggregateOutlierTest, AllEqualButOneATickOffIsKeptThanksToTheFloor) {
  Aggregate a = AggregateQuotes(Sources({10000, 10000, 10001, 10000, 10000}), kNow, {});
  ASSERT_TRUE(a.ok) << a.reason;
  EXPECT_THAT(Statuses(a), ElementsAre(kUsed, kUsed, kUsed, kUsed, kUsed));
  EXPECT_EQ(a.price, 10000);

  // MAD is 0 here, so without the floor a tick is enough to be dropped.
  AggregateOptions no_floor;
  no_floor.outlier_floor_bps = 0;
  a = AggregateQuotes(Sources({10000, 10000, 10001, 10000, 10000}), kNow, no_floor);
  EXPECT_THAT(Statuses(a), ElementsAre(kUsed, kUsed, kOutlier, kUsed, kUsed));
  EXPECT_EQ(a.sources[2].reason, "0.01 % above the median 10000, max 0 %");
}

TEST(AggregateOutlierTest, TheFloorIsExclusive) {
  // 10 bps of 10000 is 10 units: exactly on the floor stays, one more is out.
  Aggregate a = AggregateQuotes(Sources({10000, 10000, 10000, 10000, 10010}), kNow, {});
  EXPECT_THAT(Statuses(a), ElementsAre(kUsed, kUsed, kUsed, kUsed, kUsed));
  a = AggregateQuotes(Sources({10000, 10000, 10000, 10000, 10011}), kNow, {});
  EXPECT_THAT(Statuses(a), ElementsAre(kUsed, kUsed, kUsed, kUsed, kOutlier));
  EXPECT_EQ(a.sources[4].reason, "0.11 % above the median 10000, max 0.1 %");
  EXPECT_EQ(a.price, 10000);
}

TEST(AggregateOutlierTest, TwoBadVenuesOnTheSameSideAreBothDropped) {
  Aggregate a = AggregateQuotes(Sources({9990, 11000, 10000, 11100, 10010}), kNow, {});
  ASSERT_TRUE(a.ok) << a.reason;
  EXPECT_THAT(Statuses(a), ElementsAre(kUsed, kOutlier, kUsed, kOutlier, kUsed));
  EXPECT_EQ(a.price, 10000);  // the median of the three that agree, not the skewed 10010
}

TEST(AggregateOutlierTest, TheMadBoundIsComparedExactly) {
  // m = 1000000 and MAD = 5000, so with k = 1 the bound is 1.4826 × 5000 = 7413 exactly.
  AggregateOptions o;
  o.mad_k_milli = 1'000;
  o.outlier_floor_bps = 0;
  Aggregate a = AggregateQuotes(Sources({990000, 995000, 1000000, 1005000, 1007413}), kNow, o);
  EXPECT_THAT(Statuses(a), ElementsAre(kOutlier, kUsed, kUsed, kUsed, kUsed));
  EXPECT_EQ(a.sources[0].reason, "1 % below the median 1000000, max 0.74 %");

  a = AggregateQuotes(Sources({990000, 995000, 1000000, 1005000, 1007414}), kNow, o);
  EXPECT_THAT(Statuses(a), ElementsAre(kOutlier, kUsed, kUsed, kUsed, kOutlier));
}

TEST(AggregateOutlierTest, TwoQuotesNeverOutvoteEachOther) {
  AggregateOptions o;
  o.quorum = 2;
  Aggregate a = AggregateQuotes(Sources({10000, 20000}), kNow, o);
  ASSERT_TRUE(a.ok) << a.reason;
  EXPECT_EQ(a.price, 15000);
}

// ---- Stale quotes ----

TEST(AggregateStaleTest, TheVenuesTimeCountsOverTheFetchTime) {
  std::vector<SourceOutcome> in = Sources({10000, 10000, 10000, 10000, 10000, 10000});
  in[0].quote->timestamp_ms = kNow - 75'000;  // the venue says its price is 75 s old
  in[1].quote->timestamp_ms = std::nullopt;   // no venue time: the fetch time counts
  in[1].quote->fetched_at_ms = kNow - 75'000;
  in[2].quote->fetched_at_ms = kNow - 120'000;  // fetched long ago but priced just now by the venue
  in[2].quote->timestamp_ms = kNow;
  in[3].quote->timestamp_ms = kNow - 60'000;  // exactly max_age: still fresh
  in[4].quote->timestamp_ms = std::nullopt;
  in[4].quote->fetched_at_ms = kNow - 60'001;
  Aggregate a = AggregateQuotes(std::move(in), kNow, {});
  ASSERT_TRUE(a.ok) << a.reason;
  EXPECT_THAT(Statuses(a), ElementsAre(kStale, kStale, kUsed, kUsed, kStale, kUsed));
  EXPECT_EQ(a.sources[0].reason, "75 s old, max 60 s");
  EXPECT_EQ(a.sources[1].reason, "75 s old, max 60 s");
  EXPECT_EQ(a.sources[4].reason, "60.001 s old, max 60 s");
  ASSERT_TRUE(a.sources[0].quote.has_value());  // the stale quote is kept for the report
}

TEST(AggregateStaleTest, QuotesFromTooFarInTheFutureAreStale) {
  std::vector<SourceOutcome> in = Sources({10000, 10000, 10000, 10000});
  in[0].quote->timestamp_ms = kNow + 5'000;
  in[1].quote->timestamp_ms = kNow + 5'001;
  in[2].quote->timestamp_ms = std::nullopt;
  in[2].quote->fetched_at_ms = kNow + 7'500;
  Aggregate a = AggregateQuotes(std::move(in), kNow, {});
  EXPECT_THAT(Statuses(a), ElementsAre(kUsed, kStale, kStale, kUsed));
  EXPECT_EQ(a.sources[1].reason, "5.001 s ahead, max 5 s");
  EXPECT_EQ(a.sources[2].reason, "7.5 s ahead, max 5 s");
}

TEST(AggregateStaleTest, StaleQuotesDoNotSkewTheOutlierMedian) {
  // Three stale quotes far off would make 11000 the median if they were counted.
  std::vector<SourceOutcome> in = Sources({10000, 10001, 10002, 11000, 11000, 11000});
  for (int i = 3; i < 6; ++i) in[i].quote->timestamp_ms = kNow - 600'000;
  Aggregate a = AggregateQuotes(std::move(in), kNow, {});
  ASSERT_TRUE(a.ok) << a.reason;
  EXPECT_THAT(Statuses(a), ElementsAre(kUsed, kUsed, kUsed, kStale, kStale, kStale));
  EXPECT_EQ(a.sources[3].reason, "600 s old, max 60 s");
  EXPECT_EQ(a.price, 10001);
}

// ---- Failures and quorum ----

TEST(AggregateQuorumTest, AVenueDownStaysFailedAndFourStillMakeTheQuorum) {
  std::vector<SourceOutcome> in = Sources({10000, 10004, 10002, 10006});
  in.insert(in.begin() + 2, Down("kraken", "HTTP 503"));
  Aggregate a = AggregateQuotes(std::move(in), kNow, {});
  ASSERT_TRUE(a.ok) << a.reason;
  EXPECT_THAT(Statuses(a), ElementsAre(kUsed, kUsed, kFailed, kUsed, kUsed));
  EXPECT_EQ(a.sources[2].venue, "kraken");
  EXPECT_EQ(a.sources[2].reason, "HTTP 503");
  EXPECT_FALSE(a.sources[2].quote.has_value());
  EXPECT_EQ(a.used(), 4);
  EXPECT_EQ(a.price, 10003);
}

TEST(AggregateQuorumTest, AFailedSourceWithAQuoteIsNotUsed) {
  std::vector<SourceOutcome> in = Sources({10000, 10000, 10000, 50000});
  in[3].status = kFailed;
  in[3].reason = "symbol mismatch";
  Aggregate a = AggregateQuotes(std::move(in), kNow, {});
  ASSERT_TRUE(a.ok) << a.reason;
  EXPECT_THAT(Statuses(a), ElementsAre(kUsed, kUsed, kUsed, kFailed));
  EXPECT_EQ(a.sources[3].reason, "symbol mismatch");
  EXPECT_EQ(a.price, 10000);
}

TEST(AggregateQuorumTest, LossListsEveryUnusedVenueAndWhyThenRecovers) {
  std::vector<SourceOutcome> in = {Down("binance", "HTTP 503"), Source("coinbase", 10000), Source("okx", 10000),
                                   Source("kraken", 10001), Source("bybit", 12000)};
  in[1].quote->timestamp_ms = kNow - 75'000;
  Aggregate a = AggregateQuotes(std::move(in), kNow, {});
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.price, 0);
  EXPECT_EQ(a.used(), 2);
  EXPECT_THAT(Statuses(a), ElementsAre(kFailed, kStale, kUsed, kUsed, kOutlier));
  EXPECT_EQ(a.reason,
            "2 of 5 sources usable, quorum is 3 (binance failed: HTTP 503; coinbase stale: 75 s old, max 60 s; "
            "bybit outlier: 19.99 % above the median 10001, max 0.1 %)");

  // The next round, with binance back and fresh quotes all round.
  in = {Source("binance", 10002), Source("coinbase", 10000), Source("okx", 10000), Source("kraken", 10001),
        Source("bybit", 10003)};
  a = AggregateQuotes(std::move(in), kNow, {});
  ASSERT_TRUE(a.ok) << a.reason;
  EXPECT_EQ(a.used(), 5);
  EXPECT_EQ(a.price, 10001);
  EXPECT_THAT(a.reason, IsEmpty());
}

TEST(AggregateQuorumTest, ExactlyTheQuorumIsEnough) {
  AggregateOptions o;
  o.quorum = 4;
  std::vector<SourceOutcome> in = Sources({10000, 10000, 10000, 10000, 10000});
  in[0] = Down("okx", "timeout");
  Aggregate a = AggregateQuotes(in, kNow, o);
  EXPECT_TRUE(a.ok) << a.reason;
  in[1] = Down("kraken", "");
  a = AggregateQuotes(in, kNow, o);
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.reason, "3 of 5 sources usable, quorum is 4 (okx failed: timeout; kraken failed)");
}

TEST(AggregateQuorumTest, NoSourcesGiveNoPriceWhateverTheQuorum) {
  Aggregate a = AggregateQuotes({}, kNow, {});
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.reason, "0 of 0 sources usable, quorum is 3");

  AggregateOptions o;
  o.quorum = 0;
  a = AggregateQuotes({}, kNow, o);
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.reason, "0 of 0 sources usable, quorum is 1");
  a = AggregateQuotes(Sources({10000}), kNow, o);
  EXPECT_TRUE(a.ok);
  EXPECT_EQ(a.price, 10000);
}

TEST(AggregateQuorumTest, MalformedQuotesFail) {
  std::vector<SourceOutcome> in = Sources({10000, 10000, 10000, 0, 10000, 10000});
  in[4].quote->volume = -1;
  in[5].quote = std::nullopt;
  Aggregate a = AggregateQuotes(std::move(in), kNow, {});
  ASSERT_TRUE(a.ok) << a.reason;
  EXPECT_THAT(Statuses(a), ElementsAre(kUsed, kUsed, kUsed, kFailed, kFailed, kFailed));
  EXPECT_EQ(a.sources[3].reason, "price 0 is not positive");
  EXPECT_EQ(a.sources[4].reason, "volume -1 is negative");
  EXPECT_EQ(a.sources[5].reason, "no quote");
}

// ---- Medians ----

TEST(AggregateMedianTest, AnOddCountTakesTheMiddleOne) {
  Aggregate a = AggregateQuotes(Sources({101, 105, 100}), kNow, NoOutliers());
  ASSERT_TRUE(a.ok) << a.reason;
  EXPECT_EQ(a.price, 101);
  EXPECT_EQ(a.sources[1].quote->price, 105);  // input order kept
}

TEST(AggregateMedianTest, AnEvenCountTakesTheMeanRoundedHalfToEven) {
  struct Case {
    int64_t low, high, want;
  };
  for (const Case& c :
       {Case{10, 11, 10}, Case{11, 12, 12}, Case{10, 12, 11}, Case{10, 13, 12}, Case{11, 14, 12}, Case{12, 15, 14}}) {
    SCOPED_TRACE(std::to_string(c.low) + ", " + std::to_string(c.high));
    Aggregate a = AggregateQuotes(Sources({c.high + 1, c.low, c.low - 1, c.high}), kNow, NoOutliers());
    ASSERT_TRUE(a.ok) << a.reason;
    EXPECT_EQ(a.price, c.want);
  }
}

TEST(AggregateMedianTest, VolumeWeightedFollowsTheVolume) {
  std::vector<SourceOutcome> in = {Source("a", 10006, 1), Source("b", 10000, 5), Source("c", 10004, 1),
                                   Source("d", 10002, 1)};
  Aggregate plain = AggregateQuotes(in, kNow, {});
  ASSERT_TRUE(plain.ok) << plain.reason;
  EXPECT_EQ(plain.price, 10003);

  AggregateOptions o;
  o.volume_weighted = true;
  Aggregate weighted = AggregateQuotes(in, kNow, o);
  ASSERT_TRUE(weighted.ok) << weighted.reason;
  EXPECT_THAT(Statuses(weighted), ElementsAre(kUsed, kUsed, kUsed, kUsed));
  EXPECT_EQ(weighted.price, 10000);  // 5 of the 8 units traded there
}

TEST(AggregateMedianTest, VolumeWeightedAtExactlyHalfTakesTheMeanOfTheStraddlingPrices) {
  AggregateOptions o;
  o.volume_weighted = true;
  // Cumulative volume 1, 3 (exactly half of 6) at 10002; 10004 has no volume, so the price with
  // the rest of the volume is 10010.
  std::vector<SourceOutcome> in = {Source("a", 10010, 3), Source("b", 10000, 1), Source("c", 10004, 0),
                                   Source("d", 10002, 2)};
  Aggregate a = AggregateQuotes(in, kNow, o);
  ASSERT_TRUE(a.ok) << a.reason;
  EXPECT_EQ(a.price, 10006);

  // The mean rounds half to even too, and equal volumes give the plain median.
  a = AggregateQuotes({Source("a", 10001, 7), Source("b", 10002, 7)}, kNow, {.quorum = 2, .volume_weighted = true});
  EXPECT_EQ(a.price, 10002);
  a = AggregateQuotes({Source("a", 10003, 7), Source("b", 10002, 7)}, kNow, {.quorum = 2, .volume_weighted = true});
  EXPECT_EQ(a.price, 10002);
}

TEST(AggregateMedianTest, VolumeWeightedWithoutVolumesIsThePlainMedian) {
  AggregateOptions o;
  o.volume_weighted = true;
  Aggregate a = AggregateQuotes(Sources({10006, 10000, 10004, 10002}), kNow, o);
  ASSERT_TRUE(a.ok) << a.reason;
  EXPECT_EQ(a.price, 10003);
}

TEST(AggregateMedianTest, VolumeWeightedIgnoresUnusedSources) {
  AggregateOptions o;
  o.volume_weighted = true;
  std::vector<SourceOutcome> in = {Source("a", 10000, 1), Source("b", 10001, 1), Source("c", 10002, 1),
                                   Source("d", 10001, 1'000'000)};
  in[3].quote->timestamp_ms = kNow - 120'000;  // the big volume is stale
  Aggregate a = AggregateQuotes(std::move(in), kNow, o);
  ASSERT_TRUE(a.ok) << a.reason;
  EXPECT_EQ(a.price, 10001);
  in = {Source("a", 10000, 1), Source("b", 10001, 1), Source("c", 10002, 1), Source("d", 20000, 1'000'000)};
  a = AggregateQuotes(std::move(in), kNow, o);  // … and the big volume is an outlier
  EXPECT_EQ(a.sources[3].status, kOutlier);
  EXPECT_EQ(a.price, 10001);
}

// ---- Limits ----

TEST(AggregateLimitsTest, PricesNearInt64MaxDoNotOverflow) {
  Aggregate a = AggregateQuotes(Sources({kMax - 3, kMax, kMax - 2, kMax - 1}), kNow, {});
  ASSERT_TRUE(a.ok) << a.reason;
  EXPECT_THAT(Statuses(a), ElementsAre(kUsed, kUsed, kUsed, kUsed));
  EXPECT_EQ(a.price, kMax - 1);  // kMax − 1.5, to the even neighbour

  // Volumes whose total passes int64 as well, splitting exactly in half.
  std::vector<SourceOutcome> in = {Source("a", kMax - 3, kMax), Source("b", kMax, kMax), Source("c", kMax - 2, kMax),
                                   Source("d", kMax - 1, kMax)};
  AggregateOptions o;
  o.volume_weighted = true;
  a = AggregateQuotes(std::move(in), kNow, o);
  ASSERT_TRUE(a.ok) << a.reason;
  EXPECT_EQ(a.price, kMax - 1);

  o.quorum = 2;
  a = AggregateQuotes(Sources({1, kMax}), kNow, o);
  ASSERT_TRUE(a.ok) << a.reason;
  EXPECT_EQ(a.price, int64_t{1} << 62);
}

TEST(AggregateLimitsTest, OutliersAmongHugePrices) {
  Aggregate a = AggregateQuotes(Sources({kMax, kMax - 1, 1, kMax - 2, kMax - 3}), kNow, {});
  ASSERT_TRUE(a.ok) << a.reason;
  EXPECT_THAT(Statuses(a), ElementsAre(kUsed, kUsed, kOutlier, kUsed, kUsed));
  EXPECT_EQ(a.sources[2].reason, "100 % below the median 9223372036854775805, max 0.1 %");
  EXPECT_EQ(a.price, kMax - 1);

  // Limits at int64's end reject nothing, without overflowing on the way.
  AggregateOptions o;
  o.mad_k_milli = kMax;
  o.outlier_floor_bps = kMax;
  a = AggregateQuotes(Sources({kMax, kMax - 1, 1, kMax - 2, kMax - 3}), kNow, o);
  EXPECT_THAT(Statuses(a), ElementsAre(kUsed, kUsed, kUsed, kUsed, kUsed));
  EXPECT_EQ(a.price, kMax - 2);
  o.quorum = 2;
  o.outlier_floor_bps = 0;
  a = AggregateQuotes(Sources({1, kMax}), kNow, o);  // k × 14826 × 4·MAD passes 2^128
  EXPECT_THAT(Statuses(a), ElementsAre(kUsed, kUsed));
  EXPECT_EQ(a.price, int64_t{1} << 62);
}

TEST(AggregateLimitsTest, ExtremeClocksDoNotOverflow) {
  std::vector<SourceOutcome> in = Sources({10000, 10000, 10000, 10000});
  in[0].quote->timestamp_ms = std::numeric_limits<int64_t>::min();
  in[1].quote->timestamp_ms = kMax;
  Aggregate a = AggregateQuotes(std::move(in), kNow, {});
  EXPECT_THAT(Statuses(a), ElementsAre(kStale, kStale, kUsed, kUsed));
  EXPECT_EQ(a.sources[0].reason, "9223373736854775.808 s old, max 60 s");
}

}  // namespace
}  // namespace neosl::pricefeed
