#include "devchain/chain.h"

#include <algorithm>
#include <filesystem>
#include <utility>

#include <boost/json/serialize.hpp>

#include "core/log.h"
#include "crypto/hash.h"
#include "devchain/chain_internal.h"
#include "neo/account.h"
#include "neo/rpc_types.h"
#include "neo/script_builder.h"
#include "neo/wallet.h"
#include "store/sqlite_store.h"

namespace neosl::devchain {
namespace {

namespace fs = std::filesystem;

// The devchain's own schema in DIR/chain.db. Storage rows are the committed DataCache; the
// other tables are the ledger and the indexes RPC answers from.
const std::vector<store::Migration>& ChainMigrations() {
  static const std::vector<store::Migration> kMigrations = {
      {1, "devchain ledger",
       "CREATE TABLE chain_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
       "CREATE TABLE blocks (idx INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, time_ms INTEGER NOT NULL,"
       " data BLOB NOT NULL);"
       "CREATE TABLE txs (hash BLOB PRIMARY KEY, block_idx INTEGER NOT NULL, position INTEGER NOT NULL,"
       " vmstate TEXT NOT NULL);"
       "CREATE TABLE app_logs (container BLOB PRIMARY KEY, json TEXT NOT NULL);"
       "CREATE TABLE storage (key BLOB PRIMARY KEY, value BLOB NOT NULL);"
       "CREATE TABLE conflicts (hash BLOB NOT NULL, signer BLOB NOT NULL, PRIMARY KEY (hash, signer));"
       "CREATE TABLE nep17_transfers (account BLOB NOT NULL, asset BLOB NOT NULL, counterparty BLOB,"
       " amount TEXT NOT NULL, sent INTEGER NOT NULL, block_idx INTEGER NOT NULL, notify_idx INTEGER NOT NULL,"
       " tx_hash BLOB NOT NULL, time_ms INTEGER NOT NULL);"
       "CREATE INDEX nep17_transfers_account ON nep17_transfers (account, time_ms);",
       ""},
  };
  return kMigrations;
}

store::Blob ToBlob(std::span<const uint8_t> s) {
  return store::Blob(s.begin(), s.end());
}

DevWallet WalletFromSeed(const std::string& seed) {
  crypto::Digest256 d = crypto::Sha256(crypto::AsBytes(seed));
  for (;;) {
    auto key = crypto::PrivateKey::FromBytes(d);
    if (key.ok()) {
      DevWallet w{.key = std::move(*key)};
      w.script_hash = neo::ScriptHash(neo::SingleSigScript(w.key.public_key()));
      w.address = neo::ToAddress(w.script_hash);
      SecretBytes wif = neo::WifEncode(w.key);
      w.wif.assign(reinterpret_cast<const char*>(wif.bytes().data()), wif.size());
      return w;
    }
    d = crypto::Sha256(d);  // not a valid scalar (probability ~2^-128): hash again
  }
}

// The Transfer notifications of NEP-17 tokens in one execution, as TokensTracker records them.
struct TransferRow {
  neo::UInt160 asset;
  std::optional<neo::UInt160> from, to;
  std::string amount;
  uint32_t notify_index = 0;
};

std::vector<TransferRow> Nep17Transfers(const ExecutionRecord& e, const NativeRegistry& natives) {
  std::vector<TransferRow> out;
  if (e.state != VmState::kHalt) return out;
  uint32_t index = 0;
  for (const auto& n : e.notifications) {
    if (n.event_name != "Transfer") continue;
    const NativeContract* c = natives.Find(n.contract);
    if (c == nullptr) continue;
    auto standards = c->standards();
    if (std::find(standards.begin(), standards.end(), "NEP-17") == standards.end()) continue;
    if (!n.state || n.state->items().size() != 3) continue;
    auto account = [](const StackItemPtr& item) -> std::optional<neo::UInt160> {
      if (item->IsNull()) return std::nullopt;
      auto bytes = item->GetBytes();
      if (!bytes.ok() || bytes->size() != 20) return std::nullopt;
      return *neo::UInt160::FromBytes(*bytes);
    };
    auto amount = n.state->items()[2]->GetInteger();
    if (!amount.ok()) continue;
    out.push_back({.asset = n.contract,
                   .from = account(n.state->items()[0]),
                   .to = account(n.state->items()[1]),
                   .amount = amount->ToDecimal(),
                   .notify_index = index++});
  }
  return out;
}

Status InsertTransfers(store::Transaction& t, const std::vector<TransferRow>& rows, uint32_t block_index,
                       const neo::UInt256& tx_hash, uint64_t time_ms) {
  auto blob_or_null = [](const std::optional<neo::UInt160>& h) -> store::Value {
    if (!h) return store::Null();
    return ToBlob(h->span());
  };
  for (const auto& r : rows) {
    if (r.amount == "0") continue;
    auto insert = [&](const neo::UInt160& account, const std::optional<neo::UInt160>& other, bool sent) {
      return t.Exec(
          "INSERT INTO nep17_transfers (account, asset, counterparty, amount, sent, block_idx, notify_idx, tx_hash,"
          " time_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {ToBlob(account.span()), ToBlob(r.asset.span()), blob_or_null(other), r.amount, int64_t{sent ? 1 : 0},
           int64_t{block_index}, int64_t{r.notify_index}, ToBlob(tx_hash.span()), static_cast<int64_t>(time_ms)});
    };
    if (r.from) RETURN_IF_ERROR(insert(*r.from, r.to, true).status());
    if (r.to) RETURN_IF_ERROR(insert(*r.to, r.from, false).status());
  }
  return Status::Ok();
}

std::string LogJson(std::string_view key, const neo::UInt256& container, const std::vector<ExecutionRecord*>& execs) {
  boost::json::object o;
  o[key] = container.ToString();
  boost::json::array a;
  for (const ExecutionRecord* e : execs) a.push_back(ExecutionToJson(*e));
  o["executions"] = std::move(a);
  return boost::json::serialize(o);
}

}  // namespace

