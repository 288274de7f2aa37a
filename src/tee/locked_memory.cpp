#include "tee/locked_memory.h"

#include <cerrno>
#include <cstring>
#include <string>
#include <unistd.h>
#include <utility>

#include <openssl/crypto.h>
#include <sys/mman.h>

namespace neosl::tee {
namespace {

size_t PageSize() {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

std::string ErrnoText(int err) {
  const char* text = strerrordesc_np(err);
  return text != nullptr ? text : "errno " + std::to_string(err);
}

Status LockError(std::string_view what, int err) {
  std::string message = std::string(what) + ": " + ErrnoText(err);
  constexpr std::string_view kFix = " (raise RLIMIT_MEMLOCK for the enclave, or grant CAP_IPC_LOCK)";
  if (err == ENOMEM || err == EAGAIN) return ResourceExhaustedError(message + std::string(kFix));
  // mlock and mlockall say EPERM when RLIMIT_MEMLOCK is 0 and the caller lacks CAP_IPC_LOCK.
  if (err == EPERM) return PermissionDeniedError(message + std::string(kFix));
  return InternalError(message);
}

}  // namespace

StatusOr<LockedBuffer> LockedBuffer::Create(size_t size) {
  if (size == 0) return InvalidArgumentError("locked buffer: size must be at least 1");
  const size_t page = PageSize();
  if (size > SIZE_MAX - 3 * page) return InvalidArgumentError("locked buffer: size too large");
  const size_t data_pages = (size + page - 1) / page;
  const size_t mapping_size = (data_pages + 2) * page;
  void* mapping = mmap(nullptr, mapping_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping == MAP_FAILED) return LockError("locked buffer: mmap", errno);
  auto* base = static_cast<uint8_t*>(mapping);
  uint8_t* data = base + page;
  const size_t data_size = data_pages * page;

  auto fail = [&](std::string_view what) -> Status {
    int err = errno;
    munmap(mapping, mapping_size);
    return LockError(what, err);
  };
  if (mprotect(data, data_size, PROT_READ | PROT_WRITE) != 0) return fail("locked buffer: mprotect");
  // Before the first write, so no byte of a key is ever in a dumpable or forkable page.
  if (madvise(data, data_size, MADV_DONTDUMP) != 0) return fail("locked buffer: madvise(MADV_DONTDUMP)");
  if (madvise(data, data_size, MADV_WIPEONFORK) != 0) return fail("locked buffer: madvise(MADV_WIPEONFORK)");
  if (mlock(data, data_size) != 0) return fail("locked buffer: mlock");
  return LockedBuffer(base, mapping_size, size);
}

StatusOr<LockedBuffer> LockedBuffer::CopyOf(const SecretBytes& secret) {
  if (secret.empty()) return LockedBuffer();
  ASSIGN_OR_RETURN(LockedBuffer buffer, Create(secret.size()));
  std::memcpy(buffer.data(), secret.bytes().data(), secret.size());
  return buffer;
}

LockedBuffer::LockedBuffer(uint8_t* mapping, size_t mapping_size, size_t size)
    : mapping_(mapping), mapping_size_(mapping_size), data_(mapping + PageSize()), size_(size) {}

LockedBuffer::~LockedBuffer() {
  Release();
}

LockedBuffer::LockedBuffer(LockedBuffer&& other) noexcept
    : mapping_(std::exchange(other.mapping_, nullptr)),
      mapping_size_(std::exchange(other.mapping_size_, 0)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

LockedBuffer& LockedBuffer::operator=(LockedBuffer&& other) noexcept {
  if (this != &other) {
    Release();
    mapping_ = std::exchange(other.mapping_, nullptr);
    mapping_size_ = std::exchange(other.mapping_size_, 0);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void LockedBuffer::Wipe() {
  // The whole data area: the tail of the last page may have been written through data() too.
  if (mapping_ != nullptr) OPENSSL_cleanse(data_, mapping_size_ - 2 * PageSize());
}

void LockedBuffer::Release() {
  if (mapping_ == nullptr) return;
  Wipe();
  const size_t data_size = mapping_size_ - 2 * PageSize();
  munlock(data_, data_size);
  munmap(mapping_, mapping_size_);
  mapping_ = nullptr;
  mapping_size_ = 0;
  data_ = nullptr;
  size_ = 0;
}

Status LockProcessMemory() {
  if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0) return LockError("mlockall", errno);
  return Status::Ok();
}

Status LockCurrentMemory() {
  if (mlockall(MCL_CURRENT) != 0) return LockError("mlockall", errno);
  return Status::Ok();
}

}  // namespace neosl::tee
