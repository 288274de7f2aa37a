#include "apps/neosl/chain_reads.h"

#include <boost/json.hpp>

#include "core/encoding.h"

namespace neosl::app {

StatusOr<std::shared_ptr<neo::ChainReadCache>> MakeChainCache(const Config& config, const Clock& clock) {
  if (!config.Bool("chain.cache.enabled")) return std::shared_ptr<neo::ChainReadCache>();
  int64_t max_bytes = config.Int("chain.cache.max_bytes");
  int64_t ttl_ms = config.Int("chain.cache.height_ttl_ms");
  if (max_bytes < (1 << 20)) return InvalidArgumentError("chain.cache.max_bytes must be at least 1048576 (1 MiB)");
  if (ttl_ms < 1 || ttl_ms > 60'000) return InvalidArgumentError("chain.cache.height_ttl_ms must be 1 to 60000");
  neo::ChainCacheOptions options;
  options.max_bytes = size_t(max_bytes);
  options.height_ttl = std::chrono::milliseconds(ttl_ms);
  return std::make_shared<neo::ChainReadCache>(options, clock);
}

ChainForFunctions::ChainForFunctions(std::string url, std::shared_ptr<neo::ChainReadCache> cache, const Clock& clock,
                                     RandomSource& random)
    : url_(std::move(url)), cache_(std::move(cache)), clock_(clock), random_(random) {}

void ChainForFunctions::SetUrl(const std::string& url) {
  std::lock_guard lock(mu_);
  if (url_.empty()) url_ = url;
}

StatusOr<std::string> ChainForFunctions::InvokeRead(const std::string& contract, const std::string& method,
                                                    const std::string& args) {
  if (contract.size() != 42 || contract.rfind("0x", 0) != 0 || !HexDecode(contract.substr(2))) {
    return InvalidArgumentError("neo.invokeRead: the contract must be a script hash, 0x and 40 hex digits");
  }
  if (method.empty() || method.size() > 256) return InvalidArgumentError("neo.invokeRead: bad method name");
  boost::system::error_code ec;
  boost::json::value params = boost::json::parse(args, ec);
  if (ec || !params.is_array()) {
    return InvalidArgumentError("neo.invokeRead: args must be an array of contract parameters");
  }
  neo::HttpRpcClient* client = nullptr;
  {
    std::lock_guard lock(mu_);
    if (!client_) {
      if (url_.empty()) return UnavailableError("neo.invokeRead: no chain (set chain.rpc_url)");
      neo::HttpRpcClientOptions options;
      options.url = url_;
      options.call_timeout = std::chrono::milliseconds(5000);
      options.cache = cache_;
      ASSIGN_OR_RETURN(client_, neo::HttpRpcClient::Create(options, clock_, random_));
    }
    client = client_.get();
  }
  ASSIGN_OR_RETURN(boost::json::value result,
                   client->Call("invokefunction",
                                boost::json::array{boost::json::value(contract), boost::json::value(method), params}));
  return boost::json::serialize(result);
}

}  // namespace neosl::app
