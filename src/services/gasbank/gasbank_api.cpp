// GasBankService's RPCs for accounts (gasbank_service.h): the account and its deposit address,
// its ledger, its usage, and its withdrawals.
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <shared_mutex>
#include <utility>
#include <vector>

#include "core/business_metrics.h"
#include "core/encoding.h"
#include "services/gasbank/gasbank_service.h"
#include "services/gasbank/usage.h"

namespace neosl::services {
namespace {

constexpr int32_t kDefaultPageSize = 50;
constexpr int32_t kMaxPageSize = 500;
constexpr std::string_view kLedgerTokenPrefix = "ledger:";
constexpr size_t kMaxIdBytes = 64;

// A page token: the seq the next page starts below, hex-wrapped so that callers treat it as
// opaque, and checked on the way back.
std::string LedgerToken(int64_t before_seq) {
  const std::string text = std::string(kLedgerTokenPrefix) + std::to_string(before_seq);
  return HexEncode({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

StatusOr<int64_t> ParseLedgerToken(std::string_view token) {
  const Status bad = FieldViolationError("page_token", "page_token is not one this API gave out");
  std::optional<std::vector<uint8_t>> bytes = HexDecode(token);
  if (!bytes || bytes->size() > 32) return bad;
  const std::string text(bytes->begin(), bytes->end());
  if (!text.starts_with(kLedgerTokenPrefix)) return bad;
  const std::string digits = text.substr(kLedgerTokenPrefix.size());
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return bad;
  errno = 0;
  const long long seq = std::strtoll(digits.c_str(), nullptr, 10);
  if (errno != 0 || seq <= 0) return bad;
  return int64_t(seq);
}

void WithdrawalToProto(const gasbank::WithdrawalInfo& w, gasbankpb::Withdrawal* out) {
  out->set_withdrawal_id(w.id);
  out->set_to(w.to);
  out->set_amount(w.amount);
  out->set_state(w.state);
  out->set_fee_reserved(w.fee_reserved);
  out->set_fee_charged(w.fee_charged);
  out->set_tx_hash(w.tx_hash);
  out->set_tx_state(w.tx_state);
  out->set_error(w.error);
  out->set_idempotency_key(w.idempotency_key);
  out->set_replay(w.replay);
  out->set_created_at(FormatRfc3339Millis(w.created_at_ms));
  out->set_updated_at(FormatRfc3339Millis(w.updated_at_ms));
}

}  // namespace

Status GasBankService::ShowAccount(const std::string& account, const mesh::CallContext& /*call*/,
                                   const gasbankpb::GetAccountRequest& /*request*/, gasbankpb::Account* response) {
  ASSIGN_OR_RETURN(gasbank::DepositAddress address, addresses_.Get(account));
  ASSIGN_OR_RETURN(gasbank::Balance balance, ledger_.BalanceOf(account));
  ASSIGN_OR_RETURN(int64_t pending_deposits, gasbank::DepositWatcher::PendingAmount(store_, account));
  response->set_account_id(account);
  response->set_deposit_address(address.address);
  response->set_deposit_script_hash(address.script_hash.ToString());
  response->set_available(balance.available);
  response->set_held(balance.held);
  response->set_pending_withdrawal(balance.pending_withdrawal);
  response->set_available_gas(gasbank::FormatGas(balance.available));
  response->set_confirmations(options_.confirmations);
  response->set_pending_deposits(pending_deposits);
  response->set_charged(Charged(account));
  return Status();
}

Status GasBankService::PageLedger(const std::string& account, const mesh::CallContext& /*call*/,
                                  const gasbankpb::GetLedgerRequest& request, gasbankpb::LedgerPage* response) {
  const int32_t page_size = request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  if (page_size < 1 || page_size > kMaxPageSize) {
    return FieldViolationError("page_size", "page_size must be 1 to 500 (0: 50)");
  }
  int64_t before = std::numeric_limits<int64_t>::max();
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(before, ParseLedgerToken(request.page_token()));
  }
  ASSIGN_OR_RETURN(std::vector<store::Row> rows,
                   store_.Query("SELECT seq, kind, service, reference, created_at_ms FROM gasbank_entries WHERE "
                                "account_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
                                {account, before, int64_t{page_size} + 1}));
  const bool more = rows.size() > size_t(page_size);
  if (more) rows.resize(size_t(page_size));
  if (rows.empty()) return Status();

  std::map<int64_t, gasbankpb::LedgerEntry*> by_seq;
  for (const store::Row& row : rows) {
    gasbankpb::LedgerEntry* e = response->add_entries();
    ASSIGN_OR_RETURN(int64_t seq, row.Int(0));
    ASSIGN_OR_RETURN(*e->mutable_kind(), row.Text(1));
    ASSIGN_OR_RETURN(*e->mutable_service(), row.Text(2));
    ASSIGN_OR_RETURN(*e->mutable_reference(), row.Text(3));
    ASSIGN_OR_RETURN(int64_t created_at_ms, row.Int(4));
    e->set_seq(seq);
    e->set_created_at(FormatRfc3339Millis(created_at_ms));
    by_seq[seq] = e;
  }
  // The entries' lines on the account's own books and the platform's; a line on another
  // account's books (none of today's entries has one) is that account's business.
  const int64_t lowest = by_seq.begin()->first;
  const int64_t highest = by_seq.rbegin()->first;
  ASSIGN_OR_RETURN(std::vector<store::Row> lines,
                   store_.Query("SELECT l.seq, l.book, l.account_id, l.amount FROM gasbank_lines l JOIN "
                                "gasbank_entries e ON e.seq = l.seq WHERE e.account_id = ? AND e.seq >= ? AND "
                                "e.seq <= ? AND (l.account_id = ? OR l.account_id = '') ORDER BY l.seq, l.line_no",
                                {account, lowest, highest, account}));
  for (const store::Row& row : lines) {
    ASSIGN_OR_RETURN(int64_t seq, row.Int(0));
    ASSIGN_OR_RETURN(std::string book, row.Text(1));
    ASSIGN_OR_RETURN(std::string line_account, row.Text(2));
    ASSIGN_OR_RETURN(int64_t amount, row.Int(3));
    auto it = by_seq.find(seq);
    if (it == by_seq.end()) continue;
    gasbankpb::LedgerLine* line = it->second->add_lines();
    line->set_book(book);
    line->set_amount(amount);
    if (book == gasbank::BookName(gasbank::Book::kAvailable) && line_account == account) {
      it->second->set_available_change(it->second->available_change() + amount);
    }
  }
  if (more) response->set_next_page_token(LedgerToken(lowest));
  return Status();
}

Status GasBankService::ReportUsage(const std::string& account, const mesh::CallContext& /*call*/,
                                   const gasbankpb::GetUsageRequest& request, gasbankpb::Usage* response) {
  ASSIGN_OR_RETURN(gasbank::UsageQuery query, gasbank::ParseUsageQuery(request.from(), request.to(), request.group(),
                                                                       request.format(), clock_.NowUnixMillis()));
  // What the account paid: the revenue line of each settle entry of its holds (a hold settled
  // for 0 has none, and is no operation here). Grouped in SQL, portable: the day is an integer
  // division of the entry's time.
  const std::string key = query.group == gasbank::UsageGroup::kDay
                              ? "e.created_at_ms / " + std::to_string(gasbank::kMillisPerDay)
                              : std::string("e.service");
  ASSIGN_OR_RETURN(std::vector<store::Row> rows,
                   store_.Query("SELECT " + key +
                                    ", COUNT(*), CAST(SUM(l.amount) AS BIGINT) FROM gasbank_entries e JOIN "
                                    "gasbank_lines l ON l.seq = e.seq WHERE e.account_id = ? AND e.kind = 'settle' AND "
                                    "l.book = 'revenue' AND e.created_at_ms >= ? AND e.created_at_ms < ? GROUP BY " +
                                    key + " ORDER BY " + key,
                                {account, query.from_ms, query.to_ms}));
  std::vector<gasbank::UsageRow> usage;
  int64_t total = 0;
  for (const store::Row& row : rows) {
    gasbank::UsageRow u;
    if (query.group == gasbank::UsageGroup::kDay) {
      ASSIGN_OR_RETURN(int64_t day, row.Int(0));
      u.key = gasbank::UtcDay(day * gasbank::kMillisPerDay);
    } else {
      ASSIGN_OR_RETURN(u.key, row.Text(0));
    }
    ASSIGN_OR_RETURN(u.operations, row.Int(1));
    ASSIGN_OR_RETURN(u.charged, row.Int(2));
    if (__builtin_add_overflow(total, u.charged, &total)) return OutOfRangeError("usage over 2^63 datoshi");
    gasbankpb::UsageRow* out = response->add_rows();
    out->set_key(u.key);
    out->set_operations(u.operations);
    out->set_charged(u.charged);
    out->set_charged_gas(gasbank::FormatGas(u.charged));
    usage.push_back(std::move(u));
  }
  response->set_group(std::string(gasbank::UsageGroupName(query.group)));
  response->set_from(FormatRfc3339Millis(query.from_ms));
  response->set_to(FormatRfc3339Millis(query.to_ms));
  response->set_total_charged(total);
  response->set_total_charged_gas(gasbank::FormatGas(total));
  if (query.csv) response->set_csv(gasbank::UsageCsv(query.group, usage));
  return Status();
}

StatusOr<gasbank::Withdrawals*> GasBankService::StartedWithdrawals() {
  if (withdrawals_ == nullptr) return UnavailableError("the gas bank is starting; retry shortly");
  return withdrawals_.get();
}

Status GasBankService::Withdraw(const std::string& account, const mesh::CallContext& /*call*/,
                                const gasbankpb::WithdrawalRequest& request, gasbankpb::Withdrawal* response) {
  // Shared for the whole request, so that Stop cannot take the outbox away under it.
  std::shared_lock chain(chain_mu_);
  ASSIGN_OR_RETURN(gasbank::Withdrawals * withdrawals, StartedWithdrawals());
  if (outbox_ == nullptr) {
    return UnavailableError("withdrawals need the chain, and this process sends no transactions: retry later");
  }
  StatusOr<gasbank::WithdrawalInfo> info =
      withdrawals->Request(account, request.to(), request.amount(), request.idempotency_key(), *outbox_);
  if (IsInsufficientFunds(info.status()) && info.status().details().empty()) {
    metrics::GasBank().insufficient_funds.Inc({kIdentity});
    int64_t needed = 0;
    if (__builtin_add_overflow(request.amount(), options_.withdrawals.fee_reserve, &needed)) return info.status();
    return InsufficientFunds(account, needed,
                             "the amount and the fee reserve of " +
                                 gasbank::FormatGas(options_.withdrawals.fee_reserve) +
                                 " GAS for the transfer (gasbank.withdrawal_fee_reserve)");
  }
  RETURN_IF_ERROR(info);
  WithdrawalToProto(*info, response);
  return Status();
}

Status GasBankService::ShowWithdrawal(const std::string& account, const mesh::CallContext& /*call*/,
                                      const gasbankpb::GetWithdrawalRequest& request, gasbankpb::Withdrawal* response) {
  if (request.id().empty() || request.id().size() > kMaxIdBytes) {
    return FieldViolationError("id", "id must be a withdrawal id (wd_…)");
  }
  std::shared_lock chain(chain_mu_);
  ASSIGN_OR_RETURN(gasbank::Withdrawals * withdrawals, StartedWithdrawals());
  ASSIGN_OR_RETURN(gasbank::WithdrawalInfo info, withdrawals->Get(account, request.id()));
  WithdrawalToProto(info, response);
  return Status();
}

}  // namespace neosl::services
