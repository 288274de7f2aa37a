// The host API an invocation sees (docs/functions.md, "What a function can use"): natives that
// reach the InvocationHost, wrapped by a small JavaScript prelude into the web-style objects
// (TextEncoder, Response, fetch, crypto.subtle …). The natives object is handed to the prelude
// as an argument and never appears on the global.
#include <algorithm>
#include <array>
#include <jsfriendapi.h>

#include <openssl/evp.h>

#include "runtime/js_support.h"
#include <js/Array.h>
#include <js/ArrayBuffer.h>
#include <js/CallAndConstruct.h>
#include <js/CallArgs.h>
#include <js/CompilationAndEvaluation.h>
#include <js/Conversions.h>
#include <js/PropertyAndElement.h>
#include <js/PropertySpec.h>
#include <js/experimental/TypedData.h>

namespace neosl::runtime::js {
namespace {

// The bytes of an ArrayBuffer or a view, copied out. False (no exception) for anything else.
bool BytesOf(JSContext* cx, JS::HandleValue v, std::vector<uint8_t>* out) {
  if (!v.isObject()) return false;
  JSObject* obj = &v.toObject();
  JS::AutoCheckCannotGC nogc;
  bool shared = false;
  if (JS_IsArrayBufferViewObject(obj)) {
    const size_t n = JS_GetArrayBufferViewByteLength(obj);
    const auto* data = static_cast<const uint8_t*>(JS_GetArrayBufferViewData(obj, &shared, nogc));
    out->assign(data, data + n);
    return true;
  }
  if (JS::IsArrayBufferObject(obj)) {
    const size_t n = JS::GetArrayBufferByteLength(obj);
    const auto* data = JS::GetArrayBufferData(obj, &shared, nogc);
    out->assign(data, data + n);
    return true;
  }
  (void)cx;
  return false;
}

JSObject* NewArrayBuffer(JSContext* cx, std::span<const uint8_t> bytes) {
  JS::RootedObject buffer(cx, JS::NewArrayBuffer(cx, bytes.size()));
  if (!buffer) return nullptr;
  JS::AutoCheckCannotGC nogc;
  bool shared = false;
  uint8_t* data = JS::GetArrayBufferData(buffer, &shared, nogc);
  if (!bytes.empty()) std::copy(bytes.begin(), bytes.end(), data);
  return buffer;
}

JSObject* NewUint8Array(JSContext* cx, std::span<const uint8_t> bytes) {
  JS::RootedObject array(cx, JS_NewUint8Array(cx, bytes.size()));
  if (!array) return nullptr;
  JS::AutoCheckCannotGC nogc;
  bool shared = false;
  uint8_t* data = JS_GetUint8ArrayData(array, &shared, nogc);
  if (!bytes.empty()) std::copy(bytes.begin(), bytes.end(), data);
  return array;
}

bool StringArg(JSContext* cx, const JS::CallArgs& args, unsigned i, std::string* out) {
  return ToUtf8(cx, args.get(i), out);
}

// n.log(level, message)
bool Log(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  InvocationState& st = State(cx);
  args.rval().setUndefined();
  std::string level, message;
  if (!StringArg(cx, args, 0, &level) || !StringArg(cx, args, 1, &message)) return false;
  if (st.logs.size() >= kMaxLogLines) {
    st.logs_truncated = true;
    return true;  // later lines are dropped, not an error: logging must never break a function
  }
  if (message.size() > kMaxLogLineBytes) {
    size_t cut = kMaxLogLineBytes;
    while (cut > 0 && (static_cast<uint8_t>(message[cut]) & 0xC0) == 0x80) --cut;  // whole characters
    message.resize(cut);
    message += "…[truncated]";
    st.logs_truncated = true;
  }
  LogLine line{st.host->NowUnixMillis(), level, std::move(message)};
  st.host->Log(line);
  st.logs.push_back(std::move(line));
  return true;
}

// n.secret(name) → string
bool Secret(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  std::string name;
  if (!StringArg(cx, args, 0, &name)) return false;
  auto value = State(cx).host->Secret(name);
  if (!value.ok()) return ThrowStatus(cx, value.status());
  JS::RootedString s(cx, NewString(cx, std::string_view(reinterpret_cast<const char*>(value->data()), value->size())));
  if (!s) return false;
  args.rval().setString(s);
  return true;
}

// n.fetch(method, url, [[name, value]…], body (Uint8Array|null), redirect, timeout_ms)
bool Fetch(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  InvocationState& st = State(cx);
  if (st.fetches >= static_cast<int>(kMaxFetchCalls)) {
    return ThrowStatus(cx, ResourceExhaustedError("fetch: a function may make at most " +
                                                  std::to_string(kMaxFetchCalls) + " requests"));
  }
  FetchCall call;
  if (!StringArg(cx, args, 0, &call.method) || !StringArg(cx, args, 1, &call.url)) return false;
  if (args.get(2).isObject()) {
    JS::RootedObject headers(cx, &args.get(2).toObject());
    uint32_t n = 0;
    if (!JS::GetArrayLength(cx, headers, &n)) return false;
    for (uint32_t i = 0; i < n; ++i) {
      JS::RootedValue pair(cx);
      if (!JS_GetElement(cx, headers, i, &pair) || !pair.isObject()) return Throw(cx, "fetch: bad headers");
      JS::RootedObject p(cx, &pair.toObject());
      JS::RootedValue k(cx), v(cx);
      std::string ks, vs;
      if (!JS_GetElement(cx, p, 0, &k) || !JS_GetElement(cx, p, 1, &v) || !ToUtf8(cx, k, &ks) || !ToUtf8(cx, v, &vs)) {
        return false;
      }
      call.headers.emplace_back(std::move(ks), std::move(vs));
    }
  }
  if (!args.get(3).isNullOrUndefined() && !BytesOf(cx, args.get(3), &call.body)) {
    return Throw(cx, "fetch: body must be a string, an ArrayBuffer, a typed array or JSON-able object");
  }
  if (!StringArg(cx, args, 4, &call.redirect)) return false;
  double timeout_ms = 0;
  if (!JS::ToNumber(cx, args.get(5), &timeout_ms)) return false;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(st.deadline - std::chrono::steady_clock::now());
  auto timeout = kMaxFetchTimeout;
  if (timeout_ms > 0 && timeout_ms < double(timeout.count())) timeout = std::chrono::milliseconds(int64_t(timeout_ms));
  call.timeout = std::max(std::chrono::milliseconds(1), std::min(timeout, left));
  ++st.fetches;
  auto result = st.host->Fetch(call);
  if (!result.ok()) return ThrowStatus(cx, result.status());

  JS::RootedObject out(cx, JS_NewPlainObject(cx));
  if (!out) return false;
  JS::RootedValueVector pairs(cx);
  for (const auto& [k, v] : result->headers) {
    JS::RootedValueArray<2> kv(cx);
    JSString* ks = NewString(cx, k);
    if (!ks) return false;
    kv[0].setString(ks);
    JSString* vs = NewString(cx, v);
    if (!vs) return false;
    kv[1].setString(vs);
    JS::RootedObject pair(cx, JS::NewArrayObject(cx, kv));
    if (!pair || !pairs.append(JS::ObjectValue(*pair))) return false;
  }
  JS::RootedObject headers(cx, JS::NewArrayObject(cx, pairs));
  JS::RootedObject body(cx, NewArrayBuffer(cx, result->body));
  JS::RootedString status_text(cx, NewString(cx, result->status_text));
  JS::RootedString url(cx, NewString(cx, result->url));
  if (!headers || !body || !status_text || !url) return false;
  JS::RootedValue v(cx);
  v.setInt32(result->status);
  if (!JS_SetProperty(cx, out, "status", v)) return false;
  v.setString(status_text);
  if (!JS_SetProperty(cx, out, "statusText", v)) return false;
  v.setObject(*headers);
  if (!JS_SetProperty(cx, out, "headers", v)) return false;
  v.setObject(*body);
  if (!JS_SetProperty(cx, out, "body", v)) return false;
  v.setString(url);
  if (!JS_SetProperty(cx, out, "url", v)) return false;
  v.setBoolean(result->redirected);
  if (!JS_SetProperty(cx, out, "redirected", v)) return false;
  args.rval().setObject(*out);
  return true;
}

// n.neoInvokeRead(contract, method, args_json) → the RPC result, parsed
bool NeoInvokeRead(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  std::string contract, method, args_json;
  if (!StringArg(cx, args, 0, &contract) || !StringArg(cx, args, 1, &method) || !StringArg(cx, args, 2, &args_json)) {
    return false;
  }
  auto result = State(cx).host->NeoInvokeRead(contract, method, args_json);
  if (!result.ok()) return ThrowStatus(cx, result.status());
  return ParseJson(cx, *result, args.rval());
}

// n.getRandomValues(integer typed array) → the same array, filled (at most 65536 bytes)
bool GetRandomValues(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isObject() || !JS_IsArrayBufferViewObject(&args.get(0).toObject())) {
    return Throw(cx, "crypto.getRandomValues: the argument must be an integer typed array");
  }
  JS::RootedObject view(cx, &args.get(0).toObject());
  switch (JS_GetArrayBufferViewType(view)) {
    case JS::Scalar::Int8:
    case JS::Scalar::Uint8:
    case JS::Scalar::Uint8Clamped:
    case JS::Scalar::Int16:
    case JS::Scalar::Uint16:
    case JS::Scalar::Int32:
    case JS::Scalar::Uint32:
    case JS::Scalar::BigInt64:
    case JS::Scalar::BigUint64: break;
    default: return Throw(cx, "crypto.getRandomValues: the argument must be an integer typed array");
  }
  const size_t n = JS_GetArrayBufferViewByteLength(view);
  if (n > 65536) return Throw(cx, "crypto.getRandomValues: at most 65536 bytes at a time (QuotaExceededError)");
  std::vector<uint8_t> bytes(n);
  State(cx).host->Random(bytes);
  {
    JS::AutoCheckCannotGC nogc;
    bool shared = false;
    auto* data = static_cast<uint8_t*>(JS_GetArrayBufferViewData(view, &shared, nogc));
    std::copy(bytes.begin(), bytes.end(), data);
  }
  args.rval().setObject(*view);
  return true;
}

// n.digest(name, bytes) → ArrayBuffer
bool Digest(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  std::string name;
  if (!StringArg(cx, args, 0, &name)) return false;
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
  const EVP_MD* md = name == "SHA-1"     ? EVP_sha1()
                     : name == "SHA-256" ? EVP_sha256()
                     : name == "SHA-384" ? EVP_sha384()
                     : name == "SHA-512" ? EVP_sha512()
                                         : nullptr;
  if (md == nullptr) return Throw(cx, "crypto.subtle.digest: unsupported algorithm (SHA-1, SHA-256, SHA-384, SHA-512)");
  std::vector<uint8_t> data;
  if (!BytesOf(cx, args.get(1), &data)) return Throw(cx, "crypto.subtle.digest: data must be a BufferSource");
  std::array<uint8_t, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1) return Throw(cx, "digest failed");
  JS::RootedObject buffer(cx, NewArrayBuffer(cx, std::span(out.data(), len)));
  if (!buffer) return false;
  args.rval().setObject(*buffer);
  return true;
}

