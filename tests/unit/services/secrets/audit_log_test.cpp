#include "services/secrets/audit_log.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/random.h"
#include "schema/migrations.h"
#include "store/sqlite_store.h"
#include "support/temp_dir.h"

namespace neosl::services::secrets {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

// The report key's stand-in: a real P-256 key.
class KeySigner final : public AuditSigner {
 public:
  explicit KeySigner(uint64_t seed) : random_(seed), key_(crypto::PrivateKey::Generate(random_)) {}
  StatusOr<crypto::Signature> Sign(std::span<const uint8_t> message) override { return key_.Sign(message); }
  crypto::PublicKey public_key() override { return key_.public_key(); }

 private:
  DeterministicRandom random_;
  crypto::PrivateKey key_;
};

class FailingSigner final : public AuditSigner {
 public:
  StatusOr<crypto::Signature> Sign(std::span<const uint8_t>) override { return UnavailableError("enclave down"); }
  crypto::PublicKey public_key() override { return inner_.public_key(); }

 private:
  KeySigner inner_{9};
};

// An independent encoder of the documented layout, so the header's description is checked too.
std::vector<uint8_t> Lp(std::span<const uint8_t> b) {
  std::vector<uint8_t> out;
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(uint8_t(b.size() >> shift));
  for (uint8_t c : b) out.push_back(c);
  return out;
}
std::vector<uint8_t> Lp(const std::string& s) {
  return Lp(crypto::AsBytes(s));
}
std::vector<uint8_t> Lp(int64_t v) {
  std::vector<uint8_t> be;
  for (int i = 7; i >= 0; --i) be.push_back(uint8_t(uint64_t(v) >> (8 * i)));
  return Lp(be);
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::SqliteOptions options;
    options.path = dir_.File("neosl.db");
    auto opened = store::OpenSqliteStore(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(*opened);
    ASSERT_TRUE(store_->Migrate(schema::Migrations()).ok());
  }

  AuditRecord Record(const AccountId& account, AuditAction action = AuditAction::kRead,
                     const std::string& subject = "db-password") {
    AuditRecord r;
    r.account = account;
    r.at_ms = 1'700'000'000'000 + (now_++);
    r.action = action;
    r.subject = subject;
    r.actor = "fn_counter";
    r.details = json::object{{"version", 1}, {"note", "é \"quoted\""}};
    return r;
  }

  StatusOr<AuditEntry> Append(const AuditLog& log, const AuditRecord& r) {
    StatusOr<AuditEntry> out = InternalError("not run");
    Status s = store::RunInTransaction(*store_, store::TxMode::kWrite, [&](store::Transaction& tx) {
      out = log.Append(tx, r);
      return out.status();
    });
    if (!s.ok()) return s;
    return out;
  }

  void AppendN(const AuditLog& log, const AccountId& account, int n) {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(Append(log, Record(account)).ok());
  }

  void Sql(const std::string& sql, const store::Params& params = {}) {
    Status s = store::RunInTransaction(*store_, store::TxMode::kWrite,
                                       [&](store::Transaction& tx) { return tx.Exec(sql, params).status(); });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  AuditVerification Verify(const AccountId& account, std::span<const crypto::PublicKey> trusted = {}) {
    auto v = VerifyAuditLog(*store_, account, trusted);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : AuditVerification{};
  }

  std::vector<AuditEntry> All(const AccountId& account) {
    auto e = ListAuditEntries(*store_, account, 0, 1000);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? *e : std::vector<AuditEntry>{};
  }

  ::neosl::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  KeySigner signer_{1};
  int64_t now_ = 0;
  const AccountId alice_{"acc_alice"};
  const AccountId bob_{"acc_bob"};
};

TEST_F(AuditLogTest, ChainsAreIndependentPerAccount) {
  AuditLog log(signer_);
  ASSERT_TRUE(Append(log, Record(alice_, AuditAction::kCreate)).ok());
  ASSERT_TRUE(Append(log, Record(bob_, AuditAction::kCreate)).ok());
  ASSERT_TRUE(Append(log, Record(alice_, AuditAction::kRotate)).ok());
  ASSERT_TRUE(Append(log, Record(alice_, AuditAction::kGrant)).ok());
  ASSERT_TRUE(Append(log, Record(bob_, AuditAction::kDelete)).ok());

  auto a = All(alice_);
  auto b = All(bob_);
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(a[0].prev_hash, store::Blob(32, 0));
  EXPECT_EQ(b[0].prev_hash, store::Blob(32, 0));
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].seq, int64_t(i + 1));
    if (i > 0) {
      EXPECT_EQ(a[i].prev_hash, a[i - 1].hash);
    }
  }
  EXPECT_EQ(a[1].action, "rotate");
  EXPECT_EQ(b[1].action, "delete");
  EXPECT_EQ(b[1].seq, 2);

  auto accounts = ListAuditAccounts(*store_);
  ASSERT_TRUE(accounts.ok());
  EXPECT_EQ(*accounts, (std::vector<AccountId>{alice_, bob_}));

  AuditVerification va = Verify(alice_);
  EXPECT_TRUE(va.ok) << va.reason;
  EXPECT_EQ(va.entries_checked, 3);
  EXPECT_EQ(va.last_verified_seq, 3);
  EXPECT_EQ(va.last_checkpoint_seq, 0);
  EXPECT_TRUE(Verify(bob_).ok);

  auto page = ListAuditEntries(*store_, alice_, 1, 1);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].seq, 2);
  EXPECT_EQ(ListAuditEntries(*store_, alice_, 0, 0).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(AuditLogTest, HashFollowsTheDocumentedEncoding) {
  AuditLog log(signer_);
  auto e = Append(log, Record(alice_, AuditAction::kCreate));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->details, R"({"version":1,"note":"é \"quoted\""})");
  std::vector<uint8_t> buf;
  for (const auto& part : {Lp(std::string("neosl-audit-v1")), Lp(e->account.str()), Lp(e->seq), Lp(e->at_ms),
                           Lp(e->action), Lp(e->subject), Lp(e->actor), Lp(e->details), Lp(e->prev_hash)}) {
    buf.insert(buf.end(), part.begin(), part.end());
  }
  crypto::Digest256 expected = crypto::Sha256(buf);
  EXPECT_EQ(e->hash, store::Blob(expected.begin(), expected.end()));

  std::vector<uint8_t> msg;
  for (const auto& part :
       {Lp(std::string("neosl-audit-checkpoint-v1")), Lp(alice_.str()), Lp(int64_t{5}), Lp(e->hash)}) {
    msg.insert(msg.end(), part.begin(), part.end());
  }
  EXPECT_EQ(AuditCheckpointMessage(alice_, 5, e->hash), msg);
}

