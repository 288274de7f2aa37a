// The secrets audit log (issue #7): one append-only, hash-chained log per account, with
// checkpoints signed by the enclave's report key.
//
// Every create, rotate, delete, grant, revoke and every read by a function is appended with
// AuditLog::Append inside the caller's own write transaction, so the operation and its audit
// entry commit together or not at all: if the entry cannot be written, the operation fails.
//
// Entry hash (tables `audit_log` / `audit_checkpoints`, schema migration 2). Every field is
// length-prefixed: LP(x) = U32BE(len(x)) || x. Integers are first written as 8-byte big-endian
// two's complement, so LP(int) = 00000008 || I64BE(int). Strings are their UTF-8 bytes as stored;
// `details` is the stored JSON text byte for byte (never re-serialised).
//
//   hash = SHA-256( LP("neosl-audit-v1") || LP(account_id) || LP(I64BE(seq)) ||
//                   LP(I64BE(at_ms)) || LP(action) || LP(subject) || LP(actor) ||
//                   LP(details) || LP(prev_hash) )
//
// seq starts at 1 per account and has no gaps; prev_hash of seq 1 is 32 zero bytes, of seq n the
// hash of seq n-1.
//
// Checkpoint: every `checkpoint_every` entries of an account (and on demand) the signer signs
//
//   message = LP("neosl-audit-checkpoint-v1") || LP(account_id) || LP(I64BE(seq)) || LP(hash)
//
// with ECDSA P-256 over SHA-256(message) (Neo's 64-byte r || s form, as crypto::PublicKey::Verify
// checks). The row stores seq, the entry's hash, the signature and the 33-byte compressed key.
//
// What verification proves: an edited, removed or reordered entry breaks the chain; a log
// recomputed from some entry onwards, or truncated, contradicts any later signed checkpoint.
// Entries after the last checkpoint are protected by the chain only (they can be truncated
// unnoticed), and checkpoints prove origin only when the verifier pins the report key.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "core/ids.h"
#include "core/status.h"
#include "crypto/hash.h"
#include "crypto/p256.h"
#include "store/store.h"

namespace neosl::services::secrets {

// The audited operations. The stored text is the lowercase name.
enum class AuditAction { kCreate, kRotate, kDelete, kGrant, kRevoke, kRead };

std::string_view AuditActionName(AuditAction action);  // "create", "rotate", …
std::optional<AuditAction> ParseAuditAction(std::string_view name);

// What the caller records. `details` is serialised with boost::json::serialize and stored as
// text; keep secret values out of it.
struct AuditRecord {
  AccountId account;
  int64_t at_ms = 0;  // Unix milliseconds, from the caller's Clock
  AuditAction action = AuditAction::kRead;
  std::string subject;  // what was acted on, e.g. the secret name
  std::string actor;    // who acted: API key id, function id, …
  boost::json::object details;
};

// A stored entry, as read back (fields are raw: verification decides whether they are sound).
struct AuditEntry {
  AccountId account;
  int64_t seq = 0;
  int64_t at_ms = 0;
  std::string action;
  std::string subject;
  std::string actor;
  std::string details;  // JSON text exactly as stored
  store::Blob prev_hash;
  store::Blob hash;
};

struct AuditCheckpoint {
  AccountId account;
  int64_t seq = 0;
  store::Blob hash;        // the hash of entry `seq`
  store::Blob signature;   // 64 bytes r || s
  store::Blob public_key;  // 33-byte compressed P-256 key
  int64_t at_ms = 0;
};

// The canonical encodings above, for tests and other tools.
crypto::Digest256 AuditEntryHash(const AuditEntry& entry);
std::vector<uint8_t> AuditCheckpointMessage(const AccountId& account, int64_t seq, std::span<const uint8_t> hash);

// Signs checkpoints. Production: the enclave's report key; tests: a crypto::PrivateKey.
class AuditSigner {
 public:
  virtual ~AuditSigner() = default;
  // ECDSA P-256 over SHA-256(message), 64-byte r || s.
  virtual StatusOr<crypto::Signature> Sign(std::span<const uint8_t> message) = 0;
  virtual crypto::PublicKey public_key() = 0;
};

struct AuditLogOptions {
  int64_t checkpoint_every = 64;  // an automatic checkpoint at every seq divisible by this (>= 1)
};

class AuditLog {
 public:
  // `signer` must outlive the AuditLog. Thread-safe if the signer is.
  explicit AuditLog(AuditSigner& signer, AuditLogOptions options = {});

