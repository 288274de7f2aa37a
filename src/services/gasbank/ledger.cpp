#include "services/gasbank/ledger.h"

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <memory>
#include <tuple>
#include <utility>

#include "core/business_metrics.h"
#include "core/crash_point.h"
#include "core/encoding.h"
#include "core/ids.h"
#include "crypto/hash.h"
#include "services/gasbank/ledger_internal.h"

namespace neosl::gasbank {
namespace {

constexpr size_t kMaxKeyBytes = 200;
constexpr size_t kMaxKindBytes = 32;
constexpr size_t kMaxFieldBytes = 200;  // account, service, reference
constexpr size_t kMinLines = 2;
constexpr size_t kMaxLines = 16;
constexpr std::string_view kHoldPrefix = "hold_";
constexpr size_t kHoldIdChars = 20;
constexpr int64_t kMaxAmount = std::numeric_limits<int64_t>::max();
constexpr int64_t kMinAmount = std::numeric_limits<int64_t>::min();

constexpr std::array<std::string_view, 5> kBookNames = {"available", "held", "pending_withdrawal", "revenue",
                                                        "custody"};

constexpr std::string_view kHoldColumns =
    "id, account_id, service, reference, amount, state, charged, created_at_ms, expires_at_ms";

// The bounds make "balance + amount" overflow-safe on both backends (SQLite would turn an
// overflowing sum into a REAL, PostgreSQL would fail the statement): `balance >= lo` is
// "balance + amount >= 0" for a debit of a user book, `balance <= hi` keeps a credit in range.
constexpr std::string_view kUpdateBalance =
    "UPDATE gasbank_balances SET balance = balance + ? WHERE book = ? AND account_id = ? AND balance >= ? AND "
    "balance <= ?";
constexpr std::string_view kInsertBalance =
    "INSERT INTO gasbank_balances (book, account_id, balance) VALUES (?, ?, ?) ON CONFLICT (book, account_id) DO "
    "NOTHING";

// What an entry moved, for the metrics: the sum of its credits (its lines sum to zero).
int64_t CreditsOf(const Entry& e) {
  int64_t sum = 0;
  for (const Line& l : e.lines) {
    if (l.amount > 0 && __builtin_add_overflow(sum, l.amount, &sum)) return kMaxAmount;
  }
  return sum;
}

Status CheckText(std::string_view field, const std::string& value, size_t max, bool required) {
  if (required && value.empty()) return FieldViolationError(field, std::string(field) + " is required");
  if (value.size() > max) {
    return FieldViolationError(field, std::string(field) + " is longer than " + std::to_string(max) + " bytes");
  }
  return Status::Ok();
}

Status Validate(const Entry& e) {
  RETURN_IF_ERROR(CheckText("key", e.key, kMaxKeyBytes, true));
  RETURN_IF_ERROR(CheckText("kind", e.kind, kMaxKindBytes, true));
  if (!std::all_of(e.kind.begin(), e.kind.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; })) {
    return FieldViolationError("kind", "kind may hold only a-z and _");
  }
  RETURN_IF_ERROR(CheckText("account", e.account, kMaxFieldBytes, false));
  RETURN_IF_ERROR(CheckText("service", e.service, kMaxFieldBytes, false));
  RETURN_IF_ERROR(CheckText("reference", e.reference, kMaxFieldBytes, false));
  if (e.lines.size() < kMinLines || e.lines.size() > kMaxLines) {
    return FieldViolationError("lines", "an entry has 2 to 16 lines, not " + std::to_string(e.lines.size()));
  }
  int64_t sum = 0;
  for (size_t i = 0; i < e.lines.size(); ++i) {
    const Line& l = e.lines[i];
    std::string field = "lines[" + std::to_string(i) + "]";
    // kMinAmount has no negation, which the balance bounds need.
    if (l.amount == 0 || l.amount == kMinAmount) {
      return FieldViolationError(field + ".amount", "an amount is non-zero and within ±(2^63 - 1)");
    }
    if (__builtin_add_overflow(sum, l.amount, &sum)) {
      return FieldViolationError("lines", "the lines' amounts overflow 64 bits");
    }
    if (IsUserBook(l.book)) {
      RETURN_IF_ERROR(CheckText(field + ".account", l.account, kMaxFieldBytes, true));
    } else if (!l.account.empty()) {
      return FieldViolationError(field + ".account",
                                 "the platform book " + std::string(BookName(l.book)) + " has no account");
    }
    for (size_t j = 0; j < i; ++j) {
      if (e.lines[j].book == l.book && e.lines[j].account == l.account) {
        return FieldViolationError(field, "two lines of one entry name the same book and account");
      }
    }
  }
  if (sum != 0) return FieldViolationError("lines", "the lines sum to " + std::to_string(sum) + ", not 0");
  return Status::Ok();
}

// The lines in (book, account) order: the order balances are locked in (so two postings on
// PostgreSQL cannot deadlock) and the order the digest reads them in.
std::vector<const Line*> Sorted(const std::vector<Line>& lines) {
  std::vector<const Line*> out;
  out.reserve(lines.size());
  for (const Line& l : lines) out.push_back(&l);
  std::sort(out.begin(), out.end(),
            [](const Line* a, const Line* b) { return std::tie(a->book, a->account) < std::tie(b->book, b->account); });
  return out;
}

std::string Digest(const Entry& e, const std::vector<const Line*>& sorted) {
  std::string text;
  auto add = [&text](std::string_view s) {
    text += std::to_string(s.size());
    text += ':';
    text += s;
  };
  add(e.kind);
  add(e.account);
  add(e.service);
  add(e.reference);
  for (const Line* l : sorted) {
    add(BookName(l->book));
    add(l->account);
    text += std::to_string(l->amount);
    text += ';';
  }
  return HexEncode(crypto::Sha256(crypto::AsBytes(text)));
}

// "INSERT … VALUES (…), (…)" for n lines, so an entry's lines take one statement.
const std::string& InsertLinesSql(size_t n) {
  static const std::array<std::string, kMaxLines + 1> kSql = [] {
    std::array<std::string, kMaxLines + 1> sql;
    for (size_t i = 1; i <= kMaxLines; ++i) {
      sql[i] = "INSERT INTO gasbank_lines (seq, line_no, book, account_id, amount) VALUES (?, ?, ?, ?, ?)";
      for (size_t j = 1; j < i; ++j) sql[i] += ", (?, ?, ?, ?, ?)";
    }
    return sql;
  }();
  return kSql[n];
}

struct Applied {
  const Line* line;
  bool inserted;  // the line created its balance row
};

// Adds one line to its book's balance unless that would take a user book below zero or any book
// out of the 64-bit range; *done says whether it did. A missing row is a zero balance.
Status ApplyLine(store::Transaction& tx, const Line& l, std::vector<Applied>& applied, bool* done) {
  const bool user = IsUserBook(l.book);
  int64_t lo = kMinAmount;
  int64_t hi = kMaxAmount;
  if (l.amount > 0) {
    hi = kMaxAmount - l.amount;
  } else {
    lo = user ? -l.amount : kMinAmount - l.amount;
  }
  const std::string book(BookName(l.book));
  *done = false;
  ASSIGN_OR_RETURN(int64_t changed, tx.Exec(kUpdateBalance, {l.amount, book, l.account, lo, hi}));
  if (changed == 1) {
    applied.push_back({&l, false});
    *done = true;
    return Status::Ok();
  }
  if (user && l.amount < 0) return Status::Ok();  // nothing there to debit
  ASSIGN_OR_RETURN(changed, tx.Exec(kInsertBalance, {book, l.account, l.amount}));
  if (changed == 1) {
    applied.push_back({&l, true});
    *done = true;
    return Status::Ok();
  }
  // The row was there after all (made by a concurrent posting on PostgreSQL): try it once more.
  ASSIGN_OR_RETURN(changed, tx.Exec(kUpdateBalance, {l.amount, book, l.account, lo, hi}));
  if (changed == 1) {
    applied.push_back({&l, false});
    *done = true;
  }
  return Status::Ok();
}

// Takes back the lines a refused posting had applied, so that it writes nothing.
Status Undo(store::Transaction& tx, const std::vector<Applied>& applied) {
  for (const Applied& a : applied) {
    const std::string book(BookName(a.line->book));
    if (a.inserted) {
      RETURN_IF_ERROR(
          tx.Exec("DELETE FROM gasbank_balances WHERE book = ? AND account_id = ?", {book, a.line->account}));
    } else {
      RETURN_IF_ERROR(tx.Exec("UPDATE gasbank_balances SET balance = balance - ? WHERE book = ? AND account_id = ?",
                              {a.line->amount, book, a.line->account}));
    }
  }
  return Status::Ok();
}

// Posts a validated entry. `check_replay` is false for the hold operations, whose keys carry a
// fresh hold id and so cannot have been used.
StatusOr<Posted> PostValid(store::Transaction& tx, const Entry& e, int64_t now_ms, bool check_replay) {
  const std::vector<const Line*> sorted = Sorted(e.lines);
  std::string digest = Digest(e, sorted);
  if (check_replay) {
    ASSIGN_OR_RETURN(
        std::optional<store::Row> prior,
        tx.QueryOptional("SELECT seq, lines_digest, created_at_ms FROM gasbank_entries WHERE entry_key = ?", {e.key}));
    if (prior) {
      ASSIGN_OR_RETURN(std::string prior_digest, prior->Text(1));
      if (prior_digest != digest) {
        return AlreadyExistsError("ledger entry key was used for another entry");
      }
      Posted posted{.replay = true};
      ASSIGN_OR_RETURN(posted.seq, prior->Int(0));
      ASSIGN_OR_RETURN(posted.created_at_ms, prior->Int(2));
      return posted;
    }
  }
  std::vector<Applied> applied;
  applied.reserve(sorted.size());
  for (const Line* l : sorted) {
    bool done = false;
    RETURN_IF_ERROR(ApplyLine(tx, *l, applied, &done));
    if (done) continue;
    RETURN_IF_ERROR(Undo(tx, applied));
    std::string where = std::string(BookName(l->book)) + (l->account.empty() ? "" : " of account " + l->account);
    if (IsUserBook(l->book) && l->amount < 0) return FailedPreconditionError("insufficient funds in " + where);
    return FailedPreconditionError("the balance of " + where + " would overflow");
  }
  // Taken last, so that the row lock serialising postings on PostgreSQL is held briefly.
  ASSIGN_OR_RETURN(std::vector<store::Row> counter,
                   tx.Query("UPDATE gasbank_journal SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq"));
  if (counter.size() != 1) return InternalError("the gas bank journal row is missing");
  Posted posted{.created_at_ms = now_ms};
  ASSIGN_OR_RETURN(posted.seq, counter[0].Int(0));
  RETURN_IF_ERROR(
      tx.Exec("INSERT INTO gasbank_entries (seq, entry_key, kind, account_id, service, reference, lines_digest, "
              "created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
              {posted.seq, e.key, e.kind, e.account, e.service, e.reference, std::move(digest), now_ms}));
  store::Params params;
  params.reserve(e.lines.size() * 5);
  for (size_t i = 0; i < e.lines.size(); ++i) {
    const Line& l = e.lines[i];
    params.emplace_back(posted.seq);
    params.emplace_back(static_cast<int64_t>(i));
    params.emplace_back(std::string(BookName(l.book)));
    params.emplace_back(l.account);
    params.emplace_back(l.amount);
  }
  RETURN_IF_ERROR(tx.Exec(InsertLinesSql(e.lines.size()), params));
  return posted;
}

StatusOr<HoldInfo> ReadHold(const store::Row& row) {
  HoldInfo h;
  ASSIGN_OR_RETURN(h.id, row.Text(0));
  ASSIGN_OR_RETURN(h.account, row.Text(1));
  ASSIGN_OR_RETURN(h.service, row.Text(2));
  ASSIGN_OR_RETURN(h.reference, row.Text(3));
  ASSIGN_OR_RETURN(h.amount, row.Int(4));
  ASSIGN_OR_RETURN(h.state, row.Text(5));
  ASSIGN_OR_RETURN(h.charged, row.Int(6));
  ASSIGN_OR_RETURN(h.created_at_ms, row.Int(7));
  ASSIGN_OR_RETURN(h.expires_at_ms, row.Int(8));
  return h;
}

}  // namespace

