// Process hardening of the `sim` enclave backend (DESIGN.md, "Trusted execution").
//
// `neosl enclave` calls ApplySandbox once at start, after it has read what it needs from the
// host's file system (its own binary for the measurement, the CA bundle, OpenSSL's config) and
// before it unseals keys or serves a request. The calling process must still be single-threaded:
// the kernel refuses to move a multithreaded process into a new user namespace.
//
// The steps, in order (each is also exposed below so tests can check one point at a time):
//
//  1. Not dumpable: RLIMIT_CORE = 0 and PR_SET_DUMPABLE = 0: no core dumps, and unprivileged
//     processes can neither ptrace-attach nor read /proc/<pid>/mem.
//  2. PR_SET_NO_NEW_PRIVS = 1: no set-uid or file-capability gain, ever (required by seccomp).
//  3. File system and network confinement: unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET),
//     the current uid/gid mapped to themselves, all mounts made private, `sealed_dir` bind-mounted
//     onto itself with nosuid,nodev,noexec and made the root with pivot_root; the old root is
//     detached, so `/` inside IS the sealed dir and nothing else of the host is reachable. The new
//     network namespace holds only a downed loopback: defence in depth under the socket ban.
//     To write its uid/gid maps an unprivileged process must be dumpable (the kernel makes
//     /proc/self root-owned otherwise), so dumpable is set to 1 for those three writes only;
//     RLIMIT_CORE is already 0 and no key is in memory yet.
//     If user namespaces are unavailable (EPERM or ENOSPC, as in some containers) and
//     `allow_landlock_fallback` holds, Landlock confines file access to `sealed_dir` instead
//     (no new root: paths stay as they were, and no network namespace). If neither is
//     available, FAILED_PRECONDITION says how to fix it; nothing silently continues.
//     Either way the working directory is the sealed dir afterwards: callers use relative paths.
//  4. Every fd not in `keep_fds` is closed. Fds 0, 1 and 2 that are not kept are pointed at
//     /dev/null rather than left closed, so that a later open() can never land on 2 and have a
//     stray diagnostic (std::terminate, an assert) written into a sealed file. The enclave's logs
//     go over the channel; the host may pass fd 2 in keep_fds when it is a pipe the host reads
//     (crash messages then reach the host log; secrets never go to stderr in any case).
//  5. A seccomp allow-list (libseccomp), applied to all threads:
//     - killed (SCMP_ACT_KILL_PROCESS, the process dies of SIGSYS; the host restarts it): anything
//       that reaches out or escapes: socket, socketpair, connect, bind, listen, accept, accept4,
//       execve, execveat, ptrace, process_vm_readv, process_vm_writev, fork, vfork, clone without
//       CLONE_THREAD (clone with CLONE_THREAD and a namespace flag is refused with EPERM), unshare, setns, chroot,
//       pivot_root, mount, umount2, the new mount API (open_tree, move_mount, fsopen, fsconfig, fsmount, fspick,
//       mount_setattr), kexec_load, kexec_file_load, bpf, perf_event_open, userfaultfd, keyctl, add_key, request_key,
//       init_module, finit_module, delete_module, io_uring_*, pidfd_getfd, name_to_handle_at, open_by_handle_at, and
//       kill/tgkill aimed at another process (the host runs under the same uid). An enclave that tries one of these is
//       compromised: killing it gives an attacker no second try, where an error code would let it probe.
//     - refused with ENOSYS: clone3 (its flags live in memory seccomp cannot read; glibc then
//       falls back to clone, whose flags are checked).
//     - refused with EPERM: mmap/mprotect/pkey_mprotect asking for PROT_EXEC (no new code after
//       start), prctl other than PR_SET_NAME/PR_GET_NAME/PR_GET_DUMPABLE/PR_GET_NO_NEW_PRIVS/
//       PR_GET_SECCOMP (so PR_SET_DUMPABLE 1 is refused), prlimit64 that sets a limit, ioctl other
//       than FIONREAD/FIONBIO, and every syscall not listed here (setrlimit, setuid, memfd_create …).
//     - allowed: I/O on existing fds (read, write, readv, writev, pread64, pwrite64, preadv, pwritev, recvmsg,
//       sendmsg, recvfrom, sendto, recvmmsg, sendmmsg, shutdown, getsockopt, setsockopt,
//       getsockname, getpeername, close, close_range, dup, dup2, dup3, fcntl); memory (mmap, munmap,
//       mprotect, madvise, mremap, brk, mincore, mlock, mlock2, munlock, mlockall, munlockall,
//       membarrier); threads and time (futex, futex_waitv, set_robust_list, get_robust_list, rseq,
//       set_tid_address, clone with CLONE_THREAD, sched_yield, sched_getaffinity, clock_gettime,
//       clock_getres, gettimeofday, time, clock_nanosleep, nanosleep, getrandom); signals
//       (rt_sigaction, rt_sigprocmask, rt_sigreturn, rt_sigtimedwait, rt_sigsuspend, sigaltstack,
//       kill and tgkill to itself); identity (getpid, gettid, getppid, getuid, geteuid, getgid, getegid, uname,
//       getrlimit, sysinfo); files, already confined by step 3 (openat, open, newfstatat, fstat,
//       stat, lstat, statx, lseek, fsync, fdatasync, rename, renameat, renameat2, unlink, unlinkat,
//       mkdir, mkdirat, rmdir, ftruncate, fallocate, getdents64, readlink, readlinkat, access,
//       faccessat, faccessat2, fchmod, flock, umask, fadvise64, getcwd, chdir, fchdir); waiting (poll, ppoll, select,
//       pselect6, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2, eventfd2, pipe,
//       pipe2, timerfd_create, timerfd_settime, timerfd_gettime); exit, exit_group,
//       restart_syscall.
//     Syscalls of another ABI (i386, x32) kill the process.
//
// Before confinement ApplySandbox initialises OpenSSL (config, error strings, the DRBG), which
// would otherwise try to read files the sandbox hides.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace neosl::tee {

