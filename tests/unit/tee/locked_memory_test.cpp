#include "tee/locked_memory.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/capability.h>

namespace neosl::tee {
namespace {

const size_t kPage = static_cast<size_t>(sysconf(_SC_PAGESIZE));

// AddressSanitizer replaces mlock, munlock and mlockall with no-ops, so nothing is locked in
// an ASan build; the tests that check locking say so and skip there.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kMlockIsANoOp = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kMlockIsANoOp = true;
#else
constexpr bool kMlockIsANoOp = false;
#endif
#else
constexpr bool kMlockIsANoOp = false;
#endif
constexpr const char* kAsanSkip = "AddressSanitizer turns mlock/mlockall into no-ops";

struct Mapping {
  bool found = false;
  std::string perms;
  long locked_kb = -1;
  std::string vm_flags;
};

// The /proc/self/smaps entry of the mapping that holds `address`.
Mapping FindMapping(const void* address) {
  const auto target = reinterpret_cast<uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  Mapping m;
  bool in_target = false;
  std::string line;
  while (std::getline(smaps, line)) {
    // A mapping's header: "start-end perms offset dev inode path"; field lines start "Name:".
    char* cursor = nullptr;
    const uintptr_t start = std::strtoull(line.c_str(), &cursor, 16);
    if (cursor != line.c_str() && *cursor == '-') {
      const uintptr_t end = std::strtoull(cursor + 1, &cursor, 16);
      if (in_target) break;
      in_target = target >= start && target < end;
      if (in_target) {
        m.found = true;
        m.perms = std::string(cursor + 1, 4);
      }
      continue;
    }
    if (!in_target) continue;
    if (line.rfind("Locked:", 0) == 0) m.locked_kb = std::stol(line.substr(7));
    if (line.rfind("VmFlags:", 0) == 0) m.vm_flags = line.substr(8) + " ";
  }
  return m;
}

bool AllBytesAre(const uint8_t* p, size_t n, uint8_t value) {
  return std::all_of(p, p + n, [value](uint8_t b) { return b == value; });
}

// Runs body in a forked child; returns its wait status.
template <typename Body>
int RunInChild(Body body) {
  pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  return status;
}

TEST(LockedBufferTest, IsLocked) {
  if (kMlockIsANoOp) GTEST_SKIP() << kAsanSkip;
  auto buffer = LockedBuffer::Create(100);
  ASSERT_TRUE(buffer.ok()) << buffer.status().ToString();
  Mapping data = FindMapping(buffer->data());
  ASSERT_TRUE(data.found);
  EXPECT_GE(data.locked_kb, static_cast<long>(kPage / 1024));
  EXPECT_NE(data.vm_flags.find(" lo "), std::string::npos) << data.vm_flags;  // mlock'ed
}

TEST(LockedBufferTest, IsZeroedUndumpableWipedOnForkAndGuarded) {
  auto buffer = LockedBuffer::Create(100);
  ASSERT_TRUE(buffer.ok()) << buffer.status().ToString();
  ASSERT_EQ(buffer->size(), 100u);
  EXPECT_TRUE(AllBytesAre(buffer->data(), buffer->size(), 0));

  Mapping data = FindMapping(buffer->data());
  ASSERT_TRUE(data.found);
  EXPECT_EQ(data.perms.substr(0, 2), "rw");
  EXPECT_NE(data.vm_flags.find(" dd "), std::string::npos) << data.vm_flags;  // MADV_DONTDUMP
  EXPECT_NE(data.vm_flags.find(" wf "), std::string::npos) << data.vm_flags;  // MADV_WIPEONFORK

  Mapping guard_before = FindMapping(buffer->data() - 1);
  Mapping guard_after = FindMapping(buffer->data() + kPage);
  ASSERT_TRUE(guard_before.found && guard_after.found);
  EXPECT_EQ(guard_before.perms.substr(0, 3), "---");
  EXPECT_EQ(guard_after.perms.substr(0, 3), "---");
}

TEST(LockedBufferTest, AnOverreadFaultsOnTheGuardPage) {
  auto buffer = LockedBuffer::Create(kPage);
  ASSERT_TRUE(buffer.ok());
  const volatile uint8_t* past_end = buffer->data() + kPage;
  int status = RunInChild([past_end] {
    signal(SIGSEGV, SIG_DFL);  // a sanitizer's handler would turn the fault into an exit code
    return static_cast<int>(*past_end);
  });
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) << status;
}

TEST(LockedBufferTest, AForkedChildSeesZeros) {
  auto buffer = LockedBuffer::Create(64);
  ASSERT_TRUE(buffer.ok());
  std::memset(buffer->data(), 0xAA, buffer->size());
  const uint8_t* p = buffer->data();
  int status = RunInChild([p] { return AllBytesAre(p, 64, 0) ? 0 : 1; });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(AllBytesAre(buffer->data(), 64, 0xAA));  // the parent's copy is untouched
}

TEST(LockedBufferTest, WipeZeroesTheContents) {
  auto buffer = LockedBuffer::Create(3 * kPage + 5);
  ASSERT_TRUE(buffer.ok());
  std::memset(buffer->data(), 0x5C, buffer->size());
  ASSERT_TRUE(AllBytesAre(buffer->data(), buffer->size(), 0x5C));
  buffer->Wipe();
  EXPECT_TRUE(AllBytesAre(buffer->data(), buffer->size(), 0));
  EXPECT_EQ(buffer->size(), 3 * kPage + 5);  // still usable
}

TEST(LockedBufferTest, DestructionUnmapsThePages) {
  uint8_t* kept = nullptr;
  {
    auto buffer = LockedBuffer::Create(kPage);
    ASSERT_TRUE(buffer.ok());
    kept = buffer->data();
    std::memset(kept, 0x77, kPage);
    unsigned char resident = 0;
    ASSERT_EQ(mincore(kept, kPage, &resident), 0);
    EXPECT_EQ(resident & 1, 1);
  }
  unsigned char resident = 0;
  EXPECT_EQ(mincore(kept, kPage, &resident), -1);
  EXPECT_EQ(errno, ENOMEM);  // no longer mapped: the bytes cannot be read back
}

TEST(LockedBufferTest, MovesOwnership) {
  auto created = LockedBuffer::Create(16);
  ASSERT_TRUE(created.ok());
  LockedBuffer a = std::move(created).value();
  std::memset(a.data(), 0x11, a.size());
  uint8_t* address = a.data();

  LockedBuffer b(std::move(a));
  // NOLINTBEGIN(bugprone-use-after-move, clang-analyzer-cplusplus.Move): the moved-from state
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.data(), nullptr);
  // NOLINTEND(bugprone-use-after-move, clang-analyzer-cplusplus.Move)
  EXPECT_EQ(b.data(), address);
  EXPECT_TRUE(AllBytesAre(b.data(), 16, 0x11));

