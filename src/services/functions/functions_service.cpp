#include "services/functions/functions_service.h"

#include <utility>

#include "core/encoding.h"
#include "core/ids.h"
#include "core/log.h"
#include "crypto/hash.h"
#include "neosl/secrets/v1/secrets.pb.h"
#include "services/functions/service_internal.h"
#include "services/functions/validation.h"

namespace neosl::services {
namespace {

namespace secretspb = ::neosl::secrets::v1;
using functions::FunctionRecord;
using functions::FunctionVersion;

constexpr std::string_view kSecretsService = "secrets";

std::array<uint8_t, 32> Sha256Of(std::string_view text) {
  return crypto::Sha256({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

Status Busy() {
  return ResourceExhaustedError("the functions service is busy; retry later")
      .WithDetail(ErrorDetail{"QuotaFailure", {}}.Add("resource", "functions service queue"));
}

// The value of a detail field, or "".
std::string DetailValue(const Status& s, std::string_view type, std::string_view key) {
  for (const auto& d : s.details()) {
    if (d.type != type) continue;
    for (const auto& [k, v] : d.fields) {
      if (k == key && std::holds_alternative<std::string>(v)) return std::get<std::string>(v);
    }
  }
  return {};
}

}  // namespace

namespace functions {

StatusOr<std::string> CallerAccount(const mesh::CallContext& call) {
  if (call.account.empty() || !AccountId::IsWellFormed(call.account)) {
    return PermissionDeniedError("functions belong to an account: the call carries none");
  }
  return call.account;
}

void FunctionToProto(const FunctionRecord& f, bool with_source, ::neosl::functions::v1::Function* out) {
  out->set_id(f.id);
  out->set_name(f.name);
  out->set_description(f.version.description);
  out->set_version(f.version.version);
  if (with_source) out->set_source(f.version.source);
  out->set_source_hash(HexEncode(f.version.source_hash));
  out->clear_secrets();
  for (const auto& s : f.version.secrets) out->add_secrets(s);
  out->mutable_limits()->set_timeout_ms(uint32_t(f.version.limits.timeout.count()));
  out->mutable_limits()->set_memory_mb(uint32_t(f.version.limits.memory_bytes >> 20));
  out->set_created_at(FormatRfc3339Millis(f.created_at_ms));
  out->set_updated_at(FormatRfc3339Millis(f.version.created_at_ms));
  out->set_current_version(f.current_version);
}

}  // namespace functions

FunctionsService::FunctionsService(mesh::Pipeline& pipeline, store::Store& store, runtime::FunctionRunner& runner,
                                   mesh::MeshClient& secrets, const Clock& clock, RandomSource& random,
                                   crypto::PublicKey report_key, FunctionsOptions options, gasbank::GasCharger charger)
    : pipeline_(pipeline),
      store_(store),
      runner_(runner),
      secrets_(secrets),
      clock_(clock),
      random_(random),
      report_key_(std::move(report_key)),
      options_(options),
      charger_(charger),
      hub_(options.log_stream_queue, options.max_log_streams_per_function),
      writer_(std::make_unique<functions::ExecutionWriter>(store_, options.max_executions_kept)),
      work_(std::make_unique<WorkQueue>(options.threads, options.queue)) {}

FunctionsService::~FunctionsService() {
  {
    std::unique_lock lock(inflight_mu_);
    inflight_cv_.wait(lock, [this] { return inflight_ == 0; });
  }
  work_.reset();
  writer_.reset();
}

void FunctionsService::InvocationStarted() {
  std::lock_guard lock(inflight_mu_);
  ++inflight_;
}

void FunctionsService::InvocationEnded() {
  std::lock_guard lock(inflight_mu_);
  if (--inflight_ == 0) inflight_cv_.notify_all();
}

grpc::ServerUnaryReactor* FunctionsService::Blocking(grpc::CallbackServerContext* ctx, std::string_view operation,
                                                     Work work) {
  return pipeline_.UnaryAsync(ctx, kIdentity, operation,
                              [this, work = std::move(work)](const std::shared_ptr<const mesh::CallContext>& call,
                                                             const mesh::Pipeline::Done& done) {
                                bool queued = work_->TrySubmit([call, work, done] {
                                  mesh::ScopedCall scope(call.get());
                                  done(work(*call));
                                });
                                if (!queued) done(Busy());
                              });
}

StatusOr<std::vector<std::string>> FunctionsService::Grant(const std::string& account, const std::string& function_id,
                                                           const std::vector<std::string>& names) {
  secretspb::GrantSecretsRequest request;
  request.set_function_id(function_id);
  for (const auto& n : names) request.add_names(n);
  secretspb::GrantSecretsResponse response;
  mesh::CallOptions options;
  options.account = account;
  Status s = secrets_.Call(kSecretsService, "/neosl.secrets.v1.Secrets/GrantSecrets", request, &response, options);
  if (!s.ok()) return s.Annotate("granting the function its secrets");
  return std::vector<std::string>(response.missing().begin(), response.missing().end());
}

StatusOr<std::vector<runtime::SealedSecret>> FunctionsService::Resolve(const std::string& account,
                                                                       const std::string& function_id,
                                                                       const std::vector<std::string>& names,
                                                                       const std::string& execution_id) {
  secretspb::ResolveSecretsRequest request;
  request.set_function_id(function_id);
  for (const auto& n : names) request.add_names(n);
  request.set_execution_id(execution_id);
  secretspb::ResolveSecretsResponse response;
  mesh::CallOptions options;
  options.account = account;
  Status s = secrets_.Call(kSecretsService, "/neosl.secrets.v1.Secrets/ResolveSecrets", request, &response, options);
  if (s.code() == StatusCode::kNotFound) {
    std::string name = DetailValue(s, "ResourceInfo", "resource_name");
    return FailedPreconditionError("the function is granted the secret '" + name +
                                   "' but no secret of that name is stored: store it (PUT /v1/secrets/" + name +
                                   ") or update the function's secrets")
        .WithDetail(ErrorDetail{"PreconditionFailure", {}}
                        .Add("type", "SECRET_MISSING")
                        .Add("subject", "secret/" + name)
                        .Add("description", "granted but not stored"));
  }
  if (s.code() == StatusCode::kPermissionDenied &&
      DetailValue(s, "AuthorizationError", "reason") == "not granted to the function") {
    // The grants and the function's list disagree (a grant that failed half way): updating the
    // function's secrets grants them again.
    return FailedPreconditionError(std::string(s.message()) + "; update the function's secrets to grant it again");
  }
  if (!s.ok()) return s.Annotate("resolving the function's secrets");
  std::vector<runtime::SealedSecret> out;
  out.reserve(response.secrets_size());
  for (const auto& secret : response.secrets()) {
    out.push_back(runtime::SealedSecret{secret.name(), secret.version(),
                                        std::vector<uint8_t>(secret.ciphertext().begin(), secret.ciphertext().end())});
  }
  return out;
}

Status FunctionsService::CheckCompiles(const std::string& source) {
  runtime::ScriptError error;
  Status s = runner_.Check(source, &error);
  if (s.ok()) return s;
  if (s.code() != StatusCode::kInvalidArgument) return s.Annotate("checking the source");
  std::string message = error.message.empty() ? std::string(s.message()) : error.message;
  std::string where;
  if (error.line > 0) {
    where = " at line " + std::to_string(error.line) + ", column " + std::to_string(error.column);
  }
  return InvalidArgumentError("source does not compile: " + message + where)
      .WithDetail(ErrorDetail{"FieldViolation", {}}
                      .Add("field", "source")
                      .Add("description", message)
                      .Add("line", int64_t(error.line))
                      .Add("column", int64_t(error.column)));
}

Status FunctionsService::Create(const mesh::CallContext& call, const functionspb::CreateFunctionRequest& request,
                                functionspb::Function* response) {
  ASSIGN_OR_RETURN(std::string account, functions::CallerAccount(call));
  RETURN_IF_ERROR(functions::CheckFunctionName(request.name()));
  RETURN_IF_ERROR(functions::CheckSource(request.source()));
  RETURN_IF_ERROR(functions::CheckDescription(request.description()));
  ASSIGN_OR_RETURN(std::vector<std::string> secrets, functions::CheckSecretNames(request.secrets()));
  ASSIGN_OR_RETURN(runtime::Limits limits, functions::LimitsFrom(request.limits(), runtime::Limits{}));
  // Cheap refusals first, so that a taken name or a full account costs no compile and no grant.
  RETURN_IF_ERROR(store_.CheckCreate(account, request.name(), options_.max_functions_per_account));
  RETURN_IF_ERROR(CheckCompiles(request.source()));

  FunctionRecord f;
  f.id = FunctionId::Generate(random_).str();
  f.account = account;
  f.name = request.name();
  f.current_version = 1;
  f.created_at_ms = clock_.NowUnixMillis();
  f.version = FunctionVersion{
      1, request.source(), Sha256Of(request.source()), secrets, limits, request.description(), f.created_at_ms};
  std::vector<std::string> missing;
  if (!secrets.empty()) {
    ASSIGN_OR_RETURN(missing, Grant(account, f.id, secrets));
  }
  if (Status s = store_.Create(f, options_.max_functions_per_account); !s.ok()) {
    if (!secrets.empty()) (void)Grant(account, f.id, {});  // best effort: the id is never used again
    return s;
  }
  functions::FunctionToProto(f, /*with_source=*/false, response);
  for (auto& m : missing) response->add_missing_secrets(std::move(m));
  log::Info("function created", {{"function_id", f.id}, {"account", account}, {"secrets", int64_t(secrets.size())}});
  return Status();
}

Status FunctionsService::Get(const mesh::CallContext& call, const functionspb::GetFunctionRequest& request,
                             functionspb::Function* response) {
  ASSIGN_OR_RETURN(std::string account, functions::CallerAccount(call));
  RETURN_IF_ERROR(functions::CheckFunctionId(request.id()));
  if (request.version() < 0) return functions::FieldError("version", "version must be 1 or more (0: the current)");
  ASSIGN_OR_RETURN(FunctionRecord f, store_.Get(account, request.id(), uint32_t(request.version())));
  functions::FunctionToProto(f, /*with_source=*/true, response);
  return Status();
}

Status FunctionsService::List(const mesh::CallContext& call, const functionspb::ListFunctionsRequest& request,
                              functionspb::ListFunctionsResponse* response) {
  ASSIGN_OR_RETURN(std::string account, functions::CallerAccount(call));
  ASSIGN_OR_RETURN(int32_t limit, functions::PageSize(request.limit()));
  std::string after;
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(after, functions::DecodePageToken(request.page_token()));
  }
  ASSIGN_OR_RETURN(auto page, store_.List(account, after, limit + 1));
  const bool more = page.size() > size_t(limit);
  if (more) page.resize(size_t(limit));
  for (const auto& f : page) functions::FunctionToProto(f, /*with_source=*/false, response->add_functions());
  if (more) response->set_next_page_token(functions::EncodePageToken(page.back().name));
  return Status();
}

Status FunctionsService::Update(const mesh::CallContext& call, const functionspb::UpdateFunctionRequest& request,
                                functionspb::Function* response) {
  ASSIGN_OR_RETURN(std::string account, functions::CallerAccount(call));
  RETURN_IF_ERROR(functions::CheckFunctionId(request.id()));
  if (request.source().empty() && !request.has_secrets() && !request.has_limits() && !request.has_description()) {
    return InvalidArgumentError("nothing to update: give source, secrets, limits or description");
  }
  ASSIGN_OR_RETURN(FunctionRecord current, store_.Get(account, request.id()));
  FunctionVersion next = current.version;
  next.version = current.current_version + 1;
  next.created_at_ms = clock_.NowUnixMillis();
  if (request.has_description()) {
    RETURN_IF_ERROR(functions::CheckDescription(request.description()));
    next.description = request.description();
  }
  if (request.has_limits()) {
    ASSIGN_OR_RETURN(next.limits, functions::LimitsFrom(request.limits(), current.version.limits));
  }
  if (request.has_secrets()) {
    ASSIGN_OR_RETURN(next.secrets, functions::CheckSecretNames(request.secrets().names()));
  }
  if (!request.source().empty()) {
    RETURN_IF_ERROR(functions::CheckSource(request.source()));
    RETURN_IF_ERROR(CheckCompiles(request.source()));
    next.source = request.source();
    next.source_hash = Sha256Of(next.source);
  }
  const bool regrant = next.secrets != current.version.secrets;
  std::vector<std::string> missing;
  if (regrant) {
    ASSIGN_OR_RETURN(missing, Grant(account, request.id(), next.secrets));
  }
  if (Status s = store_.AddVersion(account, request.id(), next); !s.ok()) {
    if (regrant) (void)Grant(account, request.id(), current.version.secrets);  // best effort: as before
    return s;
  }
  FunctionRecord updated = current;
  updated.current_version = next.version;
  updated.version = std::move(next);
  functions::FunctionToProto(updated, /*with_source=*/false, response);
  for (auto& m : missing) response->add_missing_secrets(std::move(m));
  return Status();
}

Status FunctionsService::Delete(const mesh::CallContext& call, const functionspb::DeleteFunctionRequest& request,
                                functionspb::DeleteFunctionResponse* response) {
  ASSIGN_OR_RETURN(std::string account, functions::CallerAccount(call));
  RETURN_IF_ERROR(functions::CheckFunctionId(request.id()));
  ASSIGN_OR_RETURN(FunctionRecord current, store_.Get(account, request.id()));
  // Revoke first: a delete that fails after this is retried (the method is idempotent), while
  // grants left behind by a function already gone could never be revoked through it again.
  RETURN_IF_ERROR(Grant(account, request.id(), {}).status());
  if (Status s = store_.Delete(account, request.id()); !s.ok()) {
    if (!current.version.secrets.empty()) (void)Grant(account, request.id(), current.version.secrets);
    return s;
  }
  hub_.CloseFunction(request.id(), Status());
  response->set_id(request.id());
  response->set_deleted(true);
  log::Info("function deleted", {{"function_id", request.id()}, {"account", account}});
  return Status();
}

grpc::ServerUnaryReactor* FunctionsService::CreateFunction(grpc::CallbackServerContext* ctx,
                                                           const functionspb::CreateFunctionRequest* request,
                                                           functionspb::Function* response) {
  return Blocking(ctx, "CreateFunction", [this, request, response](const mesh::CallContext& call) {
    return Create(call, *request, response);
  });
}

grpc::ServerUnaryReactor* FunctionsService::GetFunction(grpc::CallbackServerContext* ctx,
                                                        const functionspb::GetFunctionRequest* request,
                                                        functionspb::Function* response) {
  return pipeline_.Unary(ctx, kIdentity, "GetFunction",
                         [&](const mesh::CallContext& call) { return Get(call, *request, response); });
}

grpc::ServerUnaryReactor* FunctionsService::ListFunctions(grpc::CallbackServerContext* ctx,
                                                          const functionspb::ListFunctionsRequest* request,
                                                          functionspb::ListFunctionsResponse* response) {
  return pipeline_.Unary(ctx, kIdentity, "ListFunctions",
                         [&](const mesh::CallContext& call) { return List(call, *request, response); });
}

grpc::ServerUnaryReactor* FunctionsService::UpdateFunction(grpc::CallbackServerContext* ctx,
                                                           const functionspb::UpdateFunctionRequest* request,
                                                           functionspb::Function* response) {
  return Blocking(ctx, "UpdateFunction", [this, request, response](const mesh::CallContext& call) {
    return Update(call, *request, response);
  });
}

grpc::ServerUnaryReactor* FunctionsService::DeleteFunction(grpc::CallbackServerContext* ctx,
                                                           const functionspb::DeleteFunctionRequest* request,
                                                           functionspb::DeleteFunctionResponse* response) {
  return Blocking(ctx, "DeleteFunction", [this, request, response](const mesh::CallContext& call) {
    return Delete(call, *request, response);
  });
}

grpc::ServerUnaryReactor* FunctionsService::ListExecutions(grpc::CallbackServerContext* ctx,
                                                           const functionspb::ListExecutionsRequest* request,
                                                           functionspb::ListExecutionsResponse* response) {
  return pipeline_.Unary(ctx, kIdentity, "ListExecutions",
                         [&](const mesh::CallContext& call) { return ListExecutionsOf(call, *request, response); });
}

grpc::ServerUnaryReactor* FunctionsService::GetExecution(grpc::CallbackServerContext* ctx,
                                                         const functionspb::GetExecutionRequest* request,
                                                         functionspb::Execution* response) {
  return pipeline_.Unary(ctx, kIdentity, "GetExecution",
                         [&](const mesh::CallContext& call) { return GetExecutionOf(call, *request, response); });
}

}  // namespace neosl::services
