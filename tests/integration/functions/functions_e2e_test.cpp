// Functions end to end through `neosl serve`: REST, the mesh, the secrets service, the runtime's
// sandboxed workers and the enclave's proof — a developer's whole path, and every limit and
// escape attempt of issue #8 as a developer would meet it.
#include <string>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "crypto/p256.h"
#include "integration/fixture.h"
#include "integration/gateway_ws_fixture.h"
#include "runtime/runner.h"
#include "unit/net/test_server.h"

namespace neosl::testing {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

class FunctionsE2eTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerOptions options;
    // The test's own HTTP server on loopback is allow-listed; nothing else private is.
    options.env = {{"NEOSL_NET_ALLOW_PRIVATE", "127.0.0.1/32"}, {"NEOSL_FUNCTIONS_WORKERS", "2"}};
    StartServer(options);
  }

  HttpResult Send(const std::string& method, const std::string& path, const std::string& body = "") {
    return client_->Request(method, path, body,
                            {{"authorization", "Bearer " + admin_}, {"content-type", "application/json"}});
  }

  // Creates a function; its id, or "" with a test failure.
  std::string Create(const std::string& name, const std::string& source, const json::object& extra = {}) {
    json::object body = extra;
    body["name"] = name;
    body["source"] = source;
    auto r = Send("POST", "/v1/functions", json::serialize(body));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? std::string(Json(r).at("id").as_string()) : "";
  }

  json::object Invoke(const std::string& id, const std::string& args = "null") {
    auto r = Send("POST", "/v1/functions/" + id + "/invoke", R"({"args":)" + args + "}");
    EXPECT_EQ(r.status, 200) << r.body;
    auto v = Json(r);
    return v.is_object() ? v.as_object() : json::object{};
  }

  static std::string Code(const json::object& execution) {
    const auto* e = execution.if_contains("error");
    return e && e->is_object() && e->as_object().contains("code") ? std::string(e->at("code").as_string()) : "";
  }
};

TEST_F(FunctionsE2eTest, ADeveloperDeploysInvokesAndVerifies) {
  ASSERT_EQ(Send("PUT", "/v1/secrets/API_KEY", R"({"value":"sk-live-123"})").status, 200);
  const std::string id = Create("quote", R"js(
    export default async function (request, context) {
      console.log('quoting', request.args.symbol);
      const key = context.secrets.get('API_KEY');
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key)));
      return { symbol: request.args.symbol, keyLength: key.length, digestByte: digest[0] };
    })js",
                                json::object{{"secrets", json::array{"API_KEY"}}});
  ASSERT_FALSE(id.empty());
  // GET /v1/secrets shows who may read the secret.
  auto secrets = Json(Send("GET", "/v1/secrets"));
  EXPECT_EQ(secrets.at("secrets").at(0).at("functions").at(0).as_string(), id);

  auto ex = Invoke(id, R"({"symbol":"NEO"})");
  ASSERT_EQ(ex["status"].as_string(), "succeeded") << json::serialize(ex);
  EXPECT_EQ(ex["result"].at("symbol").as_string(), "NEO");
  EXPECT_EQ(ex["result"].at("keyLength").as_int64(), 11);
  ASSERT_EQ(ex["logs"].as_array().size(), 1u);
  EXPECT_EQ(ex["logs"].at(0).at("message").as_string(), "quoting NEO");
  EXPECT_THAT(json::serialize(ex), ::testing::Not(HasSubstr("sk-live-123")));  // the value never comes back

  // The proof: the attested report key signed (function, version, source, args, result).
  auto att = Json(client_->Get("/v1/attestation?nonce=" + std::string(64, 'a'), admin_));
  const std::string report_hex(att.at("public_keys").at("report").as_string());
  EXPECT_EQ(ex["signing_key"].as_string(), report_hex);
  auto key = crypto::PublicKey::FromBytes(*HexDecode(report_hex));
  ASSERT_TRUE(key.ok());
  std::array<uint8_t, 32> source_hash{}, args_hash{}, result_hash{};
  auto copy = [](const json::value& hex, std::array<uint8_t, 32>* out) {
    auto b = HexDecode(std::string(hex.as_string()));
    ASSERT_TRUE(b && b->size() == 32);
    std::copy(b->begin(), b->end(), out->begin());
  };
  copy(ex["source_hash"], &source_hash);
  copy(ex["args_hash"], &args_hash);
  copy(ex["result_hash"], &result_hash);
  const std::string result_json(ex["result_json"].as_string());
  auto recomputed = crypto::Sha256(std::span(reinterpret_cast<const uint8_t*>(result_json.data()), result_json.size()));
  EXPECT_TRUE(std::equal(recomputed.begin(), recomputed.end(), result_hash.begin()));
  auto sig_bytes = HexDecode(std::string(ex["enclave_signature"].as_string()));
  ASSERT_TRUE(sig_bytes && sig_bytes->size() == 64);
  crypto::Signature sig{};
  std::copy(sig_bytes->begin(), sig_bytes->end(), sig.begin());
  EXPECT_TRUE(key->Verify(runtime::ResultSigningMessage(id, 1, source_hash, args_hash, result_hash), sig));
  // … and `neosl fn verify` agrees.
  auto v = RunNeosl({"fn", "verify", "--execution-id", std::string(ex["id"].as_string()), "--allow-simulation", "--url",
                     "http://" + server_->address(), "--key", admin_});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_THAT(v.out, HasSubstr("\"verified\":true"));

  // Executions are kept and listed.
  auto listed = Json(Send("GET", "/v1/functions/" + id + "/executions"));
  EXPECT_EQ(listed.at("executions").as_array().size(), 1u);
  EXPECT_EQ(Send("GET", "/v1/executions/" + std::string(ex["id"].as_string())).status, 200);

  // Deleting the function revokes its grant (the secrets audit says so).
  ASSERT_EQ(Send("DELETE", "/v1/functions/" + id).status, 200);
  auto audit = Json(Send("GET", "/v1/secrets/audit"));
  std::vector<std::string> actions;
  for (const auto& e : audit.at("entries").as_array()) actions.emplace_back(e.at("action").as_string());
  EXPECT_THAT(actions, ::testing::ElementsAre("create", "grant", "read", "revoke"));
}

