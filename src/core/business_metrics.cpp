#include "core/business_metrics.h"

#include <array>

namespace neosl::metrics {
namespace {

// Latencies from a millisecond to a minute (a function's limit is at most 30 s).
const std::vector<double> kRunSeconds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                         0.5,   1,      2.5,   5,    10,    30,   60};
// How late a firing starts: a timer tick is ~10 ms, a busy queue can make it seconds.
const std::vector<double> kLatenessSeconds = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};

constexpr std::array<std::string_view, 3> kTriggers = {"api", "schedule", "chain_event"};
constexpr std::array<std::string_view, 4> kOutcomes = {"ok", "error", "timeout", "refused"};

// Series of known label values made at registration, at 0: a counter's first increment is then a
// change that rate() and increase() see, and a dashboard shows 0 rather than "no data".
template <size_t N, size_t M>
void Zero(Counter& c, const std::array<std::string_view, N>& a, const std::array<std::string_view, M>& b) {
  for (std::string_view x : a) {
    for (std::string_view y : b) c.Inc({x, y}, 0);
  }
}
template <size_t N>
void Zero(Counter& c, const std::array<std::string_view, N>& a) {
  for (std::string_view x : a) c.Inc({x}, 0);
}

}  // namespace

const FunctionsMetrics& Functions() {
  static const FunctionsMetrics m = [] {
    Registry& r = Default();
    FunctionsMetrics f{
        r.AddCounter("neosl_functions_invocations_total",
                     "Function invocations answered, by trigger and outcome (ok, error: the function threw, "
                     "timeout: it ran past its limit, refused: it did not run).",
                     {"trigger", "outcome"}),
        r.AddHistogram("neosl_functions_execution_seconds", "How long invoked functions ran, by trigger.", {"trigger"},
                       kRunSeconds)};
    Zero(f.invocations, kTriggers, kOutcomes);
    return f;
  }();
  return m;
}

const RandomMetrics& Random() {
  static const RandomMetrics m = [] {
    Registry& r = Default();
    RandomMetrics f{
        r.AddCounter("neosl_random_requests_total",
                     "Random requests answered, by source (api, chain) and outcome (ok, refused, error, timeout).",
                     {"source", "outcome"}),
        r.AddCounter("neosl_random_words_total", "Random words delivered with their VRF proof, by source.", {"source"}),
        r.AddCounter("neosl_random_verifications_total",
                     "Proofs checked through the API, by result (valid, invalid, refused: malformed input).",
                     {"result"})};
    Zero(f.requests, std::array<std::string_view, 2>{"api", "chain"}, kOutcomes);
    Zero(f.verifications, std::array<std::string_view, 3>{"valid", "invalid", "refused"});
    return f;
  }();
  return m;
}

const OracleMetrics& Oracle() {
  static const OracleMetrics m = [] {
    OracleMetrics f{Default().AddCounter(
        "neosl_oracle_requests_total",
        "Oracle requests the enclave ran, by source (api, chain) and Neo oracle response code (Success, Timeout, "
        "NotFound, ConsensusUnreachable, Error …).",
        {"source", "code"})};
    Zero(f.requests, std::array<std::string_view, 2>{"api", "chain"},
         std::array<std::string_view, 2>{"Success", "Error"});
    return f;
  }();
  return m;
}

const ChainRequestsMetrics& ChainRequests() {
  static const ChainRequestsMetrics m = [] {
    Registry& r = Default();
    return ChainRequestsMetrics{
        r.AddCounter("neosl_chain_requests_received_total",
                     "ServiceRequest notifications recorded by the chain request relay, by service.", {"service"}),
        r.AddCounter("neosl_chain_requests_rejected_total",
                     "Malformed ServiceRequest notifications the relay ignored."),
        r.AddCounter("neosl_chain_requests_answered_total",
                     "Chain requests whose callback transaction was included and HALTed, by service.", {"service"}),
        r.AddCounter("neosl_chain_requests_failed_total",
                     "Chain requests that ended failed (callback FAULTed, not sendable, or out of attempts), "
                     "by service.",
                     {"service"}),
        r.AddCounter("neosl_chain_requests_transactions_total",
                     "Callback transactions the relay built and stored (re-relays not counted), by service.",
                     {"service"}),
        r.AddGauge("neosl_chain_requests_pending", "Chain requests not yet answered or failed, by relay.", {"relay"})};
  }();
  return m;
}

