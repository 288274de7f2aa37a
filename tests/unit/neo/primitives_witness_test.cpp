// Witness, WitnessCondition, WitnessRule and Signer: binary and JSON, against the vectors in
// neo-project/neo tests/Neo.UnitTests/Network/P2P/Payloads (UT_Signers, UT_WitnessContition).
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "neo/signer.h"
#include "neo/witness.h"
#include "neo/witness_rule.h"

namespace neosl::neo {
namespace {

constexpr char kGroupHex[] = "03b209fd4f53a7170ea4444e0cb0a6bb6a53c2bd016926989cf85f9b0fba17a70c";
constexpr char kGasHash[] = "0xd2a4cff31913016155e38e474a2c06d08be276cf";

std::vector<uint8_t> Hex(std::string_view hex) {
  auto b = HexDecode(hex);
  EXPECT_TRUE(b.has_value()) << hex;
  return b.value_or(std::vector<uint8_t>{});
}

crypto::PublicKey Group() {
  auto k = crypto::PublicKey::FromHex(kGroupHex);
  EXPECT_TRUE(k.ok());
  return *k;
}

UInt160 Gas() {
  return *UInt160::Parse(kGasHash);
}

template <typename T>
StatusOr<T> DecodeAll(std::span<const uint8_t> bytes) {
  BinaryReader r(bytes);
  ASSIGN_OR_RETURN(T v, T::Decode(r));
  RETURN_IF_ERROR(r.ExpectEnd("value"));
  return v;
}

template <typename T>
std::vector<uint8_t> EncodeOne(const T& v) {
  BinaryWriter w;
  v.Encode(w);
  return w.Take();
}

template <typename T>
std::string JsonText(const T& v) {
  return boost::json::serialize(v.ToJson());
}

// Binary and JSON round trips, and that size() is the encoded length.
template <typename T>
void ExpectRoundTrips(const T& v) {
  auto bytes = EncodeOne(v);
  EXPECT_EQ(v.size(), bytes.size());
  auto back = DecodeAll<T>(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, v);
  auto from_json = T::FromJson(v.ToJson());
  ASSERT_TRUE(from_json.ok()) << from_json.status().ToString() << " " << JsonText(v);
  EXPECT_EQ(*from_json, v);
}

TEST(PrimitivesWitnessTest, RoundTripsAndHashesTheVerificationScript) {
  Witness w{Hex("0c40" + std::string(128, 'a')), Hex("0c21" + std::string(kGroupHex) + "4156e7b327")};
  ExpectRoundTrips(w);
  EXPECT_EQ(JsonText(Witness{{}, {0x11}}), R"({"invocation":"","verification":"EQ=="})");
  // neon-js' test account: its signature contract hashes to its script hash.
  Witness account{{}, Hex("0c210317595a739cfe90ea90b6392814bcdebcd4c920cb149d0ac2d88676f1b0894fba4156e7b327")};
  EXPECT_EQ(account.ScriptHash().ToString(), "0x5ad22a0a24ef7e55d6f99971f5af4d38317f884f");
}

TEST(PrimitivesWitnessTest, EnforcesScriptLimits) {
  Witness at_limit{std::vector<uint8_t>(1024, 1), std::vector<uint8_t>(1024, 2)};
  ExpectRoundTrips(at_limit);
  Witness over{std::vector<uint8_t>(1025, 1), {}};
  auto d = DecodeAll<Witness>(EncodeOne(over));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(std::string(d.status().message()).find("invocation"), std::string::npos);
  Witness over_v{{}, std::vector<uint8_t>(1025, 1)};
  d = DecodeAll<Witness>(EncodeOne(over_v));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(std::string(d.status().message()).find("verification"), std::string::npos);
  EXPECT_FALSE(Witness::FromJson(over.ToJson()).ok());
  // A var-int length written long (0xfd 0x01 0x00 for 1) is not canonical.
  EXPECT_FALSE(DecodeAll<Witness>(Hex("fd01000100")).ok());
}

TEST(PrimitivesWitnessTest, EveryConditionTypeRoundTrips) {
  const std::vector<std::pair<WitnessCondition, std::string>> cases = {
      {WitnessCondition::Boolean(true), "0001"},
      {WitnessCondition::Boolean(false), "0000"},
      {WitnessCondition::Not(WitnessCondition::CalledByEntry()), "0120"},
      {WitnessCondition::And({WitnessCondition::CalledByEntry(), WitnessCondition::Boolean(true)}), "0202200001"},
      {WitnessCondition::Or({WitnessCondition::CalledByEntry()}), "030120"},
      {WitnessCondition::ScriptHash(Gas()), "18cf76e28bd0062c4a478ee35561011319f3cfa4d2"},
      {WitnessCondition::Group(Group()), std::string("19") + kGroupHex},
      {WitnessCondition::CalledByEntry(), "20"},
      {WitnessCondition::CalledByContract(Gas()), "28cf76e28bd0062c4a478ee35561011319f3cfa4d2"},
      {WitnessCondition::CalledByGroup(Group()), std::string("29") + kGroupHex},
  };
  for (const auto& [c, hex] : cases) {
    SCOPED_TRACE(hex);
    EXPECT_TRUE(c.Validate().ok());
    EXPECT_EQ(HexEncode(EncodeOne(c)), hex);
    ExpectRoundTrips(c);
  }
  EXPECT_EQ(JsonText(WitnessCondition::Boolean(true)), R"({"type":"Boolean","expression":true})");
  EXPECT_EQ(JsonText(WitnessCondition::Not(WitnessCondition::CalledByEntry())),
            R"({"type":"Not","expression":{"type":"CalledByEntry"}})");
  EXPECT_EQ(JsonText(WitnessCondition::CalledByGroup(Group())),
            std::string(R"({"type":"CalledByGroup","group":")") + kGroupHex + "\"}");
}

TEST(PrimitivesWitnessTest, ConditionJsonMatchesNeo) {
  // UT_WitnessCondition.TestFromJson2, re-serialised byte for byte.
  const std::string text =
      R"({"type":"Or","expressions":[{"type":"And","expressions":[{"type":"CalledByContract","hash":"0x0000000000000000000000000000000000000000"},{"type":"ScriptHash","hash":"0xd2a4cff31913016155e38e474a2c06d08be276cf"}]},{"type":"Or","expressions":[{"type":"CalledByGroup","group":"03b209fd4f53a7170ea4444e0cb0a6bb6a53c2bd016926989cf85f9b0fba17a70c"},{"type":"Boolean","expression":true}]}]})";
  auto c = WitnessCondition::FromJson(boost::json::parse(text));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->type(), WitnessConditionType::Or);
  ASSERT_EQ(c->expressions().size(), 2u);
  EXPECT_EQ(c->expressions()[0].expressions()[1].hash(), Gas());
  EXPECT_EQ(JsonText(*c), text);
  ExpectRoundTrips(*c);
}

TEST(PrimitivesWitnessTest, NestingIsLimitedToThreeLevels) {
  using WC = WitnessCondition;
  WC three = WC::And({WC::Or({WC::Boolean(true)})});
  EXPECT_TRUE(three.Validate().ok());
  ExpectRoundTrips(three);
  WC four = WC::And({WC::And({WC::And({WC::Boolean(true)})})});
  EXPECT_FALSE(four.Validate().ok());
  auto d = DecodeAll<WC>(EncodeOne(four));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(std::string(d.status().message()).find("nested deeper"), std::string::npos);
  EXPECT_FALSE(WC::FromJson(four.ToJson()).ok());
  EXPECT_FALSE(DecodeAll<WC>(EncodeOne(WC::Not(WC::Not(WC::Not(WC::Boolean(true)))))).ok());
}

TEST(PrimitivesWitnessTest, RejectsMalformedConditions) {
  using WC = WitnessCondition;
  EXPECT_FALSE(DecodeAll<WC>(Hex("0002")).ok()) << "boolean must be 0 or 1";
  EXPECT_FALSE(DecodeAll<WC>(Hex("0200")).ok()) << "empty And";
  EXPECT_FALSE(DecodeAll<WC>(Hex("04")).ok()) << "unknown type";
  EXPECT_FALSE(DecodeAll<WC>(Hex("0311" + std::string(34, '0'))).ok()) << "17 operands";
  std::vector<WC> sixteen(16, WC::CalledByEntry());
  ExpectRoundTrips(WC::Or(sixteen));
  sixteen.push_back(WC::CalledByEntry());
  EXPECT_FALSE(WC::Or(sixteen).Validate().ok());
  EXPECT_FALSE(WC::FromJson(WC::Or(sixteen).ToJson()).ok());
  EXPECT_FALSE(WC::And({}).Validate().ok());
  // An uncompressed group key is valid on the curve but not Neo's canonical encoding.
  auto uncompressed = Group().Uncompressed();
  EXPECT_FALSE(DecodeAll<WC>(Hex("19" + HexEncode(uncompressed))).ok());
  EXPECT_FALSE(DecodeAll<WC>(Hex("1905" + std::string(64, '1'))).ok());
  // JSON: the group may be given uncompressed and is kept as the key.
  auto from_json = WC::FromJson(boost::json::parse(R"({"type":"Group","group":")" + HexEncode(uncompressed) + "\"}"));
  ASSERT_TRUE(from_json.ok());
  EXPECT_EQ(*from_json, WC::Group(Group()));
  EXPECT_FALSE(WC::FromJson(boost::json::parse(R"({"type":"Boolean","expression":"true"})")).ok());
  EXPECT_FALSE(WC::FromJson(boost::json::parse(R"({"type":"boolean","expression":true})")).ok());
  EXPECT_FALSE(WC::FromJson(boost::json::parse(R"({"type":"ScriptHash"})")).ok());
}

