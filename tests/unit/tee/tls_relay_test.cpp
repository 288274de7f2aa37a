// The enclave's network relay: TLS inside (EnclaveTlsClient), sockets outside (SocketRelay),
// exercised in-process against a real OpenSSL server on 127.0.0.1.
#include "tee/tls_relay.h"

#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include "support/temp_dir.h"
#include "support/tls_cert.h"
#include "tee/socket_relay.h"
#include <arpa/inet.h>
#include <netinet/in.h>

namespace neosl::tee {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kToken = "s3cr3t-token-XYZ";
constexpr std::string_view kBodySecret = "b0dy-s3cret-42";

bool Contains(const std::vector<uint8_t>& haystack, std::string_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

// A self-signed CA certificate for `dns_name` only, for the name-mismatch case.
void WriteCertFor(const std::string& dir, const std::string& dns_name) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(dns_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  std::string san = "DNS:" + dns_name;
  for (auto [nid, value] :
       {std::pair{NID_subject_alt_name, san.c_str()}, std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    ASSERT_NE(ext, nullptr);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  ASSERT_GT(X509_sign(cert, key, EVP_sha256()), 0);
  FILE* c = std::fopen((dir + "/cert.pem").c_str(), "w");
  FILE* k = std::fopen((dir + "/key.pem").c_str(), "w");
  ASSERT_TRUE(c && k);
  PEM_write_X509(c, cert);
  PEM_write_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(c);
  std::fclose(k);
  X509_free(cert);
  EVP_PKEY_free(key);
}

int ListenLocal(uint16_t* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ADD_FAILURE() << "cannot listen on 127.0.0.1";
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

// A TLS server on 127.0.0.1:0 that serves connections one after another: it reads a request
// (headers and a Content-Length body), records it, and lets `Handler` answer.
class TlsServer {
 public:
  using Handler = std::function<void(SSL*, TlsServer&)>;

  TlsServer(const std::string& dir, Handler handler) : handler_(std::move(handler)) {
    std::signal(SIGPIPE, SIG_IGN);  // the client may hang up while we write
    ctx_ = SSL_CTX_new(TLS_server_method());
    EXPECT_EQ(SSL_CTX_use_certificate_file(ctx_, (dir + "/cert.pem").c_str(), SSL_FILETYPE_PEM), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey_file(ctx_, (dir + "/key.pem").c_str(), SSL_FILETYPE_PEM), 1);
    listen_fd_ = ListenLocal(&port_);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TlsServer() {
    Release();
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    ::close(listen_fd_);
    SSL_CTX_free(ctx_);
  }

  uint16_t port() const { return port_; }
  std::vector<std::string> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  // Lets a stalling handler go; called by the test's end at the latest.
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  void WaitForRelease() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(30), [this] { return released_; });
  }

  static void Write(SSL* ssl, std::string_view data) { SSL_write(ssl, data.data(), static_cast<int>(data.size())); }

 private:
  void Serve() {
    for (;;) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) {
        if (errno == EINTR) continue;
        return;
      }
      timeval guard{10, 0};  // a safety net so a broken test cannot hang the server thread
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof(guard));
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &guard, sizeof(guard));
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) == 1) {
        if (ReadRequest(ssl)) handler_(ssl, *this);
        SSL_shutdown(ssl);
      }
      SSL_free(ssl);
      ::close(fd);
      ERR_clear_error();
    }
  }

  bool ReadRequest(SSL* ssl) {
    std::string req;
    char buf[4096];
    size_t header_end = std::string::npos;
    size_t want = 0;
    for (;;) {
      if (header_end == std::string::npos && (header_end = req.find("\r\n\r\n")) != std::string::npos) {
        std::string lower = req.substr(0, header_end);
        std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
        size_t cl = lower.find("content-length:");
        want = header_end + 4 + (cl == std::string::npos ? 0 : std::stoul(lower.substr(cl + 15)));
      }
      if (header_end != std::string::npos && req.size() >= want) break;
      int n = SSL_read(ssl, buf, sizeof(buf));
      if (n <= 0) return false;
      req.append(buf, static_cast<size_t>(n));
    }
    std::lock_guard lock(mu_);
    requests_.push_back(req);
    return true;
  }

  Handler handler_;
  SSL_CTX* ctx_ = nullptr;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  std::vector<std::string> requests_;
};

