#include "services/oracle/jpath.h"

#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace neosl::oracle {
namespace {

// Neo's UT_JPath fixture (tests/Neo.Json.UnitTests/UT_JPath.cs), as the JSON text it serializes to.
constexpr std::string_view kStore =
    R"({"store":{"book":[)"
    R"({"category":"reference","author":"Nigel Rees","title":"Sayings of the Century","price":8.95},)"
    R"({"category":"fiction","author":"Evelyn Waugh","title":"Sword of Honour","price":12.99},)"
    R"({"category":"fiction","author":"Herman Melville","title":"Moby Dick","isbn":"0-553-21311-3","price":8.99},)"
    R"({"category":"fiction","author":"J. R. R. Tolkien","title":"The Lord of the Rings","isbn":"0-395-19395-8",)"
    R"("price":null}],"bicycle":{"color":"red","price":19.95}},"expensive":10,"data":null})";

constexpr std::string_view kBook0 =
    R"({"category":"reference","author":"Nigel Rees","title":"Sayings of the Century","price":8.95})";
constexpr std::string_view kBook1 =
    R"({"category":"fiction","author":"Evelyn Waugh","title":"Sword of Honour","price":12.99})";
constexpr std::string_view kBook2 =
    R"({"category":"fiction","author":"Herman Melville","title":"Moby Dick","isbn":"0-553-21311-3","price":8.99})";
constexpr std::string_view kBook3 =
    R"({"category":"fiction","author":"J. R. R. Tolkien","title":"The Lord of the Rings",)"
    R"("isbn":"0-395-19395-8","price":null})";

std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out += p;
  return out;
}

// The filtered bytes, or "<error: …>" so a failing expectation shows what happened.
std::string Filter(std::string_view json, std::string_view path) {
  StatusOr<std::string> out = ApplyJPath(json, path);
  return out.ok() ? *out : "<error: " + out.status().ToString() + ">";
}

::testing::AssertionResult FilterFails(std::string_view json, std::string_view path, std::string_view prefix) {
  StatusOr<std::string> out = ApplyJPath(json, path);
  if (out.ok()) return ::testing::AssertionFailure() << "path " << path << " gave " << *out;
  if (out.status().code() != StatusCode::kInvalidArgument) {
    return ::testing::AssertionFailure() << "path " << path << ": " << out.status().ToString();
  }
  if (out.status().message().substr(0, prefix.size()) != prefix) {
    return ::testing::AssertionFailure() << "path " << path << ": message " << out.status().message();
  }
  return ::testing::AssertionSuccess();
}
::testing::AssertionResult PathFails(std::string_view json, std::string_view path) {
  return FilterFails(json, path, "filter: ");
}
::testing::AssertionResult NotJson(std::string_view json) {
  return FilterFails(json, "$", "response is not JSON: ");
}

// What Neo's JToken.Parse(text).ToString() gives.
std::string Reserialize(std::string_view text) {
  StatusOr<boost::json::value> v = ParseNeoJson(text);
  return v.ok() ? NeoJsonSerialize(*v) : "<error: " + v.status().ToString() + ">";
}

// ---- Neo's UT_JPath.TestJsonPath, one for one ----

TEST(NeoUtJPathTest, JsonPath) {
  const std::string authors = R"(["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"])";
  EXPECT_EQ(Filter(kStore, "$.store.book[*].author"), authors);
  EXPECT_EQ(Filter(kStore, "$..author"), authors);
  const std::string books = Cat({"[", kBook0, ",", kBook1, ",", kBook2, ",", kBook3, "]"});
  const std::string bicycle = R"({"color":"red","price":19.95})";
  EXPECT_EQ(Filter(kStore, "$.store.*"), "[" + books + "," + bicycle + "]");
  EXPECT_EQ(Filter(kStore, "$.store..price"), "[19.95,8.95,12.99,8.99,null]");
  EXPECT_EQ(Filter(kStore, "$..book[2]"), Cat({"[", kBook2, "]"}));
  EXPECT_EQ(Filter(kStore, "$..book[-2]"), Cat({"[", kBook2, "]"}));
  EXPECT_EQ(Filter(kStore, "$..book[0,1]"), Cat({"[", kBook0, ",", kBook1, "]"}));
  EXPECT_EQ(Filter(kStore, "$..book[:2]"), Cat({"[", kBook0, ",", kBook1, "]"}));
  EXPECT_EQ(Filter(kStore, "$..book[1:2]"), Cat({"[", kBook1, "]"}));
  EXPECT_EQ(Filter(kStore, "$..book[-2:]"), Cat({"[", kBook2, ",", kBook3, "]"}));
  EXPECT_EQ(Filter(kStore, "$..book[2:]"), Cat({"[", kBook2, ",", kBook3, "]"}));
  // Neo's JsonPath("") is [root]; through the oracle an empty filter is a passthrough, and "$"
  // is the path that yields [root].
  EXPECT_EQ(Filter(kStore, "$"), Cat({"[", kStore, "]"}));
  EXPECT_EQ(Filter(kStore, "$.*"), "[{\"book\":" + books + ",\"bicycle\":" + bicycle + "},10,null]");
  EXPECT_EQ(Filter(kStore, "$..invalidfield"), "[]");
}

