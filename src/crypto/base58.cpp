#include "crypto/base58.h"

#include <algorithm>
#include <array>

#include <openssl/crypto.h>

#include "crypto/hash.h"

namespace neosl::crypto {
namespace {

constexpr std::string_view kAlphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
constexpr size_t kChecksumSize = 4;

constexpr uint8_t kNotADigit = 0xff;

constexpr std::array<uint8_t, 256> MakeDigitTable() {
  std::array<uint8_t, 256> table{};
  for (auto& v : table) v = kNotADigit;
  for (size_t i = 0; i < kAlphabet.size(); ++i) table[static_cast<uint8_t>(kAlphabet[i])] = static_cast<uint8_t>(i);
  return table;
}
constexpr std::array<uint8_t, 256> kDigit = MakeDigitTable();

// WIF and NEP-2 strings carry private keys, so scratch copies are wiped before release.
void Wipe(std::vector<uint8_t>& v) {
  if (!v.empty()) OPENSSL_cleanse(v.data(), v.size());
}

}  // namespace

std::string Base58Encode(std::span<const uint8_t> data) {
  size_t zeros = 0;
  while (zeros < data.size() && data[zeros] == 0) ++zeros;

  // Big-endian base-58 digits of the number formed by the remaining bytes. log(256)/log(58)
  // is about 1.37, so 138/100 of the input length always suffices.
  std::vector<uint8_t> digits((data.size() - zeros) * 138 / 100 + 1);
  size_t used = 0;  // digits in use, counted from the end
  for (size_t i = zeros; i < data.size(); ++i) {
    uint32_t carry = data[i];
    size_t j = 0;
    for (auto it = digits.rbegin(); (carry != 0 || j < used) && it != digits.rend(); ++it, ++j) {
      carry += 256 * uint32_t{*it};
      *it = static_cast<uint8_t>(carry % 58);
      carry /= 58;
    }
    used = j;
  }

  std::string out(zeros, '1');
  out.reserve(zeros + used);
  for (auto it = digits.end() - static_cast<std::ptrdiff_t>(used); it != digits.end(); ++it) out += kAlphabet[*it];
  Wipe(digits);
  return out;
}

StatusOr<std::vector<uint8_t>> Base58Decode(std::string_view text) {
  if (text.size() > kBase58MaxDecodeLength) {
    return InvalidArgumentError("base58 text is longer than " + std::to_string(kBase58MaxDecodeLength) + " characters");
  }
  size_t ones = 0;
  while (ones < text.size() && text[ones] == '1') ++ones;

  // log(58)/log(256) is about 0.733, so 733/1000 of the length always suffices.
  std::vector<uint8_t> bytes((text.size() - ones) * 733 / 1000 + 1);
  size_t used = 0;
  for (size_t i = ones; i < text.size(); ++i) {
    const uint8_t digit = kDigit[static_cast<uint8_t>(text[i])];
    if (digit == kNotADigit) {
      Wipe(bytes);
      return InvalidArgumentError("invalid base58 character at position " + std::to_string(i));
    }
    uint32_t carry = digit;
    size_t j = 0;
    for (auto it = bytes.rbegin(); (carry != 0 || j < used) && it != bytes.rend(); ++it, ++j) {
      carry += 58 * uint32_t{*it};
      *it = static_cast<uint8_t>(carry & 0xff);
      carry >>= 8;
    }
    used = j;
  }

  std::vector<uint8_t> out(ones, 0);
  out.insert(out.end(), bytes.end() - static_cast<std::ptrdiff_t>(used), bytes.end());
  Wipe(bytes);
  return out;
}

std::string Base58CheckEncode(std::span<const uint8_t> payload) {
  std::vector<uint8_t> buffer(payload.begin(), payload.end());
  const Digest256 checksum = DoubleSha256(payload);
  buffer.insert(buffer.end(), checksum.begin(), checksum.begin() + kChecksumSize);
  std::string text = Base58Encode(buffer);
  Wipe(buffer);
  return text;
}

StatusOr<std::vector<uint8_t>> Base58CheckDecode(std::string_view text) {
  ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, Base58Decode(text));
  if (bytes.size() < kChecksumSize) {
    Wipe(bytes);
    return InvalidArgumentError("base58check text is too short for a checksum");
  }
  const size_t payload_size = bytes.size() - kChecksumSize;
  const Digest256 checksum = DoubleSha256(std::span<const uint8_t>(bytes).first(payload_size));
  if (!std::equal(checksum.begin(), checksum.begin() + kChecksumSize, bytes.begin() + payload_size)) {
    Wipe(bytes);
    return InvalidArgumentError("base58check checksum mismatch");
  }
  bytes.resize(payload_size);
  return bytes;
}

}  // namespace neosl::crypto
