#include "services/oracle/oracle_run.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "crypto/hash.h"
#include "runtime/runner.h"
#include "services/oracle/consensus.h"
#include "services/oracle/oracle_record.h"
#include "services/oracle/source_fetch.h"

namespace neosl::oracle {
namespace {

namespace v1 = tee::v1;

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string Str(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// The secrets of the request, readable by name from any of the fetching threads.
class Secrets {
 public:
  static StatusOr<std::unique_ptr<Secrets>> Make(const tee::SecretVault* vault, const v1::InvocationSecrets& given) {
    auto out = std::make_unique<Secrets>();
    if (given.secrets_size() == 0) return out;
    if (vault == nullptr) return FailedPreconditionError("this enclave has no secrets key");
    ASSIGN_OR_RETURN(out->provider_, tee::ProviderForInvocation(*vault, given));
    return out;
  }

  SecretLookup Lookup() {
    return [this](std::string_view name) -> StatusOr<std::string> {
      if (!provider_) return NotFoundError("secret '" + std::string(name) + "' is not available to this request");
      std::lock_guard lock(mu_);
      auto value = provider_->Get(name);
      if (!value.ok()) {
        if (value.status().code() == StatusCode::kNotFound) {
          return NotFoundError("secret '" + std::string(name) + "' is not available to this request");
        }
        return DataLossError("secret '" + std::string(name) + "' does not decrypt");
      }
      return Str(*value);
    };
  }

 private:
  std::mutex mu_;
  std::unique_ptr<tee::SecretProvider> provider_;
};

}  // namespace

namespace {

// A request's sources, rule and limits, checked.
struct Checked {
  ConsensusSpec spec;
  SourceLimits limits;
  std::vector<SourceRequest> sources;
};

StatusOr<Checked> Check(const v1::OracleRunRequest& request) {
  const size_t n = size_t(request.sources_size());
  if (n == 0) return InvalidArgumentError("an oracle request needs a source");
  if (n > kMaxSources) return InvalidArgumentError("at most " + std::to_string(kMaxSources) + " sources");
  Checked c;
  if (!request.rule().empty()) {
    ASSIGN_OR_RETURN(c.spec.rule, ParseRule(request.rule()));
  }
  c.spec.m = request.m();
  c.spec.max_spread_bps = request.max_spread_bps();
  c.spec.min_sources = request.min_sources();
  RETURN_IF_ERROR(ValidateSpec(c.spec, n));

  if (request.timeout_ms() > 0) c.limits.timeout = std::chrono::milliseconds(request.timeout_ms());
  if (request.content_types_size() > 0) {
    c.limits.content_types.assign(request.content_types().begin(), request.content_types().end());
  }
  if (request.max_result_bytes() > 0) c.limits.max_result_bytes = request.max_result_bytes();
  c.limits.schemes =
      request.allow_http() ? std::vector<std::string>{"https", "http"} : std::vector<std::string>{"https"};

  c.sources.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const v1::OracleSource& s = request.sources(int(i));
    c.sources[i].url = s.url();
    c.sources[i].filter = s.filter();
    for (const auto& h : s.headers()) c.sources[i].headers.emplace_back(h.name(), h.value());
    // A scheme that is not allowed is an outcome (ProtocolNotSupported, as in Neo), not an error.
    if (HasAllowedScheme(c.sources[i].url, c.limits)) {
      RETURN_IF_ERROR(ValidateSourceRequest(c.sources[i], c.limits).Annotate("source " + std::to_string(i)));
    }
  }
  return c;
}

std::vector<uint8_t> RecordOf(const v1::OracleRunRequest& request, const Checked& c, ResponseCode code,
                              std::string_view result, const RecordFunction* function = nullptr) {
  std::vector<RecordSource> sources;
  sources.reserve(c.sources.size());
  for (const SourceRequest& s : c.sources) sources.push_back({s.url, s.filter});
  const RecordRule rule{std::string(RuleName(c.spec.rule)), c.spec.m, c.spec.max_spread_bps, c.spec.min_sources};
  return Record(request.request_id(), sources, rule, code, crypto::Sha256(Bytes(result)), function);
}

bool Verifies(const crypto::PublicKey& key, std::span<const uint8_t> message, const std::string& signature) {
  if (signature.size() != 64) return false;
  crypto::Signature sig{};
  std::copy(signature.begin(), signature.end(), sig.begin());
  return key.Verify(message, sig);
}

}  // namespace

StatusOr<v1::OracleRunResponse> RunOracle(const v1::OracleRunRequest& request, const RunEnvironment& env) {
  if (env.fetcher == nullptr || env.report_key == nullptr) return FailedPreconditionError("the oracle is not set up");
  ASSIGN_OR_RETURN(Checked c, Check(request));
  const size_t n = c.sources.size();
  ASSIGN_OR_RETURN(std::unique_ptr<Secrets> secrets, Secrets::Make(env.vault, request.secrets()));
  const SecretLookup lookup = secrets->Lookup();

  // Every source at once: a request costs its slowest source, not the sum of them.
  std::vector<SourceOutcome> outcomes(n);
  if (n == 1) {
    outcomes[0] = FetchSource(*env.fetcher, c.sources[0], c.limits, lookup);
  } else {
    std::vector<std::thread> threads;
    threads.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      threads.emplace_back([&, i] { outcomes[i] = FetchSource(*env.fetcher, c.sources[i], c.limits, lookup); });
    }
    for (auto& t : threads) t.join();
  }
  ConsensusResult decided = Decide(c.spec, outcomes);

