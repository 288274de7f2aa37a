// The gas bank's Fee Calculator (issue #12): a YAML fee schedule per operation, in datoshi, and
// the real chain fees of transactions sent on an account's behalf.
//
//   operations:
//     functions.invoke:  {base: 100000, per_ms: 100}     # per invocation, per ms of run time
//     random.generate:   {base: 50000, per_word: 10000}
//     oracle.request:    {base: 200000, per_source: 50000}
//     pricefeed.update:  {base: 100000}
//   chain:
//     markup_bps: 0      # added to a transaction's system + network fee
//
// An operation's fee is base + Σ per_<unit> × units; every value is a non-negative integer and
// every sum is checked for overflow. Integers only: no floating point anywhere.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/status.h"

namespace neosl::gasbank {

struct FeeRule {
  int64_t base = 0;
  std::map<std::string, int64_t, std::less<>> per_unit;  // "ms" → datoshi per ms
};

class FeeSchedule {
 public:
  // INVALID_ARGUMENT naming the place of anything that is not a schedule: bad YAML, an unknown
  // key, a negative or non-integer amount, an operation name not like "service.op".
  static StatusOr<FeeSchedule> FromYaml(std::string_view yaml);
  // The schedule `neosl serve` uses unless gasbank.fee_schedule_file names another.
  static std::string_view DefaultYaml();

  // base + Σ per_<unit> × units[unit]. NOT_FOUND for an operation the schedule does not price;
  // INVALID_ARGUMENT for a unit it does not price or a negative count; OUT_OF_RANGE on overflow.
  StatusOr<int64_t> Fee(std::string_view operation, const std::map<std::string, int64_t, std::less<>>& units) const;
  // A transaction sent for an account: its system and network fees plus the markup (rounded up).
  StatusOr<int64_t> ChainFee(int64_t system_fee, int64_t network_fee) const;

  const std::map<std::string, FeeRule, std::less<>>& operations() const { return operations_; }
  int64_t markup_bps() const { return markup_bps_; }

 private:
  std::map<std::string, FeeRule, std::less<>> operations_;
  int64_t markup_bps_ = 0;
};

}  // namespace neosl::gasbank
