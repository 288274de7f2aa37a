// Named time zones for cron triggers (issue #13), read from the system's TZif files (RFC 8536).
//
//   ASSIGN_OR_RETURN(TimeZone zone, TimeZone::Load("America/New_York"));
//   LocalTime now = zone.ToLocal(unix_seconds);        // civil time, offset, dst, "EDT"
//   CivilLookup at = zone.FromLocal({2026, 3, 8, 2, 30, 0});
//   // at.kind == kSkipped: 02:30 does not exist that day; at.trans is the instant of the jump.
//
// Versions 1 to 4 are read; from version 2 on the 64-bit data is used, and the footer's POSIX TZ
// rule ("EST5EDT,M3.2.0,M11.1.0") answers for times after the last transition in the table, so
// a file that lists transitions only up to 2037 still answers for 2040. "UTC" is built in and
// needs no file. The GCC 12 library has no std::chrono time-zone database, hence this reader.
// No floating point: every time is an integer count of seconds.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace neosl::automation {

// A proleptic Gregorian date and a time of day, with no zone attached. month 1–12, day 1–31,
// hour 0–23, minute 0–59, second 0–59.
struct CivilTime {
  int64_t year = 1970;
  int month = 1;
  int day = 1;
  int hour = 0;
  int minute = 0;
  int second = 0;

  friend bool operator==(const CivilTime&, const CivilTime&) = default;
};

// Days since 1970-01-01 of a Gregorian date (month 1–12; a day past the month's end rolls over).
int64_t DaysFromCivil(int64_t year, int month, int day);
// The civil time of `unix_seconds` read as UTC, and its inverse.
CivilTime CivilFromUnixSeconds(int64_t unix_seconds);
int64_t UnixSecondsFromCivil(const CivilTime& civil);
int DaysInMonth(int64_t year, int month);
// 0 = Sunday … 6 = Saturday, for a count of days since 1970-01-01 (a Thursday).
int WeekdayFromDays(int64_t days);
// "2026-03-08T02:30:00", for messages and test failures.
std::string FormatCivil(const CivilTime& civil);

// An instant as the zone shows it.
struct LocalTime {
  CivilTime civil;
  int32_t utc_offset = 0;  // seconds east of UTC: -18000 for EST
  bool is_dst = false;
  std::string abbreviation;  // "EST", "+0530"
};

// Every instant that a local civil time names. Around a transition a civil time can name none
// (a gap: clocks jumped over it) or two (a fold: clocks went back over it).
struct CivilLookup {
  enum class Kind {
    kUnique,    // pre == trans == post: the one instant
    kSkipped,   // gap: post < trans <= pre; the civil time never showed on a clock
    kRepeated,  // fold: pre < trans <= post; the civil time showed twice
  };
  Kind kind = Kind::kUnique;
  int64_t pre = 0;    // the civil time read with the offset in force before the transition
  int64_t trans = 0;  // the transition's instant (the first valid instant after a gap)
  int64_t post = 0;   // the civil time read with the offset in force after the transition
};

class TimeZone {
 public:
  static constexpr std::string_view kDefaultZoneInfoDir = "/usr/share/zoneinfo";

  // Reads `zoneinfo_dir`/`name`. INVALID_ARGUMENT for a malformed name (empty, absolute, "..",
  // empty components, or characters outside [A-Za-z0-9_+-/]); NOT_FOUND for an unknown zone;
  // DATA_LOSS for a file that is not a valid TZif file; UNIMPLEMENTED for leap-second ("right/")
  // zones. "UTC" is built in and never touches the disk.
  static StatusOr<TimeZone> Load(std::string_view name, std::string_view zoneinfo_dir = kDefaultZoneInfoDir);
  // Parses TZif bytes held in memory (DATA_LOSS if malformed); `name` is only remembered.
  static StatusOr<TimeZone> FromTzif(std::string_view name, std::string_view tzif);
  // A zone made of a POSIX TZ rule alone ("CET-1CEST,M3.5.0,M10.5.0/3"); INVALID_ARGUMENT if
  // malformed.
  static StatusOr<TimeZone> FromPosixRule(std::string_view rule);
  static TimeZone Utc();

  const std::string& name() const;

  LocalTime ToLocal(int64_t unix_seconds) const;
  int32_t UtcOffsetAt(int64_t unix_seconds) const;
  // The instants that show `civil` on this zone's clocks (years within ±1,000,000).
  CivilLookup FromLocal(const CivilTime& civil) const;

  struct Impl;

 private:
  explicit TimeZone(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  // Shared and immutable, so a TimeZone is cheap to copy into every schedule that uses it.
  std::shared_ptr<const Impl> impl_;
};

}  // namespace neosl::automation
