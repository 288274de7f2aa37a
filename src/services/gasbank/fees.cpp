#include "services/gasbank/fees.h"

#include <charconv>
#include <utility>

#include <yaml-cpp/yaml.h>

namespace neosl::gasbank {
namespace {

constexpr int64_t kMaxMarkupBps = 100'000;  // 10×

constexpr std::string_view kDefaultYaml =
    R"yaml(# The gas bank's fee schedule, in datoshi (1 GAS = 100000000). docs/gasbank.md explains it.
operations:
  functions.invoke:
    base: 100000        # 0.001 GAS per invocation
    per_ms: 100         # and 0.000001 GAS per millisecond it runs
  random.generate:
    base: 50000
    per_word: 10000
  oracle.request:
    base: 200000
    per_source: 50000
  pricefeed.update:
    base: 100000
  automation.transaction:
    base: 10000         # 0.0001 GAS per automated transaction, on top of its chain fees
  automation.webhook:
    base: 10000         # per webhook attempt answered
chain:
  markup_bps: 0         # on top of the real fees of transactions sent for an account
)yaml";

// A non-negative integer scalar, exactly (no floats, no signs, no spaces).
StatusOr<int64_t> Amount(const YAML::Node& node, const std::string& where) {
  if (!node.IsScalar()) return InvalidArgumentError(where + " must be a non-negative integer");
  const std::string& text = node.Scalar();
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0 || text.empty() || text[0] == '+') {
    return InvalidArgumentError(where + " must be a non-negative integer (datoshi), not '" + text.substr(0, 32) + "'");
  }
  return v;
}

bool IsOperationName(std::string_view s) {
  const size_t dot = s.find('.');
  if (dot == 0 || dot == std::string_view::npos || dot + 1 == s.size() || s.size() > 64) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.')) return false;
  }
  return true;
}

bool IsUnitName(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

StatusOr<FeeRule> Rule(const YAML::Node& node, const std::string& where) {
  if (!node.IsMap()) return InvalidArgumentError(where + " must be a map of base and per_<unit>");
  FeeRule rule;
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string at = where + "." + key;
    ASSIGN_OR_RETURN(int64_t amount, Amount(kv.second, at));
    if (key == "base") {
      rule.base = amount;
    } else if (key.rfind("per_", 0) == 0 && IsUnitName(key.substr(4))) {
      rule.per_unit[key.substr(4)] = amount;
    } else {
      return InvalidArgumentError(at + ": an operation has base and per_<unit> (a-z, 0-9, _) keys");
    }
  }
  return rule;
}

Status Parse(const YAML::Node& root, std::map<std::string, FeeRule, std::less<>>* operations, int64_t* markup) {
  if (!root.IsMap()) return InvalidArgumentError("fee schedule: the document must be a map");
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    if (key == "operations") {
      if (!kv.second.IsMap()) return InvalidArgumentError("fee schedule: operations must be a map");
      for (const auto& op : kv.second) {
        const std::string name = op.first.Scalar();
        if (!IsOperationName(name)) {
          return InvalidArgumentError("fee schedule: operations." + name + ": name it service.operation (a-z, 0-9, _)");
        }
        ASSIGN_OR_RETURN(FeeRule rule, Rule(op.second, "fee schedule: operations." + name));
        (*operations)[name] = std::move(rule);
      }
    } else if (key == "chain") {
      if (!kv.second.IsMap()) return InvalidArgumentError("fee schedule: chain must be a map");
      for (const auto& c : kv.second) {
        const std::string ckey = c.first.Scalar();
        if (ckey != "markup_bps") return InvalidArgumentError("fee schedule: chain." + ckey + ": unknown key");
        ASSIGN_OR_RETURN(*markup, Amount(c.second, "fee schedule: chain.markup_bps"));
        if (*markup > kMaxMarkupBps) return InvalidArgumentError("fee schedule: chain.markup_bps is at most 100000");
      }
    } else {
      return InvalidArgumentError("fee schedule: unknown key '" + key.substr(0, 32) + "' (operations, chain)");
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<FeeSchedule> FeeSchedule::FromYaml(std::string_view yaml) {
  YAML::Node root;
  try {  // yaml-cpp reports by throwing; nothing escapes this function
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError("fee schedule: invalid YAML at line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  FeeSchedule schedule;
  try {
    const Status parsed = Parse(root, &schedule.operations_, &schedule.markup_bps_);
    RETURN_IF_ERROR(parsed);
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError("fee schedule: " + e.msg);
  }
  return schedule;
}

std::string_view FeeSchedule::DefaultYaml() {
  return kDefaultYaml;
}

StatusOr<int64_t> FeeSchedule::Fee(std::string_view operation,
                                   const std::map<std::string, int64_t, std::less<>>& units) const {
  auto it = operations_.find(operation);
  if (it == operations_.end()) {
    return NotFoundError("the fee schedule does not price '" + std::string(operation.substr(0, 64)) + "'");
  }
  int64_t fee = it->second.base;
  for (const auto& [unit, count] : units) {
    auto per = it->second.per_unit.find(unit);
    if (per == it->second.per_unit.end()) {
      return InvalidArgumentError("'" + std::string(operation) + "' has no price per " + unit.substr(0, 32));
    }
    if (count < 0) return InvalidArgumentError("a count of " + unit + " cannot be negative");
    int64_t part = 0;
    if (__builtin_mul_overflow(per->second, count, &part) || __builtin_add_overflow(fee, part, &fee)) {
      return OutOfRangeError("the fee of '" + std::string(operation) + "' overflows 64 bits");
    }
  }
  return fee;
}

StatusOr<int64_t> FeeSchedule::ChainFee(int64_t system_fee, int64_t network_fee) const {
  if (system_fee < 0 || network_fee < 0) return InvalidArgumentError("chain fees cannot be negative");
  int64_t fees = 0;
  if (__builtin_add_overflow(system_fee, network_fee, &fees)) return OutOfRangeError("chain fees overflow 64 bits");
  // fees × markup / 10000, rounded up, in 128 bits.
  __extension__ using u128 = unsigned __int128;
  const u128 markup = (u128(fees) * u128(markup_bps_) + 9'999) / 10'000;
  const u128 total = u128(fees) + markup;
  if (total > u128(INT64_MAX)) return OutOfRangeError("chain fees with the markup overflow 64 bits");
  return int64_t(total);
}

}  // namespace neosl::gasbank
