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

}  // namespace neosl::oracle
