#include "mesh/ca.h"

#include <array>
#include <utility>

#include <boost/json.hpp>
#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include "core/random.h"
#include "mesh/pki_util.h"

namespace neosl::mesh {
namespace {

namespace json = boost::json;
using internal::FileExists;
using internal::PkeyPtr;
using internal::X509CrlPtr;
using internal::X509Ptr;

// A week: the CRL is re-issued on every revocation, so its nextUpdate is only a hint to other
// tools; the mesh's verifier relies on the signature, not on this date.
constexpr std::chrono::hours kCrlLifetime{24 * 7};
// not_before is backdated so a peer whose clock runs a little behind accepts a fresh cert.
constexpr int64_t kBackdateSeconds = 60;

struct CaPaths {
  explicit CaPaths(const std::string& dir)
      : key(dir + "/ca.key"),
        cert(dir + "/ca.crt"),
        crl(dir + "/crl.pem"),
        issued(dir + "/issued.json"),
        serial(dir + "/serial"),
        lock(dir + "/.lock") {}
  std::string key, cert, crl, issued, serial, lock;
};

const internal::WriteOptions kPublicFile{.mode = 0644};
const internal::WriteOptions kPrivateFile{.mode = 0600};

// The identity becomes a CN and a DNS SAN, so it must be a valid DNS label; the narrower
// [a-z0-9-] also keeps it safe inside OpenSSL's "DNS:<name>" extension syntax.
Status ValidateIdentity(std::string_view identity) {
  if (identity.empty() || identity.size() > 63) {
    return InvalidArgumentError("identity: must be 1-63 characters, got " + std::to_string(identity.size()));
  }
  for (char c : identity) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return InvalidArgumentError("identity: \"" + std::string(identity) + "\" may only contain a-z, 0-9 and '-'");
    }
  }
  if (identity.front() == '-' || identity.back() == '-') {
    return InvalidArgumentError("identity: \"" + std::string(identity) + "\" may not start or end with '-'");
  }
  return Status::Ok();
}

Status ValidateValidity(std::chrono::seconds validity) {
  if (validity < kMinCertValidity || validity > kMaxCertValidity) {
    return InvalidArgumentError("validity: must be between 24 and 48 hours, got " + std::to_string(validity.count()) +
                                " s");
  }
  return Status::Ok();
}

int64_t NowSeconds(const Clock& clock) {
  int64_t ms = clock.NowUnixMillis();
  return ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
}

Status SetTime(ASN1_TIME* t, int64_t unix_seconds) {
  if (ASN1_TIME_set(t, static_cast<time_t>(unix_seconds)) == nullptr) {
    return InternalError("setting a certificate time: " + internal::OpensslError());
  }
  return Status::Ok();
}

// 16 bytes, positive and always 16 bytes long (top bits 01). `counter` fills the low half so a
// CA never repeats itself; the random high half keeps two CAs from colliding.
Status SetSerial(X509* cert, std::optional<uint64_t> counter) {
  std::array<uint8_t, 16> bytes{};
  SecureRandom::Instance().Fill(bytes);
  if (counter) {
    for (int i = 0; i < 8; ++i) bytes[15 - i] = static_cast<uint8_t>(*counter >> (8 * i));
  }
  bytes[0] = static_cast<uint8_t>((bytes[0] & 0x3f) | 0x40);
  BIGNUM* bn = BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr);
  ASN1_INTEGER* serial = bn ? BN_to_ASN1_INTEGER(bn, nullptr) : nullptr;
  BN_free(bn);
  int ok = serial ? X509_set_serialNumber(cert, serial) : 0;
  ASN1_INTEGER_free(serial);
  if (ok != 1) return InternalError("setting a serial number: " + internal::OpensslError());
  return Status::Ok();
}

Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  int ok = ext ? X509_add_ext(cert, ext, -1) : 0;
  X509_EXTENSION_free(ext);
  if (ok != 1) return InternalError("adding extension " + value + ": " + internal::OpensslError());
  return Status::Ok();
}

