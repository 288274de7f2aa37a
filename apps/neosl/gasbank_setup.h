// The gas bank service of this process (gasbank.* config, docs/gasbank.md).
#pragma once

#include <memory>

#include "apps/neosl/enclave_host.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/random.h"
#include "mesh/server.h"
#include "services/gasbank/gasbank_service.h"
#include "store/store.h"

namespace neosl::app {

// The options from gasbank.*, with the fee schedule (gasbank.fee_schedule_file, or the built-in
// one). INVALID_ARGUMENT naming the key for a value out of range or a schedule that cannot be
// read or is not one. The platform account is left unset (MakeGasBankService finds it).
StatusOr<services::GasBankOptions> GasBankOptionsFromConfig(const Config& config);

// Made, not started: the caller registers its WithdrawalListener() with the outbox, starts the
// outbox, then starts the service with it (or with none: no chain). The platform's own account,
// which is never charged, is the store's (the gateway makes it on first start); deposit keys are
// the enclave's (RunningEnclave::DepositKey). `enclave` must outlive the service.
StatusOr<std::unique_ptr<services::GasBankService>> MakeGasBankService(const Config& config, mesh::Pipeline& pipeline,
                                                                       RunningEnclave& enclave, store::Store& store,
                                                                       const Clock& clock, RandomSource& random);

}  // namespace neosl::app
