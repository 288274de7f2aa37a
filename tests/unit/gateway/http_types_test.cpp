#include "gateway/http_types.h"

#include <gtest/gtest.h>

namespace neosl::gateway {
namespace {

TEST(HttpRequestTest, QueryParamsAreDecodedAndBareNamesArePresent) {
  HttpRequest r;
  r.target = "/v1/x?a=1&b=hello%20world&flag&c=a+b&bad=%zz";
  std::string v = "unchanged";
  ASSERT_TRUE(r.QueryParam("a", &v));
  EXPECT_EQ(v, "1");
  ASSERT_TRUE(r.QueryParam("b", &v));
  EXPECT_EQ(v, "hello world");
  ASSERT_TRUE(r.QueryParam("c", &v));
  EXPECT_EQ(v, "a b");
  // A bare name is present with an empty value (this once read an uninitialised flag).
  v = "unchanged";
  ASSERT_TRUE(r.QueryParam("flag", &v));
  EXPECT_EQ(v, "");
  EXPECT_FALSE(r.QueryParam("bad", &v));  // malformed escape
  EXPECT_FALSE(r.QueryParam("missing", &v));
  EXPECT_EQ(r.Path(), "/v1/x");
}

TEST(HttpRequestTest, HeadersAreCaseInsensitive) {
  HttpRequest r;
  r.headers = {{"Content-Type", "application/json"}, {"authorization", "Bearer x"}};
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_EQ(r.Header("AUTHORIZATION"), "Bearer x");
  EXPECT_EQ(r.Header("x-missing"), "");
}

TEST(PercentDecodeTest, RejectsTruncatedEscapes) {
  bool ok = true;
  EXPECT_EQ(PercentDecode("%41%42", &ok), "AB");
  EXPECT_TRUE(ok);
  PercentDecode("abc%4", &ok);
  EXPECT_FALSE(ok);
  PercentDecode("abc%", &ok);
  EXPECT_FALSE(ok);
}

}  // namespace
}  // namespace neosl::gateway