Status SetCommonName(X509_NAME* name, std::string_view cn) {
  if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.data()),
                                 static_cast<int>(cn.size()), -1, 0) != 1) {
    return InternalError("setting the subject: " + internal::OpensslError());
  }
  return Status::Ok();
}

// --- issued.json ---------------------------------------------------------------------------

const json::value* Field(const json::object& o, std::string_view key) {
  return o.if_contains(key);
}

StatusOr<std::vector<IssuedRecord>> ReadRecords(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, internal::ReadFileToString(path));
  json::error_code ec;
  json::value doc = json::parse(text, ec);
  const json::object* root = ec ? nullptr : doc.if_object();
  const json::value* list = root ? Field(*root, "certificates") : nullptr;
  if (list == nullptr || !list->is_array()) return DataLossError(path + " is not a certificate list");
  std::vector<IssuedRecord> out;
  for (const json::value& v : list->get_array()) {
    const json::object* o = v.if_object();
    const json::value* identity = o ? Field(*o, "identity") : nullptr;
    const json::value* serial = o ? Field(*o, "serial") : nullptr;
    const json::value* nb = o ? Field(*o, "not_before_ms") : nullptr;
    const json::value* na = o ? Field(*o, "not_after_ms") : nullptr;
    if (!identity || !identity->is_string() || !serial || !serial->is_string() || !nb || !nb->is_int64() || !na ||
        !na->is_int64()) {
      return DataLossError(path + " has a malformed entry");
    }
    IssuedRecord r;
    r.identity = identity->get_string().c_str();
    r.serial_hex = serial->get_string().c_str();
    r.not_before_ms = nb->get_int64();
    r.not_after_ms = na->get_int64();
    if (const json::value* revoked = Field(*o, "revoked_at_ms"); revoked && revoked->is_int64()) {
      r.revoked_at_ms = revoked->get_int64();
    }
    out.push_back(std::move(r));
  }
  return out;
}

Status WriteRecords(const std::string& path, const std::vector<IssuedRecord>& records) {
  json::array list;
  for (const IssuedRecord& r : records) {
    json::object o{{"identity", r.identity},
                   {"serial", r.serial_hex},
                   {"not_before_ms", r.not_before_ms},
                   {"not_after_ms", r.not_after_ms}};
    if (r.revoked_at_ms) o["revoked_at_ms"] = *r.revoked_at_ms;
    list.push_back(std::move(o));
  }
  json::object doc{{"certificates", std::move(list)}};
  return internal::WriteFileAtomically(path, json::serialize(doc) + "\n", kPublicFile);
}

StatusOr<uint64_t> ReadCounter(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, internal::ReadFileToString(path));
  uint64_t value = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) value = value * 10 + (text[i] - '0');
  if (i == 0 || i > 19) return DataLossError(path + " does not hold a serial counter");
  return value;
}

// The crlNumber of the CRL in `path`, or 0 when there is none to continue from.
int64_t CurrentCrlNumber(const std::string& path) {
  auto text = internal::ReadFileToString(path);
  if (!text.ok()) return 0;
  auto crl = internal::ParseCrlPem(*text);
  if (!crl.ok()) return 0;
  auto* number = static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(crl->get(), NID_crl_number, nullptr, nullptr));
  int64_t out = 0;
  if (number != nullptr && ASN1_INTEGER_get_int64(&out, number) != 1) out = 0;
  ASN1_INTEGER_free(number);
  return out;
}

}  // namespace

struct CertificateAuthority::Impl {
  Impl(std::string d, const Clock& c) : dir(std::move(d)), paths(dir), clock(c) {}

  StatusOr<IssuedCertificate> SignLeaf(std::string_view identity, EVP_PKEY* public_key,
                                       std::chrono::seconds validity) const;
  StatusOr<std::string> MakeCrl(const std::vector<IssuedRecord>& records, int64_t number) const;

  std::string dir;
  CaPaths paths;
  const Clock& clock;
  PkeyPtr key;
  X509Ptr cert;
  std::string cert_pem;
  std::string crl_pem;
};

