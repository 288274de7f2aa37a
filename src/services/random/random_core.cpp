#include "services/random/random_core.h"

#include "core/encoding.h"
#include "crypto/hash.h"
#include "neo/contract_param.h"
#include "neo/io.h"

namespace neosl::services::random {
namespace {

// Neo's StackItemType values (BinarySerializer).
constexpr uint8_t kInteger = 0x21;
constexpr uint8_t kByteString = 0x28;
constexpr uint8_t kArray = 0x40;

void LengthPrefixed(std::vector<uint8_t>& out, std::span<const uint8_t> field) {
  out.push_back(uint8_t(field.size() >> 8));
  out.push_back(uint8_t(field.size()));
  out.insert(out.end(), field.begin(), field.end());
}

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

std::vector<uint8_t> Alpha(std::string_view account, std::string_view request_id, std::span<const uint8_t> seed) {
  std::vector<uint8_t> alpha(kAlphaTag.begin(), kAlphaTag.end());
  LengthPrefixed(alpha, Bytes(account));
  LengthPrefixed(alpha, Bytes(request_id));
  LengthPrefixed(alpha, seed);
  return alpha;
}

std::vector<Word> Words(std::span<const uint8_t> output, int n) {
  std::vector<Word> words;
  words.reserve(size_t(std::max(n, 0)));
  std::vector<uint8_t> input(output.begin(), output.end());
  input.resize(output.size() + 4);
  for (int i = 0; i < n; ++i) {
    const auto u = uint32_t(i);
    input[output.size()] = uint8_t(u >> 24);
    input[output.size() + 1] = uint8_t(u >> 16);
    input[output.size() + 2] = uint8_t(u >> 8);
    input[output.size() + 3] = uint8_t(u);
    words.push_back(crypto::Sha256(input));
  }
  return words;
}

StatusOr<std::vector<uint8_t>> ChainResult(std::string_view request_id, const std::vector<Word>& words,
                                           std::span<const uint8_t> output, std::span<const uint8_t> proof,
                                           std::span<const uint8_t> alpha) {
  ASSIGN_OR_RETURN(neo::BigInteger id, neo::BigInteger::FromDecimal(request_id));
  neo::BinaryWriter w;
  w.U8(kArray);
  w.VarInt(5);
  w.U8(kInteger);
  w.VarBytes(id.le_bytes());
  w.U8(kArray);
  w.VarInt(words.size());
  for (const auto& word : words) {
    w.U8(kByteString);
    w.VarBytes(word);
  }
  w.U8(kByteString);
  w.VarBytes(output);
  w.U8(kByteString);
  w.VarBytes(proof);
  w.U8(kByteString);
  w.VarBytes(alpha);
  return w.Take();
}

StatusOr<std::vector<uint8_t>> ParseSeed(std::string_view hex) {
  if (hex.size() > 2 * kMaxSeedBytes) {
    return FieldViolationError("seed", "seed is over " + std::to_string(kMaxSeedBytes) + " bytes (" +
                                           std::to_string(2 * kMaxSeedBytes) + " hex digits)");
  }
  auto bytes = HexDecode(hex);
  if (!bytes) return FieldViolationError("seed", "seed must be hex digits, an even number of them");
  return *bytes;
}

Status CheckWordCount(int64_t n, bool allow_zero) {
  const int64_t low = allow_zero ? 0 : 1;
  if (n < low || n > kMaxWords) {
    return FieldViolationError("num_words", "num_words must be " + std::to_string(low) + " to " +
                                                std::to_string(kMaxWords) + ", not " + std::to_string(n));
  }
  return Status();
}

}  // namespace neosl::services::random
