// What the tests of the automation actions (actions.h) share: the charging harness (a SQLite
// store with every migration, the default mesh policy, an in-process server with the fake gas
// bank), a fake functions service served beside it, and a mesh client with the automation
// service's identity that finds both — so the runner's calls pass the same policy as in
// `neosl serve`, and the bank sees who reserves and charges.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "mesh/client.h"
#include "mesh/registry.h"
#include "mesh/server.h"
#include "neosl/functions/v1/functions.grpc.pb.h"
#include "services/automation/actions.h"
#include "unit/services/charging_harness.h"

namespace neosl::automation::testing {

namespace functionspb = ::neosl::functions::v1;

inline constexpr char kAccount[] = "acc_aaaaaaaaaaaaaaaaaaaa";
inline constexpr char kTriggerId[] = "tg_0123456789abcdefghij";
inline constexpr int64_t kScheduledMs = 1'763'776'800'000;  // 2025-11-22T02:00:00Z

// One InvokeFunction as the fake functions service received it.
struct InvokeCall {
  std::string caller;
  std::string account;
  bool had_deadline = false;
  functionspb::InvokeFunctionRequest request;
};

// A test double of the functions service: records each InvokeFunction and answers what the test
// set (an execution, or an error), optionally only after the test lets it go.
class FakeFunctions final : public functionspb::Functions::CallbackService {
 public:
  explicit FakeFunctions(mesh::Pipeline& pipeline) : pipeline_(pipeline) {}

  void Answer(functionspb::Execution execution) {
    std::lock_guard lock(mu_);
    execution_ = std::move(execution);
    status_ = Status();
  }
  void Refuse(Status status) {
    std::lock_guard lock(mu_);
    status_ = std::move(status);
  }
  // Calls wait (at most 20 s) until Release.
  void Hold() {
    std::lock_guard lock(mu_);
    held_ = true;
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      held_ = false;
    }
    cv_.notify_all();
  }
  std::vector<InvokeCall> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }

  grpc::ServerUnaryReactor* InvokeFunction(grpc::CallbackServerContext* ctx,
                                           const functionspb::InvokeFunctionRequest* request,
                                           functionspb::Execution* response) override {
    return pipeline_.Unary(
        ctx, "functions", "InvokeFunction", [this, request, response](const mesh::CallContext& call) {
          std::unique_lock lock(mu_);
          calls_.push_back(InvokeCall{call.caller, call.account, call.deadline.has_value(), *request});
          cv_.wait_for(lock, std::chrono::seconds(20), [&] { return !held_; });
          if (!status_.ok()) return status_;
          *response = execution_;
          return Status();
        });
  }

 private:
  mesh::Pipeline& pipeline_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;
  Status status_;
  functionspb::Execution execution_;
  std::vector<InvokeCall> calls_;
};

class ActionsHarness {
 public:
  // ASSERTs (check HasFatalFailure() after).
  void Open() {
    harness_.Open("automation");
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    functions_ = std::make_unique<FakeFunctions>(harness_.pipeline());
    harness_.Start(functions_.get());
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    registry_ = mesh::NewMemoryRegistry();
    for (const char* service : {"gasbank", "functions"}) {
      auto reg = registry_->Register(mesh::Endpoint{service, "test-1", "inproc", "t", true, {}});
      ASSERT_TRUE(reg.ok()) << reg.status().ToString();
      registrations_.push_back(std::move(*reg));
    }
    mesh::ClientOptions co;
    co.identity = "automation";
    client_ =
        std::make_unique<mesh::MeshClient>(co, *registry_, mesh::InProcessChannels(harness_.server(), co.identity),
                                           SystemClock::Instance(), SecureRandom::Instance());
  }

  void Stop() {
    if (functions_) functions_->Release();
    registrations_.clear();
    harness_.Stop();
  }

  // Deps for a runner: this client for functions and the bank; the rest is the test's.
  ActionDeps Deps(chain_tx::Outbox* outbox = nullptr, const net::Fetcher* fetcher = nullptr) {
    ActionDeps deps;
    deps.mesh = client_.get();
    deps.outbox = outbox;
    deps.charger = gasbank::GasCharger(client_.get());
    deps.fetcher = fetcher;
    deps.clock = &SystemClock::Instance();
    return deps;
  }

  neosl::testing::ChargingHarness& charging() { return harness_; }
  neosl::testing::FakeGasBank& bank() { return harness_.bank(); }
  FakeFunctions& functions() { return *functions_; }
  store::Store& store() { return harness_.store(); }

 private:
  neosl::testing::ChargingHarness harness_;
  std::unique_ptr<FakeFunctions> functions_;
  std::unique_ptr<mesh::Registry> registry_;
  std::vector<std::unique_ptr<mesh::Registration>> registrations_;
  std::unique_ptr<mesh::MeshClient> client_;
};

inline TriggerRecord MakeTrigger(Action action, Condition condition = CronCondition{"0 2 * * *", ""}) {
  TriggerRecord t;
  t.id = kTriggerId;
  t.account = kAccount;
  t.spec.name = "nightly";
  t.spec.condition = std::move(condition);
  t.spec.action = std::move(action);
  t.spec.payload_json = R"({"k": [1, 2.5, "x"]})";
  return t;
}

// The run of `trigger` scheduled at `scheduled_ms` (its id as TimeRunId makes it).
inline RunRecord MakeRun(const TriggerRecord& trigger, int64_t scheduled_ms = kScheduledMs) {
  RunRecord r;
  r.id = trigger.id + ":t:" + std::to_string(scheduled_ms);
  r.trigger_id = trigger.id;
  r.account = trigger.account;
  r.status = RunStatus::kRunning;
  r.scheduled_at_ms = scheduled_ms;
  r.recorded_at_ms = scheduled_ms;
  r.context_json = R"({"scheduled_at":"2025-11-22T02:00:00.000Z"})";
  return r;
}

}  // namespace neosl::automation::testing