const ChainFollowerMetrics& ChainFollowers() {
  static const ChainFollowerMetrics m = [] {
    Registry& r = Default();
    return ChainFollowerMetrics{
        r.AddGauge("neosl_chain_follower_block", "The last block a chain follower recorded, by its cursor name.",
                   {"follower"}),
        r.AddGauge("neosl_chain_follower_block_time_seconds",
                   "The timestamp of the last block a chain follower recorded (seconds since the epoch): "
                   "time() minus it is how far behind the chain it is.",
                   {"follower"})};
  }();
  return m;
}

const OutboxMetrics& Outbox() {
  static const OutboxMetrics m = [] {
    Registry& r = Default();
    return OutboxMetrics{
        r.AddCounter("neosl_outbox_transactions_sent_total",
                     "Transactions the outbox built, stored and relayed (each attempt), by owner service.", {"owner"}),
        r.AddCounter("neosl_outbox_transactions_expired_total",
                     "Outbox transactions that passed validUntilBlock without being included, by owner.", {"owner"}),
        r.AddCounter("neosl_outbox_items_finished_total",
                     "Outbox items that reached a final state (halt, fault, failed), by owner.", {"owner", "state"}),
        r.AddCounter("neosl_outbox_fees_datoshi_total",
                     "System and network fees of the outbox's included transactions, in datoshi, by owner.",
                     {"owner"})};
  }();
  return m;
}

void GasBankMetrics::Posted(std::string_view kind, int64_t datoshi) const {
  entries.Inc({kind});
  if (datoshi > 0) volume.Inc({kind}, static_cast<uint64_t>(datoshi));
}

const GasBankMetrics& GasBank() {
  static const GasBankMetrics m = [] {
    Registry& r = Default();
    GasBankMetrics f{
        r.AddCounter("neosl_gasbank_ledger_entries_total", "Gas bank journal entries committed, by kind.", {"kind"}),
        r.AddCounter("neosl_gasbank_ledger_volume_datoshi_total",
                     "Datoshi moved by committed journal entries (the sum of their credits), by kind.", {"kind"}),
        r.AddCounter("neosl_gasbank_charged_datoshi_total",
                     "Fees the gas bank took (held to revenue), in datoshi, by the service that charged.", {"service"}),
        r.AddCounter("neosl_gasbank_insufficient_funds_total",
                     "Holds and withdrawals refused for insufficient funds, by the service asking.", {"service"}),
        r.AddCounter("neosl_gasbank_deposits_credited_total", "GAS deposits credited to accounts."),
        r.AddGauge("neosl_gasbank_holds_open", "Gas bank holds open (measured on every expiry pass)."),
        r.AddGauge("neosl_gasbank_held_datoshi", "Datoshi in open holds (measured on every expiry pass).")};
    Zero(f.entries, std::array<std::string_view, 8>{"deposit", "hold", "settle", "release", "expire", "withdrawal",
                                                    "withdrawal_settle", "withdrawal_return"});
    return f;
  }();
  return m;
}

const ChainCacheMetrics& ChainCache() {
  static const ChainCacheMetrics m = [] {
    Registry& r = Default();
    return ChainCacheMetrics{
        r.AddCounter("neosl_chain_cache_reads_total",
                     "Cacheable chain reads, by kind (immutable: blocks, transactions, application logs; state: "
                     "invocations and storage, kept until the next block) and result (hit, miss: asked the node, "
                     "bypass: asked without a known height).",
                     {"kind", "result"}),
        r.AddCounter("neosl_chain_cache_evictions_total", "Chain read results evicted by the cache's size bound.", {}),
        r.AddGauge("neosl_chain_cache_bytes", "Bytes of chain read results kept.", {}),
        r.AddGauge("neosl_chain_cache_entries", "Chain read results kept.", {})};
  }();
  return m;
}

