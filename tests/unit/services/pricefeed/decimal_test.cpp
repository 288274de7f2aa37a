#include "services/pricefeed/decimal.h"

#include <cstdint>
#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace neosl::pricefeed {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

int64_t Parse(std::string_view text, int decimals) {
  auto v = ParseDecimal(text, decimals);
  EXPECT_TRUE(v.ok()) << text << " at " << decimals << ": " << v.status().ToString();
  return v.ok() ? *v : -1;
}

StatusCode ParseCode(std::string_view text, int decimals) {
  return ParseDecimal(text, decimals).status().code();
}

TEST(ParseDecimal, IntegersAndFractionsScaleExactly) {
  EXPECT_EQ(Parse("123", 0), 123);
  EXPECT_EQ(Parse("123", 2), 12300);
  EXPECT_EQ(Parse("0", 8), 0);
  EXPECT_EQ(Parse("0.000", 2), 0);
  EXPECT_EQ(Parse("11.23000000", 8), 1123000000);
  EXPECT_EQ(Parse("0.000123", 6), 123);
  EXPECT_EQ(Parse("0.000123", 18), 123000000000000);
  EXPECT_EQ(Parse("412345.67000000", 8), 41234567000000);
  EXPECT_EQ(Parse("007.5", 1), 75);  // leading zeros carry no value
}

TEST(ParseDecimal, RoundsHalfToEvenPastTheScale) {
  EXPECT_EQ(Parse("0.000123", 4), 1);  // 1.23 units
  EXPECT_EQ(Parse("0.000123", 3), 0);  // 0.123 units
  EXPECT_EQ(Parse("0.125", 2), 12);    // tie, 12 is even
  EXPECT_EQ(Parse("0.135", 2), 14);    // tie, 13 is odd
  EXPECT_EQ(Parse("0.1251", 2), 13);   // past the tie
  EXPECT_EQ(Parse("0.1249999", 2), 12);
  EXPECT_EQ(Parse("0.5", 0), 0);
  EXPECT_EQ(Parse("1.5", 0), 2);
  EXPECT_EQ(Parse("2.5", 0), 2);
  EXPECT_EQ(Parse("3.5", 0), 4);
  EXPECT_EQ(Parse("0.05", 1), 0);
  EXPECT_EQ(Parse("0.15", 1), 2);
  EXPECT_EQ(Parse("0.0500000001", 1), 1);
  EXPECT_EQ(Parse("0.049999", 1), 0);
  EXPECT_EQ(Parse("0.0009", 2), 0);  // below a tenth of a unit
  EXPECT_EQ(Parse("0.99999", 2), 100);
}

TEST(ParseDecimal, ReadsExponents) {
  EXPECT_EQ(Parse("1.5e-7", 8), 15);
  EXPECT_EQ(Parse("1e-07", 8), 10);
  EXPECT_EQ(Parse("1.2E+3", 0), 1200);
  EXPECT_EQ(Parse("1e5", 2), 10000000);
  EXPECT_EQ(Parse("1.25e1", 0), 12);  // 12.5, tie to even
  EXPECT_EQ(Parse("1.35e1", 0), 14);
  EXPECT_EQ(Parse("0e0", 0), 0);
  EXPECT_EQ(Parse("0.00000000000000000000000000001e30", 0), 10);
  EXPECT_EQ(Parse("1e-400", 18), 0);
  EXPECT_EQ(Parse("5e-19", 18), 0);  // exactly half a unit, 0 is even
  EXPECT_EQ(Parse("1.5e-18", 18), 2);
}

TEST(ParseDecimal, OverflowIsOutOfRange) {
  EXPECT_EQ(Parse("9223372036854775807", 0), kMax);
  EXPECT_EQ(Parse("92233720368.54775807", 8), kMax);
  EXPECT_EQ(Parse("9.2e18", 0), 9200000000000000000);
  EXPECT_EQ(Parse("92233720368.547758065", 8), kMax - 1);                     // tie rounds to the even ...06
  EXPECT_EQ(ParseCode("92233720368.547758075", 8), StatusCode::kOutOfRange);  // tie rounds up to ...08
  EXPECT_EQ(ParseCode("9223372036854775808", 0), StatusCode::kOutOfRange);
  EXPECT_EQ(ParseCode("99999999999999999999", 0), StatusCode::kOutOfRange);
  EXPECT_EQ(ParseCode("9.3e18", 0), StatusCode::kOutOfRange);
  EXPECT_EQ(ParseCode("37000", 18), StatusCode::kOutOfRange);
  EXPECT_EQ(ParseCode("1e400", 0), StatusCode::kOutOfRange);
  EXPECT_EQ(ParseCode("1e99999999999999999999", 0), StatusCode::kOutOfRange);
  EXPECT_EQ(ParseCode("1" + std::string(63, '0'), 0), StatusCode::kOutOfRange);
}

