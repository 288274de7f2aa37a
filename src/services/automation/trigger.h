// What a trigger is (issue #13, docs/automation.md): the spec a user created it with, the state
// the service keeps for it, and its runs. Shared by the API (spec.h), the store (trigger_store.h),
// the engine (engine.h), the actions (actions.h) and the chain and price sources (sources.h).
//
// A trigger's spec never changes after it is created (pause, resume and delete change its state);
// it is stored as JSON text (SpecToJson) and read back with SpecFromJson, which accepts only what
// ValidateSpec accepts.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace neosl::automation {

// ---- conditions ------------------------------------------------------------------------------

struct CronCondition {
  std::string expression;
  std::string timezone;  // IANA name; empty: UTC
};

struct IntervalCondition {
  int64_t every_ms = 0;     // ≥ 1000
  int64_t start_at_ms = 0;  // the first firing; the next are start_at_ms + k · every_ms
};

struct BlockCondition {
  std::optional<uint32_t> at;  // fire once at this height
  uint32_t every = 0;          // or at every height divisible by it (exactly one of the two)
};

struct EventFilter {
  uint32_t param = 0;
  std::string type;    // Hash160 | Hash256 | Integer | Boolean | String | ByteString | PublicKey
  std::string equals;  // canonical text of the value in that type (see CanonicalParamText)
};

struct EventCondition {
  std::string contract;  // 0x… script hash, lower-case, big-endian as Neo prints it
  std::string event;
  std::vector<EventFilter> filters;
};

struct PriceCondition {
  enum class Mode { kAbove, kBelow, kChange };
  std::string pair;  // "NEO/USD"
  Mode mode = Mode::kAbove;
  std::string value;        // kAbove / kBelow: the threshold as decimal text ("12.5")
  uint32_t change_bps = 0;  // kChange: 1..100000
};

using Condition = std::variant<CronCondition, IntervalCondition, BlockCondition, EventCondition, PriceCondition>;

enum class TriggerKind { kCron, kInterval, kBlock, kEvent, kPrice };
std::string_view TriggerKindName(TriggerKind kind);  // "cron", "interval", "block", "event", "price"
TriggerKind KindOf(const Condition& condition);

// ---- actions ---------------------------------------------------------------------------------

struct FunctionAction {
  std::string function_id;
};

struct ContractArg {
  std::string type;  // Any | Boolean | Integer | ByteArray | String | Hash160 | Hash256 | PublicKey | Array
  std::string value;
  std::vector<ContractArg> items;  // Array
};

struct ContractAction {
  std::string contract;  // 0x… lower-case
  std::string method;
  std::vector<ContractArg> args;
  int64_t max_fee = 0;  // datoshi per transaction; 0: the service's default
};

struct WebhookAction {
  std::string url;
  std::map<std::string, std::string> headers;
};

using Action = std::variant<FunctionAction, ContractAction, WebhookAction>;
std::string_view ActionKindName(const Action& action);  // "function", "contract", "webhook"

// ---- the spec --------------------------------------------------------------------------------

enum class CatchUp { kSkip, kOnce, kAll };
std::string_view CatchUpName(CatchUp c);                     // "skip", "once", "all"
std::optional<CatchUp> ParseCatchUp(std::string_view name);  // nullopt for anything else

struct RetryPolicy {
  uint32_t max_attempts = 3;  // 1..10; 1: no retry
  int64_t initial_backoff_ms = 1000;
  int64_t max_backoff_ms = 300'000;
  // The wait before attempt `attempt` + 1 after attempt `attempt` (1-based) failed:
  // initial · 2^(attempt−1), at most max_backoff_ms.
  int64_t BackoffAfter(uint32_t attempt) const;
};

struct TriggerSpec {
  std::string name;
  Condition condition;
  Action action;
  std::string payload_json = "null";  // valid JSON text, at most 16 KiB
  CatchUp catch_up = CatchUp::kSkip;
  uint64_t max_runs = 0;  // 0: unlimited
  std::optional<int64_t> end_at_ms;
  RetryPolicy retry;

  TriggerKind kind() const { return KindOf(condition); }
};

// The spec as JSON text for the store, and back. SpecFromJson re-validates the structure
// (INVALID_ARGUMENT / DATA_LOSS for text that is not a spec this code wrote).
std::string SpecToJson(const TriggerSpec& spec);
StatusOr<TriggerSpec> SpecFromJson(std::string_view json);

// ---- state -----------------------------------------------------------------------------------

enum class TriggerStatus { kActive, kPaused, kCompleted };
std::string_view TriggerStatusName(TriggerStatus s);  // "active", "paused", "completed"
StatusOr<TriggerStatus> ParseTriggerStatus(std::string_view name);

// A trigger as stored (table automation_triggers, migration 12).
struct TriggerRecord {
  std::string id;  // tg_…
  std::string account;
  TriggerSpec spec;
  TriggerStatus status = TriggerStatus::kActive;
  std::string status_reason;  // completed: why
  uint64_t runs = 0;          // firings recorded
  // Time triggers: the next scheduled firing not yet recorded (Unix ms); none once completed.
  std::optional<int64_t> next_due_ms;
  std::optional<int64_t> last_fired_at_ms;  // the scheduled time of the latest firing
  // Price triggers: what the next report is compared with (PriceState as JSON); "" before the first.
  std::string state_json;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// ---- runs ------------------------------------------------------------------------------------

enum class RunStatus { kPending, kRunning, kRetrying, kSucceeded, kFailed };
std::string_view RunStatusName(RunStatus s);  // "pending", "running", "retrying", "succeeded", "failed"
StatusOr<RunStatus> ParseRunStatus(std::string_view name);
inline bool IsFinal(RunStatus s) {
  return s == RunStatus::kSucceeded || s == RunStatus::kFailed;
}

// The deterministic run ids of issue #13 ("each firing has a deterministic id").
std::string TimeRunId(std::string_view trigger_id, int64_t scheduled_ms);  // "<id>:t:<ms>"
std::string BlockRunId(std::string_view trigger_id, uint32_t height);      // "<id>:b:<height>"
// "<id>:e:<0x tx hash>:<index>"
std::string EventRunId(std::string_view trigger_id, std::string_view tx_hash, uint32_t index);
std::string PriceRunId(std::string_view trigger_id, std::string_view pair, uint64_t round);  // "<id>:p:<pair>:<round>"
// A manual run (Engine::RunNow), by when it was asked for: "<id>:m:<ms>". Not deterministic like
// the others, since nothing fires it but a request; two requests in one millisecond take the next.
std::string ManualRunId(std::string_view trigger_id, int64_t requested_ms);
bool IsManualRunId(std::string_view run_id);

// A run as stored (table automation_runs): one firing of a trigger and its action's outcome.
struct RunRecord {
  std::string id;
  std::string trigger_id;
  std::string account;
  RunStatus status = RunStatus::kPending;
  int64_t scheduled_at_ms = 0;
  int64_t recorded_at_ms = 0;
  std::optional<int64_t> finished_at_ms;
  uint32_t attempts = 0;  // action attempts started
  std::optional<int64_t> next_attempt_at_ms;
  std::string context_json = "null";  // what fired it (the action is given it)
  bool catch_up = false;
  // The action's outcome.
  std::string execution_id;
  std::string tx_hash;
  int32_t http_status = 0;
  std::string error;
};

}  // namespace neosl::automation