// n.utf8Encode(string) → Uint8Array
bool Utf8Encode(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  JS::RootedString str(cx, JS::ToString(cx, args.get(0)));
  if (!str) return false;
  std::u16string wide(JS_GetStringLength(str), u'\0');
  if (!JS_CopyStringChars(cx, mozilla::Range<char16_t>(wide.data(), wide.size()), str)) return false;
  std::string utf8;
  Utf16ToUtf8(wide, &utf8);
  JS::RootedObject array(cx, NewUint8Array(cx, {reinterpret_cast<const uint8_t*>(utf8.data()), utf8.size()}));
  if (!array) return false;
  args.rval().setObject(*array);
  return true;
}

// n.utf8Decode(bytes, fatal) → string
bool Utf8Decode(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  std::vector<uint8_t> bytes;
  if (!BytesOf(cx, args.get(0), &bytes)) return Throw(cx, "TextDecoder.decode: the input must be a BufferSource");
  size_t start = 0;
  if (bytes.size() >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF) start = 3;  // BOM
  std::u16string wide;
  if (!Utf8ToUtf16(std::span(bytes).subspan(start), &wide, JS::ToBoolean(args.get(1)))) {
    return Throw(cx, "TextDecoder.decode: the data is not valid UTF-8");
  }
  JS::RootedString s(cx, JS_NewUCStringCopyN(cx, wide.data(), wide.size()));
  if (!s) return false;
  args.rval().setString(s);
  return true;
}

