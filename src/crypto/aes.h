// AES-256 in the two modes we need: GCM for sealing our own secrets at rest, and raw ECB
// without padding because NEP-2 (encrypted private keys) specifies it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/secret.h"
#include "core/status.h"

namespace neosl::crypto {

inline constexpr size_t kAes256KeySize = 32;
inline constexpr size_t kAesGcmNonceSize = 12;
inline constexpr size_t kAesGcmTagSize = 16;

// AES-256-GCM with a 12-byte nonce; output = ciphertext || 16-byte tag. A nonce must never be
// reused with the same key. INVALID_ARGUMENT on a wrong key or nonce size.
StatusOr<std::vector<uint8_t>> Aes256GcmSeal(std::span<const uint8_t> key, std::span<const uint8_t> nonce,
                                             std::span<const uint8_t> aad, std::span<const uint8_t> plaintext);

// Fails with DATA_LOSS ("authentication failed") on any tamper (ciphertext, tag, aad, nonce, or a
// truncated input); never returns unauthenticated bytes. INVALID_ARGUMENT on a wrong key or
// nonce size.
StatusOr<SecretBytes> Aes256GcmOpen(std::span<const uint8_t> key, std::span<const uint8_t> nonce,
                                    std::span<const uint8_t> aad, std::span<const uint8_t> sealed);

// AES-256-ECB without padding (NEP-2 needs it); input length must be a multiple of 16.
// ECB leaks equal blocks, so use it only where a format demands it.
StatusOr<std::vector<uint8_t>> Aes256EcbEncrypt(std::span<const uint8_t> key, std::span<const uint8_t> data);
StatusOr<std::vector<uint8_t>> Aes256EcbDecrypt(std::span<const uint8_t> key, std::span<const uint8_t> data);

}  // namespace neosl::crypto
