#include "core/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace neosl {
namespace {

BucketSpec SpecAt(const Config& config, const std::string& prefix) {
  return BucketSpec{double(config.Int(prefix + ".requests_per_second")), double(config.Int(prefix + ".burst"))};
}

// A burst of 0 with a positive rate would refuse everything; treat it as one request's worth.
double Capacity(const BucketSpec& spec) {
  return std::max(1.0, spec.burst);
}

}  // namespace

std::string_view ScopeName(RateLimiter::Scope scope) {
  switch (scope) {
    case RateLimiter::Scope::kGlobal: return "global";
    case RateLimiter::Scope::kCaller: return "per_caller";
    case RateLimiter::Scope::kMethod: return "per_method";
  }
  return "?";
}

RateLimitConfig RateLimitConfig::FromConfig(const Config& config) {
  RateLimitConfig out;
  out.global = SpecAt(config, "rate_limits.global");
  for (const auto& name : config.Children("rate_limits.per_caller")) {
    BucketSpec spec = SpecAt(config, "rate_limits.per_caller." + name);
    if (name == "default") {
      out.default_caller = spec;
    } else if (name == "anonymous") {
      out.anonymous = spec;
    } else {
      out.per_caller[name] = spec;
    }
  }
  for (const auto& name : config.Children("rate_limits.per_method")) {
    out.per_method[name] = SpecAt(config, "rate_limits.per_method." + name);
  }
  return out;
}

RateLimiter::RateLimiter(RateLimitConfig config, const Clock& clock) : config_(std::move(config)), clock_(clock) {
  global_.tokens = Capacity(config_.global);
  global_.last = clock_.SteadyNow();
}

std::shared_ptr<RateLimiter::Bucket> RateLimiter::BucketTable::Get(std::string_view key, const BucketSpec& spec,
                                                                   std::chrono::steady_clock::time_point now) {
  Shard& shard = shards_[std::hash<std::string_view>()(key) % kShards];
  std::lock_guard lock(shard.mu);
  auto it = shard.buckets.find(std::string(key));
  if (it == shard.buckets.end()) {
    // Bound memory under a flood of distinct anonymous addresses: drop buckets that have
    // refilled completely, which is the state a new bucket starts in anyway.
    if (shard.buckets.size() >= 4096) {
      for (auto b = shard.buckets.begin(); b != shard.buckets.end();) {
        std::lock_guard bl(b->second->mu);
        double elapsed = std::chrono::duration<double>(now - b->second->last).count();
        if (b->second->tokens + elapsed * b->second->spec.requests_per_second >= Capacity(b->second->spec)) {
          b = shard.buckets.erase(b);
        } else {
          ++b;
        }
      }
    }
    auto bucket = std::make_shared<Bucket>();
    bucket->tokens = Capacity(spec);
    bucket->last = now;
    bucket->spec = spec;
    it = shard.buckets.emplace(std::string(key), std::move(bucket)).first;
  }
  return it->second;  // shared: an evicted bucket stays valid for a caller still using it
}

RateLimiter::Decision RateLimiter::Take(Bucket& bucket, const BucketSpec& spec, Scope scope,
                                        std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(bucket.mu);
  double elapsed = std::chrono::duration<double>(now - bucket.last).count();
  if (elapsed > 0) {
    bucket.tokens = std::min(Capacity(spec), bucket.tokens + elapsed * spec.requests_per_second);
    bucket.last = now;
  }
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return {};
  }
  double wait_s = (1.0 - bucket.tokens) / spec.requests_per_second;
  auto ms = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait_s * 1000.0)));
  return Decision{false, scope, std::chrono::milliseconds(ms)};
}

RateLimiter::Decision RateLimiter::AdmitGlobal() {
  if (!config_.global.enabled()) return {};
  return Take(global_, config_.global, Scope::kGlobal, clock_.SteadyNow());
}

RateLimiter::Decision RateLimiter::AdmitCaller(std::string_view caller, bool anonymous) {
  const BucketSpec* spec = anonymous ? &config_.anonymous : &config_.default_caller;
  if (!anonymous) {
    auto it = config_.per_caller.find(caller);
    if (it != config_.per_caller.end()) spec = &it->second;
  }
  if (!spec->enabled()) return {};
  auto now = clock_.SteadyNow();
  return Take(*callers_.Get(caller, *spec, now), *spec, Scope::kCaller, now);
}

RateLimiter::Decision RateLimiter::AdmitMethod(std::string_view operation_id) {
  auto it = config_.per_method.find(operation_id);
  if (it == config_.per_method.end() || !it->second.enabled()) return {};
  auto now = clock_.SteadyNow();
  return Take(*methods_.Get(operation_id, it->second, now), it->second, Scope::kMethod, now);
}

}  // namespace neosl
