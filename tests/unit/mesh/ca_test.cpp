// The mesh CA (src/mesh/ca.h): init/open, issuing, CSRs, revocation and the CRL, concurrency.
#include "mesh/ca.h"

#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include "mesh/pki_util.h"
#include "support/temp_dir.h"

namespace neosl::mesh {
namespace {

using internal::PkeyPtr;
using internal::X509CrlPtr;
using internal::X509Ptr;
using neosl::testing::ReadFile;
using neosl::testing::TempDir;

X509Ptr ParseCert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509Ptr cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return cert;
}

X509CrlPtr ParseCrl(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509CrlPtr crl(PEM_read_bio_X509_CRL(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return crl;
}

std::string SerialOf(const X509_REVOKED* r) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(r), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string out(hex);
  OPENSSL_free(hex);
  BN_free(bn);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// OpenSSL's own chain verification of `leaf` against `root` for `purpose`, at the real time.
int VerifyChain(X509* root, X509* leaf, int purpose) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, root);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_STORE_CTX_set_purpose(ctx, purpose);
  int ok = X509_verify_cert(ctx);
  int err = X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok == 1 ? X509_V_OK : err;
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

class CaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = CertificateAuthority::Init(dir(), {}, clock_);
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    ca_ = std::move(*ca);
  }
  std::string dir() const { return tmp_.File("ca"); }

  TempDir tmp_;
  SystemClock clock_;
  std::unique_ptr<CertificateAuthority> ca_;
};

TEST_F(CaTest, InitWritesPrivateFilesAndRefusesAnExistingCa) {
  EXPECT_EQ(ModeOf(dir()), 0700u);
  EXPECT_EQ(ModeOf(dir() + "/ca.key"), 0600u);
  X509Ptr root = ParseCert(ReadFile(dir() + "/ca.crt"));
  ASSERT_TRUE(root);
  EXPECT_EQ(X509_check_ca(root.get()), 1);
  int bc = X509_get_ext_by_NID(root.get(), NID_basic_constraints, -1);
  ASSERT_GE(bc, 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(root.get(), bc)), 1);
  EXPECT_TRUE(X509_get_key_usage(root.get()) & KU_KEY_CERT_SIGN);
  EXPECT_TRUE(X509_get_key_usage(root.get()) & KU_CRL_SIGN);
  EXPECT_EQ(X509_verify(root.get(), X509_get0_pubkey(root.get())), 1);  // self-signed

  auto again = CertificateAuthority::Init(dir(), {}, clock_);
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadFile(dir() + "/ca.crt"), ca_->ca_cert_pem());  // untouched
}

TEST_F(CaTest, OpenMissingIsNotFoundAndAForeignKeyIsDataLoss) {
  EXPECT_EQ(CertificateAuthority::Open(tmp_.File("nope"), clock_).status().code(), StatusCode::kNotFound);
  auto other = CertificateAuthority::Init(tmp_.File("other"), {}, clock_);
  ASSERT_TRUE(other.ok());
  neosl::testing::WriteFile(dir() + "/ca.key", ReadFile(tmp_.File("other") + "/ca.key"));
  auto opened = CertificateAuthority::Open(dir(), clock_);
  EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(opened.status().message().find("PRIVATE KEY"), std::string_view::npos);
}

