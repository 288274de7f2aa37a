#include "tee/attestation.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/encoding.h"
#include "core/random.h"
#include "crypto/hash.h"
#include "tee/sim_quote.h"

namespace neosl::tee {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

EnclavePublicKeys MakeKeys(RandomSource& random) {
  return EnclavePublicKeys{
      crypto::PrivateKey::Generate(random).public_key(), crypto::PrivateKey::Generate(random).public_key(),
      crypto::PrivateKey::Generate(random).public_key(), crypto::PrivateKey::Generate(random).public_key()};
}

Evidence SampleEvidence(RandomSource& random) {
  EnclavePublicKeys keys = MakeKeys(random);
  Evidence e;
  e.backend = "sim";
  random.Fill(e.measurement);
  std::vector<uint8_t> nonce = {1, 2, 3, 4};
  e.report_data = ReportData(CanonicalPublicKeys(keys), nonce);
  e.public_keys = PublicKeysToJson(keys);
  e.timestamp_ms = 1'700'000'123'456;
  e.signature.assign(64, 0xab);
  e.certificates = {"-----BEGIN CERTIFICATE-----\nleaf\n", "-----BEGIN CERTIFICATE-----\nroot\n"};
  return e;
}

TEST(ReportDataTest, IsHashOfKeysThenHashOfNonce) {
  std::vector<uint8_t> keys(132, 0x11);
  std::vector<uint8_t> nonce = {0xde, 0xad};
  auto rd = ReportData(keys, nonce);
  auto kh = crypto::Sha256(keys);
  auto nh = crypto::Sha256(nonce);
  EXPECT_TRUE(std::equal(kh.begin(), kh.end(), rd.begin()));
  EXPECT_TRUE(std::equal(nh.begin(), nh.end(), rd.begin() + 32));
  // The SHA-256 of "abc" (FIPS 180-2) lands in the second half for nonce "abc".
  auto rd2 = ReportData(keys, crypto::AsBytes("abc"));
  EXPECT_EQ(HexEncode(std::span<const uint8_t>(rd2).subspan(32)),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(PublicKeysTest, CanonicalOrderAndJsonRoundTrip) {
  DeterministicRandom random(7);
  EnclavePublicKeys keys = MakeKeys(random);
  auto canonical = CanonicalPublicKeys(keys);
  ASSERT_EQ(canonical.size(), 132u);
  EXPECT_EQ(HexEncode(std::span<const uint8_t>(canonical).subspan(0, 33)), HexEncode(keys.neo.Compressed()));
  EXPECT_EQ(HexEncode(std::span<const uint8_t>(canonical).subspan(99, 33)), HexEncode(keys.ecies.Compressed()));
  auto parsed = PublicKeysFromJson(PublicKeysToJson(keys));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(CanonicalPublicKeys(*parsed), canonical);
}

TEST(PublicKeysTest, RejectsMissingExtraAndMalformedKeys) {
  DeterministicRandom random(8);
  json::object good = PublicKeysToJson(MakeKeys(random));

  json::object missing = good;
  missing.erase("vrf");
  auto s = PublicKeysFromJson(missing).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("\"vrf\" is missing"));

  json::object extra = good;
  extra["oracle"] = good["neo"];
  EXPECT_THAT(std::string(PublicKeysFromJson(extra).status().message()), HasSubstr("\"oracle\""));

  json::object uncompressed = good;
  uncompressed["report"] = "04" + std::string(128, '1');
  EXPECT_THAT(std::string(PublicKeysFromJson(uncompressed).status().message()), HasSubstr("\"report\""));

  json::object off_curve = good;
  off_curve["ecies"] = "02" + std::string(64, 'f');  // x = 2^256-1 is not a field element
  EXPECT_FALSE(PublicKeysFromJson(off_curve).ok());
}

TEST(EvidenceJsonTest, RoundTripsEveryField) {
  DeterministicRandom random(1);
  Evidence e = SampleEvidence(random);
  e.quote = {0x03, 0x00, 0x02};
  json::value j = EvidenceToJson(e);
  EXPECT_EQ(j.at("timestamp").as_string(), "2023-11-14T22:15:23.456Z");
  EXPECT_EQ(j.at("measurement").as_string(), HexEncode(e.measurement));

  auto back = EvidenceFromJson(json::parse(json::serialize(j)));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->backend, e.backend);
  EXPECT_EQ(back->measurement, e.measurement);
  EXPECT_EQ(back->report_data, e.report_data);
  EXPECT_EQ(back->public_keys, e.public_keys);
  EXPECT_EQ(back->timestamp_ms, e.timestamp_ms);
  EXPECT_EQ(back->signature, e.signature);
  EXPECT_EQ(back->certificates, e.certificates);
  EXPECT_EQ(back->quote, e.quote);
  EXPECT_EQ(SignedBody(*back), SignedBody(e));
  EXPECT_EQ(json::serialize(EvidenceToJson(*back)), json::serialize(j));
}

TEST(EvidenceJsonTest, OmitsEmptyQuote) {
  DeterministicRandom random(2);
  json::value j = EvidenceToJson(SampleEvidence(random));
  EXPECT_EQ(j.as_object().if_contains("quote"), nullptr);
  EXPECT_TRUE(EvidenceFromJson(j).ok());
}

TEST(EvidenceJsonTest, RejectsMalformedFieldsNamingThem) {
  DeterministicRandom random(3);
  const json::object good = EvidenceToJson(SampleEvidence(random)).as_object();
  auto error_for = [&](auto mutate) {
    json::object o = good;
    mutate(o);
    auto r = EvidenceFromJson(o);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    return std::string(r.status().message());
  };
  EXPECT_THAT(error_for([](json::object& o) { o.erase("backend"); }), HasSubstr("\"backend\""));
  EXPECT_THAT(error_for([](json::object& o) { o["measurement"] = "abcd"; }), HasSubstr("\"measurement\""));
  EXPECT_THAT(error_for([](json::object& o) { o["report_data"] = std::string(128, 'z'); }),
              HasSubstr("\"report_data\""));
  EXPECT_THAT(error_for([](json::object& o) { o["public_keys"] = "x"; }), HasSubstr("\"public_keys\""));
  EXPECT_THAT(error_for([](json::object& o) { o["timestamp_ms"] = 1.5; }), HasSubstr("\"timestamp_ms\""));
  EXPECT_THAT(error_for([](json::object& o) { o["timestamp_ms"] = o["timestamp_ms"].as_int64() + 1; }),
              HasSubstr("\"timestamp\" does not agree"));
  EXPECT_THAT(error_for([](json::object& o) { o["signature"] = "xyz"; }), HasSubstr("\"signature\""));
  EXPECT_THAT(error_for([](json::object& o) { o["certificates"] = json::array{1}; }), HasSubstr("\"certificates\""));
  EXPECT_THAT(error_for([](json::object& o) { o["quote"] = "0"; }), HasSubstr("\"quote\""));
  EXPECT_FALSE(EvidenceFromJson(json::array{}).ok());
}

TEST(SignedBodyTest, CoversEveryFieldButSignatureAndCertificates) {
  DeterministicRandom random(4);
  const Evidence e = SampleEvidence(random);
  const auto body = SignedBody(e);
  // Starts with lp("neosl-evidence-v1").
  ASSERT_GT(body.size(), 21u);
  EXPECT_EQ(HexEncode(std::span<const uint8_t>(body).subspan(0, 4)), "00000011");
  EXPECT_EQ(std::string(body.begin() + 4, body.begin() + 21), "neosl-evidence-v1");

  Evidence unsigned_parts = e;
  unsigned_parts.signature.clear();
  unsigned_parts.certificates.clear();
  EXPECT_EQ(SignedBody(unsigned_parts), body);

  auto differs = [&](auto mutate) {
    Evidence m = e;
    mutate(m);
    return SignedBody(m) != body;
  };
  EXPECT_TRUE(differs([](Evidence& m) { m.backend = "sgx"; }));
  EXPECT_TRUE(differs([](Evidence& m) { m.measurement[31] ^= 1; }));
  EXPECT_TRUE(differs([](Evidence& m) { m.report_data[0] ^= 1; }));
  EXPECT_TRUE(differs([](Evidence& m) { m.public_keys["neo"] = m.public_keys["vrf"]; }));
  EXPECT_TRUE(differs([](Evidence& m) { m.timestamp_ms += 1; }));
  EXPECT_TRUE(differs([](Evidence& m) { m.quote = {0}; }));
}

TEST(SignedBodyTest, PublicKeyOrderInTheObjectDoesNotMatter) {
  DeterministicRandom random(5);
  Evidence e = SampleEvidence(random);
  Evidence reordered = e;
  reordered.public_keys.clear();
  for (auto it = e.public_keys.end(); it != e.public_keys.begin();) {
    --it;
    reordered.public_keys[it->key()] = it->value();
  }
  ASSERT_NE(json::serialize(reordered.public_keys), json::serialize(e.public_keys));
  EXPECT_EQ(SignedBody(reordered), SignedBody(e));
}

TEST(SimQuoteTest, RootIsDerivedFromThePublicSeed) {
  EXPECT_EQ(SimRootSeed(), crypto::Sha256(crypto::AsBytes("neosl-sim-attestation-root-v1")));
  auto seed = SimRootSeed();
  auto key = crypto::PrivateKey::FromBytes(seed);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->public_key(), SimRootPublicKey());
  EXPECT_THAT(SimRootCertificatePem(), StartsWith("-----BEGIN CERTIFICATE-----"));
}