TEST(PrimitivesWitnessTest, RulesRoundTrip) {
  WitnessRule allow{WitnessRuleAction::Allow, WitnessCondition::CalledByContract(Gas())};
  WitnessRule deny{WitnessRuleAction::Deny, WitnessCondition::Boolean(true)};
  EXPECT_EQ(HexEncode(EncodeOne(deny)), "000001");
  ExpectRoundTrips(allow);
  ExpectRoundTrips(deny);
  EXPECT_EQ(JsonText(deny), R"({"action":"Deny","condition":{"type":"Boolean","expression":true}})");
  EXPECT_FALSE(DecodeAll<WitnessRule>(Hex("020001")).ok()) << "action 2";
  EXPECT_FALSE(
      WitnessRule::FromJson(boost::json::parse(R"({"action":"allow","condition":{"type":"CalledByEntry"}})")).ok());
}

TEST(PrimitivesWitnessTest, ScopeNamesFollowDotNetFlags) {
  EXPECT_EQ(WitnessScopeToString(WitnessScope::None), "None");
  EXPECT_EQ(WitnessScopeToString(WitnessScope::Global), "Global");
  EXPECT_EQ(WitnessScopeToString(WitnessScope::CalledByEntry | WitnessScope::CustomContracts),
            "CalledByEntry, CustomContracts");
  EXPECT_EQ(WitnessScopeToString(WitnessScope::WitnessRules | WitnessScope::CustomGroups | WitnessScope::CalledByEntry),
            "CalledByEntry, CustomGroups, WitnessRules");
  auto parsed = ParseWitnessScope("CalledByEntry,CustomContracts, WitnessRules");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, WitnessScope::CalledByEntry | WitnessScope::CustomContracts | WitnessScope::WitnessRules);
  EXPECT_FALSE(ParseWitnessScope("Global, CalledByEntry").ok());
  EXPECT_FALSE(ParseWitnessScope("calledbyentry").ok());
  EXPECT_FALSE(ParseWitnessScope("").ok());
  EXPECT_FALSE(ValidateWitnessScope(0x02).ok());
  EXPECT_FALSE(ValidateWitnessScope(0x81).ok());
}