TEST(ParseDecimal, RefusesTextThatIsNotSuchANumber) {
  for (std::string_view junk : {"",     " 1",  "1 ",       "+1",  "-1",    "-0",    "1.",          ".5",
                                "0x10", "1e",  "1e+",      "1E-", "e5",    "1.2.3", "1,5",         "1_000",
                                "NaN",  "nan", "Infinity", "inf", "1e5.5", "12abc", "\xEF\xBC\x91" /* fullwidth 1 */}) {
    EXPECT_EQ(ParseCode(junk, 2), StatusCode::kInvalidArgument) << "'" << junk << "'";
  }
  EXPECT_EQ(ParseCode(std::string_view("1\0", 2), 2), StatusCode::kInvalidArgument);  // an embedded NUL
}

TEST(ParseDecimal, RefusesMoreThan64Digits) {
  EXPECT_EQ(Parse("0." + std::string(62, '0') + "1", 2), 0);  // 64 digits
  EXPECT_EQ(ParseCode("0." + std::string(63, '0') + "1", 2), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCode(std::string(65, '0'), 0), StatusCode::kInvalidArgument);
}

TEST(ParseDecimal, RefusesDecimalsOutsideZeroTo18) {
  EXPECT_EQ(ParseCode("1", -1), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCode("1", 19), StatusCode::kInvalidArgument);
  EXPECT_EQ(Parse("1", 18), 1000000000000000000);
}

TEST(FormatDecimal, PlacesThePointAndKeepsTrailingZeros) {
  EXPECT_EQ(FormatDecimal(12345, 2), "123.45");
  EXPECT_EQ(FormatDecimal(5, 3), "0.005");
  EXPECT_EQ(FormatDecimal(150, 2), "1.50");
  EXPECT_EQ(FormatDecimal(0, 2), "0.00");
  EXPECT_EQ(FormatDecimal(7, 0), "7");
  EXPECT_EQ(FormatDecimal(-12345, 2), "-123.45");
  EXPECT_EQ(FormatDecimal(-5, 3), "-0.005");
  EXPECT_EQ(FormatDecimal(kMax, 18), "9.223372036854775807");
  EXPECT_EQ(FormatDecimal(kMin, 0), "-9223372036854775808");
  EXPECT_EQ(FormatDecimal(kMin, 18), "-9.223372036854775808");
}

TEST(FormatDecimal, ParsesBackToTheSameValue) {
  for (int decimals : {0, 1, 2, 8, 18}) {
    for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{9}, int64_t{10}, int64_t{1123000000}, kMax}) {
      EXPECT_EQ(Parse(FormatDecimal(v, decimals), decimals), v) << v << " at " << decimals;
    }
  }
}

TEST(ShortestDecimal, GivesTheShortestTextThatReadsBack) {
  EXPECT_EQ(ShortestDecimal(11.23), "11.23");
  EXPECT_EQ(ShortestDecimal(1e-7), "1e-07");
  EXPECT_EQ(ShortestDecimal(123456.7), "123456.7");
  EXPECT_EQ(ShortestDecimal(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(ShortestDecimal(1e21), "1e+21");
  EXPECT_EQ(ShortestDecimal(0.0), "0");
  EXPECT_EQ(ShortestDecimal(1700000000.0), "1.7e+09");  // shorter than the fixed form
  // What it writes, ParseDecimal reads exactly.
  EXPECT_EQ(Parse(ShortestDecimal(11.23), 8), 1123000000);
  EXPECT_EQ(Parse(ShortestDecimal(1e-7), 8), 10);
  EXPECT_EQ(Parse(ShortestDecimal(1700000000.0), 0), 1700000000);
  EXPECT_EQ(ParseCode(ShortestDecimal(1e21), 0), StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace neosl::pricefeed
