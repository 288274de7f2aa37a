#include "services/oracle/oracle_chain.h"

#include <string>
#include <utility>

#include <google/protobuf/util/json_util.h>

namespace neosl::services::oracle_chain {
namespace {

StatusOr<oraclepb::CreateOracleRequestRequest> ParsePayload(std::span<const uint8_t> payload) {
  oraclepb::CreateOracleRequestRequest request;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const std::string text(reinterpret_cast<const char*>(payload.data()), payload.size());
  auto parsed = google::protobuf::util::JsonStringToMessage(text, &request, options);
  if (!parsed.ok()) {
    return InvalidArgumentError("payload must be a JSON oracle request ({\"url\": …, \"filter\": …}): " +
                                std::string(parsed.message()));
  }
  if (request.async()) return InvalidArgumentError("payload: async has no meaning on chain; leave it out");
  return request;
}

}  // namespace

chain_requests::ServiceHandler ChainHandler(OracleService& service) {
  return [&service](const chain_requests::ChainRequest& request,
                    const std::function<void(chain_requests::ChainAnswer)>& done) {
    auto parsed = ParsePayload(request.payload);
    if (!parsed.ok()) return done(chain_requests::ChainAnswer::FromStatus(parsed.status()));
    tee::v1::OracleRunRequest run;
    run.set_request_id("neo:" + request.key.ToString());
    run.mutable_chain()->set_contract(
        std::string(request.key.contract.bytes().begin(), request.key.contract.bytes().end()));
    run.mutable_chain()->set_request_id(request.key.request_id.decimal());
    run.set_max_result_bytes(uint32_t(kMaxChainResult));
    Status s = service.RunDetached(*parsed, run, [done](StatusOr<tee::v1::OracleRunResponse> outcome) {
      if (!outcome.ok()) return done(chain_requests::ChainAnswer::FromStatus(outcome.status()));
      const std::string& result = outcome->chain_result();
      const std::string& signature = outcome->chain_signature();
      done(chain_requests::ChainAnswer::Success(std::vector<uint8_t>(result.begin(), result.end()),
                                                std::vector<uint8_t>(signature.begin(), signature.end())));
    });
    if (!s.ok()) done(chain_requests::ChainAnswer::FromStatus(s));
  };
}

}  // namespace neosl::services::oracle_chain
