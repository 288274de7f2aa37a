// The mesh's internal certificate authority (`neosl ca init|issue|revoke`): a P-256 root that
// issues each service a short-lived certificate whose subject CN is the service's identity
// ("gateway", "echo", "functions", …), and a signed revocation list the mesh checks on every
// handshake. See docs/mesh.md.
//
// On disk, in the CA directory (0700):
//   ca.key      the root's private key, PEM, 0600 — only `neosl ca` and processes allowed to
//               issue their own certificates (single machine) read it
//   ca.crt      the root certificate, PEM — every mesh member trusts it
//   crl.pem     the current CRL, signed by the root, re-issued on every revocation
//   issued.json every certificate issued: serial, identity, not_before, not_after, revoked_at
//   serial      the next serial number (decimal); serials are also random-prefixed so two CAs
//               never collide
// Writes are atomic (write, fsync, rename) and serialised by a lock file, so two `neosl ca issue`
// running at once never lose an entry.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/secret.h"
#include "core/status.h"

namespace neosl::mesh {

// Certificates live between these bounds (service-integration.md: "24-48 hours").
inline constexpr std::chrono::hours kMinCertValidity{24};
inline constexpr std::chrono::hours kMaxCertValidity{48};

struct IssuedCertificate {
  std::string identity;    // the subject CN
  std::string serial_hex;  // lowercase hex, no leading zeros
  std::string cert_pem;    // the leaf certificate
  SecretBytes key_pem;     // its private key (PKCS#8 PEM text); empty when issued for a CSR
  int64_t not_before_ms = 0;
  int64_t not_after_ms = 0;
};

struct IssuedRecord {
  std::string identity;
  std::string serial_hex;
  int64_t not_before_ms = 0;
  int64_t not_after_ms = 0;
  std::optional<int64_t> revoked_at_ms;
};

class CertificateAuthority {
 public:
  struct InitOptions {
    std::string name = "neosl mesh CA";         // the root's CN
    std::chrono::hours validity{24 * 365 * 5};  // the root's own lifetime
  };
  // Makes a new CA in `dir` (created 0700). Refuses with ALREADY_EXISTS if `dir` already holds
  // one, so an init can never silently replace a root every service trusts.
  static StatusOr<std::unique_ptr<CertificateAuthority>> Init(const std::string& dir, const InitOptions& options,
                                                              const Clock& clock);
  // Opens an existing CA; NOT_FOUND if there is none, DATA_LOSS if its files do not match.
  static StatusOr<std::unique_ptr<CertificateAuthority>> Open(const std::string& dir, const Clock& clock);

  // Issues a certificate for `identity` (1–63 chars of [a-z0-9-], not starting or ending with
  // '-': the service name, also used as a DNS SAN) with a fresh P-256 key. `validity` must lie in [kMinCertValidity, kMaxCertValidity]
  // (INVALID_ARGUMENT otherwise). The certificate has CN=identity, SAN DNS:identity, key usage
  // digitalSignature, extended key usage serverAuth+clientAuth, and not_before backdated by one
  // minute for clock skew.
  StatusOr<IssuedCertificate> Issue(std::string_view identity, std::chrono::seconds validity);
  // The same for a PEM certificate signing request; the CSR's signature must verify and its CN
  // must equal `identity` (PERMISSION_DENIED otherwise). key_pem of the result is empty.
  StatusOr<IssuedCertificate> IssueForCsr(std::string_view identity, std::string_view csr_pem,
                                          std::chrono::seconds validity);
  // Revokes by serial (hex, as IssuedCertificate::serial_hex) and re-issues crl.pem. NOT_FOUND
  // for a serial this CA never issued; revoking twice is OK and keeps the first time.
  Status Revoke(std::string_view serial_hex);

  const std::string& ca_cert_pem() const;
  const std::string& crl_pem() const;
  StatusOr<std::vector<IssuedRecord>> List() const;
  const std::string& dir() const;

  ~CertificateAuthority();

 private:
  struct Impl;
  explicit CertificateAuthority(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A PEM certificate's facts, for status output and rotation decisions.
struct CertificateInfo {
  std::string common_name;
  std::string serial_hex;
  int64_t not_before_ms = 0;
  int64_t not_after_ms = 0;
  std::string sha256_hex;  // fingerprint of the DER
};
StatusOr<CertificateInfo> InspectCertificate(std::string_view cert_pem);

}  // namespace neosl::mesh
