// Event-to-action latency of contract automation on the devchain (issue #13): one event trigger on
// GAS Transfer to dev wallet 3 whose action is a webhook to a loopback server, and M GAS transfers
// from dev wallet 0 sent one at a time. Everything runs in this process: the devchain (mining a
// block as soon as a transaction arrives) with its RPC/WebSocket server on 127.0.0.1:0, the
// engine on a SQLite store with every migration, the automation ChainFollower over a WsSubscriber
// feeding Engine::RecordBlock / AfterBlock, and the webhook through a net::Fetcher over a
// tee::SocketRelay allowing 127.0.0.1/32 (as `neosl serve` with net.allow_private).
//
// Latency = the webhook's POST received − the block holding the transfer persisted (a
// Chain::Listener registered before the RPC server's own, so it runs first, on the thread that
// persisted the block). The block's own timestamp is taken before execution, so it is not used.
//
// Peer, in the same run and from the same WebSocket server: a bare neo::WsSubscriber following
// GAS Transfer notifications, timed at its OnNotification for the same transfer (same matching
// rule, automation::EventFires). The ratio shows what the engine adds on top of the stream: the
// follower's store transaction (run + cursor), the action queue, the run's bookkeeping and the
// POST.
//
// Usage: automation_event_bench [transfers = 50]
//   build/bench/automation_event_bench 50
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench_util.h"
#include "chain_requests/relay.h"
#include "core/clock.h"
#include "core/random.h"
#include "devchain/chain.h"
#include "devchain/rpc_server.h"
#include "neo/rpc_client.h"
#include "neo/script_builder.h"
#include "neo/tx_sender.h"
#include "neo/ws_subscriber.h"
#include "net/fetcher.h"
#include "schema/migrations.h"
#include "services/automation/engine.h"
#include "services/automation/sources.h"
#include "services/automation/spec.h"
#include "store/sqlite_store.h"
#include "tee/socket_relay.h"
#include "unit/net/test_server.h"

namespace {

using namespace neosl;
using namespace neosl::automation;

constexpr std::string_view kGasHash = "0xd2a4cff31913016155e38e474a2c06d08be276cf";
constexpr uint32_t kPayee = 3;  // the dev wallet the trigger watches
constexpr auto kWait = std::chrono::seconds(30);

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "automation_event_bench: %s\n", what.c_str());
  std::exit(1);  // NOLINT(concurrency-mt-unsafe): a one-shot benchmark gives up here
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.ToString());
}

template <typename T>
T Must(StatusOr<T> v, const char* what) {
  Check(v.status(), what);
  return *std::move(v);
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// When things happened, in Unix µs, keyed by block index or "0x…" transaction hash.
class Times {
 public:
  void Note(const std::string& key, int64_t us) {
    {
      std::lock_guard lock(mu_);
      times_.emplace(key, us);  // the first time only
    }
    cv_.notify_all();
  }
  std::optional<int64_t> Get(const std::string& key) const {
    std::lock_guard lock(mu_);
    auto it = times_.find(key);
    return it == times_.end() ? std::nullopt : std::optional<int64_t>(it->second);
  }
  std::optional<int64_t> Wait(const std::string& key) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, kWait, [&] { return times_.count(key) > 0; })) return std::nullopt;
    return times_.at(key);
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, int64_t> times_;
};

// The peer: a bare subscriber noting when each matching notification reached it.
class NotificationTimer final : public neo::ChainEventHandler {
 public:
  NotificationTimer(EventCondition condition, Times& times) : condition_(std::move(condition)), times_(times) {}
  void OnNotification(const neo::NotificationEvent& n) override {
    const int64_t now = NowMicros();
    if (EventFires(condition_, n)) times_.Note(n.container.ToString(), now);
  }

 private:
  const EventCondition condition_;
  Times& times_;
};

std::unique_ptr<neo::HttpRpcClient> Client(uint16_t port) {
  neo::HttpRpcClientOptions o;
  o.url = "http://127.0.0.1:" + std::to_string(port);
  return Must(neo::HttpRpcClient::Create(o, SystemClock::Instance(), SecureRandom::Instance()), "an RPC client");
}

struct Sample {
  double to_webhook_ms;     // block persisted → webhook POST received
  double to_peer_ms;        // block persisted → the bare subscriber's OnNotification
  double send_to_block_ms;  // sendrawtransaction → block persisted
};

struct Summary {
  double p50, p99, max;
};

