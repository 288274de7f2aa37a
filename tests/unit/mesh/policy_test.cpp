#include "mesh/policy.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/rate_limiter.h"

namespace neosl::mesh {
namespace {

using ::testing::HasSubstr;

// The seed's example (service-integration.md, "Authorization Policy"), verbatim.
constexpr std::string_view kSeedPolicy = R"yaml(
service: "automation-service"
allowed_calls:
  - target_service: "function-service"
    operations: ["ExecuteFunction", "GetFunction"]
  - target_service: "gas-bank-service"
    operations: ["RequestGas", "CheckBalance"]
  - target_service: "key-service"
    operations: ["Sign"]
  - target_service: "price-feed-service"
    operations: ["GetPrice", "SubscribePriceUpdates"]
)yaml";

// The seed's example ("Rate Limiting and Backpressure"), verbatim.
constexpr std::string_view kSeedRateLimits = R"yaml(
rate_limits:
  global:
    requests_per_second: 1000
    burst: 100
  per_caller:
    automation-service:
      requests_per_second: 500
      burst: 50
    api-service:
      requests_per_second: 300
      burst: 30
  per_method:
    ExecuteFunction:
      requests_per_second: 100
      burst: 20
)yaml";

AuthzPolicy Parse(std::string_view yaml) {
  auto policy = AuthzPolicy::FromYaml(yaml);
  EXPECT_TRUE(policy.ok()) << policy.status().ToString();
  return policy.ok() ? *policy : AuthzPolicy();
}

RateLimitConfig ParseLimits(std::string_view yaml) {
  auto limits = RateLimitsFromYaml(yaml);
  EXPECT_TRUE(limits.ok()) << limits.status().ToString();
  return limits.ok() ? *limits : RateLimitConfig();
}

std::string SourcePath(std::string_view relative) {
  return std::string(NEOSL_SOURCE_DIR) + "/" + std::string(relative);
}

// A scratch directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "neosl-policy-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string Write(const std::string& name, std::string_view text) const {
    std::string file = path_ + "/" + name;
    std::ofstream(file) << text;
    return file;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---- the seed's policy ----

TEST(AuthzPolicyTest, SeedExampleParsesAndAllowsWhatItLists) {
  AuthzPolicy policy = Parse(kSeedPolicy);
  EXPECT_EQ(policy.size(), 4u);
  EXPECT_TRUE(policy.Check("automation-service", "function-service", "ExecuteFunction").ok());
  EXPECT_TRUE(policy.Check("automation-service", "function-service", "GetFunction").ok());
  EXPECT_TRUE(policy.Check("automation-service", "gas-bank-service", "RequestGas").ok());
  EXPECT_TRUE(policy.Check("automation-service", "gas-bank-service", "CheckBalance").ok());
  EXPECT_TRUE(policy.Check("automation-service", "key-service", "Sign").ok());
  EXPECT_TRUE(policy.Check("automation-service", "price-feed-service", "SubscribePriceUpdates").ok());
}

