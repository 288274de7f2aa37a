// Arithmetic modulo n, the order of the P-256 group, on fixed 4 x 64-bit limbs. Signing needs
// k^-1 mod n for every signature; BN's generic constant-time exponentiation spends about half of
// a signature's time on it, and OpenSSL's fast P-256 order inverse is not exported.
//
// Every function runs in time independent of its inputs (no value-dependent branches or memory
// indices), because nonces and private keys pass through it. Internal to src/crypto.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace neosl::crypto::p256_scalar {

using Limbs = std::array<uint64_t, 4>;  // little-endian 64-bit limbs

// Big-endian bytes <-> limbs; no reduction (callers pass values already below n).
Limbs FromBytes(std::span<const uint8_t, 32> big_endian);
void ToBytes(const Limbs& value, std::span<uint8_t, 32> big_endian);

// Montgomery form with R = 2^256: MontMul(aR, bR) = abR. Inputs must be below n.
Limbs MontMul(const Limbs& a, const Limbs& b);
Limbs ToMont(const Limbs& a);    // a -> aR mod n
Limbs FromMont(const Limbs& a);  // aR -> a

// (a + b) mod n for a, b < n; works in either form.
Limbs Add(const Limbs& a, const Limbs& b);

// aR -> a^-1 R (Fermat: a^(n-2)); zero maps to zero.
Limbs InvertMont(const Limbs& a_mont);

// All-zero test that does not stop at the first non-zero limb.
bool IsZero(const Limbs& a);

}  // namespace neosl::crypto::p256_scalar