Status ChainRpcError(int64_t code, std::string_view message, std::string_view data) {
  return neo::RpcErrorToStatus(code, message, data);
}

std::vector<uint8_t> HeaderSigningData(const neo::UInt256& hash, uint32_t network) {
  neo::BinaryWriter w;
  w.U32(network);
  w.Hash(hash);
  return w.Take();
}

DevWallet DevWalletAt(uint32_t i) {
  return WalletFromSeed("neosl-devchain/wallet/" + std::to_string(i));
}

DevWallet ValidatorWallet() {
  return WalletFromSeed("neosl-devchain/validator");
}

Chain::Chain(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Chain::~Chain() {
  Stop();
}

StatusOr<std::unique_ptr<Chain>> Chain::Open(ChainOptions options) {
  if (options.data_dir.empty()) return InvalidArgumentError("devchain: a data directory is required");
  if (options.block_time.count() < 0) return InvalidArgumentError("devchain: the block time cannot be negative");
  if (options.dev_wallets > 1000) return InvalidArgumentError("devchain: at most 1000 development wallets");
  std::error_code ec;
  fs::create_directories(options.data_dir, ec);
  if (ec) return UnavailableError("devchain: cannot create " + options.data_dir + ": " + ec.message());
  fs::path db_path = fs::path(options.data_dir) / "chain.db";
  if (options.reset) {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db_path.string() + suffix, ec);
  }

  auto impl = std::make_unique<Impl>();
  impl->clock = options.clock != nullptr ? options.clock : &SystemClock::Instance();
  impl->options = std::move(options);
  for (uint32_t i = 0; i < impl->options.dev_wallets; ++i) impl->wallets.push_back(DevWalletAt(i));

  ASSIGN_OR_RETURN(impl->db, store::OpenSqliteStore({.path = db_path.string(), .read_connections = 2}));
  RETURN_IF_ERROR(impl->db->Migrate(ChainMigrations()).Annotate("devchain: " + db_path.string()));
  ASSIGN_OR_RETURN(auto meta, impl->db->Query("SELECT value FROM chain_meta WHERE name = 'network'"));
  if (meta.empty()) {
    RETURN_IF_ERROR(impl->CreateGenesis());
  } else {
    ASSIGN_OR_RETURN(std::string network, meta[0].Text(0));
    if (network != std::to_string(impl->options.network)) {
      return FailedPreconditionError("devchain: " + db_path.string() + " holds network " + network + ", not " +
                                     std::to_string(impl->options.network) + "; use --reset to start over");
    }
    RETURN_IF_ERROR(impl->Load());
  }
  return std::unique_ptr<Chain>(new Chain(std::move(impl)));
}

