#include "chain_tx/outbox_store.h"

#include <array>
#include <utility>

#include "core/log.h"

namespace neosl::chain_tx::internal {
namespace {

constexpr std::array<std::string_view, 5> kStateNames = {"queued", "sent", "halt", "fault", "failed"};

// The record's columns, then (Unfinished only) what building needs.
constexpr std::string_view kRecordColumns =
    "item_key, owner, account_id, state, attempts, tx_hash, valid_until, system_fee, network_fee, block_index, "
    "gas_consumed, error, created_at_ms, updated_at_ms";
constexpr std::string_view kBuildColumns = ", script, valid_for, max_fee, max_attempts, scopes";

StatusOr<OutboxState> ParseState(std::string_view name) {
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == name) return static_cast<OutboxState>(i);
  }
  return InternalError("unknown chain_outbox state '" + std::string(name) + "'");
}

StatusOr<std::optional<uint32_t>> OptionalU32(const store::Row& row, size_t i, std::string_view what) {
  ASSIGN_OR_RETURN(std::optional<int64_t> v, row.OptionalInt(i));
  if (!v) return std::optional<uint32_t>();
  if (*v < 0 || *v > int64_t{UINT32_MAX}) return InternalError("stored " + std::string(what) + " is out of range");
  return std::optional<uint32_t>(static_cast<uint32_t>(*v));
}

StatusOr<OutboxRecord> RecordFrom(const store::Row& row) {
  OutboxRecord r;
  ASSIGN_OR_RETURN(r.key, row.Text(0));
  ASSIGN_OR_RETURN(r.owner, row.Text(1));
  ASSIGN_OR_RETURN(r.account_id, row.Text(2));
  ASSIGN_OR_RETURN(std::string state, row.Text(3));
  ASSIGN_OR_RETURN(r.state, ParseState(state));
  ASSIGN_OR_RETURN(r.attempts, row.Int(4));
  ASSIGN_OR_RETURN(r.tx_hash, row.OptionalText(5));
  ASSIGN_OR_RETURN(r.valid_until, OptionalU32(row, 6, "valid_until"));
  ASSIGN_OR_RETURN(r.system_fee, row.OptionalInt(7));
  ASSIGN_OR_RETURN(r.network_fee, row.OptionalInt(8));
  ASSIGN_OR_RETURN(r.block_index, OptionalU32(row, 9, "block_index"));
  ASSIGN_OR_RETURN(r.gas_consumed, row.OptionalInt(10));
  ASSIGN_OR_RETURN(r.error, row.Text(11));
  ASSIGN_OR_RETURN(r.created_at_ms, row.Int(12));
  ASSIGN_OR_RETURN(r.updated_at_ms, row.Int(13));
  return r;
}

StatusOr<OutboxRow> RowFrom(const store::Row& row) {
  OutboxRow out;
  ASSIGN_OR_RETURN(out.record, RecordFrom(row));
  ASSIGN_OR_RETURN(out.script, row.Bytes(14));
  ASSIGN_OR_RETURN(std::optional<uint32_t> valid_for, OptionalU32(row, 15, "valid_for"));
  out.valid_for = valid_for.value_or(0);
  ASSIGN_OR_RETURN(out.max_fee, row.Int(16));
  ASSIGN_OR_RETURN(out.max_attempts, row.Int(17));
  ASSIGN_OR_RETURN(std::optional<int64_t> scopes, row.OptionalInt(18));
  if (scopes) {
    if (*scopes < 0 || *scopes > 0xff) return InternalError("stored scopes are out of range");
    out.scopes = static_cast<neo::WitnessScope>(*scopes);
  }
  // A sent row is followed by its hash and window; without them it cannot be.
  if (out.record.state == OutboxState::kSent && (!out.record.tx_hash || !out.record.valid_until)) {
    return InternalError("a sent chain_outbox row has no transaction hash or validUntilBlock");
  }
  return out;
}

// One conditional UPDATE in a write transaction of its own; FAILED_PRECONDITION unless it
// changed exactly the row.
Status Transition(store::Store& store, std::string_view what, const std::string& sql, const store::Params& params) {
  int64_t changed = 0;
  RETURN_IF_ERROR(store::RunInTransaction(store, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(changed, tx.Exec(sql, params));
    return Status::Ok();
  }));
  if (changed != 1) {
    return FailedPreconditionError("the outbox item is no longer in the state " + std::string(what) + " leaves");
  }
  return Status::Ok();
}

}  // namespace

