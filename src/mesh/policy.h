// Who may call what, and how often: the two YAML formats of service-integration.md.
//
// Authorization (mesh.policy_file; docs/mesh.md). One YAML document per calling service, in one
// stream separated by `---`, exactly the seed's shape:
//
//   service: "automation"
//   allowed_calls:
//     - target_service: "functions"
//       operations: ["ExecuteFunction", "GetFunction"]
//     - target_service: "gasbank"
//       operations: ["*"]          # every operation of the target ("*" alone, never a pattern)
//
// Deny by default: a caller, target or operation not named is refused. Identities and targets
// are service identities (the CN of the caller's certificate: 1–63 chars of [a-z0-9-], as the CA
// issues them); operations are the gRPC method's short name ("Echo" of /neosl.echo.v1.Echo/Echo,
// [A-Za-z_][A-Za-z0-9_]*). Only what is listed is allowed, calls of a service to itself included.
// Unknown keys, a repeated `service` (in one document or across two), a target listed twice in
// one document, a missing or empty `operations` list, "*" beside other names or inside a name, a
// bad identity, or a stream with no document at all are INVALID_ARGUMENT naming the document
// (1-based, as it appears in the stream) and key, so a typo cannot open a hole. `allowed_calls`
// is required; `allowed_calls: []` says a service calls nothing.
//
// Not in the policy: the mesh's own handshake, Attest of neosl.mesh.v1.Mesh, which every
// authenticated caller may call. The framework lets it through before consulting Check(), so a
// policy never needs to list it (and a service named "mesh" gains nothing from the exemption).
//
// Rate limits (mesh.rate_limits_file): the seed's `rate_limits` block, token buckets as in
// core/rate_limiter.h:
//
//   rate_limits:
//     global:     {requests_per_second: 1000, burst: 100}
//     per_caller: {automation: {requests_per_second: 500, burst: 50}, default: {…}}
//     per_method: {ExecuteFunction: {requests_per_second: 100, burst: 20}}
//
// `default` under per_caller applies to callers not listed; `anonymous` fills
// RateLimitConfig::anonymous, as RateLimitConfig::FromConfig reads the same shape. Other
// per_caller keys are service identities, per_method keys operation short names. Missing blocks
// mean no limit; unknown keys, negative or non-numeric values are INVALID_ARGUMENT.
//
// The file loaders answer NOT_FOUND for a missing file and UNAVAILABLE for one that cannot be
// read, naming the path; parse errors are prefixed with the path.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/rate_limiter.h"
#include "core/status.h"

namespace neosl::mesh {

class AuthzPolicy {
 public:
  static StatusOr<AuthzPolicy> FromYaml(std::string_view yaml);
  static StatusOr<AuthzPolicy> FromFile(const std::string& path);

  // OK, or PERMISSION_DENIED "service 'x' may not call y.Operation" with the seed's detail:
  //   {"type":"AuthorizationError","service":<target>,"caller":<caller>,
  //    "required_permission":<operation>,"resource":"<target>/<operation>"}
  Status Check(std::string_view caller, std::string_view target_service, std::string_view operation) const;

  // For docs and `neosl mesh policy` style output: how many (caller, target) pairs are listed.
  size_t size() const;

  // Same rules (e.g. a reloaded file that changed nothing; the defaults and deploy/mesh agree).
  friend bool operator==(const AuthzPolicy&, const AuthzPolicy&) = default;

 private:
  // caller → target → operations ("*" = all). std::less<> everywhere: Check() looks up
  // string_views without building strings.
  using Operations = std::set<std::string, std::less<>>;
  using Targets = std::map<std::string, Operations, std::less<>>;
  std::map<std::string, Targets, std::less<>> rules_;
};

// Parses the seed's rate_limits YAML into core's RateLimitConfig. per_caller keys are service
// identities; per_method keys are operation short names. Values must be non-negative numbers;
// burst defaults to requests_per_second when absent.
StatusOr<RateLimitConfig> RateLimitsFromYaml(std::string_view yaml);
StatusOr<RateLimitConfig> RateLimitsFromFile(const std::string& path);

// The policy and limits `neosl serve` uses when no file is configured: the gateway may call every
// public operation of every built-in service, services call each other as docs/mesh.md lists,
// and generous limits. Parsed by the same functions (so the defaults are valid by test).
std::string_view DefaultAuthzPolicyYaml();
std::string_view DefaultRateLimitsYaml();

}  // namespace neosl::mesh
