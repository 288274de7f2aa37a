#include "services/gasbank/charging.h"

#include <optional>
#include <utility>

#include "core/log.h"
#include "mesh/context.h"
#include "neosl/gasbank/v1/gasbank.pb.h"

namespace neosl::gasbank {
namespace {

namespace pb = ::neosl::gasbank::v1;

constexpr std::string_view kBank = "gasbank";
constexpr std::string_view kReserve = "/neosl.gasbank.v1.GasBank/ReserveGas";
constexpr std::string_view kCharge = "/neosl.gasbank.v1.GasBank/ChargeGas";
constexpr std::string_view kRelease = "/neosl.gasbank.v1.GasBank/ReleaseGas";

// What the bank's answer to a reserve means to the service's caller. Funds, load, reachability and
// time are theirs to know; anything else is a mistake between the service and the bank.
Status ReserveError(const Status& s, std::string_view operation) {
  switch (s.code()) {
    case StatusCode::kFailedPrecondition:  // insufficient funds: the bank's words, as they are
    case StatusCode::kResourceExhausted:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kCancelled: return s;
    case StatusCode::kUnavailable:
      return UnavailableError("the gas bank is unavailable; retry later (" + std::string(s.message()) + ")");
    default:
      log::Error("the gas bank refused a reserve", {{"operation", std::string(operation)}, {"error", s.ToString()}});
      return InternalError("the gas bank could not reserve the fee of " + std::string(operation) + ": " + s.ToString());
  }
}

// The call being served, without its deadline: a settlement must not be cut short because the
// caller has stopped waiting (the trace id still ties it to the request).
class WithoutDeadline {
 public:
  WithoutDeadline() {
    if (const mesh::CallContext* current = mesh::CurrentCall()) {
      call_ = *current;
      call_->deadline.reset();
    }
    scope_.emplace(call_ ? &*call_ : nullptr);
  }

 private:
  std::optional<mesh::CallContext> call_;
  std::optional<mesh::ScopedCall> scope_;
};

}  // namespace

StatusOr<ChargeHold> GasCharger::Reserve(const std::string& account, std::string_view operation, const Units& units,
                                         const std::string& reference, const ReserveOptions& options) const {
  ChargeHold hold;
  hold.account = account;
  hold.operation = std::string(operation);
  if (client_ == nullptr) return hold;
  pb::ReserveGasRequest request;
  request.set_operation(std::string(operation));
  for (const auto& [unit, count] : units) (*request.mutable_units())[unit] = count;
  request.set_reference(reference);
  request.set_ttl_ms(options.ttl.count());
  request.set_chain_fee_cap(options.chain_fee_cap);
  pb::GasHold answer;
  mesh::CallOptions call;
  call.account = account;
  if (Status s = client_->Call(kBank, kReserve, request, &answer, call); !s.ok()) return ReserveError(s, operation);
  hold.id = answer.hold_id();
  hold.amount = answer.amount();
  return hold;
}

Status GasCharger::Charge(const ChargeHold& hold, const Units& used, int64_t chain_system_fee,
                          int64_t chain_network_fee) const {
  if (client_ == nullptr || !hold.charged()) return Status();
  pb::ChargeGasRequest request;
  request.set_hold_id(hold.id);
  request.set_operation(hold.operation);
  for (const auto& [unit, count] : used) (*request.mutable_units())[unit] = count;
  request.set_chain_system_fee(chain_system_fee);
  request.set_chain_network_fee(chain_network_fee);
  pb::GasHold answer;
  mesh::CallOptions call;
  call.account = hold.account;
  WithoutDeadline detached;
  Status s = client_->Call(kBank, kCharge, request, &answer, call);
  if (!s.ok()) {
    log::Warn("could not charge a hold; it will be released when it expires",
              {{"hold", hold.id}, {"operation", hold.operation}, {"error", s.ToString()}});
  }
  return s;
}

Status GasCharger::Release(const ChargeHold& hold) const {
  if (client_ == nullptr || !hold.charged()) return Status();
  pb::ReleaseGasRequest request;
  request.set_hold_id(hold.id);
  pb::GasHold answer;
  mesh::CallOptions call;
  call.account = hold.account;
  WithoutDeadline detached;
  Status s = client_->Call(kBank, kRelease, request, &answer, call);
  if (!s.ok()) {
    log::Warn("could not release a hold; it will be released when it expires",
              {{"hold", hold.id}, {"operation", hold.operation}, {"error", s.ToString()}});
  }
  return s;
}

}  // namespace neosl::gasbank