StatusOr<IssuedCertificate> CertificateAuthority::Impl::SignLeaf(std::string_view identity, EVP_PKEY* public_key,
                                                                 std::chrono::seconds validity) const {
  int64_t now = NowSeconds(clock);
  int64_t not_before = now - kBackdateSeconds;
  int64_t not_after = now + validity.count();
  if (not_after * 1000 > internal::Asn1TimeToUnixMillis(X509_get0_notAfter(cert.get()))) {
    return FailedPreconditionError("the CA root in " + dir + " expires before this certificate would");
  }

  X509Ptr leaf(X509_new());
  if (!leaf || X509_set_version(leaf.get(), X509_VERSION_3) != 1 ||
      X509_set_issuer_name(leaf.get(), X509_get_subject_name(cert.get())) != 1 ||
      X509_set_pubkey(leaf.get(), public_key) != 1) {
    return InternalError("building a certificate: " + internal::OpensslError());
  }
  RETURN_IF_ERROR(SetCommonName(X509_get_subject_name(leaf.get()), identity));
  RETURN_IF_ERROR(SetTime(X509_getm_notBefore(leaf.get()), not_before));
  RETURN_IF_ERROR(SetTime(X509_getm_notAfter(leaf.get()), not_after));
  RETURN_IF_ERROR(AddExtension(leaf.get(), cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  RETURN_IF_ERROR(AddExtension(leaf.get(), cert.get(), NID_key_usage, "critical,digitalSignature"));
  RETURN_IF_ERROR(AddExtension(leaf.get(), cert.get(), NID_ext_key_usage, "serverAuth,clientAuth"));
  RETURN_IF_ERROR(AddExtension(leaf.get(), cert.get(), NID_subject_alt_name, "DNS:" + std::string(identity)));
  RETURN_IF_ERROR(AddExtension(leaf.get(), cert.get(), NID_subject_key_identifier, "hash"));
  RETURN_IF_ERROR(AddExtension(leaf.get(), cert.get(), NID_authority_key_identifier, "keyid:always"));

  // The serial counter and the issued list are read, bumped and written under the lock, so
  // concurrent issuers (threads or `neosl ca issue` processes) neither reuse a counter nor
  // lose each other's entries.
  ASSIGN_OR_RETURN(internal::FileLock lock, internal::FileLock::Acquire(paths.lock));
  ASSIGN_OR_RETURN(uint64_t counter, ReadCounter(paths.serial));
  ASSIGN_OR_RETURN(std::vector<IssuedRecord> records, ReadRecords(paths.issued));
  RETURN_IF_ERROR(SetSerial(leaf.get(), counter));
  if (X509_sign(leaf.get(), key.get(), EVP_sha256()) <= 0) {
    return InternalError("signing a certificate: " + internal::OpensslError());
  }
  // Counter first: a crash after it only skips a number, never repeats one.
  RETURN_IF_ERROR(internal::WriteFileAtomically(paths.serial, std::to_string(counter + 1) + "\n", kPublicFile));

  IssuedCertificate out;
  out.identity = std::string(identity);
  out.serial_hex = internal::SerialHex(X509_get0_serialNumber(leaf.get()));
  ASSIGN_OR_RETURN(out.cert_pem, internal::CertificateToPem(leaf.get()));
  out.not_before_ms = not_before * 1000;
  out.not_after_ms = not_after * 1000;
  records.push_back({out.identity, out.serial_hex, out.not_before_ms, out.not_after_ms, std::nullopt});
  RETURN_IF_ERROR(WriteRecords(paths.issued, records));
  return out;
}

StatusOr<std::string> CertificateAuthority::Impl::MakeCrl(const std::vector<IssuedRecord>& records,
                                                          int64_t number) const {
  int64_t now = NowSeconds(clock);
  X509CrlPtr crl(X509_CRL_new());
  if (!crl || X509_CRL_set_version(crl.get(), 1) != 1 ||  // 1 means v2
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(cert.get())) != 1) {
    return InternalError("building the CRL: " + internal::OpensslError());
  }
  ASN1_TIME* last = ASN1_TIME_set(nullptr, static_cast<time_t>(now));
  ASN1_TIME* next = ASN1_TIME_set(nullptr, static_cast<time_t>(now + std::chrono::seconds(kCrlLifetime).count()));
  int ok = last && next && X509_CRL_set1_lastUpdate(crl.get(), last) == 1 && X509_CRL_set1_nextUpdate(crl.get(), next);
  ASN1_TIME_free(last);
  ASN1_TIME_free(next);
  if (!ok) return InternalError("building the CRL: " + internal::OpensslError());

  for (const IssuedRecord& r : records) {
    if (!r.revoked_at_ms) continue;
    BIGNUM* bn = nullptr;
    if (BN_hex2bn(&bn, r.serial_hex.c_str()) == 0) return DataLossError("issued.json: bad serial " + r.serial_hex);
    ASN1_INTEGER* serial = BN_to_ASN1_INTEGER(bn, nullptr);
    BN_free(bn);
    ASN1_TIME* when = ASN1_TIME_set(nullptr, static_cast<time_t>(*r.revoked_at_ms / 1000));
    X509_REVOKED* entry = X509_REVOKED_new();
    bool added = serial && when && entry && X509_REVOKED_set_serialNumber(entry, serial) == 1 &&
                 X509_REVOKED_set_revocationDate(entry, when) == 1 && X509_CRL_add0_revoked(crl.get(), entry) == 1;
    ASN1_INTEGER_free(serial);
    ASN1_TIME_free(when);
    if (!added) {
      X509_REVOKED_free(entry);
      return InternalError("building the CRL: " + internal::OpensslError());
    }
  }
  X509_CRL_sort(crl.get());

  ASN1_INTEGER* crl_number = ASN1_INTEGER_new();
  ok = crl_number && ASN1_INTEGER_set_int64(crl_number, number) == 1 &&
       X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, crl_number, 0, 0) == 1;
  ASN1_INTEGER_free(crl_number);
  if (!ok) return InternalError("building the CRL: " + internal::OpensslError());
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), nullptr, nullptr, crl.get(), 0);
  X509_EXTENSION* aki = X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always");
  ok = aki && X509_CRL_add_ext(crl.get(), aki, -1) == 1;
  X509_EXTENSION_free(aki);
  if (!ok || X509_CRL_sign(crl.get(), key.get(), EVP_sha256()) <= 0) {
    return InternalError("signing the CRL: " + internal::OpensslError());
  }
  return internal::CrlToPem(crl.get());
}

