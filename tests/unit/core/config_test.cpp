#include "core/config.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdlib.h>
#include <string>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace neosl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;
using Env = std::map<std::string, std::string>;

// A mkdtemp directory holding the YAML files of one test, removed with its contents.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = temp_.path(); }

  // Writes `yaml` to a file in the directory and returns its path.
  std::string WriteYaml(const std::string& yaml, const std::string& name = "neosl.yaml") {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << yaml;
    return path;
  }

  StatusOr<Config> LoadYaml(const std::string& yaml, const Env& env = {}) { return Config::Load(WriteYaml(yaml), env); }

  ::neosl::testing::TempDir temp_;  // removed with its files after the test
  std::string dir_;
};

TEST_F(ConfigTest, DefaultsLoadWithoutAFile) {
  auto c = Config::Load(std::nullopt, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->String("listen"), "127.0.0.1:8080");
  EXPECT_EQ(c->Int("gateway.max_body_bytes"), 1048576);
  EXPECT_EQ(c->String("log.level"), "info");
  EXPECT_TRUE(c->Bool("log.requests"));
  EXPECT_EQ(c->String("gateway.tls.cert_file"), "");
  EXPECT_EQ(c->Int("rate_limits.per_caller.default.burst"), 400);
  EXPECT_TRUE(c->Has("auth.key_hash_secret"));
  EXPECT_FALSE(c->Has("gateway.no_such_key"));
  EXPECT_TRUE(c->UnusedEnvironment().empty());
}

TEST_F(ConfigTest, EmptyFileKeepsDefaults) {
  auto c = LoadYaml("");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->Int("gateway.max_body_bytes"), 1048576);
}

