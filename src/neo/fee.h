// Network fees for transactions signed by standard accounts, computed as Neo's
// Wallet.CalculateNetworkFee does (src/Neo/Wallets/Wallet.cs) without running the VM:
//
//   network fee = tx size (with witnesses) × FeePerByte + Σ ExecFeeFactor × verification cost
//
// Verification cost (Neo's Helper.SignatureContractCost / MultiSignatureContractCost), in datoshi
// before ExecFeeFactor:
//   single-sig:  2 × PUSHDATA1 (8) + SYSCALL (0) + CheckSig (1 << 15)               = 32784
//   m-of-n:      (m + n) × PUSHDATA1 + push(m) + push(n) + SYSCALL + n × (1 << 15)
// Neo's defaults are FeePerByte 1000 and ExecFeeFactor 30 (Policy contract), so a single-sig
// witness costs 983520 datoshi of execution. Attribute fees (Conflicts, NotaryAssisted) are not
// included; add them as Policy prices them.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"
#include "neo/opcode.h"

namespace neosl::neo {

// ApplicationEngine.OpCodePriceTable (datoshi before ExecFeeFactor); 0 for undefined opcodes.
int64_t OpCodePrice(OpCode op);

// Verification cost of a standard account's witness (invocation pushes + verification script),
// multiplied by exec_fee_factor. UNIMPLEMENTED for anything but a standard single-sig or multisig
// script (contract-based witnesses need the VM); INVALID_ARGUMENT for exec_fee_factor <= 0.
StatusOr<int64_t> NetworkFeeForWitness(std::span<const uint8_t> verification_script, int64_t exec_fee_factor);

// Bytes the witness for a standard account adds to a transaction: the invocation script (one
// 66-byte push per required signature) and the verification script, each with its var-int length.
// A signed transaction's size is its unsigned size + var-int(witness count) + Σ WitnessSize.
StatusOr<size_t> WitnessSize(std::span<const uint8_t> verification_script);

// tx_size_with_witnesses × fee_per_byte + Σ NetworkFeeForWitness. INVALID_ARGUMENT for negative
// fee_per_byte, OUT_OF_RANGE if the result overflows int64.
StatusOr<int64_t> CalculateNetworkFee(size_t tx_size_with_witnesses,
                                      const std::vector<std::vector<uint8_t>>& verification_scripts,
                                      int64_t fee_per_byte, int64_t exec_fee_factor);

}  // namespace neosl::neo
