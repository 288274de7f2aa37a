#include "services/automation/trigger.h"

#include <algorithm>
#include <initializer_list>
#include <limits>
#include <type_traits>
#include <utility>

#include <boost/json.hpp>

namespace neosl::automation {
namespace {

namespace json = boost::json;

// KindOf reads the variant's index: the alternatives are in TriggerKind's order.
static_assert(std::is_same_v<std::variant_alternative_t<size_t(TriggerKind::kCron), Condition>, CronCondition>);
static_assert(std::is_same_v<std::variant_alternative_t<size_t(TriggerKind::kInterval), Condition>, IntervalCondition>);
static_assert(std::is_same_v<std::variant_alternative_t<size_t(TriggerKind::kBlock), Condition>, BlockCondition>);
static_assert(std::is_same_v<std::variant_alternative_t<size_t(TriggerKind::kEvent), Condition>, EventCondition>);
static_assert(std::is_same_v<std::variant_alternative_t<size_t(TriggerKind::kPrice), Condition>, PriceCondition>);

// A stored spec never nests contract arguments deeper or wider than this (the API's limits are
// far lower); the bound keeps a hostile text from recursing without end.
constexpr int kMaxStoredArgDepth = 16;
constexpr size_t kMaxStoredArgs = 1024;

// ---- writing ----

json::array ArgsToJson(const std::vector<ContractArg>& args) {
  json::array out;
  for (const ContractArg& a : args) {
    json::object o{{"type", a.type}, {"value", a.value}};
    if (a.type == "Array") o["items"] = ArgsToJson(a.items);
    out.push_back(std::move(o));
  }
  return out;
}

json::object ConditionToJson(const Condition& condition) {
  switch (KindOf(condition)) {
    case TriggerKind::kCron: {
      const auto& c = std::get<CronCondition>(condition);
      return {{"cron", json::object{{"expression", c.expression}, {"timezone", c.timezone}}}};
    }
    case TriggerKind::kInterval: {
      const auto& c = std::get<IntervalCondition>(condition);
      return {{"interval", json::object{{"every_ms", c.every_ms}, {"start_at_ms", c.start_at_ms}}}};
    }
    case TriggerKind::kBlock: {
      const auto& c = std::get<BlockCondition>(condition);
      json::object o;
      if (c.at) o["at"] = *c.at;
      if (c.every != 0) o["every"] = c.every;
      return {{"block", std::move(o)}};
    }
    case TriggerKind::kEvent: {
      const auto& c = std::get<EventCondition>(condition);
      json::array filters;
      for (const EventFilter& f : c.filters) {
        filters.push_back(json::object{{"param", f.param}, {"type", f.type}, {"equals", f.equals}});
      }
      return {{"event", json::object{{"contract", c.contract}, {"event", c.event}, {"filters", std::move(filters)}}}};
    }
    case TriggerKind::kPrice: {
      const auto& c = std::get<PriceCondition>(condition);
      const char* mode = c.mode == PriceCondition::Mode::kAbove   ? "above"
                         : c.mode == PriceCondition::Mode::kBelow ? "below"
                                                                  : "change";
      return {
          {"price", json::object{{"pair", c.pair}, {"mode", mode}, {"value", c.value}, {"change_bps", c.change_bps}}}};
    }
  }
  return {};
}

json::object ActionToJson(const Action& action) {
  if (const auto* f = std::get_if<FunctionAction>(&action)) {
    return {{"function", json::object{{"function_id", f->function_id}}}};
  }
  if (const auto* c = std::get_if<ContractAction>(&action)) {
    return {{"contract", json::object{{"contract", c->contract},
                                      {"method", c->method},
                                      {"args", ArgsToJson(c->args)},
                                      {"max_fee", c->max_fee}}}};
  }
  const auto& w = std::get<WebhookAction>(action);
  json::object headers;
  for (const auto& [name, value] : w.headers) headers[name] = value;
  return {{"webhook", json::object{{"url", w.url}, {"headers", std::move(headers)}}}};
}

// ---- reading: every member checked, none unknown ----

Status Bad(const std::string& path, std::string_view what) {
  return InvalidArgumentError("stored trigger spec: " + path + " " + std::string(what));
}

// The members of one JSON object, read by name with the object's path for messages.
class Members {
 public:
  Members(const json::object& o, std::string path) : o_(o), path_(std::move(path)) {}

