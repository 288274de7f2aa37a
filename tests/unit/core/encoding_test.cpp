#include "core/encoding.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace neosl {
namespace {

std::vector<uint8_t> Bytes(std::string_view s) {
  return {s.begin(), s.end()};
}

TEST(HexTest, EncodeIsLowerCase) {
  const std::vector<uint8_t> bytes = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
  EXPECT_EQ(HexEncode(bytes), "00017f80abff");
  EXPECT_EQ(HexEncode({}), "");
}

TEST(HexTest, DecodeAcceptsBothCases) {
  const std::vector<uint8_t> expected = {0xde, 0xad, 0xbe, 0xef, 0x0a};
  EXPECT_EQ(HexDecode("deadbeef0a"), expected);
  EXPECT_EQ(HexDecode("DEADBEEF0A"), expected);
  EXPECT_EQ(HexDecode("DeAdBeEf0A"), expected);
  auto empty = HexDecode("");
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
}

TEST(HexTest, DecodeRejectsOddLengthAndBadCharacters) {
  EXPECT_FALSE(HexDecode("a").has_value());
  EXPECT_FALSE(HexDecode("abc").has_value());
  EXPECT_FALSE(HexDecode("zz").has_value());
  EXPECT_FALSE(HexDecode("0g").has_value());
  EXPECT_FALSE(HexDecode("g0").has_value());
  EXPECT_FALSE(HexDecode("0x10").has_value());
  EXPECT_FALSE(HexDecode(" 0").has_value());
  EXPECT_FALSE(HexDecode(std::string_view("0\0", 2)).has_value());
}

TEST(HexTest, RoundTripsEveryByte) {
  std::vector<uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(HexDecode(HexEncode(all)), all);
}

// RFC 4648 §10 test vectors, lower-cased and without padding.
TEST(Base32Test, Rfc4648Vectors) {
  EXPECT_EQ(Base32Encode(Bytes("")), "");
  EXPECT_EQ(Base32Encode(Bytes("f")), "my");
  EXPECT_EQ(Base32Encode(Bytes("fo")), "mzxq");
  EXPECT_EQ(Base32Encode(Bytes("foo")), "mzxw6");
  EXPECT_EQ(Base32Encode(Bytes("foob")), "mzxw6yq");
  EXPECT_EQ(Base32Encode(Bytes("fooba")), "mzxw6ytb");
  EXPECT_EQ(Base32Encode(Bytes("foobar")), "mzxw6ytboi");
}

TEST(Base32Test, UsesTheWholeAlphabet) {
  const std::vector<uint8_t> ones(5, 0xff);
  EXPECT_EQ(Base32Encode(ones), "77777777");
  const std::vector<uint8_t> zeros(5, 0x00);
  EXPECT_EQ(Base32Encode(zeros), "aaaaaaaa");
  // Long inputs: the bit buffer must not overflow.
  const std::vector<uint8_t> many(1000, 0xff);
  EXPECT_EQ(Base32Encode(many), std::string(1600, '7'));
}

TEST(ConstantTimeEqualsTest, ComparesContentAndLength) {
  const auto a = Bytes("0123456789abcdef");
  auto b = a;
  EXPECT_TRUE(ConstantTimeEquals(a, b));
  b[7] ^= 0x01;
  EXPECT_FALSE(ConstantTimeEquals(a, b));
  b = a;
  b.back() ^= 0x80;
  EXPECT_FALSE(ConstantTimeEquals(a, b));
  const auto shorter = Bytes("0123456789abcde");
  EXPECT_FALSE(ConstantTimeEquals(a, shorter));
  EXPECT_FALSE(ConstantTimeEquals(shorter, a));
  EXPECT_TRUE(ConstantTimeEquals({}, {}));
}

TEST(JsonEscapeTest, EscapesQuotesBackslashesAndControls) {
  auto escaped = [](std::string_view s) {
    std::string out = "prefix:";
    AppendJsonEscaped(out, s);
    return out;
  };
  EXPECT_EQ(escaped("plain"), "prefix:plain");
  EXPECT_EQ(escaped("say \"hi\""), "prefix:say \\\"hi\\\"");
  EXPECT_EQ(escaped("a\\b"), "prefix:a\\\\b");
  EXPECT_EQ(escaped("a\nb"), "prefix:a\\nb");
  EXPECT_EQ(escaped("\r\t"), "prefix:\\r\\t");
  EXPECT_EQ(escaped("\x01"), "prefix:\\u0001");
  EXPECT_EQ(escaped("\x1f"), "prefix:\\u001f");
  EXPECT_EQ(escaped("\x7f"), "prefix:\\u007f");
  EXPECT_EQ(escaped(std::string_view("\0", 1)), "prefix:\\u0000");
  // UTF-8 passes through untouched.
  EXPECT_EQ(escaped("caf\xc3\xa9"), "prefix:caf\xc3\xa9");
}

TEST(Rfc3339Test, FormatsMillis) {
  EXPECT_EQ(FormatRfc3339Millis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Millis(1700000000123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(FormatRfc3339Millis(951782400007), "2000-02-29T00:00:00.007Z");
}

TEST(Rfc3339Test, ParsesWhatItFormatsAndOffsets) {
  for (int64_t ms : {int64_t{0}, int64_t{1700000000123}, int64_t{951782400007}, int64_t{-1001}}) {
    EXPECT_EQ(ParseRfc3339Millis(FormatRfc3339Millis(ms)), ms);
  }
  EXPECT_EQ(ParseRfc3339Millis("2023-11-14T23:13:20.123456+01:00"), 1700000000123);  // micros truncated
  EXPECT_EQ(ParseRfc3339Millis("2023-11-14t22:13:20z"), 1700000000000);
  EXPECT_EQ(ParseRfc3339Millis("2023-11-14T20:13:20.5-02:00"), 1700000000500);
  for (const char* bad : {"", "2023-11-14", "2023-11-14T22:13:20", "2023-02-29T00:00:00Z", "2023-13-01T00:00:00Z",
                          "2023-11-14T22:13:20.Z", "2023-11-14T22:13:20Z ", "2023-11-14T22:13:20+1:00"}) {
    EXPECT_EQ(ParseRfc3339Millis(bad), std::nullopt) << bad;
  }
}

TEST(Rfc3339Test, NegativeMillisRoundTowardsThePast) {
  EXPECT_EQ(FormatRfc3339Millis(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatRfc3339Millis(-1000), "1969-12-31T23:59:59.000Z");
  EXPECT_EQ(FormatRfc3339Millis(-1001), "1969-12-31T23:59:58.999Z");
}

TEST(AppendJsonEscapedTest, InvalidUtf8BecomesReplacementCharacter) {
  std::string out;
  // Valid 2-, 3- and 4-byte sequences pass through; a lone continuation byte, a truncated
  // sequence, an overlong '/' and a UTF-16 surrogate each become U+FFFD.
  AppendJsonEscaped(out, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\x80|\xe2\x82|\xc0\xaf|\xed\xa0\x80");
  EXPECT_EQ(out, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd");
}

}  // namespace
}  // namespace neosl
