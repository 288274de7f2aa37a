#include "services/oracle/oracle_service.h"

#include <algorithm>
#include <set>
#include <utility>

#include "core/business_metrics.h"
#include "core/encoding.h"
#include "core/ids.h"
#include "core/log.h"
#include "crypto/hash.h"
#include "neosl/functions/v1/functions.pb.h"
#include "neosl/secrets/v1/secrets.pb.h"
#include "runtime/runner.h"
#include "services/oracle/consensus.h"
#include "services/oracle/jpath.h"
#include "services/oracle/oracle_internal.h"
#include "services/oracle/oracle_record.h"
#include "services/oracle/oracle_run.h"
#include "services/oracle/response_code.h"
#include "services/oracle/source_fetch.h"

namespace neosl::services {
namespace {

namespace v1 = tee::v1;
namespace secretspb = ::neosl::secrets::v1;
namespace functionspb = ::neosl::functions::v1;
using oracle_internal::CallerAccount;

constexpr size_t kMaxUrlBytes = 2048;
constexpr size_t kMaxFilterBytes = 256;
constexpr size_t kMaxHeaders = 16;
constexpr std::string_view kSecretsService = "secrets";
constexpr std::string_view kFunctionsService = "functions";
// The fee schedule's operation for a request, priced per request and per source.
constexpr std::string_view kRequestOperation = "oracle.request";

Status Busy() {
  return ResourceExhaustedError("the oracle service is busy; retry later")
      .WithDetail(ErrorDetail{"QuotaFailure", {}}.Add("resource", "oracle service queue"));
}

std::string Hex(const std::string& bytes) {
  return HexEncode(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

std::string CodeName(uint32_t code) {
  auto known = oracle::ResponseCodeFromByte(uint8_t(code));
  return code <= 0xff && known ? std::string(oracle::ResponseCodeName(*known)) : "Error";
}

}  // namespace

struct OracleService::Prepared {
  v1::OracleRunRequest run;       // without request_id and secrets
  oraclepb::OracleRequest shown;  // request_sources and consensus, header values left out
  std::vector<std::string> secret_names;
  std::string function_id;  // post-processing, when set
};

OracleService::OracleService(mesh::Pipeline& pipeline, store::Store& store, OracleEnclave enclave,
                             mesh::MeshClient& client, const Clock& clock, RandomSource& random,
                             const crypto::PublicKey& report_key, OracleOptions options, gasbank::GasCharger charger)
    : pipeline_(pipeline),
      store_(store),
      enclave_(std::move(enclave)),
      client_(client),
      clock_(clock),
      random_(random),
      report_key_hex_(HexEncode(report_key.Compressed())),
      options_(std::move(options)),
      charger_(charger),
      work_(std::make_unique<WorkQueue>(options_.threads, options_.queue)) {}

OracleService::~OracleService() {
  work_.reset();
  std::lock_guard lock(watchers_mu_);
  for (auto& w : watchers_) w.writer->Finish(UnavailableError("the oracle service is stopping"));
  watchers_.clear();
}

StatusOr<OracleService::Prepared> OracleService::Prepare(const oraclepb::CreateOracleRequestRequest& request,
                                                         bool with_secrets) const {
  std::vector<oraclepb::Source> sources;
  if (!request.sources().empty()) {
    if (!request.url().empty() || !request.filter().empty() || !request.headers().empty()) {
      return FieldViolationError("url", "give url (with filter and headers) or sources, not both");
    }
    if (size_t(request.sources_size()) > oracle::kMaxSources) {
      return FieldViolationError("sources", "at most " + std::to_string(oracle::kMaxSources) + " sources");
    }
    sources.assign(request.sources().begin(), request.sources().end());
  } else {
    if (request.url().empty()) return FieldViolationError("url", "url (or sources) is required");
    oraclepb::Source one;
    one.set_url(request.url());
    one.set_filter(request.filter());
    *one.mutable_headers() = request.headers();
    sources.push_back(std::move(one));
  }

  oracle::SourceLimits limits;
  limits.timeout = options_.timeout;
  limits.content_types = options_.content_types;
  limits.max_result_bytes = options_.max_result_bytes;
  limits.schemes = options_.allow_http ? std::vector<std::string>{"https", "http"} : std::vector<std::string>{"https"};

  Prepared p;
  std::set<std::string> names;
  for (size_t i = 0; i < sources.size(); ++i) {
    const oraclepb::Source& s = sources[i];
    const std::string field = request.sources().empty() ? "" : "sources[" + std::to_string(i) + "].";
    if (s.url().size() > kMaxUrlBytes) {
      return FieldViolationError(field + "url", "url is over " + std::to_string(kMaxUrlBytes) + " bytes");
    }
    if (s.filter().size() > kMaxFilterBytes) {
      return FieldViolationError(field + "filter", "filter is over " + std::to_string(kMaxFilterBytes) + " bytes");
    }
    if (size_t(s.headers_size()) > kMaxHeaders) {
      return FieldViolationError(field + "headers", "at most " + std::to_string(kMaxHeaders) + " headers");
    }
    // The URL, then the headers, then the filter, each error naming its field.
    oracle::SourceRequest check{s.url(), "", {}};
    // A chain request for a scheme we do not fetch is answered ProtocolNotSupported, as Neo
    // answers it; through the API it is the caller's mistake.
    const bool unsupported_on_chain = !with_secrets && !oracle::HasAllowedScheme(s.url(), limits);
    if (Status st = oracle::ValidateSourceRequest(check, limits); !st.ok() && !unsupported_on_chain) {
      return FieldViolationError(field + "url", std::string(st.message()));
    }
    for (const auto& h : s.headers()) check.headers.emplace_back(h.name(), h.value());
    if (Status st = oracle::ValidateSourceRequest(check, limits); !st.ok() && !unsupported_on_chain) {
      return FieldViolationError(field + "headers", std::string(st.message()));
    }
    if (!s.filter().empty()) {
      // A filter that fails on an empty object fails on every document: its syntax is wrong.
      if (auto applied = oracle::ApplyJPath("{}", s.filter()); !applied.ok()) {
        return FieldViolationError(field + "filter", std::string(applied.status().message()));
      }
    }
    for (const auto& h : s.headers()) {
      for (std::string& name : oracle::SecretNamesIn(h.value())) names.insert(std::move(name));
    }
    auto* run_source = p.run.add_sources();
    run_source->set_url(s.url());
    run_source->set_filter(s.filter());
    auto* shown_source = p.shown.add_request_sources();
    shown_source->set_url(s.url());
    shown_source->set_filter(s.filter());
    for (const auto& h : s.headers()) {
      auto* rh = run_source->add_headers();
      rh->set_name(h.name());
      rh->set_value(h.value());
      shown_source->add_headers()->set_name(h.name());  // values may be secrets: never stored
    }
  }
  if (!names.empty() && !with_secrets) {
    return FieldViolationError("headers", "a chain request cannot read secrets ({{secrets." + *names.begin() + "}})");
  }
  p.secret_names.assign(names.begin(), names.end());
  if (!request.function_id().empty()) {
    if (!with_secrets) {
      return FieldViolationError("function_id", "a chain request cannot name a function: functions belong to accounts");
    }
    if (!FunctionId::IsWellFormed(request.function_id())) {
      return FieldViolationError("function_id", "function_id must look like fn_ followed by 20 characters");
    }
    p.function_id = request.function_id();
    p.shown.set_function_id(p.function_id);
  }

  oracle::ConsensusSpec spec;
  const oraclepb::Consensus& c = request.consensus();
  if (!c.rule().empty()) {
    auto rule = oracle::ParseRule(c.rule());
    if (!rule.ok()) return FieldViolationError("consensus.rule", std::string(rule.status().message()));
    spec.rule = *rule;
  }
  spec.m = c.m();
  spec.max_spread_bps = c.max_spread_bps();
  spec.min_sources = c.min_sources();
  if (Status st = oracle::ValidateSpec(spec, sources.size()); !st.ok()) {
    return FieldViolationError("consensus", std::string(st.message()));
  }
  p.run.set_rule(std::string(oracle::RuleName(spec.rule)));
  p.run.set_m(spec.m);
  p.run.set_max_spread_bps(spec.max_spread_bps);
  p.run.set_min_sources(spec.min_sources);
  p.run.set_timeout_ms(uint32_t(options_.timeout.count()));
  for (const auto& t : options_.content_types) p.run.add_content_types(t);
  p.run.set_max_result_bytes(uint32_t(options_.max_result_bytes));
  p.run.set_allow_http(options_.allow_http);
  auto* shown_consensus = p.shown.mutable_consensus();
  shown_consensus->set_rule(p.run.rule());
  shown_consensus->set_m(spec.m);
  shown_consensus->set_max_spread_bps(spec.max_spread_bps);
  shown_consensus->set_min_sources(spec.min_sources);
  return p;
}

StatusOr<v1::InvocationSecrets> OracleService::ResolveSecrets(const std::string& account, const std::string& request_id,
                                                              const std::vector<std::string>& names) {
  v1::InvocationSecrets out;
  out.set_account(account);
  if (names.empty()) return out;
  secretspb::ResolveRequestSecretsRequest request;
  for (const auto& n : names) request.add_names(n);
  request.set_request_id(request_id);
  secretspb::ResolveSecretsResponse response;
  mesh::CallOptions options;
  options.account = account;
  Status s =
      client_.Call(kSecretsService, "/neosl.secrets.v1.Secrets/ResolveRequestSecrets", request, &response, options);
  if (s.code() == StatusCode::kNotFound || s.code() == StatusCode::kInvalidArgument) {
    return FieldViolationError("headers", std::string(s.message()));
  }
  if (!s.ok()) return s.Annotate("reading the request's secrets");
  for (const auto& secret : response.secrets()) {
    auto* o = out.add_secrets();
    o->set_name(secret.name());
    o->set_version(secret.version());
    o->set_ciphertext(secret.ciphertext());
  }
  return out;
}

grpc::ServerUnaryReactor* OracleService::CreateOracleRequest(grpc::CallbackServerContext* ctx,
                                                             const oraclepb::CreateOracleRequestRequest* request,
                                                             oraclepb::OracleRequest* response) {
  return pipeline_.UnaryAsync(ctx, kIdentity, "CreateOracleRequest",
                              [this, request, response](const std::shared_ptr<const mesh::CallContext>& call,
                                                        const mesh::Pipeline::Done& done) {
                                bool queued = work_->TrySubmit([this, call, request, response, done] {
                                  mesh::ScopedCall scope(call.get());
                                  Create(call, *request, response, done);
                                });
                                if (!queued) done(Busy());
                              });
}

void OracleService::Create(const std::shared_ptr<const mesh::CallContext>& call,
                           const oraclepb::CreateOracleRequestRequest& request, oraclepb::OracleRequest* response,
                           const mesh::Pipeline::Done& done) {
  auto account = CallerAccount(*call);
  if (!account.ok()) return done(account.status());
  auto prepared = Prepare(request, /*with_secrets=*/true);
  if (!prepared.ok()) return done(prepared.status());
  const std::string id = OracleRequestId::Generate(random_).str();
  // Held before anything is looked up, fetched or stored (async requests too: the caller hears
  // "pending" only once the fee is held).
  const gasbank::Units sources = {{"source", prepared->run.sources_size()}};
  auto hold = charger_.Reserve(account->str(), kRequestOperation, sources, id);
  if (!hold.ok()) return done(hold.status());
  // Refused before it ran: the hold goes back whole.
  auto refuse = [&](const Status& s) {
    (void)charger_.Release(*hold);
    done(s);
  };
  if (!prepared->function_id.empty()) {
    // Before anything is fetched: a function that is not the account's is the caller's mistake.
    functionspb::GetFunctionRequest get;
    get.set_id(prepared->function_id);
    functionspb::Function function;
    mesh::CallOptions options;
    options.account = account->str();
    Status s = client_.Call(kFunctionsService, "/neosl.functions.v1.Functions/GetFunction", get, &function, options);
    if (!s.ok()) return refuse(s.Annotate("function_id"));
  }
  auto secrets = ResolveSecrets(account->str(), id, prepared->secret_names);
  if (!secrets.ok()) return refuse(secrets.status());

  oraclepb::OracleRequest shown = std::move(prepared->shown);
  shown.set_request_id(id);
  shown.set_status("pending");
  shown.set_public_key(report_key_hex_);
  shown.set_created_at(FormatRfc3339Millis(clock_.NowUnixMillis()));
  if (Status s = Store(account->str(), shown, /*insert=*/true); !s.ok()) return refuse(s);

  v1::OracleRunRequest run = std::move(prepared->run);
  run.set_request_id(id);
  *run.mutable_secrets() = std::move(*secrets);
  if (!request.async()) {
    auto finished = Run(account->str(), std::move(run), std::move(shown), *hold);
    if (!finished.ok()) return done(finished.status());
    *response = std::move(*finished);
    return done(Status());
  }
  *response = shown;
  // The caller has its id; the outcome follows in the background (Submit: the queue holds it
  // even when full, since this request is already stored as pending).
  work_->Submit(
      [this, account = account->str(), run = std::move(run), shown = std::move(shown), hold = *hold]() mutable {
        auto finished = Run(account, std::move(run), std::move(shown), hold);
        if (!finished.ok()) log::Warn("oracle request not stored", {{"error", finished.status().ToString()}});
      });
  done(Status());
}

StatusOr<oraclepb::OracleRequest> OracleService::Run(const std::string& account, v1::OracleRunRequest run,
                                                     oraclepb::OracleRequest shown, const gasbank::ChargeHold& hold) {
  auto outcome = enclave_.run(run);
  shown.set_completed_at(FormatRfc3339Millis(clock_.NowUnixMillis()));
  if (!outcome.ok()) {
    // The enclave could not run it at all (it restarted, it timed out): an Error outcome,
    // unsigned, so the request is not left pending.
    shown.set_status("failed");
    shown.set_code("Error");
    shown.set_code_value(uint32_t(oracle::ResponseCode::kError));
    shown.set_detail("the enclave did not answer: " + std::string(outcome.status().message()));
  } else {
    const v1::OracleRunResponse& o = *outcome;
    shown.set_code(CodeName(o.code()));
    shown.set_code_value(o.code());
    shown.set_status(o.code() == uint32_t(oracle::ResponseCode::kSuccess) ? "succeeded" : "failed");
    shown.set_result(o.result());
    const auto hash = crypto::Sha256(std::span(reinterpret_cast<const uint8_t*>(o.result().data()), o.result().size()));
    shown.set_result_hash(HexEncode(hash));
    shown.set_detail(o.detail());
    for (int i = 0; i < o.sources_size() && i < shown.request_sources_size(); ++i) {
      auto* s = shown.add_sources();
      s->set_url(shown.request_sources(i).url());
      s->set_code(CodeName(o.sources(i).code()));
      s->set_detail(o.sources(i).detail());
      if (!o.sources(i).result_hash().empty()) s->set_result_hash(Hex(o.sources(i).result_hash()));
      s->set_agreed(o.sources(i).agreed());
    }
    shown.set_signature(Hex(o.signature()));
    shown.set_record(Hex(o.record()));
    if (!shown.function_id().empty() && o.code() == uint32_t(oracle::ResponseCode::kSuccess)) {
      run.clear_secrets();
      PostProcess(account, shown.function_id(), run, o, &shown);
    }
  }
  const int sources = shown.request_sources_size();
  if (Status s = Store(account, shown, /*insert=*/false); !s.ok()) {
    (void)charger_.Release(hold);
    return s;
  }
  metrics::Oracle().requests.Inc({"api", shown.code()});
  // Paid for only when it succeeded; an outcome that failed (a source, the consensus, the
  // function, the enclave) gives the hold back.
  if (shown.status() == "succeeded") {
    (void)charger_.Charge(hold, {{"source", sources}});
  } else {
    (void)charger_.Release(hold);
  }
  Publish(account, shown);
  return shown;
}

void OracleService::PostProcess(const std::string& account, const std::string& function_id,
                                const v1::OracleRunRequest& run, const v1::OracleRunResponse& fetched,
                                oraclepb::OracleRequest* shown) {
  shown->set_fetched_result(fetched.result());
  // Whatever goes wrong from here, the outcome is Error, and unsigned unless the enclave signs it.
  auto fail = [&](const std::string& why) {
    shown->set_status("failed");
    shown->set_code("Error");
    shown->set_code_value(uint32_t(oracle::ResponseCode::kError));
    shown->set_result("");
    shown->set_result_hash(HexEncode(crypto::Sha256(std::span<const uint8_t>())));
    shown->set_signature("");
    shown->set_record("");
    shown->set_detail(why);
  };
  functionspb::InvokeFunctionRequest invoke;
  invoke.set_id(function_id);
  invoke.set_args_json(oracle::FunctionArgs(run.request_id(), fetched.result()));
  functionspb::Execution execution;
  mesh::CallOptions options;
  options.account = account;
  options.timeout = runtime::kMaxTimeout + std::chrono::milliseconds(10'000);
  Status s =
      client_.Call(kFunctionsService, "/neosl.functions.v1.Functions/InvokeFunction", invoke, &execution, options);
  if (!s.ok()) return fail("the function could not run: " + std::string(s.message()));
  shown->set_function_version(execution.version());
  shown->set_execution_id(execution.id());

  v1::OracleFinalizeRequest finalize;
  *finalize.mutable_request() = run;
  finalize.set_code(fetched.code());
  finalize.set_result(fetched.result());
  finalize.set_signature(fetched.signature());
  auto* proof = finalize.mutable_function();
  proof->set_function_id(execution.function_id());
  proof->set_version(execution.version());
  auto source_hash = HexDecode(execution.source_hash());
  auto signature = HexDecode(execution.enclave_signature());
  if (!source_hash || !signature) return fail("the function's execution has no proof");
  proof->set_source_hash(std::string(source_hash->begin(), source_hash->end()));
  proof->set_args_json(execution.args_json());
  proof->set_succeeded(execution.status() == "succeeded");
  proof->set_output_json(proof->succeeded() ? execution.result_json() : execution.error_json());
  proof->set_signature(std::string(signature->begin(), signature->end()));
  auto final_outcome = enclave_.finalize(finalize);
  if (!final_outcome.ok()) {
    return fail("the enclave did not accept the function's result: " + std::string(final_outcome.status().message()));
  }
  const v1::OracleRunResponse& o = *final_outcome;
  shown->set_code(CodeName(o.code()));
  shown->set_code_value(o.code());
  shown->set_status(o.code() == uint32_t(oracle::ResponseCode::kSuccess) ? "succeeded" : "failed");
  shown->set_result(o.result());
  shown->set_result_hash(
      HexEncode(crypto::Sha256(std::span(reinterpret_cast<const uint8_t*>(o.result().data()), o.result().size()))));
  shown->set_detail(o.detail());
  shown->set_signature(Hex(o.signature()));
  shown->set_record(Hex(o.record()));
}

Status OracleService::Store(const std::string& account, const oraclepb::OracleRequest& shown, bool insert) {
  std::string body;
  if (!shown.SerializeToString(&body)) return InternalError("cannot serialize an oracle request");
  const store::Blob blob(body.begin(), body.end());
  return store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    if (insert) {
      return tx
          .Exec(
              "INSERT INTO oracle_requests (id, account_id, status, code, body, created_at_ms) "
              "VALUES (?, ?, 'pending', NULL, ?, ?)",
              {shown.request_id(), account, blob, clock_.NowUnixMillis()})
          .status();
    }
    return tx
        .Exec("UPDATE oracle_requests SET status = ?, code = ?, body = ?, completed_at_ms = ? WHERE id = ?",
              {shown.status(), int64_t(shown.code_value()), blob, clock_.NowUnixMillis(), shown.request_id()})
        .status();
  });
}

StatusOr<int> OracleService::FailInterrupted() {
  ASSIGN_OR_RETURN(auto rows,
                   store_.Query("SELECT id, account_id, body FROM oracle_requests WHERE status = 'pending'", {}));
  int failed = 0;
  for (const store::Row& row : rows) {
    ASSIGN_OR_RETURN(std::string account, row.Text(1));
    ASSIGN_OR_RETURN(store::Blob body, row.Bytes(2));
    oraclepb::OracleRequest shown;
    if (!shown.ParseFromArray(body.data(), int(body.size())))
      return DataLossError("a stored oracle request is corrupt");
    shown.set_status("failed");
    shown.set_code("Error");
    shown.set_code_value(uint32_t(oracle::ResponseCode::kError));
    shown.set_detail("interrupted by a restart before it finished; ask again");
    shown.set_completed_at(FormatRfc3339Millis(clock_.NowUnixMillis()));
    RETURN_IF_ERROR(Store(account, shown, /*insert=*/false));
    ++failed;
  }
  return failed;
}

Status OracleService::RunDetached(const oraclepb::CreateOracleRequestRequest& request, const v1::OracleRunRequest& run,
                                  RunDone done) {
  ASSIGN_OR_RETURN(Prepared p, Prepare(request, /*with_secrets=*/false));
  p.run.set_request_id(run.request_id());
  *p.run.mutable_chain() = run.chain();
  if (run.max_result_bytes() > 0)
    p.run.set_max_result_bytes(std::min(run.max_result_bytes(), p.run.max_result_bytes()));
  bool queued = work_->TrySubmit([this, run = std::move(p.run), done = std::move(done)] {
    auto outcome = enclave_.run(run);
    metrics::Oracle().requests.Inc({"chain", outcome.ok() ? CodeName(outcome->code()) : "Error"});
    done(std::move(outcome));
  });
  if (!queued) return Busy();
  return Status();
}

}  // namespace neosl::services
