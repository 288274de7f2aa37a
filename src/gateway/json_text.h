// Reading and editing JSON text without re-serialising it: what a body's exact bytes must keep
// (a function's args are proven over the text as sent). Every function takes text already known
// to be valid JSON (the gateway parsed it) and returns an index just past what starts at `i`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace neosl::gateway {

size_t SkipSpace(std::string_view s, size_t i);
// Past the string token starting at s[i] == '"'.
size_t SkipString(std::string_view s, size_t i);
// Past the JSON value starting at s[i].
size_t SkipValue(std::string_view s, size_t i);

// `body` (a JSON object's text) without its top-level member `key`, every other byte unchanged.
std::string WithoutMember(std::string_view body, std::string_view key);

}  // namespace neosl::gateway
