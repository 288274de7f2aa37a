#include "services/gasbank/usage.h"

#include <algorithm>
#include <optional>

#include "core/encoding.h"
#include "services/gasbank/ledger.h"

namespace neosl::gasbank {
namespace {

constexpr std::string_view kCrlf = "\r\n";

bool IsDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

// A bound as Unix milliseconds; `end_of_day` moves a bare date to the start of the next day.
std::optional<int64_t> ParseBound(std::string_view text, bool end_of_day) {
  if (IsDate(text)) {
    std::optional<int64_t> start = ParseRfc3339Millis(std::string(text) + "T00:00:00Z");
    if (!start) return std::nullopt;  // an impossible date: 2026-02-30
    return end_of_day ? *start + kMillisPerDay : *start;
  }
  return ParseRfc3339Millis(text);
}

}  // namespace

std::string FormatGas(int64_t datoshi) {
  // Through uint64, so that INT64_MIN has a magnitude too.
  const bool negative = datoshi < 0;
  const uint64_t magnitude = negative ? uint64_t(0) - uint64_t(datoshi) : uint64_t(datoshi);
  std::string fraction = std::to_string(magnitude % uint64_t(kDatoshiPerGas));
  fraction.insert(0, 8 - fraction.size(), '0');
  return (negative ? "-" : "") + std::to_string(magnitude / uint64_t(kDatoshiPerGas)) + "." + fraction;
}

std::string_view UsageGroupName(UsageGroup group) {
  return group == UsageGroup::kDay ? "day" : "service";
}

StatusOr<UsageQuery> ParseUsageQuery(std::string_view from, std::string_view to, std::string_view group,
                                     std::string_view format, int64_t now_ms) {
  UsageQuery q;
  if (group.empty() || group == "day") {
    q.group = UsageGroup::kDay;
  } else if (group == "service") {
    q.group = UsageGroup::kService;
  } else {
    return FieldViolationError("group", "group must be day or service");
  }
  if (format.empty() || format == "json") {
    q.csv = false;
  } else if (format == "csv") {
    q.csv = true;
  } else {
    return FieldViolationError("format", "format must be json or csv");
  }
  constexpr std::string_view kTimeForm = " must be an RFC 3339 date-time (2026-01-31T12:00:00Z) or a date (2026-01-31)";
  // Exclusive: by default up to and including the current millisecond, so that what was charged
  // just now is in.
  q.to_ms = now_ms + 1;
  if (!to.empty()) {
    std::optional<int64_t> parsed = ParseBound(to, /*end_of_day=*/true);
    if (!parsed) return FieldViolationError("to", "to" + std::string(kTimeForm));
    q.to_ms = *parsed;
  }
  if (q.to_ms <= 0) return FieldViolationError("to", "to must be after 1970-01-01T00:00:00Z");
  q.from_ms = std::max<int64_t>(0, q.to_ms - kDefaultUsageRangeDays * kMillisPerDay);
  if (!from.empty()) {
    std::optional<int64_t> parsed = ParseBound(from, /*end_of_day=*/false);
    if (!parsed) return FieldViolationError("from", "from" + std::string(kTimeForm));
    if (*parsed < 0) return FieldViolationError("from", "from must be in 1970 or later");
    q.from_ms = *parsed;
  }
  if (q.from_ms >= q.to_ms) return FieldViolationError("from", "from must be before to");
  if (q.to_ms - q.from_ms > kMaxUsageRangeDays * kMillisPerDay) {
    return FieldViolationError("from", "from and to are at most 366 days apart; ask for a longer time in parts");
  }
  return q;
}

std::string UtcDay(int64_t unix_millis) {
  return FormatRfc3339Millis(unix_millis).substr(0, 10);
}

std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string UsageCsv(UsageGroup group, const std::vector<UsageRow>& rows) {
  std::string out(UsageGroupName(group));
  out += ",operations,charged_datoshi,charged_gas";
  out += kCrlf;
  for (const UsageRow& row : rows) {
    out += CsvField(row.key);
    out += ',';
    out += std::to_string(row.operations);
    out += ',';
    out += std::to_string(row.charged);
    out += ',';
    out += FormatGas(row.charged);
    out += kCrlf;
  }
  return out;
}

}  // namespace neosl::gasbank
