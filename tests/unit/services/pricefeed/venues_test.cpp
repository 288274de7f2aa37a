#include "services/pricefeed/venues.h"

#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace neosl::pricefeed {
namespace {

namespace json = boost::json;

constexpr int64_t kFetched = 1700000001000;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// A venue's answer recorded in tests/data/pricefeed/.
std::string Recorded(std::string_view name) {
  std::ifstream in(std::string(NEOSL_SOURCE_DIR) + "/tests/data/pricefeed/" + std::string(name), std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing recording " << name;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

StatusOr<Quote> Parse(Venue v, std::string_view symbol, std::string_view body, int decimals = 8) {
  return ParseTicker(v, symbol, body, decimals, kFetched);
}

// Refused with `code`, saying `mentions`, in a message short enough for a log line.
testing::AssertionResult Refused(const StatusOr<Quote>& q, std::string_view mentions,
                                 StatusCode code = StatusCode::kInvalidArgument) {
  if (q.ok()) return testing::AssertionFailure() << "accepted, price " << q->price;
  const std::string_view message = q.status().message();
  if (q.status().code() != code) return testing::AssertionFailure() << q.status().ToString();
  if (message.find(mentions) == std::string_view::npos) {
    return testing::AssertionFailure() << "'" << message << "' does not mention '" << mentions << "'";
  }
  if (message.size() > 160) return testing::AssertionFailure() << "too long: " << message;
  return testing::AssertionSuccess();
}

// ---- Each venue's recorded answer, read to exact integers ----

TEST(ParseTicker, BinanceTicker24hr) {
  auto q = Parse(Venue::kBinance, "NEOUSDT", Recorded("binance_ticker_24hr.json"));
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->venue, "binance");
  EXPECT_EQ(q->price, 1123000000);            // 11.23000000
  EXPECT_EQ(q->volume, 41234567000000);       // 412345.67 NEO
  EXPECT_EQ(q->timestamp_ms, 1700000000123);  // closeTime
  EXPECT_EQ(q->fetched_at_ms, kFetched);
  EXPECT_EQ(q->as_of_ms(), 1700000000123);
}

TEST(ParseTicker, CoinbaseTicker) {
  auto q = Parse(Venue::kCoinbase, "NEO-USD", Recorded("coinbase_ticker.json"));
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->venue, "coinbase");
  EXPECT_EQ(q->price, 1123000000);
  EXPECT_EQ(q->volume, 9876543200000);        // 98765.432
  EXPECT_EQ(q->timestamp_ms, 1700000000123);  // 2023-11-14T22:13:20.123456Z, truncated to ms
}

TEST(ParseTicker, OkxTicker) {
  auto q = Parse(Venue::kOkx, "NEO-USDT", Recorded("okx_ticker.json"));
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->price, 1123100000);            // 11.231
  EXPECT_EQ(q->volume, 12345678910000);       // vol24h, the base volume (volCcy24h is the quote's)
  EXPECT_EQ(q->timestamp_ms, 1700000000456);  // "ts" is a string
}

TEST(ParseTicker, KrakenTicker) {
  auto q = Parse(Venue::kKraken, "NEOUSD", Recorded("kraken_ticker.json"));
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->price, 1123000000);      // c[0], the last trade
  EXPECT_EQ(q->volume, 2345678901234);  // v[1], the last 24 hours (v[0] is today)
  EXPECT_FALSE(q->timestamp_ms.has_value());
  EXPECT_EQ(q->as_of_ms(), kFetched);
}

TEST(ParseTicker, KrakenAnswersUnderItsOwnPairName) {
  // Asked for XBTUSD, Kraken answers XXBTZUSD (the example of its documentation).
  auto q = Parse(Venue::kKraken, "XBTUSD", Recorded("kraken_ticker_xbtusd.json"), 2);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->price, 3030320);  // 30303.20
  EXPECT_EQ(q->volume, 441273601799);
}

