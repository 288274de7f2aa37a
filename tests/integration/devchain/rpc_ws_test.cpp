// The devchain's WebSocket notifications: the project's WsSubscriber and PollingSubscriber must
// deliver a transfer's events identically and in neo-go's order; raw clients check subscribe
// errors, slot limits, filters and a clean close on Stop().
#include <algorithm>

#include "integration/devchain/devchain_fixture.h"
#include "neo/account.h"

namespace neosl::devchain::testing {
namespace {
namespace json = boost::json;

// Records events as comparable lines and wakes waiters per delivered block.
class Recorder final : public neo::ChainEventHandler {
 public:
  void OnExecution(const neo::ExecutionEvent& e) override {
    Add("exec " + e.container.ToString() + " " + e.execution.trigger + " " +
        std::string(neo::VmStateName(e.execution.vm_state)));
  }
  void OnNotification(const neo::NotificationEvent& n) override {
    Add("note " + n.container.ToString() + " " + std::to_string(n.index) + " " + n.notification.contract.ToString() +
        " " + n.notification.event_name);
  }
  void OnTransaction(const neo::TransactionEvent& t) override { Add("tx " + t.tx.hash.ToString()); }
  void OnBlock(const neo::BlockEvent& b) override {
    Add("block " + std::to_string(b.block.index));
    std::lock_guard lock(mu_);
    blocks_.push_back(b.block.index);
    cv_.notify_all();
  }

  bool WaitForBlock(uint32_t index) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return std::find(blocks_.begin(), blocks_.end(), index) != blocks_.end(); });
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mu_);
    return lines_;
  }

 private:
  void Add(std::string line) {
    std::lock_guard lock(mu_);
    lines_.push_back(std::move(line));
  }
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  std::vector<uint32_t> blocks_;
};

size_t Position(const std::vector<std::string>& lines, std::string_view prefix) {
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind(prefix, 0) == 0) return i;
  }
  return lines.size();
}

TEST_F(DevchainTest, SubscribersDeliverATransferInNeoGoOrder) {
  StartChain();
  const uint32_t start = chain_->height() + 1;
  neo::Subscriptions subs;
  subs.blocks = neo::BlockFilter{.since = start};
  subs.transactions = neo::TransactionFilter{.sender = DevWalletAt(0).script_hash};
  subs.executions = neo::ExecutionFilter{.state = neo::VmState::kHalt};
  subs.notifications = neo::NotificationFilter{.contract = GasHash(), .name = "Transfer"};

  auto ws_rpc = NewClient();
  auto poll_rpc = NewClient();
  auto ws = neo::WsSubscriber::Create({.url = ws_url(), .subscriptions = subs, .start_index = start}, *ws_rpc, random_);
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  auto poll = neo::PollingSubscriber::Create(
      {.subscriptions = subs, .start_index = start, .poll_interval = std::chrono::milliseconds(50)}, *poll_rpc,
      random_);
  ASSERT_TRUE(poll.ok()) << poll.status().ToString();
  Recorder ws_events, poll_events;
  ASSERT_TRUE((*ws)->Start(ws_events).ok());
  ASSERT_TRUE((*poll)->Start(poll_events).ok());

  // An empty block first: once it is delivered the WebSocket subscriptions are live, so the
  // transfer's block comes over the stream.
  ASSERT_TRUE(chain_->MineBlock().ok());
  ASSERT_TRUE(ws_events.WaitForBlock(start));
  auto outcome = SendGasTransfer(DevWalletAt(4).script_hash, 777);
  ASSERT_TRUE(outcome.has_value());
  auto block = rpc_->GetBlock(outcome->block_hash);
  ASSERT_TRUE(block.ok());
  ASSERT_TRUE(ws_events.WaitForBlock(block->index));
  ASSERT_TRUE(poll_events.WaitForBlock(block->index));
  (*ws)->Stop();
  (*poll)->Stop();

  auto ws_lines = ws_events.lines();
  auto poll_lines = poll_events.lines();
  EXPECT_EQ(ws_lines, poll_lines);
  // The transfer's block, in neo-go's order.
  const std::string bh = outcome->block_hash.ToString(), th = outcome->hash.ToString();
  size_t from = Position(ws_lines, "block " + std::to_string(block->index - 1)) + 1;
  std::vector<std::string> lines(ws_lines.begin() + std::min(from, ws_lines.size()), ws_lines.end());
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front(), "exec " + bh + " OnPersist HALT");
  size_t tx_exec = Position(lines, "exec " + th + " Application HALT");
  size_t tx_note = Position(lines, "note " + th + " 0 " + std::string(kGasHash) + " Transfer");
  size_t tx = Position(lines, "tx " + th);
  size_t post = Position(lines, "exec " + bh + " PostPersist HALT");
  ASSERT_LT(tx_exec, lines.size());
  ASSERT_LT(tx_note, lines.size());
  EXPECT_LT(tx_exec, tx_note);
  EXPECT_LT(tx_note, tx);
  EXPECT_LT(tx, post);
  ASSERT_LT(post, lines.size());
  EXPECT_EQ(lines.back(), "block " + std::to_string(block->index));
  for (const auto& l : ws_lines) {
    EXPECT_EQ(l.find("FAULT"), std::string::npos) << l;  // state filter
    if (l.rfind("note", 0) == 0) {
      EXPECT_NE(l.find(kGasHash), std::string::npos) << l;  // contract filter
    }
  }
}

