// WIF, NEP-2 and NEP-6 against neo-go's published key vectors (internal/keytestcases) and its
// N3 test wallet (pkg/wallet/testdata/wallet1.json, passphrase "one").
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/base58.h"
#include "crypto/p256.h"
#include "neo/account.h"
#include "neo/wallet.h"

namespace neosl::neo {
namespace {

std::vector<uint8_t> Hex(std::string_view hex) {
  auto bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.has_value()) << hex;
  return bytes.value_or(std::vector<uint8_t>{});
}

std::string AsString(const SecretBytes& s) {
  return std::string(s.bytes().begin(), s.bytes().end());
}

struct Nep2Case {
  const char* private_key;
  const char* wif;
  const char* passphrase;
  const char* nep2;
  const char* address;
};
constexpr Nep2Case kCases[] = {
    {"7d128a6d096f0c14c3a25a2b0c41cf79661bfcb4a8cc95aaaea28bde4d732344",
     "L1QqQJnpBwbsPGAuutuzPTac8piqvbR1HRjrY5qHup48TBCBFe4g", "city of zion",
     "6PYUUUFei9PBBfVkSn8q7hFCnewWFRBKPxcn6Kz6Bmk3FqWyLyuTQE2XFH", "NPTmAHDxo6Pkyic8Nvu3kwyXoYJCvcCB6i"},
    {"9ab7e154840daca3a2efadaf0df93cd3a5b51768c632f5433f86909d9b994a69",
     "L2QTooFoDFyRFTxmtiVHt5CfsXfVnexdbENGDkkrrgTTryiLsPMG",
     "\xe6\x88\x91\xe7\x9a\x84\xe5\xaf\x86\xe7\xa0\x81",  // 我的密码 in UTF-8
     "6PYUmBuLbdXdnybyNeafUJUrVhoBRZpjHACdY9K2VCNzD5tuX5tXgr9fur", "NMBfzaEq2c5zodiNbLPoohVENARMbJim1r"},
    {"3edee7036b8fd9cef91de47386b191dd76db2888a553e7736bb02808932a915b",
     "KyKvWLZsNwBJx5j9nurHYRwhYfdQUu9tTEDsLCUHDbYBL8cHxMiG", "MyL33tP@33w0rd",
     "6PYLQ9oCoEWCfuuHkq6xH4tYbi4Pyv9HYUU8WGkFVXtoczwTbitMjypkma", "NfVdwyaJbijrWkRagrvs4eSRQUpP7WpukT"},
};

crypto::PrivateKey Priv(std::string_view hex) {
  auto key = crypto::PrivateKey::FromBytes(Hex(hex));
  EXPECT_TRUE(key.ok());
  return *std::move(key);
}

const ScryptParams kFastScrypt{2, 1, 1};  // as neo's UT_NEP6Wallet uses, to keep tests quick

TEST(WifTest, EncodesAndDecodesPublishedVectors) {
  for (const Nep2Case& c : kCases) {
    crypto::PrivateKey key = Priv(c.private_key);
    EXPECT_EQ(AsString(WifEncode(key)), c.wif);
    auto back = WifDecode(c.wif);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(HexEncode(back->bytes().bytes()), c.private_key);
  }
}

TEST(WifTest, RejectsMalformedWithoutEchoingThem) {
  std::vector<uint8_t> payload = Hex(std::string("80") + kCases[0].private_key + "01");
  std::vector<uint8_t> wrong_prefix = payload, no_flag = payload, zero_key(34, 0);
  wrong_prefix[0] = 0xEF;
  no_flag.pop_back();
  zero_key[0] = 0x80, zero_key[33] = 0x01;
  for (const std::string& wif : {std::string("KyKvWLZsNwBJx5j9nurHYRwhYfdQUu9tTEDsLCUHDbYBL8cHxMiS"),  // checksum
                                 crypto::Base58CheckEncode(wrong_prefix), crypto::Base58CheckEncode(no_flag),
                                 crypto::Base58CheckEncode(zero_key), std::string("not a wif")}) {
    auto key = WifDecode(wif);
    ASSERT_FALSE(key.ok()) << wif;
    EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(key.status().message().find(wif), std::string_view::npos) << key.status().message();
  }
}

TEST(Nep2Test, DecryptsAndEncryptsPublishedVectors) {
  for (const Nep2Case& c : kCases) {
    const SecretBytes passphrase{std::string_view(c.passphrase)};
    auto key = Nep2Decrypt(c.nep2, passphrase);
    ASSERT_TRUE(key.ok()) << c.address << ": " << key.status().ToString();
    EXPECT_EQ(HexEncode(key->bytes().bytes()), c.private_key);
    EXPECT_EQ(ToAddress(ScriptHash(SingleSigScript(key->public_key()))), c.address);
    auto encrypted = Nep2Encrypt(*key, passphrase);
    ASSERT_TRUE(encrypted.ok()) << encrypted.status().ToString();
    EXPECT_EQ(*encrypted, c.nep2);
  }
}

TEST(Nep2Test, WrongPassphraseIsDetectedByTheAddressHash) {
  auto key = Nep2Decrypt(kCases[0].nep2, SecretBytes(std::string_view("City of Zion")));
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(key.status().message(), "wrong passphrase");
  // The address hash is tied to the address version: the same bytes fail on another network.
  crypto::PrivateKey k = Priv(kCases[2].private_key);
  auto neo2 = Nep2Encrypt(k, SecretBytes(std::string_view("pw")), kFastScrypt, 0x17);
  ASSERT_TRUE(neo2.ok());
  EXPECT_EQ(Nep2Decrypt(*neo2, SecretBytes(std::string_view("pw")), kFastScrypt).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_TRUE(Nep2Decrypt(*neo2, SecretBytes(std::string_view("pw")), kFastScrypt, 0x17).ok());
}

TEST(Nep2Test, RejectsMalformedStringsAndParameters) {
  auto raw = crypto::Base58CheckDecode(kCases[0].nep2);
  ASSERT_TRUE(raw.ok());
  std::vector<uint8_t> wrong_prefix = *raw, short_payload = *raw;
  wrong_prefix[2] = 0xE1;
  short_payload.pop_back();
  const SecretBytes pw{std::string_view("x")};
  for (const std::string& nep2 : {crypto::Base58CheckEncode(wrong_prefix), crypto::Base58CheckEncode(short_payload),
                                  std::string("6PYUUUFei9PBBfVkSn8q7hFCnewWFRBKPxcn6Kz6Bmk3FqWyLyuTQE2XFh")}) {
    EXPECT_EQ(Nep2Decrypt(nep2, pw, kFastScrypt).status().code(), StatusCode::kInvalidArgument) << nep2;
  }
  EXPECT_FALSE(Nep2Decrypt(kCases[0].nep2, pw, ScryptParams{3, 1, 1}).ok());  // n not a power of two
  EXPECT_FALSE(Nep2Encrypt(Priv(kCases[0].private_key), pw, ScryptParams{1u << 20, 8, 8}).ok());  // 1 GiB
}

// neo-go pkg/wallet/testdata/wallet1.json (N3): a single-sig account and a 3-of-4 multisig that
// contains the same key; both keys are the NEP-2 of one private key under passphrase "one".
constexpr char kNeoGoWallet[] = R"({
  "version": "3.0",
  "accounts": [
    {
      "address": "Nhfg3TbpwogLvDGVvAvqyThbsHgoSUKwtn",
      "key": "6PYM8VdX2BSm7BSXKzV4Fz6S3R9cDLLWNrD9nMjxW352jEv3fsC8N3wNLY",
      "label": "",
      "contract": {
        "script": "DCECs2Ir9AF73+MXxYrtX0x1PyBrfbiWBG+n13S7xL9/jcJBVuezJw==",
        "parameters": [{"name": "parameter0", "type": "Signature"}],
        "deployed": false
      },
      "lock": false,
      "isDefault": false
    },
    {
      "address": "NVTiAjNgagDkTr5HTzDmQP9kPwPHN5BgVq",
      "key": "6PYM8VdX2BSm7BSXKzV4Fz6S3R9cDLLWNrD9nMjxW352jEv3fsC8N3wNLY",
      "label": "",
      "contract": {
        "script": "EwwhAhA6f33QFlWFl/eWDSfFFqQ5T9loueZRVetLAT5AQEBuDCECp7xV/oaE4BGXaNEEujB5W9zIZhnoZK3SYVZyPtGFzWIMIQKzYiv0AXvf4xfFiu1fTHU/IGt9uJYEb6fXdLvEv3+NwgwhA9kMB99j5pDOd5EuEKtRrMlEtmhgI3tgjE+PgwnnHuaZFEGe0Nw6",
        "parameters": [
          {"name": "parameter0", "type": "Signature"},
          {"name": "parameter1", "type": "Signature"},
          {"name": "parameter2", "type": "Signature"}
        ],
        "deployed": false
      },
      "lock": false,
      "isDefault": false
    }
  ],
  "scrypt": {"n": 16384, "r": 8, "p": 8},
  "extra": {"Tokens": null}
})";

