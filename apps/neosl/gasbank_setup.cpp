#include "apps/neosl/gasbank_setup.h"

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

namespace neosl::app {
namespace {

StatusOr<int64_t> IntIn(const Config& config, const std::string& key, int64_t lo, int64_t hi) {
  const int64_t v = config.Int(key);
  if (v < lo || v > hi) {
    return InvalidArgumentError(key + " must be " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  return v;
}

StatusOr<gasbank::FeeSchedule> LoadFeeSchedule(const Config& config) {
  const std::string key = "gasbank.fee_schedule_file";
  const std::string& path = config.String(key);
  if (path.empty()) return gasbank::FeeSchedule::FromYaml(gasbank::FeeSchedule::DefaultYaml());
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgumentError(key + ": cannot read " + path + ": " + std::generic_category().message(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return InvalidArgumentError(key + ": cannot read " + path);
  StatusOr<gasbank::FeeSchedule> schedule = gasbank::FeeSchedule::FromYaml(text.str());
  if (!schedule.ok()) return InvalidArgumentError(key + " (" + path + "): " + std::string(schedule.status().message()));
  return schedule;
}

// The platform's own account (accounts.platform, made by the gateway's BootstrapAdmin), or ""
// before there is one.
StatusOr<std::string> PlatformAccount(store::Store& store) {
  ASSIGN_OR_RETURN(std::vector<store::Row> rows, store.Query("SELECT id FROM accounts WHERE platform = 1 LIMIT 1"));
  if (rows.empty()) return std::string();
  return rows[0].Text(0);
}

}  // namespace

StatusOr<services::GasBankOptions> GasBankOptionsFromConfig(const Config& config) {
  services::GasBankOptions o;
  ASSIGN_OR_RETURN(int64_t confirmations, IntIn(config, "gasbank.confirmations", 0, 10'000));
  ASSIGN_OR_RETURN(int64_t hold_ttl,
                   IntIn(config, "gasbank.hold_ttl_ms", 1'000, services::GasBankService::kMaxHoldTtlMs));
  // At least a datoshi: the reserve is also the outbox's fee cap for the transfer, where 0 would
  // mean no cap at all.
  ASSIGN_OR_RETURN(o.withdrawals.fee_reserve,
                   IntIn(config, "gasbank.withdrawal_fee_reserve", 1, 100 * gasbank::kDatoshiPerGas));
  ASSIGN_OR_RETURN(int64_t valid_for, IntIn(config, "gasbank.withdrawal_valid_for_blocks", 1, 5'760));
  ASSIGN_OR_RETURN(int64_t attempts, IntIn(config, "gasbank.withdrawal_max_attempts", 1, 100));
  ASSIGN_OR_RETURN(o.withdrawals.min_amount,
                   IntIn(config, "gasbank.min_withdrawal", 1, int64_t{100'000'000} * gasbank::kDatoshiPerGas));
  ASSIGN_OR_RETURN(int64_t threads, IntIn(config, "gasbank.threads", 1, 256));
  ASSIGN_OR_RETURN(o.fees, LoadFeeSchedule(config));
  o.confirmations = uint32_t(confirmations);
  o.hold_ttl = std::chrono::milliseconds(hold_ttl);
  o.withdrawals.valid_for_blocks = uint32_t(valid_for);
  o.withdrawals.max_attempts = int(attempts);
  o.threads = size_t(threads);
  return o;
}

StatusOr<std::unique_ptr<services::GasBankService>> MakeGasBankService(const Config& config, mesh::Pipeline& pipeline,
                                                                       RunningEnclave& enclave, store::Store& store,
                                                                       const Clock& clock, RandomSource& random) {
  ASSIGN_OR_RETURN(services::GasBankOptions options, GasBankOptionsFromConfig(config));
  ASSIGN_OR_RETURN(options.platform_account, PlatformAccount(store));
  gasbank::DepositKeyDeriver derive = [&enclave](const std::string& account) { return enclave.DepositKey(account); };
  return std::make_unique<services::GasBankService>(pipeline, store, std::move(derive), clock, random,
                                                    std::move(options));
}

}  // namespace neosl::app
