#include "crypto/ecies.h"

#include <algorithm>
#include <array>
#include <memory>
#include <string>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>

#include "crypto/aes.h"
#include "crypto/kdf.h"

namespace neosl::crypto {
namespace {

constexpr size_t kCompressedSize = 33;
constexpr size_t kSharedSize = 32;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
  // The private scalar comes from a BN_secure_new BIGNUM, so the builder puts it in the secure
  // heap, which OSSL_PARAM_free clears before freeing.
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct BnClearFree {
  void operator()(BIGNUM* p) const { BN_clear_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

Status OpenSslFailure(const char* what) {
  ERR_clear_error();
  return InternalError(std::string("OpenSSL ECDH failure: ") + what);
}

// p256.h keeps its OpenSSL objects private, so the EVP_PKEYs that EVP_PKEY_derive needs are
// rebuilt from the encodings. Both inputs are already validated (on the curve, 1 <= d < n).
StatusOr<Pkey> MakePkey(const PrivateKey* private_key, const PublicKey& public_key) {
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld) return OpenSslFailure("param builder");
  const std::array<uint8_t, 65> point = public_key.Uncompressed();
  std::unique_ptr<BIGNUM, BnClearFree> d;
  if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return OpenSslFailure("key parameters");
  }
  if (private_key != nullptr) {
    const auto scalar = private_key->bytes().bytes();
    d.reset(BN_secure_new());
    if (!d || BN_bin2bn(scalar.data(), static_cast<int>(scalar.size()), d.get()) == nullptr ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1) {
      return OpenSslFailure("private key parameter");
    }
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return OpenSslFailure("key import");
  EVP_PKEY* raw = nullptr;
  const int selection = private_key != nullptr ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, selection, params.get()) != 1) return OpenSslFailure("key import");
  return Pkey(raw);
}

std::span<const uint8_t> Span(const std::array<uint8_t, kCompressedSize>& a) {
  return {a.data(), a.size()};
}

// HKDF-SHA256(z, salt = E33 ‖ R33, info) → the 32-byte AES key.
StatusOr<SecretBytes> DeriveKey(const SecretBytes& shared, std::span<const uint8_t> ephemeral33,
                                std::span<const uint8_t> recipient33, std::span<const uint8_t> info) {
  std::array<uint8_t, 2 * kCompressedSize> salt{};
  std::copy(ephemeral33.begin(), ephemeral33.end(), salt.begin());
  std::copy(recipient33.begin(), recipient33.end(), salt.begin() + kCompressedSize);
  return HkdfSha256(shared.bytes(), salt, info, kAes256KeySize);
}

}  // namespace

namespace internal {

StatusOr<SecretBytes> EcdhSharedX(const PrivateKey& key, const PublicKey& peer) {
  ASSIGN_OR_RETURN(Pkey own, MakePkey(&key, key.public_key()));
  ASSIGN_OR_RETURN(Pkey other, MakePkey(nullptr, peer));
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own.get(), nullptr));
  size_t len = kSharedSize;
  std::array<uint8_t, kSharedSize> out{};
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), other.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), out.data(), &len) != 1 || len != kSharedSize) {
    OPENSSL_cleanse(out.data(), out.size());
    return OpenSslFailure("derive");
  }
  SecretBytes shared(out);
  OPENSSL_cleanse(out.data(), out.size());
  return shared;
}

}  // namespace internal

StatusOr<std::vector<uint8_t>> EciesEncrypt(const PublicKey& recipient, std::span<const uint8_t> plaintext,
                                            std::span<const uint8_t> info, RandomSource& random) {
  const PrivateKey ephemeral = PrivateKey::Generate(random);
  const auto ephemeral33 = ephemeral.public_key().Compressed();
  const auto recipient33 = recipient.Compressed();
  ASSIGN_OR_RETURN(SecretBytes shared, internal::EcdhSharedX(ephemeral, recipient));
  ASSIGN_OR_RETURN(SecretBytes key, DeriveKey(shared, Span(ephemeral33), Span(recipient33), info));

  std::vector<uint8_t> blob;
  blob.reserve(kEciesOverhead + plaintext.size());
  blob.push_back(kEciesVersion);
  blob.insert(blob.end(), ephemeral33.begin(), ephemeral33.end());
  std::array<uint8_t, kAesGcmNonceSize> nonce{};
  random.Fill(nonce);
  blob.insert(blob.end(), nonce.begin(), nonce.end());
  ASSIGN_OR_RETURN(std::vector<uint8_t> sealed, Aes256GcmSeal(key.bytes(), nonce, {}, plaintext));
  blob.insert(blob.end(), sealed.begin(), sealed.end());
  return blob;
}

StatusOr<SecretBytes> EciesDecrypt(const PrivateKey& recipient, std::span<const uint8_t> blob,
                                   std::span<const uint8_t> info) {
  if (blob.size() < kEciesOverhead) {
    return DataLossError("ECIES blob is truncated: " + std::to_string(blob.size()) + " bytes, at least " +
                         std::to_string(kEciesOverhead) + " expected");
  }
  if (blob[0] != kEciesVersion) {
    return DataLossError("ECIES blob has unsupported version " + std::to_string(blob[0]) + " (expected " +
                         std::to_string(kEciesVersion) + ")");
  }
  const auto ephemeral33 = blob.subspan(1, kCompressedSize);
  const auto nonce = blob.subspan(1 + kCompressedSize, kAesGcmNonceSize);
  const auto sealed = blob.subspan(kEciesHeaderSize);
  if (ephemeral33[0] != 0x02 && ephemeral33[0] != 0x03) {
    return DataLossError("ECIES ephemeral key is not a compressed P-256 point");
  }
  auto ephemeral = PublicKey::FromBytes(ephemeral33);
  if (!ephemeral.ok()) return DataLossError("ECIES ephemeral key is not a valid P-256 point");
  const auto recipient33 = recipient.public_key().Compressed();
  ASSIGN_OR_RETURN(SecretBytes shared, internal::EcdhSharedX(recipient, *ephemeral));
  ASSIGN_OR_RETURN(SecretBytes key, DeriveKey(shared, ephemeral33, Span(recipient33), info));
  auto plaintext = Aes256GcmOpen(key.bytes(), nonce, {}, sealed);
  if (!plaintext.ok()) {
    if (plaintext.status().code() == StatusCode::kDataLoss) {
      return DataLossError("ECIES blob does not decrypt: wrong key or context, or it was tampered with");
    }
    return plaintext.status();
  }
  return std::move(plaintext).value();
}

}  // namespace neosl::crypto
