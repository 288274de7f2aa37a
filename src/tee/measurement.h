// Who an enclave is: its measurement (SHA-256 of the enclave program, SGX's MRENCLAVE) and, for
// sealing that survives upgrades, the identity of the key that signed it (SGX's MRSIGNER).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/p256.h"

namespace neosl::tee {

using Measurement = std::array<uint8_t, 32>;

// SHA-256 of the file's bytes, read in chunks. NOT_FOUND / PERMISSION_DENIED / INTERNAL name
// the path and the system error.
StatusOr<Measurement> MeasureFile(const std::string& path);
// The measurement of the running program (/proc/self/exe).
StatusOr<Measurement> MeasureSelf();

std::string MeasurementHex(const Measurement& m);  // 64 lowercase hex digits
// Exactly 64 hex digits (either case); INVALID_ARGUMENT otherwise.
StatusOr<Measurement> ParseMeasurementHex(std::string_view hex);

// An enclave-signing statement, as SGX's SIGSTRUCT: "the holder of `signer` vouches for the
// enclave program with this measurement, at security version `isv_svn`". Data sealed to the
// signer (SealPolicy::kSigner) stays readable by every program the same key signs with an equal
// or higher isv_svn, which is how a rebuilt binary keeps its data.
//
// The signature is ECDSA-P256/SHA-256 (Neo's r ‖ s form) over the 77 bytes
//   "NSLSIGS1" (8) ‖ signer compressed (33) ‖ measurement (32) ‖ isv_svn (u32 big-endian).
// On disk it is a small JSON object:
//   {"signer":"02…","measurement":"<64 hex>","isv_svn":1,"signature":"<128 hex>"}
struct SigStruct {
  crypto::PublicKey signer;
  Measurement measurement{};
  uint32_t isv_svn = 0;
  crypto::Signature signature{};

  static StatusOr<SigStruct> Sign(const crypto::PrivateKey& signer, const Measurement& measurement, uint32_t isv_svn);
  // OK when `signature` is the signer's over the other fields; UNAUTHENTICATED otherwise.
  Status Verify() const;

  std::string Encode() const;
  // Parses the JSON form strictly (all four fields, no others, canonical hex). Does not verify:
  // call Verify().
  static StatusOr<SigStruct> Decode(std::string_view json);

  // MRSIGNER: SHA-256 of the signer's compressed public key.
  Measurement SignerId() const;
};

// MRSIGNER of a signing key, as SigStruct::SignerId computes it.
Measurement SignerIdOf(const crypto::PublicKey& signer);

}  // namespace neosl::tee
