// `neosl audit verify` through the real binary (issue #7): exit 0 on an intact log, exit 1 with
// the reason on stderr when an entry was edited, removed or reordered.
#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/random.h"
#include "schema/migrations.h"
#include "services/secrets/audit_log.h"
#include "store/sqlite_store.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/test_store.h"
#include "support/test_store_open.h"

namespace neosl::testing {
namespace {

namespace json = boost::json;
using services::secrets::AuditAction;
using services::secrets::AuditLog;
using services::secrets::AuditRecord;
using ::testing::HasSubstr;

class KeySigner final : public services::secrets::AuditSigner {
 public:
  explicit KeySigner(uint64_t seed) : random_(seed), key_(crypto::PrivateKey::Generate(random_)) {}
  StatusOr<crypto::Signature> Sign(std::span<const uint8_t> message) override { return key_.Sign(message); }
  crypto::PublicKey public_key() override { return key_.public_key(); }

 private:
  DeterministicRandom random_;
  crypto::PrivateKey key_;
};

json::object ParseObject(const CommandResult& r) {
  boost::system::error_code ec;
  json::value v = json::parse(r.out, ec);
  EXPECT_FALSE(ec) << r.out << r.err;
  return v.is_object() ? v.as_object() : json::object();
}

class AuditCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::SqliteOptions options;
    options.path = db_path_;
    auto opened = ::neosl::testing::OpenTestStore(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(*opened);
    ASSERT_TRUE(store_->Migrate(schema::Migrations()).ok());
    AuditLog log(signer_, {.checkpoint_every = 4});
    for (int i = 0; i < 10; ++i) {
      for (const char* account : {"acc_alice", "acc_bob"}) {
        AuditRecord r;
        r.account = AccountId(account);
        r.at_ms = 1'700'000'000'000 + i;
        r.action = i == 0 ? AuditAction::kCreate : AuditAction::kRead;
        r.subject = "api-token";
        r.actor = "fn_worker";
        r.details = json::object{{"version", 1}};
        Status s = store::RunInTransaction(*store_, store::TxMode::kWrite,
                                           [&](store::Transaction& tx) { return log.Append(tx, r).status(); });
        ASSERT_TRUE(s.ok()) << s.ToString();
      }
    }
  }

  void Sql(const std::string& sql) {
    Status s = store::RunInTransaction(*store_, store::TxMode::kWrite,
                                       [&](store::Transaction& tx) { return tx.Exec(sql).status(); });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::string ReportKeyHex() { return HexEncode(signer_.public_key().Compressed()); }

  TempDir dir_;
  std::string db_path_ = dir_.File("neosl.db");
  std::unique_ptr<store::Store> store_;
  KeySigner signer_{11};
};

TEST_F(AuditCliTest, AnIntactDatabaseVerifies) {
  auto r = RunNeosl({"audit", "verify", "--data", dir_.path(), "--report-key", ReportKeyHex()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty());
  json::object out = ParseObject(r);
  EXPECT_EQ(out["ok"], true);
  const json::array& accounts = out["accounts"].as_array();
  ASSERT_EQ(accounts.size(), 2u);
  EXPECT_EQ(accounts[0].at("account").as_string(), "acc_alice");
  EXPECT_EQ(accounts[0].at("verification").at("entries_checked").as_int64(), 10);
  EXPECT_EQ(accounts[0].at("verification").at("last_checkpoint_seq").as_int64(), 8);
  EXPECT_EQ(accounts[1].at("account").as_string(), "acc_bob");

  if (!OnPostgres()) {  // the file itself, without a configuration
    auto by_file = RunNeosl({"audit", "verify", "--db", db_path_});
    EXPECT_EQ(by_file.exit_code, 0) << by_file.err;
    EXPECT_EQ(ParseObject(by_file)["ok"], true);
  }

  auto one = RunNeosl({"audit", "verify", "--data", dir_.path(), "--account", "acc_bob"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(ParseObject(one)["accounts"].as_array().size(), 1u);
}

TEST_F(AuditCliTest, AnEditedEntryFailsWithTheSeq) {
  Sql("UPDATE audit_log SET details = '{\"version\":2}' WHERE account_id = 'acc_bob' AND seq = 3");
  auto r = RunNeosl({"audit", "verify", "--data", dir_.path()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("acc_bob: hash mismatch at seq 3 (entry edited)"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("acc_alice")));
  json::object out = ParseObject(r);
  EXPECT_EQ(out["ok"], false);
  EXPECT_EQ(out["accounts"].as_array()[1].at("verification").at("first_bad_seq").as_int64(), 3);
}

TEST_F(AuditCliTest, RemovedTailAndForeignKeyAreCaught) {
  Sql("DELETE FROM audit_log WHERE account_id = 'acc_alice' AND seq >= 6");
  auto r = RunNeosl({"audit", "verify", "--data", dir_.path(), "--account", "acc_alice"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("checkpoint at seq 8: entry missing"));

  DeterministicRandom random(3);
  auto other = crypto::PrivateKey::Generate(random);
  auto wrong = RunNeosl({"audit", "verify", "--data", dir_.path(), "--account", "acc_bob", "--report-key",
                         HexEncode(other.public_key().Compressed())});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_THAT(wrong.err, HasSubstr("checkpoint at seq 4: checkpoint key is not the trusted report key"));
}

TEST_F(AuditCliTest, AnExportVerifiesAndAnEditedExportDoesNot) {
  const AccountId alice("acc_alice");
  auto entries = services::secrets::ListAuditEntries(*store_, alice, 0, 1000);
  auto checkpoints = services::secrets::ListAuditCheckpoints(*store_, alice);
  ASSERT_TRUE(entries.ok() && checkpoints.ok());
  auto verification = services::secrets::VerifyAuditLog(*store_, alice);
  ASSERT_TRUE(verification.ok());
  json::object doc = services::secrets::AuditExportToJson(alice, *entries, *checkpoints, *verification);
  const std::string file = dir_.File("export.json");
  WriteFile(file, json::serialize(doc));
  auto r = RunNeosl({"audit", "verify", "--file", file, "--report-key", ReportKeyHex()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ParseObject(r)["accounts"].as_array()[0].at("verification"), doc["verification"]);

  // Reorder two entries in the file.
  json::array& list = doc["entries"].as_array();
  std::swap(list[4], list[5]);
  WriteFile(file, json::serialize(doc));
  auto bad = RunNeosl({"audit", "verify", "--file", file});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("acc_alice: gap: seq 5 missing"));
}

TEST_F(AuditCliTest, BadInvocationsFailOnStderr) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"audit", "verify"},
        std::vector<std::string>{"audit", "verify", "--db", dir_.File("missing.db")},
        std::vector<std::string>{"audit", "verify", "--data", dir_.path(), "--db", db_path_},
        std::vector<std::string>{"audit", "verify", "--config", dir_.File("neosl.yaml")},
        std::vector<std::string>{"audit", "verify", "--file", dir_.File("missing.json")},
        std::vector<std::string>{"audit", "verify", "--data", dir_.path(), "--report-key", "02abcd"}}) {
    auto r = RunNeosl(args);
    EXPECT_NE(r.exit_code, 0) << args.back();
    EXPECT_FALSE(r.err.empty()) << args.back();
    EXPECT_TRUE(r.out.empty()) << args.back();
  }
}

}  // namespace
}  // namespace neosl::testing
