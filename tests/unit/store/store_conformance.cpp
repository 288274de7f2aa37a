#include "store_conformance.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <future>
#include <limits>
#include <stdlib.h>
#include <thread>
#include <vector>

#include <gmock/gmock.h>

namespace neosl::store::conformance {

void PrintTo(const StoreBackend& backend, std::ostream* os) {
  *os << backend.name;
}

std::string BackendName(const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param.name;
}

::testing::AssertionResult HasCode(const Status& status, StatusCode want) {
  if (status.code() == want) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected " << StatusCodeName(want) << ", got " << status.ToString();
}

void StoreConformanceTest::SetUp() {
  dir_ = std::make_unique<TempDir>();
  ASSERT_FALSE(dir_->path().empty()) << "mkdtemp failed";
  ASSERT_STORE_OK_AND_ASSIGN(store_, GetParam().open(dir_->path()));
}

void StoreConformanceTest::TearDown() {
  store_.reset();  // before the files go
  dir_.reset();
}

Status StoreConformanceTest::Write(std::string_view sql, const Params& params) {
  return RunInTransaction(store(), TxMode::kWrite, [&](Transaction& tx) { return tx.Exec(sql, params).status(); });
}

int64_t StoreConformanceTest::CountRows(std::string_view table) {
  StatusOr<std::vector<Row>> rows = store().Query("SELECT COUNT(*) FROM " + std::string(table));
  if (!rows.ok() || rows->size() != 1) {
    ADD_FAILURE() << "counting " << table << ": " << rows.status().ToString();
    return -1;
  }
  StatusOr<int64_t> n = (*rows)[0].Int(0);
  EXPECT_TRUE(n.ok()) << "counting " << table << ": " << n.status().ToString();
  return n.ok() ? *n : -1;
}

namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// Long enough for any healthy backend; only reached when a reader is wrongly blocked.
constexpr auto kDeadlockGuard = std::chrono::seconds(30);

constexpr std::string_view kKvSchema = "CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)";

const Migration kCreateAccounts{1, "create_accounts",
                                "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL)", ""};
// Depends on migration 1, so applying out of order would fail.
const Migration kSeedAdmin{2, "seed_admin",
                           "INSERT INTO accounts (id, name) VALUES (1, 'admin');\n"
                           "CREATE TABLE api_keys (id INTEGER PRIMARY KEY,\n"
                           "  account_id INTEGER NOT NULL REFERENCES accounts (id));",
                           ""};

TEST_P(StoreConformanceTest, PingsAndNamesItsBackend) {
  ASSERT_STORE_OK(store().Ping());
  EXPECT_FALSE(store().backend().empty());
}

TEST_P(StoreConformanceTest, RoundTripsEveryValueType) {
  ASSERT_STORE_OK(Write("CREATE TABLE vals (id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB)"));
  Blob big(1 << 20);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i % 251);  // zeros too
  const std::string utf8 = "Grüße, 世界 — 🚀";
  const int64_t kMin = std::numeric_limits<int64_t>::min();
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  ASSERT_STORE_OK(RunInTransaction(store(), TxMode::kWrite, [&](Transaction& tx) -> Status {
    const char* insert = "INSERT INTO vals (id, i, r, s, b) VALUES (?, ?, ?, ?, ?)";
    RETURN_IF_ERROR(tx.Exec(insert, {int64_t{1}, kMin, -1.5e300, std::string(), Blob()}));
    RETURN_IF_ERROR(tx.Exec(insert, {int64_t{2}, kMax, 0.1, utf8, big}));
    return tx.Exec(insert, {int64_t{3}, Null(), Null(), Null(), Null()}).status();
  }));

  ASSERT_STORE_OK_AND_ASSIGN(std::vector<Row> rows, store().Query("SELECT id, i, r, s, b FROM vals ORDER BY id"));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(*rows[0].Int(1), kMin);
  EXPECT_EQ(*rows[0].Real(2), -1.5e300);
  EXPECT_EQ(*rows[0].Text(3), "");
  EXPECT_TRUE(rows[0].Bytes(4)->empty()) << rows[0].Bytes(4).status().ToString();
  EXPECT_FALSE(rows[0].IsNull(3));
  EXPECT_FALSE(rows[0].IsNull(4));

