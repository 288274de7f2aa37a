// Hash functions (OpenSSL 3). Neo uses SHA-256 for transaction and block hashes and
// RIPEMD-160(SHA-256(x)) ("Hash160") for script hashes.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace neosl::crypto {

using Digest256 = std::array<uint8_t, 32>;
using Digest160 = std::array<uint8_t, 20>;

Digest256 Sha256(std::span<const uint8_t> data);
Digest256 DoubleSha256(std::span<const uint8_t> data);  // SHA-256(SHA-256(x))
Digest160 Ripemd160(std::span<const uint8_t> data);
Digest160 Hash160(std::span<const uint8_t> data);  // RIPEMD-160(SHA-256(x))
Digest256 HmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> data);

inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace neosl::crypto
