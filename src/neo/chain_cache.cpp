#include "neo/chain_cache.h"

#include <condition_variable>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include <boost/json/serialize.hpp>

#include "core/business_metrics.h"

namespace neosl::neo {

namespace json = boost::json;

namespace {

bool IsOneOf(std::string_view method, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names) {
    if (method == n) return true;
  }
  return false;
}

std::string_view KindName(ReadKind kind) {
  return kind == ReadKind::kImmutable ? "immutable" : "state";
}

// The fields of a verbose block or transaction that change with the height.
void DropHeightRelativeFields(std::string_view method, json::value& result) {
  if (!result.is_object() || !IsOneOf(method, {"getblock", "getblockheader", "getrawtransaction"})) return;
  result.as_object().erase("confirmations");
  result.as_object().erase("nextblockhash");
}

// Whether a successful answer may be kept.
bool Keepable(std::string_view method, const json::value& result) {
  if (method == "getrawtransaction" && result.is_object()) {
    return result.as_object().contains("blockhash");  // in a block, not only in the mempool
  }
  if ((method == "invokefunction" || method == "invokescript") && result.is_object()) {
    return !result.as_object().contains("session");  // an iterator session lives on the node
  }
  return true;
}

}  // namespace

ReadKind ClassifyRead(std::string_view method, const json::array& /*params*/) {
  if (IsOneOf(method, {"getblock", "getblockheader", "getblockhash", "getapplicationlog", "getrawtransaction"})) {
    return ReadKind::kImmutable;
  }
  if (IsOneOf(method, {"invokefunction", "invokescript", "getstorage", "getcontractstate", "getnep17balances",
                       "getunclaimedgas"})) {
    return ReadKind::kState;
  }
  return ReadKind::kUncached;
}

struct ChainReadCache::Impl {
  struct Entry {
    json::value value;
    ReadKind kind = ReadKind::kImmutable;
    size_t bytes = 0;
    std::list<std::string>::iterator lru;
  };
  struct Flight {
    bool done = false;
    StatusOr<json::value> result = UnknownError("not answered");
  };

  ChainCacheOptions options;
  const Clock& clock;

  mutable std::mutex mu;
  std::condition_variable cv;  // a flight landed, or a height refresh ended
  std::unordered_map<std::string, Entry> entries;
  std::list<std::string> lru;  // most recently used first
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights;
  std::optional<uint32_t> height;
  std::chrono::steady_clock::time_point height_at;
  bool refreshing = false;
  Stats stats;

  Impl(ChainCacheOptions o, const Clock& c) : options(o), clock(c) {}

  ~Impl() {
    metrics::ChainCache().bytes.Add({}, -double(stats.bytes));
    metrics::ChainCache().entries.Add({}, -double(stats.entries));
  }

  void Erase(std::unordered_map<std::string, Entry>::iterator it) {
    stats.bytes -= it->second.bytes;
    stats.entries -= 1;
    metrics::ChainCache().bytes.Add({}, -double(it->second.bytes));
    metrics::ChainCache().entries.Add({}, -1);
    lru.erase(it->second.lru);
    entries.erase(it);
  }

  // mu held.
  void ObserveLocked(uint32_t block_count) {
    if (height != block_count) {
      for (auto it = entries.begin(); it != entries.end();) {
        auto next = std::next(it);
        if (it->second.kind == ReadKind::kState) Erase(it);
        it = next;
      }
      height = block_count;
    }
    height_at = clock.SteadyNow();
  }

  // The height state reads are kept under, asking the node when the known one is too old. mu
  // held (released while asking). nullopt: the node did not say.
  std::optional<uint32_t> Height(std::unique_lock<std::mutex>& lock, const FetchHeight& fetch) {
    for (;;) {
      if (height && clock.SteadyNow() - height_at < options.height_ttl) return height;
      if (!refreshing) break;
      cv.wait(lock);
    }
    refreshing = true;
    lock.unlock();
    StatusOr<uint32_t> count = fetch();
    lock.lock();
    refreshing = false;
    cv.notify_all();
    if (!count.ok()) return std::nullopt;
    ObserveLocked(*count);
    return height;
  }

