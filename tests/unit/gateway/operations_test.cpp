// Operations (gateway/operations.h) in-process, against a real SQLite store and a route whose
// handler the test controls: the restart rules (a pending one runs, a running one runs again only
// when resumable, a withheld body is never stored and its operation fails after a restart).
#include "gateway/operations.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/ids.h"
#include "core/random.h"
#include "gateway/grpc_routes.h"
#include "schema/migrations.h"
#include "store/sqlite_store.h"
#include "support/temp_dir.h"

namespace neosl::gateway {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// A handler that blocks until released, counting its calls and keeping the bodies it saw.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  int calls = 0;
  std::vector<std::string> bodies;

  Handler Make() {
    return [this](RequestContext& ctx) -> StatusOr<Reply> {
      std::unique_lock lock(mu);
      calls += 1;
      bodies.emplace_back(ctx.http.body);
      cv.notify_all();
      cv.wait(lock, [&] { return open; });
      return Reply::Json(json::object{{"echo", ctx.body}});
    };
  }
  void Open() {
    std::lock_guard lock(mu);
    open = true;
    cv.notify_all();
  }
  bool WaitCalls(int n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 10s, [&] { return calls >= n; });
  }
};

class OperationsUnitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::OpenSqliteStore({.path = dir_.File("neosl.db")});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    ASSERT_TRUE(store_->Migrate(schema::Migrations()).ok());
    ops_store_ = std::make_unique<OperationStore>(*store_, SystemClock::Instance());
  }

  std::unique_ptr<Operations> Make(Gate& gate, bool resumable, bool withhold = false,
                                   OperationsOptions options = {.owner = "replica-a", .threads = 1},
                                   OperationStore* store = nullptr, const Clock& clock = SystemClock::Instance()) {
    auto ops =
        std::make_unique<Operations>(store ? *store : *ops_store_, SecureRandom::Instance(), clock, std::move(options));
    Route r;
    r.method = "POST";
    r.path = "/v1/thing";
    r.operation_id = "DoThing";
    r.request = Object({{"x", Integer()}, {"secret", String()}});
    r.handler = gate.Make();
    route_ = ops->Asynchronous(std::move(r), resumable,
                               withhold ? [](const json::value& body) { return body.as_object().contains("secret"); }
                                        : std::function<bool(const json::value&)>());
    return ops;
  }

  static Principal Caller() {
    Principal p;
    p.account = AccountId(kAccount);
    p.key = ApiKeyId("kkkkkkkkkkkkkkkk");
    p.roles = {Role::kOwner};
    return p;
  }

  // An operation that another gateway ran, as the store shows it: ended at once.
  std::string EndedElsewhere(const std::string& account) {
    OperationRecord op;
    op.id = GenerateId("op_", 20, SecureRandom::Instance());
    op.account = account;
    op.kind = "DoThing";
    op.request_json = "{}";
    op.owner = "replica-elsewhere";
    EXPECT_TRUE(ops_store_->Insert(op).ok());
    EXPECT_TRUE(ops_store_->Begin(op.id).ok());
    EXPECT_TRUE(ops_store_->Finish(op.id, OperationState::kSucceeded, 200, R"({"far":true})", "").ok());
    return op.id;
  }

  static constexpr const char* kAccount = "acc_aaaaaaaaaaaaaaaaaaaa";

  // Calls the wrapped route as the gateway would, asking for an operation; its id.
  std::string Submit(const std::string& body) {
    HttpRequest http;
    http.method = "POST";
    http.target = "/v1/thing";
    http.body = body;
    Principal p = Caller();
    RequestContext ctx{http, {}, p, json::parse(body), "trace"};
    auto reply = route_.handler(ctx);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    if (!reply.ok()) return "";
    EXPECT_EQ(reply->status, 202);
    return std::string(json::parse(reply->body).at("id").as_string());
  }

  // Returns once the clock has moved past the millisecond `id` ended in: a subscription made
  // after this starts after that end (ends are kept by the millisecond, and one in the very
  // millisecond a subscription starts is sent to it, whichever came first).
  void PastEndOf(const std::string& id) {
    auto op = ops_store_->Get(id);
    ASSERT_TRUE(op.ok() && op->finished_at_ms.has_value()) << id << " has not ended";
    while (SystemClock::Instance().NowUnixMillis() <= *op->finished_at_ms) std::this_thread::yield();
  }

  OperationRecord Wait(const std::string& id, OperationState state) {
    for (int i = 0; i < 1000; ++i) {
      auto op = ops_store_->Get(id);
      if (op.ok() && op->state == state) return *op;
      std::this_thread::sleep_for(10ms);
    }
    ADD_FAILURE() << id << " never reached " << OperationStateName(state);
    return {};
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<OperationStore> ops_store_;
  Route route_;
};