TEST_F(AuditLogTest, RejectsBadRecords) {
  AuditLog log(signer_);
  AuditRecord r = Record(alice_);
  r.actor.clear();
  EXPECT_EQ(Append(log, r).status().code(), StatusCode::kInvalidArgument);
  r = Record(alice_);
  r.action = static_cast<AuditAction>(42);
  EXPECT_EQ(Append(log, r).status().code(), StatusCode::kInvalidArgument);
  r = Record(AccountId());
  EXPECT_EQ(Append(log, r).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(All(alice_).empty());
  EXPECT_EQ(ParseAuditAction("revoke"), AuditAction::kRevoke);
  EXPECT_FALSE(ParseAuditAction("REVOKE"));
}

TEST_F(AuditLogTest, AppendInARolledBackTransactionLeavesNothing) {
  AuditLog log(signer_, {.checkpoint_every = 1});
  {
    auto tx = store_->Begin(store::TxMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(log.Append(**tx, Record(alice_)).ok());
    ASSERT_TRUE((*tx)->Rollback().ok());
  }
  // The operation fails after its audit entry: neither commits.
  Status s = store::RunInTransaction(*store_, store::TxMode::kWrite, [&](store::Transaction& tx) {
    RETURN_IF_ERROR(log.Append(tx, Record(alice_)));
    return FailedPreconditionError("the secret changed underneath");
  });
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(All(alice_).empty());
  EXPECT_TRUE(ListAuditCheckpoints(*store_, alice_)->empty());
}

TEST_F(AuditLogTest, AnAuditEntryThatCannotBeSignedFailsTheOperation) {
  FailingSigner failing;
  AuditLog log(failing, {.checkpoint_every = 2});
  ASSERT_TRUE(Append(log, Record(alice_)).ok());
  EXPECT_EQ(Append(log, Record(alice_)).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(All(alice_).size(), 1u);
}

TEST_F(AuditLogTest, ConcurrentAppendsAreGapless) {
  AuditLog log(signer_, {.checkpoint_every = 16});
  constexpr int kThreads = 8;
  constexpr int kEach = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        AuditRecord r;
        r.account = alice_;
        r.at_ms = 1'700'000'000'000 + i;
        r.action = AuditAction::kRead;
        r.subject = "s" + std::to_string(t);
        r.actor = "fn_" + std::to_string(t);
        Status s = store::RunInTransaction(*store_, store::TxMode::kWrite,
                                           [&](store::Transaction& tx) { return log.Append(tx, r).status(); });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto entries = All(alice_);
  ASSERT_EQ(entries.size(), size_t(kThreads * kEach));
  for (size_t i = 0; i < entries.size(); ++i) EXPECT_EQ(entries[i].seq, int64_t(i + 1));
  AuditVerification v = Verify(alice_);
  EXPECT_TRUE(v.ok) << v.reason;
  EXPECT_EQ(v.entries_checked, kThreads * kEach);
  EXPECT_EQ(v.last_checkpoint_seq, 192);
  EXPECT_EQ(ListAuditCheckpoints(*store_, alice_)->size(), 12u);
}

struct Tamper {
  const char* name;
  const char* sql;
  int64_t bad_seq;
  const char* reason;
};

class AuditTamperTest : public AuditLogTest, public ::testing::WithParamInterface<Tamper> {};

TEST_P(AuditTamperTest, IsDetectedAtTheRightSeq) {
  AuditLog log(signer_, {.checkpoint_every = 4});
  AppendN(log, alice_, 10);
  AppendN(log, bob_, 10);
  ASSERT_TRUE(Verify(alice_).ok);
  // Statements are separated by ';' and all aimed at alice.
  const std::string sql = GetParam().sql;
  for (size_t start = 0; start < sql.size();) {
    size_t end = std::min(sql.find(';', start), sql.size());
    Sql(sql.substr(start, end - start));
    start = end + 1;
  }
  AuditVerification v = Verify(alice_);
  EXPECT_FALSE(v.ok);
  ASSERT_TRUE(v.first_bad_seq.has_value()) << v.reason;
  EXPECT_EQ(*v.first_bad_seq, GetParam().bad_seq) << v.reason;
  EXPECT_THAT(v.reason, HasSubstr(GetParam().reason));
  EXPECT_LT(v.last_verified_seq, GetParam().bad_seq + 1);
  EXPECT_TRUE(Verify(bob_).ok);  // the other account's chain is untouched
}

INSTANTIATE_TEST_SUITE_P(
    Sql, AuditTamperTest,
    ::testing::Values(
        Tamper{"details", "UPDATE audit_log SET details = '{}' WHERE account_id = 'acc_alice' AND seq = 7", 7,
               "hash mismatch at seq 7 (entry edited)"},
        Tamper{"action", "UPDATE audit_log SET action = 'create' WHERE account_id = 'acc_alice' AND seq = 3", 3,
               "hash mismatch at seq 3"},
        Tamper{"at_ms", "UPDATE audit_log SET at_ms = at_ms + 1 WHERE account_id = 'acc_alice' AND seq = 9", 9,
               "hash mismatch at seq 9"},
        Tamper{"hash_type", "UPDATE audit_log SET hash = 'x' WHERE account_id = 'acc_alice' AND seq = 2", 2, "seq 2"},
        Tamper{"middle_deleted", "DELETE FROM audit_log WHERE account_id = 'acc_alice' AND seq = 5", 5,
               "gap: seq 5 missing (entry removed)"},
        Tamper{"first_deleted", "DELETE FROM audit_log WHERE account_id = 'acc_alice' AND seq = 1", 1,
               "gap: seq 1 missing"},
        Tamper{"tail_deleted_past_checkpoint", "DELETE FROM audit_log WHERE account_id = 'acc_alice' AND seq >= 7", 8,
               "checkpoint at seq 8: entry missing"},
        Tamper{"renumbered",
               "DELETE FROM audit_log WHERE account_id = 'acc_alice' AND seq = 5;"
               "UPDATE audit_log SET seq = seq - 1 WHERE account_id = 'acc_alice' AND seq > 5",
               5, "seq 5 links to a different previous hash"},
        Tamper{"swapped",
               "UPDATE audit_log SET seq = 1000 WHERE account_id = 'acc_alice' AND seq = 3;"
               "UPDATE audit_log SET seq = 3 WHERE account_id = 'acc_alice' AND seq = 4;"
               "UPDATE audit_log SET seq = 4 WHERE account_id = 'acc_alice' AND seq = 1000",
               3, "seq 3 links to a different previous hash (reordered or removed)"},
        Tamper{"forged_signature",
               "UPDATE audit_checkpoints SET signature = zeroblob(64) WHERE account_id = 'acc_alice' AND seq = 4", 4,
               "checkpoint at seq 4: bad signature"},
        Tamper{"bad_key",
               "UPDATE audit_checkpoints SET public_key = zeroblob(33) WHERE account_id = 'acc_alice' AND seq = 8", 8,
               "checkpoint at seq 8: invalid public key"},
        Tamper{"checkpoint_moved", "UPDATE audit_checkpoints SET seq = 9 WHERE account_id = 'acc_alice' AND seq = 8", 9,
               "checkpoint at seq 9: bad signature"}),
    [](const ::testing::TestParamInfo<Tamper>& p) { return std::string(p.param.name); });

TEST_F(AuditLogTest, TruncationAfterTheLastCheckpointIsNotDetectable) {
  // The documented limit: entries after the last checkpoint are protected by the chain only.
  AuditLog log(signer_, {.checkpoint_every = 4});
  AppendN(log, alice_, 10);
  Sql("DELETE FROM audit_log WHERE account_id = 'acc_alice' AND seq >= 9");
  AuditVerification v = Verify(alice_);
  EXPECT_TRUE(v.ok) << v.reason;
  EXPECT_EQ(v.last_checkpoint_seq, 8);
}

TEST_F(AuditLogTest, ARecomputedChainContradictsTheSignedCheckpoint) {
  AuditLog log(signer_, {.checkpoint_every = 4});
  AppendN(log, alice_, 6);
  // The attacker edits entry 2 and recomputes every hash after it, without the report key.
  auto entries = All(alice_);
  entries[1].details = R"({"version":99})";
  for (size_t i = 1; i < entries.size(); ++i) {
    entries[i].prev_hash = entries[i - 1].hash;
    auto h = AuditEntryHash(entries[i]);
    entries[i].hash.assign(h.begin(), h.end());
    Sql("UPDATE audit_log SET details = ?, prev_hash = ?, hash = ? WHERE account_id = ? AND seq = ?",
        {entries[i].details, entries[i].prev_hash, entries[i].hash, alice_.str(), entries[i].seq});
  }
  AuditVerification v = Verify(alice_);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 4);
  EXPECT_THAT(v.reason, HasSubstr("checkpoint at seq 4: hash does not match the entry"));

  // Re-signing with their own key passes a verifier that pins nothing, but not one that pins
  // the report key.
  KeySigner attacker(666);
  auto msg = AuditCheckpointMessage(alice_, 4, entries[3].hash);
  auto sig = attacker.Sign(msg);
  ASSERT_TRUE(sig.ok());
  auto pub = attacker.public_key().Compressed();
  Sql("UPDATE audit_checkpoints SET hash = ?, signature = ?, public_key = ? WHERE account_id = ? AND seq = 4",
      {entries[3].hash, store::Blob(sig->begin(), sig->end()), store::Blob(pub.begin(), pub.end()), alice_.str()});
  EXPECT_TRUE(Verify(alice_).ok);
  std::vector<crypto::PublicKey> trusted{signer_.public_key()};
  v = Verify(alice_, trusted);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 4);
  EXPECT_THAT(v.reason, HasSubstr("checkpoint at seq 4: checkpoint key is not the trusted report key"));
}

TEST_F(AuditLogTest, TrustedKeyMustHaveSignedEveryCheckpoint) {
  AuditLog log(signer_, {.checkpoint_every = 3});
  AppendN(log, alice_, 7);
  std::vector<crypto::PublicKey> good{signer_.public_key()};
  AuditVerification v = Verify(alice_, good);
  EXPECT_TRUE(v.ok) << v.reason;
  EXPECT_EQ(v.last_checkpoint_seq, 6);

  KeySigner other(2);
  std::vector<crypto::PublicKey> wrong{other.public_key()};
  v = Verify(alice_, wrong);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 3);
  EXPECT_THAT(v.reason, HasSubstr("not the trusted report key"));
  std::vector<crypto::PublicKey> either{other.public_key(), signer_.public_key()};
  EXPECT_TRUE(Verify(alice_, either).ok);
}