  std::string Path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  bool Has(std::string_view key) const { return o_.contains(key); }

  StatusOr<std::string> Str(std::string_view key) const {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr || !v->is_string()) return Bad(Path(key), "must be a string");
    return std::string(v->get_string());
  }
  // An integer in [lo, hi] (JSON's int64 or uint64 kinds).
  StatusOr<int64_t> Int(std::string_view key, int64_t lo, int64_t hi) const {
    const json::value* v = o_.if_contains(key);
    if (v != nullptr && v->is_int64() && v->get_int64() >= lo && v->get_int64() <= hi) return v->get_int64();
    if (v != nullptr && v->is_uint64() && hi >= 0 && v->get_uint64() <= uint64_t(hi)) return int64_t(v->get_uint64());
    return Bad(Path(key), "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  StatusOr<uint64_t> UInt64(std::string_view key) const {
    const json::value* v = o_.if_contains(key);
    if (v != nullptr && v->is_uint64()) return v->get_uint64();
    if (v != nullptr && v->is_int64() && v->get_int64() >= 0) return uint64_t(v->get_int64());
    return Bad(Path(key), "must be a non-negative integer");
  }
  StatusOr<const json::object*> Obj(std::string_view key) const {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr || !v->is_object()) return Bad(Path(key), "must be an object");
    return &v->get_object();
  }
  StatusOr<const json::array*> Arr(std::string_view key) const {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr || !v->is_array()) return Bad(Path(key), "must be an array");
    return &v->get_array();
  }
  Status OnlyThese(std::initializer_list<std::string_view> keys) const {
    for (const auto& kv : o_) {
      if (std::find(keys.begin(), keys.end(), std::string_view(kv.key())) == keys.end()) {
        return Bad(Path(kv.key()), "is not a member of a trigger spec");
      }
    }
    return Status();
  }
  // The one member of a {"<kind>": {…}} object, which must be one of `kinds`.
  StatusOr<std::pair<std::string, Members>> OneOf(std::initializer_list<std::string_view> kinds) const {
    if (o_.size() != 1 || std::find(kinds.begin(), kinds.end(), std::string_view(o_.begin()->key())) == kinds.end()) {
      return Bad(path_, "must have exactly one member, naming its kind");
    }
    std::string kind(o_.begin()->key());
    ASSIGN_OR_RETURN(const json::object* inner, Obj(kind));
    return std::make_pair(kind, Members(*inner, Path(kind)));
  }

 private:
  const json::object& o_;
  std::string path_;
};

constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kU32Max = std::numeric_limits<uint32_t>::max();

StatusOr<std::vector<ContractArg>> ArgsFromJson(const json::array& arr, const std::string& path, int depth,
                                                size_t* count) {
  if (depth > kMaxStoredArgDepth) return Bad(path, "nests too deep");
  std::vector<ContractArg> args;
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string at = path + "[" + std::to_string(i) + "]";
    if (++*count > kMaxStoredArgs) return Bad(path, "has too many items");
    if (!arr[i].is_object()) return Bad(at, "must be an object");
    Members m(arr[i].get_object(), at);
    RETURN_IF_ERROR(m.OnlyThese({"type", "value", "items"}));
    ContractArg a;
    ASSIGN_OR_RETURN(a.type, m.Str("type"));
    ASSIGN_OR_RETURN(a.value, m.Str("value"));
    if (a.type == "Array") {
      ASSIGN_OR_RETURN(const json::array* items, m.Arr("items"));
      ASSIGN_OR_RETURN(a.items, ArgsFromJson(*items, m.Path("items"), depth + 1, count));
    } else if (m.Has("items")) {
      return Bad(m.Path("items"), "is for Array arguments only");
    }
    args.push_back(std::move(a));
  }
  return args;
}

