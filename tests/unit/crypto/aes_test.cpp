#include "crypto/aes.h"

#include <vector>

#include <gtest/gtest.h>

#include "unit/crypto/test_util.h"

namespace neosl::crypto {
namespace {

using testing::Hex;
using testing::Unhex;

// McGrew & Viega, "The Galois/Counter Mode of Operation", test case 16: AES-256, 96-bit IV,
// 60-byte plaintext and 20 bytes of additional data.
struct GcmCase16 {
  std::vector<uint8_t> key = Unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  std::vector<uint8_t> nonce = Unhex("cafebabefacedbaddecaf888");
  std::vector<uint8_t> aad = Unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  std::vector<uint8_t> plaintext = Unhex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de6"
      "57ba637b39");
  std::string sealed =
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a"
      "0abcc9f662"
      "76fc6ece0f4e1768cddf8853bb2d551b";  // the tag
};

TEST(AesGcmTest, McGrewViegaCase16SealsToTheVector) {
  const GcmCase16 v;
  auto sealed = Aes256GcmSeal(v.key, v.nonce, v.aad, v.plaintext);
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  EXPECT_EQ(Hex(*sealed), v.sealed);
}

TEST(AesGcmTest, McGrewViegaCase16Opens) {
  const GcmCase16 v;
  auto opened = Aes256GcmOpen(v.key, v.nonce, v.aad, Unhex(v.sealed));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(Hex(opened->bytes()), Hex(v.plaintext));
}

// McGrew & Viega test cases 13 and 14: zero key and IV, empty and one-block plaintext.
TEST(AesGcmTest, McGrewViegaCases13And14) {
  const std::vector<uint8_t> key(32, 0);
  const std::vector<uint8_t> nonce(12, 0);
  auto empty = Aes256GcmSeal(key, nonce, {}, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(Hex(*empty), "530f8afbc74536b9a963b4f1c4cb738b");
  auto block = Aes256GcmSeal(key, nonce, {}, std::vector<uint8_t>(16, 0));
  ASSERT_TRUE(block.ok());
  EXPECT_EQ(Hex(*block), "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919");
  auto opened = Aes256GcmOpen(key, nonce, {}, *empty);
  ASSERT_TRUE(opened.ok());
  EXPECT_TRUE(opened->empty());
}

TEST(AesGcmTest, EveryTamperIsDataLoss) {
  const GcmCase16 v;
  const std::vector<uint8_t> sealed = Unhex(v.sealed);
  auto expect_data_loss = [](const StatusOr<SecretBytes>& r, const char* what) {
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << what;
    EXPECT_EQ(r.status().message(), "authentication failed") << what;
  };

  std::vector<uint8_t> bad_ciphertext = sealed;
  bad_ciphertext[5] ^= 0x01;
  expect_data_loss(Aes256GcmOpen(v.key, v.nonce, v.aad, bad_ciphertext), "ciphertext bit");

  std::vector<uint8_t> bad_tag = sealed;
  bad_tag.back() ^= 0x80;
  expect_data_loss(Aes256GcmOpen(v.key, v.nonce, v.aad, bad_tag), "tag bit");

  std::vector<uint8_t> bad_aad = v.aad;
  bad_aad[0] ^= 0x01;
  expect_data_loss(Aes256GcmOpen(v.key, v.nonce, bad_aad, sealed), "aad bit");
  expect_data_loss(Aes256GcmOpen(v.key, v.nonce, {}, sealed), "aad dropped");

  std::vector<uint8_t> bad_nonce = v.nonce;
  bad_nonce[11] ^= 0x01;
  expect_data_loss(Aes256GcmOpen(v.key, bad_nonce, v.aad, sealed), "nonce bit");

  std::vector<uint8_t> bad_key = v.key;
  bad_key[0] ^= 0x01;
  expect_data_loss(Aes256GcmOpen(bad_key, v.nonce, v.aad, sealed), "wrong key");

  expect_data_loss(Aes256GcmOpen(v.key, v.nonce, v.aad, std::span(sealed).first(sealed.size() - 1)), "truncated");
  expect_data_loss(Aes256GcmOpen(v.key, v.nonce, v.aad, std::span(sealed).first(15)), "shorter than a tag");
  std::vector<uint8_t> extended = sealed;
  extended.push_back(0);
  expect_data_loss(Aes256GcmOpen(v.key, v.nonce, v.aad, extended), "extended");
}

TEST(AesGcmTest, RejectsWrongKeyAndNonceSizes) {
  const std::vector<uint8_t> plaintext = {1, 2, 3};
  EXPECT_EQ(Aes256GcmSeal(std::vector<uint8_t>(16, 0), std::vector<uint8_t>(12, 0), {}, plaintext).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Aes256GcmSeal(std::vector<uint8_t>(32, 0), std::vector<uint8_t>(16, 0), {}, plaintext).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Aes256GcmOpen(std::vector<uint8_t>(31, 0), std::vector<uint8_t>(12, 0), {}, std::vector<uint8_t>(16, 0))
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Aes256GcmOpen(std::vector<uint8_t>(32, 0), std::vector<uint8_t>(8, 0), {}, std::vector<uint8_t>(16, 0))
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

TEST(AesGcmTest, RoundTripsManySizes) {
  const std::vector<uint8_t> key(32, 0x42);
  const std::vector<uint8_t> nonce(12, 0x24);
  for (size_t size : {0u, 1u, 15u, 16u, 17u, 1000u}) {
    std::vector<uint8_t> plaintext(size);
    for (size_t i = 0; i < size; ++i) plaintext[i] = static_cast<uint8_t>(i * 7);
    auto sealed = Aes256GcmSeal(key, nonce, testing::Bytes("context"), plaintext);
    ASSERT_TRUE(sealed.ok());
    EXPECT_EQ(sealed->size(), size + kAesGcmTagSize);
    auto opened = Aes256GcmOpen(key, nonce, testing::Bytes("context"), *sealed);
    ASSERT_TRUE(opened.ok()) << size;
    EXPECT_EQ(Hex(opened->bytes()), Hex(plaintext));
  }
}

// FIPS-197 Appendix C.3 (AES-256 example vector).
TEST(AesEcbTest, Fips197AppendixC3) {
  const auto key = Unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  auto ct = Aes256EcbEncrypt(key, Unhex("00112233445566778899aabbccddeeff"));
  ASSERT_TRUE(ct.ok());
  EXPECT_EQ(Hex(*ct), "8ea2b7ca516745bfeafc49904b496089");
  auto pt = Aes256EcbDecrypt(key, *ct);
  ASSERT_TRUE(pt.ok());
  EXPECT_EQ(Hex(*pt), "00112233445566778899aabbccddeeff");
}

// NIST SP 800-38A F.1.5 (ECB-AES256.Encrypt) and F.1.6 (ECB-AES256.Decrypt): four blocks, so
// no padding may be added or stripped.
TEST(AesEcbTest, Sp80038aF15AndF16) {
  const auto key = Unhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
  const std::string plaintext =
      "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17"
      "ad2b417be66c3710";
  const std::string ciphertext =
      "f3eed1bdb5d2a03c064b5a7e3db181f8591ccb10d410ed26dc5ba74a31362870b6ed21b99ca6f4f9f153e7b1beafed1d23304b7a39f9f3ff"
      "067d8d8f9e24ecc7";
  auto ct = Aes256EcbEncrypt(key, Unhex(plaintext));
  ASSERT_TRUE(ct.ok());
  EXPECT_EQ(Hex(*ct), ciphertext);
  auto pt = Aes256EcbDecrypt(key, Unhex(ciphertext));
  ASSERT_TRUE(pt.ok());
  EXPECT_EQ(Hex(*pt), plaintext);
}

TEST(AesEcbTest, RejectsPartialBlocksAndWrongKeys) {
  const std::vector<uint8_t> key(32, 1);
  EXPECT_EQ(Aes256EcbEncrypt(key, std::vector<uint8_t>(15)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Aes256EcbEncrypt(key, std::vector<uint8_t>(17)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Aes256EcbDecrypt(key, std::vector<uint8_t>(33)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Aes256EcbEncrypt(std::vector<uint8_t>(24, 1), std::vector<uint8_t>(16)).status().code(),
            StatusCode::kInvalidArgument);
  auto empty = Aes256EcbEncrypt(key, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

}  // namespace
}  // namespace neosl::crypto
