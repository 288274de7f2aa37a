#include "services/oracle/oracle_run.h"

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "crypto/hash.h"
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

StatusOr<v1::OracleRunResponse> RunOracle(const v1::OracleRunRequest& request, const RunEnvironment& env) {
  if (env.fetcher == nullptr || env.report_key == nullptr) return FailedPreconditionError("the oracle is not set up");
  const size_t n = size_t(request.sources_size());
  if (n == 0) return InvalidArgumentError("an oracle request needs a source");
  if (n > kMaxSources) return InvalidArgumentError("at most " + std::to_string(kMaxSources) + " sources");
  ConsensusSpec spec;
  if (!request.rule().empty()) {
    ASSIGN_OR_RETURN(spec.rule, ParseRule(request.rule()));
  }
  spec.m = request.m();
  spec.max_spread_bps = request.max_spread_bps();
  spec.min_sources = request.min_sources();
  RETURN_IF_ERROR(ValidateSpec(spec, n));

  SourceLimits limits;
  if (request.timeout_ms() > 0) limits.timeout = std::chrono::milliseconds(request.timeout_ms());
  if (request.content_types_size() > 0) {
    limits.content_types.assign(request.content_types().begin(), request.content_types().end());
  }
  if (request.max_result_bytes() > 0) limits.max_result_bytes = request.max_result_bytes();
  limits.schemes = request.allow_http() ? std::vector<std::string>{"https", "http"} : std::vector<std::string>{"https"};

  std::vector<SourceRequest> sources(n);
  for (size_t i = 0; i < n; ++i) {
    const v1::OracleSource& s = request.sources(int(i));
    sources[i].url = s.url();
    sources[i].filter = s.filter();
    for (const auto& h : s.headers()) sources[i].headers.emplace_back(h.name(), h.value());
    RETURN_IF_ERROR(ValidateSourceRequest(sources[i], limits).Annotate("source " + std::to_string(i)));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Secrets> secrets, Secrets::Make(env.vault, request.secrets()));
  const SecretLookup lookup = secrets->Lookup();

  // Every source at once: a request costs its slowest source, not the sum of them.
  std::vector<SourceOutcome> outcomes(n);
  if (n == 1) {
    outcomes[0] = FetchSource(*env.fetcher, sources[0], limits, lookup);
  } else {
    std::vector<std::thread> threads;
    threads.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      threads.emplace_back([&, i] { outcomes[i] = FetchSource(*env.fetcher, sources[i], limits, lookup); });
    }
    for (auto& t : threads) t.join();
  }
  ConsensusResult decided = Decide(spec, outcomes);

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

  std::vector<RecordSource> record_sources;
  record_sources.reserve(n);
  for (const SourceRequest& s : sources) record_sources.push_back({s.url, s.filter});
  const RecordRule rule{std::string(RuleName(spec.rule)), spec.m, spec.max_spread_bps, spec.min_sources};
  const std::vector<uint8_t> record =
      Record(request.request_id(), record_sources, rule, decided.code, crypto::Sha256(Bytes(out.result())));
  const crypto::Signature signature = env.report_key->Sign(record);
  out.set_record(Str(record));
  out.set_signature(Str(signature));

  if (request.has_chain()) {
    ASSIGN_OR_RETURN(std::vector<uint8_t> chain,
                     ChainResult(Bytes(request.chain().contract()), request.chain().request_id(), decided.code,
                                 Bytes(out.result())));
    const crypto::Signature chain_signature = env.report_key->Sign(chain);
    out.set_chain_result(Str(chain));
    out.set_chain_signature(Str(chain_signature));
  }
  return out;
}

}  // namespace neosl::oracle
