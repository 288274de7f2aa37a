#include "services/random/random_chain.h"

#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "core/business_metrics.h"
#include "services/random/random_core.h"

namespace neosl::services::random {
namespace {

struct ChainParams {
  int num_words = 0;
  std::vector<uint8_t> seed;
};

// {"num_words": 1..100, "seed": "<hex>"?}: INVALID_ARGUMENT naming what is wrong.
StatusOr<ChainParams> ParsePayload(std::span<const uint8_t> payload) {
  boost::system::error_code ec;
  boost::json::value v =
      boost::json::parse(std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size()), ec);
  if (ec || !v.is_object()) return InvalidArgumentError("payload must be a JSON object: {\"num_words\": 1..100}");
  const auto& o = v.as_object();
  for (const auto& [key, value] : o) {
    if (key != "num_words" && key != "seed") {
      return InvalidArgumentError("payload has an unknown field '" + std::string(key) + "'");
    }
  }
  ChainParams p;
  const auto* n = o.if_contains("num_words");
  if (!n || !n->is_int64() || n->as_int64() < 1 || n->as_int64() > kMaxChainWords) {
    return InvalidArgumentError("num_words must be an integer from 1 to " + std::to_string(kMaxChainWords));
  }
  p.num_words = int(n->as_int64());
  if (const auto* seed = o.if_contains("seed")) {
    if (!seed->is_string()) return InvalidArgumentError("seed must be a hex string");
    ASSIGN_OR_RETURN(p.seed, ParseSeed(seed->as_string()));
  }
  return p;
}

StatusOr<chain_requests::ChainAnswer> Answer(RandomService& service, const ResultSigner& sign,
                                             const chain_requests::ChainRequest& request) {
  ASSIGN_OR_RETURN(ChainParams params, ParsePayload(request.payload));
  const std::string request_id = request.key.request_id.decimal();
  ASSIGN_OR_RETURN(RandomService::Drawn drawn,
                   service.Draw("neo:" + request.key.contract.ToString(), request_id, params.seed, params.num_words));
  ASSIGN_OR_RETURN(std::vector<uint8_t> result,
                   ChainResult(request_id, drawn.words, drawn.vrf.output, drawn.vrf.proof, drawn.alpha));
  ASSIGN_OR_RETURN(crypto::Signature signature, sign(result));
  metrics::Random().words.Inc({"chain"}, drawn.words.size());
  return chain_requests::ChainAnswer::Success(std::move(result),
                                              std::vector<uint8_t>(signature.begin(), signature.end()));
}

}  // namespace

chain_requests::ServiceHandler ChainHandler(RandomService& service, ResultSigner sign) {
  return [&service, sign = std::move(sign)](const chain_requests::ChainRequest& request,
                                            const std::function<void(chain_requests::ChainAnswer)>& done) {
    auto answer = Answer(service, sign, request);
    metrics::Random().requests.Inc({"chain", metrics::OutcomeOf(answer.status())});
    done(answer.ok() ? std::move(*answer) : chain_requests::ChainAnswer::FromStatus(answer.status()));
  };
}

}  // namespace neosl::services::random
