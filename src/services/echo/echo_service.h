// Echo: the trivial service the mesh is tested and benchmarked on (proto/neosl/echo/v1). It
// reports what the mesh told it about the call, so tests can assert on identity, account, trace
// and deadline propagation without a real service in the way.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "mesh/client.h"
#include "mesh/server.h"
#include "neosl/echo/v1/echo.grpc.pb.h"

namespace neosl::services {

class EchoService final : public echo::v1::Echo::CallbackService {
 public:
  static constexpr std::string_view kIdentity = "echo";

  // `client` (may be null) serves Relay, which calls the echo service again through the mesh.
  EchoService(mesh::Pipeline& pipeline, std::string instance, mesh::MeshClient* client);

  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx, const echo::v1::EchoRequest* request,
                                 echo::v1::EchoResponse* response) override;
  grpc::ServerUnaryReactor* EchoSensitive(grpc::CallbackServerContext* ctx, const echo::v1::EchoRequest* request,
                                          echo::v1::EchoResponse* response) override;
  grpc::ServerUnaryReactor* Relay(grpc::CallbackServerContext* ctx, const echo::v1::RelayRequest* request,
                                  echo::v1::EchoResponse* response) override;

  // How many requests reached a handler (after the pipeline admitted them), per method.
  uint64_t echo_calls() const { return echo_calls_.load(); }
  uint64_t sensitive_calls() const { return sensitive_calls_.load(); }

 private:
  grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* ctx, std::string_view operation,
                                  const echo::v1::EchoRequest* request, echo::v1::EchoResponse* response);

  mesh::Pipeline& pipeline_;
  std::string instance_;
  mesh::MeshClient* client_;
  std::atomic<uint64_t> echo_calls_{0}, sensitive_calls_{0};
};

}  // namespace neosl::services
