// GasBankService: its life (Start, Stop, the expiry thread), the RPCs' way onto the work queue,
// and the holds services take (ReserveGas, ChargeGas, ReleaseGas). What accounts ask is in
// gasbank_api.cpp.
#include "services/gasbank/gasbank_service.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "core/business_metrics.h"
#include "core/ids.h"
#include "core/log.h"
#include "neo/account.h"
#include "services/gasbank/usage.h"

namespace neosl::services {
namespace {

using gasbank::HoldInfo;

// Calls waiting for a thread, per thread, before the service answers RESOURCE_EXHAUSTED.
constexpr size_t kQueuedPerThread = 256;
// Expiry ticks between two recoveries of withdrawal outcomes (Withdrawals::Recover).
constexpr uint64_t kRecoverEveryTicks = 30;

Status Busy() {
  return ResourceExhaustedError("the gas bank is busy; retry later")
      .WithDetail(ErrorDetail{"QuotaFailure", {}}.Add("resource", "gas bank service queue"));
}

StatusOr<std::string> CallerAccount(const mesh::CallContext& call) {
  if (call.account.empty() || !AccountId::IsWellFormed(call.account)) {
    return PermissionDeniedError("the gas bank acts for an account: the call carries none");
  }
  return call.account;
}

using Units = std::map<std::string, int64_t, std::less<>>;  // FeeSchedule::Fee's

Units UnitsOf(const google::protobuf::Map<std::string, int64_t>& units) {
  return Units(units.begin(), units.end());
}

// The schedule's fee of `operation`; an operation it does not price is free (0).
StatusOr<int64_t> FeeOf(const gasbank::FeeSchedule& fees, const std::string& operation, const Units& units) {
  StatusOr<int64_t> fee = fees.Fee(operation, units);
  if (fee.ok()) return fee;
  if (fee.status().code() == StatusCode::kNotFound) return int64_t{0};
  if (fee.status().code() == StatusCode::kInvalidArgument) {
    return FieldViolationError("units", std::string(fee.status().message()));
  }
  return fee.status();
}

// The open holds, for the metrics: counted here, once per expiry pass, and never on a scrape.
void MeasureOpenHolds(store::Store& store) {
  auto rows =
      store.Query("SELECT COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM gasbank_holds WHERE state = 'open'");
  if (!rows.ok() || rows->empty()) return;
  StatusOr<int64_t> count = (*rows)[0].Int(0), held = (*rows)[0].Int(1);
  if (!count.ok() || !held.ok()) return;
  metrics::GasBank().holds_open.Set({}, double(*count));
  metrics::GasBank().held.Set({}, double(*held));
}

void HoldToProto(const HoldInfo& hold, gasbankpb::GasHold* out) {
  out->set_hold_id(hold.id);
  out->set_amount(hold.amount);
  out->set_state(hold.state);
  out->set_charged(hold.charged);
}

}  // namespace

GasBankService::GasBankService(mesh::Pipeline& pipeline, store::Store& store, gasbank::DepositKeyDeriver derive,
                               const Clock& clock, RandomSource& random, GasBankOptions options)
    : pipeline_(pipeline),
      store_(store),
      clock_(clock),
      random_(random),
      options_(std::move(options)),
      ledger_(store, clock, random),
      addresses_(store, std::move(derive), clock),
      work_(std::make_unique<WorkQueue>(std::max<size_t>(1, options_.threads),
                                        std::max<size_t>(1, options_.threads) * kQueuedPerThread)) {}

GasBankService::~GasBankService() {
  Stop();
  work_.reset();  // the calls still queued finish while the rest is here
}

Status GasBankService::Start(chain_tx::Outbox* outbox, const neo::UInt160& hot) {
  {
    std::lock_guard lock(mu_);
    if (started_) return FailedPreconditionError("the gas bank service is started already");
    started_ = true;
  }
  if (outbox != nullptr) {
    // For the audit, which reconciles custody against the chain's GAS at this address too.
    const Status recorded =
        store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
          for (const auto& [name, value] : {std::pair<std::string, std::string>{"hot_script_hash", hot.ToString()},
                                            {"hot_address", neo::ToAddress(hot)}}) {
            RETURN_IF_ERROR(
                tx.Exec("INSERT INTO gasbank_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO "
                        "UPDATE SET value = excluded.value",
                        {name, value}));
          }
          return Status();
        });
    if (!recorded.ok()) return recorded.Annotate("recording the hot wallet");
  }
  {
    std::unique_lock chain(chain_mu_);
    outbox_ = outbox;
    withdrawals_ =
        std::make_unique<gasbank::Withdrawals>(options_.withdrawals, store_, options_.fees, hot, clock_, random_);
    withdrawal_listener_ = withdrawals_->Listener();
  }
  // After the listener is in place: an outcome is either seen here or by the listener (and one
  // seen by both is applied once: every step is keyed).
  RecoverWithdrawals();
  {
    std::lock_guard lock(mu_);
    if (!stopping_) expirer_ = std::thread([this] { ExpireLoop(); });
  }
  log::Info("gas bank running", {{"withdrawals", outbox != nullptr ? "on" : "off (no chain)"},
                                 {"hot_wallet", outbox != nullptr ? neo::ToAddress(hot) : std::string()},
                                 {"threads", std::to_string(options_.threads)}});
  return Status();
}

