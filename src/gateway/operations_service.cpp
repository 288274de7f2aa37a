#include "gateway/operations_service.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "core/encoding.h"

namespace neosl::gateway {
namespace {

namespace json = boost::json;
namespace pb = operations::v1;

constexpr uint32_t kDefaultPage = 50;
constexpr std::chrono::milliseconds kMaxWait{60'000};

StatusOr<gateway::Operations*> Attached(gateway::Operations* ops) {
  if (!ops) return UnavailableError("the gateway's operations are not running");
  return ops;
}

Status CheckName(const std::string& name) {
  if (name.empty() || name.size() > 64) return FieldViolationError("name", "name must be an operation id (op_…)");
  return Status();
}

// The stored error body {"code","message","details"} as the service's Status.
void RenderError(const std::string& error_json, common::v1::Status* out) {
  boost::system::error_code ec;
  json::value v = json::parse(error_json, ec);
  const json::object* o = !ec && v.is_object() ? &v.as_object() : nullptr;
  const json::value* code = o ? o->if_contains("code") : nullptr;
  const json::value* message = o ? o->if_contains("message") : nullptr;
  std::optional<StatusCode> parsed = code && code->is_string() ? StatusCodeFromName(code->as_string()) : std::nullopt;
  out->set_code(int32_t(parsed.value_or(StatusCode::kUnknown)));
  out->set_message(message && message->is_string() ? std::string(message->as_string()) : error_json);
}

}  // namespace

void RenderOperation(const OperationRecord& op, pb::Operation* out) {
  out->set_name(op.id);
  out->set_kind(op.kind);
  out->set_state(std::string(OperationStateName(op.state)));
  out->set_done(IsFinal(op.state));
  out->set_attempts(op.attempts);
  out->set_created_at(FormatRfc3339Millis(op.created_at_ms));
  if (op.started_at_ms) out->set_started_at(FormatRfc3339Millis(*op.started_at_ms));
  if (op.finished_at_ms) out->set_finished_at(FormatRfc3339Millis(*op.finished_at_ms));
  if (IsFinal(op.state)) out->set_http_status(op.http_status);
  if (op.state == OperationState::kSucceeded) out->set_response_json(op.result_json);
  if (op.state == OperationState::kFailed || op.state == OperationState::kCancelled) {
    RenderError(op.error_json, out->mutable_error());
  }
  out->set_webhook_url(op.webhook_url);
}

void OperationsService::Attach(gateway::Operations* ops) {
  std::unique_lock lock(attach_mu_);
  ops_ = ops;
}

void OperationsService::Detach() {
  std::unique_lock lock(attach_mu_);
  ops_ = nullptr;
}

OperationsService::~OperationsService() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return waiting_ == 0; });
}

grpc::ServerUnaryReactor* OperationsService::StartOperation(grpc::CallbackServerContext* ctx,
                                                            const pb::StartOperationRequest* request,
                                                            pb::Operation* response) {
  return pipeline_.Unary(ctx, kIdentity, "StartOperation", [&](const mesh::CallContext& call) -> Status {
    std::shared_lock attached(attach_mu_);
    ASSIGN_OR_RETURN(gateway::Operations * ops, Attached(ops_));
    gateway::Operations::StartRequest start;
    start.kind = request->kind();
    start.account = call.account;
    start.caller = call.caller;
    // Sorted: the order of a map is not the caller's, and errors should not depend on it.
    for (const auto& [name, value] : request->path_params()) start.path_params.emplace_back(name, value);
    std::sort(start.path_params.begin(), start.path_params.end());
    start.body = request->body_json();
    start.webhook_url = request->webhook_url();
    start.trace_id = call.trace_id;
    ASSIGN_OR_RETURN(OperationRecord op, ops->Start(start));
    RenderOperation(op, response);
    return Status();
  });
}

