// Random end to end through `neosl serve`: REST, the mesh, the enclave's VRF key (the same key
// its attestation evidence carries), storage, verification, and errors as a developer meets them.
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/ecvrf.h"
#include "integration/fixture.h"
#include "services/random/random_core.h"

namespace neosl::testing {
namespace {

namespace json = boost::json;

class RandomE2eTest : public ServerTest {
 protected:
  void SetUp() override { StartServer(); }

  HttpResult Send(const std::string& method, const std::string& path, const std::string& body = "",
                  const std::string& key = "") {
    return client_->Request(
        method, path, body,
        {{"authorization", "Bearer " + (key.empty() ? admin_ : key)}, {"content-type", "application/json"}});
  }
  static std::string Str(const json::value& v, const char* field) { return std::string(v.at(field).as_string()); }
  static std::vector<uint8_t> Unhex(const std::string& hex) { return HexDecode(hex).value_or(std::vector<uint8_t>{}); }
};

TEST_F(RandomE2eTest, WordsAreProvedByTheAttestedVrfKeyAndVerifyAnywhere) {
  auto att = client_->Get("/v1/attestation?nonce=00112233445566778899");
  ASSERT_EQ(att.status, 200) << att.body;
  const std::string vrf_key = Str(Json(att).at("public_keys"), "vrf");

  auto r = Send("POST", "/v1/random", R"({"num_words": 4, "seed": "0badc0de"})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = Json(r);
  EXPECT_EQ(Str(v, "public_key"), vrf_key);
  ASSERT_EQ(v.at("randomness").as_array().size(), 4u);

  // The proof checks out with this process's own verifier, on the stated alpha.
  auto beta = crypto::ecvrf::Verify(Unhex(vrf_key), Unhex(Str(v, "proof")), Unhex(Str(v, "alpha")));
  ASSERT_TRUE(beta.ok()) << beta.status().ToString();
  EXPECT_EQ(Str(v, "output"), HexEncode(*beta));
  const auto words = services::random::Words(*beta, 4);
  EXPECT_EQ(std::string(v.at("randomness").as_array()[3].as_string()), HexEncode(words[3]));

  // And through the API, with the words derived again.
  json::object verify{
      {"public_key", vrf_key}, {"alpha", Str(v, "alpha")}, {"proof", Str(v, "proof")}, {"num_words", 4}};
  auto ok = Send("POST", "/v1/random/verify", json::serialize(verify));
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_TRUE(Json(ok).at("valid").as_bool());
  EXPECT_EQ(Json(ok).at("randomness"), v.at("randomness"));

  // The stored answer is the same answer.
  auto again = Send("GET", "/v1/random/" + Str(v, "request_id"));
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Json(again), v);
}

TEST_F(RandomE2eTest, ABadProofIsInvalidNotAnErrorAndBadFieldsAre400WithTheFieldNamed) {
  auto r = Send("POST", "/v1/random", R"({"num_words": 1})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = Json(r);
  std::string proof = Str(v, "proof");
  proof[70] = proof[70] == 'a' ? 'b' : 'a';
  json::object verify{{"public_key", Str(v, "public_key")}, {"alpha", Str(v, "alpha")}, {"proof", proof}};
  auto bad = Send("POST", "/v1/random/verify", json::serialize(verify));
  ASSERT_EQ(bad.status, 200) << bad.body;
  EXPECT_FALSE(Json(bad).at("valid").as_bool());
  EXPECT_FALSE(Str(Json(bad), "reason").empty());

  for (const char* body : {R"({"num_words": 0})", R"({"num_words": 501})", R"({})",
                           R"({"num_words": 1, "seed": "xyz1"})", R"({"num_words": 1, "seed": "abc"})"}) {
    auto e = Send("POST", "/v1/random", body);
    EXPECT_EQ(e.status, 400) << body << " → " << e.body;
    EXPECT_EQ(ErrorCode(e), "INVALID_ARGUMENT") << body;
    const std::string field = std::string(body).find("seed") != std::string::npos ? "seed" : "num_words";
    EXPECT_NE(e.body.find(field), std::string::npos) << body << " → " << e.body;
  }
  auto long_seed = Send("POST", "/v1/random", R"({"num_words": 1, "seed": ")" + std::string(130, 'a') + "\"}");
  EXPECT_EQ(long_seed.status, 400) << long_seed.body;

  // Another account does not see this one's requests.
  const std::string other = CreateAccount("other");
  const std::string key = CreateKey(other, R"(["invoker"])").second;
  EXPECT_EQ(Send("GET", "/v1/random/" + Str(v, "request_id"), "", key).status, 404);
}

}  // namespace
}  // namespace neosl::testing