CertificateAuthority::CertificateAuthority(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CertificateAuthority::~CertificateAuthority() = default;

StatusOr<std::unique_ptr<CertificateAuthority>> CertificateAuthority::Init(const std::string& dir,
                                                                           const InitOptions& options,
                                                                           const Clock& clock) {
  if (options.name.empty() || options.name.size() > 64) return InvalidArgumentError("name: must be 1-64 characters");
  if (options.validity < kMaxCertValidity) {
    return InvalidArgumentError("validity: the root must outlive the certificates it issues (at least 48 hours)");
  }
  RETURN_IF_ERROR(internal::EnsureDirectory(dir, 0700));
  auto impl = std::make_unique<Impl>(dir, clock);
  const CaPaths& p = impl->paths;
  ASSIGN_OR_RETURN(internal::FileLock lock, internal::FileLock::Acquire(p.lock));
  if (FileExists(p.key) || FileExists(p.cert) || FileExists(p.issued) || FileExists(p.serial)) {
    return AlreadyExistsError(dir + " already holds a CA (or part of one); refusing to replace it");
  }

  ASSIGN_OR_RETURN(impl->key, internal::GenerateP256Key());
  impl->cert.reset(X509_new());
  X509* root = impl->cert.get();
  int64_t now = NowSeconds(clock);
  if (!root || X509_set_version(root, X509_VERSION_3) != 1 || X509_set_pubkey(root, impl->key.get()) != 1) {
    return InternalError("building the root: " + internal::OpensslError());
  }
  RETURN_IF_ERROR(SetSerial(root, std::nullopt));
  RETURN_IF_ERROR(SetCommonName(X509_get_subject_name(root), options.name));
  if (X509_set_issuer_name(root, X509_get_subject_name(root)) != 1) {
    return InternalError("building the root: " + internal::OpensslError());
  }
  RETURN_IF_ERROR(SetTime(X509_getm_notBefore(root), now - kBackdateSeconds));
  RETURN_IF_ERROR(SetTime(X509_getm_notAfter(root), now + std::chrono::seconds(options.validity).count()));
  RETURN_IF_ERROR(AddExtension(root, root, NID_basic_constraints, "critical,CA:TRUE"));
  RETURN_IF_ERROR(AddExtension(root, root, NID_key_usage, "critical,keyCertSign,cRLSign"));
  RETURN_IF_ERROR(AddExtension(root, root, NID_subject_key_identifier, "hash"));
  if (X509_sign(root, impl->key.get(), EVP_sha256()) <= 0) {
    return InternalError("signing the root: " + internal::OpensslError());
  }
  ASSIGN_OR_RETURN(impl->cert_pem, internal::CertificateToPem(root));
  ASSIGN_OR_RETURN(impl->crl_pem, impl->MakeCrl({}, 1));
  ASSIGN_OR_RETURN(SecretBytes key_pem, internal::PrivateKeyToPem(impl->key.get()));

  // ca.crt last: Open treats a directory without it as no CA, so a crash mid-init never
  // yields a CA that is missing its list or counter.
  RETURN_IF_ERROR(internal::WriteFileAtomically(p.key, key_pem.bytes(), kPrivateFile));
  RETURN_IF_ERROR(internal::WriteFileAtomically(p.serial, "1\n", kPublicFile));
  RETURN_IF_ERROR(WriteRecords(p.issued, {}));
  RETURN_IF_ERROR(internal::WriteFileAtomically(p.crl, impl->crl_pem, kPublicFile));
  RETURN_IF_ERROR(internal::WriteFileAtomically(p.cert, impl->cert_pem, kPublicFile));
  return std::unique_ptr<CertificateAuthority>(new CertificateAuthority(std::move(impl)));
}

StatusOr<std::unique_ptr<CertificateAuthority>> CertificateAuthority::Open(const std::string& dir, const Clock& clock) {
  auto impl = std::make_unique<Impl>(dir, clock);
  const CaPaths& p = impl->paths;
  if (!FileExists(p.cert) || !FileExists(p.key)) return NotFoundError("no CA in " + dir + " (run `neosl ca init`)");
  ASSIGN_OR_RETURN(impl->cert_pem, internal::ReadFileToString(p.cert));
  // From here on a missing file means a damaged CA, not an absent one.
  auto crl_text = internal::ReadFileToString(p.crl);
  if (!crl_text.ok()) return DataLossError(std::string(crl_text.status().message()));
  impl->crl_pem = std::move(*crl_text);
  ASSIGN_OR_RETURN(SecretBytes key_pem, internal::ReadSecretFile(p.key));
  auto cert = internal::ParseCertificatePem(impl->cert_pem);
  if (!cert.ok()) return DataLossError(p.cert + ": " + std::string(cert.status().message()));
  impl->cert = std::move(*cert);
  auto key = internal::ParsePrivateKeyPem(key_pem.bytes());
  if (!key.ok()) return DataLossError(p.key + " does not hold a readable private key");
  impl->key = std::move(*key);
  if (X509_check_private_key(impl->cert.get(), impl->key.get()) != 1) {
    internal::OpensslError();
    return DataLossError(p.key + " does not belong to " + p.cert);
  }
  auto crl = internal::ParseCrlPem(impl->crl_pem);
  if (!crl.ok() || X509_CRL_verify(crl->get(), X509_get0_pubkey(impl->cert.get())) != 1) {
    internal::OpensslError();
    return DataLossError(p.crl + " is not a CRL signed by " + p.cert);
  }
  return std::unique_ptr<CertificateAuthority>(new CertificateAuthority(std::move(impl)));
}

StatusOr<IssuedCertificate> CertificateAuthority::Issue(std::string_view identity, std::chrono::seconds validity) {
  RETURN_IF_ERROR(ValidateIdentity(identity));
  RETURN_IF_ERROR(ValidateValidity(validity));
  ASSIGN_OR_RETURN(PkeyPtr key, internal::GenerateP256Key());
  ASSIGN_OR_RETURN(IssuedCertificate out, impl_->SignLeaf(identity, key.get(), validity));
  ASSIGN_OR_RETURN(out.key_pem, internal::PrivateKeyToPem(key.get()));
  return out;
}

StatusOr<IssuedCertificate> CertificateAuthority::IssueForCsr(std::string_view identity, std::string_view csr_pem,
                                                              std::chrono::seconds validity) {
  RETURN_IF_ERROR(ValidateIdentity(identity));
  RETURN_IF_ERROR(ValidateValidity(validity));
  ASSIGN_OR_RETURN(internal::X509ReqPtr csr, internal::ParseCsrPem(csr_pem));
  EVP_PKEY* key = X509_REQ_get0_pubkey(csr.get());
  if (key == nullptr) return InvalidArgumentError("CSR: no public key");
  if (X509_REQ_verify(csr.get(), key) != 1) {
    internal::OpensslError();
    return PermissionDeniedError("CSR: the signature does not verify with the CSR's own key");
  }
  std::string cn = internal::CommonName(X509_REQ_get_subject_name(csr.get()));
  if (cn != identity) {
    return PermissionDeniedError("CSR: subject CN \"" + cn + "\" is not the identity \"" + std::string(identity) +
                                 "\"");
  }
  if (!internal::IsP256Key(key)) return InvalidArgumentError("CSR: the key must be an EC P-256 key");
  return impl_->SignLeaf(identity, key, validity);
}

Status CertificateAuthority::Revoke(std::string_view serial_hex) {
  ASSIGN_OR_RETURN(std::string serial, internal::NormalizeSerialHex(serial_hex));
  ASSIGN_OR_RETURN(internal::FileLock lock, internal::FileLock::Acquire(impl_->paths.lock));
  ASSIGN_OR_RETURN(std::vector<IssuedRecord> records, ReadRecords(impl_->paths.issued));
  IssuedRecord* found = nullptr;
  for (IssuedRecord& r : records) {
    if (r.serial_hex == serial) found = &r;
  }
  if (found == nullptr) return NotFoundError("serial " + serial + " was not issued by this CA");
  if (!found->revoked_at_ms) {
    found->revoked_at_ms = impl_->clock.NowUnixMillis();
    RETURN_IF_ERROR(WriteRecords(impl_->paths.issued, records));
  }
  // Re-issued even for a repeated revoke, so a crash between the two writes heals on retry.
  ASSIGN_OR_RETURN(std::string crl, impl_->MakeCrl(records, CurrentCrlNumber(impl_->paths.crl) + 1));
  RETURN_IF_ERROR(internal::WriteFileAtomically(impl_->paths.crl, crl, kPublicFile));
  impl_->crl_pem = std::move(crl);
  return Status::Ok();
}

const std::string& CertificateAuthority::ca_cert_pem() const {
  return impl_->cert_pem;
}
const std::string& CertificateAuthority::crl_pem() const {
  return impl_->crl_pem;
}
const std::string& CertificateAuthority::dir() const {
  return impl_->dir;
}

StatusOr<std::vector<IssuedRecord>> CertificateAuthority::List() const {
  return ReadRecords(impl_->paths.issued);
}

StatusOr<CertificateInfo> InspectCertificate(std::string_view cert_pem) {
  ASSIGN_OR_RETURN(X509Ptr cert, internal::ParseCertificatePem(cert_pem));
  CertificateInfo info;
  info.common_name = internal::CommonName(X509_get_subject_name(cert.get()));
  info.serial_hex = internal::SerialHex(X509_get0_serialNumber(cert.get()));
  info.not_before_ms = internal::Asn1TimeToUnixMillis(X509_get0_notBefore(cert.get()));
  info.not_after_ms = internal::Asn1TimeToUnixMillis(X509_get0_notAfter(cert.get()));
  info.sha256_hex = internal::Sha256HexOfDer(cert.get());
  return info;
}

}  // namespace neosl::mesh
