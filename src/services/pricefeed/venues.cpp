#include "services/pricefeed/venues.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include <boost/json.hpp>

#include "core/encoding.h"
#include "services/pricefeed/decimal.h"

namespace neosl::pricefeed {
namespace {

namespace json = boost::json;

__extension__ typedef __int128 i128;  // -Wpedantic: a GCC extension, on purpose

constexpr size_t kMaxExcerpt = 64;  // venue text quoted in an error, at most
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// By Venue, in the enum's order.
struct VenueInfo {
  std::string_view name;
  std::string_view base_url;
};
constexpr VenueInfo kVenueInfo[] = {
    {"binance", "https://api.binance.com"},
    {"coinbase", "https://api.exchange.coinbase.com"},
    {"okx", "https://www.okx.com"},
    {"kraken", "https://api.kraken.com"},
    {"coingecko", "https://api.coingecko.com"},
    {"bybit", "https://api.bybit.com"},
    {"kucoin", "https://api.kucoin.com"},
};
static_assert(std::size(kVenueInfo) == kAllVenues.size() && size_t(Venue::kKuCoin) == 6);

std::string_view View(const json::string& s) {
  return {s.data(), s.size()};
}

// At most kMaxExcerpt bytes of venue text, cut on a UTF-8 boundary, control characters masked.
std::string Excerpt(std::string_view s) {
  size_t n = std::min(s.size(), kMaxExcerpt);
  while (n < s.size() && n > 0 && (uint8_t(s[n]) & 0xC0) == 0x80) --n;
  std::string out(s.substr(0, n));
  for (char& c : out) {
    if (uint8_t(c) < 0x20 || c == 0x7F) c = '?';
  }
  if (n < s.size()) out += "...";
  return out;
}

Status Malformed(Venue v, std::string_view what) {
  return InvalidArgumentError(std::string(VenueName(v)) + ": " + std::string(what));
}

// A scalar of the venue's error object (code or message) as short text.
std::string ScalarText(const json::value* value) {
  if (value == nullptr) return "";
  if (const auto* s = value->if_string()) return Excerpt(View(*s));
  if (value->is_int64()) return std::to_string(value->get_int64());
  if (value->is_uint64()) return std::to_string(value->get_uint64());
  return "";
}

Status VenueError(Venue v, const json::value* code, const json::value* message) {
  std::string text = std::string(VenueName(v)) + " error";
  if (const std::string c = ScalarText(code); !c.empty()) text += " " + c;
  if (const std::string m = ScalarText(message); !m.empty()) text += ": " + m;
  return InvalidArgumentError(std::move(text));
}

// The venue echoes the symbol it answered for; another one than asked for is refused.
Status CheckSymbol(Venue v, const json::object& o, std::string_view key, std::string_view asked) {
  const json::value* field = o.if_contains(key);
  if (field == nullptr || !field->is_string()) return Malformed(v, std::string(key) + " missing from the answer");
  const std::string_view answered = View(field->get_string());
  if (answered != asked) {
    return Malformed(
        v, "answered for " + std::string(key) + " '" + Excerpt(answered) + "', asked for '" + Excerpt(asked) + "'");
  }
  return Status::Ok();
}

// A price in decimal text: exact at `decimals`, and more than zero.
StatusOr<int64_t> PriceFromText(Venue v, std::string_view name, std::string_view text, int decimals) {
  if (!text.empty() && text[0] == '-') return Malformed(v, std::string(name) + " is negative");
  auto price = ParseDecimal(text, decimals);
  if (!price.ok()) {
    if (price.status().code() == StatusCode::kOutOfRange) {
      return OutOfRangeError(std::string(VenueName(v)) + ": " + std::string(name) + " " + Excerpt(text) +
                             " does not fit in int64 at " + std::to_string(decimals) + " decimals");
    }
    return Malformed(v, std::string(name) + " is not a decimal ('" + Excerpt(text) + "')");
  }
  if (*price == 0) return Malformed(v, std::string(name) + " is zero at " + std::to_string(decimals) + " decimals");
  return price;
}

StatusOr<int64_t> ReadPrice(Venue v, const json::value* field, std::string_view name, int decimals) {
  if (field == nullptr || field->is_null()) return Malformed(v, std::string(name) + " missing from the answer");
  if (!field->is_string()) return Malformed(v, std::string(name) + " is not a string");
  return PriceFromText(v, name, View(field->get_string()), decimals);
}

// A 24 h base volume in decimal text at kVolumeDecimals. A volume too large for int64 (meme coins
// trade 10^13 a day) is capped: it still outweighs every other venue, which is what it means.
StatusOr<int64_t> VolumeFromText(Venue v, std::string_view name, std::string_view text) {
  auto volume = ParseDecimal(text, kVolumeDecimals);
  if (volume.ok()) return volume;
  if (volume.status().code() == StatusCode::kOutOfRange) return kInt64Max;
  return Malformed(v, std::string(name) + " is not a decimal ('" + Excerpt(text) + "')");
}

// Absent or null is an unknown volume (0).
StatusOr<int64_t> ReadVolume(Venue v, const json::value* field, std::string_view name) {
  if (field == nullptr || field->is_null()) return int64_t{0};
  if (!field->is_string()) return Malformed(v, std::string(name) + " is not a string");
  return VolumeFromText(v, name, View(field->get_string()));
}

// Unix milliseconds, written as a JSON integer or as a string of digits; absent is none.
StatusOr<std::optional<int64_t>> ReadMillis(Venue v, const json::object& o, std::string_view key) {
  const json::value* field = o.if_contains(key);
  if (field == nullptr || field->is_null()) return std::optional<int64_t>();
  int64_t ms = field->is_int64() ? field->get_int64() : 0;
  if (const auto* s = field->if_string()) {
    const auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), ms);
    if (ec != std::errc() || end != s->data() + s->size()) ms = 0;
  }
  if (ms <= 0) return Malformed(v, std::string(key) + " is not a time in milliseconds");
  return std::optional<int64_t>(ms);
}

