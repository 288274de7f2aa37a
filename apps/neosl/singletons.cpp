#include "apps/neosl/singletons.h"

#include <algorithm>
#include <chrono>
#include <string>

#include "apps/neosl/automation_setup.h"
#include "core/log.h"
#include "services/automation/engine.h"
#include "services/gasbank/gasbank_service.h"
#include "services/pricefeed/pricefeed_service.h"

namespace neosl::app {

StatusOr<std::unique_ptr<Singletons>> Singletons::Prepare(const SingletonDeps& d) {
  std::unique_ptr<Singletons> s(new Singletons(d));
  MeshHost& mesh = d.mesh;
  if (mesh.automation != nullptr && d.chain_rpc == nullptr) {
    return FailedPreconditionError(
        "automation needs the chain: set chain.rpc_url (a process of role automation embeds no devchain)");
  }
  // Transactions the services send (price updates, withdrawals, contract calls), each once.
  if (d.chain_rpc != nullptr && (mesh.pricefeed != nullptr || mesh.gasbank != nullptr || mesh.automation != nullptr)) {
    auto made =
        MakeOutbox(d.config, d.devchain, d.chain_options, d.store, d.enclave, d.clock, d.random, &s->outbox_parts_);
    if (!made.ok()) return made.status().Annotate("making the chain outbox");
    s->outbox_ = std::move(*made);
    if (mesh.pricefeed != nullptr) {
      s->outbox_->Listen(std::string(services::PriceFeedService::kOutboxOwner), mesh.pricefeed->Listener());
    }
    if (mesh.gasbank != nullptr) {
      s->outbox_->Listen(std::string(gasbank::Withdrawals::kOutboxOwner), mesh.gasbank->WithdrawalListener());
      // Withdrawals are paid from the hot wallet: the enclave's Neo account, the outbox's signer.
      s->gasbank_started_ = true;
      if (Status st = mesh.gasbank->Start(s->outbox_.get(), s->outbox_parts_.signer->account()); !st.ok()) {
        return st.Annotate("starting the gas bank");
      }
    }
  }
  if (mesh.gasbank != nullptr && !s->gasbank_started_) {  // no chain: balances and holds only
    s->gasbank_started_ = true;
    if (Status st = mesh.gasbank->Start(nullptr, neo::UInt160()); !st.ok()) return st.Annotate("starting the gas bank");
  }
  if (mesh.pricefeed != nullptr) {  // a follower until Lead
    s->pricefeed_started_ = true;
    if (Status st = mesh.pricefeed->Start(s->outbox_.get(), /*poll=*/true, /*lead=*/false); !st.ok()) {
      return st.Annotate("starting the price feed");
    }
  }
  return s;
}

Status Singletons::Lead() {
  if (leading_) return FailedPreconditionError("the singletons run already");
  leading_ = true;
  const SingletonDeps& d = deps_;
  MeshHost& mesh = mesh_;

  // The chain request relay: contracts' ServiceRequest notifications answered by this
  // process's services, signed by the enclave's Neo account (docs/chain-requests.md).
  if (d.chain_rpc != nullptr && d.config.Bool("chain_requests.enabled") &&
      (mesh.random != nullptr || mesh.oracle != nullptr)) {
    auto started = StartRelay(d.config, d.role, d.devchain, d.chain_options, d.store, *d.chain_rpc, d.enclave,
                              mesh.random, mesh.oracle, d.clock, d.random, &relay_parts_);
    if (!started.ok()) return started.status().Annotate("starting the chain request relay");
    relay_ = std::move(*started);
  }

  if (outbox_ != nullptr) {
    if (mesh.automation != nullptr) {
      // Block and event triggers follow the chain; price triggers the price feed (here, or in a
      // pricefeed process when this one has none).
      automation_started_ = true;
      if (Status st =
              StartAutomation(d.config, *mesh.automation, *outbox_, d.devchain, d.chain_options, d.store,
                              d.config.Bool("pricefeed.enabled") ? mesh.automation_client : nullptr, d.clock, d.random);
          !st.ok()) {
        return st.Annotate("starting automation");
      }
      // Triggers that other replicas' APIs change reach this engine through the store.
      const auto every = std::chrono::milliseconds(std::max<int64_t>(100, d.config.Int("automation.sync_ms")));
      automation::Engine* engine = mesh.automation->engine.get();
      sync_ = std::thread([this, engine, every] {
        std::unique_lock lock(sync_mu_);
        while (!sync_cv_.wait_for(lock, every, [this] { return stopping_; })) {
          lock.unlock();
          if (Status st = engine->Sync(); !st.ok()) {
            log::Warn("automation: sync with the store failed; retrying", {{"message", st.message()}});
          }
          lock.lock();
        }
      });
    }
    if (Status st = outbox_->Start(); !st.ok()) return st.Annotate("starting the chain outbox");
  }
  if (mesh.pricefeed != nullptr) {
    if (Status st = mesh.pricefeed->Lead(); !st.ok()) return st.Annotate("running the price feed's rounds");
  }

  // Deposits: GAS transfers to the accounts' deposit addresses, credited after their
  // confirmations (services/gasbank/deposits.h).
  if (mesh.gasbank != nullptr && d.chain_rpc != nullptr) {
    auto started = StartDepositWatcher(d.config, mesh.gasbank->confirmations(), d.devchain, d.chain_options, d.store,
                                       d.clock, d.random, &deposit_parts_);
    if (!started.ok()) return started.status().Annotate("following the gas bank's deposits");
    deposits_ = std::move(*started);
  }
  return Status();
}

Singletons::~Singletons() {
  {
    std::lock_guard lock(sync_mu_);
    stopping_ = true;
  }
  sync_cv_.notify_all();
  if (sync_.joinable()) sync_.join();
  relay_.reset();  // before the services and the chain it answers with
  deposits_.reset();
  if (automation_started_) mesh_.automation->Stop();  // before the outbox its contract calls use
  if (pricefeed_started_) mesh_.pricefeed->Stop();    // before the outbox it sends through
  if (gasbank_started_) mesh_.gasbank->Stop();
  outbox_.reset();
}

}  // namespace neosl::app
