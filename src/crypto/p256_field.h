// Arithmetic modulo p = 2^256 - 2^224 + 2^192 + 2^96 - 1, the P-256 prime: as much as decoding
// a compressed point needs (a square root by a fixed addition chain over 4x64-bit Montgomery
// arithmetic, about 3.3 us against OpenSSL's 10 us in EC_POINT_oct2point). For public inputs
// (candidate strings, proofs, public keys), though nothing in it branches on values.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

namespace neosl::crypto::p256_field {

// SEC1 2.3.4: the uncompressed form (0x04 ‖ x ‖ y) of a compressed point (0x02/0x03 ‖ x), or
// nullopt when x is not below p or x^3 - 3x + b is not a square. The result is a point on the
// curve; callers parsing it with OpenSSL get that checked again.
std::optional<std::array<uint8_t, 65>> Decompress(std::span<const uint8_t, 33> compressed);

}  // namespace neosl::crypto::p256_field