// Where a venue's ticker object keeps what a quote needs; an empty key is not given there.
struct TickerKeys {
  std::string_view symbol, price, volume, time;
};

StatusOr<Quote> ReadTicker(Venue v, const json::object& t, const TickerKeys& keys, std::string_view symbol,
                           int decimals) {
  if (!keys.symbol.empty()) RETURN_IF_ERROR(CheckSymbol(v, t, keys.symbol, symbol));
  Quote q;
  ASSIGN_OR_RETURN(q.price, ReadPrice(v, t.if_contains(keys.price), keys.price, decimals));
  ASSIGN_OR_RETURN(q.volume, ReadVolume(v, t.if_contains(keys.volume), keys.volume));
  if (!keys.time.empty()) {
    ASSIGN_OR_RETURN(q.timestamp_ms, ReadMillis(v, t, keys.time));
  }
  return q;
}

// JSON numbers as exact decimal text: integers as written, doubles as their shortest round trip.
std::optional<std::string> NumberText(const json::value& v) {
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  if (v.is_double() && std::isfinite(v.get_double())) return ShortestDecimal(v.get_double());
  return std::nullopt;
}

// `text` at the most decimals in [0, 18] that still fit in int64, and that scale.
std::optional<std::pair<int64_t, int>> Finest(std::string_view text) {
  for (int scale = kMaxDecimals; scale >= 0; --scale) {
    auto value = ParseDecimal(text, scale);
    if (value.ok()) return std::pair(*value, scale);
    if (value.status().code() != StatusCode::kOutOfRange) return std::nullopt;
  }
  return std::nullopt;
}

