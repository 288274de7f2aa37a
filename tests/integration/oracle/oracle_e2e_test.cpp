// The oracle end to end through `neosl serve`: REST, the mesh, the secrets service, the enclave
// (fetching through the host's relay, filtering, deciding, signing) and the store, against real
// HTTP servers on loopback that the tests start.
#include <atomic>
#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "crypto/p256.h"
#include "integration/fixture.h"
#include "integration/gateway_ws_fixture.h"
#include "services/oracle/oracle_record.h"
#include "support/temp_dir.h"
#include "unit/net/test_server.h"

namespace neosl::testing {
namespace {

namespace json = boost::json;
using net::testing::ReceivedRequest;
using net::testing::Reply;
using net::testing::Respond;
using net::testing::TestServer;

Reply JsonReply(const std::string& body) {
  return Respond(200, "OK", body, {{"Content-Type", "application/json; charset=utf-8"}});
}

class OracleE2eTest : public ServerTest {
 protected:
  void SetUp() override {
    StartServer({.env = {{"NEOSL_NET_ALLOW_PRIVATE", "127.0.0.1/32"},
                         {"NEOSL_ORACLE_ALLOW_HTTP", "true"},
                         {"NEOSL_ORACLE_TIMEOUT_MS", "1500"}}});
  }

  std::string ReportKey() {
    auto r = client_->Get("/v1/attestation?nonce=00112233445566778899");
    EXPECT_EQ(r.status, 200) << r.body;
    return std::string(Json(r).at("public_keys").at("report").as_string());
  }

