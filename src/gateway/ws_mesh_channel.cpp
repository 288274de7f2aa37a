#include "gateway/ws_mesh_channel.h"

#include <cstdio>
#include <cstdlib>
#include <memory>

#include <boost/json.hpp>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>

namespace neosl::gateway {
namespace {

namespace json = boost::json;
namespace pb = google::protobuf;

class MeshStreamSubscription final : public WsSubscription {
 public:
  explicit MeshStreamSubscription(std::unique_ptr<mesh::MeshStream> stream) : stream_(std::move(stream)) {}
  ~MeshStreamSubscription() override { stream_.reset(); }  // cancels, and waits out the callbacks

 private:
  std::unique_ptr<mesh::MeshStream> stream_;
};

std::string RolesOf(const Principal& principal) {
  std::string roles;
  for (Role r : principal.roles) {
    if (!roles.empty()) roles += ",";
    roles += RoleName(r);
  }
  return roles;
}

}  // namespace

WsChannelFactory MeshStreamChannel(mesh::MeshClient& client, std::string service, std::string rpc, SchemaPtr params) {
  const pb::MethodDescriptor* method = nullptr;
  if (rpc.size() > 3 && rpc[0] == '/' && rpc.find('/', 1) != std::string::npos) {
    std::string full = rpc.substr(1);
    full[full.find('/')] = '.';
    method = pb::DescriptorPool::generated_pool()->FindMethodByName(full);
  }
  if (!method || !method->server_streaming() || method->client_streaming()) {
    std::fprintf(stderr, "neosl: WebSocket channel names %s, which is not a server-streaming rpc\n", rpc.c_str());
    std::abort();
  }
  const pb::Message* prototype = pb::MessageFactory::generated_factory()->GetPrototype(method->input_type());
  return [&client, service = std::move(service), rpc = std::move(rpc), params = std::move(params), prototype](
             const WsSubscriber& subscriber, const json::object& given,
             std::shared_ptr<WsEmitter> emitter) -> StatusOr<std::unique_ptr<WsSubscription>> {
    if (params) RETURN_IF_ERROR(params->Validate(given));
    std::unique_ptr<pb::Message> request(prototype->New());
    pb::util::JsonParseOptions parse;
    parse.ignore_unknown_fields = false;
    auto parsed = pb::util::JsonStringToMessage(json::serialize(given), request.get(), parse);
    if (!parsed.ok()) {
      return InvalidArgumentError("params do not match " + request->GetTypeName() + ": " +
                                  std::string(parsed.message()));
    }
    mesh::CallOptions options;
    options.trace_id = std::string(subscriber.trace_id);
    options.account = subscriber.principal.account.str();
    options.roles = RolesOf(subscriber.principal);
    options.actor = "key:" + subscriber.principal.key.str();
    auto on_message = [emitter](const pb::Message& message) {
      pb::util::JsonPrintOptions print;
      print.preserve_proto_field_names = true;
      print.always_print_primitive_fields = true;
      std::string text;
      if (!pb::util::MessageToJsonString(message, &text, print).ok()) {
        emitter->End(InternalError("cannot render " + message.GetTypeName() + " as JSON"));
        return;
      }
      boost::system::error_code ec;
      json::value data = json::parse(text, ec);
      if (ec) {
        emitter->End(InternalError("cannot render " + message.GetTypeName() + " as JSON"));
        return;
      }
      emitter->Event(std::move(data));  // false: the subscription is over; its handle goes soon
    };
    auto on_done = [emitter](const Status& status) { emitter->End(status); };
    ASSIGN_OR_RETURN(std::unique_ptr<mesh::MeshStream> stream,
                     client.Stream(service, rpc, *request, std::move(on_message), std::move(on_done), options));
    return std::unique_ptr<WsSubscription>(std::make_unique<MeshStreamSubscription>(std::move(stream)));
  };
}

void RegisterEchoStreamChannel(WsHub& hub, mesh::MeshClient& client) {
  hub.RegisterChannel(
      "echo_stream", Role::kViewer,
      MeshStreamChannel(client, "echo", "/neosl.echo.v1.Echo/EchoStream",
                        Object({{"message", String().Length(0, 4096).Describe("carried by every event")},
                                {"count", Integer().Range(1, 10000).Describe("events to send"), kRequired},
                                {"delay_ms", Integer().Range(0, 60000).Describe("pause between events")},
                                {"fail_code", String().Length(0, 32).Describe("end with this error code")}})),
      "the echo service's EchoStream through the mesh, for trying the protocol. Params: `count` (1..10000, "
      "required), `message`, `delay_ms` (between events), `fail_code` (end with this error instead). Events: what "
      "the echo instance saw of the call, `hops` counting 0, 1, …");
}

}  // namespace neosl::gateway
