// What the functions service accepts from callers (docs/functions.md): names, sources, secret
// lists, limits, args and page tokens. Each check answers INVALID_ARGUMENT with a FieldViolation
// naming the field.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "neosl/functions/v1/functions.pb.h"
#include "runtime/runner.h"

namespace neosl::services::functions {

inline constexpr size_t kMaxNameLength = 64;
inline constexpr size_t kMaxDescriptionBytes = 1024;
inline constexpr int32_t kDefaultPageSize = 50;
inline constexpr int32_t kMaxPageSize = 100;

Status FieldError(std::string_view field, std::string message);

// Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
bool IsUtf8(std::string_view text);

// [A-Za-z0-9_-]{1,64}: function names and secret names alike.
bool IsName(std::string_view name);

Status CheckFunctionName(std::string_view name);
// The source: not empty, at most runtime::kMaxSourceBytes, UTF-8, no NUL.
Status CheckSource(std::string_view source);
Status CheckDescription(std::string_view description);
// The secret names, sorted and without duplicates; at most runtime::kMaxSecretsPerFunction.
StatusOr<std::vector<std::string>> CheckSecretNames(const google::protobuf::RepeatedPtrField<std::string>& names);
// Limits from the request: a 0 field takes `base`'s value; the result is validated.
StatusOr<runtime::Limits> LimitsFrom(const ::neosl::functions::v1::Limits& limits, const runtime::Limits& base);
// The args as the function gets them: "null" when empty; must be JSON, at most kMaxArgsBytes.
StatusOr<std::string> CheckArgs(std::string_view args_json);
// A function id or execution id in field `field`.
Status CheckFunctionId(std::string_view id, std::string_view field = "id");
Status CheckExecutionId(std::string_view id, std::string_view field = "id");
// The page size: 0 means kDefaultPageSize; otherwise 1..kMaxPageSize.
StatusOr<int32_t> PageSize(int32_t limit);

// Page tokens are opaque to callers: the hex of the last key of the previous page.
std::string EncodePageToken(std::string_view key);
StatusOr<std::string> DecodePageToken(std::string_view token);

}  // namespace neosl::services::functions
