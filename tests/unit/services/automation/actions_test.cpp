// The automation actions (actions.h) that need no chain and no network: the firing's exact JSON,
// outbox keys and outcomes, which actions may resume, and function actions over a real in-process
// mesh (the default policy, the automation identity) against a fake functions service.
#include "services/automation/actions.h"

#include <chrono>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/services/automation/actions_fixture.h"

namespace neosl::automation {
namespace {

using testing::FakeFunctions;
using ::testing::HasSubstr;
using testing::kAccount;
using testing::kScheduledMs;
namespace functionspb = ::neosl::functions::v1;
using testing::MakeRun;
using testing::MakeTrigger;
using ::testing::Not;

TEST(FiringJsonTest, HasExactlyTheDocumentedShape) {
  TriggerRecord trigger = MakeTrigger(FunctionAction{"fn_1"});
  RunRecord run = MakeRun(trigger);
  EXPECT_EQ(FiringJson(trigger, run, 1),
            R"({"trigger_id":"tg_0123456789abcdefghij","run_id":"tg_0123456789abcdefghij:t:1763776800000",)"
            R"("scheduled_at":"2025-11-22T02:00:00.000Z","attempt":1,"catch_up":false,)"
            R"("payload":{"k": [1, 2.5, "x"]},"context":{"scheduled_at":"2025-11-22T02:00:00.000Z"}})");

  // The payload is the user's text as written (no number reformatted); blanks around it go.
  trigger.spec.payload_json = "  \n[1.0, 1e3]\t";
  run.catch_up = true;
  run.context_json = R"({"height":42,"tx":"0xab"})";
  EXPECT_EQ(FiringJson(trigger, run, 3),
            R"({"trigger_id":"tg_0123456789abcdefghij","run_id":"tg_0123456789abcdefghij:t:1763776800000",)"
            R"("scheduled_at":"2025-11-22T02:00:00.000Z","attempt":3,"catch_up":true,)"
            R"("payload":[1.0, 1e3],"context":{"height":42,"tx":"0xab"}})");
}

TEST(FiringJsonTest, StaysValidJsonWhateverTheRecordsHold) {
  TriggerRecord trigger = MakeTrigger(FunctionAction{"fn_1"});
  trigger.id = "tg_\"quoted\"\n";
  trigger.spec.payload_json = "";
  RunRecord run = MakeRun(trigger);
  run.context_json = "{not json";
  const std::string json = FiringJson(trigger, run, 1);
  EXPECT_THAT(json, HasSubstr(R"("trigger_id":"tg_\"quoted\"\n")"));
  EXPECT_THAT(json, HasSubstr(R"("payload":null,"context":null})"));
}

TEST(OutboxKeyTest, IsTheRunIdUnderTheServicesPrefix) {
  EXPECT_EQ(OutboxKey("tg_x:t:1"), "automation:tg_x:t:1");
  EXPECT_EQ(ActionRunner::kOutboxOwner, "automation");
}

TEST(OutcomeOfTest, FollowsTheTransactionsEnd) {
  chain_tx::OutboxRecord r;
  r.key = "automation:tg_x:t:1";
  r.state = chain_tx::OutboxState::kQueued;
  EXPECT_EQ(OutcomeOf(r).kind, ActionOutcome::Kind::kPending);

  r.state = chain_tx::OutboxState::kSent;
  r.tx_hash = "0x" + std::string(64, 'a');
  ActionOutcome sent = OutcomeOf(r);
  EXPECT_EQ(sent.kind, ActionOutcome::Kind::kPending);
  EXPECT_EQ(sent.tx_hash, *r.tx_hash);

  r.state = chain_tx::OutboxState::kHalt;
  ActionOutcome halt = OutcomeOf(r);
  EXPECT_EQ(halt.kind, ActionOutcome::Kind::kSucceeded);
  EXPECT_EQ(halt.tx_hash, *r.tx_hash);
  EXPECT_EQ(halt.error, "");

  r.state = chain_tx::OutboxState::kFault;
  r.error = "ASSERT is executed with false result.";
  ActionOutcome fault = OutcomeOf(r);
  EXPECT_EQ(fault.kind, ActionOutcome::Kind::kFailed);
  EXPECT_FALSE(fault.retryable) << "the same transaction would fault the same way";
  EXPECT_THAT(fault.error, HasSubstr("ASSERT is executed with false result."));
  EXPECT_EQ(fault.tx_hash, *r.tx_hash);

  r.state = chain_tx::OutboxState::kFailed;
  r.tx_hash.reset();
  r.error = "the fee 123 is over the cap of 1";
  ActionOutcome failed = OutcomeOf(r);
  EXPECT_EQ(failed.kind, ActionOutcome::Kind::kFailed);
  EXPECT_TRUE(failed.retryable);
  EXPECT_THAT(failed.error, HasSubstr("over the cap of 1"));
  EXPECT_EQ(failed.tx_hash, "");
}

TEST(SafeToResumeTest, OnlyAContractCallKeyedInTheOutbox) {
  EXPECT_TRUE(ActionRunner::SafeToResume(ContractAction{"0x" + std::string(40, '1'), "go", {}, 0}));
  EXPECT_FALSE(ActionRunner::SafeToResume(FunctionAction{"fn_1"}));
  EXPECT_FALSE(ActionRunner::SafeToResume(WebhookAction{"https://example.com/hook", {}}));
}

TEST(ActionsWithoutTheirDependenciesTest, FailWithoutTryingAgain) {
  ActionRunner runner(ActionDeps{}, ActionOptions{});
  for (const Action& action :
       {Action(FunctionAction{"fn_1"}), Action(ContractAction{"0x" + std::string(40, '1'), "go", {}, 0}),
        Action(WebhookAction{"https://example.com/hook", {}})}) {
    TriggerRecord trigger = MakeTrigger(action);
    ActionOutcome out = runner.Run(trigger, MakeRun(trigger), 1);
    EXPECT_EQ(out.kind, ActionOutcome::Kind::kFailed) << action.index();
    EXPECT_FALSE(out.retryable) << action.index();
    EXPECT_THAT(out.error, HasSubstr("UNAVAILABLE")) << action.index();
  }
}

class FunctionActionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.Open();
    ASSERT_FALSE(HasFatalFailure());
    runner_ = std::make_unique<ActionRunner>(h_.Deps(), options_);
  }
  void TearDown() override { h_.Stop(); }

