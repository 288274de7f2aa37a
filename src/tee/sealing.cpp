#include "tee/sealing.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <string>
#include <system_error>
#include <unistd.h>

#include <openssl/crypto.h>
#include <sys/stat.h>

#include "core/encoding.h"
#include "crypto/aes.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "tee/unique_fd.h"

namespace neosl::tee {
namespace {

constexpr std::string_view kMagic = "NSLSEAL1";
constexpr std::string_view kKdfSalt = "neosl-seal-v1";
constexpr size_t kPolicyOffset = 8;
constexpr size_t kIdentityOffset = 9;
constexpr size_t kSvnOffset = 41;
constexpr size_t kNonceOffset = 45;

using Fd = internal::UniqueFd;

Status Errno(const std::string& what, const std::string& path, int err) {
  // std::generic_category().message is thread-safe; strerror is not.
  std::string message = what + " " + path + ": " + std::error_code(err, std::generic_category()).message();
  if (err == ENOENT) return NotFoundError(std::move(message));
  if (err == EACCES || err == EPERM) return PermissionDeniedError(std::move(message));
  return InternalError(std::move(message));
}

std::string DirName(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status FsyncDir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) return Errno("cannot sync directory", dir, errno);
  return Status::Ok();
}

Status WriteAll(int fd, std::span<const uint8_t> data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write", path, errno);
    }
    data = data.subspan(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status ReadExactly(int fd, std::span<uint8_t> out, const std::string& path) {
  while (!out.empty()) {
    const ssize_t n = ::read(fd, out.data(), out.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot read", path, errno);
    }
    if (n == 0) return DataLossError(path + " changed size while it was read");
    out = out.subspan(static_cast<size_t>(n));
  }
  return Status::Ok();
}

std::string ModeString(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

uint32_t GetU32(std::span<const uint8_t> in) {
  return (uint32_t{in[0]} << 24) | (uint32_t{in[1]} << 16) | (uint32_t{in[2]} << 8) | uint32_t{in[3]};
}

StatusOr<SecretBytes> ReadPlatformSecret(const std::string& path, int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Errno("cannot stat platform secret", path, errno);
  if (!S_ISREG(st.st_mode)) return FailedPreconditionError("platform secret " + path + " is not a regular file");
  if (st.st_uid != ::geteuid()) {
    return FailedPreconditionError("platform secret " + path + " is owned by uid " + std::to_string(st.st_uid) +
                                   ", not by this user (uid " + std::to_string(::geteuid()) + ")");
  }
  if ((st.st_mode & 077) != 0) {
    return FailedPreconditionError("platform secret " + path + " has mode " + ModeString(st.st_mode) +
                                   "; it must be accessible to its owner only (chmod 600 " + path + ")");
  }
  if (st.st_size != static_cast<off_t>(kPlatformSecretSize)) {
    return FailedPreconditionError("platform secret " + path + " is " + std::to_string(st.st_size) +
                                   " bytes, expected " + std::to_string(kPlatformSecretSize));
  }
  std::array<uint8_t, kPlatformSecretSize> buf{};
  Status read = ReadExactly(fd, buf, path);
  SecretBytes secret(buf);
  OPENSSL_cleanse(buf.data(), buf.size());
  if (!read.ok()) return read;
  return secret;
}

}  // namespace

std::string_view SealPolicyName(SealPolicy policy) {
  switch (policy) {
    case SealPolicy::kMeasurement: return "measurement";
    case SealPolicy::kSigner: return "signer";
  }
  return "unknown";
}

StatusOr<SealedHeader> ParseSealedHeader(std::span<const uint8_t> blob) {
  if (blob.size() < kSealedHeaderSize + crypto::kAesGcmTagSize) {
    return DataLossError("sealed state is truncated (" + std::to_string(blob.size()) + " bytes)");
  }
  if (!std::equal(kMagic.begin(), kMagic.end(), blob.begin())) {
    return DataLossError("not a sealed blob (bad magic; expected NSLSEAL1)");
  }
  SealedHeader h;
  const uint8_t policy = blob[kPolicyOffset];
  if (policy != static_cast<uint8_t>(SealPolicy::kMeasurement) && policy != static_cast<uint8_t>(SealPolicy::kSigner)) {
    return DataLossError("sealed blob has unknown policy " + std::to_string(policy));
  }
  h.policy = static_cast<SealPolicy>(policy);
  std::copy_n(blob.begin() + kIdentityOffset, h.identity.size(), h.identity.begin());
  h.isv_svn = GetU32(blob.subspan(kSvnOffset, 4));
  if (h.policy == SealPolicy::kMeasurement && h.isv_svn != 0) {
    return DataLossError("sealed blob has an isv_svn under the measurement policy");
  }
  return h;
}

Sealer::Sealer(SecretBytes platform_secret, Measurement measurement, std::optional<SigStruct> sigstruct)
    : platform_secret_(std::move(platform_secret)), measurement_(measurement) {
  if (!sigstruct) {
    signer_status_ = FailedPreconditionError("this enclave has no sigstruct, so it cannot seal to a signer");
  } else if (Status verified = sigstruct->Verify(); !verified.ok()) {
    signer_status_ = FailedPreconditionError(std::string(verified.message()));
  } else if (sigstruct->measurement != measurement_) {
    signer_status_ =
        FailedPreconditionError("the sigstruct is for enclave measurement " + MeasurementHex(sigstruct->measurement) +
                                ", this enclave is " + MeasurementHex(measurement_));
  } else {
    sigstruct_ = std::move(sigstruct);
  }
}

StatusOr<SecretBytes> Sealer::DeriveKey(SealPolicy policy, const Measurement& identity, uint32_t isv_svn,
                                        std::string_view label) const {
  if (platform_secret_.size() != kPlatformSecretSize) {
    return FailedPreconditionError("the platform secret must be " + std::to_string(kPlatformSecretSize) + " bytes");
  }
  std::vector<uint8_t> info;
  info.push_back(static_cast<uint8_t>(policy));
  info.insert(info.end(), identity.begin(), identity.end());
  if (policy == SealPolicy::kSigner) PutU32(info, isv_svn);
  info.insert(info.end(), label.begin(), label.end());
  return crypto::HkdfSha256(platform_secret_.bytes(), crypto::AsBytes(kKdfSalt), info, crypto::kAes256KeySize);
}

StatusOr<std::vector<uint8_t>> Sealer::Seal(SealPolicy policy, std::span<const uint8_t> plaintext,
                                            std::string_view label, RandomSource& random) const {
  Measurement identity = measurement_;
  uint32_t svn = 0;
  switch (policy) {
    case SealPolicy::kMeasurement: break;
    case SealPolicy::kSigner:
      if (!sigstruct_) return signer_status_;
      identity = sigstruct_->SignerId();
      svn = sigstruct_->isv_svn;
      break;
    default: return InvalidArgumentError("unknown seal policy " + std::to_string(static_cast<int>(policy)));
  }
  ASSIGN_OR_RETURN(SecretBytes key, DeriveKey(policy, identity, svn, label));

  std::array<uint8_t, kSealedHeaderSize> header{};
  std::copy(kMagic.begin(), kMagic.end(), header.begin());
  header[kPolicyOffset] = static_cast<uint8_t>(policy);
  std::copy(identity.begin(), identity.end(), header.begin() + kIdentityOffset);
  for (size_t i = 0; i < 4; ++i) header[kSvnOffset + i] = static_cast<uint8_t>(svn >> (24 - 8 * i));
  const std::span<uint8_t> nonce = std::span(header).subspan(kNonceOffset, crypto::kAesGcmNonceSize);
  random.Fill(nonce);
  ASSIGN_OR_RETURN(std::vector<uint8_t> sealed, crypto::Aes256GcmSeal(key.bytes(), nonce, header, plaintext));
  // Sized up front, then filled: GCC 12 reports a false -Wstringop-overflow on reserve + insert.
  std::vector<uint8_t> blob(header.size() + sealed.size());
  std::copy(sealed.begin(), sealed.end(), std::copy(header.begin(), header.end(), blob.begin()));
  return blob;
}

StatusOr<SecretBytes> Sealer::Unseal(std::span<const uint8_t> blob, std::string_view label) const {
  ASSIGN_OR_RETURN(SealedHeader h, ParseSealedHeader(blob));
  if (h.policy == SealPolicy::kMeasurement) {
    if (h.identity != measurement_) {
      return FailedPreconditionError("sealed to enclave measurement " + MeasurementHex(h.identity) +
                                     ", this enclave is " + MeasurementHex(measurement_) +
                                     ": seal to the signer or migrate (neosl enclave migrate)");
    }
  } else {
    if (!sigstruct_) {
      return FailedPreconditionError(
          "sealed to enclave signer " + MeasurementHex(h.identity) +
          ", but this enclave cannot use signer sealing: " + std::string(signer_status_.message()));
    }
    const Measurement mine = sigstruct_->SignerId();
    if (h.identity != mine) {
      return FailedPreconditionError("sealed to enclave signer (MRSIGNER) " + MeasurementHex(h.identity) +
                                     ", this enclave's signer is " + MeasurementHex(mine));
    }
    if (h.isv_svn > sigstruct_->isv_svn) {
      return FailedPreconditionError("sealed by security version " + std::to_string(h.isv_svn) +
                                     ", this enclave is version " + std::to_string(sigstruct_->isv_svn) +
                                     ": refusing to downgrade");
    }
  }
  // Under the signer policy the key for the blob's (lower or equal) isv_svn is derived, as SGX
  // lets an enclave request keys for earlier security versions.
  ASSIGN_OR_RETURN(SecretBytes key, DeriveKey(h.policy, h.identity, h.isv_svn, label));
  const auto header = blob.first(kSealedHeaderSize);
  const auto nonce = blob.subspan(kNonceOffset, crypto::kAesGcmNonceSize);
  auto plaintext = crypto::Aes256GcmOpen(key.bytes(), nonce, header, blob.subspan(kSealedHeaderSize));
  if (!plaintext.ok()) {
    return DataLossError("sealed state is corrupt or was tampered with (or was sealed as something other than \"" +
                         std::string(label) + "\")");
  }
  return std::move(plaintext).value();
}

StatusOr<SecretBytes> LoadOrCreatePlatformSecret(const std::string& path, RandomSource& random) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    {
      Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (fd.get() >= 0) return ReadPlatformSecret(path, fd.get());
      if (errno == ELOOP) return FailedPreconditionError("platform secret " + path + " is a symbolic link");
      if (errno != ENOENT) return Errno("cannot open platform secret", path, errno);
    }
    RETURN_IF_ERROR(internal::EnsurePrivateDirectory(DirName(path)));
    std::array<uint8_t, kPlatformSecretSize> fresh{};
    random.Fill(fresh);
    Status written = internal::WriteFileDurably(path, fresh, /*replace_existing=*/false);
    SecretBytes secret(fresh);
    OPENSSL_cleanse(fresh.data(), fresh.size());
    if (written.ok()) return secret;
    // Another process made it first: read theirs.
    if (written.code() != StatusCode::kAlreadyExists) return written.Annotate("creating the platform secret");
  }
  return InternalError("platform secret " + path + " could not be read or created");
}

