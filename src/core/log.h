// Structured logging: one JSON object per line (or a readable text line), every line carrying
// the trace id of the request being served on this thread. Backed by spdlog's sinks.
//
//   log::Info("listening", {{"address", addr}, {"tls", false}});
//   → {"ts":"2026-11-21T10:00:00.123Z","level":"info","msg":"listening","trace_id":"…",
//      "address":"127.0.0.1:8080","tls":false}
//
// Never pass a secret, key or token as a field; there is no redaction after the fact.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "core/status.h"

namespace neosl::log {

enum class Level { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };

std::string_view LevelName(Level level);
StatusOr<Level> ParseLevel(std::string_view name);

struct Field {
  using Value = std::variant<std::string_view, int64_t, double, bool>;
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  template <typename I>
  requires std::is_integral_v<I> Field(std::string_view k, I v) : key(k), value(static_cast<int64_t>(v)) {}
  std::string_view key;
  Value value;
};

struct Options {
  Level level = Level::kInfo;
  bool json = true;
  std::string file;  // empty: stderr
};

// Configures the process logger. Safe to call again (tests, reconfiguration after config load).
Status Init(const Options& options);

bool Enabled(Level level);
// Writes out buffered lines. File logs are flushed every second and on every error line;
// call this before the process exits.
void Flush();
void Write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});
// The same with fields built at run time (e.g. relayed from another process).
void Write(Level level, std::string_view msg, std::span<const Field> fields);

inline void Debug(std::string_view m, std::initializer_list<Field> f = {}) {
  Write(Level::kDebug, m, f);
}
inline void Info(std::string_view m, std::initializer_list<Field> f = {}) {
  Write(Level::kInfo, m, f);
}
inline void Warn(std::string_view m, std::initializer_list<Field> f = {}) {
  Write(Level::kWarn, m, f);
}
inline void Error(std::string_view m, std::initializer_list<Field> f = {}) {
  Write(Level::kError, m, f);
}

// Formats a line without writing it (used by Write, and by tests).
std::string FormatLine(bool json, Level level, std::string_view msg, std::span<const Field> fields,
                       std::string_view trace_id);
inline std::string FormatLine(bool json, Level level, std::string_view msg, std::initializer_list<Field> fields,
                              std::string_view trace_id) {
  return FormatLine(json, level, msg, std::span<const Field>(fields.begin(), fields.size()), trace_id);
}

// The trace id of the work running on this thread; empty outside a request.
std::string_view CurrentTraceId();

// Sets the thread's trace id for the lifetime of the scope, restoring the previous one after.
class ScopedTraceId {
 public:
  explicit ScopedTraceId(std::string_view trace_id);
  ~ScopedTraceId();
  ScopedTraceId(const ScopedTraceId&) = delete;
  ScopedTraceId& operator=(const ScopedTraceId&) = delete;

 private:
  std::string previous_;
};

}  // namespace neosl::log
