// net::Fetcher over https: TLS terminated in the fetcher, verified against a test CA, the bytes
// carried by a real SocketRelay to a Beast server with that CA's certificate.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "net/fetcher.h"
#include "support/temp_dir.h"
#include "support/tls_cert.h"
#include "unit/net/fetch_fixture.h"
#include "unit/net/test_server.h"

namespace neosl::net {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Redirect;
using testing::Respond;
using ::testing::StartsWith;
using testing::TestServer;
using testing::Text;

constexpr std::string_view kSecret = "s3cr3t-token-XYZ";

class FetchTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(neosl::testing::WriteSelfSignedCert(trusted_.path()));
    relay_ = testing::LoopbackRelay();
    ASSERT_NE(relay_, nullptr);
    auto fetcher = Fetcher::Create({.ca_file = trusted_.File("cert.pem")}, *relay_);
    ASSERT_TRUE(fetcher.ok()) << fetcher.status().ToString();
    fetcher_ = std::move(fetcher).value();
  }

  StatusOr<FetchResponse> Fetch(const std::string& url) {
    return fetcher_->Fetch(
        {.url = url, .headers = {{"Authorization", "Bearer " + std::string(kSecret)}}, .timeout = milliseconds(5000)});
  }

  neosl::testing::TempDir trusted_;
  std::unique_ptr<testing::CountingRelay> relay_;
  std::unique_ptr<Fetcher> fetcher_;
};

TEST_F(FetchTlsTest, HttpsRoundTrip) {
  TestServer server([](const testing::ReceivedRequest& r) { return Respond(200, "OK", "secure " + r.target); },
                    "127.0.0.1", trusted_.path());
  auto resp = Fetch(server.Url("/v1/price?pair=NEO-USD"));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(Text(resp->body), "secure /v1/price?pair=NEO-USD");
  EXPECT_THAT(resp->url, StartsWith("https://127.0.0.1:"));
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].Header("Authorization"), "Bearer " + std::string(kSecret));
  EXPECT_EQ(requests[0].Header("Host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(relay_->open_connections(), 0u);
}

TEST_F(FetchTlsTest, UntrustedCertificateIsUnauthenticated) {
  neosl::testing::TempDir other;
  ASSERT_TRUE(neosl::testing::WriteSelfSignedCert(other.path()));  // another key, not trusted
  TestServer server([](const testing::ReceivedRequest&) { return Respond(200, "OK", "never"); }, "127.0.0.1",
                    other.path());
  auto resp = Fetch(server.Url("/"));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kUnauthenticated) << resp.status().ToString();
  EXPECT_THAT(std::string(resp.status().message()), StartsWith("certificate verification failed: "));
  EXPECT_THAT(std::string(resp.status().message()), HasSubstr("127.0.0.1"));
  EXPECT_THAT(std::string(resp.status().message()), Not(HasSubstr(std::string(kSecret))));
  EXPECT_TRUE(server.requests().empty()) << "no request may reach an unverified server";
}

TEST_F(FetchTlsTest, RedirectFromHttpsToHttpIsRefused) {
  TestServer plain([](const testing::ReceivedRequest&) { return Respond(200, "OK", "downgraded"); });
  TestServer secure([&](const testing::ReceivedRequest&) { return Redirect(302, plain.Url("/")); }, "127.0.0.1",
                    trusted_.path());
  auto resp = Fetch(secure.Url("/"));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kPermissionDenied) << resp.status().ToString();
  EXPECT_EQ(resp.status().message(),
            "redirect from https://127.0.0.1:" + std::to_string(secure.port()) + " to plain http refused");
  EXPECT_TRUE(plain.requests().empty());
  EXPECT_EQ(secure.requests().size(), 1u);
}

TEST_F(FetchTlsTest, RedirectFromHttpToHttpsIsFollowed) {
  TestServer secure([](const testing::ReceivedRequest&) { return Respond(200, "OK", "upgraded"); }, "127.0.0.1",
                    trusted_.path());
  TestServer plain([&](const testing::ReceivedRequest&) { return Redirect(301, secure.Url("/safe")); });
  auto resp = Fetch(plain.Url("/"));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(Text(resp->body), "upgraded");
  EXPECT_TRUE(resp->redirected);
  EXPECT_EQ(resp->url, secure.Url("/safe"));
  // Another origin (scheme and port differ): the credentials stayed behind.
  EXPECT_FALSE(secure.requests().at(0).HasHeader("Authorization"));
}

}  // namespace
}  // namespace neosl::net