  EXPECT_EQ(*rows[1].Int(1), kMax);
  EXPECT_EQ(*rows[1].Real(2), 0.1);
  EXPECT_EQ(*rows[1].Text(3), utf8);
  StatusOr<Blob> got = rows[1].Bytes(4);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->size(), big.size());
  EXPECT_TRUE(*got == big) << "1 MiB blob came back different";

  for (size_t col = 1; col <= 4; ++col) {
    EXPECT_TRUE(rows[2].IsNull(col)) << col;
    EXPECT_TRUE(std::holds_alternative<std::monostate>(rows[2].at(col))) << col;
  }
  EXPECT_EQ(*rows[2].OptionalInt(1), std::nullopt);
  EXPECT_EQ(*rows[2].OptionalText(3), std::nullopt);

  // Parameters compare equal to what was stored, so binding is byte-exact too.
  ASSERT_STORE_OK_AND_ASSIGN(rows, store().Query("SELECT id FROM vals WHERE s = ? AND b = ?", {utf8, big}));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(*rows[0].Int(0), 2);
}

TEST_P(StoreConformanceTest, RowAccessorsCheckTypeAndIndex) {
  ASSERT_STORE_OK(Write("CREATE TABLE t (i INTEGER, s TEXT)"));
  ASSERT_STORE_OK(Write("INSERT INTO t (i, s) VALUES (?, ?)", {int64_t{7}, std::string("x")}));
  ASSERT_STORE_OK_AND_ASSIGN(std::vector<Row> rows, store().Query("SELECT i, s FROM t"));
  ASSERT_EQ(rows.size(), 1u);
  const Row& row = rows[0];
  EXPECT_EQ(*row.OptionalInt(0), 7);
  EXPECT_EQ(*row.OptionalText(1), "x");

  StatusOr<int64_t> wrong = row.Int(1);
  EXPECT_STORE_CODE(wrong, kInternal);
  EXPECT_THAT(std::string(wrong.status().message()), AllOf(HasSubstr("1"), HasSubstr("INTEGER"), HasSubstr("TEXT")));
  EXPECT_STORE_CODE(row.Text(0), kInternal);
  EXPECT_STORE_CODE(row.Real(0), kInternal);
  EXPECT_STORE_CODE(row.Bytes(1), kInternal);
  EXPECT_STORE_CODE(row.OptionalText(0), kInternal);
  EXPECT_STORE_CODE(row.OptionalInt(1), kInternal);
  EXPECT_STORE_CODE(row.Int(2), kInternal);  // past the end
  EXPECT_FALSE(row.IsNull(2));
}

TEST_P(StoreConformanceTest, CommittedWritesAreVisibleToNewReads) {
  ASSERT_STORE_OK(Write(kKvSchema));
  ASSERT_STORE_OK_AND_ASSIGN(auto tx, store().Begin(TxMode::kWrite));
  ASSERT_STORE_OK_AND_ASSIGN(int64_t changed, tx->Exec("INSERT INTO kv (k, v) VALUES ('a', 1)"));
  EXPECT_EQ(changed, 1);
  EXPECT_EQ(CountRows("kv"), 0);  // not yet committed
  ASSERT_STORE_OK(tx->Commit());
  EXPECT_EQ(CountRows("kv"), 1);

  ASSERT_STORE_OK_AND_ASSIGN(auto read, store().Begin(TxMode::kRead));
  ASSERT_STORE_OK_AND_ASSIGN(Row row, read->QueryOne("SELECT v FROM kv WHERE k = 'a'"));
  EXPECT_EQ(*row.Int(0), 1);
  ASSERT_STORE_OK(read->Commit());

  store_.reset();
  ASSERT_STORE_OK_AND_ASSIGN(store_, Reopen());
  EXPECT_EQ(CountRows("kv"), 1);
}

