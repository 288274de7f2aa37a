// Price updates on chain: a feed with a target publishes to SamplePriceFeed on the embedded
// devchain through the serve's outbox; the contract checks the enclave's signature and refuses a
// round it has already seen.
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "crypto/p256.h"
#include "devchain/native.h"
#include "integration/chain_fixture.h"
#include "integration/gateway_ws_fixture.h"
#include "integration/pricefeed/venue_servers.h"

namespace neosl::testing {
namespace {

namespace json = boost::json;
using pricefeed::testing::VenueServers;

class PriceFeedChainE2eTest : public ChainServerTest {
 protected:
  void Start(VenueServers& venues) {
    std::vector<std::pair<std::string, std::string>> env = {{"NEOSL_NET_ALLOW_PRIVATE", "127.0.0.1/32"},
                                                            {"NEOSL_PRICEFEED_POLL_INTERVAL_MS", "100"}};
    for (const auto& [k, v] : venues.Env()) env.emplace_back(k, v);
    StartChainServer(std::move(env));
  }

  // SamplePriceFeed.setReportKey(the attested report key), from dev wallet 0.
  void TrustTheReportKey() {
    auto key = crypto::PublicKey::FromHex(Key("report"));
    ASSERT_TRUE(key.ok());
    neo::ScriptBuilder sb;
    sb.EmitContractCall(feed_, "setReportKey", neo::CallFlags::All, {neo::ContractParam::PublicKey(*key)});
    auto outcome = sender_->Execute(sb.Take());
    ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  }

  struct OnChain {
    int64_t price = 0, decimals = 0, timestamp = 0, round = 0;
  };
  // getPrice("NEO/USD"): [price, decimals, timestamp, round], or nothing yet.
  std::optional<OnChain> ChainPrice() {
    auto r = rpc_->InvokeFunction(feed_, "getPrice",
                                  neo::ContractParamsJson(std::vector{*neo::ContractParam::String("NEO/USD")}), {});
    if (!r.ok() || r->stack.empty()) return std::nullopt;
    auto items = r->stack[0].AsArray();
    if (!items.ok() || items->size() != 4) return std::nullopt;
    OnChain out;
    auto p = (*items)[0].AsInt64(), d = (*items)[1].AsInt64(), t = (*items)[2].AsInt64(), n = (*items)[3].AsInt64();
    if (!p.ok() || !d.ok() || !t.ok() || !n.ok()) return std::nullopt;
    return OnChain{*p, *d, *t, *n};
  }

  const neo::UInt160 feed_ = devchain::ContractHash(neo::UInt160(), 0, "SamplePriceFeed");
};

TEST_F(PriceFeedChainE2eTest, UpdatesArePublishedOncePerRoundAndTheContractChecksThem) {
  VenueServers venues("11.23");
  Start(venues);
  TrustTheReportKey();
  const std::string body = R"({"pair":"NEO/USD","deviation_bps":100,"heartbeat_s":3600,"target":{"contract":")" +
                           feed_.ToString() + R"("}})";
  auto created = Send("POST", "/v1/feeds", body);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id(Json(created).at("feed_id").as_string());

  // The first round is published: on chain with the enclave's signature, checked by the contract.
  std::optional<OnChain> first;
  ASSERT_TRUE(gateway::ws_test::WaitUntil([&] { return (first = ChainPrice()).has_value(); })) << server_->Logs();
  EXPECT_EQ(first->price, 1'123'000'000);
  EXPECT_EQ(first->decimals, 8);
  json::value feed;
  ASSERT_TRUE(gateway::ws_test::WaitUntil([&] {
    feed = Json(Send("GET", "/v1/feeds/" + id));
    return feed.at("recent_updates").as_array().size() == 1 &&
           feed.at("recent_updates").at(0).at("tx_state").as_string() == "halt";
  })) << json::serialize(feed);
  const json::value& update = feed.at("recent_updates").at(0);
  EXPECT_EQ(std::string(update.at("round").as_string()), std::to_string(first->round));
  EXPECT_EQ(update.at("tx_hash").as_string().size(), 66u);

  // Over the deviation: a newer round replaces it.
  venues.SetAllPrices("11.40");
  std::optional<OnChain> second;
  ASSERT_TRUE(gateway::ws_test::WaitUntil([&] {
    second = ChainPrice();
    return second && second->price == 1'140'000'000;
  }));
  EXPECT_GT(second->round, first->round);
  EXPECT_GE(second->timestamp, first->timestamp);

  // Under it: rounds go on, nothing is sent.
  venues.SetAllPrices("11.41");
  const auto round_now = [&] {
    auto p = Json(Send("GET", "/v1/prices/NEO-USD"));
    return p.at("price_decimal").as_string() == "11.41000000" ? std::stoll(std::string(p.at("round").as_string())) : 0;
  };
  int64_t seen = 0;
  ASSERT_TRUE(gateway::ws_test::WaitUntil([&] { return (seen = round_now()) > 0; }));
  ASSERT_TRUE(gateway::ws_test::WaitUntil([&] { return round_now() >= seen + 3; }));
  EXPECT_EQ(ChainPrice()->round, second->round);
  feed = Json(Send("GET", "/v1/feeds/" + id));
  EXPECT_EQ(feed.at("updates").as_string(), "2");

  // The contract refuses a round it has seen, even correctly signed: replaying the feed's own
  // transaction script is a FAULT, so no update lands twice.
  neo::ScriptBuilder replay;
  replay.EmitContractCall(
      feed_, "updatePrice", neo::CallFlags::All,
      {*neo::ContractParam::String("NEO/USD"), neo::ContractParam::Int(second->price), neo::ContractParam::Int(8),
       neo::ContractParam::Int(second->timestamp), neo::ContractParam::Int(second->round),
       neo::ContractParam::Bytes(std::vector<uint8_t>(64))});
  auto refused = sender_->Build(replay.Take());
  EXPECT_FALSE(refused.ok());
}

}  // namespace
}  // namespace neosl::testing