std::string EntryDigest(const Entry& entry) {
  return Digest(entry, Sorted(entry.lines));
}

std::string_view BookName(Book b) {
  return kBookNames[static_cast<size_t>(b)];
}

std::optional<Book> ParseBook(std::string_view name) {
  for (size_t i = 0; i < kBookNames.size(); ++i) {
    if (kBookNames[i] == name) return static_cast<Book>(i);
  }
  return std::nullopt;
}

bool IsUserBook(Book b) {
  return b == Book::kAvailable || b == Book::kHeld || b == Book::kPendingWithdrawal;
}

Ledger::Ledger(store::Store& store, const Clock& clock, RandomSource& random)
    : store_(store), clock_(clock), random_(random) {}

StatusOr<Posted> Ledger::Post(store::Transaction& tx, const Entry& entry, int64_t now_ms) {
  RETURN_IF_ERROR(Validate(entry));
  return PostValid(tx, entry, now_ms, true);
}

StatusOr<Posted> Ledger::Post(const Entry& entry) {
  RETURN_IF_ERROR(Validate(entry));
  const int64_t now_ms = clock_.NowUnixMillis();
  Posted posted;
  Status status = store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(posted, PostValid(tx, entry, now_ms, true));
    return Status::Ok();
  });
  RETURN_IF_ERROR(status);
  if (!posted.replay) metrics::GasBank().Posted(entry.kind, CreditsOf(entry));
  return posted;
}