TEST_F(FunctionsE2eTest, ASyntaxErrorIsRefusedAtDeployWithItsPlace) {
  auto r =
      Send("POST", "/v1/functions", R"({"name":"broken","source":"export default function () {\n  return 1 +;\n}"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_THAT(r.body, HasSubstr("function.js:2:"));
  r = Send("POST", "/v1/functions", R"({"name":"imports","source":"import fs from 'fs';\nexport default () => 1;"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_THAT(r.body, HasSubstr("imports are not available"));
}

TEST_F(FunctionsE2eTest, LimitsAndEscapesFailTheExecutionNotTheService) {
  struct Case {
    const char* name;
    const char* source;
    const char* code;  // the execution's error code
    const char* limits;
  };
  const Case cases[] = {
      {"busy", "export default () => { for (;;) {} };", "DEADLINE_EXCEEDED", R"({"timeout_ms":300})"},
      {"bomb", "export default () => { const a = []; for (;;) a.push(new Uint8Array(1 << 20).fill(1)); };",
       "RESOURCE_EXHAUSTED", R"({"memory_mb":32})"},
      {"pending", "export default async () => { await new Promise(() => {}); };", "FAILED_PRECONDITION", nullptr},
      {"require", "export default () => require('fs');", "UNKNOWN", nullptr},
      {"process", "export default () => process.env;", "UNKNOWN", nullptr},
      {"eval", "export default () => eval('1');", "UNKNOWN", nullptr},
      {"ctor", "export default () => (() => 0).constructor('return globalThis')();", "UNKNOWN", nullptr},
      {"dynimport", "export default async () => (await import('fs')).readFileSync;", "UNKNOWN", nullptr},
      {"throws", "export default () => { throw new RangeError('nope'); };", "UNKNOWN", nullptr},
  };
  for (const auto& c : cases) {
    json::object extra;
    if (c.limits) extra["limits"] = json::parse(c.limits);
    const std::string id = Create(c.name, c.source, extra);
    ASSERT_FALSE(id.empty()) << c.name;
    auto ex = Invoke(id);
    EXPECT_EQ(ex["status"].as_string(), "failed") << c.name << ": " << json::serialize(ex);
    EXPECT_EQ(Code(ex), c.code) << c.name << ": " << json::serialize(ex);
    EXPECT_FALSE(ex["enclave_signature"].as_string().empty()) << c.name;  // failures are signed too
  }
  // Prototype pollution does not outlive its invocation.
  const std::string polluter =
      Create("polluter", "export default (r) => { Object.prototype.owned = r.args; return ({}).owned; };");
  EXPECT_EQ(Invoke(polluter, "\"yes\"")["result"].as_string(), "yes");
  const std::string checker = Create("checker", "export default () => ({}).owned === undefined;");
  EXPECT_TRUE(Invoke(checker)["result"].as_bool());
}

TEST_F(FunctionsE2eTest, FetchReachesAllowListedHostsAndNothingPrivateElse) {
  net::testing::TestServer upstream([](const net::testing::ReceivedRequest& req) {
    return net::testing::Respond(200, "OK", R"({"price":"42.5","path":")" + req.target + R"("})",
                                 {{"Content-Type", "application/json"}});
  });
  const std::string source = R"js(
    export default async function (request) {
      const out = {};
      for (const url of request.args) {
        try { const r = await fetch(url); out[url] = r.status + ' ' + (await r.json()).price; }
        catch (e) { out[url] = e.code; }
      }
      return out;
    })js";
  const std::string id = Create("fetcher", source);
  const std::string allowed = upstream.Url("/quote");
  json::array urls{json::value(allowed), "http://127.0.0.2:9/", "http://10.0.0.1/", "http://169.254.169.254/latest",
                   "file:///etc/passwd"};
  auto ex = Invoke(id, json::serialize(urls));
  ASSERT_EQ(ex["status"].as_string(), "succeeded") << json::serialize(ex);
  auto result = ex["result"].as_object();
  EXPECT_EQ(result[allowed].as_string(), "200 42.5");
  EXPECT_EQ(result["http://127.0.0.2:9/"].as_string(), "PERMISSION_DENIED");
  EXPECT_EQ(result["http://10.0.0.1/"].as_string(), "PERMISSION_DENIED");
  EXPECT_EQ(result["http://169.254.169.254/latest"].as_string(), "PERMISSION_DENIED");
  EXPECT_EQ(result["file:///etc/passwd"].as_string(), "INVALID_ARGUMENT");
  ASSERT_EQ(upstream.requests().size(), 1u);
  EXPECT_EQ(upstream.requests()[0].target, "/quote");
}

TEST_F(FunctionsE2eTest, LogsStreamLiveOverTheWebSocket) {
  const std::string id = Create("chatty", R"js(
    export default async function (request) {
      for (let i = 0; i < request.args; i++) console.log('line', i);
      console.error('done');
      return request.args;
    })js");
  using gateway::ws_test::WsClient;
  auto ws = WsClient::Connect(server_->address(), WsClient::Options{.authorization = "Bearer " + admin_});
  ASSERT_NE(ws, nullptr);
  ws->SendText(R"({"op":"subscribe","id":"logs","channel":"function_logs","params":{"function_id":")" + id + R"("}})");
  ASSERT_TRUE(ws->ReadUntil("subscribed", "logs"));
  auto ex = Invoke(id, "3");
  ASSERT_EQ(ex["status"].as_string(), "succeeded") << json::serialize(ex);
  std::vector<std::string> lines;
  while (lines.size() < 4) {
    auto m = ws->ReadUntil("event", "logs");
    ASSERT_TRUE(m);
    const auto& data = m->at("data").as_object();
    EXPECT_EQ(data.at("execution_id").as_string(), ex["id"].as_string());
    lines.push_back(std::string(data.at("level").as_string()) + ":" + std::string(data.at("message").as_string()));
  }
  EXPECT_THAT(lines, ::testing::ElementsAre("log:line 0", "log:line 1", "log:line 2", "error:done"));
  // Another account's function is not yours to watch.
  ws->SendText(
      R"({"op":"subscribe","id":"x","channel":"function_logs","params":{"function_id":"fn_aaaaaaaaaaaaaaaaaaaa"}})");
  auto err = ws->ReadUntil("error", "x");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->at("error").at("code").as_string(), "NOT_FOUND");
}

}  // namespace
}  // namespace neosl::testing
