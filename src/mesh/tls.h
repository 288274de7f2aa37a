// mTLS for the mesh: gRPC credentials built from a service's identity files, the peer checks
// gRPC leaves to us (revocation, the expected identity), and the rotator that renews a
// service's certificate before it expires without dropping calls. See docs/mesh.md.
//
// An identity directory (mesh.tls.dir; default <data_dir>/mesh) holds, for a process whose
// identity is NAME:
//   NAME.crt                    the current certificate, replaced atomically on rotation
//   NAME.key (0600)             its private key followed by the same certificate (see below)
//   ca.crt                      the CA root every peer must chain to
//   crl.pem                     the CA's revocation list (copied from the CA on every renewal
//                               and re-read by the verifier whenever its mtime changes)
//
// gRPC watches the files (FileWatcherCertificateProvider): a renewed pair is used for new
// handshakes while established connections carry on, so rotation loses no call. gRPC 1.51 reads
// the key and the certificate as two files and does not check that they match: with separate
// files a refresh landing between the two renames of a rotation would pair the new key with the
// old certificate and break new handshakes until the next refresh. So NAME.key carries the
// certificate too and gRPC reads both from it (one rename, one generation), and every write of it
// gets a later mtime (gRPC's torn-read check compares whole seconds). A NAME.key holding only a
// key (written by other tools) still works: the certificate then comes from NAME.crt.
//
// TLS 1.3 only: gRPC 1.51 has no minimum-version setting on its TLS credentials, so the process
// restricts gRPC's TLS 1.2 cipher list (GRPC_SSL_CIPHER_SUITES) to suites that need an RSA
// certificate. Mesh certificates are P-256, so a TLS 1.2 handshake finds no suite and fails;
// TLS 1.3 suites are unaffected. ConfigureTls13Only() must run before gRPC is first used.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/clock.h"
#include "core/status.h"
#include "mesh/ca.h"
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/support/server_interceptor.h>

namespace grpc {
class AuthContext;
}

namespace neosl::mesh {

// Sets GRPC_SSL_CIPHER_SUITES (see above) unless already set. Call first thing in main, before
// any gRPC object exists; idempotent.
void ConfigureTls13Only();

struct IdentityFiles {
  std::string dir;       // the identity directory
  std::string identity;  // NAME

  std::string cert_file() const { return dir + "/" + identity + ".crt"; }
  std::string key_file() const { return dir + "/" + identity + ".key"; }
  std::string ca_file() const { return dir + "/ca.crt"; }
  std::string crl_file() const { return dir + "/crl.pem"; }
};

struct TlsOptions {
  // How often gRPC re-reads the certificate files (rotation shows within this).
  std::chrono::seconds refresh_interval{1};
};

// Server credentials: presents NAME.crt, requires and verifies a client certificate chaining to
// ca.crt, and refuses revoked ones (crl.pem). Expired certificates fail chain verification.
// FAILED_PRECONDITION if the files are missing.
StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerTlsCredentials(const IdentityFiles& files,
                                                                        const TlsOptions& options = {});

// Channel credentials for calling the service whose identity is `server_identity`: presents
// NAME.crt, verifies the server's chain to ca.crt, refuses a revoked server certificate and one
// whose CN is not `server_identity` (so a stolen "echo" certificate cannot pose as "secrets").
// Host names are not checked (instances are reached by address); the CN check replaces it.
// Channels should still set grpc::ChannelArguments::SetSslTargetNameOverride(server_identity):
// gRPC 1.51 otherwise sends the IP address as SNI and the server logs "No match found for
// server name" at ERROR on every handshake.
StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelTlsCredentials(const IdentityFiles& files,
                                                                          std::string server_identity,
                                                                          const TlsOptions& options = {});

// Writes an issued certificate into `files`: ca.crt and crl.pem (only if they changed), then
// NAME.key (key + certificate, 0600), then NAME.crt, each atomically; the directory is created
// 0700 if missing. INVALID_ARGUMENT if `cert` has no key or its key does not match.
Status WriteIdentityFiles(const IdentityFiles& files, const IssuedCertificate& cert, std::string_view ca_cert_pem,
                          std::string_view crl_pem);

// The CN of the verified peer certificate of a call, or empty (no TLS, in-process).
std::string PeerIdentity(const grpc::AuthContext& auth);
// SHA-256 (hex) of the peer's certificate, or empty; the attestation cache keys on it.
std::string PeerCertificateFingerprint(const grpc::AuthContext& auth);

// Where a rotator gets certificates, the root and the revocation list.
class Issuer {
 public:
  virtual ~Issuer() = default;
  virtual StatusOr<IssuedCertificate> Issue(std::string_view identity, std::chrono::seconds validity) = 0;
  virtual StatusOr<std::string> CaCertPem() = 0;
  virtual StatusOr<std::string> CrlPem() = 0;
};
// Opens the CA directory itself (single machine, or a process the operator lets read ca.key).
// The CA is re-opened on every call so revocations by `neosl ca revoke` are seen.
std::unique_ptr<Issuer> LocalIssuer(std::string ca_dir, const Clock& clock);

struct RotatorOptions {
  std::chrono::seconds validity{24 * 3600};
  // Renew when less than this fraction of the lifetime is left (1/3: a 24 h certificate is
  // renewed after 16 h).
  double renew_when_left = 1.0 / 3.0;
  // After a failed renewal, try again this often (the old certificate stays in use meanwhile).
  std::chrono::seconds retry_interval{30};
  // How often crl.pem is refreshed from the issuer, so a revocation reaches every peer.
  std::chrono::seconds crl_refresh{10};
};

// Keeps IdentityFiles fresh: issues a certificate if there is none, copies ca.crt and crl.pem
// next to it, and renews in the background before expiry. Writes with WriteIdentityFiles, so
// gRPC never sees a key without its certificate. The renewal decision uses `clock`; the thread
// sleeps in real time, at most crl_refresh at a time.
class CertRotator {
 public:
  CertRotator(IdentityFiles files, std::unique_ptr<Issuer> issuer, RotatorOptions options, const Clock& clock);
  ~CertRotator();  // stops the thread

  // Issues now if the files are missing, unreadable, expired, revoked-by-name-mismatch or due
  // for renewal; otherwise only refreshes ca.crt and crl.pem. Call once before serving.
  Status EnsureFresh();
  // Renews unconditionally (tests, `neosl ca` after a compromise).
  Status RotateNow();
  // Copies the issuer's current crl.pem into the identity directory now.
  Status RefreshCrl();
  // Starts the background renewal thread.
  void Start();
  void Stop();

  // The serial of the certificate currently on disk ("" before the first issue).
  std::string current_serial() const;
  uint64_t rotations() const { return rotations_.load(); }

 private:
  // Issues and writes a new certificate; the caller holds renew_mu_.
  Status Renew();
  void Loop();
  int64_t RenewDueMs() const;  // when the certificate on disk is due (mu_ held)

  IdentityFiles files_;
  std::unique_ptr<Issuer> issuer_;
  RotatorOptions options_;
  const Clock& clock_;
  // Serialises the writers of the identity files (EnsureFresh, RotateNow, RefreshCrl, Loop).
  std::mutex renew_mu_;
  mutable std::mutex mu_;  // guards the fields below
  std::condition_variable cv_;
  bool stop_ = false;
  std::string serial_;
  int64_t not_before_ms_ = 0, not_after_ms_ = 0;
  std::atomic<uint64_t> rotations_{0};
  std::thread thread_;
};

}  // namespace neosl::mesh
