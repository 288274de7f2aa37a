#include "tee/verifier.h"

#include <algorithm>
#include <cstring>
#include <string>

#include <yaml-cpp/yaml.h>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "tee/sim_quote.h"

#ifdef NEOSL_TEE_SGX
// Intel SGX DCAP Quote Verification Library (libsgx-dcap-quote-verify-dev).
#include <sgx_dcap_quoteverify.h>

#include <sgx_quote_3.h>
#endif

namespace neosl::tee {
namespace {

using Hash32 = std::array<uint8_t, 32>;

bool Contains(const std::vector<Hash32>& list, const Hash32& h) {
  return std::find(list.begin(), list.end(), h) != list.end();
}

StatusOr<Hash32> ParseHash(const YAML::Node& node, const std::string& where) {
  if (!node.IsScalar()) return InvalidArgumentError("policy: " + where + " must be a 64-character hex string");
  auto bytes = HexDecode(node.Scalar());
  if (!bytes || bytes->size() != 32) {
    return InvalidArgumentError("policy: " + where + " must be a 64-character hex string");
  }
  Hash32 out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

StatusOr<std::vector<Hash32>> ParseHashList(const YAML::Node& node, const std::string& key) {
  if (node.IsNull()) return std::vector<Hash32>{};
  if (!node.IsSequence()) return InvalidArgumentError("policy: " + key + " must be a list of hex strings");
  std::vector<Hash32> out;
  for (size_t i = 0; i < node.size(); ++i) {
    ASSIGN_OR_RETURN(Hash32 h, ParseHash(node[i], key + "[" + std::to_string(i) + "]"));
    out.push_back(h);
  }
  return out;
}

StatusOr<std::chrono::milliseconds> ParseSeconds(const YAML::Node& node, const std::string& key) {
  int64_t seconds = -1;
  try {
    if (node.IsScalar()) seconds = node.as<int64_t>();
  } catch (const YAML::Exception&) {
    seconds = -1;
  }
  // An upper bound keeps the millisecond count far from overflow; a year is already absurd.
  if (seconds < 0 || seconds > int64_t(366) * 24 * 3600) {
    return InvalidArgumentError("policy: " + key + " must be a whole number of seconds between 0 and 31622400");
  }
  return std::chrono::milliseconds(seconds * 1000);
}

#ifdef NEOSL_TEE_SGX
// UNTESTED: written against the DCAP Quote Verification Library API (sgx_qv_verify_quote) without
// SGX hardware or the library on our CI machines. See docs/attestation.md.
StatusOr<Hash32> VerifySgxQuote(const Evidence& e, int64_t now_ms) {
  if (e.quote.size() < sizeof(sgx_quote3_t)) return UnauthenticatedError("quote: too short for an ECDSA quote v3");
  uint32_t supplemental_size = 0;
  std::vector<uint8_t> supplemental;
  if (sgx_qv_get_quote_supplemental_data_size(&supplemental_size) == SGX_QL_SUCCESS) {
    supplemental.resize(supplemental_size);
  }
  uint32_t collateral_expiration = 1;
  sgx_ql_qv_result_t result = SGX_QL_QV_RESULT_UNSPECIFIED;
  // Collateral nullptr: the library fetches it through the platform's quote provider (PCCS).
  quote3_error_t rc = sgx_qv_verify_quote(e.quote.data(), uint32_t(e.quote.size()), nullptr, time_t(now_ms / 1000),
                                          &collateral_expiration, &result, nullptr, uint32_t(supplemental.size()),
                                          supplemental.empty() ? nullptr : supplemental.data());
  if (rc != SGX_QL_SUCCESS) {
    return UnauthenticatedError(
        "quote: DCAP verification failed (error 0x" +
        HexEncode(std::array<uint8_t, 4>{uint8_t(uint32_t(rc) >> 24), uint8_t(uint32_t(rc) >> 16),
                                         uint8_t(uint32_t(rc) >> 8), uint8_t(rc)}) +
        ")");
  }
  if (collateral_expiration != 0) return UnauthenticatedError("quote: the verification collateral has expired");
  if (result != SGX_QL_QV_RESULT_OK) {
    // Anything but OK (out-of-date TCB, configuration needed, revoked …) is refused; an operator who
    // wants to accept SW_HARDENING_NEEDED must decide that explicitly, which this policy cannot say.
    return UnauthenticatedError("quote: platform TCB status is not OK (result 0x" +
                                std::to_string(static_cast<unsigned>(result)) + ")");
  }
  sgx_quote3_t quote;
  std::memcpy(&quote, e.quote.data(), sizeof(quote));
  const sgx_report_body_t& body = quote.report_body;
  if (body.attributes.flags & SGX_FLAGS_DEBUG) return UnauthenticatedError("quote: the enclave runs in debug mode");
  if (std::memcmp(body.mr_enclave.m, e.measurement.data(), 32) != 0) {
    return UnauthenticatedError("quote: MRENCLAVE differs from the evidence measurement");
  }
  if (std::memcmp(body.report_data.d, e.report_data.data(), 64) != 0) {
    return UnauthenticatedError("quote: report data differs from the evidence report data");
  }
  Hash32 signer{};
  std::memcpy(signer.data(), body.mr_signer.m, 32);
  return signer;
}
#endif

}  // namespace

StatusOr<AttestationPolicy> AttestationPolicy::FromYaml(std::string_view yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError("policy: not valid YAML (line " + std::to_string(e.mark.line + 1) + ")");
  }
  AttestationPolicy policy;
  if (root.IsNull()) return policy;
  if (!root.IsMap()) return InvalidArgumentError("policy: the document must be a mapping");
  for (const auto& entry : root) {
    if (!entry.first.IsScalar()) return InvalidArgumentError("policy: keys must be strings");
    const std::string key = entry.first.Scalar();
    const YAML::Node& value = entry.second;
    if (key == "allow_simulation") {
      bool allow = false;
      try {
        if (!value.IsScalar()) throw YAML::Exception(YAML::Mark(), "");
        allow = value.as<bool>();
      } catch (const YAML::Exception&) {
        return InvalidArgumentError("policy: allow_simulation must be true or false");
      }
      policy.allow_simulation = allow;
    } else if (key == "measurements") {
      ASSIGN_OR_RETURN(policy.measurements, ParseHashList(value, key));
    } else if (key == "signers") {
      ASSIGN_OR_RETURN(policy.signers, ParseHashList(value, key));
    } else if (key == "max_age_seconds") {
      ASSIGN_OR_RETURN(policy.max_age, ParseSeconds(value, key));
    } else if (key == "max_clock_skew_seconds") {
      ASSIGN_OR_RETURN(policy.max_clock_skew, ParseSeconds(value, key));
    } else {
      return InvalidArgumentError("policy: unknown key \"" + key + "\"");
    }
  }
  return policy;
}

StatusOr<VerifiedEvidence> VerifyEvidence(const Evidence& evidence, std::span<const uint8_t> nonce,
                                          const AttestationPolicy& policy, const Clock& clock) {
  const int64_t now_ms = clock.NowUnixMillis();
  bool simulated = false;
  std::optional<Hash32> signer;

  if (evidence.backend == kBackendSim) {
    if (!policy.allow_simulation) {
      return FailedPreconditionError(
          "simulation: sim evidence refused (pass --allow-simulation or allow_simulation: true)");
    }
    ASSIGN_OR_RETURN(crypto::PublicKey quoting_key,
                     VerifySimCertificateChain(evidence.certificates, now_ms, policy.max_clock_skew));
    if (evidence.signature.size() != 64) {
      return UnauthenticatedError("signature: expected 64 bytes (r ‖ s), got " +
                                  std::to_string(evidence.signature.size()));
    }
    crypto::Signature sig{};
    std::copy(evidence.signature.begin(), evidence.signature.end(), sig.begin());
    if (!quoting_key.Verify(SignedBody(evidence), sig)) {
      return UnauthenticatedError("signature: the quoting key's signature does not match the evidence");
    }
    simulated = true;
  } else if (evidence.backend == kBackendSgx) {
#ifdef NEOSL_TEE_SGX
    ASSIGN_OR_RETURN(signer, VerifySgxQuote(evidence, now_ms));
#else
    return UnimplementedError(
        "sgx: DCAP quote verification is not built in this binary (build with -DNEOSL_TEE_SGX=ON)");
#endif
  } else {
    return InvalidArgumentError("backend: unknown backend \"" + evidence.backend + "\" (expected sim or sgx)");
  }

  const bool by_signer = !simulated && policy.measurements.empty() && !policy.signers.empty();
  if (!by_signer && !Contains(policy.measurements, evidence.measurement)) {
    return FailedPreconditionError("measurement: " + HexEncode(evidence.measurement) + " is not in the allow-list");
  }
  if (!simulated && !policy.signers.empty() && !(signer && Contains(policy.signers, *signer))) {
    return FailedPreconditionError("signer: " + (signer ? HexEncode(*signer) : std::string("(none)")) +
                                   " is not in the allow-list");
  }

  if (nonce.empty()) return InvalidArgumentError("nonce: the verifier's nonce must not be empty");
  auto nonce_hash = crypto::Sha256(nonce);
  if (!std::equal(nonce_hash.begin(), nonce_hash.end(), evidence.report_data.begin() + 32)) {
    return FailedPreconditionError("nonce: report data does not bind this nonce");
  }

  auto parsed = PublicKeysFromJson(evidence.public_keys);
  if (!parsed.ok()) return FailedPreconditionError("key binding: " + std::string(parsed.status().message()));
  auto keys_hash = crypto::Sha256(CanonicalPublicKeys(*parsed));
  if (!std::equal(keys_hash.begin(), keys_hash.end(), evidence.report_data.begin())) {
    return FailedPreconditionError("key binding: report data does not match the public keys");
  }

  // Differences in unsigned arithmetic: exact for any pair of int64 timestamps, no overflow.
  if (evidence.timestamp_ms > now_ms) {
    if (uint64_t(evidence.timestamp_ms) - uint64_t(now_ms) > uint64_t(policy.max_clock_skew.count())) {
      return FailedPreconditionError("freshness: timestamp is in the future");
    }
  } else if (uint64_t age_ms = uint64_t(now_ms) - uint64_t(evidence.timestamp_ms);
             age_ms > uint64_t(policy.max_age.count())) {
    return FailedPreconditionError("freshness: evidence is " + std::to_string(age_ms / 1000) + " s old (max " +
                                   std::to_string(policy.max_age.count() / 1000) + " s)");
  }

  return VerifiedEvidence{evidence, *std::move(parsed), simulated, signer};
}

}  // namespace neosl::tee
