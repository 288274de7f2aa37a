#include "mesh/metrics.h"

#include <fmt/format.h>

namespace neosl::mesh {
namespace {

// Label values are service and instance names ([A-Za-z0-9._:-]); escape anyway.
std::string Label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string RenderMetrics(const Pipeline* pipeline, const std::vector<MeshClient*>& clients,
                          const std::vector<std::string>& identities) {
  std::string out;
  if (pipeline) {
    const auto& c = pipeline->counters();
    out +=
        "# HELP neosl_mesh_server_calls_total Mesh calls this process served, by pipeline outcome.\n"
        "# TYPE neosl_mesh_server_calls_total counter\n";
    const std::pair<const char*, uint64_t> outcomes[] = {{"admitted", c.admitted.load()},
                                                         {"unauthenticated", c.unauthenticated.load()},
                                                         {"denied", c.denied.load()},
                                                         {"rate_limited", c.rate_limited.load()},
                                                         {"deadline_exceeded", c.deadline.load()}};
    for (const auto& [name, value] : outcomes) {
      out += fmt::format("neosl_mesh_server_calls_total{{outcome=\"{}\"}} {}\n", name, value);
    }
    out +=
        "# HELP neosl_mesh_server_evidence_total Attestation evidence handed out for callers' nonces.\n"
        "# TYPE neosl_mesh_server_evidence_total counter\n";
    out += fmt::format("neosl_mesh_server_evidence_total {}\n", c.evidence.load());
  }
  std::string calls, failures, attestations, open;
  for (size_t i = 0; i < clients.size(); ++i) {
    for (const std::string& service : clients[i]->Services()) {
      for (const auto& s : clients[i]->Stats(service)) {
        std::string labels = fmt::format(R"(caller="{}",service="{}",instance="{}")", Label(identities[i]),
                                         Label(service), Label(s.instance));
        calls += fmt::format("neosl_mesh_client_calls_total{{{}}} {}\n", labels, s.calls);
        failures += fmt::format("neosl_mesh_client_unavailable_total{{{}}} {}\n", labels, s.failures);
        attestations += fmt::format("neosl_mesh_client_attestations_total{{{}}} {}\n", labels, s.attestations);
        open += fmt::format("neosl_mesh_client_circuit_open{{{}}} {}\n", labels,
                            s.breaker == CircuitBreaker::State::kClosed ? 0 : 1);
      }
    }
  }
  out +=
      "# HELP neosl_mesh_client_calls_total Calls sent to a mesh instance.\n"
      "# TYPE neosl_mesh_client_calls_total counter\n" +
      calls;
  out +=
      "# HELP neosl_mesh_client_unavailable_total Calls to an instance that ended UNAVAILABLE.\n"
      "# TYPE neosl_mesh_client_unavailable_total counter\n" +
      failures;
  out +=
      "# HELP neosl_mesh_client_attestations_total Evidence checks of an instance that passed.\n"
      "# TYPE neosl_mesh_client_attestations_total counter\n" +
      attestations;
  out +=
      "# HELP neosl_mesh_client_circuit_open 1 while an instance's circuit breaker is open or probing.\n"
      "# TYPE neosl_mesh_client_circuit_open gauge\n" +
      open;
  return out;
}

}  // namespace neosl::mesh
