#include <gtest/gtest.h>

#include "core/encoding.h"
#include "neo/io.h"
#include "neo/uint.h"

namespace neosl::neo {
namespace {

TEST(UIntTest, DisplayFormIsByteReversed) {
  // The GAS contract hash: displayed 0xd2a4…ecf, stored cf 76 e2 … d2 on the wire.
  auto gas = UInt160::Parse("0xd2a4cff31913016155e38e474a2c06d08be276cf");
  ASSERT_TRUE(gas.ok());
  EXPECT_EQ(gas->ToHexLE(), "cf76e28bd0062c4a478ee35561011319f3cfa4d2");
  EXPECT_EQ(gas->ToString(), "0xd2a4cff31913016155e38e474a2c06d08be276cf");
  auto no_prefix = UInt160::Parse("d2a4cff31913016155e38e474a2c06d08be276cf");
  ASSERT_TRUE(no_prefix.ok());
  EXPECT_EQ(*no_prefix, *gas);
  EXPECT_FALSE(UInt160::Parse("0x1234").ok());
  EXPECT_FALSE(UInt160::Parse("0xzza4cff31913016155e38e474a2c06d08be276cf").ok());
  EXPECT_FALSE(UInt256::Parse(gas->ToString()).ok());
  EXPECT_TRUE(UInt256().IsZero());
}

TEST(BinaryIoTest, VarIntRoundTripsAtEveryBoundary) {
  for (uint64_t v : {0ULL, 0xFCULL, 0xFDULL, 0xFFFFULL, 0x10000ULL, 0xFFFFFFFFULL, 0x100000000ULL, ~0ULL}) {
    BinaryWriter w;
    w.VarInt(v);
    BinaryReader r(w.data());
    auto back = r.VarInt("v");
    ASSERT_TRUE(back.ok()) << v;
    EXPECT_EQ(*back, v);
    EXPECT_TRUE(r.ExpectEnd("v").ok());
  }
}

TEST(BinaryIoTest, RejectsNonCanonicalVarInts) {
  // 0 and 0xFC in three bytes, 0xFFFF in five, 0xFFFFFFFF in nine.
  for (const char* hex : {"fd0000", "fdfc00", "feffff0000", "ffffffffff00000000"}) {
    auto bytes = HexDecode(hex);
    ASSERT_TRUE(bytes.has_value()) << hex;
    BinaryReader r(*bytes);
    auto v = r.VarInt("count");
    EXPECT_FALSE(v.ok()) << hex;
    EXPECT_NE(std::string(v.status().message()).find("non-canonical"), std::string::npos) << hex;
  }
}

TEST(BinaryIoTest, EnforcesMaximaEndAndUtf8) {
  BinaryWriter w;
  w.VarBytes(std::vector<uint8_t>(10, 7));
  BinaryReader r(w.data());
  EXPECT_FALSE(r.VarBytes("script", 9).ok());
  std::vector<uint8_t> short_bytes = {0x05, 1, 2}, bool_bytes = {2}, utf8_bytes = {2, 0xC0, 0xAF};
  BinaryReader short_read(short_bytes);
  EXPECT_NE(std::string(short_read.VarBytes("script", 100).status().message()).find("unexpected end"),
            std::string::npos);
  std::vector<uint8_t> two = {1, 2};
  BinaryReader trailing(two);
  ASSERT_TRUE(trailing.U8("x").ok());
  EXPECT_FALSE(trailing.ExpectEnd("x").ok());
  BinaryReader bad_bool(bool_bytes);
  EXPECT_FALSE(bad_bool.Bool("flag").ok());
  BinaryReader bad_utf8(utf8_bytes);
  EXPECT_FALSE(bad_utf8.VarString("name", 100).ok());
}

TEST(BinaryIoTest, IntegersAreLittleEndian) {
  BinaryWriter w;
  w.U16(0x0102);
  w.U32(0x03040506);
  w.I64(-2);
  EXPECT_EQ(HexEncode(w.data()),
            "0201"
            "06050403"
            "feffffffffffffff");
  BinaryReader r(w.data());
  EXPECT_EQ(*r.U16("a"), 0x0102);
  EXPECT_EQ(*r.U32("b"), 0x03040506u);
  EXPECT_EQ(*r.I64("c"), -2);
}

}  // namespace
}  // namespace neosl::neo
