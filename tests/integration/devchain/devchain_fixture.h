// A real devchain (Chain over a temp dir) with its RpcServer on 127.0.0.1:0, driven by the
// project's own Neo clients, plus a raw WebSocket client for protocol-level checks.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/random.h"
#include "devchain/chain.h"
#include "devchain/rpc_server.h"
#include "neo/rpc_client.h"
#include "neo/rpc_types.h"
#include "neo/script_builder.h"
#include "neo/tx_sender.h"
#include "neo/ws_subscriber.h"
#include "support/temp_dir.h"

namespace neosl::devchain::testing {

inline constexpr std::string_view kGasHash = "0xd2a4cff31913016155e38e474a2c06d08be276cf";
inline constexpr auto kWait = std::chrono::seconds(30);

inline neo::UInt160 GasHash() {
  return *neo::UInt160::Parse(kGasHash);
}

class DevchainTest : public ::testing::Test {
 protected:
  // Blocks on demand (mined as soon as a transaction arrives) unless a test says otherwise.
  void StartChain(std::chrono::milliseconds block_time = std::chrono::milliseconds(0)) {
    ChainOptions options;
    options.data_dir = dir_.path();
    options.block_time = block_time;
    auto chain = Chain::Open(std::move(options));
    ASSERT_TRUE(chain.ok()) << chain.status().ToString();
    chain_ = *std::move(chain);
    chain_->Start();
    auto server = RpcServer::Start(RpcServerOptions{.host = "127.0.0.1", .port = 0}, *chain_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = *std::move(server);
    rpc_ = NewClient();
    ASSERT_NE(rpc_, nullptr);
    signer_ = std::make_unique<neo::KeyTransactionSigner>(DevWalletAt(0).key);
    sender_ = std::make_unique<neo::TransactionSender>(*rpc_, *signer_, random_, [](std::chrono::milliseconds d) {
      // The poll interval of WaitForInclusion, not a race cover: inclusion is polled for.
      std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(d, std::chrono::milliseconds(20)));
    });
  }

  void TearDown() override {
    if (server_) server_->Stop();
    if (chain_) chain_->Stop();
  }

  std::string http_url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  std::string ws_url() const { return "ws://127.0.0.1:" + std::to_string(server_->port()) + "/ws"; }

  std::unique_ptr<neo::HttpRpcClient> NewClient() {
    neo::HttpRpcClientOptions o;
    o.url = http_url();
    o.max_attempts = 1;
    auto c = neo::HttpRpcClient::Create(o, SystemClock::Instance(), random_);
    return c.ok() ? *std::move(c) : nullptr;
  }

  // A GAS transfer from dev wallet 0, signed and priced by TransactionSender.
  neo::Transaction BuildGasTransfer(const neo::UInt160& to, int64_t amount) {
    neo::ScriptBuilder sb;
    EXPECT_TRUE(sb.Nep17Transfer(GasHash(), DevWalletAt(0).script_hash, to, neo::ContractParam::Int(amount)).ok());
    auto tx = sender_->Build(sb.data());
    EXPECT_TRUE(tx.ok()) << tx.status().ToString();
    return *std::move(tx);
  }

  std::optional<neo::TransactionOutcome> SendGasTransfer(const neo::UInt160& to, int64_t amount) {
    neo::ScriptBuilder sb;
    EXPECT_TRUE(sb.Nep17Transfer(GasHash(), DevWalletAt(0).script_hash, to, neo::ContractParam::Int(amount)).ok());
    auto outcome = sender_->Execute(sb.data());
    EXPECT_TRUE(outcome.ok()) << outcome.status().ToString();
    if (!outcome.ok()) return std::nullopt;
    return *std::move(outcome);
  }

  neosl::testing::TempDir dir_;
  DeterministicRandom random_{42};
  std::unique_ptr<Chain> chain_;
  std::unique_ptr<RpcServer> server_;
  std::unique_ptr<neo::HttpRpcClient> rpc_;
  std::unique_ptr<neo::KeyTransactionSigner> signer_;
  std::unique_ptr<neo::TransactionSender> sender_;
};

// The Neo RPC error code a call failed with (0 if none was kept).
inline int64_t NeoCode(const Status& s) {
  return neo::NeoRpcErrorCode(s).value_or(0);
}

// A bare WebSocket JSON-RPC client: every read is bounded by a timeout.
class RawWs {
 public:
  explicit RawWs(uint16_t port) : ws_(ioc_) {
    boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), port);
    boost::beast::get_lowest_layer(ws_).connect(ep);
    ws_.handshake("127.0.0.1:" + std::to_string(port), "/ws");
    ws_.text(true);
  }
  ~RawWs() {
    boost::system::error_code ignored;
    boost::beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  const boost::system::error_code& last_error() const { return last_error_; }

  void Send(const boost::json::value& v) { ws_.write(boost::asio::buffer(boost::json::serialize(v))); }

  // The next frame, or nullopt after `timeout`.
  std::optional<boost::json::value> Read(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    boost::beast::flat_buffer buffer;
    bool done = false;
    boost::system::error_code ec;
    ws_.async_read(buffer, [&](boost::system::error_code e, size_t) {
      ec = e;
      done = true;
    });
    ioc_.restart();
    ioc_.run_for(timeout);
    if (!done) {
      boost::beast::get_lowest_layer(ws_).cancel();
      ioc_.restart();
      ioc_.run_for(std::chrono::seconds(1));
      return std::nullopt;
    }
    last_error_ = ec;
    if (ec) return std::nullopt;
    return boost::json::parse(boost::beast::buffers_to_string(buffer.data()));
  }

  // Sends a request and returns its response, skipping event frames in between.
  boost::json::value Call(std::string_view method, boost::json::array params, int64_t id) {
    Send(boost::json::object{{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}, {"id", id}});
    for (;;) {
      auto frame = Read();
      if (!frame) return nullptr;
      const auto& o = frame->as_object();
      if (o.contains("id") && o.at("id") == boost::json::value(id)) return *frame;
    }
  }

 private:
  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::system::error_code last_error_;
};

inline int64_t ErrorCodeOf(const boost::json::value& response) {
  const auto* o = response.if_object();
  const auto* e = o ? o->if_contains("error") : nullptr;
  return e && e->is_object() ? e->at("code").to_number<int64_t>() : 0;
}

}  // namespace neosl::devchain::testing
