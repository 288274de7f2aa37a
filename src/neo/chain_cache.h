// A cache of chain reads, shared by a process's JSON-RPC clients (HttpRpcClientOptions::cache;
// `chain.cache` in the configuration). Many functions reading the same contract state within a
// block cost the node one call, not one each.
//
// What is kept, by method (ClassifyRead):
// - Immutable, kept until the size bound evicts it (least recently used first): getblock,
//   getblockheader, getblockhash, getapplicationlog, and getrawtransaction once the transaction
//   is in a block. A verbose block or transaction leaves out the two fields that change with the
//   height ("confirmations", "nextblockhash"), whether it came from the cache or the node: ask
//   getblockcount for the height.
// - State, kept until the next block: invokefunction, invokescript, getstorage,
//   getcontractstate, getnep17balances, getunclaimedgas. An invocation that opened an iterator
//   session is not kept (the session is the node's, and expires).
// - Anything else (getblockcount, sendrawtransaction, calculatenetworkfee, …) is never kept.
// Errors are never kept.
//
// The next block: a state result is kept under the block height the cache knew when it asked.
// A known height stands for `height_ttl`; the first state read after that asks the node for its
// height (one getblockcount, shared by concurrent readers), and a new height drops every state
// result. Any getblockcount a client makes anyway (a chain follower polling) refreshes the height
// for free, through Observe. So a state read is at most `height_ttl` behind the node.
//
// Concurrent misses of one key make one call: the others wait for its answer.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "core/clock.h"
#include "core/status.h"

namespace neosl::neo {

enum class ReadKind { kUncached, kImmutable, kState };
ReadKind ClassifyRead(std::string_view method, const boost::json::array& params);

struct ChainCacheOptions {
  size_t max_bytes = 64u << 20;  // kept results (their JSON text and key); past it, LRU eviction
  std::chrono::milliseconds height_ttl{1000};
};

class ChainReadCache {
 public:
  using Fetch = std::function<StatusOr<boost::json::value>()>;
  using FetchHeight = std::function<StatusOr<uint32_t>()>;  // the node's block count

  // `clock` must outlive the cache.
  ChainReadCache(ChainCacheOptions options, const Clock& clock);
  ~ChainReadCache();
  ChainReadCache(const ChainReadCache&) = delete;
  ChainReadCache& operator=(const ChainReadCache&) = delete;

  // The result of `method(params)` of kind `kind` (not kUncached): kept, or from `fetch`.
  // `height` is called when a state read finds the known height too old. When the height
  // cannot be had, the read goes to the node and nothing is kept.
  StatusOr<boost::json::value> Read(ReadKind kind, std::string_view method, const boost::json::array& params,
                                    const Fetch& fetch, const FetchHeight& height);
  // A block count from the node (any getblockcount answer).
  void Observe(uint32_t block_count);

  struct Stats {
    uint64_t immutable_hits = 0, immutable_misses = 0;
    uint64_t state_hits = 0, state_misses = 0;
    uint64_t bypassed = 0;   // state reads sent to the node without a height
    uint64_t evictions = 0;  // by the size bound
    size_t entries = 0, bytes = 0;
  };
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace neosl::neo