// quote volume / price in 10^-kVolumeDecimals base units, rounded half to even, integers only.
std::optional<int64_t> BaseVolume(std::string_view quote_volume, std::string_view price) {
  const auto q = Finest(quote_volume);
  const auto p = Finest(price);
  if (!q || !p || p->first <= 0) return std::nullopt;
  // q / 10^qs ÷ (p / 10^ps) × 10^8 = q × 10^(ps − qs + 8) / p.
  const int k = p->second - q->second + kVolumeDecimals;
  i128 num = q->first;
  i128 den = p->first;
  constexpr i128 kMax128 = (((i128(1) << 126) - 1) << 1) + 1;  // 2^127 − 1
  for (int j = 0; j < k; ++j) {
    if (num > kMax128 / 10) return kInt64Max;  // then num / den > 2^127 / 2^63: far past int64
    num *= 10;
  }
  for (int j = 0; j > k; --j) den *= 10;  // k ≥ −10: p × 10^10 fits
  i128 base = num / den;
  const i128 rem = num % den;
  if (rem * 2 > den || (rem * 2 == den && (base & 1) != 0)) ++base;
  return base > kInt64Max ? kInt64Max : int64_t(base);
}

// ---- The venues' answers ----

StatusOr<Quote> ParseBinance(const json::object& o, std::string_view symbol, int decimals) {
  // {"symbol":"NEOUSDT","lastPrice":"11.23","volume":"…","closeTime":1700000000000,…}
  // or {"code":-1121,"msg":"Invalid symbol."}
  if (o.contains("code")) return VenueError(Venue::kBinance, o.if_contains("code"), o.if_contains("msg"));
  return ReadTicker(Venue::kBinance, o, {"symbol", "lastPrice", "volume", "closeTime"}, symbol, decimals);
}

StatusOr<Quote> ParseCoinbase(const json::object& o, int decimals) {
  // {"ask","bid","volume","trade_id","price","size","time":"2024-…Z"} or {"message":"NotFound"}.
  // The ticker does not echo the product: the path named it.
  if (o.contains("message")) return VenueError(Venue::kCoinbase, nullptr, o.if_contains("message"));
  ASSIGN_OR_RETURN(Quote q, ReadTicker(Venue::kCoinbase, o, {"", "price", "volume", ""}, "", decimals));
  if (const json::value* time = o.if_contains("time"); time != nullptr && !time->is_null()) {
    const auto* text = time->if_string();
    const auto ms = text ? ParseRfc3339Millis(View(*text)) : std::nullopt;
    if (!ms) return Malformed(Venue::kCoinbase, "time is not an RFC 3339 date-time");
    q.timestamp_ms = *ms;
  }
  return q;
}

// The one object of a list the venue answers with for one symbol.
StatusOr<const json::object*> OnlyEntry(Venue v, const json::value* list, std::string_view name) {
  const json::array* a = list ? list->if_array() : nullptr;
  if (a == nullptr) return Malformed(v, std::string(name) + " is not a list");
  if (a->empty()) return Malformed(v, "no ticker in " + std::string(name));
  if (a->size() > 1) return Malformed(v, "more than one ticker in " + std::string(name));
  const json::object* entry = a->front().if_object();
  if (entry == nullptr) return Malformed(v, "the ticker in " + std::string(name) + " is not an object");
  return entry;
}

StatusOr<Quote> ParseOkx(const json::object& o, std::string_view symbol, int decimals) {
  // {"code":"0","msg":"","data":[{"instId":"NEO-USDT","last":"…","vol24h":"…","ts":"…",…}]}
  const json::value* code = o.if_contains("code");
  if (code == nullptr) return Malformed(Venue::kOkx, "code missing from the answer");
  if (ScalarText(code) != "0") return VenueError(Venue::kOkx, code, o.if_contains("msg"));
  ASSIGN_OR_RETURN(const json::object* t, OnlyEntry(Venue::kOkx, o.if_contains("data"), "data"));
  return ReadTicker(Venue::kOkx, *t, {"instId", "last", "vol24h", "ts"}, symbol, decimals);
}