  // The signature is the attested report key's over SHA-256(record), and the record is exactly
  // the one this request's sources, rule, code and result make.
  void ExpectSigned(const json::value& v, const std::vector<oracle::RecordSource>& sources,
                    const oracle::RecordRule& rule) {
    EXPECT_EQ(Str(v, "public_key"), ReportKey());
    const std::string result = Str(v, "result");
    const auto hash = crypto::Sha256(std::span(reinterpret_cast<const uint8_t*>(result.data()), result.size()));
    EXPECT_EQ(Str(v, "result_hash"), HexEncode(hash));
    const auto code = oracle::ResponseCodeFromByte(uint8_t(v.at("code_value").as_int64()));
    ASSERT_TRUE(code.has_value());
    const auto record = oracle::Record(Str(v, "request_id"), sources, rule, *code, hash);
    EXPECT_EQ(Str(v, "record"), HexEncode(record));
    auto key = crypto::PublicKey::FromHex(Str(v, "public_key"));
    ASSERT_TRUE(key.ok());
    auto sig = HexDecode(Str(v, "signature"));
    ASSERT_TRUE(sig && sig->size() == 64);
    crypto::Signature s{};
    std::copy(sig->begin(), sig->end(), s.begin());
    EXPECT_TRUE(key->Verify(record, s));
  }
};

TEST_F(OracleE2eTest, OneSourceIsFetchedFilteredSignedAndStored) {
  TestServer source([](const ReceivedRequest&) { return JsonReply(R"({"data":{"price":12.5,"pair":"NEO/USD"}})"); });
  const std::string url = source.Url("/ticker?pair=NEO");
  auto r = Send("POST", "/v1/oracle/requests", json::serialize(json::object{{"url", url}, {"filter", "$.data.price"}}));
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = Json(r);
  EXPECT_EQ(Str(v, "status"), "succeeded");
  EXPECT_EQ(Str(v, "code"), "Success");
  EXPECT_EQ(Str(v, "result"), "[12.5]");
  ASSERT_EQ(v.at("sources").as_array().size(), 1u);
  EXPECT_TRUE(v.at("sources").as_array()[0].at("agreed").as_bool());
  ExpectSigned(v, {{url, "$.data.price"}}, {"all-equal", 0, 0, 0});

  auto again = Send("GET", "/v1/oracle/requests/" + Str(v, "request_id"));
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Json(again), v);
}

TEST_F(OracleE2eTest, SeveralSourcesAgreeByMedianOrFailClearly) {
  TestServer a([](const ReceivedRequest&) { return JsonReply(R"({"p":"10.0"})"); });
  TestServer b([](const ReceivedRequest&) { return JsonReply(R"({"p":10.2})"); });
  TestServer c([](const ReceivedRequest&) { return JsonReply(R"({"p":10.1})"); });
  json::array sources{json::object{{"url", a.Url("/")}, {"filter", "$.p"}},
                      json::object{{"url", b.Url("/")}, {"filter", "$.p"}},
                      json::object{{"url", c.Url("/")}, {"filter", "$.p"}}};
  json::object median{{"sources", sources}, {"consensus", {{"rule", "median"}, {"max_spread_bps", 300}}}};
  auto r = Send("POST", "/v1/oracle/requests", json::serialize(median));
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = Json(r);
  EXPECT_EQ(Str(v, "code"), "Success") << r.body;
  EXPECT_EQ(Str(v, "result"), "[10.1]");
  ExpectSigned(v, {{a.Url("/"), "$.p"}, {b.Url("/"), "$.p"}, {c.Url("/"), "$.p"}}, {"median", 0, 300, 0});

  // The same sources must all agree byte for byte: they do not, and that is the answer.
  json::object strict{{"sources", sources}, {"consensus", {{"rule", "all-equal"}}}};
  auto u = Send("POST", "/v1/oracle/requests", json::serialize(strict));
  ASSERT_EQ(u.status, 200) << u.body;
  auto w = Json(u);
  EXPECT_EQ(Str(w, "status"), "failed");
  EXPECT_EQ(Str(w, "code"), "ConsensusUnreachable");
  EXPECT_EQ(Str(w, "result"), "");
  EXPECT_FALSE(Str(w, "detail").empty());
  ExpectSigned(w, {{a.Url("/"), "$.p"}, {b.Url("/"), "$.p"}, {c.Url("/"), "$.p"}}, {"all-equal", 0, 0, 0});
}

TEST_F(OracleE2eTest, SecretHeadersReachTheSourceAndNothingElse) {
  const std::string secret = "tok-5f1d9a7c3e2b";
  auto put = Send("PUT", "/v1/secrets/VENUE_KEY", json::serialize(json::object{{"value", secret}}));
  ASSERT_EQ(put.status, 200) << put.body;
  std::atomic<bool> authorized{false};
  TestServer source([&](const ReceivedRequest& req) {
    authorized = req.Header("authorization") == "Bearer " + secret;
    return authorized ? JsonReply(R"({"ok":true})") : Respond(403, "Forbidden", "no");
  });
  json::object body{
      {"url", source.Url("/private")},
      {"filter", "$.ok"},
      {"headers", json::array{json::object{{"name", "Authorization"}, {"value", "Bearer {{secrets.VENUE_KEY}}"}}}}};
  auto r = Send("POST", "/v1/oracle/requests", json::serialize(body));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(authorized.load());
  EXPECT_EQ(Str(Json(r), "result"), "[true]");
  EXPECT_EQ(r.body.find(secret), std::string::npos);
  auto again = Send("GET", "/v1/oracle/requests/" + Str(Json(r), "request_id"));
  EXPECT_EQ(again.body.find(secret), std::string::npos);
  EXPECT_EQ(again.body.find("{{secrets.VENUE_KEY}}"), std::string::npos) << "header values are never stored";
  EXPECT_EQ(server_->Logs().find(secret), std::string::npos);

  // The read is in the account's secrets audit log, by the oracle, for this request.
  auto audit = Send("GET", "/v1/secrets/audit");
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_NE(audit.body.find("oracle:" + Str(Json(r), "request_id")), std::string::npos) << audit.body;

  // A secret that is not stored is the caller's mistake, named.
  body["headers"] = json::array{json::object{{"name", "X-Key"}, {"value", "{{secrets.NOT_THERE}}"}}};
  auto missing = Send("POST", "/v1/oracle/requests", json::serialize(body));
  EXPECT_EQ(missing.status, 400) << missing.body;
  EXPECT_NE(missing.body.find("NOT_THERE"), std::string::npos);
}

TEST_F(OracleE2eTest, AsyncAnswersAtOnceAndTheOutcomeFollows) {
  std::atomic<bool> release{false};
  TestServer slow([&](const ReceivedRequest&) {
    // Holds the answer until the test has seen the pending request (bounded by the fetch timeout).
    for (int i = 0; i < 100 && !release.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return JsonReply(R"({"v":[1,2,3]})");
  });
  auto r = Send("POST", "/v1/oracle/requests",
                json::serialize(json::object{{"url", slow.Url("/")}, {"filter", "$.v[1:]"}, {"async", true}}));
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = Json(r);
  EXPECT_EQ(Str(v, "status"), "pending");
  EXPECT_EQ(Str(v, "code"), "");
  release = true;
  json::value done;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    auto g = Send("GET", "/v1/oracle/requests/" + Str(v, "request_id"));
    ASSERT_EQ(g.status, 200) << g.body;
    done = Json(g);
    if (Str(done, "status") != "pending") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polls the API, bounded above
  }
  EXPECT_EQ(Str(done, "status"), "succeeded") << json::serialize(done);
  EXPECT_EQ(Str(done, "result"), "[2,3]");
}

TEST_F(OracleE2eTest, AFunctionPostProcessesTheResultAndTheRecordNamesIt) {
  TestServer source([](const ReceivedRequest&) { return JsonReply(R"({"data":{"price":12.5}})"); });
  auto created = Send("POST", "/v1/functions", json::serialize(json::object{{"name", "cents"}, {"source", R"js(
    export default function (request) {
      const [price] = request.args.result;
      if (price < 0) throw new Error('negative');
      return { cents: Math.round(price * 100), request: request.args.request_id };
    })js"}}));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string fn = Str(Json(created), "id");
  const std::string url = source.Url("/p");
  auto r = Send("POST", "/v1/oracle/requests",
                json::serialize(json::object{{"url", url}, {"filter", "$.data.price"}, {"function_id", fn}}));
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = Json(r);
  ASSERT_EQ(Str(v, "code"), "Success") << r.body;
  EXPECT_EQ(Str(v, "fetched_result"), "[12.5]");
  EXPECT_EQ(Str(v, "result"), R"({"cents":1250,"request":")" + Str(v, "request_id") + R"("})");
  EXPECT_EQ(Str(v, "function_id"), fn);

  // The record names the function's version and source and the fetched result it was given.
  auto ex = Send("GET", "/v1/executions/" + Str(v, "execution_id"));
  ASSERT_EQ(ex.status, 200) << ex.body;
  oracle::RecordFunction function;
  function.function_id = fn;
  function.version = v.at("function_version").as_int64();
  auto source_hash = HexDecode(Str(Json(ex), "source_hash"));
  ASSERT_TRUE(source_hash && source_hash->size() == 32);
  std::copy(source_hash->begin(), source_hash->end(), function.source_hash.begin());
  function.fetched_hash = crypto::Sha256(std::span(reinterpret_cast<const uint8_t*>("[12.5]"), 6));
  const std::string result = Str(v, "result");
  const auto record = oracle::Record(
      Str(v, "request_id"), {{url, "$.data.price"}}, {"all-equal", 0, 0, 0}, oracle::ResponseCode::kSuccess,
      crypto::Sha256(std::span(reinterpret_cast<const uint8_t*>(result.data()), result.size())), &function);
  EXPECT_EQ(Str(v, "record"), HexEncode(record));
  auto key = crypto::PublicKey::FromHex(ReportKey());
  auto sig = HexDecode(Str(v, "signature"));
  ASSERT_TRUE(key.ok() && sig && sig->size() == 64);
  crypto::Signature s{};
  std::copy(sig->begin(), sig->end(), s.begin());
  EXPECT_TRUE(key->Verify(record, s));

  // A function that fails makes the outcome Error, still signed and naming it.
  TestServer negative([](const ReceivedRequest&) { return JsonReply(R"({"data":{"price":-1}})"); });
  auto f =
      Send("POST", "/v1/oracle/requests",
           json::serialize(json::object{{"url", negative.Url("/")}, {"filter", "$.data.price"}, {"function_id", fn}}));
  ASSERT_EQ(f.status, 200) << f.body;
  EXPECT_EQ(Str(Json(f), "code"), "Error");
  EXPECT_NE(Str(Json(f), "detail").find("negative"), std::string::npos) << f.body;
  EXPECT_FALSE(Str(Json(f), "signature").empty());

  // A function that is not the account's is refused before anything is fetched.
  const size_t fetched = source.requests().size();
  auto missing = Send("POST", "/v1/oracle/requests",
                      json::serialize(json::object{{"url", url}, {"function_id", "fn_aaaaaaaaaaaaaaaaaaaa"}}));
  EXPECT_EQ(missing.status, 404) << missing.body;
  EXPECT_EQ(source.requests().size(), fetched);
}

TEST_F(OracleE2eTest, FinishedRequestsArePushedOnTheExecutionsChannel) {
  TestServer source([](const ReceivedRequest&) { return JsonReply(R"({"n":7})"); });
  using gateway::ws_test::WsClient;
  auto ws = WsClient::Connect(server_->address(), WsClient::Options{.authorization = "Bearer " + admin_});
  ASSERT_NE(ws, nullptr);
  ws->SendText(R"({"op":"subscribe","id":"ex","channel":"executions","params":{"service":"oracle"}})");
  ASSERT_TRUE(ws->ReadUntil("subscribed", "ex"));
  auto r = Send("POST", "/v1/oracle/requests",
                json::serialize(json::object{{"url", source.Url("/")}, {"filter", "$.n"}, {"async", true}}));
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string id = Str(Json(r), "request_id");
  auto event = ws->ReadUntil("event", "ex");
  ASSERT_TRUE(event);
  const json::value data = event->at("data");
  EXPECT_EQ(Str(data, "request_id"), id);
  EXPECT_EQ(Str(data, "status"), "succeeded");
  EXPECT_EQ(Str(data, "result"), "[7]");
  // The event is the stored request, as GET shows it.
  auto g = Send("GET", "/v1/oracle/requests/" + id);
  EXPECT_EQ(Json(g), data);

  ws->SendText(R"({"op":"subscribe","id":"bad","channel":"executions","params":{"service":"random"}})");
  auto err = ws->ReadUntil("error", "bad");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->at("error").at("code").as_string(), "INVALID_ARGUMENT");
}

TEST_F(OracleE2eTest, ARequestPendingAtAStopIsFailedAtTheNextStartNotLost) {
  // A data directory that outlives the process (the fixture's goes with its server).
  TempDir dir;
  const std::string data_dir = dir.File("data");
  const ServerOptions options{.env = {{"NEOSL_NET_ALLOW_PRIVATE", "127.0.0.1/32"}, {"NEOSL_ORACLE_ALLOW_HTTP", "true"}},
                              .data_dir = data_dir};
  server_.reset();
  StartServer(options);
  TestServer stall([](const ReceivedRequest&) { return Reply{{}, true}; });
  auto r = Send("POST", "/v1/oracle/requests", json::serialize(json::object{{"url", stall.Url("/")}, {"async", true}}));
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string id = Str(Json(r), "request_id");
  // The source has the request (so it is running) when the process goes away.
  ASSERT_TRUE(gateway::ws_test::WaitUntil([&] { return !stall.requests().empty(); }));
  server_->Stop(SIGKILL);
  server_.reset();
  StartServer(options);
  auto g = Send("GET", "/v1/oracle/requests/" + id);
  ASSERT_EQ(g.status, 200) << g.body;
  auto v = Json(g);
  EXPECT_EQ(Str(v, "status"), "failed");
  EXPECT_EQ(Str(v, "code"), "Error");
  EXPECT_NE(Str(v, "detail").find("restart"), std::string::npos) << g.body;
}

TEST_F(OracleE2eTest, SourcesThatFailGiveNeoCodesNotErrors) {
  TestServer source([](const ReceivedRequest& req) {
    if (req.target == "/missing") return Respond(404, "Not Found", "{}", {{"Content-Type", "application/json"}});
    if (req.target == "/html") return Respond(200, "OK", "<html></html>", {{"Content-Type", "text/html"}});
    if (req.target == "/loop") return net::testing::Redirect(302, "/loop");
    if (req.target == "/inside") return net::testing::Redirect(302, "http://127.0.0.2:9/secret");
    if (req.target == "/stall") return Reply{{}, true};
    return JsonReply("{}");
  });
  const std::vector<std::pair<std::string, std::string>> cases = {{"/missing", "NotFound"},
                                                                  {"/html", "ContentTypeNotSupported"},
                                                                  {"/loop", "Timeout"},
                                                                  {"/inside", "Forbidden"},
                                                                  {"/stall", "Timeout"}};
  for (const auto& [path, code] : cases) {
    auto r = Send("POST", "/v1/oracle/requests", json::serialize(json::object{{"url", source.Url(path)}}));
    ASSERT_EQ(r.status, 200) << path << ": " << r.body;
    auto v = Json(r);
    EXPECT_EQ(Str(v, "code"), code) << path << ": " << r.body;
    EXPECT_EQ(Str(v, "status"), "failed") << path;
  }
  // A private address the operator did not allow: refused by the host before any connection.
  auto r = Send("POST", "/v1/oracle/requests", json::serialize(json::object{{"url", "http://10.0.0.1/"}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(Json(r), "code"), "Forbidden") << r.body;
}

TEST_F(OracleE2eTest, APerHostRateLimitRefusesFloodingOneHost) {
  server_.reset();
  StartServer({.env = {{"NEOSL_NET_ALLOW_PRIVATE", "127.0.0.1/32"},
                       {"NEOSL_ORACLE_ALLOW_HTTP", "true"},
                       {"NEOSL_NET_PER_HOST_RATE", "1"},
                       {"NEOSL_NET_PER_HOST_BURST", "2"}}});
  TestServer source([](const ReceivedRequest&) { return JsonReply("[1]"); });
  // Eight requests at once-a-few-milliseconds: the burst of two gets through, and the rest,
  // unless the run stalls for seconds, finds the bucket empty (a token a second).
  int successes = 0, limited = 0;
  for (int i = 0; i < 8; ++i) {
    auto r = Send("POST", "/v1/oracle/requests", json::serialize(json::object{{"url", source.Url("/")}}));
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string code = Str(Json(r), "code");
    if (code == "Success") ++successes;
    if (code == "Error" && Str(Json(r), "detail").find("rate limited") != std::string::npos) ++limited;
  }
  EXPECT_GE(successes, 2);
  EXPECT_GE(limited, 1);
  EXPECT_EQ(successes + limited, 8);
  EXPECT_EQ(source.requests().size(), size_t(successes)) << "a limited fetch never reaches the host";
}

TEST_F(OracleE2eTest, BadRequestsAre400WithTheFieldNamed) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({})", "url"},
      {R"({"url": "https://a.example/", "sources": [{"url": "https://b.example/"}]})", "url"},
      {R"({"url": "ftp://a.example/"})", "url"},
      {R"({"url": "https://a.example/", "filter": "$.a[", "consensus": {}})", "filter"},
      {R"({"url": "https://a.example/", "consensus": {"rule": "mode"}})", "consensus.rule"},
      {R"({"sources": [{"url": "https://a.example/"}], "consensus": {"rule": "m-of-n", "m": 2}})", "consensus"},
      {R"({"url": "https://a.example/", "headers": [{"name": "X", "value": "{{secrets.bad name}}"}]})", "headers"},
      {R"({"url": "https://a.example/", "headers": [{"name": "Host", "value": "b.example"}]})", "headers"},
  };
  for (const auto& [body, field] : cases) {
    auto r = Send("POST", "/v1/oracle/requests", body);
    EXPECT_EQ(r.status, 400) << body << " → " << r.body;
    EXPECT_EQ(ErrorCode(r), "INVALID_ARGUMENT") << body;
    EXPECT_NE(r.body.find(field), std::string::npos) << body << " → " << r.body;
  }
  auto g = Send("GET", "/v1/oracle/requests/orc_nope");
  EXPECT_EQ(g.status, 400) << g.body;
  auto n = Send("GET", "/v1/oracle/requests/orc_aaaaaaaaaaaaaaaaaaaa");
  EXPECT_EQ(n.status, 404) << n.body;
}

}  // namespace
}  // namespace neosl::testing
