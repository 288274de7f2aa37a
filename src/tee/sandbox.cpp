#include "tee/sandbox.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sched.h>
#include <seccomp.h>
#include <string>
#include <unistd.h>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

#include <linux/landlock.h>

namespace neosl::tee {
namespace {

std::string ErrnoText(int err) {
  const char* text = strerrordesc_np(err);
  return text != nullptr ? text : "errno " + std::to_string(err);
}

// "sandbox: <what>: <strerror>": names the step and the call, never data.
Status SysError(StatusCode code, std::string_view what, int err) {
  return Status(code, "sandbox: " + std::string(what) + ": " + ErrnoText(err));
}
Status SysError(std::string_view what, int err) {
  return SysError(StatusCode::kInternal, what, err);
}

Status WriteProcFile(const char* path, const std::string& content) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return SysError(std::string("opening ") + path, errno);
  ssize_t n = write(fd, content.data(), content.size());
  int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(content.size())) return SysError(std::string("writing ") + path, n < 0 ? err : EIO);
  return Status::Ok();
}

// The kernel moves only a single-threaded process into a new user namespace.
Status CheckSingleThreaded() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) != 0) continue;
    long threads = std::strtol(line.c_str() + 8, nullptr, 10);
    if (threads == 1) return Status::Ok();
    return FailedPreconditionError("sandbox: must be applied while the process is single-threaded (it has " +
                                   std::to_string(threads) + " threads)");
  }
  return InternalError("sandbox: cannot read the thread count from /proc/self/status");
}

// Maps the current uid and gid to themselves in the new user namespace. /proc/self is
// root-owned while the process is not dumpable, so an unprivileged process must be dumpable
// for these writes; RLIMIT_CORE is 0 already and no key is loaded yet.
Status MapIdentity(uid_t uid, gid_t gid) {
  int was_dumpable = prctl(PR_GET_DUMPABLE);
  if (prctl(PR_SET_DUMPABLE, 1) != 0) return SysError("prctl(PR_SET_DUMPABLE)", errno);
  Status status = WriteProcFile("/proc/self/setgroups", "deny");
  if (status.ok()) status = WriteProcFile("/proc/self/uid_map", std::to_string(uid) + " " + std::to_string(uid) + " 1");
  if (status.ok()) status = WriteProcFile("/proc/self/gid_map", std::to_string(gid) + " " + std::to_string(gid) + " 1");
  if (prctl(PR_SET_DUMPABLE, was_dumpable) != 0 && status.ok()) status = SysError("prctl(PR_SET_DUMPABLE)", errno);
  return status;
}

