// The price feed end to end through `neosl serve`: REST and WebSocket, the mesh, the enclave
// (fetching the venues through the host's relay, reading their formats, aggregating, signing)
// and the store, against five venues on loopback that answer in their real formats.
#include <chrono>
#include <string>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/p256.h"
#include "integration/fixture.h"
#include "integration/gateway_ws_fixture.h"
#include "integration/pricefeed/venue_servers.h"
#include "services/pricefeed/price_record.h"

namespace neosl::testing {
namespace {

namespace json = boost::json;
using pricefeed::testing::VenueServers;

std::vector<std::pair<std::string, std::string>> ServeEnv(const VenueServers& venues,
                                                          std::vector<std::pair<std::string, std::string>> more = {}) {
  std::vector<std::pair<std::string, std::string>> env = {{"NEOSL_NET_ALLOW_PRIVATE", "127.0.0.1/32"},
                                                          {"NEOSL_PRICEFEED_POLL_INTERVAL_MS", "100"},
                                                          {"NEOSL_PRICEFEED_TIMEOUT_MS", "600"}};
  for (const auto& [k, v] : venues.Env()) env.emplace_back(k, v);
  for (auto& kv : more) env.push_back(std::move(kv));
  return env;
}

class PriceFeedE2eTest : public ServerTest {
 protected:
  std::string ReportKey() {
    auto r = client_->Get("/v1/attestation?nonce=00112233445566778899");
    EXPECT_EQ(r.status, 200) << r.body;
    return std::string(Json(r).at("public_keys").at("report").as_string());
  }

  // GET /v1/prices/NEO-USD until `done` holds for its answer (the poller runs every 100 ms);
  // the last answer either way.
  json::value PriceUntil(const std::function<bool(const json::value&)>& done) {
    json::value last;
    gateway::ws_test::WaitUntil([&] {
      auto r = Send("GET", "/v1/prices/NEO-USD");
      if (r.status != 200) return false;
      last = Json(r);
      return done(last);
    });
    return last;
  }

  static std::string StatusOf(const json::value& report, const std::string& venue) {
    for (const auto& q : report.at("quotes").as_array()) {
      if (q.at("venue").as_string() == venue) return Str(q, "status");
    }
    return "absent";
  }

