// `neosl fn simulate`: a function file run locally with the service's runtime and limits.
#include <string>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/server_process.h"
#include "support/temp_dir.h"

namespace neosl::testing {
namespace {

using ::testing::HasSubstr;

boost::json::object LastJsonLine(const std::string& out) {
  const size_t start = out.rfind("\n{", out.size() > 2 ? out.size() - 2 : 0);
  boost::system::error_code ec;
  auto v = boost::json::parse(start == std::string::npos ? out : out.substr(start + 1), ec);
  return !ec && v.is_object() ? v.as_object() : boost::json::object{};
}

TEST(FnSimulateTest, RunsAFileWithSecretsAndReportsTheSignedOutcome) {
  TempDir dir;
  WriteFile(dir.File("fn.js"), R"js(
    export default async function (request, context) {
      console.log('args', request.args);
      return { token: context.secrets.get('TOKEN').toUpperCase(), n: request.args.n * 2 };
    })js");
  auto r = RunNeosl({"fn", "simulate", dir.File("fn.js"), "--args", R"({"n":21})", "--secret", "TOKEN=abc"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto o = LastJsonLine(r.out);
  EXPECT_EQ(o["status"].as_string(), "succeeded") << r.out;
  EXPECT_EQ(boost::json::serialize(o["result"]), R"({"token":"ABC","n":42})");
  EXPECT_EQ(o["logs"].at(0).at("message").as_string(), R"(args {"n":21})");
  EXPECT_EQ(o["enclave_signature"].as_string().size(), 128u);
  EXPECT_TRUE(o["simulated"].as_bool());
}

TEST(FnSimulateTest, AFailingFunctionExitsOneWithTheError) {
  TempDir dir;
  WriteFile(dir.File("busy.js"), "export default () => { for (;;) {} };");
  auto r = RunNeosl({"fn", "simulate", dir.File("busy.js"), "--timeout-ms", "200"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto o = LastJsonLine(r.out);
  EXPECT_EQ(o["error"].at("code").as_string(), "DEADLINE_EXCEEDED") << r.out;
  WriteFile(dir.File("syntax.js"), "export default () => {\n  return 1 +;\n};");
  r = RunNeosl({"fn", "simulate", dir.File("syntax.js")});
  EXPECT_EQ(r.exit_code, 1);
  o = LastJsonLine(r.out);
  EXPECT_EQ(o["error"].at("code").as_string(), "INVALID_ARGUMENT");
  EXPECT_EQ(o["error"].at("line").as_int64(), 2);
}

TEST(FnSimulateTest, BadInvocationsAreRefusedBeforeRunning) {
  TempDir dir;
  WriteFile(dir.File("fn.js"), "export default () => 1;");
  auto r = RunNeosl({"fn", "simulate", dir.File("fn.js"), "--args", "{not json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--args is not JSON"));
  r = RunNeosl({"fn", "simulate", dir.File("fn.js"), "--timeout-ms", "60000"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("timeout_ms"));
  r = RunNeosl({"fn", "simulate", dir.File("missing.js")});
  EXPECT_EQ(r.exit_code, 2);
  r = RunNeosl({"fn", "simulate", dir.File("fn.js"), "--secret", "novalue"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("NAME=VALUE"));
}

}  // namespace
}  // namespace neosl::testing
