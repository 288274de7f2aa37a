// A state with the natives initialised (genesis) and helpers to run scripts against it, shared by
// the engine and native contract tests.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "devchain/app_engine.h"
#include "devchain/data_cache.h"
#include "devchain/native.h"
#include "neo/fee.h"
#include "neo/opcode.h"
#include "neo/script_builder.h"
#include "neo/signer.h"
#include "neo/transaction.h"

namespace neosl::devchain::testing {

inline neo::UInt160 Account(uint8_t tag) {
  std::array<uint8_t, 20> bytes{};
  bytes.fill(tag);
  return neo::UInt160(bytes);
}

inline neo::Signer SignerFor(const neo::UInt160& account, neo::WitnessScope scopes) {
  neo::Signer s;
  s.account = account;
  s.scopes = scopes;
  return s;
}

// Σ opcode prices of a straight-line script (what the VM charges before × ExecFeeFactor).
inline int64_t OpcodePriceSum(std::span<const uint8_t> script) {
  int64_t sum = 0;
  size_t i = 0;
  while (i < script.size()) {
    const uint8_t op = script[i];
    sum += neo::OpCodePrice(static_cast<neo::OpCode>(op));
    size_t size = 1;
    if (op <= 0x05) size += size_t{1} << op;                           // PUSHINT8…256
    if (op == 0x0C) size += 1 + script[i + 1];                         // PUSHDATA1
    if (op == 0x41) size += 4;                                         // SYSCALL
    if (op == 0x0D) size += 2 + (script[i + 1] | script[i + 2] << 8);  // PUSHDATA2
    i += size;
  }
  return sum;
}

class EngineTest : public ::testing::Test {
 protected:
  static constexpr int64_t kGas = 100'000'000;

  EngineTest() {
    DataCache snapshot(&root_);
    BlockContext genesis;
    genesis.primary = alice_;
    ApplicationEngine engine(TriggerType::kOnPersist, nullptr, {}, snapshot, genesis, natives_, settings_, 0);
    for (const auto& contract : natives_.all()) EXPECT_TRUE(contract->Initialize(engine).ok());
    snapshot.Commit();
    block_.index = 1;
    block_.timestamp_ms = 1'700'000'000'123;
    block_.primary = alice_;
  }

  // Runs `script` against the committed state; commits only on HALT (as the chain does).
  ExecutionRecord Run(std::span<const uint8_t> script, std::vector<neo::Signer> signers, int64_t gas_limit = 20 * kGas,
                      const neo::Transaction* container = nullptr) {
    DataCache snapshot(&root_);
    ApplicationEngine engine(TriggerType::kApplication, container, std::move(signers), snapshot, block_, natives_,
                             settings_, gas_limit);
    ExecutionRecord record = engine.Run(script);
    if (record.state == VmState::kHalt) snapshot.Commit();
    return record;
  }

  static std::vector<uint8_t> Call(const neo::UInt160& contract, std::string_view method,
                                   const std::vector<neo::ContractParam>& args,
                                   neo::CallFlags flags = neo::CallFlags::All) {
    neo::ScriptBuilder sb;
    sb.EmitContractCall(contract, method, flags, args);
    return sb.Take();
  }

  static std::vector<uint8_t> Transfer(const neo::UInt160& token, const neo::UInt160& from, const neo::UInt160& to,
                                       int64_t amount, bool assert_result = true) {
    neo::ScriptBuilder sb;
    EXPECT_TRUE(sb.Nep17Transfer(token, from, to, neo::ContractParam::Int(amount)).ok());
    if (assert_result) sb.Emit(neo::OpCode::ASSERT);
    return sb.Take();
  }

  DataCache root_;
  NativeRegistry natives_;
  EngineSettings settings_{0x444C534E, 0x35};
  BlockContext block_;
  neo::UInt160 alice_ = Account(0xA1);
  neo::UInt160 bob_ = Account(0xB2);
};

inline std::string Text(const StackItemPtr& item) {
  std::vector<uint8_t> bytes = *item->GetBytes();
  return {bytes.begin(), bytes.end()};
}

inline int64_t Int(const StackItemPtr& item) {
  return *item->GetInteger()->ToInt64();
}

}  // namespace neosl::devchain::testing
