#include "services/secrets/audit_log.h"

#include <algorithm>
#include <array>
#include <utility>

namespace neosl::services::secrets {
namespace {

namespace json = boost::json;

constexpr std::string_view kEntryDomain = "neosl-audit-v1";
constexpr std::string_view kCheckpointDomain = "neosl-audit-checkpoint-v1";
constexpr size_t kMaxSubjectBytes = 512;
constexpr size_t kMaxActorBytes = 256;
constexpr size_t kMaxDetailsBytes = size_t{16} * 1024;
constexpr int64_t kMaxListLimit = 1000;
constexpr int64_t kVerifyPage = 500;

constexpr std::array<std::pair<AuditAction, std::string_view>, 6> kActions{{
    {AuditAction::kCreate, "create"},
    {AuditAction::kRotate, "rotate"},
    {AuditAction::kDelete, "delete"},
    {AuditAction::kGrant, "grant"},
    {AuditAction::kRevoke, "revoke"},
    {AuditAction::kRead, "read"},
}};

constexpr std::string_view kEntryColumns = "account_id, seq, at_ms, action, subject, actor, details, prev_hash, hash";
constexpr std::string_view kCheckpointColumns = "account_id, seq, hash, signature, public_key, at_ms";

void AppendLengthPrefixed(std::vector<uint8_t>& out, std::span<const uint8_t> bytes) {
  const auto n = static_cast<uint32_t>(bytes.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(n >> shift));
  out.insert(out.end(), bytes.begin(), bytes.end());
}
void AppendLengthPrefixed(std::vector<uint8_t>& out, std::string_view s) {
  AppendLengthPrefixed(out, crypto::AsBytes(s));
}
void AppendLengthPrefixed(std::vector<uint8_t>& out, int64_t v) {
  std::array<uint8_t, 8> be{};
  const auto u = static_cast<uint64_t>(v);
  for (size_t i = 0; i < 8; ++i) be[i] = static_cast<uint8_t>(u >> (56 - 8 * i));
  AppendLengthPrefixed(out, std::span<const uint8_t>(be));
}

store::Blob ZeroHash() {
  return store::Blob(32, 0);
}

std::string SeqText(int64_t seq) {
  return std::to_string(seq);
}

Status ValidateRecord(const AuditRecord& r) {
  if (r.account.empty()) return InvalidArgumentError("audit record: account is empty");
  if (r.at_ms < 0) return InvalidArgumentError("audit record: at_ms is negative");
  if (AuditActionName(r.action).empty()) return InvalidArgumentError("audit record: unknown action");
  if (r.subject.empty() || r.subject.size() > kMaxSubjectBytes) {
    return InvalidArgumentError("audit record: subject must be 1.." + std::to_string(kMaxSubjectBytes) + " bytes");
  }
  if (r.actor.empty() || r.actor.size() > kMaxActorBytes) {
    return InvalidArgumentError("audit record: actor must be 1.." + std::to_string(kMaxActorBytes) + " bytes");
  }
  return Status::Ok();
}

StatusOr<AuditEntry> EntryFromRow(const store::Row& row) {
  AuditEntry e;
  ASSIGN_OR_RETURN(std::string account, row.Text(0));
  e.account = AccountId(std::move(account));
  ASSIGN_OR_RETURN(e.seq, row.Int(1));
  ASSIGN_OR_RETURN(e.at_ms, row.Int(2));
  ASSIGN_OR_RETURN(e.action, row.Text(3));
  ASSIGN_OR_RETURN(e.subject, row.Text(4));
  ASSIGN_OR_RETURN(e.actor, row.Text(5));
  ASSIGN_OR_RETURN(e.details, row.Text(6));
  ASSIGN_OR_RETURN(e.prev_hash, row.Bytes(7));
  ASSIGN_OR_RETURN(e.hash, row.Bytes(8));
  return e;
}

StatusOr<AuditCheckpoint> CheckpointFromRow(const store::Row& row) {
  AuditCheckpoint c;
  ASSIGN_OR_RETURN(std::string account, row.Text(0));
  c.account = AccountId(std::move(account));
  ASSIGN_OR_RETURN(c.seq, row.Int(1));
  ASSIGN_OR_RETURN(c.hash, row.Bytes(2));
  ASSIGN_OR_RETURN(c.signature, row.Bytes(3));
  ASSIGN_OR_RETURN(c.public_key, row.Bytes(4));
  ASSIGN_OR_RETURN(c.at_ms, row.Int(5));
  return c;
}

// Checks one account's entries in seq order as they stream past, and each checkpoint when its
// seq is reached; stops at the first failure.
class ChainVerifier {
 public:
  ChainVerifier(AccountId account, std::span<const AuditCheckpoint> checkpoints,
                std::span<const crypto::PublicKey> trusted_keys)
      : account_(std::move(account)), checkpoints_(checkpoints.begin(), checkpoints.end()), trusted_(trusted_keys) {
    std::stable_sort(checkpoints_.begin(), checkpoints_.end(),
                     [](const AuditCheckpoint& a, const AuditCheckpoint& b) { return a.seq < b.seq; });
  }

