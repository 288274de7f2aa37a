#include "services/functions/validation.h"

#include <algorithm>
#include <set>

#include <boost/json.hpp>

#include "core/encoding.h"
#include "core/ids.h"

namespace neosl::services::functions {

Status FieldError(std::string_view field, std::string message) {
  return FieldViolationError(field, std::move(message));
}

bool IsUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (size_t(end - p) <= n) return false;
    for (size_t i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += n + 1;
  }
  return true;
}

bool IsName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

Status CheckFunctionName(std::string_view name) {
  if (IsName(name)) return Status();
  return FieldError("name", "function names are 1 to 64 of A-Z a-z 0-9 _ -");
}

Status CheckSource(std::string_view source) {
  if (source.empty()) return FieldError("source", "source is empty: give the function's ES module");
  if (source.size() > runtime::kMaxSourceBytes) {
    return FieldError("source", "source is " + std::to_string(source.size()) + " bytes, over the " +
                                    std::to_string(runtime::kMaxSourceBytes) + "-byte limit");
  }
  if (!IsUtf8(source)) return FieldError("source", "source is not valid UTF-8");
  if (source.find('\0') != std::string_view::npos) return FieldError("source", "source contains a NUL character");
  return Status();
}

Status CheckDescription(std::string_view description) {
  if (description.size() > kMaxDescriptionBytes) {
    return FieldError("description", "description is over " + std::to_string(kMaxDescriptionBytes) + " bytes");
  }
  if (!IsUtf8(description) || description.find('\0') != std::string_view::npos) {
    return FieldError("description", "description is not valid UTF-8 text");
  }
  return Status();
}

StatusOr<std::vector<std::string>> CheckSecretNames(const google::protobuf::RepeatedPtrField<std::string>& names) {
  std::set<std::string> unique;
  for (int i = 0; i < names.size(); ++i) {
    if (!IsName(names[i])) {
      return FieldError("secrets[" + std::to_string(i) + "]",
                        "'" + names[i].substr(0, 64) + "' is not a secret name: names are 1 to 64 of A-Z a-z 0-9 _ -");
    }
    unique.insert(names[i]);
  }
  if (unique.size() > runtime::kMaxSecretsPerFunction) {
    return FieldError("secrets",
                      "a function may name at most " + std::to_string(runtime::kMaxSecretsPerFunction) + " secrets");
  }
  return std::vector<std::string>(unique.begin(), unique.end());
}

StatusOr<runtime::Limits> LimitsFrom(const ::neosl::functions::v1::Limits& limits, const runtime::Limits& base) {
  runtime::Limits out = base;
  if (limits.timeout_ms() != 0) out.timeout = std::chrono::milliseconds(limits.timeout_ms());
  if (limits.memory_mb() != 0) out.memory_bytes = size_t(limits.memory_mb()) << 20;
  RETURN_IF_ERROR(runtime::ValidateLimits(out));
  return out;
}

StatusOr<std::string> CheckArgs(std::string_view args_json) {
  if (args_json.empty()) return std::string("null");
  if (args_json.size() > runtime::kMaxArgsBytes) {
    return FieldError("args", "args are " + std::to_string(args_json.size()) + " bytes of JSON, over the " +
                                  std::to_string(runtime::kMaxArgsBytes) + "-byte limit");
  }
  boost::system::error_code ec;
  boost::json::parse(args_json, ec);
  if (ec) return FieldError("args", "args are not JSON: " + ec.message());
  return std::string(args_json);
}

Status CheckFunctionId(std::string_view id, std::string_view field) {
  if (FunctionId::IsWellFormed(id)) return Status();
  return FieldError(field, std::string(field) + " must be a function id (fn_ and 20 base32 characters)");
}

Status CheckExecutionId(std::string_view id, std::string_view field) {
  if (ExecutionId::IsWellFormed(id)) return Status();
  return FieldError(field, std::string(field) + " must be an execution id (ex_ and 20 base32 characters)");
}

StatusOr<int32_t> PageSize(int32_t limit) {
  if (limit == 0) return kDefaultPageSize;
  if (limit < 1 || limit > kMaxPageSize) return FieldError("limit", "limit must be 1 to 100");
  return limit;
}

std::string EncodePageToken(std::string_view key) {
  return HexEncode({reinterpret_cast<const uint8_t*>(key.data()), key.size()});
}

StatusOr<std::string> DecodePageToken(std::string_view token) {
  auto bytes = HexDecode(token);
  if (!bytes || bytes->empty() || bytes->size() > 128) {
    return FieldError("page_token", "page_token is not one this API gave out");
  }
  return std::string(bytes->begin(), bytes->end());
}

}  // namespace neosl::services::functions