StatusOr<bool> InsertQueued(store::Transaction& tx, const OutboxItem& item, int64_t now_ms) {
  if (item.key.empty()) return FieldViolationError("key", "an outbox item needs a key");
  if (item.owner.empty()) return FieldViolationError("owner", "an outbox item needs an owner");
  if (item.script.empty()) return FieldViolationError("script", "an outbox item needs a script");
  if (item.script.size() > neo::Transaction::kMaxScriptSize) {
    return FieldViolationError(
        "script", "the script of " + std::to_string(item.script.size()) + " bytes exceeds N3's limit of 65535");
  }
  if (item.max_fee < 0) return FieldViolationError("max_fee", "max_fee must not be negative");
  if (item.max_attempts < 0) return FieldViolationError("max_attempts", "max_attempts must not be negative");
  ASSIGN_OR_RETURN(int64_t inserted,
                   tx.Exec("INSERT INTO chain_outbox (item_key, owner, account_id, script, valid_for, max_fee, "
                           "max_attempts, scopes, state, attempts, error, created_at_ms, updated_at_ms) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', 0, '', ?, ?) ON CONFLICT (item_key) DO NOTHING",
                           {item.key, item.owner, item.account_id, store::Blob(item.script),
                            int64_t{item.valid_for_blocks}, item.max_fee, int64_t{item.max_attempts},
                            item.scopes ? store::Value(int64_t(*item.scopes)) : store::Null(), now_ms, now_ms}));
  return inserted == 1;
}

StatusOr<OutboxRecord> ReadRecord(store::Store& store, const std::string& key) {
  ASSIGN_OR_RETURN(
      auto rows, store.Query("SELECT " + std::string(kRecordColumns) + " FROM chain_outbox WHERE item_key = ?", {key}));
  if (rows.empty()) return NotFoundError("no outbox item has this key");
  return RecordFrom(rows[0]);
}

StatusOr<std::vector<OutboxRow>> Unfinished(store::Store& store) {
  ASSIGN_OR_RETURN(auto rows, store.Query("SELECT " + std::string(kRecordColumns) + std::string(kBuildColumns) +
                                          " FROM chain_outbox WHERE state IN ('queued', 'sent') "
                                          "ORDER BY created_at_ms, item_key"));
  std::vector<OutboxRow> out;
  out.reserve(rows.size());
  for (const store::Row& row : rows) {
    auto r = RowFrom(row);
    if (!r.ok()) {
      auto key = row.Text(0);
      log::Error("outbox: a stored item does not read back; it is left alone",
                 {{"key", key.ok() ? *key : std::string("?")}, {"error", r.status().ToString()}});
      continue;
    }
    out.push_back(*std::move(r));
  }
  return out;
}

StatusOr<std::vector<uint8_t>> StoredTransaction(store::Store& store, const std::string& key,
                                                 const std::string& tx_hash) {
  ASSIGN_OR_RETURN(auto rows,
                   store.Query("SELECT tx FROM chain_outbox WHERE item_key = ? AND tx_hash = ?", {key, tx_hash}));
  if (rows.empty() || rows[0].IsNull(0)) return FailedPreconditionError("the outbox item follows another transaction");
  return rows[0].Bytes(0);
}

Status SaveSent(store::Store& store, const std::string& key, const std::optional<std::string>& replaces,
                const neo::Transaction& tx, std::span<const uint8_t> bytes, int64_t now_ms) {
  store::Params params = {tx.hash().ToString(),
                          store::Blob(bytes.begin(), bytes.end()),
                          int64_t{tx.valid_until_block()},
                          tx.system_fee(),
                          tx.network_fee(),
                          now_ms,
                          key};
  std::string sql =
      "UPDATE chain_outbox SET state = 'sent', tx_hash = ?, tx = ?, valid_until = ?, system_fee = ?, network_fee = ?, "
      "attempts = attempts + 1, updated_at_ms = ? WHERE item_key = ? AND ";
  if (replaces) {
    sql += "state = 'sent' AND tx_hash = ?";
    params.emplace_back(*replaces);
  } else {
    sql += "state = 'queued'";
  }
  return Transition(store, "storing a transaction", sql, params);
}

Status SaveIncluded(store::Store& store, const std::string& key, const std::string& tx_hash, OutboxState state,
                    uint32_t block_index, int64_t gas_consumed, std::string_view error, int64_t now_ms) {
  return Transition(
      store, "recording inclusion",
      "UPDATE chain_outbox SET state = ?, block_index = ?, gas_consumed = ?, error = ?, updated_at_ms = ? "
      "WHERE item_key = ? AND state = 'sent' AND tx_hash = ?",
      {std::string(OutboxStateName(state)), int64_t{block_index}, gas_consumed, std::string(error), now_ms, key,
       tx_hash});
}

Status SaveFailed(store::Store& store, const std::string& key, const std::optional<std::string>& tx_hash,
                  std::string_view reason, int64_t now_ms) {
  store::Params params = {std::string(reason), now_ms, key};
  std::string sql = "UPDATE chain_outbox SET state = 'failed', error = ?, updated_at_ms = ? WHERE item_key = ? AND ";
  if (tx_hash) {
    sql += "state = 'sent' AND tx_hash = ?";
    params.emplace_back(*tx_hash);
  } else {
    sql += "state = 'queued'";
  }
  return Transition(store, "recording a failure", sql, params);
}

}  // namespace neosl::chain_tx::internal

namespace neosl::chain_tx {

std::string_view OutboxStateName(OutboxState s) {
  return internal::kStateNames.at(static_cast<size_t>(s));
}

}  // namespace neosl::chain_tx