  bool failed() const { return result_.first_bad_seq.has_value(); }

  bool Fail(int64_t seq, std::string reason) {
    result_.first_bad_seq = seq;
    result_.reason = std::move(reason);
    return false;
  }

  bool Feed(const AuditEntry& e) {
    if (failed()) return false;
    const std::string at = "seq " + SeqText(e.seq);
    // A checkpoint before the first entry or between entries already passed names no entry.
    if (next_cp_ < checkpoints_.size() && checkpoints_[next_cp_].seq < expected_) {
      return Fail(checkpoints_[next_cp_].seq, CheckpointText(checkpoints_[next_cp_]) + ": no such entry");
    }
    if (e.account != account_) return Fail(e.seq, at + " belongs to another account");
    if (e.seq < expected_) return Fail(e.seq, at + " is out of order (duplicated or reordered)");
    if (e.seq > expected_) return Fail(expected_, "gap: seq " + SeqText(expected_) + " missing (entry removed)");
    if (e.prev_hash != prev_) return Fail(e.seq, at + " links to a different previous hash (reordered or removed)");
    const crypto::Digest256 hash = AuditEntryHash(e);
    if (!std::equal(hash.begin(), hash.end(), e.hash.begin(), e.hash.end())) {
      return Fail(e.seq, "hash mismatch at " + at + " (entry edited)");
    }
    if (!ParseAuditAction(e.action)) return Fail(e.seq, at + ": unknown action \"" + e.action + "\"");
    ++result_.entries_checked;
    result_.last_verified_seq = e.seq;
    prev_ = e.hash;
    ++expected_;
    while (next_cp_ < checkpoints_.size() && checkpoints_[next_cp_].seq == e.seq) {
      const AuditCheckpoint& cp = checkpoints_[next_cp_++];
      if (!CheckSigned(cp)) return false;
      if (cp.hash != e.hash)
        return Fail(cp.seq, CheckpointText(cp) + ": hash does not match the entry (log rewritten)");
      result_.last_checkpoint_seq = cp.seq;
    }
    return true;
  }

  AuditVerification Finish() {
    if (!failed() && next_cp_ < checkpoints_.size()) {
      // Signed checkpoints beyond the last entry: entries were removed from the end.
      const AuditCheckpoint& cp = checkpoints_[next_cp_];
      if (CheckSigned(cp)) {
        Fail(cp.seq, CheckpointText(cp) +
                         (cp.seq < expected_ ? ": no such entry" : ": entry missing (entries removed from the end)"));
      }
    }
    result_.ok = !failed();
    return result_;
  }

 private:
  static std::string CheckpointText(const AuditCheckpoint& cp) { return "checkpoint at seq " + SeqText(cp.seq); }

