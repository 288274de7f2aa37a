// The "random" service of the chain request relay (docs/random.md, "On-chain"): a contract's
// request("random", '{"num_words": n, "seed": "<hex>"}') is answered with the words, the VRF
// output, the proof and the alpha as one StdLib-serialized Array, signed by the enclave's report
// key so that the contract can check it with CryptoLib.verifyWithECDsa.
#pragma once

#include <functional>
#include <span>

#include "chain_requests/relay.h"
#include "crypto/p256.h"
#include "services/random/random_service.h"

namespace neosl::services::random {

inline constexpr int kMaxChainWords = 100;  // the answer must fit chain_requests::kMaxResult

// The report key's signature over SHA-256(message) (RunningEnclave::SignReport in serve).
using ResultSigner = std::function<StatusOr<crypto::Signature>(std::span<const uint8_t> message)>;

// The relay handler. alpha's account is "neo:" + the contract's hash and its request id the
// requestId in decimal, so one on-chain request has exactly one answer. A payload that is not
// that JSON is answered with code 3 (INVALID_ARGUMENT) and the reason.
chain_requests::ServiceHandler ChainHandler(RandomService& service, ResultSigner sign);

}  // namespace neosl::services::random