Summary Summarize(const std::vector<Sample>& samples, double Sample::*field) {
  std::vector<double> v;
  v.reserve(samples.size());
  for (const Sample& s : samples) v.push_back(s.*field);
  return {bench::Percentile(v, 0.50), bench::Percentile(v, 0.99),
          v.empty() ? 0 : *std::max_element(v.begin(), v.end())};
}

}  // namespace

int main(int argc, char** argv) try {
  const int transfers = argc > 1 ? static_cast<int>(std::strtol(argv[1], nullptr, 10)) : 50;
  if (transfers <= 0) Die("usage: automation_event_bench [transfers = 50]");
  char dir_template[] = "/tmp/automation_event_bench.XXXXXX";
  const char* dir_name = mkdtemp(dir_template);
  if (dir_name == nullptr) Die("mkdtemp failed");
  const std::string dir = dir_name;
  SystemClock& clock = SystemClock::Instance();
  RandomSource& random = SecureRandom::Instance();

  Times persisted;  // block index → persisted
  Times posted;     // tx hash → webhook POST received
  Times notified;   // tx hash → the bare subscriber's OnNotification
  {
    // Scoped so that everything stops before the directory goes.
    devchain::ChainOptions chain_options;
    chain_options.data_dir = dir + "/chain";
    chain_options.block_time = std::chrono::milliseconds(0);  // a block as soon as a transaction arrives
    std::unique_ptr<devchain::Chain> chain = Must(devchain::Chain::Open(std::move(chain_options)), "the devchain");
    chain->Subscribe(devchain::Chain::Listener{.on_block = [&](const devchain::BlockEvents& events) {
      persisted.Note(std::to_string(events.block.header().index()), NowMicros());
    }});
    chain->Start();
    std::unique_ptr<devchain::RpcServer> server =
        Must(devchain::RpcServer::Start(devchain::RpcServerOptions{.host = "127.0.0.1", .port = 0}, *chain),
             "the RPC server");
    const std::string ws_url = "ws://127.0.0.1:" + std::to_string(server->port()) + "/ws";
    auto sender_rpc = Client(server->port());
    auto follower_rpc = Client(server->port());
    auto factory_rpc = Client(server->port());
    auto peer_rpc = Client(server->port());

    std::unique_ptr<store::Store> db = Must(store::OpenSqliteStore({.path = dir + "/neosl.db"}), "the store");
    Check(db->Migrate(schema::Migrations()), "migrating");

    net::testing::TestServer hook([&](const net::testing::ReceivedRequest& r) {
      const int64_t now = NowMicros();
      // Idempotency-Key: "<trigger>:e:<0x tx hash>:<index>"
      const std::string key = r.Header("Idempotency-Key");
      if (const size_t at = key.find(":e:"); at != std::string::npos) {
        posted.Note(key.substr(at + 3, key.rfind(':') - at - 3), now);
      }
      return net::testing::Respond(200, "OK", "{}");
    });
    auto relay = Must(tee::SocketRelay::Create({.allow_private = {"127.0.0.1/32"}}), "the socket relay");
    auto fetcher = Must(net::Fetcher::Create({}, *relay), "the fetcher");
    ActionDeps deps;
    deps.fetcher = fetcher.get();
    deps.clock = &clock;
    ActionRunner actions(deps, ActionOptions{});
    Engine engine(EngineOptions{}, *db, actions, clock, random);
    Check(engine.Start(), "starting the engine");

    EventCondition condition{std::string(kGasHash), "Transfer", {}};
    condition.filters.push_back(EventFilter{
        1, "Hash160", Must(CanonicalParamText("Hash160", devchain::DevWalletAt(kPayee).address), "the payee")});
    TriggerSpec spec;
    spec.name = "gas-to-wallet-3";
    spec.condition = condition;
    spec.action = WebhookAction{hook.Url("/hook"), {}};
    spec.retry.max_attempts = 1;
    Check(engine.Create("acc_bench", spec, false).status(), "creating the trigger");

    ChainFollower follower(
        ChainFollowerOptions{}, *db, *follower_rpc, chain_requests::WsSubscriberFactory(ws_url, *factory_rpc, random),
        [&](store::Transaction& tx, const ChainBlock& block) { return engine.RecordBlock(tx, block); },
        [&](const ChainBlock& block) { engine.AfterBlock(block); }, clock);
    Check(follower.Start(), "starting the chain follower");

    NotificationTimer peer_handler(condition, notified);
    neo::WsSubscriberOptions peer_options;
    peer_options.url = ws_url;
    peer_options.subscriptions.notifications = neo::NotificationFilter{*neo::UInt160::Parse(kGasHash), "Transfer"};
    auto peer = Must(neo::WsSubscriber::Create(std::move(peer_options), *peer_rpc, random), "the peer subscriber");
    Check(peer->Start(peer_handler), "starting the peer subscriber");

    neo::KeyTransactionSigner signer(devchain::DevWalletAt(0).key);
    neo::TransactionSender sender(*sender_rpc, signer, random);
    neo::ScriptBuilder sb;
    Check(sb.Nep17Transfer(*neo::UInt160::Parse(kGasHash), devchain::DevWalletAt(0).script_hash,
                           devchain::DevWalletAt(kPayee).script_hash, neo::ContractParam::Int(100'000)),
          "the transfer script");

    // Transfer 0 warms up (both streams subscribed, connections open); not measured.
    std::vector<Sample> samples;
    std::vector<double> block_ms;  // the block's timestamp → persisted
    for (int i = 0; i <= transfers; ++i) {
      neo::Transaction tx = Must(sender.Build(sb.data()), "building a transfer");
      const std::string hash = tx.hash().ToString();
      const int64_t sent_us = NowMicros();
      Check(sender.Send(tx).status(), "sending a transfer");
      const auto webhook_us = posted.Wait(hash);
      const auto peer_us = notified.Wait(hash);
      if (!webhook_us || !peer_us) Die("transfer " + hash + " was not seen within 30 s");
      auto lookup = Must(chain->GetTransaction(tx.hash()), "looking the transfer up");
      if (!lookup.block_index) Die("transfer " + hash + " fired but is not in a block");
      const auto persisted_us = persisted.Get(std::to_string(*lookup.block_index));
      if (!persisted_us)
        Die("block " + std::to_string(*lookup.block_index) + " fired before the chain said it was persisted");
      if (i == 0) continue;
      samples.push_back({static_cast<double>(*webhook_us - *persisted_us) / 1'000.0,
                         static_cast<double>(*peer_us - *persisted_us) / 1'000.0,
                         static_cast<double>(*persisted_us - sent_us) / 1'000.0});
      block_ms.push_back(static_cast<double>(*persisted_us) / 1'000.0 - static_cast<double>(lookup.block_time_ms));
      if (i % 10 == 0) std::fprintf(stderr, "automation_event_bench: %d of %d transfers\n", i, transfers);
    }
    peer->Stop();
    follower.Stop();
    engine.Stop();  // waits for the last run's outcome to be recorded
    const EngineStats stats = engine.stats();
    server->Stop();
    chain->Stop();

    const Summary w = Summarize(samples, &Sample::to_webhook_ms);
    const Summary p = Summarize(samples, &Sample::to_peer_ms);
    const Summary s = Summarize(samples, &Sample::send_to_block_ms);
    const double ratio = p.p50 > 0 ? w.p50 / p.p50 : 0;
    std::printf(
        "automation event bench: %d GAS transfers one at a time on an in-process devchain (a block per transfer), "
        "one event trigger (GAS Transfer to dev wallet %u) with a loopback webhook; from the block persisted, %u "
        "cores\n",
        transfers, kPayee, std::thread::hardware_concurrency());
    auto print = [](const char* name, const Summary& x) {
      std::printf("%-28s p50 %8.3f ms  p99 %8.3f ms  max %8.3f ms\n", name, x.p50, x.p99, x.max);
    };
    print("engine: webhook received", w);
    print("bare WsSubscriber notified", p);
    print("(send -> block persisted)", s);
    std::printf("(block timestamp -> persisted: p50 %.3f ms)\n", bench::Percentile(block_ms, 0.5));
    std::printf("runs: %llu fired, %llu succeeded, %llu failed\n", static_cast<unsigned long long>(stats.fired),
                static_cast<unsigned long long>(stats.succeeded), static_cast<unsigned long long>(stats.failed));
    std::printf("%-28s %6.2f   (p99 %.2f)\n", "engine / bare subscriber p50", ratio, p.p99 > 0 ? w.p99 / p.p99 : 0);
    auto json = [&](const char* measure, const Summary& x) {
      std::printf("{\"measure\":\"%s\",\"transfers\":%d,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n", measure,
                  transfers, x.p50, x.p99, x.max);
    };
    json("block persisted to webhook", w);
    json("block persisted to bare subscriber", p);
    std::printf("{\"measure\":\"engine/subscriber p50\",\"ratio\":%.3f}\n", ratio);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "automation_event_bench: %s\n", e.what());
  return 1;
}
