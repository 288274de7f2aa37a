// Sealing: encrypting enclave state at rest so that only the right enclave can read it back.
//
// The sealing key is never stored. It is derived, per blob, from a platform secret (a 0600 file
// made once per machine, standing in for the CPU's fused key) and the enclave's identity:
//
//   key = HKDF-SHA256(ikm  = platform secret (32 bytes),
//                     salt = "neosl-seal-v1",
//                     info = policy (1) ‖ identity ‖ label, L = 32)
//   identity = measurement (32)                       for SealPolicy::kMeasurement
//            = MRSIGNER (32) ‖ isv_svn (u32 BE)       for SealPolicy::kSigner
//
// Sealed blob (integers big-endian):
//
//   offset  size  field
//   0       8     magic "NSLSEAL1"
//   8       1     policy: 1 = measurement, 2 = signer
//   9       32    identity: the measurement, or MRSIGNER
//   41      4     isv_svn (0 under the measurement policy)
//   45      12    AES-GCM nonce, random
//   57      n     ciphertext
//   57+n    16    tag
//
// The 57-byte header is the AES-GCM additional data. The label (what the blob holds: "enclave-keys",
// …) goes into the key, so a blob cannot be unsealed as something else.
//
// A blob sealed to the measurement is readable only by that exact binary: every rebuild changes
// it. A blob sealed to the signer is readable by any binary carrying a valid SigStruct from the
// same signing key with an isv_svn at least the blob's (an upgrade), never a lower one (a
// downgrade to a version with known holes).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/random.h"
#include "core/secret.h"
#include "core/status.h"
#include "tee/measurement.h"

namespace neosl::tee {

enum class SealPolicy : uint8_t { kMeasurement = 1, kSigner = 2 };

std::string_view SealPolicyName(SealPolicy policy);  // "measurement" / "signer"

inline constexpr size_t kPlatformSecretSize = 32;
inline constexpr size_t kSealedHeaderSize = 8 + 1 + 32 + 4 + 12;

// The cleartext header of a sealed blob, for diagnostics and policy decisions. Not authenticated
// until the blob is unsealed.
struct SealedHeader {
  SealPolicy policy = SealPolicy::kMeasurement;
  Measurement identity{};  // the measurement, or MRSIGNER
  uint32_t isv_svn = 0;
};
// DATA_LOSS if `blob` is too short, has the wrong magic or an unknown policy.
StatusOr<SealedHeader> ParseSealedHeader(std::span<const uint8_t> blob);

class Sealer {
 public:
  // `sigstruct` enables SealPolicy::kSigner; it is accepted only if its signature verifies and it
  // names `measurement`; otherwise signer sealing fails with the reason (see SignerStatus).
  Sealer(SecretBytes platform_secret, Measurement measurement, std::optional<SigStruct> sigstruct);

  StatusOr<std::vector<uint8_t>> Seal(SealPolicy policy, std::span<const uint8_t> plaintext, std::string_view label,
                                      RandomSource& random) const;

  // Errors, each distinct:
  //   FAILED_PRECONDITION  sealed to another measurement or signer, a newer isv_svn (downgrade),
  //                        or sealed to a signer while this enclave has no valid sigstruct;
  //   DATA_LOSS            truncated, not a sealed blob, tampered with, or another label.
  StatusOr<SecretBytes> Unseal(std::span<const uint8_t> blob, std::string_view label) const;

  const Measurement& measurement() const { return measurement_; }
  // OK when SealPolicy::kSigner is usable; otherwise FAILED_PRECONDITION saying why.
  Status SignerStatus() const { return signer_status_; }
  // The verified sigstruct, if any.
  const std::optional<SigStruct>& sigstruct() const { return sigstruct_; }

 private:
  StatusOr<SecretBytes> DeriveKey(SealPolicy policy, const Measurement& identity, uint32_t isv_svn,
                                  std::string_view label) const;

  SecretBytes platform_secret_;
  Measurement measurement_;
  std::optional<SigStruct> sigstruct_;  // set only when verified and naming measurement_
  Status signer_status_;
};

// Reads the platform secret at `path`, or makes it: 32 bytes from `random`, written to a fresh
// 0600 file that is linked into place only once complete (so a crash never leaves a short file,
// and two racing starts agree on one secret). Missing parent directories are created 0700.
// An existing file is refused (FAILED_PRECONDITION naming the path) if it is not a regular file,
// not owned by this user, accessible to group or others, or not exactly 32 bytes.
StatusOr<SecretBytes> LoadOrCreatePlatformSecret(const std::string& path, RandomSource& random);

namespace internal {
// Small durable-file helpers shared by the sealing code.
// Creates `dir` and missing parents with mode 0700.
Status EnsurePrivateDirectory(const std::string& dir);
// Writes `data` to a temporary 0600 file beside `path`, fsyncs it, and then either renames it
// over `path` (replace_existing) or links it into place, failing with ALREADY_EXISTS if `path`
// exists. Then fsyncs the directory.
Status WriteFileDurably(const std::string& path, std::span<const uint8_t> data, bool replace_existing);
// Reads a whole regular file of at most `max_size` bytes.
StatusOr<std::vector<uint8_t>> ReadSmallFile(const std::string& path, size_t max_size);
}  // namespace internal

}  // namespace neosl::tee
