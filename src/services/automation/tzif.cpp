#include "services/automation/tzif.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include <sys/stat.h>

namespace neosl::automation {
namespace {

constexpr int64_t kSecondsPerDay = 86400;
constexpr size_t kMaxTzifBytes = 1 << 20;  // real files are under 4 KiB
// Offsets beyond this are rejected, so a civil time's instants lie within a bounded window.
constexpr int64_t kMaxUtcOffset = 2 * kSecondsPerDay;
// Instants are clamped to ±2^50 s (±35 million years) before a rule is applied, so its year
// arithmetic cannot overflow; a zone's offset that far out is the rule's answer at the bound.
constexpr int64_t kMaxInstant = int64_t{1} << 50;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

bool IsLeapYear(int64_t y) {
  return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

// One local time type: the offset, whether it is daylight time, and its abbreviation.
struct ZoneType {
  int32_t utc_offset = 0;
  bool is_dst = false;
  std::string abbreviation;
};

// A day named by a POSIX TZ rule: Jn (1–365, Feb 29 never counted), n (0–365, counted) or
// Mm.w.d (weekday d of week w of month m, w = 5 meaning the last).
struct RuleDay {
  enum class Form { kJulianNoLeap, kZeroBasedDay, kMonthWeekDay };
  Form form = Form::kMonthWeekDay;
  int value = 0;  // n, or the month
  int week = 0;
  int weekday = 0;
  int32_t time = 7200;  // local seconds after midnight; -167h…167h (RFC 8536 version 3)

  int64_t DaysSinceEpoch(int64_t year) const {
    int64_t jan1 = DaysFromCivil(year, 1, 1);
    switch (form) {
      case Form::kJulianNoLeap: return jan1 + value - 1 + ((IsLeapYear(year) && value >= 60) ? 1 : 0);
      case Form::kZeroBasedDay: return jan1 + value;
      case Form::kMonthWeekDay: break;
    }
    int64_t first = DaysFromCivil(year, value, 1);
    int64_t day = first + (weekday - WeekdayFromDays(first) + 7) % 7 + int64_t{7} * (week - 1);
    while (day >= first + DaysInMonth(year, value)) day -= 7;
    return day;
  }
};

// A POSIX TZ string as TZif footers carry it: "EST5EDT,M3.2.0,M11.1.0", "<+0530>-5:30".
struct PosixRule {
  ZoneType standard;
  std::optional<ZoneType> daylight;
  RuleDay start, end;

  // Instants at which daylight time starts and ends in `year`.
  int64_t StartOf(int64_t year) const {
    return start.DaysSinceEpoch(year) * kSecondsPerDay + start.time - standard.utc_offset;
  }
  int64_t EndOf(int64_t year) const {
    return end.DaysSinceEpoch(year) * kSecondsPerDay + end.time - daylight->utc_offset;
  }

  const ZoneType& At(int64_t t) const {
    if (!daylight) return standard;
    int64_t year = CivilFromUnixSeconds(t).year;
    // The last start or end at or before t; at equal instants an end comes first, so a zone
    // in daylight time all year ("EST5EDT,0/0,J365/25") stays in it.
    const ZoneType* type = &standard;
    int64_t best = INT64_MIN;
    for (int64_t y = year - 2; y <= year + 1; ++y) {
      int64_t e = EndOf(y), s = StartOf(y);
      if (e <= t && e > best) best = e, type = &standard;
      if (s <= t && s >= best) best = s, type = &*daylight;
    }
    return *type;
  }
};

// ---- POSIX TZ parsing --------------------------------------------------------------------

class RuleParser {
 public:
  explicit RuleParser(std::string_view s) : s_(s) {}

  std::optional<PosixRule> Parse() {
    PosixRule rule;
    if (!Name(rule.standard.abbreviation)) return std::nullopt;
    auto std_offset = Duration(24);
    if (!std_offset) return std::nullopt;
    rule.standard.utc_offset = -*std_offset;  // POSIX counts west as positive
    if (Done()) return rule;
    ZoneType dst{rule.standard.utc_offset + 3600, true, ""};
    if (!Name(dst.abbreviation)) return std::nullopt;
    if (!Done() && Peek() != ',') {
      auto dst_offset = Duration(24);
      if (!dst_offset) return std::nullopt;
      dst.utc_offset = -*dst_offset;
    }
    rule.daylight = dst;
    if (Done()) {  // daylight time without dates: the US rules, as tzcode assumes
      rule.start = {RuleDay::Form::kMonthWeekDay, 3, 2, 0, 7200};
      rule.end = {RuleDay::Form::kMonthWeekDay, 11, 1, 0, 7200};
      return rule;
    }
    if (!Eat(',') || !Day(rule.start) || !Eat(',') || !Day(rule.end) || !Done()) return std::nullopt;
    return rule;
  }

 private:
  bool Done() const { return i_ == s_.size(); }
  char Peek() const { return Done() ? '\0' : s_[i_]; }
  bool Eat(char c) {
    if (Peek() != c) return false;
    ++i_;
    return true;
  }
  static bool IsAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  bool Name(std::string& out) {
    size_t begin = i_;
    if (Eat('<')) {
      while (!Done() && (IsAlpha(Peek()) || IsDigit(Peek()) || Peek() == '+' || Peek() == '-')) ++i_;
      out = std::string(s_.substr(begin + 1, i_ - begin - 1));
      return Eat('>') && out.size() >= 3;
    }
    while (!Done() && IsAlpha(Peek())) ++i_;
    out = std::string(s_.substr(begin, i_ - begin));
    return out.size() >= 3;
  }

  std::optional<int> Number(int max_digits, int max_value) {
    int value = 0, digits = 0;
    while (!Done() && IsDigit(Peek()) && digits < max_digits) value = value * 10 + (s_[i_++] - '0'), ++digits;
    if (digits == 0 || value > max_value || (!Done() && IsDigit(Peek()))) return std::nullopt;
    return value;
  }

  // [+-]hh[:mm[:ss]] in seconds, hours up to max_hours.
  std::optional<int32_t> Duration(int max_hours) {
    int sign = 1;
    if (Eat('-')) {
      sign = -1;
    } else {
      Eat('+');
    }
    auto h = Number(3, max_hours);
    if (!h) return std::nullopt;
    int32_t total = *h * 3600;
    if (Eat(':')) {
      auto m = Number(2, 59);
      if (!m) return std::nullopt;
      total += *m * 60;
      if (Eat(':')) {
        auto sec = Number(2, 59);
        if (!sec) return std::nullopt;
        total += *sec;
      }
    }
    return sign * total;
  }

  bool Day(RuleDay& day) {
    if (Eat('M')) {
      auto m = Number(2, 12);
      if (!m || *m < 1 || !Eat('.')) return false;
      auto w = Number(1, 5);
      if (!w || *w < 1 || !Eat('.')) return false;
      auto d = Number(1, 6);
      if (!d) return false;
      day = {RuleDay::Form::kMonthWeekDay, *m, *w, *d, 7200};
    } else if (Eat('J')) {
      auto n = Number(3, 365);
      if (!n || *n < 1) return false;
      day = {RuleDay::Form::kJulianNoLeap, *n, 0, 0, 7200};
    } else {
      auto n = Number(3, 365);
      if (!n) return false;
      day = {RuleDay::Form::kZeroBasedDay, *n, 0, 0, 7200};
    }
    if (Eat('/')) {
      auto time = Duration(167);
      if (!time) return false;
      day.time = *time;
    }
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
};

// ---- TZif decoding ----------------------------------------------------------------------

class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : b_(bytes) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return b_.size() - pos_; }
  std::string_view Take(size_t n) {
    std::string_view out = b_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  uint64_t Uint(int width) {
    uint64_t v = 0;
    for (int k = 0; k < width; ++k) v = (v << 8) | static_cast<unsigned char>(b_[pos_++]);
    return v;
  }

 private:
  std::string_view b_;
  size_t pos_ = 0;
};

struct TzifHeader {
  char version = 0;
  uint32_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;

  uint64_t DataBytes(int time_width) const {
    return uint64_t{timecnt} * time_width + timecnt + uint64_t{typecnt} * 6 + charcnt +
           uint64_t{leapcnt} * (time_width + 4) + isstdcnt + isutcnt;
  }
};

Status Corrupt(std::string_view name, std::string_view why) {
  return DataLossError("time zone " + std::string(name) + ": not a valid TZif file: " + std::string(why));
}

}  // namespace

struct TimeZone::Impl {
  std::string name;
  std::vector<int64_t> transition_times;
  std::vector<uint8_t> transition_types;
  std::vector<ZoneType> types;
  std::optional<PosixRule> footer;