TEST(NeoUtJPathTest, MaxDepth) {
  // ..book walks 5 levels of this document, [*] and .author need a 7th descent.
  EXPECT_TRUE(PathFails(kStore, "$..book[*].author"));
}

TEST(NeoUtJPathTest, OutOfMemory) {
  std::string step = "[0";
  for (int i = 0; i < 64; ++i) step += ",0";
  step += "]";
  std::string path = "$";
  for (int i = 0; i < 6; ++i) path += step;
  EXPECT_TRUE(PathFails("[[[[[[{}]]]]]]", path));  // 65, then 65 × 65 > 1024 values
}

TEST(NeoUtJPathTest, InvalidFormat) {
  for (std::string_view path : {"$..*",
                                "..book",
                                "$..",
                                "@#$%^&*()",
                                "$.store.book[",
                                "$.store.book)]",
                                "$.store.book=>2",
                                "$.store.'book'",
                                "$.store.[book]",
                                "$.store.book[?(@.price<",
                                "$..*..author",
                                "$.store.book.length()",
                                "$.store.book[?(@.price)]",
                                "$.store.book[*],$.invalid",
                                "$.store.book[\\]",
                                "$.store.'b?ook'",
                                "$.store.book[?(@.price AND @.title)]",
                                "$.store.book[?(@.price[?(@ < 10)])]",
                                "$..@.book",
                                "$.store.book..[0]",
                                "$.store.book[(@.length-1)]"}) {
    EXPECT_TRUE(PathFails(kStore, path));
  }
  // The cases UT_JPath leaves commented out, as Neo's code actually answers them.
  EXPECT_EQ(Filter(kStore, "$.store.book['one']"), "[]");
  EXPECT_EQ(Filter(kStore, "$.store.book[999]"), "[]");
  EXPECT_EQ(Filter(kStore, "$.*.store"), "[]");
  EXPECT_EQ(Filter(kStore, "$.store.book[*]"), Cat({"[", kBook0, ",", kBook1, ",", kBook2, ",", kBook3, "]"}));
  EXPECT_TRUE(PathFails(kStore, "$..store..book"));  // 5 levels for ..store, then 2 more
}

// ---- Neo's UT_OracleService.TestFilter ----

TEST(NeoUtOracleServiceTest, Filter) {
  const std::string_view json = R"({
  "Stores": [
    "Lambton Quay",
    "Willis Street"
  ],
  "Manufacturers": [
    {
      "Name": "Acme Co",
      "Products": [
        {
          "Name": "Anvil",
          "Price": 50
        }
      ]
    },
    {
      "Name": "Contoso",
      "Products": [
        {
          "Name": "Elbow Grease",
          "Price": 99.95
        },
        {
          "Name": "Headlight Fluid",
          "Price": 4
        }
      ]
    }
  ]
})";
  EXPECT_EQ(Filter(json, "$.Manufacturers[0].Name"), R"(["Acme Co"])");
  EXPECT_EQ(Filter(json, "$.Manufacturers[0].Products[0].Price"), "[50]");
  EXPECT_EQ(Filter(json, "$.Manufacturers[1].Products[0].Name"), R"(["Elbow Grease"])");
  EXPECT_EQ(Filter(json, "$.Manufacturers[1].Products[0]"), R"([{"Name":"Elbow Grease","Price":99.95}])");
}

// ---- OracleService.Filter around the path ----

TEST(ApplyJPathTest, EmptyFilterPassesTheBodyThroughUnparsed) {
  EXPECT_EQ(Filter("not json at all", ""), "not json at all");
  EXPECT_EQ(Filter("{ \"a\" : 1.50, \"b\":\"+\" }", ""), "{ \"a\" : 1.50, \"b\":\"+\" }");
  EXPECT_EQ(Filter("", ""), "");
}

TEST(ApplyJPathTest, BadBodyIsNotJsonAndTheMessageDoesNotQuoteIt) {
  StatusOr<std::string> out = ApplyJPath("{\"secret-token\": ", "$");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message().substr(0, 22), "response is not JSON: ");
  EXPECT_EQ(out.status().message().find("secret"), std::string_view::npos);
  // Neo parses the body before it looks at the path.
  EXPECT_TRUE(FilterFails("nope", "garbage", "response is not JSON: "));
}

TEST(ApplyJPathTest, NullBodyFailsAsInNeo) {
  // JToken.Parse("null") is a C# null; Filter then calls JsonPath on it and throws.
  EXPECT_TRUE(PathFails("null", "$"));
  EXPECT_TRUE(PathFails(" null ", "$.a"));
  EXPECT_EQ(Filter("[null]", "$[0]"), "[null]");
}

