// Each hardening point of the sim enclave, checked in a forked child so the test process itself
// stays unconfined: the child applies the sandbox, tries one thing and reports through its exit
// status (or dies of SIGSYS) and a pipe that carries a message when something went wrong.
#include "tee/sandbox.h"

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <grp.h>
#include <mutex>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "core/random.h"
#include "crypto/p256.h"
#include <arpa/inet.h>
#include <netinet/in.h>

namespace neosl::tee {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr auto kChildDeadline = 20s;

struct ChildResult {
  bool exited = false;
  int exit_code = -1;
  int signal = 0;
  std::string report;  // what the child wrote to its report pipe

  bool Succeeded() const { return exited && exit_code == 0; }
  std::string Describe() const {
    std::string what = exited ? "exit " + std::to_string(exit_code) : "signal " + std::to_string(signal);
    return what + (report.empty() ? "" : " (" + report + ")");
  }
};

// Runs body(report_fd) in a forked child and waits for it, with a deadline, on a pidfd.
ChildResult RunInChild(const std::function<int(int report_fd)>& body) {
  ChildResult result;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    result.report = "pipe failed";
    return result;
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    _exit(body(fds[1]));
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    result.report = "fork failed";
    return result;
  }
  const auto deadline = std::chrono::steady_clock::now() + kChildDeadline;
  auto remaining_ms = [&] {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<int64_t>(0, left.count()));
  };
  char buf[512];
  for (;;) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, remaining_ms()) <= 0) break;
    ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n <= 0) break;
    result.report.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    if (poll(&p, 1, remaining_ms()) <= 0) kill(pid, SIGKILL);  // our own child, past its deadline
    close(pidfd);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return result;
  result.exited = WIFEXITED(status);
  result.exit_code = result.exited ? WEXITSTATUS(status) : -1;
  result.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return result;
}

void Report(int fd, const std::string& text) {
  ssize_t ignored = write(fd, text.data(), text.size());
  (void)ignored;
}

int Fail(int fd, const std::string& what) {
  Report(fd, what + " (errno " + std::to_string(errno) + ")");
  return 1;
}

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "neosl_sandbox_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  // Applies the sandbox with the report pipe kept; on failure reports the status and returns false.
  bool Sandbox(int report_fd, std::vector<int> extra_keep = {}) {
    SandboxOptions options;
    options.sealed_dir = dir_;
    options.keep_fds = {report_fd};
    options.keep_fds.insert(options.keep_fds.end(), extra_keep.begin(), extra_keep.end());
    Status status = ApplySandbox(options);
    if (!status.ok()) Report(report_fd, status.ToString());
    return status.ok();
  }

  std::string dir_;
};

TEST_F(SandboxTest, LeavesTheProcessUndumpableWithoutNewPrivilegesAndFiltered) {
  ChildResult r = RunInChild([&](int fd) {
    if (!Sandbox(fd)) return 10;
    if (prctl(PR_GET_DUMPABLE) != 0) return Fail(fd, "still dumpable");
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) return Fail(fd, "no_new_privs not set");
    if (prctl(PR_GET_SECCOMP) != 2) return Fail(fd, "no seccomp filter");
    rlimit core{};
    if (getrlimit(RLIMIT_CORE, &core) != 0 || core.rlim_cur != 0 || core.rlim_max != 0)
      return Fail(fd, "RLIMIT_CORE is not 0");
    return 0;
  });
  EXPECT_TRUE(r.Succeeded()) << r.Describe();
}

