// Signer: an account that signs a transaction and the scope in which its witness counts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "core/status.h"
#include "crypto/p256.h"
#include "neo/io.h"
#include "neo/uint.h"
#include "neo/witness_rule.h"

namespace neosl::neo {

// Flags; names and values are Neo's (WitnessScope.cs). Global cannot be combined with others.
enum class WitnessScope : uint8_t {
  None = 0x00,
  CalledByEntry = 0x01,
  CustomContracts = 0x10,
  CustomGroups = 0x20,
  WitnessRules = 0x40,
  Global = 0x80,
};

constexpr WitnessScope operator|(WitnessScope a, WitnessScope b) {
  return static_cast<WitnessScope>(static_cast<uint8_t>(a) | static_cast<uint8_t>(b));
}
constexpr bool HasScope(WitnessScope scopes, WitnessScope flag) {
  return (static_cast<uint8_t>(scopes) & static_cast<uint8_t>(flag)) != 0;
}
// INVALID_ARGUMENT for unknown bits or Global combined with another flag.
Status ValidateWitnessScope(uint8_t scopes);
// .NET's [Flags] ToString as Neo's RpcServer prints it: "None", "Global",
// "CalledByEntry, CustomContracts" (ascending flag order, ", " between).
std::string WitnessScopeToString(WitnessScope scopes);
// Accepts the names joined by ',' with optional spaces ("CalledByEntry,WitnessRules" as neon-js
// writes it, or with ", " as Neo does).
StatusOr<WitnessScope> ParseWitnessScope(std::string_view text);

// Byte layout (Neo.Network.P2P.Payloads.Signer):
//   UInt160 account            20 bytes
//   u8 scopes
//   if CustomContracts: var-int count (≤16), UInt160 each
//   if CustomGroups:    var-int count (≤16), 33-byte compressed public key each
//   if WitnessRules:    var-int count (≤16), WitnessRule each
// The lists whose flag is not set are not serialised and must be empty.
struct Signer {
  static constexpr size_t kMaxSubitems = 16;

  UInt160 account;
  WitnessScope scopes = WitnessScope::None;
  std::vector<UInt160> allowed_contracts;
  std::vector<crypto::PublicKey> allowed_groups;
  std::vector<WitnessRule> rules;

  // The rules the decoder enforces, for signers built in code.
  Status Validate() const;
  void Encode(BinaryWriter& w) const;
  static StatusOr<Signer> Decode(BinaryReader& r);
  size_t size() const;

  // Neo's Signer.ToJson: {"account":"0x…","scopes":"CalledByEntry, CustomContracts",
  // "allowedcontracts":[…],"allowedgroups":[…],"rules":[…]}; lists only when their flag is set.
  boost::json::value ToJson() const;
  // Also accepts an N3 address as "account", as Neo's RPC server does for request parameters.
  static StatusOr<Signer> FromJson(const boost::json::value& json);

  friend bool operator==(const Signer& a, const Signer& b);
};

}  // namespace neosl::neo