StatusOr<HoldInfo> Ledger::Reserve(store::Transaction& tx, const std::string& account, int64_t amount,
                                   const std::string& service, const std::string& reference, const std::string& key,
                                   std::optional<int64_t> ttl_ms, int64_t now_ms, RandomSource& random) {
  RETURN_IF_ERROR(CheckText("account", account, kMaxFieldBytes, true));
  RETURN_IF_ERROR(CheckText("service", service, kMaxFieldBytes, false));
  RETURN_IF_ERROR(CheckText("reference", reference, kMaxFieldBytes, false));
  RETURN_IF_ERROR(CheckText("key", key, kMaxKeyBytes, true));
  if (amount <= 0) return FieldViolationError("amount", "a hold's amount is positive");
  int64_t expires_at_ms = kHoldNeverExpires;
  if (ttl_ms &&
      (*ttl_ms <= 0 || __builtin_add_overflow(now_ms, *ttl_ms, &expires_at_ms) || expires_at_ms == kHoldNeverExpires)) {
    return FieldViolationError("ttl_ms", "a hold's time to live is positive and bounded");
  }
  ASSIGN_OR_RETURN(
      std::optional<store::Row> prior,
      tx.QueryOptional("SELECT " + std::string(kHoldColumns) + " FROM gasbank_holds WHERE hold_key = ?", {key}));
  if (prior) {
    ASSIGN_OR_RETURN(HoldInfo hold, ReadHold(*prior));
    if (hold.account != account || hold.amount != amount || hold.service != service || hold.reference != reference) {
      return AlreadyExistsError("hold key was used for another hold");
    }
    return hold;
  }
  HoldInfo hold{.id = GenerateId(kHoldPrefix, kHoldIdChars, random),
                .account = account,
                .service = service,
                .reference = reference,
                .amount = amount,
                .state = "open",
                .created_at_ms = now_ms,
                .expires_at_ms = expires_at_ms};
  Entry entry{.key = "hold:" + hold.id,
              .kind = "hold",
              .account = account,
              .service = service,
              .reference = reference,
              .lines = {{Book::kAvailable, account, -amount}, {Book::kHeld, account, amount}}};
  // A refused posting has undone its lines, and the row is written only after it: insufficient
  // funds leaves `tx` as it was.
  ASSIGN_OR_RETURN(Posted posted, PostValid(tx, entry, now_ms, false));
  (void)posted;
  RETURN_IF_ERROR(
      tx.Exec("INSERT INTO gasbank_holds (id, account_id, service, reference, amount, state, charged, hold_key, "
              "created_at_ms, expires_at_ms) VALUES (?, ?, ?, ?, ?, 'open', 0, ?, ?, ?)",
              {hold.id, account, service, reference, amount, key, now_ms, expires_at_ms}));
  return hold;
}