TEST(ApplyJPathTest, ScalarRoots) {
  EXPECT_EQ(Filter("5", "$"), "[5]");
  EXPECT_EQ(Filter("\"s\"", "$"), "[\"s\"]");
  EXPECT_EQ(Filter("true", "$"), "[true]");
  EXPECT_EQ(Filter("5", "$.a"), "[]");
  EXPECT_EQ(Filter("\"abc\"", "$[0]"), "[]");
  EXPECT_EQ(Filter("false", "$.*"), "[]");
}

// ---- The path language ----

TEST(JPathTest, RootMustComeFirstAndOnlyOnce) {
  EXPECT_TRUE(PathFails("{}", "a"));
  EXPECT_TRUE(PathFails("{}", ".a"));
  EXPECT_TRUE(PathFails("{}", "$$"));
  EXPECT_TRUE(PathFails("{}", "$.a$"));
  EXPECT_TRUE(PathFails("{}", "$ .a"));  // whitespace is an invalid character
  EXPECT_TRUE(PathFails("{}", "$."));
  EXPECT_TRUE(PathFails("{}", "$["));
  EXPECT_TRUE(PathFails("{}", "$]"));
  EXPECT_TRUE(PathFails("{\"é\":1}", "$.é"));  // identifiers are ASCII
}

TEST(JPathTest, Identifiers) {
  const std::string_view json = R"({"_a1":1,"A_b":2,"1a":3})";
  EXPECT_EQ(Filter(json, "$._a1"), "[1]");
  EXPECT_EQ(Filter(json, "$.A_b"), "[2]");
  EXPECT_TRUE(PathFails(json, "$.1a"));  // a Number token after a dot
  EXPECT_EQ(Filter(json, "$['1a']"), "[3]");
  EXPECT_EQ(Filter(json, "$.missing"), "[]");
}

TEST(JPathTest, Indexes) {
  const std::string_view json = "[10,11,12]";
  EXPECT_EQ(Filter(json, "$[0]"), "[10]");
  EXPECT_EQ(Filter(json, "$[-1]"), "[12]");
  EXPECT_EQ(Filter(json, "$[-3]"), "[10]");
  EXPECT_EQ(Filter(json, "$[-4]"), "[]");
  EXPECT_EQ(Filter(json, "$[3]"), "[]");
  EXPECT_EQ(Filter(json, "$[-0]"), "[10]");
  EXPECT_EQ(Filter(json, "$[002]"), "[12]");
  EXPECT_EQ(Filter(json, "$[-2147483648]"), "[]");
  EXPECT_EQ(Filter(json, "$[2147483647]"), "[]");
  EXPECT_TRUE(PathFails(json, "$[2147483648]"));  // int.Parse overflows
  EXPECT_TRUE(PathFails(json, "$[-2147483649]"));
  EXPECT_TRUE(PathFails(json, "$[-]"));
  EXPECT_TRUE(PathFails(json, "$[1"));
  EXPECT_TRUE(PathFails(json, "$[1 ]"));
  EXPECT_EQ(Filter(R"({"0":1})", "$[0]"), "[]");  // indexes only apply to arrays
}

TEST(JPathTest, Unions) {
  const std::string_view json = R"([10,11,12])";
  EXPECT_EQ(Filter(json, "$[2,0]"), "[12,10]");
  EXPECT_EQ(Filter(json, "$[0,0,-1,7]"), "[10,10,12]");
  EXPECT_TRUE(PathFails(json, "$[0,]"));
  EXPECT_TRUE(PathFails(json, "$[0,'a']"));
  EXPECT_TRUE(PathFails(json, "$[0,1"));
  EXPECT_TRUE(PathFails(json, "$[0,1:2]"));
  EXPECT_TRUE(PathFails(json, "$[0,-]"));
  const std::string_view obj = R"({"a":1,"b":2,"c":null})";
  EXPECT_EQ(Filter(obj, "$['c','a','x','a']"), "[null,1,1]");
  EXPECT_TRUE(PathFails(obj, "$['a',0]"));
  EXPECT_TRUE(PathFails(obj, "$['a','b'"));
}

TEST(JPathTest, Slices) {
  const std::string_view json = "[0,1,2,3,4]";
  EXPECT_EQ(Filter(json, "$[1:3]"), "[1,2]");
  EXPECT_EQ(Filter(json, "$[:2]"), "[0,1]");
  EXPECT_EQ(Filter(json, "$[3:]"), "[3,4]");
  EXPECT_EQ(Filter(json, "$[:]"), "[0,1,2,3,4]");
  // An end of 0 counts from the end, like any end ≤ 0: [a:0] is [a:].
  EXPECT_EQ(Filter(json, "$[0:0]"), "[0,1,2,3,4]");
  EXPECT_EQ(Filter(json, "$[2:0]"), "[2,3,4]");
  EXPECT_EQ(Filter(json, "$[:-1]"), "[0,1,2,3]");
  EXPECT_EQ(Filter(json, "$[-2:-1]"), "[3]");
  EXPECT_EQ(Filter(json, "$[-9:2]"), "[0,1]");
  EXPECT_EQ(Filter(json, "$[1:99]"), "[1,2,3,4]");
  EXPECT_EQ(Filter(json, "$[3:1]"), "[]");
  EXPECT_EQ(Filter(json, "$[9:]"), "[]");
  EXPECT_EQ(Filter(json, "$[:-9]"), "[]");
  EXPECT_EQ(Filter(json, "$[2147483647:-2147483648]"), "[]");
  EXPECT_TRUE(PathFails(json, "$[1:2:1]"));
  EXPECT_TRUE(PathFails(json, "$[1:2"));
  EXPECT_TRUE(PathFails(json, "$[::]"));
  EXPECT_TRUE(PathFails(json, "$[1:-]"));
  EXPECT_EQ(Filter(R"({"a":1})", "$[0:]"), "[]");
}

