// Running one invocation (docs/functions.md, "The runtime"): a fresh global, the prelude, the
// cached module instantiated into it, the default export called with (request, context), the
// job queue drained, the result serialised — with the time and memory limits armed throughout.
#include <boost/json.hpp>

#include "runtime/engine_impl.h"
#include <js/Array.h>

namespace neosl::runtime {
namespace {

std::string ErrorJson(const Status& status) {
  boost::json::object o;
  o["code"] = StatusCodeName(status.code());
  o["message"] = status.message();
  return boost::json::serialize(o);
}

// The exception a rejected promise or a throw carried, as a ScriptError.
ScriptError ErrorFromValue(JSContext* cx, JS::HandleValue value) {
  JS_SetPendingException(cx, value);
  return js::TakeException(cx);
}

std::string Where(const ScriptError& e) {
  if (e.line == 0) return "";
  return " (function.js:" + std::to_string(e.line) + ":" + std::to_string(e.column) + ")";
}

}  // namespace

Status Engine::Impl::RunInRealm(const Invocation& inv, JS::Stencil* stencil, std::string* result_json,
                                ScriptError* error) {
  JS::RootedObject context(cx_);
  if (!js::NewContextObject(cx_, &context)) {
    *error = js::TakeException(cx_);
    return ResourceExhaustedError("building the context failed: " + error->message);
  }
  JS::CompileOptions options(cx_);
  options.setFileAndLine(kModuleFile, 1);
  JS::InstantiateOptions instantiate(options);
  JS::RootedObject module(cx_, JS::InstantiateModuleStencil(cx_, instantiate, stencil));
  if (!module || !JS::ModuleInstantiate(cx_, module)) {
    *error = js::TakeException(cx_);
    return InvalidArgumentError(error->message + Where(*error));
  }
  JS::RootedValue evaluated(cx_);
  if (!JS::ModuleEvaluate(cx_, module, &evaluated)) {
    *error = js::TakeException(cx_);
    return UnknownError(error->message);
  }
  ::js::RunJobs(cx_);
  JS::RootedObject evaluated_object(cx_, evaluated.isObject() ? &evaluated.toObject() : nullptr);
  if (evaluated_object && JS::IsPromiseObject(evaluated_object)) {
    JS::RootedObject promise(cx_, evaluated_object);
    if (JS::GetPromiseState(promise) == JS::PromiseState::Rejected) {
      JS::RootedValue reason(cx_, JS::GetPromiseResult(promise));
      *error = ErrorFromValue(cx_, reason);
      return UnknownError(error->message);
    }
    if (JS::GetPromiseState(promise) == JS::PromiseState::Pending) {
      return FailedPreconditionError("the module's top-level await never settles");
    }
  }

  JS::RootedObject ns(cx_, JS::GetModuleNamespace(cx_, module));
  JS::RootedValue fn(cx_);
  if (!ns || !JS_GetProperty(cx_, ns, "default", &fn)) {
    *error = js::TakeException(cx_);
    return UnknownError(error->message);
  }
  if (!fn.isObject() || !JS::IsCallable(&fn.toObject())) {
    return InvalidArgumentError(
        "the module has no default export function: write `export default async function (request, context) { … }`");
  }

  JS::RootedObject request(cx_, JS_NewPlainObject(cx_));
  JS::RootedValue args(cx_);
  if (!request) return ResourceExhaustedError("out of memory building the request");
  if (!js::ParseJson(cx_, inv.args_json.empty() ? "null" : inv.args_json, &args)) {
    *error = js::TakeException(cx_);
    return InvalidArgumentError("args are not JSON: " + error->message);
  }
  JS::RootedValue v(cx_);
  bool ok = JS_SetProperty(cx_, request, "args", args);
  JSString* s = js::NewString(cx_, TriggerName(inv.trigger));
  v.setString(s);
  ok = ok && s && JS_SetProperty(cx_, request, "trigger", v);
  s = js::NewString(cx_, inv.execution_id);
  v.setString(s);
  ok = ok && s && JS_SetProperty(cx_, request, "executionId", v);
  s = js::NewString(cx_, inv.function_id);
  v.setString(s);
  ok = ok && s && JS_SetProperty(cx_, request, "functionId", v);
  v.setNumber(inv.version);
  ok = ok && JS_SetProperty(cx_, request, "version", v);
  if (!ok) {
    *error = js::TakeException(cx_);
    return ResourceExhaustedError("building the request failed: " + error->message);
  }

  JS::RootedValueArray<2> argv(cx_);
  argv[0].setObject(*request);
  argv[1].setObject(*context);
  JS::RootedValue returned(cx_);
  if (!JS_CallFunctionValue(cx_, nullptr, fn, argv, &returned)) {
    *error = js::TakeException(cx_);
    return UnknownError(error->message);
  }
  ::js::RunJobs(cx_);
  if (JS_IsExceptionPending(cx_)) {
    *error = js::TakeException(cx_);
    return UnknownError(error->message);
  }
  JS::RootedValue value(cx_, returned);
  JS::RootedObject returned_object(cx_, returned.isObject() ? &returned.toObject() : nullptr);
  if (returned_object && JS::IsPromiseObject(returned_object)) {
    JS::RootedObject promise(cx_, returned_object);
    switch (JS::GetPromiseState(promise)) {
      case JS::PromiseState::Pending:
        return FailedPreconditionError(
            "the function's promise never settles: nothing it awaits can complete (there are no timers or "
            "pending requests)");
      case JS::PromiseState::Rejected:
        value = JS::GetPromiseResult(promise);
        *error = ErrorFromValue(cx_, value);
        return UnknownError(error->message);
      case JS::PromiseState::Fulfilled: value = JS::GetPromiseResult(promise); break;
    }
  }
  if (value.isSymbol() || (value.isObject() && JS::IsCallable(&value.toObject()))) {
    return FailedPreconditionError("the result is not JSON (a function or a symbol)");
  }
  bool undefined = false;
  if (!js::StringifyJson(cx_, value, result_json, &undefined)) {
    *error = js::TakeException(cx_);
    return FailedPreconditionError("the result is not JSON: " + error->message);
  }
  if (undefined) {
    if (!value.isUndefined()) return FailedPreconditionError("the result is not JSON (a function or a symbol)");
    *result_json = "null";
  }
  if (result_json->size() > kMaxResultBytes) {
    const size_t n = result_json->size();
    result_json->clear();
    return ResourceExhaustedError("the result is " + std::to_string(n) + " bytes of JSON, over the limit of " +
                                  std::to_string(kMaxResultBytes) + " bytes");
  }
  return Status();
}

Outcome Engine::Impl::Run(const Invocation& inv, InvocationHost& host) {
  Outcome out;
  const auto start = Clock::now();
  ++stats_.invocations;
  auto fail = [&](Status status) {
    out.status = std::move(status);
    out.error_json = ErrorJson(out.status);
    out.result_json.clear();
    out.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
    return out;
  };
  if (inv.source.size() > kMaxSourceBytes) {
    return fail(InvalidArgumentError("the source is " + std::to_string(inv.source.size()) +
                                     " bytes, over the limit of " + std::to_string(kMaxSourceBytes)));
  }
  if (inv.args_json.size() > kMaxArgsBytes) {
    return fail(InvalidArgumentError("args are " + std::to_string(inv.args_json.size()) +
                                     " bytes of JSON, over the limit of " + std::to_string(kMaxArgsBytes)));
  }
  if (Status s = ValidateLimits(inv.limits); !s.ok()) return fail(s);

  js::InvocationState st;
  st.invocation = &inv;
  st.host = &host;
  st.deadline = start + inv.limits.timeout;
  st.timed_out = &timed_out_;
  st.prelude = prelude_.get();
  JS_SetContextPrivate(cx_, &st);
  RealmGuard guard(cx_);

  JS::Stencil* stencil = nullptr;
  {
    JSAutoRealm ar(cx_, compile_global_);
    ScriptError compile_error;
    stencil = Compiled(inv, &out.cold, &compile_error);
    if (stencil == nullptr) {
      out.error = compile_error;
      return fail(InvalidArgumentError("SyntaxError: " + compile_error.message + Where(compile_error)));
    }
  }

  const size_t heap_now = JS_GetGCParameter(cx_, JSGC_BYTES);
  JS_SetGCParameter(cx_, JSGC_MAX_BYTES, uint32_t(std::min(heap_now + inv.limits.memory_bytes, kHeapCeiling * 2)));
  LimitAddressSpace(inv.limits.memory_bytes);
  Arm(st.deadline);
  Status status;
  std::string result_json;
  ScriptError error;
  {
    JS::RealmOptions realm;
    // Every invocation's realm is fresh; they share one zone (the compile realm's), which makes a
    // realm cheaper to create and lets its garbage go with the next collection of that zone.
    realm.creationOptions().setSharedMemoryAndAtomicsEnabled(false).setNewCompartmentInExistingZone(compile_global_);
    JS::RootedObject global(cx_, JS_NewGlobalObject(cx_, &js::kGlobalClass, nullptr, JS::FireOnNewGlobalHook, realm));
    if (global) {
      JSAutoRealm ar(cx_, global);
      status = RunInRealm(inv, stencil, &result_json, &error);
    } else {
      error = js::TakeException(cx_);
      status = ResourceExhaustedError("cannot create the function's global: " + error.message);
    }
  }
  Disarm();
  LimitAddressSpace(0);
  JS_SetGCParameter(cx_, JSGC_MAX_BYTES, uint32_t(kHeapCeiling));
  JS_ClearPendingException(cx_);

  // The limits explain a failure better than the exception they caused.
  if (timed_out_.load()) {
    status = DeadlineExceededError("the function ran past its time limit of " +
                                   std::to_string(inv.limits.timeout.count()) + " ms");
  } else if (st.out_of_memory) {
    status = ResourceExhaustedError("the function went past its memory limit of " +
                                    std::to_string(inv.limits.memory_bytes >> 20) + " MB");
    gc_due_ = true;
  } else if (!st.limit_exceeded.empty()) {
    status = ResourceExhaustedError(st.limit_exceeded);
  }
  out.logs = std::move(st.logs);
  out.logs_truncated = st.logs_truncated;
  if (++since_gc_ >= options_.gc_every ||
      JS_GetGCParameter(cx_, JSGC_BYTES) > 2 * heap_after_gc_ + (size_t{16} << 20)) {
    gc_due_ = true;
  }
  if (!status.ok()) {
    out.error = std::move(error);
    return fail(std::move(status));
  }
  out.status = Status();
  out.result_json = std::move(result_json);
  out.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  return out;
}

Status Engine::Impl::Check(std::string_view source, ScriptError* error) {
  if (source.size() > kMaxSourceBytes) {
    return InvalidArgumentError("the source is " + std::to_string(source.size()) + " bytes, over the limit of " +
                                std::to_string(kMaxSourceBytes));
  }
  JSAutoRealm ar(cx_, compile_global_);
  RefPtr<JS::Stencil> stencil = Compile(source, error);
  if (!stencil) return InvalidArgumentError("SyntaxError: " + error->message + Where(*error));
  // A module that imports anything can never link: say so now, at deploy time.
  JS::CompileOptions options(cx_);
  options.setFileAndLine(kModuleFile, 1);
  JS::InstantiateOptions instantiate(options);
  JS::RootedObject module(cx_, JS::InstantiateModuleStencil(cx_, instantiate, stencil));
  if (!module) {
    *error = js::TakeException(cx_);
    return InvalidArgumentError(error->message);
  }
  JS::RootedObject requested(cx_, JS::GetRequestedModules(cx_, module));
  uint32_t n = 0;
  if (requested && JS::GetArrayLength(cx_, requested, &n) && n > 0) {
    JS::RootedValue entry(cx_);
    if (JS_GetElement(cx_, requested, 0, &entry) && entry.isObject()) {
      uint32_t line = 0, column = 0;
      JS::GetRequestedModuleSourcePos(cx_, entry, &line, &column);
      error->line = int(line);
      error->column = int(column) + 1;
    }
    error->message = "imports are not available: a function is a single module";
    return InvalidArgumentError(error->message + Where(*error));
  }
  JS_ClearPendingException(cx_);
  return Status();
}

}  // namespace neosl::runtime
