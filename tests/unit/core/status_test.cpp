#include "core/status.h"

#include <gtest/gtest.h>

namespace neosl {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, CodeNamesRoundTrip) {
  for (int i = 0; i <= 16; ++i) {
    auto code = static_cast<StatusCode>(i);
    auto back = StatusCodeFromName(StatusCodeName(code));
    ASSERT_TRUE(back.has_value()) << i;
    EXPECT_EQ(*back, code);
  }
  EXPECT_FALSE(StatusCodeFromName("NOPE").has_value());
}

TEST(StatusTest, HttpMapping) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInternal), 500);
}

TEST(StatusTest, DetailsAreCopyOnWrite) {
  Status a = PermissionDeniedError("no");
  Status b = a;
  b.WithDetail(ErrorDetail{"AuthorizationError", {}}.Add("resource", "function/1"));
  EXPECT_TRUE(a.details().empty());
  ASSERT_EQ(b.details().size(), 1u);
  EXPECT_EQ(b.details()[0].type, "AuthorizationError");
}

TEST(StatusTest, AnnotateKeepsCodeAndDetails) {
  Status s = NotFoundError("file missing").WithDetail(ErrorDetail{"X", {}});
  Status t = s.Annotate("loading config");
  EXPECT_EQ(t.code(), StatusCode::kNotFound);
  EXPECT_EQ(t.message(), "loading config: file missing");
  EXPECT_EQ(t.details().size(), 1u);
}

StatusOr<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError("odd");
  return x / 2;
}

Status UseHalf(int x, int* out) {
  ASSIGN_OR_RETURN(*out, Half(x));
  RETURN_IF_ERROR(Half(*out));
  return Status();
}

TEST(StatusOrTest, ValueAndErrorAndMacros) {
  auto ok = Half(8);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 4);
  auto bad = Half(3);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  int out = 0;
  EXPECT_TRUE(UseHalf(8, &out).ok());
  EXPECT_EQ(out, 4);
  EXPECT_EQ(UseHalf(6, &out).code(), StatusCode::kInvalidArgument);  // 6/2 = 3 is odd
  EXPECT_EQ(UseHalf(5, &out).message(), "odd");
}

TEST(StatusOrTest, OkStatusBecomesInternal) {
  StatusOr<int> s{Status()};
  EXPECT_EQ(s.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace neosl
