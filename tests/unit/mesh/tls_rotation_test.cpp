// Certificate rotation under load (src/mesh/tls.h): both ends renew several times while calls
// flow; no call may fail, and new connections must present the new certificates.
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "mesh/ca.h"
#include "mesh/tls.h"
#include "support/temp_dir.h"
#include "unit/mesh/tls_test_support.h"

namespace neosl::mesh {
namespace {

using neosl::testing::TempDir;
using testing::CallEcho;
using testing::EchoResult;
using testing::EchoServer;
using testing::FingerprintOfFile;
using testing::FreshChannel;

class RotationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ConfigureTls13Only(); }
  void SetUp() override {
    auto ca = CertificateAuthority::Init(ca_dir(), {}, clock_);
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  }
  std::string ca_dir() const { return tmp_.File("ca"); }

  TempDir tmp_;
  SystemClock clock_;
};

// Counts outcomes of calls made from several threads.
struct Tally {
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::mutex mu;
  std::vector<std::string> errors;

  void Record(const EchoResult& r, const char* where) {
    if (r.status.ok()) {
      ok.fetch_add(1);
      return;
    }
    failed.fetch_add(1);
    std::lock_guard lock(mu);
    if (errors.size() < 10) errors.push_back(std::string(where) + ": " + r.status.error_message());
  }
};

TEST_F(RotationTest, RotatingBothEndsUnderLoadLosesNoCall) {
  IdentityFiles server_files{tmp_.File("echo"), "echo"};
  IdentityFiles client_files{tmp_.File("gateway"), "gateway"};
  CertRotator server_rotator(server_files, LocalIssuer(ca_dir(), clock_), {}, clock_);
  CertRotator client_rotator(client_files, LocalIssuer(ca_dir(), clock_), {}, clock_);
  ASSERT_TRUE(server_rotator.EnsureFresh().ok());
  ASSERT_TRUE(client_rotator.EnsureFresh().ok());
  server_rotator.Start();
  client_rotator.Start();

  TlsOptions tls;
  tls.refresh_interval = std::chrono::seconds(1);
  auto server_creds = ServerTlsCredentials(server_files, tls);
  ASSERT_TRUE(server_creds.ok()) << server_creds.status().ToString();
  auto echo = EchoServer::Start(*server_creds);
  ASSERT_TRUE(echo);
  auto client_creds = ChannelTlsCredentials(client_files, "echo", tls);
  ASSERT_TRUE(client_creds.ok()) << client_creds.status().ToString();

  Tally load, probes;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  clients.reserve(6);
  // Long-lived connections must survive a rotation...
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&] {
      auto channel = FreshChannel(echo->address(), *client_creds);
      while (!stop.load()) load.Record(CallEcho(channel), "load");
    });
  }
  // ...and new handshakes during one must never meet a half-written key/certificate pair.
  for (int i = 0; i < 2; ++i) {
    clients.emplace_back([&] {
      while (!stop.load()) load.Record(CallEcho(FreshChannel(echo->address(), *client_creds)), "new connection");
    });
  }
  ASSERT_TRUE(testing::WaitUntil([&] { return load.ok.load() > 20; }));

  constexpr int kRounds = 3;
  for (int round = 0; round < kRounds; ++round) {
    std::string old_server = FingerprintOfFile(server_files.cert_file());
    ASSERT_TRUE(server_rotator.RotateNow().ok());
    ASSERT_TRUE(client_rotator.RotateNow().ok());
    std::string new_server = FingerprintOfFile(server_files.cert_file());
    std::string new_client = FingerprintOfFile(client_files.cert_file());
    ASSERT_NE(new_server, old_server);

    // New connections pick up both new certificates within gRPC's refresh interval.
    bool seen = testing::WaitUntil([&] {
      EchoResult r = CallEcho(FreshChannel(echo->address(), *client_creds));
      probes.Record(r, "fresh channel");
      return r.server_fingerprint == new_server && r.caller_fingerprint == new_client;
    });
    EXPECT_TRUE(seen) << "round " << round << ": new connections still use the old certificates";
    int ok_before = load.ok.load();
    ASSERT_TRUE(testing::WaitUntil([&] { return load.ok.load() > ok_before + 20; }));
  }
  stop = true;
  for (std::thread& t : clients) t.join();

  EXPECT_EQ(load.failed.load(), 0) << (load.errors.empty() ? "" : load.errors.front());
  EXPECT_EQ(probes.failed.load(), 0) << (probes.errors.empty() ? "" : probes.errors.front());
  EXPECT_GT(load.ok.load(), 100);
  EXPECT_EQ(server_rotator.rotations(), 1u + kRounds);
  EXPECT_EQ(client_rotator.rotations(), 1u + kRounds);
}

}  // namespace
}  // namespace neosl::mesh
