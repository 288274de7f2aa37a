#include "gateway/json_schema.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "support/status_details.h"

namespace neosl::gateway {
namespace {

using ::neosl::testing::FieldOf;

namespace json = boost::json;

SchemaPtr Sample() {
  return Object({{"name", String().Length(1, 4), kRequired},
                 {"count", Integer().Range(0, 10)},
                 {"tags", Array(String().OneOf({"a", "b"})).MinItems(1).MaxItems(3).Unique()},
                 {"flag", Boolean()},
                 {"inner", Object({{"x", Integer(), kRequired}})}});
}

TEST(JsonSchemaTest, AcceptsConformingBodies) {
  auto s = Sample();
  EXPECT_TRUE(ParseAndValidate(R"({"name":"ab"})", *s).ok());
  EXPECT_TRUE(ParseAndValidate(R"({"name":"ab","count":10,"tags":["a","b"],"flag":false,"inner":{"x":-1}})", *s).ok());
  // Length counts characters, not bytes: four two-byte characters fit a max of 4.
  EXPECT_TRUE(ParseAndValidate("{\"name\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}", *s).ok());
}

TEST(JsonSchemaTest, NamesTheOffendingField) {
  auto s = Sample();
  struct Case {
    const char* body;
    const char* field;
  } cases[] = {
      {R"({})", "name"},
      {R"({"name":""})", "name"},
      {R"({"name":"abcde"})", "name"},
      {R"({"name":1})", "name"},
      {R"({"name":"a","count":11})", "count"},
      {R"({"name":"a","count":1.5})", "count"},
      {R"({"name":"a","count":"1"})", "count"},
      {R"({"name":"a","tags":[]})", "tags"},
      {R"({"name":"a","tags":["a","c"]})", "tags[1]"},
      {R"({"name":"a","tags":["a","a"]})", "tags[1]"},
      {R"({"name":"a","tags":["a","b","a","b"]})", "tags"},
      {R"({"name":"a","flag":"true"})", "flag"},
      {R"({"name":"a","inner":{}})", "inner.x"},
      {R"({"name":"a","inner":{"x":1,"y":2}})", "inner.y"},
      {R"({"name":"a","zzz":null})", "zzz"},
      {R"([1])", "(body)"},
      {R"({"name":)", "(body)"},
      {R"({"name":"a"} trailing)", "(body)"},
  };
  for (const auto& c : cases) {
    auto r = ParseAndValidate(c.body, *s);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.body;
    EXPECT_EQ(FieldOf(r.status()), c.field) << c.body << " → " << r.status().ToString();
    if (std::string(c.field) != "(body)") {
      EXPECT_NE(std::string(r.status().message()).find(c.field), std::string::npos) << r.status().ToString();
    }
  }
}

TEST(JsonSchemaTest, EmptyBodyIsAnEmptyObject) {
  SchemaPtr optional_only = Object({{"name", String()}});
  EXPECT_TRUE(ParseAndValidate("", *optional_only).ok());
  EXPECT_TRUE(ParseAndValidate("  \n", *optional_only).ok());
  EXPECT_EQ(FieldOf(ParseAndValidate("", *Sample()).status()), "name");
}

TEST(JsonSchemaTest, DeepNestingIsRefused) {
  std::string deep(100, '[');
  deep += std::string(100, ']');
  auto r = ParseAndValidate(deep, *Sample());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(JsonSchemaTest, CharsetRestrictsCharacters) {
  SchemaPtr s = Object({{"id", String().Charset("abc", "^[abc]*$"), kRequired}});
  EXPECT_TRUE(ParseAndValidate(R"({"id":"abca"})", *s).ok());
  auto r = ParseAndValidate(R"({"id":"abd"})", *s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("^[abc]*$"), std::string::npos);
}

TEST(JsonSchemaTest, ToJsonSchemaDescribesTheRules) {
  auto v = Sample()->ToJsonSchema();
  EXPECT_EQ(v.at("type").as_string(), "object");
  EXPECT_EQ(v.at("required").at(0).as_string(), "name");
  EXPECT_EQ(v.at("additionalProperties").as_bool(), false);
  const auto& p = v.at("properties");
  EXPECT_EQ(p.at("name").at("minLength").as_int64(), 1);
  EXPECT_EQ(p.at("name").at("maxLength").as_int64(), 4);
  EXPECT_EQ(p.at("count").at("maximum").as_int64(), 10);
  EXPECT_EQ(p.at("tags").at("items").at("enum").at(1).as_string(), "b");
  EXPECT_EQ(p.at("tags").at("uniqueItems").as_bool(), true);
  EXPECT_EQ(p.at("inner").at("required").at(0).as_string(), "x");
}

}  // namespace
}  // namespace neosl::gateway
