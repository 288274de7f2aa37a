// mTLS credentials and the peer checks gRPC leaves to us (tls.h). The rotator and the local
// issuer are in cert_rotator.cpp.
#include "mesh/tls.h"

#include <algorithm>
#include <cstdlib>
#include <unordered_set>
#include <utility>
#include <vector>

#include <openssl/crypto.h>
#include <sys/stat.h>

#include "core/log.h"
#include "mesh/pki_util.h"
#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

namespace neosl::mesh {
namespace {

// TLS 1.2 suites that need an RSA certificate. Mesh certificates are P-256, so with only these a
// TLS 1.2 handshake has no usable suite; TLS 1.3 suites are configured separately by OpenSSL and
// stay at their defaults.
constexpr const char* kTls12RsaOnlySuites = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384";
constexpr std::string_view kPemCertificate = "-----BEGIN CERTIFICATE-----";

// What identifies one version of a file: a rename changes the inode, an in-place edit the size
// or the mtime.
struct FileStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = -1;
  int64_t mtime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp StampOf(const struct stat& st) {
  return {st.st_dev, st.st_ino, st.st_size, int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec};
}

std::optional<FileStamp> StatFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return StampOf(st);
}

// The revocation list a verifier checks, re-read whenever crl.pem or ca.crt changes. Fails closed:
// while the CRL is missing, unreadable or not signed by ca.crt, every peer is refused.
class RevocationList {
 public:
  RevocationList(std::string ca_file, std::string crl_file)
      : ca_file_(std::move(ca_file)), crl_file_(std::move(crl_file)) {}

  // OK if `serial_hex` is not revoked and the list is trustworthy.
  Status Check(const std::string& serial_hex) {
    std::lock_guard lock(mu_);
    std::optional<FileStamp> crl = StatFile(crl_file_);
    std::optional<FileStamp> ca = StatFile(ca_file_);
    if (!crl || !ca) return UnavailableError("revocation list: cannot stat " + (crl ? ca_file_ : crl_file_));
    if (!loaded_ || *crl != crl_stamp_ || *ca != ca_stamp_) {
      crl_stamp_ = *crl;
      ca_stamp_ = *ca;
      loaded_ = true;
      load_status_ = Load();
      if (!load_status_.ok()) {
        log::Error("mesh: refusing every peer until the revocation list is valid",
                   {{"crl", crl_file_}, {"error", load_status_.ToString()}});
      }
    }
    if (!load_status_.ok()) return load_status_;
    if (revoked_.contains(serial_hex)) return PermissionDeniedError("certificate " + serial_hex + " is revoked");
    return Status::Ok();
  }

 private:
  // The stamps were taken before reading, so a file replaced mid-read only causes one more
  // reload on the next check.
  Status Load() {
    revoked_.clear();
    ASSIGN_OR_RETURN(std::string ca_pem, internal::ReadFileToString(ca_file_));
    ASSIGN_OR_RETURN(std::string crl_pem, internal::ReadFileToString(crl_file_));
    auto ca = internal::ParseCertificatePem(ca_pem);
    if (!ca.ok()) return UnavailableError("revocation list: " + ca_file_ + ": " + std::string(ca.status().message()));
    auto crl = internal::ParseCrlPem(crl_pem);
    if (!crl.ok())
      return UnavailableError("revocation list: " + crl_file_ + ": " + std::string(crl.status().message()));
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl->get()), X509_get_subject_name(ca->get())) != 0 ||
        X509_CRL_verify(crl->get(), X509_get0_pubkey(ca->get())) != 1) {
      internal::OpensslError();
      return UnavailableError("revocation list: " + crl_file_ + " is not signed by " + ca_file_);
    }
    STACK_OF(X509_REVOKED)* entries = X509_CRL_get_REVOKED(crl->get());
    for (int i = 0; i < sk_X509_REVOKED_num(entries); ++i) {
      revoked_.insert(internal::SerialHex(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(entries, i))));
    }
    return Status::Ok();
  }

  const std::string ca_file_, crl_file_;
  std::mutex mu_;
  bool loaded_ = false;
  FileStamp crl_stamp_, ca_stamp_;
  Status load_status_;
  std::unordered_set<std::string> revoked_;
};

