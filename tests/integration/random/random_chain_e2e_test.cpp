// On-chain randomness through `neosl serve` and its embedded devchain: a transaction calls
// SampleConsumer.request("random", …); the serve's relay answers with words signed by the
// attested report key and proved by the attested VRF key.
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/ecvrf.h"
#include "devchain/app_engine.h"
#include "devchain/chain.h"
#include "integration/chain_fixture.h"
#include "services/random/random_core.h"

namespace neosl::testing {
namespace {

namespace json = boost::json;

class RandomChainE2eTest : public ChainServerTest {
 protected:
  void SetUp() override { StartChainServer(); }
};

TEST_F(RandomChainE2eTest, AContractsRequestIsAnsweredWithAttestedSignedProvedWords) {
  const std::string id = Request("random", R"({"num_words": 2, "seed": "5eed"})");
  ASSERT_FALSE(id.empty());
  auto response = Response(id);
  ASSERT_TRUE(response) << server_->Logs();
  auto code = (*response)[0].AsInt64();
  auto result_or = (*response)[1].AsBytes();
  auto signature_or = (*response)[2].AsBytes();
  ASSERT_TRUE(code.ok() && result_or.ok() && signature_or.ok());
  ASSERT_EQ(*code, 0) << std::string(result_or->begin(), result_or->end());
  const std::vector<uint8_t>& result = *result_or;
  const std::vector<uint8_t>& signature = *signature_or;

  // The report key of the attested evidence signed exactly these bytes.
  auto report = crypto::PublicKey::FromHex(Key("report"));
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(signature.size(), 64u);
  crypto::Signature sig{};
  std::copy(signature.begin(), signature.end(), sig.begin());
  EXPECT_TRUE(report->Verify(result, sig));

  // The words are proved by the attested VRF key over this request's alpha.
  auto item = devchain::DeserializeStackItem(result);
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  const json::value j = devchain::StackItemToJson(*item);
  const auto& f = j.at("value").as_array();
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f[0].at("value").as_string(), id);
  auto bytes = [](const json::value& v) {
    return Base64Decode(std::string(v.at("value").as_string())).value_or(std::vector<uint8_t>{});
  };
  const auto alpha = bytes(f[4]);
  EXPECT_EQ(alpha, services::random::Alpha(std::string("neo:") + kSampleConsumer, id, *HexDecode("5eed")));
  auto beta = crypto::ecvrf::Verify(*HexDecode(Key("vrf")), bytes(f[3]), alpha);
  ASSERT_TRUE(beta.ok()) << beta.status().ToString();
  EXPECT_EQ(std::vector<uint8_t>(beta->begin(), beta->end()), bytes(f[2]));
  EXPECT_EQ(f[1].at("value").as_array().size(), 2u);
}

}  // namespace
}  // namespace neosl::testing
