// Transaction JSON: getrawtransaction (verbose) as nodes return it, Neo's UT_Transaction.ToJson,
// neon-core's toJson, and round trips of every signer scope and attribute type.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "neo/account.h"
#include "neo/payload_json.h"

namespace neosl::neo {
namespace {

// neo-go pkg/rpcclient/rpc_test.go: txMoveNeoVerbose and base64TxMoveNeo.
constexpr char kMoveNeoVerbose[] =
    R"json({"blockhash":"0x88c1cbf68695f73fb7b7d185c0037ffebdf032327488ebe65e0533d269e7de9b","confirmations":15,"blocktime":1626251469001,"vmstate":"HALT","hash":"0xf01080c50f3198f5a539c4a06d024f1b8bdc2a360a215fa7e2488f79a56d501a","size":488,"version":0,"nonce":2,"sender":"NVTiAjNgagDkTr5HTzDmQP9kPwPHN5BgVq","sysfee":"11000000","netfee":"4421900","validuntilblock":1200,"attributes":[],"signers":[{"account":"0x3f223f6da778e805d1b9b479906c0e8c1ee8b968","scopes":"CalledByEntry"}],"script":"CwIY3fUFDBTunqIsJ+NL0BSPxBCOCPdOj1BIsgwUaLnoHowObJB5tLnRBeh4p20/Ij8UwB8MCHRyYW5zZmVyDBT1Y+pAvCg9TQ4FxI6jBbPyoHNA70FifVtSOQ==","witnesses":[{"invocation":"DEC8InWg8rQHWjklRojobu7kn4r0xZY2xWYs15ggVX4PQyEHpNTU6vZHT2TXRdPXAOKHhgWAttO0oTvo+9VZAjIVDEBF0qvBMlvmYJIYLqSoCjhBykcSN78UXrBjO5BKL8BpHtejWCld1VT6Z7nYrEBLgySD6HeMcp/fa6vqHzU220e/DECXtm5AA1jy9GFA7t8U6a+1uPrQFk4Ufp0UyXsun0PvN0NdhrHc37xm8k9Z0dB85V/7WLtkMaLLyjVNVIKImC76","verification":"EwwhAhA6f33QFlWFl/eWDSfFFqQ5T9loueZRVetLAT5AQEBuDCECp7xV/oaE4BGXaNEEujB5W9zIZhnoZK3SYVZyPtGFzWIMIQKzYiv0AXvf4xfFiu1fTHU/IGt9uJYEb6fXdLvEv3+NwgwhA9kMB99j5pDOd5EuEKtRrMlEtmhgI3tgjE+PgwnnHuaZFEGe0Nw6"}]})json";
constexpr char kMoveNeoBase64[] =
    "AAIAAADA2KcAAAAAAAx5QwAAAAAAsAQAAAFouegejA5skHm0udEF6HinbT8iPwEAWwsCGN31BQwU7p6iLCfjS9AUj8QQjgj3To9QSLIMFGi56B"
    "6MDmyQebS50QXoeKdtPyI/FMAfDAh0cmFuc2ZlcgwU9WPqQLwoPU0OBcSOowWz8qBzQO9BYn1bUjkBxgxAvCJ1oPK0B1o5JUaI6G7u5J+K9MWW"
    "NsVmLNeYIFV+D0MhB6TU1Or2R09k10XT1wDih4YFgLbTtKE76PvVWQIyFQxARdKrwTJb5mCSGC6kqAo4QcpHEje/FF6wYzuQSi/AaR7Xo1gpXd"
    "VU+me52KxAS4Mkg+h3jHKf32ur6h81NttHvwxAl7ZuQANY8vRhQO7fFOmvtbj60BZOFH6dFMl7Lp9D7zdDXYax3N+8ZvJPWdHQfOVf+1i7ZDGi"
    "y8o1TVSCiJgu+pMTDCECEDp/fdAWVYWX95YNJ8UWpDlP2Wi55lFV60sBPkBAQG4MIQKnvFX+hoTgEZdo0QS6MHlb3MhmGehkrdJhVnI+0YXNYg"
    "whArNiK/QBe9/jF8WK7V9MdT8ga324lgRvp9d0u8S/f43CDCED2QwH32PmkM53kS4Qq1GsyUS2aGAje2CMT4+DCece5pkUQZ7Q3Do=";

// @cityofzion/neon-core 5.10.1 Transaction.toJson() of a signed transaction whose signer has
// CalledByEntry | CustomContracts | WitnessRules, and the bytes it serialises to.
constexpr char kNeonJson[] =
    R"json({"size":296,"version":0,"nonce":42,"sender":"","sysfee":"1","netfee":"2","validuntilblock":100,"attributes":[],"signers":[{"account":"0x5ad22a0a24ef7e55d6f99971f5af4d38317f884f","scopes":"CalledByEntry,CustomContracts,WitnessRules","allowedcontracts":["0xd2a4cff31913016155e38e474a2c06d08be276cf"],"rules":[{"action":"Allow","condition":{"type":"And","expressions":[{"type":"CalledByEntry"},{"type":"Not","expression":{"type":"ScriptHash","hash":"ef4073a0f2b305a38ec4050e4d3d28bc40ea63f5"}}]}}]}],"script":"CwIA4fUFDBQAAAAAAAAAAAAAAAAAAAAAAAAAAAwUT4h/MThNr/VxmfnWVX7vJAoq0loUwB8MCHRyYW5zZmVyDBTPduKL0AYsSkeO41VhARMZ88+k0kFifVtS","witnesses":[{"invocation":"DECxrzgy1ZkXHldz3hKUMX/lA0lA1m3+qJTR47j2u+ee+H8JRA0UmlZX6ThxT2pGHtmJ5x4QI+8W4AICRq9N+glT","verification":"DCEDF1lac5z+kOqQtjkoFLzevNTJIMsUnQrC2IZ28bCJT7pBVuezJw=="}]})json";
constexpr char kNeonHex[] =
    "002a0000000100000000000000020000000000000064000000014f887f31384daff57199f9d6557eef240a2ad25a5101cf76e28bd0062c"
    "4a478ee35561011319f3cfa4d201010202200118f563ea40bc283d4d0e05c48ea305b3f2a07340ef005a0b0200e1f5050c140000000000"
    "0000000000000000000000000000000c144f887f31384daff57199f9d6557eef240a2ad25a14c01f0c087472616e736665720c14cf76e2"
    "8bd0062c4a478ee35561011319f3cfa4d241627d5b5201420c40b1af3832d599171e5773de1294317fe5034940d66dfea894d1e3b8f6bb"
    "e79ef87f09440d149a5657e938714f6a461ed989e71e1023ef16e0020246af4dfa0953280c210317595a739cfe90ea90b6392814bcdebc"
    "d4c920cb149d0ac2d88676f1b0894fba4156e7b327";
constexpr char kNeonHash[] = "0x0b671516c0a0a0d27ca1d35f9cfea0398b6c25ea71eaca6e175b22365a0d2b6e";

boost::json::object Parse(std::string_view text) {
  return boost::json::parse(text).as_object();
}

std::string Error(const boost::json::value& v) {
  auto tx = TransactionFromJson(v);
  return tx.ok() ? std::string("parsed") : std::string(tx.status().message());
}

TEST(PrimitivesJsonTest, GetRawTransactionFromANode) {
  auto tx = TransactionFromJson(boost::json::parse(kMoveNeoVerbose));
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();
  EXPECT_EQ(tx->hash().ToString(), "0xf01080c50f3198f5a539c4a06d024f1b8bdc2a360a215fa7e2488f79a56d501a");
  EXPECT_EQ(tx->Encode(), *rpcjson::Base64Decode(kMoveNeoBase64, "fixture"));
  EXPECT_EQ(tx->system_fee(), 11000000);
  EXPECT_EQ(tx->network_fee(), 4421900);
  // Our output is the node's without the block context.
  auto expected = Parse(kMoveNeoVerbose);
  for (const char* key : {"blockhash", "confirmations", "blocktime", "vmstate"}) expected.erase(key);
  EXPECT_EQ(TransactionToJson(*tx).as_object(), expected);
}

TEST(PrimitivesJsonTest, NeoToJsonVector) {
  std::vector<uint8_t> script(32, 0x20);
  script[0] = 0x42;
  auto tx = TransactionBuilder()
                .SetSystemFee(4200000000)
                .AddSigner({UInt160(), WitnessScope::None})
                .SetScript(script)
                .AddWitness({})
                .Build();
  ASSERT_TRUE(tx.ok());
  EXPECT_EQ(
      boost::json::serialize(TransactionToJson(*tx)),
      R"({"hash":"0x0ab073429086d9e48fc87386122917989705d1c81fe4a60bf90e2fc228de3146","size":84,"version":0,)"
      R"("nonce":0,"sender":"NKuyBkoGdZZSLyPbJEetheRhMjeznFZszf","sysfee":"4200000000","netfee":"0",)"
      R"("validuntilblock":0,"signers":[{"account":"0x0000000000000000000000000000000000000000","scopes":"None"}],)"
      R"("attributes":[],"script":"QiAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICA=",)"
      R"("witnesses":[{"invocation":"","verification":""}]})");
}

TEST(PrimitivesJsonTest, NeonCoreJson) {
  auto tx = TransactionFromJson(boost::json::parse(kNeonJson));
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();
  EXPECT_EQ(HexEncode(tx->Encode()), kNeonHex);
  EXPECT_EQ(tx->hash().ToString(), kNeonHash);
  auto back = TransactionFromJson(TransactionToJson(*tx));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, *tx);
}

TEST(PrimitivesJsonTest, EveryScopeAndAttributeRoundTrips) {
  auto group = crypto::PublicKey::FromHex("03b209fd4f53a7170ea4444e0cb0a6bb6a53c2bd016926989cf85f9b0fba17a70c");
  ASSERT_TRUE(group.ok());
  const UInt160 gas = *UInt160::Parse("0xd2a4cff31913016155e38e474a2c06d08be276cf");
  auto account = [](uint8_t b) { return *UInt160::FromBytes(std::vector<uint8_t>(20, b)); };
  using WC = WitnessCondition;
  std::vector<Signer> signers = {
      {account(1), WitnessScope::None},
      {account(2), WitnessScope::CalledByEntry},
      {account(3), WitnessScope::CustomContracts, {gas}},
      {account(4), WitnessScope::CustomGroups, {}, {*group}},
      {account(5),
       WitnessScope::WitnessRules,
       {},
       {},
       {{WitnessRuleAction::Deny, WC::Or({WC::Group(*group), WC::CalledByGroup(*group)})},
        {WitnessRuleAction::Allow, WC::And({WC::Not(WC::ScriptHash(gas)), WC::CalledByContract(gas)})}}},
      {account(6), WitnessScope::Global},
  };
  std::vector<TransactionAttribute> attributes = {
      HighPriorityAttribute{},
      OracleResponseAttribute{9, OracleResponseCode::Success, {1, 2, 3}},
      NotValidBeforeAttribute{100},
      ConflictsAttribute{*UInt256::Parse("0x0ab073429086d9e48fc87386122917989705d1c81fe4a60bf90e2fc228de3146")},
      ConflictsAttribute{},
      NotaryAssistedAttribute{2},
  };
  auto tx = TransactionBuilder()
                .SetNonce(0xFFFFFFFF)
                .SetSystemFee(INT64_MAX - 1)
                .SetNetworkFee(1)
                .SetValidUntilBlock(0xFFFFFFFF)
                .SetSigners(signers)
                .SetAttributes(attributes)
                .SetScript({0x40})
                .SetWitnesses(std::vector<Witness>(signers.size(), Witness{{0x0c}, {0x11}}))
                .Build();
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();
  auto json = TransactionToJson(*tx);
  auto back = TransactionFromJson(boost::json::parse(boost::json::serialize(json)));
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << boost::json::serialize(json);
  EXPECT_EQ(*back, *tx);
  auto decoded = Transaction::Decode(tx->Encode());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, *tx);
  EXPECT_EQ(json.as_object().at("sysfee").as_string(), "9223372036854775806");

