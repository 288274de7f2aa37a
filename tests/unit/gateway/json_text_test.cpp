// json_text.h: the gateway takes its "async" member out of a body's text and leaves every other
// byte as sent (a function's args are proven over their exact text).
#include "gateway/json_text.h"

#include <gtest/gtest.h>

namespace neosl::gateway {
namespace {

TEST(WithoutMemberTest, CutsTheMemberAndOneCommaAndNothingElse) {
  EXPECT_EQ(WithoutMember(R"({"args":1.50,"async":true})", "async"), R"({"args":1.50})");
  EXPECT_EQ(WithoutMember(R"({"async":true,"args":[1e2, "a,b}"]})", "async"), R"({"args":[1e2, "a,b}"]})");
  EXPECT_EQ(WithoutMember(R"({ "a":{"async":1} , "async" : false , "b":"x" })", "async"),
            R"({ "a":{"async":1} , "b":"x" })");
  EXPECT_EQ(WithoutMember(R"({"async":true})", "async"), R"({})");
  // An escaped name is the same name; a name that only contains it is not.
  EXPECT_EQ(WithoutMember(R"({"\u0061sync":true,"asynchronous":1})", "async"), R"({"asynchronous":1})");
  // Strings with quotes and backslashes are skipped whole.
  EXPECT_EQ(WithoutMember(R"({"s":"q\"\\","async":true,"t":"}"})", "async"), R"({"s":"q\"\\","t":"}"})");
  // Every occurrence goes.
  EXPECT_EQ(WithoutMember(R"({"async":true,"x":1,"async":false})", "async"), R"({"x":1})");
  EXPECT_EQ(WithoutMember(R"({"x":1,"async":1,"async":2})", "async"), R"({"x":1})");
  EXPECT_EQ(WithoutMember(R"({"async":1,"async":2,"x":1})", "async"), R"({"x":1})");
  EXPECT_EQ(WithoutMember(R"({"async":1, "async":2})", "async"), R"({})");
  // Nothing to cut, or not an object: unchanged.
  EXPECT_EQ(WithoutMember(R"({"x":1})", "async"), R"({"x":1})");
  EXPECT_EQ(WithoutMember("[1,2]", "async"), "[1,2]");
  EXPECT_EQ(WithoutMember("", "async"), "");
}

}  // namespace
}  // namespace neosl::gateway
