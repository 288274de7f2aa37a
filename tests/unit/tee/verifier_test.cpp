#include "tee/verifier.h"

#include <chrono>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/encoding.h"
#include "core/random.h"
#include "crypto/hash.h"
#include "tee/sim_quote.h"

namespace neosl::tee {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

class VerifierTest : public ::testing::Test {
 protected:
  VerifierTest()
      : random_(42),
        keys_{crypto::PrivateKey::Generate(random_).public_key(), crypto::PrivateKey::Generate(random_).public_key(),
              crypto::PrivateKey::Generate(random_).public_key(), crypto::PrivateKey::Generate(random_).public_key()},
        quoting_(*SimQuotingEnclave::Create(random_, clock_)) {
    measurement_ = crypto::Sha256(crypto::AsBytes("the enclave program"));
    nonce_ = {0x6e, 0x65, 0x6f, 0x73, 0x6c, 0x2d, 0x6e, 0x6f, 0x6e, 0x63, 0x65, 0x00, 0x01, 0x02, 0x03, 0x04};
    policy_.measurements = {measurement_};
    policy_.allow_simulation = true;
  }

  // What the enclave does for GET /v1/attestation?nonce=…
  Evidence MakeEvidence(std::span<const uint8_t> nonce) {
    Evidence e;
    e.backend = "sim";
    e.measurement = measurement_;
    e.report_data = ReportData(CanonicalPublicKeys(keys_), nonce);
    e.public_keys = PublicKeysToJson(keys_);
    e.timestamp_ms = clock_.NowUnixMillis();
    EXPECT_TRUE(quoting_.Quote(e).ok());
    return e;
  }
  Evidence MakeEvidence() { return MakeEvidence(nonce_); }

  Status Verify(const Evidence& e) { return VerifyEvidence(e, nonce_, policy_, clock_).status(); }

  ManualClock clock_;
  DeterministicRandom random_;
  EnclavePublicKeys keys_;
  SimQuotingEnclave quoting_;
  std::array<uint8_t, 32> measurement_{};
  std::vector<uint8_t> nonce_;
  AttestationPolicy policy_;
};

TEST_F(VerifierTest, ValidSimEvidencePassesWhenSimulationIsAllowed) {
  auto verified = VerifyEvidence(MakeEvidence(), nonce_, policy_, clock_);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_TRUE(verified->simulated);
  EXPECT_FALSE(verified->signer.has_value());
  EXPECT_EQ(verified->keys.neo, keys_.neo);
  EXPECT_EQ(verified->keys.ecies, keys_.ecies);
  EXPECT_EQ(verified->evidence.measurement, measurement_);
}

TEST_F(VerifierTest, ValidEvidenceStillPassesAfterAJsonRoundTrip) {
  auto parsed = EvidenceFromJson(boost::json::parse(boost::json::serialize(EvidenceToJson(MakeEvidence()))));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(Verify(*parsed).ok());
}

TEST_F(VerifierTest, SimDisallowedFailsFirst) {
  policy_.allow_simulation = false;
  std::vector<uint8_t> other_nonce = {9, 9, 9};
  Status s = Verify(MakeEvidence(other_nonce));  // also the wrong nonce: simulation is checked first
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "simulation: sim evidence refused (pass --allow-simulation or allow_simulation: true)");
}

TEST_F(VerifierTest, WrongNonceFails) {
  std::vector<uint8_t> other_nonce = {1, 2, 3};
  Status s = Verify(MakeEvidence(other_nonce));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "nonce: report data does not bind this nonce");
}

TEST_F(VerifierTest, EmptyNonceIsRefused) {
  Evidence e = MakeEvidence(std::vector<uint8_t>{});
  Status s = VerifyEvidence(e, std::vector<uint8_t>{}, policy_, clock_).status();
  EXPECT_THAT(std::string(s.message()), StartsWith("nonce: "));
}

TEST_F(VerifierTest, WrongMeasurementFails) {
  policy_.measurements = {crypto::Sha256(crypto::AsBytes("another build"))};
  Status s = Verify(MakeEvidence());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "measurement: " + HexEncode(measurement_) + " is not in the allow-list");
}

TEST_F(VerifierTest, EmptyAllowListAllowsNoMeasurement) {
  policy_.measurements.clear();
  EXPECT_THAT(std::string(Verify(MakeEvidence()).message()), StartsWith("measurement: "));
  policy_.signers = {crypto::Sha256(crypto::AsBytes("signer"))};  // signers do not widen sim
  EXPECT_THAT(std::string(Verify(MakeEvidence()).message()), StartsWith("measurement: "));
}

TEST_F(VerifierTest, TamperedSignatureFails) {
  Evidence e = MakeEvidence();
  e.signature[10] ^= 0x01;
  Status s = Verify(e);
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(s.message()), StartsWith("signature: "));

  e.signature.resize(70);  // DER-sized: only r ‖ s is accepted
  EXPECT_THAT(std::string(Verify(e).message()), StartsWith("signature: expected 64 bytes"));
}