  // Unsigned transactions (no witnesses yet) round trip in JSON too.
  auto unsigned_tx = TransactionBuilder(*tx).SetWitnesses({}).Build();
  ASSERT_TRUE(unsigned_tx.ok());
  auto unsigned_back = TransactionFromJson(TransactionToJson(*unsigned_tx));
  ASSERT_TRUE(unsigned_back.ok());
  EXPECT_EQ(*unsigned_back, *unsigned_tx);
}

TEST(PrimitivesJsonTest, RefusesWhatDoesNotDescribeTheBytes) {
  const auto base = Parse(kMoveNeoVerbose);
  auto with = [&](std::string_view key, boost::json::value v) {
    auto o = base;
    o[key] = std::move(v);
    return boost::json::value(std::move(o));
  };
  auto without = [&](std::string_view key) {
    auto o = base;
    o.erase(key);
    return boost::json::value(std::move(o));
  };
  EXPECT_NE(
      Error(with("hash", "0xf01080c50f3198f5a539c4a06d024f1b8bdc2a360a215fa7e2488f79a56d501b")).find("does not match"),
      std::string::npos);
  EXPECT_NE(Error(with("size", 487)).find("\"size\""), std::string::npos);
  EXPECT_NE(Error(with("sender", "NKuyBkoGdZZSLyPbJEetheRhMjeznFZszf")).find("not the first signer"),
            std::string::npos);
  EXPECT_NE(Error(with("nonce", 3)).find("does not match"), std::string::npos);
  EXPECT_NE(Error(with("sysfee", "0.11")).find("sysfee"), std::string::npos) << "GAS decimals are not datoshi";
  EXPECT_NE(Error(with("netfee", "-1")).find("netfee"), std::string::npos);
  EXPECT_NE(Error(with("netfee", "99999999999999999999")).find("netfee"), std::string::npos);
  EXPECT_NE(Error(with("version", 1)).find("version"), std::string::npos);
  EXPECT_NE(Error(with("nonce", 4294967296)).find("nonce"), std::string::npos);
  EXPECT_NE(Error(with("script", "")).find("script is empty"), std::string::npos);
  EXPECT_NE(Error(with("script", "not base64!")).find("script"), std::string::npos);
  EXPECT_NE(Error(with("signers", boost::json::array{})).find("at least one"), std::string::npos);
  EXPECT_NE(Error(without("validuntilblock")).find("\"validuntilblock\": missing"), std::string::npos);
  EXPECT_NE(Error(without("witnesses")).find("witnesses"), std::string::npos);
  EXPECT_NE(Error(boost::json::array{}).find("expected a JSON object"), std::string::npos);
  // Without hash, size and sender the same fields still give the same transaction.
  auto o = base;
  for (const char* key : {"hash", "size", "sender"}) o.erase(key);
  auto tx = TransactionFromJson(o);
  ASSERT_TRUE(tx.ok());
  EXPECT_EQ(tx->hash().ToString(), "0xf01080c50f3198f5a539c4a06d024f1b8bdc2a360a215fa7e2488f79a56d501a");
  // Fees given as JSON integers are accepted too.
  EXPECT_EQ(Error(with("sysfee", 11000000)), "parsed");
}

