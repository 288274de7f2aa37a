// CertRotator's decisions (src/mesh/tls.h), driven by a manual clock, and its background loop.
#include <atomic>
#include <chrono>
#include <fstream>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "mesh/ca.h"
#include "mesh/tls.h"
#include "support/temp_dir.h"
#include "unit/mesh/tls_test_support.h"

namespace neosl::mesh {
namespace {

using neosl::testing::ReadFile;
using neosl::testing::TempDir;
using std::chrono::hours;

// Wraps the local CA; Issue can be made to fail, and attempts are counted.
class FlakyIssuer final : public Issuer {
 public:
  FlakyIssuer(std::string ca_dir, const Clock& clock) : inner_(LocalIssuer(std::move(ca_dir), clock)) {}
  StatusOr<IssuedCertificate> Issue(std::string_view identity, std::chrono::seconds validity) override {
    attempts.fetch_add(1);
    if (fail.load()) return UnavailableError("the CA is unreachable");
    return inner_->Issue(identity, validity);
  }
  StatusOr<std::string> CaCertPem() override { return inner_->CaCertPem(); }
  StatusOr<std::string> CrlPem() override { return inner_->CrlPem(); }

  std::atomic<bool> fail{false};
  std::atomic<int> attempts{0};

 private:
  std::unique_ptr<Issuer> inner_;
};

class RotatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = CertificateAuthority::Init(ca_dir(), {}, clock_);
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    ca_ = std::move(*ca);
  }
  std::string ca_dir() const { return tmp_.File("ca"); }
  std::unique_ptr<CertRotator> MakeRotator(RotatorOptions options = {}) {
    return std::make_unique<CertRotator>(files_, LocalIssuer(ca_dir(), clock_), options, clock_);
  }
  std::string SerialOnDisk() const {
    auto info = InspectCertificate(ReadFile(files_.cert_file()));
    return info.ok() ? info->serial_hex : "";
  }

  TempDir tmp_;
  ManualClock clock_{
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count()};
  std::unique_ptr<CertificateAuthority> ca_;
  IdentityFiles files_{tmp_.File("identity"), "echo"};
};

