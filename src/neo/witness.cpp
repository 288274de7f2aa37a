#include "neo/witness.h"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "crypto/hash.h"
#include "neo/payload_json.h"

namespace neosl::neo {

size_t VarIntSize(uint64_t n) {
  if (n < 0xFD) return 1;
  if (n <= 0xFFFF) return 3;
  if (n <= 0xFFFFFFFF) return 5;
  return 9;
}

void Witness::Encode(BinaryWriter& w) const {
  w.VarBytes(invocation);
  w.VarBytes(verification);
}

StatusOr<Witness> Witness::Decode(BinaryReader& r) {
  Witness out;
  ASSIGN_OR_RETURN(out.invocation, r.VarBytes("witness invocation script", kMaxInvocationScript));
  ASSIGN_OR_RETURN(out.verification, r.VarBytes("witness verification script", kMaxVerificationScript));
  return out;
}

size_t Witness::size() const {
  return VarIntSize(invocation.size()) + invocation.size() + VarIntSize(verification.size()) + verification.size();
}

UInt160 Witness::ScriptHash() const {
  return UInt160(crypto::Hash160(verification));
}

boost::json::value Witness::ToJson() const {
  return boost::json::object{{"invocation", Base64Encode(invocation)}, {"verification", Base64Encode(verification)}};
}

StatusOr<Witness> Witness::FromJson(const boost::json::value& json) {
  ASSIGN_OR_RETURN(const boost::json::object* obj, rpcjson::AsObject(json, "witness"));
  Witness out;
  ASSIGN_OR_RETURN(std::string_view inv, rpcjson::StringField(*obj, "invocation", "witness"));
  ASSIGN_OR_RETURN(out.invocation, rpcjson::Base64Decode(inv, "witness invocation"));
  ASSIGN_OR_RETURN(std::string_view ver, rpcjson::StringField(*obj, "verification", "witness"));
  ASSIGN_OR_RETURN(out.verification, rpcjson::Base64Decode(ver, "witness verification"));
  if (out.invocation.size() > kMaxInvocationScript) {
    return InvalidArgumentError("witness invocation script exceeds " + std::to_string(kMaxInvocationScript) + " bytes");
  }
  if (out.verification.size() > kMaxVerificationScript) {
    return InvalidArgumentError("witness verification script exceeds " + std::to_string(kMaxVerificationScript) +
                                " bytes");
  }
  return out;
}

}  // namespace neosl::neo
