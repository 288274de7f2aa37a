#include "core/log.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <mutex>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "core/encoding.h"

namespace neosl::log {
namespace {

struct State {
  std::mutex mu;  // guards logger replacement only
  std::shared_ptr<spdlog::logger> logger;
  std::atomic<int> level{static_cast<int>(Level::kInfo)};
  std::atomic<bool> json{true};
};

State& state() {
  static State* s = new State();  // never destroyed: logging may run during static teardown
  return *s;
}

thread_local std::string t_trace_id;

void AppendTimestamp(std::string& out) {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  out += buf;
}

void AppendValue(std::string& out, bool json, const Field::Value& v) {
  if (const auto* s = std::get_if<std::string_view>(&v)) {
    if (json) {
      out.push_back('"');
      AppendJsonEscaped(out, *s);
      out.push_back('"');
    } else {
      AppendJsonEscaped(out, *s);  // one record stays one line, even with newlines inside
    }
  } else if (const auto* i = std::get_if<int64_t>(&v)) {
    out += std::to_string(*i);
  } else if (const auto* d = std::get_if<double>(&v)) {
    if (std::isfinite(*d)) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.15g", *d);
      out += buf;
    } else {
      out += json ? "null" : "nan";
    }
  } else {
    out += std::get<bool>(v) ? "true" : "false";
  }
}

}  // namespace

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kTrace: return "trace";
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
    case Level::kOff: return "off";
  }
  return "info";
}

StatusOr<Level> ParseLevel(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(Level::kOff); ++i) {
    if (LevelName(static_cast<Level>(i)) == name) return static_cast<Level>(i);
  }
  return InvalidArgumentError("unknown log level '" + std::string(name) + "' (trace, debug, info, warn, error, off)");
}

Status Init(const Options& options) {
  std::shared_ptr<spdlog::logger> logger;
  if (options.file.empty()) {
    logger = std::make_shared<spdlog::logger>("neosl", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  } else {
    // spdlog reports open failures by exception; config load is the boundary that catches it.
    try {
      logger =
          std::make_shared<spdlog::logger>("neosl", std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file));
    } catch (const spdlog::spdlog_ex& e) {
      return UnavailableError("cannot open log file '" + options.file + "': " + e.what());
    }
  }
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);
  // A file is flushed on errors and once a second (below), not on every line: a write(2) per
  // request line would cost more than the request. stderr is flushed by its sink every line.
  logger->flush_on(spdlog::level::err);
  static std::once_flag flusher;
  std::call_once(flusher, [] { spdlog::flush_every(std::chrono::seconds(1)); });
  spdlog::drop("neosl");
  spdlog::register_logger(logger);  // the periodic flusher flushes registered loggers
  auto& s = state();
  std::lock_guard lock(s.mu);
  if (s.logger) s.logger->flush();
  s.logger = std::move(logger);
  s.level = static_cast<int>(options.level);
  s.json = options.json;
  return Status();
}

bool Enabled(Level level) {
  return static_cast<int>(level) >= state().level.load(std::memory_order_relaxed) && level != Level::kOff;
}

std::string FormatLine(bool json, Level level, std::string_view msg, std::span<const Field> fields,
                       std::string_view trace_id) {
  std::string out;
  out.reserve(128 + msg.size());
  if (json) {
    out += "{\"ts\":\"";
    AppendTimestamp(out);
    out += "\",\"level\":\"";
    out += LevelName(level);
    out += "\",\"msg\":\"";
    AppendJsonEscaped(out, msg);
    out += '"';
    if (!trace_id.empty()) {
      out += ",\"trace_id\":\"";
      AppendJsonEscaped(out, trace_id);
      out += '"';
    }
    for (const Field& f : fields) {
      out += ",\"";
      AppendJsonEscaped(out, f.key);
      out += "\":";
      AppendValue(out, true, f.value);
    }
    out += '}';
  } else {
    AppendTimestamp(out);
    out += ' ';
    out += LevelName(level);
    out += ' ';
    AppendJsonEscaped(out, msg);
    if (!trace_id.empty()) {
      out += " trace_id=";
      out += trace_id;
    }
    for (const Field& f : fields) {
      out += ' ';
      out += f.key;
      out += '=';
      AppendValue(out, false, f.value);
    }
  }
  return out;
}

void Write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  Write(level, msg, std::span<const Field>(fields.begin(), fields.size()));
}

void Write(Level level, std::string_view msg, std::span<const Field> fields) {
  if (!Enabled(level)) return;
  auto& s = state();
  std::shared_ptr<spdlog::logger> logger;
  {
    std::lock_guard lock(s.mu);
    logger = s.logger;
  }
  if (!logger) {
    logger = spdlog::default_logger();
  }
  std::string line = FormatLine(s.json.load(), level, msg, fields, t_trace_id);
  spdlog::level::level_enum spd = level == Level::kError  ? spdlog::level::err
                                  : level == Level::kWarn ? spdlog::level::warn
                                                          : spdlog::level::info;
  logger->log(spd, std::string_view(line));
}

void Flush() {
  auto& s = state();
  std::shared_ptr<spdlog::logger> logger;
  {
    std::lock_guard lock(s.mu);
    logger = s.logger;
  }
  if (logger) logger->flush();
}

std::string_view CurrentTraceId() {
  return t_trace_id;
}

ScopedTraceId::ScopedTraceId(std::string_view trace_id) {
  // `trace_id` may view t_trace_id itself (CurrentTraceId()): copy it before moving the old id.
  std::string next(trace_id);
  previous_ = std::move(t_trace_id);
  t_trace_id = std::move(next);
}

ScopedTraceId::~ScopedTraceId() {
  t_trace_id = std::move(previous_);
}

}  // namespace neosl::log
