// `neosl serve` with its devchain for automation's end-to-end and crash tests: a funded account
// with an owner key, and a loopback webhook receiver that records what it is sent.
#pragma once

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
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
#include "unit/net/test_server.h"

namespace neosl::testing {

class AutomationServerTest : public ServerTest {
 protected:
  static constexpr int64_t kGas = 100'000'000;

  AutomationServerTest()
      : hook_([this](const net::testing::ReceivedRequest& r) {
          std::lock_guard lock(mu_);
          hooks_.push_back(r);
          return net::testing::Respond(hook_status_, "X", "{}");
        }) {}

  // Starts serve on `data_dir_` (fresh the first time), blocks every 100 ms, webhooks to this
  // machine's 127.0.0.1 allowed over http; armed with `crash_point` when set.
  void Start(const std::string& crash_point = "", std::vector<std::pair<std::string, std::string>> more = {}) {
    std::vector<std::pair<std::string, std::string>> env = {{"NEOSL_CHAIN_DEVCHAIN_BLOCK_MS", "100"},
                                                            {"NEOSL_GASBANK_CONFIRMATIONS", "1"},
                                                            {"NEOSL_NET_ALLOW_PRIVATE", "127.0.0.1/32"},
                                                            {"NEOSL_AUTOMATION_ALLOW_HTTP", "true"}};
    if (!crash_point.empty()) env.emplace_back("NEOSL_CRASH_POINT", crash_point);
    for (auto& kv : more) env.push_back(std::move(kv));
    if (server_) previous_.push_back(std::move(server_));  // keeps the first run's data directory alive
    StartServer({.env = std::move(env), .data_dir = data_dir_});
    ASSERT_FALSE(HasFatalFailure());
    if (data_dir_.empty()) data_dir_ = server_->data_dir();
    chain_ = DevchainClient::Connect(data_dir_);
    ASSERT_TRUE(chain_.sender != nullptr);
    rpc_ = chain_.rpc.get();
  }

  // An account with an owner key and `gas` GAS credited through a real deposit.
  void MakeFundedAccount(int64_t gas = 10) {
    account_ = CreateAccount("dapp");
    token_ = CreateKey(account_, R"(["owner"])").second;
    auto r = As("GET", "/v1/gasbank/account");
    ASSERT_EQ(r.status, 200) << r.body;
    auto deposit = neo::AddressToScriptHash(std::string(Json(r).at("deposit_address").as_string()));
    ASSERT_TRUE(deposit.ok());
    ASSERT_FALSE(Transfer(*deposit, gas * kGas).empty());
    ASSERT_TRUE(gateway::ws_test::WaitUntil([&] { return Available() == gas * kGas; })) << server_->Logs();
  }

  int64_t Available() {
    auto r = As("GET", "/v1/gasbank/account");
    if (r.status != 200) return -1;
    const auto& v = Json(r).at("available");
    return v.is_string() ? std::stoll(std::string(v.as_string())) : v.to_number<int64_t>();
  }

  HttpResult As(const std::string& method, const std::string& path, const std::string& body = "") {
    return client_->Request(method, path, body,
                            {{"authorization", "Bearer " + token_}, {"content-type", "application/json"}});
  }

  // A GAS transfer from development wallet 0, signed and sent; waits for its block.
  std::string Transfer(const neo::UInt160& to, int64_t amount) { return chain_.TransferGas(to, amount); }

  // POST /v1/triggers; the trigger's id ("" on failure).
  std::string CreateTrigger(const std::string& body) {
    auto r = As("POST", "/v1/triggers", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? Str(Json(r), "id") : "";
  }

  // GET /v1/triggers/{id}/runs: the runs, newest first.
  boost::json::array Runs(const std::string& id) {
    auto r = As("GET", "/v1/triggers/" + id + "/runs?limit=100");
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return {};
    return Json(r).at("runs").as_array();
  }

  // Runs of `id` with status `status`.
  size_t CountRuns(const std::string& id, const std::string& status) {
    size_t n = 0;
    for (const auto& run : Runs(id)) n += run.at("status").as_string() == status ? 1 : 0;
    return n;
  }

  std::vector<net::testing::ReceivedRequest> Hooks() {
    std::lock_guard lock(mu_);
    return hooks_;
  }

  // What the webhook received for run `run_id`.
  size_t HooksFor(const std::string& run_id) {
    size_t n = 0;
    for (const auto& h : Hooks()) n += h.Header("idempotency-key") == run_id ? 1 : 0;
    return n;
  }

  std::string data_dir_;
  std::vector<std::unique_ptr<ServerProcess>> previous_;
  DevchainClient chain_;
  neo::HttpRpcClient* rpc_ = nullptr;  // chain_'s
  std::string account_, token_;
  std::mutex mu_;
  std::vector<net::testing::ReceivedRequest> hooks_;
  std::atomic<int> hook_status_{200};
  net::testing::TestServer hook_;
};

}  // namespace neosl::testing