// Runs after gRPC/OpenSSL verified the chain to ca.crt and its validity period: refuses revoked
// certificates and, on the client side, a server that is not the service we meant to call.
class MeshVerifier final : public grpc::experimental::ExternalCertificateVerifier {
 public:
  MeshVerifier(std::shared_ptr<RevocationList> revocations, std::string expected_identity)
      : revocations_(std::move(revocations)), expected_identity_(std::move(expected_identity)) {}

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> /*callback*/, grpc::Status* sync_status) override {
    grpc::string_ref pem = request->peer_cert();
    Status s = Check(std::string_view(pem.data(), pem.size()));
    *sync_status =
        s.ok() ? grpc::Status::OK : grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(s.message()));
    return true;  // synchronous: the callback is never used
  }
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest* /*request*/) override {}

 private:
  Status Check(std::string_view peer_pem) {
    auto cert = internal::ParseCertificatePem(peer_pem);
    if (!cert.ok()) return UnauthenticatedError("the peer presented no readable certificate");
    std::string identity = internal::CommonName(X509_get_subject_name(cert->get()));
    std::string serial = internal::SerialHex(X509_get0_serialNumber(cert->get()));
    Status s;
    if (!expected_identity_.empty() && identity != expected_identity_) {
      s = PermissionDeniedError("the server is \"" + identity + "\", not \"" + expected_identity_ + "\"");
    } else {
      s = revocations_->Check(serial);
    }
    if (!s.ok()) {
      log::Warn("mesh: refused a peer certificate",
                {{"identity", identity}, {"serial", serial}, {"reason", std::string(s.message())}});
    }
    return s;
  }

  std::shared_ptr<RevocationList> revocations_;
  const std::string expected_identity_;
};

struct GrpcFiles {
  std::string key, cert;  // cert == key when the key file carries its certificate
};

// Checks that the identity files exist and the CRL is usable, and picks the file gRPC reads
// the certificate from (see tls.h).
StatusOr<GrpcFiles> PrepareFiles(const IdentityFiles& files, RevocationList& revocations) {
  for (const std::string& path : {files.cert_file(), files.key_file(), files.ca_file(), files.crl_file()}) {
    if (!internal::FileExists(path)) {
      return FailedPreconditionError("mesh TLS: " + path + " is missing (issue one with `neosl ca issue`)");
    }
  }
  auto key = internal::ReadSecretFile(files.key_file());
  if (!key.ok()) return FailedPreconditionError("mesh TLS: " + std::string(key.status().message()));
  std::string_view text(reinterpret_cast<const char*>(key->bytes().data()), key->size());
  GrpcFiles out{files.key_file(), files.cert_file()};
  if (text.find(kPemCertificate) != std::string_view::npos) out.cert = files.key_file();
  // Any serial: this only loads the list, so a bad CRL fails here rather than on every handshake.
  Status crl = revocations.Check("");
  if (!crl.ok()) {
    return FailedPreconditionError("mesh TLS: " + std::string(crl.message()));
  }
  return out;
}

unsigned RefreshSeconds(const TlsOptions& options) {
  return static_cast<unsigned>(std::max<int64_t>(1, options.refresh_interval.count()));
}

}  // namespace

void ConfigureTls13Only() {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): called first thing in main, before any other thread.
  ::setenv("GRPC_SSL_CIPHER_SUITES", kTls12RsaOnlySuites, /*overwrite=*/0);
}

StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerTlsCredentials(const IdentityFiles& files,
                                                                        const TlsOptions& options) {
  auto revocations = std::make_shared<RevocationList>(files.ca_file(), files.crl_file());
  ASSIGN_OR_RETURN(GrpcFiles paths, PrepareFiles(files, *revocations));
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      paths.key, paths.cert, files.ca_file(), RefreshSeconds(options));
  grpc::experimental::TlsServerCredentialsOptions tls(provider);
  tls.watch_root_certs();
  tls.watch_identity_key_cert_pairs();
  tls.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  tls.set_certificate_verifier(
      grpc::experimental::ExternalCertificateVerifier::Create<MeshVerifier>(std::move(revocations), std::string()));
  return grpc::experimental::TlsServerCredentials(tls);
}

StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelTlsCredentials(const IdentityFiles& files,
                                                                          std::string server_identity,
                                                                          const TlsOptions& options) {
  if (server_identity.empty()) return InvalidArgumentError("mesh TLS: the server identity must not be empty");
  auto revocations = std::make_shared<RevocationList>(files.ca_file(), files.crl_file());
  ASSIGN_OR_RETURN(GrpcFiles paths, PrepareFiles(files, *revocations));
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      paths.key, paths.cert, files.ca_file(), RefreshSeconds(options));
  grpc::experimental::TlsChannelCredentialsOptions tls;
  tls.set_certificate_provider(provider);
  tls.watch_root_certs();
  tls.watch_identity_key_cert_pairs();
  tls.set_verify_server_certs(true);
  // Instances are dialled by address, so there is no host name to check; the verifier checks
  // the server's CN instead.
  tls.set_check_call_host(false);
  tls.set_certificate_verifier(grpc::experimental::ExternalCertificateVerifier::Create<MeshVerifier>(
      std::move(revocations), std::move(server_identity)));
  return grpc::experimental::TlsCredentials(tls);
}

Status WriteIdentityFiles(const IdentityFiles& files, const IssuedCertificate& cert, std::string_view ca_cert_pem,
                          std::string_view crl_pem) {
  if (cert.key_pem.empty()) return InvalidArgumentError("identity files: the certificate comes without its key");
  if (ca_cert_pem.empty() || crl_pem.empty()) return InvalidArgumentError("identity files: no CA certificate or CRL");
  ASSIGN_OR_RETURN(internal::X509Ptr x509, internal::ParseCertificatePem(cert.cert_pem));
  ASSIGN_OR_RETURN(internal::PkeyPtr key, internal::ParsePrivateKeyPem(cert.key_pem.bytes()));
  // gRPC would accept a mismatched pair and then fail every handshake; refuse it here.
  if (X509_check_private_key(x509.get(), key.get()) != 1) {
    internal::OpensslError();
    return InvalidArgumentError("identity files: the key does not belong to the certificate");
  }
  RETURN_IF_ERROR(internal::EnsureDirectory(files.dir, 0700));
  for (const auto& [path, content] : {std::pair{files.ca_file(), ca_cert_pem}, std::pair{files.crl_file(), crl_pem}}) {
    auto current = internal::ReadFileToString(path);
    if (current.ok() && *current == content) continue;
    RETURN_IF_ERROR(internal::WriteFileAtomically(path, content, {.mode = 0644}));
  }
  std::vector<uint8_t> combined(cert.key_pem.bytes().begin(), cert.key_pem.bytes().end());
  combined.insert(combined.end(), cert.cert_pem.begin(), cert.cert_pem.end());
  Status s = internal::WriteFileAtomically(files.key_file(), combined, {.mode = 0600, .strictly_newer_mtime = true});
  OPENSSL_cleanse(combined.data(), combined.size());
  RETURN_IF_ERROR(s);
  return internal::WriteFileAtomically(files.cert_file(), cert.cert_pem, {.mode = 0644, .strictly_newer_mtime = true});
}

std::string PeerIdentity(const grpc::AuthContext& auth) {
  if (!auth.IsPeerAuthenticated()) return "";
  std::vector<grpc::string_ref> cn = auth.FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
  return cn.empty() ? "" : std::string(cn.front().data(), cn.front().size());
}

std::string PeerCertificateFingerprint(const grpc::AuthContext& auth) {
  std::vector<grpc::string_ref> pem = auth.FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (pem.empty()) return "";
  auto cert = internal::ParseCertificatePem(std::string_view(pem.front().data(), pem.front().size()));
  return cert.ok() ? internal::Sha256HexOfDer(cert->get()) : "";
}

}  // namespace neosl::mesh