// A "restart": a second Operations of the same owner on the same store recovers while the first
// is stuck in its handler, as a process that died would be (the first is let go at the end, and
// its late answer is refused: the operation has moved on).
TEST_F(OperationsUnitTest, ARestartRunsThePendingAgainAndTheRunningOnlyWhenResumable) {
  for (bool resumable : {true, false}) {
    Gate stuck;
    auto first = Make(stuck, resumable);
    const std::string running = Submit(R"({"x":1,"async":true})");
    ASSERT_TRUE(stuck.WaitCalls(1));
    const std::string pending = Submit(R"({"x":2, "async":true})");
    EXPECT_EQ(ops_store_->Get(pending)->state, OperationState::kPending);
    EXPECT_EQ(ops_store_->Get(running)->state, OperationState::kRunning);

    Gate second;
    second.Open();
    auto next = Make(second, resumable);
    ASSERT_TRUE(next->Recover().ok());
    OperationRecord p = Wait(pending, OperationState::kSucceeded);
    EXPECT_EQ(p.attempts, 1);
    EXPECT_EQ(json::parse(p.result_json).at("echo").at("x").as_int64(), 2);
    if (resumable) {
      OperationRecord r = Wait(running, OperationState::kSucceeded);
      EXPECT_EQ(r.attempts, 2);
      // Each body without "async", every other byte as sent.
      EXPECT_THAT(second.bodies, ::testing::UnorderedElementsAre(R"({"x":1})", R"({"x":2})"));
    } else {
      OperationRecord r = Wait(running, OperationState::kFailed);
      EXPECT_THAT(r.error_json, HasSubstr("ABORTED"));
      EXPECT_EQ(r.http_status, 409);
      EXPECT_EQ(r.attempts, 1);
      EXPECT_THAT(second.bodies, ::testing::ElementsAre(R"({"x":2})"));
    }
    stuck.Open();
    first->Stop();
    // The first process's late answer did not overwrite the outcome.
    EXPECT_EQ(ops_store_->Get(running)->state, resumable ? OperationState::kSucceeded : OperationState::kFailed);
    EXPECT_EQ(ops_store_->Get(pending)->attempts, 1);
  }
}

TEST_F(OperationsUnitTest, AWithheldBodyIsNeverStoredAndCannotOutliveTheProcess) {
  Gate gate;
  auto ops = Make(gate, /*resumable=*/true, /*withhold=*/true);
  const std::string blocker = Submit(R"({"x":0,"async":true})");
  ASSERT_TRUE(gate.WaitCalls(1));
  const std::string kept = Submit(R"({"x":1,"secret":"hunter2","async":true})");
  const std::string lost = Submit(R"({"x":2,"secret":"hunter2","async":true})");
  EXPECT_THAT(ops_store_->Get(kept)->request_json, ::testing::Not(HasSubstr("hunter2")));

  // A restart before they ran: the bodies are gone with the process, so they fail, saying why.
  Gate open;
  open.Open();
  auto next = Make(open, true, true);
  ASSERT_TRUE(next->Recover().ok());
  for (const std::string& id : {kept, lost}) {
    OperationRecord op = Wait(id, OperationState::kFailed);
    EXPECT_THAT(op.error_json, HasSubstr("never stored"));
  }
  Wait(blocker, OperationState::kSucceeded);  // resumable, and stored whole
  gate.Open();
  ops->Stop();

  // In one process the body reaches the handler.
  const std::string ran = Submit(R"({"x":3,"secret":"hunter2","async":true})");
  Wait(ran, OperationState::kSucceeded);
  EXPECT_EQ(open.bodies.back(), R"({"x":3,"secret":"hunter2"})");
  auto rows = store_->Query("SELECT request_json, result_json, error_json FROM operations");
  ASSERT_TRUE(rows.ok());
  for (const auto& row : *rows) {
    EXPECT_THAT(*row.Text(0), ::testing::Not(HasSubstr("hunter2")));
    EXPECT_THAT(*row.Text(2), ::testing::Not(HasSubstr("hunter2")));
  }
}

// What a subscriber of the `operations` WebSocket channel gets.
struct Recorder : WsEmitter {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<json::object> events;
  std::optional<Status> end;

