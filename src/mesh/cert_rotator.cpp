// CertRotator and LocalIssuer (tls.h): keeping a service's identity files fresh.
#include <algorithm>
#include <utility>

#include <openssl/x509.h>

#include "core/encoding.h"
#include "core/log.h"
#include "mesh/pki_util.h"
#include "mesh/tls.h"

namespace neosl::mesh {
namespace {

class LocalCaIssuer final : public Issuer {
 public:
  LocalCaIssuer(std::string dir, const Clock& clock) : dir_(std::move(dir)), clock_(clock) {}

  StatusOr<IssuedCertificate> Issue(std::string_view identity, std::chrono::seconds validity) override {
    ASSIGN_OR_RETURN(auto ca, CertificateAuthority::Open(dir_, clock_));
    return ca->Issue(identity, validity);
  }
  StatusOr<std::string> CaCertPem() override {
    ASSIGN_OR_RETURN(auto ca, CertificateAuthority::Open(dir_, clock_));
    return ca->ca_cert_pem();
  }
  StatusOr<std::string> CrlPem() override {
    ASSIGN_OR_RETURN(auto ca, CertificateAuthority::Open(dir_, clock_));
    return ca->crl_pem();
  }

 private:
  const std::string dir_;
  const Clock& clock_;
};

Status WriteIfChanged(const std::string& path, std::string_view content) {
  auto current = internal::ReadFileToString(path);
  if (current.ok() && *current == content) return Status::Ok();
  return internal::WriteFileAtomically(path, content, {.mode = 0644});
}

// The facts of the certificate on disk if it can stay in use (ignoring its age); otherwise an
// error saying why it must be replaced.
StatusOr<CertificateInfo> CheckCurrent(const IdentityFiles& files, std::string_view ca_pem, std::string_view crl_pem) {
  ASSIGN_OR_RETURN(std::string cert_pem, internal::ReadFileToString(files.cert_file()));
  ASSIGN_OR_RETURN(internal::X509Ptr cert, internal::ParseCertificatePem(cert_pem));
  ASSIGN_OR_RETURN(SecretBytes key_pem, internal::ReadSecretFile(files.key_file()));
  ASSIGN_OR_RETURN(internal::PkeyPtr key, internal::ParsePrivateKeyPem(key_pem.bytes()));
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    internal::OpensslError();
    return FailedPreconditionError("the key does not belong to the certificate");
  }
  // gRPC reads the certificate that follows the key, when there is one; it must be this one.
  std::string_view key_text(reinterpret_cast<const char*>(key_pem.bytes().data()), key_pem.size());
  if (size_t at = key_text.find("-----BEGIN CERTIFICATE-----"); at != std::string_view::npos) {
    auto bundled = internal::ParseCertificatePem(key_text.substr(at));
    if (!bundled.ok() || X509_cmp(bundled->get(), cert.get()) != 0) {
      return FailedPreconditionError("the key file carries another certificate");
    }
  }
  ASSIGN_OR_RETURN(CertificateInfo info, InspectCertificate(cert_pem));
  if (info.common_name != files.identity) {
    return FailedPreconditionError("the certificate is for \"" + info.common_name + "\"");
  }
  ASSIGN_OR_RETURN(internal::X509Ptr ca, internal::ParseCertificatePem(ca_pem));
  if (X509_verify(cert.get(), X509_get0_pubkey(ca.get())) != 1) {
    internal::OpensslError();
    return FailedPreconditionError("the certificate is not signed by the current CA");
  }
  ASSIGN_OR_RETURN(internal::X509CrlPtr crl, internal::ParseCrlPem(crl_pem));
  X509_REVOKED* revoked = nullptr;
  if (X509_CRL_get0_by_serial(crl.get(), &revoked, X509_get0_serialNumber(cert.get())) == 1) {
    return FailedPreconditionError("the certificate is revoked");
  }
  return info;
}

}  // namespace

std::unique_ptr<Issuer> LocalIssuer(std::string ca_dir, const Clock& clock) {
  return std::make_unique<LocalCaIssuer>(std::move(ca_dir), clock);
}

CertRotator::CertRotator(IdentityFiles files, std::unique_ptr<Issuer> issuer, RotatorOptions options,
                         const Clock& clock)
    : files_(std::move(files)), issuer_(std::move(issuer)), options_(options), clock_(clock) {
  // Out-of-range settings would renew in a tight loop (or never); keep them sane.
  options_.renew_when_left = std::clamp(options_.renew_when_left, 0.01, 0.99);
  options_.retry_interval = std::max(options_.retry_interval, std::chrono::seconds(1));
  options_.crl_refresh = std::max(options_.crl_refresh, std::chrono::seconds(1));
}

CertRotator::~CertRotator() {
  Stop();
}

int64_t CertRotator::RenewDueMs() const {
  if (serial_.empty()) return 0;  // nothing on disk yet: due now
  auto lifetime = static_cast<double>(not_after_ms_ - not_before_ms_);
  return not_before_ms_ + static_cast<int64_t>(lifetime * (1.0 - options_.renew_when_left));
}