TEST_F(SandboxTest, RefusesToBecomeDumpableOrRaiseLimitsAgain) {
  ChildResult r = RunInChild([&](int fd) {
    if (!Sandbox(fd)) return 10;
    if (prctl(PR_SET_DUMPABLE, 1) != -1 || errno != EPERM) return Fail(fd, "PR_SET_DUMPABLE 1 allowed");
    if (prctl(PR_GET_DUMPABLE) != 0) return Fail(fd, "dumpable again");
    rlimit core{RLIM_INFINITY, RLIM_INFINITY};
    if (setrlimit(RLIMIT_CORE, &core) != -1 || errno != EPERM) return Fail(fd, "setrlimit allowed");
    if (prlimit(0, RLIMIT_CORE, &core, nullptr) != -1 || errno != EPERM) return Fail(fd, "prlimit set allowed");
    rlimit read_back{};
    if (prlimit(0, RLIMIT_NOFILE, nullptr, &read_back) != 0) return Fail(fd, "prlimit read refused");
    return 0;
  });
  EXPECT_TRUE(r.Succeeded()) << r.Describe();
}

// A forbidden syscall kills the enclave with SIGSYS: the documented policy for anything that
// reaches out or escapes.
struct KilledCase {
  const char* name;
  std::function<long()> attempt;
};

void PrintTo(const KilledCase& c, std::ostream* os) {
  *os << c.name;
}

class SandboxKillsTest : public SandboxTest, public ::testing::WithParamInterface<KilledCase> {};

TEST_P(SandboxKillsTest, KillsTheProcessWithSigsys) {
  ChildResult r = RunInChild([&](int fd) {
    if (!Sandbox(fd)) return 10;
    long rc = GetParam().attempt();
    Report(fd, std::string(GetParam().name) + " returned " + std::to_string(rc) + " errno " + std::to_string(errno));
    return 1;
  });
  EXPECT_FALSE(r.exited) << r.Describe();
  EXPECT_EQ(r.signal, SIGSYS) << r.Describe();
}

long ForkAndExitChild() {
  pid_t pid = fork();
  if (pid == 0) _exit(99);  // had fork worked, the copy must not run the test
  return pid;
}

long CloneProcess() {
  long rc = syscall(SYS_clone, SIGCHLD, 0, nullptr, nullptr, 0);
  if (rc == 0) _exit(99);
  return rc;
}

INSTANTIATE_TEST_SUITE_P(
    Forbidden, SandboxKillsTest,
    ::testing::Values(KilledCase{"socket_inet", [] { return static_cast<long>(socket(AF_INET, SOCK_STREAM, 0)); }},
                      KilledCase{"socket_unix", [] { return static_cast<long>(socket(AF_UNIX, SOCK_STREAM, 0)); }},
                      KilledCase{"socketpair",
                                 [] {
                                   int sv[2];
                                   return static_cast<long>(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
                                 }},
                      KilledCase{"connect", [] { return static_cast<long>(connect(-1, nullptr, 0)); }},
                      KilledCase{"bind", [] { return static_cast<long>(bind(-1, nullptr, 0)); }},
                      KilledCase{"listen", [] { return static_cast<long>(listen(-1, 1)); }},
                      KilledCase{"accept4", [] { return static_cast<long>(accept4(-1, nullptr, nullptr, 0)); }},
                      KilledCase{"execve",
                                 [] {
                                   char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
                                   return static_cast<long>(execve("/bin/true", argv, environ));
                                 }},
                      KilledCase{"execveat",
                                 [] { return syscall(SYS_execveat, AT_FDCWD, "/bin/true", nullptr, nullptr, 0); }},
                      KilledCase{"ptrace_traceme", [] { return ptrace(PTRACE_TRACEME, 0, nullptr, nullptr); }},
                      KilledCase{"fork", ForkAndExitChild}, KilledCase{"clone_process", CloneProcess},
                      KilledCase{"vfork", [] { return syscall(SYS_vfork); }},
                      KilledCase{"process_vm_readv",
                                 [] {
                                   char buf[8];
                                   iovec local{buf, sizeof(buf)};
                                   iovec remote{buf, sizeof(buf)};
                                   return static_cast<long>(process_vm_readv(getppid(), &local, 1, &remote, 1, 0));
                                 }},
                      KilledCase{"unshare", [] { return static_cast<long>(unshare(CLONE_NEWUSER)); }},
                      KilledCase{"setns", [] { return static_cast<long>(setns(-1, 0)); }},
                      KilledCase{"chroot", [] { return static_cast<long>(chroot("/")); }},
                      KilledCase{"mount", [] { return static_cast<long>(mount("none", "/", "tmpfs", 0, nullptr)); }},
                      KilledCase{"bpf", [] { return syscall(SYS_bpf, 0, nullptr, 0); }},
                      KilledCase{"perf_event_open", [] { return syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0); }},
                      KilledCase{"userfaultfd", [] { return syscall(SYS_userfaultfd, 0); }},
                      KilledCase{"keyctl", [] { return syscall(SYS_keyctl, 0, 0, 0, 0, 0); }},
                      KilledCase{"io_uring_setup", [] { return syscall(SYS_io_uring_setup, 1, nullptr); }},
                      KilledCase{"kill_the_host", [] { return static_cast<long>(kill(getppid(), 0)); }}),
    [](const ::testing::TestParamInfo<KilledCase>& param_info) { return std::string(param_info.param.name); });

