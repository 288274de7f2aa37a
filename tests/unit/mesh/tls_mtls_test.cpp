// mTLS between mesh members over real gRPC on loopback (src/mesh/tls.h): who gets in, who is
// refused, and that only TLS 1.3 is spoken.
#include "mesh/tls.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include "mesh/ca.h"
#include "support/temp_dir.h"
#include "unit/mesh/tls_test_support.h"
#include <arpa/inet.h>
#include <netinet/in.h>

namespace neosl::mesh {
namespace {

using neosl::testing::TempDir;
using testing::CallEcho;
using testing::EchoResult;
using testing::EchoServer;
using testing::FingerprintOfFile;
using testing::FreshChannel;
using testing::WriteIssued;

class MtlsTest : public ::testing::Test {
 protected:
  // Before any gRPC object: gRPC reads its cipher list once.
  static void SetUpTestSuite() { ConfigureTls13Only(); }

  void SetUp() override {
    auto ca = CertificateAuthority::Init(ca_dir(), {}, clock_);
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    ca_ = std::move(*ca);
    server_files_ = WriteIssued(*ca_, tmp_.File("echo"), "echo");
    client_files_ = WriteIssued(*ca_, tmp_.File("gateway"), "gateway");
    auto creds = ServerTlsCredentials(server_files_);
    ASSERT_TRUE(creds.ok()) << creds.status().ToString();
    echo_ = EchoServer::Start(*creds);
    ASSERT_TRUE(echo_);
  }

  std::string ca_dir() const { return tmp_.File("ca"); }

  std::shared_ptr<grpc::ChannelCredentials> ClientCredentials(const IdentityFiles& files,
                                                              const std::string& server = "echo") {
    auto creds = ChannelTlsCredentials(files, server);
    EXPECT_TRUE(creds.ok()) << creds.status().ToString();
    return creds.ok() ? *creds : nullptr;
  }
  EchoResult Call(const std::shared_ptr<grpc::ChannelCredentials>& creds, const std::string& server = "echo") {
    return CallEcho(FreshChannel(echo_->address(), creds, server));
  }

  TempDir tmp_;
  SystemClock clock_;
  std::unique_ptr<CertificateAuthority> ca_;
  IdentityFiles server_files_, client_files_;
  std::unique_ptr<EchoServer> echo_;
};

TEST_F(MtlsTest, ValidClientIsServedAndTheServerSeesItsIdentity) {
  EchoResult r = Call(ClientCredentials(client_files_));
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.caller, "gateway");
  EXPECT_EQ(r.caller_fingerprint, FingerprintOfFile(client_files_.cert_file()));
  EXPECT_EQ(r.server_fingerprint, FingerprintOfFile(server_files_.cert_file()));
}

TEST_F(MtlsTest, ClientWithoutCertificateIsRefused) {
  EchoResult r = Call(testing::CredentialsWithoutCertificate(client_files_.ca_file()));
  EXPECT_FALSE(r.status.ok());
  EXPECT_TRUE(r.caller.empty());
}

TEST_F(MtlsTest, ClientWithCertificateFromAnotherCaIsRefused) {
  auto other = CertificateAuthority::Init(tmp_.File("other-ca"), {}, clock_);
  ASSERT_TRUE(other.ok());
  auto rogue = (*other)->Issue("gateway", std::chrono::hours(24));
  ASSERT_TRUE(rogue.ok());
  // It trusts the real root (so it would accept the server); only its own certificate is foreign.
  IdentityFiles files{tmp_.File("rogue"), "gateway"};
  ASSERT_TRUE(WriteIdentityFiles(files, *rogue, ca_->ca_cert_pem(), ca_->crl_pem()).ok());
  EXPECT_FALSE(Call(ClientCredentials(files)).status.ok());
}

TEST_F(MtlsTest, RevokedClientIsRefusedOnceTheServerHasTheNewCrl) {
  auto creds = ClientCredentials(client_files_);
  ASSERT_TRUE(Call(creds).status.ok());
  auto info = InspectCertificate(neosl::testing::ReadFile(client_files_.cert_file()));
  ASSERT_TRUE(info.ok());
  ASSERT_TRUE(ca_->Revoke(info->serial_hex).ok());

  CertRotator server_rotator(server_files_, LocalIssuer(ca_dir(), clock_), {}, clock_);
  ASSERT_TRUE(server_rotator.RefreshCrl().ok());
  EchoResult refused = Call(creds);
  EXPECT_FALSE(refused.status.ok());

  // The server still serves everyone else.
  IdentityFiles functions = WriteIssued(*ca_, tmp_.File("functions"), "functions");
  EchoResult r = Call(ClientCredentials(functions));
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.caller, "functions");
}

TEST_F(MtlsTest, ClientRefusesARevokedServer) {
  auto info = InspectCertificate(neosl::testing::ReadFile(server_files_.cert_file()));
  ASSERT_TRUE(info.ok());
  ASSERT_TRUE(ca_->Revoke(info->serial_hex).ok());
  neosl::testing::WriteFile(client_files_.crl_file(), ca_->crl_pem());
  EXPECT_FALSE(Call(ClientCredentials(client_files_)).status.ok());
}