// Everything the host would see: every byte relayed, in both directions.
class RecordingRelay final : public ByteRelay {
 public:
  RecordingRelay() : inner_(SocketRelayOptions{.allow_private_networks = true}) {}

  StatusOr<uint64_t> Connect(const std::string& host, uint16_t port, milliseconds timeout) override {
    connects_++;
    return inner_.Connect(host, port, timeout);
  }
  Status Send(uint64_t conn, std::span<const uint8_t> data) override {
    {
      std::lock_guard lock(mu_);
      sent_.insert(sent_.end(), data.begin(), data.end());
    }
    return inner_.Send(conn, data);
  }
  StatusOr<std::vector<uint8_t>> Recv(uint64_t conn, size_t max_bytes, milliseconds timeout) override {
    auto data = inner_.Recv(conn, max_bytes, timeout);
    if (data.ok()) {
      std::lock_guard lock(mu_);
      received_.insert(received_.end(), data->begin(), data->end());
    }
    return data;
  }
  void Close(uint64_t conn) override { inner_.Close(conn); }

  std::vector<uint8_t> sent() {
    std::lock_guard lock(mu_);
    return sent_;
  }
  std::vector<uint8_t> received() {
    std::lock_guard lock(mu_);
    return received_;
  }
  int connects() const { return connects_; }
  size_t open_connections() const { return inner_.open_connections(); }

 private:
  SocketRelay inner_;
  std::mutex mu_;
  std::atomic<int> connects_{0};
  std::vector<uint8_t> sent_, received_;
};

class TlsRelayTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(testing::WriteSelfSignedCert(certs_.path())); }

  std::unique_ptr<EnclaveTlsClient> Client(const std::string& ca_file = "", size_t max_response = 8u << 20) {
    auto client = EnclaveTlsClient::Create(
        {.ca_file = ca_file.empty() ? certs_.File("cert.pem") : ca_file, .max_response_bytes = max_response}, relay_);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  static HttpsRequest SecretRequest(uint16_t port, const std::string& host = "localhost") {
    HttpsRequest req;
    req.method = "POST";
    req.url = "https://" + host + ":" + std::to_string(port) + "/v1/echo?q=1";
    req.headers = {{"Authorization", "Bearer " + std::string(kToken)}, {"Content-Type", "application/json"}};
    std::string body = R"({"api_key":")" + std::string(kBodySecret) + R"("})";
    req.body.assign(body.begin(), body.end());
    req.timeout = milliseconds(5000);
    return req;
  }

  testing::TempDir certs_;
  RecordingRelay relay_;
};