TEST_F(RotatorTest, EnsureFreshIssuesWhenMissing) {
  auto rotator = MakeRotator();
  EXPECT_EQ(rotator->current_serial(), "");
  ASSERT_TRUE(rotator->EnsureFresh().ok());
  EXPECT_EQ(rotator->rotations(), 1u);
  EXPECT_EQ(rotator->current_serial(), SerialOnDisk());
  EXPECT_EQ(ReadFile(files_.ca_file()), ca_->ca_cert_pem());
  auto ca = CertificateAuthority::Open(ca_dir(), clock_);
  ASSERT_TRUE(ca.ok());
  EXPECT_EQ(ReadFile(files_.crl_file()), (*ca)->crl_pem());

  struct stat st {};
  ASSERT_EQ(::stat(files_.key_file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(files_.dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // The key file carries the certificate after the key (see tls.h).
  std::string key = ReadFile(files_.key_file());
  EXPECT_EQ(key.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  EXPECT_NE(key.find(ReadFile(files_.cert_file())), std::string::npos);
}

TEST_F(RotatorTest, EnsureFreshKeepsAFreshCertificate) {
  auto rotator = MakeRotator();
  ASSERT_TRUE(rotator->EnsureFresh().ok());
  std::string serial = rotator->current_serial();
  clock_.Advance(hours(15));  // 9 h of 24 left: more than a third
  ASSERT_TRUE(rotator->EnsureFresh().ok());
  EXPECT_EQ(rotator->current_serial(), serial);
  EXPECT_EQ(rotator->rotations(), 1u);

  auto restarted = MakeRotator();  // a restarted process adopts the files on disk
  ASSERT_TRUE(restarted->EnsureFresh().ok());
  EXPECT_EQ(restarted->current_serial(), serial);
  EXPECT_EQ(restarted->rotations(), 0u);
}

TEST_F(RotatorTest, EnsureFreshRenewsWhenLessThanAThirdIsLeft) {
  auto rotator = MakeRotator();
  ASSERT_TRUE(rotator->EnsureFresh().ok());
  std::string serial = rotator->current_serial();
  clock_.Advance(hours(16));
  ASSERT_TRUE(rotator->EnsureFresh().ok());
  EXPECT_NE(rotator->current_serial(), serial);
  EXPECT_EQ(rotator->current_serial(), SerialOnDisk());
  EXPECT_EQ(rotator->rotations(), 2u);

  clock_.Advance(hours(30));  // long expired
  ASSERT_TRUE(rotator->EnsureFresh().ok());
  EXPECT_EQ(rotator->rotations(), 3u);
}

TEST_F(RotatorTest, EnsureFreshReplacesRevokedForeignAndMisnamedCertificates) {
  auto rotator = MakeRotator();
  ASSERT_TRUE(rotator->EnsureFresh().ok());

  ASSERT_TRUE(ca_->Revoke(rotator->current_serial()).ok());
  ASSERT_TRUE(rotator->EnsureFresh().ok());
  EXPECT_EQ(rotator->rotations(), 2u);

  auto other = CertificateAuthority::Init(tmp_.File("other"), {}, clock_);
  ASSERT_TRUE(other.ok());
  auto foreign = (*other)->Issue("echo", hours(24));
  ASSERT_TRUE(foreign.ok());
  ASSERT_TRUE(WriteIdentityFiles(files_, *foreign, ca_->ca_cert_pem(), ca_->crl_pem()).ok());
  ASSERT_TRUE(rotator->EnsureFresh().ok());
  EXPECT_EQ(rotator->rotations(), 3u);

  auto misnamed = ca_->Issue("gateway", hours(24));
  ASSERT_TRUE(misnamed.ok());
  ASSERT_TRUE(WriteIdentityFiles(files_, *misnamed, ca_->ca_cert_pem(), ca_->crl_pem()).ok());
  ASSERT_TRUE(rotator->EnsureFresh().ok());
  EXPECT_EQ(rotator->rotations(), 4u);
  auto info = InspectCertificate(ReadFile(files_.cert_file()));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->common_name, "echo");
}

TEST_F(RotatorTest, WriteIdentityFilesRefusesAKeyOfAnotherCertificate) {
  auto a = ca_->Issue("echo", hours(24));
  auto b = ca_->Issue("echo", hours(24));
  ASSERT_TRUE(a.ok() && b.ok());
  IssuedCertificate mixed;
  mixed.identity = "echo";
  mixed.cert_pem = a->cert_pem;
  mixed.key_pem = std::move(b->key_pem);
  EXPECT_EQ(WriteIdentityFiles(files_, mixed, ca_->ca_cert_pem(), ca_->crl_pem()).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::ifstream(files_.key_file()).good());
}

TEST_F(RotatorTest, BackgroundLoopRetriesAFailedRenewalAndKeepsTheOldCertificate) {
  auto issuer = std::make_unique<FlakyIssuer>(ca_dir(), clock_);
  FlakyIssuer* flaky = issuer.get();
  RotatorOptions options;
  options.retry_interval = std::chrono::seconds(1);
  CertRotator rotator(files_, std::move(issuer), options, clock_);
  ASSERT_TRUE(rotator.EnsureFresh().ok());
  std::string serial = rotator.current_serial();

  flaky->fail = true;
  clock_.Advance(hours(17));  // due
  int attempts_before = flaky->attempts.load();
  rotator.Start();
  ASSERT_TRUE(testing::WaitUntil([&] { return flaky->attempts.load() >= attempts_before + 2; }))
      << "the loop did not retry after a failed renewal";
  EXPECT_EQ(rotator.current_serial(), serial);
  EXPECT_EQ(SerialOnDisk(), serial);
  EXPECT_EQ(rotator.rotations(), 1u);

  flaky->fail = false;
  ASSERT_TRUE(testing::WaitUntil([&] { return rotator.rotations() == 2u; }));
  EXPECT_NE(rotator.current_serial(), serial);
  EXPECT_EQ(SerialOnDisk(), rotator.current_serial());
  rotator.Stop();
}

TEST_F(RotatorTest, CrlIsRefreshedOnDemandAndInTheBackground) {
  RotatorOptions options;
  options.crl_refresh = std::chrono::seconds(1);
  auto rotator = MakeRotator(options);
  ASSERT_TRUE(rotator->EnsureFresh().ok());
  auto victim = ca_->Issue("victim", hours(24));
  ASSERT_TRUE(victim.ok());

  ASSERT_TRUE(ca_->Revoke(victim->serial_hex).ok());
  ASSERT_TRUE(rotator->RefreshCrl().ok());
  EXPECT_EQ(ReadFile(files_.crl_file()), ca_->crl_pem());

  auto second = ca_->Issue("victim", hours(24));
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(ca_->Revoke(second->serial_hex).ok());
  rotator->Start();
  EXPECT_TRUE(testing::WaitUntil([&] { return ReadFile(files_.crl_file()) == ca_->crl_pem(); }));
  rotator->Stop();
  EXPECT_EQ(rotator->rotations(), 1u);  // nothing was due
}

}  // namespace
}  // namespace neosl::mesh
