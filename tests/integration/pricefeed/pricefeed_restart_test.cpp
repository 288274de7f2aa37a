// PriceFeedService driven directly (no `neosl serve`) against real parts: an in-process devchain
// with SamplePriceFeed on 127.0.0.1:0, a SQLite store with every migration, the five venue
// servers in their real formats, and pricefeed::Observe over a real Fetcher and SocketRelay as
// the enclave. Rounds run through ObservePair; outbox outcomes are awaited through the listener.
// A "crash" is the service and its outbox destroyed with their work in the store; the next
// instance on the same store must take it up, sending each decided update exactly once.
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "chain_tx/outbox.h"
#include "crypto/p256.h"
#include "devchain/native.h"
#include "integration/chain_tx/outbox_finals.h"
#include "integration/devchain/devchain_fixture.h"
#include "integration/pricefeed/venue_servers.h"
#include "mesh/policy.h"
#include "mesh/server.h"
#include "net/fetcher.h"
#include "schema/migrations.h"
#include "services/pricefeed/observe.h"
#include "services/pricefeed/pricefeed_service.h"
#include "services/pricefeed/venues.h"
#include "store/sqlite_store.h"
#include "tee/socket_relay.h"

namespace neosl::services {
namespace {

using chain_tx::Outbox;
using chain_tx::OutboxRecord;
using chain_tx::OutboxState;
using pricefeed::testing::VenueServers;

constexpr char kAccount[] = "acc_aaaaaaaaaaaaaaaaaaaa";
constexpr char kPair[] = "NEO/USD";
constexpr int64_t kPrice = 1'123'000'000;         // 11.23 at 8 decimals, the venues' start
constexpr char kMovedText[] = "11.4546";          // 2 % up
constexpr int64_t kMovedPrice = 1'145'460'000;    // the same at 8 decimals
constexpr auto kWait = std::chrono::seconds(30);  // for an outcome that comes in well under a second

using chain_tx::testing::Finals;

// getPrice(pair) as the contract stores it.
struct OnChain {
  int64_t price = 0, decimals = 0, timestamp = 0, round = 0;
};

// A price_updates row.
struct UpdateRow {
  int64_t round = 0;
  std::string cause;
  std::optional<std::string> outbox_key;
};

class PriceFeedRestartTest : public devchain::testing::DevchainTest {
 protected:
  void SetUp() override {
    StartChain();  // blocks on demand
    ASSERT_FALSE(HasFatalFailure());
    auto store = store::OpenSqliteStore({.path = dir_.File("neosl.db")});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = *std::move(store);
    ASSERT_TRUE(store_->Migrate(schema::Migrations()).ok());
    outbox_rpc_ = NewClient();
    ASSERT_NE(outbox_rpc_, nullptr);
    outbox_signer_ = std::make_unique<neo::KeyTransactionSigner>(devchain::DevWalletAt(1).key);
    first_block_ = chain_->height() + 1;

    auto relay = tee::SocketRelay::Create({.allow_private = {"127.0.0.1/32"}});
    ASSERT_TRUE(relay.ok()) << relay.status().ToString();
    relay_ = std::move(*relay);
    auto fetcher = net::Fetcher::Create(pricefeed::PriceFetcherOptions(), *relay_);
    ASSERT_TRUE(fetcher.ok()) << fetcher.status().ToString();
    fetcher_ = std::move(*fetcher);

    auto policy = mesh::AuthzPolicy::FromYaml(mesh::DefaultAuthzPolicyYaml());
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
    policy_ = std::make_unique<mesh::AuthzPolicy>(std::move(*policy));
    mesh::PipelineOptions po;
    po.policy = policy_.get();
    pipeline_ = std::make_unique<mesh::Pipeline>(std::move(po), SystemClock::Instance(), SecureRandom::Instance());
  }

  void TearDown() override {
    Crash();  // the service and outbox before the chain they use
    DevchainTest::TearDown();
  }

  // NEO/USD from the five venue servers, as pricefeed.pairs would configure it.
  PriceFeedOptions Options() const {
    PairConfig pair;
    pair.pair = kPair;
    pair.decimals = 8;
    for (std::string_view name : VenueServers::kVenues) {
      const pricefeed::Venue venue = *pricefeed::ParseVenue(name);
      const std::string symbol = pricefeed::DefaultSymbol(venue, "NEO", "USD");
      tee::v1::PriceSource source;
      source.set_venue(std::string(name));
      source.set_symbol(symbol);
      source.set_url(venues_.BaseUrl(name) + *pricefeed::TickerPath(venue, symbol));
      pair.sources.push_back(std::move(source));
    }
    PriceFeedOptions o;
    o.pairs = {std::move(pair)};
    o.threads = 1;
    return o;
  }

