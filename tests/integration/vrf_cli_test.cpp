// `neosl vrf prove|verify` through the real binary: RFC 9381's Example 10 end to end, a tampered
// proof, and input errors that name the flag.
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/server_process.h"

namespace neosl::testing {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

// RFC 9381 Appendix B.1, Example 10 (ECVRF-P256-SHA256-TAI, alpha = "sample").
constexpr const char* kSk = "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";
constexpr const char* kPk = "0360fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6";
constexpr const char* kAlpha = "73616d706c65";
constexpr const char* kPi =
    "035b5c726e8c0e2c488a107c600578ee75cb702343c153cb1eb8dec77f4b5071b4a53f0a46f018bc2c56e58d383f2305e0"
    "975972c26feea0eb122fe7893c15af376b33edf7de17c6ea056d4d82de6bc02f";
constexpr const char* kBeta = "a3ad7b0ef73d8fc6655053ea22f9bede8c743f08bbed3d38821f0e16474b505e";

json::object ParseObject(const CommandResult& r) {
  boost::system::error_code ec;
  json::value v = json::parse(r.out, ec);
  EXPECT_FALSE(ec) << r.out << r.err;
  return v.is_object() ? v.as_object() : json::object();
}

CommandResult Verify(const std::string& pk, const std::string& alpha, const std::string& pi) {
  return RunNeosl({"vrf", "verify", "--public-key", pk, "--alpha", alpha, "--proof", pi});
}

TEST(VrfCliTest, ProveGivesRfc9381Example10) {
  auto r = RunNeosl({"vrf", "prove", "--key", kSk, "--alpha", kAlpha});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json::object out = ParseObject(r);
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(out["proof"].as_string(), kPi);
  EXPECT_EQ(out["output"].as_string(), kBeta);
  EXPECT_EQ(out["public_key"].as_string(), kPk);
  EXPECT_THAT(r.out + r.err, ::testing::Not(HasSubstr(kSk)));
}

TEST(VrfCliTest, VerifyAcceptsTheRfcProof) {
  auto r = Verify(kPk, kAlpha, kPi);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json::object out = ParseObject(r);
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(out["valid"], true);
  EXPECT_EQ(out["output"].as_string(), kBeta);
}

TEST(VrfCliTest, VerifyRejectsATamperedProof) {
  std::string tampered = kPi;
  tampered[120] = tampered[120] == '0' ? '1' : '0';  // a nibble of s
  auto r = Verify(kPk, kAlpha, tampered);
  EXPECT_EQ(r.exit_code, 1);
  json::object out = ParseObject(r);
  EXPECT_EQ(out["valid"], false);
  EXPECT_EQ(out["reason"].as_string(), "proof does not verify");
  EXPECT_FALSE(out.contains("output"));
  EXPECT_THAT(r.err, HasSubstr("proof does not verify"));

  auto other_input = Verify(kPk, "74657374", kPi);  // "test"
  EXPECT_EQ(other_input.exit_code, 1);
  EXPECT_EQ(ParseObject(other_input)["valid"], false);

  auto short_proof = Verify(kPk, kAlpha, std::string(kPi).substr(0, 160));
  EXPECT_EQ(short_proof.exit_code, 1);
  EXPECT_THAT(std::string(ParseObject(short_proof)["reason"].as_string()), HasSubstr("81 bytes"));

  auto not_a_point = Verify("02" + std::string(63, '0') + "1", kAlpha, kPi);
  EXPECT_EQ(not_a_point.exit_code, 1);
  EXPECT_THAT(std::string(ParseObject(not_a_point)["reason"].as_string()),
              HasSubstr("public key is not a valid point"));
}

TEST(VrfCliTest, ProveThenVerifyWithAnEmptyInput) {
  auto proved = RunNeosl({"vrf", "prove", "--key", kSk, "--alpha", ""});
  ASSERT_EQ(proved.exit_code, 0) << proved.err;
  json::object p = ParseObject(proved);
  auto verified = Verify(kPk, "", std::string(p["proof"].as_string()));
  ASSERT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_EQ(ParseObject(verified)["output"], p["output"]);
}

TEST(VrfCliTest, MalformedHexNamesTheFlag) {
  struct Case {
    std::vector<std::string> args;
    const char* flag;
  };
  const std::vector<Case> cases = {
      {{"vrf", "prove", "--key", "zz", "--alpha", kAlpha}, "--key"},
      {{"vrf", "prove", "--key", kSk, "--alpha", "abc"}, "--alpha"},
      {{"vrf", "verify", "--public-key", "0x03", "--alpha", kAlpha, "--proof", kPi}, "--public-key"},
      {{"vrf", "verify", "--public-key", kPk, "--alpha", "g0", "--proof", kPi}, "--alpha"},
      {{"vrf", "verify", "--public-key", kPk, "--alpha", kAlpha, "--proof", std::string(kPi) + "0"}, "--proof"},
  };
  for (const Case& c : cases) {
    auto r = RunNeosl(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.flag << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.flag));
    EXPECT_THAT(r.err, HasSubstr("not valid hex"));
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

TEST(VrfCliTest, KeyOutOfRangeIsAnInputError) {
  for (const std::string& key : {std::string("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"),
                                 std::string(64, '0'), std::string(kSk).substr(0, 62)}) {
    auto r = RunNeosl({"vrf", "prove", "--key", key, "--alpha", kAlpha});
    EXPECT_EQ(r.exit_code, 2) << key;
    EXPECT_THAT(r.err, HasSubstr("--key"));
    EXPECT_TRUE(r.out.empty());
  }
}

}  // namespace
}  // namespace neosl::testing
