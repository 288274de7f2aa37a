// chain_tx::Outbox sends the transactions the platform makes for its services (price updates,
// withdrawals, contract automation), each exactly once per caller's key, and follows them until
// they are in a block. A service enqueues an item — its key, a script, limits — in the same store
// transaction as the state that decided to send it, so a crash can neither lose the decision nor
// repeat it; the outbox does the rest (table chain_outbox, migration 8):
//
//   queued ──▶ sent ──▶ halt | fault
//     │          │ ↺ unknown on chain and still valid: the same bytes relayed again
//     │          │ ↺ past validUntilBlock, never included: a new transaction (attempts < max)
//     └──────────┴──▶ failed   (the test run FAULTed, over the fee cap, or out of attempts)
//
//   queued  recorded by the caller's Enqueue; nothing built yet.
//   sent    the signed transaction, its hash, validUntilBlock and fees are stored *before* it is
//           relayed. Then, on every poll and after a restart, it is looked up on chain: included
//           → halt or fault by its VM state (gas consumed recorded); unknown and still valid → the
//           same bytes relayed again (a node that already has them answers "already exists",
//           which is fine); unknown and past validUntilBlock → it can never be included, so a new
//           transaction is built (same script), or the item fails when max_attempts are used.
//           Never two live transactions for one key.
//   halt / fault / failed   final; listeners of the owner are told once per process.
//
// Threads: one worker thread builds, stores, relays and follows; Enqueue and the readers may be
// called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "core/status.h"
#include "neo/rpc_client.h"
#include "neo/tx_sender.h"
#include "store/store.h"

namespace neosl::chain_tx {

enum class OutboxState { kQueued, kSent, kHalt, kFault, kFailed };
std::string_view OutboxStateName(OutboxState s);  // "queued", "sent", "halt", "fault", "failed"

struct OutboxItem {
  std::string key;         // unique per item, chosen by the caller: e.g. "pricefeed:fd_…:42"
  std::string owner;       // the service that enqueued it: "pricefeed"
  std::string account_id;  // whose behalf (for charging), or empty for the platform's own
  std::vector<uint8_t> script;
  uint32_t valid_for_blocks = 0;  // 0: the outbox's default
  int64_t max_fee = 0;            // datoshi, system + network; 0: the outbox's default (0 there: none)
  int max_attempts = 0;           // transactions built before failing; 0: the outbox's default
  // The signer's witness scope for this item; unset: the outbox's (OutboxOptions::scopes).
  // Contract automation sends users' calls with WitnessScope::None: the platform account pays
  // the fees and grants no authority, so a call cannot spend or act as the platform account.
  std::optional<neo::WitnessScope> scopes;
};

struct OutboxRecord {
  std::string key;
  std::string owner;
  std::string account_id;
  OutboxState state = OutboxState::kQueued;
  int64_t attempts = 0;
  std::optional<std::string> tx_hash;  // "0x…" of the live (or final) transaction
  std::optional<uint32_t> valid_until;
  std::optional<int64_t> system_fee;
  std::optional<int64_t> network_fee;
  std::optional<uint32_t> block_index;  // halt / fault
  std::optional<int64_t> gas_consumed;  // halt / fault
  std::string error;                    // fault: the VM's exception; failed: why
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

struct OutboxOptions {
  uint32_t valid_for_blocks = 100;  // capped by the network's MaxValidUntilBlockIncrement
  int64_t max_fee = 0;              // datoshi per transaction; 0: no cap
  int max_attempts = 3;
  // How often sent transactions are looked up (getblockcount, then the application log of each
  // when the height moved) and failed steps retried.
  std::chrono::milliseconds poll_interval{200};
  neo::WitnessScope scopes = neo::WitnessScope::CalledByEntry;
};

class Outbox {
 public:
  // References must outlive the outbox.
  Outbox(OutboxOptions options, store::Store& store, neo::RpcClient& rpc, neo::TransactionSigner& signer,
         RandomSource& random, const Clock& clock);
  ~Outbox();  // Stop()
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Records `item` as queued inside the caller's store transaction `tx` (which the caller commits
  // and then calls Wake). Returns false, changing nothing, when the key is already there: the
  // same key never sends twice. INVALID_ARGUMENT for an empty key, owner or script, a script over
  // N3's 65535 bytes, or a negative max_fee or max_attempts.
  static StatusOr<bool> Enqueue(store::Transaction& tx, const OutboxItem& item, int64_t now_ms);
  // The same in a transaction of its own, then Wake.
  StatusOr<bool> Enqueue(const OutboxItem& item);
  // Tells the worker to look at the queue now (after a commit that enqueued).
  void Wake();

  // Loads unfinished items and starts the worker. Call once (again: FAILED_PRECONDITION);
  // INVALID_ARGUMENT for bad options, or the store's error. Stop joins it; idempotent. Items in
  // flight stay recorded and are taken up by the next Start (here or in another process).
  Status Start();
  void Stop();

  // Called on the worker thread once per item reaching halt, fault or failed in this process
  // (not for items already final at Start, nor for one another process's outbox took there).
  // Register before Start. Must not block long, nor call Stop.
  using Listener = std::function<void(const OutboxRecord&)>;
  void Listen(std::string owner, Listener listener);

  StatusOr<OutboxRecord> Get(const std::string& key);  // NOT_FOUND
  static StatusOr<OutboxRecord> Get(store::Store& store, const std::string& key);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace neosl::chain_tx
