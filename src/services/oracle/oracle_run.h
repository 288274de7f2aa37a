// An oracle request as the enclave runs it (the oracle_run ECALL, proto/enclave.proto): every
// source fetched at once through the shared fetcher (source_fetch.h), filtered with Neo's JPath,
// the consensus rule applied (consensus.h), and the outcome signed with the report key over the
// record of oracle_record.h — all inside the enclave, so the host relays bytes it cannot alter
// without breaking the signature.
#pragma once

#include <cstddef>

#include "core/status.h"
#include "crypto/p256.h"
#include "enclave.pb.h"
#include "net/fetcher.h"
#include "tee/secret_vault.h"

namespace neosl::oracle {

inline constexpr size_t kMaxSources = 16;

struct RunEnvironment {
  const net::Fetcher* fetcher = nullptr;  // made with OracleFetcherOptions
  const crypto::PrivateKey* report_key = nullptr;
  const tee::SecretVault* vault = nullptr;  // null: no secrets can be read
};

// INVALID_ARGUMENT for a request that is not well formed (no source or more than kMaxSources, a
// bad rule for that many sources, a bad secrets list, a malformed chain request). Everything
// that can go wrong with a source is an outcome (a response code), not an error.
StatusOr<tee::v1::OracleRunResponse> RunOracle(const tee::v1::OracleRunRequest& request, const RunEnvironment& env);

// The oracle_finalize ECALL: a successful result post-processed by a function. Checks that the
// fetched result carries this enclave's signature for `request.request()` (rebuilding its
// record), that the function was given FunctionArgs(request id, result), and the function's
// proof; answers the function's output (or Error when it failed, ResponseTooLarge over the
// limit) with the record naming the function, signed. PERMISSION_DENIED when a check fails;
// INVALID_ARGUMENT for a malformed request.
StatusOr<tee::v1::OracleRunResponse> FinalizeOracle(const tee::v1::OracleFinalizeRequest& request,
                                                    const crypto::PrivateKey& report_key);

}  // namespace neosl::oracle