TEST_P(StoreConformanceTest, DestroyingATransactionRollsBack) {
  ASSERT_STORE_OK(Write(kKvSchema));
  {
    ASSERT_STORE_OK_AND_ASSIGN(auto tx, store().Begin(TxMode::kWrite));
    ASSERT_STORE_OK(tx->Exec("INSERT INTO kv (k, v) VALUES ('a', 1)"));
  }
  EXPECT_EQ(CountRows("kv"), 0);
  // And it let go of whatever it held, so the next writer gets in.
  ASSERT_STORE_OK(Write("INSERT INTO kv (k, v) VALUES ('b', 2)"));
  EXPECT_EQ(CountRows("kv"), 1);
}

TEST_P(StoreConformanceTest, ExplicitRollbackDiscardsWrites) {
  ASSERT_STORE_OK(Write(kKvSchema));
  ASSERT_STORE_OK_AND_ASSIGN(auto tx, store().Begin(TxMode::kWrite));
  ASSERT_STORE_OK(tx->Exec("INSERT INTO kv (k, v) VALUES ('a', 1)"));
  ASSERT_STORE_OK_AND_ASSIGN(Row inside, tx->QueryOne("SELECT COUNT(*) FROM kv"));
  EXPECT_EQ(*inside.Int(0), 1);  // a transaction sees its own writes
  ASSERT_STORE_OK(tx->Rollback());
  EXPECT_EQ(CountRows("kv"), 0);
}

TEST_P(StoreConformanceTest, EndedTransactionRefusesUse) {
  ASSERT_STORE_OK(Write(kKvSchema));
  for (bool commit : {true, false}) {
    for (TxMode mode : {TxMode::kWrite, TxMode::kRead}) {
      ASSERT_STORE_OK_AND_ASSIGN(auto tx, store().Begin(mode));
      ASSERT_STORE_OK(commit ? tx->Commit() : tx->Rollback());
      EXPECT_STORE_CODE(tx->Exec("INSERT INTO kv (k, v) VALUES ('a', 1)"), kFailedPrecondition);
      EXPECT_STORE_CODE(tx->Query("SELECT v FROM kv"), kFailedPrecondition);
      EXPECT_STORE_CODE(tx->QueryOne("SELECT COUNT(*) FROM kv"), kFailedPrecondition);
      EXPECT_STORE_CODE(tx->Commit(), kFailedPrecondition);
      EXPECT_STORE_CODE(tx->Rollback(), kFailedPrecondition);
    }
  }
  EXPECT_EQ(CountRows("kv"), 0);
}

TEST_P(StoreConformanceTest, WriteInReadTransactionIsRefused) {
  ASSERT_STORE_OK(Write(kKvSchema));
  ASSERT_STORE_OK_AND_ASSIGN(auto tx, store().Begin(TxMode::kRead));
  EXPECT_STORE_CODE(tx->Exec("INSERT INTO kv (k, v) VALUES ('a', 1)"), kFailedPrecondition);
  tx.reset();
  EXPECT_EQ(CountRows("kv"), 0);
}

TEST_P(StoreConformanceTest, UniqueViolationIsAlreadyExistsWithoutValues) {
  ASSERT_STORE_OK(Write(kKvSchema));
  ASSERT_STORE_OK(Write("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL)"));
  ASSERT_STORE_OK(Write("CREATE UNIQUE INDEX users_email ON users (email)"));
  const Params kv = {std::string("secret-key-7f3a"), int64_t{987654321}};
  ASSERT_STORE_OK(Write("INSERT INTO kv (k, v) VALUES (?, ?)", kv));
  ASSERT_STORE_OK(Write("INSERT INTO users (id, email) VALUES (1, 'a@example.org')"));

  Status pk = Write("INSERT INTO kv (k, v) VALUES (?, ?)", kv);
  EXPECT_STORE_CODE(pk, kAlreadyExists);
  EXPECT_THAT(std::string(pk.message()), Not(HasSubstr("secret-key-7f3a")));
  EXPECT_THAT(std::string(pk.message()), Not(HasSubstr("987654321")));
  EXPECT_STORE_CODE(Write("INSERT INTO users (id, email) VALUES (1, 'b@example.org')"), kAlreadyExists);
  EXPECT_STORE_CODE(Write("INSERT INTO users (id, email) VALUES (?, ?)", {int64_t{2}, std::string("a@example.org")}),
                    kAlreadyExists);
  EXPECT_EQ(CountRows("users"), 1);
}