StatusOr<Quote> ParseKraken(const json::object& o, int decimals) {
  // {"error":[],"result":{"NEOUSD":{"c":["last","lot"],"v":["today","24h"],…}}}. Kraken keys the
  // result by its own name for the pair (XBTUSD answers as XXBTZUSD), so the one key is taken
  // whatever it is; it gives no time.
  if (const json::value* errors = o.if_contains("error"); errors != nullptr) {
    const json::array* list = errors->if_array();
    if (list == nullptr) return Malformed(Venue::kKraken, "error is not a list");
    if (!list->empty()) return VenueError(Venue::kKraken, nullptr, &list->front());
  }
  const json::value* result = o.if_contains("result");
  if (result == nullptr || !result->is_object()) return Malformed(Venue::kKraken, "result missing from the answer");
  const json::object& pairs = result->get_object();
  if (pairs.empty()) return Malformed(Venue::kKraken, "no pair in result");
  if (pairs.size() > 1) return Malformed(Venue::kKraken, "more than one pair in result");
  const json::object* t = pairs.begin()->value().if_object();
  if (t == nullptr) return Malformed(Venue::kKraken, "the ticker in result is not an object");
  const json::array* last = t->contains("c") ? t->at("c").if_array() : nullptr;
  Quote q;
  ASSIGN_OR_RETURN(q.price,
                   ReadPrice(Venue::kKraken, last && !last->empty() ? &last->front() : nullptr, "c[0]", decimals));
  if (const json::value* volume = t->if_contains("v"); volume != nullptr) {
    const json::array* v = volume->if_array();
    if (v == nullptr || v->size() < 2) return Malformed(Venue::kKraken, "v is not [today, last 24 hours]");
    ASSIGN_OR_RETURN(q.volume, ReadVolume(Venue::kKraken, &(*v)[1], "v[1]"));
  }
  return q;
}

// CoinGecko's symbol: "<coin id>/<vs currency>".
std::optional<std::pair<std::string_view, std::string_view>> SplitCoinGecko(std::string_view symbol) {
  const size_t slash = symbol.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == symbol.size()) return std::nullopt;
  if (symbol.find('/', slash + 1) != std::string_view::npos) return std::nullopt;
  return std::pair(symbol.substr(0, slash), symbol.substr(slash + 1));
}

StatusOr<Quote> ParseCoinGecko(const json::object& o, std::string_view symbol, int decimals) {
  // {"neo":{"usd":11.23,"usd_24h_vol":123456.7,"last_updated_at":1700000000}}, JSON numbers; an
  // unknown coin answers {}. Errors: {"status":{"error_code":429,"error_message":"…"}} or {"error":"…"}.
  constexpr Venue kV = Venue::kCoinGecko;
  const auto parts = SplitCoinGecko(symbol);
  if (!parts) return Malformed(kV, "symbol must be <coin id>/<vs currency>");
  const auto [id, vs] = *parts;
  if (const json::value* status = o.if_contains("status"); status != nullptr && status->is_object()) {
    return VenueError(kV, status->get_object().if_contains("error_code"),
                      status->get_object().if_contains("error_message"));
  }
  if (const json::value* error = o.if_contains("error"); error != nullptr) return VenueError(kV, nullptr, error);
  const json::value* coin_value = o.if_contains(id);
  if (coin_value == nullptr) return Malformed(kV, "no quote for '" + Excerpt(id) + "' in the answer");
  const json::object* coin = coin_value->if_object();
  if (coin == nullptr) return Malformed(kV, "the quote for '" + Excerpt(id) + "' is not an object");

  const std::string vol_key = std::string(vs) + "_24h_vol";
  const json::value* price_value = coin->if_contains(vs);
  if (price_value == nullptr || price_value->is_null()) {
    return Malformed(kV, "no '" + Excerpt(vs) + "' price in the answer");
  }
  const auto price_text = NumberText(*price_value);
  if (!price_text) return Malformed(kV, Excerpt(vs) + " is not a number");
  Quote q;
  ASSIGN_OR_RETURN(q.price, PriceFromText(kV, Excerpt(vs), *price_text, decimals));
  // The 24 h volume is in the vs currency; the quote counts base units.
  if (const json::value* vol = coin->if_contains(vol_key); vol != nullptr && !vol->is_null()) {
    const auto vol_text = NumberText(*vol);
    if (!vol_text || (*vol_text)[0] == '-') return Malformed(kV, Excerpt(vol_key) + " is not a volume");
    const auto base = BaseVolume(*vol_text, *price_text);
    if (!base) return Malformed(kV, Excerpt(vol_key) + " is not a volume");
    q.volume = *base;
  }
  if (const json::value* updated = coin->if_contains("last_updated_at"); updated != nullptr && !updated->is_null()) {
    if (!updated->is_int64() || updated->get_int64() <= 0 || updated->get_int64() > kInt64Max / 1000) {
      return Malformed(kV, "last_updated_at is not a time in seconds");
    }
    q.timestamp_ms = updated->get_int64() * 1000;
  }
  return q;
}

