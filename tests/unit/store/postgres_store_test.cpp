// The PostgreSQL backend against a real server: the conformance suite, the product's
// migrations, and what only a client/server store can get wrong (concurrent migrators,
// serialization conflicts, a server that goes away and comes back, timeouts, secrets in
// messages). One throwaway server per test binary; a fresh database per test.
#include "store/postgres_store.h"

#include <atomic>
#include <chrono>
#include <latch>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/config.h"
#include "schema/migrations.h"
#include "store/open_store.h"
#include "store_conformance.h"
#include "support/postgres_cluster.h"

namespace neosl::store {
namespace {

using conformance::BackendName;
using conformance::StoreBackend;
using conformance::StoreConformanceTest;
using ::neosl::testing::PostgresCluster;
using ::testing::HasSubstr;
using ::testing::Not;

// Started on first use, from the main thread that runs the tests; stopped at exit.
PostgresCluster* Cluster(std::string* error) {
  static std::string launch_error;
  static std::unique_ptr<PostgresCluster> cluster = [] {
    std::unique_ptr<PostgresCluster> c = PostgresCluster::Launch(&launch_error);
    return c;
  }();
  if (!cluster) *error = launch_error;
  return cluster.get();
}

StatusOr<std::string> NewDatabase() {
  std::string error;
  PostgresCluster* cluster = Cluster(&error);
  if (cluster == nullptr) return FailedPreconditionError("no PostgreSQL server for the tests: " + error);
  std::string dsn = cluster->CreateDatabase(&error);
  if (dsn.empty()) return InternalError("creating a test database: " + error);
  return dsn;
}

// The suite's directory names the database, so that reopening a directory reaches its data.
StatusOr<std::unique_ptr<Store>> OpenInDir(const std::string& dir) {
  static std::mutex mu;
  static std::map<std::string, std::string> dsns;
  std::string dsn;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = dsns.find(dir);
    if (it == dsns.end()) {
      ASSIGN_OR_RETURN(std::string made, NewDatabase());
      it = dsns.emplace(dir, made).first;
    }
    dsn = it->second;
  }
  PostgresOptions options;
  options.dsn = dsn;
  return OpenPostgresStore(options);
}

INSTANTIATE_TEST_SUITE_P(Postgres, StoreConformanceTest, ::testing::Values(StoreBackend{"postgres", OpenInDir}),
                         BackendName);

using Clock = std::chrono::steady_clock;

int64_t MsSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_STORE_OK_AND_ASSIGN(dsn_, NewDatabase());
    std::string error;
    cluster_ = Cluster(&error);
  }

  StatusOr<std::unique_ptr<Store>> Open(int pool_size = 8, int connect_timeout_ms = 5000,
                                        int statement_timeout_ms = 30000) {
    PostgresOptions options;
    options.dsn = dsn_;
    options.pool_size = pool_size;
    options.connect_timeout_ms = connect_timeout_ms;
    options.statement_timeout_ms = statement_timeout_ms;
    return OpenPostgresStore(options);
  }

  static Status Write(Store& store, std::string_view sql, const Params& params = {}) {
    return RunInTransaction(store, TxMode::kWrite, [&](Transaction& tx) { return tx.Exec(sql, params).status(); });
  }

  static StatusOr<Row> One(Store& store, std::string_view sql, const Params& params = {}) {
    ASSIGN_OR_RETURN(std::vector<Row> rows, store.Query(sql, params));
    if (rows.size() != 1) return InternalError("expected one row, got " + std::to_string(rows.size()));
    return rows[0];
  }

  std::string dsn_;
  PostgresCluster* cluster_ = nullptr;
};

