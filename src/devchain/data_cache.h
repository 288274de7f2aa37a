// Contract storage as Neo keys it, with snapshots.
//
// A key is Neo's StorageKey serialisation: the contract id as 4 bytes little-endian, then the
// contract's own key bytes. A DataCache is either the root (it owns the committed map) or a
// snapshot over a parent: reads fall through to the parent, writes stay in the snapshot until
// Commit() hands them to the parent in one step. A FAULTed execution simply drops its snapshot,
// so nothing it wrote is ever seen.
//
// Not thread-safe: the chain serialises writers and gives readers their own snapshot.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace neosl::devchain {

using Bytes = std::vector<uint8_t>;

// id (LE) ‖ key
Bytes StorageKey(int32_t contract_id, std::span<const uint8_t> key);
// The contract id of a full key (keys are always at least 4 bytes).
int32_t StorageKeyContractId(std::span<const uint8_t> full_key);

class DataCache {
 public:
  DataCache() = default;                                      // a root
  explicit DataCache(DataCache* parent) : parent_(parent) {}  // a snapshot
  DataCache(const DataCache&) = delete;
  DataCache& operator=(const DataCache&) = delete;

  std::optional<Bytes> Get(std::span<const uint8_t> full_key) const;
  void Put(Bytes full_key, Bytes value);
  void Delete(Bytes full_key);
  // Every live entry whose key starts with `prefix`, in key order.
  std::vector<std::pair<Bytes, Bytes>> Find(std::span<const uint8_t> prefix) const;

  // Snapshot only: the changes (value unset = deleted), for persisting, in key order.
  const std::map<Bytes, std::optional<Bytes>>& changes() const { return changes_; }
  // Applies `changes` to this cache (a root applies them to its map).
  void Apply(const std::map<Bytes, std::optional<Bytes>>& changes);
  // Snapshot only: hands the changes to the parent and clears them.
  void Commit();

 private:
  DataCache* parent_ = nullptr;
  std::map<Bytes, Bytes> root_;                    // root only
  std::map<Bytes, std::optional<Bytes>> changes_;  // snapshot only
};

}  // namespace neosl::devchain
