// Transaction attributes: each type in binary and JSON, and the rules Neo's decoders apply.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "neo/tx_attribute.h"

namespace neosl::neo {
namespace {

std::vector<uint8_t> Encode(const TransactionAttribute& a) {
  BinaryWriter w;
  a.Encode(w);
  return w.Take();
}

StatusOr<TransactionAttribute> DecodeHex(std::string_view hex) {
  auto bytes = HexDecode(hex);
  if (!bytes) return InvalidArgumentError("bad hex in test");
  BinaryReader r(*bytes);
  ASSIGN_OR_RETURN(auto a, TransactionAttribute::Decode(r));
  RETURN_IF_ERROR(r.ExpectEnd("attribute"));
  return a;
}

TEST(PrimitivesAttributeTest, EveryTypeRoundTripsInBinaryAndJson) {
  const UInt256 conflict = *UInt256::Parse("0x0ab073429086d9e48fc87386122917989705d1c81fe4a60bf90e2fc228de3146");
  struct Case {
    TransactionAttribute attribute;
    TransactionAttributeType type;
    std::string hex;
    std::string json;
  };
  const std::vector<Case> cases = {
      {HighPriorityAttribute{}, TransactionAttributeType::HighPriority, "01", R"({"type":"HighPriority"})"},
      {OracleResponseAttribute{1, OracleResponseCode::Success, {'a', 'b', 'c'}},
       TransactionAttributeType::OracleResponse, "1101000000000000000003616263",
       R"({"type":"OracleResponse","id":1,"code":"Success","result":"YWJj"})"},
      {OracleResponseAttribute{0xFFFFFFFFFFFFFFFFULL, OracleResponseCode::Timeout, {}},
       TransactionAttributeType::OracleResponse, "11ffffffffffffffff1600",
       R"({"type":"OracleResponse","id":18446744073709551615,"code":"Timeout","result":""})"},
      {NotValidBeforeAttribute{0x01020304}, TransactionAttributeType::NotValidBefore, "2004030201",
       R"({"type":"NotValidBefore","height":16909060})"},
      {ConflictsAttribute{conflict}, TransactionAttributeType::Conflicts,
       "214631de28c22f0ef90ba6e41fc8d10597981729128673c88fe4d986904273b00a",
       R"({"type":"Conflicts","hash":"0x0ab073429086d9e48fc87386122917989705d1c81fe4a60bf90e2fc228de3146"})"},
      {NotaryAssistedAttribute{3}, TransactionAttributeType::NotaryAssisted, "2203",
       R"({"type":"NotaryAssisted","nkeys":3})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.hex);
    EXPECT_EQ(c.attribute.type(), c.type);
    EXPECT_EQ(c.attribute.AllowMultiple(), c.type == TransactionAttributeType::Conflicts);
    EXPECT_EQ(HexEncode(Encode(c.attribute)), c.hex);
    EXPECT_EQ(c.attribute.size(), c.hex.size() / 2);
    auto back = DecodeHex(c.hex);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, c.attribute);
    EXPECT_EQ(boost::json::serialize(c.attribute.ToJson()), c.json);
    auto from_json = TransactionAttribute::FromJson(boost::json::parse(c.json));
    ASSERT_TRUE(from_json.ok()) << from_json.status().ToString();
    EXPECT_EQ(*from_json, c.attribute);
  }
}

TEST(PrimitivesAttributeTest, RejectsWhatNeoRejects) {
  EXPECT_FALSE(DecodeHex("02").ok()) << "unknown type";
  EXPECT_FALSE(DecodeHex("ff").ok()) << "unknown type";
  EXPECT_FALSE(DecodeHex("1101000000000000000200").ok()) << "undefined oracle code 2";
  auto failed_with_data = DecodeHex("1101000000000000001401aa");
  ASSERT_FALSE(failed_with_data.ok());
  EXPECT_NE(std::string(failed_with_data.status().message()).find("OracleResponse result"), std::string::npos);
  EXPECT_FALSE(DecodeHex("20040302").ok()) << "short height";
  EXPECT_FALSE(DecodeHex("2203ff").ok()) << "trailing byte";
  // Result at the limit, then one byte over: the var-int itself says 65536.
  OracleResponseAttribute max{7, OracleResponseCode::Success, std::vector<uint8_t>(0xFFFF, 1)};
  TransactionAttribute at_limit(max);
  auto back = DecodeHex(HexEncode(Encode(at_limit)));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, at_limit);
  auto over = DecodeHex(
      "110700000000000000"
      "00"
      "fe00000100");
  ASSERT_FALSE(over.ok());
  EXPECT_NE(std::string(over.status().message()).find("OracleResponse result"), std::string::npos);
  max.result.push_back(1);
  EXPECT_FALSE(TransactionAttribute(max).Validate().ok());

  using boost::json::parse;
  EXPECT_FALSE(TransactionAttribute::FromJson(parse(R"({"type":"Reserved"})")).ok());
  EXPECT_FALSE(TransactionAttribute::FromJson(parse(R"({"type":"NotValidBefore","height":4294967296})")).ok());
  EXPECT_FALSE(TransactionAttribute::FromJson(parse(R"({"type":"NotValidBefore","height":-1})")).ok());
  EXPECT_FALSE(TransactionAttribute::FromJson(parse(R"({"type":"NotaryAssisted","nkeys":256})")).ok());
  EXPECT_FALSE(TransactionAttribute::FromJson(parse(R"({"type":"NotaryAssisted","nkeys":"1"})")).ok());
  EXPECT_FALSE(
      TransactionAttribute::FromJson(parse(R"({"type":"OracleResponse","id":1,"code":"Teapot","result":""})")).ok());
  EXPECT_FALSE(
      TransactionAttribute::FromJson(parse(R"({"type":"OracleResponse","id":1,"code":"Error","result":"YQ=="})")).ok());
  EXPECT_FALSE(
      TransactionAttribute::FromJson(parse(R"({"type":"OracleResponse","id":1,"code":"Success","result":"YQ="})")).ok())
      << "bad base64 padding";
  EXPECT_FALSE(TransactionAttribute::FromJson(parse(R"({"type":"Conflicts","hash":"0x1234"})")).ok());
  // A number written as an exact double (how .NET prints large ulongs) is accepted.
  auto d = TransactionAttribute::FromJson(parse(R"({"type":"NotValidBefore","height":1.6e3})"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(std::get<NotValidBeforeAttribute>(d->value).height, 1600u);
  EXPECT_FALSE(TransactionAttribute::FromJson(parse(R"({"type":"NotValidBefore","height":1.5})")).ok());
}

}  // namespace
}  // namespace neosl::neo