TEST_F(TlsRelayTest, SecretsCrossTheHostOnlyAsCiphertext) {
  TlsServer server(certs_.path(), [](SSL* ssl, TlsServer&) {
    TlsServer::Write(ssl, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-Reply: yes\r\n\r\nhello world");
  });
  auto client = Client();
  ASSERT_NE(client, nullptr);
  HttpsRequest request = SecretRequest(server.port());
  auto resp = client->Fetch(request);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(std::string(resp->body.begin(), resp->body.end()), "hello world");
  EXPECT_THAT(resp->headers, ::testing::Contains(std::pair<std::string, std::string>("X-Reply", "yes")));

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_THAT(requests[0], ::testing::StartsWith("POST /v1/echo?q=1 HTTP/1.1\r\n"));
  EXPECT_THAT(requests[0], HasSubstr("Authorization: Bearer " + std::string(kToken) + "\r\n"));
  EXPECT_THAT(requests[0], HasSubstr("Host: localhost:" + std::to_string(server.port()) + "\r\n"));
  EXPECT_THAT(requests[0], HasSubstr("Connection: close\r\n"));
  EXPECT_THAT(requests[0], HasSubstr("Content-Length: " + std::to_string(request.body.size()) + "\r\n"));
  EXPECT_THAT(requests[0], HasSubstr(std::string(kBodySecret)));

  auto sent = relay_.sent();
  auto received = relay_.received();
  ASSERT_FALSE(sent.empty());
  ASSERT_FALSE(received.empty());
  EXPECT_EQ(sent[0], 0x16) << "the first relayed byte should open a TLS handshake record";
  for (const auto* bytes : {&sent, &received}) {
    EXPECT_FALSE(Contains(*bytes, kToken));
    EXPECT_FALSE(Contains(*bytes, kBodySecret));
    EXPECT_FALSE(Contains(*bytes, "Authorization"));
    EXPECT_FALSE(Contains(*bytes, "hello world"));
  }
  EXPECT_EQ(relay_.open_connections(), 0u) << "Fetch closes its relay connection";
}

TEST_F(TlsRelayTest, ChunkedResponseIsReassembled) {
  TlsServer server(certs_.path(), [](SSL* ssl, TlsServer&) {
    TlsServer::Write(ssl, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
    TlsServer::Write(ssl, "lo\r\n7;ext=1\r\n, world\r\n");
    TlsServer::Write(ssl, "0\r\nX-Trailer: t\r\n\r\n");
  });
  auto client = Client();
  ASSERT_NE(client, nullptr);
  auto resp = client->Fetch({.url = "https://localhost:" + std::to_string(server.port()) + "/"});
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(std::string(resp->body.begin(), resp->body.end()), "hello, world");
  EXPECT_THAT(server.requests().at(0), ::testing::StartsWith("GET / HTTP/1.1\r\n"));
}

TEST_F(TlsRelayTest, CloseDelimitedResponseEndsAtClose) {
  TlsServer server(certs_.path(),
                   [](SSL* ssl, TlsServer&) { TlsServer::Write(ssl, "HTTP/1.1 404 Not Found\r\n\r\nuntil the end"); });
  auto client = Client();
  ASSERT_NE(client, nullptr);
  auto resp = client->Fetch({.url = "https://127.0.0.1:" + std::to_string(server.port()) + "/missing"});
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 404);
  EXPECT_EQ(std::string(resp->body.begin(), resp->body.end()), "until the end");
}

TEST_F(TlsRelayTest, ConcurrentFetchesShareOneClient) {
  TlsServer server(certs_.path(), [](SSL* ssl, TlsServer&) {
    TlsServer::Write(ssl, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  auto client = Client();
  ASSERT_NE(client, nullptr);
  std::vector<std::thread> threads;
  threads.reserve(4);
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto resp = client->Fetch({.url = "https://localhost:" + std::to_string(server.port()) + "/"});
      if (resp.ok() && resp->status == 200 && resp->body.size() == 2) ok++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
}

TEST_F(TlsRelayTest, CertificateForAnotherNameIsRejected) {
  testing::TempDir other;
  WriteCertFor(other.path(), "other.example");
  TlsServer server(other.path(), [](SSL* ssl, TlsServer&) { TlsServer::Write(ssl, "HTTP/1.1 200 OK\r\n\r\n"); });
  auto client = Client(other.File("cert.pem"));  // trusted, but issued for another name
  ASSERT_NE(client, nullptr);
  auto resp = client->Fetch(SecretRequest(server.port()));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kUnauthenticated) << resp.status().ToString();
  EXPECT_THAT(std::string(resp.status().message()), ::testing::StartsWith("certificate verification failed: "));
  EXPECT_THAT(std::string(resp.status().message()), HasSubstr("localhost"));
  EXPECT_THAT(std::string(resp.status().message()), Not(HasSubstr(std::string(kToken))));
  EXPECT_TRUE(server.requests().empty()) << "no request may be sent to an unverified server";
}

TEST_F(TlsRelayTest, UntrustedCaIsRejected) {
  testing::TempDir other;
  ASSERT_TRUE(testing::WriteSelfSignedCert(other.path()));  // a different key and certificate
  TlsServer server(other.path(), [](SSL* ssl, TlsServer&) { TlsServer::Write(ssl, "HTTP/1.1 200 OK\r\n\r\n"); });
  auto client = Client();  // trusts certs_, not other
  ASSERT_NE(client, nullptr);
  auto resp = client->Fetch(SecretRequest(server.port()));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kUnauthenticated) << resp.status().ToString();
  EXPECT_THAT(std::string(resp.status().message()), ::testing::StartsWith("certificate verification failed: "));
  EXPECT_FALSE(Contains(relay_.sent(), kToken));
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(TlsRelayTest, OnlyHttpsUrlsAreFetched) {
  auto client = Client();
  ASSERT_NE(client, nullptr);
  for (std::string url : {"http://localhost/", "ftp://localhost/", "localhost/", "https://", "https://:443/",
                          "https://localhost:99999/", "https://user:pa55w0rd@localhost/"}) {
    auto resp = client->Fetch({.url = url});
    ASSERT_FALSE(resp.ok()) << url;
    EXPECT_EQ(resp.status().code(), StatusCode::kInvalidArgument) << url << ": " << resp.status().ToString();
    EXPECT_THAT(std::string(resp.status().message()), Not(HasSubstr("pa55w0rd")));
  }
  EXPECT_EQ(relay_.connects(), 0);
}

TEST_F(TlsRelayTest, MalformedRequestsAreRefusedWithoutEchoingThem) {
  auto client = Client();
  ASSERT_NE(client, nullptr);
  HttpsRequest injected{.url = "https://localhost/"};
  injected.headers = {{"X-Api-Key", std::string(kToken) + "\r\nX-Evil: 1"}};
  HttpsRequest host{.url = "https://localhost/"};
  host.headers = {{"Host", "internal.service"}};
  HttpsRequest method{.method = "GET /x", .url = "https://localhost/"};
  for (const auto& req : {injected, host, method}) {
    auto resp = client->Fetch(req);
    ASSERT_FALSE(resp.ok());
    EXPECT_EQ(resp.status().code(), StatusCode::kInvalidArgument) << resp.status().ToString();
    EXPECT_THAT(std::string(resp.status().message()), Not(HasSubstr(std::string(kToken))));
  }
  EXPECT_EQ(relay_.connects(), 0);
}

TEST_F(TlsRelayTest, ResponseOverTheLimitIsRefused) {
  TlsServer declared(certs_.path(), [](SSL* ssl, TlsServer&) {
    TlsServer::Write(ssl, "HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n" + std::string(4096, 'a'));
  });
  TlsServer chunked(certs_.path(), [](SSL* ssl, TlsServer&) {
    TlsServer::Write(ssl, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 8; ++i) TlsServer::Write(ssl, "200\r\n" + std::string(0x200, 'b') + "\r\n");
    TlsServer::Write(ssl, "0\r\n\r\n");
  });
  TlsServer until_close(certs_.path(), [](SSL* ssl, TlsServer&) {
    TlsServer::Write(ssl, "HTTP/1.1 200 OK\r\n\r\n" + std::string(4096, 'c'));
  });
  auto client = Client("", /*max_response=*/1024);
  ASSERT_NE(client, nullptr);
  for (TlsServer* server : {&declared, &chunked, &until_close}) {
    auto resp = client->Fetch({.url = "https://localhost:" + std::to_string(server->port()) + "/"});
    ASSERT_FALSE(resp.ok());
    EXPECT_EQ(resp.status().code(), StatusCode::kResourceExhausted) << resp.status().ToString();
  }
}

TEST_F(TlsRelayTest, StallingServerHitsTheDeadline) {
  TlsServer server(certs_.path(), [](SSL*, TlsServer& self) { self.WaitForRelease(); });
  auto client = Client();
  ASSERT_NE(client, nullptr);
  HttpsRequest req = SecretRequest(server.port());
  req.timeout = milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  auto resp = client->Fetch(req);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kDeadlineExceeded) << resp.status().ToString();
  EXPECT_THAT(std::string(resp.status().message()), Not(HasSubstr(std::string(kToken))));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  EXPECT_EQ(server.requests().size(), 1u) << "the request got through; only the answer stalled";
}

TEST_F(TlsRelayTest, SilentPeerTimesOutDuringHandshake) {
  uint16_t port = 0;
  int fd = ListenLocal(&port);  // the kernel accepts the TCP connection; nobody ever answers
  ASSERT_GE(fd, 0);
  auto client = Client();
  ASSERT_NE(client, nullptr);
  auto resp = client->Fetch({.url = "https://127.0.0.1:" + std::to_string(port) + "/", .timeout = milliseconds(200)});
  ::close(fd);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kDeadlineExceeded) << resp.status().ToString();
}

TEST_F(TlsRelayTest, ClosedPortIsUnavailable) {
  uint16_t port = 0;
  int fd = ListenLocal(&port);
  ::close(fd);  // nothing listens there any more
  auto client = Client();
  ASSERT_NE(client, nullptr);
  auto resp = client->Fetch({.url = "https://127.0.0.1:" + std::to_string(port) + "/"});
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable) << resp.status().ToString();
}

