// The oracle's per-source fetch (source_fetch.h): Neo's OracleService codes for what real
// loopback servers answer, through a real Fetcher and SocketRelay; secret headers that reach the
// server and never come back out; and the checks the REST layer runs before any fetch.
#include "services/oracle/source_fetch.h"

#include <chrono>
#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "support/temp_dir.h"
#include "support/tls_cert.h"
#include "unit/net/fetch_fixture.h"
#include "unit/net/test_server.h"

namespace neosl::oracle {
namespace {

using net::testing::ReceivedRequest;
using net::testing::Redirect;
using net::testing::Reply;
using net::testing::Respond;
using net::testing::TestServer;
using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr std::string_view kSecret = "s3cr3t-token-XYZ";
const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/json"}};

SecretLookup Secrets(std::map<std::string, std::string, std::less<>> values) {
  return [values = std::move(values)](std::string_view name) -> StatusOr<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return NotFoundError("no secret " + std::string(name));
    return it->second;
  };
}

std::string CodeName(ResponseCode code) {
  return std::string(ResponseCodeName(code));
}

class SourceFetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(neosl::testing::WriteSelfSignedCert(certs_.path()));
    relay_ = net::testing::LoopbackRelay();
    ASSERT_NE(relay_, nullptr);
    fetcher_ = Make(*relay_);
    ASSERT_NE(fetcher_, nullptr);
  }

  std::unique_ptr<net::Fetcher> Make(tee::ByteRelay& relay) {
    auto fetcher = net::Fetcher::Create(OracleFetcherOptions({.ca_file = certs_.File("cert.pem")}), relay);
    EXPECT_TRUE(fetcher.ok()) << fetcher.status().ToString();
    return fetcher.ok() ? std::move(fetcher).value() : nullptr;
  }

  SourceOutcome Fetch(SourceRequest request, const SourceLimits& limits = {}, const SecretLookup& secrets = {}) {
    return FetchSource(*fetcher_, request, limits, secrets);
  }

  neosl::testing::TempDir certs_;
  std::unique_ptr<net::testing::CountingRelay> relay_;
  std::unique_ptr<net::Fetcher> fetcher_;
};

// Asserts a failure outcome: the code, no result, a detail naming the host and not the path.
void ExpectFailure(const SourceOutcome& out, ResponseCode code) {
  EXPECT_EQ(CodeName(out.code), CodeName(code)) << out.detail;
  EXPECT_THAT(out.result, IsEmpty());
  EXPECT_THAT(out.detail, Not(IsEmpty()));
  EXPECT_THAT(out.detail, Not(HasSubstr("/private-path")));
}

TEST(OracleFetcherOptionsTest, HasNeoLimits) {
  net::FetcherOptions options = OracleFetcherOptions({.ca_pem = "x", .max_redirects = 9});
  EXPECT_EQ(options.max_redirects, 2);
  EXPECT_EQ(options.max_response_bytes, size_t{2} << 20);
  EXPECT_EQ(options.ca_pem, "x") << "the rest comes from the base";
}

TEST_F(SourceFetchTest, JsonWithFilter) {
  TestServer server([](const ReceivedRequest&) {
    return Respond(200, "OK", R"({"data":{"price":123.45,"pair":"NEO-USD"}})", kJson);
  });
  SourceOutcome out = Fetch({.url = server.Url("/v1/price?pair=NEO"), .filter = "$.data.price"});
  EXPECT_EQ(CodeName(out.code), "Success") << out.detail;
  EXPECT_EQ(out.result, "[123.45]");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/v1/price?pair=NEO");
  EXPECT_EQ(requests[0].Header("Accept"), "application/json, text/plain") << "as Neo's client asks";
  EXPECT_EQ(requests[0].Header("User-Agent"), "neosl-oracle");
  EXPECT_EQ(relay_->open_connections(), 0u);
}

