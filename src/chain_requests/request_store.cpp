#include "chain_requests/request_store.h"

#include <array>
#include <utility>

#include "core/log.h"

namespace neosl::chain_requests {
namespace {

constexpr std::array<std::string_view, 5> kStateNames = {"received", "answering", "sent", "answered", "failed"};

constexpr std::string_view kColumns =
    "contract, request_id, tx_hash, notification_index, block_index, requester, service, payload, callback, "
    "status, answer_code, answer_result, answer_signature, answer_tx_hash, answer_tx, answer_block_index, "
    "attempts, error, received_at_ms, updated_at_ms, answered_at_ms";

template <typename H>
StatusOr<H> HashColumn(const store::Row& row, size_t i, std::string_view what) {
  ASSIGN_OR_RETURN(std::string text, row.Text(i));
  auto h = H::Parse(text);
  if (!h.ok()) return InternalError("stored " + std::string(what) + " is not a hash");
  return *h;
}

StatusOr<RequestRecord> ReadRecord(const store::Row& row) {
  RequestRecord r;
  ChainRequest& q = r.request;
  ASSIGN_OR_RETURN(q.key.contract, HashColumn<neo::UInt160>(row, 0, "contract"));
  ASSIGN_OR_RETURN(std::string id, row.Text(1));
  auto big = neo::BigInteger::FromDecimal(id);
  if (!big.ok()) return InternalError("stored request_id is not an integer");
  q.key.request_id = *std::move(big);
  ASSIGN_OR_RETURN(q.tx_hash, HashColumn<neo::UInt256>(row, 2, "tx_hash"));
  ASSIGN_OR_RETURN(q.notification_index, U32Column(row, 3, "notification_index"));
  ASSIGN_OR_RETURN(q.block_index, U32Column(row, 4, "block_index"));
  ASSIGN_OR_RETURN(q.requester, HashColumn<neo::UInt160>(row, 5, "requester"));
  ASSIGN_OR_RETURN(q.service, row.Text(6));
  ASSIGN_OR_RETURN(q.payload, row.Bytes(7));
  ASSIGN_OR_RETURN(q.callback, row.Text(8));
  ASSIGN_OR_RETURN(std::string state, row.Text(9));
  ASSIGN_OR_RETURN(r.state, ParseRequestState(state));
  if (!row.IsNull(10)) {
    ChainAnswer a;
    ASSIGN_OR_RETURN(int64_t code, row.Int(10));
    if (code < 0 || code > int64_t{UINT32_MAX}) return InternalError("stored answer_code is out of range");
    a.code = static_cast<uint32_t>(code);
    ASSIGN_OR_RETURN(a.result, row.Bytes(11));
    ASSIGN_OR_RETURN(a.signature, row.Bytes(12));
    r.answer = std::move(a);
  }
  if (!row.IsNull(13)) {
    ASSIGN_OR_RETURN(r.answer_tx_hash, HashColumn<neo::UInt256>(row, 13, "answer_tx_hash"));
    ASSIGN_OR_RETURN(r.answer_tx, row.Bytes(14));
  }
  if (!row.IsNull(15)) {
    ASSIGN_OR_RETURN(r.answer_block_index, U32Column(row, 15, "answer_block_index"));
  }
  ASSIGN_OR_RETURN(r.attempts, row.Int(16));
  ASSIGN_OR_RETURN(r.error, row.Text(17));
  ASSIGN_OR_RETURN(r.received_at_ms, row.Int(18));
  ASSIGN_OR_RETURN(r.updated_at_ms, row.Int(19));
  ASSIGN_OR_RETURN(r.answered_at_ms, row.OptionalInt(20));
  return r;
}

store::Params KeyParams(const RequestKey& key) {
  return {key.contract.ToString(), key.request_id.decimal()};
}

}  // namespace

StatusOr<uint32_t> U32Column(const store::Row& row, size_t i, std::string_view what) {
  ASSIGN_OR_RETURN(int64_t v, row.Int(i));
  if (v < 0 || v > int64_t{UINT32_MAX}) return InternalError("stored " + std::string(what) + " is out of range");
  return static_cast<uint32_t>(v);
}

Status AdvanceCursor(store::Transaction& tx, std::string_view cursor, uint32_t block_index, int64_t now_ms) {
  ASSIGN_OR_RETURN(int64_t moved, tx.Exec("UPDATE chain_request_cursors SET block_index = ?, updated_at_ms = ? "
                                          "WHERE name = ? AND block_index < ?",
                                          {int64_t{block_index}, now_ms, std::string(cursor), int64_t{block_index}}));
  if (moved != 0) return Status::Ok();
  return InitCursor(tx, cursor, block_index, now_ms);
}

Status InitCursor(store::Transaction& tx, std::string_view cursor, uint32_t block_index, int64_t now_ms) {
  return tx
      .Exec(
          "INSERT INTO chain_request_cursors (name, block_index, updated_at_ms) VALUES (?, ?, ?) "
          "ON CONFLICT (name) DO NOTHING",
          {std::string(cursor), int64_t{block_index}, now_ms})
      .status();
}

Status StartCursorBefore(store::Store& store, std::string_view cursor, uint32_t first_block, int64_t now_ms) {
  if (first_block == 0) return Status::Ok();  // the chain's first block: nothing before it to resume at
  return store::RunInTransaction(store, store::TxMode::kWrite, [&](store::Transaction& tx) {
    return InitCursor(tx, cursor, first_block - 1, now_ms);
  });
}

StatusOr<std::optional<uint32_t>> ReadCursor(store::Store& store, std::string_view cursor) {
  ASSIGN_OR_RETURN(auto rows,
                   store.Query("SELECT block_index FROM chain_request_cursors WHERE name = ?", {std::string(cursor)}));
  if (rows.empty()) return std::optional<uint32_t>();
  ASSIGN_OR_RETURN(uint32_t index, U32Column(rows[0], 0, "cursor block_index"));
  return std::optional<uint32_t>(index);
}

std::string_view RequestStateName(RequestState state) {
  return kStateNames.at(static_cast<size_t>(state));
}

StatusOr<RequestState> ParseRequestState(std::string_view name) {
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == name) return static_cast<RequestState>(i);
  }
  return InternalError("unknown chain request status '" + std::string(name) + "'");
}

