// `neosl neo …` through the real binary: the exact output shapes of issue #3.
#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/random.h"
#include "neo/account.h"
#include "neo/payload_json.h"
#include "neo/tx_sender.h"
#include "support/server_process.h"

namespace neosl::testing {
namespace {

using ::testing::HasSubstr;
namespace json = boost::json;

json::object ParseObject(const CommandResult& r) {
  boost::system::error_code ec;
  json::value v = json::parse(r.out, ec);
  EXPECT_FALSE(ec) << r.out << r.err;
  return v.is_object() ? v.as_object() : json::object();
}

TEST(NeoCliTest, KeyNewInfoAndEncryptAgree) {
  auto made = RunNeosl({"neo", "key", "new"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  json::object key = ParseObject(made);
  for (const char* field : {"wif", "address", "public_key", "script_hash"}) {
    ASSERT_TRUE(key.contains(field)) << field;
  }
  EXPECT_EQ(key.size(), 4u);
  std::string wif(key["wif"].as_string());
  EXPECT_EQ(key["address"].as_string().front(), 'N');
  EXPECT_EQ(key["public_key"].as_string().size(), 66u);
  // The script hash is the address's payload (display form).
  auto from_address = neo::AddressToScriptHash(std::string(key["address"].as_string()));
  ASSERT_TRUE(from_address.ok());
  EXPECT_EQ(from_address->ToString(), key["script_hash"].as_string());

  auto info = RunNeosl({"neo", "key", "info", wif});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_EQ(ParseObject(info), key);

  auto enc = RunNeosl({"neo", "key", "encrypt", wif, "--passphrase", "correct horse"});
  ASSERT_EQ(enc.exit_code, 0) << enc.err;
  json::object nep2 = ParseObject(enc);
  ASSERT_EQ(nep2.size(), 1u);
  std::string nep2_text(nep2["nep2"].as_string());
  EXPECT_EQ(nep2_text.rfind("6P", 0), 0u);
  auto decrypted = RunNeosl({"neo", "key", "info", nep2_text, "--passphrase", "correct horse"});
  ASSERT_EQ(decrypted.exit_code, 0) << decrypted.err;
  EXPECT_EQ(ParseObject(decrypted), key);
  auto wrong = RunNeosl({"neo", "key", "info", nep2_text, "--passphrase", "wrong"});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_THAT(wrong.err, HasSubstr("passphrase"));
  EXPECT_TRUE(wrong.out.empty());
}

TEST(NeoCliTest, BadKeysFailOnStderr) {
  for (const std::string& bad :
       {std::string("nonsense"), std::string("L1111111111111111111111111111111111111111111111111")}) {
    auto r = RunNeosl({"neo", "key", "info", bad});
    EXPECT_NE(r.exit_code, 0) << bad;
    EXPECT_FALSE(r.err.empty());
    EXPECT_TRUE(r.out.empty());
  }
}

// A signed transaction made with our library, as base64.
struct SignedTx {
  std::string base64;
  std::string hash;
};
SignedTx MakeSignedTx(uint32_t magic) {
  DeterministicRandom random(7);
  neo::KeyTransactionSigner signer(crypto::PrivateKey::Generate(random));
  neo::Signer s;
  s.account = signer.account();
  s.scopes = neo::WitnessScope::CalledByEntry;
  auto unsigned_tx = neo::TransactionBuilder()
                         .SetNonce(1)
                         .SetSystemFee(100)
                         .SetNetworkFee(200)
                         .SetValidUntilBlock(300)
                         .SetScript({0x11, 0x40})
                         .AddSigner(s)
                         .Build();
  EXPECT_TRUE(unsigned_tx.ok());
  auto inv = signer.SignInvocation(neo::SigningData(*unsigned_tx, magic));
  auto tx = unsigned_tx->WithWitnesses({neo::Witness{*inv, signer.verification_script()}});
  return {neosl::Base64Encode(tx.Encode()), tx.hash().ToString()};
}

TEST(NeoCliTest, TxDecodeGivesNeosVerboseJson) {
  SignedTx tx = MakeSignedTx(860833102);
  auto r = RunNeosl({"neo", "tx", "decode", tx.base64});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json::object o = ParseObject(r);
  EXPECT_EQ(o["hash"].as_string(), tx.hash);
  for (const char* field : {"size", "version", "nonce", "sender", "sysfee", "netfee", "validuntilblock", "signers",
                            "attributes", "script", "witnesses"}) {
    EXPECT_TRUE(o.contains(field)) << field;
  }
  EXPECT_EQ(o["sysfee"].as_string(), "100");
  EXPECT_EQ(o["validuntilblock"].as_int64(), 300);
  // The same transaction as hex decodes to the same thing.
  auto raw = neosl::Base64Decode(tx.base64);
  ASSERT_TRUE(raw.has_value());
  auto from_hex = RunNeosl({"neo", "tx", "decode", HexEncode(*raw)});
  ASSERT_EQ(from_hex.exit_code, 0) << from_hex.err;
  EXPECT_EQ(from_hex.out, r.out);
  auto bad = RunNeosl({"neo", "tx", "decode", "AAAA"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_FALSE(bad.err.empty());
}

TEST(NeoCliTest, TxVerifyChecksWitnessesAgainstTheMagic) {
  SignedTx tx = MakeSignedTx(860833102);
  auto ok = RunNeosl({"neo", "tx", "verify", tx.base64, "--magic", "860833102"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_TRUE(ParseObject(ok)["valid"].as_bool());
  auto other_network = RunNeosl({"neo", "tx", "verify", tx.base64, "--magic", "894710606"});
  EXPECT_EQ(other_network.exit_code, 1);
  EXPECT_FALSE(ParseObject(other_network)["valid"].as_bool());
  // Flip one byte of the signature (it sits right after the 0x0C 0x40 push in the witness).
  auto bytes = *neo::rpcjson::Base64Decode(tx.base64, "tx");
  auto tx_decoded = neo::Transaction::Decode(bytes);
  ASSERT_TRUE(tx_decoded.ok());
  std::vector<uint8_t> encoded = tx_decoded->Encode();
  size_t sig_at = encoded.size() - (1 + 40) - 64;  // verification script (var-int + 40) is last
  encoded[sig_at + 5] ^= 0x01;
  auto tampered = RunNeosl({"neo", "tx", "verify", neosl::Base64Encode(encoded), "--magic", "860833102"});
  EXPECT_EQ(tampered.exit_code, 1) << tampered.out;
}

TEST(NeoCliTest, ScriptCallEmitsNeosDynamicCall) {
  // GAS.balanceOf(0x86df…e2): the script every N3 wallet sends for this call.
  auto r = RunNeosl({"neo", "script", "call", "0xd2a4cff31913016155e38e474a2c06d08be276cf", "balanceOf",
                     R"({"type":"Hash160","value":"0x86df72a6b4ab5335d506294f9ce993722253b6e2"})"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "0c14e2b653227293e99c4f2906d53553abb4a672df8611c01f0c0962616c616e63654f660c14cf76e28bd0062c4a478ee355"
            "61011319f3cfa4d241627d5b52\n");
  auto no_args = RunNeosl({"neo", "script", "call", "0xd2a4cff31913016155e38e474a2c06d08be276cf", "symbol"});
  ASSERT_EQ(no_args.exit_code, 0);
  EXPECT_EQ(no_args.out, "c21f0c0673796d626f6c0c14cf76e28bd0062c4a478ee35561011319f3cfa4d241627d5b52\n");
  auto bad = RunNeosl({"neo", "script", "call", "0xd2a4", "symbol"});
  EXPECT_NE(bad.exit_code, 0);
  auto bad_arg = RunNeosl({"neo", "script", "call", "0xd2a4cff31913016155e38e474a2c06d08be276cf", "x", "{\"type\":"});
  EXPECT_NE(bad_arg.exit_code, 0);
  EXPECT_THAT(bad_arg.err, HasSubstr("argument 1"));
}

}  // namespace
}  // namespace neosl::testing
