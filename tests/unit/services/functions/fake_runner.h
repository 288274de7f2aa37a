// A FunctionRunner for the service's tests: records every Invocation and answers scripted
// Outcomes, signed like the enclave signs them (with a key the test holds), on its own thread
// as the runtime would. The real runtime has its own tests (tests/unit/runtime).
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "crypto/hash.h"
#include "crypto/p256.h"
#include "runtime/runner.h"

namespace neosl::testing {

struct ScriptedOutcome {
  std::optional<Status> refuse;  // the runtime cannot run it (RunAsync's non-OK StatusOr)
  Status status;                 // the outcome's: OK, or how the function failed
  std::string result_json;       // when OK; empty: the args, echoed
  runtime::ScriptError error;
  std::vector<runtime::LogLine> logs;
  bool logs_truncated = false;
  bool cold = true;
  bool hold = false;  // wait for Release() before answering (after writing the logs)
};

class FakeRunner final : public runtime::FunctionRunner {
 public:
  explicit FakeRunner(const crypto::PrivateKey& key) : key_(key) {}
  ~FakeRunner() override {
    Release();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

  void Script(ScriptedOutcome s) {
    std::lock_guard lock(mu_);
    scripts_.push_back(std::move(s));
  }
  // Lets every held invocation answer.
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  std::vector<runtime::Invocation> invocations() {
    std::lock_guard lock(mu_);
    return invocations_;
  }
  // The next Check answers INVALID_ARGUMENT with this error.
  void FailCheck(runtime::ScriptError error) {
    std::lock_guard lock(mu_);
    check_error_ = std::move(error);
  }
  int checks() {
    std::lock_guard lock(mu_);
    return checks_;
  }

  void RunAsync(runtime::Invocation invocation, runtime::LogSink sink, Done done) override {
    ScriptedOutcome s;
    {
      std::lock_guard lock(mu_);
      invocations_.push_back(invocation);
      if (!scripts_.empty()) {
        s = std::move(scripts_.front());
        scripts_.pop_front();
      }
    }
    if (s.refuse) {
      done(*s.refuse);  // refused before queueing: inline, as the real runtime does
      return;
    }
    std::lock_guard lock(mu_);
    threads_.emplace_back([this, invocation = std::move(invocation), sink, done, s] {
      for (const auto& line : s.logs) {
        if (sink) sink(line);
      }
      if (s.hold) {
        std::unique_lock wait(mu_);
        cv_.wait(wait, [this] { return released_; });
      }
      done(Answer(invocation, s));
    });
  }

  Status Check(std::string_view source, runtime::ScriptError* error) override {
    std::lock_guard lock(mu_);
    ++checks_;
    if (!check_error_) return Status();
    *error = *check_error_;
    check_error_.reset();
    (void)source;
    return InvalidArgumentError("SyntaxError: " + error->message);
  }

  static std::array<uint8_t, 32> Sha(std::string_view s) {
    return crypto::Sha256({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  }

 private:
  runtime::Outcome Answer(const runtime::Invocation& inv, const ScriptedOutcome& s) {
    runtime::Outcome o;
    o.status = s.status;
    o.logs = s.logs;
    o.logs_truncated = s.logs_truncated;
    o.cold = s.cold;
    o.duration = std::chrono::microseconds(1500);
    o.args_hash = Sha(inv.args_json);
    if (s.status.ok()) {
      o.result_json = s.result_json.empty() ? inv.args_json : s.result_json;
      o.result_hash = Sha(o.result_json);
    } else {
      o.error = s.error;
      o.error_json = "{\"code\":\"" + std::string(StatusCodeName(s.status.code())) + "\",\"message\":\"" +
                     std::string(s.status.message()) + "\"}";
      o.result_hash = Sha(o.error_json);
    }
    auto message =
        runtime::ResultSigningMessage(inv.function_id, inv.version, inv.source_hash, o.args_hash, o.result_hash);
    o.signature = key_.Sign(message);
    return o;
  }

  const crypto::PrivateKey& key_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  std::deque<ScriptedOutcome> scripts_;
  std::vector<runtime::Invocation> invocations_;
  std::optional<runtime::ScriptError> check_error_;
  int checks_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace neosl::testing
