// ECIES over P-256: how clients encrypt secrets to the enclave's ECIES key, and how enclave state
// moves to a new enclave during an attested migration.
//
// Blob format, version 1 (all integers big-endian, sizes in bytes):
//
//   offset  size  field
//   0       1     version, 0x01
//   1       33    ephemeral public key E, SEC1 compressed (02/03 ‖ x)
//   34      12    AES-GCM nonce, random
//   46      n     ciphertext (same length as the plaintext)
//   46+n    16    AES-GCM tag
//
// To encrypt to a recipient key R (33-byte compressed encoding R33):
//   1. pick a fresh ephemeral P-256 key pair (e, E);
//   2. z   = x-coordinate of e·R, 32 bytes (plain ECDH, as OpenSSL's EVP_PKEY_derive and
//            WebCrypto's deriveBits return it);
//   3. key = HKDF-SHA256(ikm = z, salt = E33 ‖ R33, info = the caller's context string, L = 32);
//   4. ciphertext ‖ tag = AES-256-GCM(key, nonce, aad = empty, plaintext).
// The header is bound without AAD: E and R are in the HKDF salt, and the version byte is checked.
// `info` names the purpose ("neosl-secret-v1", "neosl-migration-v1" …) so that a blob made for
// one use cannot be replayed into another. Every blob that does not decrypt (truncated, unknown
// version, a point not on the curve, a wrong key, a wrong info, any flipped bit) is DATA_LOSS;
// the messages name the check that failed, never key material.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/random.h"
#include "core/secret.h"
#include "core/status.h"
#include "crypto/p256.h"

namespace neosl::crypto {

inline constexpr uint8_t kEciesVersion = 0x01;
inline constexpr size_t kEciesHeaderSize = 1 + 33 + 12;          // version ‖ E ‖ nonce
inline constexpr size_t kEciesOverhead = kEciesHeaderSize + 16;  // … ‖ tag

// Encrypts `plaintext` to `recipient`. The ephemeral key and nonce are drawn from `random`.
StatusOr<std::vector<uint8_t>> EciesEncrypt(const PublicKey& recipient, std::span<const uint8_t> plaintext,
                                            std::span<const uint8_t> info, RandomSource& random);

// Decrypts a blob made by EciesEncrypt for `recipient`'s public key with the same `info`.
StatusOr<SecretBytes> EciesDecrypt(const PrivateKey& recipient, std::span<const uint8_t> blob,
                                   std::span<const uint8_t> info);

namespace internal {
// The raw ECDH shared secret: the 32-byte x-coordinate of key·peer (EVP_PKEY_derive).
// Exposed so tests can check it against RFC 5903's vector and a second computation.
StatusOr<SecretBytes> EcdhSharedX(const PrivateKey& key, const PublicKey& peer);
}  // namespace internal

}  // namespace neosl::crypto
