// Manual runs (Engine::RunNow, RunTrigger) on a real SQLite store with a manual clock: recorded
// and run like any run, the trigger's schedule and counts left alone, paused triggers runnable,
// completed and foreign ones not, the retry policy honoured, a run recorded by a replica whose
// engine is not started picked up by the leader's Sync; and RunWaiter, which answers a run's end.
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "services/automation/run_waiter.h"
#include "unit/services/automation/engine_fixture.h"

namespace neosl::automation {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

using testing::kAccount;
using testing::WaitUntil;

class ManualRunTest : public testing::EngineFixture {
 protected:
  ManualRunTest() {
    StartEngine();
    engine_->SetRunEndListener([this](const RunRecord& run) {
      std::lock_guard lock(mu_);
      ended_.push_back(run);
    });
  }
  // The listener writes to ended_: the engine stops before it goes.
  ~ManualRunTest() override {
    engine_->Stop();
    engine_.reset();
  }

  TriggerSpec Interval(int64_t every_ms, uint32_t max_attempts = 1) {
    TriggerSpec spec;
    spec.name = "tick";
    spec.condition = IntervalCondition{every_ms, clock_.NowUnixMillis() + every_ms};
    spec.action = WebhookAction{hook_.Url("/hook"), {}};
    spec.retry.max_attempts = max_attempts;
    spec.retry.initial_backoff_ms = 1000;
    return spec;
  }

  StatusOr<RunRecord> Run(const std::string& id) { return TriggerStore(*store_).GetRun(id); }

  bool Ended(const std::string& run_id, RunStatus status) {
    return WaitUntil([&] {
      auto r = Run(run_id);
      return r.ok() && r->status == status;
    });
  }

