// The Gas Bank service (proto/neosl/gasbank/v1, docs/gasbank.md): prepaid GAS for every service.
// It owns the ledger (ledger.h), the fee schedule (fees.h), the accounts' deposit addresses
// (deposits.h) and the withdrawals (withdrawals.h); other services never touch the bank's
// tables, they call it.
//
//   accounts   GetAccount, GetLedger, GetUsage, RequestWithdrawal, GetWithdrawal: the gateway,
//              for the call's account (REST /v1/gasbank/…).
//   services   ReserveGas, ChargeGas, ReleaseGas: functions, random, oracle, pricefeed and
//              automation (charging.h), acting for the call's account. A hold is keyed
//              "<caller>:<reference>" unless the caller names a key, so a retried reserve finds
//              the first hold; a charge or release asked again with the same outcome answers the
//              hold as it is, so a retried settle never charges twice.
//
// What is not charged: the platform's own account (options.platform_account) and operations the
// fee schedule does not price, or prices at 0 — ReserveGas answers a hold with an empty id, and
// the charger then has nothing to settle.
//
// Threads: the RPCs run on the service's WorkQueue (options.threads), never on a gRPC thread
// (every one of them is a store transaction). Start adds one thread that releases expired holds
// and retries withdrawal outcomes left pending.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>

#include "chain_tx/outbox.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/work_queue.h"
#include "mesh/server.h"
#include "neo/uint.h"
#include "neosl/gasbank/v1/gasbank.grpc.pb.h"
#include "services/gasbank/deposits.h"
#include "services/gasbank/fees.h"
#include "services/gasbank/ledger.h"
#include "services/gasbank/withdrawals.h"
#include "store/store.h"

