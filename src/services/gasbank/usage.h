// The gas bank's Billing Reporter (issue #12, GET /v1/gasbank/usage): what an account paid, from
// the journal's settle entries (their revenue lines), grouped by UTC day or by service, as JSON
// rows or CSV. Everything here is pure — the queries are the service's — so that the parsing of
// the request and the exact CSV text are tested on their own.
//
//   from, to   RFC 3339 date-times, or dates YYYY-MM-DD (UTC). `from` is inclusive (a date: the
//              start of that day), `to` exclusive (a date: the end of that day, so
//              from=2026-01-01&to=2026-01-31 is all of January). Defaults: to = now, from = 30
//              days before to. At most 366 days.
//   group      day (default) | service
//   format     json (default) | csv
//
// CSV is RFC 4180: CRLF line ends, a header line, fields quoted when they hold a comma, a quote
// or a line break (quotes doubled). Amounts are integers in datoshi beside the exact decimal GAS.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace neosl::gasbank {

inline constexpr int64_t kMillisPerDay = 86'400'000;
inline constexpr int64_t kMaxUsageRangeDays = 366;
inline constexpr int64_t kDefaultUsageRangeDays = 30;

// "1.50000000" for 150000000 datoshi; "-0.00000001" for -1. Exact: integers only.
std::string FormatGas(int64_t datoshi);

enum class UsageGroup { kDay, kService };
std::string_view UsageGroupName(UsageGroup group);  // "day", "service"

struct UsageQuery {
  int64_t from_ms = 0;  // inclusive
  int64_t to_ms = 0;    // exclusive
  UsageGroup group = UsageGroup::kDay;
  bool csv = false;
};

// GetUsage's fields as given (empty: the default). FieldViolationError naming from, to, group or
// format for a value that is none of the above, a `from` not before `to`, a time before 1970, or
// a range over 366 days.
StatusOr<UsageQuery> ParseUsageQuery(std::string_view from, std::string_view to, std::string_view group,
                                     std::string_view format, int64_t now_ms);

struct UsageRow {
  std::string key;  // the day (YYYY-MM-DD) or the service
  int64_t operations = 0;
  int64_t charged = 0;  // datoshi
};

// "2026-01-31": the UTC day of a Unix time in milliseconds (not before 1970).
std::string UtcDay(int64_t unix_millis);

// One CSV field, quoted when it must be.
std::string CsvField(std::string_view text);
// The header `day,operations,charged_datoshi,charged_gas` (or `service,…`) and one line per row.
std::string UsageCsv(UsageGroup group, const std::vector<UsageRow>& rows);

}  // namespace neosl::gasbank