  // A service and its outbox on the fixture's store, the listener registered and the service
  // started (not polling). With `send`, the outbox starts too; without, whatever the service
  // decides stays queued, as in a process that dies before its outbox sends.
  void Boot(bool send) {
    chain_tx::OutboxOptions oo;
    oo.poll_interval = std::chrono::milliseconds(20);
    outbox_ = std::make_unique<Outbox>(oo, *store_, *outbox_rpc_, *outbox_signer_, SecureRandom::Instance(),
                                       SystemClock::Instance());
    PriceEnclave enclave{[this](const tee::v1::PriceObserveRequest& req) {
      return pricefeed::Observe(req, {fetcher_.get(), &report_key_, &SystemClock::Instance()});
    }};
    service_ = std::make_unique<PriceFeedService>(*pipeline_, *store_, std::move(enclave), SystemClock::Instance(),
                                                  SecureRandom::Instance(), report_key_.public_key(), Options());
    // The service reacts first, so that a record seen here has had its effect on the service.
    outbox_->Listen(std::string(PriceFeedService::kOutboxOwner),
                    [this, react = service_->Listener()](const OutboxRecord& r) {
                      react(r);
                      finals_.Add(r);
                    });
    Status started = service_->Start(outbox_.get(), /*poll=*/false);
    ASSERT_TRUE(started.ok()) << started.ToString();
    if (send) {
      started = outbox_->Start();
      ASSERT_TRUE(started.ok()) << started.ToString();
    }
  }

  // Gone, with nothing more than the store holds. The outbox goes before the service its
  // listener calls, and after the service has stopped running rounds that wake it.
  void Crash() {
    if (service_) service_->Stop();
    outbox_.reset();
    service_.reset();
  }

  // A feed of kPair publishing to SamplePriceFeed on a 1 % move; its id.
  std::string AddFeed() {
    pricefeedpb::CreateFeedRequest req;
    req.set_pair(kPair);
    req.set_deviation_bps(100);
    req.set_heartbeat_s(3600);
    req.mutable_target()->set_contract(devchain::NativeRegistry::SamplePriceFeedHash().ToString());
    auto feed = service_->AddFeed(kAccount, req);
    EXPECT_TRUE(feed.ok()) << feed.status().ToString();
    return feed.ok() ? feed->feed_id() : "";
  }

  // SamplePriceFeed.setReportKey(the report key), from dev wallet 0.
  void TrustTheReportKey() {
    neo::ScriptBuilder sb;
    sb.EmitContractCall(devchain::NativeRegistry::SamplePriceFeedHash(), "setReportKey", neo::CallFlags::All,
                        {neo::ContractParam::PublicKey(report_key_.public_key())});
    auto outcome = sender_->Execute(sb.Take());
    ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  }

  void Observe() {
    Status s = service_->ObservePair(kPair);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::optional<OnChain> ChainPrice() {
    auto r = rpc_->InvokeFunction(devchain::NativeRegistry::SamplePriceFeedHash(), "getPrice",
                                  neo::ContractParamsJson(std::vector{*neo::ContractParam::String(kPair)}), {});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || r->stack.empty()) return std::nullopt;
    auto items = r->stack[0].AsArray();
    if (!items.ok() || items->size() != 4) return std::nullopt;  // Null: nothing published yet
    auto p = (*items)[0].AsInt64(), d = (*items)[1].AsInt64(), t = (*items)[2].AsInt64(), n = (*items)[3].AsInt64();
    EXPECT_TRUE(p.ok() && d.ok() && t.ok() && n.ok());
    if (!p.ok() || !d.ok() || !t.ok() || !n.ok()) return std::nullopt;
    return OnChain{*p, *d, *t, *n};
  }

  // The transactions the outbox's account put on chain since the fixture started.
  std::vector<neo::Transaction> UpdatesOnChain() {
    std::vector<neo::Transaction> out;
    for (uint32_t i = first_block_; i <= chain_->height(); ++i) {
      auto block = chain_->GetBlock(i);
      EXPECT_TRUE(block.ok());
      if (!block.ok()) continue;
      for (const auto& tx : block->transactions()) {
        if (tx.sender() == devchain::DevWalletAt(1).script_hash) out.push_back(tx);
      }
    }
    return out;
  }

