// The gas bank's double-entry ledger (issue #12): every movement of GAS is one journal entry
// whose lines sum to zero over the books; entries are append-only; a balance is the sum of its
// book's lines, cached in the same store transaction as the entry that changes it. Amounts are
// integers in datoshi (1 GAS = 10^8); there is no floating point anywhere.
//
// Books — user books per account, platform books once:
//   available           the account's spendable balance                        (never negative)
//   held                reserved for work in progress (a hold)                 (never negative)
//   pending_withdrawal  debited for a withdrawal not yet settled on chain      (never negative)
//   revenue             the platform's fees earned                            (platform)
//   custody             GAS the platform holds on chain for its users         (platform; a
//                       deposit is custody −x / available +x, a settled
//                       withdrawal pending_withdrawal −x / custody +x — so custody is minus
//                       what the platform owes on chain, and the audit reconciles it)
//
// Holds: a service reserves the fee before work (available → held), then settles what the work
// cost (held → revenue, the rest held → available) or releases it (held → available). A reserve
// without enough available balance is refused with FAILED_PRECONDITION (insufficient funds)
// before any work is done.
//
// Idempotency: every entry has a caller's key, unique; posting the same key again with the same
// entry (kind, account, service, reference and lines, in any order) returns the first entry and
// changes nothing; with anything else it is ALREADY_EXISTS.
//
// Concurrency: balances are changed with conditional updates ("… SET balance = balance + ?
// WHERE … AND balance + ? >= 0"), so concurrent postings on SQLite or PostgreSQL never overdraw.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "core/status.h"
#include "store/store.h"

namespace neosl::gasbank {

inline constexpr int64_t kDatoshiPerGas = 100'000'000;
// HoldInfo::expires_at_ms of a hold reserved without a time to live: Expire never releases it.
inline constexpr int64_t kHoldNeverExpires = std::numeric_limits<int64_t>::max();

enum class Book { kAvailable, kHeld, kPendingWithdrawal, kRevenue, kCustody };
std::string_view BookName(Book b);  // "available", "held", "pending_withdrawal", "revenue", "custody"
std::optional<Book> ParseBook(std::string_view name);
bool IsUserBook(Book b);  // available, held, pending_withdrawal

struct Line {
  Book book = Book::kAvailable;
  std::string account;  // the user account for user books; empty for platform books
  int64_t amount = 0;   // datoshi; positive credits the book, negative debits it; never 0
};

struct Entry {
  std::string key;          // idempotency key, 1..200 bytes, unique across the ledger
  std::string kind;         // "deposit", "hold", "settle", "release", "withdrawal", …: 1..32 of a-z and _
  std::string account;      // the user account the entry is about (for paging its ledger)
  std::string service;      // who caused it: "functions", "oracle", "gasbank", …; may be empty
  std::string reference;    // the operation it is for (an execution id, a tx hash …); may be empty
  std::vector<Line> lines;  // 2..16 lines summing to zero, at most one per book and account
};

struct Posted {
  int64_t seq = 0;      // the entry's position in the journal (increasing)
  bool replay = false;  // the key was posted before: nothing changed
  int64_t created_at_ms = 0;
};

struct Balance {
  int64_t available = 0;
  int64_t held = 0;
  int64_t pending_withdrawal = 0;
};

struct HoldInfo {
  std::string id;  // "hold_…"
  std::string account;
  std::string service;
  std::string reference;
  int64_t amount = 0;
  std::string state;    // "open", "settled", "released"
  int64_t charged = 0;  // settled: what was taken
  int64_t created_at_ms = 0;
  int64_t expires_at_ms = 0;
};

struct AuditReport {
  bool ok = true;
  int64_t entries = 0;
  int64_t lines = 0;
  std::vector<std::string> problems;  // each broken invariant, in words, with the entry or book
};

class Ledger {
 public:
  // `random` makes hold ids.
  Ledger(store::Store& store, const Clock& clock, RandomSource& random);

