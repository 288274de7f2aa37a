// context.neo.invokeRead for the functions runtime (`neosl serve`, `neosl fn simulate`): Neo's
// invokefunction on the configured chain — read-only, since nothing it runs is ever sent as a
// transaction — with an RPC client of its own, made on first use, through the process's
// chain-read cache (chain.cache): invocations reading the same state in a block cost one call.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "core/clock.h"
#include "core/config.h"
#include "core/random.h"
#include "core/status.h"
#include "neo/rpc_client.h"

namespace neosl::app {

// The process's chain-read cache, as chain.cache configures it; null when it is disabled.
// INVALID_ARGUMENT for a bound out of range.
StatusOr<std::shared_ptr<neo::ChainReadCache>> MakeChainCache(const Config& config, const Clock& clock);

class ChainForFunctions {
 public:
  // `url` may be empty until SetUrl (the devchain starts after the runtime). `cache` may be null.
  ChainForFunctions(std::string url, std::shared_ptr<neo::ChainReadCache> cache, const Clock& clock,
                    RandomSource& random);
  // Sets the URL if none was given.
  void SetUrl(const std::string& url);
  // The invokefunction result as JSON text. INVALID_ARGUMENT for a bad script hash, method or
  // args (an array of contract parameters); UNAVAILABLE without a chain.
  StatusOr<std::string> InvokeRead(const std::string& contract, const std::string& method, const std::string& args);

 private:
  std::mutex mu_;
  std::string url_;
  const std::shared_ptr<neo::ChainReadCache> cache_;
  std::unique_ptr<neo::HttpRpcClient> client_;
  const Clock& clock_;
  RandomSource& random_;
};

}  // namespace neosl::app
