// `neosl fn verify` through the real binary, offline, on executions built and signed here the way
// the enclave signs them (runtime::ResultSigningMessage with a P-256 key this test generates):
// a good one verifies; any field changed after signing is named and refused.
#include <functional>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/random.h"
#include "crypto/hash.h"
#include "crypto/p256.h"
#include "runtime/runner.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace neosl::testing {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

constexpr char kFunctionId[] = "fn_abcdefghijklmnopqrst";
constexpr char kSource[] = "export default async function (request) { return {sum: request.args.a + 1.5}; }\n";

std::array<uint8_t, 32> Sha(std::string_view s) {
  return crypto::Sha256({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}

class FunctionVerifyCliTest : public ::testing::Test {
 protected:
  // An execution as GET /v1/executions/{id} shows it, signed by `key_`.
  json::object Execution(bool succeeded = true) {
    const std::string args_json = "{\"a\": 1}";
    const std::string result_json = "{\"sum\":2.5}";
    const std::string error_json = "{\"code\":\"UNKNOWN\",\"message\":\"Error: boom\"}";
    const std::string& signed_text = succeeded ? result_json : error_json;
    auto message = runtime::ResultSigningMessage(kFunctionId, 3, Sha(kSource), Sha(args_json), Sha(signed_text));
    json::object e{{"id", "ex_abcdefghijklmnopqrst"},
                   {"function_id", kFunctionId},
                   {"version", 3},
                   {"trigger", "api"},
                   {"status", succeeded ? "succeeded" : "failed"},
                   {"result_json", succeeded ? result_json : ""},
                   {"error_json", succeeded ? "" : error_json},
                   {"args_json", args_json},
                   {"source_hash", HexEncode(Sha(kSource))},
                   {"args_hash", HexEncode(Sha(args_json))},
                   {"result_hash", HexEncode(Sha(signed_text))},
                   {"enclave_signature", HexEncode(key_.Sign(message))},
                   {"signing_key", HexEncode(key_.public_key().Compressed())},
                   {"args", json::parse(args_json)},
                   {"result", succeeded ? json::parse(result_json) : json::value(nullptr)}};
    if (!succeeded) e["error"] = json::object{{"code", "UNKNOWN"}, {"message", "Error: boom"}, {"line", 1}};
    return e;
  }

  CommandResult Verify(const json::object& execution, std::vector<std::string> extra = {}) {
    WriteFile(file_, json::serialize(execution));
    std::vector<std::string> args = {"fn", "verify", "--execution-file", file_};
    if (extra.empty()) extra = {"--report-key", HexEncode(key_.public_key().Compressed())};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunNeosl(args);
  }

  // Changes the execution with `edit`; verification must fail naming `what`.
  void ExpectRefused(const std::function<void(json::object&)>& edit, const std::string& what, bool succeeded = true) {
    json::object e = Execution(succeeded);
    edit(e);
    auto r = Verify(e);
    EXPECT_EQ(r.exit_code, 1) << what << ": " << r.out;
    EXPECT_THAT(r.err, HasSubstr("neosl fn verify: " + what)) << r.err;
    EXPECT_EQ(r.out, "") << what;
  }

  TempDir dir_;
  std::string file_ = dir_.File("execution.json");
  crypto::PrivateKey key_ = crypto::PrivateKey::Generate(SecureRandom::Instance());
};

TEST_F(FunctionVerifyCliTest, AGoodExecutionVerifies) {
  auto r = Verify(Execution());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  boost::system::error_code ec;
  json::value out = json::parse(r.out, ec);
  ASSERT_FALSE(ec) << r.out;
  EXPECT_EQ(out.at("verified"), true);
  EXPECT_EQ(out.at("function_id"), kFunctionId);
  EXPECT_EQ(out.at("version"), 3);
  EXPECT_EQ(out.at("key_from"), "--report-key");
  EXPECT_EQ(out.at("source_hash").as_string(), HexEncode(Sha(kSource)));

  // The source it ran, too.
  WriteFile(dir_.File("f.js"), kSource);
  r = Verify(Execution(),
             {"--report-key", HexEncode(key_.public_key().Compressed()), "--source-file", dir_.File("f.js")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  WriteFile(dir_.File("other.js"), std::string(kSource) + " ");
  r = Verify(Execution(),
             {"--report-key", HexEncode(key_.public_key().Compressed()), "--source-file", dir_.File("other.js")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("source_hash: SHA-256 of"));

  // A failed execution's error is signed just the same.
  r = Verify(Execution(false));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // Versions may come as strings (protobuf's JSON for 64-bit integers); the same number verifies.
  json::object as_string = Execution();
  as_string["version"] = "3";
  EXPECT_EQ(Verify(as_string).exit_code, 0);
}

TEST_F(FunctionVerifyCliTest, TamperedFieldsAreNamed) {
  ExpectRefused([](json::object& e) { e["result_json"] = "{\"sum\":3.5}"; }, "result_hash");
  ExpectRefused([](json::object& e) { e["args_json"] = "{\"a\": 2}"; }, "args_hash");
  ExpectRefused([](json::object& e) { e["result"] = json::object{{"sum", 99}}; }, "result: does not match");
  ExpectRefused([](json::object& e) { e["args"] = json::object{{"a", 2}}; }, "args: does not match");
  ExpectRefused([](json::object& e) { e["version"] = 2; }, "enclave_signature");
  ExpectRefused([](json::object& e) { e["function_id"] = "fn_zzzzzzzzzzzzzzzzzzzz"; }, "enclave_signature");
  ExpectRefused([](json::object& e) { e["source_hash"] = HexEncode(Sha("other code")); }, "enclave_signature");
  ExpectRefused(
      [](json::object& e) {
        std::string sig(e["enclave_signature"].as_string());
        sig[10] = sig[10] == '0' ? '1' : '0';
        e["enclave_signature"] = sig;
      },
      "enclave_signature");
  // A result swapped in with its hash recomputed still needs the enclave's signature.
  ExpectRefused(
      [](json::object& e) {
        e["result_json"] = "{\"sum\":1000}";
        e["result"] = json::object{{"sum", 1000}};
        e["result_hash"] = HexEncode(Sha("{\"sum\":1000}"));
      },
      "enclave_signature");
  // A failure presented as a success, and the other way round.
  ExpectRefused([](json::object& e) { e["status"] = "failed"; }, "result_hash");
  ExpectRefused([](json::object& e) { e["status"] = "succeeded"; }, "result_hash", /*succeeded=*/false);
  ExpectRefused([](json::object& e) { e["error"].as_object()["message"] = "all fine"; }, "error.message",
                /*succeeded=*/false);
  ExpectRefused([](json::object& e) { e["status"] = "maybe"; }, "status");
  ExpectRefused([](json::object& e) { e.erase("args_json"); }, "args_json: missing");
  // Signed by someone else: named by the key the execution claims.
  ExpectRefused(
      [](json::object& e) {
        e["signing_key"] = HexEncode(crypto::PrivateKey::Generate(SecureRandom::Instance()).public_key().Compressed());
      },
      "signing_key");
}

TEST_F(FunctionVerifyCliTest, TheTrustedKeyDecides) {
  // The right signature under another trusted key fails, whatever the execution claims.
  auto other = crypto::PrivateKey::Generate(SecureRandom::Instance());
  auto r = Verify(Execution(), {"--report-key", HexEncode(other.public_key().Compressed())});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("signing_key"));
  json::object unnamed = Execution();
  unnamed.erase("signing_key");
  r = Verify(unnamed, {"--report-key", HexEncode(other.public_key().Compressed())});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("enclave_signature: does not verify"));
  EXPECT_EQ(Verify(unnamed).exit_code, 0);

  r = Verify(Execution(), {"--report-key", "zz"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--report-key"));
  // Without a source hash or a key, it needs a server; none answers here.
  json::object no_hash = Execution();
  no_hash.erase("source_hash");
  r = Verify(no_hash, {"--report-key", HexEncode(key_.public_key().Compressed()), "--url", "http://127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("source_hash"));
  r = Verify(Execution(), {"--allow-simulation", "--url", "http://127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("attestation"));
  r = RunNeosl({"fn", "verify", "--report-key", HexEncode(key_.public_key().Compressed())});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--execution-file"));
}

TEST_F(FunctionVerifyCliTest, TheKeyComesFromVerifiedAttestation) {
  std::string error;
  ServerOptions no_runtime;
  no_runtime.env = {{"NEOSL_FUNCTIONS_ENABLED", "false"}};
  auto server = ServerProcess::Start(no_runtime, &error);
  ASSERT_NE(server, nullptr) << error;
  // The server's enclave did not sign this execution: the attested key is not the one it names.
  auto r = Verify(Execution(), {"--allow-simulation", "--url", "http://" + server->address()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("signing_key: the execution names"));
  // Simulated evidence is refused unless allowed.
  r = Verify(Execution(), {"--url", "http://" + server->address()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("attestation: simulation"));
  // By id: the server answers for itself (this one runs no functions: 503).
  r = RunNeosl({"fn", "verify", "--execution-id", "ex_abcdefghijklmnopqrst", "--allow-simulation", "--url",
                "http://" + server->address(), "--key", server->admin_key()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("fetching the execution: functions runtime not running"));
}

}  // namespace
}  // namespace neosl::testing
