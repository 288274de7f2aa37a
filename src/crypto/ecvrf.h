// ECVRF-P256-SHA256-TAI (RFC 9381, suite string 0x01): a verifiable random function on P-256.
//
// The holder of a secret key x turns an input alpha into a proof pi; anyone with the public key
// Y = xB checks pi against alpha and gets the same 32-byte output beta = ProofToHash(pi). For a
// given key and alpha there is exactly one beta that verifies: the key holder cannot choose
// among outputs, and nobody without x can predict one.
//
// Encodings are the RFC's for this suite: points SEC1-compressed (33 bytes), c 16 bytes, s 32
// bytes, so pi is Gamma ‖ c ‖ s = 81 bytes; the nonce is RFC 6979's (section 5.4.2.1) and
// encode_to_curve is try-and-increment (section 5.4.1.1).
//
// The secret key is used in constant time: scalar multiplications by x and by the nonce run on
// OpenSSL's constant-time ladder with BN_FLG_CONSTTIME, and the scalar arithmetic of s = k + c·x
// is p256_scalar's.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/secret.h"
#include "core/status.h"
#include "crypto/p256.h"

namespace neosl::crypto::ecvrf {

inline constexpr uint8_t kSuite = 0x01;
inline constexpr size_t kProofSize = 81;   // Gamma (33) ‖ c (16) ‖ s (32)
inline constexpr size_t kOutputSize = 32;  // beta: SHA-256 output

using Proof = std::array<uint8_t, kProofSize>;
using Output = std::array<uint8_t, kOutputSize>;

// ECVRF_prove (RFC 9381 section 5.1). Never fails for a valid key; deterministic for a given
// key and alpha.
Proof Prove(const PrivateKey& key, std::span<const uint8_t> alpha);

// ECVRF_proof_to_hash (section 5.2): beta for a proof, without checking it (callers that have
// not verified the proof must use Verify). INVALID_ARGUMENT if pi does not decode (wrong size,
// Gamma not a point, s not below the group order).
StatusOr<Output> ProofToHash(std::span<const uint8_t> pi);

// ECVRF_verify (section 5.3) with validate_key: beta if pi is a valid proof for alpha under the
// public key. INVALID_ARGUMENT otherwise, with the reason in the message ("public key is not a
// valid point", "proof must be 81 bytes", "Gamma is not a point on P-256", "s is not below the
// group order", "proof does not verify"). The message never depends on secret data (there is
// none here) and is fit to show a caller.
//
// The public key is PK_string itself, 33 bytes SEC1-compressed: it is also encode_to_curve's salt,
// so an uncompressed key would hash to a different H than the prover's and is refused as "not a
// valid point" rather than silently canonicalised.
StatusOr<Output> Verify(std::span<const uint8_t> public_key, std::span<const uint8_t> pi,
                        std::span<const uint8_t> alpha);

namespace internal {
// The steps inside Prove and Verify, exposed so that tests can check them against the RFC's
// intermediate values; nothing outside tests should call these.

using PointBytes = std::array<uint8_t, 33>;  // point_to_string: SEC1 compressed

// ECVRF_encode_to_curve_try_and_increment (section 5.4.1.1) with salt = pk_string: point_to_string(H).
// INVALID_ARGUMENT only if all 256 counters fail (probability about 2^-256).
StatusOr<PointBytes> EncodeToCurve(std::span<const uint8_t> pk_string, std::span<const uint8_t> alpha);

// ECVRF_nonce_generation_RFC6979 (section 5.4.2.1): k for h_string = point_to_string(H), 32 bytes.
SecretBytes Nonce(const PrivateKey& key, std::span<const uint8_t> h_string);

// H, U = s*B - c*Y and V = s*H - c*Gamma as Verify recomputes them (section 5.3); for a proof
// made by Prove, U and V are k*B and k*H. Same errors as Verify, except that a c that does not
// match is not one here (U or V at the identity still is: no honest proof gives it, and the
// 33-byte encoding has no form for it).
struct VerifierPoints {
  PointBytes h{}, u{}, v{};
};
StatusOr<VerifierPoints> RecomputePoints(std::span<const uint8_t> public_key, std::span<const uint8_t> pi,
                                         std::span<const uint8_t> alpha);

// string_to_point for 33-byte compressed strings, with the square root done here rather than in
// OpenSSL: the 65-byte uncompressed form, or nullopt if the string is not a point on P-256.
std::optional<std::array<uint8_t, 65>> DecompressPoint(std::span<const uint8_t> compressed);
}  // namespace internal

}  // namespace neosl::crypto::ecvrf