TEST(Nep6Test, ReadsNeoGoWalletAndDecryptsItsKeys) {
  auto wallet = Nep6FromJson(kNeoGoWallet);
  ASSERT_TRUE(wallet.ok()) << wallet.status().ToString();
  EXPECT_EQ(wallet->version, "3.0");
  EXPECT_FALSE(wallet->name.has_value());
  EXPECT_EQ(wallet->scrypt, ScryptParams{});
  ASSERT_EQ(wallet->accounts.size(), 2u);
  const Nep6Account& single = wallet->accounts[0];
  EXPECT_EQ(ToAddress(single.script_hash), "Nhfg3TbpwogLvDGVvAvqyThbsHgoSUKwtn");
  EXPECT_EQ(single.label, "");
  ASSERT_TRUE(single.contract.has_value());
  EXPECT_EQ(single.contract->parameters, (std::vector<Nep6Parameter>{{"parameter0", ContractParamType::Signature}}));
  EXPECT_EQ(wallet->accounts[1].contract->parameters.size(), 3u);
  ASSERT_TRUE(wallet->extra.is_object());
  EXPECT_TRUE(wallet->extra.as_object().contains("Tokens"));

  const SecretBytes one{std::string_view("one")};
  auto key = DecryptAccountKey(*wallet, single, one);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(HexEncode(key->public_key().Compressed()),
            "02b3622bf4017bdfe317c58aed5f4c753f206b7db896046fa7d774bbc4bf7f8dc2");
  auto multi_key = DecryptAccountKey(*wallet, wallet->accounts[1], one);  // a member of the 3-of-4
  ASSERT_TRUE(multi_key.ok()) << multi_key.status().ToString();
  EXPECT_EQ(multi_key->public_key(), key->public_key());
  EXPECT_EQ(DecryptAccountKey(*wallet, single, SecretBytes(std::string_view("two"))).status().code(),
            StatusCode::kUnauthenticated);

  // Writing and reading back gives the same wallet.
  const std::string written = Nep6ToJson(*wallet);
  auto again = Nep6FromJson(written);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, *wallet);
  EXPECT_EQ(Nep6ToJson(*again), written);
}