TEST(ParseTicker, CoinGeckoSimplePrice) {
  auto q = Parse(Venue::kCoinGecko, "neo/usd", Recorded("coingecko_simple_price.json"));
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->price, 1123000000);
  // usd_24h_vol is in dollars: 45678901.23 / 11.23 = 4067578.02582368 655…, half-even at 8 decimals.
  EXPECT_EQ(q->volume, 406757802582369);
  EXPECT_EQ(q->timestamp_ms, 1700000000000);  // last_updated_at is in seconds
}

TEST(ParseTicker, BybitTickers) {
  auto q = Parse(Venue::kBybit, "NEOUSDT", Recorded("bybit_tickers.json"));
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->price, 1123000000);
  EXPECT_EQ(q->volume, 9438712000000);  // volume24h (turnover24h is the quote's)
  EXPECT_EQ(q->timestamp_ms, 1700000000789);
}

TEST(ParseTicker, KuCoinMarketStats) {
  auto q = Parse(Venue::kKuCoin, "NEO-USDT", Recorded("kucoin_market_stats.json"));
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->price, 1122900000);      // last
  EXPECT_EQ(q->volume, 7654321090000);  // vol (volValue is the quote's)
  EXPECT_EQ(q->timestamp_ms, 1700000000321);
}

TEST(ParseTicker, ScalesThePriceToTheDecimalsAsked) {
  const std::string body = Recorded("binance_ticker_24hr.json");
  EXPECT_EQ(Parse(Venue::kBinance, "NEOUSDT", body, 0)->price, 11);
  EXPECT_EQ(Parse(Venue::kBinance, "NEOUSDT", body, 2)->price, 1123);
  EXPECT_EQ(Parse(Venue::kBinance, "NEOUSDT", body, 17)->price, 1123000000000000000);
  EXPECT_TRUE(Refused(Parse(Venue::kBinance, "NEOUSDT", body, 18), "lastPrice", StatusCode::kOutOfRange));
  EXPECT_TRUE(Refused(Parse(Venue::kBinance, "NEOUSDT", body, 19), "decimals"));
  EXPECT_TRUE(Refused(Parse(Venue::kBinance, "NEOUSDT", body, -1), "decimals"));
}

// ---- What every venue refuses ----

struct VenueCase {
  Venue venue;
  const char* symbol;
  const char* recording;
  const char* error_recording;
  const char* error_says;                 // the venue's own words, which the status repeats
  json::object& (*ticker)(json::value&);  // where the ticker sits in the answer
  const char* price_key;
  const char* symbol_key;  // nullptr where the venue does not echo the symbol
};

void PrintTo(const VenueCase& c, std::ostream* os) {
  *os << VenueName(c.venue);
}

const VenueCase kCases[] = {
    {Venue::kBinance, "NEOUSDT", "binance_ticker_24hr.json", "binance_error.json", "-1121: Invalid symbol.",
     [](json::value& r) -> json::object& { return r.as_object(); }, "lastPrice", "symbol"},
    {Venue::kCoinbase, "NEO-USD", "coinbase_ticker.json", "coinbase_error.json", "NotFound",
     [](json::value& r) -> json::object& { return r.as_object(); }, "price", nullptr},
    {Venue::kOkx, "NEO-USDT", "okx_ticker.json", "okx_error.json", "51001: Instrument ID does not exist",
     [](json::value& r) -> json::object& { return r.at("data").at(0).as_object(); }, "last", "instId"},
    {Venue::kKraken, "NEOUSD", "kraken_ticker.json", "kraken_error.json", "EQuery:Unknown asset pair",
     [](json::value& r) -> json::object& { return r.at("result").at("NEOUSD").as_object(); }, "c", nullptr},
    {Venue::kCoinGecko, "neo/usd", "coingecko_simple_price.json", "coingecko_error.json", "429: You've exceeded",
     [](json::value& r) -> json::object& { return r.at("neo").as_object(); }, "usd", nullptr},
    {Venue::kBybit, "NEOUSDT", "bybit_tickers.json", "bybit_error.json", "10001: Not supported symbols",
     [](json::value& r) -> json::object& { return r.at("result").at("list").at(0).as_object(); }, "lastPrice",
     "symbol"},
    {Venue::kKuCoin, "NEO-USDT", "kucoin_market_stats.json", "kucoin_error.json", "400100: Parameter Error",
     [](json::value& r) -> json::object& { return r.at("data").as_object(); }, "last", "symbol"},
};

