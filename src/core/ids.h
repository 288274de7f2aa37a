// Strong identifier types: an AccountId and an ApiKeyId are different types, so passing one
// where the other is expected does not compile (STYLE.md, "Strong types").
#pragma once

#include <compare>
#include <string>
#include <string_view>
#include <utility>

#include "core/random.h"

namespace neosl {

template <typename Tag>
class StrongId {
 public:
  StrongId() = default;
  explicit StrongId(std::string value) : value_(std::move(value)) {}

  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }

  // A fresh id: the tag's prefix and 20 base32 characters (100 random bits).
  static StrongId Generate(RandomSource& random);
  // Whether `s` has the shape Generate makes (prefix, then base32 characters only).
  static bool IsWellFormed(std::string_view s);

  friend auto operator<=>(const StrongId&, const StrongId&) = default;

 private:
  std::string value_;
};

// Shared implementation of Generate/IsWellFormed for every tag.
std::string GenerateId(std::string_view prefix, size_t chars, RandomSource& random);
bool IsWellFormedId(std::string_view s, std::string_view prefix, size_t chars);

struct AccountIdTag {
  static constexpr std::string_view kPrefix = "acc_";
  static constexpr size_t kChars = 20;
};
struct ApiKeyIdTag {
  // Key ids sit between the underscores of "nsl_<id>_<secret>", so they have no prefix of
  // their own and no underscore.
  static constexpr std::string_view kPrefix = "";
  static constexpr size_t kChars = 16;
};

struct FunctionIdTag {
  static constexpr std::string_view kPrefix = "fn_";
  static constexpr size_t kChars = 20;
};
struct ExecutionIdTag {
  static constexpr std::string_view kPrefix = "ex_";
  static constexpr size_t kChars = 20;
};

struct RandomRequestIdTag {
  static constexpr std::string_view kPrefix = "rnd_";
  static constexpr size_t kChars = 20;
};

using AccountId = StrongId<AccountIdTag>;
using ApiKeyId = StrongId<ApiKeyIdTag>;
using FunctionId = StrongId<FunctionIdTag>;
using ExecutionId = StrongId<ExecutionIdTag>;
using RandomRequestId = StrongId<RandomRequestIdTag>;
struct OracleRequestIdTag {
  static constexpr std::string_view kPrefix = "orc_";
  static constexpr size_t kChars = 20;
};
using OracleRequestId = StrongId<OracleRequestIdTag>;
struct FeedIdTag {
  static constexpr std::string_view kPrefix = "fd_";
  static constexpr size_t kChars = 20;
};
using FeedId = StrongId<FeedIdTag>;

template <typename Tag>
StrongId<Tag> StrongId<Tag>::Generate(RandomSource& random) {
  return StrongId(GenerateId(Tag::kPrefix, Tag::kChars, random));
}

template <typename Tag>
bool StrongId<Tag>::IsWellFormed(std::string_view s) {
  return IsWellFormedId(s, Tag::kPrefix, Tag::kChars);
}

}  // namespace neosl
