// On-chain randomness through `neosl serve` and its embedded devchain: a transaction calls
// SampleConsumer.request("random", …); the serve's relay answers with words signed by the
// attested report key and proved by the attested VRF key.
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/ecvrf.h"
#include "devchain/app_engine.h"
#include "devchain/chain.h"
#include "integration/fixture.h"
#include "neo/rpc_client.h"
#include "neo/script_builder.h"
#include "neo/tx_sender.h"
#include "services/random/random_core.h"

namespace neosl::testing {
namespace {

namespace json = boost::json;
constexpr char kSampleConsumer[] = "0x746adb4cfa2fa90e0f16f1d1049b201b4db209de";

class RandomChainE2eTest : public ServerTest {
 protected:
  void SetUp() override {
    StartServer({.env = {{"NEOSL_CHAIN_DEVCHAIN_BLOCK_MS", "0"}}});
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

  std::string Key(const char* name) {
    auto r = client_->Get("/v1/attestation?nonce=00112233445566778899");
    EXPECT_EQ(r.status, 200) << r.body;
    return std::string(Json(r).at("public_keys").at(name).as_string());
  }

  // request("random", payload) from dev wallet 0; the request id.
  std::string Request(const std::string& payload) {
    neo::ScriptBuilder sb;
    sb.EmitContractCall(*neo::UInt160::Parse(kSampleConsumer), "request", neo::CallFlags::All,
                        {*neo::ContractParam::String("random"),
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

  SecureRandom& random_ = SecureRandom::Instance();
  std::unique_ptr<neo::HttpRpcClient> rpc_;
  std::unique_ptr<neo::KeyTransactionSigner> signer_;
  std::unique_ptr<neo::TransactionSender> sender_;
};

TEST_F(RandomChainE2eTest, AContractsRequestIsAnsweredWithAttestedSignedProvedWords) {
  const std::string id = Request(R"({"num_words": 2, "seed": "5eed"})");
  ASSERT_FALSE(id.empty());
  auto response = Response(id);
  ASSERT_TRUE(response) << server_->Logs();
  auto code = (*response)[0].AsInt64();
  auto result_or = (*response)[1].AsBytes();
  auto signature_or = (*response)[2].AsBytes();
  ASSERT_TRUE(code.ok() && result_or.ok() && signature_or.ok());
  ASSERT_EQ(*code, 0) << std::string(result_or->begin(), result_or->end());
  const std::vector<uint8_t>& result = *result_or;
  const std::vector<uint8_t>& signature = *signature_or;

  // The report key of the attested evidence signed exactly these bytes.
  auto report = crypto::PublicKey::FromHex(Key("report"));
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(signature.size(), 64u);
  crypto::Signature sig{};
  std::copy(signature.begin(), signature.end(), sig.begin());
  EXPECT_TRUE(report->Verify(result, sig));

  // The words are proved by the attested VRF key over this request's alpha.
  auto item = devchain::DeserializeStackItem(result);
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  const json::value j = devchain::StackItemToJson(*item);
  const auto& f = j.at("value").as_array();
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f[0].at("value").as_string(), id);
  auto bytes = [](const json::value& v) {
    return Base64Decode(std::string(v.at("value").as_string())).value_or(std::vector<uint8_t>{});
  };
  const auto alpha = bytes(f[4]);
  EXPECT_EQ(alpha, services::random::Alpha(std::string("neo:") + kSampleConsumer, id, *HexDecode("5eed")));
  auto beta = crypto::ecvrf::Verify(*HexDecode(Key("vrf")), bytes(f[3]), alpha);
  ASSERT_TRUE(beta.ok()) << beta.status().ToString();
  EXPECT_EQ(std::vector<uint8_t>(beta->begin(), beta->end()), bytes(f[2]));
  EXPECT_EQ(f[1].at("value").as_array().size(), 2u);
}

}  // namespace
}  // namespace neosl::testing