Status Chain::Impl::Load() {
  ASSIGN_OR_RETURN(auto rows, db->Query("SELECT idx, hash, time_ms FROM blocks ORDER BY idx"));
  for (const auto& row : rows) {
    ASSIGN_OR_RETURN(int64_t idx, row.Int(0));
    ASSIGN_OR_RETURN(auto hash_bytes, row.Bytes(1));
    ASSIGN_OR_RETURN(int64_t time_ms, row.Int(2));
    if (idx != static_cast<int64_t>(block_hashes.size())) {
      return DataLossError("devchain: block " + std::to_string(block_hashes.size()) + " is missing from chain.db");
    }
    ASSIGN_OR_RETURN(neo::UInt256 hash, neo::UInt256::FromBytes(hash_bytes));
    block_index[hash] = static_cast<uint32_t>(idx);
    block_hashes.push_back(hash);
    tip_time_ms = static_cast<uint64_t>(time_ms);
  }
  if (block_hashes.empty()) return DataLossError("devchain: chain.db has no genesis block; use --reset");
  // The tip must be a block whose bytes decode and hash to what the index says.
  ASSIGN_OR_RETURN(neo::Block tip, ReadBlock(Height()));
  if (tip.hash() != block_hashes.back()) return DataLossError("devchain: the tip block in chain.db is corrupt");
  ASSIGN_OR_RETURN(auto txs, db->Query("SELECT hash FROM txs"));
  for (const auto& row : txs) {
    ASSIGN_OR_RETURN(auto bytes, row.Bytes(0));
    ASSIGN_OR_RETURN(neo::UInt256 hash, neo::UInt256::FromBytes(bytes));
    on_chain.insert(hash);
  }
  ASSIGN_OR_RETURN(auto conflict_rows, db->Query("SELECT hash, signer FROM conflicts"));
  for (const auto& row : conflict_rows) {
    ASSIGN_OR_RETURN(auto hash_bytes, row.Bytes(0));
    ASSIGN_OR_RETURN(auto signer_bytes, row.Bytes(1));
    ASSIGN_OR_RETURN(neo::UInt256 hash, neo::UInt256::FromBytes(hash_bytes));
    ASSIGN_OR_RETURN(neo::UInt160 signer, neo::UInt160::FromBytes(signer_bytes));
    conflicts.insert({hash, signer});
  }
  ASSIGN_OR_RETURN(auto storage, db->Query("SELECT key, value FROM storage"));
  for (const auto& row : storage) {
    ASSIGN_OR_RETURN(auto k, row.Bytes(0));
    ASSIGN_OR_RETURN(auto v, row.Bytes(1));
    state.Put(std::move(k), std::move(v));
  }
  return Status::Ok();
}

StatusOr<neo::Block> Chain::Impl::ReadBlock(uint32_t index) const {
  ASSIGN_OR_RETURN(auto row, db->Query("SELECT data FROM blocks WHERE idx = ?", {int64_t{index}}));
  if (row.empty()) return ChainRpcError(-101, "Unknown block", "block " + std::to_string(index));
  ASSIGN_OR_RETURN(auto data, row[0].Bytes(0));
  auto block = neo::Block::Decode(data);
  if (!block.ok()) return DataLossError("devchain: block " + std::to_string(index) + " in chain.db does not decode");
  return block;
}

