// The chain-read cache (neo/chain_cache.h) in HttpRpcClient, against the fake node, whose
// request counts are what the cache saves.
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/business_metrics.h"
#include "core/clock.h"
#include "core/random.h"
#include "integration/neo_rpc/fake_node.h"
#include "integration/neo_rpc/fixtures.h"
#include "neo/chain_cache.h"
#include "neo/rpc_client.h"

namespace neosl::neo {
namespace {
using namespace std::chrono_literals;
using testing::FakeNode;
using testing::RpcFixture;
namespace json = boost::json;

const UInt160 kContract = *UInt160::Parse("0xd2a4cff31913016155e38e474a2c06d08be276cf");

class ChainCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_.AddBlock();  // two blocks
    node_.SetResponse("invokefunction", RpcFixture("invokefunction.json"));
  }

  std::unique_ptr<HttpRpcClient> Client(ChainCacheOptions options = {}) {
    cache_ = std::make_shared<ChainReadCache>(options, clock_);
    HttpRpcClientOptions o;
    o.url = node_.http_url();
    o.cache = cache_;
    auto c = HttpRpcClient::Create(std::move(o), clock_, random_);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  static StatusOr<InvocationResult> BalanceOf(HttpRpcClient& c,
                                              std::string_view account = "NikvsLcNP1jWhrFPrfS3n4spEASgdNYTG2") {
    return c.InvokeFunction(kContract, "balanceOf", json::array{json::object{{"type", "String"}, {"value", account}}},
                            {});
  }

  FakeNode node_;
  ManualClock clock_;
  DeterministicRandom random_{11};
  std::shared_ptr<ChainReadCache> cache_;
};

TEST_F(ChainCacheTest, StateReadsCostOneCallUntilTheNextBlock) {
  auto c = Client({.height_ttl = 1000ms});
  ASSERT_NE(c, nullptr);
  for (int i = 0; i < 100; ++i) {
    auto r = BalanceOf(*c);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->state, VmState::kHalt);
  }
  EXPECT_EQ(node_.RequestCount("invokefunction"), 1);
  EXPECT_EQ(node_.RequestCount("getblockcount"), 1);
  // Other arguments are another read.
  ASSERT_TRUE(BalanceOf(*c, "NVg7LjGcUSrgxgjX3zEgqaksfMaiS8Z6e1").ok());
  EXPECT_EQ(node_.RequestCount("invokefunction"), 2);

  // A block the cache has not heard of yet: within height_ttl the kept result stands …
  node_.AddBlock();
  clock_.Advance(999ms);
  ASSERT_TRUE(BalanceOf(*c).ok());
  EXPECT_EQ(node_.RequestCount("invokefunction"), 2);
  // … and past it the cache asks for the height, sees the new block and asks again.
  clock_.Advance(2ms);
  ASSERT_TRUE(BalanceOf(*c).ok());
  ASSERT_TRUE(BalanceOf(*c).ok());
  EXPECT_EQ(node_.RequestCount("getblockcount"), 2);
  EXPECT_EQ(node_.RequestCount("invokefunction"), 3);

  // A getblockcount anyone makes tells the cache of a new block at once.
  node_.AddBlock();
  auto count = c->GetBlockCount();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 4u);
  ASSERT_TRUE(BalanceOf(*c).ok());
  EXPECT_EQ(node_.RequestCount("invokefunction"), 4);
  // The same height again keeps what was kept.
  ASSERT_TRUE(c->GetBlockCount().ok());
  ASSERT_TRUE(BalanceOf(*c).ok());
  EXPECT_EQ(node_.RequestCount("invokefunction"), 4);

  auto s = cache_->stats();
  EXPECT_EQ(s.state_misses, 4u);
  EXPECT_EQ(s.state_hits, 100u - 1 + 1 + 1 + 1);
}

TEST_F(ChainCacheTest, BlocksAreKeptForeverWithoutTheirHeightRelativeFields) {
  auto c = Client();
  ASSERT_NE(c, nullptr);
  for (int i = 0; i < 10; ++i) {
    auto b = c->GetBlock(uint32_t{0});
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    EXPECT_EQ(b->index, 0u);
    // From the node the first time and from the cache after: the same object either way.
    EXPECT_FALSE(b->json.as_object().contains("confirmations"));
    EXPECT_FALSE(b->json.as_object().contains("nextblockhash"));
    EXPECT_FALSE(b->confirmations.has_value());
  }
  node_.AddBlock();
  clock_.Advance(1h);
  ASSERT_TRUE(c->GetBlock(uint32_t{0}).ok());
  EXPECT_EQ(node_.RequestCount("getblock"), 1);
  // By hash: another key, kept as well.
  auto hash = c->GetBlockHash(1);
  ASSERT_TRUE(hash.ok());
  ASSERT_TRUE(c->GetBlockHash(1).ok());
  EXPECT_EQ(node_.RequestCount("getblockhash"), 1);
  ASSERT_TRUE(c->GetBlock(*hash).ok());
  ASSERT_TRUE(c->GetBlock(*hash).ok());
  EXPECT_EQ(node_.RequestCount("getblock"), 2);

  // Errors are not kept: a block that does not exist yet is asked for each time.
  EXPECT_FALSE(c->GetBlock(uint32_t{50}).ok());
  EXPECT_FALSE(c->GetBlock(uint32_t{50}).ok());
  EXPECT_EQ(node_.RequestCount("getblock"), 4);
  EXPECT_EQ(cache_->stats().immutable_misses, 5u);  // block 0, hash 1, block by hash, 50 twice
}

