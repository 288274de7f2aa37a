// Cross-check against an independent Neo N3 implementation: @cityofzion/neon-core 5.10.1 from
// npm, whose own test suite ties it to Neo. For a few hundred seeded random transactions —
// every signer scope, every witness-condition type nested, and the attribute kinds neon-core
// implements (HighPriority, OracleResponse) — both sides must produce identical bytes, hashes,
// addresses and signing data, and signatures made by either side must verify on the other.
// (neon-core 5.10.1 has no NotValidBefore, Conflicts or NotaryAssisted attributes; those are
// checked against Neo's and neo-go's own vectors in tests/unit/neo. Its deserialiser also drops
// attributes, so neon rebuilds them from our JSON form and serialises them: see neon_check.js.)
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/random.h"
#include "crosscheck/neon_install.h"
#include "crypto/p256.h"
#include "neo/account.h"
#include "neo/payload_json.h"
#include "neo/transaction.h"
#include "support/temp_dir.h"

namespace neosl::neo {
namespace {

namespace json = boost::json;
constexpr int kCases = 300;
using testing::EnsureNeonCore;
using testing::kNeonVersion;

UInt160 RandomHash160(RandomSource& r) {
  std::array<uint8_t, 20> b;
  r.Fill(b);
  return UInt160(b);
}

WitnessCondition RandomCondition(RandomSource& r, int depth, const std::vector<crypto::PublicKey>& groups) {
  uint64_t pick = r.NextU64() % (depth > 1 ? 9 : 6);
  switch (pick) {
    case 0: return WitnessCondition::Boolean(r.NextU64() % 2 == 0);
    case 1: return WitnessCondition::ScriptHash(RandomHash160(r));
    case 2: return WitnessCondition::Group(groups[r.NextU64() % groups.size()]);
    case 3: return WitnessCondition::CalledByEntry();
    case 4: return WitnessCondition::CalledByContract(RandomHash160(r));
    case 5: return WitnessCondition::CalledByGroup(groups[r.NextU64() % groups.size()]);
    case 6: return WitnessCondition::Not(RandomCondition(r, depth - 1, groups));
    default: {
      std::vector<WitnessCondition> parts;
      for (uint64_t i = 0, n = 1 + r.NextU64() % 3; i < n; ++i) parts.push_back(RandomCondition(r, depth - 1, groups));
      return pick == 7 ? WitnessCondition::And(std::move(parts)) : WitnessCondition::Or(std::move(parts));
    }
  }
}

Signer RandomSigner(RandomSource& r, const UInt160& account, const std::vector<crypto::PublicKey>& groups) {
  Signer s;
  s.account = account;
  static const WitnessScope kScopes[] = {
      WitnessScope::None,
      WitnessScope::CalledByEntry,
      WitnessScope::Global,
      WitnessScope::CustomContracts,
      WitnessScope::CustomGroups,
      WitnessScope::WitnessRules,
      WitnessScope::CalledByEntry | WitnessScope::CustomContracts,
      WitnessScope::CalledByEntry | WitnessScope::CustomContracts | WitnessScope::CustomGroups |
          WitnessScope::WitnessRules,
  };
  s.scopes = kScopes[r.NextU64() % std::size(kScopes)];
  if (HasScope(s.scopes, WitnessScope::CustomContracts)) {
    for (uint64_t i = 0, n = 1 + r.NextU64() % 3; i < n; ++i) s.allowed_contracts.push_back(RandomHash160(r));
  }
  if (HasScope(s.scopes, WitnessScope::CustomGroups)) {
    s.allowed_groups.push_back(groups[r.NextU64() % groups.size()]);
  }
  if (HasScope(s.scopes, WitnessScope::WitnessRules)) {
    for (uint64_t i = 0, n = 1 + r.NextU64() % 3; i < n; ++i) {
      s.rules.push_back(WitnessRule{r.NextU64() % 2 ? WitnessRuleAction::Allow : WitnessRuleAction::Deny,
                                    RandomCondition(r, 2, groups)});
    }
  }
  return s;
}

struct Case {
  std::optional<Transaction> tx;  // Transaction has no empty state
  uint32_t magic;
  std::vector<crypto::PrivateKey> keys;
  std::vector<crypto::Signature> sigs;
};

Case MakeCase(RandomSource& r, const std::vector<crypto::PublicKey>& groups) {
  Case c{std::nullopt, 0, {}, {}};
  static const uint32_t kMagics[] = {860833102u, 894710606u};
  c.magic = r.NextU64() % 3 == 2 ? static_cast<uint32_t>(r.NextU64()) : kMagics[r.NextU64() % 2];
  TransactionBuilder b;
  b.SetNonce(static_cast<uint32_t>(r.NextU64()))
      .SetSystemFee(static_cast<int64_t>(r.NextU64() % 100'000'000'000))
      .SetNetworkFee(static_cast<int64_t>(r.NextU64() % 1'000'000'000))
      .SetValidUntilBlock(static_cast<uint32_t>(r.NextU64()));
  std::vector<uint8_t> script(1 + r.NextU64() % 300);
  r.Fill(script);
  b.SetScript(script);
  for (uint64_t i = 0, n = 1 + r.NextU64() % 3; i < n; ++i) {
    c.keys.push_back(crypto::PrivateKey::Generate(r));
    b.AddSigner(RandomSigner(r, ScriptHash(SingleSigScript(c.keys.back().public_key())), groups));
  }
  if (r.NextU64() % 2) b.AddAttribute(HighPriorityAttribute{});
  if (r.NextU64() % 2) {
    OracleResponseAttribute o;
    o.id = r.NextU64() % (1ULL << 53);  // neon carries the id in a JavaScript number
    if (r.NextU64() % 2) {
      o.result.resize(r.NextU64() % 200);
      r.Fill(o.result);
    } else {
      o.code = OracleResponseCode::NotFound;
    }
    b.AddAttribute(o);
  }
  auto unsigned_tx = b.Build();
  EXPECT_TRUE(unsigned_tx.ok()) << unsigned_tx.status().ToString();
  std::vector<uint8_t> data = SigningData(*unsigned_tx, c.magic);
  std::vector<Witness> witnesses;
  for (const auto& k : c.keys) {
    c.sigs.push_back(k.Sign(data));
    Witness w;
    w.invocation = {0x0C, 0x40};
    w.invocation.insert(w.invocation.end(), c.sigs.back().begin(), c.sigs.back().end());
    w.verification = SingleSigScript(k.public_key());
    witnesses.push_back(std::move(w));
  }
  c.tx = unsigned_tx->WithWitnesses(std::move(witnesses));
  return c;
}

std::string Strip0x(const std::string& s) {
  return s.rfind("0x", 0) == 0 ? s.substr(2) : s;
}

TEST(NeonCrossCheckTest, BytesHashesAddressesAndSignaturesAgree) {
  std::string modules = EnsureNeonCore();
  ASSERT_FALSE(modules.empty()) << "npm could not install @cityofzion/neon-core@" << kNeonVersion << "; see "
                                << NEOSL_NPM_PREFIX << "/npm.log";
  DeterministicRandom r(20261121);
  std::vector<crypto::PublicKey> groups;
  for (int i = 0; i < 4; ++i) groups.push_back(crypto::PrivateKey::Generate(r).public_key());

  testing::TempDir dir;
  std::vector<Case> cases;
  {
    std::ofstream out(dir.File("cases.jsonl"));
    for (int i = 0; i < kCases; ++i) {
      cases.push_back(MakeCase(r, groups));
      const Case& c = cases.back();
      ASSERT_TRUE(c.tx->CheckWitnesses().ok()) << i;
      json::array keys, sigs;
      for (size_t k = 0; k < c.keys.size(); ++k) {
        keys.push_back(json::object{{"priv", HexEncode(c.keys[k].bytes().bytes())},
                                    {"pub", HexEncode(c.keys[k].public_key().Compressed())}});
        sigs.emplace_back(HexEncode(c.sigs[k]));
      }
      json::value tx_json = TransactionToJson(*c.tx);
      out << json::serialize(json::object{{"raw", HexEncode(c.tx->Encode())},
                                          {"attributes", tx_json.at("attributes")},
                                          {"magic", c.magic},
                                          {"keys", std::move(keys)},
                                          {"sigs", std::move(sigs)}})
          << "\n";
    }
  }
  std::string cmd = "node '" NEOSL_CROSSCHECK_DIR "/neon_check.js' '" + modules + "' '" + dir.File("cases.jsonl") +
                    "' '" + dir.File("results.jsonl") + "' > '" + dir.File("node.log") + "' 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << testing::ReadFile(dir.File("node.log"));

  std::ifstream in(dir.File("results.jsonl"));
  std::string line;
  int checked = 0, signatures = 0;
  for (const Case& c : cases) {
    ASSERT_TRUE(std::getline(in, line)) << "neon returned fewer results than cases";
    json::value v = json::parse(line);
    const auto& o = v.as_object();
    SCOPED_TRACE("case " + std::to_string(checked) + " tx " + c.tx->hash().ToString());
    EXPECT_EQ(std::string(o.at("reserialized").as_string()), HexEncode(c.tx->Encode()));
    EXPECT_EQ(std::string(o.at("hash").as_string()), Strip0x(c.tx->hash().ToString()));
    EXPECT_EQ(std::string(o.at("sender").as_string()), ToAddress(c.tx->signers()[0].account));
    std::vector<uint8_t> data = SigningData(*c.tx, c.magic);
    EXPECT_EQ(std::string(o.at("message").as_string()), HexEncode(data));
    for (size_t k = 0; k < c.keys.size(); ++k) {
      const crypto::PublicKey& pub = c.keys[k].public_key();
      UInt160 hash = ScriptHash(SingleSigScript(pub));
      EXPECT_EQ(std::string(o.at("addresses").as_array()[k].as_string()), ToAddress(hash));
      EXPECT_EQ(std::string(o.at("script_hashes").as_array()[k].as_string()), Strip0x(hash.ToString()));
      EXPECT_TRUE(o.at("verify_ours").as_array()[k].as_bool()) << "neon rejects our signature";
      EXPECT_TRUE(o.at("sigs_neon_verify_self").as_array()[k].as_bool());
      auto neon_sig = HexDecode(std::string(o.at("sigs_neon").as_array()[k].as_string()));
      ASSERT_TRUE(neon_sig && neon_sig->size() == 64);
      crypto::Signature sig;
      std::copy(neon_sig->begin(), neon_sig->end(), sig.begin());
      EXPECT_TRUE(pub.Verify(data, sig)) << "we reject neon's signature";
      sig[10] ^= 1;
      EXPECT_FALSE(pub.Verify(data, sig)) << "a tampered signature must fail";
      ++signatures;
    }
    ++checked;
  }
  EXPECT_EQ(checked, kCases);
  std::printf("cross-checked %d transactions and %d signature pairs with neon-core %s\n", checked, signatures,
              kNeonVersion);
}

}  // namespace
}  // namespace neosl::neo
