// Transaction validation and the mempool: Neo's Transaction.Verify (state-independent and
// state-dependent parts) and MemoryPool.TryAdd, with Neo's RPC error for each refusal.
#include <algorithm>

#include "core/log.h"
#include "devchain/chain_internal.h"
#include "neo/account.h"
#include "neo/fee.h"
#include "neo/script_builder.h"

namespace neosl::devchain {
namespace {

// Neo's MaxVerificationGas: the most a transaction's witnesses may cost.
constexpr int64_t kMaxVerificationGas = 150'000'000;

std::string Datoshi(int64_t v) {
  return std::to_string(v);
}

// Every instruction of the script decodes and every jump lands on an instruction inside it:
// Neo's Script in strict mode, as Transaction.Verify builds it.
Status CheckScript(std::span<const uint8_t> script) {
  std::vector<bool> starts(script.size() + 1, false);
  std::vector<std::pair<size_t, int64_t>> jumps;  // (instruction, target)
  size_t ip = 0;
  auto le = [&](size_t at, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(script[at + i]) << (8 * i);
    return v;
  };
  while (ip < script.size()) {
    starts[ip] = true;
    const uint8_t op = script[ip];
    if (OpCodeName(op).empty()) {
      return InvalidArgumentError("byte 0x" + std::string(1, "0123456789abcdef"[op >> 4]) +
                                  std::string(1, "0123456789abcdef"[op & 15]) + " at " + std::to_string(ip) +
                                  " is not an opcode");
    }
    size_t operand = 0;
    size_t prefix = 0;
    if (op <= 0x05) {
      operand = size_t{1} << op;  // PUSHINT8 … PUSHINT256
    } else if (op >= 0x0C && op <= 0x0E) {
      prefix = size_t{1} << (op - 0x0C);  // PUSHDATA1/2/4
    } else if (op >= 0x22 && op <= 0x35) {
      operand = (op % 2 == 0) ? 1 : 4;  // JMP* and CALL: short even, _L odd
    } else {
      switch (op) {
        case 0x0A:  // PUSHA
        case 0x3E:  // ENDTRY_L
        case 0x41:  // SYSCALL
          operand = 4;
          break;
        case 0x37:  // CALLT
        case 0x3B:  // TRY
        case 0x57:  // INITSLOT
          operand = 2;
          break;
        case 0x3C:  // TRY_L
          operand = 8;
          break;
        case 0x3D:  // ENDTRY
        case 0x56:  // INITSSLOT
        case 0x5F:  // LDSFLD
        case 0x67:  // STSFLD
        case 0x6F:  // LDLOC
        case 0x77:  // STLOC
        case 0x7F:  // LDARG
        case 0x87:  // STARG
        case 0xC4:  // NEWARRAY_T
        case 0xD9:  // ISTYPE
        case 0xDB:  // CONVERT
          operand = 1;
          break;
        default: break;
      }
    }
    if (prefix != 0) {
      if (ip + 1 + prefix > script.size()) return InvalidArgumentError("PUSHDATA at " + std::to_string(ip) + " is cut");
      operand = le(ip + 1, prefix);
    }
    if (ip + 1 + prefix + operand > script.size()) {
      return InvalidArgumentError("instruction at " + std::to_string(ip) + " runs past the end of the script");
    }
    if (op >= 0x22 && op <= 0x35) {
      const int64_t offset = operand == 1 ? static_cast<int8_t>(script[ip + 1])
                                          : static_cast<int32_t>(static_cast<uint32_t>(le(ip + 1, 4)));
      jumps.emplace_back(ip, static_cast<int64_t>(ip) + offset);
    }
    ip += 1 + prefix + operand;
  }
  starts[script.size()] = true;
  for (const auto& [at, target] : jumps) {
    if (target < 0 || target > static_cast<int64_t>(script.size()) || !starts[static_cast<size_t>(target)]) {
      return InvalidArgumentError("the jump at " + std::to_string(at) + " does not land on an instruction");
    }
  }
  return Status::Ok();
}

}  // namespace

bool Chain::Impl::OnChain(const neo::UInt256& hash) const {
  return on_chain.contains(hash);
}

bool Chain::Impl::ConflictsOnChain(const neo::UInt256& hash, const std::vector<neo::Signer>& signers) const {
  return std::any_of(signers.begin(), signers.end(), [&](const neo::Signer& s) {
    return conflicts.contains({hash, s.account});
  });
}

int64_t Chain::Impl::PoolFeesOf(const neo::UInt160& sender) const {
  auto it = pool_fees.find(sender);
  return it == pool_fees.end() ? 0 : it->second;
}

void Chain::Impl::PoolInsert(const neo::Transaction& tx) {
  pool_fees[tx.sender()] += tx.system_fee() + tx.network_fee();
  for (const auto& attr : tx.attributes()) {
    if (const auto* c = std::get_if<neo::ConflictsAttribute>(&attr.value)) pool_conflicts.emplace(c->hash, tx.hash());
  }
  pool.emplace(tx.hash(), PooledTx{.tx = tx, .arrival = next_arrival++});
}

void Chain::Impl::PoolErase(const neo::UInt256& hash) {
  auto it = pool.find(hash);
  if (it == pool.end()) return;
  const neo::Transaction& tx = it->second.tx;
  auto fees = pool_fees.find(tx.sender());
  if (fees != pool_fees.end() && (fees->second -= tx.system_fee() + tx.network_fee()) <= 0) pool_fees.erase(fees);
  for (const auto& attr : tx.attributes()) {
    const auto* c = std::get_if<neo::ConflictsAttribute>(&attr.value);
    if (c == nullptr) continue;
    auto [first, last] = pool_conflicts.equal_range(c->hash);
    for (auto i = first; i != last; ++i) {
      if (i->second == hash) {
        pool_conflicts.erase(i);
        break;
      }
    }
  }
  pool.erase(it);
}

Status Chain::Impl::VerifyTransaction(const neo::Transaction& tx, uint32_t height, int64_t pool_fees) const {
  // validUntilBlock: after the tip, and no further ahead than the network allows.
  if (tx.valid_until_block() <= height || tx.valid_until_block() > height + kMaxValidUntilBlockIncrement) {
    return ChainRpcError(-510, "Expired transaction",
                         "validUntilBlock " + std::to_string(tx.valid_until_block()) + " is outside (" +
                             std::to_string(height) + ", " + std::to_string(height + kMaxValidUntilBlockIncrement) +
                             "]");
  }
  // Attributes.
  for (const auto& attr : tx.attributes()) {
    switch (attr.type()) {
      case neo::TransactionAttributeType::Conflicts: {
        const auto& c = std::get<neo::ConflictsAttribute>(attr.value);
        if (OnChain(c.hash)) {
          return ChainRpcError(-507, "Invalid transaction attribute",
                               "it conflicts with " + c.hash.ToString() + ", which is already on chain");
        }
        break;
      }
      case neo::TransactionAttributeType::NotValidBefore: {
        const auto& nvb = std::get<neo::NotValidBeforeAttribute>(attr.value);
        if (height + 1 < nvb.height) {
          return ChainRpcError(-507, "Invalid transaction attribute",
                               "NotValidBefore " + std::to_string(nvb.height) + " has not been reached");
        }
        break;
      }
      case neo::TransactionAttributeType::HighPriority:
        return ChainRpcError(-507, "Invalid transaction attribute",
                             "HighPriority needs the committee's witness; the devchain has no committee");
      case neo::TransactionAttributeType::OracleResponse:
        return ChainRpcError(-507, "Invalid transaction attribute",
                             "OracleResponse is only valid from the oracle nodes; the devchain has none");
      case neo::TransactionAttributeType::NotaryAssisted:
        return ChainRpcError(-507, "Invalid transaction attribute", "the devchain has no Notary contract");
    }
  }
  if (ConflictsOnChain(tx.hash(), tx.signers())) {
    return ChainRpcError(-501, "Inventory already exists",
                         "an on-chain transaction of the same signer declares a conflict with it");
  }

  // Witnesses: each signer's verification script must hash to its account and be a standard
  // single-sig or multisig account whose signatures verify over network magic ‖ hash.
  std::vector<std::vector<uint8_t>> scripts;
  const auto signing_data = neo::SigningData(tx, options.network);
  for (size_t i = 0; i < tx.signers().size(); ++i) {
    const neo::Witness& w = tx.witnesses()[i];
    const neo::UInt160& account = tx.signers()[i].account;
    if (w.verification.empty()) {
      return ChainRpcError(-500, "Inventory verification failed",
                           "witness " + std::to_string(i) +
                               " has no verification script: contract-based witnesses "
                               "are not supported by the devchain");
    }
    if (neo::ScriptHash(w.verification) != account) {
      return ChainRpcError(
          -508, "Invalid signature",
          "witness " + std::to_string(i) + "'s verification script does not hash to signer " + account.ToString());
    }
    if (Status s = neo::VerifyWitness(signing_data, w.invocation, w.verification); !s.ok()) {
      if (s.code() == StatusCode::kUnauthenticated) {
        return ChainRpcError(-508, "Invalid signature",
                             "witness " + std::to_string(i) + ": " + std::string(s.message()));
      }
      return ChainRpcError(-500, "Inventory verification failed",
                           "witness " + std::to_string(i) + ": " + std::string(s.message()));
    }
    scripts.push_back(w.verification);
  }

  // Network fee: at least size × FeePerByte plus each witness's verification cost.
  const int64_t fee_per_byte = FeePerByte(state);
  const int64_t exec_fee_factor = ExecFeeFactor(state);
  auto needed = neo::CalculateNetworkFee(tx.size(), scripts, fee_per_byte, exec_fee_factor);
  if (!needed.ok()) return ChainRpcError(-500, "Inventory verification failed", std::string(needed.status().message()));
  if (tx.network_fee() < *needed) {
    return ChainRpcError(-504, "Insufficient network fee",
                         "network fee " + Datoshi(tx.network_fee()) + " is below the " + Datoshi(*needed) +
                             " this transaction needs (" + std::to_string(tx.size()) + " bytes × " +
                             Datoshi(fee_per_byte) + " + verification)");
  }
  if (*needed - static_cast<int64_t>(tx.size()) * fee_per_byte > kMaxVerificationGas) {
    return ChainRpcError(-505, "Policy check failed", "verification costs more than MaxVerificationGas");
  }

  // The sender pays system and network fees, on top of what its pooled transactions owe.
  const int64_t balance = devchain::GasBalance(state, tx.sender());
  const int64_t owed = tx.system_fee() + tx.network_fee() + pool_fees;
  if (balance < owed) {
    return ChainRpcError(-511, "Insufficient funds for fee",
                         "sender " + neo::ToAddress(tx.sender()) + " has " + Datoshi(balance) + " datoshi of GAS; " +
                             Datoshi(owed) + " needed with its pooled transactions");
  }
  return Status::Ok();
}

StatusOr<std::vector<neo::UInt256>> Chain::Impl::PoolConflicts(const neo::Transaction& tx) const {
  // Pooled transactions `tx` conflicts with, in either direction (MemoryPool.CheckConflicts):
  // tx may replace them only if the same sender signed them and it pays more network fee than
  // all of them together.
  std::vector<neo::UInt256> evict;
  int64_t their_fees = 0;
  auto signed_by = [](const neo::Transaction& t, const neo::UInt160& account) {
    return std::any_of(t.signers().begin(), t.signers().end(),
                       [&](const neo::Signer& s) { return s.account == account; });
  };
  for (const auto& attr : tx.attributes()) {
    const auto* c = std::get_if<neo::ConflictsAttribute>(&attr.value);
    if (c == nullptr) continue;
    auto it = pool.find(c->hash);
    if (it == pool.end()) continue;
    if (!signed_by(it->second.tx, tx.sender())) {
      return ChainRpcError(-501, "Inventory already exists",
                           "it conflicts with pooled " + c->hash.ToString() + ", which its sender did not sign");
    }
    evict.push_back(c->hash);
    their_fees += it->second.tx.network_fee();
  }
  auto [first, last] = pool_conflicts.equal_range(tx.hash());
  for (auto i = first; i != last; ++i) {
    const neo::Transaction& pooled = pool.at(i->second).tx;
    if (!signed_by(tx, pooled.sender())) continue;
    if (std::find(evict.begin(), evict.end(), i->second) == evict.end()) {
      evict.push_back(i->second);
      their_fees += pooled.network_fee();
    }
  }
  if (!evict.empty() && tx.network_fee() <= their_fees) {
    return ChainRpcError(-501, "Inventory already exists",
                         "it conflicts with pooled transactions paying " + Datoshi(their_fees) +
                             " network fee; a replacement must pay more");
  }
  return evict;
}

StatusOr<neo::UInt256> Chain::SubmitTransaction(std::span<const uint8_t> raw) {
  Impl& c = *impl_;
  if (raw.size() > neo::Transaction::kMaxTransactionSize) {
    return ChainRpcError(-509, "Invalid inventory size",
                         std::to_string(raw.size()) + " bytes is over the 102400-byte limit");
  }
  auto decoded = neo::Transaction::Decode(raw);
  if (!decoded.ok()) {
    return ChainRpcError(-32602, "Invalid params", "Invalid transaction: " + std::string(decoded.status().message()));
  }
  const neo::Transaction& tx = *decoded;
  if (Status s = CheckScript(tx.script()); !s.ok()) {
    return ChainRpcError(-506, "Invalid transaction script", std::string(s.message()));
  }

  std::shared_lock state_lock(c.state_mu);
  if (c.OnChain(tx.hash())) {
    return ChainRpcError(-501, "Inventory already exists", tx.hash().ToString() + " is already on chain");
  }
  int64_t pool_fees = 0;
  {
    std::lock_guard pool_lock(c.pool_mu);
    if (c.pool.contains(tx.hash())) {
      return ChainRpcError(-503, "Already in pool", tx.hash().ToString() + " is already in the mempool");
    }
    if (c.pool.size() >= kMemoryPoolMaxTransactions) {
      return ChainRpcError(-502, "Memory pool capacity reached",
                           std::to_string(kMemoryPoolMaxTransactions) + " transactions are waiting");
    }
    pool_fees = c.PoolFeesOf(tx.sender());
  }
  const uint32_t height = c.Height();
  RETURN_IF_ERROR(c.VerifyTransaction(tx, height, pool_fees));

  // The system fee must cover the execution: a trial run on the tip, as the next block would
  // see it. (Neo leaves this to the sender; the devchain refuses early what would FAULT with
  // "Insufficient GAS." and burn the fees.) Other FAULTs are accepted, as Neo does.
  {
    DataCache trial(&c.state);
    BlockContext ctx{
        .index = height + 1,
        .timestamp_ms = std::max<uint64_t>(static_cast<uint64_t>(c.clock->NowUnixMillis()), c.tip_time_ms + 1),
        .primary = c.validator.script_hash};
    ApplicationEngine engine(TriggerType::kApplication, &tx, tx.signers(), trial, ctx, c.natives, c.Settings(),
                             tx.system_fee());
    ExecutionRecord run = engine.Run(tx.script());
    if (run.state == VmState::kFault && run.gas_consumed > tx.system_fee()) {
      return ChainRpcError(-505, "Policy check failed",
                           "system fee " + Datoshi(tx.system_fee()) +
                               " does not cover the execution, which needs at "
                               "least " +
                               Datoshi(run.gas_consumed) + " datoshi");
    }
  }

  {
    std::lock_guard pool_lock(c.pool_mu);
    // Checked again: another submit may have raced this one between the locks.
    if (c.pool.contains(tx.hash())) {
      return ChainRpcError(-503, "Already in pool", tx.hash().ToString() + " is already in the mempool");
    }
    if (c.PoolFeesOf(tx.sender()) != pool_fees) {
      const int64_t balance = devchain::GasBalance(c.state, tx.sender());
      if (balance < tx.system_fee() + tx.network_fee() + c.PoolFeesOf(tx.sender())) {
        return ChainRpcError(-511, "Insufficient funds for fee", "sender cannot pay for all its pooled transactions");
      }
    }
    ASSIGN_OR_RETURN(auto evict, c.PoolConflicts(tx));
    for (const auto& h : evict) c.PoolErase(h);
    c.PoolInsert(tx);
  }
  state_lock.unlock();
  c.NotifyMempool(tx);
  return tx.hash();
}

StatusOr<neo::Transaction> Chain::Impl::BuildTransfer(const DevWallet& from, const neo::UInt160& token,
                                                      const neo::UInt160& to, int64_t amount) {
  neo::ScriptBuilder sb;
  RETURN_IF_ERROR(sb.Nep17Transfer(token, from.script_hash, to, neo::ContractParam::Int(amount)));
  sb.Emit(neo::OpCode::ASSERT);
  std::vector<uint8_t> script = sb.Take();
  const auto verification = neo::SingleSigScript(from.key.public_key());
  neo::Signer signer{.account = from.script_hash, .scopes = neo::WitnessScope::CalledByEntry};

  int64_t system_fee = 0;
  uint32_t height = 0;
  int64_t fee_per_byte = 0;
  int64_t exec_fee_factor = 0;
  {
    std::shared_lock lock(state_mu);
    height = Height();
    fee_per_byte = FeePerByte(state);
    exec_fee_factor = ExecFeeFactor(state);
    DataCache trial(&state);
    BlockContext ctx{.index = height + 1, .timestamp_ms = tip_time_ms + 1, .primary = validator.script_hash};
    ApplicationEngine engine(TriggerType::kApplication, nullptr, {signer}, trial, ctx, natives, Settings(),
                             20 * kGasFactor);
    ExecutionRecord run = engine.Run(script);
    if (run.state != VmState::kHalt) {
      return FailedPreconditionError("devchain faucet: the transfer would fail: " + run.exception.value_or("FAULT"));
    }
    system_fee = run.gas_consumed;
  }
  neo::TransactionBuilder b;
  b.SetNonce(static_cast<uint32_t>(random.NextU64()))
      .SetSystemFee(system_fee)
      .SetValidUntilBlock(height + 100)
      .SetScript(script)
      .AddSigner(signer);
  ASSIGN_OR_RETURN(neo::Transaction unsigned_tx, b.Build());
  ASSIGN_OR_RETURN(size_t witness_size, neo::WitnessSize(verification));
  const size_t size = unsigned_tx.EncodeUnsigned().size() + 1 + witness_size;
  ASSIGN_OR_RETURN(int64_t network_fee, neo::CalculateNetworkFee(size, {verification}, fee_per_byte, exec_fee_factor));
  b.SetNetworkFee(network_fee);
  ASSIGN_OR_RETURN(neo::Transaction tx, b.Build());
  return tx.WithWitnesses(
      {neo::Witness{.invocation = neo::SignatureInvocation(from.key.Sign(neo::SigningData(tx, options.network))),
                    .verification = verification}});
}

StatusOr<neo::UInt256> Chain::Fund(const neo::UInt160& to, int64_t amount, bool neo_token, bool wait) {
  if (amount <= 0) return InvalidArgumentError("devchain faucet: the amount must be positive");
  if (impl_->wallets.empty()) return FailedPreconditionError("devchain faucet: there are no development wallets");
  const neo::UInt160& token = neo_token ? NativeRegistry::NeoHash() : NativeRegistry::GasHash();
  ASSIGN_OR_RETURN(neo::Transaction tx, impl_->BuildTransfer(impl_->wallets[0], token, to, amount));
  ASSIGN_OR_RETURN(neo::UInt256 hash, SubmitTransaction(tx.Encode()));
  if (wait) {
    // Mine until it is on chain (another block producer may take it first).
    for (int i = 0; i < 3; ++i) {
      {
        std::shared_lock lock(impl_->state_mu);
        if (impl_->OnChain(hash)) return hash;
      }
      RETURN_IF_ERROR(MineBlock().status());
    }
    std::shared_lock lock(impl_->state_mu);
    if (!impl_->OnChain(hash)) return InternalError("devchain faucet: the transfer was not included");
  }
  return hash;
}

StatusOr<int64_t> Chain::CalculateNetworkFee(std::span<const uint8_t> raw) const {
  auto decoded = neo::Transaction::Decode(raw);
  if (!decoded.ok()) {
    return ChainRpcError(-32602, "Invalid params", "Invalid transaction: " + std::string(decoded.status().message()));
  }
  const neo::Transaction& tx = *decoded;
  std::vector<std::vector<uint8_t>> scripts;
  size_t size = tx.EncodeUnsigned().size() + 1;  // witness count: at most 16, one byte
  for (size_t i = 0; i < tx.signers().size(); ++i) {
    const auto& verification = tx.witnesses()[i].verification;
    if (verification.empty() || neo::ScriptHash(verification) != tx.signers()[i].account) {
      return ChainRpcError(-32602, "Invalid params",
                           "The smart contract or address " + tx.signers()[i].account.ToString() + " is not found");
    }
    auto witness_size = neo::WitnessSize(verification);
    if (!witness_size.ok()) {
      return ChainRpcError(-32602, "Invalid params",
                           "signer " + std::to_string(i) +
                               " is not a standard account: " + std::string(witness_size.status().message()));
    }
    size += *witness_size;
    scripts.push_back(verification);
  }
  std::shared_lock lock(impl_->state_mu);
  auto fee = neo::CalculateNetworkFee(size, scripts, FeePerByte(impl_->state), ExecFeeFactor(impl_->state));
  if (!fee.ok()) return ChainRpcError(-32602, "Invalid params", std::string(fee.status().message()));
  return fee;
}

}  // namespace neosl::devchain
