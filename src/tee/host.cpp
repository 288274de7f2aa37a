#include "tee/host.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <span>
#include <unistd.h>
#include <utility>

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "core/business_metrics.h"
#include "core/log.h"

namespace neosl::tee {
namespace {

// An ECALL's error, counted by its code as it goes back to the caller (retried ones are not).
StatusOr<v1::EcallResponse> Counted(StatusOr<v1::EcallResponse> result) {
  if (!result.ok()) metrics::Enclave().ecall_errors.Inc({StatusCodeName(result.status().code())});
  return result;
}

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The child's channel end is always this fd; the child's --channel-fd says so.
constexpr int kChildChannelFd = 3;
// Where the child keeps the exec-error pipe until exec closes it.
constexpr int kChildErrorFd = 4;
// A child that lived at least this long was not dying "immediately": backoff starts over.
constexpr milliseconds kStableUptime{5000};
// Restarts before backoff starts, and its ceiling.
constexpr uint32_t kRestartsBeforeBackoff = 3;
constexpr milliseconds kMaxRestartDelay{30000};
constexpr milliseconds kFirstRestartsMaxDelay{1000};

std::string ErrnoText(int err) {
  char buf[128];
  return strerror_r(err, buf, sizeof(buf));
}

// Runs in the forked child, before exec: async-signal-safe calls only, no allocation.
[[noreturn]] void ExecChild(pid_t parent, int channel_fd, int error_fd, char* const* argv) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);  // NOLINT(concurrency-mt-unsafe): the child has one thread
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &default_action, nullptr);
  // Dies with the host; the check closes the race with a host that died before the prctl.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  // Its own process group: a terminal's Ctrl-C goes to the host, which then stops the enclave.
  setpgid(0, 0);

  // Channel at fd 3 (inherited across exec), the error pipe at fd 4 (closed by exec), nothing else.
  int err = fcntl(error_fd, F_DUPFD_CLOEXEC, kChildErrorFd + 1);
  if (err < 0) _exit(127);
  if (channel_fd == kChildChannelFd) {
    if (fcntl(kChildChannelFd, F_SETFD, 0) != 0) _exit(127);
  } else if (dup2(channel_fd, kChildChannelFd) != kChildChannelFd) {
    _exit(127);
  }
  if (dup3(err, kChildErrorFd, O_CLOEXEC) != kChildErrorFd) _exit(127);
  if (close_range(kChildErrorFd + 1, ~0U, 0) != 0) {
    for (int fd = kChildErrorFd + 1; fd < 65536; ++fd) close(fd);
  }

  execv(argv[0], argv);
  int exec_errno = errno;
  ssize_t ignored = write(kChildErrorFd, &exec_errno, sizeof(exec_errno));
  (void)ignored;
  _exit(127);
}

void WriteEnclaveLog(const v1::LogLine& line) {
  auto level = log::ParseLevel(line.level());
  // Sorted, so the same line always reads the same; the host's own keys cannot be overridden.
  std::map<std::string, std::string> sorted(line.fields().begin(), line.fields().end());
  std::vector<log::Field> fields = {{"source", "enclave"}};
  for (const auto& [key, value] : sorted) {
    if (key == "ts" || key == "level" || key == "msg" || key == "trace_id" || key == "source") continue;
    fields.emplace_back(key, value);
  }
  log::Write(level.ok() ? *level : log::Level::kInfo, line.message(), std::span<const log::Field>(fields));
}

}  // namespace

bool IsRetrySafe(const v1::EcallRequest& request) {
  switch (request.call_case()) {
    case v1::EcallRequest::kPing:
    case v1::EcallRequest::kGetPublicKeys:
    case v1::EcallRequest::kSign:
    case v1::EcallRequest::kAttest:
    case v1::EcallRequest::kUnseal:
    case v1::EcallRequest::kEciesDecrypt:
    case v1::EcallRequest::kSecretSeal:  // a pure function of its input (and a fresh nonce)
    case v1::EcallRequest::kDepositKey:  // a pure function of the account
      return true;
    default: return false;
  }
}