  auto other = LockedBuffer::Create(8);
  ASSERT_TRUE(other.ok());
  uint8_t* old_address = other->data();
  LockedBuffer c = std::move(other).value();
  c = std::move(b);
  EXPECT_EQ(c.data(), address);
  unsigned char resident = 0;
  EXPECT_EQ(mincore(old_address, kPage, &resident), -1);  // the replaced buffer was released
}

TEST(LockedBufferTest, CopiesASecret) {
  SecretBytes secret(std::string_view("sealing key material"));
  auto copy = LockedBuffer::CopyOf(secret);
  ASSERT_TRUE(copy.ok());
  ASSERT_EQ(copy->size(), secret.size());
  EXPECT_TRUE(std::equal(secret.bytes().begin(), secret.bytes().end(), copy->bytes().begin()));

  auto empty = LockedBuffer::CopyOf(SecretBytes());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(LockedBufferTest, RejectsZeroSize) {
  EXPECT_EQ(LockedBuffer::Create(0).status().code(), StatusCode::kInvalidArgument);
}

// Drops CAP_IPC_LOCK (which lets root ignore RLIMIT_MEMLOCK) from this process.
bool DropIpcLock() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  data[0].effective &= ~(1u << CAP_IPC_LOCK);
  data[0].permitted &= ~(1u << CAP_IPC_LOCK);
  data[0].inheritable &= ~(1u << CAP_IPC_LOCK);
  return syscall(SYS_capset, &header, data) == 0;
}

TEST(LockedBufferTest, NamesTheLimitWhenMemlockIsShort) {
  if (kMlockIsANoOp) GTEST_SKIP() << kAsanSkip;
  int status = RunInChild([] {
    if (!DropIpcLock()) return 2;
    rlimit small{rlim_t{64} * 1024, rlim_t{64} * 1024};
    if (setrlimit(RLIMIT_MEMLOCK, &small) != 0) return 3;
    auto big = LockedBuffer::Create(size_t{1024} * 1024);
    if (big.ok() || big.status().code() != StatusCode::kResourceExhausted) return 4;
    if (big.status().message().find("RLIMIT_MEMLOCK") == std::string_view::npos) return 5;
    Status all = LockProcessMemory();
    if (all.code() != StatusCode::kResourceExhausted) return 6;
    rlimit none{0, 0};
    if (setrlimit(RLIMIT_MEMLOCK, &none) != 0) return 7;
    auto any = LockedBuffer::Create(16);
    if (any.ok() || any.status().code() != StatusCode::kPermissionDenied) return 8;
    return 0;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
}

// /proc/self/status "VmLck:" in kB.
long LockedKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmLck:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

TEST(LockProcessMemoryTest, LocksEveryPage) {
  if (kMlockIsANoOp) GTEST_SKIP() << kAsanSkip;
  int status = RunInChild([] {
    rlimit memlock{};
    getrlimit(RLIMIT_MEMLOCK, &memlock);
    memlock.rlim_cur = memlock.rlim_max;
    setrlimit(RLIMIT_MEMLOCK, &memlock);
    Status s = LockProcessMemory();
    if (!s.ok()) {
      // Only a process that may not lock this much is excused, and it must be told why.
      bool limited = geteuid() != 0 && memlock.rlim_max != RLIM_INFINITY;
      return limited && s.code() == StatusCode::kResourceExhausted ? 0 : 2;
    }
    if (LockedKb() <= 0) return 3;
    // Future mappings are locked too.
    void* later = mmap(nullptr, 4 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (later == MAP_FAILED) return 4;
    Mapping m = FindMapping(later);
    return m.vm_flags.find(" lo ") != std::string::npos ? 0 : 5;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
}

}  // namespace
}  // namespace neosl::tee
