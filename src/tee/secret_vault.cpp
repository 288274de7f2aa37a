#include "tee/secret_vault.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "crypto/aes.h"
#include "crypto/kdf.h"
#include "enclave.pb.h"

namespace neosl::tee {
namespace {

std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Appends `v` big-endian at `*at`.
void PutU32(uint8_t*& at, uint32_t v) {
  *at++ = static_cast<uint8_t>(v >> 24);
  *at++ = static_cast<uint8_t>(v >> 16);
  *at++ = static_cast<uint8_t>(v >> 8);
  *at++ = static_cast<uint8_t>(v);
}

void PutBytes(uint8_t*& at, std::string_view s) {
  if (!s.empty()) std::memcpy(at, s.data(), s.size());
  at += s.size();
}

// "neosl-secret-v1" ‖ u32 len ‖ account ‖ u32 len ‖ name ‖ u32 version.
std::vector<uint8_t> AdditionalData(std::string_view account, std::string_view name, uint32_t version) {
  std::vector<uint8_t> aad(kSecretAadLabel.size() + 4 + account.size() + 4 + name.size() + 4);
  uint8_t* at = aad.data();
  PutBytes(at, kSecretAadLabel);
  PutU32(at, static_cast<uint32_t>(account.size()));
  PutBytes(at, account);
  PutU32(at, static_cast<uint32_t>(name.size()));
  PutBytes(at, name);
  PutU32(at, version);
  return aad;
}

Status CheckRow(std::string_view account, std::string_view name) {
  if (account.empty()) return InvalidArgumentError("secret: the account must not be empty");
  if (name.empty()) return InvalidArgumentError("secret: the name must not be empty");
  // The lengths go into the additional data as u32.
  if (account.size() > UINT32_MAX || name.size() > UINT32_MAX) {
    return InvalidArgumentError("secret: the account or name is too long");
  }
  return Status::Ok();
}

}  // namespace

StatusOr<SecretVault> SecretVault::Create(SecretBytes key) {
  if (key.size() != crypto::kAes256KeySize) {
    return InvalidArgumentError("secret vault: the key must be 32 bytes, got " + std::to_string(key.size()));
  }
  return SecretVault(std::move(key));
}

StatusOr<SecretVault> SecretVault::ForEnclaveKeys(const EnclaveKeys& keys) {
  const SecretBytes record = keys.Serialize();
  ASSIGN_OR_RETURN(SecretBytes key,
                   crypto::HkdfSha256(record.bytes(), {}, AsBytes(kSecretsKeyInfo), crypto::kAes256KeySize));
  return Create(std::move(key));
}

StatusOr<std::vector<uint8_t>> SecretVault::Encrypt(std::string_view account, std::string_view name, uint32_t version,
                                                    std::span<const uint8_t> plaintext, RandomSource& random) const {
  RETURN_IF_ERROR(CheckRow(account, name));
  if (plaintext.size() > kMaxSecretValueSize) {
    return InvalidArgumentError("secret: the value is " + std::to_string(plaintext.size()) + " bytes, over the " +
                                std::to_string(kMaxSecretValueSize) + "-byte limit");
  }
  std::vector<uint8_t> out(crypto::kAesGcmNonceSize);
  random.Fill(out);
  ASSIGN_OR_RETURN(std::vector<uint8_t> sealed,
                   crypto::Aes256GcmSeal(key_.bytes(), out, AdditionalData(account, name, version), plaintext));
  out.insert(out.end(), sealed.begin(), sealed.end());
  return out;
}

StatusOr<SecretBytes> SecretVault::Decrypt(std::string_view account, std::string_view name, uint32_t version,
                                           std::span<const uint8_t> ciphertext) const {
  RETURN_IF_ERROR(CheckRow(account, name));
  if (ciphertext.size() < kSecretCiphertextOverhead ||
      ciphertext.size() > kMaxSecretValueSize + kSecretCiphertextOverhead) {
    return DataLossError("secret: the ciphertext does not decrypt for this account, name and version");
  }
  auto plain =
      crypto::Aes256GcmOpen(key_.bytes(), ciphertext.first(crypto::kAesGcmNonceSize),
                            AdditionalData(account, name, version), ciphertext.subspan(crypto::kAesGcmNonceSize));
  if (!plain.ok()) {
    if (plain.status().code() == StatusCode::kDataLoss) {
      return DataLossError("secret: the ciphertext does not decrypt for this account, name and version");
    }
    return plain.status();
  }
  return std::move(*plain);
}

Status SecretProvider::Grant(std::string name, uint32_t version, std::vector<uint8_t> ciphertext) {
  if (name.empty()) return InvalidArgumentError("secret provider: the name must not be empty");
  if (ciphertext.size() > kMaxSecretValueSize + kSecretCiphertextOverhead) {
    return InvalidArgumentError("secret provider: the ciphertext of '" + name + "' is over the size limit");
  }
  std::lock_guard lock(mu_);
  Entry& entry = entries_[std::move(name)];
  entry = Entry{};  // wipes a value decrypted under an earlier grant
  entry.version = version;
  entry.ciphertext = std::move(ciphertext);
  return Status::Ok();
}

StatusOr<std::span<const uint8_t>> SecretProvider::Get(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    return NotFoundError("secret '" + std::string(name) + "' is not granted to this invocation");
  }
  Entry& entry = it->second;
  if (!entry.decrypted) {
    ASSIGN_OR_RETURN(SecretBytes value, vault_.Decrypt(account_, name, entry.version, entry.ciphertext));
    // Locked pages when the limit allows; the enclave's memory lock limit is finite, and an
    // unlocked SecretBytes is still wiped, so running out of it is not an error.
    if (auto locked = LockedBuffer::CopyOf(value); locked.ok()) {
      entry.locked = std::move(*locked);
    } else {
      entry.unlocked = std::move(value);
    }
    entry.decrypted = true;
  }
  return entry.locked.empty() ? entry.unlocked.bytes() : entry.locked.bytes();
}

void SecretProvider::Wipe() {
  std::lock_guard lock(mu_);
  for (auto& [name, entry] : entries_) {
    entry.locked = LockedBuffer();   // wiped, then unmapped
    entry.unlocked = SecretBytes();  // wiped
    entry.decrypted = false;
  }
}

size_t SecretProvider::cached() const {
  std::lock_guard lock(mu_);
  return static_cast<size_t>(
      std::count_if(entries_.begin(), entries_.end(), [](const auto& kv) { return kv.second.decrypted; }));
}

StatusOr<std::unique_ptr<SecretProvider>> ProviderForInvocation(const SecretVault& vault,
                                                                const v1::InvocationSecrets& secrets) {
  if (secrets.account().empty()) return InvalidArgumentError("invocation secrets: the account must not be empty");
  if (size_t(secrets.secrets_size()) > kMaxInvocationSecrets) {
    return InvalidArgumentError("invocation secrets: at most " + std::to_string(kMaxInvocationSecrets) + " secrets");
  }
  auto provider = std::make_unique<SecretProvider>(vault, secrets.account());
  std::vector<std::string_view> seen;
  for (const auto& secret : secrets.secrets()) {
    if (std::find(seen.begin(), seen.end(), secret.name()) != seen.end()) {
      return InvalidArgumentError("invocation secrets: '" + secret.name() + "' is given twice");
    }
    seen.push_back(secret.name());
    const auto& c = secret.ciphertext();
    RETURN_IF_ERROR(
        provider->Grant(secret.name(), secret.version(), std::vector<uint8_t>(AsBytes(c).begin(), AsBytes(c).end())));
  }
  return provider;
}

}  // namespace neosl::tee