namespace internal {

Status EnsurePrivateDirectory(const std::string& dir) {
  if (dir.empty() || dir == "/" || dir == ".") return Status::Ok();
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return FailedPreconditionError(dir + " exists and is not a directory");
    return Status::Ok();
  }
  if (errno != ENOENT) return Errno("cannot stat", dir, errno);
  RETURN_IF_ERROR(EnsurePrivateDirectory(DirName(dir)));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return Errno("cannot create directory", dir, errno);
  return Status::Ok();
}

Status WriteFileDurably(const std::string& path, std::span<const uint8_t> data, bool replace_existing) {
  static std::atomic<uint64_t> counter{0};
  std::string tmp;
  int raw = -1;
  for (int attempt = 0; attempt < 100 && raw < 0; ++attempt) {
    tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
    raw = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (raw < 0 && errno != EEXIST) return Errno("cannot create", tmp, errno);
  }
  if (raw < 0) return InternalError("cannot find a free temporary name beside " + path);
  Fd fd(raw);
  Status status = WriteAll(fd.get(), data, tmp);
  if (status.ok() && ::fchmod(fd.get(), 0600) != 0) status = Errno("cannot chmod", tmp, errno);
  if (status.ok() && ::fsync(fd.get()) != 0) status = Errno("cannot sync", tmp, errno);
  if (status.ok()) {
    if (replace_existing) {
      if (::rename(tmp.c_str(), path.c_str()) != 0) status = Errno("cannot rename into", path, errno);
    } else if (::link(tmp.c_str(), path.c_str()) != 0) {
      status = errno == EEXIST ? AlreadyExistsError(path + " already exists") : Errno("cannot create", path, errno);
    }
  }
  // After a rename the temporary name is gone already; after a link (or a failure) it remains.
  if (!(status.ok() && replace_existing)) ::unlink(tmp.c_str());
  if (!status.ok()) return status;
  return FsyncDir(DirName(path));
}

StatusOr<std::vector<uint8_t>> ReadSmallFile(const std::string& path, size_t max_size) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) return Errno("cannot open", path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Errno("cannot stat", path, errno);
  if (!S_ISREG(st.st_mode)) return FailedPreconditionError(path + " is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_size) {
    return FailedPreconditionError(path + " is " + std::to_string(st.st_size) + " bytes, more than the " +
                                   std::to_string(max_size) + " allowed");
  }
  std::vector<uint8_t> data(static_cast<size_t>(st.st_size));
  RETURN_IF_ERROR(ReadExactly(fd.get(), data, path));
  return data;
}

}  // namespace internal
}  // namespace neosl::tee
