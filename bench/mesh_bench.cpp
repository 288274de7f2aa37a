// The service mesh's unary call (MeshClient::Call of echo.Echo, a 32-byte message) in three modes, measured in one
// run with the same client code and the same concurrency:
//   - in-process:  the echo server in this process, reached through InProcessChannels;
//   - plaintext:   the echo server in a child process (this binary re-run with --serve), over loopback TCP without
//                  TLS (InsecureChannels, x-caller-id taken on trust);
//   - mTLS:        the same with a CA made for the run: the server presents "echo", the client "gateway"
//                  (TlsChannels), TLS 1.3 only.
// For each: latency with one caller (p50 / p99) and throughput with `threads` callers sharing one MeshClient
// (calls/s, p50 / p99 under that load, and the CPU time per call of the client and of the server child). The loaded
// runs are cut into 0.5 s slices taking the modes in turn, so that anything else running on the machine weighs on
// every mode alike; figures are over all rounds. Target: mTLS ≥ 0.7 × plaintext throughput. Client and servers
// share the machine's cores.
//
// Usage: mesh_bench [seconds per run = 3] [threads = 16] [rounds = 2]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <memory>
#include <optional>
#include <poll.h>
#include <spawn.h>
#include <string>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <vector>

#include <sys/wait.h>

#include "bench_util.h"
#include "core/clock.h"
#include "core/random.h"
#include "mesh/ca.h"
#include "mesh/client.h"
#include "mesh/policy.h"
#include "mesh/registry.h"
#include "mesh/server.h"
#include "mesh/tls.h"
#include "neosl/echo/v1/echo.grpc.pb.h"
#include "services/echo/echo_service.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): for posix_spawn

namespace {

using namespace neosl;
using Steady = std::chrono::steady_clock;

constexpr char kMethod[] = "/neosl.echo.v1.Echo/Echo";
constexpr char kPolicy[] = R"yaml(
service: "gateway"
allowed_calls:
  - target_service: "echo"
    operations: ["Echo"]
)yaml";
constexpr char kListeningPrefix[] = "LISTENING ";
constexpr double kTarget = 0.7;
constexpr double kSliceSeconds = 0.5;

std::atomic<bool> g_interrupted{false};
void OnSignal(int /*signal*/) {
  g_interrupted = true;
}

using neosl::bench::Percentile;

// A command-line number, or nullopt if the argument is not one.
std::optional<double> ParseNumber(const char* text) {
  char* end = nullptr;
  double value = std::strtod(text, &end);
  if (end == text || *end != '\0') return std::nullopt;
  return value;
}

