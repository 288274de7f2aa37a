// Header and Block: immutable values whose hash (the header's) is computed at construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"
#include "neo/io.h"
#include "neo/transaction.h"
#include "neo/uint.h"
#include "neo/witness.h"

namespace neosl::neo {

// Neo's MerkleTree.ComputeRoot over transaction hashes: pairs are joined and hashed with double
// SHA-256, an odd last node is paired with itself; one hash is its own root, none gives zero.
UInt256 ComputeMerkleRoot(std::span<const UInt256> hashes);

// The fields of a header, to construct one with Header::Create.
struct HeaderFields {
  uint32_t version = 0;
  UInt256 prev_hash;
  UInt256 merkle_root;
  uint64_t timestamp = 0;  // milliseconds since the Unix epoch
  uint64_t nonce = 0;
  uint32_t index = 0;
  uint8_t primary_index = 0;
  UInt160 next_consensus;
  Witness witness;

  friend bool operator==(const HeaderFields&, const HeaderFields&) = default;
};

// Byte layout (Neo.Network.P2P.Payloads.Header):
//   u32 version           must be 0
//   UInt256 prev hash
//   UInt256 merkle root
//   u64 timestamp         ms
//   u64 nonce
//   u32 index
//   u8  primary index
//   UInt160 next consensus
//   --- the hash is SHA-256 of the bytes above ---
//   var-int 1, Witness    exactly one witness
class Header {
 public:
  static constexpr size_t kUnsignedSize = 4 + 32 + 32 + 8 + 8 + 4 + 1 + 20;

  static StatusOr<Header> Create(HeaderFields fields);
  // The whole span must be one canonical header.
  static StatusOr<Header> Decode(std::span<const uint8_t> bytes);

  std::vector<uint8_t> Encode() const;
  std::vector<uint8_t> EncodeUnsigned() const;
  void Encode(BinaryWriter& w) const;

  const UInt256& hash() const { return hash_; }
  size_t size() const { return kUnsignedSize + 1 + fields_.witness.size(); }
  const HeaderFields& fields() const { return fields_; }
  uint32_t version() const { return fields_.version; }
  const UInt256& prev_hash() const { return fields_.prev_hash; }
  const UInt256& merkle_root() const { return fields_.merkle_root; }
  uint64_t timestamp() const { return fields_.timestamp; }
  uint64_t nonce() const { return fields_.nonce; }
  uint32_t index() const { return fields_.index; }
  uint8_t primary_index() const { return fields_.primary_index; }
  const UInt160& next_consensus() const { return fields_.next_consensus; }
  const Witness& witness() const { return fields_.witness; }

  friend bool operator==(const Header&, const Header&) = default;

 private:
  friend class Block;
  Header() = default;
  static StatusOr<Header> DecodeAt(BinaryReader& r, std::span<const uint8_t> buffer);
  void EncodeUnsigned(BinaryWriter& w) const;

  HeaderFields fields_;
  UInt256 hash_;
};

// Byte layout: Header, then var-int count (≤ 65535), Transaction each. The transactions must be
// distinct and their Merkle root must be the header's.
class Block {
 public:
  static constexpr size_t kMaxTransactions = 0xFFFF;

  static StatusOr<Block> Create(Header header, std::vector<Transaction> transactions);
  static StatusOr<Block> Decode(std::span<const uint8_t> bytes);

  std::vector<uint8_t> Encode() const;

  const UInt256& hash() const { return header_.hash(); }
  size_t size() const;
  const Header& header() const { return header_; }
  const std::vector<Transaction>& transactions() const { return transactions_; }

  friend bool operator==(const Block&, const Block&) = default;

 private:
  Block() = default;
  // Distinct transactions whose Merkle root is the header's.
  Status CheckTransactions() const;

  Header header_;
  std::vector<Transaction> transactions_;
};

}  // namespace neosl::neo
