// What a firing does (actions.h): the firing as JSON, a function invoked over the mesh, a contract
// call through the outbox with its gas bank hold, a webhook through the SSRF-checked fetcher.
#include "services/automation/actions.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/parse.hpp>

#include "core/business_metrics.h"
#include "core/encoding.h"
#include "core/log.h"
#include "crypto/p256.h"
#include "neo/account.h"
#include "neo/contract_param.h"
#include "neo/script_builder.h"
#include "neo/signer.h"
#include "neosl/functions/v1/functions.pb.h"
#include "tee/http1.h"

namespace neosl::automation {
namespace {

namespace functionspb = ::neosl::functions::v1;

constexpr std::string_view kKeyPrefix = "automation:";
// The fee schedule's operations (gasbank/fees.cpp): a transaction's chain fees are charged on top
// of the first; the second is charged per webhook attempt that got an answer.
constexpr std::string_view kTransactionOperation = "automation.transaction";
constexpr std::string_view kWebhookOperation = "automation.webhook";
constexpr std::string_view kFunctionsService = "functions";
constexpr std::string_view kInvokeFunction = "/neosl.functions.v1.Functions/InvokeFunction";
// A run's error is shown to the account and stored: long texts (a function's message) are cut.
constexpr size_t kMaxErrorBytes = 1000;

ActionOutcome Failed(std::string error, bool retryable) {
  ActionOutcome out;
  out.kind = ActionOutcome::Kind::kFailed;
  out.retryable = retryable;
  if (error.size() > kMaxErrorBytes) {
    size_t cut = kMaxErrorBytes;
    while (cut > 0 && (static_cast<unsigned char>(error[cut]) & 0xC0) == 0x80) --cut;  // a UTF-8 boundary
    error.resize(cut);
    error += "…";
  }
  out.error = std::move(error);
  return out;
}

std::string_view OutcomeName(ActionOutcome::Kind kind) {
  switch (kind) {
    case ActionOutcome::Kind::kSucceeded: return "succeeded";
    case ActionOutcome::Kind::kFailed: return "failed";
    case ActionOutcome::Kind::kPending: return "pending";
  }
  return "failed";
}

ActionOutcome Succeeded() {
  ActionOutcome out;
  out.kind = ActionOutcome::Kind::kSucceeded;
  return out;
}

// `text` when it is one JSON value (surrounding blanks dropped), else null: the firing stays
// valid JSON whatever a record holds.
std::string_view JsonOrNull(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return "null";
  text = text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
  boost::system::error_code ec;
  (void)boost::json::parse(text, ec);
  return ec ? std::string_view("null") : text;
}

void AppendString(std::string& out, std::string_view key, std::string_view value) {
  out += '"';
  out += key;
  out += "\":\"";
  AppendJsonEscaped(out, value);
  out += '"';
}

// What a hold is for: the outbox key without its prefix ("<run id>" or "<run id>#<attempt>"), so
// that the settlement of a transaction finds it again from the outbox record alone.
std::string AttemptReference(std::string_view run_id, uint32_t attempt) {
  std::string ref(run_id);
  if (attempt > 1) ref += "#" + std::to_string(attempt);
  return ref;
}

bool IsFinal(chain_tx::OutboxState s) {
  return s == chain_tx::OutboxState::kHalt || s == chain_tx::OutboxState::kFault || s == chain_tx::OutboxState::kFailed;
}

// A contract argument (its canonical text, spec.h CanonicalParamText) as the parameter pushed.
StatusOr<neo::ContractParam> ParamOf(const ContractArg& arg, int depth) {
  if (depth > neo::kMaxContractParamDepth) return InvalidArgumentError("arrays nest too deep");
  const std::string& v = arg.value;
  if (arg.type == "Any") return neo::ContractParam::Null();
  if (arg.type == "Boolean") {
    if (v != "true" && v != "false") return InvalidArgumentError("a Boolean is true or false");
    return neo::ContractParam::Bool(v == "true");
  }
  if (arg.type == "Integer") {
    ASSIGN_OR_RETURN(neo::BigInteger n, neo::BigInteger::FromDecimal(v));
    return neo::ContractParam::Int(std::move(n));
  }
  if (arg.type == "ByteArray" || arg.type == "ByteString") {
    std::optional<std::vector<uint8_t>> bytes = HexDecode(v);
    if (!bytes) return InvalidArgumentError("a " + arg.type + " is hex");
    return neo::ContractParam::Bytes(std::move(*bytes));
  }
  if (arg.type == "String") return neo::ContractParam::String(v);
  if (arg.type == "Hash160") {
    const bool hex = v.size() >= 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X');
    ASSIGN_OR_RETURN(neo::UInt160 hash, hex ? neo::UInt160::Parse(v) : neo::AddressToScriptHash(v));
    return neo::ContractParam::Hash160(hash);
  }
  if (arg.type == "Hash256") {
    ASSIGN_OR_RETURN(neo::UInt256 hash, neo::UInt256::Parse(v));
    return neo::ContractParam::Hash256(hash);
  }
  if (arg.type == "PublicKey") {
    ASSIGN_OR_RETURN(crypto::PublicKey key, crypto::PublicKey::FromHex(v));
    return neo::ContractParam::PublicKey(key);
  }
  if (arg.type == "Array") {
    std::vector<neo::ContractParam> items;
    items.reserve(arg.items.size());
    for (const ContractArg& item : arg.items) {
      ASSIGN_OR_RETURN(neo::ContractParam p, ParamOf(item, depth + 1));
      items.push_back(std::move(p));
    }
    return neo::ContractParam::Array(std::move(items));
  }
  return InvalidArgumentError("unknown type " + arg.type.substr(0, 32));
}

// contract.method(args) with CallFlags.All.
StatusOr<std::vector<uint8_t>> CallScript(const ContractAction& action) {
  ASSIGN_OR_RETURN(neo::UInt160 contract, neo::UInt160::Parse(action.contract));
  std::vector<neo::ContractParam> args;
  args.reserve(action.args.size());
  for (size_t i = 0; i < action.args.size(); ++i) {
    StatusOr<neo::ContractParam> p = ParamOf(action.args[i], 1);
    if (!p.ok()) return p.status().Annotate("args[" + std::to_string(i) + "]");
    args.push_back(std::move(*p));
  }
  neo::ScriptBuilder sb;
  sb.EmitContractCall(contract, action.method, neo::CallFlags::All, args);
  return sb.Take();
}

// A failed reserve: funds, load and reachability may change before the next attempt; anything
// else (INTERNAL: the fee schedule does not price the operation) will not. Insufficient funds is
// retryable on purpose: an attempt refused costs the account nothing, the retry policy bounds how
// often it is asked again, and an account topped up meanwhile gets its firing done.
ActionOutcome Unpaid(const Status& s) {
  const bool retryable = s.code() == StatusCode::kFailedPrecondition || s.code() == StatusCode::kUnavailable ||
                         s.code() == StatusCode::kDeadlineExceeded || s.code() == StatusCode::kResourceExhausted;
  return Failed("the gas bank did not reserve the fee: " + s.ToString(), retryable);
}

// The hold of a transaction covers the operation's fee and the most its chain fees may be:
// automation.max_tx_fee, whatever the trigger's own cap. The settlement has only the outbox
// record to go by, and the bank finds a hold again only when asked for the same amount, so the
// amount must not depend on the trigger (a trigger's max_fee lowers the outbox's cap, never
// raises it past what is held).
gasbank::ReserveOptions TransactionHold(const ActionOptions& options) {
  gasbank::ReserveOptions o;
  o.chain_fee_cap = options.default_max_tx_fee;
  o.ttl = options.tx_hold_ttl;
  return o;
}

// Headers the action sets itself, whatever the trigger's say.
bool IsOwnHeader(std::string_view name) {
  const std::string lower = tee::http1::Lower(name);
  return lower == "content-type" || lower == "idempotency-key" || lower == "user-agent";
}

}  // namespace

std::string FiringJson(const TriggerRecord& trigger, const RunRecord& run, uint32_t attempt) {
  std::string out = "{";
  AppendString(out, "trigger_id", trigger.id);
  out += ',';
  AppendString(out, "run_id", run.id);
  out += ',';
  AppendString(out, "scheduled_at", FormatRfc3339Millis(run.scheduled_at_ms));
  out += ",\"attempt\":" + std::to_string(attempt);
  out += ",\"catch_up\":";
  out += run.catch_up ? "true" : "false";
  out += ",\"payload\":";
  out += JsonOrNull(trigger.spec.payload_json);
  out += ",\"context\":";
  out += JsonOrNull(run.context_json);
  out += '}';
  return out;
}

std::string OutboxKey(std::string_view run_id) {
  return std::string(kKeyPrefix) + std::string(run_id);
}

ActionOutcome OutcomeOf(const chain_tx::OutboxRecord& record) {
  ActionOutcome out;
  switch (record.state) {
    case chain_tx::OutboxState::kQueued:
    case chain_tx::OutboxState::kSent: out.kind = ActionOutcome::Kind::kPending; break;
    case chain_tx::OutboxState::kHalt: out = Succeeded(); break;
    case chain_tx::OutboxState::kFault:
      out = Failed("the transaction FAULTed: " + record.error, /*retryable=*/false);
      break;
    case chain_tx::OutboxState::kFailed:
      // The outbox says why ("not sent: the script faults in a test run: …").
      out = Failed(record.error.empty() ? "the transaction was not sent" : record.error, /*retryable=*/true);
      break;
  }
  out.tx_hash = record.tx_hash.value_or("");
  return out;
}

ActionRunner::ActionRunner(ActionDeps deps, ActionOptions options) : deps_(deps), options_(options) {}

ActionOutcome ActionRunner::Run(const TriggerRecord& trigger, const RunRecord& run, uint32_t attempt) {
  if (attempt == 0) attempt = 1;
  // Lateness of the firing itself: a catch-up run is late by design, a retry by its backoff.
  if (attempt == 1 && !run.catch_up && deps_.clock != nullptr) {
    metrics::Automation().lateness.Observe({TriggerKindName(KindOf(trigger.spec.condition))},
                                           double(deps_.clock->NowUnixMillis() - run.scheduled_at_ms) / 1000);
  }
  ActionOutcome out;
  if (std::holds_alternative<FunctionAction>(trigger.spec.action)) {
    out = RunFunction(trigger, run, attempt);
  } else if (std::holds_alternative<ContractAction>(trigger.spec.action)) {
    out = RunContract(trigger, run, attempt);
  } else {
    out = RunWebhook(trigger, run, attempt);
  }
  metrics::Automation().actions.Inc({ActionKindName(trigger.spec.action), OutcomeName(out.kind)});
  return out;
}

bool ActionRunner::SafeToResume(const Action& action) {
  return std::holds_alternative<ContractAction>(action);
}

// ---- function --------------------------------------------------------------------------------

ActionOutcome ActionRunner::RunFunction(const TriggerRecord& trigger, const RunRecord& run, uint32_t attempt) {
  const auto& action = std::get<FunctionAction>(trigger.spec.action);
  // A process without a mesh client never gets one: another attempt here would fail the same way.
  if (deps_.mesh == nullptr) return Failed("UNAVAILABLE: functions cannot be reached from here", false);
  functionspb::InvokeFunctionRequest request;
  request.set_id(action.function_id);
  request.set_args_json(FiringJson(trigger, run, attempt));
  const bool timed = std::holds_alternative<CronCondition>(trigger.spec.condition) ||
                     std::holds_alternative<IntervalCondition>(trigger.spec.condition);
  request.set_trigger(timed ? "schedule" : "chain_event");
  mesh::CallOptions call;
  call.account = trigger.account;
  call.timeout = options_.function_timeout;
  functionspb::Execution execution;
  Status s = deps_.mesh->Call(kFunctionsService, kInvokeFunction, request, &execution, call);
  if (!s.ok()) {
    switch (s.code()) {
      case StatusCode::kNotFound:
        return Failed("function " + action.function_id + " was not found (deleted?): " + s.ToString(), false);
      case StatusCode::kFailedPrecondition:  // insufficient funds: the account may be topped up
      case StatusCode::kUnavailable:
      case StatusCode::kDeadlineExceeded:
      case StatusCode::kResourceExhausted: return Failed("the function could not run: " + s.ToString(), true);
      default: return Failed("the function could not run: " + s.ToString(), false);
    }
  }
  if (execution.status() == "succeeded") {
    ActionOutcome out = Succeeded();
    out.execution_id = execution.id();
    return out;
  }
  ActionOutcome out =
      execution.status() == "failed"
          ? Failed("the function failed: " + execution.error().code() + ": " + execution.error().message(), true)
          : Failed("the function ended " + execution.status().substr(0, 32), false);
  out.execution_id = execution.id();
  return out;
}

// ---- contract --------------------------------------------------------------------------------

ActionOutcome ActionRunner::RunContract(const TriggerRecord& trigger, const RunRecord& run, uint32_t attempt) {
  const auto& action = std::get<ContractAction>(trigger.spec.action);
  if (deps_.outbox == nullptr) return Failed("UNAVAILABLE: no chain here", false);
  // The API checked every argument: one that does not convert is a bug, not worth another try.
  StatusOr<std::vector<uint8_t>> script = CallScript(action);
  if (!script.ok()) return Failed("the contract call cannot be built: " + script.status().ToString(), false);
  const std::string reference = AttemptReference(run.id, attempt);
  const std::string key = OutboxKey(reference);

  // Asked again for the same attempt (a restart, the engine resuming): what was sent stays sent.
  auto resumed = [&](const chain_tx::OutboxRecord& record) {
    if (IsFinal(record.state)) SettleTransaction(record);
    return OutcomeOf(record);
  };
  StatusOr<chain_tx::OutboxRecord> known = deps_.outbox->Get(key);
  if (known.ok()) return resumed(*known);
  if (known.status().code() != StatusCode::kNotFound) {
    return Failed("the outbox cannot be read: " + known.status().ToString(), true);
  }

  StatusOr<gasbank::ChargeHold> hold =
      deps_.charger.Reserve(trigger.account, kTransactionOperation, {}, reference, TransactionHold(options_));
  if (!hold.ok()) return Unpaid(hold.status());
  // automation.max_tx_fee bounds every transaction (it is what the hold covers); a trigger may ask
  // for less.
  const int64_t cap =
      action.max_fee > 0 ? std::min(action.max_fee, options_.default_max_tx_fee) : options_.default_max_tx_fee;
  chain_tx::OutboxItem item{.key = key,
                            .owner = std::string(kOutboxOwner),
                            .account_id = trigger.account,
                            .script = std::move(*script),
                            .valid_for_blocks = options_.valid_for_blocks,
                            .max_fee = cap,
                            .max_attempts = 0,
                            // Signed fee-only: the platform account pays and grants the user's call
                            // no authority, so it cannot spend or act as the platform.
                            .scopes = neo::WitnessScope::None};
  StatusOr<bool> enqueued = deps_.outbox->Enqueue(item);
  if (!enqueued.ok() || !*enqueued) {
    // Another worker enqueued it meanwhile, or the commit's fate is unknown: the store says.
    StatusOr<chain_tx::OutboxRecord> again = deps_.outbox->Get(key);
    if (again.ok()) return resumed(*again);
    if (again.status().code() == StatusCode::kNotFound) (void)deps_.charger.Release(*hold);
    // Otherwise the hold stays until it expires: a transaction that might be on its way is covered.
    const Status& why = enqueued.ok() ? again.status() : enqueued.status();
    return Failed("the transaction could not be queued: " + why.ToString(), true);
  }
  ActionOutcome out;
  out.kind = ActionOutcome::Kind::kPending;
  return out;
}

void ActionRunner::SettleTransaction(const chain_tx::OutboxRecord& record) {
  if (!deps_.charger.enabled() || !IsFinal(record.state) || record.owner != kOutboxOwner || record.account_id.empty() ||
      !record.key.starts_with(kKeyPrefix)) {
    return;
  }
  // The hold is found again by reserving the same work: the same hold, in whatever state it is.
  StatusOr<gasbank::ChargeHold> hold = deps_.charger.Reserve(
      record.account_id, kTransactionOperation, {}, record.key.substr(kKeyPrefix.size()), TransactionHold(options_));
  if (!hold.ok()) {
    log::Warn("the hold of an automated transaction could not be found again; it expires",
              {{"key", record.key}, {"error", hold.status().ToString()}});
    return;
  }
  // Included, halted or faulted, the transaction's fees were paid: the account pays them, and the
  // same charge asked again (a listener and a resumed run both settling) is answered by the bank
  // as it was, never charged twice. One never included costs nothing.
  if (record.state == chain_tx::OutboxState::kFailed) {
    (void)deps_.charger.Release(*hold);
  } else {
    (void)deps_.charger.Charge(*hold, {}, record.system_fee.value_or(0), record.network_fee.value_or(0));
  }
}

// ---- webhook ---------------------------------------------------------------------------------

ActionOutcome ActionRunner::RunWebhook(const TriggerRecord& trigger, const RunRecord& run, uint32_t attempt) {
  const auto& action = std::get<WebhookAction>(trigger.spec.action);
  if (deps_.fetcher == nullptr) return Failed("UNAVAILABLE: webhooks cannot be sent from here", false);
  // Errors name the host only: the path, the query and the headers may carry the receiver's secrets.
  StatusOr<tee::http1::Url> url = tee::http1::ParseUrl(action.url);
  if (!url.ok()) return Failed("the webhook URL is not usable: " + url.status().ToString(), false);
  const std::string where = "webhook to " + url->host;

  net::FetchRequest request;
  request.method = "POST";
  request.url = action.url;
  for (const auto& [name, value] : action.headers) {
    if (!IsOwnHeader(name)) request.headers.emplace_back(name, value);
  }
  request.headers.emplace_back("Content-Type", "application/json");
  request.headers.emplace_back("Idempotency-Key", run.id);
  request.headers.emplace_back("User-Agent", "neosl-automation");
  const std::string body = FiringJson(trigger, run, attempt);
  request.body.assign(body.begin(), body.end());
  request.timeout = options_.webhook_timeout;
  request.redirect = net::RedirectMode::kManual;

  StatusOr<gasbank::ChargeHold> hold =
      deps_.charger.Reserve(trigger.account, kWebhookOperation, {}, AttemptReference(run.id, attempt));
  if (!hold.ok()) return Unpaid(hold.status());
  StatusOr<net::FetchResponse> response = deps_.fetcher->Fetch(request);
  if (!response.ok()) {
    (void)deps_.charger.Release(*hold);
    // A bad URL or header, or a destination the relay refuses, is refused the same way next time.
    const StatusCode code = response.status().code();
    const bool retryable = code != StatusCode::kInvalidArgument && code != StatusCode::kPermissionDenied;
    return Failed(where + ": " + response.status().ToString(), retryable);
  }
  (void)deps_.charger.Charge(*hold, {});
  const int status = response->status;
  ActionOutcome out;
  if (status >= 200 && status < 300) {
    out = Succeeded();
  } else if (status >= 300 && status < 400) {
    // A webhook that redirects is set up wrong: another attempt would be redirected the same way.
    out = Failed(where + " answered HTTP " + std::to_string(status) + ": redirects are not followed", false);
  } else {
    const bool retryable = status >= 500 || status == 408 || status == 429;
    out = Failed(where + " answered HTTP " + std::to_string(status), retryable);
  }
  out.http_status = status;
  return out;
}

}  // namespace neosl::automation
