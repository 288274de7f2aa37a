// The price feed service of this process (pricefeed.* config, docs/pricefeed.md).
#pragma once

#include <memory>

#include "apps/neosl/enclave_host.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/random.h"
#include "mesh/server.h"
#include "services/pricefeed/pricefeed_service.h"
#include "store/store.h"

namespace neosl::app {

// The options from pricefeed.*: every pair with its venues' whole ticker URLs. INVALID_ARGUMENT
// naming the key for a value out of range, an unknown venue, a pair name that is not BASE_QUOTE,
// a base URL that is not https:// (or http:// with allow_http), or a pair with fewer venues than
// the quorum.
StatusOr<services::PriceFeedOptions> PriceFeedOptionsFromConfig(const Config& config);

// Made, not started: the caller starts it with the chain's outbox (or none). `charger`: how feed
// updates are paid for (a GasCharger over the service's own mesh client; default: not charged).
StatusOr<std::unique_ptr<services::PriceFeedService>> MakePriceFeedService(const Config& config,
                                                                           mesh::Pipeline& pipeline,
                                                                           RunningEnclave& enclave, store::Store& store,
                                                                           const Clock& clock, RandomSource& random,
                                                                           gasbank::GasCharger charger = {});

}  // namespace neosl::app
