// The gas bank end to end through `neosl serve` on its embedded devchain: a real signed GAS
// transfer to the account's deposit address is credited after its confirmation; services are
// refused without funds and charged through holds with them; a withdrawal sends a real transfer
// from the hot wallet once per idempotency key and settles; `neosl gasbank audit` reconciles the
// books with the chain.
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "devchain/native.h"
#include "integration/chain_fixture.h"
#include "integration/gateway_ws_fixture.h"
#include "neo/account.h"

namespace neosl::testing {
namespace {

namespace json = boost::json;
using gateway::ws_test::WaitUntil;

constexpr int64_t kGas = 100'000'000;

class GasBankE2eTest : public ChainServerTest {
 protected:
  void SetUp() override {
    // Blocks every 100 ms, so that a deposit's confirmation comes without another transaction.
    StartChainServer({{"NEOSL_CHAIN_DEVCHAIN_BLOCK_MS", "100"}, {"NEOSL_GASBANK_CONFIRMATIONS", "1"}});
    ASSERT_FALSE(HasFatalFailure());
    account_ = CreateAccount("dapp");
    token_ = CreateKey(account_, R"(["owner"])").second;
  }

  HttpResult As(const std::string& method, const std::string& path, const std::string& body = "") {
    return client_->Request(method, path, body,
                            {{"authorization", "Bearer " + token_}, {"content-type", "application/json"}});
  }
  static int64_t Int(const json::value& v, const char* field) {
    const json::value& f = v.at(field);
    return f.is_string() ? std::stoll(std::string(f.as_string())) : f.to_number<int64_t>();
  }
  json::value AccountView() {
    auto r = As("GET", "/v1/gasbank/account");
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r);
  }
  int64_t ChainGas(const neo::UInt160& who) {
    auto r = rpc_->InvokeFunction(devchain::NativeRegistry::GasHash(), "balanceOf",
                                  neo::ContractParamsJson(std::vector{neo::ContractParam::Hash160(who)}), {});
    EXPECT_TRUE(r.ok() && r->stack.size() == 1);
    auto v = r->stack.at(0).AsInt64();
    EXPECT_TRUE(v.ok());
    return v.ok() ? *v : -1;
  }
  // A GAS transfer from development wallet 0, signed and sent; waits for its block.
  std::string Transfer(const neo::UInt160& to, int64_t amount) {
    return GasTransfer(*sender_, signer_->account(), to, amount);
  }

