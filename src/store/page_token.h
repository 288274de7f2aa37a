// Page tokens for lists ordered newest first by (a time in milliseconds, an id): the token is
// "<ms>.<id>" of the last row shown, and the next page starts after it. Opaque to callers.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/status.h"

namespace neosl::store {

inline std::string TimeIdPageToken(int64_t ms, std::string_view id) {
  return std::to_string(ms) + "." + std::string(id);
}

// INVALID_ARGUMENT naming page_token for a token no TimeIdPageToken made.
inline StatusOr<std::pair<int64_t, std::string>> ParseTimeIdPageToken(std::string_view token) {
  const size_t dot = token.find('.');
  int64_t ms = 0;
  if (dot != std::string_view::npos) {
    const auto [end, ec] = std::from_chars(token.data(), token.data() + dot, ms);
    if (ec == std::errc() && end == token.data() + dot && dot + 1 < token.size()) {
      return std::make_pair(ms, std::string(token.substr(dot + 1)));
    }
  }
  return FieldViolationError("page_token", "page_token is not one this service gave out");
}

}  // namespace neosl::store
