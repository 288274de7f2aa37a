// SpiderMonkey helpers shared by the engine's files (internal to src/runtime: only .cpp files
// of the runtime include this, so SpiderMonkey's headers stay out of everything else).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <jsapi.h>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/engine.h"
#include "runtime/runner.h"
#include <js/experimental/JSStencil.h>

namespace neosl::runtime::js {

// UTF-8 ↔ UTF-16. Decoding replaces invalid sequences with U+FFFD unless `fatal`, when it fails.
bool Utf8ToUtf16(std::span<const uint8_t> in, std::u16string* out, bool fatal);
// Lone surrogates become U+FFFD.
void Utf16ToUtf8(std::u16string_view in, std::string* out);

// A new JS string from UTF-8 (invalid sequences replaced); nullptr with an exception pending.
JSString* NewString(JSContext* cx, std::string_view utf8);
// String(value) as UTF-8; false with an exception pending.
bool ToUtf8(JSContext* cx, JS::HandleValue value, std::string* out);

// JSON.stringify(value) as UTF-8. `*is_undefined` when the value has no JSON form (undefined, a
// function, a symbol). False with an exception pending (cycles, BigInt, a throwing toJSON).
bool StringifyJson(JSContext* cx, JS::HandleValue value, std::string* out, bool* is_undefined);
// JSON.parse of UTF-8 text.
bool ParseJson(JSContext* cx, std::string_view text, JS::MutableHandleValue out);

// Throws an Error carrying `message` into the current realm; returns false (for natives).
bool Throw(JSContext* cx, std::string_view message);
// Throws the status as an Error whose message is "<message>" and whose `code` property is the
// canonical code name ("NOT_FOUND"), so functions can branch on it.
bool ThrowStatus(JSContext* cx, const Status& status);

// The pending exception (cleared) as a ScriptError: message ("TypeError: x is undefined"),
// the JS stack, and 1-based line and column when the engine knows them.
ScriptError TakeException(JSContext* cx);

// What the natives of one invocation reach (JS_SetContextPrivate while it runs).
struct InvocationState {
  const Invocation* invocation = nullptr;
  InvocationHost* host = nullptr;
  std::chrono::steady_clock::time_point deadline;
  std::vector<LogLine> logs;
  bool logs_truncated = false;
  int fetches = 0;
  bool out_of_memory = false;
  const std::atomic<bool>* timed_out = nullptr;  // set by the engine's watchdog
  JS::Stencil* prelude = nullptr;                // the compiled prelude (PreludeSource)
  std::string limit_exceeded;                    // set by a native that stopped the function at a fixed limit
};
InvocationState& State(JSContext* cx);

// The class of every invocation's global: standard classes and the prelude's globals (console,
// TextEncoder, TextDecoder, Headers, Response, fetch, crypto) resolve lazily, so a function pays
// only for what it touches. One reserved slot holds the prelude's context object.
extern const JSClass kGlobalClass;
// The invocation's `context` (secrets, fetch, neo, crypto, console, TextEncoder, TextDecoder),
// its members made by the prelude on first use (read-only and permanent), in the current realm.
bool NewContextObject(JSContext* cx, JS::MutableHandleObject context);
// The prelude's source: one script whose completion value is a function of the natives object.
std::string_view PreludeSource();

}  // namespace neosl::runtime::js
