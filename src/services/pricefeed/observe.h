// A price round as the enclave runs it (the price_observe ECALL, proto/enclave.proto): every
// venue's ticker fetched at once through the shared fetcher, read by its adapter (venues.h),
// aggregated (aggregate.h) and, when the quorum is met, the report and chain records
// (price_record.h) signed with the report key — inside the enclave, so the host relays bytes it
// cannot alter without breaking the signatures.
#pragma once

#include <cstddef>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/p256.h"
#include "enclave.pb.h"
#include "net/fetcher.h"

namespace neosl::pricefeed {

inline constexpr size_t kMaxSources = 16;

struct ObserveEnvironment {
  const net::Fetcher* fetcher = nullptr;
  const crypto::PrivateKey* report_key = nullptr;
  const Clock* clock = nullptr;  // the round's timestamp, and the quotes' ages
};

// The fetcher options a price round uses: venues answer small JSON, quickly.
net::FetcherOptions PriceFetcherOptions(net::FetcherOptions base = {});

// Whether `pair` is a pair name the feed accepts: BASE/QUOTE, each 1–10 of A–Z and 0–9.
bool IsPairName(std::string_view pair);

// INVALID_ARGUMENT for a request that is not well formed (a bad pair, decimals over 18, no
// source or more than kMaxSources, an unknown venue, a quorum of 0 or more than the sources).
// Whatever goes wrong with a venue is part of the outcome, not an error; so is a lost quorum
// (ok false, with the reason).
StatusOr<tee::v1::PriceObserveResponse> Observe(const tee::v1::PriceObserveRequest& request,
                                                const ObserveEnvironment& env);

}  // namespace neosl::pricefeed