TEST_F(TlsRelayTest, PrivateDestinationsAreRefusedThroughTheClient) {
  SocketRelay strict;  // production defaults
  auto client = EnclaveTlsClient::Create({.ca_file = certs_.File("cert.pem")}, strict);
  ASSERT_TRUE(client.ok());
  auto resp = (*client)->Fetch({.url = "https://127.0.0.1:8443/"});
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kPermissionDenied) << resp.status().ToString();
}

TEST(EnclaveTlsClientCreate, RejectsMissingOrEmptyTrustAnchors) {
  SocketRelay relay;
  auto missing = EnclaveTlsClient::Create({.ca_file = "/nonexistent/ca.pem"}, relay);
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  auto empty = EnclaveTlsClient::Create({.ca_pem = "not a certificate"}, relay);
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
}

// ---- SocketRelay ----------------------------------------------------------------------------

TEST(SocketRelay, RefusesPrivateDestinations) {
  SocketRelay relay;
  for (std::string host : {"127.0.0.1", "127.1.2.3", "10.1.2.3", "192.168.1.1", "172.16.0.1", "169.254.169.254",
                           "0.0.0.0", "100.64.0.1", "224.0.0.1", "::1", "[::1]", "::", "::ffff:127.0.0.1",
                           "::ffff:10.0.0.1", "fe80::1", "fd00::1", "ff02::1", "64:ff9b::a00:1", "localhost"}) {
    auto conn = relay.Connect(host, 443, milliseconds(1000));
    ASSERT_FALSE(conn.ok()) << host;
    EXPECT_EQ(conn.status().code(), StatusCode::kPermissionDenied) << host << ": " << conn.status().ToString();
    EXPECT_EQ(conn.status().message(), "destination " + host + " resolves to a private address");
  }
  EXPECT_EQ(relay.open_connections(), 0u);
}

