#include "gateway/grpc_routes.h"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include <boost/json.hpp>

#include "gateway/json_schema.h"
#include "gateway/json_text.h"
#include "runtime/runner.h"
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>

namespace neosl::gateway {
namespace {

namespace pb = google::protobuf;
namespace json = boost::json;

struct Bound {
  MeshRoute route;
  const pb::Message* request_prototype;
  const pb::Message* response_prototype;
};

const pb::MethodDescriptor* FindRpc(const std::string& rpc) {
  if (rpc.size() < 4 || rpc[0] != '/') return nullptr;
  std::string full = rpc.substr(1);
  auto slash = full.find('/');
  if (slash == std::string::npos) return nullptr;
  full[slash] = '.';
  return pb::DescriptorPool::generated_pool()->FindMethodByName(full);
}

Status SetPathParam(pb::Message& message, const std::string& name, const std::string& value) {
  const pb::FieldDescriptor* field = message.GetDescriptor()->FindFieldByName(name);
  if (!field || field->is_repeated() || field->type() != pb::FieldDescriptor::TYPE_STRING) {
    return InternalError("path parameter {" + name + "} has no string field in " + message.GetTypeName());
  }
  message.GetReflection()->SetString(&message, field, value);
  return Status();
}

Status SetQueryParam(pb::Message& message, const std::string& name, const std::string& value) {
  const pb::FieldDescriptor* field = message.GetDescriptor()->FindFieldByName(name);
  if (!field || field->is_repeated()) return InternalError("query parameter " + name + " has no field");
  const pb::Reflection* r = message.GetReflection();
  auto as_int = [&](int64_t lo, int64_t hi) -> StatusOr<int64_t> {
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || errno != 0 || *end != '\0' || v < lo || v > hi) {
      return InvalidArgumentError("query parameter " + name + " must be an integer")
          .WithDetail(ErrorDetail{"FieldViolation", {}}.Add("field", name).Add("description", "not an integer"));
    }
    return int64_t(v);
  };
  switch (field->type()) {
    case pb::FieldDescriptor::TYPE_STRING: r->SetString(&message, field, value); return Status();
    case pb::FieldDescriptor::TYPE_INT64: {
      ASSIGN_OR_RETURN(int64_t v, as_int(INT64_MIN, INT64_MAX));
      r->SetInt64(&message, field, v);
      return Status();
    }
    case pb::FieldDescriptor::TYPE_INT32: {
      ASSIGN_OR_RETURN(int64_t v, as_int(INT32_MIN, INT32_MAX));
      r->SetInt32(&message, field, int32_t(v));
      return Status();
    }
    case pb::FieldDescriptor::TYPE_UINT32: {
      ASSIGN_OR_RETURN(int64_t v, as_int(0, UINT32_MAX));
      r->SetUInt32(&message, field, uint32_t(v));
      return Status();
    }
    default: return InternalError("query parameter " + name + " maps to an unsupported field type");
  }
}

StatusOr<Reply> Serve(const Bound& bound, mesh::MeshClient& client, RequestContext& ctx) {
  std::unique_ptr<pb::Message> request(bound.request_prototype->New());
  std::unique_ptr<pb::Message> response(bound.response_prototype->New());
  if (bound.route.request) {
    pb::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    std::string body(ctx.http.body);
    if (bound.route.request_json) {
      ASSIGN_OR_RETURN(body, bound.route.request_json(ctx));
    }
    auto parsed = pb::util::JsonStringToMessage(body, request.get(), options);
    if (!parsed.ok()) {
      return InvalidArgumentError("request body does not match " + request->GetTypeName() + ": " +
                                  std::string(parsed.message()));
    }
  }
  for (const auto& [name, value] : ctx.path_params) RETURN_IF_ERROR(SetPathParam(*request, name, value));
  for (const auto& [name, description] : bound.route.query) {
    std::string value;
    if (ctx.http.QueryParam(name, &value)) RETURN_IF_ERROR(SetQueryParam(*request, name, value));
  }

  mesh::CallOptions options;
  options.trace_id = ctx.trace_id;
  if (bound.route.timeout.count() > 0) options.timeout = bound.route.timeout;
  if (ctx.principal) {
    options.account = ctx.principal->account.str();
    std::string roles;
    for (Role r : ctx.principal->roles) {
      if (!roles.empty()) roles += ",";
      roles += RoleName(r);
    }
    options.roles = std::move(roles);
    options.actor = "key:" + ctx.principal->key.str();
  }
  RETURN_IF_ERROR(client.Call(bound.route.service, bound.route.rpc, *request, response.get(), options));

  if (bound.route.raw_response) {
    ASSIGN_OR_RETURN(std::optional<RawBody> raw, bound.route.raw_response(ctx, *response));
    if (raw) {
      Reply reply;
      reply.status = bound.route.success_status;
      reply.content_type = std::move(raw->content_type);
      reply.body = std::move(raw->body);
      return reply;
    }
  }
  pb::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  print.always_print_primitive_fields = true;
  Reply reply;
  reply.status = bound.route.success_status;
  auto printed = pb::util::MessageToJsonString(*response, &reply.body, print);
  if (!printed.ok()) return InternalError("cannot render " + response->GetTypeName() + " as JSON");
  if (bound.route.response_json) {
    ASSIGN_OR_RETURN(reply.body, bound.route.response_json(std::move(reply.body)));
  }
  return reply;
}

// ---- functions: JSON values the service carries as text ----

Status BodyField(std::string_view field, std::string_view description) {
  return InvalidArgumentError("field '" + std::string(field) + "': " + std::string(description))
      .WithDetail(ErrorDetail{"FieldViolation", {}}
                      .Add("field", std::string(field))
                      .Add("description", std::string(description)));
}

// The text of the top-level member `key` of a valid JSON object, exactly as sent; nullopt when
// absent. Other members are refused (these bodies have no other fields) unless `others`.
StatusOr<std::optional<std::string_view>> RawMember(std::string_view body, std::string_view key, bool others = false) {
  std::optional<std::string_view> found;
  size_t i = SkipSpace(body, 0);
  if (i >= body.size()) return found;  // an empty body reads as {}
  if (body[i] != '{') return BodyField("(body)", "expected object");
  i = SkipSpace(body, i + 1);
  while (i < body.size() && body[i] == '"') {
    size_t end = SkipString(body, i);
    boost::system::error_code ec;
    json::value name = json::parse(body.substr(i, end - i), ec);
    if (ec || !name.is_string()) return BodyField("(body)", "bad member name");
    i = SkipSpace(body, end);
    if (i >= body.size() || body[i] != ':') return BodyField("(body)", "expected ':'");
    i = SkipSpace(body, i + 1);
    size_t value_end = SkipValue(body, i);
    if (name.as_string() != key && !others) return BodyField(std::string(name.as_string()), "unknown field");
    if (name.as_string() == key) {
      if (found) return BodyField(key, "given twice");
      found = body.substr(i, value_end - i);
    }
    i = SkipSpace(body, value_end);
    if (i < body.size() && body[i] == ',') i = SkipSpace(body, i + 1);
  }
  return found;
}

// POST /v1/functions/{id}/invoke: {"args": <any JSON>} → {"args_json": "<that JSON, as sent>"}.
StatusOr<std::string> InvokeRequestJson(const RequestContext& ctx) {
  ASSIGN_OR_RETURN(auto args, RawMember(ctx.http.body, "args"));
  json::object request;
  if (args) request["args_json"] = *args;
  return json::serialize(request);
}

// PUT /v1/functions/{id}: "secrets": [..] replaces the list, so the message needs its presence.
StatusOr<std::string> UpdateRequestJson(const RequestContext& ctx) {
  json::object body = ctx.body.is_object() ? ctx.body.as_object() : json::object();
  if (auto* secrets = body.if_contains("secrets")) *secrets = json::object{{"names", *secrets}};
  return json::serialize(body);
}

// Executions: "result" and "args" as JSON values beside the exact texts the proof covers.
StatusOr<std::string> ExecutionResponseJson(std::string printed) {
  boost::system::error_code ec;
  json::value parsed = json::parse(printed, ec);
  if (ec || !parsed.is_object()) return InternalError("execution rendered as something other than an object");
  auto text = [&](std::string_view field) -> std::string {
    const json::value* v = parsed.as_object().if_contains(field);
    if (!v || !v->is_string() || v->as_string().empty()) return "null";
    std::string s(v->as_string());
    boost::system::error_code bad;
    json::parse(s, bad);
    return bad ? std::string("null") : s;
  };
  // Spliced as text, so numbers reach the caller exactly as the function wrote them.
  std::string result = text("result_json");
  std::string args = text("args_json");
  size_t close = printed.rfind('}');
  if (close == std::string::npos) return InternalError("execution rendered without a closing brace");
  printed.resize(close);
  printed += ",\"result\":" + result + ",\"args\":" + args + "}";
  return printed;
}

// The functions service's routes (docs/functions.md).
std::vector<MeshRoute> FunctionRoutes() {
  constexpr char kNameChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
  auto name = String().Length(1, 64).Charset(kNameChars, "^[A-Za-z0-9_-]{1,64}$");
  auto secrets = Array(name).MaxItems(int64_t(runtime::kMaxSecretsPerFunction));
  auto limits =
      Object({{"timeout_ms", Integer()
                                 .Range(runtime::kMinTimeout.count(), runtime::kMaxTimeout.count())
                                 .Describe("wall-clock limit of one invocation (default 10000)")},
              {"memory_mb", Integer()
                                .Range(int64_t(runtime::kMinMemoryBytes >> 20), int64_t(runtime::kMaxMemoryBytes >> 20))
                                .Describe("memory limit of one invocation (default 128)")}});
  auto source = String()
                    .Length(1, int64_t(runtime::kMaxSourceBytes))
                    .Describe(
                        "an ES module with `export default async function (request, context)`; at most "
                        "256 KiB of UTF-8");
  auto description = String().Length(0, 1024).Describe("at most 1 KiB");
  auto create = Object({{"name", name, kRequired},
                        {"source", source, kRequired},
                        {"secrets", Array(name)
                                        .MaxItems(int64_t(runtime::kMaxSecretsPerFunction))
                                        .Describe("names of the account's secrets the function may read")},
                        {"limits", limits},
                        {"description", description}});
  auto update = Object({{"source", source},
                        {"secrets", Array(name)
                                        .MaxItems(int64_t(runtime::kMaxSecretsPerFunction))
                                        .Describe("replaces the list; [] revokes every grant")},
                        {"limits", limits},
                        {"description", description}})
                    .Describe("fields left out keep their value; the function gets a new version");
  auto function =
      Object({{"id", String().Describe("fn_…")},
              {"name", String()},
              {"description", String()},
              {"version", Integer().Describe("the version shown")},
              {"current_version", Integer()},
              {"source", String().Describe("GET of one function only")},
              {"source_hash", String().Describe("hex SHA-256 of the source; signed into every execution")},
              {"secrets", secrets},
              {"limits", limits},
              {"created_at", String()},
              {"updated_at", String().Describe("when the version shown was made")},
              {"missing_secrets", Array(String()).Describe("create/update: granted names with no secret stored yet")}});
  auto function_list = Object({{"functions", Array(function)}, {"next_page_token", String()}});
  auto deleted = Object({{"id", String()}, {"deleted", Boolean()}});
  auto invoke = Object({}).AllowAdditional().Describe(
      "{\"args\": <any JSON value, at most 30 KiB>}; the function gets it as request.args "
      "(null when left out)");
  auto execution =
      Object(
          {{"id", String().Describe("ex_…")},
           {"function_id", String()},
           {"version", Integer()},
           {"trigger", String().OneOf({"api", "schedule", "chain_event"})},
           {"status", String().OneOf({"succeeded", "failed"})},
           {"result_json", String().Describe("the result as the exact JSON text the signature covers")},
           {"error_json", String().Describe("failed: {\"code\",\"message\"} as the exact text the signature covers")},
           {"error", Object({{"code", String()},
                             {"message", String()},
                             {"line", Integer()},
                             {"column", Integer()},
                             {"stack", String()}})},
           {"logs", Array(Object({{"at", String()}, {"level", String()}, {"message", String()}}))},
           {"logs_truncated", Boolean()},
           {"started_at", String()},
           {"duration_ms", Number()},
           {"cold", Boolean().Describe("the code was compiled for this invocation")},
           {"args_json", String().Describe("the args as the exact JSON text args_hash covers")},
           {"source_hash", String()},
           {"args_hash", String()},
           {"result_hash", String()},
           {"enclave_signature", String().Describe("ECDSA P-256 r||s (hex) by the enclave's report key")},
           {"signing_key", String().Describe("the report key (compressed, hex)")}})
          .AllowAdditional()
          .Describe("plus \"result\" and \"args\": result_json and args_json as JSON values (null when absent)");
  auto execution_list = Object({{"executions", Array(execution).Describe("newest first; without args, result, logs")},
                                {"next_page_token", String()}});
  const std::string svc = "functions";
  const std::string rpc = "/neosl.functions.v1.Functions/";
  std::vector<std::pair<std::string, std::string>> paging = {{"limit", "1..100 (default 50)"},
                                                             {"page_token", "next_page_token of the previous page"}};
  // An invocation may run for the longest limit, and wait in the runtime's queue before.
  const auto invoke_timeout = runtime::kMaxTimeout + std::chrono::milliseconds(5000);
  return {
      MeshRoute{"POST", "/v1/functions", "CreateFunction", "Deploy a JavaScript function (version 1)", "functions",
                Role::kDeveloper, svc, rpc + "CreateFunction", create, function, 201},
      MeshRoute{"GET", "/v1/functions", "ListFunctions", "The account's functions by name (no sources)", "functions",
                Role::kViewer, svc, rpc + "ListFunctions", nullptr, function_list, 200, paging},
      MeshRoute{"GET",
                "/v1/functions/{id}",
                "GetFunction",
                "A function with its source, at its current or an earlier version",
                "functions",
                Role::kViewer,
                svc,
                rpc + "GetFunction",
                nullptr,
                function,
                200,
                {{"version", "a version of the function (default: the current one)"}}},
      MeshRoute{"PUT",
                "/v1/functions/{id}",
                "UpdateFunction",
                "Make a new version of a function",
                "functions",
                Role::kDeveloper,
                svc,
                rpc + "UpdateFunction",
                update,
                function,
                200,
                {},
                {},
                UpdateRequestJson},
      MeshRoute{"DELETE", "/v1/functions/{id}", "DeleteFunction",
                "Delete a function, its versions and executions, and revoke its secrets", "functions", Role::kDeveloper,
                svc, rpc + "DeleteFunction", nullptr, deleted},
      MeshRoute{"POST",
                "/v1/functions/{id}/invoke",
                "InvokeFunction",
                "Run a function in the enclave; the answer is the signed execution (a function that fails is 200 "
                "with status failed)",
                "functions",
                Role::kInvoker,
                svc,
                rpc + "InvokeFunction",
                invoke,
                execution,
                200,
                {},
                invoke_timeout,
                InvokeRequestJson,
                ExecutionResponseJson},
      MeshRoute{"GET", "/v1/functions/{id}/executions", "ListExecutions", "A function's executions, newest first",
                "functions", Role::kViewer, svc, rpc + "ListExecutions", nullptr, execution_list, 200, paging},
      MeshRoute{"GET",
                "/v1/executions/{id}",
                "GetExecution",
                "One execution with its result, logs and proof",
                "functions",
                Role::kViewer,
                svc,
                rpc + "GetExecution",
                nullptr,
                execution,
                200,
                {},
                {},
                nullptr,
                ExecutionResponseJson},
  };
}
}  // namespace

