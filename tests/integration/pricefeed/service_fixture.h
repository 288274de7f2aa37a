// PriceFeedService driven directly (no `neosl serve`) against real parts: an in-process devchain
// with SamplePriceFeed on 127.0.0.1:0, a SQLite store with every migration, the five venue
// servers in their real formats, and pricefeed::Observe over a real Fetcher and SocketRelay as
// the enclave. Rounds run through ObservePair; outbox outcomes are awaited through the listener.
// A "crash" is the service and its outbox destroyed with their work in the store; the next
// instance on the same store takes it up. With `charging_`, updates are paid for through a
// FakeGasBank on an in-process mesh.
#pragma once

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
#include "mesh/client.h"
#include "mesh/policy.h"
#include "mesh/registry.h"
#include "mesh/server.h"
#include "net/fetcher.h"
#include "schema/migrations.h"
#include "services/pricefeed/observe.h"
#include "services/pricefeed/pricefeed_service.h"
#include "services/pricefeed/venues.h"
#include "store/sqlite_store.h"
#include "support/test_store_open.h"
#include "tee/socket_relay.h"
#include "unit/services/functions/fake_gas_bank.h"
#include <grpcpp/client_context.h>

namespace neosl::services::pricefeed_test {

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

class PriceFeedServiceTest : public devchain::testing::DevchainTest {
 protected:
  void SetUp() override {
    StartChain();  // blocks on demand
    ASSERT_FALSE(HasFatalFailure());
    auto store = ::neosl::testing::OpenTestStore({.path = dir_.File("neosl.db")});
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

    // The gas bank's double on a mesh server of its own, which outlives every instance of the
    // service; the service calls it over its own client, as "pricefeed".
    bank_ = std::make_unique<neosl::testing::FakeGasBank>(*pipeline_);
    bank_server_ = std::make_unique<mesh::MeshServer>(mesh::ServerOptions{}, *pipeline_, "bank-1");
    bank_server_->AddService(bank_.get());
    ASSERT_TRUE(bank_server_->Start().ok());
    registry_ = mesh::NewMemoryRegistry();
    auto reg = registry_->Register(mesh::Endpoint{"gasbank", "bank-1", "inproc", "t", true, {}});
    ASSERT_TRUE(reg.ok());
    registration_ = std::move(*reg);
    mesh::ClientOptions co;
    co.identity = std::string(PriceFeedService::kIdentity);
    client_ = std::make_unique<mesh::MeshClient>(co, *registry_, mesh::InProcessChannels(*bank_server_, co.identity),
                                                 SystemClock::Instance(), SecureRandom::Instance());
  }

  void TearDown() override {
    Crash();  // the service and outbox before the chain they use
    client_.reset();
    registration_.reset();
    if (bank_server_) bank_server_->Shutdown(std::chrono::milliseconds(1000));
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
    service_ = std::make_unique<PriceFeedService>(
        *pipeline_, *store_, std::move(enclave), SystemClock::Instance(), SecureRandom::Instance(),
        report_key_.public_key(), Options(), charging_ ? gasbank::GasCharger(client_.get()) : gasbank::GasCharger());
    // The service's RPCs (GetFeed) on a server of this instance's own.
    feed_server_ = std::make_unique<mesh::MeshServer>(mesh::ServerOptions{}, *pipeline_, "feed-1");
    feed_server_->AddService(service_.get());
    ASSERT_TRUE(feed_server_->Start().ok());
    feed_stub_ = pricefeedpb::PriceFeed::NewStub(feed_server_->InProcessChannel("gateway"));
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
    feed_stub_.reset();
    if (feed_server_) feed_server_->Shutdown(std::chrono::milliseconds(1000));
    outbox_.reset();
    feed_server_.reset();
    service_.reset();
  }

  // A feed of kPair publishing to SamplePriceFeed (or, without `target`, only here) on a 1 % move;
  // its id.
  std::string AddFeed(bool target = true) {
    pricefeedpb::CreateFeedRequest req;
    req.set_pair(kPair);
    req.set_deviation_bps(100);
    req.set_heartbeat_s(3600);
    if (target) req.mutable_target()->set_contract(devchain::NativeRegistry::SamplePriceFeedHash().ToString());
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

  // GetFeed as the feed's account asks for it.
  StatusOr<pricefeedpb::Feed> GetFeed(const std::string& id) {
    pricefeedpb::GetFeedRequest req;
    req.set_id(id);
    pricefeedpb::Feed out;
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-account-id", kAccount);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    RETURN_IF_ERROR(mesh::FromGrpcStatus(feed_stub_->GetFeed(&ctx, req, &out)));
    return out;
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
  bool charging_ = false;  // set before Boot: the service charges through bank_
  std::unique_ptr<neosl::testing::FakeGasBank> bank_;
  std::unique_ptr<mesh::MeshServer> bank_server_;
  std::unique_ptr<mesh::Registry> registry_;
  std::unique_ptr<mesh::Registration> registration_;
  std::unique_ptr<mesh::MeshClient> client_;
  Finals finals_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<PriceFeedService> service_;
  std::unique_ptr<mesh::MeshServer> feed_server_;
  std::unique_ptr<pricefeedpb::PriceFeed::Stub> feed_stub_;
  uint32_t first_block_ = 0;
};

}  // namespace neosl::services::pricefeed_test
