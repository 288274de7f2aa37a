// The HTTP front door through the real server: limits, timeouts, keep-alive, pipelining,
// rate limits, metrics, OpenAPI, graceful drain, restart.
#include <set>
#include <signal.h>
#include <thread>

#include "integration/fixture.h"

namespace neosl::testing {
namespace {

using namespace std::chrono_literals;

class GatewayHttpTest : public ServerTest {};

TEST_F(GatewayHttpTest, HealthReadyAndTraceHeaders) {
  StartServer();
  auto h = client_->Get("/v1/health");
  ASSERT_EQ(h.status, 200);
  EXPECT_EQ(Json(h).at("status").as_string(), "ok");
  EXPECT_EQ(h.Header("x-trace-id").size(), 32u);
  auto r = client_->Get("/v1/ready");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).at("checks").at("store").as_string(), "ok");
  // An incoming W3C traceparent is continued, not replaced.
  auto t = client_->Request("GET", "/v1/health", "",
                            {{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}});
  EXPECT_EQ(t.Header("x-trace-id"), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(t.Header("traceparent").substr(0, 36), "00-4bf92f3577b34da6a3ce929d0e0e4736-");
  EXPECT_NE(server_->Logs().find("\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\""), std::string::npos);
}

TEST_F(GatewayHttpTest, UnknownRouteIs404AndWrongMethodIs405) {
  StartServer();
  auto nf = client_->Get("/v1/nothing-here");
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(ErrorCode(nf), "NOT_FOUND");
  auto wm = client_->Request("DELETE", "/v1/health");
  EXPECT_EQ(wm.status, 405);
  EXPECT_EQ(wm.Header("allow"), "GET");
  auto err = Json(wm).at("error");
  EXPECT_TRUE(err.at("message").is_string());
  EXPECT_TRUE(err.at("details").is_array());
}

TEST_F(GatewayHttpTest, BodyOverTheLimitIs413) {
  StartServer({.env = {{"NEOSL_GATEWAY_MAX_BODY_BYTES", "1024"}}});
  std::string big = "{\"name\":\"" + std::string(2000, 'a') + "\"}";
  auto r = client_->Post("/v1/accounts", big, admin_);
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(ErrorCode(r), "RESOURCE_EXHAUSTED");
  // Just under the limit reaches validation instead (name too long → 400).
  std::string under = "{\"name\":\"" + std::string(900, 'a') + "\"}";
  EXPECT_EQ(client_->Post("/v1/accounts", under, admin_).status, 400);
}

TEST_F(GatewayHttpTest, DefaultBodyLimitIsOneMebibyte) {
  StartServer();
  std::string big = "{\"name\":\"" + std::string((1 << 20) + 10, 'a') + "\"}";
  auto r = client_->Post("/v1/accounts", big, admin_);
  EXPECT_EQ(r.status, 413);
}

TEST_F(GatewayHttpTest, OversizedHeadIs431) {
  StartServer({.env = {{"NEOSL_GATEWAY_MAX_HEADER_BYTES", "2048"}}});
  auto r = client_->Request("GET", "/v1/health", "", {{"x-padding", std::string(4096, 'x')}});
  EXPECT_EQ(r.status, 431);
}

TEST_F(GatewayHttpTest, KeepAliveReusesOneConnection) {
  StartServer();
  for (int i = 0; i < 20; ++i) ASSERT_EQ(client_->Get("/v1/health").status, 200);
  EXPECT_EQ(client_->connections_opened(), 1);
}

TEST_F(GatewayHttpTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  RawConnection conn(server_->address());
  ASSERT_TRUE(conn.connected());
  std::string auth = "Authorization: Bearer " + admin_ + "\r\n";
  std::string body = "{\"name\":\"pipelined\"}";
  std::string batch =
      "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /v1/accounts HTTP/1.1\r\nHost: x\r\n" +
      auth + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body +
      "GET /v1/nope HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /v1/accounts/me HTTP/1.1\r\nHost: x\r\n" +
      auth + "\r\n";
  ASSERT_TRUE(conn.Send(batch));
  auto a = conn.ReadResponse();
  auto b = conn.ReadResponse();
  auto c = conn.ReadResponse();
  auto d = conn.ReadResponse();
  EXPECT_EQ(a.status, 200);
  EXPECT_NE(a.body.find("\"status\":\"ok\""), std::string::npos);
  EXPECT_EQ(b.status, 201);
  EXPECT_NE(b.body.find("pipelined"), std::string::npos);
  EXPECT_EQ(c.status, 404);
  EXPECT_EQ(d.status, 200);
  EXPECT_NE(d.body.find("\"admin\""), std::string::npos);
}

TEST_F(GatewayHttpTest, MalformedRequestIs400AndClosed) {
  StartServer();
  RawConnection conn(server_->address());
  ASSERT_TRUE(conn.Send("THIS IS NOT HTTP\r\n\r\n"));
  auto r = conn.ReadResponse();
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(conn.WaitForClose(5s));
}

TEST_F(GatewayHttpTest, IdleAndHeaderTimeoutsCloseConnections) {
  StartServer({.env = {{"NEOSL_GATEWAY_IDLE_TIMEOUT_MS", "300"}, {"NEOSL_GATEWAY_HEADER_TIMEOUT_MS", "300"}}});
  RawConnection idle(server_->address());
  ASSERT_TRUE(idle.connected());
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(idle.WaitForClose(10s));  // closed by the server, well before our own deadline
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);

