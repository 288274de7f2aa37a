// The simulated quoting enclave of the `sim` backend: signs evidence the way Intel's quoting
// enclave signs an SGX quote, so that the whole attestation flow can run on machines without SGX.
//
// READ THIS BEFORE TRUSTING SIM EVIDENCE: the root of trust of `sim` is the "neosl simulated
// attestation root", a P-256 CA whose private key is derived from a fixed, PUBLIC seed compiled
// into every neosl binary (SHA-256("neosl-sim-attestation-root-v1")). Anyone can derive that key,
// certify a quoting key of their own and forge sim evidence for any measurement and any public
// keys. Sim evidence therefore proves nothing cryptographic about hardware or about which program
// runs; it exercises the format and the checks. That is why verifiers refuse backend "sim" unless
// the policy or the caller explicitly allows simulation (AttestationPolicy::allow_simulation).
//
// Certificates (X.509 v3, ECDSA P-256 with SHA-256):
//   root: CN "neosl simulated attestation root", self-signed, CA:TRUE (critical), keyUsage
//         keyCertSign+cRLSign, serial 1, valid 2000-01-01 to 2100-01-01.
//   leaf: CN "neosl sim quoting enclave", issued by the root, CA:FALSE, keyUsage digitalSignature
//         (critical), valid 48 h from issue; the key is fresh per enclave start.
// Evidence.signature is ECDSA P-256 over SHA-256(SignedBody(evidence)) in the 64-byte r ‖ s form
// (big-endian, 32 bytes each, low-S), not DER.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "core/status.h"
#include "crypto/p256.h"
#include "tee/attestation.h"

namespace neosl::tee {

// SHA-256("neosl-sim-attestation-root-v1"): the PUBLIC seed of the sim root key (see above).
std::array<uint8_t, 32> SimRootSeed();
// The sim root's public key, which verifiers pin.
const crypto::PublicKey& SimRootPublicKey();
// The sim root's self-signed certificate (PEM). Made once per process; its ECDSA signature is
// randomized, so the bytes differ between processes while the key and every other field do not.
const std::string& SimRootCertificatePem();

class SimQuotingEnclave {
 public:
  // Generates a fresh quoting key from `random` and has the sim root certify it, valid 48 h from
  // `clock`'s now.
  static StatusOr<SimQuotingEnclave> Create(RandomSource& random, const Clock& clock = SystemClock::Instance());

  SimQuotingEnclave(SimQuotingEnclave&&) noexcept;
  SimQuotingEnclave& operator=(SimQuotingEnclave&&) noexcept;
  ~SimQuotingEnclave();

  // Fills e.signature and e.certificates ({leaf, root}). An empty backend becomes "sim"; any other
  // backend is INVALID_ARGUMENT. When e.timestamp_ms falls outside the first 24 h of the leaf's
  // validity the leaf is re-issued for the same key, so a long-running enclave never hands out an
  // expired certificate. Thread-safe.
  Status Quote(Evidence& e) const;

  const crypto::PublicKey& public_key() const;

  struct State;  // defined in sim_quote.cpp

 private:
  explicit SimQuotingEnclave(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;

  friend StatusOr<SimQuotingEnclave> CreateSimQuotingEnclaveWithRoot(RandomSource&, const Clock&,
                                                                     std::span<const uint8_t, 32>);
};

// Tests only: a quoting enclave certified by a different root (derived from `root_seed`), to
// check that verifiers refuse chains that do not end at the pinned sim root.
StatusOr<SimQuotingEnclave> CreateSimQuotingEnclaveWithRoot(RandomSource& random, const Clock& clock,
                                                            std::span<const uint8_t, 32> root_seed);

// Checks `certificates` (PEM, leaf first, then optionally the sim root) against the pinned sim
// root at `now_ms`, allowing `skew` on the leaf's validity window, and returns the leaf's public
// key. Every failure is UNAUTHENTICATED with a message starting "certificate chain: ".
StatusOr<crypto::PublicKey> VerifySimCertificateChain(const std::vector<std::string>& certificates, int64_t now_ms,
                                                      std::chrono::milliseconds skew);

}  // namespace neosl::tee