TEST_F(PostgresStoreTest, SessionsHaveTheIsolationAndLimitsAsked) {
  ASSERT_STORE_OK_AND_ASSIGN(auto store, Open(8, 5000, 12345));
  EXPECT_EQ(store->backend(), "postgres");
  ASSERT_STORE_OK_AND_ASSIGN(Row timeout, One(*store, "SHOW statement_timeout"));
  EXPECT_EQ(*timeout.Text(0), "12345ms");
  ASSERT_STORE_OK_AND_ASSIGN(auto write, store->Begin(TxMode::kWrite));
  ASSERT_STORE_OK_AND_ASSIGN(Row level, write->QueryOne("SHOW transaction_isolation"));
  EXPECT_EQ(*level.Text(0), "serializable");
  ASSERT_STORE_OK_AND_ASSIGN(Row read_only, write->QueryOne("SHOW transaction_read_only"));
  EXPECT_EQ(*read_only.Text(0), "off");
  ASSERT_STORE_OK(write->Commit());
  ASSERT_STORE_OK_AND_ASSIGN(auto read, store->Begin(TxMode::kRead));
  ASSERT_STORE_OK_AND_ASSIGN(level, read->QueryOne("SHOW transaction_isolation"));
  EXPECT_EQ(*level.Text(0), "repeatable read");
  ASSERT_STORE_OK_AND_ASSIGN(read_only, read->QueryOne("SHOW transaction_read_only"));
  EXPECT_EQ(*read_only.Text(0), "on");
  ASSERT_STORE_OK(read->Commit());
  // A plain query cannot write either.
  EXPECT_STORE_CODE(store->Query("CREATE TABLE t (x INTEGER)"), kFailedPrecondition);
  ASSERT_STORE_OK_AND_ASSIGN(Row exists, One(*store, "SELECT to_regclass('t') IS NULL"));
  EXPECT_EQ(*exists.Int(0), 1);
}

TEST_F(PostgresStoreTest, ResultTypesAreTheOnesSqliteGives) {
  ASSERT_STORE_OK_AND_ASSIGN(auto store, Open());
  ASSERT_STORE_OK(Write(*store, "CREATE TABLE t (v INTEGER, r REAL); INSERT INTO t VALUES (1, 0.5), (2, 1.5)"));
  ASSERT_STORE_OK_AND_ASSIGN(
      Row row, One(*store,
                   "SELECT COUNT(*), SUM(v), AVG(v), MAX(v), MAX(v) > 1, SUM(r), 'txt', X'00ff', 1.25, NULL,"
                   " CAST(? AS INTEGER) FROM t",
                   {int64_t{-7}}));
  EXPECT_EQ(*row.Int(0), 2);
  EXPECT_EQ(*row.Int(1), 3);  // SUM of integers is NUMERIC to PostgreSQL, an integer to SQLite
  EXPECT_EQ(*row.Real(2), 1.5);
  EXPECT_EQ(*row.Int(3), 2);
  EXPECT_EQ(*row.Int(4), 1);  // booleans are 0/1
  EXPECT_EQ(*row.Real(5), 2.0);
  EXPECT_EQ(*row.Text(6), "txt");
  EXPECT_EQ(*row.Bytes(7), (Blob{0x00, 0xff}));
  EXPECT_EQ(*row.Real(8), 1.25);
  EXPECT_TRUE(row.IsNull(9));
  EXPECT_EQ(*row.Int(10), -7);
  EXPECT_STORE_CODE(store->Query("SELECT now()"), kInternal);  // a type outside the dialect
}

TEST_F(PostgresStoreTest, EveryProductMigrationAppliesAndASecondMigrateIsANoOp) {
  ASSERT_STORE_OK_AND_ASSIGN(auto store, Open());
  const auto& migrations = schema::Migrations();
  ASSERT_STORE_OK(store->Migrate(migrations));
  EXPECT_EQ(*store->SchemaVersion(), static_cast<int>(migrations.size()));
  ASSERT_STORE_OK_AND_ASSIGN(auto before,
                             store->Query("SELECT version, applied_at_ms FROM schema_migrations ORDER BY version"));
  EXPECT_EQ(before.size(), migrations.size());

  ASSERT_STORE_OK(store->Migrate(migrations));
  ASSERT_STORE_OK_AND_ASSIGN(auto after,
                             store->Query("SELECT version, applied_at_ms FROM schema_migrations ORDER BY version"));
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) EXPECT_EQ(*after[i].Int(1), *before[i].Int(1)) << "re-applied " << i;
  // Integers are 64-bit and reals double everywhere, as the portable dialect promises.
  ASSERT_STORE_OK_AND_ASSIGN(auto narrow, store->Query("SELECT table_name || '.' || column_name FROM "
                                                       "information_schema.columns WHERE table_schema = 'public' "
                                                       "AND data_type IN ('integer', 'smallint', 'real')"));
  for (const Row& r : narrow) ADD_FAILURE() << "narrow column " << *r.Text(0);
  ASSERT_STORE_OK_AND_ASSIGN(Row journal, One(*store, "SELECT COUNT(*) FROM gasbank_journal"));
  EXPECT_EQ(*journal.Int(0), 1);
}

