// net::Fetcher over plain HTTP: a real Beast server on loopback, reached through a real
// SocketRelay that allows 127.0.0.1/32 only.
#include "net/fetcher.h"

#include <atomic>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/temp_dir.h"
#include "support/tls_cert.h"
#include "unit/net/fetch_fixture.h"
#include "unit/net/test_server.h"

namespace neosl::net {
namespace {

using std::chrono::milliseconds;
using testing::Bytes;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using testing::Redirect;
using testing::Reply;
using testing::Respond;
using testing::TestServer;
using testing::Text;

constexpr std::string_view kSecret = "s3cr3t-token-XYZ";

class FetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(neosl::testing::WriteSelfSignedCert(certs_.path()));
    relay_ = testing::LoopbackRelay();
    ASSERT_NE(relay_, nullptr);
  }

  std::unique_ptr<Fetcher> Make(FetcherOptions options = {}) {
    options.ca_file = certs_.File("cert.pem");
    auto fetcher = Fetcher::Create(std::move(options), *relay_);
    EXPECT_TRUE(fetcher.ok()) << fetcher.status().ToString();
    return fetcher.ok() ? std::move(fetcher).value() : nullptr;
  }

  static StatusOr<FetchResponse> Get(const Fetcher& fetcher, const std::string& url) {
    return fetcher.Fetch({.url = url, .timeout = milliseconds(5000)});
  }

  neosl::testing::TempDir certs_;
  std::unique_ptr<testing::CountingRelay> relay_;
};

TEST_F(FetchTest, GetRoundTrip) {
  TestServer server([](const testing::ReceivedRequest&) {
    return Respond(200, "OK", "hello", {{"X-Reply", "a"}, {"Set-Cookie", "x=1"}, {"set-cookie", "y=2"}});
  });
  auto fetcher = Make();
  ASSERT_NE(fetcher, nullptr);
  auto resp = fetcher->Fetch({.url = server.Url("/path/to?q=1&r=%41#frag"),
                              .headers = {{"X-Test", "yes"}, {"Authorization", "Bearer t"}},
                              .timeout = milliseconds(5000)});
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->status_text, "OK");
  EXPECT_EQ(Text(resp->body), "hello");
  EXPECT_THAT(resp->headers, ElementsAre(Pair("x-reply", "a"), Pair("set-cookie", "x=1"), Pair("set-cookie", "y=2"),
                                         Pair("content-length", "5")));
  EXPECT_EQ(resp->url, server.Url("/path/to?q=1&r=%41"));
  EXPECT_FALSE(resp->redirected);

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/path/to?q=1&r=%41") << "percent escapes are sent as given";
  EXPECT_EQ(requests[0].Header("Host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(requests[0].Header("X-Test"), "yes");
  EXPECT_EQ(requests[0].Header("Authorization"), "Bearer t");
  EXPECT_EQ(requests[0].Header("Connection"), "close");
  EXPECT_EQ(requests[0].Header("User-Agent"), "neosl-fetch");
  EXPECT_EQ(requests[0].Header("Accept"), "*/*");
  EXPECT_FALSE(requests[0].HasHeader("Content-Length"));
  EXPECT_EQ(relay_->open_connections(), 0u) << "every connection is closed after its exchange";
}

TEST_F(FetchTest, PostRoundTripEchoesTheBody) {
  TestServer server([](const testing::ReceivedRequest& r) {
    return Respond(201, "Created", r.body, {{"Content-Type", r.Header("Content-Type")}});
  });
  auto fetcher = Make();
  ASSERT_NE(fetcher, nullptr);
  auto resp = fetcher->Fetch({.method = "post",
                              .url = server.Url("/items"),
                              .headers = {{"Content-Type", "application/json"}, {"User-Agent", "mine/1"}},
                              .body = Bytes(R"({"a":1})"),
                              .timeout = milliseconds(5000)});
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 201);
  EXPECT_EQ(resp->status_text, "Created");
  EXPECT_EQ(Text(resp->body), R"({"a":1})");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].Header("Content-Length"), "7");
  EXPECT_EQ(requests[0].Header("User-Agent"), "mine/1");

  // An empty POST still says how long its body is.
  auto empty = fetcher->Fetch({.method = "POST", .url = server.Url("/items"), .timeout = milliseconds(5000)});
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(server.requests().at(1).Header("Content-Length"), "0");
}

