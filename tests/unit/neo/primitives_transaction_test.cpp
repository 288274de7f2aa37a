// Transaction: vectors from neo-project/neo (UT_Transaction), nspcc-dev/neo-go (rpcclient tests)
// and transactions signed by @cityofzion/neon-core 5.10.1; every limit and non-canonical form.
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/p256.h"
#include "neo/transaction.h"

namespace neosl::neo {
namespace {

std::vector<uint8_t> Hex(std::string_view hex) {
  auto b = HexDecode(hex);
  EXPECT_TRUE(b.has_value()) << hex;
  return b.value_or(std::vector<uint8_t>{});
}

// UT_Transaction.Transaction_Serialize_Deserialize_Simple.
constexpr char kNeoSimpleTx[] =
    "00"                                            // version
    "04030201"                                      // nonce
    "00e1f50500000000"                              // system fee (1 GAS)
    "0100000000000000"                              // network fee (1 datoshi)
    "04030201"                                      // valid until block
    "01000000000000000000000000000000000000000000"  // one signer: zero account, scope None
    "00"                                            // no attributes
    "0111"                                          // script: PUSH1
    "010000";                                       // one empty witness

// A GAS transfer signed by neon-core 5.10.1 (tx.Transaction.sign, MainNet magic 860833102) with
// its test account 9600debd…e21d; neon-core's hash and getMessageForSigning below.
constexpr char kNeonTransfer[] =
    "0087d612008f390f000000000012c7120000000000404b4c00014f887f31384daff57199f9d6557eef240a2ad25a01005a0b0200e1f505"
    "0c1400000000000000000000000000000000000000000c144f887f31384daff57199f9d6557eef240a2ad25a14c01f0c087472616e7366"
    "65720c14cf76e28bd0062c4a478ee35561011319f3cfa4d241627d5b5201420c409670def475aa8717948e5897547aff9430770e1887ec"
    "ce0bf6f93e7e62ed926674556d0b7ca1788165421ffdf07baa359ef69d9fa1ba0f21e7cc1a4c76782998280c210317595a739cfe90ea90"
    "b6392814bcdebcd4c920cb149d0ac2d88676f1b0894fba4156e7b327";
constexpr char kNeonTransferHash[] = "0x995584534af322ed8db94817f5f6a0cf28ce86a7c18e1123b535f12f66798f3d";
constexpr char kNeonSigningData[] = "4e454f333d8f79662ff135b523118ec1a786ce28cfa0f6f51748b98ded22f34a53845599";
// The same account with CalledByEntry | CustomContracts | WitnessRules (an And/Not/ScriptHash rule).
constexpr char kNeonRulesTx[] =
    "002a0000000100000000000000020000000000000064000000014f887f31384daff57199f9d6557eef240a2ad25a5101cf76e28bd0062c"
    "4a478ee35561011319f3cfa4d201010202200118f563ea40bc283d4d0e05c48ea305b3f2a07340ef005a0b0200e1f5050c140000000000"
    "0000000000000000000000000000000c144f887f31384daff57199f9d6557eef240a2ad25a14c01f0c087472616e736665720c14cf76e2"
    "8bd0062c4a478ee35561011319f3cfa4d241627d5b5201420c40b1af3832d599171e5773de1294317fe5034940d66dfea894d1e3b8f6bb"
    "e79ef87f09440d149a5657e938714f6a461ed989e71e1023ef16e0020246af4dfa0953280c210317595a739cfe90ea90b6392814bcdebc"
    "d4c920cb149d0ac2d88676f1b0894fba4156e7b327";
constexpr char kNeonRulesHash[] = "0x0b671516c0a0a0d27ca1d35f9cfea0398b6c25ea71eaca6e175b22365a0d2b6e";

// neo-go pkg/rpcclient/rpc_test.go base64TxMoveNeo (hex here), hash from txMoveNeoVerbose.
constexpr char kNeoGoMoveNeo[] =
    "0002000000c0d8a700000000000c79430000000000b00400000168b9e81e8c0e6c9079b4b9d105e878a76d3f223f01005b0b0218ddf505"
    "0c14ee9ea22c27e34bd0148fc4108e08f74e8f5048b20c1468b9e81e8c0e6c9079b4b9d105e878a76d3f223f14c01f0c087472616e7366"
    "65720c14f563ea40bc283d4d0e05c48ea305b3f2a07340ef41627d5b523901c60c40bc2275a0f2b4075a39254688e86eeee49f8af4c596"
    "36c5662cd79820557e0f432107a4d4d4eaf6474f64d745d3d700e287860580b6d3b4a13be8fbd5590232150c4045d2abc1325be6609218"
    "2ea4a80a3841ca471237bf145eb0633b904a2fc0691ed7a358295dd554fa67b9d8ac404b832483e8778c729fdf6babea1f3536db47bf0c"
    "4097b66e400358f2f46140eedf14e9afb5b8fad0164e147e9d14c97b2e9f43ef37435d86b1dcdfbc66f24f59d1d07ce55ffb58bb6431a2"
    "cbca354d548288982efa93130c2102103a7f7dd016558597f7960d27c516a4394fd968b9e65155eb4b013e4040406e0c2102a7bc55fe86"
    "84e0119768d104ba30795bdcc86619e864add26156723ed185cd620c2102b3622bf4017bdfe317c58aed5f4c753f206b7db896046fa7d7"
    "74bbc4bf7f8dc20c2103d90c07df63e690ce77912e10ab51acc944b66860237b608c4f8f8309e71ee69914419ed0dc3a";
constexpr char kNeoGoMoveNeoHash[] = "0xf01080c50f3198f5a539c4a06d024f1b8bdc2a360a215fa7e2488f79a56d501a";

void ExpectCanonical(std::string_view hex, std::string_view hash, size_t size) {
  auto bytes = Hex(hex);
  auto tx = Transaction::Decode(bytes);
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();
  EXPECT_EQ(tx->hash().ToString(), hash);
  EXPECT_EQ(tx->size(), size);
  EXPECT_EQ(tx->Encode(), bytes);
  auto again = Transaction::Decode(tx->Encode());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *tx);
  // Rebuilding from the fields gives the same transaction, hash included.
  auto rebuilt = TransactionBuilder(*tx).Build();
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  EXPECT_EQ(*rebuilt, *tx);
}

std::string DecodeError(std::string_view hex) {
  auto tx = Transaction::Decode(Hex(hex));
  return tx.ok() ? "decoded" : std::string(tx.status().message());
}

TEST(PrimitivesTransactionTest, NeoSimpleVector) {
  ExpectCanonical(kNeoSimpleTx, "0x3b14053ae85b4e3dd2fac8aa47172bd91964b76c6df2c2e005c0d4fb3e547430", 53);
  auto tx = *Transaction::Decode(Hex(kNeoSimpleTx));
  EXPECT_EQ(tx.nonce(), 0x01020304u);
  EXPECT_EQ(tx.system_fee(), 100000000);
  EXPECT_EQ(tx.network_fee(), 1);
  EXPECT_EQ(tx.valid_until_block(), 0x01020304u);
  EXPECT_EQ(tx.signers()[0].scopes, WitnessScope::None);
  EXPECT_EQ(tx.script(), std::vector<uint8_t>{0x11});
  EXPECT_EQ(tx.sender(), UInt160());
}

TEST(PrimitivesTransactionTest, NeoToJsonVectorHash) {
  // UT_Transaction.ToJson: hash 0x0ab07342…3146, size 84.
  std::vector<uint8_t> script(32, 0x20);
  script[0] = 0x42;
  auto tx = TransactionBuilder()
                .SetSystemFee(4200000000)
                .AddSigner({UInt160(), WitnessScope::None})
                .SetScript(script)
                .AddWitness({})
                .Build();
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();
  EXPECT_EQ(tx->hash().ToString(), "0x0ab073429086d9e48fc87386122917989705d1c81fe4a60bf90e2fc228de3146");
  EXPECT_EQ(tx->size(), 84u);
  EXPECT_EQ(tx->Encode().size(), 84u);
}

TEST(PrimitivesTransactionTest, NeoGoAndNeonVectors) {
  ExpectCanonical(kNeoGoMoveNeo, kNeoGoMoveNeoHash, 488);
  ExpectCanonical(kNeonTransfer, kNeonTransferHash, 248);
  ExpectCanonical(kNeonRulesTx, kNeonRulesHash, 296);
  auto rules = *Transaction::Decode(Hex(kNeonRulesTx));
  const Signer& s = rules.signers()[0];
  EXPECT_EQ(s.scopes, WitnessScope::CalledByEntry | WitnessScope::CustomContracts | WitnessScope::WitnessRules);
  ASSERT_EQ(s.rules.size(), 1u);
  EXPECT_EQ(s.rules[0].condition.type(), WitnessConditionType::And);
}

TEST(PrimitivesTransactionTest, NeonSignatureVerifiesOverOurSigningData) {
  auto tx = *Transaction::Decode(Hex(kNeonTransfer));
  auto data = SigningData(tx, 860833102);
  EXPECT_EQ(HexEncode(data), kNeonSigningData);
  // Invocation: PUSHDATA1 64 <signature>; verification: PUSHDATA1 33 <key> SYSCALL CheckSig.
  const Witness& w = tx.witnesses()[0];
  ASSERT_EQ(w.invocation.size(), 66u);
  crypto::Signature sig;
  std::copy(w.invocation.begin() + 2, w.invocation.end(), sig.begin());
  auto key = crypto::PublicKey::FromBytes(std::span<const uint8_t>(w.verification).subspan(2, 33));
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(key->Verify(data, sig));
  EXPECT_EQ(w.ScriptHash(), tx.sender());
  EXPECT_FALSE(key->Verify(SigningData(tx, 894710606), sig)) << "another network's magic";
}

TEST(PrimitivesTransactionTest, RejectsNonCanonicalAndTrailingBytes) {
  EXPECT_NE(DecodeError(std::string(kNeoSimpleTx) + "00").find("trailing bytes"), std::string::npos);
  // Script length 1 written as 0xfd 0x01 0x00.
  std::string long_varint = kNeoSimpleTx;
  long_varint.replace(long_varint.find("0111010000"), 4, "fd010011");
  EXPECT_NE(DecodeError(long_varint).find("non-canonical"), std::string::npos);
  EXPECT_NE(DecodeError(std::string(kNeoSimpleTx).substr(0, 60)).find("unexpected end"), std::string::npos);
}

TEST(PrimitivesTransactionTest, RejectsHeaderFieldsOutOfRange) {
  std::string v1 = kNeoSimpleTx;
  v1[1] = '1';
  EXPECT_NE(DecodeError(v1).find("transaction version"), std::string::npos);
  std::string negative = kNeoSimpleTx;
  negative.replace(10, 16, "ffffffffffffffff");
  EXPECT_NE(DecodeError(negative).find("system fee is negative"), std::string::npos);
  std::string negative_net = kNeoSimpleTx;
  negative_net.replace(26, 16, "0000000000000080");
  EXPECT_NE(DecodeError(negative_net).find("network fee is negative"), std::string::npos);
  std::string overflow = kNeoSimpleTx;
  overflow.replace(10, 32,
                   "ffffffffffffff7f"
                   "0100000000000000");
  EXPECT_NE(DecodeError(overflow).find("overflows"), std::string::npos);
}

TEST(PrimitivesTransactionTest, RejectsBadSigners) {
  // UT_Transaction.Transaction_Serialize_Deserialize_DistinctSigners.
  EXPECT_NE(DecodeError("000403020100e1f50500000000010000000000000004030201020908070605040302010009080706050403020"
                        "10080090807060504030201000908070605040302010001000111010000")
                .find("appears twice"),
            std::string::npos);
  std::string none = kNeoSimpleTx;
  none.replace(50, 44, "00");
  EXPECT_NE(DecodeError(none).find("at least one"), std::string::npos);
  // 17 signers: the count itself is over the limit.
  std::string many = std::string(kNeoSimpleTx).substr(0, 50) + "11";
  EXPECT_NE(DecodeError(many).find("signers count: 17 exceeds"), std::string::npos);
  TransactionBuilder b;
  b.SetScript({0x11});
  for (int i = 0; i < 17; ++i) {
    b.AddSigner({*UInt160::FromBytes(std::vector<uint8_t>(20, static_cast<uint8_t>(i))), WitnessScope::None});
  }
  EXPECT_FALSE(b.Build().ok());
}

TEST(PrimitivesTransactionTest, AttributeCountsAndRepeats) {
  auto base = [] { return TransactionBuilder().SetScript({0x11}).AddSigner({UInt160(), WitnessScope::CalledByEntry}); };
  // Only Conflicts may repeat.
  auto two_conflicts = base().AddAttribute(ConflictsAttribute{}).AddAttribute(ConflictsAttribute{}).Build();
  ASSERT_TRUE(two_conflicts.ok()) << two_conflicts.status().ToString();
  for (const TransactionAttribute& a :
       std::vector<TransactionAttribute>{HighPriorityAttribute{}, NotValidBeforeAttribute{1},
                                         NotaryAssistedAttribute{1}, OracleResponseAttribute{}}) {
    auto twice = base().AddAttribute(a).AddAttribute(a).Build();
    ASSERT_FALSE(twice.ok());
    EXPECT_NE(std::string(twice.status().message()).find("may appear only once"), std::string::npos);
    // The same through the decoder: build once, then duplicate the attribute bytes.
    auto once = base().AddAttribute(a).AddWitness({}).Build();
    ASSERT_TRUE(once.ok());
    auto bytes = once->Encode();
    BinaryWriter aw;
    a.Encode(aw);
    const size_t at = Transaction::kHeaderSize + 1 + 21;  // the attribute count
    bytes[at] = 2;
    bytes.insert(bytes.begin() + static_cast<long>(at) + 1, aw.data().begin(), aw.data().end());
    EXPECT_NE(std::string(Transaction::Decode(bytes).status().message()).find("only once"), std::string::npos);
  }
  // 1 signer + 15 attributes is the most; 16 attributes is over.
  TransactionBuilder fifteen = base();
  for (int i = 0; i < 15; ++i) fifteen.AddAttribute(ConflictsAttribute{});
  auto ok = fifteen.AddWitness({}).Build();
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(Transaction::Decode(ok->Encode()).ok());
  auto bytes = ok->Encode();
  EXPECT_FALSE(fifteen.AddAttribute(ConflictsAttribute{}).Build().ok());
  bytes[Transaction::kHeaderSize + 1 + 21] = 16;
  EXPECT_NE(std::string(Transaction::Decode(bytes).status().message()).find("attributes count: 16 exceeds"),
            std::string::npos);
}

TEST(PrimitivesTransactionTest, ScriptAndWitnessLimits) {
  auto base = [] { return TransactionBuilder().AddSigner({UInt160(), WitnessScope::CalledByEntry}); };
  EXPECT_NE(std::string(base().Build().status().message()).find("script is empty"), std::string::npos);
  std::string empty_script = kNeoSimpleTx;
  empty_script.replace(empty_script.find("0111010000"), 4, "00");
  EXPECT_NE(DecodeError(empty_script).find("script is empty"), std::string::npos);
  auto max_script = base().SetScript(std::vector<uint8_t>(0xFFFF, 0x21)).AddWitness({}).Build();
  ASSERT_TRUE(max_script.ok());
  EXPECT_TRUE(Transaction::Decode(max_script->Encode()).ok());
  EXPECT_FALSE(base().SetScript(std::vector<uint8_t>(0x10000, 0x21)).Build().ok());
  // Witness count must equal the signer count.
  std::string no_witness = std::string(kNeoSimpleTx).substr(0, std::string(kNeoSimpleTx).size() - 6) + "00";
  EXPECT_NE(DecodeError(no_witness).find("one per signer"), std::string::npos);
  std::string two_witnesses = std::string(kNeoSimpleTx).substr(0, std::string(kNeoSimpleTx).size() - 6) + "0200000000";
  EXPECT_NE(DecodeError(two_witnesses).find("witnesses count: 2 exceeds"), std::string::npos);
  EXPECT_FALSE(base().SetScript({0x11}).AddWitness({}).AddWitness({}).Build().ok());
}

TEST(PrimitivesTransactionTest, MaxTransactionSize) {
  // 16 signers with 16 allowed contracts each, a 65535-byte script and full witnesses come to
  // more than 102400 bytes; everything else is within its own limit.
  TransactionBuilder b;
  b.SetScript(std::vector<uint8_t>(0xFFFF, 0x21));
  for (int i = 0; i < 16; ++i) {
    Signer s{*UInt160::FromBytes(std::vector<uint8_t>(20, static_cast<uint8_t>(i))), WitnessScope::CustomContracts,
             std::vector<UInt160>(16)};
    b.AddSigner(s);
  }
  auto unsigned_tx = b.Build();
  ASSERT_TRUE(unsigned_tx.ok()) << unsigned_tx.status().ToString();
  Witness big{std::vector<uint8_t>(1024, 1), std::vector<uint8_t>(1024, 2)};
  Transaction signed_tx = unsigned_tx->WithWitnesses(std::vector<Witness>(16, big));
  EXPECT_GT(signed_tx.size(), Transaction::kMaxTransactionSize);
  EXPECT_EQ(signed_tx.size(), signed_tx.Encode().size());
  EXPECT_NE(std::string(signed_tx.CheckWitnesses().message()).find("exceeds the maximum of 102400"), std::string::npos);
  EXPECT_NE(std::string(Transaction::Decode(signed_tx.Encode()).status().message()).find("transaction size"),
            std::string::npos);
  EXPECT_FALSE(b.SetWitnesses(std::vector<Witness>(16, big)).Build().ok());
}

TEST(PrimitivesTransactionTest, BuildSignAndAttachWitnesses) {
  auto key = crypto::PrivateKey::FromBytes(Hex("9600debdb033bae62179baadb439c65088a450d5eecff782f641778fab23e21d"));
  ASSERT_TRUE(key.ok());
  auto neon = *Transaction::Decode(Hex(kNeonTransfer));
  // Rebuild neon's transfer without witnesses: same hash, so the same bytes to sign.
  auto unsigned_tx = TransactionBuilder(neon).SetWitnesses({}).Build();
  ASSERT_TRUE(unsigned_tx.ok());
  EXPECT_EQ(unsigned_tx->hash(), neon.hash());
  EXPECT_EQ(unsigned_tx->EncodeUnsigned(), neon.EncodeUnsigned());
  EXPECT_FALSE(unsigned_tx->CheckWitnesses().ok());
  EXPECT_FALSE(Transaction::Decode(unsigned_tx->Encode()).ok()) << "unsigned is not sendable";

  auto sig = key->Sign(SigningData(*unsigned_tx, 860833102));
  Witness w{{0x0c, 0x40}, neon.witnesses()[0].verification};
  w.invocation.insert(w.invocation.end(), sig.begin(), sig.end());
  Transaction signed_tx = unsigned_tx->WithWitnesses({w});
  EXPECT_TRUE(signed_tx.CheckWitnesses().ok());
  EXPECT_EQ(signed_tx.hash(), neon.hash());
  EXPECT_EQ(signed_tx.size(), 248u);
  auto decoded = Transaction::Decode(signed_tx.Encode());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, signed_tx);

  // Changing a field through a builder changes the hash.
  auto bumped = TransactionBuilder(neon).SetNonce(neon.nonce() + 1).Build();
  ASSERT_TRUE(bumped.ok());
  EXPECT_NE(bumped->hash(), neon.hash());
}

}  // namespace
}  // namespace neosl::neo