class EveryVenue : public testing::TestWithParam<VenueCase> {
 protected:
  json::value Answer() const { return json::parse(Recorded(GetParam().recording)); }
  StatusOr<Quote> ParseAnswer(const json::value& answer, int decimals = 8) const {
    return Parse(GetParam().venue, GetParam().symbol, json::serialize(answer), decimals);
  }
  // The answer with its price replaced, written as the venue writes prices (CoinGecko: numbers).
  StatusOr<Quote> WithPrice(std::string_view text) const {
    json::value answer = Answer();
    json::object& ticker = GetParam().ticker(answer);
    json::value price = json::string(text);
    if (GetParam().venue == Venue::kCoinGecko) {
      boost::system::error_code ec;
      json::value number = json::parse(text, ec);
      if (!ec) price = number;
    }
    if (GetParam().venue == Venue::kKraken) {
      ticker["c"] = json::array{price, "2.61500000"};
    } else {
      ticker[GetParam().price_key] = price;
    }
    return ParseAnswer(answer);
  }
};

TEST_P(EveryVenue, ReadsTheRecordedAnswer) {
  auto q = ParseAnswer(Answer());
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->venue, VenueName(GetParam().venue));
  EXPECT_EQ(q->fetched_at_ms, kFetched);
  EXPECT_GT(q->price, 0);
  EXPECT_GT(q->volume, 0);
}

TEST_P(EveryVenue, NamesTheVenuesOwnError) {
  auto q = Parse(GetParam().venue, GetParam().symbol, Recorded(GetParam().error_recording));
  EXPECT_TRUE(Refused(q, GetParam().error_says));
  EXPECT_TRUE(Refused(q, VenueName(GetParam().venue)));
}

TEST_P(EveryVenue, RefusesWhatIsNotAJsonObject) {
  const std::string recorded = Recorded(GetParam().recording);
  for (std::string_view body : {std::string_view(""), std::string_view("<html><body>502 Bad Gateway</body></html>"),
                                std::string_view(recorded).substr(0, recorded.size() / 2)}) {
    EXPECT_TRUE(Refused(Parse(GetParam().venue, GetParam().symbol, body), "not JSON")) << body;
  }
  for (std::string_view body : {"null", "[]", "\"11.23\"", "11.23", "[{\"price\":\"11.23\"}]"}) {
    EXPECT_TRUE(Refused(Parse(GetParam().venue, GetParam().symbol, body), "not a JSON object")) << body;
  }
  // No fields at all: whatever is looked for first is missing.
  EXPECT_FALSE(Parse(GetParam().venue, GetParam().symbol, "{}").ok());
}

TEST_P(EveryVenue, RefusesAMissingPrice) {
  json::value answer = Answer();
  GetParam().ticker(answer).erase(GetParam().price_key);
  const auto q = ParseAnswer(answer);
  EXPECT_FALSE(q.ok());
  EXPECT_EQ(q.status().code(), StatusCode::kInvalidArgument);
}

TEST_P(EveryVenue, RefusesAPriceThatIsNotADecimal) {
  EXPECT_TRUE(Refused(WithPrice("abc"), "not a"));
  EXPECT_TRUE(Refused(WithPrice(""), "not a"));
  EXPECT_TRUE(Refused(WithPrice("0x10"), "not a"));
  EXPECT_TRUE(Refused(WithPrice("11,23"), "not a"));
}

TEST_P(EveryVenue, RefusesZeroAndNegativePrices) {
  EXPECT_TRUE(Refused(WithPrice("0"), "zero"));
  EXPECT_TRUE(Refused(WithPrice("0.000000004"), "zero"));  // rounds to 0 at 8 decimals
  EXPECT_TRUE(Refused(WithPrice("-1"), "negative"));
  EXPECT_TRUE(Refused(WithPrice("-11.23"), "negative"));
  EXPECT_TRUE(Refused(WithPrice("0.000000005"), "zero"));  // half a unit: the tie goes to the even 0
}

