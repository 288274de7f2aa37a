// Secrets through the real enclave (`neosl enclave`, sandboxed, under tee::EnclaveHost): the
// secret_seal ECALL encrypts a value for the host to store, and only the enclave opens it — as
// the account, name and version it was sealed for, and again after a restart.
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/random.h"
#include "crypto/ecies.h"
#include "crypto/hash.h"
#include "crypto/p256.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "tee/host.h"

namespace neosl::tee {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;

std::span<const uint8_t> B(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string Sha256Of(const std::string& s) {
  auto d = crypto::Sha256(B(s));
  return {d.begin(), d.end()};
}

class SecretSealTest : public ::testing::Test {
 protected:
  void SetUp() override { std::filesystem::create_directories(dir_.File("sealed")); }

  std::unique_ptr<EnclaveHost> Start() {
    EnclaveHostOptions o;
    o.binary = testing::NeoslBinary();
    o.args = {"enclave",       "--sealed-dir", dir_.File("sealed"), "--platform-secret", dir_.File("platform.secret"),
              "--seal-policy", "measurement",  "--test-commands"};
    auto host = EnclaveHost::Start(std::move(o));
    EXPECT_TRUE(host.ok()) << host.status().ToString();
    if (!host.ok() || !(*host)->WaitReady(milliseconds(20'000))) return nullptr;
    return std::move(*host);
  }

  static v1::EcallRequest Seal(const std::string& account, const std::string& name, uint32_t version) {
    v1::EcallRequest req;
    req.mutable_secret_seal()->set_account(account);
    req.mutable_secret_seal()->set_name(name);
    req.mutable_secret_seal()->set_version(version);
    return req;
  }

  // The ciphertext, or empty with a test failure.
  static std::string SealOk(EnclaveHost& host, const v1::EcallRequest& req) {
    auto r = host.Call(req, milliseconds(10'000));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->secret_ciphertext() : std::string();
  }

  static StatusOr<v1::SecretDigest> Digest(EnclaveHost& host, const std::string& account, const std::string& name,
                                           uint32_t version, const std::string& ciphertext) {
    v1::EcallRequest req;
    auto* d = req.mutable_test()->mutable_secret_digest();
    d->set_account(account);
    d->set_name(name);
    d->set_version(version);
    d->set_ciphertext(ciphertext);
    ASSIGN_OR_RETURN(v1::EcallResponse r, host.Call(req, milliseconds(10'000)));
    return r.secret_digest();
  }

  testing::TempDir dir_;
};

TEST_F(SecretSealTest, SealedValuesOpenOnlyInsideForTheirRowAndSurviveARestart) {
  auto host = Start();
  ASSERT_TRUE(host);

  // A plaintext value (sent to the host over TLS).
  const std::string plain_value = "sk-live-plaintext-0001";
  v1::EcallRequest plain_req = Seal("acc_a", "STRIPE_KEY", 1);
  plain_req.mutable_secret_seal()->set_plaintext(plain_value);
  const std::string plain_ct = SealOk(*host, plain_req);
  ASSERT_EQ(plain_ct.size(), plain_value.size() + 28);
  EXPECT_THAT(plain_ct, Not(HasSubstr(plain_value)));

  // A value encrypted client-side to the enclave's ECIES key: the host only relays ciphertext.
  v1::EcallRequest keys_req;
  keys_req.mutable_get_public_keys();
  auto keys = host->Call(keys_req, milliseconds(10'000));
  ASSERT_TRUE(keys.ok());
  auto ecies = crypto::PublicKey::FromBytes(B(keys->public_keys().ecies()));
  ASSERT_TRUE(ecies.ok());
  const std::string client_value = "db-password-from-the-browser";
  auto blob = crypto::EciesEncrypt(*ecies, B(client_value), B("neosl-secret-v1"), SecureRandom::Instance());
  ASSERT_TRUE(blob.ok());
  v1::EcallRequest enc_req = Seal("acc_a", "DB_PASSWORD", 4);
  enc_req.mutable_secret_seal()->set_encrypted_value(std::string(blob->begin(), blob->end()));
  const std::string enc_ct = SealOk(*host, enc_req);
  ASSERT_EQ(enc_ct.size(), client_value.size() + 28);

  // Both open inside the enclave to the right value (seen from outside only as a digest).
  auto d1 = Digest(*host, "acc_a", "STRIPE_KEY", 1, plain_ct);
  ASSERT_TRUE(d1.ok()) << d1.status().ToString();
  EXPECT_EQ(d1->sha256(), Sha256Of(plain_value));
  EXPECT_EQ(d1->length(), plain_value.size());
  auto d2 = Digest(*host, "acc_a", "DB_PASSWORD", 4, enc_ct);
  ASSERT_TRUE(d2.ok()) << d2.status().ToString();
  EXPECT_EQ(d2->sha256(), Sha256Of(client_value));
  EXPECT_EQ(d2->length(), client_value.size());

  // Moved to another account, name or version, they do not open.
  EXPECT_EQ(Digest(*host, "acc_b", "STRIPE_KEY", 1, plain_ct).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(Digest(*host, "acc_a", "DB_PASSWORD", 4, plain_ct).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(Digest(*host, "acc_a", "DB_PASSWORD", 5, enc_ct).status().code(), StatusCode::kDataLoss);

  // Refusals, none echoing the value.
  v1::EcallRequest too_big = Seal("acc_a", "BIG", 1);
  too_big.mutable_secret_seal()->set_plaintext(std::string(65537, 'Z'));
  auto big = host->Call(too_big, milliseconds(10'000));
  EXPECT_EQ(big.status().code(), StatusCode::kInvalidArgument);
  v1::EcallRequest at_limit = Seal("acc_a", "BIG", 1);
  at_limit.mutable_secret_seal()->set_plaintext(std::string(65536, 'Z'));
  EXPECT_TRUE(host->Call(at_limit, milliseconds(10'000)).ok());
  v1::EcallRequest no_account = Seal("", "N", 1);
  no_account.mutable_secret_seal()->set_plaintext("v");
  EXPECT_EQ(host->Call(no_account, milliseconds(10'000)).status().code(), StatusCode::kInvalidArgument);
  v1::EcallRequest no_value = Seal("acc_a", "N", 1);
  EXPECT_EQ(host->Call(no_value, milliseconds(10'000)).status().code(), StatusCode::kInvalidArgument);
  // A blob made for another purpose (another ECIES info) is refused as corrupt.
  auto wrong_info = crypto::EciesEncrypt(*ecies, B(client_value), B("neosl-migration-v1"), SecureRandom::Instance());
  ASSERT_TRUE(wrong_info.ok());
  v1::EcallRequest replay = Seal("acc_a", "DB_PASSWORD", 4);
  replay.mutable_secret_seal()->set_encrypted_value(std::string(wrong_info->begin(), wrong_info->end()));
  auto refused = host->Call(replay, milliseconds(10'000));
  EXPECT_EQ(refused.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(std::string(refused.status().message()), Not(HasSubstr(client_value)));
  host->Stop();

  // A restarted enclave on the same data directory still opens what the first one sealed.
  auto restarted = Start();
  ASSERT_TRUE(restarted);
  auto again = Digest(*restarted, "acc_a", "STRIPE_KEY", 1, plain_ct);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->sha256(), Sha256Of(plain_value));
  auto again_enc = Digest(*restarted, "acc_a", "DB_PASSWORD", 4, enc_ct);
  ASSERT_TRUE(again_enc.ok()) << again_enc.status().ToString();
  EXPECT_EQ(again_enc->sha256(), Sha256Of(client_value));
  restarted->Stop();
}

}  // namespace
}  // namespace neosl::tee
