// Crash safety of the gas bank: `neosl serve` is killed with SIGKILL at each of its crash points
// (core/crash_point.h: NEOSL_CRASH_POINT) while crediting a deposit, settling a hold and
// withdrawing, then restarted on the same data directory without it. Afterwards the audit
// passes, nothing was credited or sent twice, and nothing was lost.
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "devchain/chain.h"
#include "devchain/native.h"
#include "integration/chain_fixture.h"
#include "integration/fixture.h"
#include "integration/gateway_ws_fixture.h"
#include "neo/account.h"
#include "neo/rpc_client.h"
#include "neo/script_builder.h"
#include "neo/tx_sender.h"

namespace neosl::testing {
namespace {

namespace json = boost::json;
using gateway::ws_test::WaitUntil;

constexpr int64_t kGas = 100'000'000;
constexpr int kKilled = 128 + 9;

class GasBankCrashTest : public ServerTest {
 protected:
  // Starts serve on `data_dir_` (a fresh one the first time), armed with `crash_point` if set.
  void Start(const std::string& crash_point) {
    std::vector<std::pair<std::string, std::string>> env = {{"NEOSL_CHAIN_DEVCHAIN_BLOCK_MS", "100"},
                                                            {"NEOSL_GASBANK_CONFIRMATIONS", "1"},
                                                            {"NEOSL_GASBANK_HOLD_TTL_MS", "1000"}};
    if (!crash_point.empty()) env.emplace_back("NEOSL_CRASH_POINT", crash_point);
    if (server_) previous_.push_back(std::move(server_));  // keeps the first run's data directory alive
    StartServer({.env = std::move(env), .data_dir = data_dir_});
    ASSERT_FALSE(HasFatalFailure());
    if (data_dir_.empty()) data_dir_ = server_->data_dir();
    DevchainClient c = DevchainClient::Connect(data_dir_);
    ASSERT_TRUE(c.sender != nullptr);
    rpc_ = std::move(c.rpc);
    signer_ = std::move(c.signer);
    sender_ = std::move(c.sender);
  }

  // The armed server has reached its crash point: it dies by SIGKILL. Restart it unarmed.
  void ExpectKilledThenRestart() {
    EXPECT_EQ(server_->WaitExit(std::chrono::seconds(30)), kKilled) << server_->Logs();
    EXPECT_NE(server_->Logs().find("crash point reached"), std::string::npos);
    Start("");
  }

  void MakeAccount() {
    account_ = CreateAccount("dapp");
    token_ = CreateKey(account_, R"(["owner"])").second;
    auto r = As("GET", "/v1/gasbank/account");
    ASSERT_EQ(r.status, 200) << r.body;
    auto hash = neo::AddressToScriptHash(std::string(Json(r).at("deposit_address").as_string()));
    ASSERT_TRUE(hash.ok());
    deposit_ = *hash;
  }

  HttpResult As(const std::string& method, const std::string& path, const std::string& body = "") {
    return client_->Request(method, path, body,
                            {{"authorization", "Bearer " + token_}, {"content-type", "application/json"}});
  }
  static int64_t Int(const json::value& v, const char* field) {
    const json::value& f = v.at(field);
    return f.is_string() ? std::stoll(std::string(f.as_string())) : f.to_number<int64_t>();
  }
  json::value AccountView() { return Json(As("GET", "/v1/gasbank/account")); }
  int64_t Available() {
    auto v = AccountView();
    return v.is_object() && v.as_object().contains("available") ? Int(v, "available") : -1;
  }
  int64_t ChainGas(const neo::UInt160& who) {
    auto r = rpc_->InvokeFunction(devchain::NativeRegistry::GasHash(), "balanceOf",
                                  neo::ContractParamsJson(std::vector{neo::ContractParam::Hash160(who)}), {});
    if (!r.ok() || r->stack.size() != 1) return -1;
    auto v = r->stack[0].AsInt64();
    return v.ok() ? *v : -1;
  }
  // A GAS transfer to the deposit address from development wallet 0; waits for its block
  // unless the server is expected to die on it (then it returns once the node has it).
  void Deposit(int64_t amount, bool wait = true) {
    neo::ScriptBuilder sb;
    ASSERT_TRUE(sb.Nep17Transfer(devchain::NativeRegistry::GasHash(), signer_->account(), deposit_,
                                 neo::ContractParam::Int(amount))
                    .ok());
    sb.Emit(neo::OpCode::ASSERT);
    auto tx = sender_->Build(sb.Take());
    ASSERT_TRUE(tx.ok()) << tx.status().ToString();
    ASSERT_TRUE(sender_->Send(*tx).ok());
    if (wait) {
      ASSERT_TRUE(sender_->WaitForInclusion(*tx, std::chrono::milliseconds(20)).ok());
    }
  }
  size_t EntriesOfKind(const std::string& kind) {
    size_t n = 0;
    auto page = Json(As("GET", "/v1/gasbank/ledger?page_size=500"));
    for (const auto& e : page.at("entries").as_array()) n += e.at("kind").as_string() == kind;
    return n;
  }
  void ExpectAuditPasses() {
    CommandResult audit = RunNeosl({"gasbank", "audit", "--data", data_dir_});
    EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  }