  RawConnection slow(server_->address());
  ASSERT_TRUE(slow.Send("GET /v1/health HTTP/1.1\r\nHost: x\r\n"));  // head never finished
  EXPECT_TRUE(slow.WaitForClose(10s));
  // The server is still healthy for everyone else.
  EXPECT_EQ(client_->Get("/v1/health").status, 200);
}

TEST_F(GatewayHttpTest, PerCallerRateLimitAnswers429WithRetryAfter) {
  StartServer({.env = {{"NEOSL_RATE_LIMITS_PER_CALLER_DEFAULT_REQUESTS_PER_SECOND", "1"},
                       {"NEOSL_RATE_LIMITS_PER_CALLER_DEFAULT_BURST", "3"}}});
  // A second key, made before the admin key's bucket runs dry (this takes 2 of its 3 tokens).
  std::string acc = CreateAccount("other");
  auto [other_id, other] = CreateKey(acc, "[\"viewer\"]");
  int ok = 0, limited = 0;
  HttpResult last;
  for (int i = 0; i < 8; ++i) {
    auto r = client_->Get("/v1/accounts/me", admin_);
    if (r.status == 200) ++ok;
    if (r.status == 429) {
      ++limited;
      last = r;
    }
  }
  // One token left of a burst of 3 at 1/s; the 8 requests take far less than 5 s.
  EXPECT_GE(ok, 1);
  EXPECT_LE(ok, 4);
  EXPECT_EQ(ok + limited, 8);
  ASSERT_GT(limited, 0);
  EXPECT_EQ(ErrorCode(last), "RESOURCE_EXHAUSTED");
  EXPECT_GE(std::stoi(last.Header("retry-after")), 1);
  auto detail = Json(last).at("error").at("details").at(0);
  EXPECT_EQ(detail.at("type").as_string(), "RetryInfo");
  EXPECT_EQ(detail.at("scope").as_string(), "per_caller");
  // Another key has its own bucket.
  EXPECT_EQ(client_->Get("/v1/accounts/me", other).status, 200);
  auto metrics = client_->Get("/metrics");
  EXPECT_NE(metrics.body.find("neosl_rate_limited_total{scope=\"per_caller\"}"), std::string::npos);
}

TEST_F(GatewayHttpTest, PerMethodAndGlobalLimitsFromTheConfigFile) {
  StartServer({.config_yaml = "rate_limits:\n"
                              "  per_method:\n"
                              "    GetHealth:\n"
                              "      requests_per_second: 1\n"
                              "      burst: 2\n"});
  int limited = 0;
  for (int i = 0; i < 6; ++i) limited += client_->Get("/v1/health").status == 429;
  EXPECT_GE(limited, 3);
  // Other operations are not limited by GetHealth's bucket.
  EXPECT_EQ(client_->Get("/v1/ready").status, 200);
}