  // The report a feed published for `round`, as price_updates keeps it.
  std::optional<pricefeedpb::PriceReport> UpdateReport(const std::string& feed, int64_t round) {
    auto rows = store_->Query("SELECT report FROM price_updates WHERE feed_id = ? AND round = ?", {feed, round});
    EXPECT_TRUE(rows.ok() && rows->size() == 1) << rows.status().ToString();
    if (!rows.ok() || rows->size() != 1) return std::nullopt;
    auto blob = (*rows)[0].Bytes(0);
    pricefeedpb::PriceReport report;
    if (!blob.ok() || !report.ParseFromArray(blob->data(), int(blob->size()))) return std::nullopt;
    return report;
  }

  // The script stored for outbox item `key`.
  std::vector<uint8_t> OutboxScript(const std::string& key) {
    auto rows = store_->Query("SELECT script FROM chain_outbox WHERE item_key = ?", {key});
    EXPECT_TRUE(rows.ok() && rows->size() == 1) << rows.status().ToString();
    if (!rows.ok() || rows->size() != 1) return {};
    auto script = (*rows)[0].Bytes(0);
    EXPECT_TRUE(script.ok()) << script.status().ToString();
    return script.ok() ? *script : store::Blob{};
  }

  // The integer in the first column of the single row `sql` answers; -1 (and a failure) otherwise.
  int64_t Int(const std::string& sql, const store::Params& params = {}) {
    auto rows = store_->Query(sql, params);
    EXPECT_TRUE(rows.ok() && rows->size() == 1) << sql << ": " << rows.status().ToString();
    if (!rows.ok() || rows->size() != 1) return -1;
    auto value = (*rows)[0].Int(0);
    EXPECT_TRUE(value.ok()) << sql << ": " << value.status().ToString();
    return value.ok() ? *value : -1;
  }
  int64_t Count(const std::string& sql) { return Int(sql); }

  std::vector<UpdateRow> Updates(const std::string& feed) {
    auto rows =
        store_->Query("SELECT round, cause, outbox_key FROM price_updates WHERE feed_id = ? ORDER BY round", {feed});
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    std::vector<UpdateRow> out;
    if (!rows.ok()) return out;
    for (const store::Row& r : *rows) out.push_back({*r.Int(0), *r.Text(1), *r.OptionalText(2)});
    return out;
  }

  int64_t PairRound() { return Count("SELECT round FROM price_pairs WHERE pair = 'NEO/USD'"); }
  int64_t FeedColumn(const std::string& feed, const std::string& column) {
    return Int("SELECT " + column + " FROM price_feeds WHERE id = ?", {feed});
  }

  static std::string Key(const std::string& feed, int64_t round) {
    return "pricefeed:" + feed + ":" + std::to_string(round);
  }

  VenueServers venues_{"11.23"};
  crypto::PrivateKey report_key_ = crypto::PrivateKey::Generate(SecureRandom::Instance());
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<neo::HttpRpcClient> outbox_rpc_;
  std::unique_ptr<neo::KeyTransactionSigner> outbox_signer_;
  std::unique_ptr<tee::SocketRelay> relay_;
  std::unique_ptr<net::Fetcher> fetcher_;
  std::unique_ptr<mesh::AuthzPolicy> policy_;
  std::unique_ptr<mesh::Pipeline> pipeline_;
  Finals finals_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<PriceFeedService> service_;
  uint32_t first_block_ = 0;
};

TEST_F(PriceFeedRestartTest, ARoundDecidedBeforeACrashIsSentOnceAfterTheRestart) {
  TrustTheReportKey();
  Boot(/*send=*/false);
  ASSERT_FALSE(HasFatalFailure());
  const std::string feed = AddFeed();
  ASSERT_FALSE(feed.empty());
  Observe();

  // Decided and recorded in the store, not sent: the crash point.
  auto updates = Updates(feed);
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].round, 1);
  EXPECT_EQ(updates[0].cause, "first");
  EXPECT_EQ(updates[0].outbox_key, Key(feed, 1));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM chain_outbox"), 1);
  auto queued = Outbox::Get(*store_, Key(feed, 1));
  ASSERT_TRUE(queued.ok()) << queued.status().ToString();
  EXPECT_EQ(queued->state, OutboxState::kQueued);
  EXPECT_EQ(queued->owner, "pricefeed");
  EXPECT_EQ(queued->account_id, kAccount);
  EXPECT_EQ(PairRound(), 1);
  EXPECT_EQ(FeedColumn(feed, "last_round"), 1);
  EXPECT_EQ(FeedColumn(feed, "last_price"), kPrice);
  EXPECT_EQ(FeedColumn(feed, "updates"), 1);
  const auto decided = UpdateReport(feed, 1);
  ASSERT_TRUE(decided);
  EXPECT_EQ(decided->price(), kPrice);
  const std::vector<uint8_t> decided_script = OutboxScript(Key(feed, 1));
  ASSERT_FALSE(decided_script.empty());
  Crash();
  EXPECT_FALSE(ChainPrice()) << "nothing was sent before the crash";
  EXPECT_TRUE(UpdatesOnChain().empty());

