// The functions REST API through a real `neosl serve` that runs no JavaScript runtime (it has
// none yet): the routes exist, check roles and bodies, and answer 503 "functions runtime not
// running"; the OpenAPI document describes them; `neosl fn` reports the server's errors.
#include <string>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/fixture.h"

namespace neosl::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kFunctionId[] = "fn_aaaaaaaaaaaaaaaaaaaa";

class FunctionsRestTest : public ServerTest {
 protected:
  // A server that runs no functions (functions.enabled false): the routes answer 503.
  static ServerOptions NoRuntime() {
    ServerOptions options;
    options.env = {{"NEOSL_FUNCTIONS_ENABLED", "false"}};
    return options;
  }

 protected:
  std::string Message(const HttpResult& r) {
    auto v = Json(r);
    if (!v.is_object() || !v.as_object().contains("error")) return r.body;
    return std::string(v.at("error").at("message").as_string());
  }
};

TEST_F(FunctionsRestTest, RoutesAnswerUnavailableWithoutARuntime) {
  // The stand-in service answers UNAVAILABLE, which the gateway's mesh client counts against the
  // instance: by default its circuit opens after 5 such answers ("circuit open", still 503).
  // Here every answer is the service's own.
  ServerOptions options;
  options.env = {{"NEOSL_MESH_CLIENT_BREAKER_FAILURES", "1000"},
                 {"NEOSL_MESH_CLIENT_MAX_ATTEMPTS", "1"},
                 {"NEOSL_FUNCTIONS_ENABLED", "false"}};
  StartServer(options);
  std::string acc = CreateAccount("dev");
  auto [id, developer] = CreateKey(acc, "[\"developer\"]");
  const std::string create =
      R"({"name":"hello","source":"export default async function () { return 1; }","secrets":["a"],)"
      R"("limits":{"timeout_ms":1000,"memory_mb":64},"description":"d"})";
  struct Case {
    std::string method, target, body;
  };
  for (const Case& c :
       {Case{"POST", "/v1/functions", create}, Case{"GET", "/v1/functions", ""},
        Case{"GET", "/v1/functions?limit=10", ""},
        Case{"GET", std::string("/v1/functions/") + kFunctionId + "?version=1", ""},
        Case{"PUT", std::string("/v1/functions/") + kFunctionId, R"({"secrets":[]})"},
        Case{"DELETE", std::string("/v1/functions/") + kFunctionId, ""},
        Case{"POST", std::string("/v1/functions/") + kFunctionId + "/invoke", R"({"args":{"x":[1,2.5]}})"},
        Case{"POST", std::string("/v1/functions/") + kFunctionId + "/invoke", ""},
        Case{"GET", std::string("/v1/functions/") + kFunctionId + "/executions", ""},
        Case{"GET", "/v1/executions/ex_aaaaaaaaaaaaaaaaaaaa", ""}}) {
    auto r = client_->Request(c.method, c.target, c.body, {{"Authorization", "Bearer " + developer}});
    EXPECT_EQ(r.status, 503) << c.method << " " << c.target << ": " << r.body;
    EXPECT_EQ(ErrorCode(r), "UNAVAILABLE") << c.target;
    EXPECT_THAT(Message(r), HasSubstr("functions runtime not running")) << c.target;
  }
}

TEST_F(FunctionsRestTest, RolesAndBodiesAreCheckedFirst) {
  StartServer(NoRuntime());
  std::string acc = CreateAccount("roles");
  auto [vid, viewer] = CreateKey(acc, "[\"viewer\"]");
  auto [iid, invoker] = CreateKey(acc, "[\"invoker\"]");
  auto [did, developer] = CreateKey(acc, "[\"developer\"]");
  const std::string fn = std::string("/v1/functions/") + kFunctionId;

  EXPECT_EQ(client_->Get("/v1/functions").status, 401);
  EXPECT_EQ(client_->Get("/v1/functions", viewer).status, 503);  // viewers read
  EXPECT_EQ(client_->Post("/v1/functions", R"({"name":"x","source":"s"})", viewer).status, 403);
  EXPECT_EQ(client_->Post("/v1/functions", R"({"name":"x","source":"s"})", invoker).status, 403);
  EXPECT_EQ(client_->Post(fn + "/invoke", "{}", viewer).status, 403);
  EXPECT_EQ(client_->Post(fn + "/invoke", "{}", invoker).status, 503);  // invokers invoke
  EXPECT_EQ(client_->Delete(fn, invoker).status, 403);

  // Bodies are strict, before anything reaches the service.
  auto typo = client_->Post("/v1/functions", R"({"nmae":"x","source":"s"})", developer);
  EXPECT_EQ(typo.status, 400) << typo.body;
  auto bad_name = client_->Post("/v1/functions", R"({"name":"a b","source":"s"})", developer);
  EXPECT_EQ(bad_name.status, 400) << bad_name.body;
  auto limits = client_->Post("/v1/functions", R"({"name":"x","source":"s","limits":{"timeout_ms":5}})", developer);
  EXPECT_EQ(limits.status, 400) << limits.body;
  auto args_typo = client_->Post(fn + "/invoke", R"({"arg":1})", developer);
  EXPECT_EQ(args_typo.status, 400) << args_typo.body;
  EXPECT_THAT(args_typo.body, HasSubstr("arg"));
  auto twice = client_->Post(fn + "/invoke", R"({"args":1,"args":2})", developer);
  EXPECT_EQ(twice.status, 400) << twice.body;
  auto not_json = client_->Post(fn + "/invoke", R"({"args":)", developer);
  EXPECT_EQ(not_json.status, 400) << not_json.body;
}

