// Five venues on loopback for the price feed's tests and benchmark: real HTTP servers that answer
// the public ticker requests of Binance, Coinbase, OKX, Kraken and CoinGecko in those venues'
// own response formats (as recorded in tests/data/pricefeed/), with a price the test sets per
// venue, and switches for a venue that is down, silent (never answers), or whose quote is old.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/encoding.h"
#include "unit/net/test_server.h"

namespace neosl::pricefeed::testing {

class VenueServers {
 public:
  static constexpr std::array<std::string_view, 5> kVenues = {"binance", "coinbase", "okx", "kraken", "coingecko"};

  struct State {
    std::string price = "11.23";  // decimal text, as the venue would write it
    int status = 200;             // not 200: the venue answers this, with its error body
    bool stall = false;           // accepts and never answers
    int64_t age_ms = 0;           // the quote's time is this far in the past (where the venue says)
  };

  explicit VenueServers(std::string price = "11.23") {
    for (std::string_view v : kVenues) {
      state_[std::string(v)].price = price;
      servers_[std::string(v)] = std::make_unique<net::testing::TestServer>(
          [this, venue = std::string(v)](const net::testing::ReceivedRequest& req) { return Answer(venue, req); });
    }
  }

  // The base URL to configure for `venue` (pricefeed.venues.<venue>.base_url).
  std::string BaseUrl(std::string_view venue) const { return servers_.at(std::string(venue))->Url(""); }
  // Environment for `neosl serve` pointing every venue here.
  std::map<std::string, std::string> Env() const {
    std::map<std::string, std::string> env;
    for (std::string_view v : kVenues) {
      std::string upper;
      for (char c : v) upper += char(c - 'a' + 'A');
      env["NEOSL_PRICEFEED_VENUES_" + upper + "_BASE_URL"] = BaseUrl(v);
    }
    env["NEOSL_PRICEFEED_ALLOW_HTTP"] = "true";
    return env;
  }

  void Set(std::string_view venue, State s) {
    std::lock_guard lock(mu_);
    state_[std::string(venue)] = std::move(s);
  }
  void SetPrice(std::string_view venue, std::string price) {
    std::lock_guard lock(mu_);
    state_[std::string(venue)].price = std::move(price);
  }
  void SetAllPrices(const std::string& price) {
    std::lock_guard lock(mu_);
    for (auto& [v, s] : state_) s.price = price;
  }
  size_t requests(std::string_view venue) const { return servers_.at(std::string(venue))->requests().size(); }
  // When `venue` was first asked for a quote after `t` (steady clock), for latency measurements.
  std::optional<std::chrono::steady_clock::time_point> FirstRequestAfter(std::string_view venue,
                                                                         std::chrono::steady_clock::time_point t) {
    std::lock_guard lock(mu_);
    for (auto at : asked_[std::string(venue)]) {
      if (at > t) return at;
    }
    return std::nullopt;
  }

 private:
  static int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  // The value of query parameter `name` in `target`, or "".
  static std::string Query(const std::string& target, std::string_view name) {
    const size_t q = target.find('?');
    if (q == std::string::npos) return "";
    std::string_view rest(target);
    rest.remove_prefix(q + 1);
    while (!rest.empty()) {
      const size_t amp = rest.find('&');
      std::string_view part = rest.substr(0, amp);
      if (part.substr(0, part.find('=')) == name && part.find('=') != std::string_view::npos) {
        return std::string(part.substr(part.find('=') + 1));
      }
      if (amp == std::string_view::npos) break;
      rest.remove_prefix(amp + 1);
    }
    return "";
  }

  net::testing::Reply Json(int status, const std::string& body) {
    return net::testing::Respond(status, status == 200 ? "OK" : "Error", body,
                                 {{"Content-Type", "application/json; charset=utf-8"}});
  }

