#include "services/automation/spec.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "core/encoding.h"
#include "core/ids.h"
#include "crypto/p256.h"
#include "neo/account.h"
#include "neo/contract_param.h"
#include "neo/uint.h"
#include "net/webhook_url.h"
#include "services/automation/cron.h"
#include "services/automation/tzif.h"

namespace neosl::automation {
namespace {

using ArgList = google::protobuf::RepeatedPtrField<automationpb::ContractArg>;

constexpr size_t kMaxNameBytes = 64;
constexpr size_t kMaxNeoNameBytes = 32;  // Neo's limit on method and notification names
constexpr size_t kMaxHeaderValueBytes = 8192;
constexpr int64_t kMaxIntervalMs = 366LL * 24 * 3600 * 1000;
constexpr uint32_t kMaxChangeBps = 100'000;
constexpr uint32_t kMaxAttempts = 10;
constexpr int64_t kMinBackoffMs = 100;
constexpr int64_t kMaxBackoffMs = 3'600'000;
constexpr size_t kMaxPriceDigits = 18;  // on either side of the point

// INVALID_ARGUMENT about `field`, whose message starts with the field's name.
Status Field(const std::string& field, const std::string& message) {
  return FieldViolationError(field, field + " " + message);
}

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsUtf8(std::string_view s) {
  return neo::ContractParam::String(std::string(s)).ok();
}

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// A contract's script hash exactly as Neo prints it: "0x" and 40 hex digits, made lower-case.
StatusOr<std::string> ScriptHashText(const std::string& field, std::string_view text) {
  if (text.size() != 42 || !(text.starts_with("0x") || text.starts_with("0X")) || !IsHex(text.substr(2))) {
    return Field(field, "must be a script hash: 0x and 40 hex digits, big-endian as Neo prints it");
  }
  return "0x" + Lower(text.substr(2));
}

// Letters, digits and _, 1..32 characters, not starting with _ (what Neo compilers emit).
bool IsMethodName(std::string_view m) {
  return !m.empty() && m.size() <= kMaxNeoNameBytes && m[0] != '_' && std::all_of(m.begin(), m.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

bool IsTriggerName(std::string_view n) {
  return !n.empty() && n.size() <= kMaxNameBytes && std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

// "NEO/USD", also written NEO-USD, neo_usd: BASE/QUOTE of A-Z and 0-9, 1..10 characters each.
std::optional<std::string> PairName(std::string_view text) {
  std::string pair;
  for (char c : text) pair += (c == '-' || c == '_') ? '/' : char(std::toupper(static_cast<unsigned char>(c)));
  const size_t slash = pair.find('/');
  auto symbol = [](std::string_view s) {
    return !s.empty() && s.size() <= 10 &&
           std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
  };
  if (slash == std::string::npos || !symbol(std::string_view(pair).substr(0, slash)) ||
      !symbol(std::string_view(pair).substr(slash + 1))) {
    return std::nullopt;
  }
  return pair;
}

// A positive decimal ("12.5", "0.001"), without sign or exponent, in its shortest form: no
// leading zeros before the point, no trailing zeros after it.
std::optional<std::string> PositiveDecimal(std::string_view text) {
  const size_t point = text.find('.');
  std::string_view whole = text.substr(0, point);
  std::string_view fraction = point == std::string_view::npos ? std::string_view() : text.substr(point + 1);
  auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (whole.empty() || !digits(whole) || !digits(fraction)) return std::nullopt;
  if (point != std::string_view::npos && fraction.empty()) return std::nullopt;  // "12."
  while (whole.size() > 1 && whole.front() == '0') whole.remove_prefix(1);
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  if (whole.size() > kMaxPriceDigits || fraction.size() > kMaxPriceDigits) return std::nullopt;
  if (whole == "0" && fraction.empty()) return std::nullopt;  // not positive
  return fraction.empty() ? std::string(whole) : std::string(whole) + "." + std::string(fraction);
}

StatusOr<std::optional<int64_t>> OptionalTime(const std::string& field, const std::string& text) {
  if (text.empty()) return std::optional<int64_t>();
  std::optional<int64_t> ms = ParseRfc3339Millis(text);
  if (!ms) return Field(field, "must be an RFC 3339 date-time such as 2026-01-31T09:00:00Z");
  return ms;
}

// ---- conditions ----

StatusOr<Condition> CronFrom(const automationpb::CronCondition& c, int64_t now_ms, const SpecLimits& limits) {
  StatusOr<TimeZone> zone =
      c.timezone().empty() ? StatusOr<TimeZone>(TimeZone::Utc()) : TimeZone::Load(c.timezone(), limits.zoneinfo_dir);
  if (!zone.ok()) {
    return Field("cron.timezone", "must name a time zone this host knows (IANA, such as Europe/Berlin; empty: UTC): " +
                                      std::string(zone.status().message()));
  }
  if (c.expression().empty()) return Field("cron.expression", "is required (such as \"0 9 * * MON-FRI\")");
  StatusOr<CronSchedule> schedule = CronSchedule::Parse(c.expression(), *zone);
  if (!schedule.ok()) return Field("cron.expression", "is not valid: " + std::string(schedule.status().message()));
  if (!schedule->Next(now_ms)) return Field("cron.expression", "never fires (a date that does not exist?)");
  return CronCondition{c.expression(), c.timezone()};
}

StatusOr<Condition> IntervalFrom(const automationpb::IntervalCondition& c, int64_t now_ms, const SpecLimits& limits) {
  if (c.every_ms() < limits.min_interval_ms || c.every_ms() > kMaxIntervalMs) {
    return Field("interval.every_ms", "must be " + std::to_string(limits.min_interval_ms) + " to " +
                                          std::to_string(kMaxIntervalMs) + " (366 days); for longer, use cron");
  }
  ASSIGN_OR_RETURN(std::optional<int64_t> start, OptionalTime("interval.start_at", c.start_at()));
  return IntervalCondition{c.every_ms(), start ? *start : now_ms + c.every_ms()};
}

StatusOr<Condition> BlockFrom(const automationpb::BlockCondition& c) {
  if (c.at() != 0 && c.every() != 0) {
    return Field("block.every", "and block.at are both set: fire at one height (at) or at every multiple (every)");
  }
  if (c.at() == 0 && c.every() == 0) {
    return Field("block", "needs at (a height, ≥ 1) or every (fire at heights divisible by it, ≥ 1)");
  }
  BlockCondition out;
  if (c.at() != 0) out.at = c.at();
  out.every = c.every();
  return out;
}

StatusOr<Condition> EventFrom(const automationpb::EventCondition& c, const SpecLimits& limits) {
  EventCondition out;
  ASSIGN_OR_RETURN(out.contract, ScriptHashText("event.contract", c.contract()));
  if (c.event().empty() || c.event().size() > kMaxNeoNameBytes || HasControl(c.event()) || !IsUtf8(c.event())) {
    return Field("event.event", "must be the notification's name, 1 to 32 characters (such as Transfer)");
  }
  out.event = c.event();
  if (size_t(c.filters_size()) > limits.max_filters) {
    return Field("event.filters",
                 "has " + std::to_string(c.filters_size()) + " filters; at most " + std::to_string(limits.max_filters));
  }
  static const std::set<std::string> kTypes = {"Hash160", "Hash256",    "Integer",  "Boolean",
                                               "String",  "ByteString", "PublicKey"};
  for (int i = 0; i < c.filters_size(); ++i) {
    const automationpb::EventFilter& f = c.filters(i);
    const std::string at = "event.filters[" + std::to_string(i) + "]";
    if (!kTypes.count(f.type())) {
      return Field(at + ".type", "must be Hash160, Hash256, Integer, Boolean, String, ByteString or PublicKey");
    }
    StatusOr<std::string> equals = CanonicalParamText(f.type(), f.equals());
    if (!equals.ok())
      return Field(at + ".equals", "is not a " + f.type() + ": " + std::string(equals.status().message()));
    out.filters.push_back(EventFilter{f.param(), f.type(), *equals});
  }
  return out;
}

StatusOr<Condition> PriceFrom(const automationpb::PriceCondition& c) {
  PriceCondition out;
  std::optional<std::string> pair = PairName(c.pair());
  if (!pair) return Field("price.pair", "must look like NEO/USD: BASE/QUOTE of A-Z and 0-9, 1 to 10 characters each");
  out.pair = *pair;
  std::vector<std::string> set;
  if (!c.above().empty()) set.emplace_back("price.above");
  if (!c.below().empty()) set.emplace_back("price.below");
  if (c.change_bps() != 0) set.emplace_back("price.change_bps");
  if (set.empty()) return Field("price", "needs one of above, below (a price) or change_bps (a move in basis points)");
  if (set.size() > 1) {
    return FieldViolationError(set[1], set[0] + " and " + set[1] +
                                           " are both set: a price trigger has exactly one of above, below or "
                                           "change_bps");
  }
  if (c.change_bps() != 0) {
    if (c.change_bps() > kMaxChangeBps) return Field("price.change_bps", "must be 1 to 100000 (1000%)");
    out.mode = PriceCondition::Mode::kChange;
    out.change_bps = c.change_bps();
    return out;
  }
  const bool above = !c.above().empty();
  const std::string field = above ? "price.above" : "price.below";
  std::optional<std::string> value = PositiveDecimal(above ? c.above() : c.below());
  if (!value) {
    return Field(field,
                 "must be a positive decimal such as 12.5 (no sign or exponent, at most 18 digits either "
                 "side of the point)");
  }
  out.mode = above ? PriceCondition::Mode::kAbove : PriceCondition::Mode::kBelow;
  out.value = *value;
  return out;
}

StatusOr<Condition> ConditionFrom(const automationpb::CreateTriggerRequest& r, int64_t now_ms,
                                  const SpecLimits& limits) {
  std::vector<std::string> set;
  if (r.has_cron()) set.emplace_back("cron");
  if (r.has_interval()) set.emplace_back("interval");
  if (r.has_block()) set.emplace_back("block");
  if (r.has_event()) set.emplace_back("event");
  if (r.has_price()) set.emplace_back("price");
  if (set.empty()) {
    return FieldViolationError("condition",
                               "a trigger needs a condition: one of cron, interval, block, event or price");
  }
  if (set.size() > 1) {
    return FieldViolationError(set[1], set[0] + " and " + set[1] +
                                           " are both set: a trigger has exactly one condition (cron, interval, "
                                           "block, event or price)");
  }
  if (r.has_cron()) return CronFrom(r.cron(), now_ms, limits);
  if (r.has_interval()) return IntervalFrom(r.interval(), now_ms, limits);
  if (r.has_block()) return BlockFrom(r.block());
  if (r.has_event()) return EventFrom(r.event(), limits);
  return PriceFrom(r.price());
}

// ---- actions ----

Status ArgsFrom(const ArgList& in, const std::string& path, const SpecLimits& limits, size_t* count,
                std::vector<ContractArg>* out) {
  static const std::set<std::string> kTypes = {"Any",     "Boolean", "Integer",   "ByteArray", "String",
                                               "Hash160", "Hash256", "PublicKey", "Array"};
  for (int i = 0; i < in.size(); ++i) {
    const automationpb::ContractArg& a = in.Get(i);
    const std::string at = path + "[" + std::to_string(i) + "]";
    if (++*count > limits.max_args) {
      return Field("action.contract.args",
                   "has more than " + std::to_string(limits.max_args) + " arguments (Array items count too)");
    }
    if (!kTypes.count(a.type())) {
      return Field(at + ".type",
                   "must be Any, Boolean, Integer, ByteArray, String, Hash160, Hash256, PublicKey or Array");
    }
    ContractArg arg;
    arg.type = a.type();
    if (a.type() != "Array" && a.items_size() != 0) return Field(at + ".items", "is for Array arguments only");
    if (a.type() == "Any" || a.type() == "Array") {
      if (!a.value().empty()) {
        return Field(at + ".value", a.type() == "Any" ? "must be empty: Any is passed as null"
                                                      : "must be empty: an "
                                                        "Array has items");
      }
      if (a.type() == "Array") RETURN_IF_ERROR(ArgsFrom(a.items(), at + ".items", limits, count, &arg.items));
    } else {
      StatusOr<std::string> value = CanonicalParamText(a.type(), a.value());
      if (!value.ok())
        return Field(at + ".value", "is not a " + a.type() + ": " + std::string(value.status().message()));
      arg.value = *value;
    }
    out->push_back(std::move(arg));
  }
  return Status();
}

// The URL check the gateway's operation webhooks share (net/webhook_url.h), its message led by
// the field's name as every message here is. The relay checks the host again at every attempt.
Status CheckWebhookUrl(const std::string& url, const SpecLimits& limits) {
  const std::string field = "action.webhook.url";
  net::WebhookUrlRules rules;
  rules.allow_http = limits.allow_http_webhooks;
  rules.http_setting = "automation.allow_http";
  rules.check_destination = limits.check_destination;
  const Status checked = net::CheckWebhookUrl(url, field, rules);
  return checked.ok() ? checked : Field(field, std::string(checked.message()));
}

Status CheckWebhookHeaders(const google::protobuf::Map<std::string, std::string>& headers, const SpecLimits& limits) {
  if (headers.size() > limits.max_headers) {
    return Field("action.webhook.headers",
                 "has " + std::to_string(headers.size()) + " headers; at most " + std::to_string(limits.max_headers));
  }
  static const std::set<std::string> kFramed = {"host", "content-length", "transfer-encoding", "connection"};
  std::set<std::string> seen;
  // In name order, so that the same request always reports the same header.
  for (const auto& [name, value] : std::map<std::string, std::string>(headers.begin(), headers.end())) {
    const std::string field = "action.webhook.headers." + name;
    const bool token = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) ||
             std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    });
    if (!token) {
      return Field("action.webhook.headers",
                   "has a name that is not an HTTP token: '" + name + "' (names such as X-Api-Key)");
    }
    const std::string lower = Lower(name);
    if (kFramed.count(lower)) return Field(field, "is set by the client itself and cannot be given");
    if (!seen.insert(lower).second) return Field(field, "is given twice (header names ignore case)");
    if (value.size() > kMaxHeaderValueBytes ||
        value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return Field(field, "must be at most 8192 characters, without CR, LF or NUL");
    }
  }
  return Status();
}

StatusOr<Action> ActionFrom(const automationpb::CreateTriggerRequest& r, const SpecLimits& limits) {
  if (!r.has_action()) return FieldViolationError("action", "a trigger needs an action: function, contract or webhook");
  const automationpb::Action& a = r.action();
  std::vector<std::string> set;
  if (a.has_function()) set.emplace_back("action.function");
  if (a.has_contract()) set.emplace_back("action.contract");
  if (a.has_webhook()) set.emplace_back("action.webhook");
  if (set.empty()) return FieldViolationError("action", "a trigger needs an action: function, contract or webhook");
  if (set.size() > 1) {
    return FieldViolationError(set[1], set[0] + " and " + set[1] +
                                           " are both set: a trigger has exactly one action (function, contract or "
                                           "webhook)");
  }
  if (a.has_function()) {
    if (!FunctionId::IsWellFormed(a.function().function_id())) {
      return Field("action.function.function_id", "must be a function id (fn_ and 20 base32 characters)");
    }
    return FunctionAction{a.function().function_id()};
  }
  if (a.has_contract()) {
    const automationpb::ContractAction& c = a.contract();
    ContractAction out;
    ASSIGN_OR_RETURN(out.contract, ScriptHashText("action.contract.contract", c.contract()));
    if (!IsMethodName(c.method())) {
      return Field("action.contract.method", "must be 1 to 32 letters, digits or _, not starting with _");
    }
    out.method = c.method();
    size_t count = 0;
    RETURN_IF_ERROR(ArgsFrom(c.args(), "action.contract.args", limits, &count, &out.args));
    if (c.max_fee() < 0) return Field("action.contract.max_fee", "must be ≥ 0 datoshi (0: the service's default)");
    if (c.max_fee() > limits.max_tx_fee) {
      return Field("action.contract.max_fee", "must be at most " + std::to_string(limits.max_tx_fee) +
                                                  " datoshi (automation.max_tx_fee), not " +
                                                  std::to_string(c.max_fee()));
    }
    out.max_fee = c.max_fee();
    return out;
  }
  const automationpb::WebhookAction& w = a.webhook();
  RETURN_IF_ERROR(CheckWebhookUrl(w.url(), limits));
  RETURN_IF_ERROR(CheckWebhookHeaders(w.headers(), limits));
  WebhookAction out;
  out.url = w.url();
  for (const auto& [name, value] : w.headers()) out.headers[name] = value;
  return out;
}

StatusOr<RetryPolicy> RetryFrom(const automationpb::RetryPolicy& r) {
  RetryPolicy out;
  if (r.max_attempts() > kMaxAttempts) return Field("retry.max_attempts", "must be 1 to 10 (0: 3)");
  if (r.max_attempts() != 0) out.max_attempts = r.max_attempts();
  auto backoff = [](int64_t v) { return v >= kMinBackoffMs && v <= kMaxBackoffMs; };
  if (r.initial_backoff_ms() != 0 && !backoff(r.initial_backoff_ms())) {
    return Field("retry.initial_backoff_ms", "must be 100 to 3600000 (0: 1000)");
  }
  if (r.initial_backoff_ms() != 0) out.initial_backoff_ms = r.initial_backoff_ms();
  if (r.max_backoff_ms() != 0 && !backoff(r.max_backoff_ms())) {
    return Field("retry.max_backoff_ms", "must be 100 to 3600000 (0: 300000, or initial_backoff_ms if larger)");
  }
  if (r.max_backoff_ms() != 0) {
    if (r.max_backoff_ms() < out.initial_backoff_ms) {
      return Field("retry.max_backoff_ms",
                   "must be at least initial_backoff_ms (" + std::to_string(out.initial_backoff_ms) + ")");
    }
    out.max_backoff_ms = r.max_backoff_ms();
  } else {
    out.max_backoff_ms = std::max(out.max_backoff_ms, out.initial_backoff_ms);
  }
  return out;
}

}  // namespace

StatusOr<std::string> CanonicalParamText(std::string_view type, std::string_view value) {
  if (type == "Hash160") {
    if (value.starts_with("0x") || value.starts_with("0X") || value.size() == 40) {
      std::string_view hex = value.size() == 42 ? value.substr(2) : value;
      if (hex.size() == 40 && IsHex(hex)) {
        if (auto h = neo::UInt160::Parse(Lower(hex)); h.ok()) return h->ToString();
      }
      return InvalidArgumentError("a Hash160 is 0x and 40 hex digits (big-endian, as Neo prints it) or an N… address");
    }
    StatusOr<neo::UInt160> h = neo::AddressToScriptHash(value);
    if (!h.ok()) {
      return InvalidArgumentError("a Hash160 is 0x and 40 hex digits or an N3 address (" +
                                  std::string(h.status().message()) + ")");
    }
    return h->ToString();
  }
  if (type == "Hash256") {
    std::string_view hex = value.starts_with("0x") || value.starts_with("0X") ? value.substr(2) : value;
    if (hex.size() != 64 || !IsHex(hex)) return InvalidArgumentError("a Hash256 is 0x and 64 hex digits");
    return "0x" + Lower(hex);
  }
  if (type == "Integer") {
    StatusOr<neo::BigInteger> n = neo::BigInteger::FromDecimal(value);
    if (!n.ok()) {
      return InvalidArgumentError("an Integer is decimal digits with an optional -, within NeoVM's 256 bits");
    }
    return n->decimal();
  }
  if (type == "Boolean") {
    std::string lower = Lower(value);
    if (lower != "true" && lower != "false") return InvalidArgumentError("a Boolean is true or false");
    return lower;
  }
  if (type == "String") {
    if (!IsUtf8(value)) return InvalidArgumentError("a String must be valid UTF-8");
    return std::string(value);
  }
  if (type == "ByteString" || type == "ByteArray") {
    std::optional<std::vector<uint8_t>> bytes = HexDecode(value);
    if (!bytes) return InvalidArgumentError("bytes are written as hex digits, without 0x (empty: no bytes)");
    return HexEncode(*bytes);
  }
  if (type == "PublicKey") {
    StatusOr<crypto::PublicKey> key = crypto::PublicKey::FromHex(value);
    if (!key.ok()) return InvalidArgumentError("a PublicKey is a P-256 point in hex (66 digits, compressed)");
    return HexEncode(key->Compressed());
  }
  return InvalidArgumentError("unknown type '" + std::string(type) +
                              "' (Hash160, Hash256, Integer, Boolean, String, ByteString, ByteArray or PublicKey)");
}

StatusOr<TriggerSpec> SpecFromRequest(const automationpb::CreateTriggerRequest& request, int64_t now_ms,
                                      const SpecLimits& limits) {
  TriggerSpec spec;
  if (!IsTriggerName(request.name())) {
    return Field("name", "must be 1 to 64 letters, digits, _, . or - (such as nightly-rebalance)");
  }
  spec.name = request.name();
  ASSIGN_OR_RETURN(spec.condition, ConditionFrom(request, now_ms, limits));
  ASSIGN_OR_RETURN(spec.action, ActionFrom(request, limits));

  if (!request.payload_json().empty()) {
    if (request.payload_json().size() > limits.max_payload_bytes) {
      return Field("payload", "is " + std::to_string(request.payload_json().size()) + " bytes of JSON; at most " +
                                  std::to_string(limits.max_payload_bytes));
    }
    boost::system::error_code ec;
    boost::json::parse(request.payload_json(), ec);
    if (ec) return Field("payload", "is not JSON: " + ec.message());
    spec.payload_json = request.payload_json();
  }

  const std::string& catch_up = request.catch_up();
  if (catch_up.empty()) {
    spec.catch_up = spec.kind() == TriggerKind::kEvent ? CatchUp::kAll : CatchUp::kSkip;
  } else if (const std::optional<CatchUp> policy = ParseCatchUp(catch_up)) {
    spec.catch_up = *policy;
  } else {
    return Field("catch_up", "must be skip, once or all (empty: skip; for event triggers all)");
  }
  spec.max_runs = request.max_runs();

  ASSIGN_OR_RETURN(spec.end_at_ms, OptionalTime("end_at", request.end_at()));
  if (spec.end_at_ms && *spec.end_at_ms <= now_ms) {
    return Field("end_at", "is not in the future (now is " + FormatRfc3339Millis(now_ms) + ")");
  }
  ASSIGN_OR_RETURN(spec.retry, RetryFrom(request.retry()));
  return spec;
}

}  // namespace neosl::automation