TEST_P(StoreConformanceTest, ConstraintViolationsAreFailedPrecondition) {
  ASSERT_STORE_OK(Write("CREATE TABLE parent (id INTEGER PRIMARY KEY)"));
  ASSERT_STORE_OK(
      Write("CREATE TABLE child (id INTEGER PRIMARY KEY,"
            " parent_id INTEGER NOT NULL REFERENCES parent (id),"
            " amount INTEGER NOT NULL CHECK (amount >= 0))"));
  ASSERT_STORE_OK(Write("INSERT INTO parent (id) VALUES (1)"));
  const char* insert = "INSERT INTO child (id, parent_id, amount) VALUES (?, ?, ?)";
  EXPECT_STORE_CODE(Write(insert, {int64_t{1}, int64_t{42}, int64_t{5}}), kFailedPrecondition);
  EXPECT_STORE_CODE(Write(insert, {int64_t{1}, Null(), int64_t{5}}), kFailedPrecondition);
  EXPECT_STORE_CODE(Write(insert, {int64_t{1}, int64_t{1}, int64_t{-5}}), kFailedPrecondition);
  ASSERT_STORE_OK(Write(insert, {int64_t{1}, int64_t{1}, int64_t{5}}));
  EXPECT_STORE_CODE(Write("DELETE FROM parent WHERE id = 1"), kFailedPrecondition);
  EXPECT_EQ(CountRows("parent"), 1);
}

TEST_P(StoreConformanceTest, WrongParameterCountAndBadSqlAreInternal) {
  ASSERT_STORE_OK(Write(kKvSchema));
  EXPECT_STORE_CODE(Write("INSERT INTO kv (k, v) VALUES (?, ?)", {std::string("a")}), kInternal);
  EXPECT_STORE_CODE(Write("INSERT INTO kv (k, v) VALUES (?, 1)", {std::string("a"), int64_t{1}}), kInternal);
  EXPECT_STORE_CODE(store().Query("SELECT v FROM kv WHERE k = ?"), kInternal);
  EXPECT_STORE_CODE(store().Query("SELECT v FROM kv", {int64_t{1}}), kInternal);
  EXPECT_STORE_CODE(store().Query("SELEC v FROM kv"), kInternal);
  EXPECT_STORE_CODE(store().Query("SELECT v FROM no_such_table"), kInternal);
  EXPECT_STORE_CODE(store().Query("SELECT no_such_column FROM kv"), kInternal);
  EXPECT_STORE_CODE(Write("INSERT INTO kv (k, v) VALUES (?, ?); DELETE FROM kv", {std::string("a"), int64_t{1}}),
                    kInternal);
  EXPECT_STORE_CODE(store().Query("SELECT 1; SELECT 2"), kInternal);
  EXPECT_EQ(CountRows("kv"), 0);
}

TEST_P(StoreConformanceTest, ExecCountsChangedRowsAndRunsSeveralStatements) {
  ASSERT_STORE_OK(RunInTransaction(store(), TxMode::kWrite, [](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(int64_t ddl, tx.Exec("CREATE TABLE a (x INTEGER);\n"
                                          "CREATE TABLE b (y INTEGER);\n"
                                          "INSERT INTO a (x) VALUES (1), (2), (3);"));
    (void)ddl;  // backends differ in what a script reports
    ASSIGN_OR_RETURN(int64_t all, tx.Exec("UPDATE a SET x = x + 10"));
    ASSIGN_OR_RETURN(int64_t none, tx.Exec("UPDATE a SET x = 0 WHERE x < 0"));
    ASSIGN_OR_RETURN(int64_t one, tx.Exec("DELETE FROM a WHERE x = ?", {int64_t{11}}));
    ASSIGN_OR_RETURN(int64_t create, tx.Exec("CREATE TABLE c (z INTEGER)"));
    EXPECT_EQ(all, 3);
    EXPECT_EQ(none, 0);
    EXPECT_EQ(one, 1);
    EXPECT_EQ(create, 0);
    return Status::Ok();
  }));
  EXPECT_EQ(CountRows("a"), 2);
  EXPECT_EQ(CountRows("b"), 0);
}