StatusOr<HoldInfo> Ledger::Reserve(const std::string& account, int64_t amount, const std::string& service,
                                   const std::string& reference, const std::string& key, int64_t ttl_ms) {
  const int64_t now_ms = clock_.NowUnixMillis();
  HoldInfo hold;
  Status status = store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(hold, Reserve(tx, account, amount, service, reference, key, ttl_ms, now_ms, random_));
    return Status::Ok();
  });
  RETURN_IF_ERROR(status);
  // A hold made by this call, not one its key found (created earlier: a retry, a restart).
  if (hold.created_at_ms == now_ms) metrics::GasBank().Posted("hold", amount);
  return hold;
}

StatusOr<HoldInfo> Ledger::Close(store::Transaction& tx, const std::string& hold_id, int64_t charged, bool settle,
                                 std::string_view kind, int64_t now_ms) {
  if (charged < 0) return FieldViolationError("charged", "the amount charged is not negative");
  ASSIGN_OR_RETURN(
      std::optional<store::Row> row,
      tx.QueryOptional("SELECT " + std::string(kHoldColumns) + " FROM gasbank_holds WHERE id = ?", {hold_id}));
  if (!row) return NotFoundError("hold " + hold_id + " not found");
  ASSIGN_OR_RETURN(HoldInfo hold, ReadHold(*row));
  if (hold.state != "open") return FailedPreconditionError("hold " + hold_id + " is already " + hold.state);
  if (charged > hold.amount) {
    return FieldViolationError("charged", "the amount charged exceeds the hold's " + std::to_string(hold.amount));
  }
  hold.state = settle ? "settled" : "released";
  hold.charged = charged;
  // Conditional on 'open', so that of two closings racing on PostgreSQL only one goes through.
  ASSIGN_OR_RETURN(int64_t changed, tx.Exec("UPDATE gasbank_holds SET state = ?, charged = ?, settled_at_ms = ? "
                                            "WHERE id = ? AND state = 'open'",
                                            {hold.state, charged, now_ms, hold_id}));
  if (changed != 1) return FailedPreconditionError("hold " + hold_id + " was closed concurrently");
  Entry entry{.key = std::string(kind) + ":" + hold_id,
              .kind = std::string(kind),
              .account = hold.account,
              .service = hold.service,
              .reference = hold.reference,
              .lines = {{Book::kHeld, hold.account, -hold.amount}}};
  if (charged > 0) entry.lines.push_back({Book::kRevenue, "", charged});
  if (hold.amount > charged) entry.lines.push_back({Book::kAvailable, hold.account, hold.amount - charged});
  ASSIGN_OR_RETURN(Posted posted, PostValid(tx, entry, now_ms, false));
  (void)posted;
  return hold;
}

