#include "apps/neosl/gasbank_cli.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include <boost/json.hpp>

#include "apps/neosl/cli_store.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/status.h"
#include "neo/rpc_client.h"
#include "services/gasbank/bank_audit.h"

namespace neosl::app {
namespace {

namespace json = boost::json;

struct GasbankAuditFlags {
  std::string data_dir = "./data";
  std::optional<std::string> config_file;
  std::string db_path;
  std::string rpc;
  bool no_chain = false;
};

int Fail(const Status& s) {
  std::fprintf(stderr, "neosl gasbank audit: %.*s\n", int(s.message().size()), s.message().data());
  return 2;
}

// The node to reconcile with: --rpc, else the embedded devchain of the data directory (its
// listen.addr, written while `neosl serve` runs it).
StatusOr<std::string> NodeUrl(const GasbankAuditFlags& f) {
  if (!f.rpc.empty()) return f.rpc;
  const std::string addr_file = f.data_dir + "/devchain/listen.addr";
  std::ifstream in(addr_file);
  std::string addr;
  if (!in || !std::getline(in, addr) || addr.empty()) {
    return FailedPreconditionError("no node to reconcile with: give --rpc URL (or --no-chain); " + addr_file +
                                   " is not there (is `neosl serve` running its devchain?)");
  }
  return "http://" + addr;
}

int Audit(const GasbankAuditFlags& f) {
  auto config = LoadCliConfig(f.config_file, f.data_dir);
  if (!config.ok()) return Fail(config.status());
  auto store = OpenExistingStore(*config, f.db_path);
  if (!store.ok()) return Fail(store.status());

  std::unique_ptr<neo::HttpRpcClient> rpc;
  if (!f.no_chain) {
    auto url = NodeUrl(f);
    if (!url.ok()) return Fail(url.status());
    neo::HttpRpcClientOptions rpc_options;
    rpc_options.url = *url;
    rpc_options.max_attempts = 2;
    auto made = neo::HttpRpcClient::Create(rpc_options, SystemClock::Instance(), SecureRandom::Instance());
    if (!made.ok()) return Fail(made.status().Annotate("--rpc"));
    rpc = std::move(*made);
  }
  auto report = gasbank::AuditBank(**store, rpc.get());
  if (!report.ok()) return Fail(report.status());

  json::array problems;
  for (const std::string& p : report->problems) {
    problems.emplace_back(p);
    std::fprintf(stderr, "neosl gasbank audit: %s\n", p.c_str());
  }
  json::object out{{"ok", report->ok}, {"problems", std::move(problems)}, {"figures", report->figures}};
  std::printf("%s\n", json::serialize(out).c_str());
  return report->ok ? 0 : 1;
}

}  // namespace

std::function<int()> AddGasbankCommands(CLI::App& app) {
  auto f = std::make_shared<GasbankAuditFlags>();
  auto* gasbank = app.add_subcommand("gasbank", "The gas bank: prepaid GAS for every service");
  gasbank->require_subcommand(1);
  auto* audit = gasbank->add_subcommand(
      "audit",
      "Check every invariant of the ledger, deposits and withdrawals, and reconcile custody with the chain; exit 0 "
      "only when all hold");
  auto* data = audit->add_option("--data", f->data_dir, "the data directory (default ./data)");
  auto* config = audit->add_option("--config", f->config_file,
                                   "the configuration `neosl serve` runs with, for its store (env NEOSL_CONFIG)");
  auto* db = audit->add_option(
      "--db", f->db_path, "a SQLite database instead of the configured store (default DIR/neosl.db); never migrated");
  data->excludes(db);
  config->excludes(db);
  auto* rpc = audit->add_option(
      "--rpc", f->rpc, "the node's JSON-RPC to reconcile with (default: the devchain of --data, while it runs)");
  auto* no_chain = audit->add_flag("--no-chain", f->no_chain, "check the store only");
  rpc->excludes(no_chain);
  return [=]() -> int {
    if (audit->parsed()) return Audit(*f);
    return -1;
  };
}

}  // namespace neosl::app