  std::string account_, token_;
};

TEST_F(GasBankE2eTest, DepositUseWithdrawAndReconcile) {
  json::value view = AccountView();
  const std::string deposit(view.at("deposit_address").as_string());
  ASSERT_EQ(deposit.size(), 34u);
  EXPECT_EQ(Int(view, "available"), 0);
  EXPECT_TRUE(view.at("charged").as_bool());
  EXPECT_EQ(AccountView().at("deposit_address").as_string(), deposit);  // the same address every time

  // Without funds a service refuses before doing anything.
  auto refused = As("POST", "/v1/random", R"({"num_words":2})");
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(ErrorCode(refused), "FAILED_PRECONDITION");
  EXPECT_NE(refused.body.find("insufficient funds"), std::string::npos) << refused.body;

  // A real signed transfer to the deposit address, credited once after its confirmation.
  auto to = neo::AddressToScriptHash(deposit);
  ASSERT_TRUE(to.ok());
  const std::string tx = Transfer(*to, 10 * kGas);
  ASSERT_FALSE(tx.empty());
  ASSERT_TRUE(WaitUntil([&] { return Int(AccountView(), "available") == 10 * kGas; })) << server_->Logs();
  auto ledger = Json(As("GET", "/v1/gasbank/ledger"));
  ASSERT_EQ(ledger.at("entries").as_array().size(), 1u) << json::serialize(ledger);
  const json::value& credit = ledger.at("entries").at(0);
  EXPECT_EQ(credit.at("kind").as_string(), "deposit");
  EXPECT_EQ(credit.at("reference").as_string(), tx);
  EXPECT_EQ(Int(credit, "available_change"), 10 * kGas);

  // Randomness is charged through a hold: reserved, then settled at the schedule's price
  // (random.generate: 50000 + 10000 per word).
  auto drawn = As("POST", "/v1/random", R"({"num_words":3})");
  ASSERT_EQ(drawn.status, 200) << drawn.body;
  view = AccountView();
  EXPECT_EQ(Int(view, "available"), 10 * kGas - 80'000);
  EXPECT_EQ(Int(view, "held"), 0);
  auto usage = Json(As("GET", "/v1/gasbank/usage?group=service"));
  ASSERT_EQ(usage.at("rows").as_array().size(), 1u) << json::serialize(usage);
  EXPECT_EQ(usage.at("rows").at(0).at("key").as_string(), "random");
  EXPECT_EQ(Int(usage.at("rows").at(0), "charged"), 80'000);
  auto csv = As("GET", "/v1/gasbank/usage?group=service&format=csv");
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_NE(csv.Header("content-type").find("text/csv"), std::string::npos);
  EXPECT_NE(csv.body.find("random,1,80000,0.00080000"), std::string::npos) << csv.body;

  // A withdrawal to development wallet 1: one transfer however often it is asked for.
  const neo::UInt160 payee = devchain::DevWalletAt(1).script_hash;
  const int64_t payee_before = ChainGas(payee);
  const std::string body =
      R"({"to":")" + neo::ToAddress(payee) + R"(","amount":")" + std::to_string(kGas) + R"(","idempotency_key":"w-1"})";
  auto first = As("POST", "/v1/gasbank/withdrawals", body);
  ASSERT_EQ(first.status, 201) << first.body;
  const std::string id(Json(first).at("withdrawal_id").as_string());
  auto again = As("POST", "/v1/gasbank/withdrawals", body);
  ASSERT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(Json(again).at("withdrawal_id").as_string(), id);
  EXPECT_TRUE(Json(again).at("replay").as_bool());
  json::value settled;
  ASSERT_TRUE(WaitUntil([&] {
    settled = Json(As("GET", "/v1/gasbank/withdrawals/" + id));
    return settled.at("state").as_string() == "settled";
  })) << json::serialize(settled)
      << server_->Logs();
  EXPECT_EQ(ChainGas(payee), payee_before + kGas);
  const int64_t fee = Int(settled, "fee_charged");
  EXPECT_GT(fee, 0);
  EXPECT_LE(fee, Int(settled, "fee_reserved"));
  view = AccountView();
  EXPECT_EQ(Int(view, "available"), 10 * kGas - 80'000 - kGas - fee);
  EXPECT_EQ(Int(view, "held"), 0);
  EXPECT_EQ(Int(view, "pending_withdrawal"), 0);

  // The same key with another amount is refused, and sends nothing.
  auto changed = As("POST", "/v1/gasbank/withdrawals",
                    R"({"to":")" + neo::ToAddress(payee) + R"(","amount":"200000","idempotency_key":"w-1"})");
  EXPECT_EQ(changed.status, 409) << changed.body;
  EXPECT_EQ(ChainGas(payee), payee_before + kGas);

  // The audit: every invariant holds and custody reconciles with the chain.
  CommandResult audit = RunNeosl({"gasbank", "audit", "--data", server_->data_dir()});
  ASSERT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  auto report = json::parse(audit.out);
  EXPECT_TRUE(report.at("ok").as_bool());
  const json::value& chain = report.at("figures").at("chain");
  EXPECT_EQ(chain.at("deposit_balance").to_number<int64_t>(), 10 * kGas);
  EXPECT_GE(chain.at("surplus").to_number<int64_t>(), 0);
  EXPECT_EQ(chain.at("deposits_checked").to_number<int64_t>(), 1);
}

TEST_F(GasBankE2eTest, BadWithdrawalsAreRefusedClearly) {
  const std::string to = neo::ToAddress(devchain::DevWalletAt(1).script_hash);
  auto no_key = As("POST", "/v1/gasbank/withdrawals", R"({"to":")" + to + R"(","amount":"100000000"})");
  EXPECT_EQ(no_key.status, 400) << no_key.body;
  EXPECT_NE(no_key.body.find("idempotency_key"), std::string::npos) << no_key.body;
  auto bad_to = As("POST", "/v1/gasbank/withdrawals", R"({"to":"nope","amount":"100000000","idempotency_key":"k"})");
  EXPECT_EQ(bad_to.status, 400) << bad_to.body;
  EXPECT_NE(bad_to.body.find("\"field\":\"to\""), std::string::npos) << bad_to.body;
  auto tiny = As("POST", "/v1/gasbank/withdrawals", R"({"to":")" + to + R"(","amount":"1","idempotency_key":"k"})");
  EXPECT_EQ(tiny.status, 400) << tiny.body;
  EXPECT_NE(tiny.body.find("\"field\":\"amount\""), std::string::npos) << tiny.body;
  auto poor =
      As("POST", "/v1/gasbank/withdrawals", R"({"to":")" + to + R"(","amount":"100000000","idempotency_key":"k"})");
  EXPECT_EQ(poor.status, 400) << poor.body;
  EXPECT_EQ(ErrorCode(poor), "FAILED_PRECONDITION") << poor.body;
  EXPECT_NE(poor.body.find("insufficient funds"), std::string::npos) << poor.body;
  // A viewer may look but not withdraw.
  const std::string viewer = CreateKey(account_, R"(["viewer"])").second;
  auto looked = client_->Request("GET", "/v1/gasbank/account", "", {{"authorization", "Bearer " + viewer}});
  EXPECT_EQ(looked.status, 200) << looked.body;
  auto denied = client_->Request("POST", "/v1/gasbank/withdrawals",
                                 R"({"to":")" + to + R"(","amount":"100000000","idempotency_key":"v"})",
                                 {{"authorization", "Bearer " + viewer}, {"content-type", "application/json"}});
  EXPECT_EQ(denied.status, 403) << denied.body;
  auto ledger = Json(As("GET", "/v1/gasbank/ledger"));
  EXPECT_TRUE(ledger.at("entries").as_array().empty());
}

}  // namespace
}  // namespace neosl::testing