Status CertRotator::EnsureFresh() {
  std::lock_guard renew(renew_mu_);
  ASSIGN_OR_RETURN(std::string ca_pem, issuer_->CaCertPem());
  ASSIGN_OR_RETURN(std::string crl_pem, issuer_->CrlPem());
  RETURN_IF_ERROR(internal::EnsureDirectory(files_.dir, 0700));
  RETURN_IF_ERROR(WriteIfChanged(files_.ca_file(), ca_pem));
  RETURN_IF_ERROR(WriteIfChanged(files_.crl_file(), crl_pem));

  std::string reason;
  auto current = CheckCurrent(files_, ca_pem, crl_pem);
  if (current.ok()) {
    std::lock_guard lock(mu_);
    serial_ = current->serial_hex;
    not_before_ms_ = current->not_before_ms;
    not_after_ms_ = current->not_after_ms;
    if (clock_.NowUnixMillis() < RenewDueMs()) return Status::Ok();
    reason = "due for renewal";
  } else {
    reason = std::string(current.status().message());
  }
  log::Info("mesh: issuing a certificate", {{"identity", files_.identity}, {"reason", reason}});
  return Renew();
}

Status CertRotator::RotateNow() {
  std::lock_guard renew(renew_mu_);
  return Renew();
}

Status CertRotator::RefreshCrl() {
  std::lock_guard renew(renew_mu_);
  ASSIGN_OR_RETURN(std::string crl_pem, issuer_->CrlPem());
  return WriteIfChanged(files_.crl_file(), crl_pem);
}

Status CertRotator::Renew() {
  // The root and the CRL first: a new CA must be trusted before its certificate is presented.
  ASSIGN_OR_RETURN(std::string ca_pem, issuer_->CaCertPem());
  ASSIGN_OR_RETURN(std::string crl_pem, issuer_->CrlPem());
  ASSIGN_OR_RETURN(IssuedCertificate cert, issuer_->Issue(files_.identity, options_.validity));
  if (cert.identity != files_.identity) {
    return InternalError("the issuer returned a certificate for \"" + cert.identity + "\"");
  }
  RETURN_IF_ERROR(WriteIdentityFiles(files_, cert, ca_pem, crl_pem));
  {
    std::lock_guard lock(mu_);
    serial_ = cert.serial_hex;
    not_before_ms_ = cert.not_before_ms;
    not_after_ms_ = cert.not_after_ms;
  }
  rotations_.fetch_add(1);
  cv_.notify_all();  // the loop's next wake-up depends on the new expiry
  log::Info("mesh: certificate issued", {{"identity", files_.identity},
                                         {"serial", cert.serial_hex},
                                         {"not_after", FormatRfc3339Millis(cert.not_after_ms)}});
  return Status::Ok();
}

void CertRotator::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void CertRotator::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string CertRotator::current_serial() const {
  std::lock_guard lock(mu_);
  return serial_;
}

void CertRotator::Loop() {
  using Steady = std::chrono::steady_clock;
  Steady::time_point next_crl = Steady::now() + options_.crl_refresh;
  // While renewals fail, the next attempt waits for retry_at. (Not an optional: GCC 12 warns
  // falsely that its value may be used uninitialised.)
  bool retrying = false;
  Steady::time_point retry_at;
  std::unique_lock lock(mu_);
  while (!stop_) {
    // Sleep until the CRL refresh, the renewal (by `clock_`) or the retry, whichever is first;
    // a Stop or a renewal elsewhere wakes us early.
    Steady::time_point now = Steady::now();
    Steady::duration wait = next_crl - now;
    if (retrying) {
      wait = std::min(wait, retry_at - now);
    } else {
      int64_t until_due_ms = std::max<int64_t>(0, RenewDueMs() - clock_.NowUnixMillis());
      wait = std::min<Steady::duration>(wait, std::chrono::milliseconds(until_due_ms));
    }
    if (wait > Steady::duration::zero()) {
      cv_.wait_for(lock, wait);
      if (stop_) break;
    }
    bool due = clock_.NowUnixMillis() >= RenewDueMs();
    lock.unlock();

    now = Steady::now();
    if (now >= next_crl) {
      if (Status s = RefreshCrl(); !s.ok()) {
        log::Warn("mesh: refreshing the revocation list failed",
                  {{"identity", files_.identity}, {"error", s.ToString()}});
      }
      next_crl = now + options_.crl_refresh;
    }
    if (!due) {
      retrying = false;  // renewed elsewhere (RotateNow) meanwhile
    } else if (!retrying || now >= retry_at) {
      Status s;
      {
        std::lock_guard renew(renew_mu_);
        s = Renew();
      }
      retrying = !s.ok();
      if (!s.ok()) {
        log::Warn("mesh: certificate renewal failed; the current certificate stays in use",
                  {{"identity", files_.identity},
                   {"error", s.ToString()},
                   {"retry_in_s", static_cast<int64_t>(options_.retry_interval.count())}});
        retry_at = Steady::now() + options_.retry_interval;
      }
    }
    lock.lock();
  }
}

}  // namespace neosl::mesh