TEST(SimQuoteTest, QuoteSignsTheBodyAndCarriesAVerifiableChain) {
  DeterministicRandom random(6);
  ManualClock clock;
  auto quoting = SimQuotingEnclave::Create(random, clock);
  ASSERT_TRUE(quoting.ok()) << quoting.status().ToString();
  Evidence e = SampleEvidence(random);
  e.backend.clear();
  e.signature.clear();
  e.certificates.clear();
  e.timestamp_ms = clock.NowUnixMillis();
  ASSERT_TRUE(quoting->Quote(e).ok());
  EXPECT_EQ(e.backend, "sim");
  ASSERT_EQ(e.signature.size(), 64u);
  ASSERT_EQ(e.certificates.size(), 2u);
  EXPECT_EQ(e.certificates[1], SimRootCertificatePem());

  auto leaf_key = VerifySimCertificateChain(e.certificates, clock.NowUnixMillis(), std::chrono::seconds(0));
  ASSERT_TRUE(leaf_key.ok()) << leaf_key.status().ToString();
  EXPECT_EQ(*leaf_key, quoting->public_key());
  crypto::Signature sig{};
  std::copy(e.signature.begin(), e.signature.end(), sig.begin());
  EXPECT_TRUE(leaf_key->Verify(SignedBody(e), sig));

  Evidence sgx = e;
  sgx.backend = "sgx";
  EXPECT_EQ(quoting->Quote(sgx).code(), StatusCode::kInvalidArgument);
}

