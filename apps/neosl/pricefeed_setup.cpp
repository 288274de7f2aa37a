#include "apps/neosl/pricefeed_setup.h"

#include <map>
#include <string>
#include <vector>

#include "services/pricefeed/observe.h"
#include "services/pricefeed/venues.h"

namespace neosl::app {
namespace {

constexpr int64_t kMaxUpdateFee = int64_t{100} * 100'000'000;  // datoshi: 100 GAS

std::string Trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t"));
  s.erase(s.find_last_not_of(" \t") + 1);
  return s;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  for (size_t start = 0; start <= text.size();) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item = Trim(text.substr(start, comma - start));
    if (!item.empty()) out.push_back(std::move(item));
    start = comma + 1;
  }
  return out;
}

StatusOr<int64_t> IntIn(const Config& config, const std::string& key, int64_t lo, int64_t hi) {
  const int64_t v = config.Int(key);
  if (v < lo || v > hi) {
    return InvalidArgumentError(key + " must be " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  return v;
}

}  // namespace

StatusOr<services::PriceFeedOptions> PriceFeedOptionsFromConfig(const Config& config) {
  services::PriceFeedOptions o;
  ASSIGN_OR_RETURN(int64_t poll, IntIn(config, "pricefeed.poll_interval_ms", 50, 3'600'000));
  ASSIGN_OR_RETURN(int64_t timeout, IntIn(config, "pricefeed.timeout_ms", 100, 30'000));
  ASSIGN_OR_RETURN(int64_t quorum, IntIn(config, "pricefeed.quorum", 1, int64_t(pricefeed::kMaxSources)));
  ASSIGN_OR_RETURN(o.max_age_ms, IntIn(config, "pricefeed.max_age_ms", 1000, 86'400'000));
  ASSIGN_OR_RETURN(o.mad_k_milli, IntIn(config, "pricefeed.mad_k_milli", 1, 1'000'000));
  ASSIGN_OR_RETURN(o.outlier_floor_bps, IntIn(config, "pricefeed.outlier_floor_bps", 0, 10'000));
  ASSIGN_OR_RETURN(int64_t threads, IntIn(config, "pricefeed.threads", 1, 256));
  ASSIGN_OR_RETURN(int64_t max_feeds, IntIn(config, "pricefeed.max_feeds_per_account", 1, 1'000'000));
  ASSIGN_OR_RETURN(int64_t deviation, IntIn(config, "pricefeed.default_deviation_bps", 1, 10'000));
  ASSIGN_OR_RETURN(int64_t heartbeat, IntIn(config, "pricefeed.default_heartbeat_s", 1, int64_t{7} * 24 * 3600));
  ASSIGN_OR_RETURN(int64_t ttl, IntIn(config, "pricefeed.watch_ttl_s", 1, int64_t{7} * 24 * 3600));
  ASSIGN_OR_RETURN(int64_t valid_for, IntIn(config, "pricefeed.valid_for_blocks", 0, 5760));
  o.poll_interval = std::chrono::milliseconds(poll);
  o.timeout = std::chrono::milliseconds(timeout);
  o.quorum = uint32_t(quorum);
  o.volume_weighted = config.Bool("pricefeed.volume_weighted");
  o.threads = size_t(threads);
  o.max_feeds_per_account = size_t(max_feeds);
  o.default_deviation_bps = uint32_t(deviation);
  o.default_heartbeat_s = uint32_t(heartbeat);
  o.watch_ttl = std::chrono::seconds(ttl);
  o.valid_for_blocks = uint32_t(valid_for);
  // The cap of an update transaction's fees, which the feed's account pays (gas bank on).
  ASSIGN_OR_RETURN(o.max_update_fee, IntIn(config, "pricefeed.max_update_fee", 1, kMaxUpdateFee));
  const bool allow_http = config.Bool("pricefeed.allow_http");

  // The enabled venues and their base URLs.
  std::map<std::string, std::string> base_urls;
  for (const std::string& name : config.Children("pricefeed.venues")) {
    const std::string key = "pricefeed.venues." + name;
    if (!pricefeed::ParseVenue(name)) {
      return InvalidArgumentError(key + ": no such venue (binance, coinbase, okx, kraken, coingecko, bybit, kucoin)");
    }
    if (!config.Bool(key + ".enabled")) continue;
    std::string url = config.String(key + ".base_url");
    while (!url.empty() && url.back() == '/') url.pop_back();
    const bool https = url.rfind("https://", 0) == 0;
    const bool http = url.rfind("http://", 0) == 0;
    if (!https && !(http && allow_http)) {
      return InvalidArgumentError(key + ".base_url must be an https:// URL" +
                                  (http ? " (http:// needs pricefeed.allow_http)" : ""));
    }
    base_urls[name] = url;
  }

  for (const std::string& name : config.Children("pricefeed.pairs")) {
    const std::string key = "pricefeed.pairs." + name;
    if (config.Has(key + ".enabled") && !config.Bool(key + ".enabled")) continue;
    const size_t sep = name.find('_');
    const std::string pair = sep == std::string::npos ? name : name.substr(0, sep) + "/" + name.substr(sep + 1);
    if (!pricefeed::IsPairName(pair)) {
      return InvalidArgumentError(key + ": a pair is named BASE_QUOTE, e.g. NEO_USD");
    }
    services::PairConfig p;
    p.pair = pair;
    ASSIGN_OR_RETURN(int64_t decimals, IntIn(config, key + ".decimals", 0, pricefeed::kMaxDecimals));
    p.decimals = int(decimals);
    std::map<std::string, std::string> symbols;
    for (const std::string& item : SplitList(config.String(key + ".symbols"))) {
      const size_t eq = item.find('=');
      if (eq == std::string::npos || !base_urls.count(Trim(item.substr(0, eq)))) {
        return InvalidArgumentError(key + ".symbols: write venue=SYMBOL for enabled venues, comma-separated");
      }
      symbols[Trim(item.substr(0, eq))] = Trim(item.substr(eq + 1));
    }
    std::vector<std::string> venues = SplitList(config.String(key + ".venues"));
    if (venues.empty()) {
      for (const auto& [v, url] : base_urls) venues.push_back(v);
    }
    const std::string base = pair.substr(0, pair.find('/'));
    const std::string quote = pair.substr(pair.find('/') + 1);
    for (const std::string& v : venues) {
      auto venue = pricefeed::ParseVenue(v);
      if (!venue || !base_urls.count(v)) {
        return InvalidArgumentError(key + ".venues: '" + v + "' is not an enabled venue");
      }
      const std::string symbol = symbols.count(v) ? symbols[v] : pricefeed::DefaultSymbol(*venue, base, quote);
      auto path = pricefeed::TickerPath(*venue, symbol);
      if (!path.ok()) return path.status().Annotate(key + ".symbols (" + v + ")");
      tee::v1::PriceSource s;
      s.set_venue(v);
      s.set_symbol(symbol);
      s.set_url(base_urls[v] + *path);
      p.sources.push_back(std::move(s));
    }
    if (p.sources.size() < o.quorum) {
      return InvalidArgumentError(key + " has " + std::to_string(p.sources.size()) +
                                  " venues, fewer than pricefeed.quorum (" + std::to_string(o.quorum) + ")");
    }
    if (p.sources.size() > pricefeed::kMaxSources) {
      return InvalidArgumentError(key + " has more than " + std::to_string(pricefeed::kMaxSources) + " venues");
    }
    o.pairs.push_back(std::move(p));
  }
  return o;
}

StatusOr<std::unique_ptr<services::PriceFeedService>> MakePriceFeedService(const Config& config,
                                                                           mesh::Pipeline& pipeline,
                                                                           RunningEnclave& enclave, store::Store& store,
                                                                           const Clock& clock, RandomSource& random,
                                                                           gasbank::GasCharger charger) {
  ASSIGN_OR_RETURN(services::PriceFeedOptions options, PriceFeedOptionsFromConfig(config));
  ASSIGN_OR_RETURN(crypto::PublicKey report, enclave.ReportKey());
  // Venues are fetched at once: a round takes one timeout at most, plus the way there.
  const auto call_timeout = options.timeout + std::chrono::milliseconds(10'000);
  services::PriceEnclave calls;
  calls.observe = [&enclave, report, call_timeout](const tee::v1::PriceObserveRequest& request) {
    return enclave.PriceObserve(request, report, call_timeout);
  };
  return std::make_unique<services::PriceFeedService>(pipeline, store, std::move(calls), clock, random,
                                                      std::move(report), std::move(options), charger);
}

}  // namespace neosl::app
