#include "core/redis_bucket_store.h"

#include <algorithm>

#include <openssl/evp.h>

#include "core/log.h"
#include "core/rate_limiter.h"
#include <fmt/format.h>

namespace neosl {
namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kFirstBackoff{100};
constexpr milliseconds kMaxBackoff{2000};
// Opening a connection may take longer than an admission may wait (a lost SYN, a DNS answer),
// and happens off the request path; the script load after it gets only the admission timeout.
constexpr milliseconds kMinConnectTimeout{500};

std::string Sha1Hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

int64_t Millis(Steady::duration d) {
  return std::chrono::duration_cast<milliseconds>(d).count();
}

}  // namespace

// The refill is computed from Redis's TIME in microseconds (below 2^53 for centuries, so exact in
// a Lua number). A clock that steps back (a failover to a server behind) refills nothing rather
// than freezing the bucket until it catches up. The key lives until the bucket would be full
// again, plus a second: an absent bucket is a full one, so expiry changes nothing but memory.
// Redis 5 or later: TIME before a write needs effect replication, the default since 5.
const std::string_view RedisBucketStore::kScript = R"lua(local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'us')
local tokens = tonumber(state[1])
local last = tonumber(state[2])
if tokens == nil or last == nil then
  tokens = capacity
  last = now
end
if now > last then
  tokens = math.min(capacity, tokens + (now - last) * rate / 1000000)
end
local allowed = 0
local wait_ms = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait_ms = math.max(1, math.ceil((1 - tokens) * 1000 / rate))
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'us', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) * 1000 / rate) + 1000)
return {allowed, wait_ms}
)lua";

RedisBucketStore::RedisBucketStore(RedisBucketStoreOptions options)
    : options_(std::move(options)), script_sha_(Sha1Hex(kScript)) {
  maintainer_ = std::thread([this] { Maintain(); });
}

RedisBucketStore::~RedisBucketStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  maintain_cv_.notify_all();
  conn_cv_.notify_all();
  maintainer_.join();
}

std::string RedisBucketStore::KeyOf(BucketScope scope, std::string_view name) const {
  switch (scope) {
    case BucketScope::kGlobal: return options_.key_prefix + "global";
    case BucketScope::kCaller: return options_.key_prefix + "caller:" + std::string(name);
    case BucketScope::kMethod: return options_.key_prefix + "method:" + std::string(name);
  }
  return options_.key_prefix + "?";
}

StatusOr<BucketTake> RedisBucketStore::Take(BucketScope scope, std::string_view name, const BucketSpec& spec) {
  const redis::Deadline deadline = Steady::now() + options_.timeout;
  std::unique_ptr<redis::Connection> conn;  // destroyed after the lock below is released
  uint64_t generation = 0;
  {
    std::unique_lock lock(mu_);
    // While Redis is down a request does not wait for it: the maintainer is reconnecting. For a
    // free connection it waits half the timeout at most, so that the call itself has the other
    // half: a call that times out then says Redis is slow, not that this process is busy.
    conn_cv_.wait_until(lock, Steady::now() + options_.timeout / 2,
                        [&] { return state_ != State::kUp || !idle_.empty() || stopping_; });
    if (state_ != State::kUp || stopping_) {
      return UnavailableError("Redis at " + options_.endpoint.Describe() + " is unreachable");
    }
    if (idle_.empty()) {
      // Every connection busy: load, not an outage.
      return DeadlineExceededError("no Redis connection free within " + std::to_string(options_.timeout.count() / 2) +
                                   " ms");
    }
    conn = std::move(idle_.back());
    idle_.pop_back();
    generation = generation_;
  }
  StatusOr<BucketTake> taken = Evaluate(*conn, KeyOf(scope, name), spec, deadline);
  std::lock_guard lock(mu_);
  if (generation != generation_) return taken;  // an outage began meanwhile: the connection goes
  if (!taken.ok()) {
    MarkDownLocked(taken.status());
    return taken;
  }
  idle_.push_back(std::move(conn));
  conn_cv_.notify_one();
  return taken;
}

StatusOr<BucketTake> RedisBucketStore::Evaluate(redis::Connection& conn, const std::string& key, const BucketSpec& spec,
                                                redis::Deadline deadline) {
  const std::string rate = fmt::format("{}", spec.requests_per_second);
  const std::string capacity = fmt::format("{}", spec.capacity());
  ASSIGN_OR_RETURN(redis::Reply r, conn.Call({"EVALSHA", script_sha_, "1", key, rate, capacity}, deadline));
  if (r.is_error() && r.text.starts_with("NOSCRIPT")) {
    // The server lost its script cache (SCRIPT FLUSH, a restart behind a proxy): EVAL sends the
    // script itself, and caches it again for the next EVALSHA.
    ASSIGN_OR_RETURN(r, conn.Call({"EVAL", kScript, "1", key, rate, capacity}, deadline));
  }
  if (r.is_error()) return UnavailableError("Redis at " + options_.endpoint.Describe() + ": " + r.text);
  using Type = redis::Reply::Type;
  if (r.type != Type::kArray || r.elements.size() != 2 || r.elements[0].type != Type::kInteger ||
      r.elements[1].type != Type::kInteger || r.elements[0].integer < 0 || r.elements[0].integer > 1 ||
      r.elements[1].integer < 0) {
    return UnavailableError("Redis at " + options_.endpoint.Describe() + " answered the bucket script oddly");
  }
  if (r.elements[0].integer == 1) return BucketTake{};
  return BucketTake{false, milliseconds(std::max<int64_t>(1, r.elements[1].integer))};
}

