// A test double of the gas bank service (proto/neosl/gasbank/v1) for the tests of the services
// that charge through it (issue #12): ReserveGas, ChargeGas and ReleaseGas on a real gRPC
// callback service behind the mesh pipeline, so calls arrive as they do in `neosl serve` — with
// the calling service's identity, the account, the deadline — and pass the same authorization
// policy. Fees come from the built-in fee schedule (an operation or unit it does not price is an
// error here, unlike in the bank, so a service asking for the wrong thing fails its test). Every
// call is recorded; an account set poor is refused with FAILED_PRECONDITION "insufficient funds";
// holds are keyed <service>:<reference> as the bank keys them.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mesh/server.h"
#include "neosl/gasbank/v1/gasbank.grpc.pb.h"
#include "services/gasbank/fees.h"

namespace neosl::testing {

using FeeUnits = std::map<std::string, int64_t, std::less<>>;  // FeeSchedule::Fee's

struct GasBankCall;
// The methods of `calls`, in order: {"ReserveGas", "ChargeGas"}.
std::vector<std::string> Methods(const std::vector<GasBankCall>& calls);

struct GasBankCall {
  std::string method;  // "ReserveGas", "ChargeGas", "ReleaseGas"
  std::string caller;  // the calling service's identity
  std::string account;
  std::string operation;  // Reserve and Charge
  std::map<std::string, int64_t> units;
  std::string reference;  // Reserve
  int64_t chain_fee_cap = 0;
  int64_t ttl_ms = 0;
  std::string hold_id;  // Reserve: the hold given (empty when refused); Charge and Release: the hold named
  int64_t amount = 0;   // Reserve: held; Charge: charged
  int64_t chain_system_fee = 0, chain_network_fee = 0;
  bool had_deadline = false;
  StatusCode answer = StatusCode::kOk;
};

class FakeGasBank final : public ::neosl::gasbank::v1::GasBank::CallbackService {
 public:
  static constexpr std::string_view kIdentity = "gasbank";

  explicit FakeGasBank(mesh::Pipeline& pipeline)
      : pipeline_(pipeline), fees_(gasbank::FeeSchedule::FromYaml(gasbank::FeeSchedule::DefaultYaml()).value()) {}

  // ReserveGas for `account` is refused with FAILED_PRECONDITION "insufficient funds …".
  void SetPoor(const std::string& account, bool poor = true) {
    std::lock_guard lock(mu_);
    if (poor) {
      poor_.insert(account);
    } else {
      poor_.erase(account);
    }
  }
  // Every call of `method` is answered `status` (OK: answered normally again).
  void Fail(const std::string& method, Status status) {
    std::lock_guard lock(mu_);
    failures_[method] = std::move(status);
  }