StatusOr<HoldInfo> Ledger::Close(const std::string& hold_id, int64_t charged, bool settle, std::string_view kind) {
  const int64_t now_ms = clock_.NowUnixMillis();
  HoldInfo hold;
  Status status = store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(hold, Close(tx, hold_id, charged, settle, kind, now_ms));
    CrashPoint("gasbank.settle.before_commit");
    return Status::Ok();
  });
  RETURN_IF_ERROR(status);
  metrics::GasBank().Posted(kind, hold.amount);
  if (hold.charged > 0) metrics::GasBank().charged.Inc({hold.service}, uint64_t(hold.charged));
  return hold;
}

StatusOr<HoldInfo> Ledger::Settle(store::Transaction& tx, const std::string& hold_id, int64_t charged, int64_t now_ms) {
  return Close(tx, hold_id, charged, true, "settle", now_ms);
}

StatusOr<HoldInfo> Ledger::Release(store::Transaction& tx, const std::string& hold_id, int64_t now_ms) {
  return Close(tx, hold_id, 0, false, "release", now_ms);
}

StatusOr<HoldInfo> Ledger::Settle(const std::string& hold_id, int64_t charged) {
  return Close(hold_id, charged, true, "settle");
}

StatusOr<HoldInfo> Ledger::Release(const std::string& hold_id) {
  return Close(hold_id, 0, false, "release");
}

