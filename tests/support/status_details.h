// Reading an error's details (core/status.h) in tests: which field a FieldViolation names, or
// any detail's value, as text.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "core/status.h"

namespace neosl::testing {

// The value of `key` in the first detail of `type` that has it, as text ("" when none has).
inline std::string DetailField(const Status& s, std::string_view type, std::string_view key) {
  for (const ErrorDetail& d : s.details()) {
    if (d.type != type) continue;
    for (const auto& [k, v] : d.fields) {
      if (k != key) continue;
      if (const auto* text = std::get_if<std::string>(&v)) return *text;
      if (const auto* n = std::get_if<int64_t>(&v)) return std::to_string(*n);
      if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
    }
  }
  return "";
}

// The field a FieldViolation names ("" when the error has none).
inline std::string FieldOf(const Status& s) {
  return DetailField(s, "FieldViolation", "field");
}

}  // namespace neosl::testing