OcallHandler RelayOcallHandler(std::shared_ptr<ByteRelay> relay) {
  return [relay = std::move(relay)](const v1::OcallRequest& request, Channel&) {
    v1::OcallResponse response;
    switch (request.call_case()) {
      case v1::OcallRequest::kConnect: {
        const v1::NetConnect& connect = request.connect();
        if (connect.port() == 0 || connect.port() > 65535) {
          return OcallErrorResponse(
              InvalidArgumentError("port " + std::to_string(connect.port()) + " is out of range"));
        }
        auto conn =
            relay->Connect(connect.host(), static_cast<uint16_t>(connect.port()), milliseconds(connect.timeout_ms()));
        if (!conn.ok()) return OcallErrorResponse(conn.status());
        response.set_conn(*conn);
        return response;
      }
      case v1::OcallRequest::kSend: {
        const std::string& data = request.send().data();
        Status sent = relay->Send(request.send().conn(),
                                  std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
        if (!sent.ok()) return OcallErrorResponse(sent);
        return response;
      }
      case v1::OcallRequest::kRecv: {
        auto data =
            relay->Recv(request.recv().conn(), request.recv().max_bytes(), milliseconds(request.recv().timeout_ms()));
        if (!data.ok()) return OcallErrorResponse(data.status());
        response.set_data(data->data(), data->size());
        return response;
      }
      case v1::OcallRequest::kClose: relay->Close(request.close().conn()); return response;
      default: return OcallErrorResponse(UnimplementedError("the enclave host does not serve this OCALL"));
    }
  };
}

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return "exited with code " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    std::string text = "killed by signal " + std::to_string(sig);
    const char* abbrev = sigabbrev_np(sig);
    if (sig == SIGSYS) {
      text += " (SIGSYS: killed by the seccomp filter)";
    } else if (abbrev != nullptr) {
      text += " (SIG";
      text += abbrev;
      text += ")";
    }
    if (WCOREDUMP(wait_status)) text += ", core dumped";
    return text;
  }
  return "ended with wait status " + std::to_string(wait_status);
}

StatusOr<std::unique_ptr<EnclaveHost>> EnclaveHost::Start(EnclaveHostOptions options) {
  if (options.binary.empty()) return InvalidArgumentError("enclave host: no enclave binary given");
  if (access(options.binary.c_str(), X_OK) != 0) {
    const int err = errno;
    return FailedPreconditionError("enclave binary " + options.binary + " cannot be executed: " + ErrnoText(err));
  }
  std::unique_ptr<EnclaveHost> host(new EnclaveHost(std::move(options)));
  host->supervisor_ = std::thread([h = host.get()] { h->Supervise(); });
  Status first;
  {
    std::unique_lock<std::mutex> lock(host->mu_);
    host->cv_.wait(lock, [&] { return host->first_spawn_done_; });
    first = host->first_spawn_status_;
  }
  if (!first.ok()) {
    host->supervisor_.join();
    return first;
  }
  return host;
}

EnclaveHost::EnclaveHost(EnclaveHostOptions options) : options_(std::move(options)) {}

EnclaveHost::~EnclaveHost() {
  Stop();
}

