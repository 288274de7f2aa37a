// Without a JavaScript runtime in the process, the functions service's stand-in answers every
// method UNAVAILABLE "functions runtime not running" — after the mesh's own checks.
#include "services/functions/unavailable_service.h"

#include <chrono>
#include <memory>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/random.h"
#include "mesh/context.h"
#include "mesh/policy.h"
#include "mesh/server.h"
#include "neosl/functions/v1/functions.grpc.pb.h"
#include <grpcpp/client_context.h>

namespace neosl::services {
namespace {

namespace pb = ::neosl::functions::v1;
using ::testing::HasSubstr;

TEST(UnavailableFunctionsServiceTest, EveryMethodAnswersUnavailable) {
  auto policy = mesh::AuthzPolicy::FromYaml(mesh::DefaultAuthzPolicyYaml());
  ASSERT_TRUE(policy.ok());
  mesh::PipelineOptions po;
  po.policy = &*policy;
  mesh::Pipeline pipeline(std::move(po), SystemClock::Instance(), SecureRandom::Instance());
  UnavailableFunctionsService service(pipeline);
  mesh::MeshServer server(mesh::ServerOptions{}, pipeline, "t");
  server.AddService(&service);
  ASSERT_TRUE(server.Start().ok());

  auto call = [&](const std::string& caller, auto fn) {
    auto stub = pb::Functions::NewStub(server.InProcessChannel(caller));
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-account-id", "acc_aaaaaaaaaaaaaaaaaaaa");
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return mesh::FromGrpcStatus(fn(*stub, &ctx));
  };
  Status get = call("gateway", [](pb::Functions::Stub& s, grpc::ClientContext* c) {
    pb::Function f;
    return s.GetFunction(c, pb::GetFunctionRequest(), &f);
  });
  EXPECT_EQ(get.code(), StatusCode::kUnavailable);
  EXPECT_THAT(std::string(get.message()), HasSubstr("functions runtime not running"));
  Status invoke = call("gateway", [](pb::Functions::Stub& s, grpc::ClientContext* c) {
    pb::Execution e;
    return s.InvokeFunction(c, pb::InvokeFunctionRequest(), &e);
  });
  EXPECT_EQ(invoke.code(), StatusCode::kUnavailable);
  Status stream = call("gateway", [](pb::Functions::Stub& s, grpc::ClientContext* c) {
    auto reader = s.StreamFunctionLogs(c, pb::StreamFunctionLogsRequest());
    pb::LogEntry entry;
    while (reader->Read(&entry)) {
    }
    return reader->Finish();
  });
  EXPECT_EQ(stream.code(), StatusCode::kUnavailable);
  // The mesh's checks come first: the echo service may not call functions.
  Status denied = call("echo", [](pb::Functions::Stub& s, grpc::ClientContext* c) {
    pb::Function f;
    return s.GetFunction(c, pb::GetFunctionRequest(), &f);
  });
  EXPECT_EQ(denied.code(), StatusCode::kPermissionDenied);
  server.Shutdown(std::chrono::milliseconds(500));
}

}  // namespace
}  // namespace neosl::services