  std::vector<RunRecord> ended_;
};

TEST_F(ManualRunTest, APausedTriggerRunsOnceNowAndItsScheduleAndCountsStayAsTheyWere) {
  TriggerRecord t = Create(Interval(60'000), /*paused=*/true);
  const TriggerRecord before = Stored(t.id);
  const int64_t now = clock_.NowUnixMillis();

  auto run = engine_->RunNow(kAccount, t.id);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->id, t.id + ":m:" + std::to_string(now));
  EXPECT_EQ(run->status, RunStatus::kPending);  // as recorded, before the action
  EXPECT_EQ(run->scheduled_at_ms, now);
  EXPECT_FALSE(run->catch_up);
  ASSERT_TRUE(Ended(run->id, RunStatus::kSucceeded));
  engine_->WaitIdle();
  EXPECT_EQ(Received(), std::vector<std::string>{run->id});
  {
    std::lock_guard lock(mu_);
    ASSERT_EQ(contexts_.size(), 1u);
    json::value context = json::parse(contexts_[0]);
    EXPECT_TRUE(context.at("manual").as_bool());
    EXPECT_EQ(context.at("requested_at").as_string(), FormatRfc3339Millis(now));
    // The listener heard of the end, with the outcome as stored.
    ASSERT_EQ(ended_.size(), 1u);
    EXPECT_EQ(ended_[0].id, run->id);
    EXPECT_EQ(ended_[0].status, RunStatus::kSucceeded);
    EXPECT_EQ(ended_[0].http_status, 200);
  }
  const TriggerRecord after = Stored(t.id);
  EXPECT_EQ(after.status, TriggerStatus::kPaused);
  EXPECT_EQ(after.runs, before.runs);
  EXPECT_EQ(after.next_due_ms, before.next_due_ms);
  EXPECT_EQ(after.last_fired_at_ms, before.last_fired_at_ms);
  EXPECT_EQ(after.updated_at_ms, before.updated_at_ms);
}

TEST_F(ManualRunTest, AnActiveTriggersNextFiringIsNeitherMovedNorCountedAgainstMaxRuns) {
  TriggerSpec spec = Interval(10'000);
  spec.max_runs = 1;
  TriggerRecord t = Create(std::move(spec));
  const int64_t due = *t.next_due_ms;
  auto run = engine_->RunNow(kAccount, t.id);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_TRUE(Ended(run->id, RunStatus::kSucceeded));
  EXPECT_EQ(Stored(t.id).next_due_ms, due);
  EXPECT_EQ(Stored(t.id).status, TriggerStatus::kActive);  // max_runs 1 is still to come

  clock_.Advance(10'000ms);
  engine_->Wake();
  const std::string scheduled = TimeRunId(t.id, due);
  ASSERT_TRUE(Ended(scheduled, RunStatus::kSucceeded));
  engine_->WaitIdle();
  EXPECT_EQ(Received(), (std::vector<std::string>{run->id, scheduled}));
  const TriggerRecord after = Stored(t.id);
  EXPECT_EQ(after.runs, 1u);
  EXPECT_EQ(after.status, TriggerStatus::kCompleted);

  // Completed: a manual run is refused, as resuming is.
  auto refused = engine_->RunNow(kAccount, t.id);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition) << refused.status().ToString();
}

TEST_F(ManualRunTest, RunsInTheSameMillisecondGetIdsOfTheirOwn) {
  TriggerRecord t = Create(Interval(60'000), /*paused=*/true);
  const int64_t now = clock_.NowUnixMillis();  // the clock does not move between the calls
  auto first = engine_->RunNow(kAccount, t.id);
  auto second = engine_->RunNow(kAccount, t.id);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->id, ManualRunId(t.id, now));
  EXPECT_EQ(second->id, ManualRunId(t.id, now + 1));
  EXPECT_EQ(second->scheduled_at_ms, now);
  ASSERT_TRUE(Ended(first->id, RunStatus::kSucceeded));
  ASSERT_TRUE(Ended(second->id, RunStatus::kSucceeded));
  engine_->WaitIdle();
  EXPECT_EQ(Received().size(), 2u);
}

TEST_F(ManualRunTest, AnotherAccountsOrAMissingTriggerIsNotFound) {
  TriggerRecord t = Create(Interval(60'000));
  EXPECT_EQ(engine_->RunNow("acc_other", t.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(engine_->RunNow(kAccount, "tg_nosuchtrigger").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(engine_->Delete(kAccount, t.id).ok());
  EXPECT_EQ(engine_->RunNow(kAccount, t.id).status().code(), StatusCode::kNotFound);
  engine_->WaitIdle();
  EXPECT_TRUE(Received().empty());
}

TEST_F(ManualRunTest, AFailedAttemptIsRetriedByTheTriggersPolicy) {
  next_status_ = 503;
  TriggerRecord t = Create(Interval(60'000, /*max_attempts=*/2), /*paused=*/true);
  auto run = engine_->RunNow(kAccount, t.id);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_TRUE(Ended(run->id, RunStatus::kRetrying));
  engine_->WaitIdle();
  next_status_ = 200;
  clock_.Advance(1'000ms);  // initial_backoff_ms
  engine_->Wake();
  ASSERT_TRUE(Ended(run->id, RunStatus::kSucceeded));
  EXPECT_EQ(Run(run->id)->attempts, 2u);
  engine_->WaitIdle();
  EXPECT_EQ(Received(), (std::vector<std::string>{run->id, run->id}));
}

TEST_F(ManualRunTest, ARunRecordedWhereTheEngineIsNotStartedIsRunByTheLeadersSync) {
  // A replica that is not the leader: its API records, its engine runs nothing.
  std::unique_ptr<Engine> follower = MakeEngine();
  TriggerRecord t = Create(Interval(60'000), /*paused=*/true);
  auto run = follower->RunNow(kAccount, t.id);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  engine_->WaitIdle();
  EXPECT_EQ(Run(run->id)->status, RunStatus::kPending);
  EXPECT_TRUE(Received().empty());

  ASSERT_TRUE(engine_->Sync().ok());
  ASSERT_TRUE(Ended(run->id, RunStatus::kSucceeded));
  // Found again by later Syncs, it is not run again: it is no longer pending.
  ASSERT_TRUE(engine_->Sync().ok());
  engine_->WaitIdle();
  EXPECT_EQ(Received(), std::vector<std::string>{run->id});
}

// ---- RunWaiter ----

class RunWaiterTest : public ManualRunTest {
 protected:
  // Awaits `run_id`; the answer, once given, through the future.
  std::future<StatusOr<RunRecord>> Await(RunWaiter& waiter, const std::string& run_id,
                                         std::chrono::milliseconds timeout) {
    auto promise = std::make_shared<std::promise<StatusOr<RunRecord>>>();
    auto answer = promise->get_future();
    waiter.Await(run_id, timeout, [promise](StatusOr<RunRecord> r) { promise->set_value(std::move(r)); });
    return answer;
  }
};

TEST_F(RunWaiterTest, AnEndToldByTheEngineIsAnsweredAtOnce) {
  RunWaiter waiter(*store_, /*poll=*/1h);  // only the first read: the end must come from Ended
  engine_->SetRunEndListener([&waiter](const RunRecord& run) { waiter.Ended(run); });
  struct Unlisten {  // before the waiter goes, however the test ends
    Engine& engine;
    ~Unlisten() { engine.SetRunEndListener(nullptr); }
  } unlisten{*engine_};
  next_status_ = 503;
  TriggerRecord t = Create(Interval(60'000, /*max_attempts=*/2), /*paused=*/true);
  auto run = engine_->RunNow(kAccount, t.id);
  ASSERT_TRUE(run.ok());
  auto answer = Await(waiter, run->id, 30s);
  ASSERT_TRUE(Ended(run->id, RunStatus::kRetrying));
  engine_->WaitIdle();
  // Retrying is not an end.
  EXPECT_EQ(answer.wait_for(50ms), std::future_status::timeout);
  next_status_ = 200;
  clock_.Advance(1'000ms);
  engine_->Wake();
  ASSERT_EQ(answer.wait_for(10s), std::future_status::ready);
  StatusOr<RunRecord> ended = answer.get();
  ASSERT_TRUE(ended.ok()) << ended.status().ToString();
  EXPECT_EQ(ended->id, run->id);
  EXPECT_EQ(ended->status, RunStatus::kSucceeded);
  EXPECT_EQ(ended->attempts, 2u);
  EXPECT_EQ(waiter.waiting(), 0u);
}

TEST_F(RunWaiterTest, AnEndNobodyToldIsReadFromTheStore) {
  // Ended before the wait began, or on another replica: no Ended call at all.
  TriggerRecord t = Create(Interval(60'000), /*paused=*/true);
  auto run = engine_->RunNow(kAccount, t.id);
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE(Ended(run->id, RunStatus::kSucceeded));
  RunWaiter waiter(*store_, /*poll=*/20ms);
  auto answer = Await(waiter, run->id, 30s);
  ASSERT_EQ(answer.wait_for(10s), std::future_status::ready);
  StatusOr<RunRecord> ended = answer.get();
  ASSERT_TRUE(ended.ok()) << ended.status().ToString();
  EXPECT_EQ(ended->status, RunStatus::kSucceeded);
}

TEST_F(RunWaiterTest, ARunThatDoesNotEndInTimeIsDeadlineExceededNamingIt) {
  // Pending for good: recorded by an engine that is not started, and nobody syncs.
  std::unique_ptr<Engine> follower = MakeEngine();
  TriggerRecord t = Create(Interval(60'000), /*paused=*/true);
  auto run = follower->RunNow(kAccount, t.id);
  ASSERT_TRUE(run.ok());
  RunWaiter waiter(*store_, /*poll=*/10ms);
  auto answer = Await(waiter, run->id, 100ms);
  ASSERT_EQ(answer.wait_for(10s), std::future_status::ready);
  StatusOr<RunRecord> late = answer.get();
  EXPECT_EQ(late.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(late.status().message().find(run->id), std::string_view::npos) << late.status().ToString();
  EXPECT_EQ(Run(run->id)->status, RunStatus::kPending);  // the run itself is untouched

  // Its trigger deleted meanwhile: the run is gone, and so said.
  auto gone = Await(waiter, run->id, 30s);
  ASSERT_TRUE(engine_->Delete(kAccount, t.id).ok());
  ASSERT_EQ(gone.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(gone.get().status().code(), StatusCode::kNotFound);
}

TEST_F(RunWaiterTest, WaitsOpenWhenItStopsAreAnsweredUnavailable) {
  auto waiter = std::make_unique<RunWaiter>(*store_, /*poll=*/1h);
  TriggerRecord t = Create(Interval(60'000), /*paused=*/true);
  std::unique_ptr<Engine> follower = MakeEngine();
  auto run = follower->RunNow(kAccount, t.id);
  ASSERT_TRUE(run.ok());
  auto answer = Await(*waiter, run->id, 1h);
  ASSERT_TRUE(WaitUntil([&] { return waiter->waiting() == 1; }));
  waiter.reset();
  ASSERT_EQ(answer.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(answer.get().status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace neosl::automation
