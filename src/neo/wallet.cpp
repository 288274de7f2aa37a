#include "neo/wallet.h"

#include <algorithm>
#include <array>
#include <set>

#include <boost/json.hpp>
#include <openssl/crypto.h>

#include "core/encoding.h"
#include "crypto/aes.h"
#include "crypto/base58.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "neo/rpc_types.h"  // Base64Encode / Base64Decode (strict, canonical)

namespace neosl::neo {
namespace json = boost::json;
namespace {

constexpr uint8_t kWifPrefix = 0x80;
constexpr uint8_t kWifCompressedFlag = 0x01;
constexpr std::array<uint8_t, 3> kNep2Prefix = {0x01, 0x42, 0xE0};
constexpr size_t kNep2Size = 39;  // prefix 3 + address hash 4 + encrypted key 32

// Wipes a buffer that held key material when it goes out of scope.
template <typename Container>
struct Wiper {
  Container& c;
  ~Wiper() { OPENSSL_cleanse(c.data(), c.size()); }
};

std::array<uint8_t, 4> AddressHash(const crypto::PublicKey& key, uint8_t version) {
  const std::string address = ToAddress(ScriptHash(SingleSigScript(key)), version);
  const crypto::Digest256 d = crypto::DoubleSha256(crypto::AsBytes(address));
  return {d[0], d[1], d[2], d[3]};
}

// The 39 NEP-2 bytes, or INVALID_ARGUMENT.
StatusOr<std::vector<uint8_t>> DecodeNep2(std::string_view nep2) {
  auto decoded = crypto::Base58CheckDecode(nep2);
  if (!decoded.ok()) return InvalidArgumentError("NEP-2 key is not valid Base58Check");
  if (decoded->size() != kNep2Size || !std::equal(kNep2Prefix.begin(), kNep2Prefix.end(), decoded->begin())) {
    return InvalidArgumentError("NEP-2 key must be 39 bytes starting 01 42 E0");
  }
  return *std::move(decoded);
}

Status Field(std::string_view where, std::string_view what) {
  return InvalidArgumentError("NEP-6 " + std::string(where) + ": " + std::string(what));
}

std::string AccountWhere(size_t index) {
  return "accounts[" + std::to_string(index) + "]";
}

// An optional string member: absent and null both give nullopt.
StatusOr<std::optional<std::string>> OptString(const json::object& o, std::string_view key, std::string_view where) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) return Field(where, "\"" + std::string(key) + "\" must be a string or null");
  return std::optional<std::string>(std::string(v->get_string()));
}

StatusOr<bool> RequiredBool(const json::object& o, std::string_view key, std::string_view where) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_bool()) return Field(where, "\"" + std::string(key) + "\" must be true or false");
  return v->get_bool();
}

StatusOr<uint64_t> PositiveInt(const json::object& o, std::string_view key, uint64_t max) {
  const json::value* v = o.if_contains(key);
  uint64_t out = 0;
  if (v != nullptr && v->is_int64() && v->get_int64() > 0) out = static_cast<uint64_t>(v->get_int64());
  if (v != nullptr && v->is_uint64()) out = v->get_uint64();
  if (out == 0 || out > max) return Field("scrypt", "\"" + std::string(key) + "\" must be a positive integer");
  return out;
}

StatusOr<ScryptParams> ScryptFromJson(const json::value* v) {
  const json::object* o = v == nullptr ? nullptr : v->if_object();
  if (o == nullptr) return Field("scrypt", "must be an object {\"n\",\"r\",\"p\"}");
  ScryptParams s;
  ASSIGN_OR_RETURN(s.n, PositiveInt(*o, "n", UINT64_MAX));
  ASSIGN_OR_RETURN(uint64_t r, PositiveInt(*o, "r", UINT32_MAX));
  ASSIGN_OR_RETURN(uint64_t p, PositiveInt(*o, "p", UINT32_MAX));
  if (s.n < 2 || (s.n & (s.n - 1)) != 0) return Field("scrypt", "\"n\" must be a power of two greater than 1");
  s.r = static_cast<uint32_t>(r);
  s.p = static_cast<uint32_t>(p);
  return s;
}

