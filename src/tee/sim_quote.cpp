#include "tee/sim_quote.h"

#include <cstdlib>
#include <ctime>
#include <mutex>
#include <string_view>
#include <utility>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/encoding.h"
#include "crypto/hash.h"

namespace neosl::tee {
namespace {

constexpr std::string_view kRootSeedText = "neosl-sim-attestation-root-v1";
constexpr std::string_view kRootCommonName = "neosl simulated attestation root";
constexpr std::string_view kLeafCommonName = "neosl sim quoting enclave";
constexpr int64_t kHourMs = int64_t{60} * 60 * 1000;
constexpr int64_t kLeafValidityMs = 48 * kHourMs;
constexpr int64_t kLeafRenewAfterMs = 24 * kHourMs;

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct EvpPkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct BnClearFree {
  void operator()(BIGNUM* p) const { BN_clear_free(p); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct X509ExtFree {
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

// An OpenSSL EVP_PKEY for a P-256 key: public only, or a key pair when `private_key` is given.
StatusOr<EvpPkeyPtr> MakeEvpKey(const crypto::PublicKey& public_key, const crypto::PrivateKey* private_key) {
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  auto pub = public_key.Uncompressed();
  std::unique_ptr<BIGNUM, BnClearFree> priv;
  if (bld == nullptr || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub.data(), pub.size()) != 1) {
    return InternalError("building an EC key: OpenSSL parameter builder failed");
  }
  if (private_key != nullptr) {
    auto scalar = private_key->bytes().bytes();
    priv.reset(BN_secure_new());
    if (priv == nullptr || BN_bin2bn(scalar.data(), int(scalar.size()), priv.get()) == nullptr ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get()) != 1) {
      return InternalError("building an EC key: OpenSSL parameter builder failed");
    }
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, private_key ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return InternalError("building an EC key: OpenSSL rejected the key");
  }
  return EvpPkeyPtr(raw);
}

Status AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, X509ExtFree> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (ext == nullptr || X509_add_ext(cert, ext.get(), -1) != 1) {
    return InternalError(std::string("certificate: adding extension ") + OBJ_nid2sn(nid) + " failed");
  }
  return Status();
}

Status SetCommonName(X509_NAME* name, std::string_view cn) {
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.data()),
                                 int(cn.size()), -1, 0) != 1) {
    return InternalError("certificate: setting the common name failed");
  }
  return Status();
}

StatusOr<std::string> ToPem(X509* cert) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_X509(bio.get(), cert) != 1)
    return InternalError("certificate: PEM encoding failed");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, size_t(len));
}

StatusOr<X509Ptr> FromPem(std::string_view pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), int(pem.size())));
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (cert == nullptr) return UnauthenticatedError("certificate chain: a certificate is not valid PEM X.509");
  return cert;
}

int64_t Asn1TimeToMillis(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return INT64_MIN;
  return int64_t(timegm(&tm)) * 1000;
}

// The sim root (or, for tests, another root made the same way) with its key pair and certificate.
struct Root {
  crypto::PrivateKey key;
  EvpPkeyPtr evp;
  X509Ptr cert;
  std::string pem;
};