TEST_F(VerifierTest, TamperedBodyFieldsFailTheSignature) {
  const Evidence good = MakeEvidence();
  auto check = [&](auto mutate) {
    Evidence e = good;
    mutate(e);
    Status s = Verify(e);
    EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
    EXPECT_THAT(std::string(s.message()), StartsWith("signature: "));
  };
  check([](Evidence& e) { e.timestamp_ms -= 1; });
  check([](Evidence& e) { e.measurement[0] ^= 1; });
  check([](Evidence& e) { e.report_data[40] ^= 1; });
  check([&](Evidence& e) {
    e.public_keys["report"] = HexEncode(crypto::PrivateKey::Generate(random_).public_key().Compressed());
  });
}

TEST_F(VerifierTest, SignedButUnboundPublicKeysFailKeyBinding) {
  // A genuine quote over keys that are not the ones the report data commits to.
  Evidence e = MakeEvidence();
  e.public_keys["vrf"] = HexEncode(crypto::PrivateKey::Generate(random_).public_key().Compressed());
  ASSERT_TRUE(quoting_.Quote(e).ok());
  Status s = Verify(e);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "key binding: report data does not match the public keys");

  e.public_keys.erase("ecies");
  ASSERT_TRUE(quoting_.Quote(e).ok());
  EXPECT_THAT(std::string(Verify(e).message()), StartsWith("key binding: public key \"ecies\""));
}

TEST_F(VerifierTest, CertificateNotFromTheRootFails) {
  auto other_seed = crypto::Sha256(crypto::AsBytes("a root of my own"));
  auto rogue = CreateSimQuotingEnclaveWithRoot(random_, clock_, other_seed);
  ASSERT_TRUE(rogue.ok()) << rogue.status().ToString();
  Evidence e = MakeEvidence();
  ASSERT_TRUE(rogue->Quote(e).ok());

  Status s = Verify(e);  // its own root alongside
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(s.message(), "certificate chain: the root certificate is not the neosl simulated attestation root");

  e.certificates.resize(1);  // the leaf alone, against the pinned root
  s = Verify(e);
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(s.message(),
            "certificate chain: the quoting certificate is not signed by the neosl simulated attestation root");

  e.certificates = {SimRootCertificatePem()};  // the root posing as a quoting certificate
  EXPECT_THAT(std::string(Verify(e).message()), StartsWith("certificate chain: "));
}

TEST_F(VerifierTest, MalformedOrMissingCertificatesFail) {
  Evidence e = MakeEvidence();
  e.certificates.clear();
  EXPECT_EQ(Verify(e).message(), "certificate chain: no quoting certificate");
  e.certificates = {"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"};
  EXPECT_THAT(std::string(Verify(e).message()), StartsWith("certificate chain: "));
  Evidence three = MakeEvidence();
  three.certificates.push_back(SimRootCertificatePem());
  EXPECT_THAT(std::string(Verify(three).message()), StartsWith("certificate chain: expected"));
}

TEST_F(VerifierTest, AnotherQuotingEnclavesCertificateFailsTheSignature) {
  auto other = SimQuotingEnclave::Create(random_, clock_);
  ASSERT_TRUE(other.ok());
  Evidence e = MakeEvidence();
  Evidence theirs = MakeEvidence();
  ASSERT_TRUE(other->Quote(theirs).ok());
  e.certificates = theirs.certificates;  // a genuine chain, but not the key that signed
  EXPECT_THAT(std::string(Verify(e).message()), StartsWith("signature: "));
}

TEST_F(VerifierTest, StaleTimestampFails) {
  Evidence e = MakeEvidence();
  clock_.Advance(6min);
  Status s = Verify(e);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "freshness: evidence is 360 s old (max 300 s)");

  policy_.max_age = 10min;
  EXPECT_TRUE(Verify(e).ok());
}

TEST_F(VerifierTest, FutureTimestampFailsBeyondTheSkew) {
  clock_.Advance(1min);
  Evidence e = MakeEvidence();
  clock_.Advance(-1min);
  Status s = Verify(e);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "freshness: timestamp is in the future");

  clock_.Advance(40s);  // 20 s ahead: within the 30 s skew
  EXPECT_TRUE(Verify(e).ok());
}

TEST_F(VerifierTest, ExpiredQuotingCertificateFailsTheChainBeforeFreshness) {
  Evidence e = MakeEvidence();
  clock_.Advance(49h);
  policy_.max_age = 100h;
  Status s = Verify(e);
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(s.message()), StartsWith("certificate chain: the quoting certificate expired at "));
}

TEST_F(VerifierTest, SgxAndUnknownBackends) {
  Evidence e = MakeEvidence();
  e.backend = "sgx";
  e.quote = {1, 2, 3};
  Status s = Verify(e);
#ifndef NEOSL_TEE_SGX
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_EQ(s.message(), "sgx: DCAP quote verification is not built in this binary (build with -DNEOSL_TEE_SGX=ON)");
#else
  EXPECT_FALSE(s.ok());
#endif
  e.backend = "tdx";
  s = Verify(e);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), StartsWith("backend: "));
}

