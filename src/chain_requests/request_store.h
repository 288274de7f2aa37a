// The relay's durable record (tables chain_requests and chain_request_cursors, migration 5):
// each request, its answer, the callback transaction's bytes, and where following resumes.
// Every state change is a conditional UPDATE on the state it leaves, so a late or second
// answer, or a transaction replaced by another, can never overwrite what is recorded.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chain_requests/request.h"
#include "core/clock.h"
#include "core/status.h"
#include "neo/uint.h"
#include "store/store.h"

namespace neosl::chain_requests {

// See relay.h for the state machine.
enum class RequestState { kReceived, kAnswering, kSent, kAnswered, kFailed };

// "received", "answering", "sent", "answered", "failed": the `status` column.
std::string_view RequestStateName(RequestState state);
StatusOr<RequestState> ParseRequestState(std::string_view name);

struct RequestRecord {
  ChainRequest request;
  RequestState state = RequestState::kReceived;
  std::optional<ChainAnswer> answer;           // from kAnswering on
  std::optional<neo::UInt256> answer_tx_hash;  // from kSent on (unless it failed before)
  std::vector<uint8_t> answer_tx;              // the signed transaction, as relayed
  std::optional<uint32_t> answer_block_index;  // where the callback was included
  int64_t attempts = 0;                        // callback transactions built
  std::string error;                           // why it failed
  int64_t received_at_ms = 0;
  int64_t updated_at_ms = 0;
  std::optional<int64_t> answered_at_ms;
};

// The resume cursors of the chain's followers (table chain_request_cursors, one row per name):
// the relay's, and the gas bank's deposit watcher's (services/gasbank/deposits.h). Each follower
// moves its cursor in the store transaction that records a block, so the two never disagree.
//
// Moves `cursor` forward to `block_index`, never back (a replay from an earlier block must not
// move the resume point back), creating it if there is none.
Status AdvanceCursor(store::Transaction& tx, std::string_view cursor, uint32_t block_index, int64_t now_ms);
// Records `block_index` as `cursor` only if there is no cursor of that name yet.
Status InitCursor(store::Transaction& tx, std::string_view cursor, uint32_t block_index, int64_t now_ms);
// For a follower that started without a cursor (from the block after the node's tip), before it
// records `first_block`, the first block it is given: the cursor is set just before that block,
// in a transaction of its own, so that a stop before `first_block` commits resumes there rather
// than after the tip of that later time, skipping the blocks in between. A cursor already there
// is left alone.
Status StartCursorBefore(store::Store& store, std::string_view cursor, uint32_t first_block, int64_t now_ms);
// The last block recorded under `cursor`; unset before the first.
StatusOr<std::optional<uint32_t>> ReadCursor(store::Store& store, std::string_view cursor);

// A stored non-negative 32-bit column (a block index, a notification index); INTERNAL naming
// `what` when the stored value is out of range.
StatusOr<uint32_t> U32Column(const store::Row& row, size_t i, std::string_view what);

class RequestStore {
 public:
  RequestStore(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Records the requests announced in block `block_index` and moves cursor `cursor` forward to
  // that block (never back), in one write transaction. Returns the requests that were new: one
  // whose key is already recorded is a replay and is skipped (with a warning when it came from
  // another notification, i.e. a contract reused a request id).
  StatusOr<std::vector<ChainRequest>> RecordBlock(std::string_view cursor, uint32_t block_index,
                                                  std::span<const ChainRequest> requests);
  // The last block recorded under `cursor`, unset before the first.
  StatusOr<std::optional<uint32_t>> Cursor(std::string_view cursor);
  // StartCursorBefore (above) on this store.
  Status StartCursorBefore(std::string_view cursor, uint32_t first_block) {
    return chain_requests::StartCursorBefore(store_, cursor, first_block, clock_.NowUnixMillis());
  }

  // NOT_FOUND for a key never recorded.
  StatusOr<RequestRecord> Get(const RequestKey& key);
  // Requests not answered or failed yet (received, answering, sent), oldest block first.
  StatusOr<std::vector<RequestRecord>> Unfinished();

  // The transitions. Each is FAILED_PRECONDITION when the row is not in the state it leaves.
  //   received → answering, with the answer.
  Status SaveAnswer(const RequestKey& key, const ChainAnswer& answer);
  //   answering → sent (replaces unset), or sent with transaction `replaces` → sent (a rebuilt
  //   transaction once the previous one expired): the new transaction's hash and bytes, attempts + 1.
  Status SaveTransaction(const RequestKey& key, const std::optional<neo::UInt256>& replaces, const neo::UInt256& hash,
                         std::span<const uint8_t> tx);
  //   sent with transaction `tx` → answered, included in `block_index`.
  Status MarkAnswered(const RequestKey& key, const neo::UInt256& tx, uint32_t block_index);
  //   answering (tx unset) or sent with transaction `tx` → failed, with the reason.
  Status MarkFailed(const RequestKey& key, const std::optional<neo::UInt256>& tx, std::optional<uint32_t> block_index,
                    std::string_view reason);

 private:
  Status Transition(std::string_view what, const std::string& sql, store::Params params);

  store::Store& store_;
  const Clock& clock_;
};

}  // namespace neosl::chain_requests