  v1::OracleRunResponse out;
  out.set_code(uint32_t(decided.code));
  out.set_detail(decided.detail);
  if (decided.code == ResponseCode::kSuccess) out.set_result(decided.result);
  std::vector<bool> agreed(n, false);
  for (size_t i : decided.agreeing) {
    if (i < n) agreed[i] = true;
  }
  for (size_t i = 0; i < n; ++i) {
    auto* s = out.add_sources();
    s->set_code(uint32_t(outcomes[i].code));
    s->set_detail(outcomes[i].detail);
    if (outcomes[i].code == ResponseCode::kSuccess) {
      const auto h = crypto::Sha256(Bytes(outcomes[i].result));
      s->set_result_hash(Str(h));
    }
    s->set_agreed(agreed[i]);
  }

  const std::vector<uint8_t> record = RecordOf(request, c, decided.code, out.result());
  out.set_record(Str(record));
  out.set_signature(Str(env.report_key->Sign(record)));

  if (request.has_chain()) {
    ASSIGN_OR_RETURN(std::vector<uint8_t> chain,
                     ChainResult(Bytes(request.chain().contract()), request.chain().request_id(), decided.code,
                                 Bytes(out.result())));
    out.set_chain_result(Str(chain));
    out.set_chain_signature(Str(env.report_key->Sign(chain)));
  }
  return out;
}

StatusOr<v1::OracleRunResponse> FinalizeOracle(const v1::OracleFinalizeRequest& request,
                                               const crypto::PrivateKey& report_key) {
  const v1::OracleRunRequest& run = request.request();
  ASSIGN_OR_RETURN(Checked c, Check(run));
  if (run.has_chain()) return InvalidArgumentError("a chain request has no post-processing");
  if (request.code() != uint32_t(ResponseCode::kSuccess)) {
    return FailedPreconditionError("only a successful result is post-processed");
  }
  // The fetched result is this enclave's own, for this request.
  const std::vector<uint8_t> fetched_record = RecordOf(run, c, ResponseCode::kSuccess, request.result());
  if (!Verifies(report_key.public_key(), fetched_record, request.signature())) {
    return PermissionDeniedError("the fetched result is not this enclave's answer to this request");
  }
  // The function was given exactly that result, and its proof is this enclave's.
  const v1::FunctionProof& f = request.function();
  if (f.args_json() != FunctionArgs(run.request_id(), request.result())) {
    return PermissionDeniedError("the function was not given this request's result");
  }
  if (f.source_hash().size() != 32) return InvalidArgumentError("the function's source hash must be 32 bytes");
  RecordFunction function;
  function.function_id = f.function_id();
  function.version = f.version();
  std::copy(f.source_hash().begin(), f.source_hash().end(), function.source_hash.begin());
  function.fetched_hash = crypto::Sha256(Bytes(request.result()));
  const auto proof =
      runtime::ResultSigningMessage(f.function_id(), f.version(), function.source_hash,
                                    crypto::Sha256(Bytes(f.args_json())), crypto::Sha256(Bytes(f.output_json())));
  if (!Verifies(report_key.public_key(), proof, f.signature())) {
    return PermissionDeniedError("the function's proof does not verify");
  }

  v1::OracleRunResponse out;
  ResponseCode code = ResponseCode::kSuccess;
  if (!f.succeeded()) {
    code = ResponseCode::kError;
    out.set_detail("the function failed: " + f.output_json());
  } else if (f.output_json().size() > c.limits.max_result_bytes) {
    code = ResponseCode::kResponseTooLarge;
    out.set_detail("the function's result is over " + std::to_string(c.limits.max_result_bytes) + " bytes");
  } else {
    out.set_result(f.output_json());
  }
  out.set_code(uint32_t(code));
  const std::vector<uint8_t> record = RecordOf(run, c, code, out.result(), &function);
  out.set_record(Str(record));
  out.set_signature(Str(report_key.Sign(record)));
  return out;
}

}  // namespace neosl::oracle
