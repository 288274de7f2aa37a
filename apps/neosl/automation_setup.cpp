#include "apps/neosl/automation_setup.h"

#include <utility>

#include "apps/neosl/chain_relay.h"
#include "core/log.h"

namespace neosl::app {
namespace {

StatusOr<int64_t> IntIn(const Config& config, const std::string& key, int64_t lo, int64_t hi) {
  const int64_t v = config.Int(key);
  if (v < lo || v > hi) {
    return InvalidArgumentError(key + " must be " + std::to_string(lo) + " to " + std::to_string(hi) + ", not " +
                                std::to_string(v));
  }
  return v;
}

}  // namespace

void AutomationParts::Stop() {
  if (prices) prices->Stop();
  if (follower) follower->Stop();
  if (engine) engine->Stop();
}

AutomationParts::~AutomationParts() {
  Stop();
}

StatusOr<std::unique_ptr<services::AutomationService>> MakeAutomationService(
    const Config& config, mesh::Pipeline& pipeline, RunningEnclave& enclave, store::Store& store,
    mesh::MeshClient& client, gasbank::GasCharger charger, const Clock& clock, RandomSource& random,
    AutomationParts* parts) {
  ASSIGN_OR_RETURN(int64_t threads, IntIn(config, "automation.threads", 1, 64));
  ASSIGN_OR_RETURN(int64_t max_triggers, IntIn(config, "automation.max_triggers_per_account", 1, 1'000'000));
  ASSIGN_OR_RETURN(int64_t max_catch_up, IntIn(config, "automation.max_catch_up", 1, 100'000));
  ASSIGN_OR_RETURN(int64_t webhook_timeout, IntIn(config, "automation.webhook_timeout_ms", 100, 30'000));
  ASSIGN_OR_RETURN(int64_t max_tx_fee, IntIn(config, "automation.max_tx_fee", 1, 100'000'000'000));
  const std::string& zoneinfo = config.String("automation.zoneinfo_dir");

  // Webhooks go out through the enclave's relay: the same SSRF rules (net.allow_private) and
  // per-host rates as functions' fetch().
  net::FetcherOptions fetch;
  fetch.default_timeout = std::chrono::milliseconds(webhook_timeout);
  fetch.max_timeout = std::chrono::milliseconds(webhook_timeout);
  fetch.user_agent = "neosl-automation";
  ASSIGN_OR_RETURN(parts->fetcher, net::Fetcher::Create(fetch, *enclave.relay));

  automation::ActionDeps deps;
  deps.mesh = &client;
  deps.charger = charger;
  deps.fetcher = parts->fetcher.get();
  deps.clock = &clock;
  automation::ActionOptions actions;
  actions.webhook_timeout = std::chrono::milliseconds(webhook_timeout);
  actions.default_max_tx_fee = max_tx_fee;
  parts->actions = std::make_unique<automation::ActionRunner>(deps, actions);

  automation::EngineOptions engine;
  engine.threads = size_t(threads);
  engine.max_triggers_per_account = size_t(max_triggers);
  engine.max_catch_up = size_t(max_catch_up);
  engine.zoneinfo_dir = zoneinfo;
  // A new price trigger's pair is observed at once (the watcher is made before serving starts).
  engine.on_new_price_pair = [parts] {
    if (parts->prices) parts->prices->Poke();
  };
  parts->engine = std::make_unique<automation::Engine>(std::move(engine), store, *parts->actions, clock, random);

  automation::SpecLimits limits;
  limits.allow_http_webhooks = config.Bool("automation.allow_http");
  limits.zoneinfo_dir = zoneinfo;
  limits.max_tx_fee = max_tx_fee;
  // A webhook to a private address is refused when the trigger is created, by the relay's rules.
  limits.check_destination = [relay = enclave.relay](const std::string& host) { return relay->CheckDestination(host); };
  return std::make_unique<services::AutomationService>(pipeline, store, *parts->engine, clock, std::move(limits));
}

Status StartAutomation(const Config& config, AutomationParts& parts, chain_tx::Outbox& outbox, EmbeddedChain* devchain,
                       const neo::HttpRpcClientOptions& chain_options, store::Store& store, mesh::MeshClient* prices,
                       const Clock& clock, RandomSource& random) {
  ASSIGN_OR_RETURN(int64_t confirmations, IntIn(config, "automation.confirmations", 0, 100));
  ASSIGN_OR_RETURN(int64_t poll_ms, IntIn(config, "chain_requests.poll_ms", 10, 60'000));
  parts.actions->SetOutbox(&outbox);
  automation::Engine& engine = *parts.engine;
  outbox.Listen(std::string(automation::ActionRunner::kOutboxOwner),
                [&engine](const chain_tx::OutboxRecord& record) { engine.OnTransaction(record); });
  RETURN_IF_ERROR(engine.Start());

  ASSIGN_OR_RETURN(parts.subscriber_rpc, neo::HttpRpcClient::Create(chain_options, clock, random));
  automation::ChainFollowerOptions follow;
  follow.confirmations = uint32_t(confirmations);
  parts.follower = std::make_unique<automation::ChainFollower>(
      std::move(follow), store, *parts.subscriber_rpc, Subscribers(devchain, *parts.subscriber_rpc, random, poll_ms),
      [&engine](store::Transaction& tx, const automation::ChainBlock& block) { return engine.RecordBlock(tx, block); },
      [&engine](const automation::ChainBlock& block) { engine.AfterBlock(block); }, clock);
  RETURN_IF_ERROR(parts.follower->Start());

  if (prices != nullptr) {
    parts.prices = std::make_unique<automation::PriceWatcher>(
        *prices, [&engine](const automation::PriceTick& tick) { engine.OnPrice(tick); }, random,
        [&engine] { return engine.PricePairs(); });
    RETURN_IF_ERROR(parts.prices->Start());
  }
  log::Info("automation running", {{"confirmations", confirmations}, {"prices", prices != nullptr}});
  return Status::Ok();
}

}  // namespace neosl::app