TEST(PrimitivesWitnessTest, SignerVectorsFromNeo) {
  Signer global{UInt160(), WitnessScope::Global};
  EXPECT_EQ(HexEncode(EncodeOne(global)), "000000000000000000000000000000000000000080");
  EXPECT_EQ(JsonText(global), R"({"account":"0x0000000000000000000000000000000000000000","scopes":"Global"})");
  Signer entry{UInt160(), WitnessScope::CalledByEntry};
  EXPECT_EQ(HexEncode(EncodeOne(entry)), "000000000000000000000000000000000000000001");
  EXPECT_EQ(JsonText(entry), R"({"account":"0x0000000000000000000000000000000000000000","scopes":"CalledByEntry"})");
  Signer contracts{UInt160(), WitnessScope::CustomContracts, {UInt160()}};
  EXPECT_EQ(HexEncode(EncodeOne(contracts)),
            "000000000000000000000000000000000000000010010000000000000000000000000000000000000000");
  EXPECT_EQ(
      JsonText(contracts),
      R"({"account":"0x0000000000000000000000000000000000000000","scopes":"CustomContracts","allowedcontracts":["0x0000000000000000000000000000000000000000"]})");
  Signer groups{UInt160(), WitnessScope::CustomGroups, {}, {Group()}};
  EXPECT_EQ(HexEncode(EncodeOne(groups)),
            std::string("0000000000000000000000000000000000000000200103") + (kGroupHex + 2));
  EXPECT_EQ(
      JsonText(groups),
      std::string(
          R"({"account":"0x0000000000000000000000000000000000000000","scopes":"CustomGroups","allowedgroups":[")") +
          kGroupHex + "\"]}");
  for (const Signer* s : {&global, &entry, &contracts, &groups}) ExpectRoundTrips(*s);
  // UT_Signers.Serialize_Deserialize_MaxNested_And / _Or: four levels are refused.
  for (const char* hex : {"00000000000000000000000000000000000000004001010201020102010001",
                          "00000000000000000000000000000000000000004001010301030103010001"}) {
    auto d = DecodeAll<Signer>(Hex(hex));
    EXPECT_FALSE(d.ok()) << hex;
  }
}

