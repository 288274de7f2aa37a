// EnclaveHost with a real child process: tee_fake_enclave (fake_enclave.cpp) serving through
// RunEnclaveServer.
#include "tee/host.h"

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <signal.h>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>

#ifndef NEOSL_FAKE_ENCLAVE
#error "NEOSL_FAKE_ENCLAVE must name the tee_fake_enclave binary"
#endif

namespace neosl::tee {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// Records each child's exit reason, and lets a test wait for the n-th.
class ExitLog {
 public:
  std::function<void(const std::string&)> Hook() {
    return [this](const std::string& reason) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        reasons_.push_back(reason);
        times_.push_back(SteadyClock::now());
      }
      cv_.notify_all();
    };
  }
  bool WaitFor(size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return reasons_.size() >= n; });
  }
  std::vector<std::string> reasons() {
    std::lock_guard<std::mutex> lock(mu_);
    return reasons_;
  }
  std::vector<SteadyClock::time_point> times() {
    std::lock_guard<std::mutex> lock(mu_);
    return times_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> reasons_;
  std::vector<SteadyClock::time_point> times_;
};

EnclaveHostOptions FakeEnclave(ExitLog* exits = nullptr) {
  EnclaveHostOptions options;
  options.binary = NEOSL_FAKE_ENCLAVE;
  options.args = {"enclave"};
  if (exits != nullptr) options.on_exit = exits->Hook();
  return options;
}

std::unique_ptr<EnclaveHost> StartOrDie(EnclaveHostOptions options) {
  auto host = EnclaveHost::Start(std::move(options));
  EXPECT_TRUE(host.ok()) << host.status().ToString();
  if (!host.ok()) return nullptr;
  EXPECT_TRUE((*host)->WaitReady(10s));
  return std::move(*host);
}

v1::EcallRequest Ping(const std::string& payload) {
  v1::EcallRequest request;
  request.mutable_ping()->set_payload(payload);
  return request;
}

v1::EcallRequest Command(uint32_t sleep_ms, bool crash = false, const std::string& echo = "") {
  v1::EcallRequest request;
  request.mutable_test()->set_sleep_ms(sleep_ms);
  request.mutable_test()->set_crash(crash);
  request.mutable_test()->set_echo(echo);
  return request;
}

bool ProcessGone(int pid) {
  return kill(pid, 0) != 0 && errno == ESRCH;
}

TEST(EnclaveHostTest, StartsTheChildAndAnswersAPing) {
  auto host = StartOrDie(FakeEnclave());
  ASSERT_NE(host, nullptr);
  EXPECT_GT(host->pid(), 0);
  EXPECT_EQ(host->restarts(), 0u);
  auto response = host->Call(Ping("hello enclave"), 5s);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->pong(), "hello enclave");
}

TEST(EnclaveHostTest, TheChildHoldsOnlyItsChannelBesidesTheStandardStreams) {
  auto host = StartOrDie(FakeEnclave());
  ASSERT_NE(host, nullptr);
  auto response = host->Call(Command(0, false, "list-fds"), 5s);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  std::istringstream fds(response->test());
  std::vector<int> beyond_stdio;
  for (int fd; fds >> fd;) {
    if (fd > 2) beyond_stdio.push_back(fd);
  }
  EXPECT_EQ(beyond_stdio, std::vector<int>{3}) << response->test();
}

TEST(EnclaveHostTest, ConcurrentCallsOverlapInTheEnclave) {
  auto host = StartOrDie(FakeEnclave());
  ASSERT_NE(host, nullptr);
  constexpr int kCalls = 4;
  constexpr uint32_t kSleepMs = 500;
  const auto start = SteadyClock::now();
  std::vector<std::future<StatusOr<v1::EcallResponse>>> calls;
  calls.reserve(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    calls.push_back(std::async(std::launch::async, [&] { return host->Call(Command(kSleepMs), 20s); }));
  }
  for (auto& call : calls) {
    auto result = call.get();
    EXPECT_TRUE(result.ok()) << result.status().ToString();
  }
  const auto total = SteadyClock::now() - start;
  // Run one after another they would take kCalls × 500 ms = 2 s; overlapping, about 0.5 s.
  EXPECT_LT(total, std::chrono::milliseconds(kCalls * kSleepMs * 3 / 4));
}