  const ZoneType& TypeAt(int64_t t) const {
    t = std::clamp(t, -kMaxInstant, kMaxInstant);
    if (transition_times.empty()) return footer ? footer->At(t) : types[0];
    if (t < transition_times.front()) return types[0];
    if (t > transition_times.back() && footer) return footer->At(t);
    auto it = std::upper_bound(transition_times.begin(), transition_times.end(), t);
    return types[transition_types[std::distance(transition_times.begin(), it) - 1]];
  }

  // Instants in (from, to] at which the offset changes, ascending.
  std::vector<int64_t> TransitionsIn(int64_t from, int64_t to) const {
    std::vector<int64_t> candidates(std::upper_bound(transition_times.begin(), transition_times.end(), from),
                                    std::upper_bound(transition_times.begin(), transition_times.end(), to));
    if (footer && footer->daylight) {
      int64_t floor = transition_times.empty() ? INT64_MIN : transition_times.back();
      for (int64_t y = CivilFromUnixSeconds(from).year - 1; y <= CivilFromUnixSeconds(to).year + 1; ++y) {
        for (int64_t t : {footer->StartOf(y), footer->EndOf(y)}) {
          if (t > from && t <= to && t > floor) candidates.push_back(t);
        }
      }
    }
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    std::vector<int64_t> out;
    for (int64_t t : candidates) {
      if (TypeAt(t - 1).utc_offset != TypeAt(t).utc_offset) out.push_back(t);
    }
    return out;
  }
};

namespace {

StatusOr<TimeZone::Impl> DecodeTzif(std::string_view name, std::string_view bytes) {
  ByteReader r(bytes);
  auto read_header = [&](TzifHeader& h) -> Status {
    if (r.remaining() < 44) return Corrupt(name, "truncated header");
    if (r.Take(4) != "TZif") return Corrupt(name, "bad magic");
    h.version = r.Take(1)[0];
    if (h.version != 0 && (h.version < '2' || h.version > '4')) return Corrupt(name, "unknown version");
    r.Take(15);
    h.isutcnt = r.Uint(4), h.isstdcnt = r.Uint(4), h.leapcnt = r.Uint(4);
    h.timecnt = r.Uint(4), h.typecnt = r.Uint(4), h.charcnt = r.Uint(4);
    return Status::Ok();
  };
  TzifHeader h;
  RETURN_IF_ERROR(read_header(h));
  int width = 4;
  if (h.version != 0) {  // skip the 32-bit block: the 64-bit one that follows says it all
    if (r.remaining() < h.DataBytes(4)) return Corrupt(name, "truncated version 1 data");
    r.Take(h.DataBytes(4));
    char first_version = h.version;
    RETURN_IF_ERROR(read_header(h));
    if (h.version != first_version) return Corrupt(name, "headers disagree on the version");
    width = 8;
  }
  if (h.typecnt == 0 || h.typecnt > 256 || h.charcnt == 0) return Corrupt(name, "no local time types");
  if ((h.isutcnt != 0 && h.isutcnt != h.typecnt) || (h.isstdcnt != 0 && h.isstdcnt != h.typecnt)) {
    return Corrupt(name, "indicator counts differ from the type count");
  }
  if (r.remaining() < h.DataBytes(width)) return Corrupt(name, "truncated data");
  if (h.leapcnt != 0)
    return UnimplementedError("time zone " + std::string(name) + ": leap-second zones are not supported");

  TimeZone::Impl zone;
  zone.name = std::string(name);
  for (uint32_t i = 0; i < h.timecnt; ++i) {
    uint64_t raw = r.Uint(width);
    int64_t t = width == 8 ? static_cast<int64_t>(raw) : static_cast<int64_t>(static_cast<int32_t>(raw));
    if (!zone.transition_times.empty() && t <= zone.transition_times.back()) {
      return Corrupt(name, "transition times not ascending");
    }
    zone.transition_times.push_back(t);
  }
  for (uint32_t i = 0; i < h.timecnt; ++i) {
    uint8_t type = static_cast<uint8_t>(r.Uint(1));
    if (type >= h.typecnt) return Corrupt(name, "transition names a missing type");
    zone.transition_types.push_back(type);
  }
  std::vector<uint8_t> designation_index;
  for (uint32_t i = 0; i < h.typecnt; ++i) {
    int32_t offset = static_cast<int32_t>(static_cast<uint32_t>(r.Uint(4)));
    uint64_t dst = r.Uint(1), index = r.Uint(1);
    if (offset < -kMaxUtcOffset || offset > kMaxUtcOffset) return Corrupt(name, "UTC offset out of range");
    if (dst > 1) return Corrupt(name, "bad dst flag");
    if (index >= h.charcnt) return Corrupt(name, "abbreviation index out of range");
    zone.types.push_back({offset, dst == 1, ""});
    designation_index.push_back(static_cast<uint8_t>(index));
  }
  std::string_view chars = r.Take(h.charcnt);
  for (uint32_t i = 0; i < h.typecnt; ++i) {
    size_t end = chars.find('\0', designation_index[i]);
    if (end == std::string_view::npos) return Corrupt(name, "unterminated abbreviation");
    zone.types[i].abbreviation = std::string(chars.substr(designation_index[i], end - designation_index[i]));
  }
  r.Take(h.isstdcnt + h.isutcnt);  // only needed to apply a POSIX rule to the table; not done

  if (width == 8) {
    std::string_view rest = r.Take(r.remaining());
    if (rest.size() < 2 || rest.front() != '\n') return Corrupt(name, "missing footer");
    size_t close = rest.find('\n', 1);
    if (close == std::string_view::npos || close != rest.size() - 1) return Corrupt(name, "bad footer");
    std::string_view tz = rest.substr(1, close - 1);
    if (!tz.empty()) {
      zone.footer = RuleParser(tz).Parse();
      if (!zone.footer) return Corrupt(name, "bad footer TZ string");
    }
  } else if (r.remaining() != 0) {
    return Corrupt(name, "trailing bytes");
  }
  return zone;
}

Status ValidateName(std::string_view name) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("time zone name '" + std::string(name.substr(0, 64)) + "' " + std::string(why));
  };
  if (name.empty() || name.size() > 255) return bad("must be 1 to 255 characters");
  if (name.front() == '/') return bad("must not be an absolute path");
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '+' ||
              c == '-' || c == '/';
    if (!ok) return bad("has a character outside [A-Za-z0-9_+-/]");
  }
  if (name.back() == '/' || name.find("//") != std::string_view::npos) return bad("has an empty component");
  if (name.front() == '-') return bad("must not start with '-'");
  return Status::Ok();
}

}  // namespace

