#include "services/pricefeed/observe.h"

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "services/pricefeed/aggregate.h"
#include "services/pricefeed/price_record.h"
#include "services/pricefeed/quote.h"
#include "services/pricefeed/venues.h"

namespace neosl::pricefeed {
namespace {

constexpr std::chrono::milliseconds kDefaultTimeout{5000};
constexpr size_t kMaxBodyBytes = 256u << 10;  // a ticker is a few KiB; CoinGecko's list pages are not asked for

bool IsSymbolPart(std::string_view s) {
  if (s.empty() || s.size() > 10) return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

std::string BodyText(const std::vector<uint8_t>& body) {
  return std::string(body.begin(), body.end());
}

// One venue's answer: a quote, or why there is none.
SourceOutcome FetchSource(const net::Fetcher& fetcher, const tee::v1::PriceSource& source, Venue venue, int decimals,
                          std::chrono::milliseconds timeout, const Clock& clock) {
  SourceOutcome out;
  out.venue = source.venue();
  out.status = SourceStatus::kFailed;
  net::FetchRequest req;
  req.url = source.url();
  req.timeout = timeout;
  req.headers.emplace_back("Accept", "application/json");
  auto response = fetcher.Fetch(req);
  if (!response.ok()) {
    out.reason =
        std::string(StatusCodeName(response.status().code())) + ": " + std::string(response.status().message());
    return out;
  }
  if (response->status != 200) {
    out.reason = "HTTP " + std::to_string(response->status);
    // Venues explain refusals in their JSON; the adapter names the venue's error if it can.
    auto venue_error = ParseTicker(venue, source.symbol(), BodyText(response->body), decimals, 0);
    if (!venue_error.ok()) out.reason += " (" + std::string(venue_error.status().message()) + ")";
    return out;
  }
  const int64_t fetched_at = clock.NowUnixMillis();
  auto quote = ParseTicker(venue, source.symbol(), BodyText(response->body), decimals, fetched_at);
  if (!quote.ok()) {
    out.reason = std::string(quote.status().message());
    return out;
  }
  out.status = SourceStatus::kUsed;
  out.quote = std::move(*quote);
  return out;
}

}  // namespace

net::FetcherOptions PriceFetcherOptions(net::FetcherOptions base) {
  base.max_redirects = 0;  // a venue's ticker does not move; a redirect is refused, not followed
  base.max_response_bytes = kMaxBodyBytes;
  base.default_timeout = kDefaultTimeout;
  base.user_agent = "neosl-pricefeed";
  return base;
}

bool IsPairName(std::string_view pair) {
  const size_t slash = pair.find('/');
  return slash != std::string_view::npos && IsSymbolPart(pair.substr(0, slash)) && IsSymbolPart(pair.substr(slash + 1));
}

StatusOr<tee::v1::PriceObserveResponse> Observe(const tee::v1::PriceObserveRequest& request,
                                                const ObserveEnvironment& env) {
  if (env.fetcher == nullptr || env.report_key == nullptr || env.clock == nullptr) {
    return FailedPreconditionError("the price round has no fetcher, key or clock");
  }
  if (!IsPairName(request.pair())) {
    return InvalidArgumentError("pair must be BASE/QUOTE of A-Z and 0-9, 1 to 10 characters each");
  }
  if (request.decimals() > uint32_t(kMaxDecimals)) {
    return InvalidArgumentError("decimals must be at most " + std::to_string(kMaxDecimals));
  }
  const size_t n = size_t(request.sources_size());
  if (n == 0 || n > kMaxSources) {
    return InvalidArgumentError("a round needs 1 to " + std::to_string(kMaxSources) + " sources");
  }
  if (request.quorum() == 0 || request.quorum() > n) {
    return InvalidArgumentError("quorum must be between 1 and the number of sources");
  }
  std::vector<Venue> venues;
  venues.reserve(n);
  for (const auto& s : request.sources()) {
    auto v = ParseVenue(s.venue());
    if (!v) return InvalidArgumentError("unknown venue '" + s.venue().substr(0, 32) + "'");
    venues.push_back(*v);
  }
  const auto timeout = request.timeout_ms() > 0 ? std::chrono::milliseconds(request.timeout_ms()) : kDefaultTimeout;
  const int decimals = int(request.decimals());

  std::vector<SourceOutcome> fetched(n);
  {
    std::vector<std::thread> threads;
    threads.reserve(n - 1);
    for (size_t i = 1; i < n; ++i) {
      threads.emplace_back([&, i] {
        fetched[i] = FetchSource(*env.fetcher, request.sources(int(i)), venues[i], decimals, timeout, *env.clock);
      });
    }
    fetched[0] = FetchSource(*env.fetcher, request.sources(0), venues[0], decimals, timeout, *env.clock);
    for (auto& t : threads) t.join();
  }

  AggregateOptions options;
  options.max_age_ms = request.max_age_ms() > 0 ? request.max_age_ms() : options.max_age_ms;
  options.max_future_ms = request.max_future_ms() > 0 ? request.max_future_ms() : options.max_future_ms;
  options.quorum = int(request.quorum());
  options.mad_k_milli = request.mad_k_milli() > 0 ? request.mad_k_milli() : options.mad_k_milli;
  options.outlier_floor_bps = request.outlier_floor_bps() >= 0 ? request.outlier_floor_bps() : 0;
  options.volume_weighted = request.volume_weighted();
  options.decimals = decimals;
  const int64_t now = env.clock->NowUnixMillis();
  Aggregate agg = AggregateQuotes(std::move(fetched), now, options);

  tee::v1::PriceObserveResponse out;
  out.set_timestamp_ms(now);
  PriceRecord record{request.pair(), 0, int64_t(decimals), now, int64_t(request.round()), {}};
  for (const SourceOutcome& s : agg.sources) {
    auto* o = out.add_sources();
    o->set_venue(s.venue);
    o->set_status(std::string(SourceStatusName(s.status)));
    o->set_reason(s.reason);
    if (s.quote) {
      o->set_has_quote(true);
      o->set_price(s.quote->price);
      o->set_volume(s.quote->volume);
      o->set_timestamp_ms(s.quote->as_of_ms());
    }
    if (s.status == SourceStatus::kUsed) record.venues.push_back(s.venue);
  }
  if (!agg.ok) {
    out.set_reason(agg.reason);
    return out;
  }
  out.set_ok(true);
  out.set_price(agg.price);
  record.price = agg.price;
  const std::vector<uint8_t> report = ReportRecord(record);
  const std::vector<uint8_t> chain = ChainRecord(record);
  const crypto::Signature report_sig = env.report_key->Sign(report);
  const crypto::Signature chain_sig = env.report_key->Sign(chain);
  out.set_record(report.data(), report.size());
  out.set_signature(report_sig.data(), report_sig.size());
  out.set_chain_record(chain.data(), chain.size());
  out.set_chain_signature(chain_sig.data(), chain_sig.size());
  return out;
}

}  // namespace neosl::pricefeed