TEST(EnclaveHostTest, TheHostAnswersTheEnclavesOcalls) {
  auto host = StartOrDie(FakeEnclave());
  ASSERT_NE(host, nullptr);
  v1::EcallRequest request = Command(0, false, "through the host");
  request.mutable_test()->set_ocall_echo(true);
  auto response = host->Call(request, 5s);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->test(), "through the host");
}

TEST(EnclaveHostTest, ACrashFailsCallsInFlightAndTheChildIsBackWithinASecond) {
  ExitLog exits;
  auto host = StartOrDie(FakeEnclave(&exits));
  ASSERT_NE(host, nullptr);
  const int first_pid = host->pid();

  // A long call, then (on another thread) one that crashes the child 300 ms after it arrives.
  auto long_call = std::async(std::launch::async, [&] { return host->Call(Command(10000), 20s); });
  auto crash = host->Call(Command(300, /*crash=*/true), 20s);
  const auto crashed_at = SteadyClock::now();
  ASSERT_FALSE(crash.ok());
  EXPECT_EQ(crash.status().code(), StatusCode::kUnavailable) << crash.status().ToString();
  ASSERT_EQ(long_call.wait_for(10s), std::future_status::ready);
  auto long_result = long_call.get();
  ASSERT_FALSE(long_result.ok());
  EXPECT_EQ(long_result.status().code(), StatusCode::kUnavailable) << long_result.status().ToString();

  auto ping = host->CallRetrying(Ping("back"), 5s);
  ASSERT_TRUE(ping.ok()) << ping.status().ToString();
  EXPECT_EQ(ping->pong(), "back");
  EXPECT_LT(SteadyClock::now() - crashed_at, 1s);
  EXPECT_EQ(host->restarts(), 1u);
  EXPECT_GT(host->pid(), 0);
  EXPECT_NE(host->pid(), first_pid);
  EXPECT_TRUE(ProcessGone(first_pid));  // reaped, not a zombie

  ASSERT_TRUE(exits.WaitFor(1));
  EXPECT_NE(exits.reasons()[0].find("SIGABRT"), std::string::npos) << exits.reasons()[0];
}

