// What a firing does (issue #13, docs/automation.md "Actions"): invoke a Function, send a contract
// invocation, or call a webhook. The engine (engine.h) records a run before calling Run, and
// records what Run returns; ActionRunner itself writes nothing but the outbox item of a contract
// call.
//
//   ActionRunner actions(deps, options);
//   ActionOutcome out = actions.Run(trigger, run);   // on a worker thread; may block for seconds
//
// Every action gets the same JSON, the firing (FiringJson): the trigger, the run, when it was
// scheduled, the trigger's payload and the context that fired it:
//   {"trigger_id":"tg_…","run_id":"tg_…:t:1795312800000","scheduled_at":"2026-11-22T02:00:00.000Z",
//    "attempt":1,"catch_up":false,"payload":<payload>,"context":<context>}
//
// - function: InvokeFunction over the mesh for the trigger's account with args = the firing and
//   trigger "schedule" (time triggers) or "chain_event" (block, event and price triggers). The
//   functions service charges the invocation. The execution id is the outcome; a failed
//   execution is a failed (retryable) outcome with its error.
// - contract: the script `contract.method(args)` (System.Contract.Call, CallFlags.All), enqueued
//   in the chain_tx outbox under key "automation:<run id>" for the trigger's account, after a gas
//   bank hold for "automation.transaction" plus the fee cap (reference: the run id). The outcome
//   is kPending; the outbox's listener (OutcomeOf) turns the transaction's end into the final
//   outcome, when the engine charges (halt, fault: real fees) or releases (failed).
// - webhook: POST of the firing to the URL, through a host-side net::Fetcher over a
//   tee::SocketRelay, so the same SSRF rules as functions' fetch() apply (net.allow_private);
//   headers: the trigger's, plus Content-Type: application/json, Idempotency-Key: <run id> and
//   User-Agent: neosl-automation. 2xx succeeds; any other status, or no answer, fails (retryable:
//   5xx, 408, 429 and no answer); redirects are not followed (and not retried).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "chain_tx/outbox.h"
#include "core/clock.h"
#include "core/status.h"
#include "mesh/client.h"
#include "net/fetcher.h"
#include "services/automation/trigger.h"
#include "services/gasbank/charging.h"

namespace neosl::automation {

struct ActionOutcome {
  enum class Kind {
    kSucceeded,
    kFailed,
    kPending,  // a transaction was enqueued; its end comes through the outbox (OutcomeOf)
  };
  Kind kind = Kind::kFailed;
  bool retryable = false;  // kFailed: whether another attempt may succeed
  std::string execution_id;
  std::string tx_hash;
  int32_t http_status = 0;
  std::string error;  // kFailed: why, for the run's `error` (never a secret, header or body)
};

// The firing as JSON text (above); `attempt` is 1-based.
std::string FiringJson(const TriggerRecord& trigger, const RunRecord& run, uint32_t attempt);

// The outbox key of a run's transaction.
std::string OutboxKey(std::string_view run_id);  // "automation:<run id>"

// The outcome of a contract run from its outbox record: halt → succeeded (tx_hash), fault →
// failed with the VM's exception (not retryable: a new transaction would fault the same way
// unless the chain changed; the retry policy still decides), failed → failed, retryable;
// queued or sent → kPending.
ActionOutcome OutcomeOf(const chain_tx::OutboxRecord& record);

struct ActionDeps {
  mesh::MeshClient* mesh = nullptr;       // functions; null: function actions fail UNAVAILABLE
  chain_tx::Outbox* outbox = nullptr;     // null: contract actions fail "no chain here"
  gasbank::GasCharger charger;            // how contract calls are paid for
  const net::Fetcher* fetcher = nullptr;  // null: webhook actions fail UNAVAILABLE
  const Clock* clock = nullptr;
};

struct ActionOptions {
  std::chrono::milliseconds function_timeout{45'000};  // the mesh call's deadline
  std::chrono::milliseconds webhook_timeout{10'000};
  int64_t default_max_tx_fee = 50'000'000;  // automation.max_tx_fee: 0.5 GAS
  uint32_t valid_for_blocks = 0;            // 0: the outbox's default
  // How long a transaction's hold stays open: longer than it can take to be included or fail.
  std::chrono::milliseconds tx_hold_ttl{30 * 60 * 1000};
};

class ActionRunner {
 public:
  static constexpr std::string_view kOutboxOwner = "automation";

  ActionRunner(ActionDeps deps, ActionOptions options);

  // The outbox, once serve has made it (before the engine starts): contract actions fail "no
  // chain here" until then. Not thread-safe: call before any Run.
  void SetOutbox(chain_tx::Outbox* outbox) { deps_.outbox = outbox; }

  // Runs attempt `attempt` of `run`'s action once, on the calling thread. Never throws; every
  // failure is an outcome. A contract action asked again for the same run (after a restart, or
  // a retry) finds its hold and outbox item again instead of sending twice: retry attempts > 1
  // use key "automation:<run id>#<attempt>".
  ActionOutcome Run(const TriggerRecord& trigger, const RunRecord& run, uint32_t attempt);

  // Settles the gas bank hold of a contract run whose transaction ended (the outbox's listener
  // calls the engine, which calls this): charge the real fees on halt or fault, release on failed.
  void SettleTransaction(const chain_tx::OutboxRecord& record);

  // Whether running this action again after a crash in the middle of it can do it twice
  // (function invocations and webhooks can; a contract call cannot: its outbox key is fixed).
  static bool SafeToResume(const Action& action);

 private:
  ActionOutcome RunFunction(const TriggerRecord& trigger, const RunRecord& run, uint32_t attempt);
  ActionOutcome RunContract(const TriggerRecord& trigger, const RunRecord& run, uint32_t attempt);
  ActionOutcome RunWebhook(const TriggerRecord& trigger, const RunRecord& run, uint32_t attempt);

  ActionDeps deps_;
  ActionOptions options_;
};

}  // namespace neosl::automation
