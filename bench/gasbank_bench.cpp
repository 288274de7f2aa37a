// The gas bank's ledger (services/gasbank/ledger.h) posting reserve + settle pairs on a
// file-backed SQLite store, against plain SQLite inserts of the same rows through the raw sqlite3
// API: per pair, one transaction with the hold's entry, its two lines and the hold row, and one
// with the settlement's entry and its three lines, in tables of the same schema (migration 10, so
// the same indexes and constraints) with the store's settings (WAL, synchronous=NORMAL, foreign
// keys on). The two are measured in the same run, interleaved round by round, so the ratio
// survives a machine shared with other work.
//
// Target (issue #12): ledger pairs per second at least 0.5x the plain inserts'.
//
// Usage: gasbank_bench [seconds per measure = 2] [rounds = 5]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "core/clock.h"
#include "core/ids.h"
#include "core/random.h"
#include "schema/migrations.h"
#include "services/gasbank/ledger.h"
#include "store/sqlite_store.h"

namespace {

using namespace neosl;
using Steady = std::chrono::steady_clock;

constexpr int kAccounts = 64;
constexpr int64_t kHold = 1000;
constexpr int64_t kCharged = 400;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "gasbank_bench: %s\n", what.c_str());
  std::abort();
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.ToString());
}

std::string Account(size_t i) {
  std::string n = std::to_string(i % kAccounts);
  return "acc_" + std::string(20 - n.size(), 'a') + n;
}

