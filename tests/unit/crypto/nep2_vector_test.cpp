// NEP-2 (encrypted private keys) end to end against a published Neo vector: it exercises
// Base58Check, scrypt with NEP-2's parameters and AES-256-ECB together, which is exactly how the
// wallet code combines them. The NEP-2 codec itself lives elsewhere; this guards the primitives.
#include <vector>

#include <gtest/gtest.h>

#include "crypto/aes.h"
#include "crypto/base58.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "unit/crypto/test_util.h"

namespace neosl::crypto {
namespace {

using testing::Hex;

// The first key of nspcc-dev/neo-go internal/keytestcases/testcases.go (also neon-js's key "a").
constexpr const char* kAddress = "NPTmAHDxo6Pkyic8Nvu3kwyXoYJCvcCB6i";
constexpr const char* kPrivateKey = "7d128a6d096f0c14c3a25a2b0c41cf79661bfcb4a8cc95aaaea28bde4d732344";
constexpr const char* kPassphrase = "city of zion";
constexpr const char* kEncryptedWif = "6PYUUUFei9PBBfVkSn8q7hFCnewWFRBKPxcn6Kz6Bmk3FqWyLyuTQE2XFH";

TEST(Nep2VectorTest, PrimitivesDecryptNeoGoKey) {
  // 0x01 0x42, flag 0xe0, address hash (4), encrypted key halves (32).
  auto raw = Base58CheckDecode(kEncryptedWif);
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  ASSERT_EQ(raw->size(), 39u);
  EXPECT_EQ(Hex(std::span(*raw).first(3)), "0142e0");
  const std::span<const uint8_t> address_hash = std::span(*raw).subspan(3, 4);
  const std::span<const uint8_t> encrypted = std::span(*raw).subspan(7, 32);

  const Digest256 address_digest = DoubleSha256(AsBytes(kAddress));
  EXPECT_EQ(Hex(address_hash), Hex(std::span(address_digest).first(4)));

  auto derived = Scrypt(AsBytes(kPassphrase), address_hash, 16384, 8, 8, 64);
  ASSERT_TRUE(derived.ok()) << derived.status().ToString();
  const auto half1 = derived->bytes().first(32);
  const auto half2 = derived->bytes().last(32);

  auto decrypted = Aes256EcbDecrypt(half2, encrypted);
  ASSERT_TRUE(decrypted.ok());
  std::vector<uint8_t> key(32);
  for (size_t i = 0; i < 32; ++i) key[i] = (*decrypted)[i] ^ half1[i];
  EXPECT_EQ(Hex(key), kPrivateKey);

  // And back: encrypting (key XOR half1) reproduces the published ciphertext.
  std::vector<uint8_t> xored(32);
  for (size_t i = 0; i < 32; ++i) xored[i] = key[i] ^ half1[i];
  auto reencrypted = Aes256EcbEncrypt(half2, xored);
  ASSERT_TRUE(reencrypted.ok());
  EXPECT_EQ(Hex(*reencrypted), Hex(encrypted));
}

}  // namespace
}  // namespace neosl::crypto
