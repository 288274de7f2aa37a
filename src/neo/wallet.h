// Key formats and wallet files: WIF, NEP-2 encrypted keys and NEP-6 JSON wallets.
//
// WIF:   Base58Check(0x80 ‖ 32-byte key ‖ 0x01)
// NEP-2: Base58Check(01 42 E0 ‖ addresshash[4] ‖ AES-256-ECB(key XOR dk[0..32], dk[32..64])), where
//        addresshash = DoubleSha256(ASCII address of the key's single-sig account)[0..4] and
//        dk = scrypt(passphrase UTF-8, salt = addresshash, N, r, p, 64) — Neo's KeyPair.Export.
// NEP-6: {"name", "version", "scrypt":{"n","r","p"}, "accounts":[{"address","label","isDefault",
//        "lock","key","contract":{"script" (base64),"parameters":[{"name","type"}],"deployed"},
//        "extra"}], "extra"} — Neo's NEP6Wallet / NEP6Account / NEP6Contract JSON.
//
// Passphrases and decoded keys stay in SecretBytes / crypto::PrivateKey; no error message carries
// a key, a WIF or a passphrase.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "core/secret.h"
#include "core/status.h"
#include "crypto/p256.h"
#include "neo/account.h"
#include "neo/contract_param.h"
#include "neo/uint.h"

namespace neosl::neo {

// The ASCII WIF string, in SecretBytes because it is the key.
SecretBytes WifEncode(const crypto::PrivateKey& key);
// INVALID_ARGUMENT (without echoing the input) on bad Base58Check, length, prefix or suffix.
StatusOr<crypto::PrivateKey> WifDecode(std::string_view wif);

struct ScryptParams {
  uint64_t n = 16384;
  uint32_t r = 8;
  uint32_t p = 8;
  friend bool operator==(const ScryptParams&, const ScryptParams&) = default;
};

StatusOr<std::string> Nep2Encrypt(const crypto::PrivateKey& key, const SecretBytes& passphrase,
                                  const ScryptParams& scrypt = {}, uint8_t address_version = kAddressVersion);
// UNAUTHENTICATED "wrong passphrase" when the decrypted key's address does not match the
// embedded address hash; INVALID_ARGUMENT for a malformed NEP-2 string; scrypt's own errors
// (INVALID_ARGUMENT / RESOURCE_EXHAUSTED) for bad parameters.
StatusOr<crypto::PrivateKey> Nep2Decrypt(std::string_view nep2, const SecretBytes& passphrase,
                                         const ScryptParams& scrypt = {}, uint8_t address_version = kAddressVersion);

struct Nep6Parameter {
  std::string name;
  ContractParamType type = ContractParamType::Signature;
  friend bool operator==(const Nep6Parameter&, const Nep6Parameter&) = default;
};

struct Nep6Contract {
  std::vector<uint8_t> script;  // verification script; may be empty for a deployed contract
  std::vector<Nep6Parameter> parameters;
  bool deployed = false;
  friend bool operator==(const Nep6Contract&, const Nep6Contract&) = default;
};

struct Nep6Account {
  UInt160 script_hash;               // from "address"
  std::optional<std::string> label;  // null when absent
  bool is_default = false;
  bool lock = false;
  std::optional<std::string> key;  // NEP-2; absent for watch-only accounts
  std::optional<Nep6Contract> contract;
  boost::json::value extra;  // kept as is
  friend bool operator==(const Nep6Account&, const Nep6Account&) = default;
};

struct Nep6Wallet {
  std::optional<std::string> name;
  std::string version = "1.0";  // Neo writes "1.0"; neo-go writes "3.0"; both are read
  ScryptParams scrypt;
  std::vector<Nep6Account> accounts;
  boost::json::value extra;
  friend bool operator==(const Nep6Wallet&, const Nep6Wallet&) = default;
};

// Parses and checks a NEP-6 file: every address must carry `address_version` and a valid
// checksum; a non-deployed contract's script must hash to its account's address; NEP-2 keys must
// be well-formed. INVALID_ARGUMENT naming the account and field otherwise.
StatusOr<Nep6Wallet> Nep6FromJson(std::string_view json, uint8_t address_version = kAddressVersion);
std::string Nep6ToJson(const Nep6Wallet& wallet, uint8_t address_version = kAddressVersion);

// Decrypts `account`'s key with the wallet's scrypt parameters and checks that it belongs to the
// account: its single-sig hash is the account's, or its public key is one of the account's
// multisig keys. FAILED_PRECONDITION for a watch-only account (no key); UNAUTHENTICATED for a
// wrong passphrase; INVALID_ARGUMENT if the key does not belong to the account.
StatusOr<crypto::PrivateKey> DecryptAccountKey(const Nep6Wallet& wallet, const Nep6Account& account,
                                               const SecretBytes& passphrase,
                                               uint8_t address_version = kAddressVersion);

}  // namespace neosl::neo
