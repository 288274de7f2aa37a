// Builds the OpenAPI 3.1 document from the route table.
#include <map>

#include <boost/json.hpp>

#include "gateway/gateway.h"

#ifndef NEOSL_VERSION
#define NEOSL_VERSION "0.0.0"
#endif

namespace neosl::gateway {
namespace json = boost::json;
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

json::object ErrorSchema() {
  return json::object{
      {"type", "object"},
      {"required", json::array{"error"}},
      {"properties",
       json::object{
           {"error",
            json::object{
                {"type", "object"},
                {"required", json::array{"code", "message", "details"}},
                {"properties",
                 json::object{
                     {"code",
                      json::object{{"type", "string"}, {"description", "gRPC canonical code, e.g. PERMISSION_DENIED"}}},
                     {"message", json::object{{"type", "string"}}},
                     {"details",
                      json::object{{"type", "array"},
                                   {"items", json::object{{"type", "object"}, {"required", json::array{"type"}}}}}},
                 }},
            }}}},
  };
}

json::object ErrorResponse(const char* description) {
  return json::object{
      {"description", description},
      {"content", json::object{{"application/json",
                                json::object{{"schema", json::object{{"$ref", "#/components/schemas/Error"}}}}}}}};
}

}  // namespace

std::string BuildOpenApi(const std::vector<Route>& routes) {
  json::object paths;
  for (const Route& r : routes) {
    json::object op;
    op["operationId"] = r.operation_id;
    op["summary"] = r.summary;
    if (!r.description.empty()) op["description"] = r.description;
    op["tags"] = json::array{json::value(r.tag)};
    json::array params;
    for (size_t pos = r.path.find('{'); pos != std::string::npos; pos = r.path.find('{', pos + 1)) {
      std::string name = r.path.substr(pos + 1, r.path.find('}', pos) - pos - 1);
      params.push_back(json::object{
          {"name", name}, {"in", "path"}, {"required", true}, {"schema", json::object{{"type", "string"}}}});
    }
    for (const auto& [name, description] : r.query) {
      params.push_back(json::object{{"name", name},
                                    {"in", "query"},
                                    {"required", false},
                                    {"description", description},
                                    {"schema", json::object{{"type", "string"}}}});
    }
    if (!params.empty()) op["parameters"] = std::move(params);
    if (r.access == Route::Access::kKey) {
      op["security"] = json::array{json::object{{"apiKey", json::array{}}}};
      op["x-required-role"] = RoleName(r.role);
    } else {
      op["security"] = json::array{};
    }
    if (r.request) {
      op["requestBody"] = json::object{
          {"required", true},
          {"content", json::object{{"application/json", json::object{{"schema", r.request->ToJsonSchema()}}}}}};
    }
    json::object responses;
    json::object ok{{"description", "Success"}};
    if (r.websocket) {
      ok["description"] = "Switching Protocols: the connection is now a WebSocket (messages in the description)";
      ok["headers"] =
          json::object{{"Sec-WebSocket-Protocol", json::object{{"description", "neosl.v1 when the client offered it"},
                                                               {"schema", json::object{{"type", "string"}}}}}};
      responses["426"] = ErrorResponse("Not a WebSocket upgrade request");
    } else if (r.response) {
      ok["content"] = json::object{{r.response_content_type, json::object{{"schema", r.response->ToJsonSchema()}}}};
    } else {
      ok["content"] =
          json::object{{r.response_content_type, json::object{{"schema", json::object{{"type", "string"}}}}}};
    }
    responses[std::to_string(r.success_status)] = std::move(ok);
    if (r.request) responses["400"] = ErrorResponse("Malformed body: INVALID_ARGUMENT naming the field");
    if (r.access == Route::Access::kKey) {
      responses["401"] = ErrorResponse("Missing, malformed, unknown or revoked API key");
      responses["403"] = ErrorResponse("The key lacks the required role");
    }
    if (r.path.find('{') != std::string::npos) {
      responses["404"] = ErrorResponse("No such resource in the caller's account");
    }
    responses["429"] = ErrorResponse("Rate limited; see the Retry-After header");
    responses["default"] = ErrorResponse("Error");
    op["responses"] = std::move(responses);
    json::value& item = paths[r.path];
    if (!item.is_object()) item = json::object();
    item.as_object()[Lower(r.method)] = std::move(op);
  }
  json::object doc{
      {"openapi", "3.1.0"},
      {"info", json::object{{"title", "neosl — Neo Service Layer API"},
                            {"version", NEOSL_VERSION},
                            {"description",
                             "Off-chain services for Neo N3 dApps. Authenticate with an API key: "
                             "'Authorization: Bearer nsl_<id>_<secret>'. Errors use the body "
                             "{\"error\":{\"code\",\"message\",\"details\"}} with gRPC canonical codes."}}},
      {"servers", json::array{json::object{{"url", "/"}}}},
      {"paths", std::move(paths)},
      {"components",
       json::object{{"securitySchemes", json::object{{"apiKey", json::object{{"type", "http"},
                                                                             {"scheme", "bearer"},
                                                                             {"bearerFormat", "nsl_<id>_<secret>"}}}}},
                    {"schemas", json::object{{"Error", ErrorSchema()}}}}},
  };
  return json::serialize(doc);
}

}  // namespace neosl::gateway
