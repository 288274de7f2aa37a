// Deposits into the gas bank (issue #12, docs/gasbank.md "Deposits"): each account has its own
// deposit address, whose key is derived inside the enclave; GAS `Transfer` notifications to it
// are credited to the account's available balance after the configured confirmations, exactly
// once per (transaction, notification index), across restarts and replays of the subscription.
//
//   seen ──(block ≥ its block + confirmations)──▶ credited
//
//   seen      The notifications of a block that pay a deposit address are recorded (table
//             gasbank_deposits, keyed (tx_hash, notify_index)) in one store transaction with
//             the resume cursor (chain_request_cursors, name options.cursor_name). A replayed
//             block (a restart, a resubscription from an earlier height) finds its rows and adds
//             nothing.
//   credited  In the store transaction of the first block at or past block + confirmations: a
//             journal entry "deposit:<tx_hash>:<notify_index>" (custody −x, the account's
//             available +x) and the row marked credited with the entry's seq. The entry's key is
//             unique in the ledger, so even a row recorded twice could not be credited twice.
//
// Only HALTed transactions' notifications of the GAS contract itself count (a token that calls
// itself GAS elsewhere is ignored), with the NEP-17 shape [from, to, amount]; an amount of 0 or
// one over int64 is logged and skipped.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chain_requests/relay.h"  // SubscriberFactory
#include "core/clock.h"
#include "core/status.h"
#include "crypto/p256.h"
#include "neo/uint.h"
#include "store/store.h"

namespace neosl::gasbank {

// The native GAS token on every N3 network: 0xd2a4cff31913016155e38e474a2c06d08be276cf.
const neo::UInt160& GasTokenHash();

struct DepositAddress {
  std::string account;
  neo::UInt160 script_hash;  // of the single-signature verification script of public_key
  std::string address;       // N3 address ("N…")
  std::string public_key;    // compressed, lowercase hex
  int64_t created_at_ms = 0;
};

// The enclave's deposit key for an account: the public half of a key it derives from its own
// sealed Neo key and the account id (RunningEnclave::DepositKey); the same account always gets
// the same key, across restarts and enclave migrations.
using DepositKeyDeriver = std::function<StatusOr<crypto::PublicKey>(const std::string& account)>;

// Table gasbank_addresses: one row per account, made on first use.
class DepositAddresses {
 public:
  DepositAddresses(store::Store& store, DepositKeyDeriver derive, const Clock& clock);

  // The account's address, derived and recorded on the first call (concurrent first calls
  // record one row; both answer it). INVALID_ARGUMENT for an account id that is not 1..64 bytes of
  // [A-Za-z0-9_-] (what the enclave derives keys for), before the enclave is asked; the
  // deriver's error as it is.
  StatusOr<DepositAddress> Get(const std::string& account);
  // The account a script hash is the deposit address of, if any (inside a transaction: the
  // watcher reads it with the block's rows).
  static StatusOr<std::optional<std::string>> AccountOf(store::Transaction& tx, const neo::UInt160& script_hash);
  // Every recorded address (for the audit's reconciliation).
  static StatusOr<std::vector<DepositAddress>> List(store::Store& store);

 private:
  store::Store& store_;
  DepositKeyDeriver derive_;
  const Clock& clock_;
};

struct DepositRecord {
  std::string tx_hash;  // "0x…"
  uint32_t notify_index = 0;
  std::string account;
  std::string from;  // the sender's script hash "0x…", or "" for a mint (null from)
  int64_t amount = 0;
  uint32_t block_index = 0;
  std::string state;                 // "seen", "credited"
  std::optional<int64_t> entry_seq;  // credited: the journal entry
  int64_t created_at_ms = 0;
  std::optional<int64_t> credited_at_ms;
};

struct DepositWatcherOptions {
  std::string cursor_name = "gasbank_deposits";
  // Blocks after a deposit's block before it is credited: credited once the chain's height
  // (the last delivered block) is ≥ its block + confirmations. 0 credits in its own block.
  uint32_t confirmations = 1;
  // Where to start when there is no cursor yet; unset: the block after the node's tip.
  std::optional<uint32_t> start_index;
  std::chrono::milliseconds retry_interval{1'000};
};

struct DepositWatcherStats {
  uint64_t seen = 0;      // deposits recorded since Start
  uint64_t credited = 0;  // credited since Start
  std::optional<uint32_t> last_block;
};

class DepositWatcher {
 public:
  // References must outlive the watcher.
  DepositWatcher(DepositWatcherOptions options, store::Store& store, chain_requests::SubscriberFactory subscribers,
                 const Clock& clock);
  ~DepositWatcher();  // Stop()
  DepositWatcher(const DepositWatcher&) = delete;
  DepositWatcher& operator=(const DepositWatcher&) = delete;

  // Reads the cursor and starts following. Call once.
  Status Start();
  // Stops and joins; idempotent. What was recorded stays; the next Start resumes at cursor + 1.
  void Stop();

  DepositWatcherStats stats() const;

  // The account's deposits, newest first (at most `limit`, 1..1000, else INVALID_ARGUMENT).
  static StatusOr<std::vector<DepositRecord>> ListDeposits(store::Store& store, const std::string& account,
                                                           int limit = 100);
  // Σ amount of the account's deposits seen but not yet credited.
  static StatusOr<int64_t> PendingAmount(store::Store& store, const std::string& account);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace neosl::gasbank