  // The next instance sends what the first decided, once.
  Boot(/*send=*/true);
  ASSERT_FALSE(HasFatalFailure());
  auto first = finals_.WaitFor(Key(feed, 1));
  ASSERT_TRUE(first) << "the queued update was never sent";
  EXPECT_EQ(first->state, OutboxState::kHalt) << first->error;
  EXPECT_EQ(first->attempts, 1);
  auto on_chain = ChainPrice();
  ASSERT_TRUE(on_chain);
  EXPECT_EQ(on_chain->round, 1);
  EXPECT_EQ(on_chain->price, kPrice);
  EXPECT_EQ(on_chain->decimals, 8);
  EXPECT_EQ(on_chain->timestamp, decided->timestamp_ms()) << "the round the first instance signed, not a new one";
  auto sent = UpdatesOnChain();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].script(), decided_script);
  EXPECT_EQ(sent[0].hash().ToString(), first->tx_hash);

  // The same prices: round 2 is observed, nothing is published.
  Observe();
  EXPECT_EQ(PairRound(), 2);
  EXPECT_EQ(Updates(feed).size(), 1u);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM chain_outbox"), 1);
  EXPECT_EQ(FeedColumn(feed, "last_round"), 1);
  EXPECT_EQ(service_->stats().updates, 0u);
  EXPECT_EQ(ChainPrice()->round, 1);

  // 2 % up, over the feed's 1 %: round 3 is published, and sent once.
  venues_.SetAllPrices(kMovedText);
  Observe();
  EXPECT_EQ(PairRound(), 3);
  updates = Updates(feed);
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[1].round, 3);
  EXPECT_EQ(updates[1].cause, "deviation");
  EXPECT_EQ(updates[1].outbox_key, Key(feed, 3));
  auto third = finals_.WaitFor(Key(feed, 3));
  ASSERT_TRUE(third);
  EXPECT_EQ(third->state, OutboxState::kHalt) << third->error;
  EXPECT_NE(third->tx_hash, first->tx_hash);
  on_chain = ChainPrice();
  ASSERT_TRUE(on_chain);
  EXPECT_EQ(on_chain->round, 3);
  EXPECT_EQ(on_chain->price, kMovedPrice);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM chain_outbox"), 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM chain_outbox WHERE state = 'halt'"), 2);
  EXPECT_EQ(FeedColumn(feed, "last_round"), 3);
  EXPECT_EQ(FeedColumn(feed, "last_price"), kMovedPrice);
  EXPECT_EQ(FeedColumn(feed, "updates"), 2);
  EXPECT_EQ(UpdatesOnChain().size(), 2u);
  EXPECT_EQ(finals_.Count(Key(feed, 1)), 1u);
  EXPECT_EQ(finals_.Count(Key(feed, 3)), 1u);
}

// Until setReportKey, every updatePrice FAULTs in the outbox's test run: the item fails unsent and
// the feed is marked to publish its next round whatever the price did — in memory, and in the
// store for the next instance.
TEST_F(PriceFeedRestartTest, AFailedUpdateRepublishesTheNextRound) {
  Boot(/*send=*/true);
  ASSERT_FALSE(HasFatalFailure());
  const std::string feed = AddFeed();
  ASSERT_FALSE(feed.empty());
  Observe();
  auto failed = finals_.WaitFor(Key(feed, 1));
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->state, OutboxState::kFailed);
  EXPECT_NE(failed->error.find("no report key is set"), std::string::npos) << failed->error;
  EXPECT_EQ(FeedColumn(feed, "republish"), 1);

  // The same prices, and the running service publishes again: republish (which fails again).
  Observe();
  auto updates = Updates(feed);
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[1].round, 2);
  EXPECT_EQ(updates[1].cause, "republish");
  auto again = finals_.WaitFor(Key(feed, 2));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->state, OutboxState::kFailed);
  EXPECT_EQ(FeedColumn(feed, "republish"), 1);
  EXPECT_FALSE(ChainPrice());

  // The mark survives a restart; with the key trusted, the republished round lands.
  Crash();
  TrustTheReportKey();
  Boot(/*send=*/true);
  ASSERT_FALSE(HasFatalFailure());
  Observe();
  updates = Updates(feed);
  ASSERT_EQ(updates.size(), 3u);
  EXPECT_EQ(updates[2].round, 3);
  EXPECT_EQ(updates[2].cause, "republish");
  EXPECT_EQ(FeedColumn(feed, "republish"), 0);
  auto landed = finals_.WaitFor(Key(feed, 3));
  ASSERT_TRUE(landed);
  EXPECT_EQ(landed->state, OutboxState::kHalt) << landed->error;
  auto on_chain = ChainPrice();
  ASSERT_TRUE(on_chain);
  EXPECT_EQ(on_chain->round, 3);
  EXPECT_EQ(on_chain->price, kPrice);

  // Published: the next unchanged round is not.
  Observe();
  EXPECT_EQ(PairRound(), 4);
  EXPECT_EQ(Updates(feed).size(), 3u);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM chain_outbox"), 3);
  EXPECT_EQ(UpdatesOnChain().size(), 1u);
}

