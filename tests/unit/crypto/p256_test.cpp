#include "crypto/p256.h"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/bn.h>

#include "crypto/base58.h"
#include "crypto/hash.h"
#include "unit/crypto/test_util.h"

namespace neosl::crypto {
namespace {

using testing::Bytes;
using testing::Hex;
using testing::Unhex;

constexpr const char* kOrder = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
constexpr const char* kHalfOrder = "7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8";
constexpr const char* kFieldPrime = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";
constexpr const char* kGx = "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296";
constexpr const char* kGy = "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";

// n - v for a 32-byte hex value, computed with OpenSSL's BN so the test does not reuse our code.
std::string OrderMinus(const std::string& hex) {
  BIGNUM* n = nullptr;
  BIGNUM* v = nullptr;
  BN_hex2bn(&n, kOrder);
  BN_hex2bn(&v, hex.c_str());
  BN_sub(n, n, v);
  std::vector<uint8_t> out(32);
  BN_bn2binpad(n, out.data(), 32);
  BN_free(n);
  BN_free(v);
  return Hex(out);
}

std::string R(const Signature& sig) {
  return Hex(std::span(sig).first(32));
}
std::string S(const Signature& sig) {
  return Hex(std::span(sig).last(32));
}

Signature MakeSig(const std::string& r_hex, const std::string& s_hex) {
  Signature sig{};
  const auto bytes = Unhex(r_hex + s_hex);
  std::copy(bytes.begin(), bytes.end(), sig.begin());
  return sig;
}

bool IsLowS(const Signature& sig) {
  return S(sig) <= std::string(kHalfOrder);
}  // same-length lowercase hex

// RFC 6979 Appendix A.2.5: ECDSA, 256 bits (prime field), with SHA-256.
constexpr const char* kRfcKey = "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";

TEST(P256Rfc6979Test, PublicKeyMatchesAppendixA25) {
  auto key = PrivateKey::FromBytes(Unhex(kRfcKey));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(Hex(key->public_key().Uncompressed()),
            "04"
            "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
            "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299");
}

struct RfcSignature {
  const char* message;
  const char* k;
  const char* r;
  const char* s;  // as published, before low-S normalisation
};

const RfcSignature kRfcSignatures[] = {
    {"sample", "a6e3c57dd01abe90086538398355dd4c3b17aa873382b0f24d6129493d8aad60",
     "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716",
     "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"},
    {"test", "d16b6ae827f17175e040871a1c7ec3500192c4c92677336ec2537acaee0008e0",
     "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367",
     "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083"},
    // C2SP/CCTV rfc6979: the same key, a message whose first HMAC-DRBG candidate is >= n, so the
    // generator must re-key and draw again (P-256's 2^-32 case).
    {"wv[vnX", "2ae40df9d9dab61d688de3dcb9867a98ecc70dd4d6c0f6c228b6e4e0b18b29bc",
     "efd9073b652e76da1b5a019c0e4a2e3fa529b035a6abb91ef67f0ed7a1f21234",
     "3db4706c9d9f4a4fe13bb5e08ef0fab53a57dbab2061c83a35fa411c68d2ba33"},
};

TEST(P256Rfc6979Test, NoncesMatchPublishedK) {
  auto key = PrivateKey::FromBytes(Unhex(kRfcKey));
  ASSERT_TRUE(key.ok());
  for (const auto& v : kRfcSignatures) {
    EXPECT_EQ(Hex(internal::Rfc6979Nonce(*key, AsBytes(v.message)).bytes()), v.k) << v.message;
  }
}

TEST(P256Rfc6979Test, SignaturesMatchUpToLowS) {
  auto key = PrivateKey::FromBytes(Unhex(kRfcKey));
  ASSERT_TRUE(key.ok());
  for (const auto& v : kRfcSignatures) {
    const Signature sig = key->Sign(AsBytes(v.message));
    EXPECT_EQ(R(sig), v.r) << v.message;
    const std::string low_s = std::min(std::string(v.s), OrderMinus(v.s));
    EXPECT_EQ(S(sig), low_s) << v.message;
    EXPECT_TRUE(key->public_key().Verify(AsBytes(v.message), sig)) << v.message;
  }
  // "sample" is published with a high s, so normalisation must have changed it.
  EXPECT_NE(S(key->Sign(AsBytes("sample"))), kRfcSignatures[0].s);
}

// Neo does not enforce low-S when verifying, so the RFC's own high-S signature must pass.
TEST(P256Rfc6979Test, PublishedHighSSignatureVerifies) {
  auto key = PrivateKey::FromBytes(Unhex(kRfcKey));
  ASSERT_TRUE(key.ok());
  const Signature high = MakeSig(kRfcSignatures[0].r, kRfcSignatures[0].s);
  EXPECT_FALSE(IsLowS(high));
  EXPECT_TRUE(key->public_key().Verify(AsBytes("sample"), high));
  EXPECT_FALSE(key->public_key().Verify(AsBytes("samplf"), high));
}

// neow3j's SignTest (io.neow3j.crypto), mirrored by NeoSwift: a Neo SDK that signs with RFC 6979
// and low-S, so its published bytes must match ours exactly.
TEST(P256NeoVectorsTest, Neow3jSignMessage) {
  auto key = PrivateKey::FromBytes(Unhex("9117f4bf9be717c9a90994326897f4243503accd06712162267e77f18b49c3a3"));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(Hex(key->public_key().Compressed()), "0265bf906bf385fbf3f777832e55a87991bcfbe19b097fb7c5ca2e4025a4d5e5d6");
  const Signature sig = key->Sign(AsBytes("A test message"));
  EXPECT_EQ(R(sig), "147e5f3c929dd830d961626551dbea6b70e4b2837ed2fe9089eed2072ab3a655");
  EXPECT_EQ(S(sig), "523ae0fa8711eee4769f1913b180b9b3410bbb2cf770f529c85f6886f22cbaaf");
}

// nspcc-dev/neo-go internal/keytestcases/testcases.go (the same keys as neon-js's testKeys.json):
// private key -> public key -> N3 address, where the address is
// Base58Check(0x35 || Hash160(PUSHDATA1 33 <key> SYSCALL System.Crypto.CheckSig)).
TEST(P256NeoVectorsTest, NeoGoKeyTestCases) {
  struct NeoKey {
    const char* private_key;
    const char* public_key;
    const char* address;
  };
  const NeoKey keys[] = {
      {"7d128a6d096f0c14c3a25a2b0c41cf79661bfcb4a8cc95aaaea28bde4d732344",
       "02028a99826edc0c97d18e22b6932373d908d323aa7f92656a77ec26e8861699ef", "NPTmAHDxo6Pkyic8Nvu3kwyXoYJCvcCB6i"},
      {"9ab7e154840daca3a2efadaf0df93cd3a5b51768c632f5433f86909d9b994a69",
       "031d8e1630ce640966967bc6d95223d21f44304133003140c3b52004dc981349c9", "NMBfzaEq2c5zodiNbLPoohVENARMbJim1r"},
      {"3edee7036b8fd9cef91de47386b191dd76db2888a553e7736bb02808932a915b",
       "02232ce8d2e2063dce0451131851d47421bfc4fc1da4db116fca5302c0756462fa", "NfVdwyaJbijrWkRagrvs4eSRQUpP7WpukT"},
  };
  // The syscall id is the first four bytes of SHA-256 of the interop name.
  const Digest256 syscall = Sha256(AsBytes("System.Crypto.CheckSig"));
  EXPECT_EQ(Hex(std::span(syscall).first(4)), "56e7b327");
  for (const auto& k : keys) {
    auto key = PrivateKey::FromBytes(Unhex(k.private_key));
    ASSERT_TRUE(key.ok());
    EXPECT_EQ(Hex(key->public_key().Compressed()), k.public_key);
    std::vector<uint8_t> script = {0x0c, 0x21};
    const auto compressed = key->public_key().Compressed();
    script.insert(script.end(), compressed.begin(), compressed.end());
    script.push_back(0x41);
    script.insert(script.end(), syscall.begin(), syscall.begin() + 4);
    std::vector<uint8_t> payload = {0x35};
    const Digest160 script_hash = Hash160(script);
    payload.insert(payload.end(), script_hash.begin(), script_hash.end());
    EXPECT_EQ(Base58CheckEncode(payload), k.address);
  }
}

TEST(P256PublicKeyTest, CompressedAndUncompressedRoundTrip) {
  const std::string compressed = "02028a99826edc0c97d18e22b6932373d908d323aa7f92656a77ec26e8861699ef";
  auto from_compressed = PublicKey::FromHex(compressed);
  ASSERT_TRUE(from_compressed.ok()) << from_compressed.status().ToString();
  EXPECT_EQ(Hex(from_compressed->Compressed()), compressed);
  const auto uncompressed = from_compressed->Uncompressed();
  EXPECT_EQ(uncompressed[0], 0x04);
  EXPECT_EQ(Hex(std::span(uncompressed).subspan(1, 32)), compressed.substr(2));

  auto from_uncompressed = PublicKey::FromBytes(uncompressed);
  ASSERT_TRUE(from_uncompressed.ok());
  EXPECT_EQ(Hex(from_uncompressed->Compressed()), compressed);
  EXPECT_EQ(*from_uncompressed, *from_compressed);

  // Hex is case-insensitive; the key is the same point.
  std::string upper = compressed;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); });
  auto from_upper = PublicKey::FromHex(upper);
  ASSERT_TRUE(from_upper.ok());
  EXPECT_EQ(*from_upper, *from_compressed);

  std::ostringstream printed;
  printed << *from_uncompressed;
  EXPECT_EQ(printed.str(), compressed);
}