  // Both signatures are the attested report key's, over exactly the records the report's
  // fields make.
  void ExpectSigned(const json::value& v) {
    ASSERT_EQ(Str(v, "public_key"), ReportKey());
    pricefeed::PriceRecord rec;
    rec.pair = Str(v, "pair");
    rec.price = std::stoll(Str(v, "price"));
    rec.decimals = v.at("decimals").as_int64();
    rec.timestamp_ms = std::stoll(Str(v, "timestamp_ms"));
    rec.round = std::stoll(Str(v, "round"));
    for (const auto& s : v.at("sources").as_array()) rec.venues.emplace_back(s.as_string());
    const auto report = pricefeed::ReportRecord(rec);
    EXPECT_EQ(Str(v, "record"), HexEncode(report));
    auto key = crypto::PublicKey::FromHex(Str(v, "public_key"));
    ASSERT_TRUE(key.ok());
    auto check = [&](const std::vector<uint8_t>& message, const std::string& hex) {
      auto sig = HexDecode(hex);
      if (!sig || sig->size() != 64) return false;
      crypto::Signature s{};
      std::copy(sig->begin(), sig->end(), s.begin());
      return key->Verify(message, s);
    };
    EXPECT_TRUE(check(report, Str(v, "signature")));
    EXPECT_TRUE(check(pricefeed::ChainRecord(rec), Str(v, "chain_signature")));
    // Not the other way round: the records' tags keep the signatures apart.
    EXPECT_FALSE(check(report, Str(v, "chain_signature")));
  }
};

TEST_F(PriceFeedE2eTest, APriceIsTheMedianOfTheVenuesSignedAndExplained) {
  VenueServers venues("11.23");
  venues.SetPrice("coinbase", "11.22");
  venues.SetPrice("okx", "11.25");
  venues.SetPrice("kraken", "11.21");
  venues.SetPrice("coingecko", "11.24");
  StartServer({.env = ServeEnv(venues)});

  auto r = Send("GET", "/v1/prices/NEO-USD");
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = Json(r);
  EXPECT_EQ(Str(v, "pair"), "NEO/USD");
  EXPECT_EQ(Str(v, "price"), "1123000000");
  EXPECT_EQ(Str(v, "price_decimal"), "11.23000000");
  EXPECT_EQ(v.at("decimals").as_int64(), 8);
  EXPECT_EQ(Str(v, "status"), "ok");
  EXPECT_TRUE(v.at("has_report").as_bool());
  EXPECT_EQ(v.at("sources").as_array().size(), 5u);
  for (std::string_view venue : VenueServers::kVenues) EXPECT_EQ(StatusOf(v, std::string(venue)), "used");
  ExpectSigned(v);
  // Every venue was asked for NEO in its own way.
  for (std::string_view venue : VenueServers::kVenues) EXPECT_GE(venues.requests(venue), 1u);

  // Any spelling of the pair; pairs not configured, and names that are not pairs.
  EXPECT_EQ(Send("GET", "/v1/prices/neo_usd").status, 200);
  auto unknown = Send("GET", "/v1/prices/XRP-USD");
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_NE(unknown.body.find("NEO/USD"), std::string::npos);  // names the pairs there are
  auto bad = Send("GET", "/v1/prices/NEO-USD-EUR");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(ErrorCode(bad), "INVALID_ARGUMENT");

  auto list = Send("GET", "/v1/prices");
  ASSERT_EQ(list.status, 200) << list.body;
  int with_report = 0;
  const json::value all = Json(list);
  for (const auto& p : all.at("prices").as_array()) with_report += p.at("has_report").as_bool() ? 1 : 0;
  EXPECT_EQ(with_report, 1);  // only the pair asked for has been observed
}

TEST_F(PriceFeedE2eTest, OutliersDownSlowAndStaleVenuesAreLeftOutAndTheQuorumDecides) {
  VenueServers venues("11.23");
  venues.SetPrice("okx", "12.50");                          // 11 % off: an outlier
  venues.Set("kraken", {.price = "11.23", .status = 503});  // down
  StartServer({.env = ServeEnv(venues, {{"NEOSL_PRICEFEED_MAX_AGE_MS", "30000"}})});
  auto r = Send("GET", "/v1/prices/NEO-USD");
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = Json(r);
  EXPECT_EQ(Str(v, "price"), "1123000000");
  EXPECT_EQ(StatusOf(v, "okx"), "outlier");
  EXPECT_EQ(StatusOf(v, "kraken"), "failed");
  EXPECT_EQ(v.at("sources").as_array().size(), 3u);
  const int64_t first_round = std::stoll(Str(v, "round"));

  // A venue that never answers is given up at the timeout; three are still enough.
  venues.Set("coingecko", {.price = "11.23", .stall = true});
  venues.Set("kraken", {.price = "11.24"});
  venues.SetPrice("okx", "11.23");
  v = PriceUntil([](const json::value& p) { return StatusOf(p, "coingecko") == "failed"; });
  EXPECT_EQ(StatusOf(v, "coingecko"), "failed");
  EXPECT_EQ(Str(v, "status"), "ok");

  // A quote from a minute ago (max_age 30 s) is stale: two venues left, the pair is degraded, and the last good
  // report stays, marked so.
  venues.Set("binance", {.price = "11.23", .age_ms = 60'000});  // Binance says when (closeTime)
  venues.Set("okx", {.price = "11.23", .status = 500});
  v = PriceUntil([](const json::value& p) { return p.at("status").as_string() == "degraded"; });
  ASSERT_EQ(Str(v, "status"), "degraded") << json::serialize(v);
  EXPECT_NE(Str(v, "reason").find("quorum"), std::string::npos) << Str(v, "reason");
  EXPECT_EQ(StatusOf(v, "binance"), "stale");
  const int64_t degraded_round = std::stoll(Str(v, "round"));
  EXPECT_GE(degraded_round, first_round);

  // Recovery: the venues are back, and the next round is ok and newer.
  venues.Set("binance", {.price = "11.23"});
  venues.Set("okx", {.price = "11.25"});
  venues.Set("coingecko", {.price = "11.23"});
  v = PriceUntil([](const json::value& p) { return p.at("status").as_string() == "ok"; });
  ASSERT_EQ(Str(v, "status"), "ok");
  EXPECT_GT(std::stoll(Str(v, "round")), degraded_round);
  ExpectSigned(v);
}

TEST_F(PriceFeedE2eTest, FeedsAreCreatedListedShownAndDeletedAndBadInputIsNamed) {
  VenueServers venues("11.23");
  StartServer({.env = ServeEnv(venues)});
  auto created = Send("POST", "/v1/feeds", R"({"pair":"neo-usd","deviation_bps":100,"heartbeat_s":60})");
  ASSERT_EQ(created.status, 201) << created.body;
  auto feed = Json(created);
  const std::string id = Str(feed, "feed_id");
  EXPECT_EQ(id.rfind("fd_", 0), 0u);
  EXPECT_EQ(Str(feed, "pair"), "NEO/USD");
  EXPECT_EQ(feed.at("deviation_bps").as_int64(), 100);
  EXPECT_EQ(feed.at("hysteresis_bps").as_int64(), 50);  // half the deviation by default
  EXPECT_EQ(feed.at("heartbeat_s").as_int64(), 60);

  // The feed publishes its first round (no target: the update is recorded, no transaction).
  json::value shown;
  ASSERT_TRUE(gateway::ws_test::WaitUntil([&] {
    shown = Json(Send("GET", "/v1/feeds/" + id));
    return shown.at("updates").as_string() == "1";
  })) << json::serialize(shown);
  EXPECT_EQ(Str(shown, "status"), "active");
  EXPECT_EQ(Str(shown, "last_price"), "11.23000000");
  ASSERT_EQ(shown.at("recent_updates").as_array().size(), 1u);
  EXPECT_EQ(Str(shown.at("recent_updates").at(0), "trigger"), "first");
  EXPECT_EQ(Str(shown.at("recent_updates").at(0), "tx_hash"), "");

  // A move under the deviation is not published; one over it is, as a deviation.
  venues.SetAllPrices("11.30");  // +0.62 %, under 1 %
  auto before = std::stoll(Str(Json(Send("GET", "/v1/prices/NEO-USD")), "round"));
  ASSERT_TRUE(gateway::ws_test::WaitUntil([&] {
    auto p = Json(Send("GET", "/v1/prices/NEO-USD"));
    return std::stoll(Str(p, "round")) >= before + 3 && p.at("price_decimal").as_string() == "11.30000000";
  }));
  EXPECT_EQ(Str(Json(Send("GET", "/v1/feeds/" + id)), "updates"), "1");
  venues.SetAllPrices("11.40");  // +1.5 %
  ASSERT_TRUE(gateway::ws_test::WaitUntil([&] {
    shown = Json(Send("GET", "/v1/feeds/" + id));
    return shown.at("updates").as_string() == "2";
  }));
  EXPECT_EQ(Str(shown.at("recent_updates").at(0), "trigger"), "deviation");
  EXPECT_EQ(Str(shown, "last_price"), "11.40000000");

  auto list = Send("GET", "/v1/feeds");
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(Json(list).at("feeds").as_array().size(), 1u);

  auto field_of = [&](const HttpResult& res) {
    auto j = Json(res);
    return std::string(j.at("error").at("details").at(0).at("field").as_string());
  };
  auto bad_pair = Send("POST", "/v1/feeds", R"({"pair":"NEO"})");
  EXPECT_EQ(bad_pair.status, 400) << bad_pair.body;
  EXPECT_EQ(field_of(bad_pair), "pair");
  EXPECT_EQ(Send("POST", "/v1/feeds", R"({"pair":"XRP/USD"})").status, 404);
  auto bad_target = Send("POST", "/v1/feeds", R"({"pair":"NEO/USD","target":{"contract":"0x1234"}})");
  EXPECT_EQ(bad_target.status, 400) << bad_target.body;
  EXPECT_EQ(field_of(bad_target), "target.contract");
  auto bad_method = Send(
      "POST", "/v1/feeds",
      R"({"pair":"NEO/USD","target":{"contract":"0x746adb4cfa2fa90e0f16f1d1049b201b4db209de","method":"_deploy"}})");
  EXPECT_EQ(bad_method.status, 400) << bad_method.body;
  EXPECT_EQ(field_of(bad_method), "target.method");
  EXPECT_EQ(Send("POST", "/v1/feeds", R"({"pair":"NEO/USD","deviation_bps":20000})").status, 400);
  EXPECT_EQ(Send("GET", "/v1/feeds/fd_nope").status, 400);
  EXPECT_EQ(Send("GET", "/v1/feeds/fd_aaaaaaaaaaaaaaaaaaaa").status, 404);

  // Another account cannot see or delete it.
  const std::string other = CreateAccount("other");
  const std::string other_key = CreateKey(other, R"(["developer"])").second;
  auto foreign = client_->Request("DELETE", "/v1/feeds/" + id, "", {{"authorization", "Bearer " + other_key}});
  EXPECT_EQ(foreign.status, 404) << foreign.body;

  auto deleted = Send("DELETE", "/v1/feeds/" + id);
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(Str(Json(deleted), "status"), "deleted");
  EXPECT_EQ(Send("DELETE", "/v1/feeds/" + id).status, 404);
  EXPECT_EQ(Json(Send("GET", "/v1/feeds")).at("feeds").as_array().size(), 0u);
  EXPECT_EQ(Str(Json(Send("GET", "/v1/feeds/" + id)), "status"), "deleted");
}

TEST_F(PriceFeedE2eTest, PricesStreamOverTheWebSocket) {
  VenueServers venues("11.23");
  StartServer({.env = ServeEnv(venues)});
  using gateway::ws_test::WsClient;
  auto ws = WsClient::Connect(server_->address(), WsClient::Options{.authorization = "Bearer " + admin_});
  ASSERT_NE(ws, nullptr);
  ws->SendText(R"({"op":"subscribe","id":"p","channel":"prices","params":{"pair":"NEO-USD"}})");
  ASSERT_TRUE(ws->ReadUntil("subscribed", "p"));
  // Listening keeps the pair observed: reports come every round, rounds increasing.
  auto first = ws->ReadUntil("event", "p");
  ASSERT_TRUE(first);
  auto second = ws->ReadUntil("event", "p");
  ASSERT_TRUE(second);
  const json::value a = first->at("data");
  const json::value b = second->at("data");
  EXPECT_EQ(Str(a, "pair"), "NEO/USD");
  EXPECT_EQ(Str(a, "price_decimal"), "11.23000000");
  EXPECT_GT(std::stoll(Str(b, "round")), std::stoll(Str(a, "round")));
  ExpectSigned(b);

  ws->SendText(R"({"op":"subscribe","id":"bad","channel":"prices","params":{"pair":"DOGE-USD"}})");
  auto err = ws->ReadUntil("error", "bad");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->at("error").at("code").as_string(), "NOT_FOUND");
}

}  // namespace
}  // namespace neosl::testing
