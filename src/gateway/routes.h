// The route groups the gateway serves. Each Register* adds its routes to the table.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "gateway/accounts.h"
#include "gateway/gateway.h"

namespace neosl::gateway {

struct ReadinessCheck {
  std::string name;  // "store", later "enclave", "chain"
  std::function<Status()> check;
};

// More Prometheus text appended to /metrics (the mesh's, …).
using MetricsSource = std::function<std::string()>;

// GET /v1/health, /v1/ready, /metrics, /v1/openapi.json.
void RegisterSystemRoutes(Gateway& gateway, std::vector<ReadinessCheck> checks, const Clock& clock,
                          std::vector<MetricsSource> metrics = {});

// The enclave's evidence for a verifier's nonce (the JSON of tee::EvidenceToJson); errors as
// Status (UNAVAILABLE while the enclave restarts).
using AttestationSource = std::function<StatusOr<boost::json::value>(std::span<const uint8_t> nonce)>;

// GET /v1/attestation?nonce=HEX (public).
void RegisterAttestationRoute(Gateway& gateway, AttestationSource source);

// Accounts and API keys: /v1/accounts…, /v1/keys/{key_id}.
void RegisterAccountRoutes(Gateway& gateway, AccountStore& accounts);

}  // namespace neosl::gateway