TEST_F(SourceFetchTest, TextPassesThroughUnfiltered) {
  const std::string body = "\xEF\xBB\xBFhello, w\xC3\xB6rld \xF0\x9F\x98\x80\n";  // a BOM stays, as in Neo
  TestServer server([&](const ReceivedRequest&) {
    return Respond(200, "OK", body, {{"Content-Type", "Text/Plain; Charset=\"UTF-8\""}});
  });
  SourceOutcome out = Fetch({.url = server.Url("/")});
  EXPECT_EQ(CodeName(out.code), "Success") << out.detail;
  EXPECT_EQ(out.result, body);
}

TEST_F(SourceFetchTest, StalledServerTimesOut) {
  TestServer server([](const ReceivedRequest& r) {
    if (r.target == "/headers") return Reply{.stall = true};
    return Reply{.pieces = {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"},
                 .stall = true};
  });
  for (std::string path : {"/headers", "/private-path"}) {
    const auto start = std::chrono::steady_clock::now();
    SourceOutcome out = Fetch({.url = server.Url(path)}, {.timeout = milliseconds(300)});
    ExpectFailure(out, ResponseCode::kTimeout);
    EXPECT_THAT(out.detail, HasSubstr("127.0.0.1"));
    EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(3000)) << path;
  }
}

TEST_F(SourceFetchTest, BodyOverTwoMebibytesIsTooLarge) {
  const std::string huge((size_t{2} << 20) + 1, 'a');
  TestServer server([&](const ReceivedRequest&) { return Respond(200, "OK", huge, {{"Content-Type", "text/plain"}}); });
  ExpectFailure(Fetch({.url = server.Url("/private-path")}), ResponseCode::kResponseTooLarge);
}

