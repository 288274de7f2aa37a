// Witness rules (Neo 3.1+): a signer with the WitnessRules scope lists rules; CheckWitness walks
// them in order and the first whose condition matches decides (Allow or Deny).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "core/status.h"
#include "crypto/p256.h"
#include "neo/io.h"
#include "neo/uint.h"

namespace neosl::neo {

// The codes and names are Neo's (WitnessConditionType.cs); the names are also the JSON "type".
enum class WitnessConditionType : uint8_t {
  Boolean = 0x00,
  Not = 0x01,
  And = 0x02,
  Or = 0x03,
  ScriptHash = 0x18,
  Group = 0x19,
  CalledByEntry = 0x20,
  CalledByContract = 0x28,
  CalledByGroup = 0x29,
};
std::string_view WitnessConditionTypeName(WitnessConditionType type);

// Byte layout: u8 type, then by type
//   Boolean                    u8 (0 or 1)
//   Not                        one condition
//   And, Or                    var-int count (1..16), conditions
//   ScriptHash, CalledByContract  UInt160 (20 bytes)
//   Group, CalledByGroup       compressed public key (33 bytes)
//   CalledByEntry              nothing
// Nesting is limited to 3 levels counting leaves (Neo PR #3761, neo-go #3815): And(Or(Boolean))
// is the deepest allowed.
class WitnessCondition {
 public:
  static constexpr size_t kMaxSubitems = 16;
  static constexpr int kMaxNestingDepth = 3;

  WitnessCondition() = default;  // Boolean(false)
  static WitnessCondition Boolean(bool expression);
  static WitnessCondition Not(WitnessCondition expression);
  static WitnessCondition And(std::vector<WitnessCondition> expressions);
  static WitnessCondition Or(std::vector<WitnessCondition> expressions);
  static WitnessCondition ScriptHash(const UInt160& hash);
  static WitnessCondition Group(const crypto::PublicKey& group);
  static WitnessCondition CalledByEntry();
  static WitnessCondition CalledByContract(const UInt160& hash);
  static WitnessCondition CalledByGroup(const crypto::PublicKey& group);

  WitnessConditionType type() const { return type_; }
  bool expression() const { return expression_; }  // Boolean
  // And and Or: the operands; Not: exactly one, the negated condition.
  const std::vector<WitnessCondition>& expressions() const { return expressions_; }
  const UInt160& hash() const { return hash_; }                             // ScriptHash, CalledByContract
  const std::optional<crypto::PublicKey>& group() const { return group_; }  // Group, CalledByGroup

  // The limits the decoder enforces (depth, 1..16 operands), for conditions built in code.
  Status Validate() const;
  void Encode(BinaryWriter& w) const;
  static StatusOr<WitnessCondition> Decode(BinaryReader& r);
  size_t size() const;

  // {"type":"And","expressions":[…]}, {"type":"Boolean","expression":true},
  // {"type":"Not","expression":{…}}, {"type":"ScriptHash","hash":"0x…"}, {"type":"Group","group":"02…"}
  boost::json::value ToJson() const;
  static StatusOr<WitnessCondition> FromJson(const boost::json::value& json);

  friend bool operator==(const WitnessCondition& a, const WitnessCondition& b);

 private:
  explicit WitnessCondition(WitnessConditionType type) : type_(type) {}
  Status ValidateAt(int depth_left) const;
  static StatusOr<WitnessCondition> DecodeAt(BinaryReader& r, int depth_left);
  static StatusOr<WitnessCondition> FromJsonAt(const boost::json::value& json, int depth_left);

  WitnessConditionType type_ = WitnessConditionType::Boolean;
  bool expression_ = false;
  std::vector<WitnessCondition> expressions_;
  UInt160 hash_;
  std::optional<crypto::PublicKey> group_;
};

enum class WitnessRuleAction : uint8_t { Deny = 0, Allow = 1 };

// Byte layout: u8 action (0 Deny, 1 Allow), condition.
// JSON: {"action":"Allow","condition":{…}}
struct WitnessRule {
  WitnessRuleAction action = WitnessRuleAction::Deny;
  WitnessCondition condition;

  Status Validate() const { return condition.Validate(); }
  void Encode(BinaryWriter& w) const;
  static StatusOr<WitnessRule> Decode(BinaryReader& r);
  size_t size() const { return 1 + condition.size(); }
  boost::json::value ToJson() const;
  static StatusOr<WitnessRule> FromJson(const boost::json::value& json);

  friend bool operator==(const WitnessRule&, const WitnessRule&) = default;
};

// Neo's ECPoint on the wire: 33 bytes, compressed. Uncompressed (0x04) points are refused when
// decoding: Neo would re-encode them compressed, so they are not canonical.
void WritePublicKey(BinaryWriter& w, const crypto::PublicKey& key);
StatusOr<crypto::PublicKey> ReadPublicKey(BinaryReader& r, std::string_view what);
// Neo's ECPoint.ToString(): compressed, lowercase hex, no prefix. Parsing accepts either form.
std::string PublicKeyToHex(const crypto::PublicKey& key);
StatusOr<crypto::PublicKey> PublicKeyFromHex(std::string_view hex, std::string_view what);
bool SamePublicKey(const crypto::PublicKey& a, const crypto::PublicKey& b);

}  // namespace neosl::neo