TEST_P(EveryVenue, RefusesAnAnswerForAnotherSymbol) {
  const VenueCase& c = GetParam();
  if (c.venue == Venue::kCoinGecko) {
    EXPECT_TRUE(Refused(Parse(c.venue, "gas/usd", Recorded(c.recording)), "no quote for 'gas'"));
    EXPECT_TRUE(Refused(Parse(c.venue, "neo/eur", Recorded(c.recording)), "no 'eur' price"));
    return;
  }
  if (c.symbol_key == nullptr) {
    // Nothing in the answer names the pair (Kraken's key is its own name for it): the path asked.
    EXPECT_TRUE(Parse(c.venue, "ETH-USD", Recorded(c.recording)).ok());
    return;
  }
  json::value answer = Answer();
  c.ticker(answer)[c.symbol_key] = "ETHUSDT";
  EXPECT_TRUE(Refused(ParseAnswer(answer), "answered for " + std::string(c.symbol_key) + " 'ETHUSDT'"));
  c.ticker(answer).erase(c.symbol_key);
  EXPECT_TRUE(Refused(ParseAnswer(answer), std::string(c.symbol_key) + " missing"));
}

INSTANTIATE_TEST_SUITE_P(Venues, EveryVenue, testing::ValuesIn(kCases),
                         [](const auto& p) { return std::string(VenueName(p.param.venue)); });

// ---- Each venue's own ways to say nothing ----

TEST(ParseTicker, OkxNeedsExactlyOneTickerAndCodeZero) {
  json::value answer = json::parse(Recorded("okx_ticker.json"));
  json::value two = answer;
  two.at("data").as_array().push_back(two.at("data").at(0));
  EXPECT_TRUE(Refused(Parse(Venue::kOkx, "NEO-USDT", json::serialize(two)), "more than one ticker"));
  json::value none = answer;
  none.at("data").as_array().clear();
  EXPECT_TRUE(Refused(Parse(Venue::kOkx, "NEO-USDT", json::serialize(none)), "no ticker in data"));
  json::value failed = answer;
  failed.at("code") = "50011";
  failed.at("msg") = "Rate limit reached. Please refer to API documentation and throttle requests accordingly.";
  const auto q = Parse(Venue::kOkx, "NEO-USDT", json::serialize(failed));
  EXPECT_TRUE(Refused(q, "okx error 50011: Rate limit reached."));
  EXPECT_EQ(q.status().message().find("accordingly"), std::string_view::npos) << "venue text is cut at 64 bytes";
}

TEST(ParseTicker, OkxTimestampMustBeMilliseconds) {
  json::value answer = json::parse(Recorded("okx_ticker.json"));
  for (const char* ts : {"abc", "-5", "", "1.7e12"}) {
    answer.at("data").at(0).at("ts") = ts;
    EXPECT_TRUE(Refused(Parse(Venue::kOkx, "NEO-USDT", json::serialize(answer)), "ts")) << ts;
  }
}

TEST(ParseTicker, BybitNeedsExactlyOneTicker) {
  json::value answer = json::parse(Recorded("bybit_tickers.json"));
  json::value none = answer;
  none.at("result").at("list").as_array().clear();
  EXPECT_TRUE(Refused(Parse(Venue::kBybit, "NEOUSDT", json::serialize(none)), "no ticker in list"));
  json::value two = answer;
  two.at("result").at("list").as_array().push_back(two.at("result").at("list").at(0));
  EXPECT_TRUE(Refused(Parse(Venue::kBybit, "NEOUSDT", json::serialize(two)), "more than one ticker"));
}

TEST(ParseTicker, KrakenRefusesMoreThanOnePairAndNone) {
  json::value answer = json::parse(Recorded("kraken_ticker.json"));
  json::value two = answer;
  two.at("result").as_object()["XXBTZUSD"] = two.at("result").at("NEOUSD");
  EXPECT_TRUE(Refused(Parse(Venue::kKraken, "NEOUSD", json::serialize(two)), "more than one pair"));
  json::value none = answer;
  none.at("result").as_object().clear();
  EXPECT_TRUE(Refused(Parse(Venue::kKraken, "NEOUSD", json::serialize(none)), "no pair in result"));
  // An error wins over a result beside it.
  json::value failed = answer;
  failed.at("error").as_array().push_back("EService:Unavailable");
  EXPECT_TRUE(Refused(Parse(Venue::kKraken, "NEOUSD", json::serialize(failed)), "EService:Unavailable"));
}