StatusOr<Condition> ConditionFromJson(const Members& condition) {
  ASSIGN_OR_RETURN(auto kind, condition.OneOf({"cron", "interval", "block", "event", "price"}));
  const Members& m = kind.second;
  if (kind.first == "cron") {
    RETURN_IF_ERROR(m.OnlyThese({"expression", "timezone"}));
    CronCondition c;
    ASSIGN_OR_RETURN(c.expression, m.Str("expression"));
    ASSIGN_OR_RETURN(c.timezone, m.Str("timezone"));
    if (c.expression.empty()) return Bad(m.Path("expression"), "is empty");
    return c;
  }
  if (kind.first == "interval") {
    RETURN_IF_ERROR(m.OnlyThese({"every_ms", "start_at_ms"}));
    IntervalCondition c;
    ASSIGN_OR_RETURN(c.every_ms, m.Int("every_ms", 1, kI64Max));
    ASSIGN_OR_RETURN(c.start_at_ms, m.Int("start_at_ms", kI64Min, kI64Max));
    return c;
  }
  if (kind.first == "block") {
    RETURN_IF_ERROR(m.OnlyThese({"at", "every"}));
    BlockCondition c;
    if (m.Has("at") == m.Has("every")) return Bad(m.Path("at"), "or every: exactly one must be present");
    if (m.Has("at")) {
      ASSIGN_OR_RETURN(int64_t at, m.Int("at", 0, kU32Max));
      c.at = uint32_t(at);
    } else {
      ASSIGN_OR_RETURN(int64_t every, m.Int("every", 1, kU32Max));
      c.every = uint32_t(every);
    }
    return c;
  }
  if (kind.first == "event") {
    RETURN_IF_ERROR(m.OnlyThese({"contract", "event", "filters"}));
    EventCondition c;
    ASSIGN_OR_RETURN(c.contract, m.Str("contract"));
    ASSIGN_OR_RETURN(c.event, m.Str("event"));
    ASSIGN_OR_RETURN(const json::array* filters, m.Arr("filters"));
    for (size_t i = 0; i < filters->size(); ++i) {
      const std::string at = m.Path("filters") + "[" + std::to_string(i) + "]";
      if (!(*filters)[i].is_object()) return Bad(at, "must be an object");
      Members f((*filters)[i].get_object(), at);
      RETURN_IF_ERROR(f.OnlyThese({"param", "type", "equals"}));
      EventFilter filter;
      ASSIGN_OR_RETURN(int64_t param, f.Int("param", 0, kU32Max));
      filter.param = uint32_t(param);
      ASSIGN_OR_RETURN(filter.type, f.Str("type"));
      ASSIGN_OR_RETURN(filter.equals, f.Str("equals"));
      c.filters.push_back(std::move(filter));
    }
    return c;
  }
  RETURN_IF_ERROR(m.OnlyThese({"pair", "mode", "value", "change_bps"}));
  PriceCondition c;
  ASSIGN_OR_RETURN(c.pair, m.Str("pair"));
  ASSIGN_OR_RETURN(std::string mode, m.Str("mode"));
  ASSIGN_OR_RETURN(c.value, m.Str("value"));
  ASSIGN_OR_RETURN(int64_t bps, m.Int("change_bps", 0, 100'000));
  c.change_bps = uint32_t(bps);
  if (mode == "above" || mode == "below") {
    c.mode = mode == "above" ? PriceCondition::Mode::kAbove : PriceCondition::Mode::kBelow;
    if (c.value.empty() || c.change_bps != 0) return Bad(m.Path("value"), "must be set, and change_bps 0");
  } else if (mode == "change") {
    c.mode = PriceCondition::Mode::kChange;
    if (!c.value.empty() || c.change_bps == 0) return Bad(m.Path("change_bps"), "must be set, and value empty");
  } else {
    return Bad(m.Path("mode"), "must be above, below or change");
  }
  return c;
}

StatusOr<Action> ActionFromJson(const Members& action) {
  ASSIGN_OR_RETURN(auto kind, action.OneOf({"function", "contract", "webhook"}));
  const Members& m = kind.second;
  if (kind.first == "function") {
    RETURN_IF_ERROR(m.OnlyThese({"function_id"}));
    FunctionAction f;
    ASSIGN_OR_RETURN(f.function_id, m.Str("function_id"));
    return f;
  }
  if (kind.first == "contract") {
    RETURN_IF_ERROR(m.OnlyThese({"contract", "method", "args", "max_fee"}));
    ContractAction c;
    ASSIGN_OR_RETURN(c.contract, m.Str("contract"));
    ASSIGN_OR_RETURN(c.method, m.Str("method"));
    ASSIGN_OR_RETURN(const json::array* args, m.Arr("args"));
    size_t count = 0;
    ASSIGN_OR_RETURN(c.args, ArgsFromJson(*args, m.Path("args"), 1, &count));
    ASSIGN_OR_RETURN(c.max_fee, m.Int("max_fee", 0, kI64Max));
    return c;
  }
  RETURN_IF_ERROR(m.OnlyThese({"url", "headers"}));
  WebhookAction w;
  ASSIGN_OR_RETURN(w.url, m.Str("url"));
  ASSIGN_OR_RETURN(const json::object* headers, m.Obj("headers"));
  for (const auto& kv : *headers) {
    if (!kv.value().is_string()) return Bad(m.Path("headers") + "." + std::string(kv.key()), "must be a string");
    w.headers[std::string(kv.key())] = std::string(kv.value().get_string());
  }
  return w;
}

}  // namespace

std::string_view TriggerKindName(TriggerKind kind) {
  switch (kind) {
    case TriggerKind::kCron: return "cron";
    case TriggerKind::kInterval: return "interval";
    case TriggerKind::kBlock: return "block";
    case TriggerKind::kEvent: return "event";
    case TriggerKind::kPrice: return "price";
  }
  return "unknown";
}

TriggerKind KindOf(const Condition& condition) {
  return static_cast<TriggerKind>(condition.index());
}

std::string_view ActionKindName(const Action& action) {
  if (std::holds_alternative<FunctionAction>(action)) return "function";
  if (std::holds_alternative<ContractAction>(action)) return "contract";
  return "webhook";
}

std::string_view CatchUpName(CatchUp c) {
  switch (c) {
    case CatchUp::kSkip: return "skip";
    case CatchUp::kOnce: return "once";
    case CatchUp::kAll: return "all";
  }
  return "unknown";
}

std::optional<CatchUp> ParseCatchUp(std::string_view name) {
  for (CatchUp c : {CatchUp::kSkip, CatchUp::kOnce, CatchUp::kAll}) {
    if (CatchUpName(c) == name) return c;
  }
  return std::nullopt;
}

int64_t RetryPolicy::BackoffAfter(uint32_t attempt) const {
  int64_t wait = initial_backoff_ms;
  // Doubling stops at the cap, so it cannot overflow however many attempts there were.
  for (uint32_t i = 1; i < attempt && wait < max_backoff_ms; ++i) wait *= 2;
  return std::min(wait, max_backoff_ms);
}

std::string SpecToJson(const TriggerSpec& spec) {
  json::object o;
  o["name"] = spec.name;
  o["condition"] = ConditionToJson(spec.condition);
  o["action"] = ActionToJson(spec.action);
  o["payload_json"] = spec.payload_json;
  o["catch_up"] = CatchUpName(spec.catch_up);
  o["max_runs"] = spec.max_runs;
  if (spec.end_at_ms) o["end_at_ms"] = *spec.end_at_ms;
  o["retry"] = json::object{{"max_attempts", spec.retry.max_attempts},
                            {"initial_backoff_ms", spec.retry.initial_backoff_ms},
                            {"max_backoff_ms", spec.retry.max_backoff_ms}};
  return json::serialize(o);
}

StatusOr<TriggerSpec> SpecFromJson(std::string_view text) {
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec) return InvalidArgumentError("stored trigger spec is not JSON: " + ec.message());
  if (!parsed.is_object()) return InvalidArgumentError("stored trigger spec is not a JSON object");
  Members m(parsed.get_object(), "");
  RETURN_IF_ERROR(
      m.OnlyThese({"name", "condition", "action", "payload_json", "catch_up", "max_runs", "end_at_ms", "retry"}));
  TriggerSpec spec;
  ASSIGN_OR_RETURN(spec.name, m.Str("name"));
  if (spec.name.empty()) return Bad("name", "is empty");
  ASSIGN_OR_RETURN(const json::object* condition, m.Obj("condition"));
  ASSIGN_OR_RETURN(spec.condition, ConditionFromJson(Members(*condition, "condition")));
  ASSIGN_OR_RETURN(const json::object* action, m.Obj("action"));
  ASSIGN_OR_RETURN(spec.action, ActionFromJson(Members(*action, "action")));
  ASSIGN_OR_RETURN(spec.payload_json, m.Str("payload_json"));
  json::parse(spec.payload_json, ec);
  if (ec) return Bad("payload_json", "is not JSON text");
  ASSIGN_OR_RETURN(std::string catch_up, m.Str("catch_up"));
  const std::optional<CatchUp> policy = ParseCatchUp(catch_up);
  if (!policy) return Bad("catch_up", "must be skip, once or all");
  spec.catch_up = *policy;
  ASSIGN_OR_RETURN(spec.max_runs, m.UInt64("max_runs"));
  if (m.Has("end_at_ms")) {
    ASSIGN_OR_RETURN(spec.end_at_ms, m.Int("end_at_ms", kI64Min, kI64Max));
  }
  ASSIGN_OR_RETURN(const json::object* retry_object, m.Obj("retry"));
  Members retry(*retry_object, "retry");
  RETURN_IF_ERROR(retry.OnlyThese({"max_attempts", "initial_backoff_ms", "max_backoff_ms"}));
  ASSIGN_OR_RETURN(int64_t attempts, retry.Int("max_attempts", 1, 10));
  spec.retry.max_attempts = uint32_t(attempts);
  ASSIGN_OR_RETURN(spec.retry.initial_backoff_ms, retry.Int("initial_backoff_ms", 1, kI64Max));
  ASSIGN_OR_RETURN(spec.retry.max_backoff_ms, retry.Int("max_backoff_ms", spec.retry.initial_backoff_ms, kI64Max));
  return spec;
}