TEST(P256PublicKeyTest, GeneratorEncodings) {
  auto g = PublicKey::FromHex(std::string("04") + kGx + kGy);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(Hex(g->Compressed()), std::string("03") + kGx);  // Gy is odd
}

TEST(P256PublicKeyTest, RejectsPointsOffTheCurve) {
  auto expect_invalid = [](const std::string& hex) {
    auto key = PublicKey::FromHex(hex);
    EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument) << hex;
  };
  // G with the last bit of y flipped.
  std::string bad_y = std::string("04") + kGx + kGy;
  bad_y.back() = '4';
  expect_invalid(bad_y);
  expect_invalid(std::string("04") + kGx + kGx);
  expect_invalid("04" + std::string(128, '0'));  // (0, 0)
  // x = 1: 1 - 3 + b has no square root mod p, so no point has this x.
  expect_invalid("02" + std::string(63, '0') + "1");
  expect_invalid("03" + std::string(63, '0') + "1");
  // Coordinates outside the field.
  expect_invalid(std::string("02") + kFieldPrime);
  expect_invalid("03" + std::string(64, 'f'));
  expect_invalid(std::string("04") + kFieldPrime + kGy);
}

TEST(P256PublicKeyTest, RejectsOtherEncodings) {
  for (const std::string& hex : {
           std::string("00"),                               // infinity
           std::string("06") + kGx + kGy,                   // hybrid, y odd
           std::string("07") + kGx + kGy,                   // hybrid
           std::string("05") + kGx + kGy,                   // unknown prefix
           std::string("04") + kGx,                         // uncompressed prefix, compressed length
           std::string("02") + kGx + kGy,                   // compressed prefix, uncompressed length
           std::string(kGx),                                // no prefix
           std::string("03") + kGx + "00",                  // trailing byte
           std::string("03") + std::string(kGx).substr(2),  // short
           std::string(),
       }) {
    EXPECT_EQ(PublicKey::FromHex(hex).status().code(), StatusCode::kInvalidArgument) << hex;
  }
  EXPECT_EQ(PublicKey::FromHex("zz").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PublicKey::FromHex("0").status().code(), StatusCode::kInvalidArgument);
}

