#include "support/server_process.h"

#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <thread>
#include <unistd.h>

#include <sys/wait.h>

#include "support/test_store.h"

extern char** environ;

namespace neosl::testing {
namespace {

std::vector<std::string> MergedEnv(const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    // The test's own NEOSL_* settings must not leak into the server under test.
    if (kv.rfind("NEOSL_", 0) == 0) continue;
    env.push_back(kv);
  }
  // Servers under test embed a devchain; a fixed port would collide between parallel tests.
  bool devchain_listen_set = false;
  for (const auto& [k, v] : extra) devchain_listen_set |= k == "NEOSL_CHAIN_DEVCHAIN_LISTEN";
  if (!devchain_listen_set) env.push_back("NEOSL_CHAIN_DEVCHAIN_LISTEN=127.0.0.1:0");
  for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
}

pid_t Spawn(const std::vector<std::string>& args, const std::vector<std::string>& env, const std::string& out_path,
            const std::string& err_path, std::string* error) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> argv, envp;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    *error = "posix_spawn " + args[0] + ": " + std::strerror(rc);
    return -1;
  }
  return pid;
}

// The store environment of `data_dir` (test_store.h), unless the test chose a store itself.
void AddStoreEnv(const std::string& data_dir, std::vector<std::pair<std::string, std::string>>& env) {
  for (const auto& [k, v] : env) {
    if (k == "NEOSL_STORE_DRIVER") return;
  }
  for (auto& kv : StoreEnv(data_dir)) env.push_back(std::move(kv));
}

int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string NeoslBinary() {
  const char* b = std::getenv("NEOSL_BINARY");
  return b && *b ? b : "build/neosl";
}

std::unique_ptr<ServerProcess> ServerProcess::Start(ServerOptions options, std::string* error) {
  std::unique_ptr<ServerProcess> p(new ServerProcess());
  p->temp_ = std::make_unique<TempDir>();
  p->data_dir_ = options.data_dir.empty() ? p->temp_->File("data") : options.data_dir;
  p->log_path_ = p->temp_->File("server.log");
  std::vector<std::string> args = {options.binary.empty() ? NeoslBinary() : options.binary};
  if (options.command.empty()) options.command = {"serve", "--listen", "127.0.0.1:0"};
  args.insert(args.end(), options.command.begin(), options.command.end());
  args.insert(args.end(), {"--data", p->data_dir_});
  if (!options.config_yaml.empty()) {
    WriteFile(p->temp_->File("config.yaml"), options.config_yaml);
    args.push_back("--config");
    args.push_back(p->temp_->File("config.yaml"));
  }
  for (auto& a : options.args) args.push_back(a);
  if (options.command.front() == "serve") AddStoreEnv(p->data_dir_, options.env);
  std::string addr_file = p->data_dir_ + "/listen.addr";
  unlink(addr_file.c_str());
  p->pid_ = Spawn(args, MergedEnv(options.env), p->temp_->File("server.out"), p->log_path_, error);
  if (p->pid_ < 0) return nullptr;

  // Wait for the address file, which the server writes (atomically) once it is listening.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string addr = ReadFile(addr_file);
    if (!addr.empty() && addr.back() == '\n') {
      p->address_ = addr.substr(0, addr.size() - 1);
      return p;
    }
    int status;
    if (waitpid(p->pid_, &status, WNOHANG) == p->pid_) {
      p->pid_ = -1;
      *error = "server exited with " + std::to_string(ExitCode(status)) + " before listening; log:\n" + p->Logs();
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a file, not a race
  }
  *error = "server did not write " + addr_file + " within 30 s; log:\n" + p->Logs();
  p->Stop(SIGKILL);
  return nullptr;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Stop(SIGKILL);
}

std::string ServerProcess::admin_key() const {
  std::string k = ReadFile(data_dir_ + "/admin.key");
  while (!k.empty() && (k.back() == '\n' || k.back() == '\r')) k.pop_back();
  return k;
}

std::string ServerProcess::Logs() const {
  return ReadFile(log_path_);
}

int ServerProcess::Stop(int sig, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  kill(pid_, sig);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      pid_ = -1;
      return -2;  // did not stop in time
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pid_ = -1;
  return ExitCode(status);
}

int ServerProcess::WaitExit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) != pid_) {
    if (std::chrono::steady_clock::now() > deadline) return -2;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling for the exit
  }
  pid_ = -1;
  return ExitCode(status);
}

CommandResult RunNeosl(const std::vector<std::string>& args,
                       const std::vector<std::pair<std::string, std::string>>& env) {
  TempDir tmp;
  std::vector<std::string> full = {NeoslBinary()};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<std::pair<std::string, std::string>> full_env = env;
  const bool uses_store = !args.empty() && args[0] != "devchain" && args[0] != "ca";
  for (size_t i = 0; uses_store && i < args.size(); ++i) {
    if (args[i] == "--data" && i + 1 < args.size()) AddStoreEnv(args[i + 1], full_env);
    if (args[i].rfind("--data=", 0) == 0) AddStoreEnv(args[i].substr(7), full_env);
  }
  CommandResult result;
  std::string error;
  pid_t pid = Spawn(full, MergedEnv(full_env), tmp.File("out"), tmp.File("err"), &error);
  if (pid < 0) {
    result.err = error;
    return result;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = ExitCode(status);
  result.out = ReadFile(tmp.File("out"));
  result.err = ReadFile(tmp.File("err"));
  return result;
}

}  // namespace neosl::testing
