// `neosl gasbank audit` (issue #12, docs/gasbank.md "Audit"): every invariant of the gas bank,
// and custody reconciled against the chain. Read-only; safe while `neosl serve` runs.
//
// In the store, in one read snapshot:
//   - the ledger's own invariants (Ledger::Audit: entries sum to zero, cached balances equal
//     their lines, no user book negative, open holds sum to held, no gaps in the journal);
//   - every credited deposit has its entry "deposit:<tx>:<index>" (custody −x, the account's
//     available +x) and every deposit entry a credited deposit: nothing credited twice or
//     without a deposit;
//   - every withdrawal's entries match its state (pending: requested only; settled: settled;
//     returned: returned), its fee hold is open exactly while it is pending, and each account's
//     pending withdrawals sum to its pending_withdrawal balance;
//   - custody = −(credited deposits − settled withdrawals).
// Against the chain (a JSON-RPC node), when one is given:
//   - every credited deposit is a HALTed transaction whose notification at that index is a GAS
//     Transfer of that amount to that account's deposit address;
//   - each deposit address holds at least what was credited to it (nothing moves GAS out of
//     one but the enclave, and no sweep has been made);
//   - the deposit addresses and the hot wallet together hold at least what the platform owes
//     its users (available + held + pending withdrawals): solvency, with the surplus reported.
//     A withdrawal already in a block but not yet settled in the ledger lowers the surplus by
//     its amount until it settles.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "core/status.h"
#include "neo/rpc_client.h"
#include "store/store.h"

namespace neosl::gasbank {

struct BankAuditReport {
  bool ok = true;
  std::vector<std::string> problems;  // each broken invariant, in words
  boost::json::object figures;        // counts and sums (datoshi), "chain" when reconciled
};

// `rpc` null: the store's checks only (figures.chain absent).
StatusOr<BankAuditReport> AuditBank(store::Store& store, neo::RpcClient* rpc);

}  // namespace neosl::gasbank
