// Standard Neo N3 accounts: single-signature and m-of-n multisignature verification scripts,
// script hashes, addresses, and witness checking for them.
//
// Single-sig (40 bytes), Contract.CreateSignatureRedeemScript:
//   0C 21 <33-byte compressed key>  41 56 E7 B3 27        PUSHDATA1 key; SYSCALL System.Crypto.CheckSig
// Multisig, Contract.CreateMultiSigRedeemScript:
//   PUSH m; (0C 21 <key>) × n, keys sorted as ECPoint.CompareTo (X, then Y); PUSH n;
//   41 9E D0 DC 3A                                        SYSCALL System.Crypto.CheckMultisig
// Address: Base58Check(version ‖ script hash), version 0x35 on N3 (addresses start with 'N').
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "crypto/p256.h"
#include "neo/uint.h"

namespace neosl::neo {

inline constexpr uint8_t kAddressVersion = 0x35;
inline constexpr int kMaxMultisigKeys = 1024;

std::vector<uint8_t> SingleSigScript(const crypto::PublicKey& key);

// The invocation script of a single-sig witness: PUSHDATA1 64 ‖ signature (66 bytes).
std::vector<uint8_t> SignatureInvocation(const crypto::Signature& signature);

// Sorts the keys as Neo does. INVALID_ARGUMENT unless 1 <= m <= n <= 1024, and also on a
// repeated key, which Neo accepts but which lets one key count more than once towards m.
StatusOr<std::vector<uint8_t>> MultiSigScript(int m, std::vector<crypto::PublicKey> keys);

// Hash160 (RIPEMD-160 of SHA-256) of the script, in wire order.
UInt160 ScriptHash(std::span<const uint8_t> script);

std::string ToAddress(const UInt160& script_hash, uint8_t version = kAddressVersion);
// INVALID_ARGUMENT on bad Base58, a checksum mismatch, a wrong length or a wrong version byte.
StatusOr<UInt160> AddressToScriptHash(std::string_view address, uint8_t version = kAddressVersion);

struct VerificationScriptInfo {
  enum class Kind { kSingleSig, kMultiSig };
  Kind kind = Kind::kSingleSig;
  int m = 1;                            // signatures required (1 for single-sig)
  std::vector<crypto::PublicKey> keys;  // in script order (n = keys.size())
};

// Accepts exactly what Neo's IsSignatureContract / IsMultiSigContract accept (Helper.cs), which
// includes m and n pushed with PUSHINT8/PUSHINT16 where PUSH1…PUSH16 would do, and keys in any
// order (CheckMultisig does not need them sorted; only the script hash differs). Stricter than Neo
// in two places, both scripts that could never verify: every key must be a valid P-256 point, and
// PUSHINT8 0x80…0xFF (negative in the VM) is refused. Anything else — wrong length, trailing bytes,
// m > n, n > 1024, a count that disagrees with the keys — is INVALID_ARGUMENT saying what.
StatusOr<VerificationScriptInfo> ParseVerificationScript(std::span<const uint8_t> script);

// Checks a witness for a standard account off-chain, as the VM would run it:
//   - `verification` must parse with ParseVerificationScript (else INVALID_ARGUMENT);
//   - `invocation` must be exactly 1 (single-sig) or m (multisig) pushes `0C 40 <64-byte r‖s>`
//     and nothing else (else INVALID_ARGUMENT);
//   - every signature is over SHA-256(signing_data), where signing_data is what Neo signs
//     (network magic ‖ transaction hash, see GetSignData);
//   - multisig follows CheckMultisig: signatures are matched to keys in key order, a key may be
//     skipped but not revisited, so signatures out of key order fail.
// A signature that does not verify is UNAUTHENTICATED, naming which one.
Status VerifyWitness(std::span<const uint8_t> signing_data, const std::vector<uint8_t>& invocation,
                     const std::vector<uint8_t>& verification);

}  // namespace neosl::neo
