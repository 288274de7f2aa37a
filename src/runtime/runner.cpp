#include "runtime/runner.h"

#include <future>
#include <utility>

namespace neosl::runtime {
namespace {

void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

}  // namespace

Status ValidateLimits(const Limits& limits) {
  if (limits.timeout < kMinTimeout || limits.timeout > kMaxTimeout) {
    return InvalidArgumentError("limits.timeout_ms must be " + std::to_string(kMinTimeout.count()) + " to " +
                                std::to_string(kMaxTimeout.count()))
        .WithDetail(ErrorDetail{"FieldViolation", {}}.Add("field", "limits.timeout_ms"));
  }
  if (limits.memory_bytes < kMinMemoryBytes || limits.memory_bytes > kMaxMemoryBytes) {
    return InvalidArgumentError("limits.memory_mb must be " + std::to_string(kMinMemoryBytes >> 20) + " to " +
                                std::to_string(kMaxMemoryBytes >> 20))
        .WithDetail(ErrorDetail{"FieldViolation", {}}.Add("field", "limits.memory_mb"));
  }
  return Status();
}

std::string_view TriggerName(Trigger trigger) {
  switch (trigger) {
    case Trigger::kApi: return "api";
    case Trigger::kSchedule: return "schedule";
    case Trigger::kChainEvent: return "chain_event";
  }
  return "api";
}

StatusOr<Outcome> FunctionRunner::Run(Invocation invocation, LogSink sink) {
  std::promise<StatusOr<Outcome>> promise;
  auto future = promise.get_future();
  RunAsync(std::move(invocation), std::move(sink),
           [&promise](StatusOr<Outcome> outcome) { promise.set_value(std::move(outcome)); });
  return future.get();
}

std::vector<uint8_t> ResultSigningMessage(std::string_view function_id, uint32_t version,
                                          const std::array<uint8_t, 32>& source_hash,
                                          const std::array<uint8_t, 32>& args_hash,
                                          const std::array<uint8_t, 32>& result_hash) {
  std::vector<uint8_t> out(kResultSigningDomain.begin(), kResultSigningDomain.end());
  PutU32(out, static_cast<uint32_t>(function_id.size()));
  out.insert(out.end(), function_id.begin(), function_id.end());
  PutU32(out, version);
  out.insert(out.end(), source_hash.begin(), source_hash.end());
  out.insert(out.end(), args_hash.begin(), args_hash.end());
  out.insert(out.end(), result_hash.begin(), result_hash.end());
  return out;
}

}  // namespace neosl::runtime