StatusOr<std::vector<ChainRequest>> RequestStore::RecordBlock(std::string_view cursor, uint32_t block_index,
                                                              std::span<const ChainRequest> requests) {
  std::vector<ChainRequest> fresh;
  const int64_t now = clock_.NowUnixMillis();
  Status s = store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    fresh.clear();
    for (const ChainRequest& r : requests) {
      ASSIGN_OR_RETURN(
          int64_t inserted,
          tx.Exec("INSERT INTO chain_requests (contract, request_id, tx_hash, notification_index, block_index, "
                  "requester, service, payload, callback, status, attempts, error, received_at_ms, updated_at_ms) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'received', 0, '', ?, ?) "
                  "ON CONFLICT (contract, request_id) DO NOTHING",
                  {r.key.contract.ToString(), r.key.request_id.decimal(), r.tx_hash.ToString(),
                   int64_t{r.notification_index}, int64_t{r.block_index}, r.requester.ToString(), r.service,
                   store::Blob(r.payload), r.callback, now, now}));
      if (inserted == 1) {
        fresh.push_back(r);
        continue;
      }
      ASSIGN_OR_RETURN(store::Row seen, tx.QueryOne("SELECT tx_hash, notification_index FROM chain_requests "
                                                    "WHERE contract = ? AND request_id = ?",
                                                    KeyParams(r.key)));
      ASSIGN_OR_RETURN(std::string seen_tx, seen.Text(0));
      ASSIGN_OR_RETURN(int64_t seen_index, seen.Int(1));
      if (seen_tx != r.tx_hash.ToString() || seen_index != int64_t{r.notification_index}) {
        log::Warn("chain request id reused by the contract; the later request is ignored",
                  {{"request", r.key.ToString()},
                   {"first_tx", seen_tx},
                   {"tx", r.tx_hash.ToString()},
                   {"index", r.notification_index}});
      }
    }
    return AdvanceCursor(tx, cursor, block_index, now);
  });
  RETURN_IF_ERROR(s);
  return fresh;
}

StatusOr<std::optional<uint32_t>> RequestStore::Cursor(std::string_view cursor) {
  return ReadCursor(store_, cursor);
}