// ---- civil arithmetic (Howard Hinnant's days_from_civil / civil_from_days) ---------------

int64_t DaysFromCivil(int64_t year, int month, int day) {
  int64_t y = year - (month <= 2 ? 1 : 0);
  int64_t era = FloorDiv(y, 400);
  int64_t yoe = y - era * 400;
  int64_t mp = (month + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilTime CivilFromUnixSeconds(int64_t unix_seconds) {
  int64_t days = FloorDiv(unix_seconds, kSecondsPerDay);
  int64_t sod = ((unix_seconds % kSecondsPerDay) + kSecondsPerDay) % kSecondsPerDay;
  int64_t z = days + 719468;
  int64_t era = FloorDiv(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  CivilTime c;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2 ? 1 : 0);
  c.hour = static_cast<int>(sod / 3600);
  c.minute = static_cast<int>(sod / 60 % 60);
  c.second = static_cast<int>(sod % 60);
  return c;
}

int64_t UnixSecondsFromCivil(const CivilTime& c) {
  return DaysFromCivil(c.year, c.month, c.day) * kSecondsPerDay + int64_t{c.hour} * 3600 + int64_t{c.minute} * 60 +
         c.second;
}

int DaysInMonth(int64_t year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

int WeekdayFromDays(int64_t days) {
  return static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
}

std::string FormatCivil(const CivilTime& c) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d", static_cast<long long>(c.year), c.month, c.day,
                c.hour, c.minute, c.second);
  return buf;
}

// ---- TimeZone -----------------------------------------------------------------------------

TimeZone TimeZone::Utc() {
  static const auto* utc = new std::shared_ptr<const Impl>(
      std::make_shared<const Impl>(Impl{"UTC", {}, {}, {ZoneType{0, false, "UTC"}}, std::nullopt}));
  return TimeZone(*utc);
}

StatusOr<TimeZone> TimeZone::Load(std::string_view name, std::string_view zoneinfo_dir) {
  RETURN_IF_ERROR(ValidateName(name));
  if (name == "UTC") return Utc();
  std::string path = std::string(zoneinfo_dir) + "/" + std::string(name);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return NotFoundError("time zone " + std::string(name) + " not found");
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxTzifBytes) return Corrupt(name, "file too large");
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return UnavailableError("time zone " + std::string(name) + ": cannot read " + path);
  return FromTzif(name, bytes);
}