  static functionspb::Execution AnExecution(const std::string& status) {
    functionspb::Execution e;
    e.set_id("ex_0123456789abcdefghij");
    e.set_function_id("fn_1");
    e.set_status(status);
    if (status == "failed") {
      e.mutable_error()->set_code("UNKNOWN");
      e.mutable_error()->set_message("Error: the price is stale");
    }
    return e;
  }

  ActionOutcome RunOnce(Condition condition = CronCondition{"0 2 * * *", ""}, uint32_t attempt = 1) {
    TriggerRecord trigger = MakeTrigger(FunctionAction{"fn_1"}, std::move(condition));
    return runner_->Run(trigger, MakeRun(trigger), attempt);
  }

  testing::ActionsHarness h_;
  ActionOptions options_;
  std::unique_ptr<ActionRunner> runner_;
};

TEST_F(FunctionActionTest, InvokesTheFunctionForTheAccountWithTheFiring) {
  h_.functions().Answer(AnExecution("succeeded"));
  ActionOutcome out = RunOnce(CronCondition{"0 2 * * *", ""}, 2);
  EXPECT_EQ(out.kind, ActionOutcome::Kind::kSucceeded) << out.error;
  EXPECT_EQ(out.execution_id, "ex_0123456789abcdefghij");
  EXPECT_EQ(out.error, "");

  auto calls = h_.functions().calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].caller, "automation");
  EXPECT_EQ(calls[0].account, kAccount);
  EXPECT_TRUE(calls[0].had_deadline);
  EXPECT_EQ(calls[0].request.id(), "fn_1");
  TriggerRecord trigger = MakeTrigger(FunctionAction{"fn_1"});
  EXPECT_EQ(calls[0].request.args_json(), FiringJson(trigger, MakeRun(trigger), 2));
  EXPECT_EQ(calls[0].request.trigger(), "schedule");
  // The functions service charges the invocation; the runner reserves nothing for it.
  EXPECT_TRUE(h_.bank().calls().empty());
}

