// The devchain: an N3 development network in one process (like Hardhat's network or anvil).
// It is not a Neo node — one validator, no P2P, no consensus — and never claims to be (its
// user agent is "/neosl-devchain:<version>/").
//
// It keeps a ledger of real N3 blocks (headers linked by hash, index + 1, Merkle roots, a
// timestamp later than the parent's, the validator's witness over network magic ‖ hash), a
// mempool that validates real transactions as Neo's MemoryPool + Transaction.Verify do, and
// executes them with ApplicationEngine over the native contracts (native.h).
//
// Persistence: SQLite `chain.db` in the data dir. A block, its transactions, their application
// logs, NEP-17 transfers and the storage changes are written in one SQL transaction, so a crash
// leaves either the whole block or none of it. On open the storage is loaded and the tip
// checked; `reset` deletes the database first.
//
// Thread-safe: one writer at a time (submit, block production), readers in parallel.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/p256.h"
#include "devchain/app_engine.h"
#include "neo/block.h"
#include "neo/signer.h"
#include "neo/transaction.h"
#include "neo/uint.h"

namespace neosl::devchain {

// "NSLD" little-endian; distinct from MainNet (860833102) and TestNet (894710606).
inline constexpr uint32_t kDefaultNetwork = 0x444C534E;
inline constexpr uint32_t kMaxValidUntilBlockIncrement = 5760;
inline constexpr uint32_t kMaxTransactionsPerBlock = 512;
inline constexpr uint32_t kMemoryPoolMaxTransactions = 50'000;
inline constexpr std::string_view kUserAgent = "/neosl-devchain:0.1.0/";

// A development wallet: its key is derived from a public seed, so it is the same on every
// devchain — never use it on a real network.
struct DevWallet {
  crypto::PrivateKey key;
  neo::UInt160 script_hash;
  std::string address;
  std::string wif;
};

// The keys of dev wallet `i` (0-based) and of the validator, from the public seed
// "neosl-devchain" (SHA-256("neosl-devchain/wallet/<i>") reduced to a valid scalar).
DevWallet DevWalletAt(uint32_t i);
DevWallet ValidatorWallet();

struct ChainOptions {
  std::string data_dir;  // holds chain.db; created if missing
  bool reset = false;    // start over: delete chain.db first
  uint32_t network = kDefaultNetwork;
  // Block interval; zero mines a block as soon as a transaction enters the mempool.
  std::chrono::milliseconds block_time{1000};
  uint32_t dev_wallets = 10;
  int64_t dev_wallet_gas = 10'000 * 100'000'000LL;  // datoshi each
  int64_t dev_wallet_neo = 1'000;                   // NEO each (indivisible)
  const Clock* clock = nullptr;                     // null: the system clock
};

// One block's events, as neo-go's WebSocket announces them (ws_subscriber.h order): the
// OnPersist execution, then per transaction its execution and the transaction, then the
// PostPersist execution, then the block.
struct BlockEvents {
  neo::Block block;
  ExecutionRecord on_persist;
  std::vector<ExecutionRecord> executions;  // one per transaction, in block order
  ExecutionRecord post_persist;
};

struct TransactionLookup {
  neo::Transaction tx;
  // Unset while in the mempool.
  std::optional<uint32_t> block_index;
  neo::UInt256 block_hash;
  uint64_t block_time_ms = 0;
  VmState vm_state = VmState::kNone;
};

struct Nep17BalanceEntry {
  neo::UInt160 asset;
  std::string name;  // "GasToken"
  std::string symbol;
  uint32_t decimals = 0;
  std::string amount;  // decimal
  uint32_t last_updated_block = 0;
};

struct Nep17TransferEntry {
  uint64_t timestamp_ms = 0;
  neo::UInt160 asset;
  std::optional<neo::UInt160> counterparty;  // unset for mint/burn
  std::string amount;                        // decimal, positive
  uint32_t block_index = 0;
  uint32_t transfer_notify_index = 0;
  neo::UInt256 tx_hash;  // zero for block-level transfers (fees)
  bool sent = false;     // from the queried address
};

class Chain {
 public:
  // Opens (or creates, writing the genesis block) the chain in options.data_dir. Does not
  // start producing blocks: call Start().
  static StatusOr<std::unique_ptr<Chain>> Open(ChainOptions options);
  ~Chain();
  Chain(const Chain&) = delete;
  Chain& operator=(const Chain&) = delete;