StatusOr<Quote> ParseBybit(const json::object& o, std::string_view symbol, int decimals) {
  // {"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[{"symbol","lastPrice","volume24h",…}]},
  //  "retExtInfo":{},"time":1700000000000}
  const json::value* code = o.if_contains("retCode");
  if (code == nullptr) return Malformed(Venue::kBybit, "retCode missing from the answer");
  if (ScalarText(code) != "0") return VenueError(Venue::kBybit, code, o.if_contains("retMsg"));
  const json::value* result = o.if_contains("result");
  if (result == nullptr || !result->is_object()) return Malformed(Venue::kBybit, "result missing from the answer");
  ASSIGN_OR_RETURN(const json::object* t, OnlyEntry(Venue::kBybit, result->get_object().if_contains("list"), "list"));
  ASSIGN_OR_RETURN(Quote q, ReadTicker(Venue::kBybit, *t, {"symbol", "lastPrice", "volume24h", ""}, symbol, decimals));
  ASSIGN_OR_RETURN(q.timestamp_ms, ReadMillis(Venue::kBybit, o, "time"));  // the answer's time, beside the list
  return q;
}

StatusOr<Quote> ParseKuCoin(const json::object& o, std::string_view symbol, int decimals) {
  // {"code":"200000","data":{"time":…,"symbol":"NEO-USDT","last":"…","vol":"…",…}}; errors carry
  // another code and a "msg". An unlisted symbol answers 200000 with null prices.
  const json::value* code = o.if_contains("code");
  if (code == nullptr) return Malformed(Venue::kKuCoin, "code missing from the answer");
  if (ScalarText(code) != "200000") return VenueError(Venue::kKuCoin, code, o.if_contains("msg"));
  const json::value* data = o.if_contains("data");
  if (data == nullptr || !data->is_object()) return Malformed(Venue::kKuCoin, "no ticker in data");
  return ReadTicker(Venue::kKuCoin, data->get_object(), {"symbol", "last", "vol", "time"}, symbol, decimals);
}

// ---- Symbols and paths ----

std::string AsciiCase(std::string_view s, bool upper) {
  std::string out(s);
  for (char& c : out) {
    if (upper && c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
    if (!upper && c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  }
  return out;
}

bool AllOf(std::string_view s, std::string_view extra, bool lower) {
  for (char c : s) {
    const bool letter = lower ? (c >= 'a' && c <= 'z') : (c >= 'A' && c <= 'Z');
    if (!letter && !(c >= '0' && c <= '9') && extra.find(c) == std::string_view::npos) return false;
  }
  return true;
}

// RFC 3986 percent-encoding of a query or path value (everything but the unreserved characters).
std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[uint8_t(c) >> 4];
      out += kHex[uint8_t(c) & 0xF];
    }
  }
  return out;
}

}  // namespace

std::string_view VenueName(Venue v) {
  return size_t(v) < std::size(kVenueInfo) ? kVenueInfo[size_t(v)].name : "unknown";
}

std::optional<Venue> ParseVenue(std::string_view name) {
  for (Venue v : kAllVenues) {
    if (VenueName(v) == name) return v;
  }
  return std::nullopt;
}

std::string_view DefaultBaseUrl(Venue v) {
  return size_t(v) < std::size(kVenueInfo) ? kVenueInfo[size_t(v)].base_url : "";
}

std::string DefaultSymbol(Venue v, std::string_view base, std::string_view quote) {
  const std::string b = AsciiCase(base, true);
  const std::string q = AsciiCase(quote, true);
  const std::string stable = q == "USD" ? "USDT" : q;
  switch (v) {
    case Venue::kBinance:
    case Venue::kBybit: return b + stable;
    case Venue::kOkx:
    case Venue::kKuCoin: return b + "-" + stable;
    case Venue::kCoinbase: return b + "-" + q;
    case Venue::kKraken: return (b == "BTC" ? "XBT" : b) + (q == "BTC" ? "XBT" : q);
    case Venue::kCoinGecko: {
      // CoinGecko names coins by id, not ticker; the common ones differ from the lowercased ticker.
      const std::string id = b == "BTC" ? "bitcoin" : b == "ETH" ? "ethereum" : AsciiCase(b, false);
      return id + "/" + AsciiCase(q, false);
    }
  }
  return b + q;
}

