#include "apps/neosl/chain_relay.h"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include "core/log.h"
#include "devchain/chain.h"
#include "neo/account.h"
#include "services/oracle/oracle_chain.h"
#include "services/random/random_chain.h"

namespace neosl::app {
namespace {

constexpr int64_t kDatoshiPerGas = 100'000'000;
constexpr std::string_view kGasHash = "0xd2a4cff31913016155e38e474a2c06d08be276cf";

// The account's GAS in datoshi (0 when it holds none, or the amount does not parse).
int64_t GasBalance(neo::RpcClient& rpc, const neo::UInt160& account) {
  auto balances = rpc.GetNep17Balances(neo::ToAddress(account));
  if (!balances.ok()) return 0;
  const auto gas = neo::UInt160::Parse(kGasHash);
  for (const auto& b : balances->balances) {
    if (gas.ok() && b.asset_hash == *gas) {
      int64_t amount = 0;
      const auto [end, ec] = std::from_chars(b.amount.data(), b.amount.data() + b.amount.size(), amount);
      if (ec == std::errc::result_out_of_range) return INT64_MAX;  // far more than any top-up
      return ec == std::errc() && end == b.amount.data() + b.amount.size() ? amount : 0;
    }
  }
  return 0;
}

// Development only: the faucet tops the enclave's account up to `target` GAS so that it can
// pay for its answers.
Status FundOnDevchain(EmbeddedChain& devchain, neo::RpcClient& rpc, const neo::UInt160& account, int64_t target) {
  const int64_t have = GasBalance(rpc, account);
  if (target <= 0 || have >= target * kDatoshiPerGas / 2) return Status();
  auto funded = devchain.chain->Fund(account, target * kDatoshiPerGas - have, /*neo_token=*/false, /*wait=*/true);
  if (!funded.ok()) return funded.status().Annotate("funding the enclave's account from the devchain faucet");
  log::Info("devchain faucet funded the enclave's account", {{"account", neo::ToAddress(account)}, {"gas", target}});
  return Status();
}

}  // namespace

chain_requests::SubscriberFactory Subscribers(EmbeddedChain* devchain, neo::RpcClient& rpc, RandomSource& random,
                                              int64_t poll_ms) {
  if (devchain) return chain_requests::WsSubscriberFactory("ws://" + devchain->rpc_url.substr(7) + "/ws", rpc, random);
  return chain_requests::PollingSubscriberFactory(rpc, random, std::chrono::milliseconds(poll_ms));
}

StatusOr<std::unique_ptr<chain_requests::Relay>> StartRelay(const Config& config, const std::string& role,
                                                            EmbeddedChain* devchain,
                                                            const neo::HttpRpcClientOptions& chain_options,
                                                            store::Store& store, neo::RpcClient& rpc,
                                                            RunningEnclave& enclave, services::RandomService* random,
                                                            services::OracleService* oracle, const Clock& clock,
                                                            RandomSource& random_source, RelayParts* parts) {
  const int64_t confirmations = config.Int("chain_requests.confirmations");
  const int64_t poll_ms = config.Int("chain_requests.poll_ms");
  if (confirmations < 0 || confirmations > 100) return InvalidArgumentError("chain_requests.confirmations: 0 to 100");
  if (poll_ms < 10 || poll_ms > 60'000) return InvalidArgumentError("chain_requests.poll_ms: 10 to 60000");

  ASSIGN_OR_RETURN(parts->signer, tee::EnclaveNeoSigner::Create(*enclave.host));
  if (devchain) {
    RETURN_IF_ERROR(
        FundOnDevchain(*devchain, rpc, parts->signer->account(), config.Int("chain_requests.devchain_fund_gas")));
  }
  // The subscriber gets a client of its own (the relay's is busy sending and following).
  ASSIGN_OR_RETURN(parts->subscriber_rpc, neo::HttpRpcClient::Create(chain_options, clock, random_source));
  chain_requests::SubscriberFactory factory = Subscribers(devchain, *parts->subscriber_rpc, random_source, poll_ms);
  chain_requests::RelayOptions options;
  options.confirmations = uint32_t(confirmations);
  if (role != "all") {  // one service's process: its requests only, under a cursor of its own
    options.name = "chain_requests." + role;
    options.services = {role};
  }
  // A store that has never followed the chain starts after the node's tip (start_index unset):
  // requests made before this platform existed are not its to answer.
  auto relay = std::make_unique<chain_requests::Relay>(std::move(options), store, rpc, *parts->signer, random_source,
                                                       std::move(factory), clock);
  std::string served;
  if (random != nullptr) {
    relay->Register("random", services::random::ChainHandler(*random, [&enclave](std::span<const uint8_t> message) {
                      return enclave.SignReport(message);
                    }));
    served = "random";
  }
  if (oracle != nullptr) {
    relay->Register("oracle", services::oracle_chain::ChainHandler(*oracle));
    served += served.empty() ? "oracle" : ", oracle";
  }
  RETURN_IF_ERROR(relay->Start());
  log::Info("chain request relay running", {{"account", neo::ToAddress(parts->signer->account())},
                                            {"services", served},
                                            {"cursor", role == "all" ? "chain_requests" : "chain_requests." + role}});
  return relay;
}

StatusOr<std::unique_ptr<chain_tx::Outbox>> MakeOutbox(const Config& config, EmbeddedChain* devchain,
                                                       const neo::HttpRpcClientOptions& chain_options,
                                                       store::Store& store, RunningEnclave& enclave, const Clock& clock,
                                                       RandomSource& random_source, OutboxParts* parts) {
  ASSIGN_OR_RETURN(parts->signer, tee::EnclaveNeoSigner::Create(*enclave.host));
  ASSIGN_OR_RETURN(parts->rpc, neo::HttpRpcClient::Create(chain_options, clock, random_source));
  if (devchain) {
    RETURN_IF_ERROR(FundOnDevchain(*devchain, *parts->rpc, parts->signer->account(),
                                   config.Int("chain_requests.devchain_fund_gas")));
  }
  chain_tx::OutboxOptions options;
  return std::make_unique<chain_tx::Outbox>(options, store, *parts->rpc, *parts->signer, random_source, clock);
}

StatusOr<std::unique_ptr<gasbank::DepositWatcher>> StartDepositWatcher(const Config& config, uint32_t confirmations,
                                                                       EmbeddedChain* devchain,
                                                                       const neo::HttpRpcClientOptions& chain_options,
                                                                       store::Store& store, const Clock& clock,
                                                                       RandomSource& random_source,
                                                                       DepositParts* parts) {
  const int64_t poll_ms = config.Int("chain_requests.poll_ms");
  if (poll_ms < 10 || poll_ms > 60'000) return InvalidArgumentError("chain_requests.poll_ms: 10 to 60000");
  ASSIGN_OR_RETURN(parts->subscriber_rpc, neo::HttpRpcClient::Create(chain_options, clock, random_source));
  chain_requests::SubscriberFactory factory = Subscribers(devchain, *parts->subscriber_rpc, random_source, poll_ms);
  gasbank::DepositWatcherOptions options;
  options.confirmations = confirmations;
  auto watcher = std::make_unique<gasbank::DepositWatcher>(std::move(options), store, std::move(factory), clock);
  RETURN_IF_ERROR(watcher->Start());
  log::Info("gas bank deposits followed", {{"confirmations", int64_t{confirmations}}});
  return watcher;
}

}  // namespace neosl::app
