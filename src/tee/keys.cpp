#include "tee/keys.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <openssl/crypto.h>

#include "core/encoding.h"
#include "core/log.h"
#include "crypto/ecies.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"

namespace neosl::tee {
namespace {

constexpr uint8_t kRecordVersion = 0x01;
constexpr size_t kScalarSize = 32;
constexpr size_t kRecordSize = 1 + 4 * kScalarSize;
// A sealed key file is a few hundred bytes; anything much larger is not ours.
constexpr size_t kMaxSealedKeysSize = 4096;

const char* const kKeyNames[] = {"neo", "vrf", "report", "ecies"};

std::string KeysPath(const std::string& dir) {
  return dir + "/" + std::string(kKeysFileName);
}

StatusOr<crypto::PublicKey> KeyField(const boost::json::object& o, const char* name) {
  const auto* f = o.if_contains(name);
  if (f == nullptr || !f->is_string()) {
    return InvalidArgumentError(std::string("public keys: \"") + name + "\" must be a string");
  }
  const auto& s = f->as_string();
  if (s.size() != 66)
    return InvalidArgumentError(std::string("public keys: \"") + name + "\" must be a compressed key");
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return InvalidArgumentError(std::string("public keys: \"") + name + "\" must be lowercase hex");
    }
  }
  auto key = crypto::PublicKey::FromHex(std::string_view(s.data(), s.size()));
  if (!key.ok()) return key.status().Annotate(std::string("public keys: \"") + name + "\"");
  return key;
}

StatusOr<EnclaveKeys> CreateKeys(const Sealer& sealer, SealPolicy policy, const std::string& path,
                                 RandomSource& random) {
  EnclaveKeys keys = EnclaveKeys::Generate(random);
  ASSIGN_OR_RETURN(std::vector<uint8_t> blob, sealer.Seal(policy, keys.Serialize().bytes(), kKeysSealLabel, random));
  Status written = internal::WriteFileDurably(path, blob, /*replace_existing=*/false);
  if (written.code() == StatusCode::kAlreadyExists) {
    return AbortedError(path + " appeared while new enclave keys were being created; restart to load it");
  }
  RETURN_IF_ERROR(written);
  log::Info("enclave keys created", {{"path", path}, {"policy", SealPolicyName(policy)}});
  return keys;
}

}  // namespace

boost::json::object PublicKeys::ToJson() const {
  boost::json::object o;
  o["neo"] = HexEncode(neo.Compressed());
  o["vrf"] = HexEncode(vrf.Compressed());
  o["report"] = HexEncode(report.Compressed());
  o["ecies"] = HexEncode(ecies.Compressed());
  return o;
}

StatusOr<PublicKeys> PublicKeys::FromJson(const boost::json::value& json) {
  if (!json.is_object()) return InvalidArgumentError("public keys must be a JSON object");
  const auto& o = json.as_object();
  for (const auto& [key, unused] : o) {
    if (key != "neo" && key != "vrf" && key != "report" && key != "ecies") {
      return InvalidArgumentError("public keys: unknown field \"" + std::string(key) + "\"");
    }
  }
  ASSIGN_OR_RETURN(crypto::PublicKey neo, KeyField(o, "neo"));
  ASSIGN_OR_RETURN(crypto::PublicKey vrf, KeyField(o, "vrf"));
  ASSIGN_OR_RETURN(crypto::PublicKey report, KeyField(o, "report"));
  ASSIGN_OR_RETURN(crypto::PublicKey ecies, KeyField(o, "ecies"));
  return PublicKeys{neo, vrf, report, ecies};
}

std::vector<uint8_t> PublicKeys::Canonical() const {
  std::vector<uint8_t> out;
  out.reserve(size_t{4} * 33);
  for (const crypto::PublicKey* k : {&neo, &vrf, &report, &ecies}) {
    const auto c = k->Compressed();
    out.insert(out.end(), c.begin(), c.end());
  }
  return out;
}

EnclaveKeys EnclaveKeys::Generate(RandomSource& random) {
  return EnclaveKeys{crypto::PrivateKey::Generate(random), crypto::PrivateKey::Generate(random),
                     crypto::PrivateKey::Generate(random), crypto::PrivateKey::Generate(random)};
}

SecretBytes EnclaveKeys::Serialize() const {
  std::array<uint8_t, kRecordSize> record{};
  record[0] = kRecordVersion;
  size_t offset = 1;
  for (const crypto::PrivateKey* k : {&neo, &vrf, &report, &ecies}) {
    const auto scalar = k->bytes().bytes();
    std::copy(scalar.begin(), scalar.end(), record.begin() + static_cast<std::ptrdiff_t>(offset));
    offset += kScalarSize;
  }
  SecretBytes out(record);
  OPENSSL_cleanse(record.data(), record.size());
  return out;
}

