// Where RateLimiter keeps its token buckets. The limiter always has its own buckets in process
// memory; a shared store (core/redis_bucket_store.h) lets several gateway replicas draw from the
// same buckets, so that a caller behind a load balancer gets its limit once, not once per replica.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace neosl {

struct BucketSpec {
  double requests_per_second = 0;  // 0 disables the bucket
  double burst = 0;
  bool enabled() const { return requests_per_second > 0; }
  // A burst of 0 with a positive rate would refuse everything; it holds one request's worth.
  double capacity() const { return burst < 1.0 ? 1.0 : burst; }
};

// Which family of buckets a name belongs to: one global bucket, one per caller (an API key id or
// "ip:<address>"), one per operation id. Names are unique only within a scope.
enum class BucketScope { kGlobal, kCaller, kMethod };

// The outcome of taking one token.
struct BucketTake {
  bool allowed = true;
  // On refusal, how long until a token is available, rounded up to at least 1 ms.
  std::chrono::milliseconds retry_after{0};
};

struct BucketStoreStats {
  bool up = true;        // whether the last exchange with the store succeeded
  uint64_t outages = 0;  // times the store went from up to down
};

class BucketStore {
 public:
  virtual ~BucketStore() = default;

  // Takes one token from the bucket (`scope`, `name`) shaped by `spec` (enabled), creating it
  // full on first use. An error (UNAVAILABLE, DEADLINE_EXCEEDED) means the store could not
  // answer in time and nothing is known about the bucket; the caller decides what to do.
  virtual StatusOr<BucketTake> Take(BucketScope scope, std::string_view name, const BucketSpec& spec) = 0;

  virtual BucketStoreStats Stats() const = 0;
};

}  // namespace neosl
