// Ledger::Audit: recomputes everything the ledger caches from the journal and compares. Sums are
// taken here rather than in SQL because SQLite's SUM fails on overflow, and a tampered row is
// exactly what the audit must report rather than trip over.
#include <map>
#include <memory>
#include <utility>

#include "services/gasbank/ledger.h"
#include "services/gasbank/ledger_internal.h"

namespace neosl::gasbank {
namespace {

// Entries per page while walking the journal, so memory stays bounded.
constexpr int64_t kPage = 2000;
constexpr size_t kMaxProblems = 100;
constexpr size_t kMinLines = 2;
constexpr size_t kMaxLines = 16;

using BookKey = std::pair<std::string, std::string>;  // book name, account ('' for platform books)

std::string Where(const std::string& book, const std::string& account) {
  return account.empty() ? book : book + " of account " + account;
}

// Collects problems up to a cap: a wrecked journal should yield a readable report.
class Problems {
 public:
  explicit Problems(AuditReport& report) : report_(report) {}
  ~Problems() {
    if (dropped_ > 0) report_.problems.push_back("… and " + std::to_string(dropped_) + " more problems");
    report_.ok = report_.problems.empty();
  }
  Problems(const Problems&) = delete;
  Problems& operator=(const Problems&) = delete;

  void Add(std::string problem) {
    if (report_.problems.size() < kMaxProblems) {
      report_.problems.push_back(std::move(problem));
    } else {
      ++dropped_;
    }
  }

