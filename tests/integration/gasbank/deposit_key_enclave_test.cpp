// The deposit_key ECALL through the real enclave: `neosl enclave` (the real binary, sandboxed)
// under tee::EnclaveHost, as RunningEnclave::DepositKey calls it. The derivation itself is checked
// against vectors in tests/unit/tee/deposit_key_test.cpp; here, that the enclave answers it from
// its own sealed Neo key, the same across a crash and a restart from the sealed directory.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/p256.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "tee/host.h"

namespace neosl::tee {
namespace {

using std::chrono::milliseconds;

class DepositKeyEnclaveTest : public ::testing::Test {
 protected:
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

  static StatusOr<std::string> DepositKey(EnclaveHost& host, const std::string& account) {
    v1::EcallRequest req;
    req.mutable_deposit_key()->set_account(account);
    ASSIGN_OR_RETURN(v1::EcallResponse r, host.CallRetrying(req, milliseconds(10'000)));
    if (r.result_case() != v1::EcallResponse::kDepositKey) return InternalError("no deposit_key in the answer");
    return r.deposit_key();
  }

  // The key for `account`, checked to be a compressed point on the curve; empty on failure.
  static std::string KeyOk(EnclaveHost& host, const std::string& account) {
    auto key = DepositKey(host, account);
    EXPECT_TRUE(key.ok()) << account << ": " << key.status().ToString();
    if (!key.ok()) return "";
    EXPECT_EQ(key->size(), 33u);
    auto point = crypto::PublicKey::FromBytes(std::span(reinterpret_cast<const uint8_t*>(key->data()), key->size()));
    EXPECT_TRUE(point.ok()) << point.status().ToString();
    return *key;
  }

  static std::string NeoKey(EnclaveHost& host) {
    v1::EcallRequest req;
    req.mutable_get_public_keys();
    auto r = host.CallRetrying(req, milliseconds(10'000));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->public_keys().neo() : std::string();
  }

  testing::TempDir dir_;
};

TEST_F(DepositKeyEnclaveTest, OneKeyPerAccountFromTheSealedNeoKeyAcrossACrashAndARestart) {
  auto host = Start();
  ASSERT_TRUE(host);
  const std::string alice = KeyOk(*host, "acc_alice");
  const std::string bob = KeyOk(*host, "acc_bob");
  ASSERT_FALSE(alice.empty());
  EXPECT_NE(alice, bob);
  EXPECT_EQ(KeyOk(*host, "acc_alice"), alice);
  EXPECT_NE(alice, NeoKey(*host));

  for (const std::string& bad : std::vector<std::string>{"", "acc alice", std::string(65, 'a'), "acc\n"}) {
    EXPECT_EQ(DepositKey(*host, bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }

  // Killed: the enclave that comes back unseals the same Neo key, so the same deposit keys.
  v1::EcallRequest crash;
  crash.mutable_test()->set_crash(true);
  EXPECT_EQ(host->Call(crash, milliseconds(10'000)).status().code(), StatusCode::kUnavailable);
  // deposit_key is a pure function of the account, but until tee::IsRetrySafe lists it a call
  // does not wait for the restart itself.
  ASSERT_TRUE(host->WaitReady(milliseconds(20'000)));
  EXPECT_EQ(KeyOk(*host, "acc_alice"), alice);
  host->Stop();

  // A new host on the same sealed directory.
  host = Start();
  ASSERT_TRUE(host);
  EXPECT_EQ(KeyOk(*host, "acc_alice"), alice);
  EXPECT_EQ(KeyOk(*host, "acc_bob"), bob);
  host->Stop();
}

}  // namespace
}  // namespace neosl::tee