// The same rules without connecting: what a webhook URL is checked against when it is given.
TEST(SocketRelay, ChecksADestinationWithoutConnecting) {
  SocketRelay relay({.allow_private = {"127.0.0.1/32"}});
  for (std::string host : {"10.1.2.3", "[::1]", "169.254.169.254", "127.0.0.2", "fd00::1"}) {
    Status s = relay.CheckDestination(host);
    EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << host << ": " << s.ToString();
  }
  EXPECT_TRUE(relay.CheckDestination("127.0.0.1").ok());
  EXPECT_EQ(relay.CheckDestination("").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(relay.CheckDestination("no-such-host.invalid").code(), StatusCode::kUnavailable);
  EXPECT_EQ(relay.open_connections(), 0u);
}

TEST(SocketRelay, ClassifiesAddresses) {
  auto v4 = [](const char* text) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    EXPECT_EQ(inet_pton(AF_INET, text, &a.sin_addr), 1) << text;
    return IsPrivateAddress(reinterpret_cast<sockaddr*>(&a));
  };
  auto v6 = [](const char* text) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    EXPECT_EQ(inet_pton(AF_INET6, text, &a.sin6_addr), 1) << text;
    return IsPrivateAddress(reinterpret_cast<sockaddr*>(&a));
  };
  EXPECT_FALSE(v4("8.8.8.8"));
  EXPECT_FALSE(v4("172.32.0.1"));
  EXPECT_FALSE(v4("100.128.0.1"));
  EXPECT_TRUE(v4("172.31.255.255"));
  EXPECT_TRUE(v4("255.255.255.255"));
  EXPECT_FALSE(v6("2606:4700:4700::1111"));
  EXPECT_FALSE(v6("::ffff:8.8.8.8"));
  EXPECT_TRUE(v6("::ffff:192.168.0.1"));
  EXPECT_TRUE(v6("2002:7f00:1::1"));  // 6to4 wrapping 127.0.0.1
  EXPECT_FALSE(v6("2002:808:808::1"));
  EXPECT_TRUE(v6("fec0::1"));
}