  // Appends `record` inside `tx` (a kWrite transaction the caller commits with its operation),
  // and signs a checkpoint when the new seq is a multiple of checkpoint_every. Errors:
  // INVALID_ARGUMENT for a bad record; ABORTED when another writer appended the same seq first
  // (RunInTransaction retries); DATA_LOSS when the last stored entry is malformed; signer and
  // store errors as they come. On any error the caller must not commit.
  StatusOr<AuditEntry> Append(store::Transaction& tx, const AuditRecord& record) const;

  // Signs a checkpoint at the account's latest entry now. nullopt when the account has no
  // entries; the existing checkpoint when that entry is already checkpointed.
  StatusOr<std::optional<AuditCheckpoint>> Checkpoint(store::Transaction& tx, const AccountId& account,
                                                      int64_t at_ms) const;

 private:
  StatusOr<AuditCheckpoint> SignCheckpoint(store::Transaction& tx, const AccountId& account, int64_t seq,
                                           const store::Blob& hash, int64_t at_ms) const;

  AuditSigner& signer_;
  AuditLogOptions options_;
};

// Entries with seq > after_seq in seq order, at most `limit` (1..1000).
StatusOr<std::vector<AuditEntry>> ListAuditEntries(store::Store& store, const AccountId& account, int64_t after_seq,
                                                   int64_t limit);
StatusOr<std::vector<AuditCheckpoint>> ListAuditCheckpoints(store::Store& store, const AccountId& account);
// Every account that has audit entries or checkpoints, sorted.
StatusOr<std::vector<AccountId>> ListAuditAccounts(store::Store& store);

struct AuditVerification {
  bool ok = false;
  int64_t entries_checked = 0;
  int64_t last_verified_seq = 0;    // the highest seq whose entry and chain link verified
  int64_t last_checkpoint_seq = 0;  // the highest checkpoint that verified (0: none)
  std::optional<int64_t> first_bad_seq;
  std::string reason;  // empty when ok, e.g. "hash mismatch at seq 7 (entry edited)"
};

// Verifies one account's chain and checkpoints. `entries` in stored (seq) order; checkpoints in
// any order. `trusted_keys` empty: any validly signed checkpoint counts; otherwise every
// checkpoint must be signed by one of them.
AuditVerification VerifyAuditEntries(const AccountId& account, std::span<const AuditEntry> entries,
                                     std::span<const AuditCheckpoint> checkpoints,
                                     std::span<const crypto::PublicKey> trusted_keys = {});
// The same over the store, in one read transaction (a consistent snapshot), paging through the
// entries so memory stays bounded. Errors are store errors only; a broken log is !ok.
StatusOr<AuditVerification> VerifyAuditLog(store::Store& store, const AccountId& account,
                                           std::span<const crypto::PublicKey> trusted_keys = {});

// JSON for the REST layer and for export:
// {"account","entries":[{"seq","at","at_ms","action","subject","actor","details","prev_hash",
//  "hash"}],"checkpoints":[{"seq","at","at_ms","hash","signature","public_key"}],
//  "verification":{"ok","entries_checked","last_verified_seq","last_checkpoint_seq",
//  "first_bad_seq","reason"}}
// Hashes, signatures and keys are lowercase hex. "details" is the stored JSON object; when the
// stored text is not exactly the serialisation of an object (only a tampered row), it is a JSON
// string holding the text, so an export always re-verifies exactly like the store.
boost::json::object AuditEntryToJson(const AuditEntry& entry);
boost::json::object AuditCheckpointToJson(const AuditCheckpoint& checkpoint);
boost::json::object AuditVerificationToJson(const AuditVerification& verification);
boost::json::object AuditExportToJson(const AccountId& account, std::span<const AuditEntry> entries,
                                      std::span<const AuditCheckpoint> checkpoints,
                                      const AuditVerification& verification);

struct AuditExport {
  AccountId account;
  std::vector<AuditEntry> entries;
  std::vector<AuditCheckpoint> checkpoints;
};
// Parses AuditExportToJson's form (its "verification" is ignored: re-verify). INVALID_ARGUMENT
// names the first bad field.
StatusOr<AuditExport> AuditExportFromJson(const boost::json::value& json);

}  // namespace neosl::services::secrets
