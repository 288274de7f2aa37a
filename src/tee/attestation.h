// Attestation evidence: what the enclave hands a verifier so it can tell which program holds which
// public keys, bound to the verifier's nonce (DESIGN.md, "Trusted execution"; docs/attestation.md).
//
// Evidence is produced inside the enclave (report data from its public keys and the nonce, then
// signed by the quoting key: SimQuotingEnclave for `sim`, the Intel quoting enclave via
// /dev/attestation for `sgx`) and checked by VerifyEvidence (verifier.h).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "core/status.h"
#include "crypto/p256.h"

namespace neosl::tee {

inline constexpr std::string_view kBackendSim = "sim";
inline constexpr std::string_view kBackendSgx = "sgx";

// The enclave's four service keys, in canonical order. Public keys only: the private halves never
// leave the enclave.
struct EnclavePublicKeys {
  crypto::PublicKey neo;     // the platform's Neo account key (signs transactions)
  crypto::PublicKey vrf;     // VRF key (random numbers)
  crypto::PublicKey report;  // signs results that leave the enclave
  crypto::PublicKey ecies;   // clients encrypt secrets to it
};

// The names of the four keys in `public_keys`, in canonical order.
inline constexpr std::array<std::string_view, 4> kPublicKeyNames = {"neo", "vrf", "report", "ecies"};

// {"neo":"02…","vrf":"03…","report":"02…","ecies":"03…"}: compressed keys, lowercase hex.
boost::json::object PublicKeysToJson(const EnclavePublicKeys& keys);
// Parses exactly the four names above (each a 33-byte compressed point on P-256); a missing, extra
// or malformed key is INVALID_ARGUMENT naming the key.
StatusOr<EnclavePublicKeys> PublicKeysFromJson(const boost::json::object& keys);
// Canonical public keys: the four 33-byte compressed keys concatenated in the order neo, vrf,
// report, ecies (132 bytes). This is what report data hashes.
std::vector<uint8_t> CanonicalPublicKeys(const EnclavePublicKeys& keys);

// Report data (64 bytes, the size SGX reserves for it) = SHA-256(canonical public keys) ‖
// SHA-256(nonce). The first half binds the keys to the measured program, the second half binds the
// evidence to one verifier's challenge so it cannot be replayed to another.
std::array<uint8_t, 64> ReportData(std::span<const uint8_t> canonical_public_keys, std::span<const uint8_t> nonce);

struct Evidence {
  std::string backend;  // "sim" | "sgx"
  std::array<uint8_t, 32> measurement{};
  std::array<uint8_t, 64> report_data{};
  boost::json::object public_keys;        // {"neo":"02…","vrf":…,"report":…,"ecies":…}
  int64_t timestamp_ms = 0;               // Unix time in milliseconds, when the evidence was made
  std::vector<uint8_t> signature;         // sim: ECDSA P-256/SHA-256 over SignedBody, 64 bytes r ‖ s
  std::vector<std::string> certificates;  // PEM, leaf (quoting key) first, then the sim root
  std::vector<uint8_t> quote;             // sgx only: the DCAP quote (ECDSA quote v3)
};

// JSON form (GET /v1/attestation, `neosl attest verify --evidence FILE`):
//   {"backend":"sim","measurement":"<64 hex>","report_data":"<128 hex>",
//    "public_keys":{"neo":"02…","vrf":"…","report":"…","ecies":"…"},
//    "timestamp":"2026-11-21T10:00:00.123Z","timestamp_ms":1795255200123,
//    "signature":"<128 hex>","certificates":["-----BEGIN CERTIFICATE-----…",…],
//    "quote":"<hex>"}                         ("quote" only when non-empty)
// Hex is lowercase. "timestamp" is for people; "timestamp_ms" is the value that is signed.
boost::json::value EvidenceToJson(const Evidence& evidence);
// Strict about what is there: every field above except "quote" is required, with the right type
// and length; "timestamp" must agree with "timestamp_ms". Unknown fields are ignored (the endpoint
// may add some). Errors are INVALID_ARGUMENT naming the field.
StatusOr<Evidence> EvidenceFromJson(const boost::json::value& json);

// The bytes the quoting key signs: every field of Evidence except signature and certificates, in a
// canonical, length-prefixed binary encoding (big-endian):
//
//   lp("neosl-evidence-v1")                       domain separation and format version
//   lp(backend)                                   UTF-8
//   lp(measurement)                               32 bytes
//   lp(report_data)                               64 bytes
//   u32 n                                         number of public_keys entries
//   n × ( lp(name) ‖ lp(value) )                  entries sorted by name (bytewise); value is the
//                                                 JSON string as sent (hex), or the serialized
//                                                 JSON of a non-string value
//   i64 timestamp_ms                              two's complement, 8 bytes
//   lp(quote)                                     empty for sim
//
// where lp(x) = u32 length of x ‖ x. Every field is prefixed with its length, so no two distinct
// evidences have the same body.
std::vector<uint8_t> SignedBody(const Evidence& evidence);

// sgx backend: asks Gramine for a DCAP quote over `report_data` by writing it to
// <dir>/user_report_data and reading <dir>/quote (Gramine's /dev/attestation interface). Outside
// Gramine the directory does not exist and this fails with UNAVAILABLE.
StatusOr<std::vector<uint8_t>> ReadGramineQuote(std::span<const uint8_t, 64> report_data,
                                                const std::string& dir = "/dev/attestation");

}  // namespace neosl::tee