TEST_F(FetchTest, HeadAndNoContentHaveNoBody) {
  TestServer server([](const testing::ReceivedRequest& r) {
    if (r.target == "/empty") return Reply{.pieces = {"HTTP/1.1 204 No Content\r\n\r\n"}};
    return Reply{.pieces = {"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"}};
  });
  auto fetcher = Make();
  ASSERT_NE(fetcher, nullptr);
  auto head = fetcher->Fetch({.method = "HEAD", .url = server.Url("/"), .timeout = milliseconds(5000)});
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  auto empty = Get(*fetcher, server.Url("/empty"));
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->status, 204);
  EXPECT_EQ(empty->status_text, "No Content");
}

TEST_F(FetchTest, ChunkedAndCloseDelimitedBodies) {
  TestServer server([](const testing::ReceivedRequest& r) {
    if (r.target == "/chunked") {
      return Reply{.pieces = {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
                              "lo\r\n7;ext=1\r\n, world\r\n", "0\r\nX-Trailer: t\r\n\r\n"}};
    }
    return Reply{.pieces = {"HTTP/1.1 404 Not Found\r\n\r\nuntil ", "the end"}};
  });
  auto fetcher = Make();
  ASSERT_NE(fetcher, nullptr);
  auto chunked = Get(*fetcher, server.Url("/chunked"));
  ASSERT_TRUE(chunked.ok()) << chunked.status().ToString();
  EXPECT_EQ(Text(chunked->body), "hello, world");
  auto until_close = Get(*fetcher, server.Url("/missing"));
  ASSERT_TRUE(until_close.ok()) << until_close.status().ToString();
  EXPECT_EQ(until_close->status, 404);
  EXPECT_EQ(until_close->status_text, "Not Found");
  EXPECT_EQ(Text(until_close->body), "until the end");
}

TEST_F(FetchTest, FollowsRelativeRedirectsKeepingCredentialsOnTheSameOrigin) {
  TestServer server([](const testing::ReceivedRequest& r) {
    if (r.target == "/a/b") return Redirect(302, "c?x=1");
    if (r.target == "/a/c?x=1") return Redirect(301, "/d/../e/./f");
    if (r.target == "/e/f") return Redirect(307, "?y=2#ignored");
    return Respond(200, "OK", "at " + r.target);
  });
  auto fetcher = Make();
  ASSERT_NE(fetcher, nullptr);
  auto resp = fetcher->Fetch({.url = server.Url("/a/b"),
                              .headers = {{"Authorization", "Bearer t"}, {"Cookie", "c=1"}},
                              .timeout = milliseconds(5000)});
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(Text(resp->body), "at /e/f?y=2");
  EXPECT_EQ(resp->url, server.Url("/e/f?y=2"));
  EXPECT_TRUE(resp->redirected);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 4u);
  for (const auto& r : requests) {
    EXPECT_EQ(r.Header("Authorization"), "Bearer t") << r.target;
    EXPECT_EQ(r.Header("Cookie"), "c=1") << r.target;
  }
  EXPECT_EQ(relay_->connects(), 4) << "one connection per hop";
  EXPECT_EQ(relay_->open_connections(), 0u);
}

TEST_F(FetchTest, AbsoluteRedirectToAnotherOriginDropsCredentials) {
  TestServer target([](const testing::ReceivedRequest& r) { return Respond(200, "OK", r.method + " " + r.body); });
  TestServer origin([&](const testing::ReceivedRequest&) { return Redirect(307, target.Url("/landing")); });
  auto fetcher = Make();
  ASSERT_NE(fetcher, nullptr);
  auto resp = fetcher->Fetch({.method = "PUT",
                              .url = origin.Url("/start"),
                              .headers = {{"Authorization", std::string(kSecret)},
                                          {"cookie", "c=1"},
                                          {"Proxy-Authorization", "p"},
                                          {"X-Keep", "k"}},
                              .body = Bytes("payload"),
                              .timeout = milliseconds(5000)});
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(Text(resp->body), "PUT payload") << "307 keeps the method and the body";
  EXPECT_EQ(resp->url, target.Url("/landing"));
  auto landed = target.requests();
  ASSERT_EQ(landed.size(), 1u);
  EXPECT_FALSE(landed[0].HasHeader("Authorization"));
  EXPECT_FALSE(landed[0].HasHeader("Cookie"));
  EXPECT_FALSE(landed[0].HasHeader("Proxy-Authorization"));
  EXPECT_EQ(landed[0].Header("X-Keep"), "k");
  EXPECT_EQ(landed[0].Header("Host"), "127.0.0.1:" + std::to_string(target.port()));
}

