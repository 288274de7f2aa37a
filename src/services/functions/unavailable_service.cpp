#include "services/functions/unavailable_service.h"

#include "core/log.h"
#include "mesh/context.h"

namespace neosl::services {
namespace {

namespace pb = ::neosl::functions::v1;
constexpr std::string_view kIdentity = "functions";

Status NotRunning() {
  return UnavailableError("functions runtime not running");
}

}  // namespace

grpc::ServerUnaryReactor* UnavailableFunctionsService::Refuse(grpc::CallbackServerContext* ctx,
                                                              std::string_view operation) {
  return pipeline_.Unary(ctx, kIdentity, operation, [this](const mesh::CallContext&) {
    if (!logged_.exchange(true)) {
      log::Warn("a functions call was refused: no JavaScript runtime runs in this process", {});
    }
    return NotRunning();
  });
}

grpc::ServerUnaryReactor* UnavailableFunctionsService::CreateFunction(grpc::CallbackServerContext* ctx,
                                                                      const pb::CreateFunctionRequest*, pb::Function*) {
  return Refuse(ctx, "CreateFunction");
}
grpc::ServerUnaryReactor* UnavailableFunctionsService::GetFunction(grpc::CallbackServerContext* ctx,
                                                                   const pb::GetFunctionRequest*, pb::Function*) {
  return Refuse(ctx, "GetFunction");
}
grpc::ServerUnaryReactor* UnavailableFunctionsService::ListFunctions(grpc::CallbackServerContext* ctx,
                                                                     const pb::ListFunctionsRequest*,
                                                                     pb::ListFunctionsResponse*) {
  return Refuse(ctx, "ListFunctions");
}
grpc::ServerUnaryReactor* UnavailableFunctionsService::UpdateFunction(grpc::CallbackServerContext* ctx,
                                                                      const pb::UpdateFunctionRequest*, pb::Function*) {
  return Refuse(ctx, "UpdateFunction");
}
grpc::ServerUnaryReactor* UnavailableFunctionsService::DeleteFunction(grpc::CallbackServerContext* ctx,
                                                                      const pb::DeleteFunctionRequest*,
                                                                      pb::DeleteFunctionResponse*) {
  return Refuse(ctx, "DeleteFunction");
}
grpc::ServerUnaryReactor* UnavailableFunctionsService::InvokeFunction(grpc::CallbackServerContext* ctx,
                                                                      const pb::InvokeFunctionRequest*,
                                                                      pb::Execution*) {
  return Refuse(ctx, "InvokeFunction");
}
grpc::ServerUnaryReactor* UnavailableFunctionsService::ListExecutions(grpc::CallbackServerContext* ctx,
                                                                      const pb::ListExecutionsRequest*,
                                                                      pb::ListExecutionsResponse*) {
  return Refuse(ctx, "ListExecutions");
}
grpc::ServerUnaryReactor* UnavailableFunctionsService::GetExecution(grpc::CallbackServerContext* ctx,
                                                                    const pb::GetExecutionRequest*, pb::Execution*) {
  return Refuse(ctx, "GetExecution");
}

grpc::ServerWriteReactor<pb::LogEntry>* UnavailableFunctionsService::StreamFunctionLogs(
    grpc::CallbackServerContext* ctx, const pb::StreamFunctionLogsRequest*) {
  class Refused final : public grpc::ServerWriteReactor<pb::LogEntry> {
   public:
    explicit Refused(const Status& s) { Finish(mesh::ToGrpcStatus(s)); }
    void OnDone() override { delete this; }
  };
  auto call = pipeline_.Admit(ctx, kIdentity, "StreamFunctionLogs");
  return new Refused(call.ok() ? NotRunning() : call.status());
}

}  // namespace neosl::services
