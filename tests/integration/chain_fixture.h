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
#include "devchain/native.h"
#include "integration/fixture.h"
#include "neo/rpc_client.h"
#include "neo/script_builder.h"
#include "neo/tx_sender.h"

namespace neosl::testing {

inline constexpr char kSampleConsumer[] = "0x746adb4cfa2fa90e0f16f1d1049b201b4db209de";

// A GAS transfer of `amount` datoshi from `sender`'s account, signed and sent; waits for its
// block. The transaction's hash, or "" with a test failure.
inline std::string GasTransfer(neo::TransactionSender& sender, const neo::UInt160& from, const neo::UInt160& to,
                               int64_t amount) {
  neo::ScriptBuilder sb;
  EXPECT_TRUE(sb.Nep17Transfer(devchain::NativeRegistry::GasHash(), from, to, neo::ContractParam::Int(amount)).ok());
  sb.Emit(neo::OpCode::ASSERT);
  auto outcome = sender.Execute(sb.Take());
  EXPECT_TRUE(outcome.ok()) << outcome.status().ToString();
  return outcome.ok() ? outcome->hash.ToString() : "";
}

// SampleConsumer.request(service, payload) sent by `sender`; the request id ("" with a test
// failure).
inline std::string SampleConsumerRequest(neo::TransactionSender& sender, const std::string& service,
                                         const std::string& payload) {
  neo::ScriptBuilder sb;
  sb.EmitContractCall(*neo::UInt160::Parse(kSampleConsumer), "request", neo::CallFlags::All,
                      {*neo::ContractParam::String(service),
                       neo::ContractParam::Bytes(std::vector<uint8_t>(payload.begin(), payload.end()))});
  auto outcome = sender.Execute(sb.Take());
  EXPECT_TRUE(outcome.ok()) << outcome.status().ToString();
  if (!outcome.ok()) return "";
  for (const auto& n : outcome->notifications) {
    if (n.event_name != "ServiceRequest") continue;
    auto items = n.state.AsArray();
    if (!items.ok()) break;
    auto text = (*items)[0].IntegerText();
    return text.ok() ? *text : "";
  }
  ADD_FAILURE() << "no ServiceRequest notification";
  return "";
}

// SampleConsumer.getResponse(id) once answered: [code, result, signature, responder]; nullopt
// after `within`.
inline std::optional<std::vector<neo::RpcStackItem>> SampleConsumerResponse(
    neo::RpcClient& rpc, const std::string& id, std::chrono::milliseconds within = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = rpc.InvokeFunction(
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

// A client of the devchain of the `neosl serve` whose data directory is `data_dir`, sending as
// development wallet 0.
struct DevchainClient {
  std::unique_ptr<neo::HttpRpcClient> rpc;
  std::unique_ptr<neo::KeyTransactionSigner> signer;
  std::unique_ptr<neo::TransactionSender> sender;

  // Null members (and a test failure) when the devchain's address cannot be read.
  static DevchainClient Connect(const std::string& data_dir) {
    DevchainClient c;
    std::string addr;
    std::ifstream(data_dir + "/devchain/listen.addr") >> addr;
    EXPECT_FALSE(addr.empty());
    if (addr.empty()) return c;
    neo::HttpRpcClientOptions o;
    o.url = "http://" + addr;
    auto rpc = neo::HttpRpcClient::Create(o, SystemClock::Instance(), SecureRandom::Instance());
    EXPECT_TRUE(rpc.ok()) << rpc.status().ToString();
    if (!rpc.ok()) return c;
    c.rpc = std::move(*rpc);
    c.signer = std::make_unique<neo::KeyTransactionSigner>(devchain::DevWalletAt(0).key);
    c.sender = std::make_unique<neo::TransactionSender>(
        *c.rpc, *c.signer, SecureRandom::Instance(), [](std::chrono::milliseconds d) {
          // The poll interval of WaitForInclusion, not a race cover: inclusion is polled for.
          std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(d, std::chrono::milliseconds(20)));
        });
    return c;
  }

  // A GAS transfer of `amount` datoshi from wallet 0 (GasTransfer below).
  std::string TransferGas(const neo::UInt160& to, int64_t amount);
};

inline std::string DevchainClient::TransferGas(const neo::UInt160& to, int64_t amount) {
  return GasTransfer(*sender, signer->account(), to, amount);
}

class ChainServerTest : public ServerTest {
 protected:
  // Starts the server (blocks on demand, plus `env`) and a client of its devchain.
  void StartChainServer(std::vector<std::pair<std::string, std::string>> env = {}) {
    env.emplace_back("NEOSL_CHAIN_DEVCHAIN_BLOCK_MS", "0");
    StartServer({.env = std::move(env)});
    ASSERT_FALSE(HasFatalFailure());
    DevchainClient c = DevchainClient::Connect(server_->data_dir());
    ASSERT_TRUE(c.sender != nullptr);
    rpc_ = std::move(c.rpc);
    signer_ = std::move(c.signer);
    sender_ = std::move(c.sender);
  }

  // The attested evidence's public key `name` ("report", "vrf", …), hex.
  std::string Key(const char* name) {
    auto r = client_->Get("/v1/attestation?nonce=00112233445566778899");
    EXPECT_EQ(r.status, 200) << r.body;
    return std::string(Json(r).at("public_keys").at(name).as_string());
  }

  // SampleConsumer.request(service, payload) from dev wallet 0; the request id ("" on failure).
  std::string Request(const std::string& service, const std::string& payload) {
    return SampleConsumerRequest(*sender_, service, payload);
  }

  // getResponse(id) once answered: [code, result, signature, responder]; nullopt after 30 s.
  std::optional<std::vector<neo::RpcStackItem>> Response(const std::string& id) {
    return SampleConsumerResponse(*rpc_, id);
  }

  SecureRandom& random_ = SecureRandom::Instance();
  std::unique_ptr<neo::HttpRpcClient> rpc_;
  std::unique_ptr<neo::KeyTransactionSigner> signer_;
  std::unique_ptr<neo::TransactionSender> sender_;
};

}  // namespace neosl::testing