StatusOr<EnclaveKeys> EnclaveKeys::Parse(std::span<const uint8_t> record) {
  if (record.size() != kRecordSize) {
    return DataLossError("enclave key record is " + std::to_string(record.size()) + " bytes, expected " +
                         std::to_string(kRecordSize));
  }
  if (record[0] != kRecordVersion) {
    return DataLossError("enclave key record has unsupported version " + std::to_string(record[0]));
  }
  auto scalar = [&](int i) -> StatusOr<crypto::PrivateKey> {
    auto key = crypto::PrivateKey::FromBytes(record.subspan(1 + static_cast<size_t>(i) * kScalarSize, kScalarSize));
    if (!key.ok()) return DataLossError(std::string("enclave key record: the ") + kKeyNames[i] + " key is invalid");
    return key;
  };
  ASSIGN_OR_RETURN(crypto::PrivateKey neo, scalar(0));
  ASSIGN_OR_RETURN(crypto::PrivateKey vrf, scalar(1));
  ASSIGN_OR_RETURN(crypto::PrivateKey report, scalar(2));
  ASSIGN_OR_RETURN(crypto::PrivateKey ecies, scalar(3));
  return EnclaveKeys{std::move(neo), std::move(vrf), std::move(report), std::move(ecies)};
}

PublicKeys EnclaveKeys::Public() const {
  return PublicKeys{neo.public_key(), vrf.public_key(), report.public_key(), ecies.public_key()};
}

crypto::PrivateKey DeriveDepositKey(const crypto::PrivateKey& neo, std::string_view account) {
  // info = account ‖ counter: the counter is always exactly one byte, so no two (account, counter)
  // pairs give the same info.
  std::vector<uint8_t> info(account.begin(), account.end());
  info.push_back(0);
  for (int counter = 0; counter <= 0xff; ++counter) {
    info.back() = static_cast<uint8_t>(counter);
    auto okm = crypto::HkdfSha256(neo.bytes().bytes(), crypto::AsBytes(kDepositKeySalt), info, kScalarSize);
    if (!okm.ok()) break;  // 32 bytes is always a valid HKDF length
    // Out of range (k = 0 or k >= n) is the only way FromBytes fails on 32 bytes: try the next.
    auto key = crypto::PrivateKey::FromBytes(okm->bytes());
    if (key.ok()) return std::move(key).value();
  }
  // 256 out-of-range outputs in a row (about 2^-8192) or a broken HKDF: there is no key to give
  // and no error channel in the enclave's key path that would make a wrong key better.
  std::fprintf(stderr, "fatal: no deposit key could be derived\n");
  std::abort();
}

StatusOr<EnclaveKeys> KeyStore::LoadOrCreate(const Sealer& sealer, SealPolicy policy, const std::string& sealed_dir,
                                             RandomSource& random) {
  if (policy != SealPolicy::kMeasurement && policy != SealPolicy::kSigner) {
    return InvalidArgumentError("unknown seal policy " + std::to_string(static_cast<int>(policy)));
  }
  if (policy == SealPolicy::kSigner) {
    if (Status s = sealer.SignerStatus(); !s.ok()) return s.Annotate("enclave keys are to be sealed to the signer");
  }
  RETURN_IF_ERROR(internal::EnsurePrivateDirectory(sealed_dir));
  const std::string path = KeysPath(sealed_dir);

  auto blob = internal::ReadSmallFile(path, kMaxSealedKeysSize);
  if (!blob.ok() && blob.status().code() == StatusCode::kNotFound) return CreateKeys(sealer, policy, path, random);
  if (!blob.ok()) return blob.status().Annotate("reading enclave keys");

  const std::string refuse = "cannot unseal the enclave keys in " + path + " (left untouched; no new keys were made)";
  auto record = sealer.Unseal(*blob, kKeysSealLabel);
  if (!record.ok()) return record.status().Annotate(refuse);
  ASSIGN_OR_RETURN(SealedHeader header, ParseSealedHeader(*blob));  // cannot fail once unsealed
  auto keys = EnclaveKeys::Parse(record->bytes());
  if (!keys.ok()) return keys.status().Annotate(refuse);

  const bool other_policy = header.policy != policy;
  const bool older_version = policy == SealPolicy::kSigner && header.policy == SealPolicy::kSigner &&
                             header.isv_svn < sealer.sigstruct()->isv_svn;
  if (other_policy || older_version) {
    ASSIGN_OR_RETURN(std::vector<uint8_t> resealed, sealer.Seal(policy, record->bytes(), kKeysSealLabel, random));
    RETURN_IF_ERROR(internal::WriteFileDurably(path, resealed, /*replace_existing=*/true).Annotate("re-sealing"));
    log::Info("enclave keys re-sealed", {{"path", path},
                                         {"from_policy", SealPolicyName(header.policy)},
                                         {"to_policy", SealPolicyName(policy)},
                                         {"from_isv_svn", static_cast<int64_t>(header.isv_svn)}});
  }
  return std::move(keys).value();
}

StatusOr<std::vector<uint8_t>> ExportForMigration(const EnclaveKeys& keys, const crypto::PublicKey& recipient_ephemeral,
                                                  RandomSource& random) {
  return crypto::EciesEncrypt(recipient_ephemeral, keys.Serialize().bytes(), crypto::AsBytes(kMigrationInfo), random);
}

StatusOr<EnclaveKeys> ImportMigration(const crypto::PrivateKey& ephemeral, std::span<const uint8_t> blob) {
  auto record = crypto::EciesDecrypt(ephemeral, blob, crypto::AsBytes(kMigrationInfo));
  if (!record.ok()) return record.status().Annotate("importing migrated enclave keys");
  return EnclaveKeys::Parse(record->bytes());
}

}  // namespace neosl::tee