TEST(ParseTicker, KuCoinUnlistedSymbolHasNoPrice) {
  EXPECT_TRUE(Refused(Parse(Venue::kKuCoin, "FOO-USDT", Recorded("kucoin_unknown_symbol.json")), "last missing"));
  EXPECT_TRUE(Refused(Parse(Venue::kKuCoin, "NEO-USDT", R"({"code":"200000","data":null})"), "no ticker"));
}

TEST(ParseTicker, CoinGeckoEdges) {
  EXPECT_TRUE(
      Refused(Parse(Venue::kCoinGecko, "neo/usd", Recorded("coingecko_unknown_coin.json")), "no quote for 'neo'"));
  EXPECT_TRUE(
      Refused(Parse(Venue::kCoinGecko, "neousd", Recorded("coingecko_simple_price.json")), "<coin id>/<vs currency>"));
  // The 429's long text is cut: at most 64 bytes of it.
  const auto limited = Parse(Venue::kCoinGecko, "neo/usd", Recorded("coingecko_error.json"));
  EXPECT_TRUE(Refused(limited, "coingecko error 429: You've exceeded the Rate Limit."));
  EXPECT_EQ(limited.status().message().find("subscribe"), std::string_view::npos);
  EXPECT_TRUE(Refused(Parse(Venue::kCoinGecko, "neo/usd", R"({"error":"coin not found"})"), "coin not found"));

  // Integers, exponents, no volume, and a dollar volume too big for 8 decimals of dollars.
  auto q = Parse(Venue::kCoinGecko, "neo/usd", R"({"neo":{"usd":11}})");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->price, 1100000000);
  EXPECT_EQ(q->volume, 0);
  EXPECT_FALSE(q->timestamp_ms.has_value());
  q = Parse(Venue::kCoinGecko, "shib/usd", R"({"shib":{"usd":1.5e-07,"usd_24h_vol":3.0e8}})", 12);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->price, 150000);
  EXPECT_EQ(q->volume, kMax) << "2 × 10^15 SHIB is past int64 at 8 decimals: capped";
  q = Parse(Venue::kCoinGecko, "tether/usd", R"({"tether":{"usd":1.0001,"usd_24h_vol":45678901234.5}})");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->volume, 4567433380111988801) << "45678901234.5 / 1.0001, half-even at 8 decimals";

  for (const char* bad :
       {R"({"neo":{"usd":11.23,"usd_24h_vol":-5}})", R"({"neo":{"usd":11.23,"usd_24h_vol":"5"}})",
        R"({"neo":{"usd":11.23,"last_updated_at":1.7e9}})", R"({"neo":{"usd":"11.23"}})", R"({"neo":[11.23]})"}) {
    EXPECT_FALSE(Parse(Venue::kCoinGecko, "neo/usd", bad).ok()) << bad;
  }
}

TEST(ParseTicker, CoinbaseTimeIsRfc3339) {
  json::value answer = json::parse(Recorded("coinbase_ticker.json"));
  const std::pair<const char*, int64_t> good[] = {
      {"2023-11-14T22:13:20Z", 1700000000000},
      {"2023-11-15T00:13:20.5+02:00", 1700000000500},
      {"2023-11-14T19:43:20.999999999-02:30", 1700000000999},
      {"2024-02-29T00:00:00z", 1709164800000},
      {"1970-01-01T00:00:00.001Z", 1},
  };
  for (const auto& [text, ms] : good) {
    answer.at("time") = text;
    auto q = Parse(Venue::kCoinbase, "NEO-USD", json::serialize(answer));
    ASSERT_TRUE(q.ok()) << text << ": " << q.status().ToString();
    EXPECT_EQ(q->timestamp_ms, ms) << text;
  }
  for (const char* bad : {"yesterday", "2023-11-14", "2023-11-14T22:13:20", "2023-02-29T00:00:00Z",
                          "2023-13-01T00:00:00Z", "2023-11-14T24:00:00Z", "2023-11-14T22:13:20.Z",
                          "2023-11-14T22:13:20Z ", "2023-11-14 22:13:20Z", "2023-11-14T22:13:20+0200"}) {
    answer.at("time") = bad;
    EXPECT_TRUE(Refused(Parse(Venue::kCoinbase, "NEO-USD", json::serialize(answer)), "RFC 3339")) << bad;
  }
}

