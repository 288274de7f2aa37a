// Witness: the invocation script (signatures) and verification script (the account's contract)
// that prove a signer approved a transaction or a block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <boost/json/fwd.hpp>

#include "core/status.h"
#include "neo/io.h"
#include "neo/uint.h"

namespace neosl::neo {

// Byte layout (Neo.Network.P2P.Payloads.Witness):
//   var-bytes invocation    ≤ 1024 bytes
//   var-bytes verification  ≤ 1024 bytes
struct Witness {
  // Neo sizes these for a 21-member committee multi-signature: 11 signatures of 66 bytes (726)
  // and 21 public keys plus the CHECKMULTISIG call (744), rounded up.
  static constexpr size_t kMaxInvocationScript = 1024;
  static constexpr size_t kMaxVerificationScript = 1024;

  std::vector<uint8_t> invocation;
  std::vector<uint8_t> verification;

  void Encode(BinaryWriter& w) const;
  static StatusOr<Witness> Decode(BinaryReader& r);
  // Serialized size in bytes.
  size_t size() const;
  // Hash160 of the verification script: the account this witness speaks for.
  UInt160 ScriptHash() const;

  // {"invocation": base64, "verification": base64}, as Neo's Witness.ToJson.
  boost::json::value ToJson() const;
  static StatusOr<Witness> FromJson(const boost::json::value& json);

  friend bool operator==(const Witness&, const Witness&) = default;
};

// Bytes a var-int prefix takes for `n`; used to compute sizes without serialising.
size_t VarIntSize(uint64_t n);

}  // namespace neosl::neo
