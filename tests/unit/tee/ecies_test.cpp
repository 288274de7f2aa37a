#include "crypto/ecies.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "crypto/aes.h"
#include "crypto/hash.h"
#include "unit/crypto/test_util.h"

namespace neosl::crypto {
namespace {

using testing::Bytes;
using ::testing::HasSubstr;
using testing::Hex;
using testing::Unhex;

// RFC 5903 section 8.1 (256-bit random ECP group): i and r, their public points, and the x of
// the shared point g^ir.
constexpr std::string_view kRfcI = "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433";
constexpr std::string_view kRfcGi =
    "04dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180"
    "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3";
constexpr std::string_view kRfcR = "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53";
constexpr std::string_view kRfcGr =
    "04d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63"
    "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab";
constexpr std::string_view kRfcShared = "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de";

PrivateKey KeyFromHex(std::string_view hex) {
  auto key = PrivateKey::FromBytes(Unhex(hex));
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return std::move(key).value();
}

TEST(EcdhTest, MatchesRfc5903VectorBothWays) {
  const PrivateKey i = KeyFromHex(kRfcI);
  const PrivateKey r = KeyFromHex(kRfcR);
  ASSERT_EQ(Hex(i.public_key().Uncompressed()), kRfcGi);
  ASSERT_EQ(Hex(r.public_key().Uncompressed()), kRfcGr);
  auto ir = internal::EcdhSharedX(i, r.public_key());
  auto ri = internal::EcdhSharedX(r, i.public_key());
  ASSERT_TRUE(ir.ok()) << ir.status().ToString();
  ASSERT_TRUE(ri.ok()) << ri.status().ToString();
  EXPECT_EQ(Hex(ir->bytes()), kRfcShared);
  EXPECT_EQ(Hex(ri->bytes()), kRfcShared);
}

// x(d·P) computed with OpenSSL's point arithmetic directly, not through EVP_PKEY_derive.
std::vector<uint8_t> SharedXByPointMultiplication(const PrivateKey& d, std::span<const uint8_t> point33) {
  EC_GROUP* group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  EC_POINT* p = EC_POINT_new(group);
  EC_POINT* out = EC_POINT_new(group);
  BIGNUM* scalar = BN_bin2bn(d.bytes().bytes().data(), 32, nullptr);
  BIGNUM* x = BN_new();
  std::vector<uint8_t> result(32);
  EXPECT_EQ(EC_POINT_oct2point(group, p, point33.data(), point33.size(), nullptr), 1);
  EXPECT_EQ(EC_POINT_mul(group, out, nullptr, p, scalar, nullptr), 1);
  EXPECT_EQ(EC_POINT_get_affine_coordinates(group, out, x, nullptr, nullptr), 1);
  EXPECT_EQ(BN_bn2binpad(x, result.data(), 32), 32);
  BN_free(x);
  BN_clear_free(scalar);
  EC_POINT_free(out);
  EC_POINT_free(p);
  EC_GROUP_free(group);
  return result;
}

// RFC 5869 written out with HMAC-SHA256, for a one-block output.
std::vector<uint8_t> HkdfOneBlock(std::span<const uint8_t> ikm, std::span<const uint8_t> salt,
                                  std::span<const uint8_t> info) {
  const Digest256 prk = HmacSha256(salt, ikm);
  std::vector<uint8_t> t(info.begin(), info.end());
  t.push_back(0x01);
  const Digest256 okm = HmacSha256(prk, t);
  return {okm.begin(), okm.end()};
}

TEST(EciesTest, BlobDecryptsWithAnIndependentDerivation) {
  DeterministicRandom random(7);
  const PrivateKey recipient = PrivateKey::Generate(random);
  const auto plaintext = Bytes("the enclave holds this secret");
  const auto info = Bytes("neosl-secret-v1");
  auto blob = EciesEncrypt(recipient.public_key(), plaintext, info, random);
  ASSERT_TRUE(blob.ok()) << blob.status().ToString();
  ASSERT_EQ(blob->size(), kEciesOverhead + plaintext.size());
  ASSERT_EQ((*blob)[0], 0x01);

  const std::span<const uint8_t> ephemeral33(blob->data() + 1, 33);
  const std::span<const uint8_t> nonce(blob->data() + 34, 12);
  const std::vector<uint8_t> z = SharedXByPointMultiplication(recipient, ephemeral33);
  auto ephemeral = PublicKey::FromBytes(ephemeral33);
  ASSERT_TRUE(ephemeral.ok());
  auto ours = internal::EcdhSharedX(recipient, *ephemeral);
  ASSERT_TRUE(ours.ok());
  EXPECT_EQ(Hex(ours->bytes()), Hex(z));

  std::vector<uint8_t> salt(ephemeral33.begin(), ephemeral33.end());
  const auto r33 = recipient.public_key().Compressed();
  salt.insert(salt.end(), r33.begin(), r33.end());
  const std::vector<uint8_t> key = HkdfOneBlock(z, salt, info);
  auto opened = Aes256GcmOpen(key, nonce, {}, std::span<const uint8_t>(*blob).subspan(46));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(Hex(opened->bytes()), Hex(plaintext));
}

TEST(EciesTest, RoundTripsAnySize) {
  const PrivateKey recipient = PrivateKey::Generate(SecureRandom::Instance());
  for (size_t size : {0, 1, 15, 16, 17, 1000, 70000}) {
    std::vector<uint8_t> plaintext(size);
    for (size_t i = 0; i < size; ++i) plaintext[i] = static_cast<uint8_t>(i * 31 + 7);
    auto blob = EciesEncrypt(recipient.public_key(), plaintext, Bytes("ctx"), SecureRandom::Instance());
    ASSERT_TRUE(blob.ok()) << blob.status().ToString();
    EXPECT_EQ(blob->size(), plaintext.size() + kEciesOverhead);
    auto opened = EciesDecrypt(recipient, *blob, Bytes("ctx"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_TRUE(std::equal(plaintext.begin(), plaintext.end(), opened->bytes().begin(), opened->bytes().end()))
        << "size " << size;
  }
}

TEST(EciesTest, FreshEphemeralKeyAndNonceEveryTime) {
  const PrivateKey recipient = PrivateKey::Generate(SecureRandom::Instance());
  auto a = EciesEncrypt(recipient.public_key(), Bytes("same"), Bytes("ctx"), SecureRandom::Instance());
  auto b = EciesEncrypt(recipient.public_key(), Bytes("same"), Bytes("ctx"), SecureRandom::Instance());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(Hex(std::span(*a).subspan(1, 45)), Hex(std::span(*b).subspan(1, 45)));
}

constexpr std::string_view kPinnedBlob =
    "01037c8483b6c9f412d4a77986e675075e5e6a7b5bb96be7cc7e34e4726dbb25777849ff98071e9ca6ca035a647621c46a2123b8761ba47b"
    "87b7883db0a601dfb35a2902";

// Pins the format: the same key, randomness and input give these exact bytes. A change here
// breaks every client that encrypts to the enclave.
TEST(EciesTest, DeterministicBlobIsPinned) {
  const PrivateKey recipient = KeyFromHex(kRfcR);
  DeterministicRandom random(2026);
  auto blob = EciesEncrypt(recipient.public_key(), Bytes("pinned"), Bytes("neosl-secret-v1"), random);
  ASSERT_TRUE(blob.ok());
  EXPECT_EQ(Hex(*blob), kPinnedBlob);
  auto opened = EciesDecrypt(recipient, Unhex(kPinnedBlob), Bytes("neosl-secret-v1"));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(Hex(opened->bytes()), Hex(Bytes("pinned")));
}

TEST(EciesTest, EveryTamperedByteIsDataLoss) {
  const PrivateKey recipient = PrivateKey::Generate(SecureRandom::Instance());
  auto blob = EciesEncrypt(recipient.public_key(), Bytes("sixteen byte msg"), Bytes("ctx"), SecureRandom::Instance());
  ASSERT_TRUE(blob.ok());
  // Regions: version [0], ephemeral key [1, 34), nonce [34, 46), ciphertext [46, 62), tag [62, 78).
  for (size_t i = 0; i < blob->size(); ++i) {
    for (uint8_t bit : {0x01, 0x80}) {
      std::vector<uint8_t> tampered = *blob;
      tampered[i] ^= bit;
      auto opened = EciesDecrypt(recipient, tampered, Bytes("ctx"));
      ASSERT_FALSE(opened.ok()) << "byte " << i;
      EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss) << "byte " << i << ": " << opened.status().ToString();
    }
  }
}

TEST(EciesTest, TruncatedOrExtendedBlobIsDataLoss) {
  const PrivateKey recipient = PrivateKey::Generate(SecureRandom::Instance());
  auto blob = EciesEncrypt(recipient.public_key(), Bytes("msg"), Bytes("ctx"), SecureRandom::Instance());
  ASSERT_TRUE(blob.ok());
  for (size_t len = 0; len < blob->size(); ++len) {
    auto opened = EciesDecrypt(recipient, std::span(*blob).first(len), Bytes("ctx"));
    ASSERT_FALSE(opened.ok()) << len;
    EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss) << len;
  }
  std::vector<uint8_t> longer = *blob;
  longer.push_back(0);
  EXPECT_EQ(EciesDecrypt(recipient, longer, Bytes("ctx")).status().code(), StatusCode::kDataLoss);
}

TEST(EciesTest, WrongKeyOrInfoIsDataLoss) {
  const PrivateKey recipient = PrivateKey::Generate(SecureRandom::Instance());
  const PrivateKey other = PrivateKey::Generate(SecureRandom::Instance());
  auto blob = EciesEncrypt(recipient.public_key(), Bytes("msg"), Bytes("ctx"), SecureRandom::Instance());
  ASSERT_TRUE(blob.ok());
  auto wrong_key = EciesDecrypt(other, *blob, Bytes("ctx"));
  EXPECT_EQ(wrong_key.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(std::string(wrong_key.status().message()), HasSubstr("does not decrypt"));
  EXPECT_THAT(std::string(wrong_key.status().message()), ::testing::Not(HasSubstr(Hex(other.bytes().bytes()))));
  EXPECT_EQ(EciesDecrypt(recipient, *blob, Bytes("ctx2")).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(EciesDecrypt(recipient, *blob, {}).status().code(), StatusCode::kDataLoss);
}

TEST(EciesTest, UnknownVersionNamesIt) {
  const PrivateKey recipient = PrivateKey::Generate(SecureRandom::Instance());
  auto blob = EciesEncrypt(recipient.public_key(), Bytes("msg"), Bytes("ctx"), SecureRandom::Instance());
  ASSERT_TRUE(blob.ok());
  (*blob)[0] = 0x02;
  auto opened = EciesDecrypt(recipient, *blob, Bytes("ctx"));
  EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(std::string(opened.status().message()), HasSubstr("unsupported version 2"));
}

}  // namespace
}  // namespace neosl::crypto
