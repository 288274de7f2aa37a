#include "services/gasbank/withdrawals.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "core/business_metrics.h"
#include "core/crash_point.h"
#include "core/ids.h"
#include "core/log.h"
#include "neo/account.h"
#include "neo/script_builder.h"
#include "services/gasbank/deposits.h"

namespace neosl::gasbank {
namespace {

constexpr std::string_view kService = "gasbank";
constexpr std::string_view kIdPrefix = "wd_";
constexpr size_t kIdChars = 20;
constexpr size_t kMaxIdempotencyKeyBytes = 200;
constexpr int kMaxListLimit = 1000;
// What the fee schedule may price a withdrawal at, on top of its chain fees.
constexpr std::string_view kFeeOperation = "gasbank.withdrawal";

constexpr std::string_view kColumns =
    "w.id, w.account_id, w.idempotency_key, w.to_hash, w.amount, w.fee_reserved, w.fee_charged, w.state, w.error, "
    "w.created_at_ms, w.updated_at_ms, o.tx_hash, o.state FROM gasbank_withdrawals w LEFT JOIN chain_outbox o ON "
    "o.item_key = w.outbox_key";

std::string OutboxKey(const std::string& id) {
  return "gasbank:" + id;
}

StatusOr<neo::UInt160> ParseTo(const std::string& to) {
  const bool hex = to.size() >= 2 && to[0] == '0' && (to[1] == 'x' || to[1] == 'X');
  StatusOr<neo::UInt160> hash = hex ? neo::UInt160::Parse(to) : neo::AddressToScriptHash(to);
  if (!hash.ok()) {
    return FieldViolationError("to",
                               "to is not an N3 address or a 0x script hash: " + std::string(hash.status().message()));
  }
  return hash;
}

Status CheckIdempotencyKey(const std::string& key) {
  if (key.empty() || key.size() > kMaxIdempotencyKeyBytes) {
    return FieldViolationError("idempotency_key", "idempotency_key is 1 to 200 bytes");
  }
  if (!std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c <= 0x7e; })) {
    return FieldViolationError("idempotency_key", "idempotency_key is printable ASCII");
  }
  return Status::Ok();
}

// The largest system + network fee whose ChainFee (with the markup) is within `reserve`: the
// outbox's cap for the transfer, so that what the chain takes is never more than was held.
StatusOr<int64_t> MaxFee(const FeeSchedule& fees, int64_t reserve) {
  __extension__ using u128 = unsigned __int128;
  int64_t fee = int64_t(u128(reserve) * 10'000 / (u128(10'000) + u128(fees.markup_bps())));
  // The floor is within the reserve even with the markup rounded up; checked all the same, as
  // ChainFee is what settling charges.
  for (;;) {
    ASSIGN_OR_RETURN(int64_t charged, fees.ChainFee(fee, 0));
    if (charged <= reserve) break;
    --fee;
  }
  if (fee <= 0) return FailedPreconditionError("the withdrawal fee reserve leaves nothing for the chain's fees");
  return fee;
}

StatusOr<std::vector<uint8_t>> TransferScript(const neo::UInt160& hot, const neo::UInt160& to, int64_t amount) {
  neo::ScriptBuilder sb;
  RETURN_IF_ERROR(
      sb.Nep17Transfer(GasTokenHash(), hot, to, neo::ContractParam::Int(amount), neo::ContractParam::Null()));
  // GAS.transfer answers false rather than failing (an empty hot wallet): ASSERT turns that into a
  // FAULT, so the outbox's test run refuses it and nothing is sent.
  sb.Emit(neo::OpCode::ASSERT);
  return sb.Take();
}

// a + b, or `cap` if that is smaller (or overflows).
int64_t CappedSum(int64_t a, int64_t b, int64_t cap) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return cap;
  return std::min(sum, cap);
}

StatusOr<WithdrawalInfo> ReadInfo(const store::Row& row) {
  WithdrawalInfo w;
  ASSIGN_OR_RETURN(w.id, row.Text(0));
  ASSIGN_OR_RETURN(w.account, row.Text(1));
  ASSIGN_OR_RETURN(w.idempotency_key, row.Text(2));
  ASSIGN_OR_RETURN(std::string to_hash, row.Text(3));
  ASSIGN_OR_RETURN(neo::UInt160 to, neo::UInt160::Parse(to_hash));
  w.to = neo::ToAddress(to);
  ASSIGN_OR_RETURN(w.amount, row.Int(4));
  ASSIGN_OR_RETURN(w.fee_reserved, row.Int(5));
  ASSIGN_OR_RETURN(w.fee_charged, row.Int(6));
  ASSIGN_OR_RETURN(w.state, row.Text(7));
  ASSIGN_OR_RETURN(w.error, row.Text(8));
  ASSIGN_OR_RETURN(w.created_at_ms, row.Int(9));
  ASSIGN_OR_RETURN(w.updated_at_ms, row.Int(10));
  ASSIGN_OR_RETURN(std::optional<std::string> tx_hash, row.OptionalText(11));
  w.tx_hash = tx_hash.value_or("");
  ASSIGN_OR_RETURN(std::optional<std::string> tx_state, row.OptionalText(12));
  w.tx_state = tx_state.value_or("");
  return w;
}

