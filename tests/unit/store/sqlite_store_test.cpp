#include "store/sqlite_store.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store_conformance.h"

namespace neosl::store {
namespace {

using conformance::BackendName;
using conformance::StoreBackend;
using conformance::StoreConformanceTest;
using conformance::TempDir;
using ::testing::HasSubstr;

SqliteOptions OptionsFor(const std::string& path) {
  SqliteOptions options;
  options.path = path;
  return options;
}

StatusOr<std::unique_ptr<Store>> OpenInDir(const std::string& dir) {
  return OpenSqliteStore(OptionsFor(dir + "/store.db"));
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformanceTest, ::testing::Values(StoreBackend{"sqlite", OpenInDir}),
                         BackendName);

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::string DbPath() const { return dir_.path() + "/store.db"; }
  StatusOr<std::unique_ptr<Store>> Open(int read_connections = 4, int busy_timeout_ms = 5000) {
    SqliteOptions options = OptionsFor(DbPath());
    options.read_connections = read_connections;
    options.busy_timeout_ms = busy_timeout_ms;
    return OpenSqliteStore(options);
  }
  static Status Write(Store& store, std::string_view sql) {
    return RunInTransaction(store, TxMode::kWrite, [&](Transaction& tx) { return tx.Exec(sql).status(); });
  }

