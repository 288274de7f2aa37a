// OracleService's insides shared by its files (internal to src/services/oracle):
// oracle_service.cpp takes and runs requests, oracle_watch.cpp reads them back and streams them.
#pragma once

#include "core/ids.h"
#include "core/status.h"
#include "mesh/context.h"

namespace neosl::services::oracle_internal {

inline StatusOr<AccountId> CallerAccount(const mesh::CallContext& call) {
  if (call.account.empty() || !AccountId::IsWellFormed(call.account)) {
    return PermissionDeniedError("oracle requests belong to an account: the call carries none");
  }
  return AccountId(call.account);
}

}  // namespace neosl::services::oracle_internal
