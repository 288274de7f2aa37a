// The enclave as it runs in production: `neosl enclave` (the real binary, sandboxed) under
// tee::EnclaveHost, and `neosl serve` with `neosl attest verify` on its evidence.
#include <filesystem>
#include <fstream>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/random.h"
#include "crypto/ecies.h"
#include "crypto/p256.h"
#include "neo/account.h"
#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/tls_cert.h"
#include "tee/attestation.h"
#include "tee/enclave_signer.h"
#include "tee/host.h"
#include "tee/measurement.h"
#include "tee/sealing.h"
#include "tee/socket_relay.h"
#include "tee/verifier.h"

namespace neosl::tee {
namespace {

using ::testing::HasSubstr;
namespace json = boost::json;
using std::chrono::milliseconds;

// A data directory for enclaves started from (copies of) the neosl binary.
class EnclaveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    binary_ = testing::NeoslBinary();
    sealed_ = dir_.File("sealed");
    std::filesystem::create_directories(sealed_);
  }

  std::vector<std::string> Args(const std::string& policy, const std::string& sigstruct = "",
                                const std::string& ca_file = "") {
    std::vector<std::string> args = {
        "enclave",       "--sealed-dir", sealed_,          "--platform-secret", dir_.File("platform.secret"),
        "--seal-policy", policy,         "--test-commands"};
    if (!sigstruct.empty()) args.insert(args.end(), {"--sigstruct", sigstruct});
    if (!ca_file.empty()) args.insert(args.end(), {"--ca-file", ca_file});
    return args;
  }

  // The exit reasons of the children, and the host.
  std::unique_ptr<EnclaveHost> Start(const std::string& binary, std::vector<std::string> args,
                                     std::shared_ptr<ByteRelay> relay = nullptr) {
    EnclaveHostOptions o;
    o.binary = binary;
    o.args = std::move(args);
    if (relay) o.ocalls = RelayOcallHandler(relay);
    o.on_exit = [this](const std::string& why) {
      std::lock_guard lock(mu_);
      exits_.push_back(why);
    };
    auto host = EnclaveHost::Start(std::move(o));
    EXPECT_TRUE(host.ok()) << host.status().ToString();
    return host.ok() ? std::move(*host) : nullptr;
  }