TEST(AttestationPolicyTest, ParsesEveryKey) {
  const std::string m1(64, 'a'), m2 = "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff";
  auto policy = AttestationPolicy::FromYaml(
      "allow_simulation: true\n"
      "measurements:\n  - " +
      m1 + "\n  - " + m2 +
      "\n"
      "signers: [" +
      m1 +
      "]\n"
      "max_age_seconds: 60\n"
      "max_clock_skew_seconds: 5\n");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_TRUE(policy->allow_simulation);
  ASSERT_EQ(policy->measurements.size(), 2u);
  EXPECT_EQ(HexEncode(policy->measurements[0]), m1);
  EXPECT_EQ(HexEncode(policy->measurements[1]), "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  ASSERT_EQ(policy->signers.size(), 1u);
  EXPECT_EQ(policy->max_age, std::chrono::seconds(60));
  EXPECT_EQ(policy->max_clock_skew, std::chrono::seconds(5));
}

TEST(AttestationPolicyTest, EmptyDocumentIsTheStrictDefault) {
  auto policy = AttestationPolicy::FromYaml("");
  ASSERT_TRUE(policy.ok());
  EXPECT_FALSE(policy->allow_simulation);
  EXPECT_TRUE(policy->measurements.empty());
  EXPECT_EQ(policy->max_age, std::chrono::minutes(5));
  EXPECT_EQ(policy->max_clock_skew, std::chrono::seconds(30));
}

TEST(AttestationPolicyTest, RejectsBadInputNamingTheKey) {
  auto error_for = [](const std::string& yaml) {
    auto p = AttestationPolicy::FromYaml(yaml);
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << yaml;
    return std::string(p.status().message());
  };
  EXPECT_EQ(error_for("allow_simulaton: true\n"), "policy: unknown key \"allow_simulaton\"");
  EXPECT_EQ(error_for("allow_simulation: maybe\n"), "policy: allow_simulation must be true or false");
  EXPECT_EQ(error_for("allow_simulation: [true]\n"), "policy: allow_simulation must be true or false");
  EXPECT_THAT(error_for("measurements: [abcd]\n"), StartsWith("policy: measurements[0] must be"));
  EXPECT_THAT(error_for("measurements:\n  - " + std::string(64, 'a') + "\n  - " + std::string(64, 'g') + "\n"),
              StartsWith("policy: measurements[1] must be"));
  EXPECT_THAT(error_for("measurements: " + std::string(64, 'a') + "\n"),
              StartsWith("policy: measurements must be a list"));
  EXPECT_THAT(error_for("signers: [{a: b}]\n"), StartsWith("policy: signers[0]"));
  EXPECT_THAT(error_for("max_age_seconds: -1\n"), StartsWith("policy: max_age_seconds"));
  EXPECT_THAT(error_for("max_age_seconds: 1.5\n"), StartsWith("policy: max_age_seconds"));
  EXPECT_THAT(error_for("max_clock_skew_seconds: soon\n"), StartsWith("policy: max_clock_skew_seconds"));
  EXPECT_EQ(error_for("- a\n- b\n"), "policy: the document must be a mapping");
  EXPECT_THAT(error_for("allow_simulation: [\n"), StartsWith("policy: not valid YAML"));
}

TEST(AttestationPolicyTest, ParsedPolicyDrivesTheVerifier) {
  ManualClock clock;
  DeterministicRandom random(5);
  auto quoting = SimQuotingEnclave::Create(random, clock);
  ASSERT_TRUE(quoting.ok());
  EnclavePublicKeys keys{
      crypto::PrivateKey::Generate(random).public_key(), crypto::PrivateKey::Generate(random).public_key(),
      crypto::PrivateKey::Generate(random).public_key(), crypto::PrivateKey::Generate(random).public_key()};
  std::vector<uint8_t> nonce = {7, 7, 7, 7};
  Evidence e;
  e.backend = "sim";
  e.measurement = crypto::Sha256(crypto::AsBytes("program"));
  e.report_data = ReportData(CanonicalPublicKeys(keys), nonce);
  e.public_keys = PublicKeysToJson(keys);
  e.timestamp_ms = clock.NowUnixMillis() - 90'000;
  ASSERT_TRUE(quoting->Quote(e).ok());

  auto lenient = AttestationPolicy::FromYaml("allow_simulation: true\nmeasurements: [" + HexEncode(e.measurement) +
                                             "]\nmax_age_seconds: 120\n");
  ASSERT_TRUE(lenient.ok());
  EXPECT_TRUE(VerifyEvidence(e, nonce, *lenient, clock).ok());
  auto strict = AttestationPolicy::FromYaml("allow_simulation: true\nmeasurements: [" + HexEncode(e.measurement) +
                                            "]\nmax_age_seconds: 60\n");
  ASSERT_TRUE(strict.ok());
  EXPECT_EQ(VerifyEvidence(e, nonce, *strict, clock).status().message(), "freshness: evidence is 90 s old (max 60 s)");
}

}  // namespace
}  // namespace neosl::tee