  // Posts `entry` inside the caller's write transaction `tx` (so that the entry and the state
  // that caused it commit together). INVALID_ARGUMENT for a malformed entry (lines that do not
  // sum to zero, an amount of 0 or overflowing, a user book without an account, a platform book
  // with one, a bad key or kind); FAILED_PRECONDITION "insufficient funds" when a user book would
  // go negative (nothing is written; the caller's transaction should be rolled back);
  // ALREADY_EXISTS when the key was used for another entry. A refused post leaves `tx` as it
  // found it (the lines it had applied are undone), so the caller may carry on or roll back.
  static StatusOr<Posted> Post(store::Transaction& tx, const Entry& entry, int64_t now_ms);
  // The same in a transaction of its own.
  StatusOr<Posted> Post(const Entry& entry);

  // available → held. `key` makes it idempotent (the same key returns the same hold, in its
  // current state; with another account, amount, service or reference it is ALREADY_EXISTS). The
  // hold expires at now + ttl: Expire releases it then. FAILED_PRECONDITION when the account's
  // available balance is less than `amount`. The journal entries of a hold are keyed
  // "hold:<id>", "settle:<id>", "release:<id>" and "expire:<id>".
  StatusOr<HoldInfo> Reserve(const std::string& account, int64_t amount, const std::string& service,
                             const std::string& reference, const std::string& key, int64_t ttl_ms);
  // The same inside the caller's write transaction `tx`, so that a hold commits with the state
  // that needs it (a withdrawal's row and its fee hold). `ttl_ms` unset: the hold never expires
  // (expires_at_ms is kHoldNeverExpires), for an owner that closes it on an outcome however long
  // that takes. A refusal (insufficient funds included) leaves `tx` as it found it.
  static StatusOr<HoldInfo> Reserve(store::Transaction& tx, const std::string& account, int64_t amount,
                                    const std::string& service, const std::string& reference, const std::string& key,
                                    std::optional<int64_t> ttl_ms, int64_t now_ms, RandomSource& random);
  // held → revenue `charged` (≤ the hold's amount) and the rest back to available; once.
  // FAILED_PRECONDITION for a hold that is not open; NOT_FOUND for an unknown one. An open hold
  // past its expiry that Expire has not reached yet can still be settled.
  StatusOr<HoldInfo> Settle(const std::string& hold_id, int64_t charged);
  // held → available, the whole hold; once (a released or settled hold is FAILED_PRECONDITION).
  StatusOr<HoldInfo> Release(const std::string& hold_id);
  // Settle and Release inside the caller's write transaction `tx`, with the same answers; after
  // an error the caller rolls `tx` back (the hold's row may have been written).
  static StatusOr<HoldInfo> Settle(store::Transaction& tx, const std::string& hold_id, int64_t charged, int64_t now_ms);
  static StatusOr<HoldInfo> Release(store::Transaction& tx, const std::string& hold_id, int64_t now_ms);
  // Releases every open hold past its expiry; returns how many.
  StatusOr<int> Expire();

  // The hold `id`, in its current state; nullopt for none.
  StatusOr<std::optional<HoldInfo>> Hold(const std::string& id);

  StatusOr<Balance> BalanceOf(const std::string& account);
  StatusOr<int64_t> PlatformBalance(Book book);  // revenue or custody

  // Checks every invariant over the whole journal: each entry's lines sum to zero; every cached
  // balance equals the sum of its book's lines; no user book is negative; the open holds of each
  // account sum to its held balance; entries' seq have no gaps. Read-only.
  StatusOr<AuditReport> Audit();

 private:
  // Settles (`settle`) or releases an open hold, posting an entry of `kind`: in `tx`, or in a
  // transaction of its own (crash point gasbank.settle.before_commit just before its commit).
  static StatusOr<HoldInfo> Close(store::Transaction& tx, const std::string& hold_id, int64_t charged, bool settle,
                                  std::string_view kind, int64_t now_ms);
  StatusOr<HoldInfo> Close(const std::string& hold_id, int64_t charged, bool settle, std::string_view kind);

  store::Store& store_;
  const Clock& clock_;
  RandomSource& random_;
};

}  // namespace neosl::gasbank
