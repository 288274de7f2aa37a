#include "support/etcd_process.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <spawn.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <vector>

#include <sys/socket.h>
#include <sys/wait.h>

#include "support/child_process.h"
#include "support/http_client.h"
#include <netinet/in.h>

extern char** environ;

namespace neosl::testing {
namespace {

// Two distinct free loopback ports: bound together (so they differ), then released for etcd.
// Another process may take one in between; Launch retries with new ports if etcd fails to bind.
bool FreePorts(int& a, int& b) {
  int fds[2] = {-1, -1};
  int ports[2] = {0, 0};
  bool ok = true;
  for (int i = 0; i < 2 && ok; ++i) {
    fds[i] = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    ok = fds[i] >= 0 && ::bind(fds[i], reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
         ::getsockname(fds[i], reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    ports[i] = ntohs(addr.sin_port);
  }
  for (int fd : fds) {
    if (fd >= 0) ::close(fd);
  }
  a = ports[0];
  b = ports[1];
  return ok;
}

}  // namespace

std::string EtcdProcess::Binary() {
  const char* env = std::getenv("NEOSL_ETCD");  // NOLINT(concurrency-mt-unsafe): nothing sets the environment
  std::string path = env && *env ? env : "/usr/bin/etcd";
  return ::access(path.c_str(), X_OK) == 0 ? path : "";
}

std::unique_ptr<EtcdProcess> EtcdProcess::Launch(std::string* error) {
  std::unique_ptr<EtcdProcess> p(new EtcdProcess());
  p->binary_ = Binary();
  if (p->binary_.empty()) {
    *error = "no etcd binary (install etcd-server, or set NEOSL_ETCD)";
    return nullptr;
  }
  p->temp_ = std::make_unique<TempDir>();
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (!FreePorts(p->client_port_, p->peer_port_)) {
      *error = "finding free ports: " + std::error_code(errno, std::generic_category()).message();
      continue;
    }
    // A failed start may have bootstrapped the data directory for the old ports.
    std::error_code ignored;
    std::filesystem::remove_all(p->temp_->File("data"), ignored);
    if (p->StartOnce(error)) return p;
  }
  return nullptr;
}

bool EtcdProcess::StartOnce(std::string* error) {
  std::string client = endpoint();
  std::string peer = "http://127.0.0.1:" + std::to_string(peer_port_);
  std::vector<std::string> args = {binary_, "--name=t", "--data-dir=" + temp_->File("data"),
                                   "--listen-client-urls=" + client, "--advertise-client-urls=" + client,
                                   "--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
                                   "--initial-cluster=t=" + peer,
                                   // etcd's minimum lease TTL is 1.5 election timeouts: 75 ms here.
                                   "--heartbeat-interval=10", "--election-timeout=50", "--log-level=warn"};
  std::string log = temp_->File("etcd.log");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // etcd reads ETCD_* variables as flags; a developer's own must not leak in.
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "ETCD_", 5) != 0) env.emplace_back(*e);
  }
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  int rc = posix_spawn(&pid_, binary_.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    *error = "posix_spawn " + binary_ + ": " + std::error_code(rc, std::generic_category()).message();
    return false;
  }

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  HttpClient http("127.0.0.1:" + std::to_string(client_port_));
  while (std::chrono::steady_clock::now() < deadline) {
    HttpResult r = http.Post("/v3/maintenance/status", "{}");
    if (r.status == 200 && r.body.find("\"leader\"") != std::string::npos) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      *error = "etcd exited before answering; log:\n" + Logs();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling for readiness
  }
  *error = "etcd did not answer /v3/maintenance/status within 20 s; log:\n" + Logs();
  Stop(std::chrono::milliseconds(0));
  return false;
}

bool EtcdProcess::Restart(std::string* error, bool wipe_data) {
  if (running()) Stop();
  if (wipe_data) {
    std::error_code ignored;
    std::filesystem::remove_all(temp_->File("data"), ignored);
  }
  return StartOnce(error);
}

void EtcdProcess::Stop(std::chrono::milliseconds grace) {
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

EtcdProcess::~EtcdProcess() {
  Stop(std::chrono::milliseconds(0));
}

std::string EtcdProcess::Logs() const {
  return temp_ ? ReadFile(temp_->File("etcd.log")) : "";
}

}  // namespace neosl::testing