StatusOr<int> Ledger::Expire() {
  const int64_t now_ms = clock_.NowUnixMillis();
  ASSIGN_OR_RETURN(std::vector<store::Row> rows,
                   store_.Query("SELECT id FROM gasbank_holds WHERE state = 'open' AND expires_at_ms <= ? ORDER BY "
                                "expires_at_ms",
                                {now_ms}));
  int released = 0;
  for (const store::Row& row : rows) {
    ASSIGN_OR_RETURN(std::string id, row.Text(0));
    StatusOr<HoldInfo> hold = Close(id, 0, false, "expire");
    // Settled or released since the query: nothing left to do for it.
    if (hold.status().code() == StatusCode::kFailedPrecondition) continue;
    RETURN_IF_ERROR(hold);
    ++released;
  }
  return released;
}

StatusOr<std::optional<HoldInfo>> Ledger::Hold(const std::string& id) {
  ASSIGN_OR_RETURN(std::vector<store::Row> rows,
                   store_.Query("SELECT " + std::string(kHoldColumns) + " FROM gasbank_holds WHERE id = ?", {id}));
  if (rows.empty()) return std::optional<HoldInfo>();
  ASSIGN_OR_RETURN(HoldInfo hold, ReadHold(rows[0]));
  return std::optional<HoldInfo>(std::move(hold));
}

StatusOr<Balance> Ledger::BalanceOf(const std::string& account) {
  RETURN_IF_ERROR(CheckText("account", account, kMaxFieldBytes, true));
  ASSIGN_OR_RETURN(std::vector<store::Row> rows,
                   store_.Query("SELECT book, balance FROM gasbank_balances WHERE account_id = ? AND book IN "
                                "('available', 'held', 'pending_withdrawal')",
                                {account}));
  Balance balance;
  for (const store::Row& row : rows) {
    ASSIGN_OR_RETURN(std::string name, row.Text(0));
    ASSIGN_OR_RETURN(int64_t amount, row.Int(1));
    std::optional<Book> book = ParseBook(name);
    if (book == Book::kAvailable) balance.available = amount;
    if (book == Book::kHeld) balance.held = amount;
    if (book == Book::kPendingWithdrawal) balance.pending_withdrawal = amount;
  }
  return balance;
}

StatusOr<int64_t> Ledger::PlatformBalance(Book book) {
  if (IsUserBook(book)) return FieldViolationError("book", std::string(BookName(book)) + " is a user book");
  ASSIGN_OR_RETURN(std::vector<store::Row> rows,
                   store_.Query("SELECT balance FROM gasbank_balances WHERE book = ? AND account_id = ''",
                                {std::string(BookName(book))}));
  if (rows.empty()) return int64_t{0};
  return rows[0].Int(0);
}

}  // namespace neosl::gasbank