TEST_F(SourceFetchTest, ResultOverTheLimitAfterFilteringIsTooLarge) {
  const std::string big(70'000, 'x');
  TestServer server([&](const ReceivedRequest& r) {
    if (r.target == "/ten") return Respond(200, "OK", "0123456789", {{"Content-Type", "text/plain"}});
    return Respond(200, "OK", R"({"big":")" + big + R"(","small":1})", kJson);
  });
  ExpectFailure(Fetch({.url = server.Url("/doc"), .filter = "$.big"}), ResponseCode::kResponseTooLarge);
  ExpectFailure(Fetch({.url = server.Url("/doc")}), ResponseCode::kResponseTooLarge);
  // The same 70 kB document filtered down fits.
  SourceOutcome small = Fetch({.url = server.Url("/doc"), .filter = "$.small"});
  EXPECT_EQ(CodeName(small.code), "Success") << small.detail;
  EXPECT_EQ(small.result, "[1]");
  // The limit itself is allowed.
  EXPECT_EQ(CodeName(Fetch({.url = server.Url("/ten")}, {.max_result_bytes = 10}).code), "Success");
  ExpectFailure(Fetch({.url = server.Url("/ten")}, {.max_result_bytes = 9}), ResponseCode::kResponseTooLarge);
}

TEST_F(SourceFetchTest, TwoRedirectsAreFollowedAndAThirdIsATimeoutAsInNeo) {
  TestServer server([](const ReceivedRequest& r) {
    if (r.target == "/r0") return Respond(200, "OK", "[0]", kJson);
    if (r.target == "/loop") return Redirect(302, "/loop");
    return Redirect(301, "/r" + std::to_string(r.target.back() - '0' - 1));
  });
  SourceOutcome two = Fetch({.url = server.Url("/r2")});
  EXPECT_EQ(CodeName(two.code), "Success") << two.detail;
  EXPECT_EQ(two.result, "[0]");
  EXPECT_EQ(server.requests().size(), 3u);

  SourceOutcome three = Fetch({.url = server.Url("/r3")});
  ExpectFailure(three, ResponseCode::kTimeout);
  EXPECT_THAT(three.detail, HasSubstr("redirects"));
  EXPECT_EQ(server.requests().size(), 6u) << "the fourth hop is never asked for";

  ExpectFailure(Fetch({.url = server.Url("/loop")}), ResponseCode::kTimeout);
}

TEST_F(SourceFetchTest, RedirectToALoopbackAddressTheRelayRefusesIsForbidden) {
  TestServer internal([](const ReceivedRequest&) { return Respond(200, "OK", "{}", kJson); }, "127.0.0.1");
  TestServer external([&](const ReceivedRequest&) { return Redirect(302, internal.Url("/admin")); }, "127.0.0.2");
  auto relay = net::testing::LoopbackRelay({"127.0.0.2/32"});
  ASSERT_NE(relay, nullptr);
  auto fetcher = Make(*relay);
  ASSERT_NE(fetcher, nullptr);
  SourceOutcome out = FetchSource(*fetcher, {.url = external.Url("/private-path")}, {}, {});
  ExpectFailure(out, ResponseCode::kForbidden);
  EXPECT_THAT(out.detail, HasSubstr("127.0.0.1"));
  EXPECT_EQ(external.requests().size(), 1u);
  EXPECT_TRUE(internal.requests().empty());
}

TEST_F(SourceFetchTest, RedirectFromHttpsToHttpIsForbidden) {
  TestServer plain([](const ReceivedRequest&) { return Respond(200, "OK", "{}", kJson); });
  TestServer secure([&](const ReceivedRequest&) { return Redirect(302, plain.Url("/")); }, "127.0.0.1", certs_.path());
  ExpectFailure(Fetch({.url = secure.Url("/private-path")}), ResponseCode::kForbidden);
  EXPECT_TRUE(plain.requests().empty());
}

TEST_F(SourceFetchTest, ContentTypeMustBeAllowed) {
  TestServer server([](const ReceivedRequest& r) {
    if (r.target == "/html") return Respond(200, "OK", "<p>", {{"Content-Type", "text/html"}});
    if (r.target == "/none") return Reply{.pieces = {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"}};
    if (r.target == "/latin1") return Respond(200, "OK", "{}", {{"Content-Type", "application/json; charset=latin1"}});
    return Respond(200, "OK", "{}", {{"Content-Type", "APPLICATION/JSON; charset=utf-8"}});
  });
  SourceOutcome html = Fetch({.url = server.Url("/html")});
  ExpectFailure(html, ResponseCode::kContentTypeNotSupported);
  EXPECT_THAT(html.detail, HasSubstr("text/html"));
  ExpectFailure(Fetch({.url = server.Url("/none")}), ResponseCode::kContentTypeNotSupported);
  ExpectFailure(Fetch({.url = server.Url("/latin1")}), ResponseCode::kError);
  EXPECT_EQ(CodeName(Fetch({.url = server.Url("/json")}).code), "Success") << "media types compare without case";
  ExpectFailure(Fetch({.url = server.Url("/json")}, {.content_types = {"text/csv"}}),
                ResponseCode::kContentTypeNotSupported);
}

TEST_F(SourceFetchTest, BodyMustBeStrictUtf8) {
  const std::map<std::string, std::string> bodies = {
      {"/overlong", "\"\xC0\xAF\""},  {"/surrogate", "\"\xED\xA0\x80\""},    {"/invalid", "\"\xFF\""},
      {"/truncated", "\"\xE2\x82\""}, {"/too-high", "\"\xF4\x90\x80\x80\""}, {"/lone", "\"\x80\""}};
  TestServer server([&](const ReceivedRequest& r) { return Respond(200, "OK", bodies.at(r.target), kJson); });
  for (const auto& [path, body] : bodies) {
    SourceOutcome out = Fetch({.url = server.Url(path)});
    ExpectFailure(out, ResponseCode::kError);
    EXPECT_THAT(out.detail, HasSubstr("UTF-8")) << path;
  }
}

TEST_F(SourceFetchTest, HttpStatusesMapAsInNeo) {
  TestServer server([](const ReceivedRequest& r) {
    return Respond(std::stoi(r.target.substr(r.target.rfind('/') + 1)), "X", "{}", kJson);
  });
  ExpectFailure(Fetch({.url = server.Url("/private-path/404")}), ResponseCode::kNotFound);
  ExpectFailure(Fetch({.url = server.Url("/private-path/403")}), ResponseCode::kForbidden);
  ExpectFailure(Fetch({.url = server.Url("/private-path/401")}), ResponseCode::kError);
  SourceOutcome error = Fetch({.url = server.Url("/private-path/500")});
  ExpectFailure(error, ResponseCode::kError);
  EXPECT_EQ(error.detail, "127.0.0.1 answered HTTP 500");
  EXPECT_EQ(CodeName(Fetch({.url = server.Url("/204")}).code), "Success") << "any 2xx";
}

TEST_F(SourceFetchTest, FilterErrorsAreErrors) {
  TestServer server([](const ReceivedRequest& r) {
    return Respond(200, "OK", r.target == "/bad" ? "not json" : R"({"a":1})", kJson);
  });
  SourceOutcome bad = Fetch({.url = server.Url("/bad"), .filter = "$.a"});
  ExpectFailure(bad, ResponseCode::kError);
  EXPECT_THAT(bad.detail, HasSubstr("not JSON"));
  SourceOutcome path = Fetch({.url = server.Url("/good"), .filter = "$.["});
  ExpectFailure(path, ResponseCode::kError);
  EXPECT_THAT(path.detail, HasSubstr("filter"));
  EXPECT_EQ(server.requests().size(), 2u) << "as in Neo, the filter applies to what was fetched";
}

TEST_F(SourceFetchTest, FilterOnlyAppliesToASuccess) {
  TestServer server([](const ReceivedRequest&) { return Respond(404, "Not Found", "{}", kJson); });
  ExpectFailure(Fetch({.url = server.Url("/private-path"), .filter = "$.["}), ResponseCode::kNotFound);
}

TEST_F(SourceFetchTest, UnsupportedSchemesAreNotFetched) {
  ExpectFailure(Fetch({.url = "ftp://127.0.0.1/private-path"}), ResponseCode::kProtocolNotSupported);
  ExpectFailure(Fetch({.url = "neofs:abc/def"}), ResponseCode::kProtocolNotSupported);
  ExpectFailure(Fetch({.url = "http://127.0.0.1:1/private-path"}, {.schemes = {"https"}}),
                ResponseCode::kProtocolNotSupported);
  ExpectFailure(Fetch({.url = "no scheme"}), ResponseCode::kError);
  EXPECT_EQ(relay_->connects(), 0);
}

TEST_F(SourceFetchTest, UnreachableAndRateLimitedHostsAreErrors) {
  TestServer server([](const ReceivedRequest&) { return Respond(200, "OK", "{}", kJson); });
  ManualClock clock;
  auto relay = tee::SocketRelay::Create({.allow_private = {"127.0.0.1/32"}, .per_host_rate = 1}, clock);
  ASSERT_TRUE(relay.ok()) << relay.status().ToString();
  auto fetcher = Make(**relay);
  ASSERT_NE(fetcher, nullptr);
  EXPECT_EQ(CodeName(FetchSource(*fetcher, {.url = server.Url("/")}, {}, {}).code), "Success");
  SourceOutcome limited = FetchSource(*fetcher, {.url = server.Url("/private-path")}, {}, {});
  ExpectFailure(limited, ResponseCode::kError);
  EXPECT_EQ(limited.detail, "rate limited: 127.0.0.1");
  clock.Advance(milliseconds(1000));
  EXPECT_EQ(CodeName(FetchSource(*fetcher, {.url = server.Url("/")}, {}, {}).code), "Success");

  uint16_t closed_port = 0;
  {
    TestServer gone([](const ReceivedRequest&) { return Reply{}; });
    closed_port = gone.port();
  }  // nothing listens there any more
  ExpectFailure(Fetch({.url = "http://127.0.0.1:" + std::to_string(closed_port) + "/private-path"}),
                ResponseCode::kError);
}

// ---- Secrets ---------------------------------------------------------------------------------

TEST_F(SourceFetchTest, SecretsAreFilledInAtFetchTime) {
  TestServer server([](const ReceivedRequest&) { return Respond(200, "OK", R"({"ok":true})", kJson); });
  SourceOutcome out = Fetch({.url = server.Url("/"),
                             .filter = "$.ok",
                             .headers = {{"Authorization", "Bearer {{secrets.API_KEY}}"},
                                         {"X-Both", "{{secrets.API_KEY}}:{{secrets.other-1}}"},
                                         {"X-Plain", "just text"}}},
                            {}, Secrets({{"API_KEY", std::string(kSecret)}, {"other-1", "two"}}));
  EXPECT_EQ(CodeName(out.code), "Success") << out.detail;
  EXPECT_EQ(out.result, "[true]");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].Header("Authorization"), "Bearer " + std::string(kSecret));
  EXPECT_EQ(requests[0].Header("X-Both"), std::string(kSecret) + ":two");
  EXPECT_EQ(requests[0].Header("X-Plain"), "just text");
}

TEST_F(SourceFetchTest, MissingSecretsFailBeforeFetching) {
  TestServer server([](const ReceivedRequest&) { return Respond(200, "OK", "{}", kJson); });
  const SourceRequest request{.url = server.Url("/"), .headers = {{"X-Key", "{{secrets.MISSING}}"}}};
  for (const SecretLookup& lookup : {Secrets({{"OTHER", std::string(kSecret)}}), SecretLookup()}) {
    SourceOutcome out = Fetch(request, {}, lookup);
    ExpectFailure(out, ResponseCode::kError);
    EXPECT_THAT(out.detail, HasSubstr("MISSING"));
  }
  SourceOutcome crlf = Fetch(request, {}, Secrets({{"MISSING", "a\r\nX-Injected: 1"}}));
  ExpectFailure(crlf, ResponseCode::kError);
  EXPECT_THAT(crlf.detail, HasSubstr("MISSING"));
  EXPECT_THAT(crlf.detail, Not(HasSubstr("Injected")));
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(SourceFetchTest, SecretsNeverComeBackOut) {
  // Every way a server can echo the header back, in an error, a bad body or the result itself.
  TestServer server([](const ReceivedRequest& r) {
    const std::string key = r.Header("X-Api-Key");
    if (r.target == "/500") return Respond(500, "Internal " + key, "error: " + key, kJson);
    if (r.target == "/type") return Respond(200, "OK", "{}", {{"Content-Type", "x/" + key}});
    if (r.target == "/not-json") return Respond(200, "OK", "oops " + key, kJson);
    if (r.target == "/echo") return Respond(200, "OK", R"({"headers":{"X-Api-Key":")" + key + R"("}})", kJson);
    if (r.target == "/text") return Respond(200, "OK", "your key is " + key, {{"Content-Type", "text/plain"}});
    return Redirect(302, "/" + key);
  });
  for (std::string path : {"/500", "/type", "/not-json", "/echo", "/text", "/redirect"}) {
    SourceOutcome out = Fetch({.url = server.Url(path),
                               .filter = path == "/text" ? "" : "$.headers",
                               .headers = {{"X-Api-Key", "{{secrets.KEY}}"}}},
                              {}, Secrets({{"KEY", std::string(kSecret)}}));
    EXPECT_NE(CodeName(out.code), "Success") << path;
    EXPECT_THAT(out.detail, Not(HasSubstr(kSecret))) << path;
    EXPECT_THAT(out.detail, Not(HasSubstr("s3cr3t-token-xyz"))) << path << ": nor in another case";
    EXPECT_THAT(out.result, Not(HasSubstr(kSecret))) << path;
    EXPECT_THAT(out.detail, Not(IsEmpty())) << path;
  }
}

TEST_F(SourceFetchTest, SecretHeadersDoNotFollowARedirectToAnotherOrigin) {
  TestServer other([](const ReceivedRequest&) { return Respond(200, "OK", "{}", kJson); });
  TestServer server([&](const ReceivedRequest& r) {
    if (r.target == "/same") return Redirect(302, "/final");
    if (r.target == "/final") return Respond(200, "OK", "{}", kJson);
    return Redirect(302, other.Url("/elsewhere"));  // another port: another origin
  });
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"X-Api-Key", "k={{secrets.KEY}}"}, {"Authorization", "Basic abc"}, {"X-Plain", "kept"}};
  const SecretLookup secrets = Secrets({{"KEY", std::string(kSecret)}});

  EXPECT_EQ(CodeName(Fetch({.url = server.Url("/same"), .headers = headers}, {}, secrets).code), "Success");
  auto same = server.requests();
  ASSERT_EQ(same.size(), 2u);
  EXPECT_EQ(same[1].Header("X-Api-Key"), "k=" + std::string(kSecret)) << "same origin: kept";
  EXPECT_EQ(same[1].Header("Authorization"), "Basic abc");

  EXPECT_EQ(CodeName(Fetch({.url = server.Url("/away"), .headers = headers}, {}, secrets).code), "Success");
  auto away = other.requests();
  ASSERT_EQ(away.size(), 1u);
  EXPECT_FALSE(away[0].HasHeader("X-Api-Key"));
  EXPECT_FALSE(away[0].HasHeader("Authorization"));
  EXPECT_EQ(away[0].Header("X-Plain"), "kept");
}