TEST_F(SandboxTest, Clone3IsRefusedWithEnosysSoGlibcFallsBackToClone) {
  ChildResult r = RunInChild([&](int fd) {
    if (!Sandbox(fd)) return 10;
    struct {
      uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
    } args{0, 0, 0, 0, SIGCHLD, 0, 0, 0};
    long rc = syscall(SYS_clone3, &args, sizeof(args));
    if (rc == 0) _exit(99);
    if (rc != -1 || errno != ENOSYS) return Fail(fd, "clone3 returned " + std::to_string(rc));
    return 0;
  });
  EXPECT_TRUE(r.Succeeded()) << r.Describe();
}

TEST_F(SandboxTest, ThreadsStillWork) {
  ChildResult r = RunInChild([&](int fd) {
    if (!Sandbox(fd)) return 10;
    std::atomic<int> count{0};
    std::mutex mu;
    std::condition_variable cv;
    bool go = false;
    std::vector<std::thread> threads;
    threads.reserve(4);
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&] {
        std::unique_lock lock(mu);
        if (!cv.wait_for(lock, 10s, [&] { return go; })) return;
        count.fetch_add(1);
      });
    }
    {
      std::lock_guard lock(mu);
      go = true;
    }
    cv.notify_all();
    for (auto& t : threads) t.join();
    if (count.load() != 4) return Fail(fd, "only " + std::to_string(count.load()) + " threads ran");
    return 0;
  });
  EXPECT_TRUE(r.Succeeded()) << r.Describe();
}

TEST_F(SandboxTest, RefusesNewExecutableMemoryAndOtherUnlistedCalls) {
  ChildResult r = RunInChild([&](int fd) {
    if (!Sandbox(fd)) return 10;
    void* exec = mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (exec != MAP_FAILED || errno != EPERM) return Fail(fd, "mmap PROT_EXEC allowed");
    void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return Fail(fd, "plain mmap refused");
    if (mprotect(page, 4096, PROT_READ | PROT_EXEC) != -1 || errno != EPERM) return Fail(fd, "mprotect exec allowed");
    if (syscall(SYS_memfd_create, "x", 0) != -1 || errno != EPERM) return Fail(fd, "memfd_create allowed");
    if (setuid(0) != -1 || errno != EPERM) return Fail(fd, "setuid allowed");
    if (isatty(0) != 0) return Fail(fd, "ioctl(TCGETS) allowed");
    return 0;
  });
  EXPECT_TRUE(r.Succeeded()) << r.Describe();
}