TEST_F(ConfigTest, FileOverridesDefaults) {
  auto c = LoadYaml(
      "listen: \"0.0.0.0:9000\"\n"
      "log:\n"
      "  level: debug\n"
      "  requests: false\n"
      "gateway:\n"
      "  max_body_bytes: 4096\n"
      "  tls:\n"
      "    cert_file: /etc/neosl/cert.pem\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->String("listen"), "0.0.0.0:9000");
  EXPECT_EQ(c->String("log.level"), "debug");
  EXPECT_FALSE(c->Bool("log.requests"));
  EXPECT_EQ(c->Int("gateway.max_body_bytes"), 4096);
  EXPECT_EQ(c->String("gateway.tls.cert_file"), "/etc/neosl/cert.pem");
  // Keys the file does not name keep their defaults.
  EXPECT_EQ(c->Int("gateway.max_header_bytes"), 16384);
}

TEST_F(ConfigTest, EnvironmentOverridesFile) {
  auto c = LoadYaml("gateway:\n  max_body_bytes: 4096\n",
                    {{"NEOSL_GATEWAY_MAX_BODY_BYTES", "2048"}, {"NEOSL_LOG_REQUESTS", "off"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->Int("gateway.max_body_bytes"), 2048);
  EXPECT_FALSE(c->Bool("log.requests"));
}

TEST_F(ConfigTest, FlagsOverrideEnvironment) {
  auto c = Config::Load(WriteYaml("gateway:\n  max_body_bytes: 4096\n"), {{"NEOSL_GATEWAY_MAX_BODY_BYTES", "2048"}},
                        {{"gateway.max_body_bytes", "1024"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->Int("gateway.max_body_bytes"), 1024);
}

TEST_F(ConfigTest, UnknownFlagIsRefused) {
  auto c = Config::Load(std::nullopt, {}, {{"gateway.max_body_byte", "1"}});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("gateway.max_body_byte"));
}

TEST_F(ConfigTest, UnknownKeyInFileIsRefusedByName) {
  auto c = LoadYaml("gateway:\n  max_body_byte: 10\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("gateway.max_body_byte"));
}

TEST_F(ConfigTest, ScalarWhereAMapBelongsIsRefused) {
  auto c = LoadYaml("gateway: 5\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("'gateway'"));
}

struct WrongType {
  const char* key;
  const char* yaml;   // the file that sets `key`
  const char* value;  // the same value, as an environment variable
};

class ConfigWrongTypeTest : public ConfigTest, public ::testing::WithParamInterface<WrongType> {};

TEST_P(ConfigWrongTypeTest, FromFileIsRefusedByName) {
  auto c = LoadYaml(GetParam().yaml);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr(GetParam().key));
}

TEST_P(ConfigWrongTypeTest, FromEnvironmentIsRefusedByName) {
  auto c = Config::Load(std::nullopt, {{Config::EnvName(GetParam().key), GetParam().value}});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr(GetParam().key));
}

INSTANTIATE_TEST_SUITE_P(
    Values, ConfigWrongTypeTest,
    ::testing::Values(WrongType{"gateway.max_body_bytes", "gateway:\n  max_body_bytes: lots\n", "lots"},
                      WrongType{"gateway.max_body_bytes", "gateway:\n  max_body_bytes: -1\n", "-1"},
                      WrongType{"gateway.threads", "gateway:\n  threads: 1.5\n", "1.5"},
                      WrongType{"log.requests", "log:\n  requests: maybe\n", "maybe"}));

TEST_F(ConfigTest, KeyWithoutValueIsRefused) {
  auto c = LoadYaml("gateway:\n  max_body_bytes:\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("gateway.max_body_bytes"));
}

TEST_F(ConfigTest, ListIsRefused) {
  auto c = LoadYaml("gateway:\n  max_body_bytes: [1, 2]\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("gateway.max_body_bytes"));
}

TEST_F(ConfigTest, TopLevelListIsRefused) {
  auto c = LoadYaml("- listen\n- data_dir\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ConfigTest, InvalidYamlNamesTheLine) {
  auto c = LoadYaml("listen: \"127.0.0.1:1\"\ngateway:\n  max_body_bytes: 1\n   bad: : x\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("line 4"));
  EXPECT_THAT(c.status().message(), HasSubstr("neosl.yaml"));

  auto unterminated = LoadYaml("gateway:\n  max_body_bytes: [1, 2\n");
  ASSERT_FALSE(unterminated.ok());
  EXPECT_EQ(unterminated.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(unterminated.status().message(), HasSubstr("line"));
}

TEST_F(ConfigTest, MissingFileIsNotFound) {
  auto c = Config::Load(dir_ + "/absent.yaml", {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(c.status().message(), HasSubstr("absent.yaml"));
}

TEST_F(ConfigTest, OpenMapEntryFromFileGetsTemplateDefaults) {
  auto c = LoadYaml("rate_limits:\n  per_caller:\n    k123:\n      requests_per_second: 5\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->Int("rate_limits.per_caller.k123.requests_per_second"), 5);
  ASSERT_TRUE(c->Has("rate_limits.per_caller.k123.burst"));
  EXPECT_EQ(c->Int("rate_limits.per_caller.k123.burst"), 0);
  EXPECT_THAT(c->Children("rate_limits.per_caller"), UnorderedElementsAre("default", "anonymous", "k123"));
}

TEST_F(ConfigTest, EnvironmentOverridesOpenMapEntryNamedByFile) {
  auto c = LoadYaml("rate_limits:\n  per_caller:\n    k123:\n      requests_per_second: 5\n",
                    {{"NEOSL_RATE_LIMITS_PER_CALLER_K123_BURST", "9"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->Int("rate_limits.per_caller.k123.burst"), 9);
  EXPECT_EQ(c->Int("rate_limits.per_caller.k123.requests_per_second"), 5);
  EXPECT_TRUE(c->UnusedEnvironment().empty());
}

TEST_F(ConfigTest, OpenMapFieldNotInTemplateIsRefused) {
  auto c = LoadYaml("rate_limits:\n  per_caller:\n    k1:\n      bogus: 1\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("rate_limits.per_caller.k1.bogus"));
}

TEST_F(ConfigTest, OpenMapEntryWithoutFieldIsRefused) {
  auto c = LoadYaml("rate_limits:\n  per_caller:\n    k1: 5\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ConfigTest, TemplateIsNeitherListedNorPrintedNorSettable) {
  auto c = Config::Load(std::nullopt, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_THAT(c->Children("rate_limits.per_caller"), UnorderedElementsAre("default", "anonymous"));
  EXPECT_TRUE(c->Children("rate_limits.per_method").empty());
  EXPECT_FALSE(c->Has("rate_limits.per_caller._template.burst"));
  EXPECT_THAT(c->ToJson(), Not(HasSubstr("_template")));
  EXPECT_THAT(c->ToJson(false), Not(HasSubstr("_template")));

  // A file may carry the _template entries (the defaults print them); they are ignored.
  auto from_file = LoadYaml("rate_limits:\n  per_caller:\n    _template:\n      burst: 1\n");
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  EXPECT_FALSE(from_file->Has("rate_limits.per_caller._template.burst"));
  // …but not fields the template does not have.
  auto bogus = LoadYaml("rate_limits:\n  per_caller:\n    _template:\n      bogus: 1\n");
  EXPECT_EQ(bogus.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ConfigTest, PrintedDefaultsLoadAsAFile) {
  auto c = LoadYaml(std::string(Config::DefaultsYaml()));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto d = Config::Load(std::nullopt, {});
  EXPECT_EQ(c->ToJson(false), d->ToJson(false));
}

TEST_F(ConfigTest, EnvName) {
  EXPECT_EQ(Config::EnvName("gateway.max_body_bytes"), "NEOSL_GATEWAY_MAX_BODY_BYTES");
  EXPECT_EQ(Config::EnvName("listen"), "NEOSL_LISTEN");
  EXPECT_EQ(Config::EnvName("rate_limits.per_caller.k-1.burst"), "NEOSL_RATE_LIMITS_PER_CALLER_K_1_BURST");
}

TEST_F(ConfigTest, IsSecretKey) {
  EXPECT_TRUE(Config::IsSecretKey("auth.key_hash_secret"));
  EXPECT_FALSE(Config::IsSecretKey("auth.key_hash_secret_file"));
  EXPECT_TRUE(Config::IsSecretKey("store.postgres.dsn"));
  EXPECT_TRUE(Config::IsSecretKey("chain.rpc_password"));
  EXPECT_TRUE(Config::IsSecretKey("chain.api_token"));
  EXPECT_FALSE(Config::IsSecretKey("gateway.max_body_bytes"));
  // The suffix is matched on the last path segment only.
  EXPECT_FALSE(Config::IsSecretKey("auth.key_hash_secret.path"));
}

TEST_F(ConfigTest, ToJsonIsNestedJsonWithTypedValues) {
  auto c = LoadYaml("gateway:\n  tls:\n    cert_file: \"/c \\\"quoted\\\".pem\"\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(c->ToJson(), ec);
  ASSERT_FALSE(ec) << ec.message() << "\n" << c->ToJson();
  const auto& obj = v.as_object();
  EXPECT_EQ(obj.at("gateway").at("tls").at("cert_file").as_string(), "/c \"quoted\".pem");
  EXPECT_EQ(obj.at("gateway").at("max_body_bytes").as_int64(), 1048576);
  EXPECT_EQ(obj.at("log").at("requests").as_bool(), true);
  EXPECT_EQ(obj.at("listen").as_string(), "127.0.0.1:8080");
  EXPECT_EQ(obj.at("rate_limits").at("per_caller").at("anonymous").at("burst").as_int64(), 40);
  EXPECT_EQ(obj.at("store").at("sqlite").at("read_connections").as_int64(), 4);
}

TEST_F(ConfigTest, ToJsonRedactsSecretsUnlessAsked) {
  const std::string secret = "s3cr3t-hmac-key-value";
  auto c = Config::Load(std::nullopt, {{"NEOSL_AUTH_KEY_HASH_SECRET", secret}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->String("auth.key_hash_secret"), secret);

  std::string redacted = c->ToJson();
  EXPECT_THAT(redacted, HasSubstr("<redacted>"));
  EXPECT_THAT(redacted, Not(HasSubstr(secret)));
  boost::system::error_code ec;
  auto v = boost::json::parse(redacted, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(v.at("auth").at("key_hash_secret").as_string(), "<redacted>");

  std::string plain = c->ToJson(false);
  EXPECT_THAT(plain, HasSubstr(secret));
  EXPECT_THAT(plain, Not(HasSubstr("<redacted>")));
}

TEST_F(ConfigTest, EmptySecretIsNotRedacted) {
  auto c = Config::Load(std::nullopt, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  // Nothing to hide, and "<redacted>" would wrongly suggest a secret is set.
  EXPECT_THAT(c->ToJson(), Not(HasSubstr("<redacted>")));
}

TEST_F(ConfigTest, UnusedEnvironmentListsOnlyUnmatchedNeoslVariables) {
  auto c = Config::Load(std::nullopt, {{"NEOSL_TYPO", "1"},
                                       {"NEOSL_CONFIG", "/etc/neosl.yaml"},
                                       {"NEOSL_LISTEN", "127.0.0.1:0"},
                                       {"HOME", "/root"},
                                       {"XNEOSL_OTHER", "1"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_THAT(c->UnusedEnvironment(), ::testing::ElementsAre("NEOSL_TYPO"));
  EXPECT_EQ(c->String("listen"), "127.0.0.1:0");
}

}  // namespace
}  // namespace neosl