void RegisterMeshRoutes(Gateway& gateway, mesh::MeshClient& client, const std::vector<MeshRoute>& routes,
                        Operations* operations) {
  for (const MeshRoute& r : routes) {
    const pb::MethodDescriptor* method = FindRpc(r.rpc);
    if (!method) {
      std::fprintf(stderr, "neosl: route %s %s names unknown rpc %s\n", r.method.c_str(), r.path.c_str(),
                   r.rpc.c_str());
      std::abort();
    }
    auto* factory = pb::MessageFactory::generated_factory();
    auto bound = std::make_shared<Bound>(
        Bound{r, factory->GetPrototype(method->input_type()), factory->GetPrototype(method->output_type())});
    Route route;
    route.method = r.method;
    route.path = r.path;
    route.operation_id = r.operation_id;
    route.summary = r.summary;
    route.tag = r.tag;
    route.role = r.role;
    route.request = r.request;
    route.response = r.response;
    route.success_status = r.success_status;
    route.query = r.query;
    route.description = r.description;
    route.handler = [bound, &client](RequestContext& ctx) { return Serve(*bound, client, ctx); };
    route.blocking = true;
    if (operations && r.async != MeshRoute::Async::kNo) {
      route = operations->Asynchronous(std::move(route), r.async == MeshRoute::Async::kResumable, r.async_withhold);
    }
    gateway.AddRoute(std::move(route));
  }
}

