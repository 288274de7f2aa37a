#include "gateway/grpc_routes.h"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "gateway/json_schema.h"
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>

namespace neosl::gateway {
namespace {

namespace pb = google::protobuf;

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
    auto parsed = pb::util::JsonStringToMessage(std::string(ctx.http.body), request.get(), options);
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
  return reply;
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
    gateway.AddRoute(std::move(route));
  }
}

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
  return {
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
}

}  // namespace neosl::gateway