void GasBankService::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (expirer_.joinable()) expirer_.join();
  std::unique_lock chain(chain_mu_);
  outbox_ = nullptr;
}

chain_tx::Outbox::Listener GasBankService::WithdrawalListener() {
  return [this](const chain_tx::OutboxRecord& record) {
    chain_tx::Outbox::Listener listener;
    {
      std::shared_lock chain(chain_mu_);
      listener = withdrawal_listener_;
    }
    if (listener) listener(record);
  };
}

void GasBankService::RecoverWithdrawals() {
  StatusOr<int> applied = withdrawals_->Recover();
  if (!applied.ok()) {
    log::Warn("applying withdrawal outcomes failed; retrying later", {{"error", applied.status().ToString()}});
  } else if (*applied > 0) {
    log::Info("withdrawal outcomes applied", {{"count", std::to_string(*applied)}});
  }
}

void GasBankService::ExpireLoop() {
  std::unique_lock lock(mu_);
  for (uint64_t tick = 1; !stopping_; ++tick) {
    cv_.wait_for(lock, options_.expire_interval, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    StatusOr<int> released = ledger_.Expire();
    MeasureOpenHolds(store_);
    if (!released.ok()) {
      log::Warn("releasing expired holds failed; retrying", {{"error", released.status().ToString()}});
    } else if (*released > 0) {
      log::Info("expired holds released", {{"count", std::to_string(*released)}});
    }
    // An outcome the outbox's listener could not apply (the store away for a moment) stays
    // pending until a recovery applies it.
    if (tick % kRecoverEveryTicks == 0) RecoverWithdrawals();
    lock.lock();
  }
}

// ---- the RPCs: admitted by the pipeline, run on the work queue ----

template <typename Request, typename Response>
grpc::ServerUnaryReactor* GasBankService::Queued(
    grpc::CallbackServerContext* ctx, std::string_view operation, const Request* request, Response* response,
    Status (GasBankService::*body)(const std::string&, const mesh::CallContext&, const Request&, Response*)) {
  return pipeline_.UnaryAsync(ctx, kIdentity, operation,
                              [this, request, response, body](const std::shared_ptr<const mesh::CallContext>& call,
                                                              const mesh::Pipeline::Done& done) {
                                StatusOr<std::string> account = CallerAccount(*call);
                                if (!account.ok()) return done(account.status());
                                const bool queued =
                                    work_->TrySubmit([this, call, request, response, body, done, account = *account] {
                                      mesh::ScopedCall scope(call.get());
                                      done((this->*body)(account, *call, *request, response));
                                    });
                                if (!queued) done(Busy());
                              });
}

grpc::ServerUnaryReactor* GasBankService::GetAccount(grpc::CallbackServerContext* ctx,
                                                     const gasbankpb::GetAccountRequest* request,
                                                     gasbankpb::Account* response) {
  return Queued(ctx, "GetAccount", request, response, &GasBankService::ShowAccount);
}

grpc::ServerUnaryReactor* GasBankService::GetLedger(grpc::CallbackServerContext* ctx,
                                                    const gasbankpb::GetLedgerRequest* request,
                                                    gasbankpb::LedgerPage* response) {
  return Queued(ctx, "GetLedger", request, response, &GasBankService::PageLedger);
}

grpc::ServerUnaryReactor* GasBankService::GetUsage(grpc::CallbackServerContext* ctx,
                                                   const gasbankpb::GetUsageRequest* request,
                                                   gasbankpb::Usage* response) {
  return Queued(ctx, "GetUsage", request, response, &GasBankService::ReportUsage);
}

grpc::ServerUnaryReactor* GasBankService::RequestWithdrawal(grpc::CallbackServerContext* ctx,
                                                            const gasbankpb::WithdrawalRequest* request,
                                                            gasbankpb::Withdrawal* response) {
  return Queued(ctx, "RequestWithdrawal", request, response, &GasBankService::Withdraw);
}

grpc::ServerUnaryReactor* GasBankService::GetWithdrawal(grpc::CallbackServerContext* ctx,
                                                        const gasbankpb::GetWithdrawalRequest* request,
                                                        gasbankpb::Withdrawal* response) {
  return Queued(ctx, "GetWithdrawal", request, response, &GasBankService::ShowWithdrawal);
}

grpc::ServerUnaryReactor* GasBankService::ReserveGas(grpc::CallbackServerContext* ctx,
                                                     const gasbankpb::ReserveGasRequest* request,
                                                     gasbankpb::GasHold* response) {
  return Queued(ctx, "ReserveGas", request, response, &GasBankService::Reserve);
}

grpc::ServerUnaryReactor* GasBankService::ChargeGas(grpc::CallbackServerContext* ctx,
                                                    const gasbankpb::ChargeGasRequest* request,
                                                    gasbankpb::GasHold* response) {
  return Queued(ctx, "ChargeGas", request, response, &GasBankService::Charge);
}

grpc::ServerUnaryReactor* GasBankService::ReleaseGas(grpc::CallbackServerContext* ctx,
                                                     const gasbankpb::ReleaseGasRequest* request,
                                                     gasbankpb::GasHold* response) {
  return Queued(ctx, "ReleaseGas", request, response, &GasBankService::Release);
}

// ---- holds ----

Status GasBankService::Reserve(const std::string& account, const mesh::CallContext& call,
                               const gasbankpb::ReserveGasRequest& request, gasbankpb::GasHold* response) {
  if (request.operation().empty()) {
    return FieldViolationError("operation",
                               "operation is required: the fee schedule's name of the work, such as "
                               "functions.invoke");
  }
  // Checked for every account, the platform's too, so that a caller's mistake shows everywhere.
  ASSIGN_OR_RETURN(int64_t fee, FeeOf(options_.fees, request.operation(), UnitsOf(request.units())));
  if (request.chain_fee_cap() < 0) {
    return FieldViolationError("chain_fee_cap", "chain_fee_cap cannot be negative");
  }
  if (request.chain_fee_cap() > 0) {
    auto chain = options_.fees.ChainFee(request.chain_fee_cap(), 0);
    if (!chain.ok() || fee > std::numeric_limits<int64_t>::max() - *chain) {
      return FieldViolationError("chain_fee_cap", "chain_fee_cap is too large");
    }
    fee += *chain;
  }
  if (request.ttl_ms() < 0 || request.ttl_ms() > kMaxHoldTtlMs) {
    return FieldViolationError(
        "ttl_ms", "ttl_ms must be 1 to " + std::to_string(kMaxHoldTtlMs) + " (a week; 0: gasbank.hold_ttl_ms)");
  }
  std::string key = request.key();
  if (key.empty()) {
    if (request.reference().empty()) {
      return FieldViolationError("reference",
                                 "reference is required without a key: a hold is keyed <service>:<reference>");
    }
    key = call.caller + ":" + request.reference();
  }
  if (fee == 0 || !Charged(account)) return Status();  // nothing to hold: an empty hold id
  const int64_t ttl_ms = request.ttl_ms() != 0 ? request.ttl_ms() : options_.hold_ttl.count();
  StatusOr<HoldInfo> hold = ledger_.Reserve(account, fee, call.caller, request.reference(), key, ttl_ms);
  if (IsInsufficientFunds(hold.status())) {
    metrics::GasBank().insufficient_funds.Inc({call.caller});
    return InsufficientFunds(account, fee);
  }
  RETURN_IF_ERROR(hold);
  HoldToProto(*hold, response);
  return Status();
}

Status GasBankService::Charge(const std::string& account, const mesh::CallContext& /*call*/,
                              const gasbankpb::ChargeGasRequest& request, gasbankpb::GasHold* response) {
  if (request.hold_id().empty()) return FieldViolationError("hold_id", "hold_id is required");
  ASSIGN_OR_RETURN(HoldInfo hold, FindHold(account, request.hold_id()));
  ASSIGN_OR_RETURN(int64_t fee, FeeOf(options_.fees, request.operation(), UnitsOf(request.units())));
  if (request.chain_system_fee() < 0) {
    return FieldViolationError("chain_system_fee", "chain_system_fee cannot be negative");
  }
  if (request.chain_network_fee() < 0) {
    return FieldViolationError("chain_network_fee", "chain_network_fee cannot be negative");
  }
  ASSIGN_OR_RETURN(int64_t chain, options_.fees.ChainFee(request.chain_system_fee(), request.chain_network_fee()));
  int64_t used = 0;
  if (__builtin_add_overflow(fee, chain, &used)) used = std::numeric_limits<int64_t>::max();
  // Never more than was reserved: the work was accepted on that amount.
  const int64_t charged = std::min(hold.amount, used);
  for (int attempt = 0;; ++attempt) {
    if (hold.state == "settled") {
      if (hold.charged != charged) {
        return FailedPreconditionError("hold " + hold.id + " was settled already, for " + std::to_string(hold.charged) +
                                       " datoshi");
      }
      HoldToProto(hold, response);  // the same charge asked again: answered as it is
      return Status();
    }
    if (hold.state != "open") {
      return FailedPreconditionError("hold " + hold.id + " was released (or expired): it cannot be charged");
    }
    StatusOr<HoldInfo> settled = ledger_.Settle(hold.id, charged);
    if (settled.ok()) {
      HoldToProto(*settled, response);
      return Status();
    }
    // Closed since it was read (the same charge retried at once, or the expiry): answer by
    // what it became.
    if (settled.status().code() != StatusCode::kFailedPrecondition || attempt > 0) return settled.status();
    ASSIGN_OR_RETURN(hold, FindHold(account, hold.id));
  }
}

Status GasBankService::Release(const std::string& account, const mesh::CallContext& /*call*/,
                               const gasbankpb::ReleaseGasRequest& request, gasbankpb::GasHold* response) {
  if (request.hold_id().empty()) return FieldViolationError("hold_id", "hold_id is required");
  ASSIGN_OR_RETURN(HoldInfo hold, FindHold(account, request.hold_id()));
  for (int attempt = 0;; ++attempt) {
    if (hold.state == "released") {
      HoldToProto(hold, response);
      return Status();
    }
    if (hold.state != "open") {
      return FailedPreconditionError("hold " + hold.id + " was settled already: it cannot be released");
    }
    StatusOr<HoldInfo> released = ledger_.Release(hold.id);
    if (released.ok()) {
      HoldToProto(*released, response);
      return Status();
    }
    if (released.status().code() != StatusCode::kFailedPrecondition || attempt > 0) return released.status();
    ASSIGN_OR_RETURN(hold, FindHold(account, hold.id));
  }
}

StatusOr<HoldInfo> GasBankService::FindHold(const std::string& account, const std::string& id) {
  ASSIGN_OR_RETURN(std::optional<HoldInfo> hold, ledger_.Hold(id));
  // Another account's hold is not found, the same as none: ids do not leak across accounts.
  if (!hold || hold->account != account) {
    return NotFoundError("no hold " + id.substr(0, 64))
        .WithDetail(
            ErrorDetail{"ResourceInfo", {}}.Add("resource_type", "hold").Add("resource_name", id.substr(0, 64)));
  }
  return *hold;
}

Status GasBankService::InsufficientFunds(const std::string& account, int64_t needed, std::string_view what) {
  // Read after the refusal, for the message only: the refusal itself was the ledger's, atomic.
  StatusOr<gasbank::Balance> balance = ledger_.BalanceOf(account);
  const int64_t available = balance.ok() ? balance->available : 0;
  return FailedPreconditionError("insufficient funds: available " + gasbank::FormatGas(available) +
                                 " GAS, the operation needs " + gasbank::FormatGas(needed) + " GAS")
      .WithDetail(
          ErrorDetail{"PreconditionFailure", {}}
              .Add("type", "INSUFFICIENT_FUNDS")
              .Add("subject", "gasbank/" + account)
              .Add("description", "needed: " + std::string(what) +
                                      "; deposit GAS to the account's deposit address (GET /v1/gasbank/account)")
              .Add("available", available)
              .Add("required", needed));
}

}  // namespace neosl::services
