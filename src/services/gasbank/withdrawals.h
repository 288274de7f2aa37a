// Withdrawals from the gas bank (issue #12, docs/gasbank.md "Withdrawals"): the account's GAS
// goes back on chain as a NEP-17 transfer from the platform's hot wallet (the enclave's Neo
// account), sent through chain_tx::Outbox, so each withdrawal is sent once and followed until it
// is in a block.
//
//   Request    One store transaction: the withdrawal row (table gasbank_withdrawals; unique per
//              (account, idempotency_key)), the entry "withdrawal:<id>" (available −amount,
//              pending_withdrawal +amount), a hold of the fee reserve (available → held), and the
//              outbox item "gasbank:<id>" with the script GAS.transfer(hot, to, amount, null) +
//              ASSERT. Short of amount + reserve available: FAILED_PRECONDITION "insufficient
//              funds" and nothing is written. The same key again: the first withdrawal
//              (replay = true) if `to` and `amount` match, else ALREADY_EXISTS; never a second
//              transfer.
//   settled    The transfer HALTed: "withdrawal_settle:<id>" (pending_withdrawal −amount,
//              custody +amount) and the fee hold settled with the real fee (the fee schedule's
//              gasbank.withdrawal plus the transaction's system + network fee with the markup,
//              at most the reserve).
//   returned   It FAULTed on chain (the fees were still paid: the hold settles with them), its
//              test run FAULTed, or it expired max_attempts times (never on chain: the hold is
//              released): "withdrawal_return:<id>" (pending_withdrawal −amount, available
//              +amount).
//
// The outcome is applied by the outbox's listener, and again by Recover() at start for any
// withdrawal still pending whose outbox item is final (a crash between the two): the row leaves
// `pending` in the same store transaction as the outcome's entry and the fee hold's closing, by a
// conditional update, so applying an outcome twice changes nothing.
//
// The fee hold never expires (Ledger::Expire leaves it): it is closed by the outcome, however
// long the chain takes. Crash points: gasbank.withdrawal.after_request (committed, outbox not yet
// woken), gasbank.withdrawal.before_apply, gasbank.withdrawal.after_apply.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chain_tx/outbox.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/status.h"
#include "neo/uint.h"
#include "services/gasbank/fees.h"
#include "services/gasbank/ledger.h"
#include "store/store.h"

namespace neosl::gasbank {

struct WithdrawalOptions {
  // Held from the account for the transfer's fees until it settles (datoshi, > 0); also the
  // outbox's fee cap for it (less the markup), so the real fee never exceeds what was held. A GAS
  // transfer costs about 0.112 GAS at N3's default policy (ExecFeeFactor 30, FeePerByte 1000):
  // 0.1 GAS would refuse every one.
  int64_t fee_reserve = 20'000'000;  // 0.2 GAS
  uint32_t valid_for_blocks = 100;
  int max_attempts = 3;
  int64_t min_amount = 1;  // datoshi
};

struct WithdrawalInfo {
  std::string id;  // "wd_…"
  std::string account;
  std::string to;  // N3 address
  int64_t amount = 0;
  std::string idempotency_key;
  std::string state;  // "pending", "settled", "returned"
  int64_t fee_reserved = 0;
  int64_t fee_charged = 0;
  std::string tx_hash;   // from the outbox, once sent
  std::string tx_state;  // the outbox's state
  std::string error;     // returned: why
  bool replay = false;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

class Withdrawals {
 public:
  static constexpr std::string_view kOutboxOwner = "gasbank";

  // `hot` is the hot wallet's script hash (the enclave's Neo account, which also signs the
  // outbox's transactions). References must outlive this.
  Withdrawals(WithdrawalOptions options, store::Store& store, const FeeSchedule& fees, neo::UInt160 hot,
              const Clock& clock, RandomSource& random);

  // `to`: an N3 address or a 0x-prefixed script hash; `amount` in datoshi, at least
  // options.min_amount; `idempotency_key` 1..200 bytes of printable ASCII. INVALID_ARGUMENT
  // naming `to`, `amount` or `idempotency_key`; FAILED_PRECONDITION "insufficient funds" (short
  // of amount + fee_reserve available); ALREADY_EXISTS for a reused key with another `to` or
  // amount. Wakes the outbox after the commit.
  StatusOr<WithdrawalInfo> Request(const std::string& account, const std::string& to, int64_t amount,
                                   const std::string& idempotency_key, chain_tx::Outbox& outbox);

  // For Outbox::Listen(kOutboxOwner, …). An outcome it fails to apply (the store away) is
  // logged and left pending for Recover.
  chain_tx::Outbox::Listener Listener();
  // Applies the outcome of every pending withdrawal whose outbox item is final; returns how many
  // it applied (an outcome already applied is not counted). Call at start, after the outbox's
  // Start; calling it again (periodically) is harmless. Carries on past a withdrawal it cannot
  // apply and then returns the first error.
  StatusOr<int> Recover();

  // NOT_FOUND for an id of another account (or none).
  StatusOr<WithdrawalInfo> Get(const std::string& account, const std::string& id);
  // Newest first; INVALID_ARGUMENT for a limit outside 1..1000.
  StatusOr<std::vector<WithdrawalInfo>> List(const std::string& account, int limit = 100);

  // Every withdrawal (for the audit).
  static StatusOr<std::vector<WithdrawalInfo>> ListAll(store::Store& store);

 private:
  // Applies a final outbox record's outcome to its withdrawal: true if this call did, false if
  // it was applied before (or the record is not final).
  StatusOr<bool> Apply(const chain_tx::OutboxRecord& record);

  WithdrawalOptions options_;
  store::Store& store_;
  const FeeSchedule& fees_;
  neo::UInt160 hot_;
  const Clock& clock_;
  RandomSource& random_;
};

}  // namespace neosl::gasbank
