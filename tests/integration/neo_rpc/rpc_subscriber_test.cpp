// WsSubscriber and PollingSubscriber against the fake node: live delivery, a connection cut
// mid-block while blocks are produced, event_missed, filters, and the two sources agreeing.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/random.h"
#include "integration/neo_rpc/fake_node.h"
#include "neo/rpc_client.h"
#include "neo/ws_subscriber.h"

namespace neosl::neo {
namespace {
using namespace std::chrono_literals;
using testing::Announce;
using testing::FakeNode;
namespace json = boost::json;

// Records every callback as one line; waits on a condition variable, never sleeps.
class Recorder : public ChainEventHandler {
 public:
  void OnExecution(const ExecutionEvent& e) override {
    Add("exec b" + std::to_string(e.block_index) + " " + e.container.ToString() + " " + e.execution.trigger + " " +
        std::string(VmStateName(e.execution.vm_state)));
  }
  void OnNotification(const NotificationEvent& n) override {
    Add("note b" + std::to_string(n.block_index) + " " + n.container.ToString() + "#" + std::to_string(n.index) + " " +
        n.notification.contract.ToString() + " " + n.notification.event_name + " " +
        json::serialize(n.notification.state.json()));
  }
  void OnTransaction(const TransactionEvent& t) override {
    Add("tx b" + std::to_string(t.block_index) + " " + t.tx.hash.ToString() + " " + t.tx.sender->ToString());
  }
  void OnBlock(const BlockEvent& b) override {
    Add("block " + std::to_string(b.block.index) + " " + b.block.hash.ToString(), b.block.index);
  }
  void OnError(const Status& s) override {
    std::lock_guard lock(mu_);
    errors_.push_back(s);
    cv_.notify_all();
  }

  bool WaitForBlock(uint32_t index, std::chrono::milliseconds timeout = 20s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return last_block_ && *last_block_ >= index; });
  }
  bool WaitForErrors(size_t n, std::chrono::milliseconds timeout = 20s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return errors_.size() >= n; });
  }
  std::vector<std::string> Events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  size_t threads() const {
    std::lock_guard lock(mu_);
    return threads_.size();
  }
  size_t errors() const {
    std::lock_guard lock(mu_);
    return errors_.size();
  }

 private:
  void Add(std::string line, std::optional<uint32_t> block = std::nullopt) {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(line));
    threads_.insert(std::this_thread::get_id());
    if (block) last_block_ = block;
    cv_.notify_all();
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> events_;
  std::vector<Status> errors_;
  std::set<std::thread::id> threads_;
  std::optional<uint32_t> last_block_;
};

Subscriptions All() {
  Subscriptions s;
  s.blocks = BlockFilter{};
  s.transactions = TransactionFilter{};
  s.executions = ExecutionFilter{};
  s.notifications = NotificationFilter{};
  return s;
}

class SubscriberTest : public ::testing::Test {
 protected:
  SubscriberTest() : node_(0, /*genesis_blocks=*/2) {
    rpc_ = HttpRpcClient::Create({.url = node_.http_url(), .attempt_timeout = 5s, .initial_backoff = 10ms}, clock_,
                                 random_)
               .value();
  }

