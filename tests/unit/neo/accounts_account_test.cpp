// Standard accounts: scripts, hashes and addresses against published vectors (neo-go's
// internal/keytestcases, neon-js multisig tests, neo-go's testdata wallets), strict parsing and
// witness verification.
#include "neo/account.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/random.h"
#include "crypto/base58.h"
#include "crypto/p256.h"
#include "neo/rpc_types.h"
#include "neo/script_builder.h"

namespace neosl::neo {
namespace {

std::vector<uint8_t> Hex(std::string_view hex) {
  auto bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.has_value()) << hex;
  return bytes.value_or(std::vector<uint8_t>{});
}

crypto::PublicKey Key(std::string_view hex) {
  auto key = crypto::PublicKey::FromHex(hex);
  EXPECT_TRUE(key.ok()) << hex;
  return *std::move(key);
}

crypto::PrivateKey Priv(std::string_view hex) {
  auto key = crypto::PrivateKey::FromBytes(Hex(hex));
  EXPECT_TRUE(key.ok());
  return *std::move(key);
}

// neo-go internal/keytestcases (N3).
struct KeyCase {
  const char* private_key;
  const char* public_key;
  const char* address;
};
constexpr KeyCase kKeys[] = {
    {"7d128a6d096f0c14c3a25a2b0c41cf79661bfcb4a8cc95aaaea28bde4d732344",
     "02028a99826edc0c97d18e22b6932373d908d323aa7f92656a77ec26e8861699ef", "NPTmAHDxo6Pkyic8Nvu3kwyXoYJCvcCB6i"},
    {"9ab7e154840daca3a2efadaf0df93cd3a5b51768c632f5433f86909d9b994a69",
     "031d8e1630ce640966967bc6d95223d21f44304133003140c3b52004dc981349c9", "NMBfzaEq2c5zodiNbLPoohVENARMbJim1r"},
    {"3edee7036b8fd9cef91de47386b191dd76db2888a553e7736bb02808932a915b",
     "02232ce8d2e2063dce0451131851d47421bfc4fc1da4db116fca5302c0756462fa", "NfVdwyaJbijrWkRagrvs4eSRQUpP7WpukT"},
};

// neon-js __tests__/wallet/multisig.ts, "3 keys 2 threshold": the keys are in X order, which is
// not the order of their compressed bytes (02 23… sorts before 03 1d… bytewise).
constexpr char kMultisig2of3[] =
    "120c2102028a99826edc0c97d18e22b6932373d908d323aa7f92656a77ec26e8861699ef0c21031d8e1630ce640966967bc6d95223d2"
    "1f44304133003140c3b52004dc981349c90c2102232ce8d2e2063dce0451131851d47421bfc4fc1da4db116fca5302c0756462fa13"
    "419ed0dc3a";

TEST(AccountTest, SingleSigScriptsAndAddressesMatchPublishedKeys) {
  for (const KeyCase& c : kKeys) {
    crypto::PrivateKey priv = Priv(c.private_key);
    EXPECT_EQ(HexEncode(priv.public_key().Compressed()), c.public_key);
    std::vector<uint8_t> script = SingleSigScript(priv.public_key());
    EXPECT_EQ(HexEncode(script), std::string("0c21") + c.public_key + "4156e7b327");
    UInt160 hash = ScriptHash(script);
    EXPECT_EQ(ToAddress(hash), c.address);
    auto back = AddressToScriptHash(c.address);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, hash);
  }
}

