// Private to neosl_mesh_tls (ca.cpp, tls.cpp, cert_rotator.cpp): OpenSSL ownership wrappers,
// PEM/X.509 helpers and the durable file writes the CA and the rotator share. Not part of the
// library's API; everything here may change with its three users.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sys/types.h>

#include "core/secret.h"
#include "core/status.h"

namespace neosl::mesh::internal {

template <auto Fn>
struct OpensslFree {
  template <typename T>
  void operator()(T* p) const {
    Fn(p);
  }
};
using X509Ptr = std::unique_ptr<X509, OpensslFree<X509_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, OpensslFree<X509_CRL_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, OpensslFree<X509_REQ_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpensslFree<EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, OpensslFree<BIO_free_all>>;

// The reason of the newest OpenSSL error (and clears the queue), for messages. OpenSSL's
// reasons never contain key material.
std::string OpensslError();

// --- PEM and X.509 -----------------------------------------------------------------------
// The first certificate (or CRL, or CSR) in `pem`; INVALID_ARGUMENT if there is none.
StatusOr<X509Ptr> ParseCertificatePem(std::string_view pem);
StatusOr<X509CrlPtr> ParseCrlPem(std::string_view pem);
StatusOr<X509ReqPtr> ParseCsrPem(std::string_view pem);
// The private key in `pem`; the message never quotes the input.
StatusOr<PkeyPtr> ParsePrivateKeyPem(std::span<const uint8_t> pem);
StatusOr<std::string> CertificateToPem(X509* cert);
StatusOr<std::string> CrlToPem(X509_CRL* crl);
// PKCS#8 PEM, built in OpenSSL's secure heap and copied straight into SecretBytes.
StatusOr<SecretBytes> PrivateKeyToPem(EVP_PKEY* key);
StatusOr<PkeyPtr> GenerateP256Key();
bool IsP256Key(const EVP_PKEY* key);

// Lowercase hex without leading zeros ("0" for zero), as IssuedCertificate::serial_hex.
std::string SerialHex(const ASN1_INTEGER* serial);
// Canonical form of a user-typed serial (any case, leading zeros); nullopt-like error if not hex.
StatusOr<std::string> NormalizeSerialHex(std::string_view hex);
std::string CommonName(const X509_NAME* name);
int64_t Asn1TimeToUnixMillis(const ASN1_TIME* t);
std::string Sha256HexOfDer(X509* cert);

// --- files -------------------------------------------------------------------------------
// NOT_FOUND if `path` does not exist, UNAVAILABLE for other read errors.
StatusOr<std::string> ReadFileToString(const std::string& path);
// The same into wiped memory, for private keys.
StatusOr<SecretBytes> ReadSecretFile(const std::string& path);
bool FileExists(const std::string& path);

struct WriteOptions {
  mode_t mode = 0644;
  // Give the new file an mtime (whole seconds) later than the one it replaces. gRPC's file
  // watcher detects a file that changed while it read it only by comparing mtimes in seconds,
  // so two generations written within one second must still differ.
  bool strictly_newer_mtime = false;
};
// Writes a temporary file (created 0600, then chmod'ed to `mode`) in the same directory,
// fsyncs it, renames it over `path` and fsyncs the directory: readers see the old or the new
// content, never a mix, and a crash leaves one of the two.
Status WriteFileAtomically(const std::string& path, std::span<const uint8_t> data, const WriteOptions& options);
Status WriteFileAtomically(const std::string& path, std::string_view data, const WriteOptions& options);
// Creates `path` with `mode` if it does not exist (its parent must). An existing directory is
// left as it is.
Status EnsureDirectory(const std::string& path, mode_t mode);

// An exclusive flock(2) on `path` (created 0600), released on destruction. flock locks belong
// to the open file description, so they exclude other processes and other threads alike.
class FileLock {
 public:
  static StatusOr<FileLock> Acquire(const std::string& path);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace neosl::mesh::internal