// MS_* flags that a bind remount must keep: the kernel locks them on mounts inherited by an
// unprivileged user namespace, and refuses a remount that would clear them.
unsigned long LockedMountFlags(const char* path) {
  struct statvfs vfs {};
  if (statvfs(path, &vfs) != 0) return 0;
  unsigned long flags = 0;
  if (vfs.f_flag & ST_RDONLY) flags |= MS_RDONLY;
  if (vfs.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (vfs.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (vfs.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

// Makes `dir` the root of a fresh mount namespace; the host's tree is detached.
Status PivotInto(const std::string& dir) {
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return SysError("making mounts private", errno);
  if (mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
    return SysError("bind-mounting the sealed dir", errno);
  unsigned long remount = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC | LockedMountFlags(dir.c_str());
  if (mount(nullptr, dir.c_str(), nullptr, remount, nullptr) != 0)
    return SysError("remounting the sealed dir nosuid,nodev,noexec", errno);
  if (chdir(dir.c_str()) != 0) return SysError("entering the sealed dir", errno);
  // pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves only `dir`.
  if (syscall(SYS_pivot_root, ".", ".") != 0) return SysError("pivot_root into the sealed dir", errno);
  if (umount2(".", MNT_DETACH) != 0) return SysError("detaching the host's root", errno);
  if (chdir("/") != 0) return SysError("chdir(\"/\")", errno);
  return Status::Ok();
}

// Landlock: every file system right is handled, and only `dir` is granted (no exec, no devices).
Status LandlockConfine(const std::string& dir) {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 0) return SysError(StatusCode::kFailedPrecondition, "Landlock", errno);
  uint64_t handled = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
                     LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
                     LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
                     LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
                     LANDLOCK_ACCESS_FS_MAKE_SYM;
  if (abi >= 2) handled |= LANDLOCK_ACCESS_FS_REFER;
  uint64_t granted =
      handled & ~(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
                  LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM);
  landlock_ruleset_attr attr{};
  attr.handled_access_fs = handled;
  int ruleset = static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0));
  if (ruleset < 0) return SysError("creating the Landlock ruleset", errno);
  int dir_fd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    int err = errno;
    close(ruleset);
    return SysError("opening the sealed dir", err);
  }
  landlock_path_beneath_attr rule{};
  rule.allowed_access = granted;
  rule.parent_fd = dir_fd;
  long added = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
  int err = errno;
  close(dir_fd);
  if (added != 0) {
    close(ruleset);
    return SysError("adding the Landlock rule", err);
  }
  long restricted = syscall(SYS_landlock_restrict_self, ruleset, 0);
  err = errno;
  close(ruleset);
  if (restricted != 0) return SysError("enforcing Landlock", err);
  if (chdir(dir.c_str()) != 0) return SysError("entering the sealed dir", errno);
  return Status::Ok();
}

// Loads what OpenSSL reads lazily from the host's file system (openssl.cnf, providers,
// error strings) and seeds its DRBG, so nothing needs a file once the root is gone.
Status WarmUpOpenSsl() {
  if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG | OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS,
                       nullptr) != 1)
    return InternalError("sandbox: initialising OpenSSL failed");
  unsigned char probe[16];
  bool seeded = RAND_bytes(probe, sizeof(probe)) == 1 && RAND_priv_bytes(probe, sizeof(probe)) == 1;
  OPENSSL_cleanse(probe, sizeof(probe));
  if (!seeded) return InternalError("sandbox: seeding OpenSSL's DRBG failed");
  return Status::Ok();
}

// A seccomp filter under construction; released on every path.
class Filter {
 public:
  Filter() : ctx_(seccomp_init(SCMP_ACT_ERRNO(EPERM))) {}
  ~Filter() {
    if (ctx_ != nullptr) seccomp_release(ctx_);
  }
  Filter(const Filter&) = delete;
  Filter& operator=(const Filter&) = delete;

  bool valid() const { return ctx_ != nullptr; }
  scmp_filter_ctx get() const { return ctx_; }

  // Adds `action` for `name` when all `args` hold. Names libseccomp does not know stay at the
  // default (EPERM): refused, which is what an unknown syscall should be.
  Status Add(uint32_t action, const char* name, std::initializer_list<scmp_arg_cmp> args = {}) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) return Status::Ok();
    std::vector<scmp_arg_cmp> cmps(args);
    int rc = seccomp_rule_add_array(ctx_, action, nr, static_cast<unsigned>(cmps.size()), cmps.data());
    if (rc != 0) return SysError(std::string("seccomp rule for ") + name, -rc);
    return Status::Ok();
  }

 private:
  scmp_filter_ctx ctx_;
};

