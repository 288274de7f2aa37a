// The random service's answers to chain requests (services/random/random_chain.h), end to end on
// the devchain: SampleConsumer's request("random", …) is answered in the next block with words a
// contract can deserialize, signed by the report key, and a VRF proof over the request's alpha.
#include "services/random/random_chain.h"

#include <chrono>
#include <memory>

#include "core/encoding.h"
#include "crypto/ecvrf.h"
#include "devchain/app_engine.h"
#include "integration/chain_requests/relay_fixture.h"
#include "mesh/policy.h"
#include "mesh/server.h"
#include "services/random/random_core.h"

namespace neosl::chain_requests::testing {
namespace {

class RandomChainTest : public ChainRequestRelayTest {
 protected:
  void StartRandom() {
    StartAll();
    ASSERT_FALSE(HasFatalFailure());
    mesh::PipelineOptions po;
    pipeline_ = std::make_unique<mesh::Pipeline>(std::move(po), SystemClock::Instance(), SecureRandom::Instance());
    services::VrfProver prover = [this](std::span<const uint8_t> alpha) -> StatusOr<services::VrfAnswer> {
      services::VrfAnswer a;
      a.proof = crypto::ecvrf::Prove(vrf_key_, alpha);
      ASSIGN_OR_RETURN(a.output, crypto::ecvrf::ProofToHash(a.proof));
      return a;
    };
    random_ = std::make_unique<services::RandomService>(*pipeline_, *store_, std::move(prover), vrf_key_.public_key(),
                                                        SystemClock::Instance(), SecureRandom::Instance());
    relay_ = MakeRelay(DefaultOptions());
    relay_->Register("random", services::random::ChainHandler(*random_, [this](std::span<const uint8_t> m) {
                       return StatusOr<crypto::Signature>(report_key_.Sign(m));
                     }));
    ASSERT_TRUE(relay_->Start().ok());
  }
  void TearDown() override {
    relay_.reset();
    ChainRequestRelayTest::TearDown();
  }

  DeterministicRandom keys_{7};
  crypto::PrivateKey vrf_key_ = crypto::PrivateKey::Generate(keys_);
  crypto::PrivateKey report_key_ = crypto::PrivateKey::Generate(keys_);
  std::unique_ptr<mesh::Pipeline> pipeline_;
  std::unique_ptr<services::RandomService> random_;
};

TEST_F(RandomChainTest, ARequestIsAnsweredInTheNextBlockWithSignedProvedWords) {
  ASSERT_NO_FATAL_FAILURE(StartRandom());
  auto req = Request("random", R"({"num_words": 3, "seed": "c0ffee"})");
  ASSERT_TRUE(req);
  ASSERT_TRUE(WaitForState(*req, RequestState::kAnswered));
  auto rec = Record(*req);
  ASSERT_TRUE(rec && rec->answer_block_index);
  EXPECT_EQ(*rec->answer_block_index, req->block + 1) << "answered in the block after the request";

  auto response = Response(req->id);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->code, 0) << std::string(response->result.begin(), response->result.end());
  // What a contract does: CryptoLib.verifyWithECDsa(result, reportKey, signature, secp256r1SHA256)…
  ASSERT_EQ(response->signature.size(), 64u);
  crypto::Signature sig{};
  std::copy(response->signature.begin(), response->signature.end(), sig.begin());
  EXPECT_TRUE(report_key_.public_key().Verify(response->result, sig));
  // … then StdLib.deserialize(result): [requestId, words, output, proof, alpha].
  auto item = devchain::DeserializeStackItem(response->result);
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  const boost::json::value j = devchain::StackItemToJson(*item);
  const auto& f = j.at("value").as_array();
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f[0].at("value").as_string(), req->id.decimal());
  auto bytes = [](const boost::json::value& v) {
    return Base64Decode(std::string(v.at("value").as_string())).value_or(std::vector<uint8_t>{});
  };
  const std::vector<uint8_t> output = bytes(f[2]), proof = bytes(f[3]), alpha = bytes(f[4]);
  // Off-chain, anyone re-checks the words: the alpha is the request's, and the proof holds.
  EXPECT_EQ(alpha,
            services::random::Alpha("neo:" + SampleConsumerHash().ToString(), req->id.decimal(), *HexDecode("c0ffee")));
  auto beta = crypto::ecvrf::Verify(vrf_key_.public_key().Compressed(), proof, alpha);
  ASSERT_TRUE(beta.ok()) << beta.status().ToString();
  EXPECT_EQ(std::vector<uint8_t>(beta->begin(), beta->end()), output);
  const auto words = services::random::Words(output, 3);
  const auto& w = f[1].at("value").as_array();
  ASSERT_EQ(w.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(bytes(w[i]), std::vector<uint8_t>(words[i].begin(), words[i].end()));
}

TEST_F(RandomChainTest, ABadPayloadIsAnsweredInvalidArgumentWithTheReason) {
  ASSERT_NO_FATAL_FAILURE(StartRandom());
  for (const char* payload : {"{}", R"({"num_words": 101})", R"({"num_words": 1, "seed": "xyz"})", "not json",
                              R"({"num_words": 1, "extra": 1})"}) {
    auto req = Request("random", payload);
    ASSERT_TRUE(req) << payload;
    ASSERT_TRUE(WaitForState(*req, RequestState::kAnswered)) << payload;
    auto response = Response(req->id);
    ASSERT_TRUE(response) << payload;
    EXPECT_EQ(response->code, 3) << payload;
    EXPECT_FALSE(response->result.empty()) << payload;
  }
}

}  // namespace
}  // namespace neosl::chain_requests::testing
