// Cron schedules: the syntax and its errors, the day-of-month/day-of-week rule, leap days and
// month ends, and firings across DST gaps and folds in New York, Berlin and Lord Howe (where
// clocks move by 30 minutes), including 2040, past the end of the zone file's table.
#include "services/automation/cron.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace neosl::automation {
namespace {

int64_t UtcMs(int64_t y, int mo, int d, int h, int mi = 0, int s = 0) {
  return UnixSecondsFromCivil({y, mo, d, h, mi, s}) * 1000;
}

std::string Iso(std::optional<int64_t> ms) {
  return ms ? FormatCivil(CivilFromUnixSeconds(*ms / 1000)) + "Z" : "none";
}

TimeZone Zone(std::string_view name) {
  auto zone = TimeZone::Load(name);
  EXPECT_TRUE(zone.ok()) << zone.status().ToString();
  return zone.ok() ? *zone : TimeZone::Utc();
}

CronSchedule Cron(std::string_view expr, const TimeZone& zone = TimeZone::Utc()) {
  auto schedule = CronSchedule::Parse(expr, zone);
  EXPECT_TRUE(schedule.ok()) << expr << ": " << schedule.status().ToString();
  return schedule.ok() ? *schedule : *CronSchedule::Parse("0 0 1 1 *", zone);
}

// The next `n` firings after `after_ms`, as ISO strings.
std::vector<std::string> Firings(const CronSchedule& cron, int64_t after_ms, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    auto next = cron.Next(after_ms);
    out.push_back(Iso(next));
    if (!next) break;
    after_ms = *next;
  }
  return out;
}

using Strings = std::vector<std::string>;

TEST(CronTest, NewYorkGapFiresOnceAtTheJump) {
  CronSchedule cron = Cron("30 2 * * *", Zone("America/New_York"));
  EXPECT_EQ(Firings(cron, UtcMs(2026, 3, 7, 0), 3),
            (Strings{"2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"}));
  // Asked from inside the last second before the jump, and from the jump itself.
  EXPECT_EQ(Iso(cron.Next(UtcMs(2026, 3, 8, 6, 59, 59) + 999)), "2026-03-08T07:00:00Z");
  EXPECT_EQ(Iso(cron.Next(UtcMs(2026, 3, 8, 7))), "2026-03-09T06:30:00Z");
}