TEST_F(DevchainTest, WebSocketSubscribeErrorsAndSlots) {
  StartChain();
  RawWs ws(server_->port());
  EXPECT_EQ(ErrorCodeOf(ws.Call("subscribe", {"no_such_stream"}, 1)), -32602);
  EXPECT_EQ(ErrorCodeOf(ws.Call("subscribe", {"event_missed"}, 2)), -32602);
  EXPECT_EQ(ErrorCodeOf(ws.Call("subscribe", {"transaction_executed", json::object{{"state", "BAD"}}}, 3)), -32602);
  EXPECT_EQ(ErrorCodeOf(ws.Call("subscribe", {"block_added", json::object{{"nonsense", 1}}}, 4)), -32602);
  EXPECT_EQ(ErrorCodeOf(ws.Call("subscribe", {"notification_from_execution", json::object{{"contract", "x"}}}, 5)),
            -32602);
  for (int i = 0; i < 16; ++i) {
    auto r = ws.Call("subscribe", {"block_added"}, 100 + i);
    ASSERT_EQ(r.at("result"), json::value(std::to_string(i))) << json::serialize(r);
  }
  EXPECT_EQ(ErrorCodeOf(ws.Call("subscribe", {"block_added"}, 200)), -32603);  // neo-go's maxFeeds
  EXPECT_EQ(ws.Call("unsubscribe", {"3"}, 201).at("result"), json::value(true));
  EXPECT_EQ(ErrorCodeOf(ws.Call("unsubscribe", {"3"}, 202)), -32602);
  EXPECT_EQ(ws.Call("subscribe", {"block_added"}, 203).at("result"), json::value("3"));
  // Ordinary methods work over the socket.
  EXPECT_EQ(ws.Call("getblockcount", {}, 204).at("result"), json::value(chain_->height() + 1));
  EXPECT_EQ(ErrorCodeOf(ws.Call("nosuchmethod", {}, 205)), -32601);
}

// Reads frames until block_added for `index`; returns the methods seen (and the payloads).
std::vector<std::pair<std::string, json::value>> UntilBlock(RawWs& ws, uint32_t index) {
  std::vector<std::pair<std::string, json::value>> out;
  for (;;) {
    auto frame = ws.Read();
    if (!frame) return out;
    const auto& o = frame->as_object();
    if (!o.contains("method")) continue;
    std::string method(o.at("method").as_string());
    json::value payload = o.at("params").as_array().empty() ? json::value() : o.at("params").at(0);
    out.emplace_back(method, payload);
    if (method == "block_added" && payload.at("index") == json::value(index)) return out;
  }
}

TEST_F(DevchainTest, WebSocketFiltersSelectEvents) {
  StartChain();
  RawWs excluded(server_->port()), included(server_->port());
  const std::string other = DevWalletAt(7).script_hash.ToString();
  ASSERT_EQ(ErrorCodeOf(excluded.Call("subscribe", {"block_added"}, 1)), 0);
  ASSERT_EQ(ErrorCodeOf(excluded.Call("subscribe", {"transaction_added", json::object{{"sender", other}}}, 2)), 0);
  ASSERT_EQ(ErrorCodeOf(excluded.Call("subscribe", {"transaction_executed", json::object{{"state", "FAULT"}}}, 3)), 0);
  ASSERT_EQ(ErrorCodeOf(excluded.Call("subscribe", {"notification_from_execution", json::object{{"name", "Nope"}}}, 4)),
            0);
  ASSERT_EQ(ErrorCodeOf(included.Call("subscribe", {"block_added"}, 1)), 0);
  ASSERT_EQ(
      ErrorCodeOf(included.Call(
          "subscribe", {"transaction_added", json::object{{"signer", DevWalletAt(0).script_hash.ToString()}}}, 2)),
      0);
  ASSERT_EQ(ErrorCodeOf(included.Call(
                "subscribe", {"notification_from_execution", json::object{{"contract", std::string(kGasHash)}}}, 3)),
            0);

  auto outcome = SendGasTransfer(DevWalletAt(5).script_hash, 10);
  ASSERT_TRUE(outcome.has_value());
  auto block = rpc_->GetBlock(outcome->block_hash);
  ASSERT_TRUE(block.ok());

  auto none = UntilBlock(excluded, block->index);
  ASSERT_FALSE(none.empty());
  for (const auto& [method, payload] : none) EXPECT_EQ(method, "block_added");

  auto some = UntilBlock(included, block->index);
  ASSERT_FALSE(some.empty());
  bool tx = false, note = false;
  for (const auto& [method, payload] : some) {
    if (method == "transaction_added") {
      tx = tx || payload.at("hash") == json::value(outcome->hash.ToString());
    } else if (method == "notification_from_execution") {
      EXPECT_EQ(payload.at("contract"), json::value(kGasHash));
      note = note || payload.at("container") == json::value(outcome->hash.ToString());
    } else {
      EXPECT_EQ(method, "block_added");
    }
  }
  EXPECT_TRUE(tx);
  EXPECT_TRUE(note);
  EXPECT_EQ(some.back().second.at("hash"), json::value(outcome->block_hash.ToString()));
}

TEST_F(DevchainTest, StopClosesWebSocketsCleanly) {
  StartChain();
  RawWs ws(server_->port());
  ASSERT_EQ(ws.Call("subscribe", {"block_added"}, 1).at("result"), json::value("0"));
  // The client keeps reading, as a real one does, and answers the close frame.
  std::thread stopper([&] { server_->Stop(); });
  EXPECT_FALSE(ws.Read(std::chrono::seconds(10)).has_value());
  stopper.join();
  EXPECT_EQ(ws.last_error(), boost::beast::websocket::error::closed);
  server_->Stop();  // idempotent
}

}  // namespace
}  // namespace neosl::devchain::testing