StatusOr<TimeZone> TimeZone::FromTzif(std::string_view name, std::string_view tzif) {
  if (tzif.size() > kMaxTzifBytes) return Corrupt(name, "file too large");
  ASSIGN_OR_RETURN(Impl impl, DecodeTzif(name, tzif));
  return TimeZone(std::make_shared<const Impl>(std::move(impl)));
}

StatusOr<TimeZone> TimeZone::FromPosixRule(std::string_view rule) {
  auto parsed = RuleParser(rule).Parse();
  if (!parsed) return InvalidArgumentError("bad POSIX TZ rule '" + std::string(rule.substr(0, 64)) + "'");
  Impl impl{std::string(rule), {}, {}, {parsed->standard}, parsed};
  return TimeZone(std::make_shared<const Impl>(std::move(impl)));
}

const std::string& TimeZone::name() const {
  return impl_->name;
}

int32_t TimeZone::UtcOffsetAt(int64_t unix_seconds) const {
  return impl_->TypeAt(unix_seconds).utc_offset;
}

LocalTime TimeZone::ToLocal(int64_t unix_seconds) const {
  const ZoneType& type = impl_->TypeAt(unix_seconds);
  int64_t local = 0;
  if (__builtin_add_overflow(unix_seconds, type.utc_offset, &local)) local = unix_seconds;  // at ±2^63 only
  return {CivilFromUnixSeconds(local), type.utc_offset, type.is_dst, type.abbreviation};
}