constexpr const char* kAllowed[] = {
    // I/O on fds the process already holds.
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "recvmsg", "sendmsg", "recvfrom",
    "sendto", "recvmmsg", "sendmmsg", "shutdown", "getsockopt", "setsockopt", "getsockname", "getpeername", "close",
    "close_range", "dup", "dup2", "dup3", "fcntl",
    // Memory (mmap and mprotect are added below, without PROT_EXEC).
    "munmap", "madvise", "mremap", "brk", "mincore", "mlock", "mlock2", "munlock", "mlockall", "munlockall",
    "membarrier",
    // Threads, time, randomness.
    "futex", "futex_waitv", "set_robust_list", "get_robust_list", "rseq", "set_tid_address", "sched_yield",
    "sched_getaffinity", "clock_gettime", "clock_getres", "gettimeofday", "time", "clock_nanosleep", "nanosleep",
    "getrandom",
    // Signals to itself.
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigtimedwait", "rt_sigsuspend", "sigaltstack",
    // Identity and limits (read only).
    "getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid", "uname", "getrlimit", "sysinfo",
    // Files: the root is the sealed dir by now.
    "openat", "open", "newfstatat", "fstat", "stat", "lstat", "statx", "lseek", "fsync", "fdatasync", "rename",
    "renameat", "renameat2", "unlink", "unlinkat", "mkdir", "mkdirat", "rmdir", "ftruncate", "fallocate", "getdents64",
    "readlink", "readlinkat", "access", "faccessat", "faccessat2", "fchmod", "flock", "umask", "fadvise64", "getcwd",
    "chdir", "fchdir",
    // Waiting.
    "poll", "ppoll", "select", "pselect6", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
    "eventfd2", "pipe", "pipe2", "timerfd_create", "timerfd_settime", "timerfd_gettime",
    // Leaving.
    "exit", "exit_group", "restart_syscall"};

constexpr const char* kKilled[] = {"socket",
                                   "socketpair",
                                   "connect",
                                   "bind",
                                   "listen",
                                   "accept",
                                   "accept4",
                                   "execve",
                                   "execveat",
                                   "ptrace",
                                   "process_vm_readv",
                                   "process_vm_writev",
                                   "fork",
                                   "vfork",
                                   "unshare",
                                   "setns",
                                   "chroot",
                                   "pivot_root",
                                   "mount",
                                   "umount2",
                                   "open_tree",
                                   "move_mount",
                                   "fsopen",
                                   "fsconfig",
                                   "fsmount",
                                   "fspick",
                                   "mount_setattr",
                                   "kexec_load",
                                   "kexec_file_load",
                                   "bpf",
                                   "perf_event_open",
                                   "userfaultfd",
                                   "keyctl",
                                   "add_key",
                                   "request_key",
                                   "init_module",
                                   "finit_module",
                                   "delete_module",
                                   "io_uring_setup",
                                   "io_uring_enter",
                                   "io_uring_register",
                                   "pidfd_getfd",
                                   "name_to_handle_at",
                                   "open_by_handle_at"};

// libseccomp's SCMP_A* macros are C compound literals, which ISO C++ lacks.
scmp_arg_cmp Arg(unsigned arg, scmp_compare op, uint64_t a, uint64_t b = 0) {
  return scmp_arg_cmp{arg, op, a, b};
}

constexpr uint64_t kNamespaceFlags =
    CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;

}  // namespace

Status DisableDumping() {
  rlimit no_core{0, 0};
  if (setrlimit(RLIMIT_CORE, &no_core) != 0) return SysError("setrlimit(RLIMIT_CORE, 0)", errno);
  if (prctl(PR_SET_DUMPABLE, 0) != 0) return SysError("prctl(PR_SET_DUMPABLE, 0)", errno);
  return Status::Ok();
}

Status SetNoNewPrivileges() {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return SysError("prctl(PR_SET_NO_NEW_PRIVS, 1)", errno);
  return Status::Ok();
}

