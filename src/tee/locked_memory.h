// Memory for key material that never reaches swap, a core dump or a forked child.
//
// LockedBuffer is a fixed-size region of its own pages: mmap'ed, mlock'ed, MADV_DONTDUMP (left
// out of core dumps), MADV_WIPEONFORK (a forked child sees zeros), between two PROT_NONE guard
// pages (an overread faults instead of reading a neighbour), and wiped with OPENSSL_cleanse
// before it is unmapped. Long-lived enclave keys (sealing key, account key, VRF, report, ECIES)
// belong in one.
//
// SecretBytes (core/secret.h) keeps its bytes in a std::vector with the default allocator, so it
// cannot be placed in locked pages without changing that type. The enclave instead calls
// LockProcessMemory() at start: with mlockall every page of the process, SecretBytes' heap
// included, is locked as soon as it is touched; the sandbox's PR_SET_DUMPABLE 0 and
// RLIMIT_CORE 0 keep those pages out of core dumps. A SecretBytes that must live long can be
// moved into a LockedBuffer with LockedBuffer::CopyOf.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/secret.h"
#include "core/status.h"

namespace neosl::tee {

class LockedBuffer {
 public:
  // A zeroed buffer of `size` bytes (at least 1). RESOURCE_EXHAUSTED when RLIMIT_MEMLOCK or memory
  // is short; the message names the limit, never the contents.
  static StatusOr<LockedBuffer> Create(size_t size);
  // A locked copy of `secret` (empty if it is empty). The caller may then drop the SecretBytes (which wipes itself).
  static StatusOr<LockedBuffer> CopyOf(const SecretBytes& secret);

  LockedBuffer() = default;  // empty: size() == 0, no pages
  ~LockedBuffer();
  LockedBuffer(LockedBuffer&& other) noexcept;
  LockedBuffer& operator=(LockedBuffer&& other) noexcept;
  LockedBuffer(const LockedBuffer&) = delete;
  LockedBuffer& operator=(const LockedBuffer&) = delete;

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<uint8_t> bytes() { return {data_, size_}; }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }

  // Overwrites the contents with zeros (OPENSSL_cleanse); the pages stay mapped and locked.
  // The destructor does this before it unlocks and unmaps.
  void Wipe();

 private:
  LockedBuffer(uint8_t* mapping, size_t mapping_size, size_t size);
  void Release();

  uint8_t* mapping_ = nullptr;  // guard page, data pages, guard page
  size_t mapping_size_ = 0;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT): every page, present and future, is locked
// once touched. Without CAP_IPC_LOCK every later mapping (a thread's 8 MiB stack too) counts
// against RLIMIT_MEMLOCK and fails beyond it, so the host should raise that limit for the enclave
// (e.g. `LimitMEMLOCK=` in the systemd unit, or prlimit before spawning). Errors
// (RESOURCE_EXHAUSTED for the limit, PERMISSION_DENIED for EPERM) are returned for the caller to
// log; nothing is locked then.
Status LockProcessMemory();

// mlockall(MCL_CURRENT): the pages the process has now (keys loaded before the sandbox) stay in
// memory; later mappings are not locked. What the enclave uses: once it enters its own user
// namespace it no longer has CAP_IPC_LOCK in the initial one, so MCL_FUTURE would make every
// later mapping (thread stacks, allocations) count against RLIMIT_MEMLOCK and fail past it.
Status LockCurrentMemory();

}  // namespace neosl::tee
