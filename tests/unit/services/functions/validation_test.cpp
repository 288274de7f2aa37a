// What the functions service accepts, checked without a service around it.
#include "services/functions/validation.h"

#include <string>

#include <gtest/gtest.h>

namespace neosl::services::functions {
namespace {

TEST(FunctionsValidationTest, Utf8IsStrict) {
  EXPECT_TRUE(IsUtf8("plain ascii"));
  EXPECT_TRUE(IsUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));  // é € 😀
  EXPECT_FALSE(IsUtf8("\xC0\xAF"));                                  // overlong '/'
  EXPECT_FALSE(IsUtf8("\xE0\x80\xAF"));                              // overlong, 3 bytes
  EXPECT_FALSE(IsUtf8("\xED\xA0\x80"));                              // a surrogate
  EXPECT_FALSE(IsUtf8("\xF4\x90\x80\x80"));                          // past U+10FFFF
  EXPECT_FALSE(IsUtf8("\xE2\x82"));                                  // cut short
  EXPECT_FALSE(IsUtf8("\x80"));                                      // a lone continuation
}

TEST(FunctionsValidationTest, Names) {
  EXPECT_TRUE(IsName("a"));
  EXPECT_TRUE(IsName("A-z_0"));
  EXPECT_TRUE(IsName(std::string(64, 'x')));
  EXPECT_FALSE(IsName(""));
  EXPECT_FALSE(IsName(std::string(65, 'x')));
  EXPECT_FALSE(IsName("a.b"));
  EXPECT_FALSE(IsName("a b"));
}

TEST(FunctionsValidationTest, ArgsAreJsonWithinTheLimit) {
  EXPECT_EQ(*CheckArgs(""), "null");
  EXPECT_EQ(*CheckArgs(" [1, 2.50] "), " [1, 2.50] ");  // kept exactly as given
  EXPECT_EQ(CheckArgs("{").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckArgs("1 2").status().code(), StatusCode::kInvalidArgument);
  std::string at_limit = "\"" + std::string(runtime::kMaxArgsBytes - 2, 'a') + "\"";
  EXPECT_TRUE(CheckArgs(at_limit).ok());
  EXPECT_EQ(CheckArgs(at_limit + " ").status().code(), StatusCode::kInvalidArgument);
}

TEST(FunctionsValidationTest, PageTokensRoundTrip) {
  EXPECT_EQ(*DecodePageToken(EncodePageToken("some-name")), "some-name");
  EXPECT_FALSE(DecodePageToken("not hex").ok());
  EXPECT_FALSE(DecodePageToken("").ok());
  EXPECT_EQ(*PageSize(0), kDefaultPageSize);
  EXPECT_EQ(*PageSize(100), 100);
  EXPECT_FALSE(PageSize(101).ok());
}

TEST(FunctionsValidationTest, LimitsFillFromTheBase) {
  ::neosl::functions::v1::Limits given;
  given.set_memory_mb(64);
  runtime::Limits base;
  base.timeout = std::chrono::milliseconds(2000);
  auto limits = LimitsFrom(given, base);
  ASSERT_TRUE(limits.ok());
  EXPECT_EQ(limits->timeout.count(), 2000);
  EXPECT_EQ(limits->memory_bytes, size_t{64} << 20);
}

}  // namespace
}  // namespace neosl::services::functions
