#include "mesh/policy.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace neosl::mesh {
namespace {

constexpr size_t kMaxIdentityLength = 63;
constexpr std::string_view kWildcard = "*";

using Operations = std::set<std::string, std::less<>>;
using Targets = std::map<std::string, Operations, std::less<>>;
using Rules = std::map<std::string, Targets, std::less<>>;

// 1–63 chars of [a-z0-9-]: what the CA puts in a certificate's CN (mesh/ca.h).
bool IsIdentity(std::string_view s) {
  if (s.empty() || s.size() > kMaxIdentityLength) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

// A gRPC method's short name as protoc accepts it.
bool IsOperationName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string Quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

StatusOr<std::string> ReadTextFile(const std::string& path, std::string_view what) {
  std::error_code ec;
  std::filesystem::file_status st = std::filesystem::status(path, ec);
  if (st.type() == std::filesystem::file_type::not_found) {
    return NotFoundError(std::string(what) + " file '" + path + "' not found");
  }
  if (ec) return UnavailableError("cannot read " + std::string(what) + " file '" + path + "': " + ec.message());
  if (std::filesystem::is_directory(st)) {
    return UnavailableError("cannot read " + std::string(what) + " file '" + path + "': it is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return UnavailableError("cannot read " + std::string(what) + " file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return UnavailableError("error reading " + std::string(what) + " file '" + path + "'");
  return text.str();
}

// yaml-cpp throws; parsing happens inside this one try so no exception leaves the file.
StatusOr<std::vector<YAML::Node>> LoadDocuments(std::string_view yaml, std::string_view what) {
  try {
    return YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(std::string(what) + ": invalid YAML at line " + std::to_string(e.mark.line + 1) + ": " +
                                e.msg);
  }
}

// Calls `body` for each key of the map `node`, refusing non-string and repeated keys.
template <typename Body>
Status ForEachKey(const YAML::Node& node, const std::string& where, const Body& body) {
  std::set<std::string, std::less<>> seen;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) return InvalidArgumentError(where + ": keys must be strings");
    const std::string& key = kv.first.Scalar();
    if (!seen.insert(key).second) return InvalidArgumentError(where + ": key " + Quoted(key) + " repeated");
    RETURN_IF_ERROR(body(key, kv.second));
  }
  return Status();
}

// ---- authorization policy ----

Status ParseOperations(const YAML::Node& node, const std::string& where, Operations& out) {
  if (!node.IsSequence() || node.size() == 0) {
    return InvalidArgumentError(where + ": operations must be a non-empty list of operation names");
  }
  for (const auto& item : node) {
    if (!item.IsScalar()) return InvalidArgumentError(where + ": operations must be a list of strings");
    const std::string& op = item.Scalar();
    if (op == kWildcard) {
      if (node.size() != 1) return InvalidArgumentError(where + ": \"*\" must be alone in its operations list");
    } else if (op.find('*') != std::string::npos) {
      return InvalidArgumentError(where + ": operation " + Quoted(op) +
                                  ": \"*\" stands alone for every operation; patterns are not supported");
    } else if (!IsOperationName(op)) {
      return InvalidArgumentError(where + ": " + Quoted(op) + " is not an operation name");
    }
    out.insert(op);
  }
  return Status();
}

Status ParseAllowedCall(const YAML::Node& node, const std::string& where, Targets& targets) {
  if (!node.IsMap()) return InvalidArgumentError(where + ": must be a map with target_service and operations");
  std::string target;
  Operations ops;
  bool have_ops = false;
  RETURN_IF_ERROR(ForEachKey(node, where, [&](const std::string& key, const YAML::Node& value) -> Status {
    if (key == "target_service") {
      if (!value.IsScalar() || !IsIdentity(value.Scalar())) {
        return InvalidArgumentError(where + ": target_service " + Quoted(value.IsScalar() ? value.Scalar() : "") +
                                    " is not a service identity (1-63 of a-z, 0-9, '-')");
      }
      target = value.Scalar();
      return Status();
    }
    if (key == "operations") {
      have_ops = true;
      return ParseOperations(value, where, ops);
    }
    return InvalidArgumentError(where + ": unknown key " + Quoted(key));
  }));
  if (target.empty()) return InvalidArgumentError(where + ": target_service is required");
  if (!have_ops) return InvalidArgumentError(where + ": operations is required");
  if (!targets.emplace(target, std::move(ops)).second) {
    return InvalidArgumentError(where + ": target_service " + Quoted(target) + " listed twice");
  }
  return Status();
}

// One document: the calls of one service.
Status ParseServiceDocument(const YAML::Node& doc, size_t index, Rules& rules, std::map<std::string, size_t>& seen_in) {
  std::string where = "policy document " + std::to_string(index);
  if (!doc.IsMap()) return InvalidArgumentError(where + ": must be a map with service and allowed_calls");
  std::string service;
  // Copies of a YAML::Node share the document; assigning to one would overwrite it, so optional.
  std::optional<YAML::Node> calls;
  RETURN_IF_ERROR(ForEachKey(doc, where, [&](const std::string& key, const YAML::Node& value) -> Status {
    if (key == "service") {
      if (!value.IsScalar() || !IsIdentity(value.Scalar())) {
        return InvalidArgumentError(where + ": service " + Quoted(value.IsScalar() ? value.Scalar() : "") +
                                    " is not a service identity (1-63 of a-z, 0-9, '-')");
      }
      service = value.Scalar();
      return Status();
    }
    if (key == "allowed_calls") {
      calls.emplace(value);
      return Status();
    }
    return InvalidArgumentError(where + ": unknown key " + Quoted(key));
  }));
  if (service.empty()) return InvalidArgumentError(where + ": service is required");
  where += " (service " + Quoted(service) + ")";
  if (auto [it, fresh] = seen_in.emplace(service, index); !fresh) {
    return InvalidArgumentError(where + ": service " + Quoted(service) + " is already described by policy document " +
                                std::to_string(it->second) + "; one document per service");
  }
  if (!calls) return InvalidArgumentError(where + ": allowed_calls is required ([] for none)");
  if (!calls->IsSequence()) return InvalidArgumentError(where + ": allowed_calls must be a list ([] for none)");
  Targets targets;
  size_t i = 0;
  for (const auto& call : *calls) {
    RETURN_IF_ERROR(ParseAllowedCall(call, where + ": allowed_calls[" + std::to_string(i++) + "]", targets));
  }
  rules.emplace(service, std::move(targets));
  return Status();
}

StatusOr<Rules> ParseRules(const std::vector<YAML::Node>& docs) {
  Rules rules;
  std::map<std::string, size_t> seen_in;
  bool any = false;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (docs[i].IsNull()) continue;  // an empty document, e.g. after a trailing `---`
    any = true;
    RETURN_IF_ERROR(ParseServiceDocument(docs[i], i + 1, rules, seen_in));
  }
  if (!any) {
    return InvalidArgumentError(
        "policy: no service documents (deny-all still names its services, with "
        "allowed_calls: [])");
  }
  return rules;
}

// ---- rate limits ----

StatusOr<double> ParseRate(const YAML::Node& node, const std::string& where) {
  double value = 0;
  if (!node.IsScalar() || !YAML::convert<double>::decode(node, value) || !std::isfinite(value) || value < 0) {
    return InvalidArgumentError(where + " must be a non-negative number");
  }
  return value;
}

StatusOr<BucketSpec> ParseBucket(const YAML::Node& node, const std::string& where) {
  if (!node.IsMap()) return InvalidArgumentError(where + " must be a map with requests_per_second and burst");
  BucketSpec spec;
  bool have_rate = false;
  bool have_burst = false;
  RETURN_IF_ERROR(ForEachKey(node, where, [&](const std::string& key, const YAML::Node& value) -> Status {
    if (key == "requests_per_second") {
      ASSIGN_OR_RETURN(spec.requests_per_second, ParseRate(value, where + "." + key));
      have_rate = true;
      return Status();
    }
    if (key == "burst") {
      ASSIGN_OR_RETURN(spec.burst, ParseRate(value, where + "." + key));
      have_burst = true;
      return Status();
    }
    return InvalidArgumentError(where + ": unknown key " + Quoted(key));
  }));
  if (!have_rate) return InvalidArgumentError(where + ": requests_per_second is required");
  if (!have_burst) spec.burst = spec.requests_per_second;
  return spec;
}

// A named group of buckets (per_caller, per_method); `valid` checks each name, `kind` says what
// it should be ("an operation name").
template <typename Valid, typename Store>
Status ParseBucketMap(const YAML::Node& node, const std::string& where, std::string_view kind, const Valid& valid,
                      const Store& store) {
  if (node.IsNull()) return Status();
  if (!node.IsMap()) return InvalidArgumentError(where + " must be a map of names to limits");
  return ForEachKey(node, where, [&](const std::string& key, const YAML::Node& value) -> Status {
    if (!valid(key)) return InvalidArgumentError(where + ": " + Quoted(key) + " is not " + std::string(kind));
    ASSIGN_OR_RETURN(BucketSpec spec, ParseBucket(value, where + "." + key));
    store(key, spec);
    return Status();
  });
}

StatusOr<RateLimitConfig> ParseRateLimits(const std::vector<YAML::Node>& docs) {
  std::vector<const YAML::Node*> present;
  for (const auto& doc : docs) {
    if (!doc.IsNull()) present.push_back(&doc);
  }
  if (present.size() != 1) {
    return InvalidArgumentError("rate limits: expected one YAML document, found " + std::to_string(present.size()));
  }
  const YAML::Node& root = *present.front();
  if (!root.IsMap()) return InvalidArgumentError("rate limits: the document must be a map with rate_limits");
  RateLimitConfig config;
  bool have_root = false;
  RETURN_IF_ERROR(ForEachKey(root, "rate limits", [&](const std::string& key, const YAML::Node& limits) -> Status {
    if (key != "rate_limits") return InvalidArgumentError("rate limits: unknown key " + Quoted(key));
    have_root = true;
    if (limits.IsNull()) return Status();  // `rate_limits:` alone: no limits
    if (!limits.IsMap()) return InvalidArgumentError("rate_limits must be a map of global, per_caller, per_method");
    return ForEachKey(limits, "rate_limits", [&](const std::string& block, const YAML::Node& value) -> Status {
      std::string where = "rate_limits." + block;
      if (block == "global") {
        if (value.IsNull()) return Status();
        ASSIGN_OR_RETURN(config.global, ParseBucket(value, where));
        return Status();
      }
      if (block == "per_caller") {
        return ParseBucketMap(
            value, where, "a service identity (1-63 of a-z, 0-9, '-')",
            [](std::string_view name) { return IsIdentity(name); },
            [&](const std::string& name, const BucketSpec& spec) {
              if (name == "default") {
                config.default_caller = spec;
              } else if (name == "anonymous") {
                config.anonymous = spec;
              } else {
                config.per_caller[name] = spec;
              }
            });
      }
      if (block == "per_method") {
        return ParseBucketMap(
            value, where, "an operation name", [](std::string_view name) { return IsOperationName(name); },
            [&](const std::string& name, const BucketSpec& spec) { config.per_method[name] = spec; });
      }
      return InvalidArgumentError("rate_limits: unknown key " + Quoted(block));
    });
  }));
  if (!have_root) return InvalidArgumentError("rate limits: rate_limits is required");
  return config;
}

// ---- defaults (deploy/mesh/*.yaml are the same, with operators' comments) ----

constexpr std::string_view kDefaultPolicy = R"yaml(# The built-in mesh policy; deploy/mesh/policy.yaml explains it.
service: gateway
allowed_calls:
  - target_service: echo
    operations: [Echo, EchoSensitive, Relay, EchoStream]
  - target_service: functions
    operations: [CreateFunction, GetFunction, ListFunctions, UpdateFunction, DeleteFunction,
                 InvokeFunction, ListExecutions, GetExecution, StreamFunctionLogs]
  - target_service: secrets
    operations: [PutSecret, DeleteSecret, ListSecrets, ListSecretAudit]
  - target_service: automation
    operations: [CreateTrigger, GetTrigger, ListTriggers, DeleteTrigger, PauseTrigger, ResumeTrigger, RunTrigger, ListTriggerRuns]
  - target_service: gasbank
    operations: [GetAccount, GetLedger, RequestWithdrawal, GetWithdrawal, GetUsage]
  - target_service: pricefeed
    operations: [GetPrice, ListPrices, CreateFeed, GetFeed, ListFeeds, DeleteFeed, WatchPrices]
  - target_service: random
    operations: [GenerateRandom, GetRandom, VerifyRandom]
  - target_service: oracle
    operations: [CreateOracleRequest, GetOracleRequest, WatchOracleRequests]
---
service: echo
allowed_calls:
  - target_service: echo
    operations: [Echo, Relay]
---
service: functions
allowed_calls:
  - target_service: secrets
    operations: [GrantSecrets, ResolveSecrets]
  - target_service: gasbank
    operations: [ReserveGas, ChargeGas, ReleaseGas]
---
service: secrets
allowed_calls: []
---
service: automation
allowed_calls:
  - target_service: functions
    operations: [InvokeFunction, GetFunction]
  - target_service: gasbank
    operations: [ReserveGas, ChargeGas, ReleaseGas]
  - target_service: pricefeed
    operations: [GetPrice, WatchPrices]
---
service: gasbank
allowed_calls: []
---
service: pricefeed
allowed_calls:
  - target_service: gasbank
    operations: [ReserveGas, ChargeGas, ReleaseGas]
---
service: random
allowed_calls:
  - target_service: gasbank
    operations: [ReserveGas, ChargeGas, ReleaseGas]
---
service: oracle
allowed_calls:
  - target_service: secrets
    operations: [ResolveRequestSecrets]
  - target_service: functions
    operations: [GetFunction, InvokeFunction]
  - target_service: gasbank
    operations: [ReserveGas, ChargeGas, ReleaseGas]
)yaml";