double Micros(Steady::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

// Sleeps `seconds`, waking early on Ctrl-C.
void Sleep(double seconds) {
  auto until = Steady::now() + std::chrono::duration<double>(seconds);
  while (!g_interrupted && Steady::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

// An echo server: its pipeline, server and service (in this process or in a --serve child).
struct EchoNode {
  std::unique_ptr<mesh::Pipeline> pipeline;
  std::unique_ptr<mesh::MeshServer> server;
  std::unique_ptr<services::EchoService> service;
  std::string address;
};

StatusOr<std::unique_ptr<EchoNode>> StartEcho(const mesh::AuthzPolicy& policy, mesh::ServerOptions options,
                                              const std::string& instance) {
  auto node = std::make_unique<EchoNode>();
  mesh::PipelineOptions po;
  po.policy = &policy;
  po.trust_caller_header = options.insecure;
  node->pipeline = std::make_unique<mesh::Pipeline>(po, SystemClock::Instance(), SecureRandom::Instance());
  node->server = std::make_unique<mesh::MeshServer>(std::move(options), *node->pipeline, instance);
  node->service = std::make_unique<services::EchoService>(*node->pipeline, instance, nullptr);
  node->server->AddService(node->service.get());
  ASSIGN_OR_RETURN(node->address, node->server->Start());
  return node;
}

// The child: `--serve plain` or `--serve mtls <identity dir>`. Prints "LISTENING host:port" and
// serves until its stdin closes (the parent is done or gone) or it is killed.
int Serve(int argc, char** argv) {
  auto policy = mesh::AuthzPolicy::FromYaml(kPolicy);
  if (!policy.ok()) return 2;
  mesh::ServerOptions so;
  so.listen = "127.0.0.1:0";
  const std::string mode = argc > 2 ? argv[2] : "";
  if (mode == "plain") {
    so.insecure = true;
  } else if (mode == "mtls" && argc > 3) {
    auto creds = mesh::ServerTlsCredentials(mesh::IdentityFiles{argv[3], "echo"});
    if (!creds.ok()) {
      std::fprintf(stderr, "mesh_bench --serve: %s\n", creds.status().ToString().c_str());
      return 2;
    }
    so.credentials = *creds;
  } else {
    std::fprintf(stderr, "usage: mesh_bench --serve plain | mesh_bench --serve mtls <identity dir>\n");
    return 2;
  }
  auto node = StartEcho(*policy, so, "echo-" + mode + "-" + std::to_string(getpid()));
  if (!node.ok()) {
    std::fprintf(stderr, "mesh_bench --serve: %s\n", node.status().ToString().c_str());
    return 2;
  }
  std::printf("%s%s\n", kListeningPrefix, (*node)->address.c_str());
  std::fflush(stdout);
  char buf[64];
  while (read(STDIN_FILENO, buf, sizeof buf) > 0) {
  }
  (*node)->server->Shutdown(std::chrono::milliseconds(100));
  return 0;
}

// A --serve child. Destroying it closes its stdin, kills it and reaps it.
class Child {
 public:
  static StatusOr<std::unique_ptr<Child>> Spawn(std::vector<std::string> args) {
    std::unique_ptr<Child> child(new Child());
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0) return UnavailableError("pipe failed");
    if (pipe2(out, O_CLOEXEC) != 0) {
      close(in[0]);
      close(in[1]);
      return UnavailableError("pipe failed");
    }
    child->stdin_ = in[1];
    child->stdout_ = out[0];
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    // The real path, not /proc/self/exe, so that ps and perf name the child after the binary.
    std::error_code ec;
    std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    if (ec) self = "/proc/self/exe";
    args.insert(args.begin(), self);
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&child->pid_, self.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
      child->pid_ = -1;
      return UnavailableError("posix_spawn failed: " + std::generic_category().message(rc));
    }
    return child;
  }

  // Waits for the child's "LISTENING host:port" line.
  StatusOr<std::string> WaitListening(std::chrono::seconds limit) {
    std::string text;
    auto until = Steady::now() + limit;
    while (Steady::now() < until && !g_interrupted) {
      pollfd p{stdout_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[256];
      ssize_t n = read(stdout_, buf, sizeof buf);
      if (n <= 0) return UnavailableError("the server child exited before listening");
      text.append(buf, static_cast<size_t>(n));
      size_t at = text.find(kListeningPrefix);
      size_t eol = at == std::string::npos ? at : text.find('\n', at);
      if (eol != std::string::npos) {
        size_t from = at + std::strlen(kListeningPrefix);
        return text.substr(from, eol - from);
      }
    }
    return DeadlineExceededError("the server child did not report its port");
  }

  ~Child() {
    if (stdin_ >= 0) close(stdin_);
    if (stdout_ >= 0) close(stdout_);
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

 private:
  Child() = default;
  pid_t pid_ = -1;
  int stdin_ = -1, stdout_ = -1;
};

// The run's files (CA, identity directories); removed with everything in them.
class TempDir {
 public:
  TempDir() : path_(std::filesystem::temp_directory_path() / ("neosl-mesh-bench-" + std::to_string(getpid()))) {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    ok_ = std::filesystem::create_directories(path_, ec);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  bool ok() const { return ok_; }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
  bool ok_ = false;
};

// A client of one echo server, as the gateway.
struct Mode {
  std::string label;
  std::string server_pid;  // "" for the in-process server
  std::unique_ptr<mesh::Registry> registry;
  std::unique_ptr<mesh::Registration> registration;
  std::unique_ptr<mesh::MeshClient> client;
};

StatusOr<Mode> MakeMode(std::string label, const mesh::Endpoint& endpoint,
                        std::unique_ptr<mesh::ChannelFactory> channels) {
  Mode m{std::move(label), "", mesh::NewMemoryRegistry(), nullptr, nullptr};
  ASSIGN_OR_RETURN(m.registration, m.registry->Register(endpoint));
  mesh::ClientOptions co;
  co.identity = "gateway";
  m.client = std::make_unique<mesh::MeshClient>(co, *m.registry, std::move(channels), SystemClock::Instance(),
                                                SecureRandom::Instance());
  return m;
}

// One call; false (after printing why, once) if it failed or came back wrong.
bool CallOnce(mesh::MeshClient& client, const echo::v1::EchoRequest& request) {
  echo::v1::EchoResponse response;
  Status s = client.Call("echo", kMethod, request, &response);
  if (s.ok() && response.message() == request.message() && response.caller() == "gateway") return true;
  static std::atomic<bool> reported{false};
  if (!reported.exchange(true)) {
    std::fprintf(stderr, "call failed: %s (caller '%s')\n", s.ToString().c_str(), response.caller().c_str());
  }
  return false;
}

// CPU time (user + system) a process has used, from /proc/<pid>/stat; 0 if unreadable.
double CpuSeconds(const std::string& pid) {
  std::FILE* f = std::fopen(("/proc/" + pid + "/stat").c_str(), "r");
  if (!f) return 0;
  char buf[1024];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // The fields after the parenthesised command name start with the state (field 3); utime and
  // stime are fields 14 and 15, in clock ticks.
  const char* p = std::strrchr(buf, ')');
  if (!p) return 0;
  ++p;
  unsigned long long ticks = 0;
  for (int field = 3; field <= 15; ++field) {
    while (*p == ' ') ++p;
    char* end = nullptr;
    unsigned long long value = field >= 14 ? std::strtoull(p, &end, 10) : 0;
    if (field >= 14) {
      if (end == p) return 0;
      ticks += value;
      p = end;
    } else {
      while (*p != ' ' && *p != '\0') ++p;
    }
  }
  return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// What one mode gave, over any number of measurements.
struct Figures {
  std::vector<double> one_caller_us;  // one caller, call after call
  std::vector<double> loaded_us;      // `threads` callers
  double loaded_seconds = 0;
  double client_cpu = 0, server_cpu = 0;  // seconds, over the loaded calls
  uint64_t errors = 0;

  void Add(const Figures& o) {
    one_caller_us.insert(one_caller_us.end(), o.one_caller_us.begin(), o.one_caller_us.end());
    loaded_us.insert(loaded_us.end(), o.loaded_us.begin(), o.loaded_us.end());
    loaded_seconds += o.loaded_seconds;
    client_cpu += o.client_cpu;
    server_cpu += o.server_cpu;
    errors += o.errors;
  }
  double CallsPerSecond() const {
    return loaded_seconds > 0 ? static_cast<double>(loaded_us.size()) / loaded_seconds : 0;
  }
  // CPU time per loaded call, µs: this process (client, and the server when in-process) and the child.
  double ClientCpuUs() const {
    return loaded_us.empty() ? 0 : client_cpu * 1e6 / static_cast<double>(loaded_us.size());
  }
  double ServerCpuUs() const {
    return loaded_us.empty() ? 0 : server_cpu * 1e6 / static_cast<double>(loaded_us.size());
  }
};

// `threads` callers for `seconds` (the warm-up when `out` is null).
void Loaded(mesh::MeshClient& client, int threads, double seconds, const std::string& server_pid, Figures* out) {
  echo::v1::EchoRequest request;
  request.set_message(std::string(32, 'm'));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> errors{0};
  std::vector<std::vector<double>> samples(static_cast<size_t>(threads));
  std::vector<std::thread> workers;
  workers.reserve(samples.size());
  const double client_cpu = CpuSeconds("self");
  const double server_cpu = server_pid.empty() ? 0 : CpuSeconds(server_pid);
  const auto start = Steady::now();
  for (auto& mine : samples) {
    workers.emplace_back([&] {
      mine.reserve(1 << 14);
      while (!stop.load(std::memory_order_relaxed)) {
        auto t0 = Steady::now();
        if (!CallOnce(client, request)) errors.fetch_add(1);
        mine.push_back(Micros(Steady::now() - t0));
      }
    });
  }
  Sleep(seconds);
  stop = true;
  for (auto& w : workers) w.join();
  if (!out) return;
  out->loaded_seconds += std::chrono::duration<double>(Steady::now() - start).count();
  out->client_cpu += CpuSeconds("self") - client_cpu;
  out->server_cpu += server_pid.empty() ? 0 : CpuSeconds(server_pid) - server_cpu;
  for (auto& mine : samples) out->loaded_us.insert(out->loaded_us.end(), mine.begin(), mine.end());
  out->errors += errors.load();
}

void OneCaller(mesh::MeshClient& client, double seconds, Figures* out) {
  echo::v1::EchoRequest request;
  request.set_message(std::string(32, 'm'));
  auto until = Steady::now() + std::chrono::duration<double>(seconds);
  while (Steady::now() < until && !g_interrupted) {
    auto t0 = Steady::now();
    if (!CallOnce(client, request)) ++out->errors;
    out->one_caller_us.push_back(Micros(Steady::now() - t0));
  }
}

std::string Json(const Figures& f) {
  char buf[400];
  std::snprintf(buf, sizeof buf,
                "{\"p50_us\":%.1f,\"p99_us\":%.1f,\"latency_calls\":%zu,\"calls_per_s\":%.0f,"
                "\"loaded_p50_us\":%.1f,\"loaded_p99_us\":%.1f,\"client_cpu_us_per_call\":%.1f,"
                "\"server_cpu_us_per_call\":%.1f,\"errors\":%llu}",
                Percentile(f.one_caller_us, 0.5), Percentile(f.one_caller_us, 0.99), f.one_caller_us.size(),
                f.CallsPerSecond(), Percentile(f.loaded_us, 0.5), Percentile(f.loaded_us, 0.99), f.ClientCpuUs(),
                f.ServerCpuUs(), static_cast<unsigned long long>(f.errors));
  return buf;
}

void PrintRow(const std::string& round, const std::string& mode, const Figures& f) {
  std::printf("%-5s %-10s | %7.1f %7.1f %7zu | %8.0f %9.1f %9.1f | %6.1f %5.1f %6.1f | %llu\n", round.c_str(),
              mode.c_str(), Percentile(f.one_caller_us, 0.5), Percentile(f.one_caller_us, 0.99), f.one_caller_us.size(),
              f.CallsPerSecond(), Percentile(f.loaded_us, 0.5), Percentile(f.loaded_us, 0.99), f.ClientCpuUs(),
              f.ServerCpuUs(), f.ClientCpuUs() + f.ServerCpuUs(), static_cast<unsigned long long>(f.errors));
  std::fflush(stdout);
}

int Run(double seconds, int threads, int rounds) {
  auto policy = mesh::AuthzPolicy::FromYaml(kPolicy);
  if (!policy.ok()) {
    std::fprintf(stderr, "policy: %s\n", policy.status().ToString().c_str());
    return 1;
  }
  TempDir dir;
  if (!dir.ok()) {
    std::fprintf(stderr, "cannot create a temporary directory\n");
    return 1;
  }
  // The run's CA: "echo" for the mTLS server, "gateway" for the client.
  auto ca = mesh::CertificateAuthority::Init(dir.File("ca"), {}, SystemClock::Instance());
  if (!ca.ok()) {
    std::fprintf(stderr, "CA: %s\n", ca.status().ToString().c_str());
    return 1;
  }
  for (const char* identity : {"echo", "gateway"}) {
    auto cert = (*ca)->Issue(identity, std::chrono::hours(24));
    Status s = cert.ok() ? mesh::WriteIdentityFiles(mesh::IdentityFiles{dir.File(identity), identity}, *cert,
                                                    (*ca)->ca_cert_pem(), (*ca)->crl_pem())
                         : cert.status();
    if (!s.ok()) {
      std::fprintf(stderr, "identity %s: %s\n", identity, s.ToString().c_str());
      return 1;
    }
  }

  // The servers: two children, then the in-process one.
  auto plain_child = Child::Spawn({"--serve", "plain"});
  auto mtls_child = Child::Spawn({"--serve", "mtls", dir.File("echo")});
  if (!plain_child.ok() || !mtls_child.ok()) {
    std::fprintf(stderr, "cannot start the server children\n");
    return 1;
  }
  auto plain_addr = (*plain_child)->WaitListening(std::chrono::seconds(20));
  auto mtls_addr = (*mtls_child)->WaitListening(std::chrono::seconds(20));
  if (!plain_addr.ok() || !mtls_addr.ok()) {
    std::fprintf(stderr, "server child: %s\n",
                 (plain_addr.ok() ? mtls_addr.status() : plain_addr.status()).ToString().c_str());
    return 1;
  }
  mesh::ServerOptions inproc_options;  // no `listen`: in-process only
  auto inproc = StartEcho(*policy, inproc_options, "echo-inproc");
  if (!inproc.ok()) {
    std::fprintf(stderr, "in-process server: %s\n", inproc.status().ToString().c_str());
    return 1;
  }

  std::vector<Mode> modes;
  auto add = [&](StatusOr<Mode> m) {
    if (!m.ok()) {
      std::fprintf(stderr, "client: %s\n", m.status().ToString().c_str());
      return false;
    }
    modes.push_back(std::move(*m));
    return true;
  };
  if (!add(MakeMode("in-process", {"echo", "echo-inproc", "inproc", "bench", true, {}},
                    mesh::InProcessChannels(*(*inproc)->server, "gateway"))) ||
      !add(MakeMode("plaintext", {"echo", "echo-plain", *plain_addr, "bench", true, {}}, mesh::InsecureChannels())) ||
      !add(MakeMode("mTLS", {"echo", "echo-mtls", *mtls_addr, "bench", true, {}},
                    mesh::TlsChannels(mesh::IdentityFiles{dir.File("gateway"), "gateway"})))) {
    return 1;
  }
  modes[1].server_pid = std::to_string((*plain_child)->pid());
  modes[2].server_pid = std::to_string((*mtls_child)->pid());

  std::printf(
      "mesh bench: MeshClient::Call of %s, 32-byte message, %d threads, %.1f s per mode and round "
      "(one caller) + %.1f s (loaded, in %.2f s slices taking the modes in turn), %d round(s)\n",
      kMethod, threads, seconds, seconds, kSliceSeconds, rounds);
  std::printf("servers: in-process; plaintext child %s; mTLS child %s (TLS 1.3, P-256)\n", plain_addr->c_str(),
              mtls_addr->c_str());
  std::printf("CPU: %u cores shared by the client and the servers (child servers idle when not measured)\n\n",
              std::thread::hardware_concurrency());
  for (Mode& m : modes) Loaded(*m.client, threads, std::min(1.0, seconds / 2), m.server_pid, nullptr);  // warm-up
  std::printf("%-5s %-10s | %-23s | %-28s | %-19s | %s\n", "", "", "1 caller", "load", "CPU us per call", "");
  std::printf("%-5s %-10s | %7s %7s %7s | %8s %9s %9s | %6s %5s %6s | %s\n", "round", "mode", "p50 us", "p99 us",
              "calls", "calls/s", "p50 us", "p99 us", "client", "serv", "total", "errors");

  // Loaded runs are cut into short slices taking the modes in turn, so that whatever else the
  // machine does (a build next door) weighs on every mode alike and the ratio stays fair.
  const int slices = std::max(1, static_cast<int>(std::lround(seconds / kSliceSeconds)));
  std::vector<Figures> total(modes.size());
  std::vector<double> round_ratios;
  for (int round = 1; round <= rounds && !g_interrupted; ++round) {
    std::vector<Figures> figures(modes.size());
    for (size_t i = 0; i < modes.size(); ++i) OneCaller(*modes[i].client, seconds, &figures[i]);
    for (int slice = 0; slice < slices && !g_interrupted; ++slice) {
      for (size_t k = 0; k < modes.size(); ++k) {
        const size_t i = (k + static_cast<size_t>(slice)) % modes.size();
        Loaded(*modes[i].client, threads, kSliceSeconds, modes[i].server_pid, &figures[i]);
      }
    }
    if (g_interrupted) break;
    for (size_t i = 0; i < modes.size(); ++i) {
      PrintRow(std::to_string(round), modes[i].label, figures[i]);
      total[i].Add(figures[i]);
    }
    round_ratios.push_back(figures[2].CallsPerSecond() / std::max(1.0, figures[1].CallsPerSecond()));
  }
  if (g_interrupted) {
    std::fprintf(stderr, "interrupted\n");
    return 130;
  }
  for (size_t i = 0; i < modes.size(); ++i) PrintRow("all", modes[i].label, total[i]);

  const Figures& plain = total[1];
  const Figures& mtls = total[2];
  const double ratio = mtls.CallsPerSecond() / std::max(1.0, plain.CallsPerSecond());
  const double plain_cpu = plain.ClientCpuUs() + plain.ServerCpuUs();
  const double cpu_ratio = plain_cpu > 0 ? (mtls.ClientCpuUs() + mtls.ServerCpuUs()) / plain_cpu : 0;
  const auto [lo, hi] = std::minmax_element(round_ratios.begin(), round_ratios.end());
  const bool met = ratio >= kTarget;
  std::printf("\nall rounds (in-process: client and server are one process, its CPU shown as client):\n");
  for (size_t i = 0; i < modes.size(); ++i) {
    std::printf("  %-10s %8.0f calls/s (%.2f x plaintext), %.1f us CPU per call\n", modes[i].label.c_str(),
                total[i].CallsPerSecond(), total[i].CallsPerSecond() / std::max(1.0, plain.CallsPerSecond()),
                total[i].ClientCpuUs() + total[i].ServerCpuUs());
  }
  std::printf("mTLS / plaintext CPU per call: %.2f\n", cpu_ratio);
  std::printf("mTLS / plaintext throughput: %.2f (rounds %.2f to %.2f; target >= %.1f): %s\n", ratio, *lo, *hi, kTarget,
              met ? "TARGET MET" : "TARGET NOT MET");
  std::printf(
      "{\"in_process\":%s,\"plaintext\":%s,\"mtls\":%s,\"mtls_vs_plaintext\":%.3f,\"mtls_vs_plaintext_cpu\":%.3f,"
      "\"target\":%.1f,\"met\":%s,\"threads\":%d,\"seconds\":%.1f,\"rounds\":%d,\"cores\":%u}\n",
      Json(total[0]).c_str(), Json(plain).c_str(), Json(mtls).c_str(), ratio, cpu_ratio, kTarget,
      met ? "true" : "false", threads, seconds, rounds, std::thread::hardware_concurrency());
  uint64_t errors = 0;
  for (const Figures& f : total) errors += f.errors;

  // Clients before the in-process server they call into; children and files go with their owners.
  modes.clear();
  (*inproc)->server->Shutdown(std::chrono::milliseconds(100));
  if (errors > 0) {
    std::fprintf(stderr, "%llu calls failed\n", static_cast<unsigned long long>(errors));
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  mesh::ConfigureTls13Only();  // before any gRPC object, in the children too
  if (argc > 1 && std::strcmp(argv[1], "--serve") == 0) return Serve(argc, argv);
  const std::optional<double> seconds = argc > 1 ? ParseNumber(argv[1]) : 3.0;
  const std::optional<double> threads = argc > 2 ? ParseNumber(argv[2]) : 16;
  const std::optional<double> rounds = argc > 3 ? ParseNumber(argv[3]) : 2;
  if (argc > 4 || !seconds || *seconds <= 0 || !threads || *threads < 1 || *threads > 1024 || !rounds || *rounds < 1 ||
      *rounds > 100) {
    std::fprintf(stderr, "usage: mesh_bench [seconds per run = 3] [threads = 16] [rounds = 2]\n");
    return 2;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  return Run(*seconds, static_cast<int>(*threads), static_cast<int>(*rounds));
}
