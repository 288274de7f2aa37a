// The gateway's asynchronous operations as a gRPC service, for services (proto/neosl/operations/
// v1): the pattern of google.longrunning's Operations, over the very operations of the REST API
// (operations.h). Mesh identity `gateway`; the policy says who may call what.
//
// The service exists before the operations do: the mesh server starts first, and serve attaches
// the operations once they are built. Until then every call answers UNAVAILABLE.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <shared_mutex>
#include <string_view>

#include "gateway/operations.h"
#include "mesh/server.h"
#include "neosl/operations/v1/operations.grpc.pb.h"

namespace neosl::gateway {

class OperationsService final : public operations::v1::Operations::CallbackService {
 public:
  static constexpr std::string_view kIdentity = "gateway";
  static constexpr size_t kMaxWaiting = 256;  // WaitOperation calls at once; past it RESOURCE_EXHAUSTED

  explicit OperationsService(mesh::Pipeline& pipeline) : pipeline_(pipeline) {}
  ~OperationsService() override;  // waits for the WaitOperation calls still waiting

  // Calls use `ops` from now on, until Detach, which waits for those using it (stop `ops` first:
  // that ends the waits).
  void Attach(gateway::Operations* ops);
  void Detach();

  grpc::ServerUnaryReactor* StartOperation(grpc::CallbackServerContext* ctx,
                                           const operations::v1::StartOperationRequest* request,
                                           operations::v1::Operation* response) override;
  grpc::ServerUnaryReactor* GetOperation(grpc::CallbackServerContext* ctx,
                                         const operations::v1::GetOperationRequest* request,
                                         operations::v1::Operation* response) override;
  grpc::ServerUnaryReactor* ListOperations(grpc::CallbackServerContext* ctx,
                                           const operations::v1::ListOperationsRequest* request,
                                           operations::v1::ListOperationsResponse* response) override;
  grpc::ServerUnaryReactor* CancelOperation(grpc::CallbackServerContext* ctx,
                                            const operations::v1::CancelOperationRequest* request,
                                            operations::v1::Operation* response) override;
  // Waits on a thread of its own, not on gRPC's.
  grpc::ServerUnaryReactor* WaitOperation(grpc::CallbackServerContext* ctx,
                                          const operations::v1::WaitOperationRequest* request,
                                          operations::v1::Operation* response) override;

 private:
  mesh::Pipeline& pipeline_;
  std::shared_mutex attach_mu_;  // held shared by each call while it uses ops_
  gateway::Operations* ops_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t waiting_ = 0;
};

// An operation as the service answers it.
void RenderOperation(const OperationRecord& op, operations::v1::Operation* out);

}  // namespace neosl::gateway