TEST_F(FetchTest, SeeOtherAndPostRedirectsBecomeGetWithoutBody) {
  TestServer server([](const testing::ReceivedRequest& r) {
    if (r.target == "/see-other") return Redirect(303, "/done");
    if (r.target == "/found") return Redirect(302, "/done");
    if (r.target == "/permanent") return Redirect(308, "/done");
    return Respond(200, "OK", r.method + ":" + r.body + ":" + r.Header("Content-Type"));
  });
  auto fetcher = Make();
  ASSERT_NE(fetcher, nullptr);
  auto send = [&](std::string method, const std::string& path) {
    auto resp = fetcher->Fetch({.method = std::move(method),
                                .url = server.Url(path),
                                .headers = {{"Content-Type", "text/plain"}},
                                .body = Bytes("data"),
                                .timeout = milliseconds(5000)});
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? Text(resp->body) : "";
  };
  EXPECT_EQ(send("POST", "/see-other"), "GET::");
  EXPECT_EQ(send("PUT", "/see-other"), "GET::");
  EXPECT_EQ(send("POST", "/found"), "GET::");
  EXPECT_EQ(send("PUT", "/found"), "PUT:data:text/plain");
  EXPECT_EQ(send("POST", "/permanent"), "POST:data:text/plain");
  for (const auto& r : server.requests()) {
    if (r.method == "GET") {
      EXPECT_FALSE(r.HasHeader("Content-Length"));
    }
  }
}

TEST_F(FetchTest, RedirectLimitAndModes) {
  TestServer server([](const testing::ReceivedRequest& r) {
    int n = std::stoi(r.target.substr(1));
    return Redirect(302, "/" + std::to_string(n + 1));
  });
  auto fetcher = Make({.max_redirects = 3});
  ASSERT_NE(fetcher, nullptr);
  auto looped = Get(*fetcher, server.Url("/0"));
  ASSERT_FALSE(looped.ok());
  EXPECT_EQ(looped.status().code(), StatusCode::kResourceExhausted) << looped.status().ToString();
  EXPECT_THAT(std::string(looped.status().message()), HasSubstr("more than 3 redirects"));
  EXPECT_EQ(server.requests().size(), 4u) << "three redirects followed, the fourth refused";

  auto manual = fetcher->Fetch({.url = server.Url("/0"), .redirect = RedirectMode::kManual});
  ASSERT_TRUE(manual.ok()) << manual.status().ToString();
  EXPECT_EQ(manual->status, 302);
  EXPECT_FALSE(manual->redirected);
  EXPECT_THAT(manual->headers, ::testing::Contains(Pair("location", "/1")));
  EXPECT_EQ(Text(manual->body), "moved");

  auto error = fetcher->Fetch({.url = server.Url("/0"), .redirect = RedirectMode::kError});
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.status().code(), StatusCode::kFailedPrecondition) << error.status().ToString();

  auto zero = Make({.max_redirects = 0});
  ASSERT_NE(zero, nullptr);
  EXPECT_EQ(Get(*zero, server.Url("/0")).status().code(), StatusCode::kResourceExhausted);
}

TEST_F(FetchTest, RedirectToAnAddressNotAllowedIsRefusedAtThatHop) {
  TestServer elsewhere([](const testing::ReceivedRequest&) { return Respond(200, "OK", "reached"); }, "127.0.0.2");
  TestServer server([&](const testing::ReceivedRequest&) { return Redirect(302, elsewhere.Url("/internal")); });
  auto fetcher = Make();
  ASSERT_NE(fetcher, nullptr);
  auto resp = Get(*fetcher, server.Url("/"));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kPermissionDenied) << resp.status().ToString();
  EXPECT_THAT(std::string(resp.status().message()), HasSubstr("127.0.0.2"));
  EXPECT_TRUE(elsewhere.requests().empty());

  // The same redirect succeeds when the operator allows the whole loopback network.
  auto wide = testing::LoopbackRelay({"127.0.0.0/8"});
  ASSERT_NE(wide, nullptr);
  auto wide_fetcher = Fetcher::Create({.ca_file = certs_.File("cert.pem")}, *wide);
  ASSERT_TRUE(wide_fetcher.ok());
  auto reached = Get(**wide_fetcher, server.Url("/"));
  ASSERT_TRUE(reached.ok()) << reached.status().ToString();
  EXPECT_EQ(Text(reached->body), "reached");
  EXPECT_EQ(reached->url, elsewhere.Url("/internal"));
}

