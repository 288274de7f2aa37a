// The Automation service on the mesh (proto/neosl/automation/v1, docs/automation.md): the seed's
// Trigger Manager. Every RPC acts for the call's account; a trigger of another account is
// NOT_FOUND, exactly as one that does not exist. Creating checks the request (spec.h) and hands
// the spec to the engine, which stores it and arms it; reads come from the store. RunTrigger
// records a manual run through the engine and answers once the run has ended (run_waiter.h).
#pragma once

#include <chrono>
#include <string_view>

#include "core/clock.h"
#include "mesh/server.h"
#include "neosl/automation/v1/automation.grpc.pb.h"
#include "services/automation/engine.h"
#include "services/automation/run_waiter.h"
#include "services/automation/spec.h"
#include "services/automation/trigger_store.h"
#include "store/store.h"

namespace neosl::services {

namespace automationpb = ::neosl::automation::v1;

struct RunTriggerOptions {
  // How long RunTrigger waits for its run to end (less when the call's deadline is sooner) before
  // answering DEADLINE_EXCEEDED with the run's id. The gateway's deadline for the call is longer.
  std::chrono::milliseconds wait{60'000};
  // How often a run waited for is read from the store: the leader's engine may be another
  // replica's, whose ends are not told here. Ends here are told at once.
  std::chrono::milliseconds poll{1'000};
};

class AutomationService final : public automationpb::Automation::CallbackService {
 public:
  static constexpr std::string_view kIdentity = "automation";

  // References must outlive the service.
  AutomationService(mesh::Pipeline& pipeline, store::Store& store, automation::Engine& engine, const Clock& clock,
                    automation::SpecLimits limits, RunTriggerOptions run_options = {});
  ~AutomationService() override;  // stops hearing of the engine's runs; open RunTrigger calls: UNAVAILABLE

  grpc::ServerUnaryReactor* CreateTrigger(grpc::CallbackServerContext* ctx,
                                          const automationpb::CreateTriggerRequest* request,
                                          automationpb::Trigger* response) override;
  grpc::ServerUnaryReactor* GetTrigger(grpc::CallbackServerContext* ctx, const automationpb::GetTriggerRequest* request,
                                       automationpb::Trigger* response) override;
  grpc::ServerUnaryReactor* ListTriggers(grpc::CallbackServerContext* ctx,
                                         const automationpb::ListTriggersRequest* request,
                                         automationpb::ListTriggersResponse* response) override;
  grpc::ServerUnaryReactor* DeleteTrigger(grpc::CallbackServerContext* ctx,
                                          const automationpb::DeleteTriggerRequest* request,
                                          automationpb::Trigger* response) override;
  grpc::ServerUnaryReactor* PauseTrigger(grpc::CallbackServerContext* ctx,
                                         const automationpb::PauseTriggerRequest* request,
                                         automationpb::Trigger* response) override;
  grpc::ServerUnaryReactor* ResumeTrigger(grpc::CallbackServerContext* ctx,
                                          const automationpb::ResumeTriggerRequest* request,
                                          automationpb::Trigger* response) override;
  grpc::ServerUnaryReactor* RunTrigger(grpc::CallbackServerContext* ctx, const automationpb::RunTriggerRequest* request,
                                       automationpb::TriggerRun* response) override;
  grpc::ServerUnaryReactor* ListTriggerRuns(grpc::CallbackServerContext* ctx,
                                            const automationpb::ListTriggerRunsRequest* request,
                                            automationpb::ListTriggerRunsResponse* response) override;

 private:
  mesh::Pipeline& pipeline_;
  automation::TriggerStore triggers_;
  automation::Engine& engine_;
  const Clock& clock_;
  const automation::SpecLimits limits_;
  const RunTriggerOptions run_options_;
  automation::RunWaiter waiter_;  // last: goes first, answering open waits before the rest goes
};

}  // namespace neosl::services
