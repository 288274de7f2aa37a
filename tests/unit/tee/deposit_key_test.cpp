// Deposit keys (tee/keys.h DeriveDepositKey) and the enclave's deposit_key ECALL handler
// (tee/enclave_server.h ServeDepositKey). The vectors were computed apart from this code (RFC 5869
// HKDF and P-256 in plain Python), so a change to the derivation — which would move every
// account's deposit address — fails here.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/random.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "tee/enclave_server.h"
#include "tee/keys.h"
#include "unit/crypto/test_util.h"

namespace neosl::tee {
namespace {

using crypto::testing::Hex;
using crypto::testing::Unhex;

crypto::PrivateKey NeoKey() {
  return *crypto::PrivateKey::FromBytes(Unhex("c0ffee0000000000000000000000000000000000000000000000000000000001"));
}

std::string Compressed(const crypto::PublicKey& key) {
  return Hex(key.Compressed());
}

TEST(DeriveDepositKeyTest, MatchesVectorsComputedApart) {
  const crypto::PrivateKey neo = NeoKey();
  const crypto::PrivateKey a = DeriveDepositKey(neo, "acc_test");
  EXPECT_EQ(Hex(a.bytes().bytes()), "e37f2200d87cb108a424de17cb70cd7d2b990972c1c0614ebcf80ab63a47bf55");
  EXPECT_EQ(Compressed(a.public_key()), "038096858a6cf25e686bb46f7d11491e75c2eeb86e9dfb4731cc1c1b621d9c3cf5");
  const crypto::PrivateKey b = DeriveDepositKey(neo, "acc_abcdefghijklmnopqrst");
  EXPECT_EQ(Hex(b.bytes().bytes()), "98732f9750bd4160dc56f7f33a4087b5161bd2534e9ce124d88750bda462df09");
  EXPECT_EQ(Compressed(b.public_key()), "0293d602c533787be01bd25dcb0ae36b7674f2aaf18d4eac3a6f2635cd9b245464");
}

TEST(DeriveDepositKeyTest, IsHkdfOverTheNeoScalarWithTheCounterAfterTheAccount) {
  DeterministicRandom random(7);
  const crypto::PrivateKey neo = crypto::PrivateKey::Generate(random);
  std::vector<uint8_t> info = crypto::testing::Bytes("acc_x");
  info.push_back(0);
  auto okm = crypto::HkdfSha256(neo.bytes().bytes(), crypto::AsBytes(kDepositKeySalt), info, 32);
  ASSERT_TRUE(okm.ok());
  EXPECT_EQ(Hex(DeriveDepositKey(neo, "acc_x").bytes().bytes()), Hex(okm->bytes()));
}

TEST(DeriveDepositKeyTest, SameAccountSameKeyOtherAccountOrNeoKeyAnother) {
  DeterministicRandom random(1);
  const crypto::PrivateKey neo = crypto::PrivateKey::Generate(random);
  const crypto::PrivateKey other_neo = crypto::PrivateKey::Generate(random);
  const std::string first = Compressed(DeriveDepositKey(neo, "acc_1").public_key());
  EXPECT_EQ(Compressed(DeriveDepositKey(neo, "acc_1").public_key()), first);
  EXPECT_NE(Compressed(DeriveDepositKey(neo, "acc_2").public_key()), first);
  EXPECT_NE(Compressed(DeriveDepositKey(neo, "acc_1x").public_key()), first);
  EXPECT_NE(Compressed(DeriveDepositKey(other_neo, "acc_1").public_key()), first);
  // Not the Neo key itself, nor any other of the enclave's keys' derivations.
  EXPECT_NE(Compressed(neo.public_key()), first);
}

TEST(DeriveDepositKeyTest, SurvivesARestartAndAMigration) {
  DeterministicRandom random(3);
  const EnclaveKeys keys = EnclaveKeys::Generate(random);
  const std::string before = Compressed(DeriveDepositKey(keys.neo, "acc_mig").public_key());

  // A restart: the keys come back from their sealed record.
  auto reloaded = EnclaveKeys::Parse(keys.Serialize().bytes());
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  EXPECT_EQ(Compressed(DeriveDepositKey(reloaded->neo, "acc_mig").public_key()), before);

  // A migration to another build: the Neo key moves, so the deposit keys follow it.
  const crypto::PrivateKey ephemeral = crypto::PrivateKey::Generate(random);
  auto blob = ExportForMigration(keys, ephemeral.public_key(), random);
  ASSERT_TRUE(blob.ok()) << blob.status().ToString();
  auto imported = ImportMigration(ephemeral, *blob);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(Compressed(DeriveDepositKey(imported->neo, "acc_mig").public_key()), before);
}

v1::EcallResponse Ecall(const crypto::PrivateKey& neo, const std::string& account) {
  v1::DepositKeyRequest request;
  request.set_account(account);
  return ServeDepositKey(neo, request);
}

TEST(ServeDepositKeyTest, AnswersTheCompressedPublicKey) {
  const crypto::PrivateKey neo = NeoKey();
  for (const std::string& account : std::vector<std::string>{"acc_test", "A-z_0-9", std::string(64, 'x'), "7"}) {
    const v1::EcallResponse r = Ecall(neo, account);
    EXPECT_EQ(r.status().code(), 0) << account << ": " << r.status().message();
    ASSERT_EQ(r.result_case(), v1::EcallResponse::kDepositKey) << account;
    const auto want = DeriveDepositKey(neo, account).public_key().Compressed();
    EXPECT_EQ(r.deposit_key(), std::string(want.begin(), want.end())) << account;
  }
}

TEST(ServeDepositKeyTest, RefusesMalformedAccountsWithoutEchoingThem) {
  const crypto::PrivateKey neo = NeoKey();
  const std::vector<std::string> bad = {"",       std::string(65, 'x'),    "acc 1",    "acc/1", "acc.1",
                                        "acc\n1", std::string("acc\0", 4), "\xc3\xa9", "acc:1", "secret=s3cr3t"};
  for (const std::string& account : bad) {
    const v1::EcallResponse r = Ecall(neo, account);
    EXPECT_EQ(r.status().code(), static_cast<int>(StatusCode::kInvalidArgument)) << account;
    EXPECT_NE(r.result_case(), v1::EcallResponse::kDepositKey) << account;
    if (!account.empty()) {
      EXPECT_EQ(r.status().message().find(account), std::string::npos) << account;
    }
  }
}

}  // namespace
}  // namespace neosl::tee
