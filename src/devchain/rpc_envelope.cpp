// The JSON-RPC 2.0 envelope as Neo's RpcServer (RpcServer.cs ProcessAsync/ProcessRequestAsync)
// handles it: a body that is not JSON is -32700 "Bad request" with a null id; an empty batch is
// -32600; a request without "method" or with non-array "params" is -32600; a request without
// "id" is a notification and gets no entry in the answer; an unknown method is -32601 with the
// method as data. Error messages are Neo's RpcError.ToJson: "<message> - <data>", data beside.
#include <exception>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/encoding.h"
#include "core/log.h"
#include "devchain/rpc_internal.h"
#include "neo/rpc_types.h"

namespace neosl::devchain::rpc {
namespace json = boost::json;

Status RpcError(int64_t code, std::string_view message, std::string_view data) {
  return neo::RpcErrorToStatus(code, message, data);
}

Status InvalidParams(std::string data) {
  return RpcError(-32602, "Invalid params", std::move(data));
}

json::object ErrorObject(const Status& status) {
  for (const auto& d : status.details()) {
    if (d.type != "NeoRpcError") continue;
    int64_t code = 0;
    std::string message, data;
    for (const auto& [k, v] : d.fields) {
      if (k == "code" && std::holds_alternative<int64_t>(v)) code = std::get<int64_t>(v);
      if (k == "message" && std::holds_alternative<std::string>(v)) message = std::get<std::string>(v);
      if (k == "data" && std::holds_alternative<std::string>(v)) data = std::get<std::string>(v);
    }
    json::object o{{"code", code}, {"message", data.empty() ? message : message + " - " + data}};
    if (!data.empty()) o["data"] = data;
    return o;
  }
  std::string data(status.message());
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
    case StatusCode::kNotFound:
      return json::object{{"code", -32602}, {"message", "Invalid params - " + data}, {"data", data}};
    default: return json::object{{"code", -32603}, {"message", "Internal server RpcError - " + data}, {"data", data}};
  }
}

namespace {

json::object Response(const json::value& id) {
  return json::object{{"jsonrpc", "2.0"}, {"id", id}};
}

json::object ErrorResponse(const json::value& id, const Status& status) {
  json::object r = Response(id);
  r["error"] = ErrorObject(status);
  return r;
}

int64_t CodeOf(const json::object& error) {
  const json::value* c = error.if_contains("code");
  return c && c->is_int64() ? c->get_int64() : -32603;
}

StatusOr<json::value> Call(const MethodContext& ctx, std::string_view method, const json::array& params,
                           const ExtraMethods* extra) {
  try {
    if (extra != nullptr && *extra) {
      if (auto r = (*extra)(method, params)) return *std::move(r);
    }
    return CallMethod(ctx, method, params);
  } catch (const std::exception& e) {
    // Methods answer with statuses; an exception is a bug or out of memory. Its text stays in
    // the log, the caller gets Neo's generic internal error.
    log::Error("rpc method threw", {{"method", method}, {"what", e.what()}});
    return RpcError(-32603, "Internal server RpcError");
  }
}

// One request object of a call or batch; nullopt for a notification.
std::optional<json::object> HandleOne(const MethodContext& ctx, const json::value& request, const ExtraMethods* extra,
                                      std::vector<CallSummary>* calls) {
  static const json::value kNullId;
  const json::object* o = request.if_object();
  if (o == nullptr) return ErrorResponse(kNullId, RpcError(-32600, "Invalid request"));
  const json::value* id = o->if_contains("id");
  const json::value* method = o->if_contains("method");
  const json::value* params = o->if_contains("params");
  static const json::array kNoParams;
  const json::array* args = params == nullptr || params->is_null() ? &kNoParams : params->if_array();
  if (method == nullptr || !method->is_string() || args == nullptr) {
    if (id == nullptr) return std::nullopt;
    if (calls) calls->push_back({"", -32600});
    return ErrorResponse(*id, RpcError(-32600, "Invalid request"));
  }
  std::string_view name = method->get_string();
  auto result = Call(ctx, name, *args, extra);
  json::object response = Response(id ? *id : kNullId);
  CallSummary summary{std::string(name), 0};
  if (result.ok()) {
    response["result"] = *std::move(result);
  } else {
    json::object error = ErrorObject(result.status());
    summary.error_code = CodeOf(error);
    response["error"] = std::move(error);
  }
  if (calls) calls->push_back(std::move(summary));
  // JSON-RPC 2.0: a notification is carried out but never answered.
  if (id == nullptr) return std::nullopt;
  return response;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      auto byte = HexDecode(s.substr(i + 1, 2));
      if (byte && byte->size() == 1) {
        out += static_cast<char>((*byte)[0]);
        i += 2;
      } else {
        out += s[i];
      }
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

// neo-cli's GET form: ?jsonrpc=&id=&method=&params= with params as JSON or base64 of JSON.
std::optional<std::string> BodyFromQuery(std::string_view target) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string id, method, params;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key = PercentDecode(pair.substr(0, eq)), value = PercentDecode(pair.substr(eq + 1));
    if (key == "id") id = value;
    if (key == "method") method = value;
    if (key == "params") params = value;
  }
  if (id.empty() || method.empty() || params.empty()) return std::nullopt;
  if (auto decoded = Base64Decode(params)) params.assign(decoded->begin(), decoded->end());
  boost::system::error_code ec;
  json::value p = json::parse(params, ec);
  if (ec) return std::nullopt;
  return json::serialize(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", p}});
}

std::optional<std::string> HandleJsonRpc(const MethodContext& ctx, std::string_view body, const ExtraMethods* extra,
                                         std::vector<CallSummary>* calls) {
  json::parse_options options;
  options.max_depth = 64;
  boost::system::error_code ec;
  json::value request;
  try {
    request = json::parse(body, ec, {}, options);
  } catch (const std::exception&) {
    ec = json::make_error_code(json::error::exception);
  }
  if (ec) {
    if (calls) calls->push_back({"", -32700});
    return json::serialize(ErrorResponse(nullptr, RpcError(-32700, "Bad request")));
  }
  if (const json::array* batch = request.if_array()) {
    if (batch->empty()) {
      if (calls) calls->push_back({"", -32600});
      return json::serialize(ErrorResponse(nullptr, RpcError(-32600, "Invalid request")));
    }
    json::array out;
    for (const auto& r : *batch) {
      if (auto response = HandleOne(ctx, r, extra, calls)) out.emplace_back(*std::move(response));
    }
    if (out.empty()) return std::nullopt;
    return json::serialize(out);
  }
  auto response = HandleOne(ctx, request, extra, calls);
  if (!response) return std::nullopt;
  return json::serialize(*response);
}

}  // namespace neosl::devchain::rpc