  // Starts the block timer (or, with block_time zero, the on-demand miner). Idempotent.
  void Start();
  // Stops block production and waits for it; queries keep working.
  void Stop();

  // ---- writing ------------------------------------------------------------------------------
  // Validates `raw` and adds it to the mempool. Errors carry Neo's RPC error (rpc_types.h
  // RpcErrorToStatus): -500 VerificationFailed (bad bytes), -501 AlreadyExists (on chain),
  // -503 AlreadyInPool, -502 MempoolCapReached, -504 InsufficientNetworkFee,
  // -505 PolicyFailed, -506 InvalidScript (it FAULTs, or needs more than its system fee),
  // -507 InvalidAttribute, -508 InvalidSignature, -509 InvalidSize, -510 ExpiredTransaction,
  // -511 InsufficientFunds; "data" says what exactly.
  StatusOr<neo::UInt256> SubmitTransaction(std::span<const uint8_t> raw);
  // Persists a block now with what the mempool holds (possibly none), as the timer would.
  StatusOr<BlockEvents> MineBlock();
  // The faucet: a GAS (or NEO) transfer from dev wallet 0, signed and submitted; the block
  // that includes it is mined at once when `wait` (returns after it is persisted).
  StatusOr<neo::UInt256> Fund(const neo::UInt160& to, int64_t amount, bool neo_token, bool wait);

  // ---- reading ------------------------------------------------------------------------------
  uint32_t network() const;
  std::chrono::milliseconds block_time() const;
  uint32_t height() const;  // index of the tip
  neo::UInt256 tip_hash() const;
  // NOT_FOUND (-101 "Unknown block") past the tip.
  StatusOr<neo::Block> GetBlock(uint32_t index) const;
  StatusOr<neo::Block> GetBlock(const neo::UInt256& hash) const;
  // NOT_FOUND (-103 "Unknown transaction").
  StatusOr<TransactionLookup> GetTransaction(const neo::UInt256& hash) const;
  std::vector<neo::UInt256> MempoolHashes() const;
  // The application log of a transaction (one Application execution) or of a block (OnPersist
  // and PostPersist), as getapplicationlog's JSON. NOT_FOUND (-103 / -101 style "Unknown …").
  StatusOr<boost::json::value> GetApplicationLog(const neo::UInt256& container) const;

  // Runs `script` read-only on a snapshot of the tip as the next block would see it, with these
  // signers' witnesses assumed; nothing is kept. gas_limit defaults to 20 GAS (RpcServer's
  // MaxGasInvoke).
  ExecutionRecord InvokeScript(std::span<const uint8_t> script, std::vector<neo::Signer> signers,
                               int64_t gas_limit = 20 * 100'000'000LL) const;
  // Neo's calculatenetworkfee for the transaction (witnesses may be empty placeholders):
  // INVALID_ARGUMENT (-32602) for bytes that are no transaction or signers that are not
  // standard accounts.
  StatusOr<int64_t> CalculateNetworkFee(std::span<const uint8_t> raw) const;
  // NOT_FOUND (-102 Unknown contract / -104 Unknown storage item).
  StatusOr<Bytes> GetStorage(const neo::UInt160& contract, std::span<const uint8_t> key) const;
  // By hash, or by name / id as getcontractstate accepts them. NOT_FOUND (-102).
  StatusOr<boost::json::value> GetContractState(std::string_view hash_name_or_id) const;

  std::vector<Nep17BalanceEntry> Nep17Balances(const neo::UInt160& account) const;
  // Transfers touching `account` with timestamp in [from_ms, to_ms], newest first.
  std::vector<Nep17TransferEntry> Nep17Transfers(const neo::UInt160& account, uint64_t from_ms, uint64_t to_ms) const;
  int64_t GasBalance(const neo::UInt160& account) const;
  const std::vector<DevWallet>& dev_wallets() const;

  // ---- following ----------------------------------------------------------------------------
  // Called after each block is persisted, on the thread that persisted it, with no lock held;
  // also: a transaction accepted into the mempool. Returns an id for Unsubscribe.
  struct Listener {
    std::function<void(const BlockEvents&)> on_block;
    std::function<void(const neo::Transaction&)> on_mempool;  // optional
  };
  uint64_t Subscribe(Listener listener);
  void Unsubscribe(uint64_t id);

  struct Impl;  // chain_internal.h

 private:
  explicit Chain(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace neosl::devchain
