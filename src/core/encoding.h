// Small text encodings used for identifiers and wire formats.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace neosl {

std::string HexEncode(std::span<const uint8_t> bytes);
// Accepts upper or lower case; nullopt on odd length or a non-hex character.
std::optional<std::vector<uint8_t>> HexDecode(std::string_view hex);

// Lowercase RFC 4648 base32 alphabet without padding ("a-z2-7"): safe in URLs, in file names
// and between the underscores of an API key.
std::string Base32Encode(std::span<const uint8_t> bytes);

// Constant-time comparison for secrets and MACs; runs in time independent of where they differ.
bool ConstantTimeEquals(std::span<const uint8_t> a, std::span<const uint8_t> b);

// JSON string escaping (RFC 8259) including control characters; adds no surrounding quotes.
// Bytes that are not well-formed UTF-8 become U+FFFD, so the output is always valid JSON.
void AppendJsonEscaped(std::string& out, std::string_view s);

}  // namespace neosl

namespace neosl {
// "2026-11-21T10:00:00.123Z" for a Unix time in milliseconds.
std::string FormatRfc3339Millis(int64_t unix_millis);
// The inverse, for any RFC 3339 date-time ("2024-05-15T12:01:58.147561Z", "…+02:00"): Unix
// milliseconds, the fraction past milliseconds truncated; nullopt for text that is not one
// (including impossible dates such as Feb 29 of a common year).
std::optional<int64_t> ParseRfc3339Millis(std::string_view s);
}  // namespace neosl

namespace neosl {
// Base64 (RFC 4648, standard alphabet, with padding), as .NET's Convert and Neo's JSON use it.
std::string Base64Encode(std::span<const uint8_t> bytes);
// Strict: only canonical text decodes (no whitespace, no data after padding, zero pad bits),
// so every byte string has exactly one accepted form.
std::optional<std::vector<uint8_t>> Base64Decode(std::string_view text);
}  // namespace neosl
