#include "mesh/pki_util.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "core/encoding.h"

namespace neosl::mesh::internal {
namespace {

std::string ErrnoText(int err) {
  char buf[256];
  // GNU strerror_r returns the message (possibly not in buf).
  return strerror_r(err, buf, sizeof buf);
}

BioPtr MemBio(std::string_view pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

StatusOr<std::string> BioContents(BIO* bio) {
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(bio, &mem);
  if (mem == nullptr) return InternalError("PEM encoding: " + OpensslError());
  return std::string(mem->data, mem->length);
}

// Syncs the directory entry of a rename; without it a crash may forget the rename.
Status SyncDirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return UnavailableError("opening " + dir + ": " + ErrnoText(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return UnavailableError("syncing " + dir + ": " + ErrnoText(err));
  return Status::Ok();
}

Status WriteAll(int fd, std::span<const uint8_t> data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return UnavailableError(ErrnoText(errno));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

std::string OpensslError() {
  unsigned long err = ERR_get_error();  // NOLINT(google-runtime-int): OpenSSL's type
  std::string text = "unknown OpenSSL error";
  if (err != 0) {
    const char* reason = ERR_reason_error_string(err);
    text = reason != nullptr ? reason : "OpenSSL error " + std::to_string(err);
  }
  ERR_clear_error();
  return text;
}

StatusOr<X509Ptr> ParseCertificatePem(std::string_view pem) {
  BioPtr bio = MemBio(pem);
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) return InvalidArgumentError("not a PEM certificate: " + OpensslError());
  return cert;
}

StatusOr<X509CrlPtr> ParseCrlPem(std::string_view pem) {
  BioPtr bio = MemBio(pem);
  X509CrlPtr crl(bio ? PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!crl) return InvalidArgumentError("not a PEM CRL: " + OpensslError());
  return crl;
}

StatusOr<X509ReqPtr> ParseCsrPem(std::string_view pem) {
  BioPtr bio = MemBio(pem);
  X509ReqPtr req(bio ? PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!req) return InvalidArgumentError("not a PEM certificate signing request: " + OpensslError());
  return req;
}

StatusOr<PkeyPtr> ParsePrivateKeyPem(std::span<const uint8_t> pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  // A null passphrase callback with an empty password: an encrypted key fails instead of
  // prompting on the terminal.
  PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, const_cast<char*>("")) : nullptr);
  if (!key) return InvalidArgumentError("not a PEM private key: " + OpensslError());
  return key;
}

StatusOr<std::string> CertificateToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return InternalError("PEM encoding: " + OpensslError());
  return BioContents(bio.get());
}

StatusOr<std::string> CrlToPem(X509_CRL* crl) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_CRL(bio.get(), crl) != 1) return InternalError("PEM encoding: " + OpensslError());
  return BioContents(bio.get());
}

StatusOr<SecretBytes> PrivateKeyToPem(EVP_PKEY* key) {
  // The secure-heap BIO wipes its buffer when freed.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return InternalError("encoding a private key: " + OpensslError());
  }
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(bio.get(), &mem);
  if (mem == nullptr) return InternalError("encoding a private key: " + OpensslError());
  return SecretBytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(mem->data), mem->length));
}

StatusOr<PkeyPtr> GenerateP256Key() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return InternalError("generating a P-256 key: " + OpensslError());
  return key;
}

bool IsP256Key(const EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return false;
  char group[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &len) != 1) return false;
  return std::string_view(group, len) == "prime256v1" || std::string_view(group, len) == "P-256";
}

std::string SerialHex(const ASN1_INTEGER* serial) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr);
  if (bn == nullptr) return "";
  char* hex = BN_bn2hex(bn);
  BN_free(bn);
  if (hex == nullptr) return "";
  std::string out(hex);
  OPENSSL_free(hex);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