// What the syscall filter (step 5) lets through beyond the list above. Both are for the function
// workers only (`neosl enclave --function-worker`), never the key-holding main enclave's
// defaults: docs/functions.md, "Isolation".
struct FilterOptions {
  // mmap/mprotect/pkey_mprotect with PROT_EXEC: SpiderMonkey's JIT writes code at run time (it
  // keeps pages writable or executable, never both).
  bool allow_jit = false;
  // prlimit64/setrlimit on the process's own RLIMIT_AS: the worker bounds each invocation's
  // address space. Raising stops at the hard limit, as for any unprivileged process.
  bool allow_address_space_limit = false;
};

struct SandboxOptions {
  std::string sealed_dir;               // the only directory the enclave may touch; must exist
  std::vector<int> keep_fds;            // fds that stay open (e.g. the socketpair to the host)
  bool allow_landlock_fallback = true;  // confine with Landlock if user namespaces are unavailable
  FilterOptions filter;
};

// Applies steps 1-5 above to the calling (single-threaded) process. Irreversible. On error the
// process is left partly hardened and should exit; the message names the step that failed.
Status ApplySandbox(const SandboxOptions& options);

// The steps, in the order ApplySandbox runs them.
Status DisableDumping();      // 1
Status SetNoNewPrivileges();  // 2
// 3. `allow_landlock_fallback` as in SandboxOptions.
Status ConfineToDirectory(std::string_view sealed_dir, bool allow_landlock_fallback);
// 4. `dev_null` is an fd open on /dev/null (it is closed too unless kept), or -1 to leave 0-2 closed.
Status CloseFdsExcept(std::span<const int> keep_fds, int dev_null);
Status InstallSyscallFilter(const FilterOptions& options = {});  // 5

}  // namespace neosl::tee