std::string_view TriggerStatusName(TriggerStatus s) {
  switch (s) {
    case TriggerStatus::kActive: return "active";
    case TriggerStatus::kPaused: return "paused";
    case TriggerStatus::kCompleted: return "completed";
  }
  return "unknown";
}

StatusOr<TriggerStatus> ParseTriggerStatus(std::string_view name) {
  for (TriggerStatus s : {TriggerStatus::kActive, TriggerStatus::kPaused, TriggerStatus::kCompleted}) {
    if (TriggerStatusName(s) == name) return s;
  }
  return InvalidArgumentError("unknown trigger status '" + std::string(name) + "' (active, paused or completed)");
}

std::string_view RunStatusName(RunStatus s) {
  switch (s) {
    case RunStatus::kPending: return "pending";
    case RunStatus::kRunning: return "running";
    case RunStatus::kRetrying: return "retrying";
    case RunStatus::kSucceeded: return "succeeded";
    case RunStatus::kFailed: return "failed";
  }
  return "unknown";
}

StatusOr<RunStatus> ParseRunStatus(std::string_view name) {
  for (RunStatus s :
       {RunStatus::kPending, RunStatus::kRunning, RunStatus::kRetrying, RunStatus::kSucceeded, RunStatus::kFailed}) {
    if (RunStatusName(s) == name) return s;
  }
  return InvalidArgumentError("unknown run status '" + std::string(name) +
                              "' (pending, running, retrying, succeeded or failed)");
}

std::string TimeRunId(std::string_view trigger_id, int64_t scheduled_ms) {
  return std::string(trigger_id) + ":t:" + std::to_string(scheduled_ms);
}

std::string BlockRunId(std::string_view trigger_id, uint32_t height) {
  return std::string(trigger_id) + ":b:" + std::to_string(height);
}

std::string EventRunId(std::string_view trigger_id, std::string_view tx_hash, uint32_t index) {
  return std::string(trigger_id) + ":e:" + std::string(tx_hash) + ":" + std::to_string(index);
}

std::string PriceRunId(std::string_view trigger_id, std::string_view pair, uint64_t round) {
  return std::string(trigger_id) + ":p:" + std::string(pair) + ":" + std::to_string(round);
}

std::string ManualRunId(std::string_view trigger_id, int64_t requested_ms) {
  return std::string(trigger_id) + ":m:" + std::to_string(requested_ms);
}

bool IsManualRunId(std::string_view run_id) {
  // Trigger ids have no ':', so the kind is what follows the first one.
  const size_t colon = run_id.find(':');
  return colon != std::string_view::npos && run_id.substr(colon).starts_with(":m:");
}

}  // namespace neosl::automation
