// Token-bucket rate limits in the seed's YAML shape (rate_limits: global / per_caller /
// per_method). A bucket holds up to `burst` tokens and refills at `requests_per_second`; a
// request takes one token from each bucket that applies, or none at all if any is empty.
//
// The buckets live in process memory, or, for the gateway when rate_limits.redis.dsn is set, in
// a store shared by every replica (core/redis_bucket_store.h), with this process's own buckets
// as the fallback while that store is down (docs/operations.md, "Shared rate limits (Redis)").
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/bucket_store.h"
#include "core/clock.h"
#include "core/config.h"

namespace neosl {

struct RateLimitConfig {
  BucketSpec global;
  BucketSpec default_caller;
  BucketSpec anonymous;                                       // unauthenticated requests, per client address
  std::map<std::string, BucketSpec, std::less<>> per_caller;  // by API key id
  std::map<std::string, BucketSpec, std::less<>> per_method;  // by operation id

  static RateLimitConfig FromConfig(const Config& config);
};

// Buckets in this process's memory, timed by `clock`.
class MemoryBucketStore final : public BucketStore {
 public:
  explicit MemoryBucketStore(const Clock& clock);

  StatusOr<BucketTake> Take(BucketScope scope, std::string_view name, const BucketSpec& spec) override;
  BucketStoreStats Stats() const override { return {}; }

 private:
  struct Bucket {
    std::mutex mu;
    bool started = false;  // false until its first Take, which fills it
    double tokens = 0;
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

  static BucketTake TakeFrom(Bucket& bucket, const BucketSpec& spec, std::chrono::steady_clock::time_point now);

  const Clock& clock_;
  Bucket global_;
  BucketTable callers_;
  BucketTable methods_;
};

class RateLimiter {
 public:
  using Scope = BucketScope;

  // Buckets shared with other processes.
  struct Shared {
    std::unique_ptr<BucketStore> store;  // null: this process's buckets only
    // When the store cannot answer in time: true decides with this process's buckets, false
    // refuses the request with UNAVAILABLE.
    bool fail_open = true;
  };

  RateLimiter(RateLimitConfig config, const Clock& clock);
  RateLimiter(RateLimitConfig config, const Clock& clock, Shared shared);

  // On refusal, how long until a token is available (at least 1 ms).
  struct Decision {
    bool allowed = true;
    Scope scope = Scope::kGlobal;
    std::chrono::milliseconds retry_after{0};
    // OK for a refusal by a bucket (RESOURCE_EXHAUSTED for the caller); UNAVAILABLE when the
    // shared store could not answer and fail_open is off, which says nothing about the caller.
    Status status;
  };

  Decision AdmitGlobal();
  // `caller` is an API key id, or "ip:<address>" for anonymous requests.
  Decision AdmitCaller(std::string_view caller, bool anonymous);
  Decision AdmitMethod(std::string_view operation_id);

  struct SharedStats {
    bool configured = false;
    BucketStoreStats store;
    uint64_t decided_locally = 0;      // admissions decided by local buckets while the store was down
    uint64_t refused_unavailable = 0;  // admissions refused because the store was down (fail_open off)
  };
  SharedStats shared_stats() const;
  // Prometheus text for /metrics about the shared store; empty when there is none.
  std::string RenderMetrics() const;

 private:
  Decision Admit(Scope scope, std::string_view name, const BucketSpec& spec);

  RateLimitConfig config_;
  MemoryBucketStore local_;
  Shared shared_;
  std::atomic<uint64_t> decided_locally_{0};
  std::atomic<uint64_t> refused_unavailable_{0};
};

std::string_view ScopeName(RateLimiter::Scope scope);

// The gateway's limiter from `rate_limits.*`: shared through Redis when rate_limits.redis.dsn is
// set, else local. INVALID_ARGUMENT for a malformed DSN. Redis need not be up: the limiter
// connects in the background and uses its fallback until then.
StatusOr<std::unique_ptr<RateLimiter>> NewGatewayRateLimiter(const Config& config, const Clock& clock);

}  // namespace neosl
