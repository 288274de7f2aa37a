// The "oracle" service of the chain request relay (docs/oracle.md, "On-chain"): a contract's
// request("oracle", payload) — the JSON of POST /v1/oracle/requests without headers that name
// secrets — is run in the background and answered with the enclave's chain result (the Array
// [contract, requestId, code, result]) and its report-key signature, which the contract checks
// with CryptoLib.verifyWithECDsa. A payload that is not such a request is answered with code 3
// (INVALID_ARGUMENT) and the reason; a full queue with 8 (RESOURCE_EXHAUSTED).
#pragma once

#include "chain_requests/relay.h"
#include "services/oracle/oracle_service.h"

namespace neosl::services::oracle_chain {

// The largest `result` a chain answer carries: what fits chain_requests::kMaxResult beside the
// contract, the request id and the code. A longer one is answered ResponseTooLarge.
inline constexpr size_t kMaxChainResult = chain_requests::kMaxResult - 128;

chain_requests::ServiceHandler ChainHandler(OracleService& service);

}  // namespace neosl::services::oracle_chain
