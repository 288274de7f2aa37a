#include "neo/transaction.h"

#include <algorithm>

#include "crypto/hash.h"

namespace neosl::neo {

namespace {

Status CheckVersion(uint8_t version) {
  if (version != 0) return InvalidArgumentError("transaction version " + std::to_string(version) + " is not 0");
  return Status();
}

Status CheckFees(int64_t system_fee, int64_t network_fee) {
  if (system_fee < 0) return InvalidArgumentError("transaction system fee is negative");
  if (network_fee < 0) return InvalidArgumentError("transaction network fee is negative");
  // Neo refuses a pair whose sum overflows a long.
  if (system_fee > INT64_MAX - network_fee) {
    return InvalidArgumentError("transaction system fee + network fee overflows");
  }
  return Status();
}

Status CheckSignerCount(size_t n) {
  if (n == 0) return InvalidArgumentError("transaction signers: at least one is required");
  if (n > Transaction::kMaxTransactionAttributes) {
    return InvalidArgumentError("transaction signers: " + std::to_string(n) + " exceed the maximum of " +
                                std::to_string(Transaction::kMaxTransactionAttributes));
  }
  return Status();
}

// At most 16 signers: a scan of those already accepted is cheaper than a set.
Status CheckDistinctAccount(std::span<const Signer> accepted, const Signer& s) {
  if (std::any_of(accepted.begin(), accepted.end(), [&](const Signer& o) { return o.account == s.account; })) {
    return InvalidArgumentError("transaction signers: account " + s.account.ToString() + " appears twice");
  }
  return Status();
}

Status CheckAttributeCount(size_t attributes, size_t signers) {
  if (attributes + signers > Transaction::kMaxTransactionAttributes) {
    return InvalidArgumentError("transaction attributes: " + std::to_string(attributes) + " attributes and " +
                                std::to_string(signers) + " signers exceed the maximum of " +
                                std::to_string(Transaction::kMaxTransactionAttributes));
  }
  return Status();
}

Status CheckAttributeRepeat(std::span<const TransactionAttribute> accepted, const TransactionAttribute& a) {
  auto same_type = [&](const TransactionAttribute& o) { return o.type() == a.type(); };
  if (!a.AllowMultiple() && std::any_of(accepted.begin(), accepted.end(), same_type)) {
    return InvalidArgumentError("transaction attributes: " + std::string(TransactionAttributeTypeName(a.type())) +
                                " may appear only once");
  }
  return Status();
}

Status CheckScript(size_t n) {
  if (n == 0) return InvalidArgumentError("transaction script is empty");
  if (n > Transaction::kMaxScriptSize) {
    return InvalidArgumentError("transaction script: " + std::to_string(n) + " bytes exceed the maximum of " +
                                std::to_string(Transaction::kMaxScriptSize));
  }
  return Status();
}

Status CheckWitnessCount(size_t witnesses, size_t signers) {
  if (witnesses != signers) {
    return InvalidArgumentError("transaction witnesses: " + std::to_string(witnesses) + " for " +
                                std::to_string(signers) + " signers (one per signer is required)");
  }
  return Status();
}

Status CheckSize(size_t size) {
  if (size > Transaction::kMaxTransactionSize) {
    return InvalidArgumentError("transaction size " + std::to_string(size) + " exceeds the maximum of " +
                                std::to_string(Transaction::kMaxTransactionSize));
  }
  return Status();
}

template <typename T>
size_t ListSize(const std::vector<T>& items) {
  size_t n = VarIntSize(items.size());
  for (const auto& item : items) n += item.size();
  return n;
}

}  // namespace

StatusOr<Transaction> Transaction::Decode(std::span<const uint8_t> bytes) {
  BinaryReader r(bytes);
  ASSIGN_OR_RETURN(Transaction tx, DecodeAt(r, bytes));
  RETURN_IF_ERROR(r.ExpectEnd("transaction"));
  return tx;
}

StatusOr<Transaction> Transaction::DecodeAt(BinaryReader& r, std::span<const uint8_t> buffer) {
  const size_t start = r.position();
  Transaction tx;
  ASSIGN_OR_RETURN(tx.version_, r.U8("transaction version"));
  RETURN_IF_ERROR(CheckVersion(tx.version_));
  ASSIGN_OR_RETURN(tx.nonce_, r.U32("transaction nonce"));
  ASSIGN_OR_RETURN(tx.system_fee_, r.I64("transaction system fee"));
  ASSIGN_OR_RETURN(tx.network_fee_, r.I64("transaction network fee"));
  RETURN_IF_ERROR(CheckFees(tx.system_fee_, tx.network_fee_));
  ASSIGN_OR_RETURN(tx.valid_until_block_, r.U32("transaction valid until block"));

  ASSIGN_OR_RETURN(uint64_t signers, r.VarInt("transaction signers count", kMaxTransactionAttributes));
  RETURN_IF_ERROR(CheckSignerCount(signers));
  tx.signers_.reserve(signers);
  for (uint64_t i = 0; i < signers; ++i) {
    ASSIGN_OR_RETURN(Signer s, Signer::Decode(r));
    RETURN_IF_ERROR(CheckDistinctAccount(tx.signers_, s));
    tx.signers_.push_back(std::move(s));
  }

  ASSIGN_OR_RETURN(uint64_t attributes,
                   r.VarInt("transaction attributes count", kMaxTransactionAttributes - tx.signers_.size()));
  for (uint64_t i = 0; i < attributes; ++i) {
    ASSIGN_OR_RETURN(TransactionAttribute a, TransactionAttribute::Decode(r));
    RETURN_IF_ERROR(CheckAttributeRepeat(tx.attributes_, a));
    tx.attributes_.push_back(std::move(a));
  }

  ASSIGN_OR_RETURN(tx.script_, r.VarBytes("transaction script", kMaxScriptSize));
  RETURN_IF_ERROR(CheckScript(tx.script_.size()));
  const size_t unsigned_end = r.position();

  // Neo reads at most one witness per signer and then requires exactly that many.
  ASSIGN_OR_RETURN(uint64_t witnesses, r.VarInt("transaction witnesses count", tx.signers_.size()));
  RETURN_IF_ERROR(CheckWitnessCount(witnesses, tx.signers_.size()));
  tx.witnesses_.reserve(witnesses);
  for (uint64_t i = 0; i < witnesses; ++i) {
    ASSIGN_OR_RETURN(Witness w, Witness::Decode(r));
    tx.witnesses_.push_back(std::move(w));
  }

  tx.size_ = r.position() - start;
  RETURN_IF_ERROR(CheckSize(tx.size_));
  // The reader accepted only canonical encodings, so these bytes are exactly EncodeUnsigned().
  tx.hash_ = UInt256(crypto::Sha256(buffer.subspan(start, unsigned_end - start)));
  return tx;
}

Status Transaction::Validate(bool allow_unsigned) const {
  RETURN_IF_ERROR(CheckVersion(version_));
  RETURN_IF_ERROR(CheckFees(system_fee_, network_fee_));
  RETURN_IF_ERROR(CheckSignerCount(signers_.size()));
  for (size_t i = 0; i < signers_.size(); ++i) {
    RETURN_IF_ERROR(signers_[i].Validate());
    RETURN_IF_ERROR(CheckDistinctAccount(std::span(signers_).first(i), signers_[i]));
  }
  RETURN_IF_ERROR(CheckAttributeCount(attributes_.size(), signers_.size()));
  for (size_t i = 0; i < attributes_.size(); ++i) {
    RETURN_IF_ERROR(attributes_[i].Validate());
    RETURN_IF_ERROR(CheckAttributeRepeat(std::span(attributes_).first(i), attributes_[i]));
  }
  RETURN_IF_ERROR(CheckScript(script_.size()));
  if (!(allow_unsigned && witnesses_.empty())) return CheckWitnesses();
  return CheckSize(size_);
}

Status Transaction::CheckWitnesses() const {
  RETURN_IF_ERROR(CheckWitnessCount(witnesses_.size(), signers_.size()));
  for (const auto& w : witnesses_) {
    if (w.invocation.size() > Witness::kMaxInvocationScript) {
      return InvalidArgumentError("witness invocation script exceeds " + std::to_string(Witness::kMaxInvocationScript) +
                                  " bytes");
    }
    if (w.verification.size() > Witness::kMaxVerificationScript) {
      return InvalidArgumentError("witness verification script exceeds " +
                                  std::to_string(Witness::kMaxVerificationScript) + " bytes");
    }
  }
  return CheckSize(size_);
}

void Transaction::EncodeUnsigned(BinaryWriter& w) const {
  w.U8(version_);
  w.U32(nonce_);
  w.I64(system_fee_);
  w.I64(network_fee_);
  w.U32(valid_until_block_);
  w.VarInt(signers_.size());
  for (const auto& s : signers_) s.Encode(w);
  w.VarInt(attributes_.size());
  for (const auto& a : attributes_) a.Encode(w);
  w.VarBytes(script_);
}

void Transaction::Encode(BinaryWriter& w) const {
  EncodeUnsigned(w);
  w.VarInt(witnesses_.size());
  for (const auto& wit : witnesses_) wit.Encode(w);
}

std::vector<uint8_t> Transaction::Encode() const {
  BinaryWriter w;
  Encode(w);
  return w.Take();
}

std::vector<uint8_t> Transaction::EncodeUnsigned() const {
  BinaryWriter w;
  EncodeUnsigned(w);
  return w.Take();
}

size_t Transaction::ComputeSize() const {
  return kHeaderSize + ListSize(signers_) + ListSize(attributes_) + VarIntSize(script_.size()) + script_.size() +
         ListSize(witnesses_);
}

Transaction Transaction::WithWitnesses(std::vector<Witness> witnesses) const {
  Transaction out = *this;
  out.witnesses_ = std::move(witnesses);
  out.size_ = out.ComputeSize();
  return out;
}

TransactionBuilder::TransactionBuilder(const Transaction& tx) : tx_(tx) {}

TransactionBuilder& TransactionBuilder::SetVersion(uint8_t v) {
  tx_.version_ = v;
  return *this;
}
TransactionBuilder& TransactionBuilder::SetNonce(uint32_t nonce) {
  tx_.nonce_ = nonce;
  return *this;
}
TransactionBuilder& TransactionBuilder::SetSystemFee(int64_t datoshi) {
  tx_.system_fee_ = datoshi;
  return *this;
}
TransactionBuilder& TransactionBuilder::SetNetworkFee(int64_t datoshi) {
  tx_.network_fee_ = datoshi;
  return *this;
}
TransactionBuilder& TransactionBuilder::SetValidUntilBlock(uint32_t height) {
  tx_.valid_until_block_ = height;
  return *this;
}
TransactionBuilder& TransactionBuilder::SetScript(std::vector<uint8_t> script) {
  tx_.script_ = std::move(script);
  return *this;
}
TransactionBuilder& TransactionBuilder::AddSigner(Signer signer) {
  tx_.signers_.push_back(std::move(signer));
  return *this;
}
TransactionBuilder& TransactionBuilder::SetSigners(std::vector<Signer> signers) {
  tx_.signers_ = std::move(signers);
  return *this;
}
TransactionBuilder& TransactionBuilder::AddAttribute(TransactionAttribute attribute) {
  tx_.attributes_.push_back(std::move(attribute));
  return *this;
}
TransactionBuilder& TransactionBuilder::SetAttributes(std::vector<TransactionAttribute> attributes) {
  tx_.attributes_ = std::move(attributes);
  return *this;
}
TransactionBuilder& TransactionBuilder::AddWitness(Witness witness) {
  tx_.witnesses_.push_back(std::move(witness));
  return *this;
}
TransactionBuilder& TransactionBuilder::SetWitnesses(std::vector<Witness> witnesses) {
  tx_.witnesses_ = std::move(witnesses);
  return *this;
}

StatusOr<Transaction> TransactionBuilder::Build() const {
  Transaction tx = tx_;
  tx.size_ = tx.ComputeSize();
  RETURN_IF_ERROR(tx.Validate(/*allow_unsigned=*/true));
  tx.hash_ = UInt256(crypto::Sha256(tx.EncodeUnsigned()));
  return tx;
}

std::vector<uint8_t> SigningData(const Transaction& tx, uint32_t network_magic) {
  BinaryWriter w;
  w.U32(network_magic);
  w.Hash(tx.hash());
  return w.Take();
}

}  // namespace neosl::neo
