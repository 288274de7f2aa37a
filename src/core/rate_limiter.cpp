#include "core/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include <fmt/format.h>

namespace neosl {
namespace {

BucketSpec SpecAt(const Config& config, const std::string& prefix) {
  return BucketSpec{double(config.Int(prefix + ".requests_per_second")), double(config.Int(prefix + ".burst"))};
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

// --- MemoryBucketStore ---

MemoryBucketStore::MemoryBucketStore(const Clock& clock) : clock_(clock) {}

std::shared_ptr<MemoryBucketStore::Bucket> MemoryBucketStore::BucketTable::Get(
    std::string_view key, const BucketSpec& spec, std::chrono::steady_clock::time_point now) {
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
        if (b->second->tokens + elapsed * b->second->spec.requests_per_second >= b->second->spec.capacity()) {
          b = shard.buckets.erase(b);
        } else {
          ++b;
        }
      }
    }
    auto bucket = std::make_shared<Bucket>();
    bucket->started = true;
    bucket->tokens = spec.capacity();
    bucket->last = now;
    bucket->spec = spec;
    it = shard.buckets.emplace(std::string(key), std::move(bucket)).first;
  }
  return it->second;  // shared: an evicted bucket stays valid for a caller still using it
}

BucketTake MemoryBucketStore::TakeFrom(Bucket& bucket, const BucketSpec& spec,
                                       std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(bucket.mu);
  if (!bucket.started) {
    bucket.started = true;
    bucket.tokens = spec.capacity();
    bucket.last = now;
  }
  double elapsed = std::chrono::duration<double>(now - bucket.last).count();
  if (elapsed > 0) {
    bucket.tokens = std::min(spec.capacity(), bucket.tokens + elapsed * spec.requests_per_second);
    bucket.last = now;
  }
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return {};
  }
  double wait_s = (1.0 - bucket.tokens) / spec.requests_per_second;
  auto ms = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait_s * 1000.0)));
  return BucketTake{false, std::chrono::milliseconds(ms)};
}

StatusOr<BucketTake> MemoryBucketStore::Take(BucketScope scope, std::string_view name, const BucketSpec& spec) {
  auto now = clock_.SteadyNow();
  switch (scope) {
    case BucketScope::kGlobal: return TakeFrom(global_, spec, now);
    case BucketScope::kCaller: return TakeFrom(*callers_.Get(name, spec, now), spec, now);
    case BucketScope::kMethod: return TakeFrom(*methods_.Get(name, spec, now), spec, now);
  }
  return InternalError("unknown bucket scope");
}

// --- RateLimiter ---

RateLimiter::RateLimiter(RateLimitConfig config, const Clock& clock) : RateLimiter(std::move(config), clock, {}) {}

RateLimiter::RateLimiter(RateLimitConfig config, const Clock& clock, Shared shared)
    : config_(std::move(config)), local_(clock), shared_(std::move(shared)) {}

RateLimiter::Decision RateLimiter::Admit(Scope scope, std::string_view name, const BucketSpec& spec) {
  auto decide = [scope](const StatusOr<BucketTake>& taken) {
    if (!taken.ok()) return Decision{false, scope, std::chrono::seconds(1), taken.status()};
    return taken->allowed ? Decision{} : Decision{false, scope, taken->retry_after, Status()};
  };
  if (shared_.store != nullptr) {
    StatusOr<BucketTake> shared = shared_.store->Take(scope, name, spec);
    if (shared.ok()) return decide(shared);
    // The store logs the outage once and counts it; here only what became of this request.
    if (!shared_.fail_open) {
      refused_unavailable_.fetch_add(1, std::memory_order_relaxed);
      // The retry_after is a hint for clients that read it: reconnection is retried within a second.
      return Decision{false, scope, std::chrono::seconds(1),
                      UnavailableError("shared rate limits unavailable: " + std::string(shared.status().message()))};
    }
    decided_locally_.fetch_add(1, std::memory_order_relaxed);
  }
  return decide(local_.Take(scope, name, spec));
}

RateLimiter::Decision RateLimiter::AdmitGlobal() {
  if (!config_.global.enabled()) return {};
  return Admit(Scope::kGlobal, "", config_.global);
}

RateLimiter::Decision RateLimiter::AdmitCaller(std::string_view caller, bool anonymous) {
  const BucketSpec* spec = anonymous ? &config_.anonymous : &config_.default_caller;
  if (!anonymous) {
    auto it = config_.per_caller.find(caller);
    if (it != config_.per_caller.end()) spec = &it->second;
  }
  if (!spec->enabled()) return {};
  return Admit(Scope::kCaller, caller, *spec);
}

RateLimiter::Decision RateLimiter::AdmitMethod(std::string_view operation_id) {
  auto it = config_.per_method.find(operation_id);
  if (it == config_.per_method.end() || !it->second.enabled()) return {};
  return Admit(Scope::kMethod, operation_id, it->second);
}

RateLimiter::SharedStats RateLimiter::shared_stats() const {
  SharedStats out;
  if (shared_.store == nullptr) return out;
  out.configured = true;
  out.store = shared_.store->Stats();
  out.decided_locally = decided_locally_.load(std::memory_order_relaxed);
  out.refused_unavailable = refused_unavailable_.load(std::memory_order_relaxed);
  return out;
}

std::string RateLimiter::RenderMetrics() const {
  SharedStats s = shared_stats();
  if (!s.configured) return "";
  return fmt::format(
      "# HELP neosl_rate_limit_shared_up Whether the last exchange with the shared rate-limit store succeeded.\n"
      "# TYPE neosl_rate_limit_shared_up gauge\n"
      "neosl_rate_limit_shared_up {}\n"
      "# HELP neosl_rate_limit_shared_outages_total Times the shared rate-limit store became unreachable or slow.\n"
      "# TYPE neosl_rate_limit_shared_outages_total counter\n"
      "neosl_rate_limit_shared_outages_total {}\n"
      "# HELP neosl_rate_limit_shared_fallbacks_total Admissions decided without the shared store, by outcome.\n"
      "# TYPE neosl_rate_limit_shared_fallbacks_total counter\n"
      "neosl_rate_limit_shared_fallbacks_total{{outcome=\"local\"}} {}\n"
      "neosl_rate_limit_shared_fallbacks_total{{outcome=\"refused\"}} {}\n",
      s.store.up ? 1 : 0, s.store.outages, s.decided_locally, s.refused_unavailable);
}

}  // namespace neosl