// A feed deleted in the store (DeleteFeed's own UPDATE, as another instance on the store would
// run it) publishes nothing, while the process that still has it in memory runs rounds, nor after
// a restart.
TEST_F(PriceFeedRestartTest, ADeletedFeedPublishesNothing) {
  TrustTheReportKey();
  Boot(/*send=*/true);
  ASSERT_FALSE(HasFatalFailure());
  const std::string feed = AddFeed();
  ASSERT_FALSE(feed.empty());
  Observe();
  auto first = finals_.WaitFor(Key(feed, 1));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->state, OutboxState::kHalt) << first->error;

  Status deleted = store::RunInTransaction(*store_, store::TxMode::kWrite, [&](store::Transaction& tx) {
    return tx
        .Exec("UPDATE price_feeds SET deleted_at_ms = ? WHERE id = ? AND deleted_at_ms IS NULL",
              {SystemClock::Instance().NowUnixMillis(), feed})
        .status();
  });
  ASSERT_TRUE(deleted.ok()) << deleted.ToString();
  venues_.SetAllPrices(kMovedText);
  Observe();
  EXPECT_EQ(PairRound(), 2);
  EXPECT_EQ(Updates(feed).size(), 1u);
  EXPECT_EQ(FeedColumn(feed, "last_round"), 1);

  Crash();
  Boot(/*send=*/true);
  ASSERT_FALSE(HasFatalFailure());
  venues_.SetAllPrices("11.80");
  Observe();
  EXPECT_EQ(PairRound(), 3);
  EXPECT_EQ(Updates(feed).size(), 1u);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM chain_outbox"), 1);
  EXPECT_EQ(service_->stats().updates, 0u);
  EXPECT_EQ(ChainPrice()->round, 1);
  EXPECT_EQ(UpdatesOnChain().size(), 1u);
}

// The outbox records an item's failure, then tells the listener, which marks the feed to
// republish in a transaction of its own; the outbox never tells anyone of an item already final
// at Start. A process that dies between the two loses the mark, so Load finds such feeds again
// (a feed whose last update's item failed). Here an outbox without the service's listener stands
// in for that process.
TEST_F(PriceFeedRestartTest, AFailureRecordedJustBeforeACrashIsStillRepublished) {
  Boot(/*send=*/false);
  ASSERT_FALSE(HasFatalFailure());
  const std::string feed = AddFeed();
  ASSERT_FALSE(feed.empty());
  Observe();
  Crash();
  {
    chain_tx::OutboxOptions oo;
    oo.poll_interval = std::chrono::milliseconds(20);
    Outbox dying(oo, *store_, *outbox_rpc_, *outbox_signer_, SecureRandom::Instance(), SystemClock::Instance());
    ASSERT_TRUE(dying.Start().ok());
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    std::optional<OutboxState> state;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = Outbox::Get(*store_, Key(feed, 1));
      if (r.ok() && r->state != OutboxState::kQueued) {
        state = r->state;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polls the store, bounded above
    }
    ASSERT_EQ(state, OutboxState::kFailed);
  }
  TrustTheReportKey();
  Boot(/*send=*/true);
  ASSERT_FALSE(HasFatalFailure());
  Observe();
  auto updates = Updates(feed);
  ASSERT_EQ(updates.size(), 2u) << "round 1 failed and nothing was republished after the restart";
  EXPECT_EQ(updates[1].cause, "republish");
}

}  // namespace
}  // namespace neosl::services
