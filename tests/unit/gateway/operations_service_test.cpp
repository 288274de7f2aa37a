// The gateway's operations as a gRPC service (gateway/operations_service.h), called by a service
// through the in-process mesh under a policy: the operations are the REST API's own (one store),
// started for the call's account, with the route's schema, path and least role.
#include "gateway/operations_service.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/random.h"
#include "gateway/accounts.h"
#include "mesh/client.h"
#include "mesh/policy.h"
#include "mesh/registry.h"
#include "schema/migrations.h"
#include "store/sqlite_store.h"
#include "support/temp_dir.h"

namespace neosl::gateway {
namespace {

namespace json = boost::json;
namespace pb = operations::v1;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr const char* kAccount = "acc_aaaaaaaaaaaaaaaaaaaa";
constexpr const char* kOther = "acc_bbbbbbbbbbbbbbbbbbbb";

// Automation may start, read and wait; the oracle may do nothing here.
constexpr const char* kPolicy = R"yaml(
service: automation
allowed_calls:
  - target_service: gateway
    operations: [StartOperation, GetOperation, ListOperations, CancelOperation, WaitOperation]
---
service: oracle
allowed_calls: []
)yaml";

class OperationsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::OpenSqliteStore({.path = dir_.File("neosl.db")});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    ASSERT_TRUE(store_->Migrate(schema::Migrations()).ok());
    ops_store_ = std::make_unique<OperationStore>(*store_, SystemClock::Instance());
    ops_ = std::make_unique<Operations>(*ops_store_, SecureRandom::Instance(), SystemClock::Instance(),
                                        OperationsOptions{.owner = "gw-1", .threads = 1});
    // POST /v1/things/{id}/do, for developers: answers with what it was given and who asked,
    // after the test lets it (`hold`).
    Route r;
    r.method = "POST";
    r.path = "/v1/things/{id}/do";
    r.operation_id = "DoThing";
    r.role = Role::kDeveloper;
    r.request = Object({{"x", Integer()}, {"fail", Boolean()}});
    r.handler = [this](RequestContext& ctx) -> StatusOr<Reply> {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return !hold_; });
      }
      json::array roles;
      for (Role role : ctx.principal->roles) roles.push_back(json::string(RoleName(role)));
      if (ctx.body.as_object().contains("fail")) return FailedPreconditionError("asked to fail");
      return Reply::Json(json::object{{"id", ctx.PathParam("id")},
                                      {"target", ctx.http.target},
                                      {"body", ctx.body},
                                      {"key", ctx.principal->key.str()},
                                      {"roles", std::move(roles)}});
    };
    route_ = ops_->Asynchronous(std::move(r), /*resumable=*/true);
    ASSERT_TRUE(ops_->Recover().ok());

    auto policy = mesh::AuthzPolicy::FromYaml(kPolicy);
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
    policy_ = std::make_unique<mesh::AuthzPolicy>(std::move(*policy));
    pipeline_ = std::make_unique<mesh::Pipeline>(mesh::PipelineOptions{policy_.get()}, SystemClock::Instance(),
                                                 SecureRandom::Instance());
    server_ = std::make_unique<mesh::MeshServer>(mesh::ServerOptions{}, *pipeline_, "gw-1");
    service_ = std::make_unique<OperationsService>(*pipeline_);
    server_->AddService(service_.get());
    ASSERT_TRUE(server_->Start().ok());
    service_->Attach(ops_.get());
    registry_ = mesh::NewMemoryRegistry();
    auto reg = registry_->Register(mesh::Endpoint{"gateway", "gw-1", "inproc", "t", true, {}});
    ASSERT_TRUE(reg.ok());
    registration_ = std::move(*reg);
    automation_ = Client("automation");
    oracle_ = Client("oracle");
  }

  void TearDown() override {
    Release();
    ops_->Stop();
    service_->Detach();
    server_->Shutdown(0ms);
  }

  std::unique_ptr<mesh::MeshClient> Client(const std::string& identity) {
    mesh::ClientOptions co;
    co.identity = identity;
    return std::make_unique<mesh::MeshClient>(co, *registry_, mesh::InProcessChannels(*server_, identity),
                                              SystemClock::Instance(), SecureRandom::Instance());
  }

  StatusOr<pb::Operation> Call(mesh::MeshClient& client, std::string_view method,
                               const google::protobuf::Message& request, const std::string& account = kAccount) {
    pb::Operation out;
    mesh::CallOptions options;
    options.account = account;
    options.timeout = 20s;
    RETURN_IF_ERROR(client.Call("gateway", method, request, &out, options));
    return out;
  }

  StatusOr<pb::Operation> Start(const std::string& body, const std::string& id = "t1",
                                const std::string& account = kAccount) {
    pb::StartOperationRequest start;
    start.set_kind("DoThing");
    if (!id.empty()) (*start.mutable_path_params())["id"] = id;
    start.set_body_json(body);
    return Call(*automation_, "/neosl.operations.v1.Operations/StartOperation", start, account);
  }

  StatusOr<pb::Operation> Wait(const std::string& name, uint32_t timeout_ms = 0) {
    pb::WaitOperationRequest wait;
    wait.set_name(name);
    wait.set_timeout_ms(timeout_ms);
    return Call(*automation_, "/neosl.operations.v1.Operations/WaitOperation", wait);
  }

  void Hold() {
    std::lock_guard lock(mu_);
    hold_ = true;
  }
  void Release() {
    std::lock_guard lock(mu_);
    hold_ = false;
    cv_.notify_all();
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<OperationStore> ops_store_;
  std::unique_ptr<Operations> ops_;
  Route route_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  std::unique_ptr<mesh::AuthzPolicy> policy_;
  std::unique_ptr<mesh::Pipeline> pipeline_;
  std::unique_ptr<mesh::MeshServer> server_;
  std::unique_ptr<OperationsService> service_;
  std::unique_ptr<mesh::Registry> registry_;
  std::unique_ptr<mesh::Registration> registration_;
  std::unique_ptr<mesh::MeshClient> automation_, oracle_;
};

