// A `neosl serve` with its embedded devchain mining on demand, and SampleConsumer driven from
// development wallet 0: a request transaction, then its answer read back from the contract.
#pragma once

#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "devchain/chain.h"
#include "integration/fixture.h"
#include "neo/rpc_client.h"
#include "neo/script_builder.h"
#include "neo/tx_sender.h"

namespace neosl::testing {

inline constexpr char kSampleConsumer[] = "0x746adb4cfa2fa90e0f16f1d1049b201b4db209de";

class ChainServerTest : public ServerTest {
 protected:
  // Starts the server (blocks on demand, plus `env`) and a client of its devchain.
  void StartChainServer(std::vector<std::pair<std::string, std::string>> env = {}) {
    env.emplace_back("NEOSL_CHAIN_DEVCHAIN_BLOCK_MS", "0");
    StartServer({.env = std::move(env)});
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

  // The attested evidence's public key `name` ("report", "vrf", …), hex.
  std::string Key(const char* name) {
    auto r = client_->Get("/v1/attestation?nonce=00112233445566778899");
    EXPECT_EQ(r.status, 200) << r.body;
    return std::string(Json(r).at("public_keys").at(name).as_string());
  }

  // SampleConsumer.request(service, payload) from dev wallet 0; the request id ("" on failure).
  std::string Request(const std::string& service, const std::string& payload) {
    neo::ScriptBuilder sb;
    sb.EmitContractCall(*neo::UInt160::Parse(kSampleConsumer), "request", neo::CallFlags::All,
                        {*neo::ContractParam::String(service),
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

  // getResponse(id) once answered: [code, result, signature, responder]; nullopt after 30 s.
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

}  // namespace neosl::testing
