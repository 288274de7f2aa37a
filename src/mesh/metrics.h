// The mesh's Prometheus metrics, appended to the gateway's /metrics: what the server pipeline
// admitted and refused, and per instance a client calls: calls, UNAVAILABLE failures,
// attestations and whether its circuit is open.
#pragma once

#include <string>
#include <vector>

#include "mesh/client.h"
#include "mesh/server.h"

namespace neosl::mesh {

// `pipeline` may be null (a process that serves no service); `clients` are labelled by their
// identity.
std::string RenderMetrics(const Pipeline* pipeline, const std::vector<MeshClient*>& clients,
                          const std::vector<std::string>& identities);

}  // namespace neosl::mesh