  std::unique_ptr<WsSubscriber> Ws(Subscriptions subs, std::optional<uint32_t> start = 2) {
    auto s = WsSubscriber::Create({.url = node_.ws_url(),
                                   .subscriptions = std::move(subs),
                                   .start_index = start,
                                   .connect_timeout = 5s,
                                   .idle_timeout = 20s,
                                   .retry = {.initial_backoff = 10ms, .max_backoff = 50ms}},
                                  *rpc_, random_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }

  // What the subscriptions select from blocks [from, to], rebuilt independently over JSON-RPC.
  std::vector<std::string> Expected(const Subscriptions& subs, uint32_t from, uint32_t to) {
    auto rpc = HttpRpcClient::Create({.url = node_.http_url()}, clock_, random_).value();
    BlockEventCollector collector(*rpc, subs);
    Recorder r;
    for (uint32_t i = from; i <= to; ++i) {
      auto events = collector.Collect(i);
      EXPECT_TRUE(events.ok()) << events.status().ToString();
      if (events.ok()) {
        for (const auto& e : *events) Dispatch(e, r);
      }
    }
    return r.Events();
  }

  int GetBlockRequests(uint32_t index) const {
    int n = 0;
    for (const auto& p : node_.RequestParams("getblock")) {
      const auto* a = p.if_array();
      if (a && !a->empty() && a->front().is_number() && a->front().to_number<int64_t>() == index) ++n;
    }
    return n;
  }

  FakeNode node_;
  ManualClock clock_;
  DeterministicRandom random_{3};
  std::unique_ptr<HttpRpcClient> rpc_;
};

// Blocks appear once each and in order; notifications (container#index) never twice.
void ExpectWellFormed(const std::vector<std::string>& events, uint32_t from, uint32_t to) {
  std::vector<uint32_t> blocks;
  std::set<std::string> notes;
  for (const auto& e : events) {
    if (e.rfind("block ", 0) == 0) blocks.push_back(static_cast<uint32_t>(std::stoul(e.substr(6))));
    if (e.rfind("note ", 0) == 0) {
      auto key = e.substr(0, e.find(' ', e.find('#')));
      EXPECT_TRUE(notes.insert(key).second) << "delivered twice: " << key;
    }
  }
  std::vector<uint32_t> want;
  for (uint32_t i = from; i <= to; ++i) want.push_back(i);
  EXPECT_EQ(blocks, want);
}

TEST_F(SubscriberTest, DeliversLiveBlocksInNeoGoOrder) {
  auto sub = Ws(All());
  Recorder rec;
  ASSERT_TRUE(sub->Start(rec).ok());
  ASSERT_TRUE(node_.WaitForRequests("getblockcount", 1, 20s));  // subscribed, backlog checked
  node_.AddBlock({.transactions = 2, .notifications_per_tx = 2});
  node_.AddBlock({.transactions = 1, .notifications_per_tx = 3});
  ASSERT_TRUE(rec.WaitForBlock(3));
  sub->Stop();
  EXPECT_EQ(sub->last_delivered(), 3u);

  EXPECT_EQ(GetBlockRequests(2) + GetBlockRequests(3), 0) << "both blocks came from the stream";
  EXPECT_EQ(node_.subscribe_requests(), 4);
  EXPECT_EQ(node_.unsubscribe_requests(), 4) << "Stop unsubscribes before closing";
  auto events = rec.Events();
  ExpectWellFormed(events, 2, 3);
  // Block 2: OnPersist exec + 1 note, 2 × (exec, 2 notes, tx), PostPersist exec + 1 note, block.
  ASSERT_GE(events.size(), 13u);
  EXPECT_EQ(events[0].substr(0, 6), "exec b");
  EXPECT_NE(events[0].find("OnPersist"), std::string::npos);
  EXPECT_NE(events[1].find("#0 0xd2a4cff31913016155e38e474a2c06d08be276cf Transfer"), std::string::npos);
  EXPECT_NE(events[2].find("Application HALT"), std::string::npos);
  EXPECT_EQ(events[5].substr(0, 5), "tx b2");
  EXPECT_NE(events[11].find("#1 0xd2a4cff31913016155e38e474a2c06d08be276cf"), std::string::npos);  // PostPersist's
  EXPECT_EQ(events[12].substr(0, 7), "block 2");
  EXPECT_EQ(events, Expected(All(), 2, 3));
  EXPECT_EQ(rec.threads(), 1u);
}

TEST_F(SubscriberTest, ReconnectsResubscribesAndBackfillsWhatWasMissed) {
  auto sub = Ws(All());
  Recorder rec;
  ASSERT_TRUE(sub->Start(rec).ok());
  ASSERT_TRUE(node_.WaitForRequests("getblockcount", 1, 20s));
  node_.AddBlock({.transactions = 2});
  ASSERT_TRUE(rec.WaitForBlock(2));

  // The stream breaks in the middle of block 3 and stays down while blocks 4 and 5 are made.
  node_.SetWebSocketAvailable(false);
  node_.AddBlock({.transactions = 2, .notifications_per_tx = 3}, Announce::kHalfThenDrop);
  node_.AddBlock({.transactions = 1});
  node_.AddBlock({.transactions = 3, .notifications_per_tx = 1, .fault_last_tx = true});
  ASSERT_TRUE(rec.WaitForErrors(1));
  node_.SetWebSocketAvailable(true);
  ASSERT_TRUE(rec.WaitForBlock(5));
  node_.AddBlock({.transactions = 1});  // after the backlog: from the stream again
  ASSERT_TRUE(rec.WaitForBlock(6));
  sub->Stop();

  EXPECT_EQ(node_.subscribe_requests(), 8) << "resubscribed to all four streams";
  EXPECT_EQ(GetBlockRequests(2), 0);
  EXPECT_EQ(GetBlockRequests(3), 1);
  EXPECT_EQ(GetBlockRequests(4), 1);
  EXPECT_EQ(GetBlockRequests(5), 1);
  EXPECT_EQ(GetBlockRequests(6), 0);
  auto events = rec.Events();
  ExpectWellFormed(events, 2, 6);
  EXPECT_EQ(events, Expected(All(), 2, 6));
  EXPECT_EQ(rec.threads(), 1u);
}

TEST_F(SubscriberTest, EventMissedIsFilledFromRpc) {
  auto sub = Ws(All());
  Recorder rec;
  ASSERT_TRUE(sub->Start(rec).ok());
  ASSERT_TRUE(node_.WaitForRequests("getblockcount", 1, 20s));
  node_.AddBlock({.transactions = 2});
  ASSERT_TRUE(rec.WaitForBlock(2));
  node_.AddBlock({.transactions = 3}, Announce::kSkipThenMissed);
  ASSERT_TRUE(rec.WaitForBlock(3));
  node_.AddBlock({.transactions = 1});
  ASSERT_TRUE(rec.WaitForBlock(4));
  sub->Stop();

  EXPECT_EQ(GetBlockRequests(3), 1) << "the block with missed events was rebuilt";
  EXPECT_EQ(GetBlockRequests(2) + GetBlockRequests(4), 0);
  EXPECT_EQ(node_.subscribe_requests(), 4) << "no reconnect was needed";
  auto events = rec.Events();
  ExpectWellFormed(events, 2, 4);
  EXPECT_EQ(events, Expected(All(), 2, 4));
}

TEST_F(SubscriberTest, FiltersApplyOnTheNodeAndInBackfill) {
  Subscriptions subs;
  subs.blocks = BlockFilter{.since = 3};
  subs.transactions = TransactionFilter{.sender = FakeNode::Sender(1)};
  subs.executions = ExecutionFilter{.state = VmState::kHalt};
  subs.notifications = NotificationFilter{.contract = FakeNode::Token(0), .name = "Transfer"};
  auto sub = Ws(subs);
  Recorder rec;
  ASSERT_TRUE(sub->Start(rec).ok());
  ASSERT_TRUE(node_.WaitForRequests("getblockcount", 1, 20s));
  node_.AddBlock({.transactions = 2, .notifications_per_tx = 3, .fault_last_tx = true});
  node_.AddBlock({.transactions = 2, .notifications_per_tx = 2});
  ASSERT_TRUE(rec.WaitForBlock(3));
  sub->Stop();

  auto events = rec.Events();
  EXPECT_EQ(events, Expected(subs, 2, 3));
  for (const auto& e : events) {
    EXPECT_NE(e.rfind("block 2", 0), 0u) << "block 2 is before `since`";
    EXPECT_EQ(e.find("FAULT"), std::string::npos) << e;
    if (e.rfind("note", 0) == 0) {
      EXPECT_NE(e.find(FakeNode::Token(0).ToString()), std::string::npos) << e;
    }
    if (e.rfind("tx", 0) == 0) {
      EXPECT_NE(e.find(FakeNode::Sender(1).ToString()), std::string::npos) << e;
    }
  }
  // Block 2's FAULTed second transaction logged notifications that are never announced: of its
  // tokens-0 notifications (#0 and #2) only the first transaction's appear.
  int notes = 0;
  for (const auto& e : events) notes += e.rfind("note b2", 0) == 0;
  EXPECT_EQ(notes, 2);
  bool filtered = false;
  for (const auto& p : node_.RequestParams("subscribe")) {
    filtered = filtered || json::serialize(p) == R"(["notification_from_execution",{"contract":")" +
                                                     FakeNode::Token(0).ToString() + R"(","name":"Transfer"}])";
  }
  EXPECT_TRUE(filtered) << "the notification filter is sent to the node";
}