class SocketRelayTcp : public ::testing::Test {
 protected:
  void SetUp() override {
    listen_fd_ = ListenLocal(&port_);
    ASSERT_GE(listen_fd_, 0);
  }
  void TearDown() override {
    for (int fd : accepted_) ::close(fd);
    ::close(listen_fd_);
  }
  int Accept() {
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    accepted_.push_back(fd);
    return fd;
  }

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::vector<int> accepted_;
};

TEST_F(SocketRelayTcp, RelaysBytesBothWays) {
  SocketRelay relay({.allow_private_networks = true});
  auto conn = relay.Connect("127.0.0.1", port_, milliseconds(2000));
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  int peer = Accept();
  ASSERT_GE(peer, 0);

  const std::string ping = "ping";
  ASSERT_TRUE(relay.Send(*conn, std::span(reinterpret_cast<const uint8_t*>(ping.data()), ping.size())).ok());
  char buf[16] = {};
  std::string got;
  while (got.size() < 4) {
    ssize_t n = ::recv(peer, buf, sizeof(buf), 0);
    ASSERT_GT(n, 0);
    got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(got, "ping");

  auto nothing = relay.Recv(*conn, 1024, milliseconds(50));
  EXPECT_EQ(nothing.status().code(), StatusCode::kDeadlineExceeded);

  ASSERT_EQ(::send(peer, "pong", 4, 0), 4);
  std::string answer;
  while (answer.size() < 4) {
    auto data = relay.Recv(*conn, 1024, milliseconds(2000));
    ASSERT_TRUE(data.ok()) << data.status().ToString();
    ASSERT_FALSE(data->empty());
    answer.append(data->begin(), data->end());
  }
  EXPECT_EQ(answer, "pong");

  ::shutdown(peer, SHUT_WR);
  auto closed = relay.Recv(*conn, 1024, milliseconds(2000));
  ASSERT_TRUE(closed.ok());
  EXPECT_TRUE(closed->empty()) << "an empty read means the peer closed";

  relay.Close(*conn);
  EXPECT_EQ(relay.Recv(*conn, 1024, milliseconds(10)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(relay.Send(*conn, std::span<const uint8_t>()).code(), StatusCode::kNotFound);
  relay.Close(*conn);  // idempotent
}

TEST_F(SocketRelayTcp, CloseWakesABlockedRecv) {
  SocketRelay relay({.allow_private_networks = true});
  auto conn = relay.Connect("127.0.0.1", port_, milliseconds(2000));
  ASSERT_TRUE(conn.ok());
  auto start = std::chrono::steady_clock::now();
  Status result;
  std::thread reader([&] { result = relay.Recv(*conn, 1024, milliseconds(10'000)).status(); });
  relay.Close(*conn);
  reader.join();
  EXPECT_EQ(result.code(), StatusCode::kNotFound) << result.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(SocketRelayTcp, LimitsOpenConnections) {
  SocketRelay relay({.allow_private_networks = true, .max_connections = 2});
  auto a = relay.Connect("127.0.0.1", port_, milliseconds(2000));
  auto b = relay.Connect("127.0.0.1", port_, milliseconds(2000));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  auto c = relay.Connect("127.0.0.1", port_, milliseconds(2000));
  EXPECT_EQ(c.status().code(), StatusCode::kResourceExhausted);
  relay.Close(*a);
  auto d = relay.Connect("127.0.0.1", port_, milliseconds(2000));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_NE(*d, *a) << "ids are not reused";
}

TEST_F(SocketRelayTcp, ClosesIdleConnections) {
  ManualClock clock;
  SocketRelay relay({.allow_private_networks = true, .max_idle = milliseconds(1000)}, clock);
  auto idle = relay.Connect("127.0.0.1", port_, milliseconds(2000));
  ASSERT_TRUE(idle.ok());
  clock.Advance(milliseconds(600));
  auto active = relay.Connect("127.0.0.1", port_, milliseconds(2000));
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(relay.CloseIdle(), 0u);
  clock.Advance(milliseconds(600));
  EXPECT_EQ(relay.CloseIdle(), 1u);  // only the first one has been idle for 1 s
  EXPECT_EQ(relay.Recv(*idle, 16, milliseconds(10)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(relay.Recv(*active, 16, milliseconds(10)).status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(relay.open_connections(), 1u);
}

}  // namespace
}  // namespace neosl::tee