TEST(ParseTicker, VolumeIsOptionalButNotMalformed) {
  json::value answer = json::parse(Recorded("binance_ticker_24hr.json"));
  answer.as_object().erase("volume");
  answer.as_object().erase("closeTime");
  auto q = Parse(Venue::kBinance, "NEOUSDT", json::serialize(answer));
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->volume, 0);
  EXPECT_EQ(q->as_of_ms(), kFetched);
  answer.as_object()["volume"] = "123456789012.123456789";  // past int64 at 8 decimals: capped
  EXPECT_EQ(Parse(Venue::kBinance, "NEOUSDT", json::serialize(answer))->volume, kMax);
  answer.at("volume") = "lots";
  EXPECT_TRUE(Refused(Parse(Venue::kBinance, "NEOUSDT", json::serialize(answer)), "volume is not a decimal"));
  answer.at("volume") = 412345.67;
  EXPECT_TRUE(Refused(Parse(Venue::kBinance, "NEOUSDT", json::serialize(answer)), "volume is not a string"));
  answer.at("volume") = "1";
  answer.at("lastPrice") = 11.23;
  EXPECT_TRUE(Refused(Parse(Venue::kBinance, "NEOUSDT", json::serialize(answer)), "lastPrice is not a string"));
}

// ---- Symbols, paths and names ----

TEST(TickerPath, IsEachVenuesPublicTickerEndpoint) {
  const std::pair<Venue, std::pair<const char*, const char*>> cases[] = {
      {Venue::kBinance, {"NEOUSDT", "/api/v3/ticker/24hr?symbol=NEOUSDT"}},
      {Venue::kCoinbase, {"NEO-USD", "/products/NEO-USD/ticker"}},
      {Venue::kOkx, {"NEO-USDT", "/api/v5/market/ticker?instId=NEO-USDT"}},
      {Venue::kKraken, {"NEOUSD", "/0/public/Ticker?pair=NEOUSD"}},
      {Venue::kCoinGecko,
       {"neo/usd",
        "/api/v3/simple/price?ids=neo&vs_currencies=usd&include_24hr_vol=true&include_last_updated_at=true"}},
      {Venue::kBybit, {"NEOUSDT", "/v5/market/tickers?category=spot&symbol=NEOUSDT"}},
      {Venue::kKuCoin, {"NEO-USDT", "/api/v1/market/stats?symbol=NEO-USDT"}},
  };
  for (const auto& [venue, sp] : cases) {
    auto path = TickerPath(venue, sp.first);
    ASSERT_TRUE(path.ok()) << VenueName(venue) << ": " << path.status().ToString();
    EXPECT_EQ(*path, sp.second);
  }
  EXPECT_EQ(*TickerPath(Venue::kCoinGecko, "usd-coin/eur"),
            "/api/v3/simple/price?ids=usd-coin&vs_currencies=eur&include_24hr_vol=true&include_last_updated_at=true");
}

TEST(TickerPath, RefusesSymbolsTheVenueCannotCarry) {
  for (Venue v : kAllVenues) {
    for (const char* bad : {"", "NEO USDT", "NEO&symbol=BTCUSDT", "NEO%2F", "NEO/../x", "ne\xC3\xB6", "NEO\n"}) {
      const auto path = TickerPath(v, bad);
      EXPECT_EQ(path.status().code(), StatusCode::kInvalidArgument) << VenueName(v) << " '" << bad << "'";
    }
    EXPECT_FALSE(TickerPath(v, std::string(65, 'A')).ok()) << VenueName(v);
  }
  EXPECT_FALSE(TickerPath(Venue::kBinance, "NEO-USDT").ok());
  EXPECT_FALSE(TickerPath(Venue::kBinance, "neousdt").ok());
  EXPECT_FALSE(TickerPath(Venue::kOkx, "-NEO").ok());
  EXPECT_FALSE(TickerPath(Venue::kKuCoin, "NEO-").ok());
  EXPECT_FALSE(TickerPath(Venue::kCoinGecko, "NEO/USD").ok());
  EXPECT_FALSE(TickerPath(Venue::kCoinGecko, "neo").ok());
  EXPECT_FALSE(TickerPath(Venue::kCoinGecko, "neo/usd/x").ok());
  EXPECT_FALSE(TickerPath(Venue::kCoinGecko, "/usd").ok());
}