  // mu held.
  void Store(const std::string& key, const json::value& value, ReadKind kind) {
    size_t bytes = key.size() + json::serialize(value).size() + sizeof(Entry) + 2 * sizeof(void*);
    if (bytes > options.max_bytes) return;
    if (auto old = entries.find(key); old != entries.end()) Erase(old);
    while (stats.bytes + bytes > options.max_bytes && !lru.empty()) {
      Erase(entries.find(lru.back()));
      stats.evictions += 1;
      metrics::ChainCache().evictions.Inc({});
    }
    lru.push_front(key);
    entries.emplace(key, Entry{value, kind, bytes, lru.begin()});
    stats.bytes += bytes;
    stats.entries += 1;
    metrics::ChainCache().bytes.Add({}, double(bytes));
    metrics::ChainCache().entries.Add({}, 1);
  }
};

ChainReadCache::ChainReadCache(ChainCacheOptions options, const Clock& clock)
    : impl_(std::make_unique<Impl>(options, clock)) {}

ChainReadCache::~ChainReadCache() = default;

StatusOr<json::value> ChainReadCache::Read(ReadKind kind, std::string_view method, const json::array& params,
                                           const Fetch& fetch, const FetchHeight& height) {
  Impl& d = *impl_;
  metrics::Counter& counter = metrics::ChainCache().reads;
  std::string key(method);
  key += '\n';
  key += json::serialize(params);

  std::unique_lock lock(d.mu);
  std::optional<uint32_t> tag;  // a state read's height
  if (kind == ReadKind::kState) {
    tag = d.Height(lock, height);
    if (!tag) {
      d.stats.bypassed += 1;
      lock.unlock();
      counter.Inc({KindName(kind), "bypass"});
      StatusOr<json::value> result = fetch();
      return result;
    }
    // State results are kept per height: a flight begun under the last block is not this one's.
    key += '@';
    key += std::to_string(*tag);
  }
  const bool immutable = kind == ReadKind::kImmutable;
  if (auto it = d.entries.find(key); it != d.entries.end()) {
    (immutable ? d.stats.immutable_hits : d.stats.state_hits) += 1;
    d.lru.splice(d.lru.begin(), d.lru, it->second.lru);
    json::value value = it->second.value;
    lock.unlock();
    counter.Inc({KindName(kind), "hit"});
    return value;
  }
  if (auto f = d.flights.find(key); f != d.flights.end()) {
    std::shared_ptr<Impl::Flight> flight = f->second;
    (immutable ? d.stats.immutable_hits : d.stats.state_hits) += 1;
    d.cv.wait(lock, [&] { return flight->done; });
    lock.unlock();
    counter.Inc({KindName(kind), "hit"});
    return flight->result;
  }
  auto flight = std::make_shared<Impl::Flight>();
  d.flights.emplace(key, flight);
  (immutable ? d.stats.immutable_misses : d.stats.state_misses) += 1;
  lock.unlock();
  counter.Inc({KindName(kind), "miss"});

  StatusOr<json::value> result = fetch();
  if (result.ok()) DropHeightRelativeFields(method, *result);

  lock.lock();
  d.flights.erase(key);
  if (result.ok() && Keepable(method, *result)) {
    // A state result is kept only while its height is still the known one.
    if (immutable || d.height == tag) d.Store(key, *result, kind);
  }
  flight->result = result;
  flight->done = true;
  d.cv.notify_all();
  return result;
}

void ChainReadCache::Observe(uint32_t block_count) {
  std::lock_guard lock(impl_->mu);
  impl_->ObserveLocked(block_count);
}

ChainReadCache::Stats ChainReadCache::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

}  // namespace neosl::neo
