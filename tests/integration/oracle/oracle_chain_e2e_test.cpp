// On-chain oracle requests through `neosl serve` and its embedded devchain: a transaction calls
// SampleConsumer.request("oracle", …); the serve's relay has the enclave fetch the data from a
// loopback server and answers with the chain result signed by the attested report key.
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "devchain/app_engine.h"
#include "devchain/chain.h"
#include "integration/fixture.h"
#include "neo/rpc_client.h"
#include "neo/script_builder.h"
#include "neo/tx_sender.h"
#include "services/oracle/oracle_record.h"
#include "unit/net/test_server.h"

namespace neosl::testing {
namespace {

namespace json = boost::json;
constexpr char kSampleConsumer[] = "0x746adb4cfa2fa90e0f16f1d1049b201b4db209de";

class OracleChainE2eTest : public ServerTest {
 protected:
  void SetUp() override {
    StartServer({.env = {{"NEOSL_CHAIN_DEVCHAIN_BLOCK_MS", "0"},
                         {"NEOSL_NET_ALLOW_PRIVATE", "127.0.0.1/32"},
                         {"NEOSL_ORACLE_ALLOW_HTTP", "true"}}});
    ASSERT_FALSE(HasFatalFailure());
    std::string addr;
    std::ifstream(server_->data_dir() + "/devchain/listen.addr") >> addr;
    ASSERT_FALSE(addr.empty());
    neo::HttpRpcClientOptions o;
    o.url = "http://" + addr;
    auto rpc = neo::HttpRpcClient::Create(o, SystemClock::Instance(), random_);
    ASSERT_TRUE(rpc.ok()) << rpc.status().ToString();
    rpc_ = std::move(*rpc);
    signer_ = std::make_unique<neo::KeyTransactionSigner>(devchain::DevWalletAt(0).key);
    sender_ = std::make_unique<neo::TransactionSender>(*rpc_, *signer_, random_, [](std::chrono::milliseconds d) {
      // The poll interval of WaitForInclusion, not a race cover: inclusion is polled for.
      std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(d, std::chrono::milliseconds(20)));
    });
  }

  // request("oracle", payload) from dev wallet 0; the request id.
  std::string Request(const std::string& payload) {
    neo::ScriptBuilder sb;
    sb.EmitContractCall(*neo::UInt160::Parse(kSampleConsumer), "request", neo::CallFlags::All,
                        {*neo::ContractParam::String("oracle"),
                         neo::ContractParam::Bytes(std::vector<uint8_t>(payload.begin(), payload.end()))});
    auto outcome = sender_->Execute(sb.Take());
    EXPECT_TRUE(outcome.ok()) << outcome.status().ToString();
    if (!outcome.ok()) return "";
    for (const auto& n : outcome->notifications) {
      if (n.event_name != "ServiceRequest") continue;
      auto items = n.state.AsArray();
      if (!items.ok()) break;
      auto text = (*items)[0].IntegerText();
      return text.ok() ? *text : "";
    }
    return "";
  }

  // getResponse(id) once answered: [code, result, signature, responder].
  std::optional<std::vector<neo::RpcStackItem>> Response(const std::string& id) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = rpc_->InvokeFunction(
          *neo::UInt160::Parse(kSampleConsumer), "getResponse",
          neo::ContractParamsJson(std::vector{neo::ContractParam::Int(*neo::BigInteger::FromDecimal(id))}), {});
      if (r.ok() && !r->stack.empty()) {
        auto items = r->stack[0].AsArray();
        if (items.ok() && items->size() == 4) return *items;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // polls the chain, bounded above
    }
    return std::nullopt;
  }

  std::string ReportKey() {
    auto r = client_->Get("/v1/attestation?nonce=00112233445566778899");
    EXPECT_EQ(r.status, 200) << r.body;
    return std::string(Json(r).at("public_keys").at("report").as_string());
  }

  SecureRandom& random_ = SecureRandom::Instance();
  std::unique_ptr<neo::HttpRpcClient> rpc_;
  std::unique_ptr<neo::KeyTransactionSigner> signer_;
  std::unique_ptr<neo::TransactionSender> sender_;
};

TEST_F(OracleChainE2eTest, AContractsRequestIsAnsweredWithSignedFilteredData) {
  net::testing::TestServer source([](const net::testing::ReceivedRequest&) {
    return net::testing::Respond(200, "OK", R"({"gas":{"usd":"4.21"}})", {{"Content-Type", "application/json"}});
  });
  const std::string payload = json::serialize(json::object{{"url", source.Url("/price")}, {"filter", "$.gas.usd"}});
  const std::string id = Request(payload);
  ASSERT_FALSE(id.empty());
  auto response = Response(id);
  ASSERT_TRUE(response) << server_->Logs();
  auto code = (*response)[0].AsInt64();
  auto result = (*response)[1].AsBytes();
  auto signature = (*response)[2].AsBytes();
  ASSERT_TRUE(code.ok() && result.ok() && signature.ok());
  ASSERT_EQ(*code, 0) << std::string(result->begin(), result->end());

  // Exactly the chain result this request makes, signed by the attested report key.
  auto contract = neo::UInt160::Parse(kSampleConsumer);
  auto expected = oracle::ChainResult(contract->bytes(), id, oracle::ResponseCode::kSuccess,
                                      std::span(reinterpret_cast<const uint8_t*>("[\"4.21\"]"), 8));
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(HexEncode(*result), HexEncode(*expected));
  auto report = crypto::PublicKey::FromHex(ReportKey());
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(signature->size(), 64u);
  crypto::Signature sig{};
  std::copy(signature->begin(), signature->end(), sig.begin());
  EXPECT_TRUE(report->Verify(*result, sig));

  // What a contract reads with StdLib.deserialize: [contract, requestId, code, result].
  auto item = devchain::DeserializeStackItem(*result);
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  const json::value j = devchain::StackItemToJson(*item);
  const auto& f = j.at("value").as_array();
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[1].at("value").as_string(), id);
  EXPECT_EQ(f[2].at("value").as_string(), "0");
}

TEST_F(OracleChainE2eTest, AFailedFetchIsStillAnAnswerWithItsNeoCode) {
  net::testing::TestServer source([](const net::testing::ReceivedRequest&) {
    return net::testing::Respond(404, "Not Found", "{}", {{"Content-Type", "application/json"}});
  });
  const std::string id = Request(json::serialize(json::object{{"url", source.Url("/nothing")}}));
  ASSERT_FALSE(id.empty());
  auto response = Response(id);
  ASSERT_TRUE(response) << server_->Logs();
  ASSERT_EQ(*(*response)[0].AsInt64(), 0);
  auto item = devchain::DeserializeStackItem(*(*response)[1].AsBytes());
  ASSERT_TRUE(item.ok());
  const json::value j = devchain::StackItemToJson(*item);
  EXPECT_EQ(j.at("value").as_array()[2].at("value").as_string(), std::to_string(int(oracle::ResponseCode::kNotFound)));

  // A payload that is no oracle request is answered INVALID_ARGUMENT (3) with the reason.
  const std::string bad = Request(R"({"url": 5})");
  ASSERT_FALSE(bad.empty());
  auto refused = Response(bad);
  ASSERT_TRUE(refused) << server_->Logs();
  EXPECT_EQ(*(*refused)[0].AsInt64(), 3);
}

}  // namespace
}  // namespace neosl::testing