  // Whether `cp` is authentic on its own: well-formed, signed, by a trusted key if any are given.
  bool CheckSigned(const AuditCheckpoint& cp) {
    const std::string at = CheckpointText(cp);
    if (cp.account != account_) return Fail(cp.seq, at + " belongs to another account");
    auto key = crypto::PublicKey::FromBytes(cp.public_key);
    if (!key.ok()) return Fail(cp.seq, at + ": invalid public key");
    crypto::Signature sig{};
    if (cp.signature.size() != sig.size()) return Fail(cp.seq, at + ": bad signature");
    std::copy(cp.signature.begin(), cp.signature.end(), sig.begin());
    if (!key->Verify(AuditCheckpointMessage(account_, cp.seq, cp.hash), sig))
      return Fail(cp.seq, at + ": bad signature");
    if (!trusted_.empty() && std::find(trusted_.begin(), trusted_.end(), *key) == trusted_.end()) {
      return Fail(cp.seq, at + ": checkpoint key is not the trusted report key");
    }
    return true;
  }

  AccountId account_;
  std::vector<AuditCheckpoint> checkpoints_;
  std::span<const crypto::PublicKey> trusted_;
  size_t next_cp_ = 0;
  int64_t expected_ = 1;
  store::Blob prev_ = ZeroHash();
  AuditVerification result_;
};

}  // namespace

std::string_view AuditActionName(AuditAction action) {
  for (const auto& [a, name] : kActions) {
    if (a == action) return name;
  }
  return {};
}

std::optional<AuditAction> ParseAuditAction(std::string_view name) {
  for (const auto& [a, n] : kActions) {
    if (n == name) return a;
  }
  return std::nullopt;
}

crypto::Digest256 AuditEntryHash(const AuditEntry& e) {
  std::vector<uint8_t> buf;
  buf.reserve(128 + e.subject.size() + e.actor.size() + e.details.size());
  AppendLengthPrefixed(buf, kEntryDomain);
  AppendLengthPrefixed(buf, std::string_view(e.account.str()));
  AppendLengthPrefixed(buf, e.seq);
  AppendLengthPrefixed(buf, e.at_ms);
  AppendLengthPrefixed(buf, std::string_view(e.action));
  AppendLengthPrefixed(buf, std::string_view(e.subject));
  AppendLengthPrefixed(buf, std::string_view(e.actor));
  AppendLengthPrefixed(buf, std::string_view(e.details));
  AppendLengthPrefixed(buf, std::span<const uint8_t>(e.prev_hash));
  return crypto::Sha256(buf);
}

std::vector<uint8_t> AuditCheckpointMessage(const AccountId& account, int64_t seq, std::span<const uint8_t> hash) {
  std::vector<uint8_t> buf;
  AppendLengthPrefixed(buf, kCheckpointDomain);
  AppendLengthPrefixed(buf, std::string_view(account.str()));
  AppendLengthPrefixed(buf, seq);
  AppendLengthPrefixed(buf, hash);
  return buf;
}

AuditLog::AuditLog(AuditSigner& signer, AuditLogOptions options) : signer_(signer), options_(options) {
  options_.checkpoint_every = std::max<int64_t>(1, options_.checkpoint_every);
}

StatusOr<AuditEntry> AuditLog::Append(store::Transaction& tx, const AuditRecord& record) const {
  RETURN_IF_ERROR(ValidateRecord(record));
  AuditEntry e;
  e.account = record.account;
  e.at_ms = record.at_ms;
  e.action = std::string(AuditActionName(record.action));
  e.subject = record.subject;
  e.actor = record.actor;
  e.details = json::serialize(record.details);
  if (e.details.size() > kMaxDetailsBytes) return InvalidArgumentError("audit record: details too large");

  ASSIGN_OR_RETURN(auto last, tx.QueryOptional("SELECT seq, hash FROM audit_log WHERE account_id = ? "
                                               "ORDER BY seq DESC LIMIT 1",
                                               {e.account.str()}));
  e.seq = 1;
  e.prev_hash = ZeroHash();
  if (last) {
    ASSIGN_OR_RETURN(int64_t last_seq, last->Int(0));
    ASSIGN_OR_RETURN(e.prev_hash, last->Bytes(1));
    if (e.prev_hash.size() != 32) return DataLossError("audit log: the last entry's hash is malformed");
    e.seq = last_seq + 1;
  }
  const crypto::Digest256 hash = AuditEntryHash(e);
  e.hash.assign(hash.begin(), hash.end());

  auto inserted =
      tx.Exec("INSERT INTO audit_log (" + std::string(kEntryColumns) + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
              {e.account.str(), e.seq, e.at_ms, e.action, e.subject, e.actor, e.details, e.prev_hash, e.hash});
  if (!inserted.ok()) {
    // Another transaction appended this seq first (possible on PostgreSQL): retry from the top.
    if (inserted.status().code() == StatusCode::kAlreadyExists) return AbortedError("audit log: concurrent append");
    return inserted.status().Annotate("audit log");
  }
  if (e.seq % options_.checkpoint_every == 0) {
    RETURN_IF_ERROR(SignCheckpoint(tx, e.account, e.seq, e.hash, e.at_ms));
  }
  return e;
}

StatusOr<std::optional<AuditCheckpoint>> AuditLog::Checkpoint(store::Transaction& tx, const AccountId& account,
                                                              int64_t at_ms) const {
  ASSIGN_OR_RETURN(auto last, tx.QueryOptional("SELECT seq, hash FROM audit_log WHERE account_id = ? "
                                               "ORDER BY seq DESC LIMIT 1",
                                               {account.str()}));
  if (!last) return std::optional<AuditCheckpoint>();
  ASSIGN_OR_RETURN(int64_t seq, last->Int(0));
  ASSIGN_OR_RETURN(store::Blob hash, last->Bytes(1));
  ASSIGN_OR_RETURN(auto existing, tx.QueryOptional("SELECT " + std::string(kCheckpointColumns) +
                                                       " FROM audit_checkpoints WHERE account_id = ? AND seq = ?",
                                                   {account.str(), seq}));
  if (existing) {
    ASSIGN_OR_RETURN(AuditCheckpoint cp, CheckpointFromRow(*existing));
    return std::optional<AuditCheckpoint>(std::move(cp));
  }
  ASSIGN_OR_RETURN(AuditCheckpoint cp, SignCheckpoint(tx, account, seq, hash, at_ms));
  return std::optional<AuditCheckpoint>(std::move(cp));
}

StatusOr<AuditCheckpoint> AuditLog::SignCheckpoint(store::Transaction& tx, const AccountId& account, int64_t seq,
                                                   const store::Blob& hash, int64_t at_ms) const {
  const std::vector<uint8_t> message = AuditCheckpointMessage(account, seq, hash);
  ASSIGN_OR_RETURN(crypto::Signature sig, signer_.Sign(message));
  const crypto::PublicKey key = signer_.public_key();
  // A checkpoint that would not verify is worse than none: refuse it, and the operation with it.
  if (!key.Verify(message, sig)) return InternalError("audit log: the signer's checkpoint signature does not verify");
  AuditCheckpoint cp;
  cp.account = account;
  cp.seq = seq;
  cp.hash = hash;
  cp.signature.assign(sig.begin(), sig.end());
  const auto compressed = key.Compressed();
  cp.public_key.assign(compressed.begin(), compressed.end());
  cp.at_ms = at_ms;
  auto inserted =
      tx.Exec("INSERT INTO audit_checkpoints (" + std::string(kCheckpointColumns) + ") VALUES (?, ?, ?, ?, ?, ?)",
              {cp.account.str(), cp.seq, cp.hash, cp.signature, cp.public_key, cp.at_ms});
  if (!inserted.ok()) {
    if (inserted.status().code() == StatusCode::kAlreadyExists) return AbortedError("audit log: concurrent checkpoint");
    return inserted.status().Annotate("audit checkpoint");
  }
  return cp;
}

StatusOr<std::vector<AuditEntry>> ListAuditEntries(store::Store& store, const AccountId& account, int64_t after_seq,
                                                   int64_t limit) {
  if (limit < 1 || limit > kMaxListLimit) {
    return InvalidArgumentError("limit must be 1.." + std::to_string(kMaxListLimit));
  }
  ASSIGN_OR_RETURN(auto rows, store.Query("SELECT " + std::string(kEntryColumns) +
                                              " FROM audit_log WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                                          {account.str(), after_seq, limit}));
  std::vector<AuditEntry> out;
  out.reserve(rows.size());
  for (const store::Row& row : rows) {
    ASSIGN_OR_RETURN(AuditEntry e, EntryFromRow(row));
    out.push_back(std::move(e));
  }
  return out;
}

StatusOr<std::vector<AuditCheckpoint>> ListAuditCheckpoints(store::Store& store, const AccountId& account) {
  ASSIGN_OR_RETURN(auto rows, store.Query("SELECT " + std::string(kCheckpointColumns) +
                                              " FROM audit_checkpoints WHERE account_id = ? ORDER BY seq",
                                          {account.str()}));
  std::vector<AuditCheckpoint> out;
  for (const store::Row& row : rows) {
    ASSIGN_OR_RETURN(AuditCheckpoint c, CheckpointFromRow(row));
    out.push_back(std::move(c));
  }
  return out;
}

StatusOr<std::vector<AccountId>> ListAuditAccounts(store::Store& store) {
  ASSIGN_OR_RETURN(auto rows, store.Query("SELECT account_id FROM audit_log UNION "
                                          "SELECT account_id FROM audit_checkpoints ORDER BY 1"));
  std::vector<AccountId> out;
  for (const store::Row& row : rows) {
    ASSIGN_OR_RETURN(std::string id, row.Text(0));
    out.emplace_back(std::move(id));
  }
  return out;
}

AuditVerification VerifyAuditEntries(const AccountId& account, std::span<const AuditEntry> entries,
                                     std::span<const AuditCheckpoint> checkpoints,
                                     std::span<const crypto::PublicKey> trusted_keys) {
  ChainVerifier verifier(account, checkpoints, trusted_keys);
  for (const AuditEntry& e : entries) {
    if (!verifier.Feed(e)) break;
  }
  return verifier.Finish();
}

StatusOr<AuditVerification> VerifyAuditLog(store::Store& store, const AccountId& account,
                                           std::span<const crypto::PublicKey> trusted_keys) {
  ASSIGN_OR_RETURN(auto tx, store.Begin(store::TxMode::kRead));
  ASSIGN_OR_RETURN(auto cp_rows, tx->Query("SELECT " + std::string(kCheckpointColumns) +
                                               " FROM audit_checkpoints WHERE account_id = ? ORDER BY seq",
                                           {account.str()}));
  std::vector<AuditCheckpoint> checkpoints;
  std::optional<int64_t> malformed_checkpoint;
  for (const store::Row& row : cp_rows) {
    auto cp = CheckpointFromRow(row);
    if (!cp.ok()) {
      auto seq = row.Int(1);
      malformed_checkpoint = seq.ok() ? *seq : 0;
      break;
    }
    checkpoints.push_back(*std::move(cp));
  }
  ChainVerifier verifier(account, checkpoints, trusted_keys);
  if (malformed_checkpoint) {
    verifier.Fail(*malformed_checkpoint, "checkpoint at seq " + SeqText(*malformed_checkpoint) + ": malformed row");
  }
  int64_t after = 0;
  while (!verifier.failed()) {
    ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT " + std::string(kEntryColumns) +
                                              " FROM audit_log WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                                          {account.str(), after, kVerifyPage}));
    for (const store::Row& row : rows) {
      auto e = EntryFromRow(row);
      if (!e.ok()) {
        // A column of the wrong type: someone wrote the row by hand.
        auto bad_seq = row.Int(1);
        const int64_t seq = bad_seq.ok() ? *bad_seq : after + 1;
        verifier.Fail(seq, "seq " + SeqText(seq) + ": malformed row (entry edited)");
        break;
      }
      after = e->seq;
      if (!verifier.Feed(*e)) break;
    }
    if (static_cast<int64_t>(rows.size()) < kVerifyPage) break;
  }
  RETURN_IF_ERROR(tx->Rollback());
  return verifier.Finish();
}

}  // namespace neosl::services::secrets