// Neo's ECPoint.CompareTo compares X, then Y, as integers. Sorting by the compressed bytes would
// put the 02/03 prefix first and get both of these pairs wrong.
TEST(P256PublicKeyTest, OrdersLikeNeoEcPointCompareTo) {
  auto g = PrivateKey::FromBytes(Unhex(std::string(63, '0') + "1"));
  auto four_g = PrivateKey::FromBytes(Unhex(std::string(63, '0') + "4"));
  auto minus_g = PrivateKey::FromBytes(Unhex(OrderMinus(std::string(63, '0') + "1")));
  ASSERT_TRUE(g.ok() && four_g.ok() && minus_g.ok());
  const PublicKey& G = g->public_key();
  const PublicKey& G4 = four_g->public_key();
  const PublicKey& Gneg = minus_g->public_key();
  ASSERT_EQ(Hex(G.Compressed()), std::string("03") + kGx);
  ASSERT_EQ(Hex(G4.Compressed()).substr(0, 4), "02e2");        // x(4G) = e253... > Gx, y even
  ASSERT_EQ(Hex(Gneg.Compressed()), std::string("02") + kGx);  // same x, y = p - Gy (even)

  EXPECT_TRUE(G < G4);  // X: 6b.. < e2.. although 03 > 02
  EXPECT_TRUE(G4 > G);
  EXPECT_TRUE(G < Gneg);  // equal X; Gy = 4f.. < p - Gy = b0..
  EXPECT_TRUE(Gneg < G4);
  EXPECT_EQ(G <=> G, std::strong_ordering::equal);
  EXPECT_NE(G, Gneg);

  std::vector<PublicKey> keys = {G4, Gneg, G};
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys[0], G);
  EXPECT_EQ(keys[1], Gneg);
  EXPECT_EQ(keys[2], G4);

  // Equality is by value, not by how the key was parsed.
  auto parsed = PublicKey::FromHex(std::string("04") + kGx + kGy);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, G);
  EXPECT_EQ(*parsed <=> G, std::strong_ordering::equal);
  const PublicKey copy = G;
  EXPECT_EQ(copy, G);
}