 private:
  AuditReport& report_;
  size_t dropped_ = 0;
};

// Adds `amount` to `*sum`; false (and *sum unchanged) on overflow.
bool AddTo(int64_t* sum, int64_t amount) {
  int64_t out = 0;
  if (__builtin_add_overflow(*sum, amount, &out)) return false;
  *sum = out;
  return true;
}

struct Walk {
  std::map<BookKey, int64_t> sums;  // each book's lines
  int64_t last_seq = 0;
  int64_t lines = 0;
};

// Checks one entry's own invariants and adds its lines to the books' sums.
void CheckEntry(int64_t seq, const Entry& entry, const std::vector<std::string>& book_names, const std::string& digest,
                Walk& walk, Problems& problems) {
  const std::string name = "entry " + std::to_string(seq);
  if (entry.lines.size() < kMinLines || entry.lines.size() > kMaxLines) {
    problems.Add(name + " has " + std::to_string(entry.lines.size()) + " lines");
  }
  int64_t sum = 0;
  bool overflow = false;
  for (size_t i = 0; i < entry.lines.size(); ++i) {
    const Line& l = entry.lines[i];
    if (l.amount == 0) problems.Add(name + " has a line of 0");
    if (IsUserBook(l.book) == l.account.empty()) {
      problems.Add(name + " has a line on " + Where(book_names[i], l.account) + ", which " +
                   (l.account.empty() ? "needs an account" : "has none"));
    }
    if (!AddTo(&sum, l.amount)) overflow = true;
    if (!AddTo(&walk.sums[{book_names[i], l.account}], l.amount)) {
      problems.Add("the lines of " + Where(book_names[i], l.account) + " overflow at " + name);
    }
  }
  if (overflow) {
    problems.Add(name + "'s lines overflow");
  } else if (sum != 0) {
    problems.Add(name + "'s lines sum to " + std::to_string(sum) + ", not 0");
  }
  if (EntryDigest(entry) != digest) problems.Add(name + " does not match its digest");
}

// Walks the journal page by page: entries in seq order, each with its lines.
Status WalkJournal(store::Transaction& tx, AuditReport& report, Walk& walk, Problems& problems) {
  while (true) {
    ASSIGN_OR_RETURN(std::vector<store::Row> entries,
                     tx.Query("SELECT seq, kind, account_id, service, reference, lines_digest FROM gasbank_entries "
                              "WHERE seq > ? ORDER BY seq LIMIT ?",
                              {walk.last_seq, kPage}));
    if (entries.empty()) return Status::Ok();
    ASSIGN_OR_RETURN(int64_t first, entries.front().Int(0));
    ASSIGN_OR_RETURN(int64_t last, entries.back().Int(0));
    ASSIGN_OR_RETURN(std::vector<store::Row> lines,
                     tx.Query("SELECT seq, book, account_id, amount FROM gasbank_lines WHERE seq >= ? AND seq <= ? "
                              "ORDER BY seq, line_no",
                              {first, last}));
    size_t li = 0;
    for (const store::Row& row : entries) {
      ASSIGN_OR_RETURN(int64_t seq, row.Int(0));
      if (seq != walk.last_seq + 1) {
        problems.Add("the journal skips from entry " + std::to_string(walk.last_seq) + " to " + std::to_string(seq));
      }
      walk.last_seq = seq;
      ++report.entries;
      Entry entry;
      ASSIGN_OR_RETURN(entry.kind, row.Text(1));
      ASSIGN_OR_RETURN(entry.account, row.Text(2));
      ASSIGN_OR_RETURN(entry.service, row.Text(3));
      ASSIGN_OR_RETURN(entry.reference, row.Text(4));
      ASSIGN_OR_RETURN(std::string digest, row.Text(5));
      std::vector<std::string> book_names;
      for (; li < lines.size(); ++li) {
        ASSIGN_OR_RETURN(int64_t line_seq, lines[li].Int(0));
        if (line_seq < seq) continue;  // a line without an entry: counted against the total below
        if (line_seq > seq) break;
        ++walk.lines;
        Line line;
        ASSIGN_OR_RETURN(std::string book, lines[li].Text(1));
        ASSIGN_OR_RETURN(line.account, lines[li].Text(2));
        ASSIGN_OR_RETURN(line.amount, lines[li].Int(3));
        std::optional<Book> parsed = ParseBook(book);
        if (!parsed) {
          problems.Add("entry " + std::to_string(seq) + " has a line on an unknown book");
          continue;
        }
        line.book = *parsed;
        entry.lines.push_back(std::move(line));
        book_names.push_back(std::move(book));
      }
      CheckEntry(seq, entry, book_names, digest, walk, problems);
    }
  }
}

// Every cached balance against its book's lines, and each account's open holds against its
// held balance.
Status CheckBalances(store::Transaction& tx, Walk& walk, Problems& problems) {
  ASSIGN_OR_RETURN(std::vector<store::Row> rows,
                   tx.Query("SELECT book, account_id, balance FROM gasbank_balances ORDER BY book, account_id"));
  std::map<std::string, int64_t> held;
  for (const store::Row& row : rows) {
    ASSIGN_OR_RETURN(std::string book, row.Text(0));
    ASSIGN_OR_RETURN(std::string account, row.Text(1));
    ASSIGN_OR_RETURN(int64_t balance, row.Int(2));
    std::optional<Book> parsed = ParseBook(book);
    if (!parsed) {
      problems.Add("a balance row names the unknown book " + book);
      continue;
    }
    int64_t lines = 0;
    if (auto it = walk.sums.find({book, account}); it != walk.sums.end()) {
      lines = it->second;
      walk.sums.erase(it);
    }
    if (balance != lines) {
      problems.Add("the balance of " + Where(book, account) + " is " + std::to_string(balance) +
                   " but its lines sum to " + std::to_string(lines));
    }
    if (IsUserBook(*parsed) && balance < 0) {
      problems.Add("the balance of " + Where(book, account) + " is negative: " + std::to_string(balance));
    }
    if (*parsed == Book::kHeld) held[account] = balance;
  }
  for (const auto& [key, sum] : walk.sums) {
    if (sum != 0) {
      problems.Add("the lines of " + Where(key.first, key.second) + " sum to " + std::to_string(sum) +
                   " but it has no balance");
    }
  }

  ASSIGN_OR_RETURN(std::vector<store::Row> holds,
                   tx.Query("SELECT account_id, amount FROM gasbank_holds WHERE state = 'open'"));
  std::map<std::string, int64_t> open;
  for (const store::Row& row : holds) {
    ASSIGN_OR_RETURN(std::string account, row.Text(0));
    ASSIGN_OR_RETURN(int64_t amount, row.Int(1));
    if (!AddTo(&open[account], amount)) problems.Add("the open holds of account " + account + " overflow");
  }
  for (const auto& [account, balance] : held) open.try_emplace(account, 0);
  for (const auto& [account, sum] : open) {
    auto it = held.find(account);
    int64_t balance = it == held.end() ? 0 : it->second;
    if (sum != balance) {
      problems.Add("the open holds of account " + account + " sum to " + std::to_string(sum) +
                   " but its held balance is " + std::to_string(balance));
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<AuditReport> Ledger::Audit() {
  // One read transaction: every check sees the same snapshot.
  ASSIGN_OR_RETURN(std::unique_ptr<store::Transaction> tx, store_.Begin(store::TxMode::kRead));
  AuditReport report;
  {
    Problems problems(report);
    Walk walk;
    RETURN_IF_ERROR(WalkJournal(*tx, report, walk, problems));

    ASSIGN_OR_RETURN(store::Row total, tx->QueryOne("SELECT COUNT(*) FROM gasbank_lines"));
    ASSIGN_OR_RETURN(report.lines, total.Int(0));
    if (report.lines != walk.lines) {
      problems.Add(std::to_string(report.lines - walk.lines) + " lines belong to no entry");
    }
    ASSIGN_OR_RETURN(store::Row counter, tx->QueryOne("SELECT last_seq FROM gasbank_journal WHERE id = 1"));
    ASSIGN_OR_RETURN(int64_t last_seq, counter.Int(0));
    if (last_seq != walk.last_seq) {
      problems.Add("the journal counter is at " + std::to_string(last_seq) + " but the last entry is " +
                   std::to_string(walk.last_seq));
    }
    RETURN_IF_ERROR(CheckBalances(*tx, walk, problems));
  }
  RETURN_IF_ERROR(tx->Rollback());
  return report;
}

}  // namespace neosl::gasbank