TEST_F(PostgresStoreTest, ConcurrentMigratorsApplyEachMigrationOnce) {
  constexpr int kProcesses = 4;
  const auto& migrations = schema::Migrations();
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < kProcesses; ++i) {
    ASSERT_STORE_OK_AND_ASSIGN(auto store, Open());
    stores.push_back(std::move(store));
  }
  std::latch start(kProcesses);
  std::vector<Status> results(kProcesses);
  std::vector<std::thread> threads;
  threads.reserve(kProcesses);
  for (int i = 0; i < kProcesses; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      results[i] = stores[i]->Migrate(migrations);
    });
  }
  for (auto& t : threads) t.join();
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
  ASSERT_STORE_OK_AND_ASSIGN(Row counts, One(*stores[0],
                                             "SELECT COUNT(*), COUNT(DISTINCT version), MAX(version) FROM "
                                             "schema_migrations"));
  EXPECT_EQ(*counts.Int(0), static_cast<int64_t>(migrations.size()));
  EXPECT_EQ(*counts.Int(1), static_cast<int64_t>(migrations.size()));
  EXPECT_EQ(*counts.Int(2), static_cast<int64_t>(migrations.size()));
  ASSERT_STORE_OK_AND_ASSIGN(Row journal, One(*stores[0], "SELECT COUNT(*) FROM gasbank_journal"));
  EXPECT_EQ(*journal.Int(0), 1);  // migration 10's seed row went in once
}

TEST_F(PostgresStoreTest, SerializationConflictIsAbortedAndRetried) {
  ASSERT_STORE_OK_AND_ASSIGN(auto store, Open());
  ASSERT_STORE_OK(Write(*store, "CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"));
  ASSERT_STORE_OK(Write(*store, "INSERT INTO counter (id, n) VALUES (1, 0)"));
  const char* read = "SELECT n FROM counter WHERE id = 1";
  const char* update = "UPDATE counter SET n = ? WHERE id = 1";

  // Two read-modify-writes of one row: the second to write loses.
  ASSERT_STORE_OK_AND_ASSIGN(auto first, store->Begin(TxMode::kWrite));
  ASSERT_STORE_OK_AND_ASSIGN(auto second, store->Begin(TxMode::kWrite));
  ASSERT_STORE_OK_AND_ASSIGN(Row a, first->QueryOne(read));
  ASSERT_STORE_OK_AND_ASSIGN(Row b, second->QueryOne(read));
  ASSERT_STORE_OK(first->Exec(update, {*a.Int(0) + 1}));
  ASSERT_STORE_OK(first->Commit());
  EXPECT_STORE_CODE(second->Exec(update, {*b.Int(0) + 1}), kAborted);
  EXPECT_STORE_CODE(second->Exec(update, {*b.Int(0) + 1}), kAborted);  // and stays so
  EXPECT_STORE_CODE(second->Commit(), kAborted);

  // The same through RunInTransaction, from two threads that both read before either writes:
  // one is aborted, retried, and both increments land.
  std::latch both_read(2);
  std::atomic<int> attempts{0};
  auto increment = [&](Transaction& tx) -> Status {
    int attempt = ++attempts;
    ASSIGN_OR_RETURN(Row row, tx.QueryOne(read));
    if (attempt <= 2) both_read.arrive_and_wait();
    return tx.Exec(update, {*row.Int(0) + 1}).status();
  };
  Status results[2];
  std::thread t1([&] { results[0] = RunInTransaction(*store, TxMode::kWrite, increment); });
  std::thread t2([&] { results[1] = RunInTransaction(*store, TxMode::kWrite, increment); });
  t1.join();
  t2.join();
  ASSERT_STORE_OK(results[0]);
  ASSERT_STORE_OK(results[1]);
  EXPECT_GE(attempts.load(), 3) << "no transaction was retried";
  ASSERT_STORE_OK_AND_ASSIGN(Row n, One(*store, read));
  EXPECT_EQ(*n.Int(0), 3);
}

