#include "apps/neosl/devchain_cli.h"

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <pthread.h>

#include <boost/json.hpp>

#include "apps/neosl/serve.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/random.h"
#include "devchain/native.h"
#include "neo/account.h"
#include "neo/rpc_client.h"
#include "neo/script_builder.h"
#include "neo/tx_sender.h"

namespace neosl::app {
namespace {

namespace json = boost::json;

constexpr std::string_view kWarning =
    "development wallets: their keys are public (derived from a fixed seed); never use them on a real network";

int Fail(std::string_view command, const Status& s) {
  std::fprintf(stderr, "neosl %.*s: %s\n", int(command.size()), command.data(), s.ToString().c_str());
  return 1;
}

json::array WalletsJson(const std::vector<devchain::DevWallet>& wallets, int64_t gas, int64_t neo_amount) {
  json::array out;
  for (const auto& w : wallets) {
    json::object o;
    o["address"] = w.address;
    o["script_hash"] = w.script_hash.ToString();
    o["public_key"] = neo::PublicKeyToHex(w.key.public_key());
    o["wif"] = w.wif;
    if (gas >= 0) o["gas"] = std::to_string(gas / devchain::kGasFactor);
    if (neo_amount >= 0) o["neo"] = std::to_string(neo_amount);
    out.push_back(std::move(o));
  }
  return out;
}

// "12", "12.5", "0.00000001" in units of 10^-decimals; INVALID_ARGUMENT otherwise.
StatusOr<int64_t> ParseAmount(std::string_view text, int decimals) {
  if (text.empty()) return InvalidArgumentError("the amount is empty");
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() || (dot != std::string_view::npos && frac.empty())) {
    return InvalidArgumentError("amount '" + std::string(text) + "' is not a decimal number");
  }
  if (static_cast<int>(frac.size()) > decimals) {
    return InvalidArgumentError("amount '" + std::string(text) + "' has more than " + std::to_string(decimals) +
                                " decimal places");
  }
  int64_t v = 0;
  auto add_digits = [&](std::string_view digits) -> Status {
    for (char ch : digits) {
      if (ch < '0' || ch > '9') return InvalidArgumentError("amount '" + std::string(text) + "' is not a number");
      if (v > (INT64_MAX - 9) / 10) return OutOfRangeError("amount '" + std::string(text) + "' is too large");
      v = v * 10 + (ch - '0');
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(add_digits(whole));
  RETURN_IF_ERROR(add_digits(frac));
  for (int i = static_cast<int>(frac.size()); i < decimals; ++i) {
    if (v > INT64_MAX / 10) return OutOfRangeError("amount '" + std::string(text) + "' is too large");
    v *= 10;
  }
  if (v <= 0) return InvalidArgumentError("the amount must be positive");
  return v;
}

StatusOr<std::pair<std::string, uint16_t>> SplitHostPort(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return InvalidArgumentError("listen address '" + listen + "' is not HOST:PORT");
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
    port = -1;
  }
  if (port < 0 || port > 65535) return InvalidArgumentError("listen address '" + listen + "' has a bad port");
  return std::make_pair(listen.substr(0, colon), static_cast<uint16_t>(port));
}

struct RunFlags {
  std::string host = "127.0.0.1";
  uint16_t port = 20332;
  int64_t block_ms = 1000;
  std::string data_dir = "./data/devchain";
  bool reset = false;
  uint32_t wallets = 10;
};

StatusOr<std::unique_ptr<EmbeddedChain>> StartChain(const RunFlags& f) {
  devchain::ChainOptions options;
  options.data_dir = f.data_dir;
  options.reset = f.reset;
  options.block_time = std::chrono::milliseconds(f.block_ms);
  options.dev_wallets = f.wallets;
  auto out = std::make_unique<EmbeddedChain>();
  ASSIGN_OR_RETURN(out->chain, devchain::Chain::Open(options));
  devchain::RpcServerOptions rpc_options;
  rpc_options.host = f.host;
  rpc_options.port = f.port;
  ASSIGN_OR_RETURN(out->rpc, devchain::RpcServer::Start(rpc_options, *out->chain));
  out->chain->Start();
  const std::string addr = f.host + ":" + std::to_string(out->rpc->port());
  out->rpc_url = "http://" + addr;
  RETURN_IF_ERROR(WriteFileAtomic(f.data_dir + "/listen.addr", addr + "\n", 0644));
  return out;
}

int RunDevchain(const RunFlags& flags) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  if (flags.block_ms < 0) return Fail("devchain", InvalidArgumentError("--block-ms cannot be negative"));