  v1::PublicKeys Keys(EnclaveHost& host) {
    v1::EcallRequest req;
    req.mutable_get_public_keys();
    auto r = host.CallRetrying(req, milliseconds(10'000));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->public_keys() : v1::PublicKeys();
  }

  // A copy of the binary with one byte appended: another build, another measurement.
  std::string Rebuilt() {
    std::string copy = dir_.File("neosl-rebuilt");
    std::filesystem::copy_file(binary_, copy, std::filesystem::copy_options::overwrite_existing);
    std::ofstream(copy, std::ios::app) << '\n';
    std::filesystem::permissions(copy, std::filesystem::perms::owner_all);
    return copy;
  }

  std::string SignFor(const std::string& binary, uint32_t svn) {
    auto out = testing::RunNeosl({"enclave", "sign", "--key", dir_.File("signer.key"), "--new-key", "--binary", binary,
                                  "--isv-svn", std::to_string(svn), "--out", dir_.File("sigstruct.json")});
    EXPECT_EQ(out.exit_code, 0) << out.err;
    return dir_.File("sigstruct.json");
  }

  std::string LastExit() {
    std::lock_guard lock(mu_);
    return exits_.empty() ? "" : exits_.back();
  }

  testing::TempDir dir_;
  std::string binary_;
  std::string sealed_;
  std::mutex mu_;
  std::vector<std::string> exits_;
};

TEST_F(EnclaveTest, KeysSignAndSurviveACrash) {
  auto host = Start(binary_, Args("measurement"));
  ASSERT_TRUE(host);
  ASSERT_TRUE(host->WaitReady(milliseconds(20'000))) << LastExit();
  v1::PublicKeys before = Keys(*host);
  ASSERT_EQ(before.neo().size(), 33u);
  auto measured = MeasureFile(binary_);
  ASSERT_TRUE(measured.ok());
  EXPECT_EQ(before.measurement(), std::string(measured->begin(), measured->end()));

  // The Neo account signs through the enclave; the signature verifies under its public key.
  auto signer = EnclaveNeoSigner::Create(*host);
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  std::vector<uint8_t> message = {1, 2, 3, 4};
  auto invocation = (*signer)->SignInvocation(message);
  ASSERT_TRUE(invocation.ok()) << invocation.status().ToString();
  EXPECT_TRUE(neo::VerifyWitness(message, *invocation, (*signer)->verification_script()).ok());

  // A batch: one signature per message, in order, each verifying under the Neo key.
  auto neo_key = crypto::PublicKey::FromBytes(
      std::span(reinterpret_cast<const uint8_t*>(before.neo().data()), before.neo().size()));
  ASSERT_TRUE(neo_key.ok());
  v1::EcallRequest batch;
  for (int i = 0; i < 5; ++i) batch.mutable_sign()->add_messages("message " + std::to_string(i));
  auto signed_batch = host->Call(batch, milliseconds(10'000));
  ASSERT_TRUE(signed_batch.ok()) << signed_batch.status().ToString();
  ASSERT_EQ(signed_batch->signatures().signatures_size(), 5);
  for (int i = 0; i < 5; ++i) {
    const std::string& sig = signed_batch->signatures().signatures(i);
    crypto::Signature s{};
    ASSERT_EQ(sig.size(), s.size());
    std::copy(sig.begin(), sig.end(), s.begin());
    std::string m = "message " + std::to_string(i);
    EXPECT_TRUE(neo_key->Verify(std::span(reinterpret_cast<const uint8_t*>(m.data()), m.size()), s)) << i;
  }

  // Killed mid-call: the call fails UNAVAILABLE, a new enclave comes up with the same keys
  // (unsealed from the sealed directory), and retry-safe calls go through.
  const int old_pid = host->pid();
  v1::EcallRequest crash;
  crash.mutable_test()->set_crash(true);
  auto crashed = host->Call(crash, milliseconds(10'000));
  EXPECT_EQ(crashed.status().code(), StatusCode::kUnavailable) << crashed.status().ToString();
  v1::PublicKeys after = Keys(*host);
  EXPECT_NE(host->pid(), old_pid);
  EXPECT_GE(host->restarts(), 1u);
  EXPECT_EQ(after.SerializeAsString(), before.SerializeAsString());
  host->Stop();
}

TEST_F(EnclaveTest, SecretsEncryptedToTheEnclaveOpenOnlyInside) {
  auto host = Start(binary_, Args("measurement"));
  ASSERT_TRUE(host && host->WaitReady(milliseconds(20'000))) << LastExit();
  v1::PublicKeys keys = Keys(*host);
  auto ecies = crypto::PublicKey::FromBytes(
      std::span(reinterpret_cast<const uint8_t*>(keys.ecies().data()), keys.ecies().size()));
  ASSERT_TRUE(ecies.ok());
  std::string secret = "api-key-7f3a";
  auto blob = crypto::EciesEncrypt(*ecies, std::span(reinterpret_cast<const uint8_t*>(secret.data()), secret.size()),
                                   {}, SecureRandom::Instance());
  ASSERT_TRUE(blob.ok());
  v1::EcallRequest req;
  req.mutable_ecies_decrypt()->set_blob(std::string(blob->begin(), blob->end()));
  auto r = host->Call(req, milliseconds(10'000));
  ASSERT_TRUE(r.ok()) << r.status().ToString();  // test enclaves only: production refuses this call
  EXPECT_EQ(r->plaintext(), secret);
  // The host's own sealed data round-trips; the enclave's key file is not the host's to open.
  v1::EcallRequest seal;
  seal.mutable_seal()->set_label("cache");
  seal.mutable_seal()->set_plaintext("host data");
  auto sealed = host->Call(seal, milliseconds(10'000));
  ASSERT_TRUE(sealed.ok());
  v1::EcallRequest unseal;
  unseal.mutable_unseal()->set_label("cache");
  unseal.mutable_unseal()->set_blob(sealed->sealed());
  EXPECT_EQ(host->Call(unseal, milliseconds(10'000))->plaintext(), "host data");
  std::ifstream key_file(sealed_ + "/keys.sealed", std::ios::binary);
  std::string key_blob((std::istreambuf_iterator<char>(key_file)), std::istreambuf_iterator<char>());
  unseal.mutable_unseal()->set_label("../enclave-keys");
  unseal.mutable_unseal()->set_blob(key_blob);
  EXPECT_FALSE(host->Call(unseal, milliseconds(10'000)).ok());
  host->Stop();
}

TEST_F(EnclaveTest, AChangedBinaryCannotUnsealUnlessItsSignerSigned) {
  const std::string rebuilt = Rebuilt();
  {
    auto host = Start(binary_, Args("measurement"));
    ASSERT_TRUE(host && host->WaitReady(milliseconds(20'000))) << LastExit();
    host->Stop();
  }
  // Measurement policy: the rebuilt binary refuses to start rather than make new keys.
  std::ifstream in(sealed_ + "/keys.sealed", std::ios::binary);
  std::string original((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto host = Start(rebuilt, Args("measurement"));
  ASSERT_TRUE(host);
  EXPECT_FALSE(host->WaitReady(milliseconds(2'000)));
  host->Stop();
  EXPECT_THAT(LastExit(), HasSubstr("exited with code 1"));
  std::ifstream again(sealed_ + "/keys.sealed", std::ios::binary);
  std::string now((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>());
  EXPECT_EQ(now, original) << "the sealed keys must be left untouched";

  // Signer policy: one signer signs both builds; the keys carry over to the rebuilt binary.
  auto first = Start(binary_, Args("signer", SignFor(binary_, 1)));
  ASSERT_TRUE(first && first->WaitReady(milliseconds(20'000))) << LastExit();
  v1::PublicKeys keys = Keys(*first);
  first->Stop();
  auto second = Start(rebuilt, Args("signer", SignFor(rebuilt, 2)));
  ASSERT_TRUE(second && second->WaitReady(milliseconds(20'000))) << LastExit();
  EXPECT_EQ(Keys(*second).neo(), keys.neo());
  second->Stop();
  // A lower security version cannot open what version 2 sealed.
  auto downgrade = Start(binary_, Args("signer", SignFor(binary_, 1)));
  ASSERT_TRUE(downgrade);
  EXPECT_FALSE(downgrade->WaitReady(milliseconds(2'000)));
  downgrade->Stop();
}

TEST_F(EnclaveTest, MigrationMovesTheKeysToTheNextBuildThroughEvidence) {
  auto old_host = Start(binary_, Args("measurement"));
  ASSERT_TRUE(old_host && old_host->WaitReady(milliseconds(20'000))) << LastExit();
  v1::PublicKeys keys = Keys(*old_host);
  old_host->Stop();

  // The next build runs the migration: the previous build exports to its evidence.
  const std::string rebuilt = Rebuilt();
  const std::string cmd = "'" + rebuilt + "' enclave migrate --from '" + binary_ + "' --sealed-dir '" + sealed_ +
                          "' --platform-secret '" + dir_.File("platform.secret") + "' > '" + dir_.File("out") +
                          "' 2> '" + dir_.File("err") + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << testing::ReadFile(dir_.File("err"));
  auto out = json::parse(testing::ReadFile(dir_.File("out"))).as_object();
  EXPECT_TRUE(out.at("migrated").as_bool());
  EXPECT_TRUE(std::filesystem::exists(std::string(out.at("previous_key_file").as_string())));

  // The next build opens the same keys under its own measurement; the previous one no longer can.
  auto next = Start(rebuilt, Args("measurement"));
  ASSERT_TRUE(next && next->WaitReady(milliseconds(20'000))) << LastExit();
  EXPECT_EQ(Keys(*next).ecies(), keys.ecies());
  EXPECT_EQ(Keys(*next).neo(), keys.neo());
  next->Stop();
  auto previous = Start(binary_, Args("measurement"));
  ASSERT_TRUE(previous);
  EXPECT_FALSE(previous->WaitReady(milliseconds(2'000)));
  previous->Stop();

  // An enclave refuses to export to evidence that does not carry the measurement asked for.
  auto again = Start(rebuilt, Args("measurement"));
  ASSERT_TRUE(again && again->WaitReady(milliseconds(20'000)));
  v1::EcallRequest attest;
  attest.mutable_attest()->set_nonce("nonce-1234");
  auto evidence = again->Call(attest, milliseconds(10'000));
  ASSERT_TRUE(evidence.ok());
  v1::EcallRequest exp;
  exp.mutable_migration_export()->set_evidence_json(evidence->evidence_json());
  exp.mutable_migration_export()->set_nonce("nonce-1234");
  exp.mutable_migration_export()->set_measurement(std::string(32, 'x'));
  auto refused = again->Call(exp, milliseconds(10'000));
  EXPECT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("measurement"));
  again->Stop();
}

TEST_F(EnclaveTest, FetchRunsTlsInsideTheEnclave) {
  testing::TempDir certs;
  ASSERT_TRUE(testing::WriteSelfSignedCert(certs.path()));
  std::string error;
  auto server = testing::ServerProcess::Start({.env = {{"NEOSL_GATEWAY_TLS_CERT_FILE", certs.File("cert.pem")},
                                                       {"NEOSL_GATEWAY_TLS_KEY_FILE", certs.File("key.pem")}}},
                                              &error);
  ASSERT_TRUE(server) << error;
  auto relay = std::make_shared<SocketRelay>(SocketRelayOptions{.allow_private_networks = true});
  auto host = Start(binary_, Args("measurement", "", certs.File("cert.pem")), relay);
  ASSERT_TRUE(host && host->WaitReady(milliseconds(20'000))) << LastExit();
  v1::EcallRequest req;
  req.mutable_fetch()->set_url("https://" + server->address() + "/v1/health");
  auto r = host->Call(req, milliseconds(20'000));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->fetch().status(), 200u);
  EXPECT_THAT(r->fetch().body(), HasSubstr("\"status\":\"ok\""));
  // A host that only trusts the system bundle does not trust the self-signed server.
  auto strict = Start(binary_, Args("measurement"), relay);
  ASSERT_TRUE(strict && strict->WaitReady(milliseconds(20'000)));
  auto refused = strict->Call(req, milliseconds(20'000));
  EXPECT_EQ(refused.status().code(), StatusCode::kUnauthenticated) << refused.status().ToString();
  strict->Stop();
  host->Stop();
}

// What `make run` relies on: a rebuilt binary on the same data directory keeps the enclave's
// keys (the development signer signs each build at start).
TEST(ServeAttestationTest, ARebuiltServeKeepsItsEnclaveKeys) {
  testing::TempDir dir;
  const std::string rebuilt = dir.File("neosl-rebuilt");
  std::filesystem::copy_file(testing::NeoslBinary(), rebuilt);
  std::ofstream(rebuilt, std::ios::app) << '\n';
  std::filesystem::permissions(rebuilt, std::filesystem::perms::owner_all);
  auto keys_of = [&](const std::string& binary) -> std::pair<std::string, std::string> {
    std::string error;
    auto server = testing::ServerProcess::Start({.data_dir = dir.File("data"), .binary = binary}, &error);
    EXPECT_TRUE(server) << error;
    if (!server) return {};
    testing::HttpClient http(server->address());
    auto r = http.Get("/v1/attestation?nonce=00112233445566778899");
    EXPECT_EQ(r.status, 200) << r.body;
    server->Stop();
    auto v = json::parse(r.body);
    return {json::serialize(v.at("public_keys")), std::string(v.at("measurement").as_string())};
  };
  auto [keys_before, measurement_before] = keys_of(testing::NeoslBinary());
  auto [keys_after, measurement_after] = keys_of(rebuilt);
  EXPECT_NE(measurement_before, measurement_after) << "the copy must be another build";
  EXPECT_FALSE(keys_before.empty());
  EXPECT_EQ(keys_before, keys_after);
}

TEST(ServeAttestationTest, EvidenceFromServeVerifiesWithTheCli) {
  std::string error;
  auto server = testing::ServerProcess::Start({}, &error);
  ASSERT_TRUE(server) << error;
  testing::HttpClient http(server->address());
  EXPECT_EQ(http.Get("/v1/attestation").status, 400);
  EXPECT_EQ(http.Get("/v1/attestation?nonce=zz").status, 400);
  const std::string nonce = "0123456789abcdef0123456789abcdef";
  auto r = http.Get("/v1/attestation?nonce=" + nonce);
  ASSERT_EQ(r.status, 200) << r.body;
  testing::TempDir dir;
  std::ofstream(dir.File("evidence.json")) << r.body;
  auto ok = testing::RunNeosl(
      {"attest", "verify", "--evidence", dir.File("evidence.json"), "--nonce", nonce, "--allow-simulation"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("\"ok\":true"));
  auto sim = testing::RunNeosl({"attest", "verify", "--evidence", dir.File("evidence.json"), "--nonce", nonce});
  EXPECT_EQ(sim.exit_code, 1);
  EXPECT_THAT(sim.err, HasSubstr("simulation"));
  auto wrong = testing::RunNeosl({"attest", "verify", "--evidence", dir.File("evidence.json"), "--nonce",
                                  "ffffffffffffffff", "--allow-simulation"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_THAT(wrong.err, HasSubstr("nonce"));
  auto other = testing::RunNeosl({"attest", "verify", "--evidence", dir.File("evidence.json"), "--nonce", nonce,
                                  "--allow-simulation", "--measurement", std::string(64, 'a')});
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_THAT(other.err, HasSubstr("measurement"));
  // The public keys in the evidence are the ones the enclave signs with.
  auto evidence = EvidenceFromJson(json::parse(r.body));
  ASSERT_TRUE(evidence.ok());
  EXPECT_EQ(evidence->public_keys.size(), 4u);
  EXPECT_EQ(server->Stop(), 0);
}

}  // namespace
}  // namespace neosl::tee
