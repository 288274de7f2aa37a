// StreamFunctionLogs: one gRPC write reactor per subscriber, fed by the LogHub.
//
// The reactor writes one entry at a time. Entries wait in the subscriber's LogQueue (bounded;
// the hub drops a subscriber that fills it), and the hub's notification pumps the next write.
// gRPC calls are never made while holding a lock; the `writing` and `finished` flags make sure
// only one thread at a time may start a write or finish, so the reactor lives until they are done.
#include <memory>
#include <mutex>
#include <utility>

#include "core/log.h"
#include "mesh/context.h"
#include "services/functions/functions_service.h"
#include "services/functions/service_internal.h"
#include "services/functions/validation.h"
#include <grpcpp/support/server_callback.h>

namespace neosl::services {
namespace {

using functions::LogHub;
using functions::LogQueue;

class LogStreamReactor;

struct StreamState {
  std::mutex mu;
  LogStreamReactor* reactor = nullptr;  // null once the call is done
  std::shared_ptr<LogQueue> queue;
  functionspb::LogEntry current;  // the entry being written
  bool writing = false;
  bool finished = false;
  bool cancelled = false;
};

class LogStreamReactor final : public grpc::ServerWriteReactor<functionspb::LogEntry> {
 public:
  LogStreamReactor(LogHub& hub, std::string function_id)
      : hub_(hub), function_id_(std::move(function_id)), state_(std::make_shared<StreamState>()) {
    state_->reactor = this;
  }

  // Ends the call at once (refused before subscribing).
  void Refuse(const Status& status) {
    {
      std::lock_guard lock(state_->mu);
      state_->finished = true;
    }
    Finish(mesh::ToGrpcStatus(status));
  }

  // Subscribes; the stream then runs until cancelled, closed or dropped.
  void Start() {
    std::weak_ptr<StreamState> weak = state_;
    auto queue = hub_.Subscribe(function_id_, [weak] {
      if (auto state = weak.lock()) Pump(state);
    });
    if (!queue.ok()) {
      Refuse(queue.status());
      return;
    }
    // Tells the client the subscription is live (its initial metadata arrives). Before any write:
    // until the queue is set below, notifications find nothing to pump.
    StartSendInitialMetadata();
    {
      std::lock_guard lock(state_->mu);
      state_->queue = std::move(*queue);
    }
    Pump(state_);
  }

  void OnSendInitialMetadataDone(bool ok) override {
    if (!ok) MarkCancelled();
  }
  void OnWriteDone(bool ok) override {
    {
      std::lock_guard lock(state_->mu);
      state_->writing = false;
      if (!ok) state_->cancelled = true;  // the client is gone
    }
    Pump(state_);
  }
  void OnCancel() override { MarkCancelled(); }
  void OnDone() override {
    std::shared_ptr<LogQueue> queue;
    {
      std::lock_guard lock(state_->mu);
      state_->reactor = nullptr;
      queue = state_->queue;
    }
    if (queue) hub_.Unsubscribe(function_id_, queue.get());
    delete this;
  }

  // Starts the next write, or finishes the call, unless a write is under way.
  static void Pump(const std::shared_ptr<StreamState>& state) {
    std::unique_lock lock(state->mu);
    LogStreamReactor* reactor = state->reactor;
    if (!reactor || state->writing || state->finished || !state->queue) return;
    if (state->cancelled) {
      state->finished = true;
      lock.unlock();
      reactor->Finish(grpc::Status::CANCELLED);
      return;
    }
    std::optional<Status> closed = state->queue->closed();
    if (auto next = state->queue->Pop()) {
      state->current = std::move(*next);
      state->writing = true;
      lock.unlock();
      reactor->StartWrite(&state->current);
      return;
    }
    if (closed) {
      state->finished = true;
      lock.unlock();
      if (!closed->ok()) log::Warn("log stream dropped", {{"function_id", reactor->function_id_}});
      reactor->Finish(mesh::ToGrpcStatus(*closed));
    }
  }

 private:
  void MarkCancelled() {
    {
      std::lock_guard lock(state_->mu);
      state_->cancelled = true;
    }
    Pump(state_);
  }

  LogHub& hub_;
  const std::string function_id_;
  std::shared_ptr<StreamState> state_;
};

}  // namespace

grpc::ServerWriteReactor<functionspb::LogEntry>* FunctionsService::StreamFunctionLogs(
    grpc::CallbackServerContext* ctx, const functionspb::StreamFunctionLogsRequest* request) {
  auto* reactor = new LogStreamReactor(hub_, request->function_id());
  auto call = pipeline_.Admit(ctx, kIdentity, "StreamFunctionLogs");
  Status refused;
  if (!call.ok()) {
    refused = call.status();
  } else {
    mesh::ScopedCall scope(&*call);
    auto account = functions::CallerAccount(*call);
    if (!account.ok()) {
      refused = account.status();
    } else if (Status s = functions::CheckFunctionId(request->function_id(), "function_id"); !s.ok()) {
      refused = s;
    } else {
      // Another account's function is not found.
      refused = store_.Get(*account, request->function_id()).status();
    }
  }
  if (!refused.ok()) {
    reactor->Refuse(refused);
  } else {
    reactor->Start();
  }
  return reactor;
}

}  // namespace neosl::services
