#include "crypto/kdf.h"

#include <string>
#include <vector>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

namespace neosl::crypto {
namespace {

constexpr size_t kSha256Size = 32;
constexpr size_t kHkdfMaxLength = 255 * kSha256Size;

// Fetching an algorithm walks OpenSSL's provider tables; doing it once keeps HKDF cheap.
EVP_KDF* HkdfAlgorithm() {
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  return kdf;
}

// Derived bytes land in a plain buffer first (OpenSSL writes into caller memory); this copies
// them into SecretBytes and wipes the buffer so no second copy of the key outlives the call.
SecretBytes TakeSecret(std::vector<uint8_t>& buffer) {
  SecretBytes secret(buffer);
  OPENSSL_cleanse(buffer.data(), buffer.size());
  return secret;
}

}  // namespace

StatusOr<SecretBytes> HkdfSha256(std::span<const uint8_t> ikm, std::span<const uint8_t> salt,
                                 std::span<const uint8_t> info, size_t length) {
  if (length == 0 || length > kHkdfMaxLength) {
    return InvalidArgumentError("HKDF-SHA256 output length must be between 1 and " + std::to_string(kHkdfMaxLength) +
                                " bytes, got " + std::to_string(length));
  }
  EVP_KDF* kdf = HkdfAlgorithm();
  if (kdf == nullptr) return InternalError("OpenSSL has no HKDF implementation");
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  if (ctx == nullptr) return InternalError("cannot allocate an HKDF context");

  // OSSL_PARAM takes non-const pointers but only reads these buffers.
  char digest[] = "SHA256";
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(ikm.data()), ikm.size());
  // An absent salt is HMAC with an empty key, which equals the RFC's HashLen zero bytes.
  if (!salt.empty()) {
    params[n++] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()), salt.size());
  }
  if (!info.empty()) {
    params[n++] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<uint8_t*>(info.data()), info.size());
  }
  params[n] = OSSL_PARAM_construct_end();

  std::vector<uint8_t> out(length);
  const bool ok = EVP_KDF_derive(ctx, out.data(), out.size(), params) == 1;
  EVP_KDF_CTX_free(ctx);
  if (!ok) {
    ERR_clear_error();
    OPENSSL_cleanse(out.data(), out.size());
    return InternalError("HKDF-SHA256 derivation failed");
  }
  return TakeSecret(out);
}

StatusOr<SecretBytes> Scrypt(std::span<const uint8_t> password, std::span<const uint8_t> salt, uint64_t n, uint32_t r,
                             uint32_t p, size_t length) {
  if (n < 2 || (n & (n - 1)) != 0) {
    return InvalidArgumentError("scrypt N must be a power of two greater than 1, got " + std::to_string(n));
  }
  if (r == 0 || p == 0) return InvalidArgumentError("scrypt r and p must be at least 1");
  if (length == 0) return InvalidArgumentError("scrypt output length must be at least 1");
  // RFC 7914 §2: p <= (2^32 - 1) * 32 / (128 * r), i.e. r * p < 2^30.
  if (uint64_t{r} * p >= (uint64_t{1} << 30)) return InvalidArgumentError("scrypt r * p must be below 2^30");
  // RFC 7914 §2 also requires N < 2^(128 * r / 8); OpenSSL enforces it, so say so clearly first.
  if (r < 4 && n >= (uint64_t{1} << (16 * r))) {
    return InvalidArgumentError("scrypt N must be below 2^(16 * r)");
  }
  // OpenSSL's own estimate: V is 128 * r * (N + 2) bytes, B is 128 * r * p bytes. Checking it here,
  // with overflow in mind, turns an oversized request into a clear error before any allocation.
  const uint64_t per_block = 128 * uint64_t{r};
  if (n + 2 > kScryptMaxMemoryBytes / per_block) {
    return ResourceExhaustedError("scrypt parameters need more than " + std::to_string(kScryptMaxMemoryBytes >> 20) +
                                  " MiB of memory");
  }
  const uint64_t needed = per_block * (n + 2) + per_block * p;
  if (needed > kScryptMaxMemoryBytes) {
    return ResourceExhaustedError("scrypt parameters need more than " + std::to_string(kScryptMaxMemoryBytes >> 20) +
                                  " MiB of memory");
  }

  // OpenSSL's default cap (32 MiB) is close to NEP-2's needs; pass ours with headroom for its
  // bookkeeping so the check above is the one that decides.
  const uint64_t maxmem = kScryptMaxMemoryBytes + (uint64_t{1} << 20);
  std::vector<uint8_t> out(length);
  const int rc = EVP_PBE_scrypt(reinterpret_cast<const char*>(password.data()), password.size(), salt.data(),
                                salt.size(), n, r, p, maxmem, out.data(), out.size());
  if (rc != 1) {
    ERR_clear_error();
    OPENSSL_cleanse(out.data(), out.size());
    return InternalError("scrypt derivation failed");
  }
  return TakeSecret(out);
}

}  // namespace neosl::crypto