  auto started = StartChain(flags);
  if (!started.ok()) return Fail("devchain", started.status());
  EmbeddedChain& c = **started;
  const std::string host_port = c.rpc_url.substr(7);
  json::object banner;
  banner["devchain"] = "neosl development network (not a Neo node)";
  banner["rpc"] = c.rpc_url;
  banner["ws"] = "ws://" + host_port + "/ws";
  banner["network"] = c.chain->network();
  banner["height"] = c.chain->height();
  banner["block_ms"] = flags.block_ms;
  banner["data_dir"] = flags.data_dir;
  banner["warning"] = kWarning;
  // The funding at genesis; after that the wallets hold whatever they were left with.
  banner["wallets"] = WalletsJson(c.chain->dev_wallets(), -1, -1);
  std::printf("%s\n", json::serialize(banner).c_str());
  std::fflush(stdout);
  log::Info("devchain listening", {{"rpc", c.rpc_url}, {"height", c.chain->height()}, {"block_ms", flags.block_ms}});

  int sig = 0;
  sigwait(&stop_signals, &sig);
  log::Info("devchain stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  c.Stop();
  std::error_code ec;
  std::filesystem::remove(flags.data_dir + "/listen.addr", ec);
  log::Flush();
  return 0;
}

struct FundFlags {
  std::string address;
  std::string amount;
  std::string rpc = "http://127.0.0.1:20332";
  std::string token = "GAS";
  bool no_wait = false;
};

int RunFund(const FundFlags& f) {
  auto to = neo::AddressToScriptHash(f.address);
  if (!to.ok()) {
    auto hash = neo::UInt160::Parse(f.address);
    if (!hash.ok()) {
      return Fail("devchain fund",
                  InvalidArgumentError("'" + f.address + "' is neither an N3 address nor a script hash"));
    }
    to = *hash;
  }
  const bool is_neo = f.token == "NEO" || f.token == "neo";
  if (!is_neo && f.token != "GAS" && f.token != "gas") {
    return Fail("devchain fund", InvalidArgumentError("--token must be GAS or NEO"));
  }
  auto amount = ParseAmount(f.amount, is_neo ? 0 : 8);
  if (!amount.ok()) return Fail("devchain fund", amount.status());

  Clock& clock = SystemClock::Instance();
  RandomSource& random = SecureRandom::Instance();
  neo::HttpRpcClientOptions rpc_options;
  rpc_options.url = f.rpc;
  rpc_options.max_attempts = 2;
  auto rpc = neo::HttpRpcClient::Create(rpc_options, clock, random);
  if (!rpc.ok()) return Fail("devchain fund", rpc.status());
  devchain::DevWallet faucet = devchain::DevWalletAt(0);
  neo::KeyTransactionSigner signer(std::move(faucet.key));
  neo::TransactionSender sender(**rpc, signer, random);

  const neo::UInt160& token = is_neo ? devchain::NativeRegistry::NeoHash() : devchain::NativeRegistry::GasHash();
  neo::ScriptBuilder sb;
  if (Status s = sb.Nep17Transfer(token, faucet.script_hash, *to, neo::ContractParam::Int(*amount)); !s.ok()) {
    return Fail("devchain fund", s);
  }
  sb.Emit(neo::OpCode::ASSERT);
  auto tx = sender.Build(sb.data());
  if (!tx.ok())
    return Fail("devchain fund", tx.status().Annotate("building the transfer (is a devchain at " + f.rpc + "?)"));
  auto hash = sender.Send(*tx);
  if (!hash.ok()) return Fail("devchain fund", hash.status());
  json::object out;
  out["txid"] = hash->ToString();
  out["from"] = faucet.address;
  out["to"] = neo::ToAddress(*to);
  out["token"] = is_neo ? "NEO" : "GAS";
  out["amount"] = f.amount;
  if (!f.no_wait) {
    auto outcome = sender.WaitForInclusion(*tx, std::chrono::milliseconds(200));
    if (!outcome.ok()) return Fail("devchain fund", outcome.status());
    if (outcome->state != neo::VmState::kHalt) {
      return Fail("devchain fund", AbortedError("the transfer FAULTed: " + outcome->exception.value_or("?")));
    }
    out["blockhash"] = outcome->block_hash.ToString();
  }
  std::printf("%s\n", json::serialize(out).c_str());
  return 0;
}

}  // namespace

void EmbeddedChain::Stop() {
  if (chain) chain->Stop();
  if (rpc) rpc->Stop();
}

StatusOr<std::unique_ptr<EmbeddedChain>> StartEmbeddedChain(const Config& config, const std::string& data_dir) {
  RunFlags f;
  ASSIGN_OR_RETURN(auto host_port, SplitHostPort(config.String("chain.devchain.listen")));
  f.host = host_port.first;
  f.port = host_port.second;
  f.block_ms = config.Int("chain.devchain.block_ms");
  if (f.block_ms < 0) return InvalidArgumentError("chain.devchain.block_ms cannot be negative");
  f.data_dir = config.String("chain.devchain.data_dir").empty() ? data_dir + "/devchain"
                                                                : config.String("chain.devchain.data_dir");
  int64_t wallets = config.Int("chain.devchain.wallets");
  if (wallets < 0 || wallets > 1000) return InvalidArgumentError("chain.devchain.wallets must be 0…1000");
  f.wallets = static_cast<uint32_t>(wallets);
  return StartChain(f);
}

std::function<int()> AddDevchainCommands(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "devchain", "Run the embedded Neo N3 development network (not a Neo node): JSON-RPC and /ws, funded wallets");
  auto run = std::make_shared<RunFlags>();
  cmd->add_option("--host", run->host, "address to listen on (default 127.0.0.1)");
  cmd->add_option("--port", run->port,
                  "JSON-RPC and /ws port; 0 picks one, written to DIR/listen.addr (default 20332)");
  cmd->add_option("--block-ms", run->block_ms,
                  "block interval in ms; 0 mines when a transaction arrives (default 1000)");
  cmd->add_option("--data", run->data_dir, "data directory (default ./data/devchain)");
  cmd->add_flag("--reset", run->reset, "delete the chain in --data and start from a new genesis");
  cmd->add_option("--wallets", run->wallets, "funded development wallets at genesis (default 10)")
      ->check(CLI::Range(0, 1000));

