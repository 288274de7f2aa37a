// Running one JavaScript function invocation (issue #8): what the functions service hands the
// runtime and what it gets back. The runtime runs the code inside the enclave (a pool of
// sandboxed enclave worker processes, docs/functions.md); this header is the seam between the
// service and it, so the service depends on no engine or enclave internals.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace neosl::runtime {

// Limits (docs/functions.md, "Limits"). A function may lower its time and memory limits or raise
// them up to the maximum; the rest are fixed.
inline constexpr std::chrono::milliseconds kDefaultTimeout{10'000};
inline constexpr std::chrono::milliseconds kMaxTimeout{30'000};
inline constexpr std::chrono::milliseconds kMinTimeout{100};
inline constexpr size_t kDefaultMemoryBytes = size_t{128} << 20;
inline constexpr size_t kMaxMemoryBytes = size_t{512} << 20;
inline constexpr size_t kMinMemoryBytes = size_t{16} << 20;
inline constexpr size_t kMaxSourceBytes = size_t{256} << 10;
inline constexpr size_t kMaxArgsBytes = size_t{30} << 10;
inline constexpr size_t kMaxResultBytes = size_t{256} << 10;
inline constexpr size_t kMaxLogLines = 100;
inline constexpr size_t kMaxLogLineBytes = size_t{4} << 10;
inline constexpr size_t kMaxFetchCalls = 5;
inline constexpr std::chrono::milliseconds kMaxFetchTimeout{9'000};
inline constexpr size_t kMaxFetchResponseBytes = size_t{2} << 20;
inline constexpr size_t kMaxSecretsPerFunction = 100;

struct Limits {
  std::chrono::milliseconds timeout = kDefaultTimeout;
  size_t memory_bytes = kDefaultMemoryBytes;
};

// INVALID_ARGUMENT naming the limit when `limits` is outside its bounds.
Status ValidateLimits(const Limits& limits);

// How an invocation was started (`request.trigger` in JavaScript).
enum class Trigger { kApi, kSchedule, kChainEvent };
std::string_view TriggerName(Trigger trigger);  // "api" | "schedule" | "chain_event"

// A secret as the secrets service's ResolveSecrets hands it out: still sealed to the enclave.
struct SealedSecret {
  std::string name;
  uint32_t version = 0;
  std::vector<uint8_t> ciphertext;
};

struct Invocation {
  std::string account;      // acc_…
  std::string function_id;  // fn_…
  uint32_t version = 0;
  std::string execution_id;               // ex_…
  std::string source;                     // the ES module, UTF-8, at most kMaxSourceBytes
  std::array<uint8_t, 32> source_hash{};  // SHA-256 of `source`
  std::string args_json;                  // JSON text, at most kMaxArgsBytes ("null" when none)
  Trigger trigger = Trigger::kApi;
  Limits limits;
  std::vector<SealedSecret> secrets;  // the function's granted secrets
};

struct LogLine {
  int64_t at_ms = 0;    // Unix milliseconds
  std::string level;    // "log" | "info" | "warn" | "error"
  std::string message;  // at most kMaxLogLineBytes (longer lines are cut and marked)
};

// Where a failed invocation failed, for the developer.
struct ScriptError {
  std::string message;  // "TypeError: x is undefined"
  std::string stack;    // the JS stack, one frame per line ("fn@function.js:3:7")
  int line = 0;         // 1-based; 0 when unknown
  int column = 0;       // 1-based; 0 when unknown
};

struct Outcome {
  // OK: `result_json` is the function's result. Otherwise why it failed:
  //   INVALID_ARGUMENT    the source does not compile, has no default export, or args are bad
  //   UNKNOWN             the function threw (or its promise rejected): `error` has the stack
  //   DEADLINE_EXCEEDED   it ran past its time limit
  //   RESOURCE_EXHAUSTED  it went past a limit, which the message names (memory, result, logs…)
  //   FAILED_PRECONDITION its result is not JSON, or its promise can never settle
  Status status;
  std::string result_json;
  ScriptError error;
  std::vector<LogLine> logs;
  bool logs_truncated = false;
  std::chrono::microseconds duration{0};  // inside the enclave, from start to settled
  bool cold = false;                      // the code was compiled for this invocation
  // When not OK: {"code":"<CANONICAL_CODE>","message":"…"}, the exact text result_hash covers.
  std::string error_json;
  // The enclave's signature (report key; ECDSA P-256 over SHA-256 of the message, r ‖ s, as
  // crypto::PublicKey::Verify checks) of ResultSigningMessage:
  //   "neosl-fn-result-v1" ‖ LP(function_id) ‖ U32BE(version) ‖ source_hash ‖ args_hash ‖
  //   result_hash
  // with LP(x) = U32BE(len(x)) ‖ x, args_hash = SHA-256(args_json) and result_hash =
  // SHA-256(result_json) when OK, else SHA-256(error_json). docs/functions.md, "Proof".
  std::array<uint8_t, 32> args_hash{};
  std::array<uint8_t, 32> result_hash{};
  std::array<uint8_t, 64> signature{};
};

// Receives each console line as it is written, for live streaming (may be called from any
// thread, in order for one invocation).
using LogSink = std::function<void(const LogLine&)>;

class FunctionRunner {
 public:
  virtual ~FunctionRunner() = default;

  using Done = std::function<void(StatusOr<Outcome>)>;
  // Queues the invocation and returns at once; `done` is called exactly once, on a runtime
  // thread (or inline, when the invocation is refused before queueing), with the Outcome. A
  // non-OK StatusOr means the runtime could not run it at all — RESOURCE_EXHAUSTED: the queue is
  // full (back-pressure: the caller should answer 429 / retry later); UNAVAILABLE: no worker;
  // INVALID_ARGUMENT: the invocation breaks a fixed limit — not that the code failed.
  virtual void RunAsync(Invocation invocation, LogSink sink, Done done) = 0;

  // Whether `source` compiles as a function module with a default export; INVALID_ARGUMENT with
  // the message, line and column in `error` when not. For deploy-time checks; may block briefly.
  virtual Status Check(std::string_view source, ScriptError* error) = 0;

  // Blocks until RunAsync's `done` (tests and the CLI).
  StatusOr<Outcome> Run(Invocation invocation, LogSink sink = nullptr);
};

// The message the enclave signs for an outcome (before hashing), as above.
inline constexpr std::string_view kResultSigningDomain = "neosl-fn-result-v1";
std::vector<uint8_t> ResultSigningMessage(std::string_view function_id, uint32_t version,
                                          const std::array<uint8_t, 32>& source_hash,
                                          const std::array<uint8_t, 32>& args_hash,
                                          const std::array<uint8_t, 32>& result_hash);

}  // namespace neosl::runtime
