// Checking an execution's proof offline (`neosl fn verify`, docs/functions.md "Proof"): the
// enclave's report key signed
//   "neosl-fn-result-v1" ‖ LP(function_id) ‖ U32BE(version) ‖ source_hash ‖ args_hash ‖ result_hash
// (runtime::ResultSigningMessage), where args_hash = SHA-256(args_json) and result_hash =
// SHA-256(result_json) when it succeeded, else SHA-256(error_json).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "core/status.h"
#include "crypto/p256.h"

namespace neosl::app {

// The fields of an execution (GET /v1/executions/{id}, or the answer of an invoke) the proof
// rests on. Every error message starts with the field that is wrong ("args_hash: …").
struct ExecutionProof {
  std::string execution_id;  // may be empty (a hand-made file)
  std::string function_id;
  uint32_t version = 0;
  std::string status;       // succeeded | failed
  std::string signed_text;  // result_json when succeeded, else error_json
  std::string args_json;
  std::optional<std::array<uint8_t, 32>> source_hash;  // absent: fetch it from the API
  std::array<uint8_t, 32> args_hash{}, result_hash{};
  std::array<uint8_t, 64> signature{};
  std::optional<crypto::PublicKey> signing_key;  // the key the execution names, if it does
};

// Reads the proof's fields and checks that everything derived from the signed texts agrees with
// them: both hashes, and `result`, `args` and `error` where present.
StatusOr<ExecutionProof> ReadExecutionProof(const boost::json::object& execution);

// Verifies the signature with `trusted` (and that the execution names no other key). Needs
// proof.source_hash.
Status VerifyExecutionSignature(const ExecutionProof& proof, const crypto::PublicKey& trusted);

}  // namespace neosl::app