TEST_F(SandboxTest, FilesOutsideTheSealedDirAreGoneAndInsideWork) {
  { std::ofstream(fs::path(dir_) / "preexisting") << "sealed-before"; }
  ChildResult r = RunInChild([&](int fd) {
    if (!Sandbox(fd)) return 10;
    for (const char* outside : {"/etc/passwd", "../../etc/passwd", "/proc/self/status", "/dev/null", "/tmp"}) {
      int f = open(outside, O_RDONLY);
      if (f >= 0 || errno != ENOENT) return Fail(fd, std::string("opened ") + outside);
    }
    char cwd[256];
    if (getcwd(cwd, sizeof(cwd)) == nullptr || std::string(cwd) != "/") return Fail(fd, "cwd is not /");
    std::string before;
    if (!std::getline(std::ifstream("/preexisting"), before) || before != "sealed-before")
      return Fail(fd, "cannot read a file in the sealed dir");
    if (!(std::ofstream("/state.tmp") << "sealed-inside")) return Fail(fd, "cannot write");
    if (rename("/state.tmp", "/state.bin") != 0) return Fail(fd, "rename");
    if (mkdir("/sub", 0700) != 0) return Fail(fd, "mkdir");
    int f = open("sub/file", O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
    if (f < 0 || write(f, "x", 1) != 1 || fsync(f) != 0 || close(f) != 0) return Fail(fd, "relative write");
    if (unlink("sub/file") != 0) return Fail(fd, "unlink");
    return 0;
  });
  ASSERT_TRUE(r.Succeeded()) << r.Describe();
  // What the child wrote at "/" is in the sealed dir on the host.
  std::string content;
  std::getline(std::ifstream(fs::path(dir_) / "state.bin"), content);
  EXPECT_EQ(content, "sealed-inside");
  EXPECT_TRUE(fs::is_directory(fs::path(dir_) / "sub"));
  EXPECT_FALSE(fs::exists(fs::path(dir_) / "sub" / "file"));
}

TEST_F(SandboxTest, TheConfinedProcessHasNoNetworkEvenBeforeTheFilter) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 1), 0);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);

  ChildResult r = RunInChild([&](int fd) {
    Status status = ConfineToDirectory(dir_, /*allow_landlock_fallback=*/false);
    if (!status.ok()) {
      Report(fd, status.ToString());
      return 10;
    }
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return Fail(fd, "socket");
    if (connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) return Fail(fd, "connected to the host");
    if (errno != ENETUNREACH) return Fail(fd, "connect failed for another reason");
    return 0;
  });
  EXPECT_TRUE(r.Succeeded()) << r.Describe();
  pollfd p{listener, POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 0) << "the listener saw a connection";
  close(listener);
}

