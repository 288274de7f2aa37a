// PriceFeedService's insides shared by its two files (internal to src/services/pricefeed):
// pricefeed_service.cpp runs the rounds and publishes, pricefeed_api.cpp answers the RPCs.
#pragma once

#include <string>
#include <string_view>

#include "core/encoding.h"
#include "core/ids.h"
#include "core/status.h"
#include "mesh/context.h"
#include "store/store.h"
#include <google/protobuf/message.h>

namespace neosl::services::pricefeed_internal {

inline std::string Hex(const std::string& bytes) {
  return HexEncode(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

inline StatusOr<AccountId> CallerAccount(const mesh::CallContext& call) {
  if (call.account.empty() || !AccountId::IsWellFormed(call.account)) {
    return PermissionDeniedError("feeds belong to an account: the call carries none");
  }
  return AccountId(call.account);
}

inline Status NoFeed(const std::string& id) {
  return NotFoundError("no feed " + id)
      .WithDetail(ErrorDetail{"ResourceInfo", {}}.Add("resource_type", "feed").Add("resource_name", id));
}

inline std::string Serialized(const google::protobuf::Message& m) {
  std::string out;
  m.SerializeToString(&out);
  return out;
}

inline store::Blob AsBlob(const std::string& s) {
  return store::Blob(s.begin(), s.end());
}

template <typename M>
inline StatusOr<M> Parsed(const store::Blob& blob, std::string_view what) {
  M m;
  if (!m.ParseFromArray(blob.data(), int(blob.size())))
    return DataLossError("a stored " + std::string(what) + " is corrupt");
  return m;
}

}  // namespace neosl::services::pricefeed_internal
