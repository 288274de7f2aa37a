// What travels with a mesh call (service-integration.md, "Context Propagation"): W3C trace
// context and the seed's x-trace-id, the calling service, the account and roles the gateway
// authenticated, and the deadline. The server pipeline builds a CallContext from the incoming
// metadata; the client copies the current one into outgoing calls, so a chain gateway → A → B
// keeps one trace id and never outlives the first deadline.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/log.h"
#include "core/random.h"
#include "core/status.h"

namespace grpc {
class Status;
}

namespace neosl::mesh {

// Metadata keys (lower case, as gRPC requires).
inline constexpr std::string_view kTraceparentKey = "traceparent";
inline constexpr std::string_view kTraceIdKey = "x-trace-id";
inline constexpr std::string_view kCallerIdKey = "x-caller-id";
inline constexpr std::string_view kAccountIdKey = "x-account-id";
inline constexpr std::string_view kRolesKey = "x-roles";
inline constexpr std::string_view kActorKey = "x-actor-id";                      // who acted: "key:<api key id>", …
inline constexpr std::string_view kDeadlineMsKey = "x-deadline-ms";              // remaining budget, ms
inline constexpr std::string_view kAttestationNonceKey = "x-attestation-nonce";  // hex
inline constexpr std::string_view kAttestationEvidenceKey = "x-attestation-evidence";  // evidence JSON
inline constexpr std::string_view kRetryPushbackKey = "grpc-retry-pushback-ms";

struct CallContext {
  std::string trace_id;   // 32 lowercase hex
  std::string span_id;    // 16 lowercase hex: this call's span
  std::string caller;     // the authenticated identity of the calling service
  std::string account;    // the account the call acts for ("" for platform-internal work)
  std::string roles;      // comma-separated roles of the account's key
  std::string actor;      // who acted, for audit logs: "key:<api key id>", "function:<id>", …
  std::string operation;  // the method's short name ("Echo")
  std::optional<std::chrono::system_clock::time_point> deadline;

  // Remaining time before the deadline (zero when passed); nullopt without a deadline.
  std::optional<std::chrono::milliseconds> Remaining() const;
  // "00-<trace>-<span>-01"
  std::string Traceparent() const;
};

// The call being served on this thread, or nullptr. Set by the server pipeline around a
// handler; the client uses it as the parent of outgoing calls.
const CallContext* CurrentCall();

// Makes `call` current (and its trace id the log's) for the scope.
class ScopedCall {
 public:
  explicit ScopedCall(const CallContext* call);
  ~ScopedCall();
  ScopedCall(const ScopedCall&) = delete;
  ScopedCall& operator=(const ScopedCall&) = delete;

 private:
  const CallContext* previous_;
  log::ScopedTraceId trace_;
};

// The trace id of a valid W3C traceparent ("00-<32 hex>-<16 hex>-<2 hex>"), or empty.
std::string TraceIdFromTraceparent(std::string_view traceparent);
bool IsTraceId(std::string_view s);  // 32 lowercase hex, not all zero
std::string NewTraceId(RandomSource& random);
std::string NewSpanId(RandomSource& random);

// neosl::Status ↔ grpc::Status. The code and message map one to one; details travel as a
// serialized neosl.common.v1.Status in error_details, so the caller gets them back intact.
grpc::Status ToGrpcStatus(const Status& status);
Status FromGrpcStatus(const grpc::Status& status);

}  // namespace neosl::mesh
