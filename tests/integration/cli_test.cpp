// The binary's command line: help, config printing, TLS serving.
#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/fixture.h"
#include "support/tls_cert.h"

namespace neosl::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(CliTest, EverySubcommandAnswersHelp) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--help"},
                                                                {"serve", "--help"},
                                                                {"config", "--help"},
                                                                {"config", "print", "--help"},
                                                                {"version", "--help"}}) {
    auto r = RunNeosl(args);
    EXPECT_EQ(r.exit_code, 0) << args[0];
    EXPECT_THAT(r.out, HasSubstr("Usage")) << args[0];
  }
}

TEST(CliTest, UnknownSubcommandFailsOnStderr) {
  auto r = RunNeosl({"frobnicate"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(r.err.empty());
}

TEST(CliTest, VersionIsJson) {
  auto r = RunNeosl({"version"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_TRUE(boost::json::parse(r.out).at("version").is_string());
}

TEST(CliTest, ConfigPrintShowsEffectiveValuesWithSecretsRedacted) {
  const std::string secret = "a-very-secret-value-that-is-long-enough-1234";
  auto r = RunNeosl({"config", "print", "--listen", "127.0.0.1:9999"},
                    {{"NEOSL_AUTH_KEY_HASH_SECRET", secret}, {"NEOSL_GATEWAY_MAX_BODY_BYTES", "4096"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto v = boost::json::parse(r.out);
  EXPECT_EQ(v.at("listen").as_string(), "127.0.0.1:9999");
  EXPECT_EQ(v.at("gateway").at("max_body_bytes").as_int64(), 4096);
  EXPECT_EQ(v.at("auth").at("key_hash_secret").as_string(), "<redacted>");
  EXPECT_THAT(r.out, Not(HasSubstr(secret)));
}

TEST(CliTest, ConfigPrintRejectsABadFile) {
  TempDir dir;
  WriteFile(dir.File("c.yaml"), "gateway:\n  threads: many\n");
  auto r = RunNeosl({"config", "print", "--config", dir.File("c.yaml")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("gateway.threads"));
  EXPECT_TRUE(r.out.empty());
}

TEST(CliTest, ConfigDefaultsRoundTripThroughConfigPrint) {
  TempDir dir;
  auto d = RunNeosl({"config", "defaults"});
  ASSERT_EQ(d.exit_code, 0);
  WriteFile(dir.File("defaults.yaml"), d.out);
  auto a = RunNeosl({"config", "print", "--config", dir.File("defaults.yaml")});
  auto b = RunNeosl({"config", "print"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
}

class TlsTest : public ServerTest {};

TEST_F(TlsTest, ServesHttpsWithTheConfiguredCertificate) {
  TempDir certs;
  ASSERT_TRUE(WriteSelfSignedCert(certs.path()));
  std::string error;
  auto server = ServerProcess::Start({.env = {{"NEOSL_GATEWAY_TLS_CERT_FILE", certs.File("cert.pem")},
                                              {"NEOSL_GATEWAY_TLS_KEY_FILE", certs.File("key.pem")}}},
                                     &error);
  ASSERT_NE(server, nullptr) << error;
  HttpClient https(server->address(), /*tls=*/true, certs.File("cert.pem"));
  auto me = https.Get("/v1/accounts/me", server->admin_key());
  ASSERT_EQ(me.status, 200) << me.error << me.body;
  EXPECT_EQ(https.Get("/v1/health").status, 200);
  EXPECT_EQ(https.connections_opened(), 1);
  // Plain HTTP on the TLS port gets no HTTP answer.
  HttpClient plain(server->address());
  EXPECT_EQ(plain.Get("/v1/health").status, 0);
  EXPECT_NE(server->Logs().find("\"tls\":true"), std::string::npos);
}

TEST_F(TlsTest, HalfConfiguredTlsRefusesToStart) {
  TempDir certs;
  ASSERT_TRUE(WriteSelfSignedCert(certs.path()));
  std::string error;
  auto server = ServerProcess::Start({.env = {{"NEOSL_GATEWAY_TLS_CERT_FILE", certs.File("cert.pem")}}}, &error);
  EXPECT_EQ(server, nullptr);
  EXPECT_THAT(error, HasSubstr("key_file"));
}

}  // namespace
}  // namespace neosl::testing
