// Sending transactions: build from a script, price, sign, relay, and follow to inclusion.
//
//   system fee  = GAS the script consumes in a test run (invokescript with the signer), plus any
//                 extra the caller allows; a script that FAULTs in the test run is not sent.
//   network fee = size × FeePerByte + verification cost × ExecFeeFactor, with both prices read
//                 from the Policy contract (Neo's Wallet.CalculateNetworkFee).
//   validUntilBlock = current height + the window (at most the network's maximum increment).
//
// Keys never pass through here: a TransactionSigner produces witnesses (the enclave implements
// it, so the platform's account key stays inside the enclave).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/random.h"
#include "core/status.h"
#include "crypto/p256.h"
#include "neo/rpc_client.h"
#include "neo/signer.h"
#include "neo/transaction.h"
#include "neo/tx_attribute.h"

namespace neosl::neo {

// The account a transaction is signed by, and the only holder of its key.
class TransactionSigner {
 public:
  virtual ~TransactionSigner() = default;
  virtual UInt160 account() const = 0;
  virtual std::vector<uint8_t> verification_script() const = 0;
  // The invocation script (signature pushes) over `signing_data` (magic ‖ hash).
  virtual StatusOr<std::vector<uint8_t>> SignInvocation(std::span<const uint8_t> signing_data) = 0;
};

// A single-sig signer holding the key in this process: for the CLI, tests and tools.
class KeyTransactionSigner final : public TransactionSigner {
 public:
  explicit KeyTransactionSigner(crypto::PrivateKey key);
  UInt160 account() const override { return account_; }
  std::vector<uint8_t> verification_script() const override { return verification_; }
  StatusOr<std::vector<uint8_t>> SignInvocation(std::span<const uint8_t> signing_data) override;

 private:
  crypto::PrivateKey key_;
  std::vector<uint8_t> verification_;
  UInt160 account_;
};

struct SendOptions {
  WitnessScope scopes = WitnessScope::CalledByEntry;
  std::vector<UInt160> allowed_contracts;  // with WitnessScope::CustomContracts
  std::vector<TransactionAttribute> attributes;
  uint32_t valid_for_blocks = 0;  // 0: the network's maximum (MaxValidUntilBlockIncrement)
  int64_t extra_system_fee = 0;   // datoshi added to the test run's consumption
  int64_t max_total_fee = 0;      // datoshi; 0 = no cap. Over the cap → RESOURCE_EXHAUSTED
};

// What became of a sent transaction once it is in a block.
struct TransactionOutcome {
  UInt256 hash;
  UInt256 block_hash;
  VmState state = VmState::kNone;
  std::optional<std::string> exception;
  int64_t gas_consumed = 0;
  std::vector<ContractNotification> notifications;
};

class TransactionSender {
 public:
  // `wait` pauses between polls; tests pass one that does not really sleep.
  using Wait = std::function<void(std::chrono::milliseconds)>;

  TransactionSender(RpcClient& rpc, TransactionSigner& signer, RandomSource& random, Wait wait = nullptr);

  // A signed transaction ready to send. FAILED_PRECONDITION if the script FAULTs in the test
  // run (with the VM's exception), RESOURCE_EXHAUSTED over max_total_fee.
  StatusOr<Transaction> Build(std::span<const uint8_t> script, const SendOptions& options = {});
  // Relays it; the node's refusals come back with its RPC error code in the details.
  StatusOr<UInt256> Send(const Transaction& tx);
  // Polls until the transaction is in a block, then reads its application log. A FAULT is an
  // outcome (state kFault with the exception), not an error; DEADLINE_EXCEEDED once the chain
  // has passed validUntilBlock without it (it can never be included after that).
  StatusOr<TransactionOutcome> WaitForInclusion(const Transaction& tx,
                                                std::chrono::milliseconds poll = std::chrono::seconds(1));
  // Build, Send and WaitForInclusion; a FAULT becomes ABORTED carrying the VM's exception.
  StatusOr<TransactionOutcome> Execute(std::span<const uint8_t> script, const SendOptions& options = {});

  // The network parameters Build uses, read once from the node (getversion and Policy).
  struct NetworkParams {
    uint32_t magic = 0;
    uint32_t max_valid_until_block_increment = 0;
    int64_t fee_per_byte = 0;
    int64_t exec_fee_factor = 0;
  };
  StatusOr<NetworkParams> Params();

 private:
  RpcClient& rpc_;
  TransactionSigner& signer_;
  RandomSource& random_;
  Wait wait_;
  std::optional<NetworkParams> params_;
};

// The Policy native contract (same hash on every N3 network).
UInt160 PolicyContractHash();

}  // namespace neosl::neo