TEST_F(ChainCacheTest, ATransactionIsKeptOnceInABlockAndAnIteratorSessionNever) {
  auto c = Client();
  ASSERT_NE(c, nullptr);
  json::value in_block = json::parse(RpcFixture("getrawtransaction_verbose.json"));
  const UInt256 tx = *UInt256::Parse(std::string(in_block.at("result").at("hash").as_string()));
  // Only in the mempool: asked for each time, until it is in a block.
  json::value pooled = in_block;
  for (std::string_view f : {"blockhash", "confirmations", "blocktime", "vmstate"}) {
    pooled.at("result").as_object().erase(f);
  }
  node_.SetResponse("getrawtransaction", json::serialize(pooled));
  for (int i = 0; i < 2; ++i) {
    auto t = c->GetRawTransaction(tx);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_FALSE(t->block_hash.has_value());
  }
  EXPECT_EQ(node_.RequestCount("getrawtransaction"), 2);
  // In a block: kept.
  node_.SetResponse("getrawtransaction", json::serialize(in_block));
  for (int i = 0; i < 3; ++i) {
    auto t = c->GetRawTransaction(tx);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_TRUE(t->block_hash.has_value());
    EXPECT_FALSE(t->confirmations.has_value());
  }
  EXPECT_EQ(node_.RequestCount("getrawtransaction"), 3);

  // An invocation that opened an iterator session on the node.
  json::value with_session = json::parse(RpcFixture("invokefunction.json"));
  with_session.at("result").as_object()["session"] = "e0a2f5e1-5b3c-4d5e-8f00-000000000001";
  node_.SetResponse("invokefunction", json::serialize(with_session));
  ASSERT_TRUE(BalanceOf(*c).ok());
  ASSERT_TRUE(BalanceOf(*c).ok());
  EXPECT_EQ(node_.RequestCount("invokefunction"), 2);
}

TEST_F(ChainCacheTest, ConcurrentMissesOfOneReadMakeOneCall) {
  auto c = Client();
  ASSERT_NE(c, nullptr);
  node_.Delay("invokefunction", 200ms);
  std::vector<std::thread> readers;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    readers.emplace_back([&] {
      if (BalanceOf(*c).ok()) ok.fetch_add(1);
    });
  }
  for (auto& t : readers) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(node_.RequestCount("invokefunction"), 1);
  EXPECT_EQ(node_.RequestCount("getblockcount"), 1);
}

TEST_F(ChainCacheTest, WithoutAHeightStateReadsGoToTheNode) {
  node_.SetResponse("getblockcount", R"({"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"busy"}})");
  auto c = Client();
  ASSERT_NE(c, nullptr);
  const uint64_t bypassed = metrics::ChainCache().reads.Value({"state", "bypass"});
  ASSERT_TRUE(BalanceOf(*c).ok());
  ASSERT_TRUE(BalanceOf(*c).ok());
  EXPECT_EQ(node_.RequestCount("invokefunction"), 2);
  EXPECT_EQ(cache_->stats().bypassed, 2u);
  EXPECT_EQ(metrics::ChainCache().reads.Value({"state", "bypass"}), bypassed + 2);
  EXPECT_EQ(cache_->stats().entries, 0u);
}

TEST_F(ChainCacheTest, TheSizeBoundEvictsTheLeastRecentlyUsed) {
  for (uint32_t i = 0; i < 20; ++i) node_.AddBlock();
  auto c = Client({.max_bytes = 12'000});
  ASSERT_NE(c, nullptr);
  const double gauge_before = metrics::ChainCache().bytes.Value();
  for (uint32_t i = 0; i < 20; ++i) ASSERT_TRUE(c->GetBlock(i).ok());
  auto s = cache_->stats();
  EXPECT_GT(s.evictions, 0u);
  EXPECT_LE(s.bytes, 12'000u);
  EXPECT_EQ(s.entries + s.evictions, 20u);
  EXPECT_DOUBLE_EQ(metrics::ChainCache().bytes.Value() - gauge_before, double(s.bytes));
  // The newest is kept, the oldest is not.
  const int asked = node_.RequestCount("getblock");
  ASSERT_TRUE(c->GetBlock(uint32_t{19}).ok());
  EXPECT_EQ(node_.RequestCount("getblock"), asked);
  ASSERT_TRUE(c->GetBlock(uint32_t{0}).ok());
  EXPECT_EQ(node_.RequestCount("getblock"), asked + 1);
  // Gone with the cache: the gauges count only live caches.
  c.reset();
  cache_.reset();
  EXPECT_DOUBLE_EQ(metrics::ChainCache().bytes.Value(), gauge_before);
}

TEST_F(ChainCacheTest, WritesAndOtherMethodsAreNeverKept) {
  auto c = Client();
  ASSERT_NE(c, nullptr);
  node_.SetResponse("calculatenetworkfee", RpcFixture("calculatenetworkfee.json"));
  ASSERT_TRUE(c->Call("calculatenetworkfee", json::array{"AAAA"}).ok());
  ASSERT_TRUE(c->Call("calculatenetworkfee", json::array{"AAAA"}).ok());
  EXPECT_EQ(node_.RequestCount("calculatenetworkfee"), 2);
  ASSERT_TRUE(c->GetBlockCount().ok());
  ASSERT_TRUE(c->GetBlockCount().ok());
  EXPECT_EQ(node_.RequestCount("getblockcount"), 2);
  EXPECT_EQ(ClassifyRead("sendrawtransaction", {}), ReadKind::kUncached);
  EXPECT_EQ(ClassifyRead("getapplicationlog", {}), ReadKind::kImmutable);
  EXPECT_EQ(ClassifyRead("getstorage", {}), ReadKind::kState);
}

}  // namespace
}  // namespace neosl::neo
