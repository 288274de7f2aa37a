// How a service charges an account through the gas bank (issue #12, docs/gasbank.md "Holds"):
// reserve the fee of the most the work can use before doing it, then charge what it used on
// success, or release the hold on failure or timeout. The calls go to the gas bank service over
// the mesh (ReserveGas, ChargeGas, ReleaseGas; a service never touches the bank's tables).
//
//   auto hold = charger.Reserve(account, "random.generate", {{"word", n}}, request_id);
//   if (!hold.ok()) return hold.status();  // FAILED_PRECONDITION: insufficient funds; no work
//   … the work …
//   ok ? charger.Charge(*hold, {{"word", n}}) : charger.Release(*hold);
//
// A charger made without a client (the gas bank is off) reserves nothing and charges nothing;
// so does the bank for the platform's own account (the hold's id is empty).
//
// The reference names the work (an execution id, a request id, a feed and its round): the bank
// keys a hold by service and reference, so a Reserve asked again for the same work — a retry, or
// a process finding its holds again after a restart — gets the same hold back, in its current
// state, and never reserves twice.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "core/status.h"
#include "mesh/client.h"

namespace neosl::gasbank {

using Units = std::map<std::string, int64_t, std::less<>>;

struct ChargeHold {
  std::string id;  // empty: nothing reserved (charging off, or an account the bank does not charge)
  std::string account;
  std::string operation;
  int64_t amount = 0;
  bool charged() const { return !id.empty(); }
};

struct ReserveOptions {
  // A transaction sent for the account (a feed update): the most its system + network fee may
  // be, in datoshi. The hold covers it on top of the operation's fee; Charge passes the real fees.
  int64_t chain_fee_cap = 0;
  // How long the bank keeps the hold open before releasing it by expiry; 0: the bank's default
  // (gasbank.hold_ttl_ms). Work that may outlast that (a transaction waiting for a block) says so.
  std::chrono::milliseconds ttl{0};
};

class GasCharger {
 public:
  // Charging off.
  GasCharger() = default;
  // `client` null: charging is off. `client` (this service's own, so the bank sees who charges)
  // must outlive the charger.
  explicit GasCharger(mesh::MeshClient* client) : client_(client) {}

  bool enabled() const { return client_ != nullptr; }

  // FAILED_PRECONDITION "insufficient funds" (with the available balance and the fee in the
  // message); UNAVAILABLE when the bank cannot be reached; DEADLINE_EXCEEDED when the call being
  // served ran out of time first. The work must not start on any error. What the bank refuses as
  // a mistake of ours (an operation or unit the fee schedule does not price, a reference reused
  // for other work, the mesh policy) is INTERNAL: it is never the caller's fault.
  StatusOr<ChargeHold> Reserve(const std::string& account, std::string_view operation, const Units& units,
                               const std::string& reference, const ReserveOptions& options = {}) const;
  // Settles with the fee of `used` (+ a transaction's fees), capped at the hold. Errors are
  // logged and returned; the hold then expires into a release, which never overcharges.
  // Settling is not bound by the deadline of the call being served (the work is done; its fee
  // must not be lost because the caller stopped waiting), only by the client's default timeout.
  Status Charge(const ChargeHold& hold, const Units& used, int64_t chain_system_fee = 0,
                int64_t chain_network_fee = 0) const;
  // Gives the hold back whole. Like Charge, logged and returned, and not bound by the deadline.
  Status Release(const ChargeHold& hold) const;

 private:
  mesh::MeshClient* client_ = nullptr;
};

}  // namespace neosl::gasbank
