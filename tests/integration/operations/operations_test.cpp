// Asynchronous operations through `neosl serve`: 202 at once, the outcome later, cancelling one
// that has not begun, and a restart that resumes or fails what was left (gateway/operations.h).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "integration/fixture.h"
#include "integration/gateway_ws_fixture.h"
#include "support/temp_dir.h"
#include "unit/net/test_server.h"

namespace neosl::testing {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// A function that runs for about `ms` milliseconds (the runtime has no timers: it spins).
std::string SlowSource(int ms) {
  return "export default async function (request) {\n"
         "  const end = Date.now() + " +
         std::to_string(ms) +
         ";\n"
         "  let spins = 0;\n"
         "  while (Date.now() < end) spins++;\n"
         "  return { done: true, args: request.args };\n"
         "}\n";
}

class OperationsTest : public ServerTest {
 protected:
  void Start(int threads = 4, const std::string& data_dir = "",
             std::vector<std::pair<std::string, std::string>> extra_env = {}) {
    ServerOptions options;
    // Webhooks may reach the test's receiver on loopback (and nothing else private), over http,
    // retried quickly.
    options.env = {
        {"NEOSL_OPERATIONS_THREADS", std::to_string(threads)}, {"NEOSL_FUNCTIONS_WORKERS", "1"},
        {"NEOSL_NET_ALLOW_PRIVATE", "127.0.0.1/32"},           {"NEOSL_OPERATIONS_ALLOW_HTTP_WEBHOOKS", "true"},
        {"NEOSL_OPERATIONS_WEBHOOK_BACKOFF_MS", "100"},        {"NEOSL_OPERATIONS_WEBHOOK_RETRY_FOR_MS", "1500"}};
    options.env.insert(options.env.end(), extra_env.begin(), extra_env.end());
    options.data_dir = data_dir;
    StartServer(options);
  }

  HttpResult SendWith(const std::string& method, const std::string& path, const std::string& body,
                      std::vector<std::pair<std::string, std::string>> headers) {
    headers.emplace_back("authorization", "Bearer " + admin_);
    headers.emplace_back("content-type", "application/json");
    return client_->Request(method, path, body, headers);
  }

  // Polls the operation until it is done (at most 60 s); its last state.
  json::object WaitDone(const std::string& id) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    json::object op;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = Send("GET", "/v1/operations/" + id);
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) return op;
      op = Json(r).as_object();
      if (op.at("done").as_bool()) return op;
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "operation " << id << " not done within 60 s: " << json::serialize(op);
    return op;
  }

  // Polls until the operation is in `state` (at most 30 s).
  bool WaitState(const std::string& id, std::string_view state) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = Send("GET", "/v1/operations/" + id);
      if (r.status == 200 && Json(r).at("state").as_string() == state) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  std::string Accepted(const HttpResult& r) {
    EXPECT_EQ(r.status, 202) << r.body;
    if (r.status != 202) return "";
    auto op = Json(r);
    EXPECT_EQ(op.at("state").as_string(), "pending");
    EXPECT_FALSE(op.at("done").as_bool());
    const std::string id(op.at("id").as_string());
    EXPECT_EQ(r.Header("location"), "/v1/operations/" + id);
    return id;
  }

  std::string CreateFunction(const std::string& name, const std::string& source) {
    auto r = Send("POST", "/v1/functions", json::serialize(json::object{{"name", name}, {"source", source}}));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? std::string(Json(r).at("id").as_string()) : "";
  }

  TempDir dir_;  // a data directory that outlives one server process
};

