// The Chain's read side: blocks, transactions, logs, state and token indexes.
#include <algorithm>
#include <charconv>

#include <boost/json/parse.hpp>

#include "devchain/chain_internal.h"

namespace neosl::devchain {
namespace {

store::Blob ToBlob(std::span<const uint8_t> s) {
  return store::Blob(s.begin(), s.end());
}

}  // namespace

uint32_t Chain::network() const {
  return impl_->options.network;
}

std::chrono::milliseconds Chain::block_time() const {
  return impl_->options.block_time;
}

uint32_t Chain::height() const {
  std::shared_lock lock(impl_->state_mu);
  return impl_->Height();
}

neo::UInt256 Chain::tip_hash() const {
  std::shared_lock lock(impl_->state_mu);
  return impl_->block_hashes.back();
}

StatusOr<neo::Block> Chain::GetBlock(uint32_t index) const {
  {
    std::shared_lock lock(impl_->state_mu);
    if (index > impl_->Height()) {
      return ChainRpcError(-101, "Unknown block", "block " + std::to_string(index) + " is past the tip");
    }
  }
  return impl_->ReadBlock(index);
}

StatusOr<neo::Block> Chain::GetBlock(const neo::UInt256& hash) const {
  uint32_t index = 0;
  {
    std::shared_lock lock(impl_->state_mu);
    auto it = impl_->block_index.find(hash);
    if (it == impl_->block_index.end()) return ChainRpcError(-101, "Unknown block", hash.ToString());
    index = it->second;
  }
  return impl_->ReadBlock(index);
}

StatusOr<TransactionLookup> Chain::GetTransaction(const neo::UInt256& hash) const {
  {
    std::lock_guard lock(impl_->pool_mu);
    auto it = impl_->pool.find(hash);
    if (it != impl_->pool.end()) return TransactionLookup{.tx = it->second.tx};
  }
  ASSIGN_OR_RETURN(auto rows, impl_->db->Query("SELECT block_idx, position, vmstate FROM txs WHERE hash = ?",
                                               {ToBlob(hash.span())}));
  if (rows.empty()) return ChainRpcError(-103, "Unknown transaction", hash.ToString());
  ASSIGN_OR_RETURN(int64_t block_idx, rows[0].Int(0));
  ASSIGN_OR_RETURN(int64_t position, rows[0].Int(1));
  ASSIGN_OR_RETURN(std::string vmstate, rows[0].Text(2));
  ASSIGN_OR_RETURN(neo::Block block, impl_->ReadBlock(static_cast<uint32_t>(block_idx)));
  if (position < 0 || static_cast<size_t>(position) >= block.transactions().size()) {
    return DataLossError("devchain: transaction index out of step with block " + std::to_string(block_idx));
  }
  return TransactionLookup{.tx = block.transactions()[static_cast<size_t>(position)],
                           .block_index = static_cast<uint32_t>(block_idx),
                           .block_hash = block.hash(),
                           .block_time_ms = block.header().timestamp(),
                           .vm_state = vmstate == "HALT" ? VmState::kHalt : VmState::kFault};
}

std::vector<neo::UInt256> Chain::MempoolHashes() const {
  std::vector<std::pair<uint64_t, neo::UInt256>> ordered;
  {
    std::lock_guard lock(impl_->pool_mu);
    for (const auto& [hash, p] : impl_->pool) ordered.emplace_back(p.arrival, hash);
  }
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<neo::UInt256> out;
  out.reserve(ordered.size());
  for (auto& [arrival, hash] : ordered) out.push_back(hash);
  return out;
}

StatusOr<boost::json::value> Chain::GetApplicationLog(const neo::UInt256& container) const {
  ASSIGN_OR_RETURN(auto rows,
                   impl_->db->Query("SELECT json FROM app_logs WHERE container = ?", {ToBlob(container.span())}));
  if (rows.empty()) return ChainRpcError(-103, "Unknown transaction", "no application log for " + container.ToString());
  ASSIGN_OR_RETURN(std::string text, rows[0].Text(0));
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec) return DataLossError("devchain: the application log of " + container.ToString() + " is corrupt");
  return v;
}

ExecutionRecord Chain::InvokeScript(std::span<const uint8_t> script, std::vector<neo::Signer> signers,
                                    int64_t gas_limit) const {
  const Impl& c = *impl_;
  std::shared_lock lock(c.state_mu);
  DataCache snapshot(const_cast<DataCache*>(&c.state));  // read-only: never committed
  BlockContext ctx{
      .index = c.Height() + 1,
      .timestamp_ms = std::max<uint64_t>(static_cast<uint64_t>(c.clock->NowUnixMillis()), c.tip_time_ms + 1),
      .primary = c.validator.script_hash};
  ApplicationEngine engine(TriggerType::kApplication, nullptr, std::move(signers), snapshot, ctx, c.natives,
                           c.Settings(), gas_limit);
  return engine.Run(script);
}

