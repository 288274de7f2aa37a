#include "support/redis_process.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <vector>

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "support/child_process.h"
#include <arpa/inet.h>
#include <netinet/in.h>

extern char** environ;

namespace neosl::testing {
namespace {

// Whether a server on `port` answers PING with +PONG within 200 ms.
bool Pings(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval tv{0, 200'000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    static constexpr char kPing[] = "*1\r\n$4\r\nPING\r\n";
    char buf[16] = {};
    ok = ::write(fd, kPing, sizeof kPing - 1) == ssize_t(sizeof kPing - 1) && ::read(fd, buf, 7) == 7 &&
         std::memcmp(buf, "+PONG\r\n", 7) == 0;
  }
  ::close(fd);
  return ok;
}

}  // namespace

std::string RedisProcess::Binary() {
  const char* env = std::getenv("NEOSL_REDIS_SERVER");  // NOLINT(concurrency-mt-unsafe): nothing sets the environment
  std::string path = env && *env ? env : "/usr/bin/redis-server";
  return ::access(path.c_str(), X_OK) == 0 ? path : "";
}

std::unique_ptr<RedisProcess> RedisProcess::Launch(std::string* error) {
  std::unique_ptr<RedisProcess> p(new RedisProcess());
  p->binary_ = Binary();
  if (p->binary_.empty()) {
    *error = "no redis-server binary (install redis-server, or set NEOSL_REDIS_SERVER)";
    return nullptr;
  }
  p->temp_ = std::make_unique<TempDir>();
  for (int attempt = 0; attempt < 3; ++attempt) {
    p->port_ = FreeLoopbackPort();
    if (p->port_ == 0) {
      *error = "finding a free port: " + std::error_code(errno, std::generic_category()).message();
      continue;
    }
    if (p->StartOnce(error)) return p;
  }
  return nullptr;
}

bool RedisProcess::StartOnce(std::string* error) {
  std::vector<std::string> args = {binary_, "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no", "--dir", temp_->path(),
                                   // DEBUG SLEEP makes the server slow on purpose (Redis 7 refuses DEBUG by default).
                                   "--enable-debug-command", "yes"};
  std::string log = temp_->File("redis.log");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int rc = posix_spawn(&pid_, binary_.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    *error = "posix_spawn " + binary_ + ": " + std::error_code(rc, std::generic_category()).message();
    return false;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Pings(port_)) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      *error = "redis-server exited before answering; log:\n" + Logs();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling for readiness
  }
  *error = "redis-server did not answer PING within 10 s; log:\n" + Logs();
  Stop(std::chrono::milliseconds(0));
  return false;
}

bool RedisProcess::Restart(std::string* error) {
  if (running()) Stop();
  return StartOnce(error);
}

void RedisProcess::Stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return;
  if (grace.count() > 0) {
    ::kill(pid_, SIGTERM);
    if (WaitForExit(pid_, grace) != -2) {
      pid_ = -1;
      return;
    }
  }
  ::kill(pid_, SIGKILL);
  WaitForExit(pid_, std::chrono::seconds(10));
  pid_ = -1;
}

RedisProcess::~RedisProcess() {
  Stop(std::chrono::milliseconds(0));
}

std::string RedisProcess::Logs() const {
  return temp_ ? ReadFile(temp_->File("redis.log")) : "";
}

}  // namespace neosl::testing