  bool Event(json::value data) override {
    std::lock_guard lock(mu);
    events.push_back(data.as_object());
    cv.notify_all();
    return true;
  }
  void End(const Status& status) override {
    std::lock_guard lock(mu);
    if (!end) end = status;
    cv.notify_all();
  }
  bool WaitEvents(size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 10s, [&] { return events.size() >= n; });
  }
  bool WaitEnd() {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 10s, [&] { return end.has_value(); });
  }
  std::vector<std::string> Ids() {
    std::lock_guard lock(mu);
    std::vector<std::string> ids;
    for (const auto& e : events) ids.emplace_back(e.at("id").as_string());
    return ids;
  }
};

TEST_F(OperationsUnitTest, TheOperationsChannelSendsEachEndOfTheAccountOnceFromTheSubscriptionOn) {
  Gate gate;
  gate.Open();
  auto ops = Make(gate, /*resumable=*/true);
  ASSERT_TRUE(ops->Recover().ok());
  const std::string before = Submit(R"({"x":1,"async":true})");
  Wait(before, OperationState::kSucceeded);
  ASSERT_NO_FATAL_FAILURE(PastEndOf(before));

  const Principal caller = Caller();
  auto all = std::make_shared<Recorder>();
  auto sub = ops->Channel()(WsSubscriber{caller, "trace", "s1"}, json::object{}, all);
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  const std::string here = Submit(R"({"x":2,"async":true})");
  ASSERT_TRUE(all->WaitEvents(1));
  // Another account's end is not sent; another replica's, seen only in the store, is (the next
  // look finds it). The other account's ends first: had it been sent, it would come first.
  EndedElsewhere("acc_bbbbbbbbbbbbbbbbbbbb");
  const std::string far = EndedElsewhere(kAccount);
  ASSERT_TRUE(all->WaitEvents(2));
  EXPECT_THAT(all->Ids(), ::testing::ElementsAre(here, far));
  {
    std::lock_guard lock(all->mu);
    EXPECT_EQ(all->events[0].at("state").as_string(), "succeeded");
    EXPECT_EQ(all->events[0].at("result").at("echo").at("x").as_int64(), 2);
    EXPECT_TRUE(all->events[1].at("done").as_bool());
    EXPECT_FALSE(all->end.has_value());
  }

  // One operation: one that has ended is sent at once, and the stream ends.
  auto one = std::make_shared<Recorder>();
  auto one_sub = ops->Channel()(WsSubscriber{caller, "trace", "s2"}, json::object{{"operation_id", before}}, one);
  ASSERT_TRUE(one_sub.ok());
  ASSERT_TRUE(one->WaitEnd());
  EXPECT_TRUE(one->end->ok()) << one->end->ToString();
  EXPECT_THAT(one->Ids(), ::testing::ElementsAre(before));
  // Unknown, or another account's: NOT_FOUND alike. Bad params: refused at once.
  for (const std::string& id : {std::string("op_nope"), EndedElsewhere("acc_bbbbbbbbbbbbbbbbbbbb")}) {
    auto missing = std::make_shared<Recorder>();
    auto missing_sub = ops->Channel()(WsSubscriber{caller, "trace", "s3"}, json::object{{"operation_id", id}}, missing);
    ASSERT_TRUE(missing_sub.ok());
    ASSERT_TRUE(missing->WaitEnd());
    EXPECT_EQ(missing->end->code(), StatusCode::kNotFound);
    EXPECT_TRUE(missing->Ids().empty());
  }
  auto bad = ops->Channel()(WsSubscriber{caller, "trace", "s4"}, json::object{{"operation_id", 5}},
                            std::make_shared<Recorder>());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);

  // Once the handle is gone nothing more is sent to it; a subscription still open gets both ends
  // that follow (it is served in the same looks).
  ASSERT_NO_FATAL_FAILURE(PastEndOf(far));
  auto still = std::make_shared<Recorder>();
  auto still_sub = ops->Channel()(WsSubscriber{caller, "trace", "s5"}, json::object{}, still);
  ASSERT_TRUE(still_sub.ok());
  sub->reset();
  const std::string third = Submit(R"({"x":3,"async":true})");
  Wait(third, OperationState::kSucceeded);
  const std::string far_again = EndedElsewhere(kAccount);
  ASSERT_TRUE(still->WaitEvents(2));
  // Two ends in one millisecond may come either way round: this process's end can be sent in a
  // look before the other replica's is stored.
  EXPECT_THAT(still->Ids(), ::testing::UnorderedElementsAre(third, far_again));
  EXPECT_EQ(all->Ids().size(), 2u);
}

