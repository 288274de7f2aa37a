#include "crypto/kdf.h"

#include <vector>

#include <gtest/gtest.h>

#include "unit/crypto/test_util.h"

namespace neosl::crypto {
namespace {

using testing::Bytes;
using testing::Hex;
using testing::Unhex;

std::vector<uint8_t> Range(int from, int to) {
  std::vector<uint8_t> out;
  for (int i = from; i < to; ++i) out.push_back(static_cast<uint8_t>(i));
  return out;
}

// RFC 5869 Appendix A.1.
TEST(HkdfSha256Test, Rfc5869Case1Basic) {
  auto okm = HkdfSha256(std::vector<uint8_t>(22, 0x0b), Unhex("000102030405060708090a0b0c"),
                        Unhex("f0f1f2f3f4f5f6f7f8f9"), 42);
  ASSERT_TRUE(okm.ok()) << okm.status().ToString();
  EXPECT_EQ(Hex(okm->bytes()), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

// RFC 5869 Appendix A.2: longer inputs and a three-block output.
TEST(HkdfSha256Test, Rfc5869Case2LongInputs) {
  auto okm = HkdfSha256(Range(0x00, 0x50), Range(0x60, 0xb0), Range(0xb0, 0x100), 82);
  ASSERT_TRUE(okm.ok()) << okm.status().ToString();
  EXPECT_EQ(Hex(okm->bytes()),
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c"
            "2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87");
}

// RFC 5869 Appendix A.3: empty salt and info.
TEST(HkdfSha256Test, Rfc5869Case3EmptySaltAndInfo) {
  auto okm = HkdfSha256(std::vector<uint8_t>(22, 0x0b), {}, {}, 42);
  ASSERT_TRUE(okm.ok()) << okm.status().ToString();
  EXPECT_EQ(Hex(okm->bytes()), "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
  // The RFC defines a missing salt as 32 zero bytes; both spellings must agree.
  auto zero_salt = HkdfSha256(std::vector<uint8_t>(22, 0x0b), std::vector<uint8_t>(32, 0), {}, 42);
  ASSERT_TRUE(zero_salt.ok());
  EXPECT_EQ(Hex(zero_salt->bytes()), Hex(okm->bytes()));
}

TEST(HkdfSha256Test, RejectsLengthsOutsideTheRfcRange) {
  const std::vector<uint8_t> ikm(32, 1);
  EXPECT_EQ(HkdfSha256(ikm, {}, {}, 0).status().code(), StatusCode::kInvalidArgument);
  constexpr size_t kLongest = size_t{255} * 32;
  EXPECT_EQ(HkdfSha256(ikm, {}, {}, kLongest + 1).status().code(), StatusCode::kInvalidArgument);
  auto longest = HkdfSha256(ikm, {}, {}, kLongest);
  ASSERT_TRUE(longest.ok());
  EXPECT_EQ(longest->size(), kLongest);
}

// RFC 7914 §12, vectors 1-3 (vector 4 needs 1 GiB and is used below for the memory cap).
TEST(ScryptTest, Rfc7914Vectors) {
  auto v1 = Scrypt({}, {}, 16, 1, 1, 64);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(Hex(v1->bytes()),
            "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e"
            "0d3628cf35e20c38d18906");
  auto v2 = Scrypt(Bytes("password"), Bytes("NaCl"), 1024, 8, 16, 64);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(Hex(v2->bytes()),
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a"
            "83ee6d8360cbdfa2cc0640");
  auto v3 = Scrypt(Bytes("pleaseletmein"), Bytes("SodiumChloride"), 16384, 8, 1, 64);
  ASSERT_TRUE(v3.ok()) << v3.status().ToString();
  EXPECT_EQ(Hex(v3->bytes()),
            "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d"
            "651e40dfcf017b45575887");
}

// NEP-2's parameters (N=16384, r=8, p=8) need about 16 MiB; the memory cap must leave room for
// them (nep2_vector_test.cpp checks the derived bytes against a published key).
TEST(ScryptTest, AcceptsNep2Parameters) {
  auto key = Scrypt(Bytes("city of zion"), Unhex("b0a1d8a1"), 16384, 8, 8, 64);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->size(), 64u);
}

TEST(ScryptTest, RejectsMalformedParameters) {
  EXPECT_EQ(Scrypt(Bytes("pw"), Bytes("salt"), 0, 8, 1, 32).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Scrypt(Bytes("pw"), Bytes("salt"), 1, 8, 1, 32).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Scrypt(Bytes("pw"), Bytes("salt"), 1000, 8, 1, 32).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Scrypt(Bytes("pw"), Bytes("salt"), 16, 0, 1, 32).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Scrypt(Bytes("pw"), Bytes("salt"), 16, 1, 0, 32).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Scrypt(Bytes("pw"), Bytes("salt"), 16, 1, 1, 0).status().code(), StatusCode::kInvalidArgument);
  // RFC 7914 requires N < 2^(16 r).
  EXPECT_EQ(Scrypt(Bytes("pw"), Bytes("salt"), 65536, 1, 1, 32).status().code(), StatusCode::kInvalidArgument);
}

// RFC 7914 vector 4 (N=2^20, r=8) needs 1 GiB; a hostile wallet file must not get that from us.
TEST(ScryptTest, RefusesParametersOverTheMemoryCap) {
  auto big = Scrypt(Bytes("pleaseletmein"), Bytes("SodiumChloride"), 1048576, 8, 1, 64);
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
  auto huge = Scrypt(Bytes("pw"), Bytes("salt"), uint64_t{1} << 62, 8, 1, 64);
  EXPECT_EQ(huge.status().code(), StatusCode::kResourceExhausted);
  auto many_lanes = Scrypt(Bytes("pw"), Bytes("salt"), 16, 8, 1u << 20, 64);
  EXPECT_EQ(many_lanes.status().code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace neosl::crypto