TEST(JPathTest, Wildcards) {
  EXPECT_EQ(Filter(R"({"a":[1,2],"b":{"c":3},"d":null})", "$.*"), R"([[1,2],{"c":3},null])");
  EXPECT_EQ(Filter(R"({"a":[1,2],"b":{"c":3},"d":null})", "$[*]"), R"([[1,2],{"c":3},null])");
  EXPECT_EQ(Filter(R"([[1,2],{"c":3},7])", "$.*.*"), "[1,2,3]");
  EXPECT_EQ(Filter(R"([[1,2],{"c":3},7])", "$[*][*]"), "[1,2,3]");
  EXPECT_TRUE(PathFails("[]", "$[*"));
  EXPECT_TRUE(PathFails("[]", "$[*,0]"));
}

TEST(JPathTest, QuotedNamesAreJsonStringBodies) {
  const std::string_view json = R"({"a":1,"a b":2,"é":3,"q\"x":4,"\u0000":5,"":6,"😀":7})";
  EXPECT_EQ(Filter(json, "$['a']"), "[1]");
  EXPECT_EQ(Filter(json, "$['a b']"), "[2]");
  EXPECT_EQ(Filter(json, "$['é']"), "[3]");
  EXPECT_EQ(Filter(json, "$['\\u00e9']"), "[3]");
  EXPECT_EQ(Filter(json, "$['\\u0061']"), "[1]");
  EXPECT_EQ(Filter(json, "$['q\\\"x']"), "[4]");
  EXPECT_EQ(Filter(json, "$['\\u0000']"), "[5]");
  EXPECT_EQ(Filter(json, "$['']"), "[6]");
  EXPECT_EQ(Filter(json, "$['\\uD83D\\uDE00']"), "[7]");
  EXPECT_TRUE(PathFails(json, "$['q\"x']"));     // a raw quote ends the JSON string early
  EXPECT_TRUE(PathFails(json, "$['\\x']"));      // not a JSON escape
  EXPECT_TRUE(PathFails(json, "$['\\uD83D']"));  // a lone surrogate
  EXPECT_TRUE(PathFails(json, "$['a\tb']"));     // a raw control character
  EXPECT_TRUE(PathFails(json, "$['a"));          // unterminated
  EXPECT_TRUE(PathFails(json, "$['a\\'b']"));    // no escaping of the quote itself
  // Neo's Parse skips comments there too, so a comment can swallow the closing quote.
  EXPECT_EQ(Filter(json, "$['a\" //']"), "[1]");
  EXPECT_EQ(Filter(json, "$['a\" /* x */ //']"), "[1]");
  EXPECT_TRUE(PathFails(json, "$['a\" /* x */']"));  // `"a" /* x */"`: an unterminated string
}

TEST(JPathTest, RecursiveDescentIsBreadthFirst) {
  const std::string_view json = R"({"x":1,"a":{"x":2,"b":[{"x":3}]},"c":[{"x":4}],"d":{"x":{"x":5}}})";
  // Level 0 gives 1; level 1: 2 and {"x":5}; level 2: 4 and 5; level 3: 3. Not document order.
  EXPECT_EQ(Filter(json, "$..x"), R"([1,2,{"x":5},4,5,3])");
  EXPECT_EQ(Filter(json, "$.a..x"), "[2,3]");
  EXPECT_EQ(Filter(json, "$..x.x"), "[5]");
  EXPECT_TRUE(PathFails(json, "$..['x']"));
  EXPECT_TRUE(PathFails(json, "$..1"));
}

// ---- Neo's limits ----