StatusOr<RequestRecord> RequestStore::Get(const RequestKey& key) {
  ASSIGN_OR_RETURN(auto rows, store_.Query("SELECT " + std::string(kColumns) +
                                               " FROM chain_requests WHERE contract = ? AND request_id = ?",
                                           KeyParams(key)));
  if (rows.empty()) return NotFoundError("chain request " + key.ToString() + " is not recorded");
  return ReadRecord(rows[0]);
}

StatusOr<std::vector<RequestRecord>> RequestStore::Unfinished() {
  ASSIGN_OR_RETURN(auto rows, store_.Query("SELECT " + std::string(kColumns) +
                                           " FROM chain_requests WHERE status IN ('received', 'answering', 'sent') "
                                           "ORDER BY block_index, tx_hash, notification_index"));
  std::vector<RequestRecord> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    ASSIGN_OR_RETURN(RequestRecord r, ReadRecord(row));
    out.push_back(std::move(r));
  }
  return out;
}

Status RequestStore::Transition(std::string_view what, const std::string& sql, store::Params params) {
  int64_t rows = 0;
  RETURN_IF_ERROR(store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(rows, tx.Exec(sql, params));
    return Status::Ok();
  }));
  if (rows != 1) return FailedPreconditionError("chain request is not in the state " + std::string(what) + " leaves");
  return Status::Ok();
}

Status RequestStore::SaveAnswer(const RequestKey& key, const ChainAnswer& answer) {
  const int64_t now = clock_.NowUnixMillis();
  return Transition("saving an answer",
                    "UPDATE chain_requests SET status = 'answering', answer_code = ?, answer_result = ?, "
                    "answer_signature = ?, updated_at_ms = ? "
                    "WHERE contract = ? AND request_id = ? AND status = 'received'",
                    {int64_t{answer.code}, store::Blob(answer.result), store::Blob(answer.signature), now,
                     key.contract.ToString(), key.request_id.decimal()});
}

Status RequestStore::SaveTransaction(const RequestKey& key, const std::optional<neo::UInt256>& replaces,
                                     const neo::UInt256& hash, std::span<const uint8_t> tx) {
  const int64_t now = clock_.NowUnixMillis();
  store::Params params = {hash.ToString(), store::Blob(tx.begin(), tx.end()), now, key.contract.ToString(),
                          key.request_id.decimal()};
  std::string sql =
      "UPDATE chain_requests SET status = 'sent', answer_tx_hash = ?, answer_tx = ?, attempts = attempts + 1, "
      "updated_at_ms = ? WHERE contract = ? AND request_id = ? AND ";
  if (replaces) {
    sql += "status = 'sent' AND answer_tx_hash = ?";
    params.emplace_back(replaces->ToString());
  } else {
    sql += "status = 'answering'";
  }
  return Transition("saving a transaction", sql, std::move(params));
}

Status RequestStore::MarkAnswered(const RequestKey& key, const neo::UInt256& tx, uint32_t block_index) {
  const int64_t now = clock_.NowUnixMillis();
  return Transition("marking answered",
                    "UPDATE chain_requests SET status = 'answered', answer_block_index = ?, answered_at_ms = ?, "
                    "updated_at_ms = ? WHERE contract = ? AND request_id = ? AND status = 'sent' AND "
                    "answer_tx_hash = ?",
                    {int64_t{block_index}, now, now, key.contract.ToString(), key.request_id.decimal(), tx.ToString()});
}

Status RequestStore::MarkFailed(const RequestKey& key, const std::optional<neo::UInt256>& tx,
                                std::optional<uint32_t> block_index, std::string_view reason) {
  const int64_t now = clock_.NowUnixMillis();
  store::Params params = {std::string(reason), block_index ? store::Value(int64_t{*block_index}) : store::Null(), now,
                          key.contract.ToString(), key.request_id.decimal()};
  std::string sql =
      "UPDATE chain_requests SET status = 'failed', error = ?, answer_block_index = ?, updated_at_ms = ? "
      "WHERE contract = ? AND request_id = ? AND ";
  if (tx) {
    sql += "status = 'sent' AND answer_tx_hash = ?";
    params.emplace_back(tx->ToString());
  } else {
    sql += "status = 'answering'";
  }
  return Transition("marking failed", sql, std::move(params));
}

}  // namespace neosl::chain_requests