// ---- Validation ------------------------------------------------------------------------------

TEST(ValidateSourceRequestTest, AcceptsWellFormedRequests) {
  EXPECT_TRUE(ValidateSourceRequest({.url = "https://api.example.com/v1/price?x=1",
                                     .filter = "$.data[0].price",
                                     .headers = {{"Authorization", "Bearer {{secrets.API_KEY}}"}, {"X-A", "plain"}}},
                                    {})
                  .ok());
  EXPECT_TRUE(ValidateSourceRequest({.url = "HTTP://example.com"}, {}).ok());
}

TEST(ValidateSourceRequestTest, RejectsWhatCannotBeFetched) {
  const std::vector<SourceRequest> bad = {
      {.url = "example.com/x"},
      {.url = "ftp://example.com/x"},
      {.url = "http://exa mple.com/"},
      {.url = "https://user:pw@example.com/"},
      {.url = "https://example.com:99999/"},
      {.url = "https://example.com/{{secrets.KEY}}"},
      {.url = "https://example.com/", .filter = "$.["},
      {.url = "https://example.com/", .headers = {{"X Bad", "v"}}},
      {.url = "https://example.com/", .headers = {{"Host", "v"}}},
      {.url = "https://example.com/", .headers = {{"X-A", "v\r\nX-B: 1"}}},
      {.url = "https://example.com/", .headers = {{"X-A", "{{secret.KEY}}"}}},
      {.url = "https://example.com/", .headers = {{"X-A", "{{secrets.}}"}}},
      {.url = "https://example.com/", .headers = {{"X-A", "{{secrets.a b}}"}}},
      {.url = "https://example.com/", .headers = {{"X-A", "{{secrets.a.b}}"}}},
      {.url = "https://example.com/", .headers = {{"X-A", "{{secrets.KEY}"}}},
      {.url = "https://example.com/", .headers = {{"X-A", "{{ secrets.KEY }}"}}},
      {.url = "https://example.com/", .headers = {{"X-A", "{{secrets." + std::string(65, 'a') + "}}"}}},
  };
  for (const SourceRequest& request : bad) {
    Status status = ValidateSourceRequest(request, {});
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << request.url << " " << request.filter;
    for (const auto& [name, value] : request.headers) {
      if (value.size() > 3) {
        EXPECT_THAT(std::string(status.message()), Not(HasSubstr(value)));
      }
    }
  }
  Status http = ValidateSourceRequest({.url = "http://example.com/"}, {.schemes = {"https"}});
  EXPECT_EQ(http.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(http.message()), HasSubstr("'http'"));
}

TEST(ValidateSourceRequestTest, FindsSecretNames) {
  EXPECT_THAT(SecretNamesIn("a {{secrets.A}} b {{secrets.B_2}}{{secrets.A}}"), ElementsAre("A", "B_2", "A"));
  EXPECT_THAT(SecretNamesIn("no placeholders {x}"), IsEmpty());
  EXPECT_THAT(SecretNamesIn("{{secrets.ok}} {{bad"), ElementsAre("ok"));
  EXPECT_TRUE(IsSecretName(std::string(64, 'z')));
  EXPECT_FALSE(IsSecretName(std::string(65, 'z')));
  EXPECT_FALSE(IsSecretName("a.b"));
}

}  // namespace
}  // namespace neosl::oracle