TEST_F(FetchTest, PrivateDestinationWithoutAllowListIsRefused) {
  TestServer server([](const testing::ReceivedRequest&) { return Respond(200, "OK", "no"); });
  tee::SocketRelay strict;  // production defaults: no private address at all
  auto fetcher = Fetcher::Create({.ca_file = certs_.File("cert.pem")}, strict);
  ASSERT_TRUE(fetcher.ok());
  for (const std::string& url : {server.Url("/"), std::string("http://10.1.2.3/"), std::string("http://[::1]:8080/"),
                                 std::string("http://169.254.169.254/latest/meta-data/")}) {
    auto resp = Get(**fetcher, url);
    ASSERT_FALSE(resp.ok()) << url;
    EXPECT_EQ(resp.status().code(), StatusCode::kPermissionDenied) << url << ": " << resp.status().ToString();
  }
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(FetchTest, ResponsesOverTheLimitsAreRefused) {
  TestServer server([](const testing::ReceivedRequest& r) {
    if (r.target == "/declared") return Respond(200, "OK", std::string(4096, 'a'));
    if (r.target == "/chunked") {
      Reply reply{.pieces = {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"}};
      for (int i = 0; i < 8; ++i) reply.pieces.push_back("200\r\n" + std::string(0x200, 'b') + "\r\n");
      reply.pieces.emplace_back("0\r\n\r\n");
      return reply;
    }
    if (r.target == "/headers") return Respond(200, "OK", "", {{"X-Big", std::string(8192, 'h')}});
    return Reply{.pieces = {"HTTP/1.1 200 OK\r\n\r\n" + std::string(4096, 'c')}};
  });
  auto fetcher = Make({.max_response_bytes = 1024, .max_header_bytes = 4096});
  ASSERT_NE(fetcher, nullptr);
  for (std::string path : {"/declared", "/chunked", "/until-close"}) {
    auto resp = Get(*fetcher, server.Url(path));
    ASSERT_FALSE(resp.ok()) << path;
    EXPECT_EQ(resp.status().code(), StatusCode::kResourceExhausted) << path << ": " << resp.status().ToString();
    EXPECT_EQ(resp.status().message(), "response body over 1024 bytes from 127.0.0.1") << path;
  }
  auto headers = Get(*fetcher, server.Url("/headers"));
  EXPECT_EQ(headers.status().code(), StatusCode::kResourceExhausted) << headers.status().ToString();
  EXPECT_THAT(std::string(headers.status().message()), Not(HasSubstr("hhhh")));
  EXPECT_EQ(relay_->open_connections(), 0u);
}

TEST_F(FetchTest, RequestBodyOverTheLimitIsRefusedBeforeConnecting) {
  auto fetcher = Make({.max_request_bytes = 16});
  ASSERT_NE(fetcher, nullptr);
  auto resp = fetcher->Fetch({.method = "POST", .url = "http://127.0.0.1:9/", .body = Bytes(std::string(17, 'x'))});
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kResourceExhausted) << resp.status().ToString();
  EXPECT_EQ(relay_->connects(), 0);
}

TEST_F(FetchTest, StallingServerHitsTheDeadline) {
  TestServer server([](const testing::ReceivedRequest& r) {
    if (r.target == "/hop") return Redirect(302, "/stall");
    if (r.target == "/half")
      return Reply{.pieces = {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"}, .stall = true};
    return Reply{.stall = true};
  });
  // The caller asks for an hour; the operator's maximum wins.
  auto fetcher = Make({.max_timeout = milliseconds(300)});
  ASSERT_NE(fetcher, nullptr);
  for (std::string path : {"/stall", "/hop", "/half"}) {
    auto start = std::chrono::steady_clock::now();
    auto resp = fetcher->Fetch({.url = server.Url(path),
                                .headers = {{"Authorization", std::string(kSecret)}},
                                .timeout = std::chrono::hours(1)});
    auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(resp.ok()) << path;
    EXPECT_EQ(resp.status().code(), StatusCode::kDeadlineExceeded) << path << ": " << resp.status().ToString();
    EXPECT_EQ(resp.status().message(), "request to 127.0.0.1 timed out after 300 ms") << path;
    EXPECT_GE(elapsed, milliseconds(290)) << path;
    EXPECT_LT(elapsed, std::chrono::seconds(5)) << path;
  }
  EXPECT_EQ(server.requests().size(), 4u) << "/stall, /hop then /stall, /half";
  EXPECT_EQ(relay_->open_connections(), 0u);
}

TEST_F(FetchTest, BadUrlsAreRefusedWithoutConnecting) {
  auto fetcher = Make();
  ASSERT_NE(fetcher, nullptr);
  for (std::string url :
       {"ftp://127.0.0.1/", "file:///etc/passwd", "127.0.0.1/", "http://", "http://:80/", "http://127.0.0.1:0/",
        "http://127.0.0.1:65536/", "http://127.0.0.1:8a/", "http://127.0.0.1:/", "http://user:pa55w0rd@127.0.0.1/",
        "http://b\xc3\xbcro.example/", "http://[::1/", "http://[not:v6]/", "http://2130706433/", "http://127.1/",
        "http://a..b/", "http://a b/", "http://127.0.0.1/x\r\nHost: evil"}) {
    auto resp = Get(*fetcher, url);
    ASSERT_FALSE(resp.ok()) << url;
    EXPECT_EQ(resp.status().code(), StatusCode::kInvalidArgument) << url << ": " << resp.status().ToString();
    EXPECT_THAT(std::string(resp.status().message()), Not(HasSubstr("pa55w0rd")));
  }
  EXPECT_EQ(relay_->connects(), 0);
}

TEST_F(FetchTest, BadMethodsHeadersAndBodiesAreRefusedWithoutEchoingThem) {
  auto fetcher = Make();
  ASSERT_NE(fetcher, nullptr);
  const std::string url = "http://127.0.0.1:9/";
  const std::string secret(kSecret);
  std::vector<FetchRequest> bad = {
      {.method = "TRACE", .url = url},
      {.method = "CONNECT", .url = url},
      {.method = "GET /x", .url = url},
      {.url = url, .headers = {{"X-Api-Key", secret + "\r\nX-Evil: 1"}}},
      {.url = url, .headers = {{"X-Api-Key", secret + std::string(1, '\0')}}},
      {.url = url, .headers = {{"Bad Name", secret}}},
      {.url = url, .headers = {{"", secret}}},
      {.url = url, .headers = {{"Host", "internal.service"}}},
      {.url = url, .headers = {{"content-length", "5"}}},
      {.url = url, .headers = {{"Transfer-Encoding", "chunked"}}},
      {.url = url, .headers = {{"Connection", "keep-alive"}}},
      {.method = "GET", .url = url, .body = Bytes(secret)},
      {.method = "HEAD", .url = url, .body = Bytes(secret)},
      {.url = url, .timeout = milliseconds(-1)},
  };
  for (const auto& req : bad) {
    auto resp = fetcher->Fetch(req);
    ASSERT_FALSE(resp.ok()) << req.method;
    EXPECT_EQ(resp.status().code(), StatusCode::kInvalidArgument) << resp.status().ToString();
    EXPECT_THAT(std::string(resp.status().message()), Not(HasSubstr(secret)));
  }
  EXPECT_EQ(relay_->connects(), 0);
}

TEST_F(FetchTest, ClosedPortIsUnavailable) {
  uint16_t port = 0;
  {
    TestServer gone([](const testing::ReceivedRequest&) { return Reply{}; });
    port = gone.port();
  }
  auto fetcher = Make();
  ASSERT_NE(fetcher, nullptr);
  auto resp = Get(*fetcher, "http://127.0.0.1:" + std::to_string(port) + "/");
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable) << resp.status().ToString();
}

TEST_F(FetchTest, ConcurrentFetchesShareOneFetcher) {
  TestServer server([](const testing::ReceivedRequest& r) { return Respond(200, "OK", r.target); });
  auto fetcher = Make();
  ASSERT_NE(fetcher, nullptr);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      std::string path = "/" + std::to_string(i);
      auto resp = Get(*fetcher, server.Url(path));
      if (resp.ok() && resp->status == 200 && Text(resp->body) == path) ok++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(relay_->open_connections(), 0u);
}

TEST(FetchCreate, RejectsBadOptionsAndTrustAnchors) {
  tee::SocketRelay relay;
  EXPECT_EQ(Fetcher::Create({.ca_file = "/nonexistent/ca.pem"}, relay).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Fetcher::Create({.ca_pem = "not a certificate"}, relay).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Fetcher::Create({.ca_pem = "x", .max_redirects = -1}, relay).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Fetcher::Create({.ca_pem = "x", .max_timeout = milliseconds(0)}, relay).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace neosl::net
