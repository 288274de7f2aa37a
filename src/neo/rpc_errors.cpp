// The JSON-RPC 2.0 envelope, Neo's error codes mapped onto canonical ones, and base64.
//
// Codes: NEP-23 (neo-project/proposals#156; neo ≥ 3.7, neo-go ≥ 0.102) and, for older nodes,
// -100 "Unknown block/transaction/…", -300 insufficient funds, -400 no wallet / access denied,
// and -500 with the VerifyResult name as the message for every relay failure.
#include <array>
#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "neo/rpc_types.h"

namespace neosl::neo {
namespace json = boost::json;

namespace {

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// Old C# nodes answer every relay failure with -500 and the VerifyResult name as the message.
StatusCode CodeForRelayReason(std::string_view m) {
  if (Contains(m, "AlreadyExists") || Contains(m, "already exists") || Contains(m, "AlreadyInPool")) {
    return StatusCode::kAlreadyExists;
  }
  if (Contains(m, "OutOfMemory") || Contains(m, "capacity")) return StatusCode::kResourceExhausted;
  if (Contains(m, "Invalid") || Contains(m, "UnableToVerify") || Contains(m, "OverSize")) {
    return StatusCode::kInvalidArgument;
  }
  // Expired, InsufficientFunds, PolicyFail and the rest: rejected for the chain's current state.
  return StatusCode::kFailedPrecondition;
}

using SC = StatusCode;
constexpr std::array<std::pair<int64_t, StatusCode>, 41> kNeoCodes{{
    {-32700, SC::kInvalidArgument},   // bad request: unparseable
    {-32600, SC::kInvalidArgument},   // invalid request
    {-32601, SC::kUnimplemented},     // method not found (or its plugin not installed)
    {-32602, SC::kInvalidArgument},   // invalid params
    {-32603, SC::kInternal},          // internal server error
    {-101, SC::kNotFound},            // unknown block
    {-102, SC::kNotFound},            // unknown contract
    {-103, SC::kNotFound},            // unknown transaction
    {-104, SC::kNotFound},            // unknown storage item
    {-105, SC::kNotFound},            // unknown script container
    {-106, SC::kNotFound},            // unknown state root
    {-107, SC::kNotFound},            // unknown session
    {-108, SC::kNotFound},            // unknown iterator
    {-109, SC::kNotFound},            // unknown height
    {-300, SC::kFailedPrecondition},  // insufficient funds in wallet
    {-301, SC::kFailedPrecondition},  // wallet fee limit exceeded
    {-302, SC::kFailedPrecondition},  // no opened wallet
    {-303, SC::kNotFound},            // wallet not found
    {-304, SC::kFailedPrecondition},  // wallet not supported
    {-400, SC::kFailedPrecondition},  // (old) no opened wallet
    {-501, SC::kAlreadyExists},       // inventory already exists (on chain)
    {-502, SC::kResourceExhausted},   // memory pool capacity reached
    {-503, SC::kAlreadyExists},       // already in pool
    {-504, SC::kFailedPrecondition},  // insufficient network fee
    {-505, SC::kFailedPrecondition},  // policy check failed
    {-506, SC::kInvalidArgument},     // invalid transaction script
    {-507, SC::kInvalidArgument},     // invalid transaction attribute
    {-508, SC::kInvalidArgument},     // invalid signature
    {-509, SC::kInvalidArgument},     // invalid inventory size
    {-510, SC::kFailedPrecondition},  // expired transaction
    {-511, SC::kFailedPrecondition},  // insufficient funds for fee
    {-512, SC::kInvalidArgument},     // invalid contract verification function
    {-600, SC::kPermissionDenied},    // access denied
    {-601, SC::kFailedPrecondition},  // iterator sessions disabled
    {-602, SC::kFailedPrecondition},  // oracle service disabled
    {-603, SC::kFailedPrecondition},  // oracle request already finished
    {-604, SC::kNotFound},            // oracle request not found
    {-605, SC::kFailedPrecondition},  // not a designated oracle node
    {-606, SC::kFailedPrecondition},  // old state not supported
    {-607, SC::kInvalidArgument},     // invalid state proof
    {-608, SC::kFailedPrecondition},  // contract execution failed
}};

StatusCode CodeForNeoRpcError(int64_t code, std::string_view message) {
  if (code == -100) {  // pre-NEP-23 "Unknown …"; neo-go's compat code is otherwise generic
    return Contains(message, "Unknown") || Contains(message, "unknown") ? SC::kNotFound : SC::kUnknown;
  }
  if (code == -500) return CodeForRelayReason(message);
  for (const auto& [neo, canonical] : kNeoCodes) {
    if (neo == code) return canonical;
  }
  return SC::kUnknown;  // e.g. a .NET HResult from an exception the node did not map
}


}  // namespace

StatusOr<json::value> ParseRpcResponse(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return InternalError("Neo RPC response is not JSON: " + ec.message());
  const auto* o = v.if_object();
  if (o == nullptr) return InternalError("Neo RPC response is not a JSON-RPC object");
  if (const json::value* err = o->if_contains("error"); err != nullptr && !err->is_null()) {
    const auto* e = err->if_object();
    if (e == nullptr) return InternalError("Neo RPC response: error is not an object");
    const json::value* code = e->if_contains("code");
    boost::system::error_code nec;
    int64_t c = 0;
    if (code != nullptr && code->is_number()) c = code->to_number<int64_t>(nec);
    if (code == nullptr || !code->is_number() || nec) {
      return InternalError("Neo RPC response: error.code is not an integer");
    }
    std::string message;
    if (const json::value* m = e->if_contains("message"); m && m->is_string()) message = m->get_string();
    std::string data;
    if (const json::value* d = e->if_contains("data"); d && !d->is_null()) {
      data = d->is_string() ? std::string(d->get_string()) : json::serialize(*d);
    }
    return RpcErrorToStatus(c, message, data);
  }
  if (const json::value* r = o->if_contains("result")) return *r;
  return InternalError("Neo RPC response has neither result nor error");
}

Status RpcErrorToStatus(int64_t code, std::string_view message, std::string_view data) {
  std::string text(message.empty() ? "Neo RPC error" : message);
  // C# puts "<message> - <data>" into the message already; neo-go keeps them apart.
  std::string suffix = " - " + std::string(data);
  bool joined = text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
  if (!data.empty() && !joined) text += suffix;
  text += " (Neo RPC error " + std::to_string(code) + ")";
  ErrorDetail detail{.type = "NeoRpcError"};
  detail.Add("code", code).Add("message", std::string(message));
  if (!data.empty()) detail.Add("data", std::string(data));
  return Status(CodeForNeoRpcError(code, message), std::move(text)).WithDetail(std::move(detail));
}

std::optional<int64_t> NeoRpcErrorCode(const Status& status) {
  for (const auto& d : status.details()) {
    if (d.type != "NeoRpcError") continue;
    for (const auto& [k, v] : d.fields) {
      if (k == "code" && std::holds_alternative<int64_t>(v)) return std::get<int64_t>(v);
    }
  }
  return std::nullopt;
}

}  // namespace neosl::neo