constexpr std::string_view kDefaultRateLimits =
    R"yaml(# The built-in mesh limits; deploy/mesh/rate_limits.yaml explains them.
rate_limits:
  global:
    requests_per_second: 20000
    burst: 4000
  per_caller:
    default:
      requests_per_second: 10000
      burst: 2000
    gateway:
      requests_per_second: 20000
      burst: 4000
)yaml";

}  // namespace

StatusOr<AuthzPolicy> AuthzPolicy::FromYaml(std::string_view yaml) {
  ASSIGN_OR_RETURN(std::vector<YAML::Node> docs, LoadDocuments(yaml, "policy"));
  AuthzPolicy policy;
  try {
    ASSIGN_OR_RETURN(policy.rules_, ParseRules(docs));
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError("policy: " + e.msg);
  }
  return policy;
}

StatusOr<AuthzPolicy> AuthzPolicy::FromFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadTextFile(path, "policy"));
  auto policy = FromYaml(text);
  if (!policy.ok()) return policy.status().Annotate(path);
  return policy;
}

Status AuthzPolicy::Check(std::string_view caller, std::string_view target_service, std::string_view operation) const {
  if (caller.empty()) return UnauthenticatedError("no caller identity");
  if (auto c = rules_.find(caller); c != rules_.end()) {
    if (auto t = c->second.find(target_service); t != c->second.end()) {
      if (t->second.contains(operation) || t->second.contains(kWildcard)) return Status();
    }
  }
  ErrorDetail detail{.type = "AuthorizationError"};
  detail.Add("service", std::string(target_service))
      .Add("caller", std::string(caller))
      .Add("required_permission", std::string(operation))
      .Add("resource", std::string(target_service) + "/" + std::string(operation));
  return PermissionDeniedError("service " + Quoted(caller) + " may not call " + std::string(target_service) + "." +
                               std::string(operation))
      .WithDetail(std::move(detail));
}

size_t AuthzPolicy::size() const {
  size_t n = 0;
  for (const auto& [caller, targets] : rules_) n += targets.size();
  return n;
}

StatusOr<RateLimitConfig> RateLimitsFromYaml(std::string_view yaml) {
  ASSIGN_OR_RETURN(std::vector<YAML::Node> docs, LoadDocuments(yaml, "rate limits"));
  try {
    return ParseRateLimits(docs);
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError("rate limits: " + e.msg);
  }
}

StatusOr<RateLimitConfig> RateLimitsFromFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadTextFile(path, "rate limits"));
  auto limits = RateLimitsFromYaml(text);
  if (!limits.ok()) return limits.status().Annotate(path);
  return limits;
}

std::string_view DefaultAuthzPolicyYaml() {
  return kDefaultPolicy;
}

std::string_view DefaultRateLimitsYaml() {
  return kDefaultRateLimits;
}

}  // namespace neosl::mesh