StatusOr<std::shared_ptr<const Root>> MakeRoot(std::span<const uint8_t, 32> seed) {
  ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::FromBytes(seed));
  ASSIGN_OR_RETURN(EvpPkeyPtr evp, MakeEvpKey(key.public_key(), &key));
  X509Ptr cert(X509_new());
  if (cert == nullptr || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), 1) != 1 ||
      ASN1_TIME_set_string_X509(X509_getm_notBefore(cert.get()), "20000101000000Z") != 1 ||
      ASN1_TIME_set_string_X509(X509_getm_notAfter(cert.get()), "21000101000000Z") != 1 ||
      X509_set_pubkey(cert.get(), evp.get()) != 1) {
    return InternalError("certificate: building the sim root failed");
  }
  RETURN_IF_ERROR(SetCommonName(X509_get_subject_name(cert.get()), kRootCommonName));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) != 1) {
    return InternalError("certificate: building the sim root failed");
  }
  RETURN_IF_ERROR(AddExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE"));
  RETURN_IF_ERROR(AddExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
  RETURN_IF_ERROR(AddExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash"));
  if (X509_sign(cert.get(), evp.get(), EVP_sha256()) <= 0)
    return InternalError("certificate: signing the sim root failed");
  ASSIGN_OR_RETURN(std::string pem, ToPem(cert.get()));
  return std::shared_ptr<const Root>(new Root{std::move(key), std::move(evp), std::move(cert), std::move(pem)});
}

const std::shared_ptr<const Root>& DefaultRootPtr() {
  // Built from a public constant, so failure means OpenSSL itself is broken.
  static const std::shared_ptr<const Root> root = [] {
    auto seed = SimRootSeed();
    auto r = MakeRoot(seed);
    if (!r.ok()) std::abort();
    return *std::move(r);
  }();
  return root;
}

const Root& DefaultRoot() {
  return *DefaultRootPtr();
}

}  // namespace

struct SimQuotingEnclave::State {
  crypto::PrivateKey key;
  std::shared_ptr<const Root> root;
  mutable std::mutex mu;
  mutable std::string leaf_pem;
  mutable int64_t not_before_ms = 0;
  mutable int64_t not_after_ms = 0;

  // Issues the leaf for `key`, valid [now, now + 48 h] (whole seconds). The serial is derived from
  // the key and the start time, so no random source has to outlive Create.
  Status Certify(int64_t now_ms) const {
    int64_t start_s = now_ms / 1000 - (now_ms % 1000 < 0 ? 1 : 0);
    ASSIGN_OR_RETURN(EvpPkeyPtr pub, MakeEvpKey(key.public_key(), nullptr));
    auto compressed = key.public_key().Compressed();
    std::vector<uint8_t> serial_input(compressed.begin(), compressed.end());
    for (int shift = 56; shift >= 0; shift -= 8) serial_input.push_back(uint8_t(uint64_t(start_s) >> shift));
    auto digest = crypto::Sha256(serial_input);
    digest[0] &= 0x7f;  // a positive INTEGER
    std::unique_ptr<BIGNUM, BnClearFree> serial(BN_bin2bn(digest.data(), 16, nullptr));

    X509Ptr cert(X509_new());
    if (cert == nullptr || serial == nullptr || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
        BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr ||
        ASN1_TIME_set(X509_getm_notBefore(cert.get()), time_t(start_s)) == nullptr ||
        ASN1_TIME_set(X509_getm_notAfter(cert.get()), time_t(start_s + kLeafValidityMs / 1000)) == nullptr ||
        X509_set_pubkey(cert.get(), pub.get()) != 1 ||
        X509_set_issuer_name(cert.get(), X509_get_subject_name(root->cert.get())) != 1) {
      return InternalError("certificate: building the quoting certificate failed");
    }
    RETURN_IF_ERROR(SetCommonName(X509_get_subject_name(cert.get()), kLeafCommonName));
    RETURN_IF_ERROR(AddExtension(cert.get(), root->cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
    RETURN_IF_ERROR(AddExtension(cert.get(), root->cert.get(), NID_key_usage, "critical,digitalSignature"));
    RETURN_IF_ERROR(AddExtension(cert.get(), root->cert.get(), NID_authority_key_identifier, "keyid:always"));
    if (X509_sign(cert.get(), root->evp.get(), EVP_sha256()) <= 0) {
      return InternalError("certificate: signing the quoting certificate failed");
    }
    ASSIGN_OR_RETURN(leaf_pem, ToPem(cert.get()));
    not_before_ms = start_s * 1000;
    not_after_ms = (start_s * 1000) + kLeafValidityMs;
    return Status();
  }
};

std::array<uint8_t, 32> SimRootSeed() {
  return crypto::Sha256(crypto::AsBytes(kRootSeedText));
}

const crypto::PublicKey& SimRootPublicKey() {
  return DefaultRoot().key.public_key();
}

const std::string& SimRootCertificatePem() {
  return DefaultRoot().pem;
}

SimQuotingEnclave::SimQuotingEnclave(std::unique_ptr<State> state) : state_(std::move(state)) {}
SimQuotingEnclave::SimQuotingEnclave(SimQuotingEnclave&&) noexcept = default;
SimQuotingEnclave& SimQuotingEnclave::operator=(SimQuotingEnclave&&) noexcept = default;
SimQuotingEnclave::~SimQuotingEnclave() = default;

StatusOr<SimQuotingEnclave> CreateSimQuotingEnclaveWithRoot(RandomSource& random, const Clock& clock,
                                                            std::span<const uint8_t, 32> root_seed) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Root> root, MakeRoot(root_seed));
  auto state = std::unique_ptr<SimQuotingEnclave::State>(
      new SimQuotingEnclave::State{crypto::PrivateKey::Generate(random), std::move(root)});
  RETURN_IF_ERROR(state->Certify(clock.NowUnixMillis()));
  return SimQuotingEnclave(std::move(state));
}

StatusOr<SimQuotingEnclave> SimQuotingEnclave::Create(RandomSource& random, const Clock& clock) {
  auto state = std::unique_ptr<State>(new State{crypto::PrivateKey::Generate(random), DefaultRootPtr()});
  RETURN_IF_ERROR(state->Certify(clock.NowUnixMillis()));
  return SimQuotingEnclave(std::move(state));
}

const crypto::PublicKey& SimQuotingEnclave::public_key() const {
  return state_->key.public_key();
}

Status SimQuotingEnclave::Quote(Evidence& e) const {
  if (e.backend.empty()) e.backend = std::string(kBackendSim);
  if (e.backend != kBackendSim) return InvalidArgumentError("sim quote: evidence backend must be \"sim\"");
  std::string leaf;
  {
    std::lock_guard lock(state_->mu);
    if (e.timestamp_ms < state_->not_before_ms || e.timestamp_ms >= state_->not_before_ms + kLeafRenewAfterMs) {
      RETURN_IF_ERROR(state_->Certify(e.timestamp_ms));
    }
    leaf = state_->leaf_pem;
  }
  crypto::Signature sig = state_->key.Sign(SignedBody(e));
  e.signature.assign(sig.begin(), sig.end());
  e.certificates = {std::move(leaf), state_->root->pem};
  return Status();
}

StatusOr<crypto::PublicKey> VerifySimCertificateChain(const std::vector<std::string>& certificates, int64_t now_ms,
                                                      std::chrono::milliseconds skew) {
  const Root& root = DefaultRoot();
  if (certificates.empty()) return UnauthenticatedError("certificate chain: no quoting certificate");
  if (certificates.size() > 2) {
    return UnauthenticatedError("certificate chain: expected the quoting certificate and the sim root, got " +
                                std::to_string(certificates.size()) + " certificates");
  }
  ASSIGN_OR_RETURN(X509Ptr leaf, FromPem(certificates[0]));
  if (certificates.size() == 2) {
    ASSIGN_OR_RETURN(X509Ptr presented_root, FromPem(certificates[1]));
    EVP_PKEY* presented_key = X509_get0_pubkey(presented_root.get());
    if (presented_key == nullptr || EVP_PKEY_eq(presented_key, root.evp.get()) != 1 ||
        X509_verify(presented_root.get(), root.evp.get()) != 1) {
      return UnauthenticatedError(
          "certificate chain: the root certificate is not the neosl simulated attestation root");
    }
  }
  if (X509_verify(leaf.get(), root.evp.get()) != 1 ||
      X509_NAME_cmp(X509_get_issuer_name(leaf.get()), X509_get_subject_name(root.cert.get())) != 0) {
    return UnauthenticatedError(
        "certificate chain: the quoting certificate is not signed by the neosl simulated attestation root");
  }
  if (X509_get_version(leaf.get()) != X509_VERSION_3 || X509_check_ca(leaf.get()) != 0 ||
      (X509_get_key_usage(leaf.get()) & KU_DIGITAL_SIGNATURE) == 0) {
    return UnauthenticatedError(
        "certificate chain: the quoting certificate is not a v3 end-entity certificate for digitalSignature");
  }
  int64_t not_before = Asn1TimeToMillis(X509_get0_notBefore(leaf.get()));
  int64_t not_after = Asn1TimeToMillis(X509_get0_notAfter(leaf.get()));
  if (not_before == INT64_MIN || not_after == INT64_MIN) {
    return UnauthenticatedError("certificate chain: the quoting certificate has an unreadable validity period");
  }
  if (now_ms + skew.count() < not_before) {
    return UnauthenticatedError("certificate chain: the quoting certificate is not valid before " +
                                FormatRfc3339Millis(not_before));
  }
  if (now_ms - skew.count() > not_after) {
    return UnauthenticatedError("certificate chain: the quoting certificate expired at " +
                                FormatRfc3339Millis(not_after));
  }
  EVP_PKEY* leaf_key = X509_get0_pubkey(leaf.get());
  char group[32] = {};
  size_t group_len = 0;
  uint8_t encoded[133];
  size_t encoded_len = 0;
  if (leaf_key == nullptr ||
      EVP_PKEY_get_utf8_string_param(leaf_key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &group_len) != 1 ||
      std::string_view(group, group_len) != "prime256v1" ||
      EVP_PKEY_get_octet_string_param(leaf_key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, encoded, sizeof(encoded),
                                      &encoded_len) != 1) {
    return UnauthenticatedError("certificate chain: the quoting key is not a P-256 key");
  }
  auto key = crypto::PublicKey::FromBytes(std::span<const uint8_t>(encoded, encoded_len));
  if (!key.ok()) return UnauthenticatedError("certificate chain: the quoting key is not a valid P-256 point");
  return key;
}

}  // namespace neosl::tee
