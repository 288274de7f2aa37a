// Echo: the trivial service the mesh is tested and benchmarked on (proto/neosl/echo/v1). It
// reports what the mesh told it about the call, so tests can assert on identity, account, trace
// and deadline propagation without a real service in the way.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

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
  // `count` answers from a producer thread of its own, through the pipeline's bounded writer.
  grpc::ServerWriteReactor<echo::v1::EchoResponse>* EchoStream(grpc::CallbackServerContext* ctx,
                                                               const echo::v1::EchoStreamRequest* request) override;

  // Ends the streams still running (UNAVAILABLE) and waits for their producers.
  ~EchoService() override;

  // How many requests reached a handler (after the pipeline admitted them), per method.
  uint64_t echo_calls() const { return echo_calls_.load(); }
  uint64_t sensitive_calls() const { return sensitive_calls_.load(); }
  // Streams: started (admitted), and of those how many producers saw their client cancel.
  uint64_t streams_started() const { return streams_started_.load(); }
  uint64_t streams_cancelled() const { return streams_cancelled_.load(); }
  // Producers still running.
  size_t active_streams() const;

 private:
  grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* ctx, std::string_view operation,
                                  const echo::v1::EchoRequest* request, echo::v1::EchoResponse* response);

  mesh::Pipeline& pipeline_;
  std::string instance_;
  mesh::MeshClient* client_;
  std::atomic<uint64_t> echo_calls_{0}, sensitive_calls_{0}, streams_started_{0}, streams_cancelled_{0};
  mutable std::mutex streams_mu_;
  std::condition_variable streams_cv_;
  std::vector<std::weak_ptr<mesh::StreamWriter>> streams_;  // the producers' writers, while they run
};

}  // namespace neosl::services
