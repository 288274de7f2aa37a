// Shared by the files of the functions service: the caller's account, and records → messages.
#pragma once

#include <string>

#include "mesh/context.h"
#include "neosl/functions/v1/functions.pb.h"
#include "services/functions/function_store.h"

namespace neosl::services::functions {

// The account the call acts for: PERMISSION_DENIED when it carries none.
StatusOr<std::string> CallerAccount(const mesh::CallContext& call);

void FunctionToProto(const FunctionRecord& f, bool with_source, ::neosl::functions::v1::Function* out);
// `full`: with args, result, error text and logs (a single execution); else the summary.
void ExecutionToProto(const ExecutionRecord& e, bool full, ::neosl::functions::v1::Execution* out);

}  // namespace neosl::services::functions
