// InvokeFunction and the executions it leaves behind.
#include <algorithm>
#include <cstdlib>
#include <optional>
#include <utility>

#include "core/business_metrics.h"
#include "core/encoding.h"
#include "core/ids.h"
#include "core/log.h"
#include "crypto/hash.h"
#include "services/functions/functions_service.h"
#include "services/functions/service_internal.h"
#include "services/functions/validation.h"

namespace neosl::services {
namespace {

using functions::ExecutionRecord;
using functions::FunctionRecord;

// The fee schedule's operation for an invocation, priced per invocation and per ms it ran.
constexpr std::string_view kInvokeOperation = "functions.invoke";

std::array<uint8_t, 32> Sha256Of(std::string_view text) {
  return crypto::Sha256({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

StatusOr<runtime::Trigger> TriggerFrom(const mesh::CallContext& call, std::string_view name) {
  // Only services that start invocations themselves (automation) say how; the front door's are
  // always API calls.
  if (name.empty() || name == "api" || call.caller == "gateway") return runtime::Trigger::kApi;
  if (name == "schedule") return runtime::Trigger::kSchedule;
  if (name == "chain_event") return runtime::Trigger::kChainEvent;
  return functions::FieldError("trigger", "trigger must be api, schedule or chain_event");
}

// An answered invocation in metrics: a run that failed is answered OK with a failed execution.
void CountInvocation(const mesh::CallContext& call, const functionspb::InvokeFunctionRequest& request,
                     const functionspb::Execution& execution, const Status& answer) {
  auto trigger = TriggerFrom(call, request.trigger());
  std::string_view outcome = metrics::OutcomeOf(answer);
  if (answer.ok() && execution.status() != "succeeded") {
    outcome = execution.error().code() == StatusCodeName(StatusCode::kDeadlineExceeded) ? "timeout" : "error";
  }
  metrics::Functions().invocations.Inc(
      {runtime::TriggerName(trigger.ok() ? *trigger : runtime::Trigger::kApi), outcome});
}

}  // namespace

namespace functions {

void ExecutionToProto(const ExecutionRecord& e, bool full, ::neosl::functions::v1::Execution* out) {
  out->set_id(e.id);
  out->set_function_id(e.function_id);
  out->set_version(e.version);
  out->set_trigger(e.trigger);
  out->set_status(e.succeeded ? "succeeded" : "failed");
  if (!e.succeeded) {
    auto* error = out->mutable_error();
    error->set_code(e.error_code);
    error->set_message(e.error.message);
    error->set_line(e.error.line);
    error->set_column(e.error.column);
    if (full) error->set_stack(e.error.stack);
  }
  if (full) {
    out->set_result_json(e.result_json);
    out->set_error_json(e.error_json);
    out->set_args_json(e.args_json);
    for (const auto& l : e.logs) {
      auto* line = out->add_logs();
      line->set_at(FormatRfc3339Millis(l.at_ms));
      line->set_level(l.level);
      line->set_message(l.message);
    }
  }
  out->set_logs_truncated(e.logs_truncated);
  out->set_started_at(FormatRfc3339Millis(e.started_at_ms));
  out->set_duration_ms(double(e.duration_us) / 1000.0);
  out->set_cold(e.cold);
  out->set_source_hash(HexEncode(e.source_hash));
  out->set_args_hash(HexEncode(e.args_hash));
  out->set_result_hash(HexEncode(e.result_hash));
  out->set_enclave_signature(HexEncode(e.signature));
  out->set_signing_key(HexEncode(e.signing_key));
}

}  // namespace functions

grpc::ServerUnaryReactor* FunctionsService::InvokeFunction(grpc::CallbackServerContext* ctx,
                                                           const functionspb::InvokeFunctionRequest* request,
                                                           functionspb::Execution* response) {
  return pipeline_.UnaryAsync(
      ctx, kIdentity, "InvokeFunction",
      [this, request, response](const std::shared_ptr<const mesh::CallContext>& call,
                                const mesh::Pipeline::Done& done) {
        InvocationStarted();
        // Counted until answered, so that the service outlives every callback of the runtime.
        mesh::Pipeline::Done finish = [this, done, call, request, response](const Status& s) {
          CountInvocation(*call, *request, *response, s);  // before done: the response is gone after
          done(s);
          InvocationEnded();
        };
        bool queued = work_->TrySubmit([this, call, request, response, finish] {
          mesh::ScopedCall scope(call.get());
          Invoke(call, *request, response, finish);
        });
        if (!queued) {
          finish(ResourceExhaustedError("the functions service is busy; retry later")
                     .WithDetail(ErrorDetail{"QuotaFailure", {}}.Add("resource", "functions service queue")));
        }
      });
}

void FunctionsService::Invoke(const std::shared_ptr<const mesh::CallContext>& call,
                              const functionspb::InvokeFunctionRequest& request, functionspb::Execution* response,
                              const mesh::Pipeline::Done& done) {
  std::vector<std::string> secret_names;
  auto prepared = [&]() -> StatusOr<runtime::Invocation> {
    ASSIGN_OR_RETURN(std::string account, functions::CallerAccount(*call));
    RETURN_IF_ERROR(functions::CheckFunctionId(request.id()));
    ASSIGN_OR_RETURN(std::string args, functions::CheckArgs(request.args_json()));
    ASSIGN_OR_RETURN(runtime::Trigger trigger, TriggerFrom(*call, request.trigger()));
    ASSIGN_OR_RETURN(FunctionRecord f, store_.Get(account, request.id()));
    runtime::Invocation inv;
    inv.account = account;
    inv.function_id = f.id;
    inv.version = f.version.version;
    inv.execution_id = ExecutionId::Generate(random_).str();
    inv.source = std::move(f.version.source);
    inv.source_hash = f.version.source_hash;
    inv.args_json = std::move(args);
    inv.trigger = trigger;
    inv.limits = f.version.limits;
    secret_names = std::move(f.version.secrets);
    return inv;
  }();
  if (!prepared.ok()) {
    done(prepared.status());
    return;
  }
  // The fee of the longest the function may run is held before anything of the invocation
  // happens (its secrets are not even resolved): an account that cannot pay is refused here,
  // whoever asked for it — the gateway, or a service acting for the account (the oracle).
  auto hold = charger_.Reserve(prepared->account, kInvokeOperation, {{"ms", prepared->limits.timeout.count()}},
                               prepared->execution_id);
  if (!hold.ok()) {
    done(hold.status());
    return;
  }
  // From here on, every way out goes through Settle.
  if (!secret_names.empty()) {
    auto secrets = Resolve(prepared->account, prepared->function_id, secret_names, prepared->execution_id);
    if (!secrets.ok()) return Settle(*hold, std::nullopt, secrets.status(), done, call);
    prepared->secrets = std::move(*secrets);
  }
  // What Finished needs of the invocation, without its source and sealed secrets.
  auto meta = std::make_shared<runtime::Invocation>();
  meta->account = prepared->account;
  meta->function_id = prepared->function_id;
  meta->version = prepared->version;
  meta->execution_id = prepared->execution_id;
  meta->source_hash = prepared->source_hash;
  meta->args_json = prepared->args_json;
  meta->trigger = prepared->trigger;

  runtime::LogSink sink = [this, meta](const runtime::LogLine& line) {
    if (hub_.subscribers(meta->function_id) == 0) return;
    functionspb::LogEntry entry;
    entry.set_function_id(meta->function_id);
    entry.set_version(meta->version);
    entry.set_execution_id(meta->execution_id);
    entry.set_at(FormatRfc3339Millis(line.at_ms));
    entry.set_level(line.level);
    entry.set_message(line.message);
    hub_.Publish(entry);
  };
  const int64_t started_at_ms = clock_.NowUnixMillis();
  // The outcome is turned into a record on the runtime's thread (no blocking there) and stored
  // by the execution writer, in a batch with the others that finish meanwhile.
  runner_.RunAsync(std::move(*prepared), std::move(sink),
                   [this, call, meta, hold = *hold, started_at_ms, response, done](StatusOr<runtime::Outcome> outcome) {
                     mesh::ScopedCall scope(call.get());
                     Finished(*meta, hold, started_at_ms, std::move(outcome), response, done, call);
                   });
}

void FunctionsService::Finished(const runtime::Invocation& invocation, const gasbank::ChargeHold& hold,
                                int64_t started_at_ms, StatusOr<runtime::Outcome> outcome,
                                functionspb::Execution* response, const mesh::Pipeline::Done& done,
                                const std::shared_ptr<const mesh::CallContext>& call) {
  // The runtime could not run it at all (queue full, no worker): the caller's error, nothing ran.
  if (!outcome.ok()) return Settle(hold, std::nullopt, outcome.status(), done, call);
  runtime::Outcome& o = *outcome;
  ExecutionRecord e;
  e.id = invocation.execution_id;
  e.account = invocation.account;
  e.function_id = invocation.function_id;
  e.version = invocation.version;
  e.trigger = std::string(runtime::TriggerName(invocation.trigger));
  e.succeeded = o.status.ok();
  if (e.succeeded) {
    e.result_json = std::move(o.result_json);
  } else {
    e.error_json = std::move(o.error_json);
    e.error_code = std::string(StatusCodeName(o.status.code()));
    e.error = std::move(o.error);
    if (e.error.message.empty()) e.error.message = std::string(o.status.message());
  }
  e.logs = std::move(o.logs);
  e.logs_truncated = o.logs_truncated;
  e.started_at_ms = started_at_ms;
  e.duration_us = o.duration.count();
  e.cold = o.cold;
  e.args_json = invocation.args_json;
  e.source_hash = invocation.source_hash;
  e.args_hash = o.args_hash;
  e.result_hash = o.result_hash;
  e.signature = o.signature;
  const auto key = report_key_.Compressed();
  e.signing_key.assign(key.begin(), key.end());

  // What is stored must be what was signed, or `neosl fn verify` would fail on a good execution.
  if (Sha256Of(e.args_json) != e.args_hash || Sha256Of(e.succeeded ? e.result_json : e.error_json) != e.result_hash) {
    log::Error("the runtime's hashes do not match the invocation's args or its result",
               {{"execution_id", e.id}, {"function_id", e.function_id}});
    return Settle(hold, std::nullopt, InternalError("the runtime answered with hashes that do not match the execution"),
                  done, call);
  }
  writer_->Add(std::move(e), [this, hold, response, done, call](const Status& s, ExecutionRecord& stored) {
    mesh::ScopedCall scope(call.get());
    if (!s.ok()) return Settle(hold, std::nullopt, s.Annotate("storing execution " + stored.id), done, call);
    metrics::Functions().execution_seconds.Observe({stored.trigger}, double(stored.duration_us) / 1e6);
    functions::ExecutionToProto(stored, /*full=*/true, response);
    // Only a run that succeeded is paid for, by the milliseconds it ran (rounded up); a function
    // that failed or ran out of time gives its hold back.
    std::optional<int64_t> used_ms;
    if (stored.succeeded) used_ms = (stored.duration_us + 999) / 1000;
    Settle(hold, used_ms, Status(), done, call);
  });
}

void FunctionsService::Settle(const gasbank::ChargeHold& hold, std::optional<int64_t> used_ms, const Status& answer,
                              const mesh::Pipeline::Done& done, const std::shared_ptr<const mesh::CallContext>& call) {
  if (!hold.charged()) return done(answer);
  // Submit, not TrySubmit: one per invocation in flight, which the runtime bounds.
  work_->Submit([this, hold, used_ms, answer, done, call] {
    mesh::ScopedCall scope(call.get());
    if (used_ms) {
      (void)charger_.Charge(hold, {{"ms", std::max<int64_t>(*used_ms, 0)}});
    } else {
      (void)charger_.Release(hold);
    }
    done(answer);
  });
}

Status FunctionsService::ListExecutionsOf(const mesh::CallContext& call,
                                          const functionspb::ListExecutionsRequest& request,
                                          functionspb::ListExecutionsResponse* response) {
  ASSIGN_OR_RETURN(std::string account, functions::CallerAccount(call));
  RETURN_IF_ERROR(functions::CheckFunctionId(request.id()));
  ASSIGN_OR_RETURN(int32_t limit, functions::PageSize(request.limit()));
  int64_t before = 0;
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(std::string token, functions::DecodePageToken(request.page_token()));
    char* end = nullptr;
    before = std::strtoll(token.c_str(), &end, 10);
    if (end == token.c_str() || *end != '\0' || before <= 0) {
      return functions::FieldError("page_token", "page_token is not one this API gave out");
    }
  }
  // Another account's function is not found, whether or not it has executions.
  RETURN_IF_ERROR(store_.Get(account, request.id()).status());
  ASSIGN_OR_RETURN(auto page, store_.ListExecutions(account, request.id(), before, limit + 1));
  const bool more = page.size() > size_t(limit);
  if (more) page.resize(size_t(limit));
  for (const auto& e : page) functions::ExecutionToProto(e, /*full=*/false, response->add_executions());
  if (more) response->set_next_page_token(functions::EncodePageToken(std::to_string(page.back().seq)));
  return Status();
}

Status FunctionsService::GetExecutionOf(const mesh::CallContext& call, const functionspb::GetExecutionRequest& request,
                                        functionspb::Execution* response) {
  ASSIGN_OR_RETURN(std::string account, functions::CallerAccount(call));
  RETURN_IF_ERROR(functions::CheckExecutionId(request.id()));
  ASSIGN_OR_RETURN(ExecutionRecord e, store_.GetExecution(account, request.id()));
  functions::ExecutionToProto(e, /*full=*/true, response);
  return Status();
}

}  // namespace neosl::services
