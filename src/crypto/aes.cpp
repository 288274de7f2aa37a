#include "crypto/aes.h"

#include <algorithm>
#include <climits>
#include <memory>
#include <string>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

namespace neosl::crypto {
namespace {

constexpr size_t kAesBlockSize = 16;
// EVP's update functions take an int length; feeding at most this much per call keeps any
// input size safe.
constexpr size_t kMaxChunk = size_t{1} << 30;

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

// Explicit fetches, done once: passing EVP_aes_256_gcm() would re-fetch on every init.
const EVP_CIPHER* Gcm() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}
const EVP_CIPHER* Ecb() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-ECB", nullptr);
  return cipher;
}

Status CheckKey(std::span<const uint8_t> key) {
  if (key.size() != kAes256KeySize) {
    return InvalidArgumentError("AES-256 key must be 32 bytes, got " + std::to_string(key.size()));
  }
  return Status::Ok();
}

Status CheckNonce(std::span<const uint8_t> nonce) {
  if (nonce.size() != kAesGcmNonceSize) {
    return InvalidArgumentError("AES-GCM nonce must be 12 bytes, got " + std::to_string(nonce.size()));
  }
  return Status::Ok();
}

Status OpenSslFailure(const char* what) {
  ERR_clear_error();
  return InternalError(std::string("OpenSSL AES failure: ") + what);
}

// Runs EVP_CipherUpdate over `in` in int-sized chunks, appending to `out` at `*written`.
bool UpdateAll(EVP_CIPHER_CTX* ctx, std::span<const uint8_t> in, uint8_t* out, size_t* written) {
  while (!in.empty()) {
    const size_t chunk = std::min(in.size(), kMaxChunk);
    int len = 0;
    if (EVP_CipherUpdate(ctx, out == nullptr ? nullptr : out + *written, &len, in.data(), static_cast<int>(chunk)) !=
        1) {
      return false;
    }
    if (out != nullptr) *written += static_cast<size_t>(len);
    in = in.subspan(chunk);
  }
  return true;
}

StatusOr<std::vector<uint8_t>> EcbCrypt(std::span<const uint8_t> key, std::span<const uint8_t> data, int encrypt) {
  RETURN_IF_ERROR(CheckKey(key));
  if (data.size() % kAesBlockSize != 0) {
    return InvalidArgumentError("AES-ECB input must be a multiple of 16 bytes, got " + std::to_string(data.size()));
  }
  if (Ecb() == nullptr) return InternalError("OpenSSL has no AES-256-ECB");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_CipherInit_ex2(ctx.get(), Ecb(), key.data(), nullptr, encrypt, nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) {
    return OpenSslFailure("ECB init");
  }
  std::vector<uint8_t> out(data.size());
  size_t written = 0;
  int final_len = 0;
  if (!UpdateAll(ctx.get(), data, out.data(), &written) ||
      EVP_CipherFinal_ex(ctx.get(), out.data() + written, &final_len) != 1 || written + final_len != data.size()) {
    OPENSSL_cleanse(out.data(), out.size());
    return OpenSslFailure("ECB");
  }
  return out;
}

}  // namespace

StatusOr<std::vector<uint8_t>> Aes256GcmSeal(std::span<const uint8_t> key, std::span<const uint8_t> nonce,
                                             std::span<const uint8_t> aad, std::span<const uint8_t> plaintext) {
  RETURN_IF_ERROR(CheckKey(key));
  RETURN_IF_ERROR(CheckNonce(nonce));
  if (Gcm() == nullptr) return InternalError("OpenSSL has no AES-256-GCM");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  // 12 bytes is GCM's default IV length, so no EVP_CTRL_GCM_SET_IVLEN is needed.
  if (!ctx || EVP_EncryptInit_ex2(ctx.get(), Gcm(), key.data(), nonce.data(), nullptr) != 1) {
    return OpenSslFailure("GCM init");
  }
  std::vector<uint8_t> out(plaintext.size() + kAesGcmTagSize);
  size_t written = 0;
  int final_len = 0;
  if (!UpdateAll(ctx.get(), aad, nullptr, &written) || !UpdateAll(ctx.get(), plaintext, out.data(), &written) ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + written, &final_len) != 1 || written != plaintext.size() ||
      final_len != 0 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kAesGcmTagSize, out.data() + plaintext.size()) != 1) {
    return OpenSslFailure("GCM seal");
  }
  return out;
}

StatusOr<SecretBytes> Aes256GcmOpen(std::span<const uint8_t> key, std::span<const uint8_t> nonce,
                                    std::span<const uint8_t> aad, std::span<const uint8_t> sealed) {
  RETURN_IF_ERROR(CheckKey(key));
  RETURN_IF_ERROR(CheckNonce(nonce));
  if (sealed.size() < kAesGcmTagSize) return DataLossError("authentication failed");
  if (Gcm() == nullptr) return InternalError("OpenSSL has no AES-256-GCM");
  const std::span<const uint8_t> ciphertext = sealed.first(sealed.size() - kAesGcmTagSize);
  const std::span<const uint8_t> tag = sealed.last(kAesGcmTagSize);

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_DecryptInit_ex2(ctx.get(), Gcm(), key.data(), nonce.data(), nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kAesGcmTagSize, const_cast<uint8_t*>(tag.data())) != 1) {
    return OpenSslFailure("GCM init");
  }
  // Plaintext is decrypted into scratch and only handed out after the tag checks.
  std::vector<uint8_t> scratch(ciphertext.size());
  size_t written = 0;
  int final_len = 0;
  const bool ok = UpdateAll(ctx.get(), aad, nullptr, &written) &&
                  UpdateAll(ctx.get(), ciphertext, scratch.data(), &written) &&
                  EVP_DecryptFinal_ex(ctx.get(), scratch.data() + written, &final_len) == 1 &&
                  written == ciphertext.size() && final_len == 0;
  if (!ok) {
    OPENSSL_cleanse(scratch.data(), scratch.size());
    ERR_clear_error();
    return DataLossError("authentication failed");
  }
  SecretBytes plaintext(scratch);
  OPENSSL_cleanse(scratch.data(), scratch.size());
  return plaintext;
}

StatusOr<std::vector<uint8_t>> Aes256EcbEncrypt(std::span<const uint8_t> key, std::span<const uint8_t> data) {
  return EcbCrypt(key, data, 1);
}

StatusOr<std::vector<uint8_t>> Aes256EcbDecrypt(std::span<const uint8_t> key, std::span<const uint8_t> data) {
  return EcbCrypt(key, data, 0);
}

}  // namespace neosl::crypto
