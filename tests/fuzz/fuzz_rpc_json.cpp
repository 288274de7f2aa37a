// Arbitrary bytes as a JSON-RPC response body (or WebSocket frame) must never crash the parsers:
// every shape of result is run through every typed parser and every stack-item view.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/json.hpp>

#include "neo/rpc_types.h"

namespace {

void Views(const neosl::neo::RpcStackItem& item, int depth) {
  (void)item.type();
  (void)item.AsInt64();
  (void)item.IntegerText();
  (void)item.AsBytes();
  (void)item.AsString();
  (void)item.AsBool();
  auto items = item.AsArray();
  if (items.ok() && depth < 8) {
    for (const auto& i : *items) Views(i, depth + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace neosl::neo;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)neosl::Base64Decode(body);
  auto result = ParseRpcResponse(body);
  (void)NeoRpcErrorCode(result.status());
  boost::json::value v;
  if (result.ok()) {
    v = *result;
  } else {
    boost::system::error_code ec;
    v = boost::json::parse(body, ec);  // a WebSocket event: parse its params too
    if (ec) return 0;
    const auto* o = v.if_object();
    const boost::json::value* params = o ? o->if_contains("params") : nullptr;
    const auto* a = params ? params->if_array() : nullptr;
    if (a && !a->empty()) v = boost::json::value(a->front());
  }
  (void)ParseVersion(v);
  (void)ParseBlockInfo(v);
  (void)ParseTransactionInfo(v);
  (void)ParseNep17Balances(v);
  (void)ParseNep17Transfers(v);
  (void)ParseBlockCount(v);
  (void)ParseHash256(v);
  (void)ParseSendRawTransaction(v);
  (void)ParseNetworkFee(v);
  (void)ParseBase64Result(v);
  (void)ParseNotification(v);
  if (auto r = ParseInvocationResult(v); r.ok()) {
    for (const auto& item : r->stack) Views(item, 0);
    for (const auto& n : r->notifications) Views(n.state, 0);
  }
  if (auto e = ParseExecution(v); e.ok()) {
    for (const auto& item : e->stack) Views(item, 0);
  }
  if (auto log = ParseApplicationLog(v); log.ok()) {
    for (const auto& e : log->executions) {
      for (const auto& n : e.notifications) Views(n.state, 0);
    }
  }
  Views(RpcStackItem(v), 0);
  return 0;
}