TEST(Nep6Test, WritesNeoLayoutAndHandlesWatchOnlyAndForeignKeys) {
  crypto::PrivateKey k0 = Priv(kCases[0].private_key);
  auto nep2 = Nep2Encrypt(k0, SecretBytes(std::string_view("123")), kFastScrypt);
  ASSERT_TRUE(nep2.ok());
  Nep6Wallet w;
  w.scrypt = kFastScrypt;
  Nep6Account watch_only;
  watch_only.script_hash = ScriptHash(SingleSigScript(Priv(kCases[1].private_key).public_key()));
  w.accounts.push_back(watch_only);
  EXPECT_EQ(Nep6ToJson(w), std::string(R"({"name":null,"version":"1.0","scrypt":{"n":2,"r":1,"p":1},"accounts":[)") +
                               R"({"address":")" + kCases[1].address +
                               R"(","label":null,"isDefault":false,"lock":false,"key":null,"contract":null,)"
                               R"("extra":null}],"extra":null})");
  const SecretBytes pw{std::string_view("123")};
  EXPECT_EQ(DecryptAccountKey(w, w.accounts[0], pw).status().code(), StatusCode::kFailedPrecondition);

  // k0's NEP-2 stored under kCases[1]'s address: decrypts, but is not that account's key.
  w.accounts[0].key = *nep2;
  Status foreign = DecryptAccountKey(w, w.accounts[0], pw).status();
  EXPECT_EQ(foreign.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(foreign.message().find("does not belong"), std::string_view::npos);

  Nep6Account own;
  own.script_hash = ScriptHash(SingleSigScript(k0.public_key()));
  own.key = *nep2;
  own.label = "main";
  own.is_default = true;
  own.contract = Nep6Contract{SingleSigScript(k0.public_key()), {{"signature", ContractParamType::Signature}}, false};
  w.accounts.push_back(own);
  auto parsed = Nep6FromJson(Nep6ToJson(w));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, w);
  auto key = DecryptAccountKey(*parsed, parsed->accounts[1], pw);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->public_key(), k0.public_key());
}

