// The outbox's rows in chain_outbox (migration 8), internal to src/chain_tx. Every transition is
// a conditional UPDATE on the state it leaves (and, from sent, on the transaction it follows), so
// a stale view of a row, or another process's outbox on the same store, can never overwrite what
// is recorded: such a transition is FAILED_PRECONDITION and changes nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chain_tx/outbox.h"
#include "core/status.h"
#include "neo/transaction.h"
#include "store/store.h"

namespace neosl::chain_tx::internal {

// An unfinished row as the worker takes it forward: the record, and what building needs. The
// limits are as enqueued, 0 meaning the outbox's default.
struct OutboxRow {
  OutboxRecord record;
  std::vector<uint8_t> script;
  uint32_t valid_for = 0;
  int64_t max_fee = 0;
  int64_t max_attempts = 0;
  std::optional<neo::WitnessScope> scopes;  // unset: the outbox's
};

StatusOr<bool> InsertQueued(store::Transaction& tx, const OutboxItem& item, int64_t now_ms);
// NOT_FOUND for a key never enqueued.
StatusOr<OutboxRecord> ReadRecord(store::Store& store, const std::string& key);
// Queued and sent rows, oldest first. A row that does not read back is logged and left out, so
// that it cannot hold up the others.
StatusOr<std::vector<OutboxRow>> Unfinished(store::Store& store);
// The signed bytes of transaction `tx_hash` of `key`, as stored before they were first relayed.
StatusOr<std::vector<uint8_t>> StoredTransaction(store::Store& store, const std::string& key,
                                                 const std::string& tx_hash);

// queued → sent (replaces unset), or sent with transaction `replaces` → sent: the transaction,
// its bytes, window and fees; attempts + 1.
Status SaveSent(store::Store& store, const std::string& key, const std::optional<std::string>& replaces,
                const neo::Transaction& tx, std::span<const uint8_t> bytes, int64_t now_ms);
// sent with transaction `tx_hash` → halt or fault, in block `block_index`.
Status SaveIncluded(store::Store& store, const std::string& key, const std::string& tx_hash, OutboxState state,
                    uint32_t block_index, int64_t gas_consumed, std::string_view error, int64_t now_ms);
// queued (tx_hash unset), or sent with transaction `tx_hash` → failed, with the reason.
Status SaveFailed(store::Store& store, const std::string& key, const std::optional<std::string>& tx_hash,
                  std::string_view reason, int64_t now_ms);

}  // namespace neosl::chain_tx::internal