TEST_F(PostgresStoreTest, LostServerIsUnavailableAndTheSameStoreRecovers) {
  ASSERT_NE(cluster_, nullptr);
  constexpr int kConnectTimeoutMs = 1500;
  ASSERT_STORE_OK_AND_ASSIGN(auto store, Open(4, kConnectTimeoutMs, 5000));
  ASSERT_STORE_OK(Write(*store, "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)"));
  {
    // Several idle connections in the pool, all of which the restart will kill.
    ASSERT_STORE_OK_AND_ASSIGN(auto r1, store->Begin(TxMode::kRead));
    ASSERT_STORE_OK_AND_ASSIGN(auto r2, store->Begin(TxMode::kRead));
    ASSERT_STORE_OK_AND_ASSIGN(auto r3, store->Begin(TxMode::kRead));
  }
  ASSERT_STORE_OK_AND_ASSIGN(auto open_tx, store->Begin(TxMode::kWrite));
  ASSERT_STORE_OK(open_tx->Exec("INSERT INTO t VALUES (2)"));

  cluster_->Stop();
  const std::string password = cluster_->password();
  auto expect_unavailable = [&](const Status& s, const char* what) {
    EXPECT_STORE_CODE(s, kUnavailable) << what;
    EXPECT_THAT(std::string(s.message()), Not(HasSubstr(password))) << what;
  };
  Clock::time_point start = Clock::now();
  expect_unavailable(open_tx->Exec("INSERT INTO t VALUES (3)").status(), "Exec in an open transaction");
  expect_unavailable(store->Ping(), "Ping");
  expect_unavailable(store->Query("SELECT x FROM t").status(), "Query");
  expect_unavailable(store->Begin(TxMode::kWrite).status(), "Begin");
  expect_unavailable(Write(*store, "INSERT INTO t VALUES (4)"), "RunInTransaction");
  // Refused at once on loopback; in any case no answer may take longer than the timeout.
  EXPECT_LT(MsSince(start), 5 * kConnectTimeoutMs);
  open_tx.reset();

  std::string error;
  ASSERT_TRUE(cluster_->Start(&error)) << error;
  // The very same store, not reopened: stale connections are dropped, fresh ones opened.
  ASSERT_STORE_OK(store->Ping());
  ASSERT_STORE_OK(Write(*store, "INSERT INTO t VALUES (5)"));
  ASSERT_STORE_OK_AND_ASSIGN(auto rows, store->Query("SELECT x FROM t ORDER BY x"));
  ASSERT_EQ(rows.size(), 2u);  // the transaction open at the crash never committed
  EXPECT_EQ(*rows[0].Int(0), 1);
  EXPECT_EQ(*rows[1].Int(0), 5);
}