TEST(PrimitivesWitnessTest, SignerWithEveryListRoundTrips) {
  Signer s{Gas(),
           WitnessScope::CalledByEntry | WitnessScope::CustomContracts | WitnessScope::CustomGroups |
               WitnessScope::WitnessRules,
           {Gas(), UInt160()},
           {Group()},
           {{WitnessRuleAction::Allow, WitnessCondition::Not(WitnessCondition::CalledByGroup(Group()))}}};
  EXPECT_TRUE(s.Validate().ok());
  ExpectRoundTrips(s);
  // The account may also be given as an address, as RPC request parameters do.
  auto j = s.ToJson();
  j.as_object()["account"] = "NTAW5srUqoq1nsFKJpqCj8sshnCYqLqDqL";
  auto by_address = Signer::FromJson(j);
  ASSERT_TRUE(by_address.ok()) << by_address.status().ToString();
  EXPECT_EQ(by_address->account.ToString(), "0x5ad22a0a24ef7e55d6f99971f5af4d38317f884f");
  j.as_object()["account"] = "NTAW5srUqoq1nsFKJpqCj8sshnCYqLqDqM";
  EXPECT_FALSE(Signer::FromJson(j).ok()) << "bad checksum";
}

TEST(PrimitivesWitnessTest, SignerLimitsAndScopeConsistency) {
  Signer s{UInt160(), WitnessScope::CustomContracts, std::vector<UInt160>(16)};
  ExpectRoundTrips(s);
  s.allowed_contracts.emplace_back();
  EXPECT_FALSE(s.Validate().ok());
  auto d = DecodeAll<Signer>(EncodeOne(s));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(std::string(d.status().message()).find("signer allowed contracts count"), std::string::npos);
  EXPECT_FALSE(Signer::FromJson(s.ToJson()).ok());
  Signer stray{UInt160(), WitnessScope::CalledByEntry, {Gas()}};
  EXPECT_FALSE(stray.Validate().ok()) << "contracts without the CustomContracts flag";
  EXPECT_FALSE(DecodeAll<Signer>(Hex("000000000000000000000000000000000000000081")).ok()) << "Global|CalledByEntry";
  EXPECT_FALSE(DecodeAll<Signer>(Hex("000000000000000000000000000000000000000002")).ok()) << "unknown flag";
  EXPECT_FALSE(
      Signer::FromJson(
          boost::json::parse(R"({"account":"0x0000000000000000000000000000000000000000","scopes":"CustomContracts"})"))
          .ok())
      << "allowedcontracts is required with its flag";
}

}  // namespace
}  // namespace neosl::neo
