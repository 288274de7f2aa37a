// Properties of Sign and Verify over many keys and messages, and agreement with OpenSSL's own
// ECDSA (through the EVP interface, which shares none of our nonce or encoding code).
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "crypto/p256.h"
#include "unit/crypto/test_util.h"

namespace neosl::crypto {
namespace {

using testing::Bytes;
using testing::Hex;
using testing::Unhex;

constexpr const char* kOrder = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
constexpr const char* kHalfOrder = "7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8";

std::vector<uint8_t> RandomBytes(RandomSource& random, size_t size) {
  std::vector<uint8_t> out(size);
  random.Fill(out);
  return out;
}

// s -> n - s: the other valid signature for the same (r, message, key).
Signature FlipS(const Signature& sig) {
  BIGNUM* n = nullptr;
  BN_hex2bn(&n, kOrder);
  BIGNUM* s = BN_bin2bn(sig.data() + 32, 32, nullptr);
  BN_sub(s, n, s);
  Signature out = sig;
  BN_bn2binpad(s, out.data() + 32, 32);
  BN_free(n);
  BN_free(s);
  return out;
}

bool IsLowS(const Signature& sig) {
  return Hex(std::span(sig).last(32)) <= std::string(kHalfOrder);
}

TEST(P256SignatureTest, RoundTripsForRandomKeysAndMessages) {
  DeterministicRandom random(20240601);
  for (int i = 0; i < 16; ++i) {
    PrivateKey key = PrivateKey::Generate(random);
    PrivateKey other = PrivateKey::Generate(random);
    for (size_t size : {0u, 1u, 36u, 100u, 1000u}) {
      const std::vector<uint8_t> message = RandomBytes(random, size);
      const Signature sig = key.Sign(message);
      EXPECT_TRUE(key.public_key().Verify(message, sig)) << "key " << i << " size " << size;
      EXPECT_TRUE(IsLowS(sig));
      EXPECT_FALSE(other.public_key().Verify(message, sig));
    }
  }
}

TEST(P256SignatureTest, AnyFlippedBitFails) {
  DeterministicRandom random(3);
  PrivateKey key = PrivateKey::Generate(random);
  const std::vector<uint8_t> message = RandomBytes(random, 36);  // Neo's signing data: magic + hash
  const Signature sig = key.Sign(message);
  ASSERT_TRUE(key.public_key().Verify(message, sig));
  for (size_t bit = 0; bit < message.size() * 8; ++bit) {
    std::vector<uint8_t> tampered = message;
    tampered[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(key.public_key().Verify(tampered, sig)) << "message bit " << bit;
  }
  for (size_t bit = 0; bit < sig.size() * 8; ++bit) {
    Signature tampered = sig;
    tampered[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(key.public_key().Verify(message, tampered)) << "signature bit " << bit;
  }
  std::vector<uint8_t> longer = message;
  longer.push_back(0);
  EXPECT_FALSE(key.public_key().Verify(longer, sig));
}

TEST(P256SignatureTest, HighSIsAcceptedLikeNeo) {
  DeterministicRandom random(4);
  PrivateKey key = PrivateKey::Generate(random);
  const std::vector<uint8_t> message = Bytes("neo signing data");
  const Signature low = key.Sign(message);
  const Signature high = FlipS(low);
  ASSERT_NE(low, high);
  EXPECT_FALSE(IsLowS(high));
  EXPECT_TRUE(key.public_key().Verify(message, high));
}

TEST(P256SignatureTest, OutOfRangeROrSIsRejected) {
  DeterministicRandom random(6);
  PrivateKey key = PrivateKey::Generate(random);
  const std::vector<uint8_t> message = Bytes("m");
  const Signature sig = key.Sign(message);
  const std::vector<uint8_t> n = Unhex(kOrder);
  auto with = [&](size_t offset, const std::vector<uint8_t>& value) {
    Signature out = sig;
    std::copy(value.begin(), value.end(), out.begin() + static_cast<std::ptrdiff_t>(offset));
    return out;
  };
  EXPECT_FALSE(key.public_key().Verify(message, with(0, std::vector<uint8_t>(32, 0))));   // r = 0
  EXPECT_FALSE(key.public_key().Verify(message, with(32, std::vector<uint8_t>(32, 0))));  // s = 0
  EXPECT_FALSE(key.public_key().Verify(message, with(0, n)));                             // r = n
  EXPECT_FALSE(key.public_key().Verify(message, with(32, n)));                            // s = n
  EXPECT_FALSE(key.public_key().Verify(message, with(0, std::vector<uint8_t>(32, 0xff))));
  EXPECT_FALSE(key.public_key().Verify(message, with(32, std::vector<uint8_t>(32, 0xff))));
  EXPECT_FALSE(key.public_key().Verify(message, Signature{}));
}

TEST(P256SignatureTest, SignaturesAreDeterministic) {
  DeterministicRandom random(8);
  PrivateKey key = PrivateKey::Generate(random);
  auto same_key = PrivateKey::FromBytes(key.bytes().bytes());
  ASSERT_TRUE(same_key.ok());
  const std::vector<uint8_t> message = RandomBytes(random, 36);
  const Signature first = key.Sign(message);
  EXPECT_EQ(key.Sign(message), first);
  EXPECT_EQ(same_key->Sign(message), first);
  std::vector<uint8_t> other = message;
  other[0] ^= 1;
  const Signature different = key.Sign(other);
  // A different message must change r (a fresh nonce), not only s.
  EXPECT_NE(Hex(std::span(different).first(32)), Hex(std::span(first).first(32)));
}

TEST(P256SignatureTest, ConcurrentUseMatchesSingleThreaded) {
  DeterministicRandom random(10);
  PrivateKey key = PrivateKey::Generate(random);
  std::vector<std::vector<uint8_t>> messages;
  std::vector<Signature> expected;
  for (int i = 0; i < 32; ++i) {
    messages.push_back(RandomBytes(random, 36));
    expected.push_back(key.Sign(messages.back()));
  }
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 8; ++round) {
        for (size_t i = 0; i < messages.size(); ++i) {
          if (key.Sign(messages[i]) != expected[i]) ++mismatches[t];
          if (!key.public_key().Verify(messages[i], expected[i])) ++mismatches[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

// --- Agreement with OpenSSL's EVP ECDSA ---

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey OpenSslPublicKey(const PublicKey& key) {
  auto encoded = key.Uncompressed();
  char group[] = "prime256v1";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, encoded.data(), encoded.size()),
      OSSL_PARAM_construct_end(),
  };
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* pkey = nullptr;
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx) != 1 ||
      EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    ADD_FAILURE() << "EVP_PKEY_fromdata failed";
  }
  EVP_PKEY_CTX_free(ctx);
  return Pkey(pkey);
}

std::vector<uint8_t> ToDer(const Signature& sig) {
  ECDSA_SIG* ecdsa = ECDSA_SIG_new();
  ECDSA_SIG_set0(ecdsa, BN_bin2bn(sig.data(), 32, nullptr), BN_bin2bn(sig.data() + 32, 32, nullptr));
  std::vector<uint8_t> der(static_cast<size_t>(i2d_ECDSA_SIG(ecdsa, nullptr)));
  uint8_t* out = der.data();
  i2d_ECDSA_SIG(ecdsa, &out);
  ECDSA_SIG_free(ecdsa);
  return der;
}

Signature FromDer(const std::vector<uint8_t>& der) {
  const uint8_t* in = der.data();
  ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &in, static_cast<long>(der.size()));
  Signature sig{};
  if (ecdsa == nullptr) {
    ADD_FAILURE() << "bad DER from OpenSSL";
    return sig;
  }
  BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa), sig.data(), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa), sig.data() + 32, 32);
  ECDSA_SIG_free(ecdsa);
  return sig;
}