TEST(DefaultSymbol, FollowsEachVenuesConventions) {
  EXPECT_EQ(DefaultSymbol(Venue::kBinance, "NEO", "USD"), "NEOUSDT");
  EXPECT_EQ(DefaultSymbol(Venue::kCoinbase, "NEO", "USD"), "NEO-USD");
  EXPECT_EQ(DefaultSymbol(Venue::kOkx, "NEO", "USD"), "NEO-USDT");
  EXPECT_EQ(DefaultSymbol(Venue::kKraken, "NEO", "USD"), "NEOUSD");
  EXPECT_EQ(DefaultSymbol(Venue::kCoinGecko, "NEO", "USD"), "neo/usd");
  EXPECT_EQ(DefaultSymbol(Venue::kBybit, "NEO", "USD"), "NEOUSDT");
  EXPECT_EQ(DefaultSymbol(Venue::kKuCoin, "NEO", "USD"), "NEO-USDT");

  EXPECT_EQ(DefaultSymbol(Venue::kKraken, "BTC", "USD"), "XBTUSD");
  EXPECT_EQ(DefaultSymbol(Venue::kKraken, "NEO", "BTC"), "NEOXBT");
  EXPECT_EQ(DefaultSymbol(Venue::kBinance, "NEO", "BTC"), "NEOBTC");
  EXPECT_EQ(DefaultSymbol(Venue::kOkx, "GAS", "EUR"), "GAS-EUR");
  EXPECT_EQ(DefaultSymbol(Venue::kBinance, "neo", "usd"), "NEOUSDT");
  EXPECT_EQ(DefaultSymbol(Venue::kCoinGecko, "GAS", "USD"), "gas/usd");
  EXPECT_EQ(DefaultSymbol(Venue::kCoinGecko, "BTC", "EUR"), "bitcoin/eur");
  EXPECT_EQ(DefaultSymbol(Venue::kCoinGecko, "ETH", "USD"), "ethereum/usd");
  EXPECT_EQ(DefaultSymbol(Venue::kCoinGecko, "FLM", "USD"), "flm/usd");
  // Every default is a symbol its venue's path takes.
  for (Venue v : kAllVenues) EXPECT_TRUE(TickerPath(v, DefaultSymbol(v, "NEO", "USD")).ok()) << VenueName(v);
}

TEST(VenueName, RoundTripsAndHasABaseUrl) {
  for (Venue v : kAllVenues) {
    EXPECT_EQ(ParseVenue(VenueName(v)), v);
    EXPECT_EQ(DefaultBaseUrl(v).substr(0, 8), "https://") << VenueName(v);
  }
  EXPECT_EQ(ParseVenue("Binance"), std::nullopt);
  EXPECT_EQ(ParseVenue(""), std::nullopt);
  EXPECT_EQ(ParseVenue("ftx"), std::nullopt);
  EXPECT_EQ(DefaultBaseUrl(Venue::kBinance), "https://api.binance.com");
  EXPECT_EQ(DefaultBaseUrl(Venue::kCoinbase), "https://api.exchange.coinbase.com");
  EXPECT_EQ(DefaultBaseUrl(Venue::kOkx), "https://www.okx.com");
  EXPECT_EQ(DefaultBaseUrl(Venue::kKraken), "https://api.kraken.com");
  EXPECT_EQ(DefaultBaseUrl(Venue::kCoinGecko), "https://api.coingecko.com");
  EXPECT_EQ(DefaultBaseUrl(Venue::kBybit), "https://api.bybit.com");
  EXPECT_EQ(DefaultBaseUrl(Venue::kKuCoin), "https://api.kucoin.com");
}

}  // namespace
}  // namespace neosl::pricefeed
