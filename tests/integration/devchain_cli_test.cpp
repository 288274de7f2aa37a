// `neosl devchain …` and the devchain inside `neosl serve`, through the real binary.
#include <filesystem>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/random.h"
#include "neo/rpc_client.h"
#include "support/http_client.h"
#include "support/server_process.h"

namespace neosl::testing {
namespace {

using ::testing::HasSubstr;
namespace json = boost::json;

json::object ParseObject(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  EXPECT_FALSE(ec) << text;
  return v.is_object() ? v.as_object() : json::object();
}

std::unique_ptr<neo::HttpRpcClient> Client(const std::string& address) {
  neo::HttpRpcClientOptions o;
  o.url = "http://" + address;
  auto c = neo::HttpRpcClient::Create(o, SystemClock::Instance(), SecureRandom::Instance());
  EXPECT_TRUE(c.ok());
  return c.ok() ? std::move(*c) : nullptr;
}

TEST(DevchainCliTest, WalletsArePublicAndStable) {
  auto a = RunNeosl({"devchain", "wallets", "--count", "3"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  json::object out = ParseObject(a.out);
  EXPECT_THAT(std::string(out["warning"].as_string()), HasSubstr("never use them on a real network"));
  ASSERT_EQ(out["wallets"].as_array().size(), 3u);
  EXPECT_EQ(out["wallets"].as_array()[0].at("address").as_string().front(), 'N');
  // The same seed gives the same wallets on every run.
  auto b = RunNeosl({"devchain", "wallets", "--count", "3"});
  EXPECT_EQ(a.out, b.out);
}

TEST(DevchainCliTest, RunsFundsAndSurvivesARestart) {
  std::string error;
  TempDir dir;
  ServerOptions options{.data_dir = dir.File("chain"), .command = {"devchain", "--port", "0", "--block-ms", "0"}};
  auto chain = ServerProcess::Start(options, &error);
  ASSERT_TRUE(chain) << error;
  auto rpc = Client(chain->address());
  auto version = rpc->GetVersion();
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(version->user_agent, "/neosl-devchain:0.1.0/");

  const std::string to = "NXV7ZhHiyM1aHXwpVsRZC6BwNFP2jghXAq";
  auto funded = RunNeosl({"devchain", "fund", to, "12.5", "--rpc", "http://" + chain->address()});
  ASSERT_EQ(funded.exit_code, 0) << funded.err;
  json::object receipt = ParseObject(funded.out);
  EXPECT_EQ(receipt["to"].as_string(), to);
  EXPECT_TRUE(receipt.contains("blockhash"));
  auto bad_amount = RunNeosl({"devchain", "fund", to, "0.000000001", "--rpc", "http://" + chain->address()});
  EXPECT_NE(bad_amount.exit_code, 0);
  EXPECT_THAT(bad_amount.err, HasSubstr("decimal places"));
  auto bad_address = RunNeosl({"devchain", "fund", "Nnot-an-address", "1", "--rpc", "http://" + chain->address()});
  EXPECT_NE(bad_address.exit_code, 0);

  auto balances = rpc->GetNep17Balances(to);
  ASSERT_TRUE(balances.ok()) << balances.status().ToString();
  ASSERT_EQ(balances->balances.size(), 1u);
  EXPECT_EQ(balances->balances[0].amount, "1250000000");
  auto height = rpc->GetBlockCount();
  ASSERT_TRUE(height.ok());
  EXPECT_EQ(chain->Stop(), 0);

  // Restarted on the same data: the same chain, the same balance.
  chain = ServerProcess::Start(options, &error);
  ASSERT_TRUE(chain) << error;
  rpc = Client(chain->address());
  EXPECT_EQ(*rpc->GetBlockCount(), *height);
  EXPECT_EQ(rpc->GetNep17Balances(to)->balances.at(0).amount, "1250000000");
  EXPECT_EQ(chain->Stop(), 0);

  // --reset starts over.
  options.command.push_back("--reset");
  chain = ServerProcess::Start(options, &error);
  ASSERT_TRUE(chain) << error;
  rpc = Client(chain->address());
  EXPECT_EQ(*rpc->GetBlockCount(), 1u);
  EXPECT_EQ(chain->Stop(), 0);
}

TEST(DevchainCliTest, ServeEmbedsTheDevchainAndReportsItReady) {
  std::string error;
  auto server = ServerProcess::Start({}, &error);
  ASSERT_TRUE(server) << error;
  HttpClient http(server->address());
  auto ready = http.Get("/v1/ready");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_THAT(ready.body, HasSubstr("\"chain\":\"ok\""));
  std::string chain_addr = ReadFile(server->data_dir() + "/devchain/listen.addr");
  ASSERT_FALSE(chain_addr.empty());
  chain_addr.pop_back();
  auto rpc = Client(chain_addr);
  EXPECT_TRUE(rpc->GetBlockCount().ok());
  EXPECT_EQ(server->Stop(), 0);
}

TEST(DevchainCliTest, ServeWithAnUnreachableNodeIsNotReady) {
  std::string error;
  // A real node configured but not there: the platform starts, and says the chain is down.
  auto server = ServerProcess::Start({.env = {{"NEOSL_CHAIN_RPC_URL", "http://127.0.0.1:1"}}}, &error);
  ASSERT_TRUE(server) << error;
  HttpClient http(server->address());
  auto ready = http.Get("/v1/ready");
  EXPECT_EQ(ready.status, 503) << ready.body;
  EXPECT_THAT(ready.body, HasSubstr("chain"));
  EXPECT_FALSE(std::filesystem::exists(server->data_dir() + "/devchain")) << "no devchain when a node is configured";
  EXPECT_EQ(server->Stop(), 0);
}

}  // namespace
}  // namespace neosl::testing