TEST_F(GatewayHttpTest, FailedAuthenticationIsLimitedPerAddress) {
  StartServer({.env = {{"NEOSL_RATE_LIMITS_PER_CALLER_ANONYMOUS_REQUESTS_PER_SECOND", "1"},
                       {"NEOSL_RATE_LIMITS_PER_CALLER_ANONYMOUS_BURST", "2"}}});
  std::set<int> statuses;
  for (int i = 0; i < 6; ++i) statuses.insert(client_->Get("/v1/accounts/me", "nsl_bogus").status);
  EXPECT_TRUE(statuses.count(401));
  EXPECT_TRUE(statuses.count(429));
  // A valid key is not held back by the guessing of others.
  EXPECT_EQ(client_->Get("/v1/accounts/me", admin_).status, 200);
}

TEST_F(GatewayHttpTest, MetricsCountRequestsByRouteAndCode) {
  StartServer();
  for (int i = 0; i < 3; ++i) client_->Get("/v1/accounts/me", admin_);
  client_->Get("/v1/accounts/me");
  client_->Get("/nope");
  auto m = client_->Get("/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.Header("content-type").rfind("text/plain; version=0.0.4", 0), 0u);
  EXPECT_NE(m.body.find("neosl_http_requests_total{route=\"GetMe\",code=\"200\"} 3\n"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("neosl_http_requests_total{route=\"GetMe\",code=\"401\"} 1\n"), std::string::npos);
  EXPECT_NE(m.body.find("neosl_http_requests_total{route=\"unmatched\",code=\"404\"} 1\n"), std::string::npos);
  EXPECT_NE(m.body.find("neosl_http_request_duration_seconds_bucket{route=\"GetMe\",code=\"200\",le=\"+Inf\"} 3\n"),
            std::string::npos);
  EXPECT_NE(m.body.find("neosl_http_requests_in_flight 1\n"), std::string::npos);  // this very request
  EXPECT_NE(m.body.find("neosl_build_info{version=\""), std::string::npos);
}

TEST_F(GatewayHttpTest, OpenApiDescribesEveryRoute) {
  StartServer();
  auto r = client_->Get("/v1/openapi.json");
  ASSERT_EQ(r.status, 200);
  auto doc = Json(r);
  EXPECT_EQ(doc.at("openapi").as_string(), "3.1.0");
  const auto& paths = doc.at("paths").as_object();
  std::vector<std::pair<std::string, std::string>> expected = {{"/v1/health", "get"},
                                                               {"/v1/ready", "get"},
                                                               {"/metrics", "get"},
                                                               {"/v1/openapi.json", "get"},
                                                               {"/v1/attestation", "get"},
                                                               {"/v1/accounts", "post"},
                                                               {"/v1/accounts", "get"},
                                                               {"/v1/accounts/me", "get"},
                                                               {"/v1/accounts/{id}", "get"},
                                                               {"/v1/accounts/{id}/keys", "post"},
                                                               {"/v1/accounts/{id}/keys", "get"},
                                                               {"/v1/keys/{key_id}", "delete"},
                                                               {"/v1/secrets/{name}", "put"},
                                                               {"/v1/secrets/{name}", "delete"},
                                                               {"/v1/secrets", "get"},
                                                               {"/v1/secrets/audit", "get"},
                                                               {"/v1/echo", "post"},
                                                               {"/v1/echo/sensitive", "post"},
                                                               {"/v1/echo/relay", "post"},
                                                               {"/v1/functions", "post"},
                                                               {"/v1/functions", "get"},
                                                               {"/v1/functions/{id}", "get"},
                                                               {"/v1/functions/{id}", "put"},
                                                               {"/v1/functions/{id}", "delete"},
                                                               {"/v1/functions/{id}/invoke", "post"},
                                                               {"/v1/functions/{id}/executions", "get"},
                                                               {"/v1/executions/{id}", "get"},
                                                               {"/v1/random", "post"},
                                                               {"/v1/random/{id}", "get"},
                                                               {"/v1/random/verify", "post"},
                                                               {"/v1/oracle/requests", "post"},
                                                               {"/v1/oracle/requests/{id}", "get"},
                                                               {"/v1/prices/{pair}", "get"},
                                                               {"/v1/prices", "get"},
                                                               {"/v1/feeds", "post"},
                                                               {"/v1/feeds", "get"},
                                                               {"/v1/feeds/{id}", "get"},
                                                               {"/v1/feeds/{id}", "delete"},
                                                               {"/v1/gasbank/account", "get"},
                                                               {"/v1/gasbank/ledger", "get"},
                                                               {"/v1/gasbank/usage", "get"},
                                                               {"/v1/gasbank/withdrawals", "post"},
                                                               {"/v1/gasbank/withdrawals/{id}", "get"},
                                                               {"/v1/triggers", "post"},
                                                               {"/v1/triggers", "get"},
                                                               {"/v1/triggers/{id}", "get"},
                                                               {"/v1/triggers/{id}", "delete"},
                                                               {"/v1/triggers/{id}/pause", "post"},
                                                               {"/v1/triggers/{id}/resume", "post"},
                                                               {"/v1/triggers/{id}/run", "post"},
                                                               {"/v1/triggers/{id}/runs", "get"},
                                                               {"/v1/operations", "get"},
                                                               {"/v1/operations/{id}", "get"},
                                                               {"/v1/operations/{id}", "delete"},
                                                               {"/v1/webhooks/secret", "get"},
                                                               {"/v1/ws", "get"}};
  size_t operations = 0;
  for (const auto& p : paths) operations += p.value().as_object().size();
  EXPECT_EQ(operations, expected.size());
  for (const auto& [path, method] : expected) {
    ASSERT_TRUE(paths.contains(path)) << path;
    ASSERT_TRUE(paths.at(path).as_object().contains(method)) << method << " " << path;
  }
  auto create = paths.at("/v1/accounts").at("post");
  EXPECT_EQ(create.at("requestBody").at("content").at("application/json").at("schema").at("required").at(0).as_string(),
            "name");
  EXPECT_TRUE(create.at("responses").as_object().contains("201"));
  EXPECT_EQ(create.at("x-required-role").as_string(), "admin");
}

TEST_F(GatewayHttpTest, SigtermDrainsClosesIdleConnectionsAndExitsZero) {
  StartServer();
  RawConnection idle(server_->address());
  ASSERT_TRUE(idle.Send("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(idle.ReadResponse().status, 200);  // now an idle keep-alive connection
  std::string addr_file = server_->data_dir() + "/listen.addr";
  EXPECT_FALSE(ReadFile(addr_file).empty());
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(server_->Stop(SIGTERM), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "an idle connection must not hold up the drain";
  EXPECT_TRUE(idle.WaitForClose(5s));
  EXPECT_TRUE(ReadFile(addr_file).empty()) << "listen.addr is removed on exit";
  EXPECT_NE(server_->Logs().find("\"msg\":\"stopped\",\"drained\":true"), std::string::npos) << server_->Logs();
}

TEST_F(GatewayHttpTest, RestartKeepsAccountsKeysAndTheAdminKey) {
  StartServer();
  std::string acc = CreateAccount("durable");
  auto [id, token] = CreateKey(acc, "[\"owner\"]");
  std::string data = server_->data_dir();
  std::string admin_before = admin_;
  ASSERT_EQ(server_->Stop(SIGINT), 0);
  // Reuse the same data directory (it lives in the old process's temp dir, which we keep).
  auto old = std::move(server_);
  StartServer({.data_dir = data});
  EXPECT_EQ(admin_, admin_before) << "a restart must not mint a new admin key";
  auto me = client_->Get("/v1/accounts/me", token);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(Json(me).at("account").at("id").as_string(), acc);
  EXPECT_EQ(server_->Logs().find("created the platform admin key"), std::string::npos);
}

TEST_F(GatewayHttpTest, BadConfigurationFailsFastWithTheKeyNamed) {
  std::string error;
  auto s = ServerProcess::Start({.config_yaml = "gateway:\n  max_body_byte: 5\n"}, &error);
  EXPECT_EQ(s, nullptr);
  EXPECT_NE(error.find("gateway.max_body_byte"), std::string::npos) << error;
  auto t = ServerProcess::Start({.env = {{"NEOSL_GATEWAY_THREADS", "two"}}}, &error);
  EXPECT_EQ(t, nullptr);
  EXPECT_NE(error.find("gateway.threads"), std::string::npos) << error;
}

}  // namespace
}  // namespace neosl::testing