TEST_F(SubscriberTest, PollingSeesTheSameSequenceAsTheStream) {
  auto ws = Ws(All());
  auto polling = PollingSubscriber::Create(
      {.subscriptions = All(), .start_index = 2, .poll_interval = 20ms, .retry = {.initial_backoff = 10ms}}, *rpc_,
      random_);
  ASSERT_TRUE(polling.ok());
  Recorder ws_rec, poll_rec;
  ASSERT_TRUE(ws->Start(ws_rec).ok());
  ASSERT_TRUE((*polling)->Start(poll_rec).ok());
  ASSERT_TRUE(node_.WaitForRequests("getblockcount", 2, 20s));
  node_.AddBlock({.transactions = 2});
  node_.SetWebSocketAvailable(false);
  node_.AddBlock({.transactions = 1, .notifications_per_tx = 4}, Announce::kHalfThenDrop);
  node_.AddBlock({.transactions = 0});
  ASSERT_TRUE(ws_rec.WaitForErrors(1));
  node_.SetWebSocketAvailable(true);
  node_.AddBlock({.transactions = 3, .fault_last_tx = true});
  ASSERT_TRUE(ws_rec.WaitForBlock(5));
  ASSERT_TRUE(poll_rec.WaitForBlock(5));
  ws->Stop();
  (*polling)->Stop();
  EXPECT_EQ((*polling)->last_delivered(), 5u);

  auto expected = Expected(All(), 2, 5);
  EXPECT_EQ(ws_rec.Events(), expected);
  EXPECT_EQ(poll_rec.Events(), expected);
  ExpectWellFormed(poll_rec.Events(), 2, 5);
  EXPECT_EQ(poll_rec.threads(), 1u);
}