TEST_F(FunctionsRestTest, OpenApiDescribesTheFunctionsRoutes) {
  StartServer(NoRuntime());
  auto r = client_->Get("/v1/openapi.json");
  ASSERT_EQ(r.status, 200);
  auto doc = Json(r);
  const auto& paths = doc.at("paths").as_object();
  struct Op {
    std::string path, method, operation, role;
  };
  for (const Op& op :
       {Op{"/v1/functions", "post", "CreateFunction", "developer"},
        Op{"/v1/functions", "get", "ListFunctions", "viewer"}, Op{"/v1/functions/{id}", "get", "GetFunction", "viewer"},
        Op{"/v1/functions/{id}", "put", "UpdateFunction", "developer"},
        Op{"/v1/functions/{id}", "delete", "DeleteFunction", "developer"},
        Op{"/v1/functions/{id}/invoke", "post", "InvokeFunction", "invoker"},
        Op{"/v1/functions/{id}/executions", "get", "ListExecutions", "viewer"},
        Op{"/v1/executions/{id}", "get", "GetExecution", "viewer"}}) {
    ASSERT_TRUE(paths.contains(op.path)) << op.path;
    const auto& path = paths.at(op.path).as_object();
    ASSERT_TRUE(path.contains(op.method)) << op.path << " " << op.method;
    EXPECT_EQ(path.at(op.method).at("operationId").as_string(), op.operation);
    EXPECT_EQ(path.at(op.method).at("x-required-role").as_string(), op.role);
  }
  std::string text = r.body;
  EXPECT_THAT(text, HasSubstr("enclave_signature"));
  EXPECT_THAT(text, HasSubstr("request.args"));
  EXPECT_THAT(text, HasSubstr("source_hash"));
  auto responses = paths.at("/v1/functions").at("post").at("responses").as_object();
  EXPECT_TRUE(responses.contains("201"));
}

TEST_F(FunctionsRestTest, TheCliReportsTheServersErrors) {
  StartServer(NoRuntime());
  WriteFile(server_->data_dir() + "/f.js", "export default async function () { return 1; }\n");
  auto r = RunNeosl({"fn", "create", "hello", "--file", server_->data_dir() + "/f.js", "--secrets", "a,b", "--url",
                     "http://" + server_->address(), "--key", admin_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("neosl fn create: UNAVAILABLE"));
  EXPECT_THAT(r.err, HasSubstr("functions runtime not running"));
  EXPECT_EQ(r.out, "");

  r = RunNeosl(
      {"fn", "invoke", kFunctionId, "--args", "{not json", "--url", "http://" + server_->address(), "--key", admin_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--args is not JSON"));

  r = RunNeosl({"fn", "list"}, {{"NEOSL_URL", "http://" + server_->address()}, {"NEOSL_API_KEY", admin_}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("neosl fn list: UNAVAILABLE"));

  for (const char* cmd : {"create", "update", "list", "get", "delete", "invoke", "executions", "execution", "verify"}) {
    auto help = RunNeosl({"fn", cmd, "--help"});
    EXPECT_EQ(help.exit_code, 0) << cmd;
    EXPECT_THAT(help.out, HasSubstr("--url")) << cmd;
  }
  EXPECT_EQ(RunNeosl({"fn", "--help"}).exit_code, 0);
  EXPECT_NE(RunNeosl({"fn"}).exit_code, 0);
}

}  // namespace
}  // namespace neosl::testing