namespace neosl::services {

namespace gasbankpb = ::neosl::gasbank::v1;

struct GasBankOptions {
  gasbank::FeeSchedule fees;     // what operations cost (gasbank.fee_schedule_file)
  std::string platform_account;  // the platform's own account: never charged ("" : none)
  uint32_t confirmations = 1;    // gasbank.confirmations, shown in GetAccount
  std::chrono::milliseconds hold_ttl{600'000};
  gasbank::WithdrawalOptions withdrawals;
  size_t threads = 4;  // calls served at once
  // How often holds past their expiry are released.
  std::chrono::milliseconds expire_interval{1'000};
};

class GasBankService final : public gasbankpb::GasBank::CallbackService {
 public:
  static constexpr std::string_view kIdentity = "gasbank";
  // The longest a service may ask a hold to live.
  static constexpr int64_t kMaxHoldTtlMs = int64_t{7} * 24 * 3600 * 1000;

  // `derive` is the enclave's deposit key (RunningEnclave::DepositKey). References must outlive
  // the service.
  GasBankService(mesh::Pipeline& pipeline, store::Store& store, gasbank::DepositKeyDeriver derive, const Clock& clock,
                 RandomSource& random, GasBankOptions options);
  ~GasBankService() override;  // Stop()

  // `outbox` sends withdrawals (null: no chain here, and withdrawals answer UNAVAILABLE); `hot`
  // is the outbox signer's account, the hot wallet withdrawals are paid from, recorded in
  // gasbank_settings for the audit. The caller registers WithdrawalListener() with the outbox
  // before starting it, and calls this after. Applies the outcomes the last run did not apply
  // (Withdrawals::Recover; one it cannot apply now is logged and retried later) and starts
  // releasing expired holds. Call once.
  Status Start(chain_tx::Outbox* outbox, const neo::UInt160& hot);
  // Stops releasing holds and forgets the outbox (withdrawals answer UNAVAILABLE from here on):
  // call before the outbox goes. Calls already queued still finish. Idempotent.
  void Stop();

  // For Outbox::Listen(gasbank::Withdrawals::kOutboxOwner, …): applies a withdrawal's outcome.
  // Outcomes that arrive before Start are applied by Start's recovery instead. The outbox must
  // be stopped before the service is destroyed.
  chain_tx::Outbox::Listener WithdrawalListener();

  gasbank::Ledger& ledger() { return ledger_; }
  const gasbank::FeeSchedule& fees() const { return options_.fees; }
  uint32_t confirmations() const { return options_.confirmations; }  // gasbank.confirmations, validated

  grpc::ServerUnaryReactor* GetAccount(grpc::CallbackServerContext* ctx, const gasbankpb::GetAccountRequest* request,
                                       gasbankpb::Account* response) override;
  grpc::ServerUnaryReactor* GetLedger(grpc::CallbackServerContext* ctx, const gasbankpb::GetLedgerRequest* request,
                                      gasbankpb::LedgerPage* response) override;
  grpc::ServerUnaryReactor* GetUsage(grpc::CallbackServerContext* ctx, const gasbankpb::GetUsageRequest* request,
                                     gasbankpb::Usage* response) override;
  grpc::ServerUnaryReactor* RequestWithdrawal(grpc::CallbackServerContext* ctx,
                                              const gasbankpb::WithdrawalRequest* request,
                                              gasbankpb::Withdrawal* response) override;
  grpc::ServerUnaryReactor* GetWithdrawal(grpc::CallbackServerContext* ctx,
                                          const gasbankpb::GetWithdrawalRequest* request,
                                          gasbankpb::Withdrawal* response) override;
  grpc::ServerUnaryReactor* ReserveGas(grpc::CallbackServerContext* ctx, const gasbankpb::ReserveGasRequest* request,
                                       gasbankpb::GasHold* response) override;
  grpc::ServerUnaryReactor* ChargeGas(grpc::CallbackServerContext* ctx, const gasbankpb::ChargeGasRequest* request,
                                      gasbankpb::GasHold* response) override;
  grpc::ServerUnaryReactor* ReleaseGas(grpc::CallbackServerContext* ctx, const gasbankpb::ReleaseGasRequest* request,
                                       gasbankpb::GasHold* response) override;

 private:
  // Runs `body` for the call on the work queue (RESOURCE_EXHAUSTED when it is full).
  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* Queued(grpc::CallbackServerContext* ctx, std::string_view operation, const Request* request,
                                   Response* response,
                                   Status (GasBankService::*body)(const std::string& account, const mesh::CallContext&,
                                                                  const Request&, Response*));

  // gasbank_api.cpp: what accounts ask.
  Status ShowAccount(const std::string& account, const mesh::CallContext& call,
                     const gasbankpb::GetAccountRequest& request, gasbankpb::Account* response);
  Status PageLedger(const std::string& account, const mesh::CallContext& call,
                    const gasbankpb::GetLedgerRequest& request, gasbankpb::LedgerPage* response);
  Status ReportUsage(const std::string& account, const mesh::CallContext& call,
                     const gasbankpb::GetUsageRequest& request, gasbankpb::Usage* response);
  Status Withdraw(const std::string& account, const mesh::CallContext& call,
                  const gasbankpb::WithdrawalRequest& request, gasbankpb::Withdrawal* response);
  Status ShowWithdrawal(const std::string& account, const mesh::CallContext& call,
                        const gasbankpb::GetWithdrawalRequest& request, gasbankpb::Withdrawal* response);
  // The withdrawals once started; UNAVAILABLE before.
  StatusOr<gasbank::Withdrawals*> StartedWithdrawals();

  // gasbank_service.cpp: holds, for services.
  Status Reserve(const std::string& account, const mesh::CallContext& call, const gasbankpb::ReserveGasRequest& request,
                 gasbankpb::GasHold* response);
  Status Charge(const std::string& account, const mesh::CallContext& call, const gasbankpb::ChargeGasRequest& request,
                gasbankpb::GasHold* response);
  Status Release(const std::string& account, const mesh::CallContext& call, const gasbankpb::ReleaseGasRequest& request,
                 gasbankpb::GasHold* response);
  // The account's hold `id`; NOT_FOUND for none, or another account's.
  StatusOr<gasbank::HoldInfo> FindHold(const std::string& account, const std::string& id);
  // FAILED_PRECONDITION "insufficient funds: available X GAS, the operation needs Y GAS" with a
  // PreconditionFailure detail, for `account` short of `needed`; `what` says what is needed.
  Status InsufficientFunds(const std::string& account, int64_t needed, std::string_view what = "the operation's fee");
  // The ledger's (and the withdrawals') refusal for a short balance.
  static bool IsInsufficientFunds(const Status& s) {
    return s.code() == StatusCode::kFailedPrecondition && s.message().starts_with("insufficient funds");
  }
  bool Charged(const std::string& account) const { return account != options_.platform_account; }
  // Releases expired holds every options.expire_interval, and now and then applies withdrawal
  // outcomes still pending (RecoverWithdrawals).
  void ExpireLoop();
  void RecoverWithdrawals();  // logged, not returned: the next run tries again

  mesh::Pipeline& pipeline_;
  store::Store& store_;
  const Clock& clock_;
  RandomSource& random_;
  const GasBankOptions options_;
  gasbank::Ledger ledger_;
  gasbank::DepositAddresses addresses_;

  // The chain side, set by Start and cleared (the outbox) by Stop; RequestWithdrawal holds it
  // shared while it uses the outbox.
  std::shared_mutex chain_mu_;
  chain_tx::Outbox* outbox_ = nullptr;
  std::unique_ptr<gasbank::Withdrawals> withdrawals_;
  chain_tx::Outbox::Listener withdrawal_listener_;

  std::mutex mu_;
  std::condition_variable cv_;  // stopping
  bool started_ = false;
  bool stopping_ = false;
  std::thread expirer_;

  std::unique_ptr<WorkQueue> work_;  // declared last: destroyed (and joined) first
};

}  // namespace neosl::services
