// Secrets at rest, as the enclave keeps them (docs/secrets.md, "In the enclave").
//
// The host stores only ciphertexts made here; their key never leaves the enclave:
//
//   key = HKDF-SHA256(ikm  = EnclaveKeys::Serialize() (the 129-byte sealed key record),
//                     salt = empty (RFC 5869's default),
//                     info = "neosl-secrets-v1", L = 32)
//
// It is derived from the enclave's long-lived keys, which the key store seals to the enclave's
// identity and `neosl enclave migrate` carries to a new build, so ciphertexts stay readable
// across restarts, signer-policy upgrades and migrations alike (a key derived from the sealing
// key itself would be lost with every rebuild under the measurement policy).
//
// Ciphertext, version 1:
//
//   offset  size  field
//   0       12    AES-GCM nonce, random
//   12      n     AES-256-GCM ciphertext of the value (n = value length, at most 64 KiB)
//   12+n    16    AES-GCM tag
//
// Additional data, binding the ciphertext to its row (integers big-endian):
//
//   "neosl-secret-v1" ‖ u32 len ‖ account ‖ u32 len ‖ name ‖ u32 version
//
// so a ciphertext copied to another account, name or version fails to decrypt.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/random.h"
#include "core/secret.h"
#include "core/status.h"
#include "tee/keys.h"
#include "tee/locked_memory.h"

namespace neosl::tee {

namespace v1 {
class InvocationSecrets;  // proto/enclave.proto
}

inline constexpr std::string_view kSecretsKeyInfo = "neosl-secrets-v1";
inline constexpr std::string_view kSecretAadLabel = "neosl-secret-v1";
// The ECIES `info` of a value encrypted client-side to the enclave (crypto/ecies.h).
inline constexpr std::string_view kSecretEciesInfo = "neosl-secret-v1";
inline constexpr size_t kMaxSecretValueSize = size_t{64} << 10;
inline constexpr size_t kSecretCiphertextOverhead = 12 + 16;  // nonce ‖ … ‖ tag

class SecretVault {
 public:
  // INVALID_ARGUMENT unless `key` is 32 bytes.
  static StatusOr<SecretVault> Create(SecretBytes key);
  // The enclave's vault: the key derived from its long-lived keys as above.
  static StatusOr<SecretVault> ForEnclaveKeys(const EnclaveKeys& keys);

  // INVALID_ARGUMENT for an empty account or name, or a value over kMaxSecretValueSize.
  StatusOr<std::vector<uint8_t>> Encrypt(std::string_view account, std::string_view name, uint32_t version,
                                         std::span<const uint8_t> plaintext,
                                         RandomSource& random = SecureRandom::Instance()) const;

  // DATA_LOSS for a ciphertext that is truncated, tampered with, made under another key, or for
  // another account, name or version — one message for all, naming nothing of the value.
  // INVALID_ARGUMENT for an empty account or name.
  StatusOr<SecretBytes> Decrypt(std::string_view account, std::string_view name, uint32_t version,
                                std::span<const uint8_t> ciphertext) const;

 private:
  explicit SecretVault(SecretBytes key) : key_(std::move(key)) {}
  SecretBytes key_;
};

// The secrets one function invocation may read, inside the enclave: the host hands in the
// ciphertexts of the secrets granted to the invocation, and the JS runtime reads them by name.
// Values are decrypted on first read and kept, in locked pages where the memory lock limit
// allows (LockedBuffer) and wiped in any case, until Wipe or destruction.
class SecretProvider {
 public:
  // `vault` must outlive the provider.
  SecretProvider(const SecretVault& vault, std::string account) : vault_(vault), account_(std::move(account)) {}
  ~SecretProvider() { Wipe(); }
  SecretProvider(const SecretProvider&) = delete;
  SecretProvider& operator=(const SecretProvider&) = delete;

  // Hands in `name`'s stored ciphertext; a second grant of a name replaces the first (and drops
  // its decrypted value). INVALID_ARGUMENT for an empty name or an oversized ciphertext.
  Status Grant(std::string name, uint32_t version, std::vector<uint8_t> ciphertext);

  // The value of a granted secret, valid until Wipe, a new Grant of that name, or destruction.
  // NOT_FOUND for a name that was not granted (the message names it; names are not secret);
  // DATA_LOSS when its ciphertext does not decrypt for this account, name and version.
  StatusOr<std::span<const uint8_t>> Get(std::string_view name);

  // Wipes and drops every decrypted value; grants stay, so a later Get decrypts again.
  void Wipe();
  // How many values are held decrypted.
  size_t cached() const;

 private:
  struct Entry {
    uint32_t version = 0;
    std::vector<uint8_t> ciphertext;
    bool decrypted = false;
    LockedBuffer locked;   // the value, when it could be locked
    SecretBytes unlocked;  // otherwise
  };
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  const SecretVault& vault_;
  const std::string account_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry, NameHash, std::equal_to<>> entries_;
};

// The provider of one function invocation, from the secrets its ECALL carries (as the secrets
// service's ResolveSecrets handed them out). INVALID_ARGUMENT for an empty account, more than
// kMaxInvocationSecrets secrets, a name given twice, or a bad entry; nothing is decrypted yet.
inline constexpr size_t kMaxInvocationSecrets = 100;
StatusOr<std::unique_ptr<SecretProvider>> ProviderForInvocation(const SecretVault& vault,
                                                                const v1::InvocationSecrets& secrets);

}  // namespace neosl::tee
