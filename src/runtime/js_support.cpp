#include "runtime/js_support.h"

#include <jsfriendapi.h>

#include <js/Conversions.h>
#include <js/ErrorReport.h>
#include <js/Exception.h>
#include <js/JSON.h>
#include <js/PropertyAndElement.h>
#include <js/String.h>

namespace neosl::runtime::js {
namespace {

constexpr char16_t kReplacement = 0xFFFD;

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool JsonChunk(const char16_t* buf, uint32_t len, void* data) {
  Utf16ToUtf8(std::u16string_view(buf, len), static_cast<std::string*>(data));
  return true;
}

}  // namespace

bool Utf8ToUtf16(std::span<const uint8_t> in, std::u16string* out, bool fatal) {
  out->clear();
  out->reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    const uint8_t b = in[i];
    if (b < 0x80) {
      out->push_back(b);
      ++i;
      continue;
    }
    size_t need = 0;
    uint32_t cp = 0, min = 0;
    if ((b & 0xE0) == 0xC0) {
      need = 1, cp = b & 0x1F, min = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      need = 2, cp = b & 0x0F, min = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      need = 3, cp = b & 0x07, min = 0x10000;
    } else {
      if (fatal) return false;
      out->push_back(kReplacement);
      ++i;
      continue;
    }
    size_t j = 1;
    for (; j <= need && i + j < in.size() && (in[i + j] & 0xC0) == 0x80; ++j) cp = (cp << 6) | (in[i + j] & 0x3F);
    if (j <= need || cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      if (fatal) return false;
      out->push_back(kReplacement);
      i += j;  // the maximal subpart, as WHATWG's decoder does for these cases
      continue;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out->push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out->push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out->push_back(static_cast<char16_t>(cp));
    }
    i += need + 1;
  }
  return true;
}

void Utf16ToUtf8(std::u16string_view in, std::string* out) {
  out->reserve(out->size() + in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    uint32_t c = in[i];
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < in.size() && in[i + 1] >= 0xDC00 && in[i + 1] <= 0xDFFF) {
      c = 0x10000 + ((c - 0xD800) << 10) + (in[i + 1] - 0xDC00);
      ++i;
    } else if (c >= 0xD800 && c <= 0xDFFF) {
      c = kReplacement;
    }
    AppendUtf8(c, out);
  }
}

JSString* NewString(JSContext* cx, std::string_view utf8) {
  std::u16string wide;
  Utf8ToUtf16({reinterpret_cast<const uint8_t*>(utf8.data()), utf8.size()}, &wide, false);
  return JS_NewUCStringCopyN(cx, wide.data(), wide.size());
}

bool ToUtf8(JSContext* cx, JS::HandleValue value, std::string* out) {
  JS::RootedString str(cx, JS::ToString(cx, value));
  if (!str) return false;
  JS::UniqueChars chars = JS_EncodeStringToUTF8(cx, str);
  if (!chars) return false;
  out->assign(chars.get());
  return true;
}

bool StringifyJson(JSContext* cx, JS::HandleValue value, std::string* out, bool* is_undefined) {
  out->clear();
  JS::RootedValue v(cx, value);
  if (!JS_Stringify(cx, &v, nullptr, JS::UndefinedHandleValue, JsonChunk, out)) return false;
  *is_undefined = out->empty();
  return true;
}

bool ParseJson(JSContext* cx, std::string_view text, JS::MutableHandleValue out) {
  std::u16string wide;
  Utf8ToUtf16({reinterpret_cast<const uint8_t*>(text.data()), text.size()}, &wide, false);
  return JS_ParseJSON(cx, wide.data(), static_cast<uint32_t>(wide.size()), out);
}

bool Throw(JSContext* cx, std::string_view message) {
  std::string m(message);
  JS_ReportErrorUTF8(cx, "%s", m.c_str());
  return false;
}

bool ThrowStatus(JSContext* cx, const Status& status) {
  std::string message(status.message());
  JS_ReportErrorUTF8(cx, "%s", message.c_str());
  JS::RootedValue exc(cx);
  if (JS_GetPendingException(cx, &exc) && exc.isObject()) {
    JS::RootedObject obj(cx, &exc.toObject());
    JS::RootedString code(cx, JS_NewStringCopyZ(cx, std::string(StatusCodeName(status.code())).c_str()));
    if (code) {
      JS::RootedValue code_value(cx, JS::StringValue(code));
      JS_SetPendingException(cx, JS::UndefinedHandleValue);  // setting a property needs no pending exception
      JS_ClearPendingException(cx);
      (void)JS_DefineProperty(cx, obj, "code", code_value, JSPROP_ENUMERATE);
      JS_SetPendingException(cx, exc);
    }
  }
  return false;
}

ScriptError TakeException(JSContext* cx) {
  ScriptError error;
  JS::RootedValue exc(cx);
  if (!JS_GetPendingException(cx, &exc)) {
    error.message = "uncatchable error (the engine gave no exception)";
    JS_ClearPendingException(cx);
    return error;
  }
  JS_ClearPendingException(cx);
  if (exc.isObject()) {
    JS::RootedObject obj(cx, &exc.toObject());
    if (JSErrorReport* report = JS_ErrorFromException(cx, obj)) {
      error.line = static_cast<int>(report->lineno);
      error.column = static_cast<int>(report->column) + 1;  // SpiderMonkey 102 counts from 0
    }
    JS::RootedValue stack(cx);
    if (JS_GetProperty(cx, obj, "stack", &stack) && stack.isString()) {
      std::string s;
      if (ToUtf8(cx, stack, &s)) {
        while (!s.empty() && s.back() == '\n') s.pop_back();
        error.stack = std::move(s);
      }
    }
    JS_ClearPendingException(cx);
  }
  if (!ToUtf8(cx, exc, &error.message)) {
    JS_ClearPendingException(cx);
    error.message = "an exception that cannot be converted to a string";
  }
  return error;
}

InvocationState& State(JSContext* cx) {
  return *static_cast<InvocationState*>(JS_GetContextPrivate(cx));
}

}  // namespace neosl::runtime::js