TEST(P256OpenSslInteropTest, OpenSslVerifiesOurSignatures) {
  DeterministicRandom random(11);
  for (int i = 0; i < 8; ++i) {
    PrivateKey key = PrivateKey::Generate(random);
    Pkey pkey = OpenSslPublicKey(key.public_key());
    ASSERT_TRUE(pkey);
    const std::vector<uint8_t> message = RandomBytes(random, 36 + static_cast<size_t>(i));
    const std::vector<uint8_t> der = ToDer(key.Sign(message));
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ASSERT_EQ(EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, pkey.get()), 1);
    EXPECT_EQ(EVP_DigestVerify(ctx, der.data(), der.size(), message.data(), message.size()), 1) << i;
    EVP_MD_CTX_free(ctx);
  }
}

TEST(P256OpenSslInteropTest, WeVerifyOpenSslSignatures) {
  Pkey pkey(EVP_EC_gen("P-256"));
  ASSERT_TRUE(pkey);
  uint8_t encoded[65];
  size_t encoded_len = 0;
  ASSERT_EQ(EVP_PKEY_get_octet_string_param(pkey.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, encoded, sizeof(encoded),
                                            &encoded_len),
            1);
  auto public_key = PublicKey::FromBytes(std::span<const uint8_t>(encoded, encoded_len));
  ASSERT_TRUE(public_key.ok()) << public_key.status().ToString();

  DeterministicRandom random(12);
  int high_s = 0;
  for (int i = 0; i < 32; ++i) {
    const std::vector<uint8_t> message = RandomBytes(random, 36);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::vector<uint8_t> der(80);
    size_t der_len = der.size();
    ASSERT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pkey.get()), 1);
    ASSERT_EQ(EVP_DigestSign(ctx, der.data(), &der_len, message.data(), message.size()), 1);
    EVP_MD_CTX_free(ctx);
    der.resize(der_len);
    const Signature sig = FromDer(der);
    if (!IsLowS(sig)) ++high_s;
    EXPECT_TRUE(public_key->Verify(message, sig)) << i;
    std::vector<uint8_t> tampered = message;
    tampered[35] ^= 0x40;
    EXPECT_FALSE(public_key->Verify(tampered, sig)) << i;
  }
  // OpenSSL does not normalise s, so about half of these exercised the high-S path. The chance
  // of none in 32 is 2^-32.
  EXPECT_GT(high_s, 0);
}

}  // namespace
}  // namespace neosl::crypto