TEST_P(StoreConformanceTest, QueryOneAndQueryOptional) {
  ASSERT_STORE_OK(Write(kKvSchema));
  ASSERT_STORE_OK(Write("INSERT INTO kv (k, v) VALUES ('a', 1), ('b', 2)"));
  ASSERT_STORE_OK_AND_ASSIGN(auto tx, store().Begin(TxMode::kRead));
  EXPECT_STORE_CODE(tx->QueryOne("SELECT v FROM kv WHERE k = 'z'"), kNotFound);
  EXPECT_STORE_CODE(tx->QueryOne("SELECT v FROM kv"), kInternal);
  ASSERT_STORE_OK_AND_ASSIGN(Row one, tx->QueryOne("SELECT v FROM kv WHERE k = ?", {std::string("b")}));
  EXPECT_EQ(*one.Int(0), 2);
  ASSERT_STORE_OK_AND_ASSIGN(auto none, tx->QueryOptional("SELECT v FROM kv WHERE k = 'z'"));
  EXPECT_FALSE(none.has_value());
  ASSERT_STORE_OK_AND_ASSIGN(auto first, tx->QueryOptional("SELECT v FROM kv ORDER BY k DESC"));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(*first->Int(0), 2);
}

TEST_P(StoreConformanceTest, MigrationsApplyInOrderOnce) {
  ASSERT_STORE_OK_AND_ASSIGN(int fresh, store().SchemaVersion());
  EXPECT_EQ(fresh, 0);
  ASSERT_STORE_OK(store().Migrate({kCreateAccounts}));
  EXPECT_EQ(*store().SchemaVersion(), 1);
  ASSERT_STORE_OK(store().Migrate({kCreateAccounts, kSeedAdmin}));
  ASSERT_STORE_OK(store().Migrate({kCreateAccounts, kSeedAdmin}));
  EXPECT_EQ(*store().SchemaVersion(), 2);
  EXPECT_EQ(CountRows("accounts"), 1);

  store_.reset();
  ASSERT_STORE_OK_AND_ASSIGN(store_, Reopen());
  EXPECT_EQ(*store().SchemaVersion(), 2);
  ASSERT_STORE_OK(store().Migrate({kCreateAccounts, kSeedAdmin}));
  EXPECT_EQ(CountRows("accounts"), 1);  // migration 2 did not run twice

  ASSERT_STORE_OK_AND_ASSIGN(std::vector<Row> rows,
                             store().Query("SELECT version, name, applied_at_ms FROM schema_migrations ORDER BY 1"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(*rows[0].Int(0), 1);
  EXPECT_EQ(*rows[0].Text(1), "create_accounts");
  EXPECT_EQ(*rows[1].Text(1), "seed_admin");
  EXPECT_GT(*rows[1].Int(2), int64_t{1'600'000'000'000});  // milliseconds, not seconds
}

TEST_P(StoreConformanceTest, FailingMigrationKeepsThePreviousVersion) {
  Migration broken{2, "broken_step", "CREATE TABLE partial (x INTEGER);\nINSERT INTO no_such_table VALUES (1);", ""};
  Status status = store().Migrate({kCreateAccounts, broken});
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("broken_step"));
  EXPECT_EQ(*store().SchemaVersion(), 1);
  // The half-run migration left no table behind, and migration 1's table stays.
  EXPECT_STORE_CODE(store().Query("SELECT COUNT(*) FROM partial"), kInternal);
  EXPECT_EQ(CountRows("accounts"), 0);

  ASSERT_STORE_OK(store().Migrate({kCreateAccounts, kSeedAdmin}));
  EXPECT_EQ(*store().SchemaVersion(), 2);
}

TEST_P(StoreConformanceTest, MigrationsMustBeNumberedWithoutGaps) {
  Migration second = kSeedAdmin;
  Migration third = kSeedAdmin;
  third.version = 3;
  EXPECT_STORE_CODE(store().Migrate({second, kCreateAccounts}), kInvalidArgument);
  EXPECT_STORE_CODE(store().Migrate({kCreateAccounts, third}), kInvalidArgument);
  EXPECT_STORE_CODE(store().Migrate({second}), kInvalidArgument);
  EXPECT_STORE_CODE(store().Migrate({kCreateAccounts, kCreateAccounts}), kInvalidArgument);
  EXPECT_EQ(*store().SchemaVersion(), 0);
  EXPECT_STORE_CODE(store().Query("SELECT COUNT(*) FROM accounts"), kInternal);  // none ran
}

TEST_P(StoreConformanceTest, NewerDatabaseThanBinaryIsRefused) {
  ASSERT_STORE_OK(store().Migrate({kCreateAccounts, kSeedAdmin}));
  Status older = store().Migrate({kCreateAccounts});
  EXPECT_STORE_CODE(older, kFailedPrecondition);
  EXPECT_THAT(std::string(older.message()), HasSubstr("newer"));
  EXPECT_STORE_CODE(store().Migrate({}), kFailedPrecondition);
  EXPECT_EQ(*store().SchemaVersion(), 2);
}

TEST_P(StoreConformanceTest, RunInTransactionCommitsOrRollsBack) {
  ASSERT_STORE_OK(Write(kKvSchema));
  ASSERT_STORE_OK(RunInTransaction(store(), TxMode::kWrite, [](Transaction& tx) {
    return tx.Exec("INSERT INTO kv (k, v) VALUES ('kept', 1)").status();
  }));
  Status failed = RunInTransaction(store(), TxMode::kWrite, [](Transaction& tx) -> Status {
    RETURN_IF_ERROR(tx.Exec("INSERT INTO kv (k, v) VALUES ('dropped', 2)"));
    return InvalidArgumentError("caller changed its mind");
  });
  EXPECT_STORE_CODE(failed, kInvalidArgument);
  EXPECT_EQ(failed.message(), "caller changed its mind");
  ASSERT_STORE_OK_AND_ASSIGN(std::vector<Row> rows, store().Query("SELECT k FROM kv"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(*rows[0].Text(0), "kept");
}

TEST_P(StoreConformanceTest, RunInTransactionRetriesOnlyAborted) {
  ASSERT_STORE_OK(Write(kKvSchema));
  int calls = 0;
  ASSERT_STORE_OK(RunInTransaction(store(), TxMode::kWrite, [&](Transaction& tx) -> Status {
    ++calls;
    RETURN_IF_ERROR(tx.Exec("INSERT INTO kv (k, v) VALUES ('r', ?)", {int64_t{calls}}));
    return calls < 3 ? AbortedError("conflict") : Status::Ok();
  }));
  EXPECT_EQ(calls, 3);
  ASSERT_STORE_OK_AND_ASSIGN(std::vector<Row> rows, store().Query("SELECT v FROM kv"));
  ASSERT_EQ(rows.size(), 1u);  // the aborted attempts left nothing behind
  EXPECT_EQ(*rows[0].Int(0), 3);

  calls = 0;
  auto always_aborted = [&](Transaction&) {
    ++calls;
    return AbortedError("conflict");
  };
  EXPECT_STORE_CODE(RunInTransaction(store(), TxMode::kWrite, always_aborted, 4), kAborted);
  EXPECT_EQ(calls, 4);

  calls = 0;
  auto unavailable = [&](Transaction&) {
    ++calls;
    return UnavailableError("down");
  };
  EXPECT_STORE_CODE(RunInTransaction(store(), TxMode::kRead, unavailable), kUnavailable);
  EXPECT_EQ(calls, 1);
}

TEST_P(StoreConformanceTest, ConcurrentIncrementsAreNotLost) {
  ASSERT_STORE_OK(Write("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"));
  ASSERT_STORE_OK(Write("INSERT INTO counter (id, n) VALUES (1, 0)"));
  constexpr int kThreads = 4;
  constexpr int kIncrements = 250;
  // A read-modify-write, so a backend that lost isolation would lose updates.
  auto increment = [](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(Row row, tx.QueryOne("SELECT n FROM counter WHERE id = 1"));
    ASSIGN_OR_RETURN(int64_t n, row.Int(0));
    return tx.Exec("UPDATE counter SET n = ? WHERE id = 1", {n + 1}).status();
  };
  std::vector<Status> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIncrements && results[t].ok(); ++i) {
        // Generous attempts: optimistic backends may abort often under this much contention.
        results[t] = RunInTransaction(store(), TxMode::kWrite, increment, 100);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
  ASSERT_STORE_OK_AND_ASSIGN(std::vector<Row> rows, store().Query("SELECT n FROM counter"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(*rows[0].Int(0), kThreads * kIncrements);
}

TEST_P(StoreConformanceTest, ReadTransactionKeepsItsSnapshot) {
  ASSERT_STORE_OK(Write(kKvSchema));
  ASSERT_STORE_OK(Write("INSERT INTO kv (k, v) VALUES ('x', 1)"));
  const char* read_x = "SELECT v FROM kv WHERE k = 'x'";
  ASSERT_STORE_OK_AND_ASSIGN(auto reader, store().Begin(TxMode::kRead));
  ASSERT_STORE_OK_AND_ASSIGN(Row before, reader->QueryOne(read_x));
  EXPECT_EQ(*before.Int(0), 1);

  std::promise<Status> written;
  std::future<Status> done = written.get_future();
  std::thread writer([&] { written.set_value(Write("UPDATE kv SET v = 2 WHERE k = 'x'")); });
  if (done.wait_for(kDeadlockGuard) != std::future_status::ready) {
    ADD_FAILURE() << "a writer blocked behind an open read transaction";
    reader.reset();
    writer.join();
    return;
  }
  writer.join();
  ASSERT_STORE_OK(done.get());

  ASSERT_STORE_OK_AND_ASSIGN(Row during, reader->QueryOne(read_x));
  EXPECT_EQ(*during.Int(0), 1) << "the read transaction saw a commit made after it began";
  ASSERT_STORE_OK_AND_ASSIGN(std::vector<Row> fresh, store().Query(read_x));
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_EQ(*fresh[0].Int(0), 2);
  ASSERT_STORE_OK(reader->Commit());
}

TEST_P(StoreConformanceTest, ReadersAreNotBlockedByAnOpenWriteTransaction) {
  ASSERT_STORE_OK(Write(kKvSchema));
  ASSERT_STORE_OK(Write("INSERT INTO kv (k, v) VALUES ('x', 1)"));
  const char* read_x = "SELECT v FROM kv WHERE k = 'x'";
  ASSERT_STORE_OK_AND_ASSIGN(auto writer, store().Begin(TxMode::kWrite));
  ASSERT_STORE_OK(writer->Exec("UPDATE kv SET v = 2 WHERE k = 'x'"));

  // The values a plain query and a read transaction see while the write is still open.
  std::promise<StatusOr<std::pair<int64_t, int64_t>>> seen;
  std::future<StatusOr<std::pair<int64_t, int64_t>>> done = seen.get_future();
  std::thread reader([&] {
    seen.set_value([&]() -> StatusOr<std::pair<int64_t, int64_t>> {
      ASSIGN_OR_RETURN(std::vector<Row> rows, store().Query(read_x));
      if (rows.size() != 1) return InternalError("expected one row");
      ASSIGN_OR_RETURN(int64_t plain, rows[0].Int(0));
      ASSIGN_OR_RETURN(auto tx, store().Begin(TxMode::kRead));
      ASSIGN_OR_RETURN(Row row, tx->QueryOne(read_x));
      ASSIGN_OR_RETURN(int64_t in_tx, row.Int(0));
      RETURN_IF_ERROR(tx->Commit());
      return std::make_pair(plain, in_tx);
    }());
  });
  if (done.wait_for(kDeadlockGuard) != std::future_status::ready) {
    ADD_FAILURE() << "a reader blocked behind an open write transaction";
    writer.reset();
    reader.join();
    return;
  }
  reader.join();
  ASSERT_STORE_OK_AND_ASSIGN(auto values, done.get());
  EXPECT_EQ(values.first, 1) << "a plain query saw an uncommitted write";
  EXPECT_EQ(values.second, 1) << "a read transaction saw an uncommitted write";

  ASSERT_STORE_OK(writer->Commit());
  ASSERT_STORE_OK_AND_ASSIGN(std::vector<Row> rows, store().Query(read_x));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(*rows[0].Int(0), 2);
}

}  // namespace

// A test binary that links the suite without instantiating it (a backend that is not built)
// must still pass.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StoreConformanceTest);

}  // namespace neosl::store::conformance