TEST_F(PostgresStoreTest, StatementTimeoutIsUnavailableAndTheStoreCarriesOn) {
  ASSERT_STORE_OK_AND_ASSIGN(auto store, Open(2, 5000, /*statement_timeout_ms=*/200));
  Clock::time_point start = Clock::now();
  StatusOr<std::vector<Row>> slow = store->Query("SELECT pg_sleep(10)");
  EXPECT_STORE_CODE(slow, kUnavailable);
  EXPECT_THAT(std::string(slow.status().message()), HasSubstr("57014"));
  EXPECT_LT(MsSince(start), 5000);
  ASSERT_STORE_OK_AND_ASSIGN(auto tx, store->Begin(TxMode::kWrite));
  EXPECT_STORE_CODE(tx->Exec("SELECT pg_sleep(10)"), kUnavailable);
  ASSERT_STORE_OK(tx->Rollback());
  ASSERT_STORE_OK(store->Ping());
  ASSERT_STORE_OK(store->Query("SELECT pg_sleep(0.01)"));

  // Migrations are exempt (an index on a big table takes what it takes), and only they are.
  Migration sleepy{1, "sleepy", "CREATE TABLE t (x INTEGER); SELECT pg_sleep(0.5)", ""};
  ASSERT_STORE_OK(store->Migrate({sleepy}));
  EXPECT_STORE_CODE(store->Query("SELECT pg_sleep(0.5)"), kUnavailable);
  ASSERT_STORE_OK_AND_ASSIGN(auto again, store->Begin(TxMode::kWrite));
  EXPECT_STORE_CODE(again->Exec("SELECT pg_sleep(0.5)"), kUnavailable);
}

TEST_F(PostgresStoreTest, WrongPasswordIsUnavailableAndNotQuoted) {
  ASSERT_NE(cluster_, nullptr);
  const std::string wrong = "wrong-pw-3b9f1c";
  PostgresOptions options;
  options.dsn = dsn_.substr(0, dsn_.rfind("password=")) + "password=" + wrong;
  StatusOr<std::unique_ptr<Store>> store = OpenPostgresStore(options);
  EXPECT_STORE_CODE(store, kUnavailable);
  std::string message(store.status().message());
  EXPECT_THAT(message, HasSubstr("password authentication failed"));
  EXPECT_THAT(message, Not(HasSubstr(wrong)));
  EXPECT_THAT(message, Not(HasSubstr(cluster_->password())));
}

