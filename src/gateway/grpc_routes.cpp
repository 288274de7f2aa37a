#include "gateway/grpc_routes.h"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include <boost/json.hpp>

#include "gateway/json_schema.h"
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

size_t SkipSpace(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return i;
}

// Past the string token starting at s[i] == '"'.
size_t SkipString(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return s.size();
}

// Past the JSON value starting at s[i] (the text is known to be valid JSON).
size_t SkipValue(std::string_view s, size_t i) {
  if (i >= s.size()) return i;
  if (s[i] == '"') return SkipString(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    while (i < s.size()) {
      char c = s[i];
      if (c == '"') {
        i = SkipString(s, i);
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    return i;
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' &&
         s[i] != '\r') {
    ++i;
  }
  return i;
}

Status BodyField(std::string_view field, std::string_view description) {
  return InvalidArgumentError("field '" + std::string(field) + "': " + std::string(description))
      .WithDetail(ErrorDetail{"FieldViolation", {}}
                      .Add("field", std::string(field))
                      .Add("description", std::string(description)));
}

// The text of the top-level member `key` of a valid JSON object, exactly as sent; nullopt when
// absent. Other members are refused: these bodies have no other fields.
StatusOr<std::optional<std::string_view>> RawMember(std::string_view body, std::string_view key) {
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
    if (name.as_string() != key) return BodyField(std::string(name.as_string()), "unknown field");
    if (found) return BodyField(key, "given twice");
    found = body.substr(i, value_end - i);
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

void RegisterMeshRoutes(Gateway& gateway, mesh::MeshClient& client, const std::vector<MeshRoute>& routes) {
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
    route.handler = [bound, &client](RequestContext& ctx) { return Serve(*bound, client, ctx); };
    route.blocking = true;
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
  return routes;
}

}  // namespace neosl::gateway