StatusOr<std::vector<WithdrawalInfo>> ReadAll(const std::vector<store::Row>& rows) {
  std::vector<WithdrawalInfo> out;
  out.reserve(rows.size());
  for (const store::Row& row : rows) {
    ASSIGN_OR_RETURN(WithdrawalInfo w, ReadInfo(row));
    out.push_back(std::move(w));
  }
  return out;
}

bool IsFinal(chain_tx::OutboxState s) {
  return s == chain_tx::OutboxState::kHalt || s == chain_tx::OutboxState::kFault || s == chain_tx::OutboxState::kFailed;
}

}  // namespace

Withdrawals::Withdrawals(WithdrawalOptions options, store::Store& store, const FeeSchedule& fees, neo::UInt160 hot,
                         const Clock& clock, RandomSource& random)
    : options_(options), store_(store), fees_(fees), hot_(hot), clock_(clock), random_(random) {}

StatusOr<WithdrawalInfo> Withdrawals::Request(const std::string& account, const std::string& to, int64_t amount,
                                              const std::string& idempotency_key, chain_tx::Outbox& outbox) {
  if (account.empty()) return FieldViolationError("account", "account is required");
  ASSIGN_OR_RETURN(neo::UInt160 to_hash, ParseTo(to));
  const int64_t reserve = options_.fee_reserve;
  if (reserve <= 0) return FailedPreconditionError("the withdrawal fee reserve is not configured");
  const int64_t min_amount = std::max<int64_t>(options_.min_amount, 1);
  if (amount < min_amount || amount > std::numeric_limits<int64_t>::max() - reserve) {
    return FieldViolationError("amount", "amount is at least " + std::to_string(min_amount) +
                                             " datoshi and at most 2^63 - 1 less the fee reserve");
  }
  RETURN_IF_ERROR(CheckIdempotencyKey(idempotency_key));
  ASSIGN_OR_RETURN(int64_t max_fee, MaxFee(fees_, reserve));
  const std::string to_text = to_hash.ToString();
  auto insufficient = [&] {
    return FailedPreconditionError("insufficient funds: a withdrawal of " + std::to_string(amount) + " datoshi needs " +
                                   std::to_string(amount + reserve) + " available (the amount and the fee reserve of " +
                                   std::to_string(reserve) + ")");
  };

  WithdrawalInfo info;
  bool created = false;
  bool raced = false;
  auto request = [&](store::Transaction& tx) -> Status {
    created = false;
    raced = false;
    const int64_t now_ms = clock_.NowUnixMillis();
    ASSIGN_OR_RETURN(
        std::optional<store::Row> prior,
        tx.QueryOptional("SELECT " + std::string(kColumns) + " WHERE w.account_id = ? AND w.idempotency_key = ?",
                         {account, idempotency_key}));
    if (prior) {
      ASSIGN_OR_RETURN(info, ReadInfo(*prior));
      if (info.to != neo::ToAddress(to_hash) || info.amount != amount) {
        return AlreadyExistsError("idempotency_key was used for a withdrawal of another amount or to another address");
      }
      info.replay = true;
      return Status::Ok();
    }
    const std::string id = GenerateId(kIdPrefix, kIdChars, random_);
    Entry entry{.key = "withdrawal:" + id,
                .kind = "withdrawal",
                .account = account,
                .service = std::string(kService),
                .reference = id,
                .lines = {{Book::kAvailable, account, -amount}, {Book::kPendingWithdrawal, account, amount}}};
    StatusOr<Posted> posted = Ledger::Post(tx, entry, now_ms);
    if (posted.status().code() == StatusCode::kFailedPrecondition) return insufficient();
    RETURN_IF_ERROR(posted);
    StatusOr<HoldInfo> hold = Ledger::Reserve(tx, account, reserve, std::string(kService), id, "withdrawal:" + id,
                                              std::nullopt, now_ms, random_);
    if (hold.status().code() == StatusCode::kFailedPrecondition) return insufficient();
    RETURN_IF_ERROR(hold);
    Status inserted =
        tx.Exec(
              "INSERT INTO gasbank_withdrawals (id, account_id, idempotency_key, to_hash, amount, fee_hold_id, "
              "fee_reserved, fee_charged, state, outbox_key, error, created_at_ms, updated_at_ms) VALUES (?, ?, ?, "
              "?, ?, ?, ?, 0, 'pending', ?, '', ?, ?)",
              {id, account, idempotency_key, to_text, amount, hold->id, reserve, OutboxKey(id), now_ms, now_ms})
            .status();
    // A concurrent request with the same key committed first (PostgreSQL): answered as its replay.
    if (inserted.code() == StatusCode::kAlreadyExists) raced = true;
    RETURN_IF_ERROR(inserted);
    ASSIGN_OR_RETURN(std::vector<uint8_t> script, TransferScript(hot_, to_hash, amount));
    chain_tx::OutboxItem item{.key = OutboxKey(id),
                              .owner = std::string(kOutboxOwner),
                              .account_id = account,
                              .script = std::move(script),
                              .valid_for_blocks = options_.valid_for_blocks,
                              .max_fee = max_fee,
                              .max_attempts = options_.max_attempts};
    ASSIGN_OR_RETURN(bool enqueued, chain_tx::Outbox::Enqueue(tx, item, now_ms));
    if (!enqueued) return InternalError("the outbox already has the item of a new withdrawal");
    info = WithdrawalInfo{.id = id,
                          .account = account,
                          .to = neo::ToAddress(to_hash),
                          .amount = amount,
                          .idempotency_key = idempotency_key,
                          .state = "pending",
                          .fee_reserved = reserve,
                          .tx_state = "queued",
                          .created_at_ms = now_ms,
                          .updated_at_ms = now_ms};
    created = true;
    return Status::Ok();
  };
  Status status = store::RunInTransaction(store_, store::TxMode::kWrite, request);
  if (!status.ok() && raced) status = store::RunInTransaction(store_, store::TxMode::kWrite, request);
  RETURN_IF_ERROR(status);
  if (created) {
    metrics::GasBank().Posted("withdrawal", amount);
    metrics::GasBank().Posted("hold", reserve);
    CrashPoint("gasbank.withdrawal.after_request");
    outbox.Wake();
    log::Info("gasbank withdrawal requested",
              {{"id", info.id}, {"account", account}, {"amount", amount}, {"fee_reserved", reserve}});
  }
  return info;
}