  auto* wallets_cmd = cmd->add_subcommand("wallets", "Print the development wallets (their keys are public)");
  auto wallet_count = std::make_shared<uint32_t>(10);
  wallets_cmd->add_option("--count", *wallet_count, "how many (default 10)")->check(CLI::Range(0, 1000));

  auto* fund_cmd =
      cmd->add_subcommand("fund", "Send GAS (or NEO) from the faucet (development wallet 0) to an address");
  auto fund = std::make_shared<FundFlags>();
  fund_cmd->add_option("address", fund->address, "N3 address or 0x script hash")->required();
  fund_cmd->add_option("amount", fund->amount, "amount in whole tokens, e.g. 100 or 0.5")->required();
  fund_cmd->add_option("--rpc", fund->rpc, "the devchain's JSON-RPC (default http://127.0.0.1:20332)");
  fund_cmd->add_option("--token", fund->token, "GAS (default) or NEO");
  fund_cmd->add_flag("--no-wait", fund->no_wait, "return once sent, without waiting for the block");

  return [cmd, wallets_cmd, fund_cmd, run, wallet_count, fund]() -> int {
    if (wallets_cmd->parsed()) {
      std::vector<devchain::DevWallet> wallets;
      for (uint32_t i = 0; i < *wallet_count; ++i) wallets.push_back(devchain::DevWalletAt(i));
      json::object out;
      out["warning"] = kWarning;
      out["wallets"] =
          WalletsJson(wallets, devchain::ChainOptions{}.dev_wallet_gas, devchain::ChainOptions{}.dev_wallet_neo);
      std::printf("%s\n", json::serialize(out).c_str());
      return 0;
    }
    if (fund_cmd->parsed()) return RunFund(*fund);
    if (cmd->parsed()) return RunDevchain(*run);
    return -1;
  };
}

}  // namespace neosl::app