namespace {

// Random (docs/random.md): verifiable words from the enclave's VRF key.
std::vector<MeshRoute> RandomRoutes() {
  constexpr char kHex[] = "0123456789abcdefABCDEF";
  auto hex = [&](int64_t min_bytes, int64_t max_bytes, const char* pattern) {
    return String().Length(2 * min_bytes, 2 * max_bytes).Charset(kHex, pattern);
  };
  auto generate = Object(
      {{"seed", hex(0, 64, "^([0-9a-fA-F]{2}){0,64}$").Describe("optional: your own bytes, bound into alpha (≤ 64)")},
       {"num_words", Integer().Range(1, 500).Describe("how many 32-byte words"), kRequired}});
  auto result = Object({{"request_id", String().Describe("rnd_…")},
                        {"seed", String().Describe("hex, as given")},
                        {"num_words", Integer()},
                        {"alpha", String().Describe("hex: the VRF input, binding account, request id and seed")},
                        {"randomness", Array(String()).Describe("the words, hex: SHA-256(output ‖ U32BE(i))")},
                        {"output", String().Describe("hex: beta = ECVRF_proof_to_hash(proof)")},
                        {"proof", String().Describe("hex: ECVRF-P256-SHA256-TAI proof (81 bytes)")},
                        {"public_key", String().Describe("hex: the enclave's VRF key, as in /v1/attestation")},
                        {"created_at", String()}});
  auto verify = Object(
      {{"public_key", hex(33, 65, "^[0-9a-fA-F]{66,130}$").Describe("a P-256 point, compressed or not"), kRequired},
       {"alpha", hex(0, 4096, "^([0-9a-fA-F]{2}){0,4096}$"), kRequired},
       {"proof", hex(1, 256, "^([0-9a-fA-F]{2}){1,256}$").Describe("81 bytes for this suite"), kRequired},
       {"num_words", Integer().Range(0, 500).Describe("also derive this many words from the output")}});
  auto verified = Object({{"valid", Boolean()},
                          {"reason", String().Describe("why not, when not valid")},
                          {"output", String()},
                          {"randomness", Array(String())}});
  return {
      MeshRoute{"POST", "/v1/random", "GenerateRandom", "Draw verifiable random words (ECVRF, RFC 9381)", "random",
                Role::kInvoker, "random", "/neosl.random.v1.Random/GenerateRandom", generate, result},
      MeshRoute{"GET", "/v1/random/{id}", "GetRandom", "A random request again: the same words and proof", "random",
                Role::kViewer, "random", "/neosl.random.v1.Random/GetRandom", nullptr, result},
      MeshRoute{"POST", "/v1/random/verify", "VerifyRandom",
                "Check any ECVRF-P256-SHA256-TAI proof against any public key", "random", Role::kViewer, "random",
                "/neosl.random.v1.Random/VerifyRandom", verify, verified},
  };
}

// Oracle (docs/oracle.md): external data, fetched, filtered and signed in the enclave.
std::vector<MeshRoute> OracleRoutes() {
  auto header =
      Object({{"name", String().Length(1, 256), kRequired},
              {"value", String().Length(0, 8192).Describe("may hold {{secrets.NAME}}, filled in the enclave")}});
  auto headers = Array(header).MaxItems(16).Describe("request headers (at most 16)");
  auto url = String().Length(1, 2048).Describe("https:// (http:// where the operator allows it)");
  auto filter = String().Length(0, 256).Describe("Neo JPath, e.g. $.data.price; empty: the body as it came");
  auto source = Object({{"url", url, kRequired}, {"filter", filter}, {"headers", headers}});
  auto consensus =
      Object({{"rule", String().OneOf({"all-equal", "majority", "median", "m-of-n"}).Describe("default all-equal")},
              {"m", Integer().Range(0, 16).Describe("m-of-n: sources that must agree")},
              {"max_spread_bps", Integer().Range(0, 1000000).Describe("median: (max - min) / median, basis points")},
              {"min_sources", Integer().Range(0, 16).Describe("median: successes needed (0: a majority)")}});
  auto create = Object({{"url", url},
                        {"filter", filter},
                        {"headers", headers},
                        {"sources", Array(source).MaxItems(16).Describe("several sources instead of url (at most 16)")},
                        {"consensus", consensus},
                        {"async", Boolean().Describe("answer 200 with the pending request at once")},
                        {"function_id", String().Length(0, 64).Describe(
                                            "post-process with one of your functions: it gets {request_id, result} "
                                            "and its return value is the result")}});
  auto source_result = Object({{"url", String()},
                               {"code", String().Describe("Neo's OracleResponseCode name")},
                               {"detail", String()},
                               {"result_hash", String().Describe("hex SHA-256 of the source's filtered result")},
                               {"agreed", Boolean().Describe("part of the consensus answer")}});
  auto result =
      Object({{"request_id", String().Describe("orc_…")},
              {"status", String().Describe("pending | succeeded | failed")},
              {"code", String().Describe("Neo's OracleResponseCode: Success, NotFound, Timeout, …")},
              {"code_value", Integer().Describe("its byte value")},
              {"result", String().Describe("the filtered result (for a JPath filter, a JSON array as text)")},
              {"result_hash", String()},
              {"sources", Array(source_result)},
              {"consensus", consensus},
              {"request_sources", Array(source).Describe("the sources as asked; header values are never stored")},
              {"signature", String().Describe("hex r ‖ s by the report key over SHA-256(record)")},
              {"record", String().Describe("hex of the signed record (docs/oracle.md)")},
              {"public_key", String().Describe("hex: the enclave's report key, as in /v1/attestation")},
              {"created_at", String()},
              {"completed_at", String()},
              {"detail", String().Describe("why the outcome is not Success")},
              {"function_id", String().Describe("the post-processing function, if any")},
              {"function_version", Integer()},
              {"execution_id", String().Describe("its execution (GET /v1/executions/{id})")},
              {"fetched_result", String().Describe("the agreed result the function was given")}});
  // A request may take every source's timeout (they run at once, each at most 30 s).
  const auto timeout = std::chrono::milliseconds(40'000);
  return {
      MeshRoute{"POST",
                "/v1/oracle/requests",
                "CreateOracleRequest",
                "Fetch external data through the enclave: filtered, agreed on and signed",
                "oracle",
                Role::kInvoker,
                "oracle",
                "/neosl.oracle.v1.Oracle/CreateOracleRequest",
                create,
                result,
                200,
                {},
                timeout},
      MeshRoute{"GET", "/v1/oracle/requests/{id}", "GetOracleRequest", "An oracle request and its outcome", "oracle",
                Role::kViewer, "oracle", "/neosl.oracle.v1.Oracle/GetOracleRequest", nullptr, result},
  };
}

// Price feed (docs/pricefeed.md): venues aggregated and signed in the enclave, published to
// contracts by feeds.
std::vector<MeshRoute> PriceFeedRoutes() {
  auto quote = Object({{"venue", String()},
                       {"status", String().Describe("used, failed, stale or outlier")},
                       {"reason", String().Describe("why not used")},
                       {"price", String().Describe("the venue's price, decimal text")},
                       {"as_of", String().Describe("the venue's time for it, or when it was fetched")}});
  auto report = Object(
      {{"pair", String().Describe("NEO/USD")},
       {"price", String().Describe("int64 as a string: the price in 10^-decimals units")},
       {"decimals", Integer()},
       {"price_decimal", String().Describe("the same as decimal text")},
       {"timestamp_ms", String().Describe("int64 as a string: when the enclave decided the round")},
       {"timestamp", String()},
       {"round", String().Describe("uint64 as a string: the pair's round, increasing")},
       {"sources", Array(String()).Describe("the venues used")},
       {"quotes", Array(quote)},
       {"status", String().Describe("ok, or degraded: the last round missed its quorum and this report is older")},
       {"reason", String().Describe("why degraded")},
       {"record", String().Describe("hex of the signed report record (docs/pricefeed.md)")},
       {"signature", String().Describe("hex r ‖ s by the report key over SHA-256(record)")},
       {"chain_signature",
        String().Describe("hex: the report key over SHA-256(chain record), what updatePrice checks")},
       {"public_key", String().Describe("hex: the enclave's report key, as in /v1/attestation")},
       {"has_report", Boolean().Describe("false until a round of the pair has met its quorum")}});
  auto prices = Object({{"prices", Array(report)}});
  auto target = Object({{"contract", String().Length(1, 42).Describe("0x-prefixed script hash"), kRequired},
                        {"method", String().Length(0, 32).Describe(
                                       "default updatePrice(pair, price, decimals, timestamp, round, signature)")}});
  auto create = Object(
      {{"pair", String().Length(1, 32).Describe("NEO/USD (or NEO-USD)"), kRequired},
       {"deviation_bps", Integer().Range(0, 10000).Describe(
                             "publish on a move this large, basis points (0: pricefeed.default_deviation_bps)")},
       {"hysteresis_bps", Integer().Range(0, 10000).Describe(
                              "a move back right after a deviation update needs deviation + this (default half the "
                              "deviation)")},
       {"heartbeat_s",
        Integer().Range(0, 604800).Describe("publish at least this often, seconds (0: pricefeed.default_heartbeat_s)")},
       {"target", target}});
  auto update = Object({{"round", String()},
                        {"trigger", String().Describe("first, deviation, heartbeat or republish")},
                        {"price", String()},
                        {"price_decimal", String()},
                        {"timestamp", String()},
                        {"tx_hash", String()},
                        {"tx_state", String().Describe("queued, sent, halt, fault or failed")},
                        {"error", String()},
                        {"created_at", String()}});
  auto feed = Object({{"feed_id", String().Describe("fd_…")},
                      {"pair", String()},
                      {"deviation_bps", Integer()},
                      {"hysteresis_bps", Integer()},
                      {"heartbeat_s", Integer()},
                      {"target", target},
                      {"status", String().Describe("active, degraded (no quorum: not publishing) or deleted")},
                      {"reason", String()},
                      {"last_round", String()},
                      {"last_price", String()},
                      {"last_published_at", String()},
                      {"updates", String()},
                      {"recent_updates", Array(update).Describe("newest first, at most 10")},
                      {"created_at", String()},
                      {"deleted_at", String()}});
  auto feeds = Object({{"feeds", Array(feed)}});
  return {
      MeshRoute{"GET",
                "/v1/prices/{pair}",
                "GetPrice",
                "The latest signed price of a pair (NEO-USD)",
                "prices",
                Role::kViewer,
                "pricefeed",
                "/neosl.pricefeed.v1.PriceFeed/GetPrice",
                nullptr,
                report,
                200,
                {},
                std::chrono::milliseconds(40'000)},
      MeshRoute{"GET", "/v1/prices", "ListPrices", "Every pair observed here, with its latest report", "prices",
                Role::kViewer, "pricefeed", "/neosl.pricefeed.v1.PriceFeed/ListPrices", nullptr, prices},
      MeshRoute{"POST", "/v1/feeds", "CreateFeed", "Follow a pair: publish on deviation or heartbeat", "prices",
                Role::kDeveloper, "pricefeed", "/neosl.pricefeed.v1.PriceFeed/CreateFeed", create, feed, 201},
      MeshRoute{"GET", "/v1/feeds", "ListFeeds", "The account's feeds", "prices", Role::kViewer, "pricefeed",
                "/neosl.pricefeed.v1.PriceFeed/ListFeeds", nullptr, feeds},
      MeshRoute{"GET", "/v1/feeds/{id}", "GetFeed", "A feed, its state and its latest updates", "prices", Role::kViewer,
                "pricefeed", "/neosl.pricefeed.v1.PriceFeed/GetFeed", nullptr, feed},
      MeshRoute{"DELETE", "/v1/feeds/{id}", "DeleteFeed", "Stop a feed (updates already decided still go out)",
                "prices", Role::kDeveloper, "pricefeed", "/neosl.pricefeed.v1.PriceFeed/DeleteFeed", nullptr, feed},
  };
}

// raw_response for an export the service renders as text: when the query parameter `name` is
// `value`, the response's string field `field` is the body, of type `content_type`.
std::function<StatusOr<std::optional<RawBody>>(const RequestContext&, const pb::Message&)> TextExportWhen(
    const std::string& name, const std::string& value, const std::string& field, const std::string& content_type) {
  return [=](const RequestContext& ctx, const pb::Message& response) -> StatusOr<std::optional<RawBody>> {
    std::string given;
    if (!ctx.http.QueryParam(name, &given) || given != value) return std::optional<RawBody>();
    const pb::FieldDescriptor* text = response.GetDescriptor()->FindFieldByName(field);
    if (!text || text->is_repeated() || text->type() != pb::FieldDescriptor::TYPE_STRING) {
      return InternalError(response.GetTypeName() + " has no string field " + field);
    }
    return std::optional<RawBody>(RawBody{content_type, response.GetReflection()->GetString(response, text)});
  };
}

// Gas bank (docs/gasbank.md): the account's prepaid GAS, its ledger, usage and withdrawals.
// Amounts are int64 datoshi (1 GAS = 100000000), as strings in JSON, beside exact decimal GAS.
std::vector<MeshRoute> GasBankRoutes() {
  auto datoshi = [](const std::string& what) { return String().Describe("int64 as a string: " + what); };
  auto account =
      Object({{"account_id", String()},
              {"deposit_address", String().Describe("N3 address of the account's own deposit key: send GAS here")},
              {"deposit_script_hash", String().Describe("the same as a script hash, 0x-prefixed")},
              {"available", datoshi("datoshi the account can spend")},
              {"held", datoshi("datoshi reserved for work in progress")},
              {"pending_withdrawal", datoshi("datoshi on their way out, not yet settled on chain")},
              {"available_gas", String().Describe("available as exact decimal GAS: \"1.50000000\"")},
              {"confirmations", Integer().Describe("blocks after a deposit's block before it is credited")},
              {"pending_deposits", datoshi("deposits seen on chain, waiting for their confirmations")},
              {"charged", Boolean().Describe("false for the platform's own account, which nothing charges")}});
  auto line =
      Object({{"book", String().Describe("available, held, pending_withdrawal (the account's), revenue, custody (the "
                                         "platform's)")},
              {"amount", datoshi("positive credits the book")}});
  auto entry =
      Object({{"seq", datoshi("the entry's place in the journal")},
              {"kind", String().Describe("deposit, hold, settle, release, expire, withdrawal, withdrawal_settle, …")},
              {"service", String().Describe("the service the entry is for")},
              {"reference", String().Describe("the operation: an execution id, a transaction hash, …")},
              {"lines", Array(line).Describe("the account's and the platform's lines; every entry sums to zero")},
              {"available_change", datoshi("the entry's effect on the available balance")},
              {"created_at", String()}});
  auto ledger = Object({{"entries", Array(entry).Describe("newest first")},
                        {"next_page_token", String().Describe("empty on the last page")}});
  auto usage_row = Object({{"key", String().Describe("the day (YYYY-MM-DD, UTC) or the service")},
                           {"operations", datoshi("operations charged (settled holds)")},
                           {"charged", datoshi("datoshi charged")},
                           {"charged_gas", String()}});
  auto usage = Object({{"group", String().Describe("day or service")},
                       {"from", String().Describe("the range's start (inclusive), RFC 3339")},
                       {"to", String().Describe("its end (exclusive)")},
                       {"rows", Array(usage_row)},
                       {"total_charged", datoshi("datoshi over the range")},
                       {"total_charged_gas", String()},
                       {"csv", String().Describe("format=csv only; the route then answers it as text/csv")}});
  auto withdraw =
      Object({{"to", String().Length(1, 64).Describe("N3 address (or 0x script hash) to send the GAS to"), kRequired},
              {"amount",
               String()
                   .Length(1, 19)
                   .Charset("0123456789", "^[0-9]{1,19}$")
                   .Describe("int64 as a string, like every amount here: datoshi, at least "
                             "gasbank.min_withdrawal; the transfer's fees are held besides"),
               kRequired},
              {"idempotency_key",
               String().Length(1, 200).Describe(
                   "your name for this withdrawal: the same key never sends twice (it answers the first)"),
               kRequired}});
  auto withdrawal =
      Object({{"withdrawal_id", String().Describe("wd_…")},
              {"to", String().Describe("N3 address")},
              {"amount", datoshi("datoshi")},
              {"state", String().Describe("pending (not yet on chain), settled or returned")},
              {"fee_reserved", datoshi("datoshi held for the transaction's fees until it settles")},
              {"fee_charged", datoshi("the fees charged: the schedule's plus the transaction's")},
              {"tx_hash", String().Describe("once sent")},
              {"tx_state", String().Describe("queued, sent, halt, fault or failed")},
              {"error", String().Describe("returned: why")},
              {"idempotency_key", String()},
              {"replay", Boolean().Describe("the key was used before: this is the first withdrawal, unchanged")},
              {"created_at", String()},
              {"updated_at", String()}});
  const std::string svc = "gasbank";
  const std::string rpc = "/neosl.gasbank.v1.GasBank/";
  MeshRoute usage_route{
      "GET",
      "/v1/gasbank/usage",
      "GetGasUsage",
      "What the account was charged, by UTC day or by service (JSON, or CSV with format=csv)",
      "gasbank",
      Role::kViewer,
      svc,
      rpc + "GetUsage",
      nullptr,
      usage,
      200,
      {{"from", "RFC 3339 date-time or YYYY-MM-DD, inclusive (default: 30 days before to)"},
       {"to", "RFC 3339 date-time or YYYY-MM-DD, exclusive; a date means the end of that day (default: now)"},
       {"group", "day (default) or service"},
       {"format", "json (default) or csv: text/csv, RFC 4180"}}};
  usage_route.raw_response = TextExportWhen("format", "csv", "csv", "text/csv; charset=utf-8");
  usage_route.description =
      "With `format=csv` the answer is `text/csv; charset=utf-8` (RFC 4180, CRLF line ends): the header "
      "`day,operations,charged_datoshi,charged_gas` (or `service,…` with `group=service`), then one line per "
      "day or service with charges. The range is at most 366 days.";
  return {
      MeshRoute{"GET", "/v1/gasbank/account", "GetGasAccount",
                "The account's deposit address and balances (available, held, pending)", "gasbank", Role::kViewer, svc,
                rpc + "GetAccount", nullptr, account},
      MeshRoute{"GET",
                "/v1/gasbank/ledger",
                "GetGasLedger",
                "The account's ledger entries, newest first",
                "gasbank",
                Role::kViewer,
                svc,
                rpc + "GetLedger",
                nullptr,
                ledger,
                200,
                {{"page_size", "1..500 (default 50)"}, {"page_token", "next_page_token of the previous page"}}},
      std::move(usage_route),
      // Money leaves the platform: the account's owners only.
      MeshRoute{"POST", "/v1/gasbank/withdrawals", "CreateGasWithdrawal",
                "Send GAS from the account's balance to an address on chain (once per idempotency key)", "gasbank",
                Role::kOwner, svc, rpc + "RequestWithdrawal", withdraw, withdrawal, 201},
      MeshRoute{"GET", "/v1/gasbank/withdrawals/{id}", "GetGasWithdrawal", "A withdrawal and its transaction",
                "gasbank", Role::kViewer, svc, rpc + "GetWithdrawal", nullptr, withdrawal},
  };
}

// ---- automation: the payload and a run's context are JSON values the service carries as text ----

// POST /v1/triggers: {"payload": <any JSON>, …} → {"payload_json": "<that JSON, as sent>", …}.
// The schema lets extra members through (payload has no schema type); here any member other than
// `fields` and payload is refused.
std::function<StatusOr<std::string>(const RequestContext&)> TriggerRequestJson(std::vector<std::string> fields) {
  return [fields = std::move(fields)](const RequestContext& ctx) -> StatusOr<std::string> {
    json::object request = ctx.body.is_object() ? ctx.body.as_object() : json::object();
    for (const auto& member : request) {
      if (member.key() != "payload" && std::find(fields.begin(), fields.end(), member.key()) == fields.end()) {
        return BodyField(std::string(member.key()), "unknown field");
      }
    }
    ASSIGN_OR_RETURN(auto payload, RawMember(ctx.http.body, "payload", /*others=*/true));
    request.erase("payload");
    if (payload) request["payload_json"] = *payload;
    return json::serialize(request);
  };
}

// Each member `from` (a string of JSON text) of the objects at `depth` of a printed response
// (1: the top-level object) becomes the member `to` holding that JSON value: spliced as text, so
// numbers reach the caller as they were written. Text that is not JSON (or empty) shows as null.
std::function<StatusOr<std::string>(std::string)> JsonTextsAsValues(
    std::vector<std::pair<std::string, std::string>> names, int depth) {
  return [names = std::move(names), depth](std::string printed) -> StatusOr<std::string> {
    std::string out;
    out.reserve(printed.size());
    int level = 0;
    size_t i = 0;
    while (i < printed.size()) {
      const char c = printed[i];
      if (c != '"') {
        if (c == '{' || c == '[') ++level;
        if (c == '}' || c == ']') --level;
        out += c;
        ++i;
        continue;
      }
      const size_t end = SkipString(printed, i);
      const std::string_view token = std::string_view(printed).substr(i, end - i);
      const size_t colon = SkipSpace(printed, end);
      const auto name = std::find_if(names.begin(), names.end(), [&](const auto& n) {
        return token.size() == n.first.size() + 2 && token.substr(1, n.first.size()) == n.first;
      });
      if (level != depth || colon >= printed.size() || printed[colon] != ':' || name == names.end()) {
        out += token;
        i = end;
        continue;
      }
      const size_t value_start = SkipSpace(printed, colon + 1);
      const size_t value_end = SkipValue(printed, value_start);
      boost::system::error_code ec;
      json::value text = json::parse(std::string_view(printed).substr(value_start, value_end - value_start), ec);
      std::string value = "null";
      if (!ec && text.is_string() && !text.as_string().empty()) {
        boost::system::error_code bad;
        json::parse(text.as_string(), bad);
        if (!bad) value = std::string(text.as_string());
      }
      out += "\"" + name->second + "\":" + value;
      i = value_end;
    }
    return out;
  };
}

// Automation (issue #13): triggers — time, chain and price conditions — that run a function, a
// contract call or a webhook when they fire, and their runs.
std::vector<MeshRoute> AutomationRoutes() {
  constexpr char kNameChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
  constexpr int64_t kUInt32Max = 4294967295;
  auto int64_text = [](const std::string& what) { return String().Describe("int64 as a string: " + what); };
  auto time = [](const std::string& what) { return String().Describe("RFC 3339, UTC, milliseconds: " + what); };
  auto script_hash = String().Length(1, 42).Describe("0x and 40 hex digits, big-endian as Neo prints it");
  auto cron = Object({{"expression",
                       String().Length(1, 256).Describe(
                           "5 fields (minute hour day-of-month month day-of-week) or 6 with leading seconds; "
                           "@yearly, @monthly, @weekly, @daily, @hourly; Vixie day rule"),
                       kRequired},
                      {"timezone", String().Length(0, 64).Describe("IANA name (Europe/Berlin); empty: UTC")}});
  auto block =
      Object({{"at", Integer().Range(0, kUInt32Max).Describe("fire once, at this height")},
              {"every", Integer().Range(0, kUInt32Max).Describe("or fire at every height divisible by this")}});
  auto filter = Object(
      {{"param", Integer().Range(0, kUInt32Max).Describe("position in the notification's state array"), kRequired},
       {"type", String().OneOf({"Hash160", "Hash256", "Integer", "Boolean", "String", "ByteString", "PublicKey"}),
        kRequired},
       {"equals",
        String().Describe("Hash160 as 0x… or an N… address, Hash256 0x…, Integer decimal, Boolean "
                          "true/false, String the text, ByteString and PublicKey hex"),
        kRequired}});
  auto event = Object({{"contract", script_hash, kRequired},
                       {"event", String().Length(1, 32).Describe("the notification's name, exact"), kRequired},
                       {"filters", Array(filter).Describe("all must match (at most automation.max_filters)")}});
  auto price =
      Object({{"pair", String().Length(1, 32).Describe("NEO/USD, as the price feed names it"), kRequired},
              {"above", String().Length(0, 40).Describe("decimal: fire when the price crosses above it")},
              {"below", String().Length(0, 40).Describe("or: when it crosses below it")},
              {"change_bps", Integer().Range(0, 100000).Describe("or: when it moves this many basis points from the "
                                                                 "price of the last firing")}});
  // Contract arguments nest (Array items); the schema spells out two levels and leaves deeper ones
  // to the service, which counts every item against automation.max_args.
  auto arg_type =
      String().OneOf({"Any", "Boolean", "Integer", "ByteArray", "String", "Hash160", "Hash256", "PublicKey", "Array"});
  auto arg_value = String().Describe("as in event filters; ByteArray hex; empty for Any and Array");
  SchemaPtr arg = Object({{"type", arg_type, kRequired},
                          {"value", arg_value},
                          {"items", Array(Object({}).AllowAdditional().Describe("a contract argument"))}});
  arg = Object({{"type", arg_type, kRequired}, {"value", arg_value}, {"items", Array(arg).Describe("Array")}});
  auto args = Array(arg).Describe("at most automation.max_args, counting Array items");
  auto headers = Object({}).AllowAdditional().Describe(
      "header name → value (strings); at most automation.max_headers; not Host, Content-Length, "
      "Transfer-Encoding or Connection");
  auto action = Object(
      {{"function", Object({{"function_id", String().Length(1, 64).Describe("fn_… of the same account"), kRequired}})
                        .Describe("invoke one of your functions with the firing as its args")},
       {"contract",
        Object({{"contract", script_hash, kRequired},
                {"method", String().Length(1, 32), kRequired},
                {"args", args},
                {"max_fee", Integer()
                                .Range(0, INT64_MAX)
                                .Describe("datoshi, system + network fee per transaction; 0: automation.max_tx_fee")}})
            .Describe("send contract.method(args), signed by the platform account, fees from your gas bank")},
       {"webhook",
        Object({{"url", String().Length(1, 2048).Describe("https:// (http:// only where allowed)"), kRequired},
                {"headers", headers}})
            .Describe("POST the firing as JSON")}});
  auto retry_request = Object(
      {{"max_attempts", Integer().Range(0, 10).Describe("1..10 (1: no retry); 0: 3")},
       {"initial_backoff_ms", Integer().Range(0, 3600000).Describe("100..3600000; 0: 1000; doubles per attempt")},
       {"max_backoff_ms", Integer().Range(0, 3600000).Describe("≥ initial; 0: 300000")}});
  std::vector<std::string> create_fields = {"name",   "cron",     "interval", "block",  "event", "price",
                                            "action", "catch_up", "max_runs", "end_at", "retry", "paused"};
  auto create =
      Object({{"name", String().Length(1, 64).Charset(kNameChars, "^[A-Za-z0-9_.-]{1,64}$"), kRequired},
              {"cron", cron},
              {"interval",
               Object({{"every_ms", Integer().Range(1, INT64_MAX).Describe("≥ automation.min_interval_ms (1000)"),
                        kRequired},
                       {"start_at", String().Describe("RFC 3339: the first firing; default: creation + every_ms")}})},
              {"block", block},
              {"event", event},
              {"price", price},
              {"action", action, kRequired},
              {"catch_up", String()
                               .OneOf({"skip", "once", "all"})
                               .Describe("what fires for times missed while the service was down; default skip (event "
                                         "triggers: all)")},
              {"max_runs", Integer().Range(0, INT64_MAX).Describe("complete after this many firings; 0: unlimited")},
              {"end_at", String().Describe("RFC 3339, in the future: nothing fires after it")},
              {"retry", retry_request},
              {"paused", Boolean().Describe("create it paused")}})
          .AllowAdditional()
          .Describe(
              "exactly one condition (cron, interval, block, event or price) and one action; plus \"payload\": any "
              "JSON value (at most 16 KiB) handed to the action with every firing");
  auto trigger =
      Object({{"id", String().Describe("tg_…")},
              {"name", String()},
              {"kind", String().OneOf({"cron", "interval", "block", "event", "price"})},
              {"cron", cron},
              {"interval", Object({{"every_ms", int64_text("the period")}, {"start_at", time("the first firing")}})},
              {"block", block},
              {"event", event},
              {"price", price},
              {"action", action},
              {"catch_up", String().OneOf({"skip", "once", "all"})},
              {"max_runs", String().Describe("uint64 as a string; 0: unlimited")},
              {"end_at", time("nothing fires after it; empty: never ends")},
              {"retry", Object({{"max_attempts", Integer()},
                                {"initial_backoff_ms", int64_text("")},
                                {"max_backoff_ms", int64_text("")}})
                            .Describe("with defaults filled in")},
              {"status", String().OneOf({"active", "paused", "completed"})},
              {"status_reason", String().Describe("completed: why (max_runs reached, end_at passed, its block fired)")},
              {"runs", String().Describe("uint64 as a string: firings recorded")},
              {"next_fire_at", time("cron and interval while active: the next scheduled firing")},
              {"last_fired_at", time("the scheduled time of the latest firing")},
              {"created_at", String()},
              {"updated_at", String()}})
          .AllowAdditional()
          .Describe("plus \"payload\": the trigger's payload as a JSON value");
  auto trigger_list = Object({{"triggers", Array(trigger).Describe("newest first")},
                              {"next_page_token", String().Describe("empty on the last page")}});
  auto run =
      Object({{"id", String().Describe("deterministic: <trigger>:t:<scheduled ms>, <trigger>:b:<height>, "
                                       "<trigger>:e:<tx hash>:<notification index> or <trigger>:p:<pair>:<round>; "
                                       "a manual run (POST /v1/triggers/{id}/run): <trigger>:m:<requested ms>")},
              {"trigger_id", String()},
              {"status", String().OneOf({"pending", "running", "retrying", "succeeded", "failed"})},
              {"scheduled_at", time("time triggers: the scheduled time; chain: the block's time; price: the round's; "
                                    "manual: when it was asked for")},
              {"recorded_at", time("when the firing was recorded, before its action started")},
              {"finished_at", time("once succeeded or failed")},
              {"latency_ms", int64_text("recorded_at − scheduled_at")},
              {"attempts", Integer().Describe("action attempts started")},
              {"next_attempt_at", time("retrying: when")},
              {"execution_id", String().Describe("function: the execution (GET /v1/executions/{id})")},
              {"tx_hash", String().Describe("contract: the transaction")},
              {"http_status", Integer().Describe("webhook: the answer's status")},
              {"error", String().Describe("failed or retrying: why")},
              {"catch_up", Boolean().Describe("fired for a time missed while the service was down")}})
          .AllowAdditional()
          .Describe("plus \"context\": what fired it (the block, the notification, the price) as a JSON value");
  auto run_list = Object({{"runs", Array(run).Describe("newest first")},
                          {"next_page_token", String().Describe("empty on the last page")}});
  std::vector<std::pair<std::string, std::string>> paging = {{"limit", "1..100 (default 50)"},
                                                             {"page_token", "next_page_token of the previous page"}};
  // Triggers print their payload, runs their context, as JSON values; in lists one level deeper.
  auto one_trigger = JsonTextsAsValues({{"payload_json", "payload"}}, 1);
  auto many_triggers = JsonTextsAsValues({{"payload_json", "payload"}}, 3);
  auto many_runs = JsonTextsAsValues({{"context_json", "context"}}, 3);
  auto one_run = JsonTextsAsValues({{"context_json", "context"}}, 1);
  // A manual run has no body of its own; the gateway adds "async" and "webhook_url" (operations.h).
  auto run_request = Object({}).Describe("optional: {\"async\": true} answers 202 with an operation at once");
  auto no_fields = [](const RequestContext&) -> StatusOr<std::string> { return std::string("{}"); };
  // The service waits up to 60 s for the run to end (RunTriggerOptions::wait), then answers
  // DEADLINE_EXCEEDED naming the run: the call's deadline leaves it time to.
  const auto run_timeout = std::chrono::milliseconds(65'000);
  const std::string svc = "automation";
  const std::string rpc = "/neosl.automation.v1.Automation/";
  auto route = [&](const char* method, const char* path, const char* operation, const char* summary, Role role,
                   const std::string& name, SchemaPtr request, SchemaPtr response, int status,
                   std::vector<std::pair<std::string, std::string>> query, auto request_json, auto response_json) {
    MeshRoute r{method,
                path,
                operation,
                summary,
                "automation",
                role,
                svc,
                rpc + name,
                std::move(request),
                std::move(response),
                status,
                std::move(query)};
    r.request_json = std::move(request_json);
    r.response_json = std::move(response_json);
    return r;
  };
  std::vector<MeshRoute> routes = {
      route("POST", "/v1/triggers", "CreateTrigger",
            "Create a trigger: when its condition holds, run its action (at most once per firing)", Role::kDeveloper,
            "CreateTrigger", create, trigger, 201, {}, TriggerRequestJson(create_fields), one_trigger),
      route("GET", "/v1/triggers", "ListTriggers", "The account's triggers, newest first", Role::kViewer,
            "ListTriggers", nullptr, trigger_list, 200, paging, nullptr, many_triggers),
      route("GET", "/v1/triggers/{id}", "GetTrigger", "A trigger, its state and its next firing", Role::kViewer,
            "GetTrigger", nullptr, trigger, 200, {}, nullptr, one_trigger),
      route("DELETE", "/v1/triggers/{id}", "DeleteTrigger",
            "Delete a trigger and its runs (actions already running finish)", Role::kDeveloper, "DeleteTrigger",
            nullptr, trigger, 200, {}, nullptr, one_trigger),
      route("POST", "/v1/triggers/{id}/pause", "PauseTrigger",
            "Stop firing until resumed; firings due meanwhile are skipped", Role::kDeveloper, "PauseTrigger", nullptr,
            trigger, 200, {}, nullptr, one_trigger),
      route("POST", "/v1/triggers/{id}/resume", "ResumeTrigger", "Fire again, from now on", Role::kDeveloper,
            "ResumeTrigger", nullptr, trigger, 200, {}, nullptr, one_trigger),
      route("GET", "/v1/triggers/{id}/runs", "ListTriggerRuns", "A trigger's runs (its firings), newest first",
            Role::kViewer, "ListTriggerRuns", nullptr, run_list, 200, paging, nullptr, many_runs),
  };
  MeshRoute run_now = route("POST", "/v1/triggers/{id}/run", "RunTrigger",
                            "Run a trigger's action once, now, outside its schedule; the answer is the run once it "
                            "has ended",
                            Role::kDeveloper, "RunTrigger", run_request, run, 200, {}, no_fields, one_run);
  run_now.timeout = run_timeout;
  run_now.description =
      "A manual run (id `<trigger>:m:<ms>`) of an active or paused trigger (409 for a completed one), recorded "
      "among its runs like any firing, retried by its retry policy, charged as any run. The schedule is left "
      "alone: the next firing, the status and `runs` do not change. The answer is the run once it has succeeded "
      "or failed (a contract call: once its transaction has halted or faulted on chain); after 60 s without an "
      "end, 504 DEADLINE_EXCEEDED naming the run, which goes on (GET /v1/triggers/{id}/runs shows its end). Each "
      "call is a run of its own: a contract action sends a transaction each time.";
  routes.push_back(std::move(run_now));
  return routes;
}

}  // namespace

namespace {
// Whether an oracle request's body has header values, at the top or in a source.
bool CarriesHeaders(const json::value& body) {
  auto has = [](const json::value& o) {
    const json::value* h = o.is_object() ? o.as_object().if_contains("headers") : nullptr;
    return h && h->is_array() && !h->as_array().empty();
  };
  if (has(body)) return true;
  const json::value* sources = body.is_object() ? body.as_object().if_contains("sources") : nullptr;
  if (sources && sources->is_array()) {
    for (const auto& s : sources->as_array()) {
      if (has(s)) return true;
    }
  }
  return false;
}
}  // namespace

std::vector<MeshRoute> BuiltinMeshRoutes() {
  auto echo_request = Object({{"message", String().Length(0, 4096).Describe("returned as sent"), kRequired},
                              {"delay_ms", Integer().Range(0, 60000).Describe("answer after this long")},
                              {"fail_code", String().Length(0, 32).Describe("answer with this gRPC code instead")}});
  auto echo_response = Object({{"message", String()},
                               {"instance", String().Describe("the echo instance that answered")},
                               {"caller", String().Describe("the calling service, as the mesh authenticated it")},
                               {"account", String()},
                               {"trace_id", String()},
                               {"deadline_ms", String().Describe("remaining deadline on arrival (int64 as string)")},
                               {"hops", Integer()}});
  auto relay_request = Object({{"echo", echo_request, kRequired},
                               {"hops", Integer().Range(1, 8).Describe("echo instances to pass through"), kRequired}});
  auto secret_info = Object({{"name", String()},
                             {"version", String().Describe("int64 as a string")},
                             {"created_at", String()},
                             {"rotated_at", String().Describe("empty until the first rotation")},
                             {"functions", Array(String()).Describe("functions granted this secret")}});
  auto put_secret = Object(
      {{"value", String().Length(1, 65536).Describe("the value as text, over TLS (the enclave encrypts it at rest)")},
       {"encrypted_value", String()
                               .Length(2, 2 * (65536 + 256))
                               .Describe("hex of an ECIES blob to the enclave's ecies key, info neosl-secret-v1")}});
  auto secrets_list = Object({{"secrets", Array(secret_info)}});
  auto deleted = Object({{"name", String()}, {"deleted", Boolean()}});
  auto audit = Object({{"entries", Array(Object({{"seq", String()},
                                                 {"at", String()},
                                                 {"action", String()},
                                                 {"subject", String()},
                                                 {"actor", String()},
                                                 {"details", String()},
                                                 {"prev_hash", String()},
                                                 {"hash", String()}}))},
                       {"verification", Object({{"ok", Boolean()}, {"reason", String()}}).AllowAdditional()}});
  std::vector<MeshRoute> routes = FunctionRoutes();
  std::vector<MeshRoute> others = {
      MeshRoute{"PUT", "/v1/secrets/{name}", "PutSecret", "Store or rotate a secret (write-only)", "secrets",
                Role::kDeveloper, "secrets", "/neosl.secrets.v1.Secrets/PutSecret", put_secret, secret_info},
      MeshRoute{"DELETE", "/v1/secrets/{name}", "DeleteSecret", "Delete a secret and all its versions", "secrets",
                Role::kDeveloper, "secrets", "/neosl.secrets.v1.Secrets/DeleteSecret", nullptr, deleted},
      MeshRoute{"GET", "/v1/secrets", "ListSecrets", "Names, versions and times of the account's secrets (no values)",
                "secrets", Role::kViewer, "secrets", "/neosl.secrets.v1.Secrets/ListSecrets", nullptr, secrets_list},
      MeshRoute{"GET",
                "/v1/secrets/audit",
                "ListSecretAudit",
                "The account's hash-chained secrets audit log, and whether it verifies",
                "secrets",
                Role::kViewer,
                "secrets",
                "/neosl.secrets.v1.Secrets/ListSecretAudit",
                nullptr,
                audit,
                200,
                {{"after_seq", "entries after this seq (default 0)"}, {"limit", "1..1000 (default 100)"}}},
      MeshRoute{"POST", "/v1/echo", "Echo", "Echo a message through the service mesh", "mesh", Role::kViewer, "echo",
                "/neosl.echo.v1.Echo/Echo", echo_request, echo_response},
      MeshRoute{"POST", "/v1/echo/sensitive", "EchoSensitive",
                "Echo through the mesh after verifying the echo instance's enclave attestation", "mesh", Role::kViewer,
                "echo", "/neosl.echo.v1.Echo/EchoSensitive", echo_request, echo_response},
      MeshRoute{"POST", "/v1/echo/relay", "EchoRelay",
                "Echo relayed through `hops` echo calls (trace, account and deadline propagate)", "mesh", Role::kViewer,
                "echo", "/neosl.echo.v1.Echo/Relay", relay_request, echo_response},
  };
  routes.insert(routes.end(), others.begin(), others.end());
  std::vector<MeshRoute> random = RandomRoutes();
  routes.insert(routes.end(), random.begin(), random.end());
  std::vector<MeshRoute> oracle = OracleRoutes();
  routes.insert(routes.end(), oracle.begin(), oracle.end());
  std::vector<MeshRoute> prices = PriceFeedRoutes();
  routes.insert(routes.end(), prices.begin(), prices.end());
  std::vector<MeshRoute> gasbank = GasBankRoutes();
  routes.insert(routes.end(), gasbank.begin(), gasbank.end());
  std::vector<MeshRoute> automation = AutomationRoutes();
  routes.insert(routes.end(), automation.begin(), automation.end());
  // The calls that can take long, and whether a restart may run one again: a function is run
  // once (what it fetched or sent cannot be taken back), and so is a trigger run manually (each
  // run is a new one: its contract action a second transaction); random words and oracle requests
  // are reads; a withdrawal is keyed by its idempotency key, so a second run sends nothing more.
  for (MeshRoute& r : routes) {
    if (r.operation_id == "InvokeFunction" || r.operation_id == "RunTrigger") r.async = MeshRoute::Async::kOnce;
    // An oracle request's header values are never stored (docs/oracle.md): nor in an operation.
    if (r.operation_id == "CreateOracleRequest") r.async_withhold = CarriesHeaders;
    if (r.operation_id == "GenerateRandom" || r.operation_id == "CreateOracleRequest" ||
        r.operation_id == "CreateGasWithdrawal" || r.operation_id == "Echo") {
      r.async = MeshRoute::Async::kResumable;
    }
  }
  return routes;
}

}  // namespace neosl::gateway