TEST(EnclaveHostTest, RetryingPingsAroundACrashAllSucceed) {
  ExitLog exits;
  auto host = StartOrDie(FakeEnclave(&exits));
  ASSERT_NE(host, nullptr);
  auto crash = std::async(std::launch::async, [&] { return host->Call(Command(100, /*crash=*/true), 20s); });
  // Pings before, during and after the crash: each one is answered, by the old child or the new.
  int pings = 0;
  const auto deadline = SteadyClock::now() + 10s;
  while (host->restarts() < 1 && SteadyClock::now() < deadline) {
    auto ping = host->CallRetrying(Ping(std::to_string(pings)), 5s);
    ASSERT_TRUE(ping.ok()) << "ping " << pings << ": " << ping.status().ToString();
    EXPECT_EQ(ping->pong(), std::to_string(pings));
    ++pings;
  }
  EXPECT_EQ(crash.get().status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(host->restarts(), 1u);
  auto after = host->CallRetrying(Ping("after"), 5s);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
}

TEST(EnclaveHostTest, CallsThatAreNotSafeToRepeatAreNotRetried) {
  auto host = StartOrDie(FakeEnclave());
  ASSERT_NE(host, nullptr);
  v1::EcallRequest seal;
  seal.mutable_seal()->set_label("x");
  v1::EcallRequest sign;
  sign.mutable_sign()->set_message("m");
  EXPECT_FALSE(IsRetrySafe(seal));
  EXPECT_FALSE(IsRetrySafe(Command(0)));
  EXPECT_TRUE(IsRetrySafe(sign));
  EXPECT_TRUE(IsRetrySafe(Ping("")));
  // A crash command through CallRetrying is sent once: it fails, and the child restarts once.
  auto crash = host->CallRetrying(Command(0, /*crash=*/true), 5s);
  ASSERT_FALSE(crash.ok());
  EXPECT_EQ(crash.status().code(), StatusCode::kUnavailable);
  ASSERT_TRUE(host->WaitReady(5s));
  EXPECT_EQ(host->restarts(), 1u);
}

TEST(EnclaveHostTest, ASeccompKillIsReportedAsSuch) {
  ExitLog exits;
  auto host = StartOrDie(FakeEnclave(&exits));
  ASSERT_NE(host, nullptr);
  ASSERT_EQ(kill(host->pid(), SIGSYS), 0);
  ASSERT_TRUE(exits.WaitFor(1));
  EXPECT_NE(exits.reasons()[0].find("killed by the seccomp filter"), std::string::npos) << exits.reasons()[0];
  EXPECT_TRUE(host->WaitReady(5s));
}

TEST(EnclaveHostTest, StopReapsTheChild) {
  auto host = StartOrDie(FakeEnclave());
  ASSERT_NE(host, nullptr);
  const int pid = host->pid();
  ASSERT_GT(pid, 0);
  host->Stop();
  EXPECT_TRUE(ProcessGone(pid));
  EXPECT_EQ(host->pid(), -1);
  EXPECT_EQ(host->restarts(), 0u);
  auto after = host->Call(Ping("stopped"), 1s);
  EXPECT_EQ(after.status().code(), StatusCode::kUnavailable);
  host->Stop();  // idempotent
}

TEST(EnclaveHostTest, StopSignalsAChildThatDoesNotExitWhenItsChannelCloses) {
  EnclaveHostOptions options = FakeEnclave();
  options.stop_grace = 200ms;
  auto host = StartOrDie(std::move(options));
  ASSERT_NE(host, nullptr);
  const int pid = host->pid();
  // The child's server loop waits for this handler before it exits: only SIGTERM ends it early.
  auto busy = std::async(std::launch::async, [&] { return host->Call(Command(30000), 60s); });
  ASSERT_TRUE(host->CallRetrying(Ping("in"), 5s).ok());
  const auto start = SteadyClock::now();
  host->Stop();
  EXPECT_LT(SteadyClock::now() - start, 10s);
  EXPECT_TRUE(ProcessGone(pid));
  EXPECT_EQ(busy.get().status().code(), StatusCode::kUnavailable);
}

TEST(EnclaveHostTest, AChildThatKeepsDyingIsRestartedQuicklyAtFirst) {
  ExitLog exits;
  EnclaveHostOptions options = FakeEnclave(&exits);
  options.args = {"enclave", "--exit-at-once"};
  options.restart_delay = 50ms;
  auto host = EnclaveHost::Start(std::move(options));
  ASSERT_TRUE(host.ok()) << host.status().ToString();
  ASSERT_TRUE(exits.WaitFor(3));
  auto reasons = exits.reasons();
  EXPECT_EQ(reasons[0], "exited with code 3");
  auto times = exits.times();
  for (size_t i = 1; i < 3; ++i) EXPECT_LT(times[i] - times[i - 1], 1s) << "restart " << i;
  EXPECT_GE((*host)->restarts(), 2u);
  (*host)->Stop();
}

TEST(EnclaveHostTest, StartFailsWhenTheBinaryCannotRun) {
  EnclaveHostOptions options;
  options.binary = "/nonexistent/neosl";
  auto host = EnclaveHost::Start(std::move(options));
  ASSERT_FALSE(host.ok());
  EXPECT_EQ(host.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(host.status().message().find("/nonexistent/neosl"), std::string_view::npos);
}

TEST(EnclaveHostTest, ExitStatusesAreDescribed) {
  EXPECT_EQ(DescribeWaitStatus(W_EXITCODE(3, 0)), "exited with code 3");
  EXPECT_EQ(DescribeWaitStatus(W_EXITCODE(0, SIGKILL)), "killed by signal 9 (SIGKILL)");
  EXPECT_EQ(DescribeWaitStatus(W_EXITCODE(0, SIGSYS)), "killed by signal 31 (SIGSYS: killed by the seccomp filter)");
  EXPECT_EQ(DescribeWaitStatus(W_EXITCODE(0, SIGSEGV) | 0x80), "killed by signal 11 (SIGSEGV), core dumped");
}

}  // namespace
}  // namespace neosl::tee
