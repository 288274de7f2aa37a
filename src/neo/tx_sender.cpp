#include "neo/tx_sender.h"

#include <thread>

#include "neo/account.h"
#include "neo/fee.h"

namespace neosl::neo {
namespace {

StatusOr<int64_t> PolicyValue(RpcClient& rpc, std::string_view method) {
  ASSIGN_OR_RETURN(InvocationResult r, rpc.InvokeFunction(PolicyContractHash(), method, {}, {}));
  if (r.state != VmState::kHalt || r.stack.empty()) {
    return UnavailableError("Policy." + std::string(method) + " did not return a value");
  }
  return r.stack[0].AsInt64();
}

std::string ScopeNames(WitnessScope s) {
  if (s == WitnessScope::None) return "None";
  std::string out;
  const std::pair<WitnessScope, const char*> kNames[] = {{WitnessScope::CalledByEntry, "CalledByEntry"},
                                                         {WitnessScope::CustomContracts, "CustomContracts"},
                                                         {WitnessScope::CustomGroups, "CustomGroups"},
                                                         {WitnessScope::WitnessRules, "WitnessRules"},
                                                         {WitnessScope::Global, "Global"}};
  for (const auto& [flag, name] : kNames) {
    if (HasScope(s, flag)) out += (out.empty() ? "" : ", ") + std::string(name);
  }
  return out;
}

}  // namespace

UInt160 PolicyContractHash() {
  static const UInt160 kHash = *UInt160::Parse("0xcc5e4edd9f5f8dba8bb65734541df7a1c081c67b");
  return kHash;
}

KeyTransactionSigner::KeyTransactionSigner(crypto::PrivateKey key)
    : key_(std::move(key)), verification_(SingleSigScript(key_.public_key())), account_(ScriptHash(verification_)) {}

StatusOr<std::vector<uint8_t>> KeyTransactionSigner::SignInvocation(std::span<const uint8_t> signing_data) {
  return SignatureInvocation(key_.Sign(signing_data));
}

TransactionSender::TransactionSender(RpcClient& rpc, TransactionSigner& signer, RandomSource& random, Wait wait)
    : rpc_(rpc), signer_(signer), random_(random), wait_(std::move(wait)) {
  if (!wait_) wait_ = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
}

StatusOr<TransactionSender::NetworkParams> TransactionSender::Params() {
  if (params_) return *params_;
  NetworkParams p;
  ASSIGN_OR_RETURN(VersionInfo version, rpc_.GetVersion());
  p.magic = version.protocol.network;
  p.max_valid_until_block_increment = version.protocol.max_valid_until_block_increment;
  ASSIGN_OR_RETURN(p.fee_per_byte, PolicyValue(rpc_, "getFeePerByte"));
  ASSIGN_OR_RETURN(p.exec_fee_factor, PolicyValue(rpc_, "getExecFeeFactor"));
  if (p.max_valid_until_block_increment == 0) {
    return UnavailableError("the node did not report maxvaliduntilblockincrement");
  }
  params_ = p;
  return p;
}

StatusOr<Transaction> TransactionSender::Build(std::span<const uint8_t> script, const SendOptions& options) {
  if (script.empty()) return InvalidArgumentError("the script is empty");
  if (options.extra_system_fee < 0 || options.max_total_fee < 0) {
    return InvalidArgumentError("fees must not be negative");
  }
  ASSIGN_OR_RETURN(NetworkParams params, Params());
  uint32_t window = options.valid_for_blocks == 0 ? params.max_valid_until_block_increment : options.valid_for_blocks;
  if (window > params.max_valid_until_block_increment) {
    return InvalidArgumentError("valid_for_blocks exceeds the network's maximum of " +
                                std::to_string(params.max_valid_until_block_increment));
  }

  Signer signer;
  signer.account = signer_.account();
  signer.scopes = options.scopes;
  signer.allowed_contracts = options.allowed_contracts;
  RETURN_IF_ERROR(signer.Validate());

  RpcSigner rpc_signer{signer.account, ScopeNames(options.scopes), options.allowed_contracts, {}};
  ASSIGN_OR_RETURN(InvocationResult test, rpc_.InvokeScript(script, std::span(&rpc_signer, 1)));
  if (test.state != VmState::kHalt) {
    return FailedPreconditionError("the script faults in a test run: " + test.exception.value_or("no exception text"))
        .WithDetail(ErrorDetail{"VmFault", {}}.Add("exception", test.exception.value_or("")));
  }
  int64_t system_fee = test.gas_consumed + options.extra_system_fee;

  ASSIGN_OR_RETURN(uint32_t count, rpc_.GetBlockCount());
  // count is height + 1; Neo's wallets use height + increment, which the node accepts.
  uint32_t valid_until = (count == 0 ? 0 : count - 1) + window;

  std::vector<uint8_t> verification = signer_.verification_script();
  TransactionBuilder b;
  b.SetNonce(static_cast<uint32_t>(random_.NextU64()))
      .SetSystemFee(system_fee)
      .SetValidUntilBlock(valid_until)
      .SetScript(std::vector<uint8_t>(script.begin(), script.end()))
      .AddSigner(signer)
      .SetAttributes(options.attributes);
  ASSIGN_OR_RETURN(Transaction unsigned_tx, b.Build());
  ASSIGN_OR_RETURN(size_t witness_size, WitnessSize(verification));
  size_t signed_size = unsigned_tx.size() - 1 /* empty witness count */ + 1 /* count = 1 */ + witness_size;
  ASSIGN_OR_RETURN(int64_t network_fee,
                   CalculateNetworkFee(signed_size, {verification}, params.fee_per_byte, params.exec_fee_factor));
  if (options.max_total_fee > 0 && system_fee + network_fee > options.max_total_fee) {
    return ResourceExhaustedError("fees of " + std::to_string(system_fee + network_fee) +
                                  " datoshi exceed the cap of " + std::to_string(options.max_total_fee));
  }
  b.SetNetworkFee(network_fee);
  ASSIGN_OR_RETURN(unsigned_tx, b.Build());
  ASSIGN_OR_RETURN(std::vector<uint8_t> invocation, signer_.SignInvocation(SigningData(unsigned_tx, params.magic)));
  Transaction tx = unsigned_tx.WithWitnesses({Witness{std::move(invocation), std::move(verification)}});
  RETURN_IF_ERROR(tx.CheckWitnesses());
  return tx;
}

StatusOr<UInt256> TransactionSender::Send(const Transaction& tx) {
  ASSIGN_OR_RETURN(UInt256 hash, rpc_.SendRawTransaction(tx.Encode()));
  if (hash != tx.hash()) {
    return DataLossError("the node reports hash " + hash.ToString() + " for transaction " + tx.hash().ToString());
  }
  return hash;
}

StatusOr<TransactionOutcome> TransactionSender::WaitForInclusion(const Transaction& tx,
                                                                 std::chrono::milliseconds poll) {
  while (true) {
    auto info = rpc_.GetRawTransaction(tx.hash());
    if (info.ok() && info->block_hash) {
      ASSIGN_OR_RETURN(ApplicationLog log, rpc_.GetApplicationLog(tx.hash()));
      for (const ExecutionResult& e : log.executions) {
        if (e.trigger != "Application") continue;
        return TransactionOutcome{tx.hash(),   *info->block_hash, e.vm_state,
                                  e.exception, e.gas_consumed,    e.notifications};
      }
      return DataLossError("the application log of " + tx.hash().ToString() + " has no Application execution");
    }
    if (!info.ok() && info.status().code() != StatusCode::kNotFound) return info.status();
    // Not in a block yet. Once the chain is past validUntilBlock it never will be.
    ASSIGN_OR_RETURN(uint32_t count, rpc_.GetBlockCount());
    if (count > 0 && count - 1 >= tx.valid_until_block()) {
      // Check once more: it may have landed in the very block that ended the window.
      auto last = rpc_.GetRawTransaction(tx.hash());
      if (!(last.ok() && last->block_hash)) {
        return DeadlineExceededError("transaction " + tx.hash().ToString() + " expired at block " +
                                     std::to_string(tx.valid_until_block()) + " without being included");
      }
      continue;
    }
    wait_(poll);
  }
}

StatusOr<TransactionOutcome> TransactionSender::Execute(std::span<const uint8_t> script, const SendOptions& options) {
  ASSIGN_OR_RETURN(Transaction tx, Build(script, options));
  RETURN_IF_ERROR(Send(tx));
  ASSIGN_OR_RETURN(TransactionOutcome outcome, WaitForInclusion(tx));
  if (outcome.state == VmState::kFault) {
    return AbortedError("transaction " + outcome.hash.ToString() +
                        " FAULTed: " + outcome.exception.value_or("no exception text"))
        .WithDetail(ErrorDetail{"VmFault", {}}
                        .Add("tx", outcome.hash.ToString())
                        .Add("exception", outcome.exception.value_or("")));
  }
  return outcome;
}

}  // namespace neosl::neo