const JSFunctionSpec kNatives[] = {
    JS_FN("log", Log, 2, 0),
    JS_FN("secret", Secret, 1, 0),
    JS_FN("fetch", Fetch, 6, 0),
    JS_FN("neoInvokeRead", NeoInvokeRead, 3, 0),
    JS_FN("getRandomValues", GetRandomValues, 1, 0),
    JS_FN("digest", Digest, 2, 0),
    JS_FN("utf8Encode", Utf8Encode, 1, 0),
    JS_FN("utf8Decode", Utf8Decode, 2, 0),
    JS_FS_END,
};

// The globals the prelude defines; touching any of them runs it (once per realm).
constexpr const char* kPreludeGlobals[] = {"console",  "TextEncoder", "TextDecoder", "Headers",
                                           "Response", "fetch",       "crypto"};
// The members of `context`, served from the prelude's context object.
constexpr const char* kContextMembers[] = {"secrets", "fetch",       "neo",        "crypto",
                                           "console", "TextEncoder", "TextDecoder"};
constexpr size_t kContextSlot = 0;  // the global's slot holding the prelude's context object

bool IsPreludeGlobal(jsid id) {
  if (!id.isString()) return false;
  JSLinearString* name = id.toLinearString();
  for (const char* g : kPreludeGlobals) {
    if (JS_LinearStringEqualsAscii(name, g)) return true;
  }
  return false;
}

