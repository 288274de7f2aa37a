// Transactions built, priced and signed by neon-core over the devchain's JSON-RPC are accepted
// and executed; the ones signed for another network or already expired are refused with Neo's
// error codes, and the ledger does not move.
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <mutex>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "crosscheck/neon_install.h"
#include "devchain/chain.h"
#include "devchain/native.h"
#include "devchain/rpc_server.h"
#include "neo/rpc_types.h"
#include "support/temp_dir.h"

namespace neosl::devchain {
namespace {

namespace json = boost::json;

TEST(NeonDevchainTest, NeonCoreTransactionsAreAcceptedAndBadOnesRefused) {
  std::string modules = testing::EnsureNeonCore();
  ASSERT_FALSE(modules.empty()) << "npm could not install neon-core; see " << NEOSL_NPM_PREFIX << "/npm.log";
  testing::TempDir dir;
  ChainOptions options;
  options.data_dir = dir.File("chain");
  options.block_time = std::chrono::milliseconds(0);  // mine as soon as a transaction arrives
  options.dev_wallets = 2;
  auto chain = Chain::Open(options);
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  auto server = RpcServer::Start({.host = "127.0.0.1", .port = 0}, **chain);
  ASSERT_TRUE(server.ok()) << server.status().ToString();

  std::mutex mu;
  std::condition_variable cv;
  std::vector<BlockEvents> blocks;
  (*chain)->Subscribe({.on_block = [&](const BlockEvents& e) {
    std::lock_guard lock(mu);
    blocks.push_back(e);
    cv.notify_all();
  }});
  (*chain)->Start();

  const DevWallet& from = (*chain)->dev_wallets()[0];
  const DevWallet& to = (*chain)->dev_wallets()[1];
  const int64_t from0 = (*chain)->GasBalance(from.script_hash);
  const int64_t to0 = (*chain)->GasBalance(to.script_hash);
  const std::string url = "http://127.0.0.1:" + std::to_string((*server)->port());
  std::string cmd = "node '" NEOSL_CROSSCHECK_DIR "/neon_devchain.js' '" + modules + "' '" + url + "' '" + from.wif +
                    "' '" + to.address + "' " + std::to_string((*chain)->network()) + " '" + dir.File("result.json") +
                    "' > '" + dir.File("node.log") + "' 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << testing::ReadFile(dir.File("node.log"));
  json::value result = json::parse(testing::ReadFile(dir.File("result.json")));
  const json::object& r = result.as_object();
  EXPECT_EQ(r.at("network").to_number<int64_t>(), (*chain)->network());
  EXPECT_EQ(r.at("hash").as_string(), r.at("neon_hash").as_string()) << "the devchain and neon agree on the hash";
  EXPECT_FALSE(r.at("wrong_network").at("accepted").as_bool());
  EXPECT_NE(std::string(r.at("wrong_network").at("message").as_string()).find("Invalid signature"), std::string::npos)
      << r.at("wrong_network");
  EXPECT_FALSE(r.at("expired").at("accepted").as_bool());
  EXPECT_NE(std::string(r.at("expired").at("message").as_string()).find("Expired transaction"), std::string::npos)
      << r.at("expired");

  auto hash = neo::UInt256::Parse(std::string(r.at("hash").as_string()));
  ASSERT_TRUE(hash.ok());
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] {
      for (const auto& b : blocks) {
        for (const auto& tx : b.block.transactions()) {
          if (tx.hash() == *hash) return true;
        }
      }
      return false;
    }));
  }
  (*chain)->Stop();
  auto lookup = (*chain)->GetTransaction(*hash);
  ASSERT_TRUE(lookup.ok()) << lookup.status().ToString();
  EXPECT_EQ(lookup->vm_state, VmState::kHalt);
  const int64_t fees = lookup->tx.system_fee() + lookup->tx.network_fee();
  EXPECT_EQ(std::to_string(lookup->tx.system_fee()), std::string(r.at("system_fee").as_string()));
  EXPECT_EQ((*chain)->GasBalance(from.script_hash), from0 - 150000000 - fees);
  EXPECT_EQ((*chain)->GasBalance(to.script_hash), to0 + 150000000);
  // Only the good transaction made it in.
  size_t included = 0;
  for (uint32_t i = 1; i <= (*chain)->height(); ++i) included += (*chain)->GetBlock(i)->transactions().size();
  EXPECT_EQ(included, 1u);
  (*server)->Stop();
}

}  // namespace
}  // namespace neosl::devchain