TEST_F(CaTest, IssueChecksIdentityAndValidity) {
  for (const std::string& bad :
       std::vector<std::string>{"", "Echo", "a_b", "a.b", "-echo", "echo-", std::string(64, 'a')}) {
    EXPECT_EQ(ca_->Issue(bad, std::chrono::hours(24)).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(ca_->Issue(std::string(63, 'a'), std::chrono::hours(24)).ok());
  using std::chrono::seconds;
  EXPECT_EQ(ca_->Issue("echo", kMinCertValidity - seconds(1)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ca_->Issue("echo", kMaxCertValidity + seconds(1)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ca_->Issue("echo", kMinCertValidity).ok());
  EXPECT_TRUE(ca_->Issue("echo", kMaxCertValidity).ok());
}

TEST_F(CaTest, IssuedCertificateChainsToTheRootAndHasTheMeshProfile) {
  int64_t before_ms = clock_.NowUnixMillis();
  auto issued = ca_->Issue("echo", std::chrono::hours(36));
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  X509Ptr root = ParseCert(ReadFile(dir() + "/ca.crt"));
  X509Ptr leaf = ParseCert(issued->cert_pem);
  ASSERT_TRUE(root && leaf);

  EXPECT_EQ(VerifyChain(root.get(), leaf.get(), X509_PURPOSE_SSL_SERVER), X509_V_OK);
  EXPECT_EQ(VerifyChain(root.get(), leaf.get(), X509_PURPOSE_SSL_CLIENT), X509_V_OK);
  EXPECT_EQ(X509_get_version(leaf.get()), X509_VERSION_3);
  EXPECT_EQ(X509_get_signature_nid(leaf.get()), NID_ecdsa_with_SHA256);
  EXPECT_TRUE(internal::IsP256Key(X509_get0_pubkey(leaf.get())));
  EXPECT_EQ(X509_check_ca(leaf.get()), 0);
  EXPECT_EQ(X509_get_extended_key_usage(leaf.get()) & (XKU_SSL_SERVER | XKU_SSL_CLIENT),
            static_cast<uint32_t>(XKU_SSL_SERVER | XKU_SSL_CLIENT));
  EXPECT_EQ(X509_check_host(leaf.get(), "echo", 4, 0, nullptr), 1);  // SAN DNS:echo
  EXPECT_EQ(X509_check_host(leaf.get(), "other", 5, 0, nullptr), 0);

  auto info = InspectCertificate(issued->cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->common_name, "echo");
  EXPECT_EQ(info->serial_hex, issued->serial_hex);
  EXPECT_EQ(info->serial_hex.size(), 32u);  // 16 bytes, top bits 01: positive, fixed length
  EXPECT_EQ(info->sha256_hex.size(), 64u);
  EXPECT_EQ(info->not_before_ms, issued->not_before_ms);
  EXPECT_EQ(info->not_after_ms - info->not_before_ms, (36 * 3600 + 60) * 1000);
  EXPECT_LE(info->not_before_ms, before_ms - 59'000);  // backdated a minute
  EXPECT_GE(info->not_before_ms, before_ms - 61'000);

  // The key is PKCS#8 PEM and belongs to the certificate.
  std::string_view key_text(reinterpret_cast<const char*>(issued->key_pem.bytes().data()), issued->key_pem.size());
  EXPECT_EQ(key_text.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  auto key = internal::ParsePrivateKeyPem(issued->key_pem.bytes());
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(X509_check_private_key(leaf.get(), key->get()), 1);
}

TEST_F(CaTest, RevokeListsTheSerialInASignedCrlAndKeepsTheFirstTime) {
  ManualClock manual(clock_.NowUnixMillis());
  auto ca = CertificateAuthority::Open(dir(), manual);
  ASSERT_TRUE(ca.ok());
  auto a = (*ca)->Issue("echo", std::chrono::hours(24));
  auto b = (*ca)->Issue("gateway", std::chrono::hours(24));
  ASSERT_TRUE(a.ok() && b.ok());

  EXPECT_EQ((*ca)->Revoke("00ff").code(), StatusCode::kNotFound);
  EXPECT_EQ((*ca)->Revoke("zz").code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE((*ca)->Revoke(a->serial_hex).ok());
  int64_t first = manual.NowUnixMillis();
  manual.Advance(std::chrono::minutes(5));
  std::string upper = a->serial_hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE((*ca)->Revoke(upper).ok());  // twice, and in another spelling

  std::string crl_pem = ReadFile(dir() + "/crl.pem");
  EXPECT_EQ(crl_pem, (*ca)->crl_pem());
  X509CrlPtr crl = ParseCrl(crl_pem);
  X509Ptr root = ParseCert((*ca)->ca_cert_pem());
  ASSERT_TRUE(crl && root);
  EXPECT_EQ(X509_CRL_get_version(crl.get()), 1);  // v2
  EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(root.get())), 1);
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.get());
  ASSERT_EQ(sk_X509_REVOKED_num(revoked), 1);
  EXPECT_EQ(SerialOf(sk_X509_REVOKED_value(revoked, 0)), a->serial_hex);
  EXPECT_GT(ASN1_TIME_compare(X509_CRL_get0_nextUpdate(crl.get()), X509_CRL_get0_lastUpdate(crl.get())), 0);

  auto list = (*ca)->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  for (const IssuedRecord& r : *list) {
    if (r.serial_hex == a->serial_hex) {
      ASSERT_TRUE(r.revoked_at_ms.has_value());
      EXPECT_EQ(*r.revoked_at_ms, first);
      EXPECT_EQ(r.identity, "echo");
    } else {
      EXPECT_EQ(r.serial_hex, b->serial_hex);
      EXPECT_FALSE(r.revoked_at_ms.has_value());
    }
  }
  // A fresh Open sees the new CRL.
  auto reopened = CertificateAuthority::Open(dir(), clock_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->crl_pem(), crl_pem);
}

TEST_F(CaTest, ConcurrentIssuersLoseNoEntry) {
  constexpr int kPerThread = 15;
  auto issue_many = [&] {
    auto ca = CertificateAuthority::Open(dir(), clock_);
    ASSERT_TRUE(ca.ok());
    for (int i = 0; i < kPerThread; ++i) ASSERT_TRUE((*ca)->Issue("worker", std::chrono::hours(24)).ok());
  };
  std::thread t1(issue_many), t2(issue_many), t3(issue_many);
  t1.join();
  t2.join();
  t3.join();
  auto list = ca_->List();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 3u * kPerThread);
  std::set<std::string> serials;
  std::set<std::string> counters;  // the low 8 bytes: the CA's own counter
  for (const IssuedRecord& r : *list) {
    serials.insert(r.serial_hex);
    counters.insert(r.serial_hex.substr(16));
  }
  EXPECT_EQ(serials.size(), list->size());
  EXPECT_EQ(counters.size(), list->size());
}

// A CSR for `cn` carrying `public_key`, signed by `signer`.
std::string MakeCsr(const std::string& cn, EVP_PKEY* public_key, EVP_PKEY* signer) {
  X509_REQ* req = X509_REQ_new();
  X509_REQ_set_version(req, 0);
  X509_NAME_add_entry_by_NID(X509_REQ_get_subject_name(req), NID_commonName, MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.data()), static_cast<int>(cn.size()), -1, 0);
  X509_REQ_set_pubkey(req, public_key);
  X509_REQ_sign(req, signer, EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_REQ(bio, req);
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(bio, &mem);
  std::string out(mem->data, mem->length);
  BIO_free(bio);
  X509_REQ_free(req);
  return out;
}

TEST_F(CaTest, IssueForCsrChecksSignatureAndName) {
  auto key = internal::GenerateP256Key();
  auto other = internal::GenerateP256Key();
  ASSERT_TRUE(key.ok() && other.ok());

  auto issued = ca_->IssueForCsr("echo", MakeCsr("echo", key->get(), key->get()), std::chrono::hours(24));
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  EXPECT_TRUE(issued->key_pem.empty());
  X509Ptr leaf = ParseCert(issued->cert_pem);
  ASSERT_TRUE(leaf);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(leaf.get()), key->get()), 1);
  EXPECT_EQ(VerifyChain(ParseCert(ca_->ca_cert_pem()).get(), leaf.get(), X509_PURPOSE_SSL_CLIENT), X509_V_OK);

  EXPECT_EQ(
      ca_->IssueForCsr("secrets", MakeCsr("echo", key->get(), key->get()), std::chrono::hours(24)).status().code(),
      StatusCode::kPermissionDenied);
  // Signed by a key other than the one it asks a certificate for.
  EXPECT_EQ(ca_->IssueForCsr("echo", MakeCsr("echo", key->get(), other->get()), std::chrono::hours(24)).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(ca_->IssueForCsr("echo", "not a csr", std::chrono::hours(24)).status().code(),
            StatusCode::kInvalidArgument);
  auto list = ca_->List();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);  // refused requests leave no trace
}

TEST_F(CaTest, RefusesToIssueBeyondTheRootsLifetime) {
  CertificateAuthority::InitOptions options;
  options.validity = std::chrono::hours(48);
  auto short_lived = CertificateAuthority::Init(tmp_.File("short"), options, clock_);
  ASSERT_TRUE(short_lived.ok()) << short_lived.status().ToString();
  ManualClock later(clock_.NowUnixMillis() + 3600'000);
  auto ca = CertificateAuthority::Open(tmp_.File("short"), later);
  ASSERT_TRUE(ca.ok());
  EXPECT_EQ((*ca)->Issue("echo", std::chrono::hours(48)).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE((*ca)->Issue("echo", std::chrono::hours(24)).ok());
}

}  // namespace
}  // namespace neosl::mesh
