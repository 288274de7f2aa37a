#include "services/automation/cron.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <utility>
#include <vector>

namespace neosl::automation {
namespace {

constexpr int64_t kSecondsPerDay = 86400;
constexpr size_t kMaxExpressionLength = 1024;
// Long enough to reach the next Feb 29 across a skipped leap year (2096 → 2104).
constexpr int64_t kHorizonDays = int64_t{366} * 9;
// Years 1 to 9999, in Unix seconds.
constexpr int64_t kMinSeconds = -62135596800;
constexpr int64_t kMaxSeconds = 253402300799;

struct FieldSpec {
  std::string_view name;
  int min;
  int max;
  const std::array<std::string_view, 12>* names;  // names[i] is value min + i; may be null
  bool allow_last;                                // `L` (day-of-month only)
};

constexpr std::array<std::string_view, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 12> kWeekdayNames = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

constexpr FieldSpec kSecond{"second", 0, 59, nullptr, false};
constexpr FieldSpec kMinute{"minute", 0, 59, nullptr, false};
constexpr FieldSpec kHour{"hour", 0, 23, nullptr, false};
constexpr FieldSpec kDayOfMonth{"day-of-month", 1, 31, nullptr, true};
constexpr FieldSpec kMonth{"month", 1, 12, &kMonthNames, false};
constexpr FieldSpec kDayOfWeek{"day-of-week", 0, 7, &kWeekdayNames, false};

struct ParsedField {
  uint64_t bits = 0;
  bool last = false;  // `L`
  bool star = false;  // the field starts with `*`
};

Status BadToken(const FieldSpec& field, std::string_view token, std::string_view why) {
  return InvalidArgumentError("cron field " + std::string(field.name) + ": bad token '" +
                              std::string(token.substr(0, 64)) + "': " + std::string(why))
      .WithDetail(ErrorDetail{"CronFieldViolation", {}}
                      .Add("field", std::string(field.name))
                      .Add("token", std::string(token.substr(0, 64))));
}

// A number or (for months and weekdays) a name.
std::optional<int> ParseValue(const FieldSpec& field, std::string_view s) {
  if (s.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(s[0]))) {
    if (s.size() > 2) return std::nullopt;
    int v = 0;
    for (char c : s) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
      v = v * 10 + (c - '0');
    }
    return v;
  }
  if (field.names == nullptr || s.size() != 3) return std::nullopt;
  for (size_t i = 0; i < field.names->size(); ++i) {
    std::string_view name = (*field.names)[i];
    if (name.empty()) break;
    bool same = true;
    for (size_t k = 0; k < 3; ++k) same = same && std::toupper(static_cast<unsigned char>(s[k])) == name[k];
    if (same) return field.min + static_cast<int>(i);
  }
  return std::nullopt;
}

StatusOr<ParsedField> ParseField(const FieldSpec& field, std::string_view text) {
  ParsedField out;
  out.star = !text.empty() && text[0] == '*';
  size_t begin = 0;
  while (true) {
    size_t comma = text.find(',', begin);
    std::string_view item =
        text.substr(begin, comma == std::string_view::npos ? std::string_view::npos : comma - begin);
    if (item.empty()) return BadToken(field, text, "empty list item");
    if (field.allow_last && (item == "L" || item == "l")) {
      out.last = true;
    } else {
      std::string_view range = item;
      int step = 1;
      if (size_t slash = item.find('/'); slash != std::string_view::npos) {
        range = item.substr(0, slash);
        auto s = ParseValue(kSecond, item.substr(slash + 1));  // digits only
        if (!s || *s < 1 || *s > field.max)
          return BadToken(field, item, "step must be 1 to " + std::to_string(field.max));
        step = *s;
      }
      int lo, hi;
      if (range == "*") {
        lo = field.min, hi = field.max;
      } else {
        size_t dash = range.find('-');
        auto a = ParseValue(field, range.substr(0, dash));
        if (!a) return BadToken(field, item, "not a value");
        lo = hi = *a;
        if (dash != std::string_view::npos) {
          auto b = ParseValue(field, range.substr(dash + 1));
          if (!b) return BadToken(field, item, "not a value");
          hi = *b;
          if (&field == &kDayOfWeek && hi == 0 && lo > 0) hi = 7;  // FRI-SUN
        } else if (range.size() != item.size()) {
          return BadToken(field, item, "a step needs a range or *");
        }
        if (lo < field.min || hi > field.max) {
          return BadToken(field, item, "out of range " + std::to_string(field.min) + "-" + std::to_string(field.max));
        }
        if (lo > hi) return BadToken(field, item, "range start after its end");
      }
      for (int v = lo; v <= hi; v += step) out.bits |= uint64_t{1} << v;
    }
    if (comma == std::string_view::npos) break;
    begin = comma + 1;
  }
  return out;
}

