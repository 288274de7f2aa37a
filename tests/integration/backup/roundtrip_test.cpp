// `neosl backup` while `neosl serve` runs and takes writes, then `neosl restore` into a fresh
// data directory and a server started on it: the same API key works, the same account has the
// same balance and ledger (credited from a real devchain deposit), its secret still opens in a
// function (the sealed enclave state came back: same report key, same deposit address), the
// writes made during the backup are a consistent prefix, and both audits pass.
#include <atomic>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crypto/hash.h"
#include "integration/backup/backup_fixture.h"
#include "integration/chain_fixture.h"
#include "neo/account.h"
#include "support/test_store.h"

namespace neosl::testing {
namespace {

namespace json = boost::json;
using backup_test::Mode;
using backup_test::ParseJson;
using backup_test::WaitUntil;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kGas = 100'000'000;
constexpr char kSecretValue[] = "sk-backup-7f3a9c";

const std::vector<std::pair<std::string, std::string>>& ServerEnv() {
  static const std::vector<std::pair<std::string, std::string>> env = {
      {"NEOSL_CHAIN_DEVCHAIN_BLOCK_MS", "100"},  // deposits confirm without further transactions
      {"NEOSL_GASBANK_CONFIRMATIONS", "1"},
      {"NEOSL_FUNCTIONS_WORKERS", "1"},
      {"NEOSL_SECRETS_MAX_PER_ACCOUNT", "100000"},
      {"NEOSL_RATE_LIMITS_PER_CALLER_DEFAULT_REQUESTS_PER_SECOND", "0"},  // the load below is not a test of limits
  };
  return env;
}

std::string Sha256Hex(const std::string& bytes) {
  auto d = crypto::Sha256(crypto::AsBytes(bytes));
  std::string hex;
  for (uint8_t b : d) hex += "0123456789abcdef"[b >> 4], hex += "0123456789abcdef"[b & 15];
  return hex;
}

class BackupRoundTripTest : public ChainServerTest {
 protected:
  HttpResult As(HttpClient& client, const std::string& method, const std::string& path, const std::string& body = "") {
    return client.Request(method, path, body,
                          {{"authorization", "Bearer " + token_}, {"content-type", "application/json"}});
  }
  static int64_t Int(const json::value& v, const char* field) {
    const json::value& f = v.at(field);
    return f.is_string() ? std::stoll(std::string(f.as_string())) : f.to_number<int64_t>();
  }
  // The invocation's result: whether the function read the secret it was given.
  json::value Invoke(HttpClient& client, const std::string& id) {
    auto r = As(client, "POST", "/v1/functions/" + id + "/invoke", R"({"args":null})");
    EXPECT_EQ(r.status, 200) << r.body;
    json::value v = ParseJson(r.body);
    EXPECT_EQ(v.at("status").as_string(), "succeeded") << r.body;
    return v.at("result");
  }

