// Cron schedules in a named time zone, for time triggers (issue #13).
//
//   ASSIGN_OR_RETURN(TimeZone zone, TimeZone::Load("America/New_York"));
//   ASSIGN_OR_RETURN(CronSchedule daily, CronSchedule::Parse("30 2 * * *", zone));
//   std::optional<int64_t> next_ms = daily.Next(now_ms);  // first firing strictly after now
//
// Syntax: five fields (minute hour day-of-month month day-of-week) or six with a leading
// seconds field. Each field is a comma-separated list of `*`, `n`, `a-b`, `*/s` or `a-b/s`;
// months take JAN–DEC and days of the week SUN–SAT (any case); 0 and 7 are both Sunday; `L` in
// day-of-month is the month's last day. The macros @yearly (@annually), @monthly, @weekly,
// @daily (@midnight) and @hourly stand for their usual five fields.
//
// Day rule (Vixie cron): when both day-of-month and day-of-week are restricted (neither field
// starts with `*`), a day matches if either matches: "0 0 1 * MON" fires on the 1st and on every
// Monday. Otherwise both must match.
//
// Time is the zone's wall clock, with these rules at transitions (as cronie does):
//   - a gap (clocks jump forward): a time inside it fires once, at the first instant after the
//     jump — "30 2 * * *" in New York on 2026-03-08 fires at 03:00 EDT;
//   - a fold (clocks go back): a time shown twice fires once, at its first showing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "services/automation/tzif.h"

namespace neosl::automation {

class CronSchedule {
 public:
  // INVALID_ARGUMENT, naming the field and the bad token, for a malformed expression.
  static StatusOr<CronSchedule> Parse(std::string_view expr, const TimeZone& zone);

  // The first firing strictly after `after_unix_ms`, in UTC milliseconds (always a whole
  // second). nullopt if none falls within about nine years (Feb 30), or outside years 1–9999.
  std::optional<int64_t> Next(int64_t after_unix_ms) const;

  const std::string& expression() const { return expression_; }
  const TimeZone& zone() const { return zone_; }

 private:
  CronSchedule(std::string expression, TimeZone zone) : expression_(std::move(expression)), zone_(std::move(zone)) {}

  bool DayMatches(int64_t year, int month, int day, int weekday) const;
  // The first local civil second at or after `local` (seconds since the epoch, read as UTC)
  // that the fields match, searching no further than day `last_day`.
  std::optional<int64_t> NextLocalMatch(int64_t local, int64_t last_day) const;

  std::string expression_;
  TimeZone zone_;
  // Bit n set: value n matches.
  uint64_t seconds_ = 0;
  uint64_t minutes_ = 0;
  uint64_t hours_ = 0;
  uint64_t days_of_month_ = 0;  // bits 1–31
  uint64_t months_ = 0;         // bits 1–12
  uint64_t days_of_week_ = 0;   // bits 0–6, Sunday = 0
  bool last_day_of_month_ = false;
  bool day_of_month_star_ = false;
  bool day_of_week_star_ = false;
};

}  // namespace neosl::automation