  std::vector<std::unique_ptr<ServerProcess>> previous_;
  std::string data_dir_;
  std::string account_, token_;
  neo::UInt160 deposit_;
  std::unique_ptr<neo::HttpRpcClient> rpc_;
  std::unique_ptr<neo::KeyTransactionSigner> signer_;
  std::unique_ptr<neo::TransactionSender> sender_;
};

class DepositCrashTest : public GasBankCrashTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(DepositCrashTest, CreditedExactlyOnceAfterTheRestart) {
  Start(GetParam());
  MakeAccount();
  Deposit(3 * kGas, /*wait=*/false);  // the server dies crediting it
  ExpectKilledThenRestart();
  ASSERT_TRUE(WaitUntil([&] { return Available() == 3 * kGas; })) << server_->Logs();
  // A second deposit after the restart: both credited, each once.
  Deposit(kGas);
  ASSERT_TRUE(WaitUntil([&] { return Available() == 4 * kGas; })) << server_->Logs();
  EXPECT_EQ(EntriesOfKind("deposit"), 2u);
  ExpectAuditPasses();
}

INSTANTIATE_TEST_SUITE_P(CrashPoints, DepositCrashTest,
                         ::testing::Values("gasbank.deposit.before_commit", "gasbank.deposit.after_commit"));

TEST_F(GasBankCrashTest, SettlementInterruptedIsReleasedNeverChargedTwice) {
  Start("gasbank.settle.before_commit");
  MakeAccount();
  Deposit(2 * kGas);
  ASSERT_TRUE(WaitUntil([&] { return Available() == 2 * kGas; })) << server_->Logs();
  auto drawn = As("POST", "/v1/random", R"({"num_words":1})");  // dies while settling its hold
  EXPECT_NE(drawn.status, 200);
  ExpectKilledThenRestart();
  // The hold the crash left open expires into a release: nothing charged, nothing lost.
  ASSERT_TRUE(WaitUntil([&] {
    auto v = AccountView();
    return Int(v, "held") == 0 && Int(v, "available") == 2 * kGas;
  })) << json::serialize(AccountView());
  // Charging works again, once.
  ASSERT_EQ(As("POST", "/v1/random", R"({"num_words":1})").status, 200);
  EXPECT_EQ(Available(), 2 * kGas - 60'000);
  ExpectAuditPasses();
}

class WithdrawalCrashTest : public GasBankCrashTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(WithdrawalCrashTest, SentOnceAndSettledOnceAfterTheRestart) {
  Start(GetParam());
  MakeAccount();
  Deposit(5 * kGas);
  ASSERT_TRUE(WaitUntil([&] { return Available() == 5 * kGas; })) << server_->Logs();
  const neo::UInt160 payee = devchain::DevWalletAt(2).script_hash;
  const int64_t before = ChainGas(payee);
  const std::string body = R"({"to":")" + neo::ToAddress(payee) + R"(","amount":")" + std::to_string(2 * kGas) +
                           R"(","idempotency_key":"crash-1"})";
  (void)As("POST", "/v1/gasbank/withdrawals", body);  // may die before answering
  ExpectKilledThenRestart();

  // Asking again with the same key answers the one withdrawal (or makes it, if the crash came
  // before its transaction committed — after_request commits first, so it is there).
  auto again = As("POST", "/v1/gasbank/withdrawals", body);
  ASSERT_EQ(again.status, 201) << again.body;
  EXPECT_TRUE(Json(again).at("replay").as_bool());
  const std::string id(Json(again).at("withdrawal_id").as_string());
  json::value w;
  ASSERT_TRUE(WaitUntil([&] {
    w = Json(As("GET", "/v1/gasbank/withdrawals/" + id));
    return w.at("state").as_string() == "settled";
  })) << json::serialize(w)
      << server_->Logs();
  EXPECT_EQ(ChainGas(payee), before + 2 * kGas);  // one transfer
  auto v = AccountView();
  EXPECT_EQ(Int(v, "available"), 5 * kGas - 2 * kGas - Int(w, "fee_charged"));
  EXPECT_EQ(Int(v, "pending_withdrawal"), 0);
  EXPECT_EQ(Int(v, "held"), 0);
  EXPECT_EQ(EntriesOfKind("withdrawal_settle"), 1u);
  ExpectAuditPasses();
}

INSTANTIATE_TEST_SUITE_P(CrashPoints, WithdrawalCrashTest,
                         ::testing::Values("gasbank.withdrawal.after_request", "gasbank.withdrawal.before_apply",
                                           "gasbank.withdrawal.after_apply"));

}  // namespace
}  // namespace neosl::testing
