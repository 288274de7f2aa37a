// The Chain's state, shared by chain.cpp (opening, genesis, blocks, persistence),
// chain_mempool.cpp (validation) and chain_query.cpp (reads). Not part of the public API.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/random.h"
#include "devchain/chain.h"
#include "devchain/data_cache.h"
#include "devchain/native.h"
#include "store/store.h"

namespace neosl::devchain {

struct UInt256Hash {
  size_t operator()(const neo::UInt256& h) const {
    size_t v = 0;
    for (size_t i = 0; i < sizeof v; ++i) v |= static_cast<size_t>(h.span()[i]) << (8 * i);
    return v;
  }
};

struct PooledTx {
  neo::Transaction tx;
  uint64_t arrival = 0;  // order of acceptance
};

// A Neo RPC error as Chain returns it.
Status ChainRpcError(int64_t code, std::string_view message, std::string_view data);

struct Chain::Impl {
  Impl() : validator(ValidatorWallet()) {}

  ChainOptions options;
  const Clock* clock = nullptr;
  SecureRandom random;
  std::unique_ptr<store::Store> db;
  NativeRegistry natives;
  std::vector<DevWallet> wallets;
  DevWallet validator;

  // Committed state; guarded by state_mu (shared for reads, exclusive to commit a block).
  mutable std::shared_mutex state_mu;
  DataCache state;
  std::vector<neo::UInt256> block_hashes;  // by index
  std::unordered_map<neo::UInt256, uint32_t, UInt256Hash> block_index;
  uint64_t tip_time_ms = 0;
  // Every transaction on chain, and (hash, signer) for each Conflicts attribute on chain: the
  // mempool's duplicate checks, kept in memory (32 bytes a transaction) rather than asked of
  // SQLite on every submit.
  std::unordered_set<neo::UInt256, UInt256Hash> on_chain;
  std::set<std::pair<neo::UInt256, neo::UInt160>> conflicts;

  // Blocks are produced one at a time.
  std::mutex mine_mu;

  // The mempool; guarded by pool_mu. Lock order: mine_mu, then state_mu, then pool_mu.
  mutable std::mutex pool_mu;
  std::unordered_map<neo::UInt256, PooledTx, UInt256Hash> pool;
  uint64_t next_arrival = 0;
  // Indexes over `pool`, kept by PoolInsert/PoolErase: what each sender's pooled transactions
  // owe in fees, and which pooled transactions declare a conflict with a hash.
  std::map<neo::UInt160, int64_t> pool_fees;
  std::unordered_multimap<neo::UInt256, neo::UInt256, UInt256Hash> pool_conflicts;
  void PoolInsert(const neo::Transaction& tx);  // pool_mu held
  void PoolErase(const neo::UInt256& hash);     // pool_mu held; no-op if absent

  // Block production.
  std::mutex run_mu;
  std::condition_variable run_cv;
  bool running = false;
  bool stopping = false;
  bool pool_signal = false;
  std::thread miner;

  std::mutex listeners_mu;
  std::map<uint64_t, Listener> listeners;
  uint64_t next_listener = 1;

  uint32_t Height() const { return static_cast<uint32_t>(block_hashes.size()) - 1; }  // state_mu held

  // chain.cpp
  Status Load();
  Status CreateGenesis();
  StatusOr<BlockEvents> Mine();
  void MinerLoop();
  void Notify(const BlockEvents& events);
  void NotifyMempool(const neo::Transaction& tx);
  StatusOr<neo::Block> ReadBlock(uint32_t index) const;

  // chain_mempool.cpp
  // Every check of Neo's Transaction.Verify that does not depend on the pool; state_mu held
  // (shared). `pool_fees` is what the sender's other pooled transactions already owe.
  Status VerifyTransaction(const neo::Transaction& tx, uint32_t height, int64_t pool_fees) const;
  // Conflicts with the pool: the pooled transactions `tx` would evict, or an error; pool_mu held.
  StatusOr<std::vector<neo::UInt256>> PoolConflicts(const neo::Transaction& tx) const;
  int64_t PoolFeesOf(const neo::UInt160& sender) const;  // pool_mu held
  bool OnChain(const neo::UInt256& hash) const;          // state_mu held
  // An on-chain transaction lists `hash` in its Conflicts with one of `signers`.
  bool ConflictsOnChain(const neo::UInt256& hash, const std::vector<neo::Signer>& signers) const;
  // A signed transfer of `amount` of `token` from `from`, for genesis-free funding.
  StatusOr<neo::Transaction> BuildTransfer(const DevWallet& from, const neo::UInt160& token, const neo::UInt160& to,
                                           int64_t amount);

  EngineSettings Settings() const { return EngineSettings{.network = options.network}; }
};

// SigningData of a header: network magic (LE) ‖ hash.
std::vector<uint8_t> HeaderSigningData(const neo::UInt256& hash, uint32_t network);

}  // namespace neosl::devchain