  std::vector<GasBankCall> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  std::vector<GasBankCall> calls(std::string_view method) const {
    std::lock_guard lock(mu_);
    std::vector<GasBankCall> out;
    for (const auto& c : calls_) {
      if (c.method == method) out.push_back(c);
    }
    return out;
  }
  // Waits until at least `n` calls were made; false after `timeout`.
  bool WaitForCalls(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(20)) const {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return calls_.size() >= n; });
  }
  // "open", "settled", "released"; "" for a hold it never gave.
  std::string HoldState(const std::string& hold_id) const {
    std::lock_guard lock(mu_);
    auto it = holds_.find(hold_id);
    return it == holds_.end() ? "" : it->second.state;
  }
  // The fee the schedule asks for `operation` and `units` (what a Reserve of them holds).
  int64_t Fee(std::string_view operation, const std::map<std::string, int64_t>& units) const {
    return fees_.Fee(operation, FeeUnits(units.begin(), units.end())).value();
  }

  grpc::ServerUnaryReactor* ReserveGas(grpc::CallbackServerContext* ctx,
                                       const ::neosl::gasbank::v1::ReserveGasRequest* request,
                                       ::neosl::gasbank::v1::GasHold* response) override {
    return pipeline_.Unary(ctx, kIdentity, "ReserveGas", [&](const mesh::CallContext& call) {
      GasBankCall record = Start("ReserveGas", call);
      record.operation = request->operation();
      record.units = {request->units().begin(), request->units().end()};
      record.reference = request->reference();
      record.ttl_ms = request->ttl_ms();
      record.chain_fee_cap = request->chain_fee_cap();
      return Answer(std::move(record), [&](GasBankCall& c) -> Status {
        auto fee = fees_.Fee(c.operation, FeeUnits(c.units.begin(), c.units.end()));
        if (!fee.ok()) return fee.status();
        const int64_t amount = *fee + c.chain_fee_cap;
        if (poor_.count(c.account) > 0) {
          return FailedPreconditionError("insufficient funds: available 0, the fee is " + std::to_string(amount));
        }
        const std::string key = c.caller + ":" + c.reference;
        auto known = keys_.find(key);
        if (known == keys_.end()) {
          const std::string id = "hold_" + std::to_string(holds_.size() + 1);
          holds_[id] = Hold{c.account, amount, "open", 0};
          known = keys_.emplace(key, id).first;
        }
        const Hold& hold = holds_.at(known->second);
        if (hold.account != c.account || hold.amount != amount) {
          return AlreadyExistsError("hold " + key + " was reserved for other work");
        }
        c.hold_id = known->second;
        c.amount = hold.amount;
        response->set_hold_id(c.hold_id);
        response->set_amount(hold.amount);
        response->set_state(hold.state);
        return Status();
      });
    });
  }

  grpc::ServerUnaryReactor* ChargeGas(grpc::CallbackServerContext* ctx,
                                      const ::neosl::gasbank::v1::ChargeGasRequest* request,
                                      ::neosl::gasbank::v1::GasHold* response) override {
    return pipeline_.Unary(ctx, kIdentity, "ChargeGas", [&](const mesh::CallContext& call) {
      GasBankCall record = Start("ChargeGas", call);
      record.hold_id = request->hold_id();
      record.operation = request->operation();
      record.units = {request->units().begin(), request->units().end()};
      record.chain_system_fee = request->chain_system_fee();
      record.chain_network_fee = request->chain_network_fee();
      return Answer(std::move(record), [&](GasBankCall& c) -> Status {
        auto it = holds_.find(c.hold_id);
        if (it == holds_.end() || it->second.account != c.account) return NotFoundError("no hold " + c.hold_id);
        if (it->second.state != "open") return FailedPreconditionError("hold " + c.hold_id + " is not open");
        auto fee = fees_.Fee(c.operation, FeeUnits(c.units.begin(), c.units.end()));
        if (!fee.ok()) return fee.status();
        it->second.state = "settled";
        it->second.charged = std::min(it->second.amount, *fee + c.chain_system_fee + c.chain_network_fee);
        c.amount = it->second.charged;
        response->set_hold_id(c.hold_id);
        response->set_amount(it->second.amount);
        response->set_state("settled");
        response->set_charged(c.amount);
        return Status();
      });
    });
  }

  grpc::ServerUnaryReactor* ReleaseGas(grpc::CallbackServerContext* ctx,
                                       const ::neosl::gasbank::v1::ReleaseGasRequest* request,
                                       ::neosl::gasbank::v1::GasHold* response) override {
    return pipeline_.Unary(ctx, kIdentity, "ReleaseGas", [&](const mesh::CallContext& call) {
      GasBankCall record = Start("ReleaseGas", call);
      record.hold_id = request->hold_id();
      return Answer(std::move(record), [&](GasBankCall& c) -> Status {
        auto it = holds_.find(c.hold_id);
        if (it == holds_.end() || it->second.account != c.account) return NotFoundError("no hold " + c.hold_id);
        if (it->second.state != "open") return FailedPreconditionError("hold " + c.hold_id + " is not open");
        it->second.state = "released";
        response->set_hold_id(c.hold_id);
        response->set_amount(it->second.amount);
        response->set_state("released");
        return Status();
      });
    });
  }

 private:
  struct Hold {
    std::string account;
    int64_t amount = 0;
    std::string state;
    int64_t charged = 0;
  };

  static GasBankCall Start(std::string method, const mesh::CallContext& call) {
    GasBankCall c;
    c.method = std::move(method);
    c.caller = call.caller;
    c.account = call.account;
    c.had_deadline = call.deadline.has_value();
    return c;
  }

  // Runs `body` under the lock (unless the method is set to fail), records the call, answers.
  template <typename Body>
  Status Answer(GasBankCall c, Body body) {
    Status s;
    {
      std::lock_guard lock(mu_);
      auto failure = failures_.find(c.method);
      s = failure != failures_.end() && !failure->second.ok() ? failure->second : body(c);
      if (!s.ok()) c.hold_id = c.method == "ReserveGas" ? "" : c.hold_id;
      c.answer = s.code();
      calls_.push_back(std::move(c));
    }
    cv_.notify_all();
    return s;
  }

  mesh::Pipeline& pipeline_;
  const gasbank::FeeSchedule fees_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::set<std::string> poor_;
  std::map<std::string, Status> failures_;
  std::vector<GasBankCall> calls_;
  std::map<std::string, Hold> holds_;        // by id
  std::map<std::string, std::string> keys_;  // <caller>:<reference> → hold id
};

inline std::vector<std::string> Methods(const std::vector<GasBankCall>& calls) {
  std::vector<std::string> out;
  for (const auto& c : calls) out.push_back(c.method);
  return out;
}

}  // namespace neosl::testing