TEST(JPathLimitsTest, SixDescentsAlongThePath) {
  const std::string_view json = R"({"a":{"a":{"a":{"a":{"a":{"a":{"a":1}}}}}}})";
  EXPECT_EQ(Filter(json, "$.a.a.a.a.a.a"), R"([{"a":1}])");
  EXPECT_TRUE(PathFails(json, "$.a.a.a.a.a.a.a"));
  // The budget is spent even when nothing is left to descend into.
  EXPECT_EQ(Filter("{}", "$.x.x.x.x.x.x"), "[]");
  EXPECT_TRUE(PathFails("{}", "$.x.x.x.x.x.x.x"));
  EXPECT_TRUE(PathFails("{}", "$[0][0][0][0][0][0][0]"));
  EXPECT_TRUE(PathFails("{}", "$[*][*][*][*][*][*][1:]"));
  // ..name spends one per level it walks: a value at depth 6 needs a 7th descent.
  EXPECT_EQ(Filter(R"({"a":{"a":{"a":{"a":{"a":1}}}}})", "$..a"),
            R"([{"a":{"a":{"a":{"a":1}}}},{"a":{"a":{"a":1}}},{"a":{"a":1}},{"a":1},1])");
  EXPECT_TRUE(PathFails(R"({"a":{"a":{"a":{"a":{"a":{"a":1}}}}}})", "$..a"));
}

std::string ArrayOf(int n, std::string_view item) {
  std::string out = "[";
  for (int i = 0; i < n; ++i) {
    if (i > 0) out += ",";
    out += item;
  }
  return out + "]";
}

TEST(JPathLimitsTest, AtMost1024ValuesPerStep) {
  EXPECT_EQ(Filter(ArrayOf(1024, "1"), "$[*]"), ArrayOf(1024, "1"));
  EXPECT_TRUE(PathFails(ArrayOf(1025, "1"), "$[*]"));
  EXPECT_TRUE(PathFails(ArrayOf(1025, "1"), "$[:]"));
  EXPECT_EQ(Filter(ArrayOf(512, "1"), "$[0:]"), ArrayOf(512, "1"));
  EXPECT_TRUE(PathFails(ArrayOf(513, "[1,2]"), "$[*][*]"));
  EXPECT_EQ(Filter(ArrayOf(512, "[1,2]"), "$[*][*]"), ArrayOf(512, "1,2"));
  EXPECT_EQ(Filter(ArrayOf(1, ArrayOf(100, "1")), "$[0][0,1,2,3,4,5,6,7,8,9,10]"), ArrayOf(11, "1"));
  EXPECT_TRUE(PathFails(ArrayOf(100, R"({"a":1})"), "$[*]['a','a','a','a','a','a','a','a','a','a','a']"));
}

TEST(JPathLimitsTest, RecursiveDescentCountsItsResultsToo) {
  // Each level holds at most 1024 values, but ..x collects 600 + 400 + n of them.
  const auto doc = [](int deepest) {
    const std::string x = R"({"x":1})";
    const std::string q3 = ArrayOf(deepest, x);
    std::string q2 = ArrayOf(400, x);
    q2.back() = ',';
    q2 += q3 + "]";
    return "[" + ArrayOf(600, x) + ",[" + q2 + "]]";
  };
  EXPECT_EQ(Filter(doc(24), "$..x"), ArrayOf(1024, "1"));
  EXPECT_TRUE(PathFails(doc(25), "$..x"));
}

// ---- Parsing as Neo's JToken.Parse ----

TEST(NeoJsonParseTest, NeoUtJObjectParse) {
  for (std::string_view bad :
       {"aaa", "hello world", "100.a", "100.+", R"("\s")", R"("a)", R"({"k1":"v1","k1":"v2"})", R"({"k1","k1"})",
        R"({"k1":"v1")", "\"\x01\"", R"({"color":"red","\uDBFF\u0DFFF":"#f00"})", R"({"color":"\uDBFF\u0DFFF"})",
        R"("\uDBFF\u0DFFF")"}) {
    EXPECT_TRUE(NotJson(bad)) << bad;
  }
  EXPECT_EQ(Reserialize("true"), "true");
  EXPECT_EQ(Reserialize("false"), "false");
  EXPECT_EQ(Reserialize("null"), "null");
  EXPECT_EQ(Reserialize(R"("hello world")"), R"("hello world")");
  EXPECT_EQ(Reserialize(R"("\"\\\/\b\f\n\r\t")"), R"("\u0022\\/\b\f\n\r\t")");
  EXPECT_EQ(Reserialize(R"("\u0030")"), R"("0")");
  EXPECT_EQ(Reserialize(R"({"k1":"v1"})"), R"({"k1":"v1"})");
}

