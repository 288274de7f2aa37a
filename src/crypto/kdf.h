// Key derivation: HKDF-SHA256 (RFC 5869) for deriving keys from a high-entropy secret, and
// scrypt (RFC 7914) for passwords, which NEP-2 encrypted keys use with N=16384, r=8, p=8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/secret.h"
#include "core/status.h"

namespace neosl::crypto {

// HKDF-Extract-then-Expand with HMAC-SHA256. `length` must be in [1, 255 * 32] as RFC 5869
// allows; an empty salt means the RFC's default (32 zero bytes).
StatusOr<SecretBytes> HkdfSha256(std::span<const uint8_t> ikm, std::span<const uint8_t> salt,
                                 std::span<const uint8_t> info, size_t length);

// The most memory one Scrypt call may use (128 * r * (n + p) bytes plus a little). NEP-2 needs
// about 16 MiB; the cap keeps a hostile wallet file (its scrypt parameters are attacker-chosen)
// from making us allocate gigabytes.
inline constexpr uint64_t kScryptMaxMemoryBytes = uint64_t{64} << 20;

// scrypt via OpenSSL's EVP_PBE_scrypt. `n` must be a power of two greater than 1, r and p at
// least 1, `length` at least 1. Parameters that would need more than kScryptMaxMemoryBytes fail
// with RESOURCE_EXHAUSTED; malformed ones with INVALID_ARGUMENT.
StatusOr<SecretBytes> Scrypt(std::span<const uint8_t> password, std::span<const uint8_t> salt, uint64_t n, uint32_t r,
                             uint32_t p, size_t length);

}  // namespace neosl::crypto
