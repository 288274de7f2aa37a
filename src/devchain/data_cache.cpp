#include "devchain/data_cache.h"

#include <algorithm>

namespace neosl::devchain {

Bytes StorageKey(int32_t contract_id, std::span<const uint8_t> key) {
  Bytes out;
  out.reserve(4 + key.size());
  auto id = static_cast<uint32_t>(contract_id);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(id >> (8 * i)));
  out.insert(out.end(), key.begin(), key.end());
  return out;
}

int32_t StorageKeyContractId(std::span<const uint8_t> full_key) {
  uint32_t id = 0;
  for (size_t i = 0; i < 4 && i < full_key.size(); ++i) id |= static_cast<uint32_t>(full_key[i]) << (8 * i);
  return static_cast<int32_t>(id);
}

std::optional<Bytes> DataCache::Get(std::span<const uint8_t> full_key) const {
  Bytes key(full_key.begin(), full_key.end());
  if (parent_ == nullptr) {
    auto it = root_.find(key);
    if (it == root_.end()) return std::nullopt;
    return it->second;
  }
  auto it = changes_.find(key);
  if (it != changes_.end()) return it->second;
  return parent_->Get(full_key);
}

void DataCache::Put(Bytes full_key, Bytes value) {
  if (parent_ == nullptr) {
    root_[std::move(full_key)] = std::move(value);
  } else {
    changes_[std::move(full_key)] = std::move(value);
  }
}

void DataCache::Delete(Bytes full_key) {
  if (parent_ == nullptr) {
    root_.erase(full_key);
  } else {
    changes_[std::move(full_key)] = std::nullopt;
  }
}

std::vector<std::pair<Bytes, Bytes>> DataCache::Find(std::span<const uint8_t> prefix) const {
  Bytes p(prefix.begin(), prefix.end());
  auto starts = [&](const Bytes& k) { return k.size() >= p.size() && std::equal(p.begin(), p.end(), k.begin()); };
  std::map<Bytes, Bytes> merged;
  if (parent_ == nullptr) {
    for (auto it = root_.lower_bound(p); it != root_.end() && starts(it->first); ++it) merged.insert(*it);
  } else {
    for (auto& kv : parent_->Find(prefix)) merged.insert(std::move(kv));
    for (auto it = changes_.lower_bound(p); it != changes_.end() && starts(it->first); ++it) {
      if (it->second) {
        merged[it->first] = *it->second;
      } else {
        merged.erase(it->first);
      }
    }
  }
  return {merged.begin(), merged.end()};
}

void DataCache::Apply(const std::map<Bytes, std::optional<Bytes>>& changes) {
  for (const auto& [k, v] : changes) {
    if (v) {
      Put(k, *v);
    } else {
      Delete(k);
    }
  }
}

void DataCache::Commit() {
  if (parent_ == nullptr) return;
  parent_->Apply(changes_);
  changes_.clear();
}

}  // namespace neosl::devchain