// neo-go pkg/wallet/testdata/wallet1.json: scripts (base64) and the addresses they belong to.
TEST(AccountTest, ScriptHashesMatchNeoGoWallet) {
  auto single = Base64Decode("DCECs2Ir9AF73+MXxYrtX0x1PyBrfbiWBG+n13S7xL9/jcJBVuezJw==");
  ASSERT_TRUE(single.has_value());
  EXPECT_EQ(ToAddress(ScriptHash(*single)), "Nhfg3TbpwogLvDGVvAvqyThbsHgoSUKwtn");
  EXPECT_EQ(ScriptHash(*single).ToString(), "0xb248508f4ef7088e10c48f14d04be3272ca29eee");

  auto multi = Base64Decode(
      "EwwhAhA6f33QFlWFl/eWDSfFFqQ5T9loueZRVetLAT5AQEBuDCECp7xV/oaE4BGXaNEEujB5W9zIZhnoZK3SYVZyPtGFzWIMIQKzYiv0AXvf4x"
      "fFiu1fTHU/IGt9uJYEb6fXdLvEv3+NwgwhA9kMB99j5pDOd5EuEKtRrMlEtmhgI3tgjE+PgwnnHuaZFEGe0Nw6");
  ASSERT_TRUE(multi.has_value());
  EXPECT_EQ(ToAddress(ScriptHash(*multi)), "NVTiAjNgagDkTr5HTzDmQP9kPwPHN5BgVq");
  // Rebuilt from the keys given in a scrambled order: 3-of-4, sorted by X.
  auto rebuilt = MultiSigScript(3, {Key("03d90c07df63e690ce77912e10ab51acc944b66860237b608c4f8f8309e71ee699"),
                                    Key("02b3622bf4017bdfe317c58aed5f4c753f206b7db896046fa7d774bbc4bf7f8dc2"),
                                    Key("02103a7f7dd016558597f7960d27c516a4394fd968b9e65155eb4b013e4040406e"),
                                    Key("02a7bc55fe8684e0119768d104ba30795bdcc86619e864add26156723ed185cd62")});
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_EQ(*rebuilt, *multi);
}

TEST(AccountTest, MultiSigScriptSortsByXCoordinate) {
  auto script = MultiSigScript(2, {Key(kKeys[2].public_key), Key(kKeys[1].public_key), Key(kKeys[0].public_key)});
  ASSERT_TRUE(script.ok());
  EXPECT_EQ(HexEncode(*script), kMultisig2of3);
  auto one = MultiSigScript(1, {Key("03118a2b7962fa0226fa35acf5d224855b691c7ea978d1afe2c538631d5f7be85e")});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(HexEncode(*one), "110c2103118a2b7962fa0226fa35acf5d224855b691c7ea978d1afe2c538631d5f7be85e11419ed0dc3a");
}

TEST(AccountTest, MultiSigScriptRejectsBadThresholds) {
  std::vector<crypto::PublicKey> keys = {Key(kKeys[0].public_key), Key(kKeys[1].public_key)};
  EXPECT_EQ(MultiSigScript(0, keys).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MultiSigScript(3, keys).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MultiSigScript(1, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MultiSigScript(2, {keys[0], keys[0]}).status().code(), StatusCode::kInvalidArgument);

  DeterministicRandom random(7);
  std::vector<crypto::PublicKey> many;
  many.reserve(kMaxMultisigKeys + 1);
  for (int i = 0; i < kMaxMultisigKeys + 1; ++i) many.push_back(crypto::PrivateKey::Generate(random).public_key());
  EXPECT_EQ(MultiSigScript(1, many).status().code(), StatusCode::kInvalidArgument);
  many.pop_back();
  auto max = MultiSigScript(1024, many);
  ASSERT_TRUE(max.ok());
  // m and n of 1024 need PUSHINT16.
  EXPECT_EQ(HexEncode(std::span(*max).first(3)), "010004");
  auto parsed = ParseVerificationScript(*max);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->m, 1024);
  EXPECT_EQ(parsed->keys.size(), 1024u);
}