  TempDir dir_;
};

TEST_F(SqliteStoreTest, CreatesTheFileInWalModeWithForeignKeys) {
  ASSERT_FALSE(std::filesystem::exists(DbPath()));
  ASSERT_STORE_OK_AND_ASSIGN(auto store, Open());
  EXPECT_TRUE(std::filesystem::exists(DbPath()));
  EXPECT_EQ(store->backend(), "sqlite");

  ASSERT_STORE_OK_AND_ASSIGN(auto rows, store->Query("PRAGMA journal_mode"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(*rows[0].Text(0), "wal");
  ASSERT_STORE_OK_AND_ASSIGN(rows, store->Query("PRAGMA foreign_keys"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(*rows[0].Int(0), 1);
  ASSERT_STORE_OK_AND_ASSIGN(auto tx, store->Begin(TxMode::kWrite));
  ASSERT_STORE_OK_AND_ASSIGN(rows, tx->Query("PRAGMA foreign_keys"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(*rows[0].Int(0), 1);
  ASSERT_STORE_OK_AND_ASSIGN(rows, tx->Query("PRAGMA synchronous"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(*rows[0].Int(0), 1);  // NORMAL
}

TEST_F(SqliteStoreTest, RefusesMemoryEmptyPathAndBadOptions) {
  EXPECT_STORE_CODE(OpenSqliteStore(OptionsFor(":memory:")), kInvalidArgument);
  EXPECT_STORE_CODE(OpenSqliteStore(OptionsFor("")), kInvalidArgument);
  EXPECT_STORE_CODE(Open(/*read_connections=*/0), kInvalidArgument);
  EXPECT_STORE_CODE(Open(4, /*busy_timeout_ms=*/-1), kInvalidArgument);
}

TEST_F(SqliteStoreTest, MissingDirectoryIsNamed) {
  std::string path = dir_.path() + "/no/such/dir/store.db";
  StatusOr<std::unique_ptr<Store>> store = OpenSqliteStore(OptionsFor(path));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(path));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/no"));
}

TEST_F(SqliteStoreTest, RefusesAFileThatIsNotADatabase) {
  std::ofstream(DbPath()) << std::string(4096, 'x');
  EXPECT_STORE_CODE(Open(), kFailedPrecondition);
}

TEST_F(SqliteStoreTest, ReopeningKeepsData) {
  {
    ASSERT_STORE_OK_AND_ASSIGN(auto store, Open());
    ASSERT_STORE_OK(Write(*store, "CREATE TABLE t (x INTEGER); INSERT INTO t (x) VALUES (42)"));
  }
  ASSERT_STORE_OK_AND_ASSIGN(auto store, Open());
  ASSERT_STORE_OK_AND_ASSIGN(auto rows, store->Query("SELECT x FROM t"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(*rows[0].Int(0), 42);
}

TEST_F(SqliteStoreTest, PlainQueriesCannotWrite) {
  ASSERT_STORE_OK_AND_ASSIGN(auto store, Open());
  ASSERT_STORE_OK(Write(*store, "CREATE TABLE t (x INTEGER)"));
  EXPECT_STORE_CODE(store->Query("INSERT INTO t (x) VALUES (1)"), kFailedPrecondition);
  ASSERT_STORE_OK_AND_ASSIGN(auto rows, store->Query("SELECT COUNT(*) FROM t"));
  EXPECT_EQ(*rows[0].Int(0), 0);
}

TEST_F(SqliteStoreTest, SecondWriterWaitsOnlyForTheBusyTimeout) {
  ASSERT_STORE_OK_AND_ASSIGN(auto store, Open(4, /*busy_timeout_ms=*/50));
  ASSERT_STORE_OK(Write(*store, "CREATE TABLE t (x INTEGER)"));
  ASSERT_STORE_OK_AND_ASSIGN(auto first, store->Begin(TxMode::kWrite));
  // In this process the wait is for the writer connection ...
  EXPECT_STORE_CODE(store->Begin(TxMode::kWrite), kUnavailable);
  // ... and from another process (here: another store on the file) for SQLite's write lock.
  ASSERT_STORE_OK_AND_ASSIGN(auto other, Open(1, /*busy_timeout_ms=*/50));
  EXPECT_STORE_CODE(other->Begin(TxMode::kWrite), kUnavailable);
  ASSERT_STORE_OK(other->Ping());  // reads still go through
  ASSERT_STORE_OK(first->Commit());
  ASSERT_STORE_OK(Write(*other, "INSERT INTO t (x) VALUES (1)"));
}

TEST_F(SqliteStoreTest, ExhaustedReadPoolIsUnavailableAfterTheTimeout) {
  ASSERT_STORE_OK_AND_ASSIGN(auto store, Open(/*read_connections=*/1, /*busy_timeout_ms=*/50));
  ASSERT_STORE_OK_AND_ASSIGN(auto tx, store->Begin(TxMode::kRead));
  EXPECT_STORE_CODE(store->Query("SELECT 1"), kUnavailable);
  EXPECT_STORE_CODE(store->Ping(), kUnavailable);
  ASSERT_STORE_OK(tx->Commit());
  ASSERT_STORE_OK(store->Ping());
}

TEST_F(SqliteStoreTest, CachedStatementsFollowSchemaChanges) {
  ASSERT_STORE_OK_AND_ASSIGN(auto store, Open(/*read_connections=*/1));
  ASSERT_STORE_OK(Write(*store, "CREATE TABLE t (x INTEGER); INSERT INTO t (x) VALUES (1)"));
  ASSERT_STORE_OK_AND_ASSIGN(auto rows, store->Query("SELECT * FROM t"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].size(), 1u);
  ASSERT_STORE_OK(Write(*store, "ALTER TABLE t ADD COLUMN y TEXT"));
  ASSERT_STORE_OK_AND_ASSIGN(rows, store->Query("SELECT * FROM t"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].size(), 2u);
}

TEST_F(SqliteStoreTest, ManyDistinctStatementsStillRun) {
  ASSERT_STORE_OK_AND_ASSIGN(auto store, Open(/*read_connections=*/1));
  // More than the statement cache holds, so the uncached path runs as well.
  for (int i = 0; i < 700; ++i) {
    ASSERT_STORE_OK_AND_ASSIGN(auto rows, store->Query("SELECT " + std::to_string(i)));
    ASSERT_EQ(rows.size(), 1u);
    ASSERT_EQ(*rows[0].Int(0), i);
  }
}

TEST_F(SqliteStoreTest, TrailingSemicolonsAndCommentsAreNotStatements) {
  ASSERT_STORE_OK_AND_ASSIGN(auto store, Open());
  ASSERT_STORE_OK_AND_ASSIGN(auto rows, store->Query("SELECT 1; -- one\n/* done */ ;"));
  EXPECT_EQ(rows.size(), 1u);
  ASSERT_STORE_OK(Write(*store, "-- a migration that is only a comment\n"));
  ASSERT_STORE_OK(Write(*store, "CREATE TABLE t (x INTEGER); -- trailing\n"));
  EXPECT_STORE_CODE(store->Query(""), kInternal);
}

TEST_F(SqliteStoreTest, TransactionOutlivingItsStoreStillWorks) {
  ASSERT_STORE_OK_AND_ASSIGN(auto store, Open());
  ASSERT_STORE_OK(Write(*store, "CREATE TABLE t (x INTEGER)"));
  ASSERT_STORE_OK_AND_ASSIGN(auto tx, store->Begin(TxMode::kWrite));
  store.reset();
  ASSERT_STORE_OK(tx->Exec("INSERT INTO t (x) VALUES (7)"));
  ASSERT_STORE_OK(tx->Commit());
  tx.reset();
  ASSERT_STORE_OK_AND_ASSIGN(store, Open());
  ASSERT_STORE_OK_AND_ASSIGN(auto rows, store->Query("SELECT x FROM t"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(*rows[0].Int(0), 7);
}

}  // namespace
}  // namespace neosl::store
