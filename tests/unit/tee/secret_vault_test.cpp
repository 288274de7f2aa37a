#include "tee/secret_vault.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crypto/aes.h"
#include "crypto/kdf.h"
#include "enclave.pb.h"

namespace neosl::tee {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::span<const uint8_t> B(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string Str(std::span<const uint8_t> b) {
  return {b.begin(), b.end()};
}

SecretVault MakeVault(uint8_t fill) {
  auto vault = SecretVault::Create(SecretBytes(std::vector<uint8_t>(32, fill)));
  EXPECT_TRUE(vault.ok()) << vault.status().ToString();
  return std::move(*vault);
}

TEST(SecretVaultTest, RoundTrip) {
  SecretVault vault = MakeVault(1);
  DeterministicRandom random(1);
  const std::string value = "api-key-0123456789";
  auto ct = vault.Encrypt("acc-1", "OPENAI_KEY", 3, B(value), random);
  ASSERT_TRUE(ct.ok()) << ct.status().ToString();
  EXPECT_EQ(ct->size(), value.size() + kSecretCiphertextOverhead);
  auto pt = vault.Decrypt("acc-1", "OPENAI_KEY", 3, *ct);
  ASSERT_TRUE(pt.ok()) << pt.status().ToString();
  EXPECT_EQ(Str(pt->bytes()), value);
  // The nonce is fresh: the same value encrypts differently each time.
  auto again = vault.Encrypt("acc-1", "OPENAI_KEY", 3, B(value), random);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*again, *ct);
}

TEST(SecretVaultTest, EmptyAndLargestValues) {
  SecretVault vault = MakeVault(2);
  for (size_t size : {size_t{0}, kMaxSecretValueSize}) {
    std::vector<uint8_t> value(size, 0x5a);
    auto ct = vault.Encrypt("a", "n", 0, value);
    ASSERT_TRUE(ct.ok()) << size << ": " << ct.status().ToString();
    auto pt = vault.Decrypt("a", "n", 0, *ct);
    ASSERT_TRUE(pt.ok()) << size;
    EXPECT_EQ(std::vector<uint8_t>(pt->bytes().begin(), pt->bytes().end()), value);
  }
}

TEST(SecretVaultTest, RefusesBadInputsWithoutEchoingTheValue) {
  SecretVault vault = MakeVault(3);
  std::vector<uint8_t> big(kMaxSecretValueSize + 1, 'Q');
  auto too_big = vault.Encrypt("a", "n", 1, big);
  EXPECT_EQ(too_big.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(too_big.status().message()), Not(HasSubstr("QQQQ")));
  EXPECT_EQ(vault.Encrypt("", "n", 1, B("v")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(vault.Encrypt("a", "", 1, B("v")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SecretVault::Create(SecretBytes(std::vector<uint8_t>(31, 1))).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(vault.Decrypt("a", "n", 1, std::vector<uint8_t>(27, 0)).status().code(), StatusCode::kDataLoss);
}

TEST(SecretVaultTest, EveryAdditionalDataComponentIsBound) {
  SecretVault vault = MakeVault(4);
  const std::string value = "s3cr3t-value";
  auto ct = vault.Encrypt("acc-a", "DB_PASSWORD", 7, B(value));
  ASSERT_TRUE(ct.ok());
  struct Row {
    std::string account, name;
    uint32_t version;
  };
  // Each one differs from the sealed row in one component; the last moves a byte between
  // account and name, which the length prefixes catch.
  for (const Row& row : {Row{"acc-b", "DB_PASSWORD", 7}, Row{"acc-a", "DB_PASSWORD2", 7},
                         Row{"acc-a", "DB_PASSWORD", 8}, Row{"acc-aD", "B_PASSWORD", 7}}) {
    auto pt = vault.Decrypt(row.account, row.name, row.version, *ct);
    ASSERT_FALSE(pt.ok()) << row.account << "/" << row.name << "/" << row.version;
    EXPECT_EQ(pt.status().code(), StatusCode::kDataLoss);
    EXPECT_THAT(std::string(pt.status().message()), Not(HasSubstr(value)));
  }
}

TEST(SecretVaultTest, AnyFlippedBitFails) {
  SecretVault vault = MakeVault(5);
  auto ct = vault.Encrypt("acc", "name", 1, B("some value"));
  ASSERT_TRUE(ct.ok());
  for (size_t byte = 0; byte < ct->size(); ++byte) {
    std::vector<uint8_t> bad = *ct;
    bad[byte] ^= 0x01;
    EXPECT_EQ(vault.Decrypt("acc", "name", 1, bad).status().code(), StatusCode::kDataLoss) << byte;
  }
  std::vector<uint8_t> truncated(ct->begin(), ct->end() - 1);
  EXPECT_EQ(vault.Decrypt("acc", "name", 1, truncated).status().code(), StatusCode::kDataLoss);
}

TEST(SecretVaultTest, WrongKeyFails) {
  auto ct = MakeVault(6).Encrypt("acc", "name", 1, B("value"));
  ASSERT_TRUE(ct.ok());
  EXPECT_EQ(MakeVault(7).Decrypt("acc", "name", 1, *ct).status().code(), StatusCode::kDataLoss);
}

// The documented format: nonce ‖ AES-256-GCM(ct ‖ tag) under HKDF(keys record, "neosl-secrets-v1"),
// AAD "neosl-secret-v1" ‖ u32 len ‖ account ‖ u32 len ‖ name ‖ u32 version. Stable for the same
// keys (a restarted enclave), different for other keys.
TEST(SecretVaultTest, EnclaveKeyDerivationAndFormat) {
  DeterministicRandom random(11);
  EnclaveKeys keys = EnclaveKeys::Generate(random);
  auto vault = SecretVault::ForEnclaveKeys(keys);
  ASSERT_TRUE(vault.ok()) << vault.status().ToString();
  auto ct = vault->Encrypt("ab", "xyz", 0x01020304, B("hello"));
  ASSERT_TRUE(ct.ok());

  auto key = crypto::HkdfSha256(keys.Serialize().bytes(), {}, B("neosl-secrets-v1"), 32);
  ASSERT_TRUE(key.ok());
  std::vector<uint8_t> aad;
  const std::string label = "neosl-secret-v1";
  aad.insert(aad.end(), label.begin(), label.end());
  const std::vector<uint8_t> rest = {0, 0, 0, 2, 'a', 'b', 0, 0, 0, 3, 'x', 'y', 'z', 1, 2, 3, 4};
  aad.insert(aad.end(), rest.begin(), rest.end());
  auto pt = crypto::Aes256GcmOpen(key->bytes(), std::span(*ct).first(12), aad, std::span(*ct).subspan(12));
  ASSERT_TRUE(pt.ok()) << pt.status().ToString();
  EXPECT_EQ(Str(pt->bytes()), "hello");

  auto same_keys = SecretVault::ForEnclaveKeys(*EnclaveKeys::Parse(keys.Serialize().bytes()));
  ASSERT_TRUE(same_keys.ok());
  EXPECT_TRUE(same_keys->Decrypt("ab", "xyz", 0x01020304, *ct).ok());
  auto other = SecretVault::ForEnclaveKeys(EnclaveKeys::Generate(random));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->Decrypt("ab", "xyz", 0x01020304, *ct).status().code(), StatusCode::kDataLoss);
}

TEST(SecretProviderTest, ReturnsGrantedRefusesOthersAndWipes) {
  SecretVault vault = MakeVault(8);
  auto ct = vault.Encrypt("acc", "API_KEY", 2, B("granted-value"));
  auto other_account = vault.Encrypt("someone-else", "OTHER", 1, B("not yours"));
  ASSERT_TRUE(ct.ok() && other_account.ok());

  SecretProvider provider(vault, "acc");
  ASSERT_TRUE(provider.Grant("API_KEY", 2, *ct).ok());
  ASSERT_TRUE(provider.Grant("OTHER", 1, *other_account).ok());
  EXPECT_EQ(provider.Grant("", 1, *ct).code(), StatusCode::kInvalidArgument);

  auto missing = provider.Get("NOT_GRANTED");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  // Handed in, but sealed for another account: it does not decrypt as this one's.
  EXPECT_EQ(provider.Get("OTHER").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(provider.cached(), 0u);

  auto value = provider.Get("API_KEY");
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(Str(*value), "granted-value");
  EXPECT_EQ(provider.cached(), 1u);
  auto cached = provider.Get("API_KEY");
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(cached->data(), value->data());  // the kept value, not a second decryption

  provider.Wipe();
  EXPECT_EQ(provider.cached(), 0u);
  auto after = provider.Get("API_KEY");  // grants survive a wipe
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(Str(*after), "granted-value");

  // A new grant of the name replaces the old ciphertext and drops its value.
  auto v3 = vault.Encrypt("acc", "API_KEY", 3, B("rotated"));
  ASSERT_TRUE(v3.ok());
  ASSERT_TRUE(provider.Grant("API_KEY", 3, *v3).ok());
  EXPECT_EQ(provider.cached(), 0u);
  auto rotated = provider.Get("API_KEY");
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ(Str(*rotated), "rotated");
}

TEST(SecretProviderTest, WrongVersionDoesNotDecrypt) {
  SecretVault vault = MakeVault(9);
  auto ct = vault.Encrypt("acc", "K", 1, B("v1"));
  ASSERT_TRUE(ct.ok());
  SecretProvider provider(vault, "acc");
  ASSERT_TRUE(provider.Grant("K", 2, *ct).ok());
  EXPECT_EQ(provider.Get("K").status().code(), StatusCode::kDataLoss);
}

TEST(ProviderForInvocationTest, MakesAProviderOfTheInvocationsSecrets) {
  SecretVault vault = MakeVault(3);
  v1::InvocationSecrets secrets;
  secrets.set_account("acc");
  for (std::string name : {"A", "B"}) {
    auto ct = vault.Encrypt("acc", name, 4, B("value-" + name));
    ASSERT_TRUE(ct.ok());
    auto* s = secrets.add_secrets();
    s->set_name(name);
    s->set_version(4);
    s->set_ciphertext(std::string(ct->begin(), ct->end()));
  }
  auto provider = ProviderForInvocation(vault, secrets);
  ASSERT_TRUE(provider.ok()) << provider.status().ToString();
  EXPECT_EQ((*provider)->cached(), 0u);  // nothing is decrypted before a read
  auto b = (*provider)->Get("B");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(Str(*b), "value-B");
  EXPECT_EQ((*provider)->Get("C").status().code(), StatusCode::kNotFound);

  // The account is the invocation's: another account's provider cannot open them.
  secrets.set_account("other");
  auto other = ProviderForInvocation(vault, secrets);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ((*other)->Get("A").status().code(), StatusCode::kDataLoss);
}

TEST(ProviderForInvocationTest, RefusesMalformedSecrets) {
  SecretVault vault = MakeVault(3);
  v1::InvocationSecrets secrets;
  EXPECT_EQ(ProviderForInvocation(vault, secrets).status().code(), StatusCode::kInvalidArgument);  // no account
  secrets.set_account("acc");
  EXPECT_TRUE(ProviderForInvocation(vault, secrets).ok());  // no secrets is fine
  secrets.add_secrets()->set_name("X");
  secrets.add_secrets()->set_name("X");
  EXPECT_EQ(ProviderForInvocation(vault, secrets).status().code(), StatusCode::kInvalidArgument);  // twice
  secrets.clear_secrets();
  secrets.add_secrets()->set_name("");
  EXPECT_EQ(ProviderForInvocation(vault, secrets).status().code(), StatusCode::kInvalidArgument);  // no name
  secrets.clear_secrets();
  auto* big = secrets.add_secrets();
  big->set_name("big");
  big->set_ciphertext(std::string(kMaxSecretValueSize + kSecretCiphertextOverhead + 1, 'x'));
  EXPECT_EQ(ProviderForInvocation(vault, secrets).status().code(), StatusCode::kInvalidArgument);
  secrets.clear_secrets();
  for (size_t i = 0; i <= kMaxInvocationSecrets; ++i) secrets.add_secrets()->set_name("s" + std::to_string(i));
  EXPECT_EQ(ProviderForInvocation(vault, secrets).status().code(), StatusCode::kInvalidArgument);
  secrets.mutable_secrets()->RemoveLast();
  EXPECT_TRUE(ProviderForInvocation(vault, secrets).ok());
}

}  // namespace
}  // namespace neosl::tee
