// ECVRF-P256-SHA256-TAI against RFC 9381 Appendix B.1 (Examples 10-12), and the properties a VRF
// must have: proofs verify, every other proof, key or input does not, and malformed inputs are
// refused with a reason.
#include "crypto/ecvrf.h"

#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/random.h"
#include "unit/crypto/test_util.h"

namespace neosl::crypto::ecvrf {
namespace {

using testing::Bytes;
using ::testing::HasSubstr;
using testing::Hex;
using ::testing::StartsWith;
using testing::Unhex;

constexpr const char* kOrder = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
constexpr const char* kFieldPrime = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";

// RFC 9381 (August 2023) Appendix B.1, ECVRF-P256-SHA256-TAI. The RFC prints alpha as hex; k, U
// and V are its intermediate values (U = k*B, V = k*H).
struct RfcExample {
  const char* name;
  const char* sk;
  const char* pk;
  const char* alpha;
  const char* h;
  const char* k;
  const char* u;
  const char* v;
  const char* pi;
  const char* beta;
};

const RfcExample kRfcExamples[] = {
    {"Example10", "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721",
     "0360fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6", "73616d706c65",  // "sample"
     "0272a877532e9ac193aff4401234266f59900a4a9e3fc3cfc6a4b7e467a15d06d4",
     "0d90591273453d2dc67312d39914e3a93e194ab47a58cd598886897076986f77",
     "02bb6a034f67643c6183c10f8b41dc4babf88bff154b674e377d90bde009c21672",
     "02893ebee7af9a0faa6da810da8a91f9d50e1dc071240c9706726820ff919e8394",
     "035b5c726e8c0e2c488a107c600578ee75cb702343c153cb1eb8dec77f4b5071b4a53f0a46f018bc2c56e58d383f2305e0"
     "975972c26feea0eb122fe7893c15af376b33edf7de17c6ea056d4d82de6bc02f",
     "a3ad7b0ef73d8fc6655053ea22f9bede8c743f08bbed3d38821f0e16474b505e"},
    {"Example11", "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721",
     "0360fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6", "74657374",  // "test"
     "02173119b4fff5e6f8afed4868a29fe8920f1b54c2cf89cc7b301d0d473de6b974",
     "5852353a868bdce26938cde1826723e58bf8cb06dd2fed475213ea6f3b12e961",
     "022779a2cafcb65414c4a04a4b4d2adf4c50395f57995e89e6de823250d91bc48e",
     "033b4a14731672e82339f03b45ff6b5b13dee7ada38c9bf1d6f8f61e2ce5921119",
     "034dac60aba508ba0c01aa9be80377ebd7562c4a52d74722e0abae7dc3080ddb56c19e067b15a8a8174905b13617804534"
     "214f935b94c2287f797e393eb0816969d864f37625b443f30f1a5a33f2b3c854",
     "a284f94ceec2ff4b3794629da7cbafa49121972671b466cab4ce170aa365f26d"},
    {"Example12", "2ca1411a41b17b24cc8c3b089cfd033f1920202a6c0de8abb97df1498d50d2c8",
     "03596375e6ce57e0f20294fc46bdfcfd19a39f8161b58695b3ec5b3d16427c274d",
     // "Example using ECDSA key from Appendix L.4.2 of ANSI.X9-62-2005"
     "4578616d706c65207573696e67204543445341206b65792066726f6d20417070656e646978204c2e342e32206f6620414e5349"
     "2e58392d36322d32303035",
     "0258055c26c4b01d01c00fb57567955f7d39cd6f6e85fd37c58f696cc6b7aa761d",
     "5689e2e08e1110b4dda293ac21667eac6db5de4a46a519c73d533f69be2f4da3",
     "020f465cd0ec74d2e23af0abde4c07e866ae4e5138bded5dd1196b8843f380db84",
     "036cb6f811428fc4904370b86c488f60c280fa5b496d2f34ff8772f60ed24b2d1d",
     "03d03398bf53aa23831d7d1b2937e005fb0062cbefa06796579f2a1fc7e7b8c667d091c00b0f5c3619d10ecea44363b5a5"
     "99cadc5b2957e223fec62e81f7b4825fc799a771a3d7334b9186bdbee87316b1",
     "90871e06da5caa39a3c61578ebb844de8635e27ac0b13e829997d0d95dd98c19"},
};

// gtest names the parameter in test listings; the default would dump its bytes.
void PrintTo(const RfcExample& example, std::ostream* os) {
  *os << example.name;
}

class EcvrfRfcTest : public ::testing::TestWithParam<RfcExample> {};

TEST_P(EcvrfRfcTest, MatchesRfc9381ByteForByte) {
  const RfcExample& ex = GetParam();
  const std::vector<uint8_t> pk = Unhex(ex.pk);
  const std::vector<uint8_t> alpha = Unhex(ex.alpha);
  auto key = PrivateKey::FromBytes(Unhex(ex.sk));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(Hex(key->public_key().Compressed()), ex.pk);

  auto h = internal::EncodeToCurve(pk, alpha);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(Hex(*h), ex.h);
  EXPECT_EQ(Hex(internal::Nonce(*key, *h).bytes()), ex.k);

  const Proof pi = Prove(*key, alpha);
  EXPECT_EQ(Hex(pi), ex.pi);
  auto beta = ProofToHash(pi);
  ASSERT_TRUE(beta.ok()) << beta.status().ToString();
  EXPECT_EQ(Hex(*beta), ex.beta);

  // The verifier's side, on the RFC's own bytes.
  auto points = internal::RecomputePoints(pk, Unhex(ex.pi), alpha);
  ASSERT_TRUE(points.ok()) << points.status().ToString();
  EXPECT_EQ(Hex(points->h), ex.h);
  EXPECT_EQ(Hex(points->u), ex.u);
  EXPECT_EQ(Hex(points->v), ex.v);
  auto verified = Verify(pk, Unhex(ex.pi), alpha);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(Hex(*verified), ex.beta);
}

INSTANTIATE_TEST_SUITE_P(AppendixB1, EcvrfRfcTest, ::testing::ValuesIn(kRfcExamples),
                         [](const ::testing::TestParamInfo<RfcExample>& example) {
                           return std::string(example.param.name);
                         });

std::vector<uint8_t> RandomBytes(RandomSource& random, size_t size) {
  std::vector<uint8_t> out(size);
  random.Fill(out);
  return out;
}

std::vector<uint8_t> CompressedKey(const PrivateKey& key) {
  const auto c = key.public_key().Compressed();
  return {c.begin(), c.end()};
}

TEST(EcvrfTest, ProofsVerifyToTheirHashForRandomKeysAndInputs) {
  DeterministicRandom random(9381);
  for (int i = 0; i < 24; ++i) {
    const PrivateKey key = PrivateKey::Generate(random);
    for (size_t size : {0u, 1u, 32u, 100u, 1000u}) {
      const std::vector<uint8_t> alpha = RandomBytes(random, size);
      const Proof pi = Prove(key, alpha);
      EXPECT_EQ(pi, Prove(key, alpha)) << "Prove is deterministic";
      auto beta = ProofToHash(pi);
      ASSERT_TRUE(beta.ok()) << beta.status().ToString();
      auto verified = Verify(CompressedKey(key), pi, alpha);
      ASSERT_TRUE(verified.ok()) << "key " << i << " size " << size << ": " << verified.status().ToString();
      EXPECT_EQ(*verified, *beta);
    }
  }
}

TEST(EcvrfTest, FlippingAnyBitOfAProofBreaksIt) {
  DeterministicRandom random(81);
  for (int i = 0; i < 3; ++i) {
    const PrivateKey key = PrivateKey::Generate(random);
    const std::vector<uint8_t> pk = CompressedKey(key);
    const std::vector<uint8_t> alpha = RandomBytes(random, 16);
    const Proof pi = Prove(key, alpha);
    ASSERT_TRUE(Verify(pk, pi, alpha).ok());
    for (size_t bit = 0; bit < kProofSize * 8; ++bit) {
      Proof tampered = pi;
      tampered[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      auto verified = Verify(pk, tampered, alpha);
      ASSERT_FALSE(verified.ok()) << "proof " << i << " bit " << bit;
      EXPECT_EQ(verified.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(EcvrfTest, AnotherInputOrKeyDoesNotVerify) {
  DeterministicRandom random(7);
  const PrivateKey key = PrivateKey::Generate(random);
  const PrivateKey other = PrivateKey::Generate(random);
  const std::vector<uint8_t> alpha = Bytes("round 42");
  const Proof pi = Prove(key, alpha);
  ASSERT_TRUE(Verify(CompressedKey(key), pi, alpha).ok());

  for (const std::vector<uint8_t>& wrong : {Bytes("round 43"), Bytes("round 42 "), Bytes("")}) {
    auto verified = Verify(CompressedKey(key), pi, wrong);
    ASSERT_FALSE(verified.ok());
    EXPECT_EQ(verified.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(verified.status().message(), "proof does not verify");
  }
  auto verified = Verify(CompressedKey(other), pi, alpha);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.status().message(), "proof does not verify");
  // Same key, other input: a different output.
  EXPECT_NE(*ProofToHash(pi), *ProofToHash(Prove(key, Bytes("round 43"))));
  EXPECT_NE(*ProofToHash(pi), *ProofToHash(Prove(other, alpha)));
}

TEST(EcvrfTest, MalformedPublicKeysAreInvalidArgument) {
  const RfcExample& ex = kRfcExamples[0];
  const std::vector<uint8_t> pi = Unhex(ex.pi);
  const std::vector<uint8_t> alpha = Unhex(ex.alpha);
  auto key = PrivateKey::FromBytes(Unhex(ex.sk));
  ASSERT_TRUE(key.ok());
  const auto uncompressed = key->public_key().Uncompressed();

  std::vector<std::vector<uint8_t>> bad = {
      {},
      {0x00},                                                 // SEC1's identity
      Unhex(std::string(ex.pk).substr(0, 64)),                // 32 bytes
      Unhex(std::string(ex.pk) + "00"),                       // 34 bytes
      {uncompressed.begin(), uncompressed.end()},             // valid point, but not PK_string's encoding
      Unhex(std::string("04") + (ex.pk + 2)),                 // 33 bytes, wrong prefix
      Unhex(std::string("00") + (ex.pk + 2)),                 //
      Unhex(std::string("02") + kFieldPrime),                 // x = p
      Unhex(std::string("03") + std::string(64, 'f')),        // x > p
      Unhex(std::string("02") + std::string(63, '0') + "1"),  // x = 1: 1 - 3 + b is not a square
  };
  ASSERT_FALSE(internal::DecompressPoint(bad.back()).has_value()) << "test premise: x = 1 is not on the curve";
  for (const std::vector<uint8_t>& pk : bad) {
    auto verified = Verify(pk, pi, alpha);
    ASSERT_FALSE(verified.ok()) << Hex(pk);
    EXPECT_EQ(verified.status().code(), StatusCode::kInvalidArgument) << Hex(pk);
    EXPECT_THAT(std::string(verified.status().message()), StartsWith("public key is not a valid point")) << Hex(pk);
  }
}

TEST(EcvrfTest, ProofsOfTheWrongLengthAreRefused) {
  const RfcExample& ex = kRfcExamples[0];
  const std::vector<uint8_t> pi = Unhex(ex.pi);
  for (size_t size : {0u, 33u, 80u, 82u, 97u}) {
    std::vector<uint8_t> resized = pi;
    resized.resize(size, 0x00);
    for (const auto& status :
         {Verify(Unhex(ex.pk), resized, Unhex(ex.alpha)).status(), ProofToHash(resized).status()}) {
      EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << size;
      EXPECT_THAT(std::string(status.message()), HasSubstr("proof must be 81 bytes")) << size;
    }
  }
}

TEST(EcvrfTest, SAtOrAboveTheGroupOrderIsRefused) {
  const RfcExample& ex = kRfcExamples[1];
  const std::vector<uint8_t> pi = Unhex(ex.pi);
  const std::string n = kOrder;
  // n, n + 1 and 2^256 - 1 are out of range; n - 1 decodes but does not verify.
  for (const std::string& s_hex : {n, n.substr(0, 63) + "2", std::string(64, 'f')}) {
    std::vector<uint8_t> bad = pi;
    const std::vector<uint8_t> s = Unhex(s_hex);
    std::copy(s.begin(), s.end(), bad.begin() + 49);
    for (const auto& status : {Verify(Unhex(ex.pk), bad, Unhex(ex.alpha)).status(), ProofToHash(bad).status()}) {
      EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << s_hex;
      EXPECT_EQ(status.message(), "s is not below the group order") << s_hex;
    }
  }
  std::vector<uint8_t> edge = pi;
  const std::vector<uint8_t> n_minus_1 = Unhex(n.substr(0, 63) + "0");
  std::copy(n_minus_1.begin(), n_minus_1.end(), edge.begin() + 49);
  EXPECT_TRUE(ProofToHash(edge).ok());
  EXPECT_EQ(Verify(Unhex(ex.pk), edge, Unhex(ex.alpha)).status().message(), "proof does not verify");
}

TEST(EcvrfTest, GammaMustBeAPoint) {
  const RfcExample& ex = kRfcExamples[2];
  for (const std::string& gamma : {std::string("04") + std::string(64, '1'), std::string("02") + kFieldPrime,
                                   std::string("02") + std::string(63, '0') + "1"}) {
    std::vector<uint8_t> bad = Unhex(ex.pi);
    const std::vector<uint8_t> g = Unhex(gamma);
    std::copy(g.begin(), g.end(), bad.begin());
    for (const auto& status : {Verify(Unhex(ex.pk), bad, Unhex(ex.alpha)).status(), ProofToHash(bad).status()}) {
      EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << gamma;
      EXPECT_EQ(status.message(), "Gamma is not a point on P-256") << gamma;
    }
  }
}

// Our string_to_point against OpenSSL's (through PublicKey), on points and on arbitrary strings.
TEST(EcvrfTest, DecompressionAgreesWithOpenSsl) {
  DeterministicRandom random(2304);
  int points = 0;
  for (int i = 0; i < 400; ++i) {
    std::vector<uint8_t> candidate = RandomBytes(random, 33);
    candidate[0] = (i % 2 == 0) ? 0x02 : 0x03;
    if (i % 4 == 0) {  // a real point a quarter of the time
      const auto c = PrivateKey::Generate(random).public_key().Compressed();
      candidate.assign(c.begin(), c.end());
    }
    if (i == 1) candidate = Unhex(std::string("03") + kFieldPrime);
    if (i == 2) candidate = Unhex(std::string("02") + std::string(64, '0'));
    const auto ours = internal::DecompressPoint(candidate);
    const auto theirs = PublicKey::FromBytes(candidate);
    ASSERT_EQ(ours.has_value(), theirs.ok()) << Hex(candidate);
    if (ours) {
      EXPECT_EQ(*ours, theirs->Uncompressed()) << Hex(candidate);
      ++points;
    }
  }
  EXPECT_GT(points, 150);  // a quarter are points by construction, about half of the rest by chance
}

TEST(EcvrfTest, ThreadsGetTheSameProofs) {
  DeterministicRandom random(3);
  const PrivateKey key = PrivateKey::Generate(random);
  std::vector<Proof> expected;
  expected.reserve(8);
  for (int i = 0; i < 8; ++i) expected.push_back(Prove(key, Bytes("input " + std::to_string(i))));
  std::vector<std::thread> threads;
  threads.reserve(4);
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 10; ++round) {
        for (int i = 0; i < 8; ++i) {
          const std::vector<uint8_t> alpha = Bytes("input " + std::to_string(i));
          if (Prove(key, alpha) != expected[i] || !Verify(CompressedKey(key), expected[i], alpha).ok()) {
            ++failures[t];
          }
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace neosl::crypto::ecvrf
