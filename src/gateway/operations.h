// Asynchronous operations: a long-running call answered at once with 202 and an operation id,
// its outcome fetched later (docs/api.md, "Asynchronous operations").
//
// A route made asynchronous (Asynchronous) runs as before unless the caller asks with
// `"async": true` in the body or `Prefer: respond-async`. Then the gateway stores the request as
// a pending operation (operation_store.h), answers 202 with the operation and a Location header,
// and one of its operation threads runs the route's own handler, with the caller's identity as
// it was, and stores the answer: the body the synchronous call would have given (succeeded) or
// the error body (failed), with its HTTP status. GET /v1/operations/{id} shows it; DELETE cancels
// an operation that has not begun.
//
// A restart never forgets one: Recover, at start, runs again every pending operation this
// gateway (its `owner` id) accepted, and every running one whose route is resumable (safe to run
// twice: a read, or a write keyed by the operation). A running operation whose route is not
// resumable (a function invocation: what it fetched or sent cannot be taken back) fails
// ABORTED, saying so. An owner that stays silent (its process gone for good, or a pod moved with
// a new instance id) has its unfinished operations adopted by a live gateway, under the same rules.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "core/clock.h"
#include "core/random.h"
#include "core/secret.h"
#include "core/status.h"
#include "gateway/gateway.h"
#include "gateway/operation_store.h"
#include "gateway/ws_channel.h"

namespace neosl::net {
class Fetcher;
}

namespace neosl::gateway {

struct OperationsOptions {
  std::string owner;           // this gateway's instance id (replicas: coord::LoadInstanceId)
  int threads = 8;             // operations running at once
  size_t max_queued = 10'000;  // accepted but not yet running, in this process; past it, 503

  // Webhooks: an operation's outcome POSTed, signed, when it ends (docs/api.md, "Webhooks").
  // Without a fetcher a webhook_url is refused (FAILED_PRECONDITION).
  const net::Fetcher* fetcher = nullptr;
  // Checks a webhook's host when the URL is given, by the fetcher's own rules (SocketRelay::
  // CheckDestination): PERMISSION_DENIED for a private address the operator has not allowed.
  std::function<Status(const std::string& host)> check_destination;
  // Each account's signing secret derives from this key (32 bytes).
  SecretBytes webhook_key;
  bool allow_http_webhooks = false;  // http:// webhook URLs (development)
  // After a failed attempt: backoff · 2^(n-1), at most max_backoff, ±20% jitter; retried until
  // retry_for after the first attempt, then failed.
  std::chrono::milliseconds webhook_backoff{10'000};
  std::chrono::milliseconds webhook_max_backoff{3'600'000};
  std::chrono::milliseconds webhook_retry_for{86'400'000};
  std::chrono::milliseconds webhook_timeout{10'000};

  // The `operations` WebSocket channel looks for ends at least this often (those of this gateway
  // are pushed at once; another replica's are seen here within it).
  std::chrono::milliseconds stream_poll{500};
  // A gateway records that it is alive every orphan_after / 6. One silent for orphan_after is
  // gone: a live one adopts its unfinished operations and pending deliveries (a rescheduled pod
  // comes back with a new instance id). 0: never adopt.
  std::chrono::milliseconds orphan_after{30'000};
};

// An account's webhook signing secret ("whsec_" and 64 hex digits), from the platform's key.
std::string WebhookSecret(std::span<const uint8_t> webhook_key, const std::string& account);
// The Neosl-Signature header of `body` sent at `unix_seconds`: "t=<unix_seconds>,v1=<hex of
// HMAC-SHA256(secret, "<unix_seconds>." + body)>".
std::string WebhookSignature(const std::string& secret, int64_t unix_seconds, std::string_view body);

// The JSON of an operation, as GET /v1/operations/{id} answers it.
boost::json::object RenderOperation(const OperationRecord& op);

class Operations {
 public:
  // `store` and `clock` must outlive it. Starts the operation threads.
  Operations(OperationStore& store, RandomSource& random, const Clock& clock, OperationsOptions options);
  ~Operations();  // Stop
  Operations(const Operations&) = delete;
  Operations& operator=(const Operations&) = delete;

  // `route`, able to answer 202 with an operation; its body schema gains "async" (and the
  // OpenAPI text says how). Call before Gateway::AddRoute. A route whose request body carries a
  // secret must not be made asynchronous (the body is stored).
  // `withhold`, when given and true for a request's body, keeps that body out of the store (it
  // carries something never stored, such as an oracle request's header values): it is held in
  // memory only, and a restart before it has run fails the operation ABORTED, saying why.
  Route Asynchronous(Route route, bool resumable,
                     std::function<bool(const boost::json::value& body)> withhold = nullptr);
  // GET /v1/operations, GET and DELETE /v1/operations/{id}, GET /v1/webhooks/secret.
  void RegisterRoutes(Gateway& gateway);
  // The `operations` channel of GET /v1/ws (WsHub::RegisterChannel): the subscriber's account's
  // operations as each ends, each the body of GET /v1/operations/{id}. Params: optional
  // `operation_id` (that one's end, at once if it has ended, and the stream ends with it).
  WsChannelFactory Channel();
  // What this owner left unfinished (see above). Call once, after the routes are registered.
  // From then on this gateway also adopts what gateways gone silent left (orphan_after).
  Status Recover();
  // Stops taking operations and waits for the running ones; queued ones stay pending in the
  // store for the next start. Idempotent.
  void Stop();

  // Operations accepted and not yet finished in this process (tests, metrics).
  size_t in_flight() const;

  // The same operations for services (operations_service.h: the gRPC side).
  struct StartRequest {
    std::string kind;     // an asynchronous route's operationId
    std::string account;  // for whom (the mesh call's account)
    std::string caller;   // the calling service's identity: the operation's key is "service:<caller>"
    std::vector<std::pair<std::string, std::string>> path_params;
    std::string body;  // the route's request body ("" for none)
    std::string webhook_url;
    std::string trace_id;
  };
  // Accepts it as a REST call with "async": true would be: the body is checked against the
  // route's schema first, and the handler runs with the route's least role.
  StatusOr<OperationRecord> Start(const StartRequest& request);
  StatusOr<OperationRecord> Get(const std::string& account, const std::string& id);
  StatusOr<std::vector<OperationRecord>> List(const std::string& account, size_t limit, const std::string& token,
                                              std::string* next_token);
  StatusOr<OperationRecord> Cancel(const std::string& account, const std::string& id, const std::string& by);
  // Returns once it is done, or when `timeout` passes (then as it is: check IsFinal), or at Stop.
  StatusOr<OperationRecord> Wait(const std::string& account, const std::string& id, std::chrono::milliseconds timeout);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace neosl::gateway