TEST(CronTest, NewYorkFoldFiresOnceAtTheFirstShowing) {
  TimeZone ny = Zone("America/New_York");
  // 01:30 shows twice on 2026-11-01: at 05:30Z (EDT) and 06:30Z (EST); only the first fires.
  EXPECT_EQ(Firings(Cron("30 1 * * *", ny), UtcMs(2026, 10, 31, 12), 3),
            (Strings{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z", "2026-11-03T06:30:00Z"}));
  // Asked from inside the second showing, it does not fire again that day.
  EXPECT_EQ(Iso(Cron("30 1 * * *", ny).Next(UtcMs(2026, 11, 1, 6, 10))), "2026-11-02T06:30:00Z");
  // 02:30 is after the fold: once, in EST.
  EXPECT_EQ(Firings(Cron("30 2 * * *", ny), UtcMs(2026, 10, 31, 12), 2),
            (Strings{"2026-11-01T07:30:00Z", "2026-11-02T07:30:00Z"}));
}

TEST(CronTest, EveryQuarterHourAcrossNewYorkTransitions) {
  CronSchedule cron = Cron("*/15 * * * *", Zone("America/New_York"));
  // The skipped 02:00–02:45 collapse into the jump at 07:00Z, which is also 03:00 EDT.
  EXPECT_EQ(Firings(cron, UtcMs(2026, 3, 8, 6, 40), 3),
            (Strings{"2026-03-08T06:45:00Z", "2026-03-08T07:00:00Z", "2026-03-08T07:15:00Z"}));
  // The repeated hour fires once (its first showing); the next firing is 02:00 EST.
  EXPECT_EQ(Firings(cron, UtcMs(2026, 11, 1, 5, 40), 3),
            (Strings{"2026-11-01T05:45:00Z", "2026-11-01T07:00:00Z", "2026-11-01T07:15:00Z"}));
  EXPECT_EQ(Iso(cron.Next(UtcMs(2026, 11, 1, 6))), "2026-11-01T07:00:00Z");
}

TEST(CronTest, AYearOfHalfHoursInNewYorkIsOrderedAndComplete) {
  CronSchedule cron = Cron("*/30 * * * *", Zone("America/New_York"));
  const int64_t begin = UtcMs(2026, 1, 1, 5), end = UtcMs(2027, 1, 1, 5);  // local midnight to midnight
  int64_t at = begin - 1;
  int count = 0;
  while (true) {
    auto next = cron.Next(at);
    ASSERT_TRUE(next.has_value());
    ASSERT_GT(*next, at);
    if (*next >= end) break;
    at = *next;
    ++count;
  }
  // Every half hour of 365 days, less 02:00 and 02:30 on 2026-03-08, which fire as one with 03:00.
  EXPECT_EQ(count, 365 * 48 - 2);
}

TEST(CronTest, BerlinAndLordHoweTransitions) {
  TimeZone berlin = Zone("Europe/Berlin");
  EXPECT_EQ(Firings(Cron("30 2 * * *", berlin), UtcMs(2026, 3, 28, 12), 2),
            (Strings{"2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}));
  EXPECT_EQ(Firings(Cron("30 2 * * *", berlin), UtcMs(2026, 10, 24, 12), 2),
            (Strings{"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}));
  TimeZone lord_howe = Zone("Australia/Lord_Howe");
  // 01:30–02:00 repeats on 2026-04-05; 02:00–02:30 is skipped on 2026-10-04.
  EXPECT_EQ(Firings(Cron("45 1 * * *", lord_howe), UtcMs(2026, 4, 4, 0), 2),
            (Strings{"2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"}));
  EXPECT_EQ(Firings(Cron("15 2 * * *", lord_howe), UtcMs(2026, 10, 3, 0), 2),
            (Strings{"2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"}));
}

TEST(CronTest, KolkataAndUtc) {
  EXPECT_EQ(Firings(Cron("0 9 * * *", Zone("Asia/Kolkata")), UtcMs(2026, 3, 8, 0), 2),
            (Strings{"2026-03-08T03:30:00Z", "2026-03-09T03:30:00Z"}));
  EXPECT_EQ(Firings(Cron("0 9 * * *"), UtcMs(2026, 3, 8, 0), 2),
            (Strings{"2026-03-08T09:00:00Z", "2026-03-09T09:00:00Z"}));
}

TEST(CronTest, FarFutureUsesTheZoneRule) {
  TimeZone ny = Zone("America/New_York");
  EXPECT_EQ(Firings(Cron("0 12 * * *", ny), UtcMs(2040, 3, 10, 12), 2),
            (Strings{"2040-03-10T17:00:00Z", "2040-03-11T16:00:00Z"}));
  EXPECT_EQ(Iso(Cron("30 2 * * *", ny).Next(UtcMs(2040, 3, 10, 12))), "2040-03-11T07:00:00Z");
  EXPECT_EQ(Iso(Cron("30 1 * * *", ny).Next(UtcMs(2040, 11, 3, 12))), "2040-11-04T05:30:00Z");
}

TEST(CronTest, LeapDaysAndMonthEnds) {
  EXPECT_EQ(Firings(Cron("0 0 29 2 *"), UtcMs(2026, 1, 1, 0), 2),
            (Strings{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}));
  EXPECT_EQ(Iso(Cron("0 0 29 2 *").Next(UtcMs(2096, 3, 1, 0))), "2104-02-29T00:00:00Z");  // 2100 is not leap
  EXPECT_EQ(Iso(Cron("0 0 29 2 *", Zone("Europe/Berlin")).Next(UtcMs(2026, 1, 1, 0))), "2028-02-28T23:00:00Z");
  EXPECT_EQ(Firings(Cron("0 0 31 * *"), UtcMs(2026, 1, 1, 0), 7),
            (Strings{"2026-01-31T00:00:00Z", "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z",
                     "2026-08-31T00:00:00Z", "2026-10-31T00:00:00Z", "2026-12-31T00:00:00Z"}));
  EXPECT_EQ(Firings(Cron("0 0 L * *"), UtcMs(2027, 12, 15, 0), 4),
            (Strings{"2027-12-31T00:00:00Z", "2028-01-31T00:00:00Z", "2028-02-29T00:00:00Z", "2028-03-31T00:00:00Z"}));
  EXPECT_EQ(Firings(Cron("0 0 15,L 4 *"), UtcMs(2026, 1, 1, 0), 2),
            (Strings{"2026-04-15T00:00:00Z", "2026-04-30T00:00:00Z"}));
}

TEST(CronTest, ImpossibleSchedulesEndTheSearch) {
  for (std::string_view expr : {"0 0 30 2 *", "0 0 31 2,4,6,9,11 *", "* * 30-31 FEB *", "*/5 * * 30 2 *"}) {
    auto cron = CronSchedule::Parse(expr, TimeZone::Utc());
    ASSERT_TRUE(cron.ok()) << expr;
    EXPECT_EQ(cron->Next(UtcMs(2026, 1, 1, 0)), std::nullopt) << expr;
    EXPECT_EQ(cron->Next(UtcMs(2100, 3, 1, 0)), std::nullopt) << expr;
  }
  EXPECT_EQ(Cron("0 0 * * *").Next(UtcMs(9999, 12, 31, 0)), std::nullopt);  // past year 9999
}

TEST(CronTest, DayOfMonthOrDayOfWeek) {
  // Both restricted: the 1st or any Monday. 2026-01-01 is a Thursday.
  EXPECT_EQ(Firings(Cron("0 0 1 * MON"), UtcMs(2025, 12, 31, 12), 6),
            (Strings{"2026-01-01T00:00:00Z", "2026-01-05T00:00:00Z", "2026-01-12T00:00:00Z", "2026-01-19T00:00:00Z",
                     "2026-01-26T00:00:00Z", "2026-02-01T00:00:00Z"}));
  // One of them `*`: both must match.
  EXPECT_EQ(Firings(Cron("0 0 * * MON"), UtcMs(2025, 12, 31, 12), 2),
            (Strings{"2026-01-05T00:00:00Z", "2026-01-12T00:00:00Z"}));
  EXPECT_EQ(Firings(Cron("0 0 1 * *"), UtcMs(2025, 12, 31, 12), 2),
            (Strings{"2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"}));
  // A field starting with `*` counts as unrestricted (Vixie): only Mondays on odd days.
  EXPECT_EQ(Iso(Cron("0 0 */2 * 1").Next(UtcMs(2026, 1, 1, 0))), "2026-01-05T00:00:00Z");
  EXPECT_EQ(Iso(Cron("0 0 */2 * 1").Next(UtcMs(2026, 1, 5, 0))), "2026-01-19T00:00:00Z");
}

TEST(CronTest, SecondsField) {
  CronSchedule cron = Cron("*/10 * * * * *");
  const int64_t noon = UtcMs(2026, 5, 1, 12);
  EXPECT_EQ(*cron.Next(noon - 1), noon);
  EXPECT_EQ(*cron.Next(noon), noon + 10000);
  EXPECT_EQ(*cron.Next(noon + 5500), noon + 10000);
  EXPECT_EQ(*cron.Next(noon + 9999), noon + 10000);
  EXPECT_EQ(*cron.Next(noon + 50000), noon + 60000);
  EXPECT_EQ(*Cron("* * * * * *").Next(-1500), -1000);
  EXPECT_EQ(*Cron("* * * * * *").Next(-1), 0);
  EXPECT_EQ(Firings(Cron("15,45 30 9 * * *"), UtcMs(2026, 5, 1, 9, 30, 15), 3),
            (Strings{"2026-05-01T09:30:45Z", "2026-05-02T09:30:15Z", "2026-05-02T09:30:45Z"}));
  // Five fields fire on second 0, strictly after: from 12:00:00.001 the next is 12:01.
  EXPECT_EQ(*Cron("* * * * *").Next(noon + 1), noon + 60000);
}

TEST(CronTest, StepsRangesListsAndNames) {
  // Weekdays, 09:00–17:59, minutes 1, 6, … 26. 2026-03-06 is a Friday.
  CronSchedule cron = Cron("1-30/5 9-17 * * 1-5");
  EXPECT_EQ(Firings(cron, UtcMs(2026, 3, 6, 17, 26), 3),
            (Strings{"2026-03-09T09:01:00Z", "2026-03-09T09:06:00Z", "2026-03-09T09:11:00Z"}));
  EXPECT_EQ(Iso(cron.Next(UtcMs(2026, 3, 6, 16, 58))), "2026-03-06T17:01:00Z");
  EXPECT_EQ(Firings(Cron("0,15,30,45 * * * *"), UtcMs(2026, 1, 1, 0, 50), 2),
            Firings(Cron("*/15 * * * *"), UtcMs(2026, 1, 1, 0, 50), 2));
  EXPECT_EQ(Firings(Cron("0 12 1 jan,Jul *"), UtcMs(2026, 2, 1, 0), 2),
            (Strings{"2026-07-01T12:00:00Z", "2027-01-01T12:00:00Z"}));
  // 7 and SUN are Sunday; FRI-SUN wraps to Sunday. 2026-01-04 is a Sunday.
  for (std::string_view expr : {"0 0 * * 0", "0 0 * * 7", "0 0 * * sun", "0 0 * * SUN"}) {
    EXPECT_EQ(Iso(Cron(expr).Next(UtcMs(2026, 1, 1, 0))), "2026-01-04T00:00:00Z") << expr;
  }
  EXPECT_EQ(Firings(Cron("0 0 * * FRI-SUN"), UtcMs(2026, 1, 1, 0), 4),
            (Strings{"2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z", "2026-01-09T00:00:00Z"}));
  EXPECT_EQ(Firings(Cron("0 0 * * 5-7"), UtcMs(2026, 1, 1, 0), 4),
            Firings(Cron("0 0 * * FRI-SUN"), UtcMs(2026, 1, 1, 0), 4));
  EXPECT_EQ(Iso(Cron("0 22-23/1 * * *").Next(UtcMs(2026, 1, 1, 22, 30))), "2026-01-01T23:00:00Z");
  EXPECT_EQ(Iso(Cron("@hourly").Next(UtcMs(2026, 1, 1, 22, 30))), "2026-01-01T23:00:00Z");
  EXPECT_EQ(Iso(Cron("@daily").Next(UtcMs(2026, 1, 1, 22, 30))), "2026-01-02T00:00:00Z");
  EXPECT_EQ(Iso(Cron("  0   0 *\t* *  ").Next(UtcMs(2026, 1, 1, 22, 30))), "2026-01-02T00:00:00Z");
  // Rolling over the end of the hour, the day, the month and the year.
  EXPECT_EQ(Iso(Cron("59 23 31 12 *").Next(UtcMs(2026, 12, 31, 23, 59))), "2027-12-31T23:59:00Z");
  EXPECT_EQ(Iso(Cron("0 0 1 1 *").Next(UtcMs(2026, 12, 31, 23, 59, 59))), "2027-01-01T00:00:00Z");
}

TEST(CronTest, MalformedExpressionsNameTheFieldAndToken) {
  struct Case {
    std::string_view expr, field, token;
  };
  for (const Case& c : std::vector<Case>{
           {"60 * * * *", "minute", "60"},
           {"-5 * * * *", "minute", "-5"},
           {"*/0 * * * *", "minute", "*/0"},
           {"*/ * * * *", "minute", "*/"},
           {"5-1 * * * *", "minute", "5-1"},
           {"5/10 * * * *", "minute", "5/10"},
           {"1,,2 * * * *", "minute", "1,,2"},
           {"a-b * * * *", "minute", "a-b"},
           {"* 24 * * *", "hour", "24"},
           {"* 1-2-3 * * *", "hour", "1-2-3"},
           {"* * 0 * *", "day-of-month", "0"},
           {"* * 32 * *", "day-of-month", "32"},
           {"* * LW * *", "day-of-month", "LW"},
           {"* * * 13 *", "month", "13"},
           {"* * * FOO *", "month", "FOO"},
           {"* * * 0 *", "month", "0"},
           {"* * * MON *", "month", "MON"},
           {"* * * * 8", "day-of-week", "8"},
           {"* * * * MONDAY", "day-of-week", "MONDAY"},
           {"* * * * L", "day-of-week", "L"},
           {"* * * * JAN", "day-of-week", "JAN"},
           {"60 * * * * *", "second", "60"},
           {"*/61 * * * * *", "second", "*/61"},
       }) {
    auto cron = CronSchedule::Parse(c.expr, TimeZone::Utc());
    ASSERT_FALSE(cron.ok()) << c.expr;
    EXPECT_EQ(cron.status().code(), StatusCode::kInvalidArgument) << c.expr;
    std::string message(cron.status().message());
    EXPECT_NE(message.find("field " + std::string(c.field) + ":"), std::string::npos) << c.expr << " → " << message;
    EXPECT_NE(message.find("'" + std::string(c.token) + "'"), std::string::npos) << c.expr << " → " << message;
  }
  for (std::string_view expr : {"", "* * * *", "* * * * * * *", "@reboot", "@every 5m"}) {
    EXPECT_EQ(CronSchedule::Parse(expr, TimeZone::Utc()).status().code(), StatusCode::kInvalidArgument) << expr;
  }
  EXPECT_EQ(CronSchedule::Parse(std::string(2000, '*'), TimeZone::Utc()).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace neosl::automation
