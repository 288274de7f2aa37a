// PriceFeedService's charging (pricefeed_service.h, "Charging"): the hold of each update a round
// decides, and its settlement once the update is recorded or its transaction has an outcome.
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "core/log.h"
#include "services/pricefeed/pricefeed_service.h"

namespace neosl::services {
namespace {

// The fee schedule's operation for an update; a transaction's fees are charged on top.
constexpr std::string_view kUpdateOperation = "pricefeed.update";
constexpr std::string_view kKeyPrefix = "pricefeed:";

// What a hold is for: "<feed>:<round>", the outbox key without its prefix.
std::string Reference(const std::string& feed_id, int64_t round) {
  return feed_id + ":" + std::to_string(round);
}

}  // namespace

gasbank::ReserveOptions PriceFeedService::UpdateHoldOptions(bool sends) const {
  gasbank::ReserveOptions o;
  if (sends) {
    o.chain_fee_cap = options_.max_update_fee;
    o.ttl = options_.update_hold_ttl;
  }
  return o;
}

void PriceFeedService::ReserveUpdates(int64_t round, std::vector<Publication>* publications) {
  if (!charger_.enabled()) return;
  std::map<std::string, std::string> unpaid;  // feed → why it could not pay; "" when it could
  std::erase_if(*publications, [&](Publication& p) {
    auto hold = charger_.Reserve(p.feed->account, kUpdateOperation, {}, Reference(p.feed->id, round),
                                 UpdateHoldOptions(p.outbox_key.has_value()));
    if (!hold.ok()) {
      unpaid[p.feed->id] = std::string(hold.status().message());
      return true;
    }
    p.hold = std::move(*hold);
    unpaid[p.feed->id] = "";
    // Known before the update can reach the outbox, so that its outcome always finds the hold.
    if (p.outbox_key && p.hold.charged()) {
      std::lock_guard lock(holds_mu_);
      holds_[*p.outbox_key] = p.hold;
    }
    return false;
  });
  std::lock_guard lock(mu_);
  for (const auto& [id, why] : unpaid) {
    auto it = feeds_.find(id);
    if (it == feeds_.end() || it->second.unpaid == why) continue;
    if (why.empty()) {
      log::Info("price feed publishing again: its account can pay", {{"feed", id}});
    } else {
      log::Warn("price feed update not published: its account cannot pay", {{"feed", id}, {"reason", why}});
    }
    it->second.unpaid = why;
  }
}

void PriceFeedService::SettleRecorded(const std::vector<Publication>& publications, const std::set<std::string>& gone,
                                      bool committed) {
  for (const Publication& p : publications) {
    if (!p.hold.charged()) continue;
    if (!committed) {
      if (p.outbox_key) {
        std::lock_guard lock(holds_mu_);
        holds_.erase(*p.outbox_key);
      }
    } else if (gone.count(p.feed->id) > 0) {
      if (p.outbox_key) {
        std::lock_guard lock(holds_mu_);
        holds_.erase(*p.outbox_key);
      }
      (void)charger_.Release(p.hold);
    } else if (!p.outbox_key) {
      (void)charger_.Charge(p.hold, {});  // recorded, and nothing more to it
    }
    // An update with a transaction is settled by its outcome (SettleSent).
  }
}

void PriceFeedService::SettleSent(const chain_tx::OutboxRecord& record) {
  std::optional<gasbank::ChargeHold> hold;
  {
    std::lock_guard lock(holds_mu_);
    if (auto it = holds_.find(record.key); it != holds_.end()) {
      hold = std::move(it->second);
      holds_.erase(it);
    }
  }
  if (!hold) {
    // Decided by an earlier process: its hold is found again by reserving the same work.
    if (!charger_.enabled() || record.account_id.empty() || record.key.rfind(kKeyPrefix, 0) != 0) return;
    auto again = charger_.Reserve(record.account_id, kUpdateOperation, {}, record.key.substr(kKeyPrefix.size()),
                                  UpdateHoldOptions(/*sends=*/true));
    if (!again.ok()) {
      log::Warn("the hold of a price update could not be found again; it expires",
                {{"key", record.key}, {"error", again.status().ToString()}});
      return;
    }
    hold = std::move(*again);
  }
  // Included, whether it halted or faulted, the transaction's fees were paid: the account pays
  // them. One that failed was never included and costs nothing.
  if (record.state == chain_tx::OutboxState::kFailed) {
    (void)charger_.Release(*hold);
  } else {
    (void)charger_.Charge(*hold, {}, record.system_fee.value_or(0), record.network_fee.value_or(0));
  }
}

}  // namespace neosl::services
