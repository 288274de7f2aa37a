// Transaction: the N3 transaction as an immutable value. Its hash is computed once, when it is
// built or decoded; TransactionBuilder is the mutable side.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"
#include "neo/io.h"
#include "neo/signer.h"
#include "neo/tx_attribute.h"
#include "neo/uint.h"
#include "neo/witness.h"

namespace neosl::neo {

// Byte layout (Neo.Network.P2P.Payloads.Transaction):
//   u8  version            must be 0
//   u32 nonce
//   i64 system fee         ≥ 0, datoshi (1 GAS = 10^8)
//   i64 network fee        ≥ 0, and system + network must not overflow
//   u32 valid until block
//   var-int count (1..16), Signer each            no two with the same account
//   var-int count (≤ 16 − signers), attribute each  only Conflicts may repeat
//   var-bytes script       1..65535 bytes
//   --- the hash is SHA-256 of the bytes above (the "unsigned" part) ---
//   var-int count (= signers), Witness each
// The whole encoding is at most 102400 bytes (MaxTransactionSize).
class Transaction {
 public:
  static constexpr size_t kMaxTransactionSize = 102400;
  static constexpr size_t kMaxTransactionAttributes = 16;  // signers and attributes together
  static constexpr size_t kMaxScriptSize = 0xFFFF;
  static constexpr size_t kHeaderSize = 1 + 4 + 8 + 8 + 4;

  // The whole span must be one canonical transaction: no trailing bytes, minimal var-ints, every
  // count and size within Neo's limits, one witness per signer.
  static StatusOr<Transaction> Decode(std::span<const uint8_t> bytes);

  std::vector<uint8_t> Encode() const;
  std::vector<uint8_t> EncodeUnsigned() const;
  void Encode(BinaryWriter& w) const;

  const UInt256& hash() const { return hash_; }
  size_t size() const { return size_; }
  // The first signer pays the fees.
  const UInt160& sender() const { return signers_.front().account; }

  uint8_t version() const { return version_; }
  uint32_t nonce() const { return nonce_; }
  int64_t system_fee() const { return system_fee_; }
  int64_t network_fee() const { return network_fee_; }
  uint32_t valid_until_block() const { return valid_until_block_; }
  const std::vector<Signer>& signers() const { return signers_; }
  const std::vector<TransactionAttribute>& attributes() const { return attributes_; }
  const std::vector<uint8_t>& script() const { return script_; }
  const std::vector<Witness>& witnesses() const { return witnesses_; }

  // The same transaction (same hash) with these witnesses. Not checked here: Neo requires one
  // witness per signer, each within the witness limits, and the total within
  // kMaxTransactionSize; CheckWitnesses() says whether the result is sendable.
  Transaction WithWitnesses(std::vector<Witness> witnesses) const;
  Status CheckWitnesses() const;

  friend bool operator==(const Transaction&, const Transaction&) = default;

 private:
  friend class TransactionBuilder;
  friend class Block;
  Transaction() = default;
  // Reads one transaction at r's position; `buffer` is what r reads from, so that the hash is
  // taken over the received bytes without encoding them again.
  static StatusOr<Transaction> DecodeAt(BinaryReader& r, std::span<const uint8_t> buffer);
  // Every rule of Decode; witnesses may be absent when `allow_unsigned`.
  Status Validate(bool allow_unsigned) const;
  void EncodeUnsigned(BinaryWriter& w) const;
  size_t ComputeSize() const;

  uint8_t version_ = 0;
  uint32_t nonce_ = 0;
  int64_t system_fee_ = 0;
  int64_t network_fee_ = 0;
  uint32_t valid_until_block_ = 0;
  std::vector<Signer> signers_;
  std::vector<TransactionAttribute> attributes_;
  std::vector<uint8_t> script_;
  std::vector<Witness> witnesses_;
  // Derived from the fields above; kept in step by every constructor path.
  UInt256 hash_;
  size_t size_ = 0;
};

// Collects fields; Build() applies the same rules as Transaction::Decode, except that a
// transaction may have no witnesses yet (to be signed, then completed with WithWitnesses).
class TransactionBuilder {
 public:
  TransactionBuilder() = default;
  // Starts from an existing transaction (to change a field and re-sign).
  explicit TransactionBuilder(const Transaction& tx);

  TransactionBuilder& SetVersion(uint8_t v);
  TransactionBuilder& SetNonce(uint32_t nonce);
  TransactionBuilder& SetSystemFee(int64_t datoshi);
  TransactionBuilder& SetNetworkFee(int64_t datoshi);
  TransactionBuilder& SetValidUntilBlock(uint32_t height);
  TransactionBuilder& SetScript(std::vector<uint8_t> script);
  TransactionBuilder& AddSigner(Signer signer);
  TransactionBuilder& SetSigners(std::vector<Signer> signers);
  TransactionBuilder& AddAttribute(TransactionAttribute attribute);
  TransactionBuilder& SetAttributes(std::vector<TransactionAttribute> attributes);
  TransactionBuilder& AddWitness(Witness witness);
  TransactionBuilder& SetWitnesses(std::vector<Witness> witnesses);

  StatusOr<Transaction> Build() const;

 private:
  Transaction tx_;
};

// The bytes a signer signs: the network magic (u32, little-endian) followed by the transaction
// hash in wire order — Neo's IVerifiable.GetSignData.
std::vector<uint8_t> SigningData(const Transaction& tx, uint32_t network_magic);

}  // namespace neosl::neo