namespace {

// Builds and signs the header of the next block.
StatusOr<neo::Block> SealBlock(const Chain::Impl& c, uint32_t index, const neo::UInt256& prev, uint64_t time_ms,
                               uint64_t nonce, std::vector<neo::Transaction> txs) {
  std::vector<neo::UInt256> hashes;
  hashes.reserve(txs.size());
  for (const auto& tx : txs) hashes.push_back(tx.hash());
  neo::HeaderFields f{.version = 0,
                      .prev_hash = prev,
                      .merkle_root = neo::ComputeMerkleRoot(hashes),
                      .timestamp = time_ms,
                      .nonce = nonce,
                      .index = index,
                      .primary_index = 0,
                      .next_consensus = c.validator.script_hash};
  ASSIGN_OR_RETURN(neo::Header unsigned_header, neo::Header::Create(f));
  f.witness = neo::Witness{.invocation = neo::SignatureInvocation(
                               c.validator.key.Sign(HeaderSigningData(unsigned_header.hash(), c.options.network))),
                           .verification = neo::SingleSigScript(c.validator.key.public_key())};
  ASSIGN_OR_RETURN(neo::Header header, neo::Header::Create(f));
  return neo::Block::Create(std::move(header), std::move(txs));
}

// Writes one block and everything it changed in one SQL transaction.
Status PersistBlock(store::Store& db, const neo::Block& block, const BlockEvents& events, const DataCache& changes,
                    const NativeRegistry& natives) {
  return store::RunInTransaction(db, store::TxMode::kWrite, [&](store::Transaction& t) -> Status {
    const uint32_t index = block.header().index();
    const uint64_t time_ms = block.header().timestamp();
    RETURN_IF_ERROR(t.Exec("INSERT INTO blocks (idx, hash, time_ms, data) VALUES (?, ?, ?, ?)",
                           {int64_t{index}, ToBlob(block.hash().span()), static_cast<int64_t>(time_ms),
                            store::Blob(block.Encode())})
                        .status());
    std::vector<ExecutionRecord*> block_execs = {const_cast<ExecutionRecord*>(&events.on_persist),
                                                 const_cast<ExecutionRecord*>(&events.post_persist)};
    RETURN_IF_ERROR(t.Exec("INSERT INTO app_logs (container, json) VALUES (?, ?)",
                           {ToBlob(block.hash().span()), LogJson("blockhash", block.hash(), block_execs)})
                        .status());
    for (const ExecutionRecord* e : block_execs) {
      RETURN_IF_ERROR(InsertTransfers(t, Nep17Transfers(*e, natives), index, neo::UInt256(), time_ms));
    }
    for (size_t i = 0; i < block.transactions().size(); ++i) {
      const neo::Transaction& tx = block.transactions()[i];
      const ExecutionRecord& e = events.executions[i];
      RETURN_IF_ERROR(
          t.Exec("INSERT INTO txs (hash, block_idx, position, vmstate) VALUES (?, ?, ?, ?)",
                 {ToBlob(tx.hash().span()), int64_t{index}, static_cast<int64_t>(i), std::string(VmStateName(e.state))})
              .status());
      RETURN_IF_ERROR(t.Exec("INSERT INTO app_logs (container, json) VALUES (?, ?)",
                             {ToBlob(tx.hash().span()), LogJson("txid", tx.hash(), {const_cast<ExecutionRecord*>(&e)})})
                          .status());
      RETURN_IF_ERROR(InsertTransfers(t, Nep17Transfers(e, natives), index, tx.hash(), time_ms));
      for (const auto& attr : tx.attributes()) {
        const auto* conflict = std::get_if<neo::ConflictsAttribute>(&attr.value);
        if (conflict == nullptr) continue;
        for (const auto& signer : tx.signers()) {
          RETURN_IF_ERROR(t.Exec("INSERT OR IGNORE INTO conflicts (hash, signer) VALUES (?, ?)",
                                 {ToBlob(conflict->hash.span()), ToBlob(signer.account.span())})
                              .status());
        }
      }
    }
    for (const auto& [key, value] : changes.changes()) {
      if (value) {
        RETURN_IF_ERROR(t.Exec("INSERT INTO storage (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
                               "value = excluded.value",
                               {store::Blob(key), store::Blob(*value)})
                            .status());
      } else {
        RETURN_IF_ERROR(t.Exec("DELETE FROM storage WHERE key = ?", {store::Blob(key)}).status());
      }
    }
    return Status::Ok();
  });
}

}  // namespace