// The lowest set bit at or above `from`, or -1.
int NextBit(uint64_t bits, int from) {
  if (from >= 64) return -1;
  uint64_t masked = bits & (~uint64_t{0} << from);
  return masked == 0 ? -1 : std::countr_zero(masked);
}

std::string_view ExpandMacro(std::string_view expr) {
  if (expr == "@yearly" || expr == "@annually") return "0 0 1 1 *";
  if (expr == "@monthly") return "0 0 1 * *";
  if (expr == "@weekly") return "0 0 * * 0";
  if (expr == "@daily" || expr == "@midnight") return "0 0 * * *";
  if (expr == "@hourly") return "0 * * * *";
  return expr;
}

}  // namespace

StatusOr<CronSchedule> CronSchedule::Parse(std::string_view expr, const TimeZone& zone) {
  if (expr.size() > kMaxExpressionLength) return InvalidArgumentError("cron expression longer than 1024 characters");
  std::string_view body = ExpandMacro(expr);
  if (!body.empty() && body[0] == '@') {
    return InvalidArgumentError("cron expression: unknown macro '" + std::string(body.substr(0, 32)) + "'");
  }
  std::vector<std::string_view> fields;
  for (size_t i = 0; i < body.size();) {
    if (std::isspace(static_cast<unsigned char>(body[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < body.size() && !std::isspace(static_cast<unsigned char>(body[j]))) ++j;
    fields.push_back(body.substr(i, j - i));
    i = j;
  }
  if (fields.size() != 5 && fields.size() != 6) {
    return InvalidArgumentError("cron expression needs 5 or 6 fields, got " + std::to_string(fields.size()));
  }
  CronSchedule schedule{std::string(expr), zone};
  size_t i = 0;
  if (fields.size() == 6) {
    ASSIGN_OR_RETURN(ParsedField seconds, ParseField(kSecond, fields[i++]));
    schedule.seconds_ = seconds.bits;
  } else {
    schedule.seconds_ = 1;  // second 0
  }
  ASSIGN_OR_RETURN(ParsedField minutes, ParseField(kMinute, fields[i++]));
  ASSIGN_OR_RETURN(ParsedField hours, ParseField(kHour, fields[i++]));
  ASSIGN_OR_RETURN(ParsedField dom, ParseField(kDayOfMonth, fields[i++]));
  ASSIGN_OR_RETURN(ParsedField months, ParseField(kMonth, fields[i++]));
  ASSIGN_OR_RETURN(ParsedField dow, ParseField(kDayOfWeek, fields[i++]));
  schedule.minutes_ = minutes.bits;
  schedule.hours_ = hours.bits;
  schedule.days_of_month_ = dom.bits;
  schedule.last_day_of_month_ = dom.last;
  schedule.day_of_month_star_ = dom.star;
  schedule.months_ = months.bits;
  schedule.days_of_week_ = (dow.bits | (dow.bits >> 7)) & 0x7f;  // 7 is Sunday too
  schedule.day_of_week_star_ = dow.star;
  return schedule;
}

bool CronSchedule::DayMatches(int64_t year, int month, int day, int weekday) const {
  bool dom = ((days_of_month_ >> day) & 1) != 0 || (last_day_of_month_ && day == DaysInMonth(year, month));
  bool dow = ((days_of_week_ >> weekday) & 1) != 0;
  return (day_of_month_star_ || day_of_week_star_) ? (dom && dow) : (dom || dow);
}

std::optional<int64_t> CronSchedule::NextLocalMatch(int64_t local, int64_t last_day) const {
  int64_t day = local / kSecondsPerDay - (local % kSecondsPerDay < 0 ? 1 : 0);
  int64_t sod = local - day * kSecondsPerDay;
  int h0 = static_cast<int>(sod / 3600), m0 = static_cast<int>(sod / 60 % 60), s0 = static_cast<int>(sod % 60);
  const int first_minute = NextBit(minutes_, 0), first_second = NextBit(seconds_, 0);
  while (day <= last_day) {
    CivilTime date = CivilFromUnixSeconds(day * kSecondsPerDay);
    if (((months_ >> date.month) & 1) == 0) {  // skip the whole month
      day = DaysFromCivil(date.month == 12 ? date.year + 1 : date.year, date.month == 12 ? 1 : date.month + 1, 1);
      h0 = m0 = s0 = 0;
      continue;
    }
    if (DayMatches(date.year, date.month, date.day, WeekdayFromDays(day))) {
      // The first (hour, minute, second) at or after (h0, m0, s0).
      int h = NextBit(hours_, h0), m = -1, s = -1;
      if (h == h0) {
        m = NextBit(minutes_, m0);
        if (m == m0) s = NextBit(seconds_, s0);
        if (m >= 0 && s < 0) m = NextBit(minutes_, m0 + 1), s = first_second;
        if (m < 0) h = NextBit(hours_, h0 + 1), m = first_minute, s = first_second;
      } else if (h >= 0) {
        m = first_minute, s = first_second;
      }
      if (h >= 0 && m >= 0 && s >= 0) return day * kSecondsPerDay + int64_t{h} * 3600 + int64_t{m} * 60 + s;
    }
    ++day;
    h0 = m0 = s0 = 0;
  }
  return std::nullopt;
}

std::optional<int64_t> CronSchedule::Next(int64_t after_unix_ms) const {
  // The first whole second strictly after `after_unix_ms`.
  int64_t t0 = after_unix_ms / 1000 - (after_unix_ms % 1000 < 0 ? 1 : 0) + 1;
  if (t0 < kMinSeconds || t0 > kMaxSeconds) return std::nullopt;
  // Local times map to instants monotonically (first showing in a fold, the jump's instant in a
  // gap), so the answer is the first match, in wall-clock order, whose instant is at or after t0.
  // Start where the clock showed just before t0: if t0 is the instant of a jump, the skipped
  // times map to t0 itself.
  int64_t local = t0 + std::min(zone_.UtcOffsetAt(t0), zone_.UtcOffsetAt(t0 - 1));
  const int64_t last_day = local / kSecondsPerDay + kHorizonDays;
  while (true) {
    std::optional<int64_t> match = NextLocalMatch(local, last_day);
    if (!match) return std::nullopt;
    CivilLookup at = zone_.FromLocal(CivilFromUnixSeconds(*match));
    int64_t instant = at.kind == CivilLookup::Kind::kUnique    ? at.pre
                      : at.kind == CivilLookup::Kind::kSkipped ? at.trans
                                                               : at.pre;
    if (instant >= t0) return instant > kMaxSeconds ? std::nullopt : std::optional<int64_t>(instant * 1000);
    // Behind t0: inside a fold whose first showing is past, skip to where the fold ends.
    local = (at.kind == CivilLookup::Kind::kRepeated && at.trans <= t0) ? *match + (at.trans - at.pre) : *match + 1;
  }
}

}  // namespace neosl::automation