  std::string token_;
};

// PUT /v1/secrets/LOAD_<n> for n = 0, 1, 2 … one after another until stopped: n moves on only
// once n was answered 200, so any consistent snapshot holds exactly LOAD_0 … LOAD_<k-1>.
class SecretWriter {
 public:
  SecretWriter(const std::string& address, std::string token) : client_(address), token_(std::move(token)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~SecretWriter() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int completed() const { return completed_.load(); }
  int attempted() const { return attempted_.load(); }
  std::string error() const { return error_; }

 private:
  void Run() {
    int n = 0;
    while (!stop_ && n < 20000) {
      attempted_ = n + 1;
      auto r =
          client_.Request("PUT", "/v1/secrets/LOAD_" + std::to_string(n), R"({"value":"v)" + std::to_string(n) + "\"}",
                          {{"authorization", "Bearer " + token_}, {"content-type", "application/json"}});
      if (r.status == 200) {
        completed_ = ++n;
      } else if (error_.empty()) {
        error_ = std::to_string(r.status) + " " + r.body + r.error;
      }
    }
  }
  HttpClient client_;
  std::string token_;
  std::atomic<bool> stop_{false};
  std::atomic<int> completed_{0}, attempted_{0};
  std::string error_;
  std::thread thread_;
};

TEST_F(BackupRoundTripTest, RestoredIntoAFreshDirectoryEverythingIsThere) {
  StartChainServer(ServerEnv());
  ASSERT_FALSE(HasFatalFailure());
  const std::string account = CreateAccount("dapp");
  token_ = CreateKey(account, R"(["owner"])").second;
  const std::string report_key = Key("report");

  // A real deposit from the devchain, credited after its confirmation.
  json::value view = ParseJson(As(*client_, "GET", "/v1/gasbank/account").body);
  const std::string deposit(view.at("deposit_address").as_string());
  auto to = neo::AddressToScriptHash(deposit);
  ASSERT_TRUE(to.ok());
  const std::string tx = GasTransfer(*sender_, signer_->account(), *to, 10 * kGas);
  ASSERT_FALSE(tx.empty());
  ASSERT_TRUE(WaitUntil([&] {
    return Int(ParseJson(As(*client_, "GET", "/v1/gasbank/account").body), "available") == 10 * kGas;
  })) << server_->Logs();

  // A secret and a function that reads it; one invocation (charged) before the backup.
  ASSERT_EQ(As(*client_, "PUT", "/v1/secrets/API_KEY", std::string(R"({"value":")") + kSecretValue + "\"}").status,
            200);
  // It answers the secret's SHA-256, so that the value itself is nowhere in the store.
  json::object fn{{"name", "reads-secret"},
                  {"source",
                   "export default async function (request, context) {\n"
                   "  const key = context.secrets.get('API_KEY');\n"
                   "  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key)));\n"
                   "  return { sha256: Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('') };\n"
                   "}"},
                  {"secrets", json::array{"API_KEY"}}};
  auto created = As(*client_, "POST", "/v1/functions", json::serialize(fn));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string fn_id(ParseJson(created.body).at("id").as_string());
  const std::string secret_sha256 = Sha256Hex(kSecretValue);
  EXPECT_EQ(Invoke(*client_, fn_id).at("sha256").as_string(), secret_sha256);
  const std::string account_before = As(*client_, "GET", "/v1/gasbank/account").body;
  const std::string ledger_before = As(*client_, "GET", "/v1/gasbank/ledger").body;

  // The backup, while secrets are being written.
  TempDir backups;
  const std::string archive = backups.File("neosl.backup");
  SecretWriter writer(server_->address(), token_);
  ASSERT_TRUE(WaitUntil([&] { return writer.completed() >= 3; })) << writer.error();
  const int completed_at_start = writer.completed();
  CommandResult made = backup_test::Backup(server_->data_dir(), archive, {"--with-devchain"});
  const int completed_at_end = writer.completed();
  const int attempted_at_end = writer.attempted();
  writer.Stop();
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_GT(completed_at_end, completed_at_start) << "no write went on during the backup";
  EXPECT_TRUE(writer.error().empty()) << writer.error();

  json::value summary = ParseJson(made.out);
  EXPECT_EQ(summary.at("sha256").as_string(), Sha256Hex(ReadFile(archive)));
  EXPECT_EQ(summary.at("store_driver").as_string(), OnPostgres() ? "postgres" : "sqlite");
  EXPECT_TRUE(summary.at("with_devchain").as_bool());
  std::set<std::string> names;
  for (const auto& m : summary.at("members").as_array()) names.insert(std::string(m.at("name").as_string()));
  for (const char* want : {OnPostgres() ? "store.pgdump" : "neosl.db", "platform.secret", "admin.key",
                           "key-hash.secret", "enclave-signer.key", "enclave/keys.sealed", "devchain/chain.db"}) {
    EXPECT_EQ(names.count(want), 1u) << want << " is not in " << made.out;
  }
  EXPECT_EQ(names.count("listen.addr"), 0u);
  EXPECT_EQ(Mode(archive), 0600);
  EXPECT_THAT(made.out + made.err, Not(HasSubstr(admin_)));
  EXPECT_THAT(made.out + made.err, Not(HasSubstr(token_)));
  // Nothing of the secrets' values and no scratch files beside the archive.
  EXPECT_THAT(ReadFile(archive), Not(HasSubstr(kSecretValue)));  // sealed, never plaintext
  EXPECT_EQ(backup_test::Tree(backups.path()), std::vector<std::string>{"neosl.backup"});

  // Nothing changed the account between the two readings around the backup.
  EXPECT_EQ(As(*client_, "GET", "/v1/gasbank/account").body, account_before);
  EXPECT_EQ(As(*client_, "GET", "/v1/gasbank/ledger").body, ledger_before);
  std::map<std::string, int> modes;
  for (const char* f :
       {"platform.secret", "admin.key", "key-hash.secret", "enclave-signer.key", "enclave/keys.sealed"}) {
    modes[f] = Mode(server_->data_dir() + "/" + f);
  }
  ASSERT_EQ(server_->Stop(), 0);

  // Restore into a directory that does not exist yet, and serve from it.
  TempDir root;
  const std::string restored_dir = root.File("restored");
  CommandResult restored = backup_test::Restore(archive, restored_dir);
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(ParseJson(restored.out).at("files").as_int64(), summary.at("files").as_int64());
  EXPECT_THAT(restored.out + restored.err, Not(HasSubstr(admin_)));
  for (const auto& [file, mode] : modes) EXPECT_EQ(Mode(restored_dir + "/" + file), mode) << file;
  EXPECT_EQ(Mode(restored_dir + "/platform.secret"), 0600);
  EXPECT_EQ(Mode(restored_dir + "/neosl.db-wal"), -1);
  for (const std::string& entry : backup_test::Tree(restored_dir)) {
    EXPECT_EQ(entry.find(".neosl-restore"), std::string::npos) << "staging left behind: " << entry;
  }

  std::string error;
  auto again = ServerProcess::Start({.env = ServerEnv(), .data_dir = restored_dir}, &error);
  ASSERT_NE(again, nullptr) << error;
  HttpClient client(again->address());
  EXPECT_EQ(again->admin_key(), admin_);

  // The same key, the same books, the same enclave.
  auto account_after = As(client, "GET", "/v1/gasbank/account");
  ASSERT_EQ(account_after.status, 200) << account_after.body;
  EXPECT_EQ(account_after.body, account_before);
  EXPECT_EQ(As(client, "GET", "/v1/gasbank/ledger").body, ledger_before);
  EXPECT_THAT(ledger_before, HasSubstr(tx));
  auto attestation = client.Get("/v1/attestation?nonce=00112233445566778899", admin_);
  EXPECT_EQ(std::string(ParseJson(attestation.body).at("public_keys").at("report").as_string()), report_key);
  EXPECT_EQ(Invoke(client, fn_id).at("sha256").as_string(), secret_sha256) << again->Logs();

  // The writes made during the backup: a prefix LOAD_0 … LOAD_<k-1>, and k within what had
  // completed when the backup started and what had been attempted when it ended.
  json::value listed = ParseJson(As(client, "GET", "/v1/secrets").body);
  std::set<std::string> secrets;
  for (const auto& s : listed.at("secrets").as_array()) secrets.insert(std::string(s.at("name").as_string()));
  EXPECT_EQ(secrets.count("API_KEY"), 1u);
  const int k = int(secrets.size()) - 1;
  EXPECT_GE(k, completed_at_start);
  EXPECT_LE(k, attempted_at_end);
  for (int n = 0; n < k; ++n) EXPECT_EQ(secrets.count("LOAD_" + std::to_string(n)), 1u) << n;

  // Both audits: the gas bank against the restored devchain and on its own, the secrets log.
  CommandResult bank = RunNeosl({"gasbank", "audit", "--data", restored_dir});
  EXPECT_EQ(bank.exit_code, 0) << bank.out << bank.err;
  EXPECT_TRUE(ParseJson(bank.out).at("ok").as_bool());
  CommandResult store_only = RunNeosl({"gasbank", "audit", "--data", restored_dir, "--no-chain"});
  EXPECT_EQ(store_only.exit_code, 0) << store_only.out << store_only.err;
  CommandResult log = RunNeosl({"audit", "verify", "--data", restored_dir});
  EXPECT_EQ(log.exit_code, 0) << log.out << log.err;
  EXPECT_EQ(again->Stop(), 0);
}

}  // namespace
}  // namespace neosl::testing