StatusOr<Nep6Contract> ContractFromJson(const json::object& o, std::string_view where) {
  Nep6Contract c;
  const json::value* script = o.if_contains("script");
  if (script == nullptr || !script->is_string()) return Field(where, "contract \"script\" must be a base64 string");
  auto bytes = Base64Decode(std::string_view(script->get_string()));
  if (!bytes) return Field(where, "contract \"script\" is not canonical base64");
  c.script = std::move(*bytes);
  const json::value* params = o.if_contains("parameters");
  if (params == nullptr || !params->is_array()) return Field(where, "contract \"parameters\" must be an array");
  for (const json::value& p : params->get_array()) {
    const json::object* po = p.if_object();
    const json::value* name = po == nullptr ? nullptr : po->if_contains("name");
    const json::value* type = po == nullptr ? nullptr : po->if_contains("type");
    if (name == nullptr || !name->is_string() || type == nullptr || !type->is_string()) {
      return Field(where, "contract parameters must be {\"name\": string, \"type\": string}");
    }
    std::optional<ContractParamType> t = ContractParamTypeFromName(std::string_view(type->get_string()));
    if (!t) return Field(where, "unknown contract parameter type \"" + std::string(type->get_string()) + "\"");
    c.parameters.push_back({std::string(name->get_string()), *t});
  }
  ASSIGN_OR_RETURN(c.deployed, RequiredBool(o, "deployed", where));
  return c;
}

StatusOr<Nep6Account> AccountFromJson(const json::value& v, size_t index, uint8_t version) {
  const std::string where = AccountWhere(index);
  const json::object* o = v.if_object();
  if (o == nullptr) return Field(where, "must be an object");
  Nep6Account a;
  const json::value* address = o->if_contains("address");
  if (address == nullptr || !address->is_string()) return Field(where, "\"address\" must be a string");
  auto hash = AddressToScriptHash(std::string_view(address->get_string()), version);
  if (!hash.ok()) return Field(where, hash.status().message());
  a.script_hash = *hash;
  ASSIGN_OR_RETURN(a.label, OptString(*o, "label", where));
  ASSIGN_OR_RETURN(a.is_default, RequiredBool(*o, "isDefault", where));
  ASSIGN_OR_RETURN(a.lock, RequiredBool(*o, "lock", where));
  ASSIGN_OR_RETURN(a.key, OptString(*o, "key", where));
  if (a.key) {
    auto nep2 = DecodeNep2(*a.key);
    if (!nep2.ok()) return Field(where, nep2.status().message());
  }
  const json::value* contract = o->if_contains("contract");
  if (contract != nullptr && !contract->is_null()) {
    if (!contract->is_object()) return Field(where, "\"contract\" must be an object or null");
    ASSIGN_OR_RETURN(Nep6Contract c, ContractFromJson(contract->get_object(), where));
    // A tampered file could show one address and carry another account's script.
    if (!c.deployed && !c.script.empty() && ScriptHash(c.script) != a.script_hash) {
      return Field(where, "contract script does not hash to the account's address");
    }
    a.contract = std::move(c);
  }
  if (const json::value* extra = o->if_contains("extra")) a.extra = *extra;
  return a;
}

json::value OptionalString(const std::optional<std::string>& s) {
  if (!s) return nullptr;
  return json::string(s->data(), s->size());
}

json::string JsonString(std::string_view s) {
  return json::string(s.data(), s.size());
}

}  // namespace

SecretBytes WifEncode(const crypto::PrivateKey& key) {
  std::array<uint8_t, 34> payload{};
  Wiper<std::array<uint8_t, 34>> wipe_payload{payload};
  payload[0] = kWifPrefix;
  std::span<const uint8_t> scalar = key.bytes().bytes();
  std::copy(scalar.begin(), scalar.end(), payload.begin() + 1);
  payload[33] = kWifCompressedFlag;
  std::string wif = crypto::Base58CheckEncode(payload);
  Wiper<std::string> wipe_wif{wif};
  return SecretBytes(std::string_view(wif));
}

