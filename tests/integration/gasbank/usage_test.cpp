// The usage report's request parsing and its exact CSV (services/gasbank/usage.h).
#include "services/gasbank/usage.h"

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "support/status_details.h"

namespace neosl::gasbank {
namespace {

using ::neosl::testing::FieldOf;

constexpr int64_t kNow = 1'768'471'200'000;  // 2026-01-15T10:00:00Z

TEST(FormatGasTest, IsExactDecimalText) {
  EXPECT_EQ(FormatGas(0), "0.00000000");
  EXPECT_EQ(FormatGas(1), "0.00000001");
  EXPECT_EQ(FormatGas(150'000'000), "1.50000000");
  EXPECT_EQ(FormatGas(-1), "-0.00000001");
  EXPECT_EQ(FormatGas(INT64_MAX), "92233720368.54775807");
  EXPECT_EQ(FormatGas(INT64_MIN), "-92233720368.54775808");
}

TEST(UsageQueryTest, DefaultsAreTheLastThirtyDaysByDayAsJson) {
  auto q = ParseUsageQuery("", "", "", "", kNow);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->to_ms, kNow + 1);  // exclusive: what was charged this millisecond is in
  EXPECT_EQ(q->from_ms, kNow + 1 - 30 * kMillisPerDay);
  EXPECT_EQ(q->group, UsageGroup::kDay);
  EXPECT_FALSE(q->csv);
}

TEST(UsageQueryTest, DatesCoverWholeDaysAndDateTimesAreExact) {
  auto q = ParseUsageQuery("2026-01-01", "2026-01-31", "service", "csv", kNow);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(FormatRfc3339Millis(q->from_ms), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Millis(q->to_ms), "2026-02-01T00:00:00.000Z");
  EXPECT_EQ(q->group, UsageGroup::kService);
  EXPECT_TRUE(q->csv);
  auto exact = ParseUsageQuery("2026-01-01T06:30:00+02:00", "2026-01-02T00:00:00.5Z", "day", "json", kNow);
  ASSERT_TRUE(exact.ok()) << exact.status().ToString();
  EXPECT_EQ(FormatRfc3339Millis(exact->from_ms), "2026-01-01T04:30:00.000Z");
  EXPECT_EQ(FormatRfc3339Millis(exact->to_ms), "2026-01-02T00:00:00.500Z");
}

TEST(UsageQueryTest, BadValuesNameTheirField) {
  EXPECT_EQ(FieldOf(ParseUsageQuery("", "", "week", "", kNow).status()), "group");
  EXPECT_EQ(FieldOf(ParseUsageQuery("", "", "", "pdf", kNow).status()), "format");
  EXPECT_EQ(FieldOf(ParseUsageQuery("2026-13-01", "", "", "", kNow).status()), "from");
  EXPECT_EQ(FieldOf(ParseUsageQuery("2026-1-01", "", "", "", kNow).status()), "from");
  EXPECT_EQ(FieldOf(ParseUsageQuery("", "2026-02-29", "", "", kNow).status()), "to");  // not a leap year
  EXPECT_EQ(FieldOf(ParseUsageQuery("", "1969-12-31", "", "", kNow).status()), "to");
  EXPECT_EQ(FieldOf(ParseUsageQuery("1969-12-31", "1970-01-02", "", "", kNow).status()), "from");
  EXPECT_EQ(FieldOf(ParseUsageQuery("2026-01-10", "2026-01-09", "", "", kNow).status()), "from");
  // 366 days at most: a leap year's whole is fine, a day more is not.
  EXPECT_TRUE(ParseUsageQuery("2024-01-01", "2024-12-31", "", "", kNow).ok());
  auto long_range = ParseUsageQuery("2024-01-01", "2025-01-01", "", "", kNow);
  EXPECT_EQ(long_range.status().code(), StatusCode::kInvalidArgument);
}

TEST(UsageCsvTest, IsRfc4180WithAHeader) {
  EXPECT_EQ(UsageCsv(UsageGroup::kDay, {}), "day,operations,charged_datoshi,charged_gas\r\n");
  EXPECT_EQ(UsageCsv(UsageGroup::kService, {{"functions", 2, 4100}, {"a,\"b\"", 1, 1}}),
            "service,operations,charged_datoshi,charged_gas\r\n"
            "functions,2,4100,0.00004100\r\n"
            "\"a,\"\"b\"\"\",1,1,0.00000001\r\n");
  EXPECT_EQ(CsvField("line\nbreak"), "\"line\nbreak\"");
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(UtcDay(kNow), "2026-01-15");
}

}  // namespace
}  // namespace neosl::gasbank
