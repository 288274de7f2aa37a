// Internals of the devchain's RPC server, shared by its three parts:
//   rpc_methods.cpp  the JSON-RPC 2.0 envelope (single, batch, errors) and Neo's methods
//   rpc_ws.cpp       neo-go's notification subsystem: block events as WebSocket frames, filters
//   rpc_server.cpp   the Beast listener, HTTP and WebSocket sessions, Start/Stop
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "core/status.h"
#include "devchain/chain.h"
#include "neo/uint.h"

namespace neosl::devchain::rpc {

// ---- JSON-RPC errors --------------------------------------------------------------------------
// Errors travel as Status carrying Neo's {"type":"NeoRpcError","code","message","data"} detail
// (neo::RpcErrorToStatus), the same form the chain uses for its own refusals.
Status RpcError(int64_t code, std::string_view message, std::string_view data = "");
Status InvalidParams(std::string data);  // -32602 "Invalid params"

// The JSON-RPC error object for `status`: Neo's code/message/data when it carries one (message
// "<message> - <data>" as Neo's RpcError.ToJson writes it), else a code chosen from the
// canonical one (INVALID_ARGUMENT → -32602, NOT_FOUND → -100 "Unknown item", else -32603).
boost::json::object ErrorObject(const Status& status);

// ---- Methods ----------------------------------------------------------------------------------
struct MethodContext {
  Chain& chain;
  uint16_t tcp_port = 0;
  uint32_t nonce = 0;
};

// Methods only a particular transport offers (subscribe/unsubscribe on the WebSocket): answers
// nullopt for a method it does not know.
using ExtraMethods = std::function<std::optional<StatusOr<boost::json::value>>(std::string_view method,
                                                                               const boost::json::array& params)>;

// One request's method, for the request log line.
struct CallSummary {
  std::string method;
  int64_t error_code = 0;  // 0: success
};

// Handles a JSON-RPC body (a request or a batch). Returns the response body, or nullopt when
// nothing is to be answered (only notifications). Never throws.
std::optional<std::string> HandleJsonRpc(const MethodContext& ctx, std::string_view body, const ExtraMethods* extra,
                                         std::vector<CallSummary>* calls);

// neo-cli's GET form (?jsonrpc=&id=&method=&params=, params as JSON or base64 of JSON) as a
// request body; nullopt when the query lacks id, method or params.
std::optional<std::string> BodyFromQuery(std::string_view target);

// Runs one method. INVALID_ARGUMENT-style errors carry Neo's -32602 detail.
StatusOr<boost::json::value> CallMethod(const MethodContext& ctx, std::string_view method,
                                        const boost::json::array& params);

// ---- WebSocket events ------------------------------------------------------------------------
enum class Stream : uint8_t { kBlock, kTransaction, kExecution, kNotification };
std::optional<Stream> StreamFromName(std::string_view name);  // not "event_missed"

// One announced event: its frame, serialised once for every client, and what filters look at.
struct Event {
  Stream stream = Stream::kBlock;
  std::shared_ptr<const std::string> frame;
  // block_added
  uint32_t index = 0;
  uint8_t primary = 0;
  // transaction_added: the first signer is the sender
  std::vector<neo::UInt160> signers;
  // transaction_executed, notification_from_execution
  neo::UInt256 container;
  VmState state = VmState::kNone;
  // notification_from_execution
  neo::UInt160 contract;
  std::string name;
};

// The events of a block in neo-go's order (ws_subscriber.h): OnPersist and its notifications;
// per transaction its execution, its notifications (HALT only) and the transaction; PostPersist
// and its notifications; the block.
std::vector<Event> BlockEventsToWs(const BlockEvents& events);

// A subscription's filter (neo-go's neorpc filters; unset fields match everything).
struct Filter {
  std::optional<int64_t> primary;
  std::optional<uint32_t> since, till;
  std::optional<neo::UInt160> sender, signer, contract;
  std::optional<std::string> name;
  std::optional<VmState> state;
  std::optional<neo::UInt256> container;
};
// INVALID_ARGUMENT (-32602 with neo-go's reason as data) for unknown fields or bad values.
StatusOr<Filter> ParseFilter(Stream stream, const boost::json::value& json);
bool Matches(const Filter& filter, const Event& event);

// neo-go's per-client limit (pkg/services/rpcsrv/subscription.go maxFeeds).
inline constexpr size_t kMaxSubscriptions = 16;

struct Subscription {
  bool active = false;
  Stream stream = Stream::kBlock;
  Filter filter;
};

// A client's subscription slots; ids are slot numbers as neo-go gives them ("0"…"15").
class SubscriptionTable {
 public:
  // subscribe [stream, filter?]: the id, -32602 for an unknown stream or bad filter, -32603
  // "maximum number of subscriptions is reached" as neo-go answers.
  StatusOr<boost::json::value> Subscribe(const boost::json::array& params);
  // unsubscribe [id]: true, or -32602 for an id that is not subscribed.
  StatusOr<boost::json::value> Unsubscribe(const boost::json::array& params);
  bool Wants(const Event& event) const;

 private:
  std::array<Subscription, kMaxSubscriptions> slots_{};
};

// {"jsonrpc":"2.0","method":"event_missed","params":[]}
const std::string& EventMissedFrame();

}  // namespace neosl::devchain::rpc
