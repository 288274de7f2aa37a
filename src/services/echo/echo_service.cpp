#include "services/echo/echo_service.h"

#include <chrono>
#include <optional>
#include <thread>

#include "core/status.h"

namespace neosl::services {
namespace {

constexpr uint32_t kMaxDelayMs = 60'000;
constexpr uint32_t kMaxHops = 8;
constexpr uint32_t kMaxStreamCount = 100'000;

void Describe(const mesh::CallContext& call, const std::string& instance, echo::v1::EchoResponse* response) {
  response->set_instance(instance);
  response->set_caller(call.caller);
  response->set_account(call.account);
  response->set_trace_id(call.trace_id);
  if (auto left = call.Remaining()) response->set_deadline_ms(left->count());
}

// Waits `delay_ms`, or until the deadline if that comes first.
Status Delay(const mesh::CallContext& call, uint32_t delay_ms) {
  auto delay = std::chrono::milliseconds(delay_ms);
  auto left = call.Remaining();
  if (left && *left < delay) {
    std::this_thread::sleep_for(*left);
    return DeadlineExceededError("deadline exceeded after " + std::to_string(left->count()) + " ms of a " +
                                 std::to_string(delay_ms) + " ms echo delay");
  }
  std::this_thread::sleep_for(delay);
  return Status();
}

}  // namespace

EchoService::EchoService(mesh::Pipeline& pipeline, std::string instance, mesh::MeshClient* client)
    : pipeline_(pipeline), instance_(std::move(instance)), client_(client) {}

grpc::ServerUnaryReactor* EchoService::Serve(grpc::CallbackServerContext* ctx, std::string_view operation,
                                             const echo::v1::EchoRequest* request, echo::v1::EchoResponse* response) {
  auto answer = [this, request, response](const mesh::CallContext& call) -> Status {
    if (request->delay_ms() > kMaxDelayMs) return InvalidArgumentError("delay_ms must be at most 60000");
    if (!request->fail_code().empty()) {
      auto code = StatusCodeFromName(request->fail_code());
      if (!code || *code == StatusCode::kOk) {
        return InvalidArgumentError("fail_code '" + request->fail_code() + "' is not a canonical error code");
      }
      return Status(*code, "echo asked to fail with " + request->fail_code());
    }
    if (request->delay_ms() > 0) RETURN_IF_ERROR(Delay(call, request->delay_ms()));
    response->set_message(request->message());
    Describe(call, instance_, response);
    return Status();
  };
  if (request->delay_ms() == 0) return pipeline_.Unary(ctx, kIdentity, operation, answer);
  // A delayed answer waits on its own thread, not on one of gRPC's.
  return pipeline_.UnaryAsync(
      ctx, kIdentity, operation,
      [answer](const std::shared_ptr<const mesh::CallContext>& call, const mesh::Pipeline::Done& done) {
        std::thread([answer, call, done] {
          mesh::ScopedCall scope(call.get());
          done(answer(*call));
        }).detach();
      });
}

grpc::ServerUnaryReactor* EchoService::Echo(grpc::CallbackServerContext* ctx, const echo::v1::EchoRequest* request,
                                            echo::v1::EchoResponse* response) {
  echo_calls_.fetch_add(1, std::memory_order_relaxed);
  return Serve(ctx, "Echo", request, response);
}

grpc::ServerUnaryReactor* EchoService::EchoSensitive(grpc::CallbackServerContext* ctx,
                                                     const echo::v1::EchoRequest* request,
                                                     echo::v1::EchoResponse* response) {
  sensitive_calls_.fetch_add(1, std::memory_order_relaxed);
  return Serve(ctx, "EchoSensitive", request, response);
}

grpc::ServerUnaryReactor* EchoService::Relay(grpc::CallbackServerContext* ctx, const echo::v1::RelayRequest* request,
                                             echo::v1::EchoResponse* response) {
  return pipeline_.UnaryAsync(ctx, kIdentity, "Relay",
                              [this, request, response](const std::shared_ptr<const mesh::CallContext>& call,
                                                        const mesh::Pipeline::Done& done) {
                                if (request->hops() < 1 || request->hops() > kMaxHops) {
                                  done(InvalidArgumentError("hops must be 1 to 8"));
                                  return;
                                }
                                if (!client_) {
                                  done(FailedPreconditionError("this echo instance has no mesh client to relay with"));
                                  return;
                                }
                                // The nested call blocks, so it runs on its own thread with the call made current
                                // there: the client takes trace, account and deadline from it.
                                std::thread([this, request, response, call, done] {
                                  mesh::ScopedCall scope(call.get());
                                  Status s;
                                  if (request->hops() == 1) {
                                    s = client_->Call(kIdentity, "/neosl.echo.v1.Echo/Echo", request->echo(), response);
                                  } else {
                                    echo::v1::RelayRequest next = *request;
                                    next.set_hops(request->hops() - 1);
                                    s = client_->Call(kIdentity, "/neosl.echo.v1.Echo/Relay", next, response);
                                  }
                                  if (s.ok()) response->set_hops(response->hops() + 1);
                                  done(s);
                                }).detach();
                              });
}

grpc::ServerWriteReactor<echo::v1::EchoResponse>* EchoService::EchoStream(grpc::CallbackServerContext* ctx,
                                                                          const echo::v1::EchoStreamRequest* request) {
  // The request lives as long as the call; the producer keeps its own copy anyway.
  return pipeline_.ServerStream<echo::v1::EchoResponse>(
      ctx, kIdentity, "EchoStream", [this, req = *request](const std::shared_ptr<mesh::StreamWriter>& writer) {
        if (req.count() > kMaxStreamCount) {
          writer->Finish(InvalidArgumentError("count must be at most 100000"));
          return;
        }
        if (req.delay_ms() > kMaxDelayMs) {
          writer->Finish(InvalidArgumentError("delay_ms must be at most 60000"));
          return;
        }
        std::optional<StatusCode> fail;
        if (!req.fail_code().empty()) {
          fail = StatusCodeFromName(req.fail_code());
          if (!fail || *fail == StatusCode::kOk) {
            writer->Finish(InvalidArgumentError("fail_code '" + req.fail_code() + "' is not a canonical error code"));
            return;
          }
        }
        streams_started_.fetch_add(1, std::memory_order_relaxed);
        {
          std::lock_guard lock(streams_mu_);
          streams_.push_back(writer);
        }
        std::thread([this, req, writer, fail] {
          mesh::ScopedCall scope(&writer->call());
          uint32_t sent = 0;
          for (; sent < req.count(); ++sent) {
            if (sent > 0 && req.delay_ms() > 0 && writer->WaitDone(std::chrono::milliseconds(req.delay_ms()))) break;
            echo::v1::EchoResponse answer;
            answer.set_message(req.message());
            answer.set_hops(sent);
            Describe(writer->call(), instance_, &answer);
            if (!writer->Write(answer)) break;
          }
          if (fail) {
            writer->Finish(Status(*fail, "echo stream asked to fail with " + req.fail_code())
                               .WithDetail(ErrorDetail{"EchoStreamInfo", {}}.Add("sent", int64_t(sent))));
          } else {
            writer->Finish(Status());
          }
          if (writer->cancelled()) streams_cancelled_.fetch_add(1, std::memory_order_relaxed);
          std::lock_guard lock(streams_mu_);
          std::erase_if(streams_, [&](const std::weak_ptr<mesh::StreamWriter>& w) {
            auto p = w.lock();
            return !p || p == writer;
          });
          streams_cv_.notify_all();
        }).detach();
      });
}

size_t EchoService::active_streams() const {
  std::lock_guard lock(streams_mu_);
  return streams_.size();
}

EchoService::~EchoService() {
  std::unique_lock lock(streams_mu_);
  for (auto& w : streams_) {
    if (auto writer = w.lock()) writer->Finish(UnavailableError("the echo service is shutting down"));
  }
  streams_cv_.wait(lock, [this] { return streams_.empty(); });
}

}  // namespace neosl::services