StatusOr<std::string> NormalizeSerialHex(std::string_view hex) {
  if (hex.empty() || hex.size() > 40) return InvalidArgumentError("serial: expected 1-40 hex digits");
  auto bytes = HexDecode(hex.size() % 2 == 0 ? std::string(hex) : "0" + std::string(hex));
  if (!bytes) return InvalidArgumentError("serial: \"" + std::string(hex) + "\" is not hex");
  size_t first = 0;
  while (first < bytes->size() && (*bytes)[first] == 0) ++first;
  std::string out = HexEncode(std::span<const uint8_t>(*bytes).subspan(first));
  if (out.empty()) return std::string("0");
  if (out[0] == '0') out.erase(0, 1);
  return out;
}

std::string CommonName(const X509_NAME* name) {
  if (name == nullptr) return "";
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return "";
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

int64_t Asn1TimeToUnixMillis(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

std::string Sha256HexOfDer(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) != 1) return "";
  return HexEncode(std::span<const uint8_t>(md, len));
}

StatusOr<std::string> ReadFileToString(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFoundError(path + " does not exist");
    return UnavailableError("reading " + path + ": " + ErrnoText(errno));
  }
  std::string out;
  char buf[16384];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return UnavailableError("reading " + path + ": " + ErrnoText(err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

StatusOr<SecretBytes> ReadSecretFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFoundError(path + " does not exist");
    return UnavailableError("reading " + path + ": " + ErrnoText(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size > (1 << 20)) {
    ::close(fd);
    return UnavailableError("reading " + path + ": not a small regular file");
  }
  // One allocation of the final size, so no reallocation leaves a stray copy behind.
  std::vector<uint8_t> buf(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::read(fd, buf.data() + done, buf.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  SecretBytes out(std::span<const uint8_t>(buf.data(), done));
  OPENSSL_cleanse(buf.data(), buf.size());
  return out;
}

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

Status WriteFileAtomically(const std::string& path, std::span<const uint8_t> data, const WriteOptions& options) {
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);  // 0600 from the start: a key is never exposed
  if (fd < 0) return UnavailableError("creating a temporary file for " + path + ": " + ErrnoText(errno));
  auto fail = [&](const std::string& what, int err) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return UnavailableError(what + " " + path + ": " + ErrnoText(err));
  };
  if (::fchmod(fd, options.mode) != 0) return fail("setting the mode of", errno);
  if (Status s = WriteAll(fd, data); !s.ok()) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return UnavailableError("writing " + path + ": " + std::string(s.message()));
  }
  if (options.strictly_newer_mtime) {
    struct timespec now {};
    ::clock_gettime(CLOCK_REALTIME, &now);
    time_t mtime = now.tv_sec;
    struct stat old {};
    if (::stat(path.c_str(), &old) == 0 && old.st_mtim.tv_sec >= mtime) mtime = old.st_mtim.tv_sec + 1;
    struct timespec times[2] = {now, {mtime, 0}};
    if (::futimens(fd, times) != 0) return fail("setting the mtime of", errno);
  }
  if (::fsync(fd) != 0) return fail("syncing", errno);
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return UnavailableError("closing " + path + ": " + ErrnoText(err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return UnavailableError("renaming into " + path + ": " + ErrnoText(err));
  }
  return SyncDirectoryOf(path);
}

Status WriteFileAtomically(const std::string& path, std::string_view data, const WriteOptions& options) {
  return WriteFileAtomically(path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size()),
                             options);
}

Status EnsureDirectory(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) == 0) {
    // mkdir's mode is filtered by the umask; the CA directory must be exactly `mode`.
    if (::chmod(path.c_str(), mode) != 0) return UnavailableError("chmod " + path + ": " + ErrnoText(errno));
    return Status::Ok();
  }
  if (errno != EEXIST) return UnavailableError("creating " + path + ": " + ErrnoText(errno));
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return FailedPreconditionError(path + " exists and is not a directory");
  }
  return Status::Ok();
}

StatusOr<FileLock> FileLock::Acquire(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return UnavailableError("opening lock " + path + ": " + ErrnoText(errno));
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    ::close(fd);
    return UnavailableError("locking " + path + ": " + ErrnoText(err));
  }
  return FileLock(fd);
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace neosl::mesh::internal