TEST_F(SandboxTest, ClosesFdsNotKeptAndPointsStdioAtDevNull) {
  int stray = open("/dev/zero", O_RDONLY);  // inherited, not kept
  ASSERT_GE(stray, 0);
  ChildResult r = RunInChild([&](int fd) {
    if (!Sandbox(fd)) return 10;
    if (fcntl(stray, F_GETFD) != -1 || errno != EBADF) return Fail(fd, "stray fd still open");
    for (int std_fd = 0; std_fd <= 2; ++std_fd) {
      struct stat st {};
      if (fstat(std_fd, &st) != 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
        return Fail(fd, "fd " + std::to_string(std_fd) + " is not /dev/null");
    }
    // The lowest free fd is above 2, so a new file can never become stderr.
    int f = open("/probe", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (f <= 2) return Fail(fd, "a new file got fd " + std::to_string(f));
    return 0;
  });
  close(stray);
  EXPECT_TRUE(r.Succeeded()) << r.Describe();
}

TEST_F(SandboxTest, KeepsStderrWhenAsked) {
  ChildResult r = RunInChild([&](int fd) {
    struct stat before {};
    if (fstat(2, &before) != 0) return Fail(fd, "fstat before");
    if (!Sandbox(fd, {2})) return 10;
    struct stat after {};
    if (fstat(2, &after) != 0 || after.st_ino != before.st_ino || after.st_dev != before.st_dev)
      return Fail(fd, "fd 2 was replaced");
    return 0;
  });
  EXPECT_TRUE(r.Succeeded()) << r.Describe();
}

TEST_F(SandboxTest, OpenSslStillWorksInside) {
  ChildResult r = RunInChild([&](int fd) {
    if (!Sandbox(fd)) return 10;
    unsigned char random[32];
    if (RAND_bytes(random, sizeof(random)) != 1) return Fail(fd, "RAND_bytes");
    unsigned char digest[32];
    unsigned int digest_len = 0;
    if (EVP_Digest("abc", 3, digest, &digest_len, EVP_sha256(), nullptr) != 1 || digest_len != 32 ||
        digest[0] != 0xba || digest[31] != 0xad)
      return Fail(fd, "SHA-256");
    crypto::PrivateKey key = crypto::PrivateKey::Generate(SecureRandom::Instance());
    const uint8_t message[] = {1, 2, 3};
    if (!key.public_key().Verify(message, key.Sign(message))) return Fail(fd, "P-256 sign/verify");
    return 0;
  });
  EXPECT_TRUE(r.Succeeded()) << r.Describe();
}

TEST_F(SandboxTest, RejectsBadOptionsBeforeChangingAnything) {
  ChildResult r = RunInChild([&](int fd) {
    SandboxOptions missing{dir_ + "/does-not-exist", {fd}, true};
    Status s = ApplySandbox(missing);
    if (s.code() != StatusCode::kInvalidArgument) return Fail(fd, "missing dir: " + s.ToString());
    SandboxOptions closed_fd{dir_, {fd, 987}, true};
    s = ApplySandbox(closed_fd);
    if (s.code() != StatusCode::kInvalidArgument || s.message().find("987") == std::string_view::npos)
      return Fail(fd, "closed fd: " + s.ToString());
    if (prctl(PR_GET_DUMPABLE) != 1 || prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0) return Fail(fd, "state changed");
    return 0;
  });
  EXPECT_TRUE(r.Succeeded()) << r.Describe();
}

TEST_F(SandboxTest, RefusesAMultithreadedCaller) {
  ChildResult r = RunInChild([&](int fd) {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::thread waiter([&] {
      std::unique_lock lock(mu);
      cv.wait_for(lock, 10s, [&] { return done; });
    });
    Status s = ApplySandbox({dir_, {fd}, true});
    {
      std::lock_guard lock(mu);
      done = true;
    }
    cv.notify_all();
    waiter.join();
    if (s.code() != StatusCode::kFailedPrecondition || s.message().find("single-threaded") == std::string_view::npos)
      return Fail(fd, s.ToString());
    return 0;
  });
  EXPECT_TRUE(r.Succeeded()) << r.Describe();
}

// Simulates a container that forbids user namespaces: unshare fails with EPERM.
bool ForbidUnshare() {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) return false;
  bool ok = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 0) == 0 && seccomp_load(ctx) == 0;
  seccomp_release(ctx);
  return ok;
}

TEST_F(SandboxTest, WithoutUserNamespacesFailsWithAClearPrecondition) {
  ChildResult r = RunInChild([&](int fd) {
    if (!ForbidUnshare()) return Fail(fd, "installing the test filter");
    Status s = ApplySandbox({dir_, {fd}, /*allow_landlock_fallback=*/false});
    if (s.code() != StatusCode::kFailedPrecondition ||
        s.message().find("user namespaces are unavailable") == std::string_view::npos ||
        s.message().find("max_user_namespaces") == std::string_view::npos)
      return Fail(fd, s.ToString());
    return 0;
  });
  EXPECT_TRUE(r.Succeeded()) << r.Describe();
}

TEST_F(SandboxTest, WithoutUserNamespacesFallsBackToLandlockOrSaysWhyNot) {
  ChildResult r = RunInChild([&](int fd) {
    if (!ForbidUnshare()) return Fail(fd, "installing the test filter");
    bool has_landlock = syscall(SYS_landlock_create_ruleset, nullptr, 0, 1U) >= 0;
    Status s = ApplySandbox({dir_, {fd}, /*allow_landlock_fallback=*/true});
    if (!has_landlock) {
      if (s.code() != StatusCode::kFailedPrecondition || s.message().find("Landlock") == std::string_view::npos)
        return Fail(fd, s.ToString());
      return 0;
    }
    if (!s.ok()) return Fail(fd, s.ToString());
    if (open("/etc/passwd", O_RDONLY) >= 0) return Fail(fd, "Landlock let /etc/passwd through");
    if (!(std::ofstream("inside") << "x")) return Fail(fd, "cannot write in the sealed dir");
    return 0;
  });
  EXPECT_TRUE(r.Succeeded()) << r.Describe();
}