TEST_F(OperationsTest, ASlowFunctionAnswers202AtOnceAndItsExecutionLater) {
  Start();
  const std::string fn = CreateFunction("slow", SlowSource(1500));
  ASSERT_FALSE(fn.empty());
  // The answer comes before the function could have run; the quickest of three is the figure
  // (a loaded machine may hold one request up; all three cannot be slow for the function).
  double best_ms = 1e9;
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r =
        Send("POST", "/v1/functions/" + fn + "/invoke", R"({"args":{"n":)" + std::to_string(i) + R"(},"async":true})");
    best_ms =
        std::min(best_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    ids.push_back(Accepted(r));
    EXPECT_EQ(Json(r).at("kind").as_string(), "InvokeFunction");
  }
  std::printf("[ figure ] async invoke answered 202 in %.2f ms (best of 3)\n", best_ms);
  EXPECT_LT(best_ms, 50.0);
  std::vector<std::pair<std::string, std::string>> created;  // (created_at, id) of each
  for (int i = 0; i < 3; ++i) {
    json::object op = WaitDone(ids[i]);
    created.emplace_back(op.at("created_at").as_string(), ids[i]);
    ASSERT_EQ(op.at("state").as_string(), "succeeded") << json::serialize(op);
    EXPECT_EQ(op.at("http_status").as_int64(), 200);
    EXPECT_EQ(op.at("attempts").as_int64(), 1);
    // The result is the signed execution the synchronous call answers.
    const json::object& execution = op.at("result").as_object();
    EXPECT_EQ(execution.at("status").as_string(), "succeeded");
    EXPECT_EQ(execution.at("result").at("args").at("n").as_int64(), i);
    EXPECT_FALSE(execution.at("enclave_signature").as_string().empty());
    auto again = Send("GET", "/v1/executions/" + std::string(execution.at("id").as_string()));
    EXPECT_EQ(again.status, 200) << again.body;
  }
  // "async": false, or none, is the synchronous call as ever.
  auto sync = Send("POST", "/v1/functions/" + fn + "/invoke", R"({"args":7,"async":false})");
  EXPECT_EQ(sync.status, 200) << sync.body;
  EXPECT_EQ(Json(sync).at("result").at("args").as_int64(), 7);
  // Listed, newest first (ids break a tie in the millisecond, and the three may share one).
  std::sort(created.rbegin(), created.rend());
  auto list = Send("GET", "/v1/operations?limit=2");
  ASSERT_EQ(list.status, 200) << list.body;
  const json::value page = Json(list);
  const auto& ops = page.at("operations").as_array();
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0].at("id").as_string(), created[0].second);
  EXPECT_EQ(ops[1].at("id").as_string(), created[1].second);
  EXPECT_FALSE(page.at("next_page_token").as_string().empty());
}

TEST_F(OperationsTest, PreferRespondAsyncAndErrorsInTheSeedsBody) {
  Start();
  auto r = SendWith("POST", "/v1/echo", R"({"message":"hi","delay_ms":200})", {{"prefer", "wait=10, respond-async"}});
  const std::string id = Accepted(r);
  EXPECT_EQ(r.Header("preference-applied"), "respond-async");
  json::object op = WaitDone(id);
  ASSERT_EQ(op.at("state").as_string(), "succeeded");
  EXPECT_EQ(op.at("result").at("message").as_string(), "hi");

  // A call that fails: the operation fails with the error body the synchronous call answers.
  r = Send("POST", "/v1/echo", R"({"message":"x","fail_code":"NOT_FOUND","async":true})");
  op = WaitDone(Accepted(r));
  EXPECT_EQ(op.at("state").as_string(), "failed");
  EXPECT_EQ(op.at("http_status").as_int64(), 404);
  EXPECT_EQ(op.at("error").at("code").as_string(), "NOT_FOUND");
  EXPECT_TRUE(op.at("error").as_object().contains("message"));

  // A body the route refuses is refused at once, not accepted as an operation.
  r = Send("POST", "/v1/echo", R"({"async":true})");
  EXPECT_EQ(r.status, 400) << r.body;
  r = Send("POST", "/v1/echo", R"({"message":"x","async":"yes"})");
  EXPECT_EQ(r.status, 400) << r.body;

  // Another account sees none of it.
  const std::string other = CreateAccount("other");
  auto [key_id, token] = CreateKey(other, R"(["owner"])");
  EXPECT_EQ(client_->Get("/v1/operations/" + id, token).status, 404);
  EXPECT_EQ(client_->Get("/v1/operations/op_aaaaaaaaaaaaaaaaaaaa", admin_).status, 404);
  // The route and its schema are in the OpenAPI document.
  auto doc = Json(client_->Get("/v1/openapi.json"));
  EXPECT_TRUE(doc.at("paths").as_object().contains("/v1/operations/{id}"));
  EXPECT_THAT(json::serialize(doc.at("paths").at("/v1/functions/{id}/invoke")), HasSubstr("respond-async"));
}