TEST_F(SubscriberTest, StartsAfterTheTipWhenNoStartIsGiven) {
  node_.AddBlock({.transactions = 1});  // blocks 0..2 exist before the subscriber
  auto sub = Ws(All(), std::nullopt);
  Recorder rec;
  ASSERT_TRUE(sub->Start(rec).ok());
  ASSERT_TRUE(node_.WaitForRequests("getblockcount", 1, 20s));
  node_.AddBlock({.transactions = 1});
  ASSERT_TRUE(rec.WaitForBlock(3));
  sub->Stop();
  ExpectWellFormed(rec.Events(), 3, 3);
}

// Start anchors at the tip it sees, so a block mined the moment Start returns (long before the
// stream is connected and subscribed) is delivered, by both subscribers: a service that says it
// is ready must not miss the first request sent to it.
TEST_F(SubscriberTest, ABlockMinedAsSoonAsStartReturnsIsDelivered) {
  node_.AddBlock({.transactions = 1});  // blocks 0..2 exist before the subscribers
  auto ws = Ws(All(), std::nullopt);
  auto poll = PollingSubscriber::Create(
      {.subscriptions = All(), .poll_interval = 20ms, .retry = {.initial_backoff = 10ms}}, *rpc_, random_);
  ASSERT_TRUE(poll.ok());
  Recorder ws_rec;
  Recorder poll_rec;
  ASSERT_TRUE(ws->Start(ws_rec).ok());
  ASSERT_TRUE((*poll)->Start(poll_rec).ok());
  node_.AddBlock({.transactions = 1});
  ASSERT_TRUE(ws_rec.WaitForBlock(3));
  ASSERT_TRUE(poll_rec.WaitForBlock(3));
  ws->Stop();
  (*poll)->Stop();
  ExpectWellFormed(ws_rec.Events(), 3, 3);
  ExpectWellFormed(poll_rec.Events(), 3, 3);
}

TEST_F(SubscriberTest, KeepsRetryingAnUnreachableNodeAndStopsPromptly) {
  auto sub = WsSubscriber::Create({.url = "ws://127.0.0.1:1/ws",
                                   .subscriptions = All(),
                                   .connect_timeout = 2s,
                                   .retry = {.initial_backoff = 5ms, .max_backoff = 20ms}},
                                  *rpc_, random_);
  ASSERT_TRUE(sub.ok());
  Recorder rec;
  ASSERT_TRUE((*sub)->Start(rec).ok());
  EXPECT_EQ((*sub)->Start(rec).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(rec.WaitForErrors(3));
  auto started = std::chrono::steady_clock::now();
  (*sub)->Stop();
  (*sub)->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_FALSE((*sub)->last_delivered().has_value());
  EXPECT_TRUE(rec.Events().empty());
}

TEST(WsSubscriberCreate, RejectsHttpUrls) {
  ManualClock clock;
  DeterministicRandom random(1);
  FakeNode node;
  auto rpc = HttpRpcClient::Create({.url = node.http_url()}, clock, random).value();
  EXPECT_EQ(WsSubscriber::Create({.url = node.http_url()}, *rpc, random).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PollingSubscriber::Create({.poll_interval = 0ms}, *rpc, random).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace neosl::neo