StatusOr<crypto::PrivateKey> WifDecode(std::string_view wif) {
  auto decoded = crypto::Base58CheckDecode(wif);
  if (!decoded.ok()) return InvalidArgumentError("WIF is not valid Base58Check");
  Wiper<std::vector<uint8_t>> wipe{*decoded};
  if (decoded->size() != 34 || (*decoded)[0] != kWifPrefix || (*decoded)[33] != kWifCompressedFlag) {
    return InvalidArgumentError("WIF must be 34 bytes: 0x80, the 32-byte key, 0x01");
  }
  auto key = crypto::PrivateKey::FromBytes(std::span(*decoded).subspan(1, 32));
  if (!key.ok()) return InvalidArgumentError("WIF does not hold a valid secp256r1 private key");
  return key;
}

StatusOr<std::string> Nep2Encrypt(const crypto::PrivateKey& key, const SecretBytes& passphrase,
                                  const ScryptParams& scrypt, uint8_t address_version) {
  const std::array<uint8_t, 4> address_hash = AddressHash(key.public_key(), address_version);
  ASSIGN_OR_RETURN(SecretBytes derived,
                   crypto::Scrypt(passphrase.bytes(), address_hash, scrypt.n, scrypt.r, scrypt.p, 64));
  std::span<const uint8_t> half1 = derived.bytes().first(32), half2 = derived.bytes().subspan(32, 32);
  std::span<const uint8_t> scalar = key.bytes().bytes();
  std::array<uint8_t, 32> xored{};
  Wiper<std::array<uint8_t, 32>> wipe{xored};
  for (size_t i = 0; i < 32; ++i) xored[i] = scalar[i] ^ half1[i];
  ASSIGN_OR_RETURN(std::vector<uint8_t> encrypted, crypto::Aes256EcbEncrypt(half2, xored));
  std::vector<uint8_t> payload(kNep2Prefix.begin(), kNep2Prefix.end());
  payload.insert(payload.end(), address_hash.begin(), address_hash.end());
  payload.insert(payload.end(), encrypted.begin(), encrypted.end());
  return crypto::Base58CheckEncode(payload);
}

StatusOr<crypto::PrivateKey> Nep2Decrypt(std::string_view nep2, const SecretBytes& passphrase,
                                         const ScryptParams& scrypt, uint8_t address_version) {
  ASSIGN_OR_RETURN(std::vector<uint8_t> data, DecodeNep2(nep2));
  std::span<const uint8_t> address_hash = std::span(data).subspan(3, 4);
  ASSIGN_OR_RETURN(SecretBytes derived,
                   crypto::Scrypt(passphrase.bytes(), address_hash, scrypt.n, scrypt.r, scrypt.p, 64));
  std::span<const uint8_t> half1 = derived.bytes().first(32), half2 = derived.bytes().subspan(32, 32);
  ASSIGN_OR_RETURN(std::vector<uint8_t> decrypted, crypto::Aes256EcbDecrypt(half2, std::span(data).subspan(7, 32)));
  Wiper<std::vector<uint8_t>> wipe_decrypted{decrypted};
  std::array<uint8_t, 32> scalar{};
  Wiper<std::array<uint8_t, 32>> wipe_scalar{scalar};
  for (size_t i = 0; i < 32; ++i) scalar[i] = decrypted[i] ^ half1[i];
  // A wrong passphrase yields 32 random bytes: almost surely a valid scalar whose address hash
  // differs from the embedded one (and in the rare other case, not a scalar at all).
  auto key = crypto::PrivateKey::FromBytes(scalar);
  if (!key.ok()) return UnauthenticatedError("wrong passphrase");
  const std::array<uint8_t, 4> check = AddressHash(key->public_key(), address_version);
  if (!ConstantTimeEquals(check, address_hash)) return UnauthenticatedError("wrong passphrase");
  return key;
}

