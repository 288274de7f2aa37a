#include <vector>

#include <openssl/crypto.h>

#include "core/encoding.h"
#include "core/ids.h"
#include "core/secret.h"

namespace neosl {

std::string GenerateId(std::string_view prefix, size_t chars, RandomSource& random) {
  std::vector<uint8_t> bytes((chars * 5 + 7) / 8);
  random.Fill(bytes);
  std::string out(prefix);
  out += Base32Encode(bytes).substr(0, chars);
  return out;
}

bool IsWellFormedId(std::string_view s, std::string_view prefix, size_t chars) {
  if (s.size() != prefix.size() + chars || s.substr(0, prefix.size()) != prefix) return false;
  for (char c : s.substr(prefix.size())) {
    if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'))) return false;
  }
  return true;
}

void SecretBytes::Wipe() {
  if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
}

}  // namespace neosl
