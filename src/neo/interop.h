// Interop services ("syscalls") that neosl emits or recognises, and their prices.
//
// An interop id is the first four bytes of SHA-256 over the ASCII service name, read
// little-endian (Neo's InteropDescriptor.Hash). A script carries it as SYSCALL + those four
// bytes, so "System.Contract.Call" (id 0x525b7d62) appears in scripts as 41 62 7d 5b 52.
#pragma once

#include <cstdint>
#include <string_view>

namespace neosl::neo {

uint32_t InteropId(std::string_view name);

inline constexpr std::string_view kSysContractCall = "System.Contract.Call";
inline constexpr std::string_view kSysCheckSig = "System.Crypto.CheckSig";
inline constexpr std::string_view kSysCheckMultisig = "System.Crypto.CheckMultisig";

// InteropId of the names above (checked against the hash in the tests).
inline constexpr uint32_t kContractCallId = 0x525b7d62;
inline constexpr uint32_t kCheckSigId = 0x27b3e756;
inline constexpr uint32_t kCheckMultisigId = 0x3adcd09e;

// Prices in datoshi (1e-8 GAS) before multiplication by the Policy contract's ExecFeeFactor,
// as in ApplicationEngine.Crypto.cs: CheckSig is registered at 1 << 15; CheckMultisig is
// registered at 0 and charges 1 << 15 per *public key* (n, not m) inside the call.
inline constexpr int64_t kCheckSigPrice = 1 << 15;
constexpr int64_t CheckMultisigPrice(int n_public_keys) {
  return kCheckSigPrice * n_public_keys;
}

}  // namespace neosl::neo