// Runs the prelude in `global`'s realm unless it ran already; its context object in `out`.
bool EnsurePrelude(JSContext* cx, JS::HandleObject global, JS::MutableHandleObject out) {
  JS::Value done = JS::GetReservedSlot(global, kContextSlot);
  if (done.isObject()) {
    out.set(&done.toObject());
    return true;
  }
  InvocationState& st = State(cx);
  if (st.prelude == nullptr) return Throw(cx, "the runtime's prelude is not available");
  JS::RootedObject natives(cx, JS_NewPlainObject(cx));
  if (!natives || !JS_DefineFunctions(cx, natives, kNatives)) return false;
  JS::CompileOptions options(cx);
  options.setFileAndLine("neosl:prelude", 1);
  JS::InstantiateOptions instantiate(options);
  JS::RootedScript script(cx, JS::InstantiateGlobalStencil(cx, instantiate, st.prelude));
  if (!script) return false;
  JS::RootedValue install(cx);
  if (!JS_ExecuteScript(cx, script, &install)) return false;
  JS::RootedValueArray<1> argv(cx);
  argv[0].setObject(*natives);
  JS::RootedValue result(cx);
  if (!JS_CallFunctionValue(cx, nullptr, install, argv, &result)) return false;
  if (!result.isObject()) return Throw(cx, "prelude: no context object");
  JS::SetReservedSlot(global, kContextSlot, result);
  out.set(&result.toObject());
  return true;
}

bool ResolveGlobal(JSContext* cx, JS::HandleObject obj, JS::HandleId id, bool* resolved) {
  if (!JS_ResolveStandardClass(cx, obj, id, resolved)) return false;
  if (*resolved || !IsPreludeGlobal(id)) return true;
  JS::RootedObject ignored(cx);
  if (!EnsurePrelude(cx, obj, &ignored)) return false;
  *resolved = true;  // the prelude defined it
  return true;
}

bool MayResolveGlobal(const JSAtomState& names, jsid id, JSObject* maybe) {
  return JS_MayResolveStandardClass(names, id, maybe) || IsPreludeGlobal(id);
}

const JSClassOps kGlobalOps = {
    nullptr, nullptr, nullptr, JS_NewEnumerateStandardClasses, ResolveGlobal, MayResolveGlobal,
    nullptr, nullptr, nullptr, JS_GlobalObjectTraceHook};

bool IsContextMember(jsid id) {
  if (!id.isString()) return false;
  JSLinearString* name = id.toLinearString();
  for (const char* m : kContextMembers) {
    if (JS_LinearStringEqualsAscii(name, m)) return true;
  }
  return false;
}

// context.<member>: resolved on first touch from the prelude's context object, then a read-only,
// permanent property of this invocation's context. No function objects are made per
// invocation for members a function never touches.
bool ResolveContext(JSContext* cx, JS::HandleObject obj, JS::HandleId id, bool* resolved) {
  *resolved = false;
  if (!IsContextMember(id)) return true;
  JS::RootedObject global(cx, JS::CurrentGlobalOrNull(cx));
  JS::RootedObject prelude_context(cx);
  if (!global || !EnsurePrelude(cx, global, &prelude_context)) return false;
  JS::RootedValue value(cx);
  if (!JS_GetPropertyById(cx, prelude_context, id, &value)) return false;
  if (!JS_DefinePropertyById(cx, obj, id, value, JSPROP_ENUMERATE | JSPROP_READONLY | JSPROP_PERMANENT)) {
    return false;
  }
  *resolved = true;
  return true;
}

bool MayResolveContext(const JSAtomState&, jsid id, JSObject*) {
  return IsContextMember(id);
}

// Enumeration (Object.keys(context), a spread, a freeze) sees every member.
bool EnumerateContext(JSContext* cx, JS::HandleObject obj, JS::MutableHandleIdVector properties, bool) {
  for (const char* m : kContextMembers) {
    JS::RootedString name(cx, JS_AtomizeAndPinString(cx, m));
    if (!name || !properties.append(JS::PropertyKey::NonIntAtom(name))) return false;
  }
  (void)obj;
  return true;
}

const JSClassOps kContextOps = {nullptr,           nullptr, nullptr, EnumerateContext, ResolveContext,
                                MayResolveContext, nullptr, nullptr, nullptr,          nullptr};
const JSClass kContextClass = {"Context", 0, &kContextOps};

}  // namespace

const JSClass kGlobalClass = {"global", JSCLASS_GLOBAL_FLAGS_WITH_SLOTS(1), &kGlobalOps};

bool NewContextObject(JSContext* cx, JS::MutableHandleObject context) {
  // Its members, once resolved, are read-only and permanent (not replaceable, as if frozen).
  JS::RootedObject obj(cx, JS_NewObject(cx, &kContextClass));
  if (!obj) return false;
  context.set(obj);
  return true;
}

}  // namespace neosl::runtime::js