Status ConfineToDirectory(std::string_view sealed_dir, bool allow_landlock_fallback) {
  std::string dir(sealed_dir);
  char resolved[PATH_MAX];
  if (dir.empty() || realpath(dir.c_str(), resolved) == nullptr)
    return InvalidArgumentError("sandbox: the sealed dir does not exist");
  dir = resolved;
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return InvalidArgumentError("sandbox: the sealed dir is not a directory");

  RETURN_IF_ERROR(CheckSingleThreaded());

  uid_t uid = geteuid();
  gid_t gid = getegid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET) == 0) {
    RETURN_IF_ERROR(MapIdentity(uid, gid));
    return PivotInto(dir);
  }
  int err = errno;
  if (err != EPERM && err != ENOSPC && err != EINVAL && err != ENOSYS)
    return SysError("unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET)", err);
  std::string why = "user namespaces are unavailable (unshare: " + ErrnoText(err) + ")";
  std::string fix =
      "; enable them (sysctl user.max_user_namespaces > 0 and, on Debian/Ubuntu, "
      "kernel.unprivileged_userns_clone=1 or kernel.apparmor_restrict_unprivileged_userns=0; in a container, a seccomp "
      "profile that allows unshare/clone with CLONE_NEWUSER)";
  if (!allow_landlock_fallback) return FailedPreconditionError("sandbox: " + why + fix);
  Status landlock = LandlockConfine(dir);
  if (landlock.ok()) return landlock;
  return FailedPreconditionError("sandbox: " + why + " and the Landlock fallback failed (" +
                                 std::string(landlock.message()) + ")" + fix +
                                 ", or boot a kernel with Landlock enabled (lsm=…,landlock)");
}

Status CloseFdsExcept(std::span<const int> keep_fds, int dev_null) {
  std::vector<int> keep(keep_fds.begin(), keep_fds.end());
  std::sort(keep.begin(), keep.end());
  auto kept = [&keep](int fd) { return std::binary_search(keep.begin(), keep.end(), fd); };
  if (dev_null >= 0) {
    for (int fd = 0; fd <= 2; ++fd) {
      if (fd != dev_null && !kept(fd) && dup2(dev_null, fd) < 0)
        return SysError("redirecting fd 0-2 to /dev/null", errno);
    }
    for (int fd = 0; fd <= 2; ++fd) keep.push_back(fd);
    if (dev_null <= 2) keep.push_back(dev_null);
    std::sort(keep.begin(), keep.end());
  }
  keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
  unsigned int first = 0;
  for (int fd : keep) {
    if (fd < 0) continue;
    if (static_cast<unsigned int>(fd) > first && syscall(SYS_close_range, first, fd - 1, 0) != 0)
      return SysError("close_range", errno);
    first = static_cast<unsigned int>(fd) + 1;
  }
  if (syscall(SYS_close_range, first, ~0U, 0) != 0) return SysError("close_range", errno);
  return Status::Ok();
}

