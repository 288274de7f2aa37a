// `neosl devchain …`: run the embedded N3 development network on its own, list its development
// wallets, and fund an address from its faucet. Also the embedded chain `neosl serve` starts
// when chain.mode is devchain.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "core/config.h"
#include "core/status.h"
#include "devchain/chain.h"
#include "devchain/rpc_server.h"

namespace neosl::app {

// Adds the `devchain` subcommand tree; returns a function that runs whichever leaf was parsed
// (or returns -1 if none was).
std::function<int()> AddDevchainCommands(CLI::App& app);

// The chain `neosl serve` embeds: the devchain and its RPC server, running.
struct EmbeddedChain {
  std::unique_ptr<devchain::Chain> chain;
  std::unique_ptr<devchain::RpcServer> rpc;
  std::string rpc_url;  // http://host:port
  void Stop();
  ~EmbeddedChain() { Stop(); }
};

// From the `chain.devchain.*` keys; writes the bound address to <devchain data>/listen.addr.
StatusOr<std::unique_ptr<EmbeddedChain>> StartEmbeddedChain(const Config& config, const std::string& data_dir);

}  // namespace neosl::app
