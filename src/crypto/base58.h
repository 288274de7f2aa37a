// Base58 (bitcoin alphabet) and Base58Check, which Neo uses for addresses, WIF keys and NEP-2.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace neosl::crypto {

// Base58 conversion is quadratic in the length, so decoding refuses text longer than this;
// Neo's longest Base58 strings (NEP-2 keys) are 58 characters.
inline constexpr size_t kBase58MaxDecodeLength = 4096;

// Each leading zero byte becomes a leading '1'.
std::string Base58Encode(std::span<const uint8_t> data);
// INVALID_ARGUMENT on a character outside the alphabet (including whitespace) or text longer
// than kBase58MaxDecodeLength.
StatusOr<std::vector<uint8_t>> Base58Decode(std::string_view text);

// payload || first 4 bytes of DoubleSha256(payload)
std::string Base58CheckEncode(std::span<const uint8_t> payload);
// Verifies and strips the checksum; INVALID_ARGUMENT on bad characters, fewer than 4 bytes, or
// a checksum mismatch.
StatusOr<std::vector<uint8_t>> Base58CheckDecode(std::string_view text);

}  // namespace neosl::crypto