StatusOr<Nep6Wallet> Nep6FromJson(std::string_view text, uint8_t address_version) {
  json::parse_options options;
  options.max_depth = 64;
  boost::system::error_code ec;
  json::value root = json::parse(json::string_view(text.data(), text.size()), ec, {}, options);
  if (ec) return InvalidArgumentError("NEP-6 wallet is not valid JSON: " + ec.message());
  const json::object* o = root.if_object();
  if (o == nullptr) return Field("wallet", "must be a JSON object");
  Nep6Wallet w;
  ASSIGN_OR_RETURN(w.name, OptString(*o, "name", "wallet"));
  const json::value* version = o->if_contains("version");
  if (version == nullptr || !version->is_string()) return Field("wallet", "\"version\" must be a string");
  w.version = std::string(version->get_string());
  const bool version_ok =
      !w.version.empty() && w.version.size() <= 32 &&
      std::all_of(w.version.begin(), w.version.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
  if (!version_ok) return Field("wallet", "\"version\" must look like \"1.0\"");
  ASSIGN_OR_RETURN(w.scrypt, ScryptFromJson(o->if_contains("scrypt")));
  const json::value* accounts = o->if_contains("accounts");
  if (accounts == nullptr || !accounts->is_array()) return Field("wallet", "\"accounts\" must be an array");
  std::set<UInt160> seen;
  for (size_t i = 0; i < accounts->get_array().size(); ++i) {
    ASSIGN_OR_RETURN(Nep6Account a, AccountFromJson(accounts->get_array()[i], i, address_version));
    if (!seen.insert(a.script_hash).second) return Field(AccountWhere(i), "duplicate address");
    w.accounts.push_back(std::move(a));
  }
  if (const json::value* extra = o->if_contains("extra")) w.extra = *extra;
  return w;
}

std::string Nep6ToJson(const Nep6Wallet& wallet, uint8_t address_version) {
  json::array accounts;
  for (const Nep6Account& a : wallet.accounts) {
    json::object acc;
    acc["address"] = JsonString(ToAddress(a.script_hash, address_version));
    acc["label"] = OptionalString(a.label);
    acc["isDefault"] = a.is_default;
    acc["lock"] = a.lock;
    acc["key"] = OptionalString(a.key);
    if (a.contract) {
      json::object c;
      c["script"] = JsonString(Base64Encode(a.contract->script));
      json::array params;
      for (const Nep6Parameter& p : a.contract->parameters) {
        params.push_back(
            json::object{{"name", JsonString(p.name)}, {"type", JsonString(ContractParamTypeName(p.type))}});
      }
      c["parameters"] = std::move(params);
      c["deployed"] = a.contract->deployed;
      acc["contract"] = std::move(c);
    } else {
      acc["contract"] = nullptr;
    }
    acc["extra"] = a.extra;
    accounts.push_back(std::move(acc));
  }
  json::object root;
  root["name"] = OptionalString(wallet.name);
  root["version"] = JsonString(wallet.version);
  root["scrypt"] = json::object{{"n", wallet.scrypt.n}, {"r", wallet.scrypt.r}, {"p", wallet.scrypt.p}};
  root["accounts"] = std::move(accounts);
  root["extra"] = wallet.extra;
  return json::serialize(root);
}

StatusOr<crypto::PrivateKey> DecryptAccountKey(const Nep6Wallet& wallet, const Nep6Account& account,
                                               const SecretBytes& passphrase, uint8_t address_version) {
  if (!account.key)
    return FailedPreconditionError("account " + ToAddress(account.script_hash, address_version) +
                                   " is watch-only (no key)");
  ASSIGN_OR_RETURN(crypto::PrivateKey key, Nep2Decrypt(*account.key, passphrase, wallet.scrypt, address_version));
  const crypto::PublicKey& pub = key.public_key();
  if (ScriptHash(SingleSigScript(pub)) == account.script_hash) return key;
  if (account.contract && !account.contract->script.empty()) {
    auto info = ParseVerificationScript(account.contract->script);
    if (info.ok() && std::find(info->keys.begin(), info->keys.end(), pub) != info->keys.end()) return key;
  }
  return InvalidArgumentError("the decrypted key does not belong to account " +
                              ToAddress(account.script_hash, address_version));
}

}  // namespace neosl::neo