TEST(SimQuoteTest, LeafIsValidFor48HoursAndRenewedForLaterEvidence) {
  DeterministicRandom random(9);
  ManualClock clock;
  auto quoting = SimQuotingEnclave::Create(random, clock);
  ASSERT_TRUE(quoting.ok());
  Evidence first = SampleEvidence(random);
  first.timestamp_ms = clock.NowUnixMillis();
  ASSERT_TRUE(quoting->Quote(first).ok());
  const int64_t t0 = clock.NowUnixMillis();
  const int64_t hour = int64_t{3600} * 1000;
  EXPECT_TRUE(VerifySimCertificateChain(first.certificates, t0 + 47 * hour, std::chrono::seconds(0)).ok());
  auto expired = VerifySimCertificateChain(first.certificates, t0 + 49 * hour, std::chrono::seconds(0));
  EXPECT_EQ(expired.status().code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(expired.status().message()),
              StartsWith("certificate chain: the quoting certificate expired"));
  auto early = VerifySimCertificateChain(first.certificates, t0 - hour, std::chrono::seconds(0));
  EXPECT_THAT(std::string(early.status().message()),
              StartsWith("certificate chain: the quoting certificate is not valid before"));

  // A long-running enclave: evidence made 30 h later carries a re-issued leaf for the same key.
  Evidence later = SampleEvidence(random);
  later.timestamp_ms = t0 + 30 * hour;
  ASSERT_TRUE(quoting->Quote(later).ok());
  EXPECT_NE(later.certificates[0], first.certificates[0]);
  auto key = VerifySimCertificateChain(later.certificates, t0 + 60 * hour, std::chrono::seconds(0));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(*key, quoting->public_key());
}

TEST(SimQuoteTest, EachEnclaveStartHasAFreshQuotingKey) {
  ManualClock clock;
  auto a = SimQuotingEnclave::Create(SecureRandom::Instance(), clock);
  auto b = SimQuotingEnclave::Create(SecureRandom::Instance(), clock);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->public_key(), b->public_key());
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "neosl_attest_XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(GramineQuoteTest, WritesReportDataThenReadsTheQuote) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::ofstream(dir.path() + "/quote", std::ios::binary) << "QUOTE-BYTES";
  std::array<uint8_t, 64> report_data{};
  report_data[0] = 0x42;
  report_data[63] = 0x24;
  auto quote = ReadGramineQuote(report_data, dir.path());
  ASSERT_TRUE(quote.ok()) << quote.status().ToString();
  EXPECT_EQ(std::string(quote->begin(), quote->end()), "QUOTE-BYTES");
  std::ifstream written(dir.path() + "/user_report_data", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(written)), std::istreambuf_iterator<char>());
  ASSERT_EQ(bytes.size(), 64u);
  EXPECT_EQ(uint8_t(bytes[0]), 0x42);
  EXPECT_EQ(uint8_t(bytes[63]), 0x24);
}

TEST(GramineQuoteTest, OutsideGramineIsUnavailable) {
  std::array<uint8_t, 64> report_data{};
  auto quote = ReadGramineQuote(report_data, "/nonexistent/neosl/attestation");
  EXPECT_EQ(quote.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace neosl::tee
