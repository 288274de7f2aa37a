// Token buckets in Redis, shared by every gateway replica that points at the same server.
//
// One admission is one EVALSHA of a small Lua script (kScript) on the bucket's key: the refill,
// the take and the expiry happen atomically in Redis, timed by Redis's own clock (TIME), so
// replicas whose clocks disagree still agree on the bucket. A bucket's key expires once it would
// have refilled, so idle callers cost no memory. The semantics are MemoryBucketStore's.
//
// A small pool of persistent connections serves the requests; a background thread opens them,
// and after a failure drops them all and reconnects with backoff. A request never waits longer
// than `timeout` for Redis: past it, or while Redis is down, Take answers UNAVAILABLE or
// DEADLINE_EXCEEDED at once and RateLimiter falls back (or refuses, with fail_open off). Each
// outage is logged when it starts and when it ends, not per request, and counted in Stats().
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/bucket_store.h"
#include "core/redis_client.h"

namespace neosl {

struct RedisBucketStoreOptions {
  redis::Endpoint endpoint;
  std::chrono::milliseconds timeout{50};  // per admission; at most half of it waiting for a free connection
  std::string key_prefix = "neosl:rl:";
  size_t connections = 8;
  // Only for the outage log line: whether requests then fall back or are refused.
  bool fail_open = true;
};

class RedisBucketStore final : public BucketStore {
 public:
  // The bucket script. KEYS[1]: the bucket; ARGV: rate (tokens per second), capacity (tokens).
  // Returns {1, 0} when a token was taken, else {0, milliseconds until one is available}.
  static const std::string_view kScript;

  // Starts connecting in the background; Take falls back until the first connection is up.
  explicit RedisBucketStore(RedisBucketStoreOptions options);
  ~RedisBucketStore() override;
  RedisBucketStore(const RedisBucketStore&) = delete;
  RedisBucketStore& operator=(const RedisBucketStore&) = delete;

  StatusOr<BucketTake> Take(BucketScope scope, std::string_view name, const BucketSpec& spec) override;
  BucketStoreStats Stats() const override;

  // Waits until a connection is up (start-up, tests); false if none came within `timeout`.
  bool WaitUp(std::chrono::milliseconds timeout);
  // The Redis key of a bucket: key_prefix, then "global", "caller:<name>" or "method:<name>".
  std::string KeyOf(BucketScope scope, std::string_view name) const;

 private:
  enum class State { kConnecting, kUp, kDown };

  StatusOr<std::unique_ptr<redis::Connection>> Open();
  StatusOr<BucketTake> Evaluate(redis::Connection& conn, const std::string& key, const BucketSpec& spec,
                                redis::Deadline deadline);
  // Called with mu_ held.
  void MarkDownLocked(const Status& why);
  void Maintain();

  const RedisBucketStoreOptions options_;
  const std::string script_sha_;

  mutable std::mutex mu_;
  std::condition_variable conn_cv_;      // requests: a connection returned, the state changed, stop
  std::condition_variable maintain_cv_;  // the maintainer: a connection lost, an outage, stop
  State state_ = State::kConnecting;
  uint64_t generation_ = 0;  // bumped on each outage: connections of older ones are dropped
  size_t open_ = 0;          // connections of this generation, idle or in use
  std::vector<std::unique_ptr<redis::Connection>> idle_;
  uint64_t outages_ = 0;
  std::chrono::steady_clock::time_point down_since_;
  bool stopping_ = false;
  std::thread maintainer_;
};

}  // namespace neosl