// A gateway gone silent (its one heartbeat was long ago, by its own clock): a live one adopts its
// unfinished operations, under the restart rules; one whose heartbeat is fresh keeps its own.
TEST_F(OperationsUnitTest, ALiveGatewayAdoptsWhatASilentOneLeft) {
  for (bool resumable : {true, false}) {
    ManualClock long_ago;
    OperationStore silent_store(*store_, long_ago);
    Gate stuck;
    auto silent = Make(stuck, resumable, false, {.owner = "replica-a", .threads = 1}, &silent_store, long_ago);
    const std::string running = Submit(R"({"x":1,"async":true})");
    ASSERT_TRUE(stuck.WaitCalls(1));
    const std::string pending = Submit(R"({"x":2,"async":true})");
    // Its one heartbeat (by its own clock, long ago) is stored before the live one looks.
    for (int i = 0; i < 1000; ++i) {
      auto owners = ops_store_->SilentOwners("nobody", std::numeric_limits<int64_t>::max());
      if (owners.ok() && std::find(owners->begin(), owners->end(), "replica-a") != owners->end()) break;
      std::this_thread::sleep_for(10ms);
    }

    // A third gateway, alive, with an operation waiting.
    ASSERT_TRUE(ops_store_->Heartbeat("replica-c").ok());
    OperationRecord theirs;
    theirs.id = GenerateId("op_", 20, SecureRandom::Instance());
    theirs.account = kAccount;
    theirs.kind = "DoThing";
    theirs.request_json = "{}";
    theirs.owner = "replica-c";
    ASSERT_TRUE(ops_store_->Insert(theirs).ok());

    Gate open;
    open.Open();
    auto live = Make(open, resumable, false, {.owner = "replica-b", .threads = 1, .orphan_after = 20s});
    ASSERT_TRUE(live->Recover().ok());
    OperationRecord p = Wait(pending, OperationState::kSucceeded);
    EXPECT_EQ(p.owner, "replica-b");
    EXPECT_EQ(p.attempts, 1);
    if (resumable) {
      OperationRecord r = Wait(running, OperationState::kSucceeded);
      EXPECT_EQ(r.attempts, 2);
    } else {
      OperationRecord r = Wait(running, OperationState::kFailed);
      EXPECT_THAT(r.error_json, HasSubstr("ABORTED"));
      EXPECT_THAT(r.error_json, HasSubstr("replica-a"));
      EXPECT_EQ(r.owner, "replica-b");
    }
    auto kept = ops_store_->Get(theirs.id);
    ASSERT_TRUE(kept.ok());
    EXPECT_EQ(kept->owner, "replica-c");
    EXPECT_EQ(kept->state, OperationState::kPending);
    EXPECT_TRUE(ops_store_->SilentOwners("replica-b", std::numeric_limits<int64_t>::max())->size() == 1u)
        << "replica-a is forgotten once adopted; replica-c stays";

    stuck.Open();
    silent->Stop();
    live->Stop();
    // The silent gateway's late answer changed nothing.
    EXPECT_EQ(ops_store_->Get(running)->state, resumable ? OperationState::kSucceeded : OperationState::kFailed);
    ASSERT_TRUE(store::RunInTransaction(*store_, store::TxMode::kWrite, [](store::Transaction& tx) -> Status {
                  RETURN_IF_ERROR(tx.Exec("DELETE FROM operations").status());
                  return tx.Exec("DELETE FROM operation_owners").status();
                }).ok());
  }
}

// The table of long calls sits at the end of BuiltinMeshRoutes, keyed by operationId: a route
// renamed or dropped would quietly lose its 202. These are the calls the docs promise (api.md).
TEST(AsyncRoutesTest, TheLongCallsAndOnlyTheyMayAnswerWithAnOperation) {
  using Async = MeshRoute::Async;
  std::map<std::string, Async> async;
  std::vector<std::string> withheld;
  for (const MeshRoute& r : BuiltinMeshRoutes()) {
    if (r.async != Async::kNo) async[r.operation_id] = r.async;
    if (r.async_withhold) withheld.push_back(r.operation_id);
  }
  const std::map<std::string, Async> expected = {
      {"InvokeFunction", Async::kOnce},           {"RunTrigger", Async::kOnce},
      {"GenerateRandom", Async::kResumable},      {"CreateOracleRequest", Async::kResumable},
      {"CreateGasWithdrawal", Async::kResumable}, {"Echo", Async::kResumable}};
  EXPECT_EQ(async, expected);
  EXPECT_EQ(withheld, std::vector<std::string>{"CreateOracleRequest"});
}

}  // namespace
}  // namespace neosl::gateway
