#include "neo/account.h"

#include <algorithm>
#include <array>

#include "crypto/base58.h"
#include "crypto/hash.h"
#include "neo/interop.h"
#include "neo/opcode.h"
#include "neo/script_builder.h"

namespace neosl::neo {
namespace {

constexpr size_t kKeyPushSize = 35;        // 0C 21 <33 bytes>
constexpr size_t kSignaturePushSize = 66;  // 0C 40 <64 bytes>
constexpr size_t kSysCallSize = 5;         // 41 <u32 id>

uint32_t ReadU32Le(std::span<const uint8_t> b) {
  return static_cast<uint32_t>(b[0]) | (static_cast<uint32_t>(b[1]) << 8) | (static_cast<uint32_t>(b[2]) << 16) |
         (static_cast<uint32_t>(b[3]) << 24);
}

Status Malformed(std::string what) {
  return InvalidArgumentError("verification script: " + std::move(what));
}

StatusOr<crypto::PublicKey> KeyAt(std::span<const uint8_t> script, size_t pos, size_t index) {
  auto key = crypto::PublicKey::FromBytes(script.subspan(pos + 2, 33));
  if (!key.ok()) return Malformed("public key " + std::to_string(index) + " is not a valid secp256r1 point");
  return *std::move(key);
}

// m or n as IsMultiSigContract reads it: PUSH1…PUSH16, PUSHINT8 or PUSHINT16.
StatusOr<int> ReadCount(std::span<const uint8_t> script, size_t& pos, std::string_view what) {
  if (pos >= script.size()) return Malformed(std::string(what) + " is missing");
  const uint8_t op = script[pos];
  if (op >= ToByte(OpCode::PUSH1) && op <= ToByte(OpCode::PUSH16)) {
    pos += 1;
    return op - ToByte(OpCode::PUSH0);
  }
  if (op == ToByte(OpCode::PUSHINT8)) {
    if (pos + 2 > script.size()) return Malformed(std::string(what) + " is truncated");
    // Neo reads this byte unsigned, but the VM pushes it signed: 0x80…0xFF would be negative.
    if (script[pos + 1] >= 0x80) return Malformed(std::string(what) + " is negative as PUSHINT8");
    pos += 2;
    return script[pos - 1];
  }
  if (op == ToByte(OpCode::PUSHINT16)) {
    if (pos + 3 > script.size()) return Malformed(std::string(what) + " is truncated");
    int v = script[pos + 1] | (script[pos + 2] << 8);
    pos += 3;
    return v;  // at most 0xFFFF; the caller's range check rejects anything over 1024
  }
  return Malformed(std::string(what) + " must be pushed with PUSH1…PUSH16, PUSHINT8 or PUSHINT16");
}

StatusOr<VerificationScriptInfo> ParseSingleSig(std::span<const uint8_t> script) {
  if (script.size() != 40) {
    return Malformed("single-signature script must be 40 bytes, got " + std::to_string(script.size()));
  }
  if (script[1] != 33) return Malformed("public key push must be PUSHDATA1 of 33 bytes");
  if (script[35] != ToByte(OpCode::SYSCALL) || ReadU32Le(script.subspan(36, 4)) != kCheckSigId) {
    return Malformed("single-signature script must end with SYSCALL System.Crypto.CheckSig");
  }
  ASSIGN_OR_RETURN(crypto::PublicKey key, KeyAt(script, 0, 0));
  VerificationScriptInfo info;
  info.kind = VerificationScriptInfo::Kind::kSingleSig;
  info.m = 1;
  info.keys.push_back(std::move(key));
  return info;
}

StatusOr<VerificationScriptInfo> ParseMultiSig(std::span<const uint8_t> script) {
  size_t pos = 0;
  ASSIGN_OR_RETURN(int m, ReadCount(script, pos, "m"));
  if (m < 1 || m > kMaxMultisigKeys) return Malformed("m must be in [1, 1024], got " + std::to_string(m));
  VerificationScriptInfo info;
  info.kind = VerificationScriptInfo::Kind::kMultiSig;
  info.m = m;
  while (pos < script.size() && script[pos] == ToByte(OpCode::PUSHDATA1)) {
    if (info.keys.size() == kMaxMultisigKeys) return Malformed("more than 1024 public keys");
    if (pos + kKeyPushSize > script.size()) return Malformed("public key push is truncated");
    if (script[pos + 1] != 33) return Malformed("public key push must be PUSHDATA1 of 33 bytes");
    ASSIGN_OR_RETURN(crypto::PublicKey key, KeyAt(script, pos, info.keys.size()));
    info.keys.push_back(std::move(key));
    pos += kKeyPushSize;
  }
  const auto n = static_cast<int>(info.keys.size());
  if (n < m) return Malformed("m = " + std::to_string(m) + " exceeds the " + std::to_string(n) + " public keys");
  ASSIGN_OR_RETURN(int n_pushed, ReadCount(script, pos, "n"));
  if (n_pushed != n) {
    return Malformed("n = " + std::to_string(n_pushed) + " but the script lists " + std::to_string(n) + " keys");
  }
  if (script.size() - pos != kSysCallSize || script[pos] != ToByte(OpCode::SYSCALL) ||
      ReadU32Le(script.subspan(pos + 1, 4)) != kCheckMultisigId) {
    return Malformed("multisig script must end with SYSCALL System.Crypto.CheckMultisig and nothing after it");
  }
  return info;
}

// Exactly `count` pushes of a 64-byte signature, nothing else.
StatusOr<std::vector<crypto::Signature>> ParseInvocation(const std::vector<uint8_t>& invocation, size_t count) {
  const std::string expected = "invocation script must be exactly " + std::to_string(count) +
                               " push(es) of a 64-byte signature (PUSHDATA1 0x40 …)";
  if (invocation.size() != count * kSignaturePushSize) return InvalidArgumentError(expected);
  std::vector<crypto::Signature> sigs(count);
  for (size_t i = 0; i < count; ++i) {
    const size_t at = i * kSignaturePushSize;
    if (invocation[at] != ToByte(OpCode::PUSHDATA1) || invocation[at + 1] != 64) return InvalidArgumentError(expected);
    std::copy_n(invocation.begin() + static_cast<std::ptrdiff_t>(at + 2), 64, sigs[i].begin());
  }
  return sigs;
}

}  // namespace

std::vector<uint8_t> SignatureInvocation(const crypto::Signature& signature) {
  std::vector<uint8_t> out;
  out.reserve(2 + signature.size());
  out.push_back(static_cast<uint8_t>(OpCode::PUSHDATA1));
  out.push_back(static_cast<uint8_t>(signature.size()));
  out.insert(out.end(), signature.begin(), signature.end());
  return out;
}

std::vector<uint8_t> SingleSigScript(const crypto::PublicKey& key) {
  ScriptBuilder sb;
  sb.EmitPush(key).EmitSysCallId(kCheckSigId);
  return sb.Take();
}

StatusOr<std::vector<uint8_t>> MultiSigScript(int m, std::vector<crypto::PublicKey> keys) {
  const auto n = static_cast<int64_t>(keys.size());
  if (m < 1 || m > n || n > kMaxMultisigKeys) {
    return InvalidArgumentError("multisig needs 1 <= m <= n <= 1024, got m = " + std::to_string(m) +
                                ", n = " + std::to_string(n));
  }
  std::sort(keys.begin(), keys.end());
  if (std::adjacent_find(keys.begin(), keys.end()) != keys.end()) {
    return InvalidArgumentError("multisig public keys must be distinct");
  }
  ScriptBuilder sb;
  sb.EmitPushInt(m);
  for (const crypto::PublicKey& key : keys) sb.EmitPush(key);
  sb.EmitPushInt(n).EmitSysCallId(kCheckMultisigId);
  return sb.Take();
}

UInt160 ScriptHash(std::span<const uint8_t> script) {
  return UInt160(crypto::Hash160(script));
}

std::string ToAddress(const UInt160& script_hash, uint8_t version) {
  std::array<uint8_t, 21> payload{};
  payload[0] = version;
  std::copy(script_hash.bytes().begin(), script_hash.bytes().end(), payload.begin() + 1);
  return crypto::Base58CheckEncode(payload);
}

StatusOr<UInt160> AddressToScriptHash(std::string_view address, uint8_t version) {
  auto decoded = crypto::Base58CheckDecode(address);
  if (!decoded.ok()) return InvalidArgumentError("invalid address: " + std::string(decoded.status().message()));
  if (decoded->size() != 21) return InvalidArgumentError("invalid address: payload is not 21 bytes");
  if ((*decoded)[0] != version) {
    return InvalidArgumentError("invalid address: version byte " + std::to_string((*decoded)[0]) + ", expected " +
                                std::to_string(version));
  }
  return UInt160::FromBytes(std::span(*decoded).subspan(1));
}

StatusOr<VerificationScriptInfo> ParseVerificationScript(std::span<const uint8_t> script) {
  if (script.empty()) return Malformed("empty (a deployed contract's witness, not a standard account)");
  if (script[0] == ToByte(OpCode::PUSHDATA1)) return ParseSingleSig(script);
  return ParseMultiSig(script);
}

Status VerifyWitness(std::span<const uint8_t> signing_data, const std::vector<uint8_t>& invocation,
                     const std::vector<uint8_t>& verification) {
  ASSIGN_OR_RETURN(VerificationScriptInfo info, ParseVerificationScript(verification));
  const auto m = static_cast<size_t>(info.m);
  const size_t n = info.keys.size();
  ASSIGN_OR_RETURN(std::vector<crypto::Signature> sigs, ParseInvocation(invocation, m));
  if (info.kind == VerificationScriptInfo::Kind::kSingleSig) {
    if (!info.keys[0].Verify(signing_data, sigs[0])) {
      return UnauthenticatedError("signature does not verify against the account's public key");
    }
    return Status::Ok();
  }
  // CheckMultisig: walk signatures and keys together; give up as soon as the keys left are
  // fewer than the signatures left.
  size_t i = 0, j = 0;
  while (i < m && j < n) {
    if (info.keys[j].Verify(signing_data, sigs[i])) ++i;
    ++j;
    if (m - i > n - j) {
      return UnauthenticatedError("multisig signature at index " + std::to_string(i) +
                                  " matches none of the remaining public keys (signatures must follow key order)");
    }
  }
  return Status::Ok();
}

}  // namespace neosl::neo