StatusOr<std::string> TickerPath(Venue v, std::string_view symbol) {
  const std::string name(VenueName(v));
  if (symbol.empty()) return InvalidArgumentError(name + " symbol is empty");
  if (v == Venue::kCoinGecko) {
    const auto parts = SplitCoinGecko(symbol);
    if (!parts || parts->first.size() > 64 || parts->second.size() > 16 || !AllOf(parts->first, "-._", true) ||
        !AllOf(parts->second, "", true)) {
      return InvalidArgumentError("coingecko symbol must be <coin id>/<vs currency> in lower case, e.g. neo/usd");
    }
    return "/api/v3/simple/price?ids=" + PercentEncode(parts->first) +
           "&vs_currencies=" + PercentEncode(parts->second) + "&include_24hr_vol=true&include_last_updated_at=true";
  }
  const bool dashed = v == Venue::kCoinbase || v == Venue::kOkx || v == Venue::kKuCoin;
  if (symbol.size() > 32 || !AllOf(symbol, dashed ? "-" : "", false) || symbol.front() == '-' || symbol.back() == '-') {
    return InvalidArgumentError(name + " symbol must be 1 to 32 of A-Z and 0-9" +
                                (dashed ? std::string(" joined by '-', e.g. NEO-USDT") : std::string()));
  }
  const std::string s = PercentEncode(symbol);
  switch (v) {
    case Venue::kBinance: return "/api/v3/ticker/24hr?symbol=" + s;
    case Venue::kCoinbase: return "/products/" + s + "/ticker";
    case Venue::kOkx: return "/api/v5/market/ticker?instId=" + s;
    case Venue::kKraken: return "/0/public/Ticker?pair=" + s;
    case Venue::kBybit: return "/v5/market/tickers?category=spot&symbol=" + s;
    case Venue::kKuCoin: return "/api/v1/market/stats?symbol=" + s;
    case Venue::kCoinGecko: break;
  }
  return InternalError("no ticker path for " + name);
}

StatusOr<Quote> ParseTicker(Venue v, std::string_view symbol, std::string_view body, int decimals,
                            int64_t fetched_at_ms) {
  if (decimals < 0 || decimals > kMaxDecimals) {
    return InvalidArgumentError("decimals must be between 0 and " + std::to_string(kMaxDecimals));
  }
  json::parse_options options;
  options.max_depth = 16;  // a ticker is three levels deep
  boost::system::error_code ec;
  const json::value root = json::parse(json::string_view(body.data(), body.size()), ec, {}, options);
  if (ec) return Malformed(v, "answer is not JSON (" + ec.message() + ")");
  const json::object* o = root.if_object();
  if (o == nullptr) return Malformed(v, "answer is not a JSON object");

  StatusOr<Quote> quote = InternalError("unknown venue");
  switch (v) {
    case Venue::kBinance: quote = ParseBinance(*o, symbol, decimals); break;
    case Venue::kCoinbase: quote = ParseCoinbase(*o, decimals); break;
    case Venue::kOkx: quote = ParseOkx(*o, symbol, decimals); break;
    case Venue::kKraken: quote = ParseKraken(*o, decimals); break;
    case Venue::kCoinGecko: quote = ParseCoinGecko(*o, symbol, decimals); break;
    case Venue::kBybit: quote = ParseBybit(*o, symbol, decimals); break;
    case Venue::kKuCoin: quote = ParseKuCoin(*o, symbol, decimals); break;
  }
  if (!quote.ok()) return quote;
  quote->venue = std::string(VenueName(v));
  quote->fetched_at_ms = fetched_at_ms;
  return quote;
}

}  // namespace neosl::pricefeed