grpc::ServerUnaryReactor* OperationsService::GetOperation(grpc::CallbackServerContext* ctx,
                                                          const pb::GetOperationRequest* request,
                                                          pb::Operation* response) {
  return pipeline_.Unary(ctx, kIdentity, "GetOperation", [&](const mesh::CallContext& call) -> Status {
    std::shared_lock attached(attach_mu_);
    ASSIGN_OR_RETURN(gateway::Operations * ops, Attached(ops_));
    RETURN_IF_ERROR(CheckName(request->name()));
    ASSIGN_OR_RETURN(OperationRecord op, ops->Get(call.account, request->name()));
    RenderOperation(op, response);
    return Status();
  });
}

grpc::ServerUnaryReactor* OperationsService::ListOperations(grpc::CallbackServerContext* ctx,
                                                            const pb::ListOperationsRequest* request,
                                                            pb::ListOperationsResponse* response) {
  return pipeline_.Unary(ctx, kIdentity, "ListOperations", [&](const mesh::CallContext& call) -> Status {
    std::shared_lock attached(attach_mu_);
    ASSIGN_OR_RETURN(gateway::Operations * ops, Attached(ops_));
    if (request->page_size() > 100) return FieldViolationError("page_size", "page_size must be 1 to 100 (0: 50)");
    std::string next;
    ASSIGN_OR_RETURN(auto list, ops->List(call.account, request->page_size() == 0 ? kDefaultPage : request->page_size(),
                                          request->page_token(), &next));
    for (const OperationRecord& op : list) RenderOperation(op, response->add_operations());
    response->set_next_page_token(next);
    return Status();
  });
}

grpc::ServerUnaryReactor* OperationsService::CancelOperation(grpc::CallbackServerContext* ctx,
                                                             const pb::CancelOperationRequest* request,
                                                             pb::Operation* response) {
  return pipeline_.Unary(ctx, kIdentity, "CancelOperation", [&](const mesh::CallContext& call) -> Status {
    std::shared_lock attached(attach_mu_);
    ASSIGN_OR_RETURN(gateway::Operations * ops, Attached(ops_));
    RETURN_IF_ERROR(CheckName(request->name()));
    ASSIGN_OR_RETURN(OperationRecord op, ops->Cancel(call.account, request->name(), "service:" + call.caller));
    RenderOperation(op, response);
    return Status();
  });
}

grpc::ServerUnaryReactor* OperationsService::WaitOperation(grpc::CallbackServerContext* ctx,
                                                           const pb::WaitOperationRequest* request,
                                                           pb::Operation* response) {
  return pipeline_.UnaryAsync(
      ctx, kIdentity, "WaitOperation",
      [this, request, response](const std::shared_ptr<const mesh::CallContext>& call,
                                const mesh::Pipeline::Done& done) {
        if (Status s = CheckName(request->name()); !s.ok()) return done(s);
        if (request->timeout_ms() > kMaxWait.count()) {
          return done(FieldViolationError("timeout_ms", "timeout_ms must be at most 60000 (0: 60000)"));
        }
        std::chrono::milliseconds timeout =
            request->timeout_ms() == 0 ? kMaxWait : std::chrono::milliseconds(request->timeout_ms());
        // The call's own deadline bounds it too: answer before it passes, with the state then.
        if (auto remaining = call->Remaining()) timeout = std::min(timeout, *remaining * 9 / 10);
        {
          std::lock_guard lock(mu_);
          if (waiting_ >= kMaxWaiting) {
            return done(ResourceExhaustedError("too many WaitOperation calls at once; poll GetOperation"));
          }
          waiting_ += 1;
        }
        std::thread([this, call, request, response, done, timeout] {
          {
            std::shared_lock attached(attach_mu_);
            auto ops = Attached(ops_);
            StatusOr<OperationRecord> op = ops.ok() ? (*ops)->Wait(call->account, request->name(), timeout)
                                                    : StatusOr<OperationRecord>(ops.status());
            if (op.ok()) RenderOperation(*op, response);
            done(op.status());
          }
          std::lock_guard lock(mu_);
          waiting_ -= 1;
          cv_.notify_all();
        }).detach();
      });
}

}  // namespace neosl::gateway
