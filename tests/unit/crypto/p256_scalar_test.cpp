// The fixed-size arithmetic mod n behind Sign, checked against OpenSSL's BN on random values and
// on the edges where the final conditional subtraction matters (values near n and near 2^256).
#include "crypto/p256_scalar.h"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/bn.h>

#include "core/random.h"
#include "unit/crypto/test_util.h"

namespace neosl::crypto::p256_scalar {
namespace {

using testing::Hex;

constexpr const char* kOrder = "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551";

struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

class P256ScalarTest : public ::testing::Test {
 protected:
  P256ScalarTest() {
    BIGNUM* n = nullptr;
    BN_hex2bn(&n, kOrder);
    n_.reset(n);
  }
  ~P256ScalarTest() override { BN_CTX_free(ctx_); }

  Bn ToBn(const Limbs& v) {
    std::array<uint8_t, 32> bytes{};
    ToBytes(v, bytes);
    return Bn(BN_bin2bn(bytes.data(), 32, nullptr));
  }
  Limbs FromBn(const BIGNUM* v) {
    std::array<uint8_t, 32> bytes{};
    BN_bn2binpad(v, bytes.data(), 32);
    return FromBytes(bytes);
  }
  std::string HexOf(const BIGNUM* v) {
    std::array<uint8_t, 32> bytes{};
    BN_bn2binpad(v, bytes.data(), 32);
    return Hex(bytes);
  }
  std::string HexOf(const Limbs& v) {
    std::array<uint8_t, 32> bytes{};
    ToBytes(v, bytes);
    return Hex(bytes);
  }

  // Values below n: random ones plus 0, 1, 2, n-1, n-2, 2^255 and 2^256 - n - 1 (whose sums and
  // products stress the carry into the fifth limb).
  std::vector<Limbs> Samples() {
    std::vector<Limbs> out;
    const char* edges[] = {"00",
                           "01",
                           "02",
                           "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632550",
                           "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC63254F",
                           "8000000000000000000000000000000000000000000000000000000000000000",
                           "00000000FFFFFFFF00000000000000004319055258E8617B0C46353D039CDAAE"};
    for (const char* e : edges) {
      BIGNUM* b = nullptr;
      BN_hex2bn(&b, e);
      out.push_back(FromBn(b));
      BN_free(b);
    }
    DeterministicRandom random(256);
    while (out.size() < 200) {
      std::array<uint8_t, 32> bytes{};
      random.Fill(bytes);
      Bn b(BN_bin2bn(bytes.data(), 32, nullptr));
      BN_nnmod(b.get(), b.get(), n_.get(), ctx_);
      out.push_back(FromBn(b.get()));
    }
    return out;
  }

  Bn n_;
  BN_CTX* ctx_ = BN_CTX_new();
};

TEST_F(P256ScalarTest, BytesRoundTrip) {
  std::array<uint8_t, 32> bytes{};
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i + 1);
  const Limbs limbs = FromBytes(bytes);
  EXPECT_EQ(limbs[3], 0x0102030405060708ull);
  EXPECT_EQ(limbs[0], 0x191a1b1c1d1e1f20ull);
  std::array<uint8_t, 32> back{};
  ToBytes(limbs, back);
  EXPECT_EQ(back, bytes);
}

TEST_F(P256ScalarTest, MontgomeryRoundTrip) {
  for (const Limbs& a : Samples()) EXPECT_EQ(HexOf(FromMont(ToMont(a))), HexOf(a));
}

TEST_F(P256ScalarTest, MultiplicationMatchesBn) {
  const auto samples = Samples();
  Bn expected(BN_new());
  for (size_t i = 0; i < samples.size(); ++i) {
    const Limbs& a = samples[i];
    const Limbs& b = samples[(i * 7 + 3) % samples.size()];
    for (const Limbs* rhs : {&a, &b}) {
      BN_mod_mul(expected.get(), ToBn(a).get(), ToBn(*rhs).get(), n_.get(), ctx_);
      EXPECT_EQ(HexOf(FromMont(MontMul(ToMont(a), ToMont(*rhs)))), HexOf(expected.get())) << HexOf(a);
    }
  }
}

TEST_F(P256ScalarTest, AdditionMatchesBn) {
  const auto samples = Samples();
  Bn expected(BN_new());
  for (size_t i = 0; i < samples.size(); ++i) {
    for (size_t j : {i, (i + 1) % samples.size(), samples.size() - 1 - i}) {
      BN_mod_add(expected.get(), ToBn(samples[i]).get(), ToBn(samples[j]).get(), n_.get(), ctx_);
      EXPECT_EQ(HexOf(Add(samples[i], samples[j])), HexOf(expected.get()));
    }
  }
}

TEST_F(P256ScalarTest, InverseMatchesBn) {
  Bn expected(BN_new());
  for (const Limbs& a : Samples()) {
    if (IsZero(a)) {
      EXPECT_TRUE(IsZero(FromMont(InvertMont(ToMont(a)))));
      continue;
    }
    ASSERT_NE(BN_mod_inverse(expected.get(), ToBn(a).get(), n_.get(), ctx_), nullptr);
    const Limbs inverse_mont = InvertMont(ToMont(a));
    EXPECT_EQ(HexOf(FromMont(inverse_mont)), HexOf(expected.get())) << HexOf(a);
    EXPECT_EQ(HexOf(FromMont(MontMul(inverse_mont, ToMont(a)))), HexOf(Limbs{1, 0, 0, 0}));
  }
}

TEST_F(P256ScalarTest, IsZero) {
  EXPECT_TRUE(IsZero(Limbs{0, 0, 0, 0}));
  EXPECT_FALSE(IsZero(Limbs{0, 0, 0, 1}));
  EXPECT_FALSE(IsZero(Limbs{1, 0, 0, 0}));
}

}  // namespace
}  // namespace neosl::crypto::p256_scalar