  net::testing::Reply Answer(const std::string& venue, const net::testing::ReceivedRequest& req) {
    State s;
    {
      std::lock_guard lock(mu_);
      s = state_[venue];
      auto& asked = asked_[venue];
      if (asked.size() >= kMaxAsked) asked.erase(asked.begin(), asked.begin() + kMaxAsked / 2);
      asked.push_back(std::chrono::steady_clock::now());
    }
    if (s.stall) return net::testing::Reply{{}, true};
    const int64_t at = NowMs() - s.age_ms;
    const std::string& p = s.price;
    if (venue == "binance") {
      const std::string symbol = Query(req.target, "symbol");
      if (s.status != 200) return Json(s.status, R"({"code":-1121,"msg":"Invalid symbol."})");
      return Json(200, R"({"symbol":")" + symbol +
                           R"(","priceChange":"0.05000000","priceChangePercent":"0.447",)"
                           R"("weightedAvgPrice":"11.20110000","prevClosePrice":"11.18000000","lastPrice":")" +
                           p + R"(","lastQty":"3.21000000","bidPrice":")" + p +
                           R"(","bidQty":"120.40000000","askPrice":")" + p +
                           R"(","askQty":"88.10000000","openPrice":"11.18000000","highPrice":"11.52000000",)"
                           R"("lowPrice":"10.96000000","volume":"412873.52000000","quoteVolume":"4624611.16500000",)"
                           R"("openTime":)" +
                           std::to_string(at - 86'400'000) + R"(,"closeTime":)" + std::to_string(at) +
                           R"(,"firstId":183201556,"lastId":183288731,"count":87176})");
    }
    if (venue == "coinbase") {
      // /products/NEO-USD/ticker
      std::string product = req.target.substr(std::string_view("/products/").size());
      product = product.substr(0, product.find('/'));
      if (s.status != 200) return Json(s.status, R"({"message":"NotFound"})");
      return Json(200, R"({"ask":")" + p + R"(","bid":")" + p +
                           R"(","volume":"98231.41000000","trade_id":51234987,)"
                           R"("price":")" +
                           p + R"(","size":"12.50000000","time":")" + FormatRfc3339Millis(at) +
                           R"(","rfq_volume":"0.000000"})");
    }
    if (venue == "okx") {
      const std::string inst = Query(req.target, "instId");
      if (s.status != 200) return Json(s.status, R"({"code":"51001","msg":"Instrument ID does not exist","data":[]})");
      return Json(200, R"({"code":"0","msg":"","data":[{"instType":"SPOT","instId":")" + inst + R"(","last":")" + p +
                           R"(","lastSz":"1.2","askPx":")" + p + R"(","askSz":"310.5","bidPx":")" + p +
                           R"(","bidSz":"98.2","open24h":"11.17","high24h":"11.55","low24h":"10.95",)"
                           R"("volCcy24h":"2214980.91","vol24h":"197746.3","ts":")" +
                           std::to_string(at) + R"(","sodUtc0":"11.2","sodUtc8":"11.19"}]})");
    }
    if (venue == "kraken") {
      const std::string pair = Query(req.target, "pair");
      if (s.status != 200) return Json(s.status, R"({"error":["EQuery:Unknown asset pair"]})");
      return Json(200, R"({"error":[],"result":{")" + pair + R"(":{"a":[")" + p + R"(","3","3.000"],"b":[")" + p +
                           R"(","10","10.000"],"c":[")" + p +
                           R"(","0.80000000"],"v":["8123.44","20511.90"],)"
                           R"("p":["11.21","11.19"],"t":[812,2210],"l":["10.97","10.95"],"h":["11.51","11.54"],)"
                           R"("o":"11.18"}}})");
    }
    // coingecko: /api/v3/simple/price?ids=neo&vs_currencies=usd&…
    const std::string id = Query(req.target, "ids");
    const std::string vs = Query(req.target, "vs_currencies");
    if (s.status != 200) {
      return Json(s.status, R"({"status":{"error_code":429,"error_message":"You've exceeded the Rate Limit."}})");
    }
    return Json(200, R"({")" + id + R"(":{")" + vs + R"(":)" + p + R"(,")" + vs + R"(_24h_vol":4612238.95,")" + vs +
                         R"(_24h_change":0.4471,"last_updated_at":)" + std::to_string(at / 1000) + "}}");
  }

  static constexpr size_t kMaxAsked = 1 << 16;

  std::mutex mu_;
  std::map<std::string, State> state_;
  std::map<std::string, std::vector<std::chrono::steady_clock::time_point>> asked_;
  std::map<std::string, std::unique_ptr<net::testing::TestServer>> servers_;  // last: stopped first
};

}  // namespace neosl::pricefeed::testing
