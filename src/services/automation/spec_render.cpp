// RenderTrigger and RenderRun (spec.h): triggers and runs as the API shows them.
#include <optional>
#include <string>
#include <vector>

#include "core/encoding.h"
#include "services/automation/spec.h"

namespace neosl::automation {
namespace {

using ArgList = google::protobuf::RepeatedPtrField<automationpb::ContractArg>;

std::string TimeText(std::optional<int64_t> ms) {
  return ms ? FormatRfc3339Millis(*ms) : std::string();
}

void RenderArgs(const std::vector<ContractArg>& args, ArgList* out) {
  for (const ContractArg& a : args) {
    automationpb::ContractArg* o = out->Add();
    o->set_type(a.type);
    o->set_value(a.value);
    RenderArgs(a.items, o->mutable_items());
  }
}

}  // namespace

void RenderTrigger(const TriggerRecord& t, automationpb::Trigger* out) {
  const TriggerSpec& spec = t.spec;
  out->set_id(t.id);
  out->set_name(spec.name);
  out->set_kind(std::string(TriggerKindName(spec.kind())));
  switch (spec.kind()) {
    case TriggerKind::kCron: {
      const auto& c = std::get<CronCondition>(spec.condition);
      out->mutable_cron()->set_expression(c.expression);
      out->mutable_cron()->set_timezone(c.timezone);
      break;
    }
    case TriggerKind::kInterval: {
      const auto& c = std::get<IntervalCondition>(spec.condition);
      out->mutable_interval()->set_every_ms(c.every_ms);
      out->mutable_interval()->set_start_at(FormatRfc3339Millis(c.start_at_ms));
      break;
    }
    case TriggerKind::kBlock: {
      const auto& c = std::get<BlockCondition>(spec.condition);
      out->mutable_block()->set_at(c.at.value_or(0));
      out->mutable_block()->set_every(c.every);
      break;
    }
    case TriggerKind::kEvent: {
      const auto& c = std::get<EventCondition>(spec.condition);
      automationpb::EventCondition* e = out->mutable_event();
      e->set_contract(c.contract);
      e->set_event(c.event);
      for (const EventFilter& f : c.filters) {
        automationpb::EventFilter* o = e->add_filters();
        o->set_param(f.param);
        o->set_type(f.type);
        o->set_equals(f.equals);
      }
      break;
    }
    case TriggerKind::kPrice: {
      const auto& c = std::get<PriceCondition>(spec.condition);
      automationpb::PriceCondition* p = out->mutable_price();
      p->set_pair(c.pair);
      if (c.mode == PriceCondition::Mode::kAbove) p->set_above(c.value);
      if (c.mode == PriceCondition::Mode::kBelow) p->set_below(c.value);
      if (c.mode == PriceCondition::Mode::kChange) p->set_change_bps(c.change_bps);
      break;
    }
  }
  automationpb::Action* action = out->mutable_action();
  if (const auto* f = std::get_if<FunctionAction>(&spec.action)) {
    action->mutable_function()->set_function_id(f->function_id);
  } else if (const auto* c = std::get_if<ContractAction>(&spec.action)) {
    automationpb::ContractAction* o = action->mutable_contract();
    o->set_contract(c->contract);
    o->set_method(c->method);
    RenderArgs(c->args, o->mutable_args());
    o->set_max_fee(c->max_fee);
  } else {
    const auto& w = std::get<WebhookAction>(spec.action);
    action->mutable_webhook()->set_url(w.url);
    for (const auto& [name, value] : w.headers) (*action->mutable_webhook()->mutable_headers())[name] = value;
  }
  out->set_payload_json(spec.payload_json);
  out->set_catch_up(std::string(CatchUpName(spec.catch_up)));
  out->set_max_runs(spec.max_runs);
  out->set_end_at(TimeText(spec.end_at_ms));
  out->mutable_retry()->set_max_attempts(spec.retry.max_attempts);
  out->mutable_retry()->set_initial_backoff_ms(spec.retry.initial_backoff_ms);
  out->mutable_retry()->set_max_backoff_ms(spec.retry.max_backoff_ms);
  out->set_status(std::string(TriggerStatusName(t.status)));
  out->set_status_reason(t.status_reason);
  out->set_runs(t.runs);
  if (t.status == TriggerStatus::kActive) out->set_next_fire_at(TimeText(t.next_due_ms));
  out->set_last_fired_at(TimeText(t.last_fired_at_ms));
  out->set_created_at(FormatRfc3339Millis(t.created_at_ms));
  out->set_updated_at(FormatRfc3339Millis(t.updated_at_ms));
}

void RenderRun(const RunRecord& run, automationpb::TriggerRun* out) {
  out->set_id(run.id);
  out->set_trigger_id(run.trigger_id);
  out->set_status(std::string(RunStatusName(run.status)));
  out->set_scheduled_at(FormatRfc3339Millis(run.scheduled_at_ms));
  out->set_recorded_at(FormatRfc3339Millis(run.recorded_at_ms));
  out->set_finished_at(TimeText(run.finished_at_ms));
  out->set_latency_ms(run.recorded_at_ms - run.scheduled_at_ms);
  out->set_attempts(run.attempts);
  out->set_next_attempt_at(TimeText(run.next_attempt_at_ms));
  out->set_context_json(run.context_json);
  out->set_execution_id(run.execution_id);
  out->set_tx_hash(run.tx_hash);
  out->set_http_status(run.http_status);
  out->set_error(run.error);
  out->set_catch_up(run.catch_up);
}

}  // namespace neosl::automation
