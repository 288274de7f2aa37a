// Verifies attestation evidence (attestation.h) against a policy: the library behind
// `neosl attest verify` and the mesh's peer checks (#6). See docs/attestation.md.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "tee/attestation.h"

namespace neosl::tee {

struct AttestationPolicy {
  // Allowed enclave measurements. Empty allows none: callers that mean "the enclave program this
  // binary ships" put that measurement here themselves (the CLI does). For sgx evidence, an empty
  // list with a non-empty `signers` list accepts any measurement by an allowed signer.
  std::vector<std::array<uint8_t, 32>> measurements;
  // Optional MRSIGNER allow-list; sgx only (sim evidence has no signer and ignores it).
  std::vector<std::array<uint8_t, 32>> signers;
  // Sim evidence can be forged by anyone (sim_quote.h); it is refused unless this is true.
  bool allow_simulation = false;
  std::chrono::milliseconds max_age{5 * 60 * 1000};
  std::chrono::milliseconds max_clock_skew{30 * 1000};

  // YAML (every key optional; unknown keys are an error so a typo cannot weaken a policy):
  //   allow_simulation: false
  //   measurements: [<64 hex>, …]
  //   signers: [<64 hex>, …]
  //   max_age_seconds: 300
  //   max_clock_skew_seconds: 30
  // Errors are INVALID_ARGUMENT starting "policy: ".
  static StatusOr<AttestationPolicy> FromYaml(std::string_view yaml);
};

struct VerifiedEvidence {
  Evidence evidence;
  EnclavePublicKeys keys;                         // parsed from evidence.public_keys and bound by report data
  bool simulated = false;                         // backend "sim": no hardware guarantee at all
  std::optional<std::array<uint8_t, 32>> signer;  // sgx: MRSIGNER from the verified quote
};

// Checks, in this order, stopping at the first failure; each message starts with the check's name:
//   simulation         FAILED_PRECONDITION "simulation: sim evidence refused (pass --allow-simulation
//                      or allow_simulation: true)"
//   certificate chain  UNAUTHENTICATED (sim) leaf signed by the pinned sim root, within validity
//   signature          UNAUTHENTICATED (sim) ECDSA r ‖ s by the leaf key over SignedBody
//   quote              UNAUTHENTICATED (sgx) DCAP verification, quote matches the evidence
//   measurement        FAILED_PRECONDITION "<hex> is not in the allow-list"
//   signer             FAILED_PRECONDITION (sgx, when policy.signers is set)
//   nonce              FAILED_PRECONDITION "report data does not bind this nonce"
//   key binding        FAILED_PRECONDITION "report data does not match the public keys"
//   freshness          FAILED_PRECONDITION "evidence is <n> s old (max <m> s)" /
//                      "timestamp is in the future"
// An unknown backend is INVALID_ARGUMENT ("backend: …"); sgx evidence in a build without
// -DNEOSL_TEE_SGX=ON is UNIMPLEMENTED ("sgx: …").
StatusOr<VerifiedEvidence> VerifyEvidence(const Evidence& evidence, std::span<const uint8_t> nonce,
                                          const AttestationPolicy& policy, const Clock& clock);

}  // namespace neosl::tee