TEST_F(PostgresStoreTest, ErrorsNeverQuoteTheValuesGiven) {
  ASSERT_STORE_OK_AND_ASSIGN(auto store, Open());
  ASSERT_STORE_OK(Write(*store,
                        "CREATE TABLE p (id TEXT PRIMARY KEY);"
                        "CREATE TABLE c (k TEXT PRIMARY KEY, p TEXT REFERENCES p (id), n INTEGER CHECK (n > 0))"));
  const std::string secret = "secret-value-81f2";
  ASSERT_STORE_OK(Write(*store, "INSERT INTO p (id) VALUES (?)", {secret}));
  struct Case {
    std::string_view sql;
    Params params;
    StatusCode code;
  };
  const Case cases[] = {
      {"INSERT INTO p (id) VALUES (?)", {secret}, StatusCode::kAlreadyExists},
      {"INSERT INTO c (k, p, n) VALUES (?, ?, 1)", {secret, secret + "-x"}, StatusCode::kFailedPrecondition},
      {"INSERT INTO c (k, p, n) VALUES (?, ?, -1)", {secret, secret}, StatusCode::kFailedPrecondition},
      {"INSERT INTO c (k, p, n) VALUES (?, ?, 1)", {Null(), secret}, StatusCode::kFailedPrecondition},
      {"INSERT INTO c (k, p, n) VALUES (?, ?, CAST(? AS INTEGER))",
       {secret + "2", secret, secret},
       StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    Status s = Write(*store, c.sql, c.params);
    EXPECT_EQ(s.code(), c.code) << c.sql << ": " << s.ToString();
    EXPECT_THAT(std::string(s.message()), Not(HasSubstr(secret))) << c.sql;
  }
}

TEST_F(PostgresStoreTest, AFailedStatementEndsTheTransaction) {
  ASSERT_STORE_OK_AND_ASSIGN(auto store, Open());
  ASSERT_STORE_OK(Write(*store, "CREATE TABLE kv (k TEXT PRIMARY KEY)"));
  ASSERT_STORE_OK(Write(*store, "INSERT INTO kv VALUES ('a')"));
  ASSERT_STORE_OK_AND_ASSIGN(auto tx, store->Begin(TxMode::kWrite));
  // Our own mistakes are caught before the server sees them, so the transaction goes on…
  EXPECT_STORE_CODE(tx->Exec("INSERT INTO kv VALUES (?)", {}), kInternal);
  ASSERT_STORE_OK(tx->Exec("INSERT INTO kv VALUES ('b')"));
  // …but after a statement the server refused, it has aborted the transaction, and the store
  // says so rather than let the caller believe later statements (or the commit) took effect.
  EXPECT_STORE_CODE(tx->Exec("INSERT INTO kv VALUES ('a')"), kAlreadyExists);
  EXPECT_STORE_CODE(tx->Exec("INSERT INTO kv VALUES ('c')"), kFailedPrecondition);
  EXPECT_STORE_CODE(tx->Commit(), kFailedPrecondition);
  EXPECT_STORE_CODE(tx->Commit(), kFailedPrecondition);  // ended, all the same
  ASSERT_STORE_OK_AND_ASSIGN(Row n, One(*store, "SELECT COUNT(*) FROM kv"));
  EXPECT_EQ(*n.Int(0), 1);
}

TEST_F(PostgresStoreTest, ExhaustedPoolIsUnavailableAfterTheTimeout) {
  ASSERT_STORE_OK_AND_ASSIGN(auto store, Open(/*pool_size=*/1, /*connect_timeout_ms=*/200));
  ASSERT_STORE_OK_AND_ASSIGN(auto tx, store->Begin(TxMode::kRead));
  Clock::time_point start = Clock::now();
  EXPECT_STORE_CODE(store->Ping(), kUnavailable);
  EXPECT_GE(MsSince(start), 190);
  EXPECT_STORE_CODE(store->Begin(TxMode::kWrite), kUnavailable);
  ASSERT_STORE_OK(tx->Commit());
  ASSERT_STORE_OK(store->Ping());

  // A caller that finds the pool busy gets the connection as soon as it comes back.
  ASSERT_STORE_OK_AND_ASSIGN(auto patient, Open(/*pool_size=*/1, /*connect_timeout_ms=*/20000));
  ASSERT_STORE_OK_AND_ASSIGN(auto held, patient->Begin(TxMode::kWrite));
  Status waited;
  std::thread waiter([&] { waited = patient->Ping(); });
  ASSERT_STORE_OK(held->Commit());
  waiter.join();
  ASSERT_STORE_OK(waited);
}

TEST_F(PostgresStoreTest, OpenStoreChoosesPostgresFromTheConfiguration) {
  StatusOr<Config> config = Config::Load(std::nullopt, {{"NEOSL_STORE_DRIVER", "postgres"},
                                                        {"NEOSL_STORE_POSTGRES_DSN", dsn_},
                                                        {"NEOSL_STORE_POSTGRES_POOL_SIZE", "2"},
                                                        {"NEOSL_STORE_POSTGRES_STATEMENT_TIMEOUT_MS", "4321"}});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_STORE_OK_AND_ASSIGN(auto store, OpenStore(*config, "/nonexistent"));
  EXPECT_EQ(store->backend(), "postgres");
  ASSERT_STORE_OK_AND_ASSIGN(Row timeout, One(*store, "SHOW statement_timeout"));
  EXPECT_EQ(*timeout.Text(0), "4321ms");
}

TEST_F(PostgresStoreTest, TransactionOutlivingItsStoreStillWorks) {
  ASSERT_STORE_OK_AND_ASSIGN(auto store, Open());
  ASSERT_STORE_OK(Write(*store, "CREATE TABLE t (x INTEGER)"));
  ASSERT_STORE_OK_AND_ASSIGN(auto tx, store->Begin(TxMode::kWrite));
  store.reset();
  ASSERT_STORE_OK(tx->Exec("INSERT INTO t (x) VALUES (7)"));
  ASSERT_STORE_OK(tx->Commit());
  tx.reset();
  ASSERT_STORE_OK_AND_ASSIGN(store, Open());
  ASSERT_STORE_OK_AND_ASSIGN(Row row, One(*store, "SELECT x FROM t"));
  EXPECT_EQ(*row.Int(0), 7);
}

}  // namespace
}  // namespace neosl::store
