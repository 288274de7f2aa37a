// The Functions service (proto/neosl/functions/v1, docs/functions.md): developers deploy
// JavaScript, and invocations run it in the enclave through the runtime (runtime/runner.h), which
// signs every result with the enclave's report key. This service validates and versions the
// code, grants a function its secrets and has them handed to each invocation (through the
// secrets service on the mesh), stores every execution with its proof, and fans the console
// lines of running invocations out to log streams.
//
// Invocations are paid for through the gas bank (issue #12): the fee of the longest a function
// may run (its time limit) is held before anything of the invocation happens, whoever asks for
// it — the gateway, or a service acting for an account — then charged by the milliseconds a
// successful run took, or released when it failed, timed out or never ran.
//
// Nothing here blocks a gRPC thread: store transactions, calls to the secrets service and the
// runtime's syntax check run on the service's own few threads (WorkQueue), an invocation waits
// for the runtime by callback, and executions are stored in batches by one writer thread
// (ExecutionWriter), which answers each invocation once its record is committed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "core/work_queue.h"
#include "crypto/p256.h"
#include "mesh/client.h"
#include "mesh/server.h"
#include "neosl/functions/v1/functions.grpc.pb.h"
#include "runtime/runner.h"
#include "services/functions/execution_writer.h"
#include "services/functions/function_store.h"
#include "services/functions/log_hub.h"
#include "services/gasbank/charging.h"
#include "store/store.h"

namespace neosl::services {

namespace functionspb = ::neosl::functions::v1;

struct FunctionsOptions {
  int64_t max_functions_per_account = 1000;  // functions.max_per_account
  int64_t max_executions_kept = 1000;        // functions.max_executions_kept, per function
  size_t log_stream_queue = 256;             // functions.log_stream_queue: lines a stream may lag
  size_t max_log_streams_per_function = 64;
  size_t threads = 4;   // functions.service_threads
  size_t queue = 1024;  // requests waiting for those threads before RESOURCE_EXHAUSTED
};

class FunctionsService final : public functionspb::Functions::CallbackService {
 public:
  static constexpr std::string_view kIdentity = "functions";

  // `secrets`: this service's mesh client (identity "functions"), for GrantSecrets and
  // ResolveSecrets. `report_key`: the enclave key results are signed by, shown in answers.
  // `charger`: how invocations are paid for (gas bank holds, issue #12); default: not charged.
  FunctionsService(mesh::Pipeline& pipeline, store::Store& store, runtime::FunctionRunner& runner,
                   mesh::MeshClient& secrets, const Clock& clock, RandomSource& random, crypto::PublicKey report_key,
                   FunctionsOptions options = {}, gasbank::GasCharger charger = {});
  // Waits for invocations in flight to be stored.
  ~FunctionsService() override;