CivilLookup TimeZone::FromLocal(const CivilTime& civil) const {
  const int64_t local = UnixSecondsFromCivil(civil);
  // Every instant that can show `local` lies within the largest offset of it.
  const int64_t from = local - kMaxUtcOffset - kSecondsPerDay, to = local + kMaxUtcOffset + kSecondsPerDay;
  std::vector<int64_t> transitions = impl_->TransitionsIn(from, to);
  // Segments of constant offset: [from, T1), [T1, T2), …, [Tn, to]; a solution t = local - offset
  // counts if it falls inside its own segment.
  std::vector<int64_t> solutions;
  int64_t begin = from;
  for (size_t k = 0; k <= transitions.size(); ++k) {
    int64_t end = k < transitions.size() ? transitions[k] : to + 1;
    int64_t t = local - impl_->TypeAt(begin).utc_offset;
    if (t >= begin && t < end) solutions.push_back(t);
    begin = end;
  }
  if (solutions.size() == 1) return {CivilLookup::Kind::kUnique, solutions[0], solutions[0], solutions[0]};
  if (solutions.size() >= 2) {
    int64_t trans = *std::upper_bound(transitions.begin(), transitions.end(), solutions.front());
    return {CivilLookup::Kind::kRepeated, solutions.front(), trans, solutions.back()};
  }
  for (int64_t t : transitions) {
    int64_t pre = local - impl_->TypeAt(t - 1).utc_offset, post = local - impl_->TypeAt(t).utc_offset;
    if (pre >= t && post < t) return {CivilLookup::Kind::kSkipped, pre, t, post};
  }
  int64_t t = local - impl_->TypeAt(local).utc_offset;  // unreachable for a consistent zone
  return {CivilLookup::Kind::kUnique, t, t, t};
}

}  // namespace neosl::automation
