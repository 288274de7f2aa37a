// The automation REST routes' table (src/gateway/grpc_routes.cpp): each route's method, role and
// schemas, and what protobuf's JSON mapping cannot do alone — "payload" sent as any JSON reaches
// the service as the exact text payload_json, and payload_json and a run's context_json print
// back as JSON values, at the top level and inside lists.
#include <chrono>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "gateway/grpc_routes.h"
#include "gateway/json_schema.h"
#include "services/automation/spec.h"
#include <google/protobuf/util/json_util.h>

namespace neosl::automation {
namespace {

namespace json = boost::json;
namespace pb = google::protobuf;

const gateway::MeshRoute& Route(const std::vector<gateway::MeshRoute>& routes, const std::string& operation) {
  for (const gateway::MeshRoute& r : routes) {
    if (r.operation_id == operation) return r;
  }
  ADD_FAILURE() << "no route " << operation;
  return routes.front();
}

// What the gateway does with a body before the call: validate, then request_json.
StatusOr<std::string> RequestJson(const gateway::MeshRoute& route, const std::string& body) {
  ASSIGN_OR_RETURN(json::value validated, gateway::ParseAndValidate(body, *route.request));
  gateway::HttpRequest http{"POST", route.path, body, "127.0.0.1", {}};
  gateway::RequestContext ctx{http, {}, std::nullopt, std::move(validated), "trace"};
  return route.request_json(ctx);
}

// And with the answer: print as the gateway does, then response_json.
std::string Printed(const gateway::MeshRoute& route, const pb::Message& response) {
  pb::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  print.always_print_primitive_fields = true;
  std::string out;
  EXPECT_TRUE(pb::util::MessageToJsonString(response, &out, print).ok());
  auto edited = route.response_json(out);
  EXPECT_TRUE(edited.ok()) << edited.status().ToString();
  return edited.ok() ? *edited : std::string();
}

TEST(AutomationRoutesTest, TableOfRoutes) {
  const std::vector<gateway::MeshRoute> routes = gateway::BuiltinMeshRoutes();
  struct Expected {
    std::string method, path, operation, rpc;
    gateway::Role role;
    int status;
  };
  for (const Expected& e : std::vector<Expected>{
           {"POST", "/v1/triggers", "CreateTrigger", "CreateTrigger", gateway::Role::kDeveloper, 201},
           {"GET", "/v1/triggers", "ListTriggers", "ListTriggers", gateway::Role::kViewer, 200},
           {"GET", "/v1/triggers/{id}", "GetTrigger", "GetTrigger", gateway::Role::kViewer, 200},
           {"DELETE", "/v1/triggers/{id}", "DeleteTrigger", "DeleteTrigger", gateway::Role::kDeveloper, 200},
           {"POST", "/v1/triggers/{id}/pause", "PauseTrigger", "PauseTrigger", gateway::Role::kDeveloper, 200},
           {"POST", "/v1/triggers/{id}/resume", "ResumeTrigger", "ResumeTrigger", gateway::Role::kDeveloper, 200},
           {"POST", "/v1/triggers/{id}/run", "RunTrigger", "RunTrigger", gateway::Role::kDeveloper, 200},
           {"GET", "/v1/triggers/{id}/runs", "ListTriggerRuns", "ListTriggerRuns", gateway::Role::kViewer, 200},
       }) {
    SCOPED_TRACE(e.operation);
    const gateway::MeshRoute& r = Route(routes, e.operation);
    EXPECT_EQ(r.method, e.method);
    EXPECT_EQ(r.path, e.path);
    EXPECT_EQ(r.rpc, "/neosl.automation.v1.Automation/" + e.rpc);
    EXPECT_EQ(r.service, "automation");
    EXPECT_EQ(r.tag, "automation");
    EXPECT_EQ(r.role, e.role);
    EXPECT_EQ(r.success_status, e.status);
    ASSERT_NE(r.response, nullptr);
    EXPECT_TRUE(r.response->ToJsonSchema().is_object());
    EXPECT_NE(r.response_json, nullptr);
    EXPECT_EQ(r.request != nullptr, e.operation == "CreateTrigger" || e.operation == "RunTrigger");
    const bool paged = e.operation == "ListTriggers" || e.operation == "ListTriggerRuns";
    EXPECT_EQ(r.query.size(), paged ? 2u : 0u);
    // Only a manual run waits for long (its transaction), and running it twice is a second run.
    EXPECT_EQ(r.async, e.operation == "RunTrigger" ? gateway::MeshRoute::Async::kOnce : gateway::MeshRoute::Async::kNo);
  }
}

TEST(AutomationRoutesTest, RunTriggerWaitsLongerThanTheServiceAndPrintsTheRun) {
  const std::vector<gateway::MeshRoute> routes = gateway::BuiltinMeshRoutes();
  const gateway::MeshRoute& run_now = Route(routes, "RunTrigger");
  // The service answers DEADLINE_EXCEEDED, naming the run, after 60 s: the gateway's own deadline
  // must not cut it short.
  EXPECT_GT(run_now.timeout, std::chrono::milliseconds(60'000));
  // No body, or an empty one: the request carries the path's id alone.
  for (const std::string body : {"", "{}"}) {
    auto request_json = RequestJson(run_now, body);
    ASSERT_TRUE(request_json.ok()) << request_json.status().ToString();
    automationpb::RunTriggerRequest request;
    EXPECT_TRUE(pb::util::JsonStringToMessage(*request_json, &request).ok()) << *request_json;
  }
  EXPECT_EQ(RequestJson(run_now, R"({"id": "tg_other"})").status().code(), StatusCode::kInvalidArgument);

  RunRecord run;
  run.id = ManualRunId("tg_abcdefghijklmnopqrst", 1'780'000'000'123);
  run.trigger_id = "tg_abcdefghijklmnopqrst";
  run.status = RunStatus::kSucceeded;
  run.context_json = R"({"manual":true,"requested_at":"2026-05-28T20:26:40.123Z"})";
  run.tx_hash = "0x" + std::string(64, 'a');
  automationpb::TriggerRun printed;
  RenderRun(run, &printed);
  json::value shown = json::parse(Printed(run_now, printed));
  EXPECT_EQ(shown.at("id").as_string(), "tg_abcdefghijklmnopqrst:m:1780000000123");
  EXPECT_TRUE(shown.at("context").at("manual").as_bool());
  EXPECT_EQ(shown.at("tx_hash").as_string(), run.tx_hash);
  EXPECT_EQ(shown.as_object().count("context_json"), 0u);
}

TEST(AutomationRoutesTest, PayloadGoesInAsTextAndComesBackAsJson) {
  const std::vector<gateway::MeshRoute> routes = gateway::BuiltinMeshRoutes();
  const gateway::MeshRoute& create = Route(routes, "CreateTrigger");
  const std::string payload = R"({"n": 1.50, "big": 123456789012345678901234567890, "s": "\u00e9"})";
  auto request_json = RequestJson(create, R"({"name": "every-minute", "interval": {"every_ms": 60000},
      "action": {"webhook": {"url": "https://example.com/hook", "headers": {"X-Key": "k"}}},
      "payload": )" + payload + R"(, "retry": {"max_attempts": 5}, "max_runs": 3, "paused": true})");
  ASSERT_TRUE(request_json.ok()) << request_json.status().ToString();
  automationpb::CreateTriggerRequest request;
  ASSERT_TRUE(pb::util::JsonStringToMessage(*request_json, &request).ok()) << *request_json;
  EXPECT_EQ(request.payload_json(), payload);  // the text as sent: 1.50 and the big number intact
  EXPECT_EQ(request.interval().every_ms(), 60'000);
  EXPECT_EQ(request.action().webhook().headers().at("X-Key"), "k");
  EXPECT_EQ(request.retry().max_attempts(), 5u);
  EXPECT_EQ(request.max_runs(), 3u);
  EXPECT_TRUE(request.paused());

  auto spec = SpecFromRequest(request, 1'780'000'000'000, {});
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  TriggerRecord t;
  t.id = "tg_abcdefghijklmnopqrst";
  t.spec = *spec;
  automationpb::Trigger trigger;
  RenderTrigger(t, &trigger);
  const std::string shown = Printed(create, trigger);
  EXPECT_NE(shown.find("\"payload\":" + payload), std::string::npos) << shown;
  EXPECT_EQ(shown.find("payload_json"), std::string::npos) << shown;
  json::value parsed = json::parse(shown);
  EXPECT_EQ(parsed.at("name").as_string(), "every-minute");
  EXPECT_EQ(parsed.at("payload").at("s").as_string(), "\xc3\xa9");

  // Without a payload the service fills in null, and null is what prints.
  request_json = RequestJson(create, R"({"name": "x", "block": {"every": 10},
      "action": {"function": {"function_id": "fn_abcdefghijklmnopqrst"}}})");
  ASSERT_TRUE(request_json.ok()) << request_json.status().ToString();
  EXPECT_EQ(json::parse(*request_json).as_object().count("payload_json"), 0u);
  // Lists: every trigger's payload, and nothing else that happens to share the name.
  const gateway::MeshRoute& list = Route(routes, "ListTriggers");
  automationpb::ListTriggersResponse page;
  *page.add_triggers() = trigger;
  t.spec.payload_json = "null";
  t.spec.action = WebhookAction{"https://example.com/", {{"payload_json", "not json"}}};
  RenderTrigger(t, page.add_triggers());
  page.set_next_page_token("abc");
  json::value listed = json::parse(Printed(list, page));
  EXPECT_EQ(listed.at("triggers").at(0).at("payload").at("n").as_double(), 1.5);
  EXPECT_TRUE(listed.at("triggers").at(1).at("payload").is_null());
  EXPECT_EQ(listed.at("triggers").at(1).at("action").at("webhook").at("headers").at("payload_json").as_string(),
            "not json");
  EXPECT_EQ(listed.at("next_page_token").as_string(), "abc");
}

TEST(AutomationRoutesTest, RunsPrintTheirContextAsJson) {
  const std::vector<gateway::MeshRoute> routes = gateway::BuiltinMeshRoutes();
  automationpb::ListTriggerRunsResponse page;
  RunRecord run;
  run.id = BlockRunId("tg_abcdefghijklmnopqrst", 7);
  run.context_json = R"({"height":7,"hash":"0xab"})";
  RenderRun(run, page.add_runs());
  run.context_json = "";
  RenderRun(run, page.add_runs());
  json::value listed = json::parse(Printed(Route(routes, "ListTriggerRuns"), page));
  EXPECT_EQ(listed.at("runs").at(0).at("context").at("height").as_int64(), 7);
  EXPECT_TRUE(listed.at("runs").at(1).at("context").is_null());
  EXPECT_FALSE(listed.at("runs").at(0).as_object().contains("context_json"));
}

TEST(AutomationRoutesTest, BodiesAreChecked) {
  const std::vector<gateway::MeshRoute> routes = gateway::BuiltinMeshRoutes();
  const gateway::MeshRoute& create = Route(routes, "CreateTrigger");
  const std::string action = R"("action": {"function": {"function_id": "fn_abcdefghijklmnopqrst"}})";
  for (const auto& [body, field] : std::vector<std::pair<std::string, std::string>>{
           {R"({"name": "x", "block": {"every": 1}, "color": "red", )" + action + "}", "color"},
           {R"({"name": "x", "block": {"every": 1}, "payload_json": "1", )" + action + "}", "payload_json"},
           {R"({"name": "x", "block": {"every": 1}, "payload": 1, "payload": 2, )" + action + "}", "payload"},
           {R"({"name": "bad name", "block": {"every": 1}, )" + action + "}", "name"},
           {R"({"name": "x", "block": {"every": 1}})", "action"},
           {R"({"name": "x", "block": {"every": -1}, )" + action + "}", "block.every"},
           {R"({"name": "x", "block": {"every": 1}, "catch_up": "never", )" + action + "}", "catch_up"},
       }) {
    SCOPED_TRACE(body);
    auto json_text = RequestJson(create, body);
    EXPECT_EQ(json_text.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(json_text.status().message().find(field), std::string_view::npos) << json_text.status().ToString();
  }
}

}  // namespace
}  // namespace neosl::automation