TEST_F(MtlsTest, ExpiredClientCertificateIsRefused) {
  // A CA whose clock says two days ago issues a 24 h certificate that expired yesterday.
  ManualClock two_days_ago(clock_.NowUnixMillis() - 48 * 3600'000LL);
  auto past_ca = CertificateAuthority::Open(ca_dir(), two_days_ago);
  ASSERT_TRUE(past_ca.ok());
  IdentityFiles expired = WriteIssued(**past_ca, tmp_.File("expired"), "gateway");
  auto info = InspectCertificate(neosl::testing::ReadFile(expired.cert_file()));
  ASSERT_TRUE(info.ok());
  ASSERT_LT(info->not_after_ms, clock_.NowUnixMillis() - 23 * 3600'000LL);

  EXPECT_FALSE(Call(ClientCredentials(expired)).status.ok());
  EXPECT_TRUE(Call(ClientCredentials(client_files_)).status.ok());  // same CA, same name, in date
}

TEST_F(MtlsTest, ClientRefusesAServerThatIsNotTheExpectedIdentity) {
  EXPECT_FALSE(Call(ClientCredentials(client_files_, "secrets"), "secrets").status.ok());
  EXPECT_TRUE(Call(ClientCredentials(client_files_, "echo")).status.ok());
}

TEST_F(MtlsTest, AnUnverifiableCrlRefusesEveryoneUntilRepaired) {
  auto creds = ClientCredentials(client_files_);
  ASSERT_TRUE(Call(creds).status.ok());
  auto other = CertificateAuthority::Init(tmp_.File("other-ca"), {}, clock_);
  ASSERT_TRUE(other.ok());
  // A well-formed CRL, but signed by another root: fail closed.
  neosl::testing::WriteFile(server_files_.crl_file(), (*other)->crl_pem());
  EXPECT_FALSE(Call(creds).status.ok());
  neosl::testing::WriteFile(server_files_.crl_file(), "garbage");
  EXPECT_FALSE(Call(creds).status.ok());
  neosl::testing::WriteFile(server_files_.crl_file(), ca_->crl_pem());
  EXPECT_TRUE(Call(creds).status.ok());
}

TEST_F(MtlsTest, CredentialsNeedTheIdentityFiles) {
  IdentityFiles missing{tmp_.File("missing"), "echo"};
  EXPECT_EQ(ServerTlsCredentials(missing).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ChannelTlsCredentials(missing, "echo").status().code(), StatusCode::kFailedPrecondition);
  neosl::testing::WriteFile(client_files_.crl_file(), "not a crl");
  EXPECT_EQ(ChannelTlsCredentials(client_files_, "echo").status().code(), StatusCode::kFailedPrecondition);
}

// gRPC 1.51's default GRPC_SSL_CIPHER_SUITES (ssl_utils.cc), which allows ECDSA TLS 1.2 suites.
constexpr const char* kGrpcDefaultSuites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384";

struct HandshakeResult {
  bool ok = false;
  int version = 0;
  std::string alpn;
  std::string error;
};

// A plain OpenSSL client with a valid mesh certificate, speaking at most `max_version`.
HandshakeResult Handshake(int port, int max_version, const IdentityFiles& files) {
  HandshakeResult out;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    out.error = "connect failed";
    return out;
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, max_version);
  SSL_CTX_use_certificate_file(ctx, files.cert_file().c_str(), SSL_FILETYPE_PEM);
  SSL_CTX_use_PrivateKey_file(ctx, files.key_file().c_str(), SSL_FILETYPE_PEM);
  SSL_CTX_load_verify_locations(ctx, files.ca_file().c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  static const unsigned char kAlpn[] = {2, 'h', '2'};
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  ERR_clear_error();
  out.ok = SSL_connect(ssl) == 1;
  if (out.ok) {
    out.version = SSL_version(ssl);
    const unsigned char* alpn = nullptr;
    unsigned alpn_len = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    out.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
    SSL_shutdown(ssl);
  } else {
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
    out.error = buf;
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
  return out;
}

TEST_F(MtlsTest, Tls12ClientIsRefusedWhileTls13Works) {
  HandshakeResult tls13 = Handshake(echo_->port(), TLS1_3_VERSION, client_files_);
  ASSERT_TRUE(tls13.ok) << tls13.error;
  EXPECT_EQ(tls13.version, TLS1_3_VERSION);
  EXPECT_EQ(tls13.alpn, "h2");

  // The same client capped at TLS 1.2: the server finds no TLS 1.2 suite for its P-256
  // certificate ("no shared cipher" in gRPC's log) and drops the connection.
  HandshakeResult tls12 = Handshake(echo_->port(), TLS1_2_VERSION, client_files_);
  EXPECT_FALSE(tls12.ok) << "negotiated version " << tls12.version;
}

// Run only by the next test, in a child process whose gRPC keeps its default cipher list.
TEST_F(MtlsTest, DISABLED_Tls12ProbeIsAccepted) {
  HandshakeResult tls12 = Handshake(echo_->port(), TLS1_2_VERSION, client_files_);
  EXPECT_TRUE(tls12.ok) << tls12.error;
  EXPECT_EQ(tls12.version, TLS1_2_VERSION);
}

// The control for the test above: the very same client is accepted when gRPC keeps its default
// suites, so it is ConfigureTls13Only and nothing else that refuses TLS 1.2.
TEST_F(MtlsTest, Tls12IsRefusedBecauseOfTheCipherRestriction) {
  std::string self = std::filesystem::read_symlink("/proc/self/exe");
  std::string command = "GRPC_SSL_CIPHER_SUITES='" + std::string(kGrpcDefaultSuites) + "' '" + self +
                        "' --gtest_filter=MtlsTest.DISABLED_Tls12ProbeIsAccepted --gtest_also_run_disabled_tests"
                        " >/dev/null 2>&1";
  // NOLINTNEXTLINE(concurrency-mt-unsafe): the test thread is the only one that spawns.
  EXPECT_EQ(std::system(command.c_str()), 0) << "a TLS 1.2 client was refused even with gRPC's default suites";
}

}  // namespace
}  // namespace neosl::mesh