TEST_F(OperationsServiceTest, AServiceStartsAnOperationAndWaitsForItsAnswer) {
  auto started = Start(R"({"x":7})");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_THAT(started->name(), ::testing::StartsWith("op_"));
  EXPECT_EQ(started->kind(), "DoThing");
  EXPECT_FALSE(started->done());

  auto done = Wait(started->name());
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  ASSERT_TRUE(done->done());
  EXPECT_EQ(done->state(), "succeeded");
  EXPECT_EQ(done->http_status(), 200);
  json::value answer = json::parse(done->response_json());
  EXPECT_EQ(answer.at("id").as_string(), "t1");
  EXPECT_EQ(answer.at("target").as_string(), "/v1/things/t1/do");
  EXPECT_EQ(answer.at("body").at("x").as_int64(), 7);
  // The caller is the service, with the route's least role.
  EXPECT_EQ(answer.at("key").as_string(), "service:automation");
  EXPECT_EQ(json::serialize(answer.at("roles")), R"(["developer"])");

  // The REST API's own operation: one store, one id.
  auto stored = ops_store_->Get(kAccount, started->name());
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->state, OperationState::kSucceeded);
  pb::GetOperationRequest get;
  get.set_name(started->name());
  auto again = Call(*automation_, "/neosl.operations.v1.Operations/GetOperation", get);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->response_json(), done->response_json());
  // Not another account's.
  EXPECT_EQ(Call(*automation_, "/neosl.operations.v1.Operations/GetOperation", get, kOther).status().code(),
            StatusCode::kNotFound);

  // A failure is the error, as in the REST error body.
  auto failing = Start(R"({"fail":true})");
  ASSERT_TRUE(failing.ok()) << failing.status().ToString();
  auto failed = Wait(failing->name());
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->state(), "failed");
  EXPECT_EQ(failed->error().code(), int32_t(StatusCode::kFailedPrecondition));
  EXPECT_EQ(failed->error().message(), "asked to fail");
  EXPECT_EQ(failed->http_status(), 400);

  pb::ListOperationsRequest list;
  pb::ListOperationsResponse listed;
  mesh::CallOptions options;
  options.account = kAccount;
  ASSERT_TRUE(
      automation_->Call("gateway", "/neosl.operations.v1.Operations/ListOperations", list, &listed, options).ok());
  ASSERT_EQ(listed.operations_size(), 2);
  // Newest first: by created_at, then name (the two may share a millisecond).
  const std::pair first(done->created_at(), done->name());
  const std::pair second(failed->created_at(), failed->name());
  EXPECT_EQ(listed.operations(0).name(), std::max(first, second).second);
  EXPECT_EQ(listed.operations(1).name(), std::min(first, second).second);
}

TEST_F(OperationsServiceTest, WhatARestCallerWouldBeRefusedIsRefused) {
  pb::StartOperationRequest start;
  start.set_kind("DeleteEverything");
  EXPECT_THAT(Call(*automation_, "/neosl.operations.v1.Operations/StartOperation", start).status().message(),
              HasSubstr("DoThing"));
  EXPECT_EQ(Start(R"({"x":"seven"})").status().code(), StatusCode::kInvalidArgument);  // the route's schema
  EXPECT_EQ(Start(R"({"x":)").status().code(), StatusCode::kInvalidArgument);          // not JSON
  EXPECT_THAT(Start(R"({})", "").status().message(), HasSubstr("'id'"));               // its path
  EXPECT_EQ(Start(R"({})", "../../v1/keys").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Start(R"({})", "t1", "").status().code(), StatusCode::kPermissionDenied);  // no account
  // Before the operations are attached (the mesh starts first), or once detached: UNAVAILABLE.
  service_->Detach();
  EXPECT_EQ(Start(R"({})").status().code(), StatusCode::kUnavailable);
  service_->Attach(ops_.get());
  EXPECT_TRUE(Start(R"({})").ok());
  // The policy: the oracle may not.
  pb::StartOperationRequest allowed;
  allowed.set_kind("DoThing");
  (*allowed.mutable_path_params())["id"] = "t1";
  EXPECT_EQ(Call(*oracle_, "/neosl.operations.v1.Operations/StartOperation", allowed).status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(OperationsServiceTest, WaitReturnsAtItsTimeoutAndCancelTakesOnlyWhatHasNotBegun) {
  Hold();
  auto running = Start(R"({"x":1})");
  ASSERT_TRUE(running.ok());
  auto waiting = Start(R"({"x":2})");
  ASSERT_TRUE(waiting.ok());
  // One operation thread: the first is held, the second waits behind it.
  auto not_yet = Wait(running->name(), 200);
  ASSERT_TRUE(not_yet.ok()) << not_yet.status().ToString();
  EXPECT_FALSE(not_yet->done());

  pb::CancelOperationRequest cancel;
  cancel.set_name(waiting->name());
  auto cancelled = Call(*automation_, "/neosl.operations.v1.Operations/CancelOperation", cancel);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ(cancelled->state(), "cancelled");
  EXPECT_EQ(cancelled->error().code(), int32_t(StatusCode::kCancelled));
  EXPECT_THAT(cancelled->error().message(), HasSubstr("service:automation"));

  Release();
  auto done = Wait(running->name());
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state(), "succeeded");
  cancel.set_name(running->name());
  EXPECT_EQ(Call(*automation_, "/neosl.operations.v1.Operations/CancelOperation", cancel).status().code(),
            StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace neosl::gateway