TEST_F(OperationsTest, OnlyAnOperationThatHasNotBegunIsCancelled) {
  Start(/*threads=*/1);
  // One operation thread: the first runs, the second waits.
  const std::string running = Accepted(Send("POST", "/v1/echo", R"({"message":"a","delay_ms":3000,"async":true})"));
  ASSERT_TRUE(WaitState(running, "running"));
  const std::string waiting = Accepted(Send("POST", "/v1/echo", R"({"message":"b","async":true})"));
  auto r = Send("DELETE", "/v1/operations/" + waiting);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).at("state").as_string(), "cancelled");
  EXPECT_EQ(Json(r).at("error").at("code").as_string(), "CANCELLED");
  // Again: the same answer.
  EXPECT_EQ(Send("DELETE", "/v1/operations/" + waiting).status, 200);
  r = Send("DELETE", "/v1/operations/" + running);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(ErrorCode(r), "FAILED_PRECONDITION");
  EXPECT_EQ(WaitDone(running).at("state").as_string(), "succeeded");
  // The cancelled one never ran.
  json::object op = WaitDone(waiting);
  EXPECT_EQ(op.at("state").as_string(), "cancelled");
  EXPECT_EQ(op.at("attempts").as_int64(), 0);
}

TEST_F(OperationsTest, ARestartResumesWhatIsSafeToRunAgainAndFailsTheRest) {
  const std::string data_dir = dir_.File("data");
  Start(/*threads=*/2, data_dir);
  const std::string fn = CreateFunction("slow", SlowSource(20'000));
  ASSERT_FALSE(fn.empty());
  // The function spins for 20 s; the echo (3 s, well inside the mesh's 5 s deadline even on a
  // loaded machine) is waited for last, so both are running when the process dies.
  const std::string invoke = Accepted(Send("POST", "/v1/functions/" + fn + "/invoke", R"({"async":true})"));
  ASSERT_TRUE(WaitState(invoke, "running"));
  const std::string echo = Accepted(Send("POST", "/v1/echo", R"({"message":"resumed","delay_ms":3000,"async":true})"));
  ASSERT_TRUE(WaitState(echo, "running"));
  // A crash: nothing is finished on the way out.
  server_->Stop(SIGKILL);
  Start(/*threads=*/2, data_dir);

  json::object op = WaitDone(invoke);
  EXPECT_EQ(op.at("state").as_string(), "failed");
  EXPECT_EQ(op.at("error").at("code").as_string(), "ABORTED");
  EXPECT_THAT(std::string(op.at("error").at("message").as_string()), HasSubstr("restarted"));
  EXPECT_EQ(op.at("attempts").as_int64(), 1);

  op = WaitDone(echo);
  EXPECT_EQ(op.at("state").as_string(), "succeeded") << json::serialize(op);
  EXPECT_EQ(op.at("attempts").as_int64(), 2);
  EXPECT_EQ(op.at("result").at("message").as_string(), "resumed");
  server_->Stop();  // before dir_ goes
}

// A pod rescheduled with a new instance id (its instance.id gone) while it ran: the gateway that
// comes up adopts what the silent one left, under the restart rules, once it has been silent for
// operations.orphan_after_ms.
TEST_F(OperationsTest, AGatewayThatComesBackAsAnotherAdoptsWhatTheSilentOneLeft) {
  const std::string data_dir = dir_.File("data");
  const std::vector<std::pair<std::string, std::string>> adopt_fast = {{"NEOSL_OPERATIONS_ORPHAN_AFTER_MS", "1000"}};
  Start(/*threads=*/2, data_dir, adopt_fast);
  const std::string fn = CreateFunction("slow", SlowSource(20'000));
  ASSERT_FALSE(fn.empty());
  const std::string invoke = Accepted(Send("POST", "/v1/functions/" + fn + "/invoke", R"({"async":true})"));
  ASSERT_TRUE(WaitState(invoke, "running"));
  const std::string echo = Accepted(Send("POST", "/v1/echo", R"({"message":"adopted","delay_ms":3000,"async":true})"));
  ASSERT_TRUE(WaitState(echo, "running"));
  std::string before;
  {
    std::ifstream id_file(data_dir + "/instance.id");
    std::getline(id_file, before);
  }
  ASSERT_FALSE(before.empty());
  server_->Stop(SIGKILL);
  ASSERT_EQ(std::remove((data_dir + "/instance.id").c_str()), 0);
  Start(/*threads=*/2, data_dir, adopt_fast);

  json::object op = WaitDone(invoke);
  EXPECT_EQ(op.at("state").as_string(), "failed");
  EXPECT_EQ(op.at("error").at("code").as_string(), "ABORTED");
  EXPECT_THAT(std::string(op.at("error").at("message").as_string()), HasSubstr(before));
  op = WaitDone(echo);
  EXPECT_EQ(op.at("state").as_string(), "succeeded") << json::serialize(op);
  EXPECT_EQ(op.at("attempts").as_int64(), 2);
  EXPECT_EQ(op.at("result").at("message").as_string(), "adopted");
  server_->Stop();
}

// GET /v1/ws, channel `operations`: each end pushed as GET /v1/operations/{id} shows it.
TEST_F(OperationsTest, TheOperationsChannelPushesEachEnd) {
  Start();
  using gateway::ws_test::WsClient;
  auto ws = WsClient::Connect(server_->address(), WsClient::Options{.authorization = "Bearer " + admin_});
  ASSERT_NE(ws, nullptr);
  ws->SendText(R"({"op":"subscribe","id":"all","channel":"operations"})");
  ASSERT_TRUE(ws->ReadUntil("subscribed", "all"));
  const std::string id = Accepted(Send("POST", "/v1/echo", R"({"message":"pushed","async":true})"));
  auto event = ws->ReadUntil("event", "all");
  ASSERT_TRUE(event);
  const json::object& data = event->at("data").as_object();
  EXPECT_EQ(data.at("id").as_string(), id);
  EXPECT_EQ(data.at("state").as_string(), "succeeded");
  EXPECT_EQ(data.at("result").at("message").as_string(), "pushed");
  auto got = Send("GET", "/v1/operations/" + id);
  EXPECT_EQ(data.at("finished_at"), Json(got).at("finished_at"));

  // One operation that has ended: its end at once, then the stream's.
  ws->Send(json::object{
      {"op", "subscribe"}, {"id", "one"}, {"channel", "operations"}, {"params", json::object{{"operation_id", id}}}});
  event = ws->ReadUntil("event", "one");
  ASSERT_TRUE(event);
  EXPECT_EQ(event->at("data").at("id").as_string(), id);
  EXPECT_TRUE(ws->ReadUntil("end", "one"));
  ws->SendText(R"({"op":"subscribe","id":"none","channel":"operations","params":{"operation_id":"op_nope"}})");
  auto error = ws->ReadUntil("error", "none");
  ASSERT_TRUE(error);
  EXPECT_EQ(gateway::ws_test::ErrorCode(*error), "NOT_FOUND");
}

// Checks a delivery's Neosl-Signature as a receiver would: the HMAC over "<t>.<body>" with the
// account's secret, and a timestamp within five minutes of now.
void ExpectSigned(const net::testing::ReceivedRequest& r, const std::string& secret) {
  const std::string header = r.Header("neosl-signature");
  ASSERT_TRUE(header.starts_with("t=")) << header;
  const size_t comma = header.find(",v1=");
  ASSERT_NE(comma, std::string::npos) << header;
  const std::string t = header.substr(2, comma - 2);
  const std::string v1 = header.substr(comma + 4);
  const std::string signed_text = t + "." + r.body;
  const crypto::Digest256 mac =
      crypto::HmacSha256(std::span(reinterpret_cast<const uint8_t*>(secret.data()), secret.size()),
                         std::span(reinterpret_cast<const uint8_t*>(signed_text.data()), signed_text.size()));
  EXPECT_EQ(v1, HexEncode(mac));
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(std::abs(now - std::stoll(t)), 300);
  // Any other secret, or a changed body, does not verify.
  const std::string tampered = t + "." + r.body + " ";
  const crypto::Digest256 other =
      crypto::HmacSha256(std::span(reinterpret_cast<const uint8_t*>(secret.data()), secret.size()),
                         std::span(reinterpret_cast<const uint8_t*>(tampered.data()), tampered.size()));
  EXPECT_NE(v1, HexEncode(other));
}

TEST_F(OperationsTest, TheOutcomeIsPostedSignedToTheWebhookRetriedUntilItIsTakenAndThenNeverAgain) {
  std::atomic<int> flaky_calls{0};
  net::testing::TestServer receiver([&](const net::testing::ReceivedRequest& r) {
    if (r.target == "/flaky" && flaky_calls.fetch_add(1) < 2) return net::testing::Respond(500, "Oops", "{}");
    if (r.target == "/down") return net::testing::Respond(503, "Unavailable", "{}");
    return net::testing::Respond(200, "OK", "{}");
  });
  Start();
  auto s = Send("GET", "/v1/webhooks/secret");
  ASSERT_EQ(s.status, 200) << s.body;
  const std::string secret(Json(s).at("secret").as_string());
  EXPECT_TRUE(secret.starts_with("whsec_"));

  // Fails twice, then takes it: three attempts, listed on the operation.
  auto r = Send(
      "POST", "/v1/echo",
      json::serialize(json::object{{"message", "hook"}, {"async", true}, {"webhook_url", receiver.Url("/flaky")}}));
  const std::string id = Accepted(r);
  json::object op;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    op = Json(Send("GET", "/v1/operations/" + id)).as_object();
    if (op.contains("webhook") && op.at("webhook").at("state").as_string() == "delivered") break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(op.at("webhook").at("state").as_string(), "delivered") << json::serialize(op);
  const auto& attempts = op.at("webhook").at("attempts").as_array();
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_EQ(attempts[0].at("http_status").as_int64(), 500);
  EXPECT_THAT(std::string(attempts[0].at("error").as_string()), HasSubstr("500"));
  EXPECT_EQ(attempts[2].at("http_status").as_int64(), 200);
  EXPECT_FALSE(attempts[2].as_object().contains("error"));
  EXPECT_EQ(op.at("webhook").at("url").as_string(), receiver.Url("/flaky"));

  // A second operation's delivery (which the deliverer makes after the first was taken) is the
  // fourth request: none went to the first again.
  const std::string second = Accepted(
      Send("POST", "/v1/echo",
           json::serialize(json::object{{"message", "again"}, {"async", true}, {"webhook_url", receiver.Url("/ok")}})));
  ASSERT_TRUE(WaitState(second, "succeeded"));
  for (int i = 0; i < 1500 && receiver.requests().size() < 4; ++i) std::this_thread::sleep_for(20ms);
  auto received = receiver.requests();
  ASSERT_EQ(received.size(), 4u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(received[i].target, "/flaky");
    EXPECT_EQ(received[i].method, "POST");
    EXPECT_EQ(received[i].Header("neosl-operation"), id);
    EXPECT_EQ(received[i].Header("neosl-delivery-attempt"), std::to_string(i + 1));
    ExpectSigned(received[i], secret);
    json::value body = json::parse(received[i].body);
    EXPECT_EQ(body.at("id").as_string(), id);
    EXPECT_EQ(body.at("state").as_string(), "succeeded");
    EXPECT_EQ(body.at("result").at("message").as_string(), "hook");
  }
  EXPECT_EQ(received[3].target, "/ok");
  ExpectSigned(received[3], secret);

  // A receiver that never takes it: retried until webhook_retry_for_ms, then failed.
  const std::string down = Accepted(
      Send("POST", "/v1/echo",
           json::serialize(json::object{{"message", "x"}, {"async", true}, {"webhook_url", receiver.Url("/down")}})));
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < until) {
    op = Json(Send("GET", "/v1/operations/" + down)).as_object();
    if (op.contains("webhook") && op.at("webhook").at("state").as_string() == "failed") break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(op.at("webhook").at("state").as_string(), "failed") << json::serialize(op);
  EXPECT_GE(op.at("webhook").at("attempts").as_array().size(), 2u);
  EXPECT_EQ(op.at("state").as_string(), "succeeded");  // the call itself did
}

TEST_F(OperationsTest, AnInvalidOrPrivateWebhookUrlIsRefusedAtOnce) {
  Start();
  auto ask = [&](const std::string& url, bool async = true) {
    json::object body{{"message", "x"}, {"webhook_url", url}};
    if (async) body["async"] = true;
    return Send("POST", "/v1/echo", json::serialize(body));
  };
  for (const std::string& url :
       {std::string("ftp://example.com/hook"), std::string("https://user:pw@example.com/"),
        std::string("https:///path"), std::string("https://example.com:99999/"), std::string("not a url"),
        std::string("https://10.0.0.1/hook"), std::string("https://169.254.169.254/latest/meta-data"),
        std::string("https://[::1]/hook"), std::string("https://127.0.0.2/hook")}) {
    auto r = ask(url);
    EXPECT_EQ(r.status, 400) << url << ": " << r.body;
    EXPECT_EQ(ErrorCode(r), "INVALID_ARGUMENT") << url;
    EXPECT_THAT(r.body, HasSubstr("webhook_url")) << url;
  }
  auto r = ask("https://10.0.0.1/hook");
  EXPECT_THAT(r.body, HasSubstr("private"));
  // Without async there is nothing to call back.
  r = ask("https://example.com/hook", /*async=*/false);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_THAT(r.body, HasSubstr("asynchronous"));
  // Nothing was accepted.
  auto list = Send("GET", "/v1/operations");
  EXPECT_EQ(Json(list).at("operations").as_array().size(), 0u);
}

}  // namespace
}  // namespace neosl::testing
