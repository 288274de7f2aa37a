// What `neosl backup` and `neosl restore` refuse, and that a refusal writes nothing: a flipped
// byte, a truncated archive, a non-empty target without --force, a target whose database a
// running server holds open, a schema newer than this binary's, a backup inside the data
// directory. Also: the archive is 0600 and no secret reaches the output.
#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "apps/neosl/backup_archive.h"
#include "integration/backup/backup_fixture.h"
#include "integration/fixture.h"
#include "schema/migrations.h"

namespace neosl::testing {
namespace {

using backup_test::Backup;
using backup_test::Mode;
using backup_test::ParseJson;
using backup_test::Restore;
using backup_test::Tree;
using ::testing::HasSubstr;
using ::testing::Not;

class BackupRefusalsTest : public ServerTest {
 protected:
  void SetUp() override {
    StartServer();
    ASSERT_FALSE(HasFatalFailure());
    archive_ = backups_.File("b.backup");
    CommandResult made = Backup(server_->data_dir(), archive_);
    ASSERT_EQ(made.exit_code, 0) << made.err;
    backup_out_ = made.out + made.err;
    good_ = ReadFile(archive_);
    ASSERT_GT(good_.size(), 2048u);
  }

  // Restoring `bytes` into a new directory must fail with exit 1, name `why`, and write nothing.
  void ExpectRefusedAndNothingWritten(const std::string& bytes, const std::string& why) {
    const std::string file = backups_.File("bad.backup");
    WriteFile(file, bytes);
    const std::string target = root_.File("target");
    CommandResult r = Restore(file, target);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr(why));
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(Mode(target), -1) << "the target was created";
    // An existing empty target stays empty.
    ASSERT_EQ(::mkdir(target.c_str(), 0700), 0);
    r = Restore(file, target);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_TRUE(Tree(target).empty()) << "something was written into the target";
    ::rmdir(target.c_str());
  }

  std::string WriteConfig(const std::string& yaml) {
    std::string path = root_.File("config.yaml");
    WriteFile(path, yaml);
    return path;
  }

  TempDir backups_, root_;
  std::string archive_, good_, backup_out_;
};

TEST_F(BackupRefusalsTest, TheArchiveIsPrivateAndTheOutputHoldsNoSecret) {
  EXPECT_EQ(Mode(archive_), 0600);
  EXPECT_THAT(backup_out_, Not(HasSubstr(admin_)));
  const std::string key_hash_secret = ReadFile(server_->data_dir() + "/key-hash.secret");
  ASSERT_FALSE(key_hash_secret.empty());
  EXPECT_THAT(backup_out_, Not(HasSubstr(key_hash_secret)));
  // The admin key is in the archive (it is restored), so the archive itself is the secret.
  EXPECT_THAT(good_, HasSubstr(admin_));
  auto summary = ParseJson(backup_out_.substr(0, backup_out_.find('\n')));
  EXPECT_EQ(summary.at("schema_version").as_int64(), int64_t(schema::Migrations().size()));
  EXPECT_FALSE(summary.at("with_devchain").as_bool());
  EXPECT_THAT(backup_out_, HasSubstr("--with-devchain"));  // said why the devchain is not in it
}

TEST_F(BackupRefusalsTest, AFlippedByteIsRefused) {
  // In the database, in the manifest near the end, and in the first tar header.
  for (size_t at : {good_.size() / 3, good_.size() - 2048 - 100, size_t(20)}) {
    std::string bad = good_;
    bad[at] = char(bad[at] ^ 0x01);
    ExpectRefusedAndNothingWritten(bad, "corrupt");
  }
}

TEST_F(BackupRefusalsTest, ATruncatedArchiveIsRefused) {
  ExpectRefusedAndNothingWritten(good_.substr(0, good_.size() / 2), "truncated");
  ExpectRefusedAndNothingWritten(good_.substr(0, good_.size() - 1), "truncated");
  ExpectRefusedAndNothingWritten("", "truncated");
}

TEST_F(BackupRefusalsTest, ANonEmptyTargetNeedsForceAndKeepsItsOtherFiles) {
  const std::string target = root_.File("target");
  ASSERT_EQ(::mkdir(target.c_str(), 0700), 0);
  WriteFile(target + "/notes.txt", "mine");
  WriteFile(target + "/neosl.db-wal", "a stale log of another database");
  CommandResult r = Restore(archive_, target);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("not empty"));
  EXPECT_EQ(Tree(target), (std::vector<std::string>{"neosl.db-wal", "notes.txt"}));

