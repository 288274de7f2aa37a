// AutomationService's RPCs (automation_service.h): requests checked here (spec.h), state changes
// made by the engine, reads straight from the store.
#include "services/automation/automation_service.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/ids.h"

namespace neosl::services {
namespace {

using automation::Page;
using automation::RunRecord;
using automation::TriggerRecord;
using automation::TriggerSpec;

constexpr uint32_t kDefaultPageSize = 50;
constexpr uint32_t kMaxPageSize = 100;
constexpr size_t kMaxIdBytes = 128;
// RunTrigger answers this long before the call's deadline, so that its DEADLINE_EXCEEDED, which
// names the run, reaches the caller instead of the transport's own.
constexpr std::chrono::milliseconds kAnswerMargin{1'000};

StatusOr<std::string> CallerAccount(const mesh::CallContext& call) {
  if (call.account.empty() || !AccountId::IsWellFormed(call.account)) {
    return PermissionDeniedError("triggers belong to an account: the call carries none");
  }
  return call.account;
}

Status CheckId(const std::string& id) {
  if (id.empty() || id.size() > kMaxIdBytes) return FieldViolationError("id", "id must be a trigger id (tg_…)");
  return Status();
}

std::chrono::milliseconds RunWait(const mesh::CallContext& call, std::chrono::milliseconds most) {
  const std::optional<std::chrono::milliseconds> left = call.Remaining();
  if (!left) return most;
  return std::clamp(*left - kAnswerMargin, std::chrono::milliseconds(0), most);
}

StatusOr<Page> PageOf(uint32_t limit, const std::string& token) {
  if (limit > kMaxPageSize) return FieldViolationError("limit", "limit must be 1 to 100 (0: 50)");
  return Page{limit == 0 ? kDefaultPageSize : limit, token};
}

}  // namespace

AutomationService::AutomationService(mesh::Pipeline& pipeline, store::Store& store, automation::Engine& engine,
                                     const Clock& clock, automation::SpecLimits limits, RunTriggerOptions run_options)
    : pipeline_(pipeline),
      triggers_(store),
      engine_(engine),
      clock_(clock),
      limits_(std::move(limits)),
      run_options_(run_options),
      waiter_(store, run_options.poll) {
  engine_.SetRunEndListener([this](const RunRecord& run) { waiter_.Ended(run); });
}

AutomationService::~AutomationService() {
  engine_.SetRunEndListener(nullptr);
}

grpc::ServerUnaryReactor* AutomationService::CreateTrigger(grpc::CallbackServerContext* ctx,
                                                           const automationpb::CreateTriggerRequest* request,
                                                           automationpb::Trigger* response) {
  return pipeline_.Unary(ctx, kIdentity, "CreateTrigger", [&](const mesh::CallContext& call) -> Status {
    ASSIGN_OR_RETURN(std::string account, CallerAccount(call));
    ASSIGN_OR_RETURN(TriggerSpec spec, automation::SpecFromRequest(*request, clock_.NowUnixMillis(), limits_));
    ASSIGN_OR_RETURN(TriggerRecord trigger, engine_.Create(account, std::move(spec), request->paused()));
    automation::RenderTrigger(trigger, response);
    return Status();
  });
}

grpc::ServerUnaryReactor* AutomationService::GetTrigger(grpc::CallbackServerContext* ctx,
                                                        const automationpb::GetTriggerRequest* request,
                                                        automationpb::Trigger* response) {
  return pipeline_.Unary(ctx, kIdentity, "GetTrigger", [&](const mesh::CallContext& call) -> Status {
    ASSIGN_OR_RETURN(std::string account, CallerAccount(call));
    RETURN_IF_ERROR(CheckId(request->id()));
    ASSIGN_OR_RETURN(TriggerRecord trigger, triggers_.Get(account, request->id()));
    automation::RenderTrigger(trigger, response);
    return Status();
  });
}

grpc::ServerUnaryReactor* AutomationService::ListTriggers(grpc::CallbackServerContext* ctx,
                                                          const automationpb::ListTriggersRequest* request,
                                                          automationpb::ListTriggersResponse* response) {
  return pipeline_.Unary(ctx, kIdentity, "ListTriggers", [&](const mesh::CallContext& call) -> Status {
    ASSIGN_OR_RETURN(std::string account, CallerAccount(call));
    ASSIGN_OR_RETURN(Page page, PageOf(request->limit(), request->page_token()));
    std::string next;
    ASSIGN_OR_RETURN(std::vector<TriggerRecord> triggers, triggers_.List(account, page, &next));
    for (const TriggerRecord& t : triggers) automation::RenderTrigger(t, response->add_triggers());
    response->set_next_page_token(next);
    return Status();
  });
}

grpc::ServerUnaryReactor* AutomationService::DeleteTrigger(grpc::CallbackServerContext* ctx,
                                                           const automationpb::DeleteTriggerRequest* request,
                                                           automationpb::Trigger* response) {
  return pipeline_.Unary(ctx, kIdentity, "DeleteTrigger", [&](const mesh::CallContext& call) -> Status {
    ASSIGN_OR_RETURN(std::string account, CallerAccount(call));
    RETURN_IF_ERROR(CheckId(request->id()));
    ASSIGN_OR_RETURN(TriggerRecord trigger, engine_.Delete(account, request->id()));
    automation::RenderTrigger(trigger, response);
    return Status();
  });
}

grpc::ServerUnaryReactor* AutomationService::PauseTrigger(grpc::CallbackServerContext* ctx,
                                                          const automationpb::PauseTriggerRequest* request,
                                                          automationpb::Trigger* response) {
  return pipeline_.Unary(ctx, kIdentity, "PauseTrigger", [&](const mesh::CallContext& call) -> Status {
    ASSIGN_OR_RETURN(std::string account, CallerAccount(call));
    RETURN_IF_ERROR(CheckId(request->id()));
    ASSIGN_OR_RETURN(TriggerRecord trigger, engine_.Pause(account, request->id()));
    automation::RenderTrigger(trigger, response);
    return Status();
  });
}

grpc::ServerUnaryReactor* AutomationService::ResumeTrigger(grpc::CallbackServerContext* ctx,
                                                           const automationpb::ResumeTriggerRequest* request,
                                                           automationpb::Trigger* response) {
  return pipeline_.Unary(ctx, kIdentity, "ResumeTrigger", [&](const mesh::CallContext& call) -> Status {
    ASSIGN_OR_RETURN(std::string account, CallerAccount(call));
    RETURN_IF_ERROR(CheckId(request->id()));
    ASSIGN_OR_RETURN(TriggerRecord trigger, engine_.Resume(account, request->id()));
    automation::RenderTrigger(trigger, response);
    return Status();
  });
}

grpc::ServerUnaryReactor* AutomationService::RunTrigger(grpc::CallbackServerContext* ctx,
                                                        const automationpb::RunTriggerRequest* request,
                                                        automationpb::TriggerRun* response) {
  // The run is recorded on the call's thread; the answer comes when it ends, from the waiter's.
  return pipeline_.UnaryAsync(ctx, kIdentity, "RunTrigger",
                              [this, request, response](const std::shared_ptr<const mesh::CallContext>& call,
                                                        const mesh::Pipeline::Done& done) {
                                StatusOr<std::string> account = CallerAccount(*call);
                                if (!account.ok()) return done(account.status());
                                if (Status s = CheckId(request->id()); !s.ok()) return done(s);
                                StatusOr<RunRecord> run = engine_.RunNow(*account, request->id());
                                if (!run.ok()) return done(run.status());
                                waiter_.Await(run->id, RunWait(*call, run_options_.wait),
                                              [response, done](StatusOr<RunRecord> ended) {
                                                if (!ended.ok()) return done(ended.status());
                                                automation::RenderRun(*ended, response);
                                                done(Status());
                                              });
                              });
}

grpc::ServerUnaryReactor* AutomationService::ListTriggerRuns(grpc::CallbackServerContext* ctx,
                                                             const automationpb::ListTriggerRunsRequest* request,
                                                             automationpb::ListTriggerRunsResponse* response) {
  return pipeline_.Unary(ctx, kIdentity, "ListTriggerRuns", [&](const mesh::CallContext& call) -> Status {
    ASSIGN_OR_RETURN(std::string account, CallerAccount(call));
    RETURN_IF_ERROR(CheckId(request->id()));
    ASSIGN_OR_RETURN(Page page, PageOf(request->limit(), request->page_token()));
    // Another account's trigger is NOT_FOUND, as one that does not exist: its runs too.
    RETURN_IF_ERROR(triggers_.Get(account, request->id()));
    std::string next;
    ASSIGN_OR_RETURN(std::vector<RunRecord> runs, triggers_.ListRuns(request->id(), page, &next));
    for (const RunRecord& r : runs) automation::RenderRun(r, response->add_runs());
    response->set_next_page_token(next);
    return Status();
  });
}

}  // namespace neosl::services
