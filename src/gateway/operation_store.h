// Asynchronous operations, as stored (table `operations`, migration 14): what a 202 promised, so
// that a restart resumes or fails it and never forgets it. Operations (operations.h) runs them.
//
// States: pending (accepted, not begun) → running → succeeded | failed; pending → cancelled.
// A running operation is not cancelled: what it runs (a function, a withdrawal) cannot be taken
// back half-way. Final states never change.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace neosl::gateway {

enum class OperationState { kPending, kRunning, kSucceeded, kFailed, kCancelled };
std::string_view OperationStateName(OperationState state);  // "pending", …
StatusOr<OperationState> ParseOperationState(std::string_view name);
inline bool IsFinal(OperationState s) {
  return s == OperationState::kSucceeded || s == OperationState::kFailed || s == OperationState::kCancelled;
}

struct OperationRecord {
  std::string id;       // op_…
  std::string account;  // acc_…
  std::string kind;     // the route's operationId: "InvokeFunction", "CreateOracleRequest", …
  OperationState state = OperationState::kPending;
  // What it takes to run it (again): the route, its path parameters and query, the body, the
  // caller (operations.cpp). Never a key or a secret: the body of a route that may carry one is
  // not made asynchronous.
  std::string request_json;
  int http_status = 0;      // the answer's status, once final
  std::string result_json;  // succeeded: the body the synchronous call answers
  std::string error_json;   // failed, cancelled: {"code","message","details"} as in an error body
  std::string webhook_url;  // "" for none
  std::string owner;        // the gateway instance that runs it
  int64_t attempts = 0;     // runs begun (a restart that resumes one adds one)
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  std::optional<int64_t> started_at_ms;
  std::optional<int64_t> finished_at_ms;
  // The webhook's delivery of the outcome: "" (no webhook, or not done yet), pending, delivered
  // or failed (retries given up).
  std::string webhook_state;
  int64_t webhook_attempts = 0;
  std::optional<int64_t> webhook_first_at_ms;
  std::optional<int64_t> webhook_next_at_ms;
};

// One POST of an operation's outcome to its webhook.
struct DeliveryAttempt {
  int64_t attempt = 0;  // 1, 2, …
  int64_t at_ms = 0;
  int http_status = 0;  // 0: no answer
  std::string error;    // why it did not count as delivered ("" when it did)
  int64_t duration_ms = 0;
};

class OperationStore {
 public:
  OperationStore(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // A new pending operation (its times are set here).
  Status Insert(OperationRecord& op);
  // NOT_FOUND "operation <id> not found" when absent or another account's (never tells which).
  StatusOr<OperationRecord> Get(const std::string& account, const std::string& id);
  StatusOr<OperationRecord> Get(const std::string& id);  // any account
  // Newest first; `limit` 1..100; `token` from the previous page ("" for the first).
  StatusOr<std::vector<OperationRecord>> List(const std::string& account, size_t limit, const std::string& token,
                                              std::string* next_token);
  // pending → running, attempts + 1. FAILED_PRECONDITION when it is not pending (cancelled).
  StatusOr<OperationRecord> Begin(const std::string& id);
  // running → `state` (succeeded or failed) with the answer. FAILED_PRECONDITION when not running.
  Status Finish(const std::string& id, OperationState state, int http_status, const std::string& result_json,
                const std::string& error_json);
  // pending → cancelled with `error_json`; a cancelled one is answered as it is. FAILED_PRECONDITION
  // for one running or done.
  StatusOr<OperationRecord> Cancel(const std::string& account, const std::string& id, const std::string& error_json);
  // running → pending: a restart runs it again.
  Status Requeue(const std::string& id);
  // Operations of `owner` that are not final, oldest first: what a restart must resume or fail.
  StatusOr<std::vector<OperationRecord>> Unfinished(const std::string& owner);

  // Webhooks. Finish and Cancel make a delivery of an operation with a webhook due at once.
  // The pending deliveries of `owner`, soonest due first (due or not: the first not yet due says
  // how long the deliverer may wait).
  StatusOr<std::vector<OperationRecord>> PendingDeliveries(const std::string& owner, size_t limit);
  // Records an attempt and what follows it: "delivered", "failed", or "pending" again at `next_at_ms`.
  Status RecordDelivery(const std::string& id, const DeliveryAttempt& attempt, std::string_view next_state,
                        std::optional<int64_t> next_at_ms);
  // An operation's attempts, in order.
  StatusOr<std::vector<DeliveryAttempt>> Deliveries(const std::string& id);

  // The `operations` stream: the account's operations that ended after (`after_ms`, `after_id`),
  // in the order they ended (finished_at_ms, then id), at most `limit`.
  StatusOr<std::vector<OperationRecord>> FinishedAfter(const std::string& account, int64_t after_ms,
                                                       const std::string& after_id, size_t limit);

  // Owners. Each gateway records that it is alive (its heartbeat, table operation_owners); one
  // not seen since `before_ms` is gone, and a live one adopts what it left.
  Status Heartbeat(const std::string& owner);
  // Owners other than `me` last seen before `before_ms`.
  StatusOr<std::vector<std::string>> SilentOwners(const std::string& me, int64_t before_ms);
  // If `gone` is still silent since `before_ms`, makes `me` the owner of its unfinished operations
  // and pending deliveries, and forgets `gone`, in one transaction (of several gateways adopting
  // at once, one wins); the adopted unfinished operations, oldest first. None when another
  // gateway adopted first or `gone` came back.
  StatusOr<std::vector<OperationRecord>> Adopt(const std::string& me, const std::string& gone, int64_t before_ms);

 private:
  store::Store& store_;
  const Clock& clock_;
};

}  // namespace neosl::gateway