TEST_F(SandboxTest, WorksForAnUnprivilegedUser) {
  constexpr uid_t kNobody = 65534;
  const bool root = geteuid() == 0;
  if (root) {
    ASSERT_EQ(chown(dir_.c_str(), kNobody, kNobody), 0);
    ASSERT_EQ(chmod(dir_.c_str(), 0700), 0);
  }
  ChildResult r = RunInChild([&](int fd) {
    if (root && (setgroups(0, nullptr) != 0 || setresgid(kNobody, kNobody, kNobody) != 0 ||
                 setresuid(kNobody, kNobody, kNobody) != 0))
      return Fail(fd, "dropping to nobody");
    const uid_t uid = getuid();
    if (!Sandbox(fd)) return 10;
    if (getuid() != uid) return Fail(fd, "uid not mapped to itself");
    if (prctl(PR_GET_DUMPABLE) != 0) return Fail(fd, "dumpable after the id maps");
    if (open("/etc/passwd", O_RDONLY) >= 0) return Fail(fd, "opened /etc/passwd");
    if (!(std::ofstream("/owned") << "x")) return Fail(fd, "cannot write in the sealed dir");
    return 0;
  });
  EXPECT_TRUE(r.Succeeded()) << r.Describe();
  struct stat st {};
  ASSERT_EQ(stat((fs::path(dir_) / "owned").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, root ? kNobody : geteuid());
}

// Not dumpable: a process of the same (unprivileged) uid cannot ptrace-attach to the enclave.
TEST_F(SandboxTest, AnUnprivilegedProcessCannotAttach) {
  constexpr uid_t kNobody = 65534;
  const bool root = geteuid() == 0;
  if (root) {
    ASSERT_EQ(chown(dir_.c_str(), kNobody, kNobody), 0);
  }
  auto become_nobody = [root] {
    return !root || (setgroups(0, nullptr) == 0 && setresgid(kNobody, kNobody, kNobody) == 0 &&
                     setresuid(kNobody, kNobody, kNobody) == 0);
  };
  int ready[2], release[2];
  ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(release, O_CLOEXEC), 0);
  pid_t target = fork();
  if (target == 0) {
    close(ready[0]);
    close(release[1]);
    // Dumpable, as any process is after exec; setresuid alone would have cleared it.
    if (!become_nobody() || prctl(PR_SET_DUMPABLE, 1) != 0) _exit(12);
    if (!Sandbox(ready[1], {release[0]})) _exit(10);
    if (write(ready[1], "R", 1) != 1) _exit(11);
    pollfd p{release[0], POLLIN, 0};
    poll(&p, 1, 20000);  // until the test closes `release` (or gives up)
    _exit(0);
  }
  close(ready[1]);
  close(release[0]);
  ASSERT_GT(target, 0);
  char byte = 0;
  pollfd p{ready[0], POLLIN, 0};
  bool is_ready = poll(&p, 1, 20000) == 1 && read(ready[0], &byte, 1) == 1 && byte == 'R';
  ChildResult attacker;
  if (is_ready) {
    attacker = RunInChild([&](int fd) {
      if (!become_nobody()) return Fail(fd, "dropping to nobody");
      if (ptrace(PTRACE_ATTACH, target, nullptr, nullptr) == 0) {
        ptrace(PTRACE_DETACH, target, nullptr, nullptr);
        return Fail(fd, "attached to the enclave");
      }
      if (errno != EPERM) return Fail(fd, "attach failed for another reason");
      return 0;
    });
  }
  close(release[1]);
  close(ready[0]);
  int status = 0;
  ASSERT_EQ(waitpid(target, &status, 0), target);
  ASSERT_TRUE(is_ready) << "the sandboxed target did not start";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(attacker.Succeeded()) << attacker.Describe();
}

}  // namespace
}  // namespace neosl::tee