  r = Restore(archive_, target, {"--force"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(target + "/notes.txt"), "mine");
  EXPECT_EQ(Mode(target + "/neosl.db-wal"), -1) << "a stale -wal would be replayed into the restored database";
  EXPECT_EQ(ReadFile(target + "/admin.key"), admin_ + "\n");
}

TEST_F(BackupRefusalsTest, ForceIsRefusedWhileAServerHoldsTheDatabase) {
  const std::vector<std::string> before = Tree(server_->data_dir());
  CommandResult r = Restore(archive_, server_->data_dir(), {"--force"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  // Found by the server's serve.lock, or by the lock its SQLite connections hold on neosl.db.
  EXPECT_THAT(r.err, HasSubstr("stop it first"));
  EXPECT_EQ(Tree(server_->data_dir()), before);
}

TEST_F(BackupRefusalsTest, ANewerSchemaIsRefused) {
  const std::string file = backups_.File("future.backup");
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  backup::ArchiveWriter w(fd);
  const std::vector<uint8_t> db = {'x'};
  ASSERT_TRUE(w.AddBytes("neosl.db", backup::kKindSqlite, 0600, db).ok());
  backup::Manifest m;
  m.neosl_version = "99.0.0";
  m.store_driver = "sqlite";
  m.schema_version = int64_t(schema::Migrations().size()) + 1;
  ASSERT_TRUE(w.Finish(m).ok());
  ::close(fd);
  const std::string target = root_.File("target");
  CommandResult r = Restore(file, target);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("newer than this binary's newest migration"));
  EXPECT_THAT(r.err, HasSubstr("99.0.0"));
  EXPECT_EQ(Mode(target), -1);
}

TEST_F(BackupRefusalsTest, BadFlagsAreRefused) {
  CommandResult inside = Backup(server_->data_dir(), server_->data_dir() + "/b.backup");
  EXPECT_EQ(inside.exit_code, 1);
  EXPECT_THAT(inside.err, HasSubstr("inside the data directory"));
  EXPECT_EQ(Mode(server_->data_dir() + "/b.backup"), -1);

  CommandResult missing = Restore(backups_.File("none.backup"), root_.File("t"));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("there is no file"));

  CommandResult no_data = Backup(root_.File("nothing-here"), backups_.File("x.backup"));
  EXPECT_EQ(no_data.exit_code, 1);
  EXPECT_EQ(Mode(backups_.File("x.backup")), -1);

  CommandResult with_chain = Backup(server_->data_dir(), backups_.File("y.backup"), {"--with-devchain"});
  EXPECT_EQ(with_chain.exit_code, 0) << with_chain.err;  // `neosl serve` runs its devchain here
  CommandResult chainless =
      Backup(server_->data_dir(), backups_.File("z.backup"),
             {"--with-devchain", "--config",
              WriteConfig("chain:\n  devchain:\n    data_dir: " + root_.File("no-chain") + "\n")});
  EXPECT_EQ(chainless.exit_code, 1) << chainless.err;
  EXPECT_THAT(chainless.err, HasSubstr("no devchain database"));

  CommandResult not_an_archive =
      RunNeosl({"restore", "--in", server_->data_dir() + "/admin.key", "--data", root_.File("t")});
  EXPECT_EQ(not_an_archive.exit_code, 1);
  EXPECT_THAT(not_an_archive.err, Not(HasSubstr(admin_)));
}

}  // namespace
}  // namespace neosl::testing
