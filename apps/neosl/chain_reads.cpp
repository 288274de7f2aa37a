#include "apps/neosl/chain_reads.h"

#include <boost/json.hpp>

#include "core/encoding.h"

namespace neosl::app {

ChainForFunctions::ChainForFunctions(std::string url, const Clock& clock, RandomSource& random)
    : url_(std::move(url)), clock_(clock), random_(random) {}

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
