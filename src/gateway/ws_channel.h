// Channels of GET /v1/ws: what a WebSocket client subscribes to. The gateway knows a channel only
// by its name, the least role it needs and its factory (WsHub::RegisterChannel); what feeds it (a
// mesh stream, a chain subscription, …) is the factory's business. See docs/api.md, "WebSocket".
//
// A subscription's life: the client sends {"op":"subscribe","id","channel","params"}; the factory
// starts the source and returns a handle; the client gets "subscribed", then "event"s for each
// Event, and "end" (or "error") when the source calls End. Unsubscribing or closing the
// connection destroys the handle, which must stop the source.
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/status.h"
#include "gateway/auth.h"

namespace neosl::gateway {

// Who subscribes: the connection's authenticated key, and the trace of its upgrade request.
struct WsSubscriber {
  const Principal& principal;
  std::string_view trace_id;
  std::string_view subscription_id;  // the client's id for this subscription
};

// The channel's way back to its subscriber. Thread-safe; keep it as long as the source runs.
class WsEmitter {
 public:
  virtual ~WsEmitter() = default;
  // Sends {"type":"event","id","channel","data":data}. False once the subscription is over
  // (unsubscribed, ended, the connection closing or too slow): the source may stop producing.
  virtual bool Event(boost::json::value data) = 0;
  // The source is finished: OK sends {"type":"end","id"}, an error {"type":"error","id","error"}.
  // Only the first call counts.
  virtual void End(const Status& status) = 0;
};

// A running source. Destroying it stops the source and returns only once none of the source's
// calls into its emitter is still running (destroying the connection's owner must be safe).
class WsSubscription {
 public:
  virtual ~WsSubscription() = default;
};

// Starts a subscription for `subscriber` with the client's `params` ({} when none were sent).
// Runs on the connection's I/O thread: start the source and return, do not wait for data. Errors
// go to the client as an error frame with the subscription's id (INVALID_ARGUMENT for bad
// params, NOT_FOUND for what the subscriber may not see, …).
using WsChannelFactory = std::function<StatusOr<std::unique_ptr<WsSubscription>>(
    const WsSubscriber& subscriber, const boost::json::object& params, std::shared_ptr<WsEmitter> emitter)>;

}  // namespace neosl::gateway
