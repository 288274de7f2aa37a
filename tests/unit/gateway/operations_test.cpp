// Operations (gateway/operations.h) in-process, against a real SQLite store and a route whose
// handler the test controls: the restart rules (a pending one runs, a running one runs again only
// when resumable, a withheld body is never stored and its operation fails after a restart).
#include "gateway/operations.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/random.h"
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

  std::unique_ptr<Operations> Make(Gate& gate, bool resumable, bool withhold = false) {
    auto ops = std::make_unique<Operations>(*ops_store_, SecureRandom::Instance(), SystemClock::Instance(),
                                            OperationsOptions{.owner = "replica-a", .threads = 1});
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

  // Calls the wrapped route as the gateway would, asking for an operation; its id.
  std::string Submit(const std::string& body) {
    HttpRequest http;
    http.method = "POST";
    http.target = "/v1/thing";
    http.body = body;
    Principal p;
    p.account = AccountId("acc_aaaaaaaaaaaaaaaaaaaa");
    p.key = ApiKeyId("kkkkkkkkkkkkkkkk");
    p.roles = {Role::kOwner};
    RequestContext ctx{http, {}, p, json::parse(body), "trace"};
    auto reply = route_.handler(ctx);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    if (!reply.ok()) return "";
    EXPECT_EQ(reply->status, 202);
    return std::string(json::parse(reply->body).at("id").as_string());
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

}  // namespace
}  // namespace neosl::gateway