const PriceFeedMetrics& PriceFeed() {
  static const PriceFeedMetrics m = [] {
    Registry& r = Default();
    return PriceFeedMetrics{
        r.AddCounter("neosl_pricefeed_rounds_total",
                     "Price rounds run, by pair and outcome (ok, degraded: no quorum, error: not stored).",
                     {"pair", "outcome"}),
        r.AddCounter("neosl_pricefeed_updates_total",
                     "Feed updates published (recorded, and enqueued for feeds with a target), by pair and trigger.",
                     {"pair", "trigger"}),
        r.AddCounter("neosl_pricefeed_venue_quotes_total",
                     "Venue quotes in rounds, by venue and status (used, failed, stale, outlier).",
                     {"venue", "status"}),
        r.AddGauge("neosl_pricefeed_staleness_seconds",
                   "Seconds since the timestamp of a followed pair's latest good price (since the service "
                   "started, for a pair without one).",
                   {"pair"}),
        r.AddGauge("neosl_pricefeed_heartbeat_seconds", "The shortest heartbeat of a pair's feeds, in seconds.",
                   {"pair"})};
  }();
  return m;
}

void AutomationMetrics::WatchEngine(const void* owner, std::function<EngineCounts()> read) const {
  // Three families read the same totals; each callback reads them afresh (cheap atomics).
  firings.AddCallback(owner, [read](Sink& s) { s.Add({}, double(read().fired)); });
  runs_finished.AddCallback(owner, [read](Sink& s) {
    const EngineCounts c = read();
    s.Add({"succeeded"}, double(c.succeeded));
    s.Add({"failed"}, double(c.failed));
  });
  retries.AddCallback(owner, [read](Sink& s) { s.Add({}, double(read().retried)); });
}

void AutomationMetrics::UnwatchEngine(const void* owner) const {
  firings.RemoveCallbacks(owner);
  runs_finished.RemoveCallbacks(owner);
  retries.RemoveCallbacks(owner);
}

const AutomationMetrics& Automation() {
  static const AutomationMetrics m = [] {
    Registry& r = Default();
    AutomationMetrics f{
        r.AddCounter("neosl_automation_firings_total", "Trigger firings recorded as runs by this process."),
        r.AddCounter("neosl_automation_runs_finished_total",
                     "Automation runs that ended, by status (succeeded, failed: retries used up or not retryable).",
                     {"status"}),
        r.AddCounter("neosl_automation_retries_total", "Action attempts after a run's first."),
        r.AddCounter("neosl_automation_actions_total",
                     "Action attempts, by action (function, contract, webhook) and outcome (succeeded, failed, "
                     "pending: a transaction sent, its end still to come).",
                     {"action", "outcome"}),
        r.AddHistogram("neosl_automation_lateness_seconds",
                       "From a firing's scheduled time to its first attempt's start (catch-up firings left out), "
                       "by trigger kind.",
                       {"trigger"}, kLatenessSeconds)};
    Zero(f.runs_finished, std::array<std::string_view, 2>{"succeeded", "failed"});
    return f;
  }();
  return m;
}

const EnclaveMetrics& Enclave() {
  static const EnclaveMetrics m = [] {
    Registry& r = Default();
    return EnclaveMetrics{
        r.AddCounter("neosl_enclave_restarts_total", "Times the enclave process was started again after it exited."),
        r.AddGauge("neosl_enclave_up", "1 while the enclave process runs, 0 while it is down or restarting."),
        r.AddCounter("neosl_enclave_ecall_errors_total",
                     "ECALLs that ended in an error, by code: UNAVAILABLE and DEADLINE_EXCEEDED are no answer (the "
                     "enclave restarting, dead or too slow); other codes are the enclave refusing the request.",
                     {"code"})};
  }();
  return m;
}

void RegisterAll() {
  (void)Functions();
  (void)Random();
  (void)Oracle();
  (void)ChainRequests();
  (void)ChainFollowers();
  (void)Outbox();
  (void)ChainCache();
  (void)GasBank();
  (void)PriceFeed();
  (void)Automation();
  (void)Enclave();
}

std::string_view OutcomeOf(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kDeadlineExceeded: return "timeout";
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kAlreadyExists:
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnauthenticated:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kResourceExhausted:
    case StatusCode::kOutOfRange: return "refused";
    default: return "error";
  }
}

std::string_view ChainServiceLabel(std::string_view service) {
  static constexpr std::array<std::string_view, 7> kServices = {"functions", "random",     "oracle", "pricefeed",
                                                                "gasbank",   "automation", "secrets"};
  for (std::string_view s : kServices) {
    if (s == service) return s;
  }
  return "other";
}

}  // namespace neosl::metrics