TEST(PrimitivesJsonTest, Base64AndAddresses) {
  EXPECT_EQ(Base64Encode(std::vector<uint8_t>{}), "");
  EXPECT_EQ(Base64Encode(std::vector<uint8_t>{'f'}), "Zg==");
  EXPECT_EQ(Base64Encode(std::vector<uint8_t>{'f', 'o'}), "Zm8=");
  EXPECT_EQ(Base64Encode(std::vector<uint8_t>{'f', 'o', 'o', 'b'}), "Zm9vYg==");
  for (const char* text : {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYmFy"}) {
    auto d = rpcjson::Base64Decode(text, "t");
    ASSERT_TRUE(d.ok()) << text;
    EXPECT_EQ(Base64Encode(*d), text);
  }
  for (const char* text : {"Zg", "Zg=", "Zh==", "Zm9=", "Z===", "=Zg=", "Zg==Zg==", "Zm9v\n", "Zm-v"}) {
    EXPECT_FALSE(rpcjson::Base64Decode(text, "t").ok()) << text;
  }
  EXPECT_EQ(ToAddress(UInt160()), "NKuyBkoGdZZSLyPbJEetheRhMjeznFZszf");
  auto h = rpcjson::ParseAddress("NVTiAjNgagDkTr5HTzDmQP9kPwPHN5BgVq", "a");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->ToString(), "0x3f223f6da778e805d1b9b479906c0e8c1ee8b968");
  // A Neo Legacy (version 0x17) address has a valid checksum but the wrong version.
  EXPECT_FALSE(rpcjson::ParseAddress("AXSvJVzydxXuL9da4GVwK25zdesCrVKkHL", "a").ok());
  EXPECT_FALSE(rpcjson::ParseAddress("", "a").ok());
}

}  // namespace
}  // namespace neosl::neo
