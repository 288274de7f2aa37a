// Every business metric of the services, declared in one place (docs/operations.md "Metrics"
// lists them; deploy/observability's dashboard and alerts use them, and a test checks that every
// name they use is declared here). Each service counts at the place where a fact becomes true —
// after the commit that records it — with one line:
//
//   metrics::Functions().invocations.Inc({"api", "ok"});
//
// The families are registered in metrics::Default() on first use; RegisterAll registers them all
// (the gateway does at start, so that a scrape shows every family from the first one).
//
// Labels carry only bounded values: enum names, operator-configured pairs and venues, the
// platform's own service identities. Never an account, a function, a trigger, a URL or an
// amount.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "core/metrics_registry.h"
#include "core/status.h"

namespace neosl::metrics {

struct FunctionsMetrics {
  Counter& invocations;          // {trigger: api|schedule|chain_event, outcome: ok|error|timeout|refused}
  Histogram& execution_seconds;  // {trigger}: how long the JavaScript ran
};
const FunctionsMetrics& Functions();

struct RandomMetrics {
  Counter& requests;       // {source: api|chain, outcome: ok|refused|error|timeout}
  Counter& words;          // {source}: words delivered
  Counter& verifications;  // {result: valid|invalid|refused}
};
const RandomMetrics& Random();

struct OracleMetrics {
  Counter& requests;  // {source: api|chain, code: Neo's oracle response code name}
};
const OracleMetrics& Oracle();

struct ChainRequestsMetrics {
  Counter& received;      // {service}
  Counter& rejected;      // malformed ServiceRequest notifications
  Counter& answered;      // {service}: callbacks included with HALT
  Counter& failed;        // {service}
  Counter& transactions;  // {service}: callback transactions built and stored
  Gauge& pending;         // {relay}
};
const ChainRequestsMetrics& ChainRequests();

// Where each component that follows the chain has got to (the relay, the gas bank's deposit
// watcher, automation's chain triggers), labelled by its cursor name.
struct ChainFollowerMetrics {
  Gauge& block;       // {follower}: the last block recorded
  Gauge& block_time;  // {follower}: that block's timestamp, seconds since the epoch
};
const ChainFollowerMetrics& ChainFollowers();

// The chain-read cache (neo/chain_cache.h) of the process's JSON-RPC clients.
struct ChainCacheMetrics {
  Counter& reads;      // {kind: immutable|state, result: hit|miss|bypass}
  Counter& evictions;  // results evicted by the size bound
  Gauge& bytes;        // what the kept results take
  Gauge& entries;      // how many results are kept
};
const ChainCacheMetrics& ChainCache();
struct OutboxMetrics {
  Counter& sent;      // {owner}: transactions built, stored and relayed (each attempt)
  Counter& expired;   // {owner}: transactions past validUntilBlock, never included
  Counter& finished;  // {owner, state: halt|fault|failed}
  Counter& fees;      // {owner}: system + network fee of included transactions, datoshi
};
const OutboxMetrics& Outbox();

struct GasBankMetrics {
  Counter& entries;             // {kind}: journal entries committed
  Counter& volume;              // {kind}: datoshi those entries moved (the sum of their credits)
  Counter& charged;             // {service}: fees taken (held → revenue), datoshi
  Counter& insufficient_funds;  // {service}: reserves and withdrawals refused for lack of funds
  Counter& deposits_credited;
  Gauge& holds_open;
  Gauge& held;  // datoshi in open holds

  // One committed entry: entries +1, volume +datoshi.
  void Posted(std::string_view kind, int64_t datoshi) const;
};
const GasBankMetrics& GasBank();

struct PriceFeedMetrics {
  Counter& rounds;        // {pair, outcome: ok|degraded|error}
  Counter& updates;       // {pair, trigger: first|deviation|heartbeat|republish}
  Counter& venue_quotes;  // {venue, status: used|failed|stale|outlier}
  Gauge& staleness;       // {pair}: callback, seconds since the pair's latest good price
  Gauge& heartbeat;       // {pair}: callback, the shortest heartbeat of the pair's feeds
};
const PriceFeedMetrics& PriceFeed();

struct AutomationMetrics {
  Counter& firings;        // callback: runs recorded
  Counter& runs_finished;  // callback, {status: succeeded|failed}
  Counter& retries;        // callback: attempts after the first
  Counter& actions;        // {action: function|contract|webhook, outcome: succeeded|failed|pending}
  Histogram& lateness;     // {trigger: cron|interval|block|event|price}: first attempt − scheduled time

  // The engine's running totals, read at render time until UnwatchEngine(owner).
  struct EngineCounts {
    uint64_t fired = 0, succeeded = 0, failed = 0, retried = 0;
  };
  void WatchEngine(const void* owner, std::function<EngineCounts()> read) const;
  void UnwatchEngine(const void* owner) const;
};
const AutomationMetrics& Automation();

struct EnclaveMetrics {
  Counter& restarts;      // the enclave process started again after it exited
  Gauge& up;              // 1 while an enclave process runs
  Counter& ecall_errors;  // {code}: ECALLs that ended in an error (UNAVAILABLE, DEADLINE_EXCEEDED: no answer)
};
const EnclaveMetrics& Enclave();

// Registers every family above.
void RegisterAll();

// A request's outcome from its status: "ok"; "timeout" (DEADLINE_EXCEEDED); "refused" (the
// caller's: invalid, not found, no permission, insufficient funds, over a limit); else "error".
std::string_view OutcomeOf(const Status& status);

// A chain request's service as a label: the services neosl has, else "other" (the name comes
// from a notification any contract can emit).
std::string_view ChainServiceLabel(std::string_view service);

}  // namespace neosl::metrics