// Runs op(i) for i = 0, 1, 2, … (continuing from `*next`) for about `seconds`; operations per
// second.
template <typename Op>
double Rate(double seconds, size_t* next, Op op) {
  size_t n = 0;
  const auto start = Steady::now();
  const auto until = start + std::chrono::duration<double>(seconds);
  Steady::time_point now;
  do {
    for (int i = 0; i < 8; ++i, ++n) op((*next)++);
    now = Steady::now();
  } while (now < until);
  return static_cast<double>(n) / std::chrono::duration<double>(now - start).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::unique_ptr<store::Store> OpenMigrated(const std::string& path) {
  StatusOr<std::unique_ptr<store::Store>> store = store::OpenSqliteStore({.path = path});
  Check(store.status(), "opening the store");
  Check((*store)->Migrate(schema::Migrations()), "migrating");
  return std::move(*store);
}

// The plain peer: prepared INSERTs on one raw connection.
class PlainInserts {
 public:
  explicit PlainInserts(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) Die("sqlite3_open_v2");
    Run("PRAGMA journal_mode=WAL");
    Run("PRAGMA foreign_keys=ON");
    Run("PRAGMA synchronous=NORMAL");
    sqlite3_busy_timeout(db_, 5000);
    begin_ = Prepare("BEGIN IMMEDIATE");
    commit_ = Prepare("COMMIT");
    entry_ = Prepare(
        "INSERT INTO gasbank_entries (seq, entry_key, kind, account_id, service, reference, lines_digest, "
        "created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    line_ = Prepare("INSERT INTO gasbank_lines (seq, line_no, book, account_id, amount) VALUES (?, ?, ?, ?, ?)");
    hold_ = Prepare(
        "INSERT INTO gasbank_holds (id, account_id, service, reference, amount, state, charged, hold_key, "
        "created_at_ms, expires_at_ms) VALUES (?, ?, ?, ?, ?, 'open', 0, ?, ?, ?)");
  }
  ~PlainInserts() {
    for (sqlite3_stmt* s : {begin_, commit_, entry_, line_, hold_}) sqlite3_finalize(s);
    sqlite3_close(db_);
  }
  PlainInserts(const PlainInserts&) = delete;
  PlainInserts& operator=(const PlainInserts&) = delete;

  void Pair(size_t i, const std::string& hold_id, int64_t now_ms) {
    const std::string account = Account(i);
    const std::string key = "pair-" + std::to_string(i);
    Step(begin_);
    Entry("hold:" + hold_id, "hold", account, key, now_ms);
    Line(0, "available", account, -kHold);
    Line(1, "held", account, kHold);
    BindText(hold_, 1, hold_id);
    BindText(hold_, 2, account);
    BindText(hold_, 3, "functions");
    BindText(hold_, 4, key);
    sqlite3_bind_int64(hold_, 5, kHold);
    BindText(hold_, 6, key);
    sqlite3_bind_int64(hold_, 7, now_ms);
    sqlite3_bind_int64(hold_, 8, now_ms + 60'000);
    Step(hold_);
    Step(commit_);

    Step(begin_);
    Entry("settle:" + hold_id, "settle", account, key, now_ms);
    Line(0, "held", account, -kHold);
    Line(1, "revenue", "", kCharged);
    Line(2, "available", account, kHold - kCharged);
    Step(commit_);
  }

 private:
  void Run(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) Die(sqlite3_errmsg(db_));
  }
  sqlite3_stmt* Prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
      Die(sqlite3_errmsg(db_));
    }
    return s;
  }
  static void BindText(sqlite3_stmt* s, int i, const std::string& v) {
    sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void Step(sqlite3_stmt* s) {
    if (sqlite3_step(s) != SQLITE_DONE) Die(sqlite3_errmsg(db_));
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
  void Entry(const std::string& key, const char* kind, const std::string& account, const std::string& reference,
             int64_t now_ms) {
    ++seq_;
    seq_in_tx_ = seq_;
    sqlite3_bind_int64(entry_, 1, seq_);
    BindText(entry_, 2, key);
    BindText(entry_, 3, kind);
    BindText(entry_, 4, account);
    BindText(entry_, 5, "functions");
    BindText(entry_, 6, reference);
    BindText(entry_, 7, std::string(64, 'd'));
    sqlite3_bind_int64(entry_, 8, now_ms);
    Step(entry_);
  }
  void Line(int no, const char* book, const std::string& account, int64_t amount) {
    sqlite3_bind_int64(line_, 1, seq_in_tx_);
    sqlite3_bind_int64(line_, 2, no);
    BindText(line_, 3, book);
    BindText(line_, 4, account);
    sqlite3_bind_int64(line_, 5, amount);
    Step(line_);
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  sqlite3_stmt* entry_ = nullptr;
  sqlite3_stmt* line_ = nullptr;
  sqlite3_stmt* hold_ = nullptr;
  int64_t seq_ = 0;
  int64_t seq_in_tx_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::strtod(argv[1], nullptr) : 2.0;
  const int rounds = argc > 2 ? static_cast<int>(std::strtol(argv[2], nullptr, 10)) : 5;
  if (seconds <= 0 || rounds <= 0) Die("usage: gasbank_bench [seconds per measure = 2] [rounds = 5]");

  char dir_template[] = "/tmp/gasbank_bench.XXXXXX";
  const char* dir_name = mkdtemp(dir_template);
  if (dir_name == nullptr) Die("mkdtemp failed");
  const std::string dir = dir_name;

  SystemClock& clock = SystemClock::Instance();
  DeterministicRandom random(4711);
  std::unique_ptr<store::Store> store = OpenMigrated(dir + "/ledger.db");
  gasbank::Ledger ledger(*store, clock, random);
  for (size_t a = 0; a < kAccounts; ++a) {
    gasbank::Entry deposit{.key = "deposit-" + std::to_string(a),
                           .kind = "deposit",
                           .account = Account(a),
                           .service = "gasbank",
                           .lines = {{gasbank::Book::kCustody, "", -1'000'000 * gasbank::kDatoshiPerGas},
                                     {gasbank::Book::kAvailable, Account(a), 1'000'000 * gasbank::kDatoshiPerGas}}};
    Check(ledger.Post(deposit).status(), "deposit");
  }
  OpenMigrated(dir + "/plain.db").reset();
  PlainInserts plain(dir + "/plain.db");
  DeterministicRandom plain_random(4712);

  std::vector<double> ledger_rates;
  std::vector<double> plain_rates;
  size_t ledger_next = 0;
  size_t plain_next = 0;
  const double slice = seconds / rounds;
  for (int round = 0; round < rounds; ++round) {
    ledger_rates.push_back(Rate(slice, &ledger_next, [&](size_t i) {
      const std::string key = "pair-" + std::to_string(i);
      StatusOr<gasbank::HoldInfo> hold = ledger.Reserve(Account(i), kHold, "functions", key, key, 60'000);
      Check(hold.status(), "reserve");
      Check(ledger.Settle(hold->id, kCharged).status(), "settle");
    }));
    plain_rates.push_back(Rate(slice, &plain_next, [&](size_t i) {
      plain.Pair(i, GenerateId("hold_", 20, plain_random), clock.NowUnixMillis());
    }));
  }

  StatusOr<gasbank::AuditReport> audit = ledger.Audit();
  Check(audit.status(), "audit");
  if (!audit->ok) Die("the audit failed: " + audit->problems.front());

  const double ledger_median = Median(ledger_rates);
  const double plain_median = Median(plain_rates);
  const double ratio = ledger_median / plain_median;
  std::printf(
      "gasbank bench: reserve + settle pairs, SQLite %s (WAL, synchronous=NORMAL), %d rounds x %.2f s, "
      "median; %zu ledger pairs, %zu plain pairs, audit of %lld entries ok\n",
      sqlite3_libversion(), rounds, slice, ledger_next, plain_next, static_cast<long long>(audit->entries));
  auto print = [](const char* name, const std::vector<double>& rates, double median) {
    const auto [lo, hi] = std::minmax_element(rates.begin(), rates.end());
    std::printf("%-20s %9.0f /s  %7.2f us/pair  %9.0f postings/s   (rounds %.0f..%.0f)\n", name, median, 1e6 / median,
                2 * median, *lo, *hi);
  };
  print("ledger pairs", ledger_rates, ledger_median);
  print("plain insert pairs", plain_rates, plain_median);
  std::printf("%-20s %6.3f   target >= 0.50: %s\n", "ledger / plain", ratio, ratio >= 0.5 ? "met" : "MISSED");
  std::printf(
      "{\"measure\":\"ledger reserve+settle\",\"pairs_per_second\":%.0f,\"postings_per_second\":%.0f,"
      "\"us_per_pair\":%.2f,\"rounds\":%d}\n",
      ledger_median, 2 * ledger_median, 1e6 / ledger_median, rounds);
  std::printf(
      "{\"measure\":\"plain sqlite inserts\",\"pairs_per_second\":%.0f,\"postings_per_second\":%.0f,"
      "\"us_per_pair\":%.2f,\"rounds\":%d}\n",
      plain_median, 2 * plain_median, 1e6 / plain_median, rounds);
  std::printf("{\"measure\":\"ledger/plain\",\"ratio\":%.3f,\"target\":0.5,\"met\":%s}\n", ratio,
              ratio >= 0.5 ? "true" : "false");

  store.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