void RedisBucketStore::MarkDownLocked(const Status& why) {
  if (state_ != State::kDown) {  // up, or never up since start-up
    state_ = State::kDown;
    ++outages_;
    down_since_ = Steady::now();
    log::Warn(options_.fail_open ? "shared rate limits: Redis unreachable or slow; each replica uses its own buckets "
                                   "until it answers"
                                 : "shared rate limits: Redis unreachable or slow; refusing requests until it answers",
              {{"redis", options_.endpoint.Describe()}, {"error", why.ToString()}});
  }
  ++generation_;
  open_ = 0;
  idle_.clear();
  conn_cv_.notify_all();
  maintain_cv_.notify_all();
}

StatusOr<std::unique_ptr<redis::Connection>> RedisBucketStore::Open() {
  ASSIGN_OR_RETURN(auto conn, redis::Connection::Open(options_.endpoint,
                                                      Steady::now() + std::max(options_.timeout, kMinConnectTimeout)));
  // Loading the script also proves the server answers within the admission timeout, so that a
  // slow server is not called up only for every request to time out on it.
  ASSIGN_OR_RETURN(redis::Reply r, conn->Call({"SCRIPT", "LOAD", kScript}, Steady::now() + options_.timeout));
  if (r.is_error()) return UnavailableError("Redis at " + options_.endpoint.Describe() + ": " + r.text);
  if (r.type != redis::Reply::Type::kBulkString || r.text != script_sha_) {
    return UnavailableError("Redis at " + options_.endpoint.Describe() + " gave the bucket script another SHA-1");
  }
  return conn;
}

void RedisBucketStore::Maintain() {
  milliseconds backoff = kFirstBackoff;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (state_ == State::kUp && open_ >= options_.connections) {
      maintain_cv_.wait(lock, [&] { return stopping_ || state_ != State::kUp || open_ < options_.connections; });
      continue;
    }
    const bool probing = state_ != State::kUp;
    const uint64_t generation = generation_;
    lock.unlock();
    StatusOr<std::unique_ptr<redis::Connection>> conn = Open();
    lock.lock();
    if (stopping_) break;
    if (conn.ok()) {
      backoff = kFirstBackoff;
      if (probing) {
        if (state_ == State::kDown) {
          log::Info("shared rate limits: Redis answers again",
                    {{"redis", options_.endpoint.Describe()}, {"down_ms", Millis(Steady::now() - down_since_)}});
        }
        state_ = State::kUp;
        open_ = 1;
        idle_.push_back(std::move(*conn));
        conn_cv_.notify_all();
      } else if (state_ == State::kUp && generation == generation_) {
        ++open_;
        idle_.push_back(std::move(*conn));
        conn_cv_.notify_one();
      }
      continue;  // else an outage began while connecting: probe again
    }
    // Never reached since start-up: an outage too, logged and counted like one.
    if (state_ == State::kConnecting) MarkDownLocked(conn.status());
    // A failed extra connection beside working ones (maxclients, say) is not an outage: retry.
    maintain_cv_.wait_for(lock, backoff, [&] { return stopping_; });
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
  idle_.clear();
}

BucketStoreStats RedisBucketStore::Stats() const {
  std::lock_guard lock(mu_);
  return BucketStoreStats{state_ == State::kUp, outages_};
}

bool RedisBucketStore::WaitUp(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return conn_cv_.wait_for(lock, timeout, [&] { return state_ == State::kUp || stopping_; }) && state_ == State::kUp;
}

// --- the gateway's limiter ---

StatusOr<std::unique_ptr<RateLimiter>> NewGatewayRateLimiter(const Config& config, const Clock& clock) {
  RateLimitConfig limits = RateLimitConfig::FromConfig(config);
  const std::string& dsn = config.String("rate_limits.redis.dsn");
  if (dsn.empty()) return std::make_unique<RateLimiter>(std::move(limits), clock);
  StatusOr<redis::Endpoint> endpoint = redis::ParseDsn(dsn);
  if (!endpoint.ok()) return endpoint.status().Annotate("rate_limits.redis.dsn");
  const int64_t timeout_ms = config.Int("rate_limits.redis.timeout_ms");
  if (timeout_ms < 1 || timeout_ms > 60'000) {
    return InvalidArgumentError("rate_limits.redis.timeout_ms must be 1 to 60000");
  }
  const int64_t connections = config.Int("rate_limits.redis.connections");
  if (connections < 1 || connections > 1024) {
    return InvalidArgumentError("rate_limits.redis.connections must be 1 to 1024");
  }
  RedisBucketStoreOptions options;
  options.endpoint = std::move(*endpoint);
  options.timeout = milliseconds(timeout_ms);
  options.key_prefix = config.String("rate_limits.redis.key_prefix");
  options.connections = static_cast<size_t>(connections);
  options.fail_open = config.Bool("rate_limits.redis.fail_open");
  RateLimiter::Shared shared;
  shared.fail_open = options.fail_open;
  shared.store = std::make_unique<RedisBucketStore>(std::move(options));
  return std::make_unique<RateLimiter>(std::move(limits), clock, std::move(shared));
}

}  // namespace neosl