Status Chain::Impl::CreateGenesis() {
  const uint64_t time_ms = static_cast<uint64_t>(clock->NowUnixMillis());
  ASSIGN_OR_RETURN(neo::Block genesis, SealBlock(*this, 0, neo::UInt256(), time_ms, 2083236893, {}));
  DataCache snapshot(&state);
  BlockContext ctx{.index = 0, .timestamp_ms = time_ms, .primary = validator.script_hash};
  BlockEvents events{.block = genesis};
  {
    // Neo's genesis: every native initialises (NEO and GAS mint to the validator) in OnPersist.
    ApplicationEngine engine(TriggerType::kOnPersist, nullptr, {}, snapshot, ctx, natives, Settings(), 0);
    for (const auto& contract : natives.all()) {
      RETURN_IF_ERROR(contract->Initialize(engine).Annotate("devchain genesis: " + contract->name()));
    }
    events.on_persist = engine.RunNativeHooks();
  }
  if (events.on_persist.state != VmState::kHalt) {
    return InternalError("devchain: genesis failed: " + events.on_persist.exception.value_or("?"));
  }
  {
    // The development wallets are funded by transfers from the validator, which the genesis
    // block logs with its OnPersist notifications (a Neo genesis has no transactions).
    neo::ScriptBuilder sb;
    for (const auto& w : wallets) {
      RETURN_IF_ERROR(sb.Nep17Transfer(NativeRegistry::GasHash(), validator.script_hash, w.script_hash,
                                       neo::ContractParam::Int(options.dev_wallet_gas)));
      sb.Emit(neo::OpCode::ASSERT);
      if (options.dev_wallet_neo > 0) {
        RETURN_IF_ERROR(sb.Nep17Transfer(NativeRegistry::NeoHash(), validator.script_hash, w.script_hash,
                                         neo::ContractParam::Int(options.dev_wallet_neo)));
        sb.Emit(neo::OpCode::ASSERT);
      }
    }
    ApplicationEngine engine(TriggerType::kApplication, nullptr,
                             {neo::Signer{.account = validator.script_hash, .scopes = neo::WitnessScope::Global}},
                             snapshot, ctx, natives, Settings(), int64_t{1000} * kGasFactor);
    ExecutionRecord funding = engine.Run(sb.data());
    if (funding.state != VmState::kHalt) {
      return InternalError("devchain: funding the development wallets failed: " + funding.exception.value_or("?"));
    }
    for (auto& n : funding.notifications) events.on_persist.notifications.push_back(std::move(n));
  }
  SetCurrentBlock(snapshot, genesis.hash(), 0);
  {
    ApplicationEngine engine(TriggerType::kPostPersist, nullptr, {}, snapshot, ctx, natives, Settings(), 0);
    events.post_persist = engine.RunNativeHooks();
  }
  RETURN_IF_ERROR(PersistBlock(*db, genesis, events, snapshot, natives));
  RETURN_IF_ERROR(store::RunInTransaction(*db, store::TxMode::kWrite, [&](store::Transaction& t) {
    return t.Exec("INSERT INTO chain_meta (name, value) VALUES ('network', ?)", {std::to_string(options.network)})
        .status();
  }));
  snapshot.Commit();
  block_hashes.push_back(genesis.hash());
  block_index[genesis.hash()] = 0;
  tip_time_ms = time_ms;
  return Status::Ok();
}

