#include "neo/block.h"

#include <set>

#include "crypto/hash.h"

namespace neosl::neo {

namespace {

Status CheckHeaderVersion(uint32_t version) {
  if (version != 0) return InvalidArgumentError("block version " + std::to_string(version) + " is not 0");
  return Status();
}

}  // namespace

UInt256 ComputeMerkleRoot(std::span<const UInt256> hashes) {
  if (hashes.empty()) return UInt256();
  std::vector<UInt256> level(hashes.begin(), hashes.end());
  while (level.size() > 1) {
    std::vector<UInt256> parents((level.size() + 1) / 2);
    for (size_t i = 0; i < parents.size(); ++i) {
      const UInt256& left = level[2 * i];
      const UInt256& right = 2 * i + 1 < level.size() ? level[2 * i + 1] : left;
      uint8_t joined[64];
      std::copy(left.bytes().begin(), left.bytes().end(), joined);
      std::copy(right.bytes().begin(), right.bytes().end(), joined + 32);
      parents[i] = UInt256(crypto::DoubleSha256(joined));
    }
    level = std::move(parents);
  }
  return level.front();
}

StatusOr<Header> Header::Create(HeaderFields fields) {
  RETURN_IF_ERROR(CheckHeaderVersion(fields.version));
  if (fields.witness.invocation.size() > Witness::kMaxInvocationScript ||
      fields.witness.verification.size() > Witness::kMaxVerificationScript) {
    return InvalidArgumentError("block witness exceeds the witness script limits");
  }
  Header h;
  h.fields_ = std::move(fields);
  BinaryWriter w;
  h.EncodeUnsigned(w);
  h.hash_ = UInt256(crypto::Sha256(w.data()));
  return h;
}

StatusOr<Header> Header::Decode(std::span<const uint8_t> bytes) {
  BinaryReader r(bytes);
  ASSIGN_OR_RETURN(Header h, DecodeAt(r, bytes));
  RETURN_IF_ERROR(r.ExpectEnd("block header"));
  return h;
}

StatusOr<Header> Header::DecodeAt(BinaryReader& r, std::span<const uint8_t> buffer) {
  const size_t start = r.position();
  Header h;
  HeaderFields& f = h.fields_;
  ASSIGN_OR_RETURN(f.version, r.U32("block version"));
  RETURN_IF_ERROR(CheckHeaderVersion(f.version));
  ASSIGN_OR_RETURN(f.prev_hash, r.ReadUInt256("block previous hash"));
  ASSIGN_OR_RETURN(f.merkle_root, r.ReadUInt256("block merkle root"));
  ASSIGN_OR_RETURN(f.timestamp, r.U64("block timestamp"));
  ASSIGN_OR_RETURN(f.nonce, r.U64("block nonce"));
  ASSIGN_OR_RETURN(f.index, r.U32("block index"));
  ASSIGN_OR_RETURN(f.primary_index, r.U8("block primary index"));
  ASSIGN_OR_RETURN(f.next_consensus, r.ReadUInt160("block next consensus"));
  h.hash_ = UInt256(crypto::Sha256(buffer.subspan(start, kUnsignedSize)));
  ASSIGN_OR_RETURN(uint64_t witnesses, r.VarInt("block witnesses count", 1));
  if (witnesses != 1) return InvalidArgumentError("block witnesses: exactly one is required");
  ASSIGN_OR_RETURN(f.witness, Witness::Decode(r));
  return h;
}

void Header::EncodeUnsigned(BinaryWriter& w) const {
  w.U32(fields_.version);
  w.Hash(fields_.prev_hash);
  w.Hash(fields_.merkle_root);
  w.U64(fields_.timestamp);
  w.U64(fields_.nonce);
  w.U32(fields_.index);
  w.U8(fields_.primary_index);
  w.Hash(fields_.next_consensus);
}

void Header::Encode(BinaryWriter& w) const {
  EncodeUnsigned(w);
  w.VarInt(1);
  fields_.witness.Encode(w);
}

std::vector<uint8_t> Header::Encode() const {
  BinaryWriter w;
  Encode(w);
  return w.Take();
}

std::vector<uint8_t> Header::EncodeUnsigned() const {
  BinaryWriter w;
  EncodeUnsigned(w);
  return w.Take();
}

StatusOr<Block> Block::Create(Header header, std::vector<Transaction> transactions) {
  Block b;
  b.header_ = std::move(header);
  b.transactions_ = std::move(transactions);
  if (b.transactions_.size() > kMaxTransactions) {
    return InvalidArgumentError("block transactions: " + std::to_string(b.transactions_.size()) +
                                " exceed the maximum of " + std::to_string(kMaxTransactions));
  }
  for (const auto& tx : b.transactions_) RETURN_IF_ERROR(tx.CheckWitnesses());
  RETURN_IF_ERROR(b.CheckTransactions());
  return b;
}

StatusOr<Block> Block::Decode(std::span<const uint8_t> bytes) {
  BinaryReader r(bytes);
  Block b;
  ASSIGN_OR_RETURN(b.header_, Header::DecodeAt(r, bytes));
  ASSIGN_OR_RETURN(uint64_t n, r.VarInt("block transactions count", kMaxTransactions));
  // No reserve(n): a forged count must not allocate before the bytes prove it.
  for (uint64_t i = 0; i < n; ++i) {
    auto tx = Transaction::DecodeAt(r, bytes);
    if (!tx.ok()) return tx.status().Annotate("block transaction " + std::to_string(i));
    b.transactions_.push_back(std::move(tx).value());
  }
  RETURN_IF_ERROR(r.ExpectEnd("block"));
  RETURN_IF_ERROR(b.CheckTransactions());
  return b;
}

Status Block::CheckTransactions() const {
  std::vector<UInt256> hashes;
  hashes.reserve(transactions_.size());
  std::set<UInt256> seen;
  for (const auto& tx : transactions_) {
    if (!seen.insert(tx.hash()).second) {
      return InvalidArgumentError("block transactions: " + tx.hash().ToString() + " appears twice");
    }
    hashes.push_back(tx.hash());
  }
  UInt256 root = ComputeMerkleRoot(hashes);
  if (root != header_.merkle_root()) {
    return InvalidArgumentError("block merkle root " + header_.merkle_root().ToString() +
                                " does not match the transactions' " + root.ToString());
  }
  return Status();
}

std::vector<uint8_t> Block::Encode() const {
  BinaryWriter w;
  header_.Encode(w);
  w.VarInt(transactions_.size());
  for (const auto& tx : transactions_) tx.Encode(w);
  return w.Take();
}

size_t Block::size() const {
  size_t n = header_.size() + VarIntSize(transactions_.size());
  for (const auto& tx : transactions_) n += tx.size();
  return n;
}

}  // namespace neosl::neo
