#include "services/pricefeed/schedule.h"

#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace neosl::pricefeed {
// Test failures show "heartbeat", not a number.
void PrintTo(Trigger t, std::ostream* os) {
  *os << TriggerName(t);
}

namespace {

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 3'600'000;
constexpr int64_t kStart = 1'700'000'000'000;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr Trigger kNone = Trigger::kNone;
constexpr Trigger kFirst = Trigger::kFirst;
constexpr Trigger kDeviation = Trigger::kDeviation;
constexpr Trigger kHeartbeat = Trigger::kHeartbeat;
constexpr Trigger kRepublish = Trigger::kRepublish;

// One tick of the manual clock: at kStart + at_ms the aggregate is `price`, and the scheduler
// should answer `want`.
struct Step {
  int64_t at_ms;
  int64_t price;
  Trigger want;
};

// Drives the scheduler through `steps` as the service does, publishing (successfully) whenever
// it says so; returns the final state.
FeedState RunSteps(const FeedPolicy& policy, FeedState state, const std::vector<Step>& steps) {
  for (const Step& step : steps) {
    SCOPED_TRACE("at +" + std::to_string(step.at_ms / 1000) + " s, price " + std::to_string(step.price));
    const int64_t now = kStart + step.at_ms;
    const Decision d = Decide(policy, state, step.price, now);
    EXPECT_EQ(d.trigger, step.want);
    if (d.publish()) state = Published(state, d, step.price, now);
  }
  return state;
}

FeedState PublishedAt(int64_t price, int64_t at_ms, int direction = 0) {
  return FeedState{.last_price = price, .last_published_ms = kStart + at_ms, .last_direction = direction};
}

TEST(TriggerNameTest, NamesEveryTrigger) {
  EXPECT_EQ(TriggerName(kNone), "none");
  EXPECT_EQ(TriggerName(kFirst), "first");
  EXPECT_EQ(TriggerName(kDeviation), "deviation");
  EXPECT_EQ(TriggerName(kHeartbeat), "heartbeat");
  EXPECT_EQ(TriggerName(kRepublish), "republish");
}

TEST(ScheduleTest, TheFirstPriceIsAlwaysPublished) {
  const Decision d = Decide({}, {}, 10000, kStart);
  EXPECT_EQ(d.trigger, kFirst);
  EXPECT_TRUE(d.publish());
  EXPECT_EQ(d.deviation_bps, 0);
  EXPECT_EQ(d.direction, 0);
  // Before a republish too: there is nothing to compare with.
  EXPECT_EQ(Decide({}, FeedState{.republish = true}, 10000, kStart).trigger, kFirst);

  const FeedState s = Published(FeedState{.republish = true}, d, 10000, kStart);
  EXPECT_EQ(s.last_price, 10000);
  EXPECT_EQ(s.last_published_ms, kStart);
  EXPECT_EQ(s.last_direction, 0);
  EXPECT_FALSE(s.republish);
}

TEST(ScheduleTest, DeviationAndHeartbeatOverTime) {
  // 0.5 % deviation, 0.25 % hysteresis, 1 h heartbeat.
  const FeedState end = RunSteps({}, {},
                                 {
                                     {0, 10000, kFirst},
                                     {1 * kMinute, 10049, kNone},  // +0.49 %
                                     {2 * kMinute, 9951, kNone},   // −0.49 %
                                     {3 * kMinute, 10050, kDeviation},
                                     {10 * kMinute, 10080, kNone},  // +0.30 % from 10050
                                     {3 * kMinute + kHour - 1, 10060, kNone},
                                     {3 * kMinute + kHour, 10060, kHeartbeat},
                                     {4 * kMinute + kHour, 10060, kNone},
                                     {3 * kMinute + 2 * kHour - 1, 10080, kNone},
                                     {3 * kMinute + 2 * kHour, 10111, kDeviation},  // due both ways: deviation wins
                                     {4 * kMinute + 2 * kHour, 10111, kNone},
                                     {3 * kMinute + 3 * kHour, 10111, kHeartbeat},
                                 });
  EXPECT_EQ(end.last_price, 10111);
  EXPECT_EQ(end.last_published_ms, kStart + 3 * kMinute + 3 * kHour);
  EXPECT_EQ(end.last_direction, 0);
}

TEST(ScheduleTest, ADeviationOfExactlyTheThresholdPublishes) {
  const FeedState s = PublishedAt(10000, 0);
  Decision d = Decide({}, s, 10050, kStart + kMinute);
  EXPECT_EQ(d.trigger, kDeviation);
  EXPECT_EQ(d.deviation_bps, 50);
  EXPECT_EQ(d.direction, 1);
  d = Decide({}, s, 9950, kStart + kMinute);
  EXPECT_EQ(d.trigger, kDeviation);
  EXPECT_EQ(d.direction, -1);

  // 0.5 % of 2001 is 10.005: a move of 11 publishes, 10 does not, exactly (the bps round down).
  const FeedState odd = PublishedAt(2001, 0);
  d = Decide({}, odd, 2012, kStart + kMinute);
  EXPECT_EQ(d.trigger, kDeviation);
  EXPECT_EQ(d.deviation_bps, 54);
  d = Decide({}, odd, 2011, kStart + kMinute);
  EXPECT_EQ(d.trigger, kNone);
  EXPECT_EQ(d.deviation_bps, 49);
  EXPECT_EQ(d.direction, 1);
  EXPECT_EQ(Decide({}, odd, 1990, kStart + kMinute).trigger, kDeviation);
  EXPECT_EQ(Decide({}, odd, 1991, kStart + kMinute).trigger, kNone);

  // An unchanged price never deviates.
  d = Decide({}, s, 10000, kStart + kMinute);
  EXPECT_EQ(d.trigger, kNone);
  EXPECT_EQ(d.deviation_bps, 0);
  EXPECT_EQ(d.direction, 0);
}

TEST(ScheduleTest, TheHeartbeatIsDueWhenItsTimeHasPassed) {
  const FeedState s = PublishedAt(10000, 0);
  const FeedPolicy p{.heartbeat_ms = 10 * kMinute};
  EXPECT_EQ(Decide(p, s, 10000, kStart + 10 * kMinute - 1).trigger, kNone);
  EXPECT_EQ(Decide(p, s, 10000, kStart + 10 * kMinute).trigger, kHeartbeat);
  EXPECT_EQ(Decide(p, s, 10001, kStart + 11 * kMinute).trigger, kHeartbeat);
  EXPECT_EQ(Decide(p, s, 10000, kStart - kHour).trigger, kNone);  // a clock set back
}

TEST(ScheduleTest, APriceBouncingAcrossTheThresholdPublishesOnceThenOnHeartbeats) {
  // Every minute the price flips between 10000 and 10060 (0.6 %, over the 0.5 % threshold but
  // under the 0.75 % a reversal needs after a deviation update).
  std::vector<Step> steps = {{0, 10000, kFirst}, {kMinute, 10060, kDeviation}};
  for (int64_t minute = 2; minute < 61; ++minute) {
    steps.push_back({minute * kMinute, minute % 2 == 1 ? 10060 : 10000, kNone});
  }
  steps.push_back({61 * kMinute, 10060, kHeartbeat});  // an hour after the deviation update
  // The heartbeat was no deviation update, so the next flip is judged by the plain threshold
  // and publishes; after it, the flips are quiet again until the next heartbeat.
  steps.push_back({62 * kMinute, 10000, kDeviation});
  for (int64_t minute = 63; minute < 122; ++minute) {
    steps.push_back({minute * kMinute, minute % 2 == 1 ? 10060 : 10000, kNone});
  }
  steps.push_back({122 * kMinute, 10000, kHeartbeat});
  const FeedState end = RunSteps({}, {}, steps);
  EXPECT_EQ(end.last_price, 10000);
  EXPECT_EQ(end.last_direction, 0);
}

TEST(ScheduleTest, ASustainedTrendPublishesAtEachCrossing) {
  RunSteps({}, {},
           {
               {0, 10000, kFirst},
               {1 * kMinute, 10030, kNone},
               {2 * kMinute, 10050, kDeviation},
               {3 * kMinute, 10100, kNone},  // 49.75 bps from 10050
               {4 * kMinute, 10101, kDeviation},
               {5 * kMinute, 10152, kDeviation},
               {6 * kMinute, 10203, kDeviation},
               // The turn: 0.75 % of 10203 is 76.5, so 76 down is not enough and 77 is.
               {7 * kMinute, 10127, kNone},
               {8 * kMinute, 10126, kDeviation},
               // Down again after a down update: the plain 0.5 % (50.63) applies.
               {9 * kMinute, 10076, kNone},
               {10 * kMinute, 10075, kDeviation},
               {11 * kMinute, 10024, kDeviation},
           });
}

TEST(ScheduleTest, WithoutHysteresisAReversalNeedsOnlyTheThreshold) {
  const FeedPolicy p{.hysteresis_bps = 0};
  const FeedState up = PublishedAt(10000, 0, +1);
  EXPECT_EQ(Decide(p, up, 9950, kStart + kMinute).trigger, kDeviation);
  EXPECT_EQ(Decide({}, up, 9950, kStart + kMinute).trigger, kNone);
  EXPECT_EQ(Decide({}, up, 9925, kStart + kMinute).trigger, kDeviation);
  EXPECT_EQ(Decide({}, up, 10050, kStart + kMinute).trigger, kDeviation);  // the same way: plain
  const FeedState down = PublishedAt(10000, 0, -1);
  EXPECT_EQ(Decide({}, down, 10050, kStart + kMinute).trigger, kNone);
  EXPECT_EQ(Decide({}, down, 10075, kStart + kMinute).trigger, kDeviation);
}

TEST(ScheduleTest, AFailedPublicationIsRepublishedNextTime) {
  FeedState s = PublishedAt(10000, 0);
  // A deviation update whose transaction failed: the service keeps the old state and flags it.
  Decision d = Decide({}, s, 10100, kStart + kMinute);
  ASSERT_EQ(d.trigger, kDeviation);
  s.republish = true;

  // Next round: publishes even though nothing moved since, and before the deviation would say so.
  d = Decide({}, s, 10000, kStart + 2 * kMinute);
  EXPECT_EQ(d.trigger, kRepublish);
  d = Decide({}, s, 10100, kStart + kHour);  // deviation and heartbeat both due as well
  EXPECT_EQ(d.trigger, kRepublish);
  EXPECT_EQ(d.deviation_bps, 100);
  EXPECT_EQ(d.direction, 1);

  s = Published(s, d, 10100, kStart + kHour);
  EXPECT_FALSE(s.republish);
  EXPECT_EQ(s.last_direction, 0);  // a republish is no deviation update
  EXPECT_EQ(s.last_price, 10100);
  EXPECT_EQ(Decide({}, s, 10100, kStart + kHour + kMinute).trigger, kNone);
  EXPECT_EQ(Decide({}, s, 10049, kStart + kHour + kMinute).trigger, kDeviation);  // no hysteresis
}

TEST(ScheduleTest, PublishedRemembersTheDirectionOfDeviationUpdatesOnly) {
  const FeedState s = PublishedAt(10000, 0, +1);
  EXPECT_EQ(
      Published(s, Decision{.trigger = kDeviation, .deviation_bps = 80, .direction = -1}, 9920, kStart).last_direction,
      -1);
  EXPECT_EQ(
      Published(s, Decision{.trigger = kHeartbeat, .deviation_bps = 10, .direction = -1}, 9990, kStart).last_direction,
      0);
  EXPECT_EQ(Published(s, Decision{.trigger = kRepublish, .direction = 1}, 10001, kStart).last_direction, 0);
}

TEST(ScheduleTest, ExtremePricesDoNotOverflow) {
  Decision d = Decide({}, PublishedAt(1, 0), kMax, kStart);
  EXPECT_EQ(d.trigger, kDeviation);
  EXPECT_EQ(d.deviation_bps, kMax);  // saturated
  d = Decide({}, PublishedAt(kMax, 0), 1, kStart);
  EXPECT_EQ(d.trigger, kDeviation);
  EXPECT_EQ(d.deviation_bps, 9999);
  EXPECT_EQ(d.direction, -1);
  d = Decide({}, PublishedAt(kMax, 0), kMax - 1, kStart);
  EXPECT_EQ(d.trigger, kNone);
  EXPECT_EQ(d.deviation_bps, 0);
  // Thresholds and heartbeats at int64's end never fire, without wrapping around.
  const FeedPolicy huge{.deviation_bps = kMax, .hysteresis_bps = kMax, .heartbeat_ms = kMax};
  EXPECT_EQ(Decide(huge, PublishedAt(kMax, 0, +1), 1, kMax).trigger, kNone);
  EXPECT_EQ(
      Decide({}, FeedState{.last_price = 10000, .last_published_ms = std::numeric_limits<int64_t>::min()}, 10000, kMax)
          .trigger,
      kHeartbeat);
}

TEST(ScheduleTest, AStoredZeroPriceDeviatesOnAnyMove) {
  const FeedState s = PublishedAt(0, 0);
  Decision d = Decide({}, s, 1, kStart);
  EXPECT_EQ(d.trigger, kDeviation);
  EXPECT_EQ(d.deviation_bps, kMax);
  d = Decide({}, s, 0, kStart);
  EXPECT_EQ(d.trigger, kNone);
  EXPECT_EQ(d.deviation_bps, 0);
}

}  // namespace
}  // namespace neosl::pricefeed
