// What the Random service proves and how its words come out of a proof (docs/random.md, "What
// is proved"), shared by the service, the chain answers and `neosl vrf`.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace neosl::services::random {

inline constexpr int kMaxWords = 500;
inline constexpr size_t kMaxSeedBytes = 64;
inline constexpr std::string_view kAlphaTag = "neosl-random-v1";

using Word = std::array<uint8_t, 32>;

// alpha = "neosl-random-v1" ‖ LP(account) ‖ LP(request_id) ‖ LP(seed), LP(x) = U16BE(len x) ‖ x.
// An API request's account is its account id and its request id the "rnd_…" id; a chain
// request's account is "neo:" + the contract's hash (0x…, lowercase) and its request id the
// contract's requestId in decimal. Every field is bound, so one request has one answer.
std::vector<uint8_t> Alpha(std::string_view account, std::string_view request_id, std::span<const uint8_t> seed);

// word_i = SHA-256(output ‖ U32BE(i)), i = 0 … n-1.
std::vector<Word> Words(std::span<const uint8_t> output, int n);

// The chain answer's `result` (docs/random.md, "On-chain"): Neo's BinarySerializer encoding of
// the Array [requestId (Integer), words (Array of 32-byte ByteStrings), output (ByteString),
// proof (ByteString), alpha (ByteString)], which a contract reads with StdLib.deserialize.
// `request_id` is the contract's requestId in decimal (NeoVM integers reach 256 bits);
// INVALID_ARGUMENT if it is not one.
StatusOr<std::vector<uint8_t>> ChainResult(std::string_view request_id, const std::vector<Word>& words,
                                           std::span<const uint8_t> output, std::span<const uint8_t> proof,
                                           std::span<const uint8_t> alpha);

// Checks of the request fields, as INVALID_ARGUMENT naming the field.
StatusOr<std::vector<uint8_t>> ParseSeed(std::string_view hex);
Status CheckWordCount(int64_t n, bool allow_zero = false);

}  // namespace neosl::services::random
