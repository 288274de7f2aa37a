#include "apps/neosl/fn_simulate.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "apps/neosl/chain_reads.h"
#include "apps/neosl/enclave_host.h"
#include "core/encoding.h"
#include "core/ids.h"
#include "core/log.h"
#include "crypto/hash.h"
#include "runtime/worker_pool.h"
#include "tee/host.h"
#include "tee/socket_relay.h"

namespace neosl::app {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

struct SimulateFlags {
  std::string file, args, args_file, allow_private, rpc_url;
  std::string ca_file = "/etc/ssl/certs/ca-certificates.crt";
  std::vector<std::string> secrets;  // NAME=VALUE
  int64_t timeout_ms = runtime::kDefaultTimeout.count();
  int64_t memory_mb = int64_t(runtime::kDefaultMemoryBytes >> 20);
  bool jit = true;
};

int Fail(const Status& s) {
  std::fprintf(stderr, "neosl fn simulate: %s\n", s.ToString().c_str());
  return 2;
}

StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A directory removed with everything in it when the simulation ends.
struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "neosl-simulate-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

int Simulate(const SimulateFlags& f) {
  // Stdout carries the execution; the runtime's own lines (warnings only) go to stderr.
  (void)log::Init({.level = log::Level::kWarn, .json = true});
  auto source = ReadFile(f.file);
  if (!source.ok()) return Fail(source.status());
  std::string args = f.args.empty() ? "null" : f.args;
  if (!f.args_file.empty()) {
    auto text = ReadFile(f.args_file);
    if (!text.ok()) return Fail(text.status());
    args = *text;
  }
  boost::system::error_code ec;
  (void)json::parse(args, ec);
  if (ec) return Fail(InvalidArgumentError("--args is not JSON: " + ec.message()));

  runtime::Invocation inv;
  inv.account = "acc_simu1atedacc0unt000";
  inv.function_id = "fn_simu1atedfuncti0n00";
  inv.version = 1;
  inv.execution_id = ExecutionId::Generate(SecureRandom::Instance()).str();
  inv.source = *source;
  auto digest = crypto::Sha256({reinterpret_cast<const uint8_t*>(source->data()), source->size()});
  std::copy(digest.begin(), digest.end(), inv.source_hash.begin());
  inv.args_json = args;
  inv.limits.timeout = milliseconds(f.timeout_ms);
  inv.limits.memory_bytes = size_t(f.memory_mb) << 20;
  if (Status s = runtime::ValidateLimits(inv.limits); !s.ok()) return Fail(s);

  // A throwaway enclave (simulated TEE) for the keys and the secrets, then one worker.
  TempDir dir;
  if (dir.path.empty()) return Fail(UnavailableError("cannot make a temporary directory"));
  std::filesystem::create_directories(dir.path + "/sealed");
  auto self = SelfPath();
  if (!self.ok()) return Fail(self.status());
  std::vector<std::string> enclave_args = {"enclave",
                                           "--sealed-dir",
                                           dir.path + "/sealed",
                                           "--platform-secret",
                                           dir.path + "/platform.secret",
                                           "--seal-policy",
                                           "measurement",
                                           "--ca-file",
                                           f.ca_file};
  tee::EnclaveHostOptions eo;
  eo.binary = *self;
  eo.args = enclave_args;
  auto enclave = tee::EnclaveHost::Start(eo);
  if (!enclave.ok()) return Fail(enclave.status());
  if (!(*enclave)->WaitReady(milliseconds(30'000))) return Fail(UnavailableError("the enclave did not start"));
  for (const auto& pair : f.secrets) {
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) return Fail(InvalidArgumentError("--secret takes NAME=VALUE"));
    tee::v1::EcallRequest req;
    auto* seal = req.mutable_secret_seal();
    seal->set_account(inv.account);
    seal->set_name(pair.substr(0, eq));
    seal->set_version(1);
    seal->set_plaintext(pair.substr(eq + 1));
    auto sealed = (*enclave)->Call(req, milliseconds(10'000));
    if (!sealed.ok()) return Fail(sealed.status().Annotate("--secret " + pair.substr(0, eq)));
    const std::string& c = sealed->secret_ciphertext();
    inv.secrets.push_back({pair.substr(0, eq), 1, std::vector<uint8_t>(c.begin(), c.end())});
  }

  auto allow = tee::ParseAllowList(f.allow_private);
  if (!allow.ok()) return Fail(allow.status().Annotate("--allow-private"));
  auto relay = tee::SocketRelay::Create({.allow_private = *std::move(allow)});
  if (!relay.ok()) return Fail(relay.status());
  auto chain =
      std::make_shared<ChainForFunctions>(f.rpc_url, nullptr, SystemClock::Instance(), SecureRandom::Instance());
  runtime::WorkerPoolOptions po;
  po.binary = *self;
  po.enclave_args = enclave_args;
  po.workers = 1;
  po.jit = f.jit;
  po.relay = *std::move(relay);
  po.neo_read = [chain](const std::string& c, const std::string& m, const std::string& a) {
    return chain->InvokeRead(c, m, a);
  };
  auto pool = runtime::WorkerPool::Start(std::move(po));
  if (!pool.ok()) return Fail(pool.status());
  auto outcome = (*pool)->Run(inv);
  tee::v1::EcallRequest keys;
  keys.mutable_get_public_keys();
  auto public_keys = (*enclave)->Call(keys, milliseconds(10'000));
  pool->reset();
  (*enclave)->Stop();
  if (!outcome.ok()) return Fail(outcome.status());

  const runtime::Outcome& out = *outcome;
  json::object o;
  o["simulated"] = true;
  o["status"] = out.status.ok() ? "succeeded" : "failed";
  if (out.status.ok()) {
    o["result"] = json::parse(out.result_json, ec);
  } else {
    json::object error{{"code", StatusCodeName(out.status.code())}, {"message", out.status.message()}};
    if (out.error.line > 0) {
      error["line"] = out.error.line;
      error["column"] = out.error.column;
    }
    if (!out.error.stack.empty()) error["stack"] = out.error.stack;
    o["error"] = std::move(error);
  }
  json::array logs;
  for (const auto& l : out.logs) logs.push_back(json::object{{"level", l.level}, {"message", l.message}});
  o["logs"] = std::move(logs);
  o["logs_truncated"] = out.logs_truncated;
  o["duration_us"] = int64_t(out.duration.count());
  o["source_hash"] = HexEncode(inv.source_hash);
  o["args_hash"] = HexEncode(out.args_hash);
  o["result_hash"] = HexEncode(out.result_hash);
  o["enclave_signature"] = HexEncode(out.signature);
  if (public_keys.ok()) {
    const std::string& report = public_keys->public_keys().report();
    o["signing_key"] = HexEncode({reinterpret_cast<const uint8_t*>(report.data()), report.size()});
  }
  std::printf("%s\n", json::serialize(o).c_str());
  return out.status.ok() ? 0 : 1;
}

}  // namespace

std::function<int()> AddFnSimulate(CLI::App& app) {
  auto f = std::make_shared<SimulateFlags>();
  CLI::App* fn = app.get_subcommand("fn");
  auto* cmd = fn->add_subcommand(
      "simulate", "Run a function file locally with the same sandboxed runtime and limits as the service");
  cmd->add_option("file", f->file, "the function's ES module (.js)")->required();
  cmd->add_option("--args", f->args, "the invocation's args, as JSON (default null)");
  cmd->add_option("--args-file", f->args_file, "read the args JSON from this file");
  cmd->add_option("--secret", f->secrets, "a secret the function may read, NAME=VALUE (repeatable)");
  cmd->add_option("--timeout-ms", f->timeout_ms, "time limit (default 10000, at most 30000)");
  cmd->add_option("--memory-mb", f->memory_mb, "memory limit (default 128, 16 to 512)");
  cmd->add_option("--allow-private", f->allow_private,
                  "comma-separated CIDRs fetch() may reach although private (e.g. 127.0.0.1/32)");
  cmd->add_option("--rpc-url", f->rpc_url, "a Neo N3 JSON-RPC URL for context.neo.invokeRead");
  cmd->add_option("--ca-file", f->ca_file, "trust anchors for fetch() over https");
  cmd->add_flag("--jit,!--no-jit", f->jit, "use SpiderMonkey's JIT (default on)");
  return [cmd, f] { return cmd->parsed() ? Simulate(*f) : -1; };
}

}  // namespace neosl::app
