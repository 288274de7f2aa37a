// The gas bank's ledger on a real SQLite store with every migration: postings, holds, refusals
// that write nothing, idempotency, the audit catching tampering, and concurrent debits.
#include "services/gasbank/ledger.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/random.h"
#include "schema/migrations.h"
#include "store/sqlite_store.h"
#include "support/temp_dir.h"

namespace neosl::gasbank {
namespace {

constexpr char kAlice[] = "acc_aaaaaaaaaaaaaaaaaaaa";
constexpr char kBob[] = "acc_bbbbbbbbbbbbbbbbbbbb";
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

Entry Deposit(const std::string& account, int64_t amount, const std::string& key) {
  return Entry{.key = key,
               .kind = "deposit",
               .account = account,
               .service = "gasbank",
               .reference = "0x" + key,
               .lines = {{Book::kCustody, "", -amount}, {Book::kAvailable, account, amount}}};
}

// available → revenue: a direct charge without a hold.
Entry Charge(const std::string& account, int64_t amount, const std::string& key) {
  return Entry{.key = key,
               .kind = "charge",
               .account = account,
               .service = "functions",
               .lines = {{Book::kAvailable, account, -amount}, {Book::kRevenue, "", amount}}};
}

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A long busy timeout: the concurrency test queues a thousand writers on one connection.
    auto store = store::OpenSqliteStore({.path = dir_.File("neosl.db"), .busy_timeout_ms = 120'000});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    Status migrated = store_->Migrate(schema::Migrations());
    ASSERT_TRUE(migrated.ok()) << migrated.ToString();
    ledger_ = std::make_unique<Ledger>(*store_, clock_, random_);
  }

  void ExpectBalance(const std::string& account, int64_t available, int64_t held, int64_t pending = 0) {
    StatusOr<Balance> b = ledger_->BalanceOf(account);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    EXPECT_EQ(b->available, available) << account;
    EXPECT_EQ(b->held, held) << account;
    EXPECT_EQ(b->pending_withdrawal, pending) << account;
  }

  int64_t Platform(Book book) {
    StatusOr<int64_t> v = ledger_->PlatformBalance(book);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : -1;
  }

  int64_t Count(const std::string& table) {
    auto rows = store_->Query("SELECT COUNT(*) FROM " + table);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *(*rows)[0].Int(0) : -1;
  }

  void Exec(const std::string& sql) {
    Status s = store::RunInTransaction(*store_, store::TxMode::kWrite,
                                       [&](store::Transaction& tx) { return tx.Exec(sql).status(); });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  AuditReport Audit() {
    StatusOr<AuditReport> report = ledger_->Audit();
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : AuditReport{.ok = false};
  }

  void ExpectAuditOk() {
    AuditReport report = Audit();
    EXPECT_TRUE(report.ok);
    for (const std::string& p : report.problems) ADD_FAILURE() << p;
  }

  // Whether some problem of the audit contains `text`.
  static bool Mentions(const AuditReport& report, const std::string& text) {
    return std::any_of(report.problems.begin(), report.problems.end(),
                       [&](const std::string& p) { return p.find(text) != std::string::npos; });
  }

  HoldInfo MustReserve(const std::string& account, int64_t amount, const std::string& key, int64_t ttl_ms = 60'000) {
    StatusOr<HoldInfo> hold = ledger_->Reserve(account, amount, "functions", "ex_" + key, key, ttl_ms);
    EXPECT_TRUE(hold.ok()) << hold.status().ToString();
    return hold.ok() ? *hold : HoldInfo{};
  }

  neosl::testing::TempDir dir_;
  ManualClock clock_;
  DeterministicRandom random_{12};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Ledger> ledger_;
};

TEST(BookTest, NamesRoundTrip) {
  for (Book b : {Book::kAvailable, Book::kHeld, Book::kPendingWithdrawal, Book::kRevenue, Book::kCustody}) {
    EXPECT_EQ(ParseBook(BookName(b)), b);
  }
  EXPECT_EQ(BookName(Book::kPendingWithdrawal), "pending_withdrawal");
  EXPECT_FALSE(ParseBook("savings").has_value());
  EXPECT_TRUE(IsUserBook(Book::kHeld));
  EXPECT_FALSE(IsUserBook(Book::kCustody));
}

TEST_F(LedgerTest, DepositMovesCustodyToAvailable) {
  StatusOr<Posted> posted = ledger_->Post(Deposit(kAlice, 5 * kDatoshiPerGas, "dep1"));
  ASSERT_TRUE(posted.ok()) << posted.status().ToString();
  EXPECT_EQ(posted->seq, 1);
  EXPECT_FALSE(posted->replay);
  EXPECT_EQ(posted->created_at_ms, clock_.NowUnixMillis());
  ExpectBalance(kAlice, 5 * kDatoshiPerGas, 0);
  EXPECT_EQ(Platform(Book::kCustody), -5 * kDatoshiPerGas);
  EXPECT_EQ(Platform(Book::kRevenue), 0);
  ExpectBalance(kBob, 0, 0);

  ASSERT_TRUE(ledger_->Post(Deposit(kAlice, 7, "dep2")).ok());
  EXPECT_EQ(ledger_->Post(Deposit(kBob, 3, "dep3"))->seq, 3);
  ExpectBalance(kAlice, 5 * kDatoshiPerGas + 7, 0);
  ExpectBalance(kBob, 3, 0);
  EXPECT_EQ(Platform(Book::kCustody), -5 * kDatoshiPerGas - 10);
  EXPECT_EQ(ledger_->PlatformBalance(Book::kAvailable).status().code(), StatusCode::kInvalidArgument);

  AuditReport report = Audit();
  EXPECT_TRUE(report.ok);
  EXPECT_EQ(report.entries, 3);
  EXPECT_EQ(report.lines, 6);
}

TEST_F(LedgerTest, ReserveSettleAndRelease) {
  ASSERT_TRUE(ledger_->Post(Deposit(kAlice, 1000, "dep")).ok());

  HoldInfo h1 = MustReserve(kAlice, 300, "k1");
  EXPECT_EQ(h1.id.substr(0, 5), "hold_");
  EXPECT_EQ(h1.id.size(), 25u);
  EXPECT_EQ(h1.state, "open");
  EXPECT_EQ(h1.amount, 300);
  EXPECT_EQ(h1.expires_at_ms, clock_.NowUnixMillis() + 60'000);
  ExpectBalance(kAlice, 700, 300);

  StatusOr<HoldInfo> settled = ledger_->Settle(h1.id, 120);
  ASSERT_TRUE(settled.ok()) << settled.status().ToString();
  EXPECT_EQ(settled->state, "settled");
  EXPECT_EQ(settled->charged, 120);
  ExpectBalance(kAlice, 880, 0);
  EXPECT_EQ(Platform(Book::kRevenue), 120);

  HoldInfo h2 = MustReserve(kAlice, 200, "k2");
  ExpectBalance(kAlice, 680, 200);
  StatusOr<HoldInfo> released = ledger_->Release(h2.id);
  ASSERT_TRUE(released.ok()) << released.status().ToString();
  EXPECT_EQ(released->state, "released");
  EXPECT_EQ(released->charged, 0);
  ExpectBalance(kAlice, 880, 0);

  // Charging all of a hold, and none of it.
  HoldInfo h3 = MustReserve(kAlice, 80, "k3");
  HoldInfo h4 = MustReserve(kAlice, 50, "k4");
  ExpectBalance(kAlice, 750, 130);
  ASSERT_TRUE(ledger_->Settle(h3.id, 80).ok());
  ASSERT_TRUE(ledger_->Settle(h4.id, 0).ok());
  ExpectBalance(kAlice, 800, 0);
  EXPECT_EQ(Platform(Book::kRevenue), 200);
  EXPECT_EQ(Platform(Book::kCustody), -1000);
  ExpectAuditOk();
}

TEST_F(LedgerTest, InsufficientFundsWritesNothing) {
  ASSERT_TRUE(ledger_->Post(Deposit(kAlice, 100, "dep")).ok());
  const int64_t entries = Count("gasbank_entries");
  const int64_t lines = Count("gasbank_lines");

  StatusOr<HoldInfo> hold = ledger_->Reserve(kAlice, 101, "functions", "ex_1", "k1", 1000);
  EXPECT_EQ(hold.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(hold.status().message().find("insufficient funds"), std::string_view::npos);
  EXPECT_EQ(ledger_->Reserve(kBob, 1, "functions", "ex_2", "k2", 1000).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(ledger_->Post(Charge(kAlice, 101, "c1")).status().code(), StatusCode::kFailedPrecondition);
  ExpectBalance(kAlice, 100, 0);
  EXPECT_EQ(Count("gasbank_entries"), entries);
  EXPECT_EQ(Count("gasbank_lines"), lines);
  EXPECT_EQ(Count("gasbank_holds"), 0);
  EXPECT_EQ(Count("gasbank_balances"), 2);  // Bob's debit made no row for him

  // Refused after other lines were applied (they go in book, account order: acc_0's new row
  // before Alice's short debit; Alice's debit and Bob's new row before Alice's empty held book):
  // the caller's transaction is left as it was and can still commit.
  Entry transfer{.key = "t1",
                 .kind = "transfer",
                 .account = kAlice,
                 .lines = {{Book::kAvailable, kAlice, -150}, {Book::kAvailable, "acc_0", 150}}};
  Entry spread{.key = "t2",
               .kind = "transfer",
               .account = kAlice,
               .lines = {{Book::kAvailable, kAlice, -60},
                         {Book::kAvailable, kBob, 60},
                         {Book::kHeld, kAlice, -1},
                         {Book::kRevenue, "", 1}}};
  {
    auto tx = store_->Begin(store::TxMode::kWrite);
    ASSERT_TRUE(tx.ok());
    EXPECT_EQ(Ledger::Post(**tx, transfer, 1).status().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(Ledger::Post(**tx, spread, 1).status().code(), StatusCode::kFailedPrecondition);
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  ExpectBalance(kAlice, 100, 0);
  ExpectBalance(kBob, 0, 0);
  EXPECT_EQ(Count("gasbank_balances"), 2);
  EXPECT_EQ(Count("gasbank_entries"), entries);
  EXPECT_EQ(Platform(Book::kRevenue), 0);
  ExpectAuditOk();
}

TEST_F(LedgerTest, ReplayAndReusedKeys) {
  StatusOr<Posted> first = ledger_->Post(Deposit(kAlice, 100, "dep"));
  ASSERT_TRUE(first.ok());
  clock_.Advance(std::chrono::seconds(5));
  StatusOr<Posted> again = ledger_->Post(Deposit(kAlice, 100, "dep"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->replay);
  EXPECT_EQ(again->seq, first->seq);
  EXPECT_EQ(again->created_at_ms, first->created_at_ms);
  ExpectBalance(kAlice, 100, 0);

  // The same lines in another order are the same entry.
  Entry reordered = Deposit(kAlice, 100, "dep");
  std::reverse(reordered.lines.begin(), reordered.lines.end());
  EXPECT_TRUE(ledger_->Post(reordered)->replay);

  EXPECT_EQ(ledger_->Post(Deposit(kAlice, 101, "dep")).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(ledger_->Post(Deposit(kBob, 100, "dep")).status().code(), StatusCode::kAlreadyExists);
  Entry other_reference = Deposit(kAlice, 100, "dep");
  other_reference.reference = "0xother";
  EXPECT_EQ(ledger_->Post(other_reference).status().code(), StatusCode::kAlreadyExists);
  ExpectBalance(kAlice, 100, 0);
  EXPECT_EQ(Count("gasbank_entries"), 1);

  HoldInfo hold = MustReserve(kAlice, 40, "ex-1");
  HoldInfo same = MustReserve(kAlice, 40, "ex-1");
  EXPECT_EQ(same.id, hold.id);
  ExpectBalance(kAlice, 60, 40);
  EXPECT_EQ(ledger_->Reserve(kAlice, 41, "functions", "ex_ex-1", "ex-1", 60'000).status().code(),
            StatusCode::kAlreadyExists);
  ASSERT_TRUE(ledger_->Settle(hold.id, 10).ok());
  // A replayed reserve of a settled hold answers with the hold as it is now.
  HoldInfo after = MustReserve(kAlice, 40, "ex-1");
  EXPECT_EQ(after.state, "settled");
  EXPECT_EQ(after.charged, 10);
  ExpectBalance(kAlice, 90, 0);
  ExpectAuditOk();
}

TEST_F(LedgerTest, MalformedEntriesAreRefused) {
  auto with_lines = [](std::vector<Line> lines) {
    return Entry{.key = "bad", .kind = "deposit", .account = kAlice, .lines = std::move(lines)};
  };
  std::vector<std::pair<std::string, Entry>> cases = {
      {"sum not zero", with_lines({{Book::kCustody, "", -10}, {Book::kAvailable, kAlice, 9}})},
      {"zero amount",
       with_lines({{Book::kCustody, "", -10}, {Book::kAvailable, kAlice, 10}, {Book::kAvailable, kBob, 0}})},
      {"sum overflows", with_lines({{Book::kAvailable, kAlice, kMax},
                                    {Book::kAvailable, kBob, kMax},
                                    {Book::kCustody, "", -kMax},
                                    {Book::kRevenue, "", -kMax}})},
      {"amount without a negation",
       with_lines({{Book::kCustody, "", kMin}, {Book::kAvailable, kAlice, kMax}, {Book::kAvailable, kBob, 1}})},
      {"platform book with an account", with_lines({{Book::kCustody, kAlice, -10}, {Book::kAvailable, kAlice, 10}})},
      {"user book without an account", with_lines({{Book::kCustody, "", -10}, {Book::kAvailable, "", 10}})},
      {"one line", with_lines({{Book::kAvailable, kAlice, 0}})},
      {"no lines", with_lines({})},
      {"same book twice", with_lines({{Book::kAvailable, kAlice, -10}, {Book::kAvailable, kAlice, 10}})},
  };
  std::vector<Line> many;
  many.reserve(17);
  for (int i = 0; i < 17; ++i) many.push_back({Book::kAvailable, "acc_" + std::to_string(i), i == 0 ? -16 : 1});
  cases.emplace_back("seventeen lines", with_lines(many));
  Entry no_key = Deposit(kAlice, 1, "");
  cases.emplace_back("empty key", no_key);
  cases.emplace_back("long key", Deposit(kAlice, 1, std::string(201, 'k')));
  Entry bad_kind = Deposit(kAlice, 1, "k");
  bad_kind.kind = "Deposit";
  cases.emplace_back("kind with a capital", bad_kind);
  bad_kind.kind = "";
  cases.emplace_back("empty kind", bad_kind);
  bad_kind.kind = std::string(33, 'a');
  cases.emplace_back("long kind", bad_kind);

  for (const auto& [name, entry] : cases) {
    EXPECT_EQ(ledger_->Post(entry).status().code(), StatusCode::kInvalidArgument) << name;
  }
  Entry longest_key = Deposit(kAlice, 1, std::string(200, 'k'));
  longest_key.reference = "0x01";
  EXPECT_TRUE(ledger_->Post(longest_key).ok());
  EXPECT_EQ(Count("gasbank_entries"), 1);

  // The hold operations check their arguments too.
  EXPECT_EQ(ledger_->Reserve(kAlice, 0, "functions", "", "r1", 1000).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_->Reserve(kAlice, -1, "functions", "", "r1", 1000).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_->Reserve(kAlice, 1, "functions", "", "r1", 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_->Reserve(kAlice, 1, "functions", "", "r1", kMax).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_->Reserve("", 1, "functions", "", "r1", 1000).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_->Reserve(kAlice, 1, "functions", "", "", 1000).status().code(), StatusCode::kInvalidArgument);
  HoldInfo hold = MustReserve(kAlice, 1, "r1");
  EXPECT_EQ(ledger_->Settle(hold.id, 2).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_->Settle(hold.id, -1).status().code(), StatusCode::kInvalidArgument);
  ExpectBalance(kAlice, 0, 1);
  ExpectAuditOk();
}

TEST_F(LedgerTest, BalancesNeverOverflow) {
  ASSERT_TRUE(ledger_->Post(Deposit(kAlice, kMax, "d1")).ok());
  StatusOr<Posted> more = ledger_->Post(Deposit(kAlice, 1, "d2"));
  EXPECT_EQ(more.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(more.status().message().find("overflow"), std::string_view::npos);
  ExpectBalance(kAlice, kMax, 0);
  EXPECT_EQ(Platform(Book::kCustody), -kMax);
  // A platform book may reach the minimum, but not pass it.
  ASSERT_TRUE(ledger_->Post(Deposit(kBob, 1, "d3")).ok());
  EXPECT_EQ(Platform(Book::kCustody), kMin);
  EXPECT_EQ(ledger_->Post(Deposit(kBob, 1, "d4")).status().code(), StatusCode::kFailedPrecondition);
  ExpectBalance(kBob, 1, 0);
  ExpectAuditOk();
}

TEST_F(LedgerTest, ExpireReleasesHoldsPastTheirTime) {
  ASSERT_TRUE(ledger_->Post(Deposit(kAlice, 100, "dep")).ok());
  HoldInfo soon = MustReserve(kAlice, 30, "soon", 1000);
  HoldInfo later = MustReserve(kAlice, 20, "later", 5000);
  HoldInfo settled = MustReserve(kAlice, 10, "settled", 1000);
  ASSERT_TRUE(ledger_->Settle(settled.id, 4).ok());
  ExpectBalance(kAlice, 46, 50);

  clock_.Advance(std::chrono::milliseconds(999));
  EXPECT_EQ(*ledger_->Expire(), 0);
  clock_.Advance(std::chrono::milliseconds(1));
  EXPECT_EQ(*ledger_->Expire(), 1);
  ExpectBalance(kAlice, 76, 20);
  EXPECT_EQ(ledger_->Settle(soon.id, 1).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(*ledger_->Expire(), 0);

  // Past its time but not yet expired, a hold can still be settled.
  clock_.Advance(std::chrono::milliseconds(4500));
  ASSERT_TRUE(ledger_->Settle(later.id, 5).ok());
  EXPECT_EQ(*ledger_->Expire(), 0);
  ExpectBalance(kAlice, 91, 0);
  EXPECT_EQ(Platform(Book::kRevenue), 9);
  auto kinds = store_->Query("SELECT kind FROM gasbank_entries WHERE entry_key = ?", {"expire:" + soon.id});
  ASSERT_TRUE(kinds.ok());
  ASSERT_EQ(kinds->size(), 1u);
  EXPECT_EQ(*(*kinds)[0].Text(0), "expire");
  ExpectAuditOk();
}

TEST_F(LedgerTest, AHoldClosesOnce) {
  ASSERT_TRUE(ledger_->Post(Deposit(kAlice, 100, "dep")).ok());
  HoldInfo a = MustReserve(kAlice, 30, "a");
  HoldInfo b = MustReserve(kAlice, 30, "b");
  ASSERT_TRUE(ledger_->Settle(a.id, 10).ok());
  EXPECT_EQ(ledger_->Settle(a.id, 10).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ledger_->Release(a.id).status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(ledger_->Release(b.id).ok());
  EXPECT_EQ(ledger_->Release(b.id).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ledger_->Settle(b.id, 0).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ledger_->Settle("hold_unknownunknownunkn", 0).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ledger_->Release("hold_unknownunknownunkn").status().code(), StatusCode::kNotFound);
  ExpectBalance(kAlice, 90, 0);
  EXPECT_EQ(Platform(Book::kRevenue), 10);
  ExpectAuditOk();
}

TEST_F(LedgerTest, AuditCatchesATamperedBalance) {
  ASSERT_TRUE(ledger_->Post(Deposit(kAlice, 100, "dep")).ok());
  MustReserve(kAlice, 30, "h");
  ExpectAuditOk();
  Exec("UPDATE gasbank_balances SET balance = balance + 1 WHERE book = 'available' AND account_id = '" +
       std::string(kAlice) + "'");
  AuditReport report = Audit();
  EXPECT_FALSE(report.ok);
  EXPECT_TRUE(Mentions(report, "the balance of available of account " + std::string(kAlice) + " is 71"))
      << ::testing::PrintToString(report.problems);
}

TEST_F(LedgerTest, AuditCatchesATamperedLine) {
  ASSERT_TRUE(ledger_->Post(Deposit(kAlice, 100, "dep")).ok());
  ASSERT_TRUE(ledger_->Post(Charge(kAlice, 10, "c")).ok());
  ExpectAuditOk();
  Exec("UPDATE gasbank_lines SET amount = amount + 5 WHERE seq = 2 AND line_no = 1");
  AuditReport report = Audit();
  EXPECT_FALSE(report.ok);
  EXPECT_TRUE(Mentions(report, "entry 2's lines sum to 5, not 0")) << ::testing::PrintToString(report.problems);
  EXPECT_TRUE(Mentions(report, "entry 2 does not match its digest"));
  EXPECT_TRUE(Mentions(report, "the balance of revenue is 10 but its lines sum to 15"));

  // A balanced forgery (both lines and the balances) still breaks the digest.
  Exec("UPDATE gasbank_lines SET amount = amount - 5 WHERE seq = 2 AND line_no = 1");
  ExpectAuditOk();
  Exec("UPDATE gasbank_lines SET amount = -1 WHERE seq = 2 AND line_no = 0");
  Exec("UPDATE gasbank_lines SET amount = 1 WHERE seq = 2 AND line_no = 1");
  Exec("UPDATE gasbank_balances SET balance = 99 WHERE book = 'available'");
  Exec("UPDATE gasbank_balances SET balance = 1 WHERE book = 'revenue'");
  report = Audit();
  EXPECT_FALSE(report.ok);
  ASSERT_EQ(report.problems.size(), 1u) << ::testing::PrintToString(report.problems);
  EXPECT_EQ(report.problems[0], "entry 2 does not match its digest");
}

TEST_F(LedgerTest, AuditCatchesGapsAndHolds) {
  ASSERT_TRUE(ledger_->Post(Deposit(kAlice, 100, "d1")).ok());
  ASSERT_TRUE(ledger_->Post(Deposit(kAlice, 5, "d2")).ok());
  HoldInfo hold = MustReserve(kAlice, 30, "h");
  ExpectAuditOk();
  Exec("UPDATE gasbank_holds SET amount = 31 WHERE id = '" + hold.id + "'");
  Exec("DELETE FROM gasbank_lines WHERE seq = 2");
  Exec("DELETE FROM gasbank_entries WHERE seq = 2");
  AuditReport report = Audit();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.entries, 2);
  EXPECT_TRUE(Mentions(report, "the journal skips from entry 1 to 3")) << ::testing::PrintToString(report.problems);
  EXPECT_TRUE(Mentions(report, "the open holds of account " + std::string(kAlice) + " sum to 31"));
  EXPECT_TRUE(Mentions(report, "the balance of custody is -105 but its lines sum to -100"));
}

// Holds inside a caller's transaction: they commit, or roll back, with the caller's own rows.
TEST_F(LedgerTest, HoldsInsideACallersTransaction) {
  ASSERT_TRUE(ledger_->Post(Deposit(kAlice, 100, "dep")).ok());
  const int64_t now = clock_.NowUnixMillis();
  auto reserve = [&](store::Transaction& tx, int64_t amount, const std::string& key) {
    return Ledger::Reserve(tx, kAlice, amount, "gasbank", "wd_" + key, key, std::nullopt, now, random_);
  };

  // Rolled back: no hold, no entry, no balance moved.
  {
    auto tx = store_->Begin(store::TxMode::kWrite);
    ASSERT_TRUE(tx.ok());
    StatusOr<HoldInfo> hold = reserve(**tx, 40, "gone");
    ASSERT_TRUE(hold.ok()) << hold.status().ToString();
    ASSERT_TRUE((*tx)->Rollback().ok());
  }
  ExpectBalance(kAlice, 100, 0);
  EXPECT_EQ(Count("gasbank_holds"), 0);
  EXPECT_EQ(Count("gasbank_entries"), 1);

  // Committed with a row of the caller's; a refused reserve in between leaves the transaction
  // as it was, so the caller may carry on.
  HoldInfo kept;
  Status s = store::RunInTransaction(*store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    EXPECT_EQ(reserve(tx, 101, "too-much").status().code(), StatusCode::kFailedPrecondition);
    ASSIGN_OR_RETURN(kept, reserve(tx, 40, "kept"));
    return tx.Exec("INSERT INTO gasbank_settings (name, value) VALUES ('test', ?)", {kept.id}).status();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(kept.state, "open");
  EXPECT_EQ(kept.expires_at_ms, kHoldNeverExpires);
  ExpectBalance(kAlice, 60, 40);
  EXPECT_EQ(Count("gasbank_holds"), 1);
  EXPECT_EQ(Count("gasbank_settings"), 1);

  // The same key in another transaction: the same hold.
  s = store::RunInTransaction(*store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(HoldInfo again, reserve(tx, 40, "kept"));
    EXPECT_EQ(again.id, kept.id);
    EXPECT_EQ(reserve(tx, 41, "kept").status().code(), StatusCode::kAlreadyExists);
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();

  // A hold without a time to live is never expired.
  clock_.Advance(std::chrono::hours(24 * 365 * 100));
  EXPECT_EQ(*ledger_->Expire(), 0);
  ExpectBalance(kAlice, 60, 40);

  // A settle rolled back leaves the hold open; committed, it closes once.
  {
    auto tx = store_->Begin(store::TxMode::kWrite);
    ASSERT_TRUE(tx.ok());
    StatusOr<HoldInfo> settled = Ledger::Settle(**tx, kept.id, 15, now);
    ASSERT_TRUE(settled.ok()) << settled.status().ToString();
    EXPECT_EQ(settled->state, "settled");
    ASSERT_TRUE((*tx)->Rollback().ok());
  }
  ExpectBalance(kAlice, 60, 40);
  s = store::RunInTransaction(*store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(HoldInfo settled, Ledger::Settle(tx, kept.id, 15, now));
    EXPECT_EQ(settled.charged, 15);
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectBalance(kAlice, 85, 0);
  EXPECT_EQ(Platform(Book::kRevenue), 15);
  s = store::RunInTransaction(*store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    EXPECT_EQ(Ledger::Settle(tx, kept.id, 15, now).status().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(Ledger::Release(tx, kept.id, now).status().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(Ledger::Release(tx, "hold_unknownunknownunkn", now).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(Ledger::Settle(tx, kept.id, -1, now).status().code(), StatusCode::kInvalidArgument);
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();

  // Release in a transaction: the whole hold back.
  s = store::RunInTransaction(*store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(HoldInfo hold, reserve(tx, 25, "released"));
    ASSIGN_OR_RETURN(HoldInfo released, Ledger::Release(tx, hold.id, now));
    EXPECT_EQ(released.state, "released");
    EXPECT_EQ(released.charged, 0);
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectBalance(kAlice, 85, 0);

  // Bounds on a time to live given.
  s = store::RunInTransaction(*store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    EXPECT_EQ(Ledger::Reserve(tx, kAlice, 1, "gasbank", "", "t0", 0, now, random_).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(Ledger::Reserve(tx, kAlice, 1, "gasbank", "", "t1", kMax, now, random_).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(Ledger::Reserve(tx, kAlice, 0, "gasbank", "", "t2", std::nullopt, now, random_).status().code(),
              StatusCode::kInvalidArgument);
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectAuditOk();
}

// A thousand debits of 1 datoshi from a balance of 500, half of them holds and half direct
// charges, all at once: exactly 500 go through and nothing overdraws.
TEST_F(LedgerTest, ConcurrentDebitsNeverOverdraw) {
  ASSERT_TRUE(ledger_->Post(Deposit(kAlice, 500, "dep")).ok());
  constexpr int kThreads = 1000;
  std::atomic<int> ok{0};
  std::atomic<int> refused{0};
  std::atomic<int> other{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      std::string key = "debit-" + std::to_string(i);
      Status s = i % 2 == 0 ? ledger_->Reserve(kAlice, 1, "functions", key, key, 60'000).status()
                            : ledger_->Post(Charge(kAlice, 1, key)).status();
      if (s.ok()) {
        ++ok;
      } else if (s.code() == StatusCode::kFailedPrecondition) {
        ++refused;
      } else {
        ++other;
        ADD_FAILURE() << s.ToString();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 500);
  EXPECT_EQ(refused.load(), 500);
  EXPECT_EQ(other.load(), 0);
  StatusOr<Balance> b = ledger_->BalanceOf(kAlice);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->available, 0);
  EXPECT_EQ(b->held + Platform(Book::kRevenue), 500);
  AuditReport report = Audit();
  EXPECT_TRUE(report.ok) << ::testing::PrintToString(report.problems);
  EXPECT_EQ(report.entries, 501);
}

}  // namespace
}  // namespace neosl::gasbank