Status InstallSyscallFilter(const FilterOptions& options) {
  Filter filter;
  if (!filter.valid()) return InternalError("sandbox: seccomp_init failed");
  // Another ABI's syscalls (i386, x32) would slip past a filter written for x86_64 numbers.
  if (seccomp_attr_set(filter.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) != 0)
    return InternalError("sandbox: seccomp bad-arch action");
  if (seccomp_attr_set(filter.get(), SCMP_FLTATR_CTL_TSYNC, 1) != 0)
    return InternalError("sandbox: seccomp thread sync");

  for (const char* name : kAllowed) RETURN_IF_ERROR(filter.Add(SCMP_ACT_ALLOW, name));
  for (const char* name : kKilled) RETURN_IF_ERROR(filter.Add(SCMP_ACT_KILL_PROCESS, name));

  // No new executable memory after start, unless a function worker runs a JIT.
  if (options.allow_jit) {
    for (const char* name : {"mmap", "mprotect", "pkey_mprotect"}) RETURN_IF_ERROR(filter.Add(SCMP_ACT_ALLOW, name));
  } else {
    RETURN_IF_ERROR(filter.Add(SCMP_ACT_ALLOW, "mmap", {Arg(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)}));
    RETURN_IF_ERROR(filter.Add(SCMP_ACT_ALLOW, "mprotect", {Arg(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)}));
    RETURN_IF_ERROR(filter.Add(SCMP_ACT_ALLOW, "pkey_mprotect", {Arg(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)}));
  }

  // Threads yes, processes no. clone3 keeps its flags in memory, out of seccomp's sight.
  RETURN_IF_ERROR(
      filter.Add(SCMP_ACT_ALLOW, "clone", {Arg(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD | kNamespaceFlags, CLONE_THREAD)}));
  RETURN_IF_ERROR(filter.Add(SCMP_ACT_KILL_PROCESS, "clone", {Arg(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0)}));
  RETURN_IF_ERROR(filter.Add(SCMP_ACT_ERRNO(ENOSYS), "clone3"));

  // Signals only to itself: the host runs under the same uid.
  const auto self = static_cast<uint64_t>(getpid());
  RETURN_IF_ERROR(filter.Add(SCMP_ACT_ALLOW, "tgkill", {Arg(0, SCMP_CMP_EQ, self)}));
  RETURN_IF_ERROR(filter.Add(SCMP_ACT_KILL_PROCESS, "tgkill", {Arg(0, SCMP_CMP_NE, self)}));
  RETURN_IF_ERROR(filter.Add(SCMP_ACT_ALLOW, "kill", {Arg(0, SCMP_CMP_EQ, self)}));
  RETURN_IF_ERROR(filter.Add(SCMP_ACT_KILL_PROCESS, "kill", {Arg(0, SCMP_CMP_NE, self)}));

  // Limits may be read, never raised or lowered — but a function worker's own address space.
  RETURN_IF_ERROR(filter.Add(SCMP_ACT_ALLOW, "prlimit64", {Arg(2, SCMP_CMP_EQ, 0)}));
  if (options.allow_address_space_limit) {
    RETURN_IF_ERROR(filter.Add(SCMP_ACT_ALLOW, "prlimit64",
                               {Arg(0, SCMP_CMP_EQ, 0), Arg(1, SCMP_CMP_EQ, static_cast<uint64_t>(RLIMIT_AS))}));
    RETURN_IF_ERROR(filter.Add(SCMP_ACT_ALLOW, "setrlimit", {Arg(0, SCMP_CMP_EQ, static_cast<uint64_t>(RLIMIT_AS))}));
  }
  for (int option : {PR_SET_NAME, PR_GET_NAME, PR_GET_DUMPABLE, PR_GET_NO_NEW_PRIVS, PR_GET_SECCOMP}) {
    RETURN_IF_ERROR(filter.Add(SCMP_ACT_ALLOW, "prctl", {Arg(0, SCMP_CMP_EQ, static_cast<uint64_t>(option))}));
  }
  for (unsigned long request : {FIONREAD, FIONBIO}) {
    RETURN_IF_ERROR(filter.Add(SCMP_ACT_ALLOW, "ioctl", {Arg(1, SCMP_CMP_EQ, request)}));
  }

  int rc = seccomp_load(filter.get());
  if (rc != 0) return SysError("loading the seccomp filter", -rc);
  return Status::Ok();
}

Status ApplySandbox(const SandboxOptions& options) {
  // Validate everything before the first irreversible step.
  if (options.sealed_dir.empty()) return InvalidArgumentError("sandbox: sealed_dir is empty");
  struct stat st {};
  if (stat(options.sealed_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return InvalidArgumentError("sandbox: the sealed dir does not exist or is not a directory");
  for (int fd : options.keep_fds) {
    if (fd < 0 || fcntl(fd, F_GETFD) < 0)
      return InvalidArgumentError("sandbox: keep_fds holds fd " + std::to_string(fd) + ", which is not open");
  }
  RETURN_IF_ERROR(CheckSingleThreaded());

  RETURN_IF_ERROR(DisableDumping());
  RETURN_IF_ERROR(SetNoNewPrivileges());
  RETURN_IF_ERROR(WarmUpOpenSsl());
  int dev_null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (dev_null < 0) return SysError("opening /dev/null", errno);
  Status confined = ConfineToDirectory(options.sealed_dir, options.allow_landlock_fallback);
  if (!confined.ok()) {
    close(dev_null);
    return confined;
  }
  RETURN_IF_ERROR(CloseFdsExcept(options.keep_fds, dev_null));
  return InstallSyscallFilter(options.filter);
}

}  // namespace neosl::tee
