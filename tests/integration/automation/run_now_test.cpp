// Running a trigger now (POST /v1/triggers/{id}/run) through `neosl serve` and its devchain:
// a paused trigger's contract call as an asynchronous operation that ends once the transaction
// has halted, a webhook run synchronously without moving the schedule, and the trigger ids the
// caller cannot run.
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "integration/automation/automation_fixture.h"
#include "integration/chain_fixture.h"

namespace neosl::testing {
namespace {

namespace json = boost::json;
using gateway::ws_test::WaitUntil;

class RunTriggerTest : public AutomationServerTest {
 protected:
  void SetUp() override {
    Start();
    ASSERT_FALSE(HasFatalFailure());
    MakeFundedAccount();
  }
};

TEST_F(RunTriggerTest, APausedContractTriggerRunsAsAnOperationThatEndsWithTheHaltedTransaction) {
  const int64_t before = Available();
  // Paused, and at a height it would take hours to reach: only the manual run can send anything.
  const std::string id = CreateTrigger(R"({"name":"by-hand","block":{"every":1000000},"paused":true,
      "action":{"contract":{"contract":")" +
                                       std::string(kSampleConsumer) + R"(","method":"request",
        "args":[{"type":"String","value":"random"},{"type":"ByteArray","value":"7b7d"}]}}})");
  ASSERT_FALSE(id.empty());

  auto accepted = As("POST", "/v1/triggers/" + id + "/run", R"({"async": true})");
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  const std::string op = Str(Json(accepted), "id");
  EXPECT_EQ(Str(Json(accepted), "kind"), "RunTrigger");
  json::value done;
  ASSERT_TRUE(WaitUntil([&] {
    auto r = As("GET", "/v1/operations/" + op);
    if (r.status != 200) return false;
    done = Json(r);
    return done.at("done").as_bool();
  })) << server_->Logs();
  ASSERT_EQ(Str(done, "state"), "succeeded") << json::serialize(done);
  EXPECT_EQ(done.at("http_status").to_number<int>(), 200);
  const json::value& run = done.at("result");
  const std::string run_id = Str(run, "id");
  EXPECT_EQ(run_id.rfind(id + ":m:", 0), 0u) << run_id;
  EXPECT_EQ(Str(run, "status"), "succeeded") << json::serialize(run);
  EXPECT_TRUE(run.at("context").at("manual").as_bool()) << json::serialize(run);
  const std::string tx = Str(run, "tx_hash");
  ASSERT_EQ(tx.size(), 66u) << json::serialize(run);
  auto log = rpc_->GetApplicationLog(*neo::UInt256::Parse(tx));
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_FALSE(log->executions.empty());
  EXPECT_EQ(log->executions[0].vm_state, neo::VmState::kHalt);

  // Listed among the trigger's runs, as the operation showed it; the trigger is still paused and
  // its count of firings untouched.
  json::array runs = Runs(id);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(Str(runs[0], "id"), run_id);
  EXPECT_EQ(Str(runs[0], "status"), "succeeded");
  EXPECT_EQ(Str(runs[0], "tx_hash"), tx);
  auto trigger = Json(As("GET", "/v1/triggers/" + id));
  EXPECT_EQ(Str(trigger, "status"), "paused");
  EXPECT_EQ(Str(trigger, "runs"), "0");
  // Paid from the bank as any contract run: once, under the run's id.
  ASSERT_TRUE(WaitUntil([&] { return Available() < before - 10'000; }));
  auto ledger = Json(As("GET", "/v1/gasbank/ledger"));
  size_t charges = 0;
  for (const auto& e : ledger.at("entries").as_array()) {
    charges += e.at("kind").as_string() == "settle" && e.at("reference").as_string() == run_id ? 1 : 0;
  }
  EXPECT_EQ(charges, 1u) << json::serialize(ledger);
}

TEST_F(RunTriggerTest, AWebhookRunAnswersTheEndedRunAndLeavesTheScheduleAlone) {
  const std::string id = CreateTrigger(R"({"name":"hourly","interval":{"every_ms":3600000},
      "action":{"webhook":{"url":")" + hook_.Url("/hook") +
                                       R"("}}})");
  ASSERT_FALSE(id.empty());
  const std::string next = Str(Json(As("GET", "/v1/triggers/" + id)), "next_fire_at");
  ASSERT_FALSE(next.empty());

  auto r = As("POST", "/v1/triggers/" + id + "/run");
  ASSERT_EQ(r.status, 200) << r.body;
  const json::value run = Json(r);
  const std::string run_id = Str(run, "id");
  EXPECT_EQ(run_id.rfind(id + ":m:", 0), 0u) << run_id;
  EXPECT_EQ(Str(run, "status"), "succeeded") << r.body;
  EXPECT_EQ(run.at("http_status").to_number<int>(), 200);
  EXPECT_EQ(run.at("attempts").to_number<int>(), 1);
  EXPECT_EQ(HooksFor(run_id), 1u);  // sent once, with the run as its idempotency key

  auto trigger = Json(As("GET", "/v1/triggers/" + id));
  EXPECT_EQ(Str(trigger, "status"), "active");
  EXPECT_EQ(Str(trigger, "next_fire_at"), next);
  EXPECT_EQ(Str(trigger, "runs"), "0");
  ASSERT_EQ(Runs(id).size(), 1u);

  // A second call is a second run.
  auto again = As("POST", "/v1/triggers/" + id + "/run", "{}");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_NE(Str(Json(again), "id"), run_id);
  EXPECT_EQ(Runs(id).size(), 2u);
}

TEST_F(RunTriggerTest, TriggersTheCallerCannotSeeAreNotFoundAndViewersCannotRun) {
  const std::string id = CreateTrigger(R"({"name":"mine","interval":{"every_ms":3600000},
      "action":{"webhook":{"url":")" + hook_.Url("/hook") +
                                       R"("}}})");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(As("POST", "/v1/triggers/tg_nosuchtrigger00/run").status, 404);

  // Another account's trigger: 404, exactly as a missing one.
  const std::string other = CreateAccount("other");
  const std::string other_token = CreateKey(other, R"(["owner"])").second;
  auto foreign =
      client_->Request("POST", "/v1/triggers/" + id + "/run", "", {{"authorization", "Bearer " + other_token}});
  EXPECT_EQ(foreign.status, 404) << foreign.body;
  // A viewer of the same account may read the runs, not make one.
  const std::string viewer = CreateKey(account_, R"(["viewer"])").second;
  auto viewed = client_->Request("POST", "/v1/triggers/" + id + "/run", "", {{"authorization", "Bearer " + viewer}});
  EXPECT_EQ(viewed.status, 403) << viewed.body;
  // A body other than the asynchronous call's fields is refused.
  EXPECT_EQ(As("POST", "/v1/triggers/" + id + "/run", R"({"payload": 1})").status, 400);

  // Deleted: gone.
  ASSERT_EQ(As("DELETE", "/v1/triggers/" + id).status, 200);
  EXPECT_EQ(As("POST", "/v1/triggers/" + id + "/run").status, 404);
  EXPECT_TRUE(Hooks().empty());
}

}  // namespace
}  // namespace neosl::testing
