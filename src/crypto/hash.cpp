#include "crypto/hash.h"

#include <cstdio>
#include <cstdlib>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace neosl::crypto {
namespace {

template <size_t N>
std::array<uint8_t, N> Digest(const EVP_MD* md, std::span<const uint8_t> data) {
  std::array<uint8_t, N> out{};
  unsigned int len = 0;
  if (md == nullptr || EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1 || len != N) {
    // Only a broken OpenSSL installation gets here; a wrong hash would be worse than stopping.
    std::fputs("fatal: OpenSSL digest failed\n", stderr);
    std::abort();
  }
  return out;
}

}  // namespace

Digest256 Sha256(std::span<const uint8_t> data) {
  return Digest<32>(EVP_sha256(), data);
}

Digest256 DoubleSha256(std::span<const uint8_t> data) {
  Digest256 first = Sha256(data);
  return Sha256(first);
}

Digest160 Ripemd160(std::span<const uint8_t> data) {
  return Digest<20>(EVP_ripemd160(), data);
}

Digest160 Hash160(std::span<const uint8_t> data) {
  Digest256 sha = Sha256(data);
  return Ripemd160(sha);
}

Digest256 HmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> data) {
  Digest256 out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(), &len);
  return out;
}

}  // namespace neosl::crypto
