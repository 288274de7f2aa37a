// WebSocket channels fed by server-streaming mesh methods (MeshClient::Stream): a few lines per
// channel, e.g. the functions service's logs:
//
//   hub.RegisterChannel("function_logs", Role::kViewer,
//                       MeshStreamChannel(*mesh->gateway_client, "functions",
//                                         "/neosl.functions.v1.Functions/StreamFunctionLogs",
//                                         Object({{"function_id", String().Length(1, 64), kRequired}})));
#pragma once

#include <string>

#include "gateway/json_schema.h"
#include "gateway/ws_channel.h"
#include "gateway/ws_hub.h"
#include "mesh/client.h"

namespace neosl::gateway {

// A channel whose subscription is one call of `rpc` on `service`:
//   - the params, checked against `params` (when given), are read into the request with
//     protobuf's JSON mapping (field names as in the .proto; unknown fields are INVALID_ARGUMENT);
//   - the call carries the subscriber's account, key roles, actor ("key:<id>") and the
//     connection's trace, and has no deadline;
//   - each message is an event whose data is the message as JSON (proto field names, defaults
//     included); the stream's status ends the subscription ("end", or "error" with the service's
//     code, message and details).
// An rpc that names no compiled-in server-streaming method is a programming error: abort.
WsChannelFactory MeshStreamChannel(mesh::MeshClient& client, std::string service, std::string rpc,
                                   SchemaPtr params = nullptr);

// "echo_stream" (role viewer): EchoStream of the echo service, for trying the protocol and for
// tests of the whole path WebSocket → gateway → mesh stream → service.
void RegisterEchoStreamChannel(WsHub& hub, mesh::MeshClient& client);

}  // namespace neosl::gateway
