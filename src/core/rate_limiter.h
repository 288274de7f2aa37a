// Token-bucket rate limits in the seed's YAML shape (rate_limits: global / per_caller /
// per_method). A bucket holds up to `burst` tokens and refills at `requests_per_second`; a
// request takes one token from each bucket that applies, or none at all if any is empty.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"
#include "core/config.h"

namespace neosl {

struct BucketSpec {
  double requests_per_second = 0;  // 0 disables the bucket
  double burst = 0;
  bool enabled() const { return requests_per_second > 0; }
};

struct RateLimitConfig {
  BucketSpec global;
  BucketSpec default_caller;
  BucketSpec anonymous;                                       // unauthenticated requests, per client address
  std::map<std::string, BucketSpec, std::less<>> per_caller;  // by API key id
  std::map<std::string, BucketSpec, std::less<>> per_method;  // by operation id

  static RateLimitConfig FromConfig(const Config& config);
};

class RateLimiter {
 public:
  enum class Scope { kGlobal, kCaller, kMethod };

  RateLimiter(RateLimitConfig config, const Clock& clock);

  // On refusal, how long until a token is available (at least 1 ms).
  struct Decision {
    bool allowed = true;
    Scope scope = Scope::kGlobal;
    std::chrono::milliseconds retry_after{0};
  };

  Decision AdmitGlobal();
  // `caller` is an API key id, or "ip:<address>" for anonymous requests.
  Decision AdmitCaller(std::string_view caller, bool anonymous);
  Decision AdmitMethod(std::string_view operation_id);

 private:
  struct Bucket {
    std::mutex mu;
    double tokens;
    std::chrono::steady_clock::time_point last;
    BucketSpec spec;  // the spec it was made with, for eviction
  };
  // A table of buckets keyed by name, sharded to keep lock contention off the hot path.
  class BucketTable {
   public:
    std::shared_ptr<Bucket> Get(std::string_view key, const BucketSpec& spec,
                                std::chrono::steady_clock::time_point now);

   private:
    static constexpr size_t kShards = 16;
    struct Shard {
      std::mutex mu;
      std::unordered_map<std::string, std::shared_ptr<Bucket>> buckets;
    };
    Shard shards_[kShards];
  };

  Decision Take(Bucket& bucket, const BucketSpec& spec, Scope scope, std::chrono::steady_clock::time_point now);

  RateLimitConfig config_;
  const Clock& clock_;
  Bucket global_;
  BucketTable callers_;
  BucketTable methods_;
};

std::string_view ScopeName(RateLimiter::Scope scope);

}  // namespace neosl