TEST(Nep6Test, RejectsMalformedAndInconsistentWallets) {
  auto edit = [](std::string from, std::string_view what, std::string_view with) {
    size_t at = from.find(what);
    EXPECT_NE(at, std::string::npos) << what;
    if (at != std::string::npos) from.replace(at, what.size(), with);
    return from;
  };
  const std::string base = kNeoGoWallet;
  const std::vector<std::string> bad = {
      "",
      "[]",
      "{\"version\":\"1.0\"",
      edit(base, R"("version": "3.0",)", ""),
      edit(base, R"("version": "3.0")", R"("version": "three")"),
      edit(base, R"("n": 16384)", R"("n": 16383)"),
      edit(base, R"("r": 8)", R"("r": 0)"),
      edit(base, R"("scrypt": {"n": 16384, "r": 8, "p": 8},)", ""),
      edit(base, R"("lock": false,)", ""),
      edit(base, R"("isDefault": false)", R"("isDefault": "no")"),
      edit(base, "Nhfg3TbpwogLvDGVvAvqyThbsHgoSUKwtn", "Nhfg3TbpwogLvDGVvAvqyThbsHgoSUKwtm"),  // checksum
      edit(base, "Nhfg3TbpwogLvDGVvAvqyThbsHgoSUKwtn", "NVTiAjNgagDkTr5HTzDmQP9kPwPHN5BgVq"),  // duplicate
      edit(base, "Nhfg3TbpwogLvDGVvAvqyThbsHgoSUKwtn", "NPTmAHDxo6Pkyic8Nvu3kwyXoYJCvcCB6i"),  // script mismatch
      edit(base, R"("type": "Signature"})", R"("type": "signature"})"),
      edit(base, "DCECs2Ir9AF73", "DCECs2Ir9AF73!"),
      edit(base, "6PYM8VdX2BSm7BSXKzV4Fz6S3R9cDLLWNrD9nMjxW352jEv3fsC8N3wNLY", "6PYM8VdX2BSm7BSX"),
      edit(base, R"("accounts": [)", R"("accounts": 5, "x": [)"),
  };
  for (const std::string& text : bad) {
    auto w = Nep6FromJson(text);
    EXPECT_FALSE(w.ok()) << text;
    EXPECT_EQ(w.status().code(), StatusCode::kInvalidArgument) << text;
  }
  // Another network's address version.
  EXPECT_EQ(Nep6FromJson(base, 0x17).status().code(), StatusCode::kInvalidArgument);
  // A deployed contract may carry any script (or none) under its own hash.
  auto deployed =
      Nep6FromJson(edit(edit(base, "Nhfg3TbpwogLvDGVvAvqyThbsHgoSUKwtn", "NPTmAHDxo6Pkyic8Nvu3kwyXoYJCvcCB6i"),
                        R"("deployed": false)", R"("deployed": true)"));
  EXPECT_TRUE(deployed.ok()) << deployed.status().ToString();
}

}  // namespace
}  // namespace neosl::neo