TEST(NeoJsonParseTest, NeoUtJsonSerializer) {
  for (std::string_view bad :
       {"[    ]XXXXXXX", "{   }XXXXXXX", "[,,,,]",    "false,X",  "false@@@",  "[True,FALSE] ",   "[-]",
        "[1.]",          "[.123]",       "[--1.123]", "[+1.123]", "[1.12.3]",  "[e--1]",          "[e++1]",
        "[E- 1]",        "[3e--1]",      "[2e++1]",   "[1E- 1]",  R"(["])",    R"(["\uaaa"])",    R"(["\uaa"])",
        R"(["\ua"])",    R"(["\u"])",    R"({"a":})", "{NULL}",   R"(["a":])", R"({"a":1,"a":2})"}) {
    EXPECT_TRUE(NotJson(bad)) << bad;
  }
  EXPECT_TRUE(NotJson("{\"length\":" + std::string(974, '9') + "}"));  // beyond a double
  EXPECT_EQ(Reserialize("[    ]"), "[]");
  EXPECT_EQ(Reserialize(R"([1,"a==",    -1.3 ,null] )"), R"([1,"a==",-1.3,null])");
  EXPECT_EQ(Reserialize("[  true ,false ]"), "[true,false]");
  EXPECT_EQ(Reserialize("[  1, -2 , 3.5 ]"), "[1,-2,3.5]");
  EXPECT_EQ(Reserialize("[200.500000E+005,200.500000e+5,-1.1234e-100,9.05E+28,1e3,10e3,1000e-3]"),
            "[20050000,20050000,-1.1234E-100,9.05E+28,1000,10000,1]");
  EXPECT_EQ(Reserialize(R"( [""  ,  "\b\f\t\n\r\/\\" ])"), R"(["","\b\f\t\n\r/\\"])");
  EXPECT_EQ(Reserialize(R"(["\uD834\uDD1E"])"), R"(["\uD834\uDD1E"])");
  EXPECT_EQ(Reserialize(R"(["\\x00"])"), R"(["\\x00"])");
  EXPECT_EQ(Reserialize(R"( {"test":   true})"), R"({"test":true})");
  EXPECT_EQ(Reserialize(R"( {"\uAAAA":   true})"), R"({"\uAAAA":true})");
}

std::string Nested(int depth) {
  return std::string(static_cast<size_t>(depth), '[') + std::string(static_cast<size_t>(depth), ']');
}

TEST(NeoJsonParseTest, NestingUpTo64) {
  EXPECT_EQ(Reserialize(Nested(64)), Nested(64));
  EXPECT_TRUE(NotJson(Nested(65)));
  std::string objects;
  for (int i = 0; i < 63; ++i) objects += R"({"a":)";
  objects += "[]" + std::string(63, '}');
  EXPECT_EQ(Reserialize(objects), objects);  // 63 objects and an array: 64 levels
  EXPECT_TRUE(NotJson(R"({"a":)" + objects + "}"));
  EXPECT_TRUE(ParseNeoJson("[[1]]", 2).ok());
  EXPECT_FALSE(ParseNeoJson("[[1]]", 1).ok());
  EXPECT_FALSE(ParseNeoJson("1", -1).ok());
}

