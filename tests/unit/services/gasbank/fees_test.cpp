// The gas bank's fee schedule: the default parses and prices every service's operation; bad
// schedules are refused naming the place; sums never overflow silently; chain fees carry the
// markup rounded up.
#include "services/gasbank/fees.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace neosl::gasbank {
namespace {

using ::testing::HasSubstr;

TEST(FeeScheduleTest, TheDefaultPricesEveryServicesOperation) {
  auto s = FeeSchedule::FromYaml(FeeSchedule::DefaultYaml());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*s->Fee("functions.invoke", {{"ms", 120}}), 100000 + 120 * 100);
  EXPECT_EQ(*s->Fee("functions.invoke", {}), 100000);
  EXPECT_EQ(*s->Fee("random.generate", {{"word", 3}}), 50000 + 3 * 10000);
  EXPECT_EQ(*s->Fee("oracle.request", {{"source", 2}}), 200000 + 2 * 50000);
  EXPECT_EQ(*s->Fee("pricefeed.update", {}), 100000);
  EXPECT_EQ(s->markup_bps(), 0);
  EXPECT_EQ(*s->ChainFee(997'780, 123'450), 997'780 + 123'450);
}

TEST(FeeScheduleTest, UnknownOperationsAndUnitsAndNegativeCountsAreRefused) {
  auto s = FeeSchedule::FromYaml(FeeSchedule::DefaultYaml());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->Fee("functions.deploy", {}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(s->Fee("functions.invoke", {{"word", 1}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->Fee("functions.invoke", {{"ms", -1}}).status().code(), StatusCode::kInvalidArgument);
}

TEST(FeeScheduleTest, OverflowIsAnErrorNotAWrappedFee) {
  auto s = FeeSchedule::FromYaml("operations:\n  a.b:\n    base: 9223372036854775000\n    per_x: 1000\n");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*s->Fee("a.b", {{"x", 0}}), 9223372036854775000);
  EXPECT_EQ(s->Fee("a.b", {{"x", 1}}).status().code(), StatusCode::kOutOfRange);
  auto m = FeeSchedule::FromYaml("operations:\n  a.b:\n    per_x: 4611686018427387904\n");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->Fee("a.b", {{"x", 2}}).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(m->ChainFee(INT64_MAX, 1).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(m->ChainFee(-1, 0).status().code(), StatusCode::kInvalidArgument);
}

TEST(FeeScheduleTest, TheMarkupIsRoundedUp) {
  auto s = FeeSchedule::FromYaml("operations: {}\nchain:\n  markup_bps: 250\n");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*s->ChainFee(1000, 0), 1025);  // 2.5 % exactly
  EXPECT_EQ(*s->ChainFee(1001, 0), 1027);  // 25.025 → 26
  EXPECT_EQ(*s->ChainFee(0, 0), 0);
}

TEST(FeeScheduleTest, BadSchedulesAreRefusedNamingThePlace) {
  struct Case {
    const char* yaml;
    const char* says;
  };
  for (const Case& c : {Case{"operations:\n  functions.invoke:\n    base: 1.5\n", "operations.functions.invoke.base"},
                        Case{"operations:\n  functions.invoke:\n    base: -1\n", "non-negative"},
                        Case{"operations:\n  functions.invoke:\n    base: '+1'\n", "non-negative"},
                        Case{"operations:\n  functions.invoke:\n    cost: 1\n", "per_<unit>"},
                        Case{"operations:\n  invoke:\n    base: 1\n", "service.operation"},
                        Case{"operations:\n  Functions.Invoke:\n    base: 1\n", "service.operation"},
                        Case{"fees: {}\n", "unknown key"}, Case{"chain:\n  markup_bps: 100001\n", "at most"},
                        Case{"chain:\n  rebate: 1\n", "chain.rebate"}, Case{"operations: [1, 2]\n", "must be a map"},
                        Case{"operations:\n  a.b: {base: [1]}\n", "non-negative integer"},
                        Case{"operations: {a.b: {base: 1}\n", "invalid YAML"}, Case{"- 1\n", "must be a map"}}) {
    auto s = FeeSchedule::FromYaml(c.yaml);
    ASSERT_FALSE(s.ok()) << c.yaml;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << c.yaml;
    EXPECT_THAT(std::string(s.status().message()), HasSubstr(c.says)) << c.yaml;
  }
}

}  // namespace
}  // namespace neosl::gasbank
