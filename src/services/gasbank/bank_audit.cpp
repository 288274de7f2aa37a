#include "services/gasbank/bank_audit.h"

#include <map>
#include <memory>
#include <utility>

#include "core/clock.h"
#include "core/random.h"
#include "neo/account.h"
#include "neo/uint.h"
#include "services/gasbank/deposits.h"
#include "services/gasbank/ledger.h"

namespace neosl::gasbank {
namespace {

namespace json = boost::json;

// Problems are capped so that a badly broken store still gives a readable answer.
constexpr size_t kMaxProblems = 200;

class Problems {
 public:
  explicit Problems(BankAuditReport& report) : report_(report) {}
  void Add(std::string problem) {
    report_.ok = false;
    if (report_.problems.size() < kMaxProblems) report_.problems.push_back(std::move(problem));
  }

 private:
  BankAuditReport& report_;
};

struct Deposit {
  std::string tx_hash;
  int64_t notify_index = 0;
  std::string account;
  int64_t amount = 0;
  std::string state;
  std::optional<int64_t> entry_seq;
};

// The sum of one entry's lines for (book, account), and whether the entry has other lines.
struct EntryLines {
  int64_t seq = 0;
  std::map<std::pair<std::string, std::string>, int64_t> amounts;
};

StatusOr<std::optional<EntryLines>> EntryByKey(store::Transaction& tx, const std::string& key) {
  ASSIGN_OR_RETURN(std::optional<store::Row> entry,
                   tx.QueryOptional("SELECT seq FROM gasbank_entries WHERE entry_key = ?", {key}));
  if (!entry) return std::optional<EntryLines>();
  EntryLines out;
  ASSIGN_OR_RETURN(out.seq, entry->Int(0));
  ASSIGN_OR_RETURN(std::vector<store::Row> lines,
                   tx.Query("SELECT book, account_id, amount FROM gasbank_lines WHERE seq = ?", {out.seq}));
  for (const store::Row& l : lines) {
    ASSIGN_OR_RETURN(std::string book, l.Text(0));
    ASSIGN_OR_RETURN(std::string account, l.Text(1));
    ASSIGN_OR_RETURN(int64_t amount, l.Int(2));
    out.amounts[{book, account}] += amount;
  }
  return std::optional<EntryLines>(std::move(out));
}

// Whether `lines` are exactly `want` (book, account) → amount.
bool LinesAre(const EntryLines& lines, const std::map<std::pair<std::string, std::string>, int64_t>& want) {
  return lines.amounts == want;
}

StatusOr<std::vector<Deposit>> Deposits(store::Transaction& tx) {
  ASSIGN_OR_RETURN(std::vector<store::Row> rows,
                   tx.Query("SELECT tx_hash, notify_index, account_id, amount, state, entry_seq FROM gasbank_deposits "
                            "ORDER BY block_index, tx_hash, notify_index"));
  std::vector<Deposit> out;
  out.reserve(rows.size());
  for (const store::Row& r : rows) {
    Deposit d;
    ASSIGN_OR_RETURN(d.tx_hash, r.Text(0));
    ASSIGN_OR_RETURN(d.notify_index, r.Int(1));
    ASSIGN_OR_RETURN(d.account, r.Text(2));
    ASSIGN_OR_RETURN(d.amount, r.Int(3));
    ASSIGN_OR_RETURN(d.state, r.Text(4));
    ASSIGN_OR_RETURN(d.entry_seq, r.OptionalInt(5));
    out.push_back(std::move(d));
  }
  return out;
}

std::string DepositKey(const Deposit& d) {
  return "deposit:" + d.tx_hash + ":" + std::to_string(d.notify_index);
}

Status CheckDeposits(store::Transaction& tx, const std::vector<Deposit>& deposits, Problems& problems,
                     json::object& figures, int64_t* credited_total) {
  int64_t credited = 0, seen = 0, credited_n = 0, seen_n = 0;
  for (const Deposit& d : deposits) {
    const std::string key = DepositKey(d);
    ASSIGN_OR_RETURN(std::optional<EntryLines> entry, EntryByKey(tx, key));
    if (d.state == "credited") {
      ++credited_n;
      credited += d.amount;
      if (!entry) {
        problems.Add("deposit " + key + " is marked credited but has no journal entry");
        continue;
      }
      if (!d.entry_seq || *d.entry_seq != entry->seq) {
        problems.Add("deposit " + key + " names entry " + (d.entry_seq ? std::to_string(*d.entry_seq) : "none") +
                     " but its entry is " + std::to_string(entry->seq));
      }
      if (!LinesAre(*entry, {{{"custody", ""}, -d.amount}, {{"available", d.account}, d.amount}})) {
        problems.Add("deposit " + key + ": its entry does not credit " + std::to_string(d.amount) + " to " + d.account +
                     " from custody");
      }
    } else {
      ++seen_n;
      seen += d.amount;
      if (entry) problems.Add("deposit " + key + " is not marked credited but has a journal entry");
    }
  }
  // The other way round: no deposit entry without its deposit.
  ASSIGN_OR_RETURN(
      store::Row orphans,
      tx.QueryOne("SELECT COUNT(*) FROM gasbank_entries e WHERE e.kind = 'deposit' AND NOT EXISTS "
                  "(SELECT 1 FROM gasbank_deposits d WHERE d.state = 'credited' AND d.entry_seq = e.seq)"));
  ASSIGN_OR_RETURN(int64_t orphan_n, orphans.Int(0));
  if (orphan_n != 0) problems.Add(std::to_string(orphan_n) + " deposit entries belong to no credited deposit");
  figures["deposits_credited"] = credited_n;
  figures["deposits_credited_amount"] = credited;
  figures["deposits_waiting"] = seen_n;
  figures["deposits_waiting_amount"] = seen;
  *credited_total = credited;
  return Status::Ok();
}

Status CheckWithdrawals(store::Transaction& tx, Problems& problems, json::object& figures, int64_t* settled_total) {
  ASSIGN_OR_RETURN(std::vector<store::Row> rows,
                   tx.Query("SELECT w.id, w.account_id, w.amount, w.state, w.fee_hold_id, h.state FROM "
                            "gasbank_withdrawals w LEFT JOIN gasbank_holds h ON h.id = w.fee_hold_id ORDER BY w.id"));
  std::map<std::string, int64_t> pending_by_account;
  std::map<std::string, std::pair<int64_t, int64_t>> by_state;  // state → (count, amount)
  for (const store::Row& r : rows) {
    ASSIGN_OR_RETURN(std::string id, r.Text(0));
    ASSIGN_OR_RETURN(std::string account, r.Text(1));
    ASSIGN_OR_RETURN(int64_t amount, r.Int(2));
    ASSIGN_OR_RETURN(std::string state, r.Text(3));
    ASSIGN_OR_RETURN(std::optional<std::string> hold_state, r.OptionalText(5));
    auto& [count, sum] = by_state[state];
    ++count;
    sum += amount;
    ASSIGN_OR_RETURN(std::optional<EntryLines> requested, EntryByKey(tx, "withdrawal:" + id));
    ASSIGN_OR_RETURN(std::optional<EntryLines> settled, EntryByKey(tx, "withdrawal_settle:" + id));
    ASSIGN_OR_RETURN(std::optional<EntryLines> returned, EntryByKey(tx, "withdrawal_return:" + id));
    const std::string what = "withdrawal " + id;
    if (!requested) {
      problems.Add(what + " has no request entry");
    } else if (!LinesAre(*requested, {{{"available", account}, -amount}, {{"pending_withdrawal", account}, amount}})) {
      problems.Add(what + ": its request entry does not move " + std::to_string(amount) + " to pending");
    }
    if (settled && returned) problems.Add(what + " was both settled and returned");
    if (settled && !LinesAre(*settled, {{{"pending_withdrawal", account}, -amount}, {{"custody", ""}, amount}})) {
      problems.Add(what + ": its settle entry does not move " + std::to_string(amount) + " from pending to custody");
    }
    if (returned &&
        !LinesAre(*returned, {{{"pending_withdrawal", account}, -amount}, {{"available", account}, amount}})) {
      problems.Add(what + ": its return entry does not give " + std::to_string(amount) + " back");
    }
    if (!hold_state) {
      problems.Add(what + " has no fee hold");
    } else if ((state == "pending") != (*hold_state == "open")) {
      problems.Add(what + " is " + state + " but its fee hold is " + *hold_state);
    }
    if (state == "pending") {
      if (settled || returned) problems.Add(what + " is pending but has a final entry");
      pending_by_account[account] += amount;
    } else if (state == "settled") {
      if (!settled) problems.Add(what + " is settled without a settle entry");
      *settled_total += amount;
    } else if (state == "returned") {
      if (!returned) problems.Add(what + " is returned without a return entry");
    } else {
      problems.Add(what + " has an unknown state " + state);
    }
  }
  // Each account's pending withdrawals are its pending_withdrawal balance.
  ASSIGN_OR_RETURN(std::vector<store::Row> balances,
                   tx.Query("SELECT account_id, balance FROM gasbank_balances WHERE book = 'pending_withdrawal' AND "
                            "balance <> 0"));
  std::map<std::string, int64_t> cached;
  for (const store::Row& b : balances) {
    ASSIGN_OR_RETURN(std::string account, b.Text(0));
    ASSIGN_OR_RETURN(cached[account], b.Int(1));
  }
  for (const auto& [account, sum] : pending_by_account) {
    if (cached[account] != sum) {
      problems.Add("account " + account + " has pending withdrawals of " + std::to_string(sum) +
                   " but a pending_withdrawal balance of " + std::to_string(cached[account]));
    }
    cached.erase(account);
  }
  for (const auto& [account, balance] : cached) {
    if (balance != 0) {
      problems.Add("account " + account + " has a pending_withdrawal balance of " + std::to_string(balance) +
                   " and no pending withdrawal");
    }
  }
  json::object w;
  for (const auto& [state, cs] : by_state) w[state] = json::object{{"count", cs.first}, {"amount", cs.second}};
  figures["withdrawals"] = std::move(w);
  return Status::Ok();
}

StatusOr<int64_t> GasBalance(neo::RpcClient& rpc, const neo::UInt160& account) {
  json::array params{json::object{{"type", "Hash160"}, {"value", account.ToString()}}};
  ASSIGN_OR_RETURN(neo::InvocationResult r, rpc.InvokeFunction(GasTokenHash(), "balanceOf", params, {}));
  if (r.state != neo::VmState::kHalt || r.stack.size() != 1) {
    return UnavailableError("GAS balanceOf(" + account.ToString() + ") did not HALT with one result");
  }
  return r.stack[0].AsInt64();
}

// Whether notification `index` of transaction `tx_hash` is a GAS Transfer of `amount` to `to`.
StatusOr<std::string> CheckOnChain(neo::RpcClient& rpc, const Deposit& d, const neo::UInt160& to) {
  ASSIGN_OR_RETURN(neo::UInt256 hash, neo::UInt256::Parse(d.tx_hash));
  auto log = rpc.GetApplicationLog(hash);
  if (!log.ok()) return "its transaction is not on chain (" + std::string(log.status().message()) + ")";
  if (log->executions.empty() || log->executions[0].vm_state != neo::VmState::kHalt) {
    return std::string("its transaction did not HALT");
  }
  const auto& notes = log->executions[0].notifications;
  if (d.notify_index < 0 || size_t(d.notify_index) >= notes.size()) {
    return "its transaction has no notification " + std::to_string(d.notify_index);
  }
  const neo::ContractNotification& n = notes[size_t(d.notify_index)];
  if (n.contract != GasTokenHash() || n.event_name != "Transfer") return std::string("it is not a GAS Transfer");
  auto args = n.state.AsArray();
  if (!args.ok() || args->size() != 3) return std::string("it is not a NEP-17 Transfer");
  auto to_bytes = (*args)[1].AsBytes();
  auto amount = (*args)[2].AsInt64();
  if (!to_bytes.ok() || !amount.ok()) return std::string("it is not a NEP-17 Transfer");
  auto paid_to = neo::UInt160::FromBytes(*to_bytes);
  if (!paid_to.ok() || *paid_to != to) return std::string("it pays another address");
  if (*amount != d.amount) return "it transfers " + std::to_string(*amount) + ", not " + std::to_string(d.amount);
  return std::string();
}

Status Reconcile(store::Transaction& tx, neo::RpcClient& rpc, const std::vector<Deposit>& deposits, int64_t liabilities,
                 Problems& problems, json::object& figures) {
  json::object chain;
  ASSIGN_OR_RETURN(uint32_t height, rpc.GetBlockCount());
  chain["height"] = int64_t{height} - 1;

  ASSIGN_OR_RETURN(std::vector<store::Row> rows,
                   tx.Query("SELECT account_id, script_hash FROM gasbank_addresses ORDER BY account_id"));
  std::map<std::string, neo::UInt160> address_of;
  for (const store::Row& r : rows) {
    ASSIGN_OR_RETURN(std::string account, r.Text(0));
    ASSIGN_OR_RETURN(std::string hash_text, r.Text(1));
    auto hash = neo::UInt160::Parse(hash_text);
    if (!hash.ok()) {
      problems.Add("account " + account + " has a malformed deposit script hash");
      continue;
    }
    address_of.emplace(account, *hash);
  }

  std::map<std::string, int64_t> credited_to;
  int64_t checked = 0;
  for (const Deposit& d : deposits) {
    auto to = address_of.find(d.account);
    if (to == address_of.end()) {
      problems.Add("deposit " + DepositKey(d) + " is for " + d.account + ", which has no deposit address");
      continue;
    }
    if (d.state != "credited") continue;
    credited_to[d.account] += d.amount;
    ASSIGN_OR_RETURN(std::string wrong, CheckOnChain(rpc, d, to->second));
    ++checked;
    if (!wrong.empty()) problems.Add("deposit " + DepositKey(d) + " was credited but " + wrong);
  }
  chain["deposits_checked"] = checked;

  int64_t deposit_balance = 0;
  for (const auto& [account, hash] : address_of) {
    ASSIGN_OR_RETURN(int64_t balance, GasBalance(rpc, hash));
    deposit_balance += balance;
    if (balance < credited_to[account]) {
      problems.Add("the deposit address of " + account + " (" + neo::ToAddress(hash) + ") holds " +
                   std::to_string(balance) + " but " + std::to_string(credited_to[account]) + " was credited from it");
    }
  }
  chain["deposit_addresses"] = int64_t(address_of.size());
  chain["deposit_balance"] = deposit_balance;

  int64_t hot_balance = 0;
  ASSIGN_OR_RETURN(std::optional<store::Row> hot_row,
                   tx.QueryOptional("SELECT value FROM gasbank_settings WHERE name = 'hot_script_hash'"));
  if (hot_row) {
    ASSIGN_OR_RETURN(std::string hot_text, hot_row->Text(0));
    ASSIGN_OR_RETURN(neo::UInt160 hot, neo::UInt160::Parse(hot_text));
    ASSIGN_OR_RETURN(hot_balance, GasBalance(rpc, hot));
    chain["hot_address"] = neo::ToAddress(hot);
  }
  chain["hot_balance"] = hot_balance;
  const int64_t total = deposit_balance + hot_balance;
  chain["total"] = total;
  chain["owed"] = liabilities;
  chain["surplus"] = total - liabilities;
  if (total < liabilities) {
    problems.Add("the chain holds " + std::to_string(total) +
                 " in the deposit addresses and the hot wallet, less than the " + std::to_string(liabilities) +
                 " owed to users");
  }
  figures["chain"] = std::move(chain);
  return Status::Ok();
}

}  // namespace

StatusOr<BankAuditReport> AuditBank(store::Store& store, neo::RpcClient* rpc) {
  BankAuditReport report;
  Problems problems(report);

  // The ledger's own invariants.
  Ledger ledger(store, SystemClock::Instance(), SecureRandom::Instance());
  ASSIGN_OR_RETURN(AuditReport journal, ledger.Audit());
  for (std::string& p : journal.problems) problems.Add("ledger: " + std::move(p));
  if (!journal.ok && journal.problems.empty()) problems.Add("ledger: invariants broken");
  report.figures["entries"] = journal.entries;
  report.figures["lines"] = journal.lines;

  // The bank's tables against the journal, in one snapshot.
  ASSIGN_OR_RETURN(std::unique_ptr<store::Transaction> tx, store.Begin(store::TxMode::kRead));
  ASSIGN_OR_RETURN(std::vector<Deposit> deposits, Deposits(*tx));
  int64_t credited = 0;
  int64_t settled = 0;
  RETURN_IF_ERROR(CheckDeposits(*tx, deposits, problems, report.figures, &credited));
  RETURN_IF_ERROR(CheckWithdrawals(*tx, problems, report.figures, &settled));

  ASSIGN_OR_RETURN(std::vector<store::Row> books,
                   tx->Query("SELECT book, COALESCE(SUM(balance), 0) FROM gasbank_balances GROUP BY book"));
  std::map<std::string, int64_t> totals;
  for (const store::Row& b : books) {
    ASSIGN_OR_RETURN(std::string book, b.Text(0));
    ASSIGN_OR_RETURN(totals[book], b.Int(1));
  }
  const int64_t owed = totals["available"] + totals["held"] + totals["pending_withdrawal"];
  report.figures["available"] = totals["available"];
  report.figures["held"] = totals["held"];
  report.figures["pending_withdrawal"] = totals["pending_withdrawal"];
  report.figures["revenue"] = totals["revenue"];
  report.figures["custody"] = totals["custody"];
  report.figures["owed"] = owed;
  if (totals["custody"] != -(credited - settled)) {
    problems.Add("custody is " + std::to_string(totals["custody"]) +
                 " but credited deposits less settled withdrawals are " + std::to_string(credited - settled));
  }

  if (rpc != nullptr) RETURN_IF_ERROR(Reconcile(*tx, *rpc, deposits, owed, problems, report.figures));
  RETURN_IF_ERROR(tx->Rollback());
  return report;
}

}  // namespace neosl::gasbank
