// `neosl secrets put|list|delete` through the real binary against a real `neosl serve` (issue
// #7): the value is encrypted to the attested enclave key, a failed attestation check stops the
// command before anything is sent, and the server's errors reach stderr.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/tls_cert.h"

namespace neosl::testing {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kValue[] = "s3cr3t-value-that-must-never-be-printed";

json::object ParseObject(const CommandResult& r) {
  boost::system::error_code ec;
  json::value v = json::parse(r.out, ec);
  EXPECT_FALSE(ec) << r.out << r.err;
  return v.is_object() ? v.as_object() : json::object();
}

// The contract says an integer; the mesh route prints int64 the protobuf JSON way, as a string.
// The CLI passes the server's JSON through, so either is accepted here.
int64_t Version(const json::value& v) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_string()) return std::stoll(std::string(v.as_string()));
  ADD_FAILURE() << "version is " << json::serialize(v);
  return -1;
}

class SecretsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ = ServerProcess::Start({}, &error);
    ASSERT_NE(server_, nullptr) << error;
    WriteFile(value_file_, kValue);
  }

  // Runs `neosl secrets <args> --url … --key <admin key>`.
  CommandResult Secrets(std::vector<std::string> args, bool with_key = true) {
    args.insert(args.begin(), "secrets");
    args.insert(args.end(), {"--url", "http://" + server_->address()});
    if (with_key) args.insert(args.end(), {"--key", server_->admin_key()});
    auto r = RunNeosl(args);
    EXPECT_THAT(r.out + r.err, Not(HasSubstr(kValue)));
    return r;
  }

  json::array List() {
    auto r = Secrets({"list"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    json::object o = ParseObject(r);
    return o.contains("secrets") ? o["secrets"].as_array() : json::array();
  }

  TempDir dir_;
  std::string value_file_ = dir_.File("value.txt");
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(SecretsCliTest, PutEncryptedListRotateDelete) {
  auto put = Secrets({"put", "api-token", "--value-file", value_file_, "--allow-simulation"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  json::object created = ParseObject(put);
  EXPECT_EQ(created["name"], "api-token");
  EXPECT_EQ(Version(created["version"]), 1);

  json::array list = List();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].at("name"), "api-token");
  EXPECT_EQ(Version(list[0].at("version")), 1);

  auto again = Secrets({"put", "api-token", "--value-file", value_file_, "--allow-simulation"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Version(ParseObject(again)["version"]), 2);
  list = List();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(Version(list[0].at("version")), 2);

  auto del = Secrets({"delete", "api-token"});
  ASSERT_EQ(del.exit_code, 0) << del.err;
  EXPECT_EQ(ParseObject(del)["deleted"], true);
  EXPECT_TRUE(List().empty());

  auto gone = Secrets({"delete", "api-token"});
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_THAT(gone.err, HasSubstr("NOT_FOUND"));
  // The host log never sees the value either.
  EXPECT_THAT(server_->Logs(), Not(HasSubstr(kValue)));
}

TEST_F(SecretsCliTest, AWrongMeasurementFailsBeforeAnyPut) {
  auto r = Secrets(
      {"put", "api-token", "--value-file", value_file_, "--allow-simulation", "--measurement", std::string(64, 'a')});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("attestation: measurement: "));
  EXPECT_TRUE(r.out.empty());
  EXPECT_TRUE(List().empty());

  // Without --allow-simulation the sim enclave is refused.
  auto sim = Secrets({"put", "api-token", "--value-file", value_file_});
  EXPECT_EQ(sim.exit_code, 1);
  EXPECT_THAT(sim.err, HasSubstr("simulation: "));
  EXPECT_TRUE(List().empty());
}

TEST_F(SecretsCliTest, PlaintextWarnsAndStores) {
  WriteFile(value_file_, std::string("quote \" backslash \\ newline\n tab\t ") + kValue);
  // The key from the environment, the URL from the environment.
  auto put = RunNeosl({"secrets", "put", "db-password", "--value-file", value_file_, "--plaintext"},
                      {{"NEOSL_API_KEY", server_->admin_key()}, {"NEOSL_URL", "http://" + server_->address()}});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_THAT(put.err, HasSubstr("warning: --plaintext"));
  EXPECT_THAT(put.out + put.err, Not(HasSubstr(kValue)));
  EXPECT_EQ(ParseObject(put)["name"], "db-password");
}

TEST_F(SecretsCliTest, ServerErrorsReachStderr) {
  auto bad = Secrets({"put", std::string(65, 'x'), "--value-file", value_file_, "--allow-simulation"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_TRUE(bad.out.empty());

  auto odd = Secrets({"put", "bad name!", "--value-file", value_file_, "--plaintext"});
  EXPECT_NE(odd.exit_code, 0);
  EXPECT_THAT(odd.err, HasSubstr("INVALID_ARGUMENT"));

  auto no_key = Secrets({"list"}, /*with_key=*/false);
  EXPECT_NE(no_key.exit_code, 0);
  EXPECT_THAT(no_key.err, HasSubstr("UNAUTHENTICATED"));
  EXPECT_TRUE(no_key.out.empty());

  auto key_file = dir_.File("key");
  WriteFile(key_file, server_->admin_key() + "\n");
  auto from_file = RunNeosl({"secrets", "list", "--url", "http://" + server_->address(), "--key-file", key_file});
  EXPECT_EQ(from_file.exit_code, 0) << from_file.err;
}

TEST_F(SecretsCliTest, BadInvocationsFailOnStderr) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"put", "x"},
        std::vector<std::string>{"put", "x", "--value-file", dir_.File("missing")},
        std::vector<std::string>{"put", "x", "--value-file", value_file_, "--plaintext", "--allow-simulation"},
        std::vector<std::string>{"put", "x", "--value-file", value_file_, "--policy", dir_.File("missing.yaml")}}) {
    auto r = Secrets(args);
    EXPECT_NE(r.exit_code, 0) << args.back();
    EXPECT_FALSE(r.err.empty()) << args.back();
    EXPECT_TRUE(r.out.empty()) << args.back();
  }
  auto unreachable = RunNeosl({"secrets", "list", "--url", "http://127.0.0.1:1", "--key", "k"});
  EXPECT_NE(unreachable.exit_code, 0);
  EXPECT_THAT(unreachable.err, HasSubstr("UNAVAILABLE"));
  auto big = dir_.File("big");
  WriteFile(big, std::string(64 * 1024 + 1, 'v'));
  auto too_big = Secrets({"put", "x", "--value-file", big, "--plaintext"});
  EXPECT_NE(too_big.exit_code, 0);
  EXPECT_THAT(too_big.err, HasSubstr("64 KiB"));
}

TEST(SecretsCliTlsTest, ListsOverHttpsWithACaFile) {
  TempDir certs;
  ASSERT_TRUE(WriteSelfSignedCert(certs.path()));
  std::string error;
  auto server = ServerProcess::Start({.env = {{"NEOSL_GATEWAY_TLS_CERT_FILE", certs.File("cert.pem")},
                                              {"NEOSL_GATEWAY_TLS_KEY_FILE", certs.File("key.pem")}}},
                                     &error);
  ASSERT_NE(server, nullptr) << error;
  const std::string url = "https://" + server->address();
  auto ok =
      RunNeosl({"secrets", "list", "--url", url, "--key", server->admin_key(), "--ca-file", certs.File("cert.pem")});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  auto untrusted = RunNeosl({"secrets", "list", "--url", url, "--key", server->admin_key()});
  EXPECT_NE(untrusted.exit_code, 0);
  EXPECT_THAT(untrusted.err, HasSubstr("UNAVAILABLE"));
}

}  // namespace
}  // namespace neosl::testing
