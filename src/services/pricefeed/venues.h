// The price feed's source adapters: the public ticker APIs of real venues, with their real
// response formats (recorded samples in tests/data/pricefeed/). Each adapter knows the venue's
// ticker path for a symbol and reads a quote out of the venue's answer; base URLs come from
// configuration (pricefeed.venues.<name>.base_url) so that tests point them at local servers.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "services/pricefeed/quote.h"

namespace neosl::pricefeed {

enum class Venue { kBinance, kCoinbase, kOkx, kKraken, kCoinGecko, kBybit, kKuCoin };
inline constexpr std::array kAllVenues = {Venue::kBinance,   Venue::kCoinbase, Venue::kOkx,   Venue::kKraken,
                                          Venue::kCoinGecko, Venue::kBybit,    Venue::kKuCoin};

std::string_view VenueName(Venue v);  // "binance", "coinbase", "okx", "kraken", "coingecko", "bybit", "kucoin"
std::optional<Venue> ParseVenue(std::string_view name);  // the inverse
std::string_view DefaultBaseUrl(Venue v);                // "https://api.binance.com", …

// The venue's symbol for a pair by its own conventions, e.g. for NEO/USD: Binance "NEOUSDT",
// Coinbase "NEO-USD", OKX "NEO-USDT", Kraken "NEOUSD" (BTC is "XBT"), CoinGecko "neo/usd" (the
// coin id and the vs-currency), Bybit "NEOUSDT", KuCoin "NEO-USDT". Venues that list USD
// against stablecoins map USD to USDT. Operators override any of these in configuration.
std::string DefaultSymbol(Venue v, std::string_view base, std::string_view quote);

// Path and query of the venue's public ticker endpoint for `symbol`, to append to its base URL,
// e.g. Binance "/api/v3/ticker/24hr?symbol=NEOUSDT". The symbol is percent-encoded where needed.
// INVALID_ARGUMENT for a symbol the venue's format cannot carry (empty, bad characters).
StatusOr<std::string> TickerPath(Venue v, std::string_view symbol);

// Reads the quote for `symbol` out of the venue's answer (HTTP 200 body), the price at
// `decimals` (decimal.h ParseDecimal, exact), the 24 h base volume at kVolumeDecimals, the
// venue's timestamp where it gives one; fetched_at_ms is copied into the quote.
// INVALID_ARGUMENT naming what is wrong (not JSON, the venue's own error object, the symbol
// missing or another symbol answered, a price that is absent, not a decimal, zero or negative)
// without quoting the body at length.
StatusOr<Quote> ParseTicker(Venue v, std::string_view symbol, std::string_view body, int decimals,
                            int64_t fetched_at_ms);

}  // namespace neosl::pricefeed