StatusOr<Bytes> Chain::GetStorage(const neo::UInt160& contract, std::span<const uint8_t> key) const {
  const NativeContract* native = impl_->natives.Find(contract);
  if (native == nullptr) return ChainRpcError(-102, "Unknown contract", contract.ToString());
  std::shared_lock lock(impl_->state_mu);
  auto value = impl_->state.Get(StorageKey(native->id(), key));
  if (!value) return ChainRpcError(-104, "Unknown storage item", "");
  return *value;
}

StatusOr<boost::json::value> Chain::GetContractState(std::string_view ref) const {
  const NativeContract* c = nullptr;
  if (auto hash = neo::UInt160::Parse(ref); hash.ok()) {
    c = impl_->natives.Find(*hash);
  } else {
    int32_t id = 0;
    auto [end, ec] = std::from_chars(ref.data(), ref.data() + ref.size(), id);
    if (ec == std::errc() && end == ref.data() + ref.size()) {
      c = impl_->natives.FindById(id);
    } else {
      c = impl_->natives.FindByName(ref);
    }
  }
  if (c == nullptr) return ChainRpcError(-102, "Unknown contract", std::string(ref));
  return c->ContractStateJson();
}

std::vector<Nep17BalanceEntry> Chain::Nep17Balances(const neo::UInt160& account) const {
  std::vector<Nep17BalanceEntry> out;
  std::map<neo::UInt160, uint32_t> last_updated;
  auto rows = impl_->db->Query("SELECT asset, MAX(block_idx) FROM nep17_transfers WHERE account = ? GROUP BY asset",
                               {ToBlob(account.span())});
  if (rows.ok()) {
    for (const auto& row : *rows) {
      auto asset = row.Bytes(0);
      auto block = row.Int(1);
      if (!asset.ok() || !block.ok()) continue;
      auto hash = neo::UInt160::FromBytes(*asset);
      if (hash.ok()) last_updated[*hash] = static_cast<uint32_t>(*block);
    }
  }
  std::shared_lock lock(impl_->state_mu);
  auto add = [&](const neo::UInt160& asset, const char* name, const char* symbol, uint32_t decimals, int64_t amount) {
    if (amount == 0 && !last_updated.contains(asset)) return;
    out.push_back(Nep17BalanceEntry{.asset = asset,
                                    .name = name,
                                    .symbol = symbol,
                                    .decimals = decimals,
                                    .amount = std::to_string(amount),
                                    .last_updated_block = last_updated.contains(asset) ? last_updated[asset] : 0});
  };
  add(NativeRegistry::NeoHash(), "NeoToken", "NEO", 0, NeoBalance(impl_->state, account));
  add(NativeRegistry::GasHash(), "GasToken", "GAS", 8, devchain::GasBalance(impl_->state, account));
  return out;
}

std::vector<Nep17TransferEntry> Chain::Nep17Transfers(const neo::UInt160& account, uint64_t from_ms,
                                                      uint64_t to_ms) const {
  std::vector<Nep17TransferEntry> out;
  auto rows = impl_->db->Query(
      "SELECT time_ms, asset, counterparty, amount, block_idx, notify_idx, tx_hash, sent FROM nep17_transfers "
      "WHERE account = ? AND time_ms >= ? AND time_ms <= ? ORDER BY time_ms DESC, block_idx DESC, notify_idx DESC",
      {ToBlob(account.span()), static_cast<int64_t>(std::min<uint64_t>(from_ms, INT64_MAX)),
       static_cast<int64_t>(std::min<uint64_t>(to_ms, INT64_MAX))});
  if (!rows.ok()) return out;
  for (const auto& row : *rows) {
    Nep17TransferEntry e;
    auto time_ms = row.Int(0);
    auto asset = row.Bytes(1);
    auto amount = row.Text(3);
    auto block = row.Int(4);
    auto notify = row.Int(5);
    auto tx = row.Bytes(6);
    auto sent = row.Int(7);
    if (!time_ms.ok() || !asset.ok() || !amount.ok() || !block.ok() || !notify.ok() || !tx.ok() || !sent.ok()) continue;
    e.timestamp_ms = static_cast<uint64_t>(*time_ms);
    e.asset = *neo::UInt160::FromBytes(*asset);
    if (!row.IsNull(2)) {
      auto other = row.Bytes(2);
      if (other.ok()) e.counterparty = *neo::UInt160::FromBytes(*other);
    }
    e.amount = *amount;
    e.block_index = static_cast<uint32_t>(*block);
    e.transfer_notify_index = static_cast<uint32_t>(*notify);
    e.tx_hash = *neo::UInt256::FromBytes(*tx);
    e.sent = *sent != 0;
    out.push_back(std::move(e));
  }
  return out;
}

int64_t Chain::GasBalance(const neo::UInt160& account) const {
  std::shared_lock lock(impl_->state_mu);
  return devchain::GasBalance(impl_->state, account);
}

const std::vector<DevWallet>& Chain::dev_wallets() const {
  return impl_->wallets;
}

}  // namespace neosl::devchain
