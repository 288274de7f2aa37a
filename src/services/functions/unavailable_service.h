// The functions service's stand-in while no JavaScript runtime runs in this process: every
// method answers UNAVAILABLE "functions runtime not running" (after the mesh's admission checks,
// so callers still see PERMISSION_DENIED and the like first). Logged once.
#pragma once

#include <atomic>

#include "mesh/server.h"
#include "neosl/functions/v1/functions.grpc.pb.h"

namespace neosl::services {

class UnavailableFunctionsService final : public ::neosl::functions::v1::Functions::CallbackService {
 public:
  explicit UnavailableFunctionsService(mesh::Pipeline& pipeline) : pipeline_(pipeline) {}

  grpc::ServerUnaryReactor* CreateFunction(grpc::CallbackServerContext* ctx,
                                           const ::neosl::functions::v1::CreateFunctionRequest*,
                                           ::neosl::functions::v1::Function*) override;
  grpc::ServerUnaryReactor* GetFunction(grpc::CallbackServerContext* ctx,
                                        const ::neosl::functions::v1::GetFunctionRequest*,
                                        ::neosl::functions::v1::Function*) override;
  grpc::ServerUnaryReactor* ListFunctions(grpc::CallbackServerContext* ctx,
                                          const ::neosl::functions::v1::ListFunctionsRequest*,
                                          ::neosl::functions::v1::ListFunctionsResponse*) override;
  grpc::ServerUnaryReactor* UpdateFunction(grpc::CallbackServerContext* ctx,
                                           const ::neosl::functions::v1::UpdateFunctionRequest*,
                                           ::neosl::functions::v1::Function*) override;
  grpc::ServerUnaryReactor* DeleteFunction(grpc::CallbackServerContext* ctx,
                                           const ::neosl::functions::v1::DeleteFunctionRequest*,
                                           ::neosl::functions::v1::DeleteFunctionResponse*) override;
  grpc::ServerUnaryReactor* InvokeFunction(grpc::CallbackServerContext* ctx,
                                           const ::neosl::functions::v1::InvokeFunctionRequest*,
                                           ::neosl::functions::v1::Execution*) override;
  grpc::ServerUnaryReactor* ListExecutions(grpc::CallbackServerContext* ctx,
                                           const ::neosl::functions::v1::ListExecutionsRequest*,
                                           ::neosl::functions::v1::ListExecutionsResponse*) override;
  grpc::ServerUnaryReactor* GetExecution(grpc::CallbackServerContext* ctx,
                                         const ::neosl::functions::v1::GetExecutionRequest*,
                                         ::neosl::functions::v1::Execution*) override;
  grpc::ServerWriteReactor<::neosl::functions::v1::LogEntry>* StreamFunctionLogs(
      grpc::CallbackServerContext* ctx, const ::neosl::functions::v1::StreamFunctionLogsRequest*) override;

 private:
  grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* ctx, std::string_view operation);

  mesh::Pipeline& pipeline_;
  std::atomic<bool> logged_{false};
};

}  // namespace neosl::services
