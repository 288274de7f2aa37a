#include "services/pricefeed/price_record.h"

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace neosl::pricefeed {
namespace {

using Bytes = std::vector<uint8_t>;

// Neo BinarySerializer pieces, written out by hand: 0x28 ByteString, 0x21 Integer, 0x40 Array,
// each followed by a var-int count (one byte below 0xfd).
Bytes Text(std::string_view s) {
  Bytes out;
  out.reserve(2 + s.size());
  out.push_back(0x28);
  out.push_back(static_cast<uint8_t>(s.size()));
  for (char c : s) out.push_back(static_cast<uint8_t>(c));
  return out;
}

Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) {
    for (uint8_t b : p) out.push_back(b);
  }
  return out;
}

PriceRecord Small() {
  return PriceRecord{.pair = "A", .price = 0, .decimals = 8, .timestamp_ms = 128, .round = 1, .venues = {}};
}

TEST(PriceRecordTest, ChainRecordOfASmallRecord) {
  const Bytes want = Cat({
      {0x40, 0x06},              // Array of 6
      Text("neosl-price-v1"),    // 0x28 0x0e …
      Text("A"),                 // pair
      {0x21, 0x00},              // price 0: the empty integer
      {0x21, 0x01, 0x08},        // decimals 8
      {0x21, 0x02, 0x80, 0x00},  // timestamp 128: a 0x00 keeps it positive
      {0x21, 0x01, 0x01},        // round 1
  });
  EXPECT_EQ(ChainRecord(Small()), want);
  EXPECT_EQ(want.size(), 33u);
  EXPECT_EQ(want[2], 0x28);
  EXPECT_EQ(want[3], 0x0e);
}

TEST(PriceRecordTest, ReportRecordAddsTheVenues) {
  PriceRecord r = Small();
  r.venues = {"okx", "kraken"};
  const Bytes want = Cat({
      {0x40, 0x07},
      Text("neosl-price-report-v1"),
      Text("A"),
      {0x21, 0x00},
      {0x21, 0x01, 0x08},
      {0x21, 0x02, 0x80, 0x00},
      {0x21, 0x01, 0x01},
      {0x40, 0x02},
      Text("okx"),
      Text("kraken"),
  });
  EXPECT_EQ(ReportRecord(r), want);
  // The chain record leaves the venues out.
  EXPECT_EQ(ChainRecord(r), ChainRecord(Small()));

  r.venues.clear();
  const Bytes report = ReportRecord(r);
  ASSERT_GE(report.size(), 2u);
  EXPECT_EQ(report[report.size() - 2], 0x40);
  EXPECT_EQ(report.back(), 0x00);  // an empty Array
}

TEST(PriceRecordTest, IntegersAreMinimalLittleEndianTwosComplement) {
  struct Case {
    int64_t value;
    Bytes encoded;  // after 0x21
  };
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  const std::vector<Case> cases = {
      {0, {0x00}},
      {1, {0x01, 0x01}},
      {127, {0x01, 0x7f}},
      {128, {0x02, 0x80, 0x00}},
      {255, {0x02, 0xff, 0x00}},
      {256, {0x02, 0x00, 0x01}},
      {-1, {0x01, 0xff}},
      {-128, {0x01, 0x80}},
      {-129, {0x02, 0x7f, 0xff}},
      {1'700'000'000'000, {0x06, 0x00, 0x68, 0xe5, 0xcf, 0x8b, 0x01}},
      {kMax, {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}},
      {kMin, {0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.value);
    PriceRecord r = Small();
    r.price = c.value;
    const Bytes want = Cat({{0x40, 0x06},
                            Text("neosl-price-v1"),
                            Text("A"),
                            {0x21},
                            c.encoded,
                            {0x21, 0x01, 0x08},
                            {0x21, 0x02, 0x80, 0x00},
                            {0x21, 0x01, 0x01}});
    EXPECT_EQ(ChainRecord(r), want);
  }
}

TEST(PriceRecordTest, LongStringsTakeAThreeByteVarInt) {
  PriceRecord r = Small();
  r.pair = std::string(300, 'X');
  const Bytes chain = ChainRecord(r);
  const size_t at = 2 + 2 + 14;  // after the array header and the tag
  ASSERT_GT(chain.size(), at + 3 + 300);
  EXPECT_EQ(chain[at], 0x28);
  EXPECT_EQ(chain[at + 1], 0xfd);
  EXPECT_EQ(chain[at + 2], 0x2c);  // 300 = 0x012c
  EXPECT_EQ(chain[at + 3], 0x01);
  EXPECT_EQ(chain[at + 4], 'X');
  EXPECT_EQ(chain[at + 3 + 300], 'X');
  EXPECT_EQ(chain[at + 4 + 300], 0x21);
}

TEST(PriceRecordTest, TheTwoRecordsNeverCoincide) {
  PriceRecord r = Small();
  r.venues = {"binance"};
  EXPECT_NE(ChainRecord(r), ReportRecord(r));
  EXPECT_NE(ChainRecord(r)[1], ReportRecord(r)[1]);  // 6 fields against 7
}

}  // namespace
}  // namespace neosl::pricefeed