chain_tx::Outbox::Listener Withdrawals::Listener() {
  return [this](const chain_tx::OutboxRecord& record) {
    StatusOr<bool> applied = Apply(record);
    if (!applied.ok()) {
      log::Error("gasbank withdrawal outcome not applied; Recover will",
                 {{"outbox_key", record.key}, {"error", applied.status().ToString()}});
    }
  };
}

StatusOr<int> Withdrawals::Recover() {
  ASSIGN_OR_RETURN(std::vector<store::Row> rows,
                   store_.Query("SELECT outbox_key FROM gasbank_withdrawals WHERE state = 'pending' ORDER BY "
                                "created_at_ms, id"));
  int applied = 0;
  Status first = Status::Ok();
  for (const store::Row& row : rows) {
    ASSIGN_OR_RETURN(std::string key, row.Text(0));
    StatusOr<chain_tx::OutboxRecord> record = chain_tx::Outbox::Get(store_, key);
    StatusOr<bool> done = record.ok() ? Apply(*record) : StatusOr<bool>(record.status());
    if (done.ok()) {
      applied += *done ? 1 : 0;
      continue;
    }
    log::Error("gasbank withdrawal outcome not recovered", {{"outbox_key", key}, {"error", done.status().ToString()}});
    if (first.ok()) first = done.status();
  }
  RETURN_IF_ERROR(first);
  return applied;
}