TEST_F(FunctionActionTest, TimeTriggersAreSchedulesAndTheOthersChainEvents) {
  h_.functions().Answer(AnExecution("succeeded"));
  const std::vector<std::pair<Condition, std::string>> cases = {
      {CronCondition{"0 2 * * *", "Europe/Paris"}, "schedule"},
      {IntervalCondition{60'000, kScheduledMs}, "schedule"},
      {BlockCondition{std::nullopt, 10}, "chain_event"},
      {EventCondition{"0x" + std::string(40, 'a'), "Transfer", {}}, "chain_event"},
      {PriceCondition{"NEO/USD", PriceCondition::Mode::kAbove, "12.5", 0}, "chain_event"},
  };
  for (const auto& [condition, expected] : cases) {
    EXPECT_EQ(RunOnce(condition).kind, ActionOutcome::Kind::kSucceeded);
  }
  auto calls = h_.functions().calls();
  ASSERT_EQ(calls.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) EXPECT_EQ(calls[i].request.trigger(), cases[i].second) << i;
}

TEST_F(FunctionActionTest, AFailedExecutionIsARetryableFailureWithItsError) {
  h_.functions().Answer(AnExecution("failed"));
  ActionOutcome out = RunOnce();
  EXPECT_EQ(out.kind, ActionOutcome::Kind::kFailed);
  EXPECT_TRUE(out.retryable);
  EXPECT_EQ(out.execution_id, "ex_0123456789abcdefghij");
  EXPECT_THAT(out.error, HasSubstr("UNKNOWN: Error: the price is stale"));
}

TEST_F(FunctionActionTest, CallErrorsAreRetryableOnlyWhenAnotherTryMaySucceed) {
  struct Case {
    Status answer;
    bool retryable;
  };
  const std::vector<Case> cases = {
      {NotFoundError("function fn_1 not found"), false},  // deleted since the trigger was made
      {FailedPreconditionError("insufficient funds: available 0, the fee is 100000"), true},
      {UnavailableError("the runtime is away"), true},
      {ResourceExhaustedError("the functions service is busy; retry later"), true},
      {InvalidArgumentError("args_json is over 30 KiB"), false},
  };
  for (const Case& c : cases) {
    h_.functions().Refuse(c.answer);
    ActionOutcome out = RunOnce();
    EXPECT_EQ(out.kind, ActionOutcome::Kind::kFailed) << c.answer.ToString();
    EXPECT_EQ(out.retryable, c.retryable) << c.answer.ToString();
    EXPECT_THAT(out.error, HasSubstr(std::string(c.answer.message()))) << out.error;
    EXPECT_THAT(out.error, HasSubstr(std::string(StatusCodeName(c.answer.code())))) << out.error;
    EXPECT_EQ(out.execution_id, "");
  }
}

TEST_F(FunctionActionTest, AnInvocationOutlastingTheTimeoutIsRetryable) {
  options_.function_timeout = std::chrono::milliseconds(300);
  runner_ = std::make_unique<ActionRunner>(h_.Deps(), options_);
  h_.functions().Answer(AnExecution("succeeded"));
  h_.functions().Hold();
  const auto start = std::chrono::steady_clock::now();
  ActionOutcome out = RunOnce();
  const auto took = std::chrono::steady_clock::now() - start;
  h_.functions().Release();
  EXPECT_EQ(out.kind, ActionOutcome::Kind::kFailed);
  EXPECT_TRUE(out.retryable);
  EXPECT_THAT(out.error, HasSubstr("DEADLINE_EXCEEDED"));
  EXPECT_LT(took, std::chrono::seconds(10)) << "the call was not bounded by function_timeout";
  EXPECT_THAT(out.error, Not(HasSubstr("succeeded")));
}

}  // namespace
}  // namespace neosl::automation