TEST(AccountTest, AddressDecodingChecksVersionChecksumAndLength) {
  const UInt160 hash = ScriptHash(SingleSigScript(Key(kKeys[0].public_key)));
  EXPECT_EQ(AddressToScriptHash(ToAddress(hash, 0x17)).status().code(), StatusCode::kInvalidArgument);  // Neo 2
  EXPECT_TRUE(AddressToScriptHash(ToAddress(hash, 0x17), 0x17).ok());
  std::string address = kKeys[0].address;
  address.back() = address.back() == 'i' ? 'j' : 'i';
  EXPECT_EQ(AddressToScriptHash(address).status().code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> short_payload(20, 0x35);
  EXPECT_EQ(AddressToScriptHash(crypto::Base58CheckEncode(short_payload)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(AddressToScriptHash("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(AddressToScriptHash("N0tBase58").status().code(), StatusCode::kInvalidArgument);
}

TEST(ParseVerificationScriptTest, AcceptsStandardScripts) {
  auto single = ParseVerificationScript(SingleSigScript(Key(kKeys[1].public_key)));
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->kind, VerificationScriptInfo::Kind::kSingleSig);
  EXPECT_EQ(single->m, 1);
  ASSERT_EQ(single->keys.size(), 1u);
  EXPECT_EQ(single->keys[0], Key(kKeys[1].public_key));

  auto multi = ParseVerificationScript(Hex(kMultisig2of3));
  ASSERT_TRUE(multi.ok());
  EXPECT_EQ(multi->kind, VerificationScriptInfo::Kind::kMultiSig);
  EXPECT_EQ(multi->m, 2);
  ASSERT_EQ(multi->keys.size(), 3u);
  EXPECT_EQ(multi->keys[1], Key(kKeys[1].public_key));
}

// Neo's IsMultiSigContract takes these too; the VM runs them exactly like the canonical form.
TEST(ParseVerificationScriptTest, AcceptsWhatNeoAcceptsBeyondCanonical) {
  const std::string k0 = kKeys[0].public_key, k1 = kKeys[1].public_key, k2 = kKeys[2].public_key;
  const std::string body = "0c21" + k0 + "0c21" + k1 + "0c21" + k2;
  for (const std::string& hex : {"0002" + body + "13419ed0dc3a",       // m as PUSHINT8
                                 "010200" + body + "0003419ed0dc3a",   // m as PUSHINT16, n as PUSHINT8
                                 "12" + body + "010300419ed0dc3a"}) {  // n as PUSHINT16
    auto info = ParseVerificationScript(Hex(hex));
    ASSERT_TRUE(info.ok()) << hex << ": " << info.status().ToString();
    EXPECT_EQ(info->m, 2);
    EXPECT_EQ(info->keys.size(), 3u);
  }
  // Unsorted keys: a different account (script hash) but a valid one; keys stay in script order.
  auto unsorted = ParseVerificationScript(Hex("120c21" + k2 + "0c21" + k0 + "0c21" + k1 + "13419ed0dc3a"));
  ASSERT_TRUE(unsorted.ok());
  EXPECT_EQ(unsorted->keys[0], Key(k2));
}

TEST(ParseVerificationScriptTest, RejectsAlmostRightScripts) {
  const std::string k0 = kKeys[0].public_key, k1 = kKeys[1].public_key;
  const std::string single = "0c21" + k0 + "4156e7b327";
  const std::string two = "0c21" + k0 + "0c21" + k1;
  const std::string bad_point = "02" + std::string(64, 'f');
  for (const std::string& hex : std::vector<std::string>{
           "",
           single.substr(0, single.size() - 2),                     // 39 bytes
           single + "00",                                           // extra byte
           "0c20" + k0.substr(2) + "4156e7b327",                    // 32-byte push
           "0c21" + k0 + "419ed0dc3a",                              // CheckMultisig in a single-sig script
           "0c21" + k0 + "4056e7b327",                              // RET instead of SYSCALL
           "0c21" + bad_point + "4156e7b327",                       // not a curve point
           "13" + two + "12419ed0dc3a",                             // m > n
           "12" + two + "13419ed0dc3a",                             // n disagrees with the keys
           "12" + two + "419ed0dc3a",                               // n missing
           "12" + two + "1241627d5b52",                             // wrong syscall
           "12" + two + "12419ed0dc3a00",                           // trailing byte
           "12" + two + "12419ed0dc",                               // truncated syscall
           "10" + two + "12419ed0dc3a",                             // m = 0 (PUSH0)
           "0000" + two + "12419ed0dc3a",                           // m = 0 (PUSHINT8)
           "0080" + two + "12419ed0dc3a",                           // PUSHINT8 0x80 is -128 in the VM
           "11" + two + "0082419ed0dc3a",                           // n as negative PUSHINT8
           "0f" + two + "12419ed0dc3a",                             // m = -1
           "1212419ed0dc3a",                                        // no keys
           "120c21" + k0 + "0c20" + k1.substr(2) + "12419ed0dc3a",  // short key push
           "120c21" + k0 + "0c21" + bad_point + "12419ed0dc3a",     // bad key
           "120c21" + k0 + "0c21" + k1.substr(0, 40),               // truncated key push
           "11",
       }) {
    auto info = ParseVerificationScript(Hex(hex));
    EXPECT_FALSE(info.ok()) << hex;
    EXPECT_EQ(info.status().code(), StatusCode::kInvalidArgument) << hex;
  }
}

std::vector<uint8_t> Invocation(const std::vector<crypto::Signature>& sigs) {
  ScriptBuilder sb;
  for (const auto& sig : sigs) sb.EmitPushBytes(sig);
  return sb.Take();
}

TEST(VerifyWitnessTest, SingleSig) {
  crypto::PrivateKey key = Priv(kKeys[0].private_key);
  const std::vector<uint8_t> message =
      Hex("4e454f33"
          "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  const std::vector<uint8_t> verification = SingleSigScript(key.public_key());
  crypto::Signature sig = key.Sign(message);
  EXPECT_TRUE(VerifyWitness(message, Invocation({sig}), verification).ok());

  std::vector<uint8_t> other = message;
  other[0] ^= 1;
  Status wrong_message = VerifyWitness(other, Invocation({sig}), verification);
  EXPECT_EQ(wrong_message.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(wrong_message.message().find("does not verify"), std::string_view::npos);
  crypto::Signature flipped = sig;
  flipped[10] ^= 0x40;
  EXPECT_EQ(VerifyWitness(message, Invocation({flipped}), verification).code(), StatusCode::kUnauthenticated);
  crypto::Signature by_other = Priv(kKeys[1].private_key).Sign(message);
  EXPECT_EQ(VerifyWitness(message, Invocation({by_other}), verification).code(), StatusCode::kUnauthenticated);

  EXPECT_EQ(VerifyWitness(message, Invocation({sig, sig}), verification).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyWitness(message, {}, verification).code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> pushdata2 = Invocation({sig});
  pushdata2[0] = 0x0D;
  EXPECT_EQ(VerifyWitness(message, pushdata2, verification).code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> trailing = Invocation({sig});
  trailing.push_back(0x40);
  EXPECT_EQ(VerifyWitness(message, trailing, verification).code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> bad_verification = verification;
  bad_verification.push_back(0);
  EXPECT_EQ(VerifyWitness(message, Invocation({sig}), bad_verification).code(), StatusCode::kInvalidArgument);
}

TEST(VerifyWitnessTest, MultiSigFollowsCheckMultisigOrder) {
  // Script order (by X) is kKeys[0], kKeys[1], kKeys[2].
  crypto::PrivateKey k0 = Priv(kKeys[0].private_key), k1 = Priv(kKeys[1].private_key), k2 = Priv(kKeys[2].private_key);
  const std::vector<uint8_t> verification = Hex(kMultisig2of3);
  const std::vector<uint8_t> message = Hex("00010203");
  const crypto::Signature s0 = k0.Sign(message), s1 = k1.Sign(message), s2 = k2.Sign(message);

  EXPECT_TRUE(VerifyWitness(message, Invocation({s0, s1}), verification).ok());
  EXPECT_TRUE(VerifyWitness(message, Invocation({s0, s2}), verification).ok());  // skips key 1
  EXPECT_TRUE(VerifyWitness(message, Invocation({s1, s2}), verification).ok());  // skips key 0

  Status reversed = VerifyWitness(message, Invocation({s2, s0}), verification);
  EXPECT_EQ(reversed.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(reversed.message().find("index 0"), std::string_view::npos) << reversed.message();
  Status repeated = VerifyWitness(message, Invocation({s0, s0}), verification);  // a key counts once
  EXPECT_EQ(repeated.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(repeated.message().find("index 1"), std::string_view::npos) << repeated.message();
  crypto::Signature outsider = Priv("0101010101010101010101010101010101010101010101010101010101010101").Sign(message);
  Status foreign = VerifyWitness(message, Invocation({outsider, s2}), verification);
  EXPECT_EQ(foreign.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(foreign.message().find("index 0"), std::string_view::npos) << foreign.message();

  EXPECT_EQ(VerifyWitness(message, Invocation({s0}), verification).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyWitness(message, Invocation({s0, s1, s2}), verification).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace neosl::neo