Status EnclaveHost::SpawnChild() {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return UnavailableError("enclave host: socketpair failed: " + ErrnoText(errno));
  }
  int error_pipe[2];
  if (pipe2(error_pipe, O_CLOEXEC) != 0) {
    const int err = errno;
    close(sv[0]);
    close(sv[1]);
    return UnavailableError("enclave host: pipe failed: " + ErrnoText(err));
  }

  // Everything the child needs is built before fork: it may not allocate.
  std::vector<std::string> strings;
  strings.reserve(options_.args.size() + 3);
  strings.push_back(options_.binary);
  strings.insert(strings.end(), options_.args.begin(), options_.args.end());
  strings.emplace_back("--channel-fd");
  strings.push_back(std::to_string(kChildChannelFd));
  std::vector<char*> argv;
  argv.reserve(strings.size() + 1);
  for (auto& s : strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) ExecChild(parent, sv[1], error_pipe[1], argv.data());
  const int fork_errno = errno;
  close(sv[1]);
  close(error_pipe[1]);
  if (pid < 0) {
    close(sv[0]);
    close(error_pipe[0]);
    return UnavailableError("enclave host: fork failed: " + ErrnoText(fork_errno));
  }

  // End of file on the pipe means exec succeeded (it closed the pipe); an int is exec's errno.
  int exec_errno = 0;
  ssize_t n;
  do {
    n = read(error_pipe[0], &exec_errno, sizeof(exec_errno));
  } while (n < 0 && errno == EINTR);
  close(error_pipe[0]);
  if (n != 0) {
    close(sv[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (n == static_cast<ssize_t>(sizeof(exec_errno))) {
      return FailedPreconditionError("enclave host: exec " + options_.binary + " failed: " + ErrnoText(exec_errno));
    }
    return InternalError("enclave host: the child failed before exec");
  }

  IncomingHandler handler;
  handler.ocall = [this](const v1::OcallRequest& request, Channel& channel) { return ServeOcall(request, channel); };
  auto channel = Channel::Open(sv[0], std::move(handler), options_.channel);
  if (!channel.ok()) {
    kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return channel.status();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    channel_ = std::move(*channel);
    child_pid_ = pid;
    child_exited_ = false;
    ++generation_;
  }
  cv_.notify_all();
  log::Info("enclave started", {{"pid", static_cast<int64_t>(pid)}, {"binary", options_.binary}});
  return Status::Ok();
}

std::string EnclaveHost::ReapChild(pid_t pid) {
  // Wait without reaping first, so Stop() never signals a pid that was reaped and reused.
  siginfo_t info{};
  int rc;
  do {
    rc = waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT);
  } while (rc != 0 && errno == EINTR);
  {
    std::lock_guard<std::mutex> lock(mu_);
    child_exited_ = true;
  }
  int status = 0;
  pid_t reaped;
  do {
    reaped = waitpid(pid, &status, 0);
  } while (reaped < 0 && errno == EINTR);
  if (reaped != pid) return "exited (its status was not available: SIGCHLD is ignored?)";
  return DescribeWaitStatus(status);
}

std::chrono::milliseconds EnclaveHost::RestartDelay(uint32_t quick_deaths) const {
  const milliseconds base = std::clamp(options_.restart_delay, milliseconds(0), kFirstRestartsMaxDelay);
  if (quick_deaths <= kRestartsBeforeBackoff) return base;
  const uint32_t doublings = std::min<uint32_t>(quick_deaths - kRestartsBeforeBackoff, 10);
  return std::min(std::max(base, milliseconds(100)) * (1 << doublings), kMaxRestartDelay);
}

void EnclaveHost::Supervise() {
  uint32_t quick_deaths = 0;
  bool first = true;
  // The dead child's channel. Closing it waits for host handlers still serving its OCALLs (a relay
  // recv may take a while), so that happens after the next child is up, not before.
  std::shared_ptr<Channel> retired;
  while (true) {
    Status spawned = SpawnChild();
    if (retired) {
      retired->Close();
      retired.reset();
    }
    if (first) {
      std::lock_guard<std::mutex> lock(mu_);
      first_spawn_done_ = true;
      first_spawn_status_ = spawned;
      if (!spawned.ok()) supervisor_done_ = true;
      cv_.notify_all();
      if (!spawned.ok()) return;
      first = false;
    }

    const auto started = SteadyClock::now();
    if (spawned.ok()) {
      metrics::Enclave().up.Set({}, 1);
      pid_t pid;
      std::shared_ptr<Channel> channel;
      bool stopping;
      {
        std::lock_guard<std::mutex> lock(mu_);
        pid = child_pid_;
        channel = channel_;
        stopping = stopping_;
      }
      // Stop() came while this child was starting: it never saw this channel, so close it here.
      if (stopping) channel->Close();
      channel.reset();

      const std::string reason = ReapChild(pid);
      metrics::Enclave().up.Set({}, 0);
      {
        std::lock_guard<std::mutex> lock(mu_);
        channel = std::move(channel_);
        child_pid_ = -1;
        child_exited_ = false;
        stopping = stopping_;
      }
      cv_.notify_all();
      // Calls still in flight fail UNAVAILABLE (end of stream has usually failed them already).
      channel->Shutdown();
      retired = std::move(channel);
      const auto uptime = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - started);
      if (stopping) {
        log::Info("enclave stopped", {{"pid", static_cast<int64_t>(pid)}, {"reason", reason}});
      } else {
        log::Warn("enclave exited", {{"pid", static_cast<int64_t>(pid)},
                                     {"reason", reason},
                                     {"uptime_ms", static_cast<int64_t>(uptime.count())},
                                     {"restarts", static_cast<int64_t>(restarts())}});
      }
      if (options_.on_exit) options_.on_exit(reason);
      quick_deaths = uptime < kStableUptime ? quick_deaths + 1 : 0;
    } else {
      log::Error("enclave restart failed", {{"error", spawned.ToString()}});
      ++quick_deaths;
    }

    std::unique_lock<std::mutex> lock(mu_);
    const auto delay = RestartDelay(quick_deaths);
    cv_.wait_until(lock, SteadyClock::now() + delay, [&] { return stopping_; });
    if (stopping_) break;
    restarts_.fetch_add(1, std::memory_order_relaxed);
    metrics::Enclave().restarts.Inc();
  }
  if (retired) retired->Close();
  {
    std::lock_guard<std::mutex> lock(mu_);
    supervisor_done_ = true;
  }
  cv_.notify_all();
}

