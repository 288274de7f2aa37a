#include "gateway/grpc_routes.h"

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
  return {
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