StatusOr<bool> Withdrawals::Apply(const chain_tx::OutboxRecord& record) {
  if (!IsFinal(record.state)) return false;
  CrashPoint("gasbank.withdrawal.before_apply");
  const bool halt = record.state == chain_tx::OutboxState::kHalt;
  const bool on_chain = halt || record.state == chain_tx::OutboxState::kFault;
  int64_t chain_fee = 0;
  if (on_chain) {
    if (!record.system_fee || !record.network_fee) {
      return InternalError("the outbox record " + record.key + " is final on chain without its fees");
    }
    ASSIGN_OR_RETURN(chain_fee, fees_.ChainFee(*record.system_fee, *record.network_fee));
  }
  int64_t service_fee = 0;
  if (halt) {
    StatusOr<int64_t> fee = fees_.Fee(kFeeOperation, {});
    if (fee.ok()) {
      service_fee = *fee;
    } else if (fee.status().code() != StatusCode::kNotFound) {
      return fee.status();
    }
  }

  WithdrawalInfo w;
  bool applied = false;
  Status status = store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    applied = false;
    const int64_t now_ms = clock_.NowUnixMillis();
    ASSIGN_OR_RETURN(std::optional<store::Row> row,
                     tx.QueryOptional("SELECT id, account_id, amount, fee_hold_id, fee_reserved, state FROM "
                                      "gasbank_withdrawals WHERE outbox_key = ?",
                                      {record.key}));
    if (!row) return NotFoundError("no withdrawal has the outbox item " + record.key);
    ASSIGN_OR_RETURN(w.id, row->Text(0));
    ASSIGN_OR_RETURN(w.account, row->Text(1));
    ASSIGN_OR_RETURN(w.amount, row->Int(2));
    ASSIGN_OR_RETURN(std::string hold_id, row->Text(3));
    ASSIGN_OR_RETURN(w.fee_reserved, row->Int(4));
    ASSIGN_OR_RETURN(std::string state, row->Text(5));
    if (state != "pending") return Status::Ok();  // applied before

    w.state = halt ? "settled" : "returned";
    w.error = halt ? "" : record.error;
    // The fees the chain took (a FAULT still pays them), and on success the schedule's own.
    w.fee_charged = on_chain ? CappedSum(service_fee, chain_fee, w.fee_reserved) : 0;
    // The claim: of two appliers (listener and Recover, two processes on PostgreSQL) one goes on.
    ASSIGN_OR_RETURN(int64_t changed,
                     tx.Exec("UPDATE gasbank_withdrawals SET state = ?, fee_charged = ?, error = ?, updated_at_ms = ? "
                             "WHERE id = ? AND state = 'pending'",
                             {w.state, w.fee_charged, w.error, now_ms, w.id}));
    if (changed != 1) return Status::Ok();

    Entry entry{.key = std::string(halt ? "withdrawal_settle:" : "withdrawal_return:") + w.id,
                .kind = halt ? "withdrawal_settle" : "withdrawal_return",
                .account = w.account,
                .service = std::string(kService),
                .reference = w.id,
                .lines = {{Book::kPendingWithdrawal, w.account, -w.amount}}};
    if (halt) {
      entry.lines.push_back({Book::kCustody, "", w.amount});
    } else {
      entry.lines.push_back({Book::kAvailable, w.account, w.amount});
    }
    ASSIGN_OR_RETURN(Posted posted, Ledger::Post(tx, entry, now_ms));
    (void)posted;
    if (on_chain) {
      ASSIGN_OR_RETURN(HoldInfo hold, Ledger::Settle(tx, hold_id, w.fee_charged, now_ms));
      (void)hold;
    } else {
      ASSIGN_OR_RETURN(HoldInfo hold, Ledger::Release(tx, hold_id, now_ms));
      (void)hold;
    }
    applied = true;
    return Status::Ok();
  });
  RETURN_IF_ERROR(status);
  if (applied) {
    metrics::GasBank().Posted(halt ? "withdrawal_settle" : "withdrawal_return", w.amount);
    metrics::GasBank().Posted(on_chain ? "settle" : "release", w.fee_reserved);
    if (w.fee_charged > 0) metrics::GasBank().charged.Inc({kService}, uint64_t(w.fee_charged));
    CrashPoint("gasbank.withdrawal.after_apply");
    log::Info("gasbank withdrawal " + w.state, {{"id", w.id},
                                                {"account", w.account},
                                                {"amount", w.amount},
                                                {"fee_charged", w.fee_charged},
                                                {"tx", record.tx_hash.value_or("")},
                                                {"error", w.error}});
  }
  return applied;
}

StatusOr<WithdrawalInfo> Withdrawals::Get(const std::string& account, const std::string& id) {
  ASSIGN_OR_RETURN(
      std::vector<store::Row> rows,
      store_.Query("SELECT " + std::string(kColumns) + " WHERE w.id = ? AND w.account_id = ?", {id, account}));
  if (rows.empty()) return NotFoundError("withdrawal " + id + " not found");
  return ReadInfo(rows[0]);
}

StatusOr<std::vector<WithdrawalInfo>> Withdrawals::List(const std::string& account, int limit) {
  if (limit < 1 || limit > kMaxListLimit) return FieldViolationError("limit", "limit is 1 to 1000");
  ASSIGN_OR_RETURN(std::vector<store::Row> rows,
                   store_.Query("SELECT " + std::string(kColumns) +
                                    " WHERE w.account_id = ? ORDER BY w.created_at_ms DESC, w.id DESC LIMIT ?",
                                {account, int64_t{limit}}));
  return ReadAll(rows);
}

StatusOr<std::vector<WithdrawalInfo>> Withdrawals::ListAll(store::Store& store) {
  ASSIGN_OR_RETURN(std::vector<store::Row> rows,
                   store.Query("SELECT " + std::string(kColumns) + " ORDER BY w.created_at_ms, w.id"));
  return ReadAll(rows);
}

}  // namespace neosl::gasbank
