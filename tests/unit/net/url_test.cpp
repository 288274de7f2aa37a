// URLs as the fetcher reads them (tee/http1.h, shared with EnclaveTlsClient): parsing, and
// resolving redirect targets as RFC 3986 section 5 does.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tee/http1.h"

namespace neosl::tee::http1 {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Url MustParse(std::string_view text) {
  auto url = ParseUrl(text);
  EXPECT_TRUE(url.ok()) << text << ": " << url.status().ToString();
  return url.ok() ? *url : Url();
}

TEST(NetUrlTest, ParsesHttpAndHttps) {
  Url http = MustParse("HTTP://Example.COM/a/b?c=d#frag");
  EXPECT_FALSE(http.https);
  EXPECT_EQ(http.host, "example.com");
  EXPECT_EQ(http.port, 80);
  EXPECT_EQ(http.target, "/a/b?c=d");
  EXPECT_FALSE(http.ip_literal);
  EXPECT_EQ(http.Authority(), "example.com");
  EXPECT_EQ(http.Spec(), "http://example.com/a/b?c=d");

  Url https = MustParse("https://api.example.com:8443");
  EXPECT_TRUE(https.https);
  EXPECT_EQ(https.port, 8443);
  EXPECT_EQ(https.target, "/");
  EXPECT_EQ(https.Authority(), "api.example.com:8443");
  EXPECT_EQ(MustParse("https://example.com:443/x").Spec(), "https://example.com/x") << "default port dropped";
  EXPECT_EQ(MustParse("http://example.com:443/x").Spec(), "http://example.com:443/x");
  EXPECT_EQ(MustParse("http://example.com?q").target, "/?q");
  EXPECT_EQ(MustParse("http://example.com.").host, "example.com.");
  EXPECT_EQ(MustParse("http://under_score.example/").host, "under_score.example");
}

TEST(NetUrlTest, IpLiterals) {
  Url v4 = MustParse("http://10.0.0.1:8080/");
  EXPECT_TRUE(v4.ip_literal);
  EXPECT_FALSE(v4.ipv6);
  Url v6 = MustParse("https://[2001:DB8::1]:8443/p");
  EXPECT_TRUE(v6.ip_literal);
  EXPECT_TRUE(v6.ipv6);
  EXPECT_EQ(v6.host, "2001:db8::1");
  EXPECT_EQ(v6.port, 8443);
  EXPECT_EQ(v6.Authority(), "[2001:db8::1]:8443");
  EXPECT_EQ(MustParse("http://[::1]/").Spec(), "http://[::1]/");
}

TEST(NetUrlTest, KeepsEscapesAndEncodesWhatCannotBeSentRaw) {
  EXPECT_EQ(MustParse("http://h/a%2Fb%zz?x=%20").target, "/a%2Fb%zz?x=%20");
  EXPECT_EQ(MustParse("http://h/a b/\xc3\xa9?q=\"<x>\"").target, "/a%20b/%C3%A9?q=%22%3Cx%3E%22");
}

TEST(NetUrlTest, RejectsWhatCannotBeFetched) {
  for (std::string_view text : {"ftp://h/",
                                "h/",
                                "//h/",
                                "javascript:alert(1)",
                                "http:/h/",
                                "http://",
                                "http://:80/",
                                "http://h:0/",
                                "http://h:65536/",
                                "http://h:-1/",
                                "http://h:+80/",
                                "http://h:/",
                                "http://u:pw@h/",
                                "http://@h/",
                                "http://h\xc3\xa9/",
                                "http://h%41/",
                                "http://a..b/",
                                "http://.a/",
                                "http://a b/",
                                "http://[::1/",
                                "http://[::1]x/",
                                "http://[fe80::1%25eth0]/",
                                "http://[1.2.3.4]/",
                                "http://2130706433/",
                                "http://0x7f.1/",
                                "http://127.1/",
                                "http://1.2.3.256/",
                                "http://h\\@evil/",
                                "http://h/\x01",
                                "http://h/\x7f",
                                "http://h/a\r\nb"}) {
    auto url = ParseUrl(text);
    ASSERT_FALSE(url.ok()) << text;
    EXPECT_EQ(url.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(std::string(url.status().message()), Not(HasSubstr("pw@")));
  }
  std::string long_label = "http://" + std::string(64, 'a') + ".example/";
  EXPECT_FALSE(ParseUrl(long_label).ok());
}

// RFC 3986 section 5.4, with "http://a/b/c/d;p?q" as the base.
TEST(NetUrlTest, ResolvesReferencesAsRfc3986) {
  const Url base = MustParse("http://a/b/c/d;p?q");
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"g", "http://a/b/c/g"},
      {"./g", "http://a/b/c/g"},
      {"g/", "http://a/b/c/g/"},
      {"/g", "http://a/g"},
      {"//g", "http://g/"},
      {"?y", "http://a/b/c/d;p?y"},
      {"g?y", "http://a/b/c/g?y"},
      {"#s", "http://a/b/c/d;p?q"},
      {"g#s", "http://a/b/c/g"},
      {"g?y#s", "http://a/b/c/g?y"},
      {";x", "http://a/b/c/;x"},
      {"g;x", "http://a/b/c/g;x"},
      {"", "http://a/b/c/d;p?q"},
      {".", "http://a/b/c/"},
      {"./", "http://a/b/c/"},
      {"..", "http://a/b/"},
      {"../", "http://a/b/"},
      {"../g", "http://a/b/g"},
      {"../..", "http://a/"},
      {"../../", "http://a/"},
      {"../../g", "http://a/g"},
      {"../../../g", "http://a/g"},
      {"../../../../g", "http://a/g"},
      {"/./g", "http://a/g"},
      {"/../g", "http://a/g"},
      {"g.", "http://a/b/c/g."},
      {".g", "http://a/b/c/.g"},
      {"g..", "http://a/b/c/g.."},
      {"..g", "http://a/b/c/..g"},
      {"./../g", "http://a/b/g"},
      {"./g/.", "http://a/b/c/g/"},
      {"g/./h", "http://a/b/c/g/h"},
      {"g/../h", "http://a/b/c/h"},
      {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
      {"g;x=1/../y", "http://a/b/c/y"},
      {"https://other:8443/x?y", "https://other:8443/x?y"},
      {"HTTP://Other/", "http://other/"},
  };
  for (const auto& [reference, expected] : cases) {
    auto resolved = ResolveReference(base, reference);
    ASSERT_TRUE(resolved.ok()) << "'" << reference << "': " << resolved.status().ToString();
    EXPECT_EQ(resolved->Spec(), expected) << "'" << reference << "'";
  }
  // A network-path reference keeps the base's scheme.
  auto secure = ResolveReference(MustParse("https://a/"), "//b:9/c");
  ASSERT_TRUE(secure.ok());
  EXPECT_EQ(secure->Spec(), "https://b:9/c");
  for (std::string_view bad : {"g:h", "ftp://x/", "//u@h/", "http://h:99999/", "/a\nb"}) {
    EXPECT_EQ(ResolveReference(base, bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(NetUrlTest, WritesRequests) {
  std::string out;
  const std::string body = "{}";
  ASSERT_TRUE(WriteRequest("POST", MustParse("http://[::1]:8080/p?q"), {{"X-A", "1"}},
                           std::span(reinterpret_cast<const uint8_t*>(body.data()), body.size()), "ua/1", out)
                  .ok());
  EXPECT_EQ(out,
            "POST /p?q HTTP/1.1\r\nHost: [::1]:8080\r\nX-A: 1\r\nUser-Agent: ua/1\r\nContent-Length: 2\r\n"
            "Connection: close\r\n\r\n{}");
  EXPECT_EQ(ValidateHeaders({{"Connection", "upgrade"}}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidateHeaders({{"X-Ok", "a\tb"}}).ok());
}

TEST(NetUrlTest, ReadsResponsesIncrementally) {
  ResponseReader reader("h", {.max_body_bytes = 100});
  const std::string wire =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 Fine Thanks\r\nA: 1\r\nContent-Length: 3\r\n\r\nabcEXTRA";
  for (char c : wire) ASSERT_TRUE(reader.Add(std::string_view(&c, 1)).ok());
  ASSERT_TRUE(reader.done());
  Response r = reader.Take();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.reason, "Fine Thanks");
  EXPECT_EQ(std::string(r.body.begin(), r.body.end()), "abc");

  ResponseReader redirect("h", {.skip_redirect_body = true});
  ASSERT_TRUE(redirect.Add("HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 100\r\n\r\n").ok());
  EXPECT_TRUE(redirect.done()) << "a redirect to follow is complete after its headers";

  for (std::string_view bad :
       {"HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "HTTP/1.1 101 Switching\r\n\r\n",
        "HTTP/1.1 200 O\x01K\r\n\r\n"}) {
    ResponseReader bad_reader("h", {});
    EXPECT_EQ(bad_reader.Add(bad).code(), StatusCode::kUnavailable) << bad;
  }
  ResponseReader early("h", {});
  ASSERT_TRUE(early.Add("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab").ok());
  EXPECT_EQ(early.OnEof().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace neosl::tee::http1