v1::OcallResponse EnclaveHost::ServeOcall(const v1::OcallRequest& request, Channel& channel) {
  v1::OcallResponse response;
  switch (request.call_case()) {
    case v1::OcallRequest::kPing: response.set_pong(request.ping().payload()); return response;
    case v1::OcallRequest::kLog: WriteEnclaveLog(request.log()); return response;
    default:
      if (options_.ocalls) return options_.ocalls(request, channel);
      return OcallErrorResponse(UnimplementedError("the enclave host relays no network calls"));
  }
}

StatusOr<v1::EcallResponse> EnclaveHost::Call(const v1::EcallRequest& request, milliseconds timeout) {
  std::shared_ptr<Channel> channel;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return UnavailableError("enclave host stopped");
    channel = channel_;
  }
  if (!channel) return Counted(UnavailableError("enclave is restarting"));
  return Counted(channel->Call(request, timeout));
}

StatusOr<v1::EcallResponse> EnclaveHost::CallRetrying(const v1::EcallRequest& request, milliseconds timeout) {
  if (!IsRetrySafe(request)) return Call(request, timeout);
  const auto deadline = SteadyClock::now() + timeout;
  Status last = UnavailableError("enclave is restarting");
  while (true) {
    std::shared_ptr<Channel> channel;
    uint64_t generation;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return UnavailableError("enclave host stopped");
      channel = channel_;
      generation = generation_;
    }
    if (channel) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
      auto result = channel->Call(request, std::max(left, milliseconds(0)));
      // Only a dead child is worth another try; an UNAVAILABLE from a live enclave is its answer.
      if (result.ok() || result.status().code() != StatusCode::kUnavailable || !channel->closed()) {
        return Counted(std::move(result));
      }
      last = result.status();
    }
    std::unique_lock<std::mutex> lock(mu_);
    const bool next =
        cv_.wait_until(lock, deadline, [&] { return stopping_ || (channel_ && generation_ != generation); });
    if (!next) return Counted(UnavailableError("enclave did not come back in time: " + std::string(last.message())));
  }
}

int EnclaveHost::pid() const {
  std::lock_guard<std::mutex> lock(mu_);
  return child_pid_;
}

bool EnclaveHost::WaitReady(milliseconds timeout) {
  v1::EcallRequest ping;
  ping.mutable_ping();
  return CallRetrying(ping, timeout).ok();
}

void EnclaveHost::Stop() {
  std::lock_guard<std::mutex> stop_lock(stop_mu_);
  if (!supervisor_.joinable()) return;
  std::shared_ptr<Channel> channel;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    channel = channel_;
  }
  cv_.notify_all();
  // The child's server loop ends when its channel does.
  if (channel) channel->Close();
  channel.reset();

  auto wait_done = [&](milliseconds grace) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, SteadyClock::now() + grace, [&] { return supervisor_done_; });
  };
  auto signal_child = [&](int sig) {
    std::lock_guard<std::mutex> lock(mu_);
    if (child_pid_ > 0 && !child_exited_) kill(child_pid_, sig);
  };
  if (!wait_done(options_.stop_grace)) {
    log::Warn("enclave did not exit after its channel closed; sending SIGTERM");
    signal_child(SIGTERM);
    if (!wait_done(options_.stop_grace)) {
      log::Warn("enclave did not exit after SIGTERM; sending SIGKILL");
      signal_child(SIGKILL);
    }
  }
  supervisor_.join();
}

}  // namespace neosl::tee