StatusOr<BlockEvents> Chain::Impl::Mine() {
  std::lock_guard mine_lock(mine_mu);
  std::unique_lock state_lock(state_mu);
  const uint32_t index = Height() + 1;

  // The pool's transactions, best network fee per byte first, re-checked against the tip
  // (validUntilBlock, balances as they stand after the ones before).
  std::vector<PooledTx> candidates;
  {
    std::lock_guard pool_lock(pool_mu);
    for (const auto& [hash, p] : pool) candidates.push_back(p);
  }
  std::sort(candidates.begin(), candidates.end(), [](const PooledTx& a, const PooledTx& b) {
    // a.netfee / a.size > b.netfee / b.size without division
    const long double l = static_cast<long double>(a.tx.network_fee()) * static_cast<long double>(b.tx.size());
    const long double r = static_cast<long double>(b.tx.network_fee()) * static_cast<long double>(a.tx.size());
    if (l != r) return l > r;
    return a.arrival < b.arrival;
  });
  std::vector<neo::Transaction> txs;
  std::vector<neo::UInt256> dropped;
  std::map<neo::UInt160, int64_t> spent;
  for (auto& p : candidates) {
    if (txs.size() >= kMaxTransactionsPerBlock) break;
    const neo::Transaction& tx = p.tx;
    int64_t fee = tx.system_fee() + tx.network_fee();
    if (tx.valid_until_block() < index || devchain::GasBalance(state, tx.sender()) - spent[tx.sender()] < fee) {
      dropped.push_back(tx.hash());
      continue;
    }
    spent[tx.sender()] += fee;
    txs.push_back(std::move(p.tx));
  }

  const uint64_t now = static_cast<uint64_t>(clock->NowUnixMillis());
  const uint64_t time_ms = std::max(now, tip_time_ms + 1);
  ASSIGN_OR_RETURN(neo::Block block, SealBlock(*this, index, block_hashes.back(), time_ms, random.NextU64(), txs));

  DataCache snapshot(&state);
  BlockContext ctx{.index = index, .timestamp_ms = time_ms, .primary = validator.script_hash};
  for (const auto& tx : block.transactions()) ctx.transactions.push_back(&tx);
  BlockEvents events{.block = block};
  {
    ApplicationEngine engine(TriggerType::kOnPersist, nullptr, {}, snapshot, ctx, natives, Settings(), 0);
    events.on_persist = engine.RunNativeHooks();
  }
  if (events.on_persist.state != VmState::kHalt) {
    return InternalError("devchain: OnPersist of block " + std::to_string(index) +
                         " failed: " + events.on_persist.exception.value_or("?"));
  }
  BlockContext tx_ctx = ctx;
  tx_ctx.transactions.clear();
  for (const auto& tx : block.transactions()) {
    DataCache tx_snapshot(&snapshot);
    ApplicationEngine engine(TriggerType::kApplication, &tx, tx.signers(), tx_snapshot, tx_ctx, natives, Settings(),
                             tx.system_fee());
    ExecutionRecord record = engine.Run(tx.script());
    if (record.state == VmState::kHalt) tx_snapshot.Commit();
    events.executions.push_back(std::move(record));
  }
  SetCurrentBlock(snapshot, block.hash(), index);
  {
    ApplicationEngine engine(TriggerType::kPostPersist, nullptr, {}, snapshot, ctx, natives, Settings(), 0);
    events.post_persist = engine.RunNativeHooks();
  }
  RETURN_IF_ERROR(PersistBlock(*db, block, events, snapshot, natives));

  snapshot.Commit();
  block_hashes.push_back(block.hash());
  block_index[block.hash()] = index;
  tip_time_ms = time_ms;
  for (const auto& tx : block.transactions()) {
    on_chain.insert(tx.hash());
    for (const auto& attr : tx.attributes()) {
      const auto* conflict = std::get_if<neo::ConflictsAttribute>(&attr.value);
      if (conflict == nullptr) continue;
      for (const auto& signer : tx.signers()) conflicts.insert({conflict->hash, signer.account});
    }
  }
  {
    std::lock_guard pool_lock(pool_mu);
    for (const auto& tx : block.transactions()) PoolErase(tx.hash());
    for (const auto& h : dropped) PoolErase(h);
    // Pooled transactions that expire with this block can never be included.
    std::vector<neo::UInt256> expired;
    for (const auto& [hash, p] : pool) {
      if (p.tx.valid_until_block() <= index) expired.push_back(hash);
    }
    for (const auto& h : expired) PoolErase(h);
  }
  // Empty blocks every second would drown the log; they are there at debug level.
  (block.transactions().empty() ? log::Debug : log::Info)(
      "devchain block",
      {{"index", index}, {"hash", block.hash().ToString()}, {"transactions", block.transactions().size()}});
  return events;
}

