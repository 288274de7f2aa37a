#include "apps/neosl/function_worker.h"

#include <chrono>
#include <string>

#include "core/random.h"
#include "crypto/hash.h"
#include "runtime/runner.h"

namespace neosl {
namespace {

namespace v1 = tee::v1;
using std::chrono::milliseconds;

constexpr milliseconds kNeoReadTimeout{10'000};
constexpr milliseconds kLogWriteTimeout{1'000};

std::array<uint8_t, 32> Sha256Of(std::string_view s) {
  auto d = crypto::Sha256(std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  std::array<uint8_t, 32> out{};
  std::copy(d.begin(), d.end(), out.begin());
  return out;
}

v1::EcallResponse Failed(const Status& s) {
  v1::EcallResponse r;
  r.mutable_status()->set_code(static_cast<int>(s.code()));
  r.mutable_status()->set_message(std::string(s.message()));
  return r;
}

// What the invocation reaches outside its realm, from inside the worker.
class WorkerHost final : public runtime::InvocationHost {
 public:
  WorkerHost(FunctionWorker& worker, tee::SecretProvider& secrets, tee::Channel& channel)
      : worker_(worker), secrets_(secrets), channel_(channel) {}

  StatusOr<std::span<const uint8_t>> Secret(std::string_view name) override {
    auto value = secrets_.Get(name);
    if (!value.ok() && value.status().code() == StatusCode::kNotFound) {
      return NotFoundError("secret '" + std::string(name) + "' is not granted to this function");
    }
    return value;
  }

  StatusOr<runtime::FetchResult> Fetch(const runtime::FetchCall& call) override {
    net::Fetcher* fetcher = nullptr;
    {
      std::lock_guard lock(worker_.fetch_mu);
      if (!worker_.fetcher) {
        worker_.relay = std::make_unique<tee::OcallByteRelay>(channel_);
        net::FetcherOptions options;
        options.ca_pem = worker_.ca_pem;
        options.max_timeout = runtime::kMaxFetchTimeout;
        options.max_response_bytes = runtime::kMaxFetchResponseBytes;
        options.user_agent = "neosl-functions";
        ASSIGN_OR_RETURN(worker_.fetcher, net::Fetcher::Create(std::move(options), *worker_.relay));
      }
      fetcher = worker_.fetcher.get();
    }
    net::FetchRequest request;
    request.method = call.method;
    request.url = call.url;
    request.headers = call.headers;
    request.body = call.body;
    request.timeout = call.timeout;
    if (call.redirect == "manual") {
      request.redirect = net::RedirectMode::kManual;
    } else if (call.redirect == "error") {
      request.redirect = net::RedirectMode::kError;
    } else if (call.redirect != "follow") {
      return InvalidArgumentError("fetch: redirect must be follow, manual or error");
    }
    ASSIGN_OR_RETURN(net::FetchResponse response, fetcher->Fetch(request));
    runtime::FetchResult out;
    out.status = response.status;
    out.status_text = std::move(response.status_text);
    out.headers = std::move(response.headers);
    out.body = std::move(response.body);
    out.url = std::move(response.url);
    out.redirected = response.redirected;
    return out;
  }

  StatusOr<std::string> NeoInvokeRead(std::string_view contract, std::string_view method,
                                      std::string_view args_json) override {
    v1::OcallRequest request;
    auto* call = request.mutable_neo_invoke_read();
    call->set_contract(std::string(contract));
    call->set_method(std::string(method));
    call->set_args_json(std::string(args_json));
    ASSIGN_OR_RETURN(v1::OcallResponse response, channel_.Ocall(request, kNeoReadTimeout));
    if (response.has_status() && response.status().code() != 0) {
      return Status(static_cast<StatusCode>(response.status().code()), response.status().message());
    }
    return response.json();
  }

  void Log(const runtime::LogLine& line) override {
    v1::OcallRequest request;
    auto* out = request.mutable_function_log();
    out->set_at_ms(line.at_ms);
    out->set_level(line.level);
    out->set_message(line.message);
    (void)channel_.OcallNoWait(request, kLogWriteTimeout);  // the outcome keeps every line anyway
  }

  void Random(std::span<uint8_t> out) override { SecureRandom::Instance().Fill(out); }

  int64_t NowUnixMillis() override {
    return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  }

 private:
  FunctionWorker& worker_;
  tee::SecretProvider& secrets_;
  tee::Channel& channel_;
};

// The engine, made on first use on the calling (the channel's only worker) thread.
Status EnsureEngine(FunctionWorker& worker) {
  if (worker.engine) return Status();
  worker.engine_options.own_thread = false;
  ASSIGN_OR_RETURN(worker.engine, runtime::Engine::Create(worker.engine_options));
  return Status();
}

StatusOr<runtime::Trigger> ParseTrigger(std::string_view name) {
  if (name.empty() || name == "api") return runtime::Trigger::kApi;
  if (name == "schedule") return runtime::Trigger::kSchedule;
  if (name == "chain_event") return runtime::Trigger::kChainEvent;
  return InvalidArgumentError("run_function: unknown trigger '" + std::string(name) + "'");
}

}  // namespace

v1::EcallResponse RunFunction(FunctionWorker& worker, const v1::RunFunctionRequest& req, tee::Channel& channel) {
  if (!worker.enabled || worker.vault == nullptr || worker.report_key == nullptr) {
    return Failed(FailedPreconditionError("run_function: this enclave is not a function worker"));
  }
  if (Status s = EnsureEngine(worker); !s.ok()) return Failed(s);
  if (req.source_hash().size() != 32) return Failed(InvalidArgumentError("run_function: source_hash is 32 bytes"));
  // The hash the signature names must be the source's own: a host cannot run one source and have
  // the enclave sign for another.
  const auto actual = Sha256Of(req.source());
  if (req.source_hash() != std::string_view(reinterpret_cast<const char*>(actual.data()), actual.size())) {
    return Failed(InvalidArgumentError("run_function: source_hash is not the SHA-256 of source"));
  }
  if (req.secrets().account() != req.account() && req.secrets().secrets_size() > 0) {
    return Failed(InvalidArgumentError("run_function: the secrets belong to another account"));
  }
  auto trigger = ParseTrigger(req.trigger());
  if (!trigger.ok()) return Failed(trigger.status());

  v1::InvocationSecrets secrets = req.secrets();
  secrets.set_account(req.account().empty() ? "-" : req.account());
  auto provider = tee::ProviderForInvocation(*worker.vault, secrets);
  if (!provider.ok()) return Failed(provider.status());

  runtime::Invocation inv;
  inv.account = req.account();
  inv.function_id = req.function_id();
  inv.version = req.version();
  inv.execution_id = req.execution_id();
  inv.source = req.source();
  std::copy(req.source_hash().begin(), req.source_hash().end(), inv.source_hash.begin());
  inv.args_json = req.args_json().empty() ? "null" : req.args_json();
  inv.trigger = *trigger;
  inv.limits.timeout = milliseconds(req.timeout_ms() == 0 ? runtime::kDefaultTimeout.count() : req.timeout_ms());
  inv.limits.memory_bytes = req.memory_bytes() == 0 ? runtime::kDefaultMemoryBytes : size_t(req.memory_bytes());

  WorkerHost host(worker, **provider, channel);
  runtime::Outcome out = worker.engine->Run(inv, host);
  (*provider)->Wipe();

  // The proof: the report key over (function, version, source, args, result).
  out.args_hash = Sha256Of(inv.args_json);
  out.result_hash = Sha256Of(out.status.ok() ? out.result_json : out.error_json);
  const auto message =
      runtime::ResultSigningMessage(inv.function_id, inv.version, inv.source_hash, out.args_hash, out.result_hash);
  // With the nonce prepared after the previous answer (BetweenCalls), signing is two
  // multiplications on this invocation's time instead of a point multiplication.
  out.signature = worker.report_key->SignPresigned(message, std::move(worker.next_nonce));

  v1::EcallResponse r;
  auto* res = r.mutable_run_function();
  res->mutable_status()->set_code(static_cast<int>(out.status.code()));
  res->mutable_status()->set_message(std::string(out.status.message()));
  res->set_result_json(out.result_json);
  res->set_error_json(out.error_json);
  res->mutable_error()->set_message(out.error.message);
  res->mutable_error()->set_stack(out.error.stack);
  res->mutable_error()->set_line(out.error.line);
  res->mutable_error()->set_column(out.error.column);
  for (const auto& line : out.logs) {
    auto* l = res->add_logs();
    l->set_at_ms(line.at_ms);
    l->set_level(line.level);
    l->set_message(line.message);
  }
  res->set_logs_truncated(out.logs_truncated);
  res->set_duration_us(uint64_t(out.duration.count()));
  res->set_cold(out.cold);
  res->set_args_hash(std::string(out.args_hash.begin(), out.args_hash.end()));
  res->set_result_hash(std::string(out.result_hash.begin(), out.result_hash.end()));
  res->set_signature(std::string(out.signature.begin(), out.signature.end()));
  return r;
}

v1::EcallResponse CheckFunction(FunctionWorker& worker, const v1::CheckFunctionRequest& req) {
  if (!worker.enabled) return Failed(FailedPreconditionError("check_function: this enclave is not a function worker"));
  if (Status s = EnsureEngine(worker); !s.ok()) return Failed(s);
  runtime::ScriptError error;
  Status s = worker.engine->Check(req.source(), &error);
  // The ECALL succeeds either way; a source that does not compile is answered in check_error.
  v1::EcallResponse r;
  if (!s.ok()) {
    r.mutable_check_error()->set_message(std::string(s.message()));
    r.mutable_check_error()->set_line(error.line);
    r.mutable_check_error()->set_column(error.column);
  }
  return r;
}

void BetweenCalls(FunctionWorker& worker) {
  if (!worker.enabled) return;
  if (worker.report_key && !worker.next_nonce.ready()) {
    worker.next_nonce = worker.report_key->Presign(SecureRandom::Instance());
  }
  if (worker.engine) worker.engine->CollectGarbageIfDue();
}

}  // namespace neosl