TEST(NeoJsonParseTest, CommentsAreSkippedTrailingCommasAreNot) {
  EXPECT_EQ(Filter("/* a */ {\"a\": // b\n 1 /* c */, \"d\":[2 /**/]} // e\n", "$"), R"([{"a":1,"d":[2]}])");
  EXPECT_EQ(Filter("[1] // to the end", "$"), "[[1]]");
  EXPECT_TRUE(NotJson("/* only a comment */"));
  EXPECT_TRUE(NotJson("[1] /* open"));
  EXPECT_TRUE(NotJson("[1] /*/"));
  EXPECT_TRUE(NotJson("[1] /* \xFF */"));  // Neo only ever parses text that is all UTF-8
  EXPECT_TRUE(NotJson("[1] // \xC0\x80"));
  EXPECT_EQ(Filter("[1 /*/ */,/**/2]", "$"), "[[1,2]]");
  // Utf8JsonReader ends a // comment at '\r' as well as '\n', and rejects U+2028/U+2029 in it.
  EXPECT_EQ(Filter("[1, // c\r 2]", "$"), "[[1,2]]");
  EXPECT_EQ(Filter("[1, // c\r\n 2] // \r", "$"), "[[1,2]]");
  EXPECT_EQ(Filter("[\"//\", \"/*\" // \"\r]", "$"), R"([["//","/*"]])");
  EXPECT_TRUE(NotJson("[1 // a\u2028 b\n]"));
  EXPECT_TRUE(NotJson("[1 // a\u2029 b\n]"));
  EXPECT_EQ(Filter("[1 /* a\u2028 b */]", "$"), "[[1]]");
  // It allows comments wherever whitespace goes, except between a property name and its colon.
  EXPECT_EQ(Filter(R"({ /**/ "a" : /**/ 1 /**/ , /**/ "b":2})", "$"), R"([{"a":1,"b":2}])");
  EXPECT_TRUE(NotJson(R"({"a"/**/:1})"));
  EXPECT_TRUE(NotJson("{\"a\" // c\n :1}"));
  EXPECT_TRUE(NotJson("[1] / 2"));
  EXPECT_TRUE(NotJson("[1,]"));
  EXPECT_TRUE(NotJson(R"({"a":1,})"));
}

TEST(NeoJsonParseTest, RejectsWhatUtf8JsonReaderRejects) {
  for (std::string_view bad : {"",
                               "   ",
                               "\xEF\xBB\xBF{}",
                               "{'a':1}",
                               "NaN",
                               "[Infinity]",
                               "01",
                               "0x10",
                               "[1 2]",
                               "{\"a\" 1}",
                               "\"\xFF\"",
                               "\"\xC0\x80\"",
                               "\"\xED\xA0\x80\"",
                               "\"\xF4\x90\x80\x80\"",
                               "\"\xE4\xB8\"",
                               R"("\uD800")",
                               R"("\uDC00")",
                               R"("\uD800\u0041")",
                               "\"a\tb\"",
                               "{\"a\":1}{}",
                               "[1]]",
                               "undefined"}) {
    EXPECT_TRUE(NotJson(bad)) << bad;
  }
}

TEST(NeoJsonParseTest, AcceptsWhatUtf8JsonReaderAccepts) {
  EXPECT_EQ(Reserialize("\"\x7F \xEF\xBF\xBF \xF0\x9F\x98\x80\""), R"("\u007F \uFFFF \uD83D\uDE00")");
  EXPECT_EQ(Reserialize(" \t\r\n[ -0.0e+00 , 1E-2 ,\"\\u0000\"] \n"), R"([-0,0.01,"\u0000"])");
  EXPECT_EQ(Reserialize("[1." + std::string(800, '1') + "]"), "[1.1111111111111112]");
  EXPECT_EQ(Reserialize(std::string(300, '1')), "1.1111111111111112E+299");
  EXPECT_TRUE(NotJson(std::string(400, '1')));
  EXPECT_EQ(Reserialize("0." + std::string(400, '0') + "1"), "0");
}

TEST(NeoJsonParseTest, DuplicateNamesAreAnErrorThatNamesNoInput) {
  StatusOr<boost::json::value> v = ParseNeoJson(R"({"outer":{"tok-42":1,"tok-42":2}})");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(v.status().message().find("tok-42"), std::string_view::npos);
  EXPECT_EQ(Reserialize(R"([{"a":1},{"a":2}])"), R"([{"a":1},{"a":2}])");
  EXPECT_EQ(Reserialize(R"({"b":1,"a":2,"c":3})"), R"({"b":1,"a":2,"c":3})");  // order kept
}

TEST(NeoJsonParseTest, EveryNumberIsADouble) {
  StatusOr<boost::json::value> v = ParseNeoJson("[1,-0,18446744073709551615,2.5]");
  ASSERT_TRUE(v.ok());
  const boost::json::array& a = v->get_array();
  for (const boost::json::value& item : a) EXPECT_TRUE(item.is_double());
  EXPECT_EQ(a[0].get_double(), 1.0);
  EXPECT_TRUE(std::signbit(a[1].get_double()));
  EXPECT_EQ(a[2].get_double(), 18446744073709551616.0);
}

// ---- Numbers as Neo writes them (JNumber: a double, Utf8JsonWriter.WriteNumberValue) ----

TEST(NeoNumberTest, ParsedAndWritten) {
  const std::vector<std::pair<std::string_view, std::string_view>> cases = {
      {"1", "1"},
      {"1.5", "1.5"},
      {"1e3", "1000"},
      {"1E3", "1000"},
      {"0.1", "0.1"},
      {"100", "100"},
      {"-2.5", "-2.5"},
      {"0", "0"},
      {"0e10", "0"},
      {"-0", "-0"},
      {"-0.0", "-0"},
      {"0.30000000000000004", "0.30000000000000004"},
      {"123456789012345678901234567890", "1.2345678901234568E+29"},
      {"12345678901234567890", "1.2345678901234567E+19"},
      {"18446744073709551615", "1.8446744073709552E+19"},
      {"-9223372036854775808", "-9.223372036854776E+18"},
      {"9007199254740993", "9007199254740992"},
      {"12345678901234567", "12345678901234568"},
      {"123456789012345678", "1.2345678901234568E+17"},
      {"1e15", "1000000000000000"},
      {"1e16", "10000000000000000"},
      {"1e17", "1E+17"},
      {"1e21", "1E+21"},
      {"0.0001", "0.0001"},
      {"0.00012345", "0.00012345"},
      {"0.00001", "1E-05"},
      {"1.5e-5", "1.5E-05"},
      {"123.456e-10", "1.23456E-08"},
      {"-1.1234e-100", "-1.1234E-100"},
      {"1.7976931348623157e308", "1.7976931348623157E+308"},
      {"2.2250738585072014e-308", "2.2250738585072014E-308"},
      {"5e-324", "5E-324"},
      {"4.9e-324", "5E-324"},
      {"2.4703282292062328e-324", "5E-324"},
      {"2.4703282292062327e-324", "0"},  // below half the smallest subnormal: underflow to 0
      {"1e-400", "0"},
      {"-1e-400", "-0"},
      // Exponents beyond an int saturate in .NET's Utf8Parser: 0, or infinity (an error).
      {"0.000001e-2147483647", "0"},
      {"1e-99999999999", "0"},
      {"-1E-2147483648", "-0"},
      {"0e99999999999", "0"},
      {"1e-0000000000005", "1E-05"},
      {"1e-999999999", "0"},
  };
  for (const auto& [text, neo] : cases) {
    EXPECT_EQ(Reserialize(text), neo) << text;
    EXPECT_EQ(Filter(std::string("[") + std::string(text) + "]", "$[0]"), "[" + std::string(neo) + "]") << text;
  }
  for (std::string_view overflow :
       {"1e400", "-1E400", "1.7976931348623159e308", "1e999999999", "1e2147483647", "1e99999999999"}) {
    EXPECT_TRUE(NotJson(overflow)) << overflow;
  }
}

TEST(NeoNumberTest, FormatNeoNumber) {
  EXPECT_EQ(FormatNeoNumber(0.0), "0");
  EXPECT_EQ(FormatNeoNumber(-0.0), "-0");
  EXPECT_EQ(FormatNeoNumber(8.95), "8.95");
  EXPECT_EQ(FormatNeoNumber(-60), "-60");
  EXPECT_EQ(FormatNeoNumber(1e100), "1E+100");
  EXPECT_EQ(FormatNeoNumber(9007199254740991.0), "9007199254740991");
  EXPECT_EQ(FormatNeoNumber(std::numeric_limits<double>::max()), "1.7976931348623157E+308");
  EXPECT_EQ(FormatNeoNumber(std::numeric_limits<double>::denorm_min()), "5E-324");
  EXPECT_EQ(FormatNeoNumber(0.000123), "0.000123");
  EXPECT_EQ(FormatNeoNumber(1.0 / 3), "0.3333333333333333");
}

TEST(NeoNumberTest, SerializeTakesAnyBoostNumberAsTheDoubleNeoWouldHold) {
  EXPECT_EQ(NeoJsonSerialize(boost::json::value(int64_t{-5})), "-5");
  EXPECT_EQ(NeoJsonSerialize(boost::json::value(int64_t{9007199254740993})), "9007199254740992");
  EXPECT_EQ(NeoJsonSerialize(boost::json::value(std::numeric_limits<uint64_t>::max())), "1.8446744073709552E+19");
  EXPECT_EQ(NeoJsonSerialize(boost::json::value(1e21)), "1E+21");
  EXPECT_EQ(NeoJsonSerialize(boost::json::value(std::nan(""))), "null");
  EXPECT_EQ(NeoJsonSerialize(boost::json::value(std::numeric_limits<double>::infinity())), "null");
}

// ---- Strings as Neo writes them (Utf8JsonWriter, JavaScriptEncoder.Default) ----

std::string SerializeString(std::string_view s) {
  return NeoJsonSerialize(boost::json::value(boost::json::string(s.data(), s.size())));
}

TEST(NeoStringTest, Escaping) {
  EXPECT_EQ(SerializeString("plain ASCII !#$%()*,-./:;=?@[]^_{|}~ 09 AZ az"),
            "\"plain ASCII !#$%()*,-./:;=?@[]^_{|}~ 09 AZ az\"");
  EXPECT_EQ(SerializeString("+"), R"("\u002B")");
  EXPECT_EQ(SerializeString("a+b/c="), R"("a\u002Bb/c=")");
  EXPECT_EQ(SerializeString("<>&'\"`"), R"("\u003C\u003E\u0026\u0027\u0022\u0060")");
  EXPECT_EQ(SerializeString("\\"), R"("\\")");
  EXPECT_EQ(SerializeString("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(SerializeString(std::string_view("\0\x01\x1F\x7F", 4)), R"("\u0000\u0001\u001F\u007F")");
  EXPECT_EQ(SerializeString("\x0B"), R"("\u000B")");
  EXPECT_EQ(SerializeString("é"), R"("\u00E9")");
  EXPECT_EQ(SerializeString("中文"), R"("\u4E2D\u6587")");
  EXPECT_EQ(SerializeString("\u2028\uFFFF"), R"("\u2028\uFFFF")");
  EXPECT_EQ(SerializeString("😀"), R"("\uD83D\uDE00")");
  EXPECT_EQ(SerializeString("\U0010FFFF"), R"("\uDBFF\uDFFF")");
  EXPECT_EQ(SerializeString("a\xFF"
                            "b\xC3"),
            R"("a\uFFFDb\uFFFD")");  // not UTF-8: U+FFFD per byte
}

TEST(NeoStringTest, NamesAreEscapedLikeValues) {
  EXPECT_EQ(Filter(R"({"a+b":"<é>","😀":"x"})", "$"), R"([{"a\u002Bb":"\u003C\u00E9\u003E","\uD83D\uDE00":"x"}])");
  EXPECT_EQ(Filter(R"({"k":"\u00e9\u002b\/"})", "$.k"), R"(["\u00E9\u002B/"])");
}

TEST(NeoJsonSerializeTest, CompactAndOrdered) {
  boost::json::object o;
  o["z"] = boost::json::array{true, false, nullptr};
  o["a"] = boost::json::object{{"n", 1.5}};
  o["e"] = boost::json::array{};
  o["o"] = boost::json::object{};
  EXPECT_EQ(NeoJsonSerialize(o), R"({"z":[true,false,null],"a":{"n":1.5},"e":[],"o":{}})");
}

}  // namespace
}  // namespace neosl::oracle