StatusOr<BlockEvents> Chain::MineBlock() {
  ASSIGN_OR_RETURN(BlockEvents events, impl_->Mine());
  impl_->Notify(events);
  return events;
}

void Chain::Impl::Notify(const BlockEvents& events) {
  std::vector<Listener> copy;
  {
    std::lock_guard lock(listeners_mu);
    for (const auto& [id, l] : listeners) copy.push_back(l);
  }
  for (const auto& l : copy) {
    if (l.on_block) l.on_block(events);
  }
}

void Chain::Impl::NotifyMempool(const neo::Transaction& tx) {
  std::vector<Listener> copy;
  {
    std::lock_guard lock(listeners_mu);
    for (const auto& [id, l] : listeners) copy.push_back(l);
  }
  for (const auto& l : copy) {
    if (l.on_mempool) l.on_mempool(tx);
  }
  {
    std::lock_guard lock(run_mu);
    pool_signal = true;
  }
  run_cv.notify_all();
}

void Chain::Impl::MinerLoop() {
  const auto interval = options.block_time;
  auto next = std::chrono::steady_clock::now() + interval;
  std::unique_lock lock(run_mu);
  while (!stopping) {
    if (interval.count() == 0) {
      run_cv.wait(lock, [&] { return stopping || pool_signal; });
    } else {
      run_cv.wait_until(lock, next, [&] { return stopping; });
    }
    if (stopping) break;
    pool_signal = false;
    lock.unlock();
    bool mine = true;
    if (interval.count() == 0) {
      std::lock_guard pool_lock(pool_mu);
      mine = !pool.empty();
    }
    if (mine) {
      auto events = Mine();
      if (events.ok()) {
        Notify(*events);
      } else {
        log::Error("devchain: block production failed", {{"error", events.status().ToString()}});
      }
    }
    next += interval;
    if (interval.count() != 0 && next < std::chrono::steady_clock::now())
      next = std::chrono::steady_clock::now() + interval;
    lock.lock();
  }
}

void Chain::Start() {
  std::lock_guard lock(impl_->run_mu);
  if (impl_->running) return;
  impl_->running = true;
  impl_->stopping = false;
  impl_->miner = std::thread([impl = impl_.get()] { impl->MinerLoop(); });
}

void Chain::Stop() {
  {
    std::lock_guard lock(impl_->run_mu);
    if (!impl_->running) return;
    impl_->stopping = true;
  }
  impl_->run_cv.notify_all();
  if (impl_->miner.joinable()) impl_->miner.join();
  std::lock_guard lock(impl_->run_mu);
  impl_->running = false;
}

uint64_t Chain::Subscribe(Listener listener) {
  std::lock_guard lock(impl_->listeners_mu);
  uint64_t id = impl_->next_listener++;
  impl_->listeners[id] = std::move(listener);
  return id;
}

void Chain::Unsubscribe(uint64_t id) {
  std::lock_guard lock(impl_->listeners_mu);
  impl_->listeners.erase(id);
}

}  // namespace neosl::devchain
