// REST routes that are mesh calls: the gateway's route table maps each (HTTP method, path) to a
// gRPC method of a service, so adding a service's REST surface is a table entry, not glue code
// (DESIGN.md, "Every service is a gRPC service").
//
// For each call the gateway:
//   - validates the JSON body against the route's schema (when it has one), then reads it into
//     the request message with protobuf's JSON mapping (field names as in the .proto);
//   - sets each path parameter {name}, and each declared query parameter, into the request field
//     of the same name;
//   - calls the service through the mesh with the caller's account, the key's roles and the
//     request's trace id as metadata;
//   - answers with the response message as JSON (proto field names, defaults included), or the
//     service's error with its code, HTTP status and structured details; a route with a
//     `raw_response` may answer another body instead (GET /v1/gasbank/usage?format=csv answers
//     text/csv).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gateway/gateway.h"
#include "gateway/operations.h"
#include "mesh/client.h"

namespace google::protobuf {
class Message;
}

namespace neosl::gateway {

// A success body that is not JSON, with its media type ("text/csv; charset=utf-8").
struct RawBody {
  std::string content_type;
  std::string body;
};

struct MeshRoute {
  std::string method;        // "POST"
  std::string path;          // "/v1/echo"
  std::string operation_id;  // "Echo"
  std::string summary;
  std::string tag;
  Role role = Role::kViewer;
  std::string service;  // mesh service identity, "echo"
  std::string rpc;      // "/neosl.echo.v1.Echo/Echo"
  SchemaPtr request;    // body schema (null: no body)
  SchemaPtr response;   // documented success body
  int success_status = 200;
  // Query parameters (name, description) read into the request field of the same name
  // (string or integer fields).
  std::vector<std::pair<std::string, std::string>> query = {};
  // The mesh call's deadline; 0: the client's default (mesh.client.timeout_ms).
  std::chrono::milliseconds timeout{0};
  // For bodies protobuf's JSON mapping cannot express, such as a JSON value the service takes
  // as text: `request_json` makes the JSON the request message is read from (default: the body
  // as sent), and `response_json` edits the printed response.
  std::function<StatusOr<std::string>(const RequestContext&)> request_json = nullptr;
  std::function<StatusOr<std::string>(std::string printed)> response_json = nullptr;
  // For answers that are not the response message as JSON, such as an export the service
  // renders as text: called with the request (its query, say) and the service's response; when
  // it answers a RawBody, that is the reply's body and content type (with success_status), and
  // `response_json` is not called. nullopt: the usual JSON.
  std::function<StatusOr<std::optional<RawBody>>(const RequestContext&, const google::protobuf::Message& response)>
      raw_response = nullptr;
  // Longer OpenAPI text (Markdown), such as what a raw answer looks like and when it is given.
  std::string description = {};
  // Whether the call may answer 202 with an operation (operations.h), and whether a restart may
  // run it again: kResumable for reads and for writes keyed so that a second run changes nothing.
  enum class Async { kNo, kResumable, kOnce };
  Async async = Async::kNo;
  // For a body that must not be stored, an operation holds it in memory only (operations.h).
  std::function<bool(const boost::json::value& body)> async_withhold = nullptr;
};

// Adds `routes` to `gateway`; every call goes through `client`. Routes whose rpc names no
// compiled-in method are a programming error and abort at start-up.
// With `operations`, the routes marked async may also answer 202 with an operation.
void RegisterMeshRoutes(Gateway& gateway, mesh::MeshClient& client, const std::vector<MeshRoute>& routes,
                        Operations* operations = nullptr);

// The REST routes of the built-in services (echo, secrets, functions, random, oracle, price feed,
// gas bank), as one table.
std::vector<MeshRoute> BuiltinMeshRoutes();

}  // namespace neosl::gateway