TEST(P256PrivateKeyTest, RangeIsOneToOrderMinusOne) {
  EXPECT_EQ(PrivateKey::FromBytes(std::vector<uint8_t>(32, 0)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PrivateKey::FromBytes(Unhex(kOrder)).status().code(), StatusCode::kInvalidArgument);
  auto all_ones = PrivateKey::FromBytes(std::vector<uint8_t>(32, 0xff));
  EXPECT_EQ(all_ones.status().code(), StatusCode::kInvalidArgument);
  // The error must not echo the key.
  EXPECT_EQ(std::string(all_ones.status().message()).find("ff"), std::string::npos);
  EXPECT_EQ(PrivateKey::FromBytes(std::vector<uint8_t>(31, 1)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PrivateKey::FromBytes(std::vector<uint8_t>(33, 1)).status().code(), StatusCode::kInvalidArgument);

  auto one = PrivateKey::FromBytes(Unhex(std::string(63, '0') + "1"));
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(Hex(one->public_key().Compressed()), std::string("03") + kGx);
  auto largest = PrivateKey::FromBytes(Unhex(OrderMinus(std::string(63, '0') + "1")));
  ASSERT_TRUE(largest.ok());
  EXPECT_EQ(Hex(largest->public_key().Compressed()), std::string("02") + kGx);
  EXPECT_EQ(Hex(largest->bytes().bytes()), OrderMinus(std::string(63, '0') + "1"));
}

// Yields scripted bytes first, then falls back to a seeded generator.
class ScriptedRandom final : public RandomSource {
 public:
  explicit ScriptedRandom(std::vector<std::vector<uint8_t>> script) : script_(std::move(script)) {}
  void Fill(std::span<uint8_t> out) override {
    if (next_ < script_.size()) {
      std::copy(script_[next_].begin(), script_[next_].end(), out.begin());
      ++next_;
      return;
    }
    fallback_.Fill(out);
  }
  size_t used() const { return next_; }

 private:
  std::vector<std::vector<uint8_t>> script_;
  size_t next_ = 0;
  DeterministicRandom fallback_{99};
};

TEST(P256PrivateKeyTest, GenerateRejectsOutOfRangeDraws) {
  const std::vector<uint8_t> valid = Unhex(kRfcKey);
  ScriptedRandom random({std::vector<uint8_t>(32, 0), Unhex(kOrder), std::vector<uint8_t>(32, 0xff), valid});
  PrivateKey key = PrivateKey::Generate(random);
  EXPECT_EQ(random.used(), 4u);
  EXPECT_EQ(Hex(key.bytes().bytes()), kRfcKey);
}

TEST(P256PrivateKeyTest, GenerateIsReproducibleFromTheSameSeed) {
  DeterministicRandom a(1), b(1), c(2);
  PrivateKey ka = PrivateKey::Generate(a);
  PrivateKey kb = PrivateKey::Generate(b);
  PrivateKey kc = PrivateKey::Generate(c);
  EXPECT_EQ(ka.public_key(), kb.public_key());
  EXPECT_NE(ka.public_key(), kc.public_key());
  EXPECT_EQ(ka.bytes().size(), 32u);
}

TEST(P256PrivateKeyTest, MovedKeyKeepsWorking) {
  DeterministicRandom random(5);
  PrivateKey original = PrivateKey::Generate(random);
  const PublicKey public_key = original.public_key();
  const Signature before = original.Sign(Bytes("m"));
  PrivateKey moved = std::move(original);
  EXPECT_EQ(moved.public_key(), public_key);
  EXPECT_EQ(moved.Sign(Bytes("m")), before);
  PrivateKey assigned = PrivateKey::Generate(random);
  assigned = std::move(moved);
  EXPECT_EQ(assigned.Sign(Bytes("m")), before);
}

TEST(P256PresignTest, APresignedSignatureVerifiesIsLowSAndBindsTheMessage) {
  DeterministicRandom random(7);
  PrivateKey key = PrivateKey::Generate(random);
  SecureRandom& fresh = SecureRandom::Instance();
  for (int i = 0; i < 32; ++i) {
    const std::string message = "result " + std::to_string(i);
    PresignedNonce nonce = key.Presign(fresh);
    ASSERT_TRUE(nonce.ready());
    const Signature sig = key.SignPresigned(Bytes(message), std::move(nonce));
    EXPECT_FALSE(nonce.ready());  // NOLINT(bugprone-use-after-move): moved-from nonces are wiped
    EXPECT_TRUE(key.public_key().Verify(Bytes(message), sig)) << i;
    EXPECT_FALSE(key.public_key().Verify(Bytes(message + "!"), sig)) << i;
    // Low-S: s <= n/2, whose top byte is at most 0x7f.
    EXPECT_LE(sig[32], 0x7f) << i;
  }
}

TEST(P256PresignTest, EachNonceIsFreshAndAMissingOneFallsBackToRfc6979) {
  DeterministicRandom random(8);
  PrivateKey key = PrivateKey::Generate(random);
  DeterministicRandom draws(9);
  // The same message under two presigned nonces: different r (a repeated k would leak the key).
  const Signature a = key.SignPresigned(Bytes("m"), key.Presign(draws));
  const Signature b = key.SignPresigned(Bytes("m"), key.Presign(draws));
  EXPECT_NE(std::vector<uint8_t>(a.begin(), a.begin() + 32), std::vector<uint8_t>(b.begin(), b.begin() + 32));
  EXPECT_TRUE(key.public_key().Verify(Bytes("m"), a));
  EXPECT_TRUE(key.public_key().Verify(Bytes("m"), b));
  // No nonce prepared: the deterministic signature.
  EXPECT_EQ(key.SignPresigned(Bytes("m"), PresignedNonce()), key.Sign(Bytes("m")));
}

}  // namespace
}  // namespace neosl::crypto