TEST(AuthzPolicyTest, SeedExampleDeniesWhatItDoesNotList) {
  AuthzPolicy policy = Parse(kSeedPolicy);
  // An operation of a listed target that is not listed.
  EXPECT_EQ(policy.Check("automation-service", "function-service", "DeleteFunction").code(),
            StatusCode::kPermissionDenied);
  // An operation listed for another target.
  EXPECT_EQ(policy.Check("automation-service", "key-service", "GetPrice").code(), StatusCode::kPermissionDenied);
  // A target not listed, and the caller itself.
  EXPECT_EQ(policy.Check("automation-service", "secrets-service", "Sign").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(policy.Check("automation-service", "automation-service", "GetFunction").code(),
            StatusCode::kPermissionDenied);
  // A caller with no document, calling something automation may call.
  EXPECT_EQ(policy.Check("api-service", "function-service", "ExecuteFunction").code(), StatusCode::kPermissionDenied);
  // Names are exact: no case folding, no prefixes.
  EXPECT_EQ(policy.Check("automation-service", "function-service", "executefunction").code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(policy.Check("automation-service", "function-service", "ExecuteFunctionX").code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(policy.Check("automation", "function-service", "ExecuteFunction").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(policy.Check("automation-service", "function", "ExecuteFunction").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(policy.Check("automation-service", "", "ExecuteFunction").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(policy.Check("automation-service", "function-service", "").code(), StatusCode::kPermissionDenied);
}

TEST(AuthzPolicyTest, DenialCarriesTheSeedsAuthorizationErrorDetail) {
  AuthzPolicy policy = Parse(kSeedPolicy);
  Status s = policy.Check("automation-service", "function-service", "DeleteFunction");
  ASSERT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "service 'automation-service' may not call function-service.DeleteFunction");
  ASSERT_EQ(s.details().size(), 1u);
  const ErrorDetail& d = s.details()[0];
  EXPECT_EQ(d.type, "AuthorizationError");
  using Field = std::pair<std::string, ErrorDetail::Value>;
  std::vector<Field> want = {
      {"service", std::string("function-service")},
      {"caller", std::string("automation-service")},
      {"required_permission", std::string("DeleteFunction")},
      {"resource", std::string("function-service/DeleteFunction")},
  };
  EXPECT_EQ(d.fields, want);
}

TEST(AuthzPolicyTest, NoCallerIsUnauthenticated) {
  AuthzPolicy policy = Parse(kSeedPolicy);
  Status s = policy.Check("", "function-service", "ExecuteFunction");
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(s.message(), "no caller identity");
}

TEST(AuthzPolicyTest, LooksUpViewsThatAreNotWholeStrings) {
  AuthzPolicy policy = Parse(kSeedPolicy);
  // Views into a larger buffer, as the framework slices them out of "/pkg.Service/Method".
  std::string_view buffer = "automation-service|function-service|GetFunctionTrailing";
  EXPECT_TRUE(policy.Check(buffer.substr(0, 18), buffer.substr(19, 16), buffer.substr(36, 11)).ok());
}

TEST(AuthzPolicyTest, EmptyPolicyValueDeniesEverything) {
  AuthzPolicy policy;
  EXPECT_EQ(policy.size(), 0u);
  EXPECT_EQ(policy.Check("gateway", "echo", "Echo").code(), StatusCode::kPermissionDenied);
}

TEST(AuthzPolicyTest, WildcardAllowsEveryOperationOfThatTargetOnly) {
  AuthzPolicy policy = Parse(R"yaml(
service: automation
allowed_calls:
  - target_service: gasbank
    operations: ["*"]
  - target_service: functions
    operations: [GetFunction]
)yaml");
  EXPECT_TRUE(policy.Check("automation", "gasbank", "ChargeGas").ok());
  EXPECT_TRUE(policy.Check("automation", "gasbank", "AnythingAtAll").ok());
  EXPECT_TRUE(policy.Check("automation", "functions", "GetFunction").ok());
  EXPECT_FALSE(policy.Check("automation", "functions", "DeleteFunction").ok());
  EXPECT_FALSE(policy.Check("automation", "secrets", "ResolveSecrets").ok());
  EXPECT_FALSE(policy.Check("gasbank", "automation", "GetTrigger").ok());
}

TEST(AuthzPolicyTest, OneDocumentPerServiceInAStream) {
  AuthzPolicy policy = Parse(R"yaml(# a comment before the first document
---
service: gateway
allowed_calls:
  - target_service: echo
    operations: [Echo, Relay]
---
service: echo
allowed_calls:
  - target_service: echo
    operations: [Echo]
---
service: secrets
allowed_calls: []
---
)yaml");
  EXPECT_EQ(policy.size(), 2u);  // (caller, target) pairs; secrets has none
  EXPECT_TRUE(policy.Check("gateway", "echo", "Relay").ok());
  EXPECT_TRUE(policy.Check("echo", "echo", "Echo").ok());
  EXPECT_FALSE(policy.Check("echo", "echo", "Relay").ok());
  EXPECT_FALSE(policy.Check("secrets", "echo", "Echo").ok());
  EXPECT_FALSE(policy.Check("gateway", "secrets", "Echo").ok());
}

TEST(AuthzPolicyTest, RepeatedOperationsAreHarmless) {
  AuthzPolicy policy = Parse("service: a\nallowed_calls:\n  - target_service: b\n    operations: [X, X]\n");
  EXPECT_TRUE(policy.Check("a", "b", "X").ok());
  EXPECT_EQ(policy.size(), 1u);
}

TEST(AuthzPolicyTest, EqualityComparesRules) {
  EXPECT_EQ(Parse(kSeedPolicy), Parse(kSeedPolicy));
  EXPECT_NE(Parse(kSeedPolicy), Parse("service: a\nallowed_calls: []\n"));
  // A service with no calls is still a rule set of its own.
  EXPECT_NE(Parse("service: a\nallowed_calls: []\n"), AuthzPolicy());
}

// ---- malformed policies ----

struct BadPolicy {
  std::string name;
  std::string yaml;
  std::string message;  // a substring of the error
};

class MalformedPolicyTest : public ::testing::TestWithParam<BadPolicy> {};

TEST_P(MalformedPolicyTest, IsInvalidArgumentNamingTheProblem) {
  auto policy = AuthzPolicy::FromYaml(GetParam().yaml);
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.status().code(), StatusCode::kInvalidArgument) << policy.status().ToString();
  EXPECT_THAT(std::string(policy.status().message()), HasSubstr(GetParam().message));
}

constexpr const char* kCall = "  - target_service: b\n    operations: [X]\n";

std::string Doc(const std::string& service, const std::string& calls = kCall) {
  return "service: " + service + "\nallowed_calls:\n" + calls;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MalformedPolicyTest,
    ::testing::Values(
        BadPolicy{"NotYaml", "service: [a\n", "invalid YAML at line"}, BadPolicy{"Empty", "", "no service documents"},
        BadPolicy{"OnlyComments", "# nothing\n---\n", "no service documents"},
        BadPolicy{"DocumentIsAList", "- service: a\n", "policy document 1: must be a map"},
        BadPolicy{"DocumentIsAScalar", "gateway\n", "policy document 1: must be a map"},
        BadPolicy{"UnknownTopKey", "servce: a\nallowed_calls: []\n", "policy document 1: unknown key 'servce'"},
        BadPolicy{"UnknownKeyInSecondDocument", Doc("a") + "---\n" + Doc("b") + "extra: 1\n",
                  "policy document 2: unknown key 'extra'"},
        BadPolicy{"RepeatedKey", "service: a\nservice: b\nallowed_calls: []\n", "key 'service' repeated"},
        BadPolicy{"MissingService", "allowed_calls: []\n", "policy document 1: service is required"},
        BadPolicy{"EmptyService", "service: \"\"\nallowed_calls: []\n", "service '' is not a service identity"},
        BadPolicy{"NullService", "service:\nallowed_calls: []\n", "is not a service identity"},
        BadPolicy{"UppercaseService", "service: Gateway\nallowed_calls: []\n",
                  "service 'Gateway' is not a service identity"},
        BadPolicy{"UnderscoreService", "service: gas_bank\nallowed_calls: []\n", "not a service identity"},
        BadPolicy{"DottedService", "service: a.b\nallowed_calls: []\n", "not a service identity"},
        BadPolicy{"LongService", "service: " + std::string(64, 'a') + "\nallowed_calls: []\n",
                  "not a service identity"},
        BadPolicy{"ListService", "service: [a]\nallowed_calls: []\n", "not a service identity"},
        BadPolicy{"ServiceTwice", Doc("a") + "---\n" + Doc("c") + "---\n" + Doc("a"),
                  "policy document 3 (service 'a'): service 'a' is already described by policy document 1"},
        BadPolicy{"MissingAllowedCalls", "service: a\n", "allowed_calls is required"},
        BadPolicy{"NullAllowedCalls", "service: a\nallowed_calls:\n", "allowed_calls must be a list"},
        BadPolicy{"MapAllowedCalls", "service: a\nallowed_calls: {target_service: b}\n",
                  "allowed_calls must be a list"},
        BadPolicy{"CallIsAString", Doc("a", "  - b\n"), "allowed_calls[0]: must be a map"},
        BadPolicy{"UnknownCallKey", Doc("a", "  - target_service: b\n    operation: [X]\n"),
                  "policy document 1 (service 'a'): allowed_calls[0]: unknown key 'operation'"},
        BadPolicy{"SecondCallBad", Doc("a", std::string(kCall) + "  - target_service: c\n"),
                  "allowed_calls[1]: operations is required"},
        BadPolicy{"MissingTarget", Doc("a", "  - operations: [X]\n"), "target_service is required"},
        BadPolicy{"BadTarget", Doc("a", "  - target_service: Function Service\n    operations: [X]\n"),
                  "target_service 'Function Service' is not a service identity"},
        BadPolicy{"EmptyTarget", Doc("a", "  - target_service: ''\n    operations: [X]\n"),
                  "target_service '' is not a service identity"},
        BadPolicy{"TargetTwice", Doc("a", std::string(kCall) + kCall), "target_service 'b' listed twice"},
        BadPolicy{"MissingOperations", Doc("a", "  - target_service: b\n"), "operations is required"},
        BadPolicy{"EmptyOperations", Doc("a", "  - target_service: b\n    operations: []\n"),
                  "operations must be a non-empty list"},
        BadPolicy{"NullOperations", Doc("a", "  - target_service: b\n    operations:\n"),
                  "operations must be a non-empty list"},
        BadPolicy{"ScalarOperations", Doc("a", "  - target_service: b\n    operations: Echo\n"),
                  "operations must be a non-empty list"},
        BadPolicy{"MapInOperations", Doc("a", "  - target_service: b\n    operations: [{x: y}]\n"),
                  "operations must be a list of strings"},
        BadPolicy{"EmptyOperation", Doc("a", "  - target_service: b\n    operations: ['']\n"),
                  "'' is not an operation name"},
        BadPolicy{"PathOperation", Doc("a", "  - target_service: b\n    operations: [/neosl.echo.v1.Echo/Echo]\n"),
                  "is not an operation name"},
        BadPolicy{"WildcardNotAlone", Doc("a", "  - target_service: b\n    operations: ['*', Echo]\n"),
                  "\"*\" must be alone"},
        BadPolicy{"WildcardNotAloneAfter", Doc("a", "  - target_service: b\n    operations: [Echo, '*']\n"),
                  "\"*\" must be alone"},
        BadPolicy{"WildcardPattern", Doc("a", "  - target_service: b\n    operations: ['Get*']\n"),
                  "patterns are not supported"}),
    [](const ::testing::TestParamInfo<BadPolicy>& param_info) { return param_info.param.name; });

// ---- files ----

TEST(AuthzPolicyFileTest, LoadsAFile) {
  TempDir dir;
  auto policy = AuthzPolicy::FromFile(dir.Write("policy.yaml", kSeedPolicy));
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(*policy, Parse(kSeedPolicy));
}

TEST(AuthzPolicyFileTest, MissingFileIsNotFoundNamingThePath) {
  TempDir dir;
  std::string path = dir.path() + "/absent.yaml";
  auto policy = AuthzPolicy::FromFile(path);
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(std::string(policy.status().message()), HasSubstr(path));
}

TEST(AuthzPolicyFileTest, DirectoryIsUnavailableNamingThePath) {
  TempDir dir;
  auto policy = AuthzPolicy::FromFile(dir.path());
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(std::string(policy.status().message()), HasSubstr(dir.path()));
}

TEST(AuthzPolicyFileTest, ParseErrorsNameTheFile) {
  TempDir dir;
  std::string path = dir.Write("policy.yaml", "service: a\nallowed_calls: []\nbogus: 1\n");
  auto policy = AuthzPolicy::FromFile(path);
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(policy.status().message()), HasSubstr(path));
  EXPECT_THAT(std::string(policy.status().message()), HasSubstr("unknown key 'bogus'"));
}

// ---- the defaults ----

TEST(DefaultPolicyTest, ParsesAndMatchesDeployFile) {
  AuthzPolicy defaults = Parse(DefaultAuthzPolicyYaml());
  auto deployed = AuthzPolicy::FromFile(SourcePath("deploy/mesh/policy.yaml"));
  ASSERT_TRUE(deployed.ok()) << deployed.status().ToString();
  EXPECT_EQ(*deployed, defaults);
}

TEST(DefaultPolicyTest, GatewayReachesPublicOperationsOnly) {
  AuthzPolicy p = Parse(DefaultAuthzPolicyYaml());
  for (const char* op : {"Echo", "EchoSensitive", "Relay"}) EXPECT_TRUE(p.Check("gateway", "echo", op).ok()) << op;
  for (const char* op : {"CreateFunction", "GetFunction", "ListFunctions", "UpdateFunction", "DeleteFunction",
                         "InvokeFunction", "ListExecutions", "GetExecution"}) {
    EXPECT_TRUE(p.Check("gateway", "functions", op).ok()) << op;
  }
  for (const char* op : {"PutSecret", "DeleteSecret", "ListSecrets", "ListSecretAudit"}) {
    EXPECT_TRUE(p.Check("gateway", "secrets", op).ok()) << op;
  }
  EXPECT_TRUE(p.Check("gateway", "pricefeed", "GetPrice").ok());
  EXPECT_TRUE(p.Check("gateway", "random", "GenerateRandom").ok());
  EXPECT_TRUE(p.Check("gateway", "oracle", "CreateOracleRequest").ok());
  EXPECT_TRUE(p.Check("gateway", "automation", "CreateTrigger").ok());
  EXPECT_TRUE(p.Check("gateway", "gasbank", "GetAccount").ok());
  // Internal operations stay internal.
  EXPECT_FALSE(p.Check("gateway", "secrets", "ResolveSecrets").ok());
  for (const char* op : {"ReserveGas", "ChargeGas", "ReleaseGas"}) EXPECT_FALSE(p.Check("gateway", "gasbank", op).ok());
  // Nobody calls the gateway.
  EXPECT_FALSE(p.Check("echo", "gateway", "Echo").ok());
}

TEST(DefaultPolicyTest, ServicesCallEachOtherLeastPrivilege) {
  AuthzPolicy p = Parse(DefaultAuthzPolicyYaml());
  // Relay hops through the mesh: Relay to the next hop, Echo at the last.
  EXPECT_TRUE(p.Check("echo", "echo", "Echo").ok());
  EXPECT_TRUE(p.Check("echo", "echo", "Relay").ok());
  EXPECT_FALSE(p.Check("echo", "echo", "EchoSensitive").ok());
  // Only functions resolve granted secrets, and only the oracle its requests' header secrets.
  EXPECT_TRUE(p.Check("functions", "secrets", "ResolveSecrets").ok());
  EXPECT_TRUE(p.Check("oracle", "secrets", "ResolveRequestSecrets").ok());
  for (const char* caller : {"gateway", "echo", "secrets", "automation", "gasbank", "pricefeed", "random", "oracle"}) {
    EXPECT_FALSE(p.Check(caller, "secrets", "ResolveSecrets").ok()) << caller;
  }
  for (const char* caller : {"gateway", "echo", "secrets", "functions", "automation", "gasbank", "pricefeed"}) {
    EXPECT_FALSE(p.Check(caller, "secrets", "ResolveRequestSecrets").ok()) << caller;
  }
  EXPECT_FALSE(p.Check("functions", "secrets", "ListSecrets").ok());
  // Automation runs functions but does not manage them.
  EXPECT_TRUE(p.Check("automation", "functions", "InvokeFunction").ok());
  EXPECT_TRUE(p.Check("automation", "functions", "GetFunction").ok());
  EXPECT_FALSE(p.Check("automation", "functions", "DeleteFunction").ok());
  // The oracle runs post-processing functions, and reads nothing else of them.
  EXPECT_TRUE(p.Check("oracle", "functions", "InvokeFunction").ok());
  EXPECT_TRUE(p.Check("oracle", "functions", "GetFunction").ok());
  EXPECT_FALSE(p.Check("oracle", "functions", "UpdateFunction").ok());
  EXPECT_FALSE(p.Check("oracle", "secrets", "ListSecrets").ok());
  EXPECT_TRUE(p.Check("automation", "pricefeed", "GetPrice").ok());
  EXPECT_FALSE(p.Check("automation", "pricefeed", "DeleteFeed").ok());
  // Services that pay for chain callbacks charge the gas bank; they cannot withdraw.
  for (const char* caller : {"functions", "automation", "pricefeed", "random", "oracle"}) {
    for (const char* op : {"ReserveGas", "ChargeGas", "ReleaseGas"}) {
      EXPECT_TRUE(p.Check(caller, "gasbank", op).ok()) << caller << " " << op;
    }
    EXPECT_FALSE(p.Check(caller, "gasbank", "RequestWithdrawal").ok()) << caller;
  }
  // Secrets and the gas bank call nobody.
  for (const char* target : {"echo", "functions", "secrets", "automation", "gasbank", "pricefeed"}) {
    EXPECT_FALSE(p.Check("secrets", target, "Echo").ok());
    EXPECT_FALSE(p.Check("gasbank", target, "GetPrice").ok());
  }
  // 8 gateway targets, echo 1, functions 2, automation 3, pricefeed 1, random 1, oracle 3.
  EXPECT_EQ(p.size(), 19u);
}

// ---- rate limits ----

void ExpectBucket(const BucketSpec& got, double rps, double burst, const std::string& where) {
  EXPECT_DOUBLE_EQ(got.requests_per_second, rps) << where;
  EXPECT_DOUBLE_EQ(got.burst, burst) << where;
}

void ExpectSameLimits(const RateLimitConfig& a, const RateLimitConfig& b) {
  ExpectBucket(a.global, b.global.requests_per_second, b.global.burst, "global");
  ExpectBucket(a.default_caller, b.default_caller.requests_per_second, b.default_caller.burst, "default");
  ExpectBucket(a.anonymous, b.anonymous.requests_per_second, b.anonymous.burst, "anonymous");
  ASSERT_EQ(a.per_caller.size(), b.per_caller.size());
  for (const auto& [name, spec] : b.per_caller) {
    ASSERT_TRUE(a.per_caller.contains(name)) << name;
    ExpectBucket(a.per_caller.at(name), spec.requests_per_second, spec.burst, name);
  }
  ASSERT_EQ(a.per_method.size(), b.per_method.size());
  for (const auto& [name, spec] : b.per_method) {
    ASSERT_TRUE(a.per_method.contains(name)) << name;
    ExpectBucket(a.per_method.at(name), spec.requests_per_second, spec.burst, name);
  }
}

TEST(RateLimitsYamlTest, SeedExampleParses) {
  RateLimitConfig c = ParseLimits(kSeedRateLimits);
  ExpectBucket(c.global, 1000, 100, "global");
  ASSERT_EQ(c.per_caller.size(), 2u);
  ExpectBucket(c.per_caller.at("automation-service"), 500, 50, "automation-service");
  ExpectBucket(c.per_caller.at("api-service"), 300, 30, "api-service");
  ASSERT_EQ(c.per_method.size(), 1u);
  ExpectBucket(c.per_method.at("ExecuteFunction"), 100, 20, "ExecuteFunction");
  EXPECT_FALSE(c.default_caller.enabled());
  EXPECT_FALSE(c.anonymous.enabled());
}

TEST(RateLimitsYamlTest, BurstDefaultsToRate) {
  RateLimitConfig c = ParseLimits("rate_limits:\n  global: {requests_per_second: 250}\n");
  ExpectBucket(c.global, 250, 250, "global");
}

TEST(RateLimitsYamlTest, DefaultAndAnonymousFillTheirOwnFields) {
  RateLimitConfig c = ParseLimits(R"yaml(
rate_limits:
  per_caller:
    default: {requests_per_second: 10, burst: 2}
    anonymous: {requests_per_second: 1}
    gateway: {requests_per_second: 0.5, burst: 0}
)yaml");
  ExpectBucket(c.default_caller, 10, 2, "default");
  ExpectBucket(c.anonymous, 1, 1, "anonymous");
  ASSERT_EQ(c.per_caller.size(), 1u);
  ExpectBucket(c.per_caller.at("gateway"), 0.5, 0, "gateway");
  EXPECT_FALSE(c.global.enabled());
}

TEST(RateLimitsYamlTest, EveryBlockIsOptional) {
  for (const char* yaml : {"rate_limits: {}\n", "rate_limits:\n", "rate_limits:\n  global:\n  per_caller:\n"}) {
    RateLimitConfig c = ParseLimits(yaml);
    EXPECT_FALSE(c.global.enabled()) << yaml;
    EXPECT_FALSE(c.default_caller.enabled()) << yaml;
    EXPECT_TRUE(c.per_caller.empty()) << yaml;
    EXPECT_TRUE(c.per_method.empty()) << yaml;
  }
}

TEST(RateLimitsYamlTest, ZeroTurnsABucketOff) {
  RateLimitConfig c = ParseLimits("rate_limits:\n  per_method:\n    Echo: {requests_per_second: 0, burst: 0}\n");
  ASSERT_TRUE(c.per_method.contains("Echo"));
  EXPECT_FALSE(c.per_method.at("Echo").enabled());
}

TEST(RateLimitsYamlTest, ParsedLimitsDriveTheLimiter) {
  ManualClock clock;
  RateLimiter limiter(ParseLimits(R"yaml(
rate_limits:
  per_caller:
    default: {requests_per_second: 1, burst: 5}
    automation: {requests_per_second: 1, burst: 2}
)yaml"),
                      clock);
  EXPECT_TRUE(limiter.AdmitCaller("automation", false).allowed);
  EXPECT_TRUE(limiter.AdmitCaller("automation", false).allowed);
  EXPECT_FALSE(limiter.AdmitCaller("automation", false).allowed);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.AdmitCaller("oracle", false).allowed) << i;
  EXPECT_FALSE(limiter.AdmitCaller("oracle", false).allowed);
}

struct BadLimits {
  std::string name;
  std::string yaml;
  std::string message;
};

class MalformedRateLimitsTest : public ::testing::TestWithParam<BadLimits> {};

TEST_P(MalformedRateLimitsTest, IsInvalidArgumentNamingTheProblem) {
  auto limits = RateLimitsFromYaml(GetParam().yaml);
  ASSERT_FALSE(limits.ok());
  EXPECT_EQ(limits.status().code(), StatusCode::kInvalidArgument) << limits.status().ToString();
  EXPECT_THAT(std::string(limits.status().message()), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MalformedRateLimitsTest,
    ::testing::Values(
        BadLimits{"NotYaml", "rate_limits: {global: [\n", "invalid YAML at line"},
        BadLimits{"Empty", "", "expected one YAML document, found 0"},
        BadLimits{"TwoDocuments", "rate_limits: {}\n---\nrate_limits: {}\n", "expected one YAML document, found 2"},
        BadLimits{"NotAMap", "- rate_limits\n", "must be a map with rate_limits"},
        BadLimits{"MissingRoot", "limits: {}\n", "unknown key 'limits'"},
        BadLimits{"RootMissingAmongOthers", "{}\n", "rate_limits is required"},
        BadLimits{"RootIsAList", "rate_limits: []\n", "rate_limits must be a map"},
        BadLimits{"UnknownBlock", "rate_limits:\n  per_ip: {}\n", "rate_limits: unknown key 'per_ip'"},
        BadLimits{"RepeatedBlock",
                  "rate_limits:\n  global: {requests_per_second: 1}\n  global: {requests_per_second: 2}\n",
                  "key 'global' repeated"},
        BadLimits{"UnknownBucketKey", "rate_limits:\n  global: {requests_per_second: 1, bursts: 2}\n",
                  "rate_limits.global: unknown key 'bursts'"},
        BadLimits{"MissingRate", "rate_limits:\n  global: {burst: 2}\n",
                  "rate_limits.global: requests_per_second is required"},
        BadLimits{"BucketIsANumber", "rate_limits:\n  global: 100\n", "rate_limits.global must be a map"},
        BadLimits{"NegativeRate", "rate_limits:\n  global: {requests_per_second: -1}\n",
                  "rate_limits.global.requests_per_second must be a non-negative number"},
        BadLimits{"NegativeBurst", "rate_limits:\n  global: {requests_per_second: 1, burst: -5}\n",
                  "rate_limits.global.burst must be a non-negative number"},
        BadLimits{"WordRate", "rate_limits:\n  global: {requests_per_second: fast}\n", "must be a non-negative number"},
        BadLimits{"InfiniteRate", "rate_limits:\n  global: {requests_per_second: .inf}\n",
                  "must be a non-negative number"},
        BadLimits{"NanRate", "rate_limits:\n  global: {requests_per_second: .nan}\n", "must be a non-negative number"},
        BadLimits{"ListRate", "rate_limits:\n  global: {requests_per_second: [1]}\n", "must be a non-negative number"},
        BadLimits{"NullRate", "rate_limits:\n  global: {requests_per_second: }\n", "must be a non-negative number"},
        BadLimits{"PerCallerList", "rate_limits:\n  per_caller: [a]\n", "rate_limits.per_caller must be a map"},
        BadLimits{"BadCallerName", "rate_limits:\n  per_caller:\n    Automation: {requests_per_second: 1}\n",
                  "rate_limits.per_caller: 'Automation' is not a service identity"},
        BadLimits{"CallerBucketBad", "rate_limits:\n  per_caller:\n    automation: {rps: 1}\n",
                  "rate_limits.per_caller.automation: unknown key 'rps'"},
        BadLimits{"BadMethodName", "rate_limits:\n  per_method:\n    Execute-Function: {requests_per_second: 1}\n",
                  "'Execute-Function' is not an operation name"},
        BadLimits{"MethodBucketNegative", "rate_limits:\n  per_method:\n    Echo: {requests_per_second: -2}\n",
                  "rate_limits.per_method.Echo.requests_per_second must be a non-negative number"}),
    [](const ::testing::TestParamInfo<BadLimits>& param_info) { return param_info.param.name; });

TEST(RateLimitsYamlTest, DefaultsParseAndMatchDeployFile) {
  RateLimitConfig c = ParseLimits(DefaultRateLimitsYaml());
  ExpectBucket(c.global, 20000, 4000, "global");
  ExpectBucket(c.default_caller, 10000, 2000, "default");
  ASSERT_EQ(c.per_caller.size(), 1u);
  ExpectBucket(c.per_caller.at("gateway"), 20000, 4000, "gateway");
  EXPECT_TRUE(c.per_method.empty());
  EXPECT_FALSE(c.anonymous.enabled());

  auto deployed = RateLimitsFromFile(SourcePath("deploy/mesh/rate_limits.yaml"));
  ASSERT_TRUE(deployed.ok()) << deployed.status().ToString();
  ExpectSameLimits(*deployed, c);
}

TEST(RateLimitsYamlTest, FileErrorsNameThePath) {
  TempDir dir;
  auto missing = RateLimitsFromFile(dir.path() + "/absent.yaml");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr(dir.path() + "/absent.yaml"));

  std::string bad = dir.Write("limits.yaml", "rate_limits:\n  global: {requests_per_second: -1}\n");
  auto parsed = RateLimitsFromFile(bad);
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(bad));

  auto good = RateLimitsFromFile(dir.Write("seed.yaml", kSeedRateLimits));
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  ExpectSameLimits(*good, ParseLimits(kSeedRateLimits));
}

}  // namespace
}  // namespace neosl::mesh
