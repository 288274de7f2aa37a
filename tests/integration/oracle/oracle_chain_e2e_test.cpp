// On-chain oracle requests through `neosl serve` and its embedded devchain: a transaction calls
// SampleConsumer.request("oracle", …); the serve's relay has the enclave fetch the data from a
// loopback server and answers with the chain result signed by the attested report key.
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "devchain/app_engine.h"
#include "devchain/chain.h"
#include "integration/chain_fixture.h"
#include "services/oracle/oracle_record.h"
#include "unit/net/test_server.h"

namespace neosl::testing {
namespace {

namespace json = boost::json;

class OracleChainE2eTest : public ChainServerTest {
 protected:
  void SetUp() override {
    StartChainServer({{"NEOSL_NET_ALLOW_PRIVATE", "127.0.0.1/32"}, {"NEOSL_ORACLE_ALLOW_HTTP", "true"}});
  }
};

TEST_F(OracleChainE2eTest, AContractsRequestIsAnsweredWithSignedFilteredData) {
  net::testing::TestServer source([](const net::testing::ReceivedRequest&) {
    return net::testing::Respond(200, "OK", R"({"gas":{"usd":"4.21"}})", {{"Content-Type", "application/json"}});
  });
  const std::string payload = json::serialize(json::object{{"url", source.Url("/price")}, {"filter", "$.gas.usd"}});
  const std::string id = Request("oracle", payload);
  ASSERT_FALSE(id.empty());
  auto response = Response(id);
  ASSERT_TRUE(response) << server_->Logs();
  auto code = (*response)[0].AsInt64();
  auto result = (*response)[1].AsBytes();
  auto signature = (*response)[2].AsBytes();
  ASSERT_TRUE(code.ok() && result.ok() && signature.ok());
  ASSERT_EQ(*code, 0) << std::string(result->begin(), result->end());

  // Exactly the chain result this request makes, signed by the attested report key.
  auto contract = neo::UInt160::Parse(kSampleConsumer);
  auto expected = oracle::ChainResult(contract->bytes(), id, oracle::ResponseCode::kSuccess,
                                      std::span(reinterpret_cast<const uint8_t*>("[\"4.21\"]"), 8));
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(HexEncode(*result), HexEncode(*expected));
  auto report = crypto::PublicKey::FromHex(Key("report"));
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(signature->size(), 64u);
  crypto::Signature sig{};
  std::copy(signature->begin(), signature->end(), sig.begin());
  EXPECT_TRUE(report->Verify(*result, sig));

  // What a contract reads with StdLib.deserialize: [contract, requestId, code, result].
  auto item = devchain::DeserializeStackItem(*result);
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  const json::value j = devchain::StackItemToJson(*item);
  const auto& f = j.at("value").as_array();
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[1].at("value").as_string(), id);
  EXPECT_EQ(f[2].at("value").as_string(), "0");
}

TEST_F(OracleChainE2eTest, AFailedFetchIsStillAnAnswerWithItsNeoCode) {
  net::testing::TestServer source([](const net::testing::ReceivedRequest&) {
    return net::testing::Respond(404, "Not Found", "{}", {{"Content-Type", "application/json"}});
  });
  const std::string id = Request("oracle", json::serialize(json::object{{"url", source.Url("/nothing")}}));
  ASSERT_FALSE(id.empty());
  auto response = Response(id);
  ASSERT_TRUE(response) << server_->Logs();
  ASSERT_EQ(*(*response)[0].AsInt64(), 0);
  auto item = devchain::DeserializeStackItem(*(*response)[1].AsBytes());
  ASSERT_TRUE(item.ok());
  const json::value j = devchain::StackItemToJson(*item);
  EXPECT_EQ(j.at("value").as_array()[2].at("value").as_string(), std::to_string(int(oracle::ResponseCode::kNotFound)));

  // A scheme neosl does not fetch is an answer too, ProtocolNotSupported, as Neo gives it.
  const std::string ftp = Request("oracle", R"({"url": "ftp://example.com/price"})");
  ASSERT_FALSE(ftp.empty());
  auto unsupported = Response(ftp);
  ASSERT_TRUE(unsupported) << server_->Logs();
  ASSERT_EQ(*(*unsupported)[0].AsInt64(), 0);
  auto ftp_item = devchain::DeserializeStackItem(*(*unsupported)[1].AsBytes());
  ASSERT_TRUE(ftp_item.ok());
  EXPECT_EQ(devchain::StackItemToJson(*ftp_item).at("value").as_array()[2].at("value").as_string(),
            std::to_string(int(oracle::ResponseCode::kProtocolNotSupported)));

  // A payload that is no oracle request is answered INVALID_ARGUMENT (3) with the reason.
  const std::string bad = Request("oracle", R"({"url": 5})");
  ASSERT_FALSE(bad.empty());
  auto refused = Response(bad);
  ASSERT_TRUE(refused) << server_->Logs();
  EXPECT_EQ(*(*refused)[0].AsInt64(), 3);
}

}  // namespace
}  // namespace neosl::testing