  grpc::ServerUnaryReactor* CreateFunction(grpc::CallbackServerContext* ctx,
                                           const functionspb::CreateFunctionRequest* request,
                                           functionspb::Function* response) override;
  grpc::ServerUnaryReactor* GetFunction(grpc::CallbackServerContext* ctx,
                                        const functionspb::GetFunctionRequest* request,
                                        functionspb::Function* response) override;
  grpc::ServerUnaryReactor* ListFunctions(grpc::CallbackServerContext* ctx,
                                          const functionspb::ListFunctionsRequest* request,
                                          functionspb::ListFunctionsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateFunction(grpc::CallbackServerContext* ctx,
                                           const functionspb::UpdateFunctionRequest* request,
                                           functionspb::Function* response) override;
  grpc::ServerUnaryReactor* DeleteFunction(grpc::CallbackServerContext* ctx,
                                           const functionspb::DeleteFunctionRequest* request,
                                           functionspb::DeleteFunctionResponse* response) override;
  grpc::ServerUnaryReactor* InvokeFunction(grpc::CallbackServerContext* ctx,
                                           const functionspb::InvokeFunctionRequest* request,
                                           functionspb::Execution* response) override;
  grpc::ServerUnaryReactor* ListExecutions(grpc::CallbackServerContext* ctx,
                                           const functionspb::ListExecutionsRequest* request,
                                           functionspb::ListExecutionsResponse* response) override;
  grpc::ServerUnaryReactor* GetExecution(grpc::CallbackServerContext* ctx,
                                         const functionspb::GetExecutionRequest* request,
                                         functionspb::Execution* response) override;
  grpc::ServerWriteReactor<functionspb::LogEntry>* StreamFunctionLogs(
      grpc::CallbackServerContext* ctx, const functionspb::StreamFunctionLogsRequest* request) override;

  functions::LogHub& log_hub() { return hub_; }

 private:
  using Work = std::function<Status(const mesh::CallContext&)>;
  // Admits the call, then runs `work` on the service's threads (RESOURCE_EXHAUSTED when they
  // are all busy and the queue is full).
  grpc::ServerUnaryReactor* Blocking(grpc::CallbackServerContext* ctx, std::string_view operation, Work work);

  Status Create(const mesh::CallContext& call, const functionspb::CreateFunctionRequest& request,
                functionspb::Function* response);
  Status Get(const mesh::CallContext& call, const functionspb::GetFunctionRequest& request,
             functionspb::Function* response);
  Status List(const mesh::CallContext& call, const functionspb::ListFunctionsRequest& request,
              functionspb::ListFunctionsResponse* response);
  Status Update(const mesh::CallContext& call, const functionspb::UpdateFunctionRequest& request,
                functionspb::Function* response);
  Status Delete(const mesh::CallContext& call, const functionspb::DeleteFunctionRequest& request,
                functionspb::DeleteFunctionResponse* response);
  Status ListExecutionsOf(const mesh::CallContext& call, const functionspb::ListExecutionsRequest& request,
                          functionspb::ListExecutionsResponse* response);
  Status GetExecutionOf(const mesh::CallContext& call, const functionspb::GetExecutionRequest& request,
                        functionspb::Execution* response);

  // Invocation in steps: prepare (store), hold the fee of the longest it may run (gas bank),
  // resolve its secrets on a service thread, run on the runtime, and store the outcome through
  // the execution writer; then charge what it ran (or release the hold) and answer.
  void Invoke(const std::shared_ptr<const mesh::CallContext>& call, const functionspb::InvokeFunctionRequest& request,
              functionspb::Execution* response, const mesh::Pipeline::Done& done);
  void Finished(const runtime::Invocation& invocation, const gasbank::ChargeHold& hold, int64_t started_at_ms,
                StatusOr<runtime::Outcome> outcome, functionspb::Execution* response, const mesh::Pipeline::Done& done,
                const std::shared_ptr<const mesh::CallContext>& call);
  // Charges `hold` with `used_ms` (an execution that succeeded and is stored), else releases it,
  // then answers `answer`. The bank is called on the service's threads, never the runtime's or
  // the writer's.
  void Settle(const gasbank::ChargeHold& hold, std::optional<int64_t> used_ms, const Status& answer,
              const mesh::Pipeline::Done& done, const std::shared_ptr<const mesh::CallContext>& call);

  // The function's grants become exactly `names` (GrantSecrets); the names with no secret yet.
  StatusOr<std::vector<std::string>> Grant(const std::string& account, const std::string& function_id,
                                           const std::vector<std::string>& names);
  // The sealed secrets for one invocation (ResolveSecrets).
  StatusOr<std::vector<runtime::SealedSecret>> Resolve(const std::string& account, const std::string& function_id,
                                                       const std::vector<std::string>& names,
                                                       const std::string& execution_id);
  // INVALID_ARGUMENT with line and column when the runtime says the source does not compile.
  Status CheckCompiles(const std::string& source);

  void InvocationStarted();
  void InvocationEnded();

  mesh::Pipeline& pipeline_;
  functions::FunctionStore store_;
  runtime::FunctionRunner& runner_;
  mesh::MeshClient& secrets_;
  const Clock& clock_;
  RandomSource& random_;
  crypto::PublicKey report_key_;
  FunctionsOptions options_;
  gasbank::GasCharger charger_;
  functions::LogHub hub_;

  std::mutex inflight_mu_;
  std::condition_variable inflight_cv_;
  int64_t inflight_ = 0;
  // Last: their threads stop first, while everything they use still exists.
  std::unique_ptr<functions::ExecutionWriter> writer_;
  std::unique_ptr<WorkQueue> work_;
};

}  // namespace neosl::services