TEST_F(AuditLogTest, CheckpointOnDemand) {
  AuditLog log(signer_);
  auto none = store::RunInTransaction(*store_, store::TxMode::kWrite, [&](store::Transaction& tx) {
    auto cp = log.Checkpoint(tx, alice_, 1);
    if (cp.ok() && cp->has_value()) return InternalError("checkpoint of an empty log");
    return cp.status();
  });
  EXPECT_TRUE(none.ok()) << none.ToString();
  AppendN(log, alice_, 3);
  for (int round = 0; round < 2; ++round) {  // the second call returns the same checkpoint
    Status s = store::RunInTransaction(*store_, store::TxMode::kWrite, [&](store::Transaction& tx) {
      ASSIGN_OR_RETURN(auto cp, log.Checkpoint(tx, alice_, 5));
      if (!cp || cp->seq != 3) return InternalError("expected a checkpoint at seq 3");
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  EXPECT_EQ(ListAuditCheckpoints(*store_, alice_)->size(), 1u);
  AuditVerification v = Verify(alice_);
  EXPECT_TRUE(v.ok) << v.reason;
  EXPECT_EQ(v.last_checkpoint_seq, 3);
}

TEST_F(AuditLogTest, JsonExportReverifiesLikeTheStore) {
  AuditLog log(signer_, {.checkpoint_every = 4});
  AppendN(log, alice_, 9);
  auto round_trip = [&]() {
    auto entries = All(alice_);
    auto checkpoints = ListAuditCheckpoints(*store_, alice_);
    EXPECT_TRUE(checkpoints.ok());
    AuditVerification direct = Verify(alice_);
    json::object exported = AuditExportToJson(alice_, entries, *checkpoints, direct);
    EXPECT_EQ(exported.at("verification"), json::value(AuditVerificationToJson(direct)));
    auto parsed = AuditExportFromJson(json::parse(json::serialize(exported)));
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    if (!parsed.ok()) return;
    EXPECT_EQ(parsed->account, alice_);
    AuditVerification again = VerifyAuditEntries(parsed->account, parsed->entries, parsed->checkpoints);
    EXPECT_EQ(json::value(AuditVerificationToJson(again)), json::value(AuditVerificationToJson(direct)));
  };
  round_trip();
  auto entries = All(alice_);
  json::object first = AuditEntryToJson(entries[0]);
  EXPECT_EQ(first.at("details").at("version").as_int64(), 1);
  EXPECT_EQ(first.at("action").as_string(), "read");
  EXPECT_EQ(first.at("at").as_string(), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(first.at("prev_hash").as_string(), std::string(64, '0'));

  // A hand-edited row whose text is not our serialisation still exports byte for byte.
  Sql("UPDATE audit_log SET details = '{\"version\": 1}' WHERE account_id = 'acc_alice' AND seq = 6");
  round_trip();
  EXPECT_TRUE(AuditEntryToJson(All(alice_)[5]).at("details").is_string());
  EXPECT_EQ(Verify(alice_).first_bad_seq, 6);

  // Edits made to the export itself are caught as well.
  json::object doc = AuditExportToJson(alice_, All(alice_), *ListAuditCheckpoints(*store_, alice_), {});
  doc["entries"].as_array().erase(doc["entries"].as_array().begin() + 1);
  auto parsed = AuditExportFromJson(doc);
  ASSERT_TRUE(parsed.ok());
  AuditVerification v = VerifyAuditEntries(parsed->account, parsed->entries, parsed->checkpoints);
  EXPECT_EQ(v.first_bad_seq, 2);
  EXPECT_THAT(v.reason, HasSubstr("gap: seq 2 missing"));

  EXPECT_EQ(AuditExportFromJson(json::parse(R"({"account":"a","entries":[{}],"checkpoints":[]})")).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace neosl::services::secrets
