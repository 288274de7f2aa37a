// The automation engine (engine.h) on a real SQLite store with a manual clock: time triggers fire
// once per scheduled time, retries back off, pause/resume/max_runs/end_at, catch-up after a
// restart, resumption after a crash, and chain and price triggers fed directly. Actions are real
// webhooks to a loopback server through the SSRF-checking relay.
#include "services/automation/engine.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "unit/services/automation/engine_fixture.h"

namespace neosl::automation {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

using testing::kAccount;
using testing::WaitUntil;

int64_t At(const char* rfc3339) {
  return *ParseRfc3339Millis(rfc3339);
}

class EngineTest : public testing::EngineFixture {
 protected:
  EngineTest() { StartEngine(); }

  void Restart() {
    engine_->Stop();
    engine_.reset();
    StartEngine();
  }

  TriggerSpec Interval(int64_t every_ms, int64_t start_at_ms) {
    TriggerSpec spec;
    spec.name = "tick";
    spec.condition = IntervalCondition{every_ms, start_at_ms};
    spec.action = WebhookAction{hook_.Url("/hook"), {}};
    spec.retry.max_attempts = 1;
    return spec;
  }

  // Moves the clock and lets the engine see it; waits until the firings due by then ran.
  void Advance(std::chrono::milliseconds d) {
    clock_.Advance(d);
    engine_->Wake();
  }

  std::vector<RunRecord> Runs(const std::string& trigger) {
    std::string next;
    TriggerStore triggers(*store_);
    auto runs = triggers.ListRuns(trigger, Page{.limit = 100}, &next);
    EXPECT_TRUE(runs.ok()) << runs.status().ToString();
    return runs.ok() ? *runs : std::vector<RunRecord>{};
  }

  // Waits until `trigger` has `n` runs, all final, and the engine is idle.
  bool WaitForFinalRuns(const std::string& trigger, size_t n) {
    bool ok = WaitUntil([&] {
      auto runs = Runs(trigger);
      if (runs.size() < n) return false;
      for (const auto& r : runs) {
        if (!IsFinal(r.status) && r.status != RunStatus::kRetrying) return false;
      }
      return true;
    });
    engine_->WaitIdle();
    return ok;
  }
};

TEST_F(EngineTest, AnIntervalTriggerFiresOncePerScheduledTimeWithItsDeterministicRunId) {
  const int64_t start = clock_.NowUnixMillis() + 10'000;
  TriggerRecord t = Create(Interval(10'000, start));
  EXPECT_EQ(t.next_due_ms, start);
  Advance(9'999ms);
  engine_->WaitIdle();
  EXPECT_TRUE(Runs(t.id).empty());
  Advance(1ms);
  ASSERT_TRUE(WaitForFinalRuns(t.id, 1));
  auto runs = Runs(t.id);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].id, t.id + ":t:" + std::to_string(start));
  EXPECT_EQ(runs[0].status, RunStatus::kSucceeded);
  EXPECT_EQ(runs[0].http_status, 200);
  EXPECT_EQ(runs[0].attempts, 1u);
  EXPECT_EQ(runs[0].scheduled_at_ms, start);
  EXPECT_FALSE(runs[0].catch_up);
  EXPECT_EQ(Received(), std::vector<std::string>{runs[0].id});
  const TriggerRecord stored = Stored(t.id);
  EXPECT_EQ(stored.runs, 1u);
  EXPECT_EQ(stored.next_due_ms, start + 10'000);
  EXPECT_EQ(stored.last_fired_at_ms, start);
}

TEST_F(EngineTest, ATimerThatFallsBehindStillFiresEveryScheduledTimeInOrder) {
  const int64_t start = clock_.NowUnixMillis() + 1'000;
  TriggerRecord t = Create(Interval(1'000, start));
  Advance(3'500ms);  // three times due at once
  ASSERT_TRUE(WaitForFinalRuns(t.id, 3));
  auto runs = Runs(t.id);
  ASSERT_EQ(runs.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {  // newest first
    EXPECT_EQ(runs[i].scheduled_at_ms, start + int64_t(2 - i) * 1'000);
    EXPECT_EQ(runs[i].recorded_at_ms - runs[i].scheduled_at_ms, 2'500 - int64_t(2 - i) * 1'000);
  }
  EXPECT_EQ(Stored(t.id).next_due_ms, start + 3'000);
}

TEST_F(EngineTest, MaxRunsAndEndAtCompleteATrigger) {
  TriggerSpec limited = Interval(1'000, clock_.NowUnixMillis() + 1'000);
  limited.max_runs = 2;
  TriggerRecord a = Create(limited);
  TriggerSpec ending = Interval(1'000, clock_.NowUnixMillis() + 1'000);
  ending.end_at_ms = clock_.NowUnixMillis() + 3'500;
  TriggerRecord b = Create(ending);
  Advance(10'000ms);
  ASSERT_TRUE(WaitForFinalRuns(a.id, 2));
  ASSERT_TRUE(WaitForFinalRuns(b.id, 3));
  EXPECT_EQ(Runs(a.id).size(), 2u);
  EXPECT_EQ(Runs(b.id).size(), 3u);
  EXPECT_EQ(Stored(a.id).status, TriggerStatus::kCompleted);
  EXPECT_EQ(Stored(a.id).status_reason, "max_runs reached");
  EXPECT_EQ(Stored(b.id).status, TriggerStatus::kCompleted);
  EXPECT_EQ(Stored(b.id).status_reason, "end_at passed");
  EXPECT_FALSE(Stored(b.id).next_due_ms.has_value());
  // A completed trigger cannot be resumed.
  EXPECT_EQ(engine_->Resume(kAccount, a.id).status().code(), StatusCode::kFailedPrecondition);
  // One that could never fire is refused at creation.
  TriggerSpec never = Interval(1'000, clock_.NowUnixMillis() + 5'000);
  never.end_at_ms = clock_.NowUnixMillis() + 4'000;
  EXPECT_EQ(engine_->Create(kAccount, never, false).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(EngineTest, PauseSkipsWhatFallsDueAndResumeStartsFromNow) {
  const int64_t start = clock_.NowUnixMillis() + 1'000;
  TriggerRecord t = Create(Interval(1'000, start));
  auto paused = engine_->Pause(kAccount, t.id);
  ASSERT_TRUE(paused.ok());
  EXPECT_EQ(paused->status, TriggerStatus::kPaused);
  Advance(5'000ms);
  engine_->WaitIdle();
  EXPECT_TRUE(Runs(t.id).empty());
  auto resumed = engine_->Resume(kAccount, t.id);
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(resumed->status, TriggerStatus::kActive);
  EXPECT_EQ(resumed->next_due_ms, start + 5'000);  // the next time after now, nothing missed
  Advance(1'000ms);
  ASSERT_TRUE(WaitForFinalRuns(t.id, 1));
  EXPECT_EQ(Runs(t.id)[0].scheduled_at_ms, start + 5'000);
  // Another account can neither pause nor see it.
  EXPECT_EQ(engine_->Pause("acc_other", t.id).status().code(), StatusCode::kNotFound);
}

TEST_F(EngineTest, DeleteStopsFiringAndRemovesTheRuns) {
  TriggerRecord t = Create(Interval(1'000, clock_.NowUnixMillis() + 1'000));
  Advance(1'000ms);
  ASSERT_TRUE(WaitForFinalRuns(t.id, 1));
  ASSERT_TRUE(engine_->Delete(kAccount, t.id).ok());
  Advance(5'000ms);
  engine_->WaitIdle();
  EXPECT_TRUE(Runs(t.id).empty());
  EXPECT_EQ(Received().size(), 1u);
  EXPECT_EQ(engine_->Delete(kAccount, t.id).status().code(), StatusCode::kNotFound);
}

TEST_F(EngineTest, AnAccountsTriggersAreCapped) {
  engine_->Stop();
  StartEngine(/*max_triggers=*/2);
  Create(Interval(1'000, clock_.NowUnixMillis() + 1'000));
  Create(Interval(1'000, clock_.NowUnixMillis() + 1'000));
  auto third = engine_->Create(kAccount, Interval(1'000, clock_.NowUnixMillis() + 1'000), false);
  EXPECT_EQ(third.status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(engine_->Create("acc_other", Interval(1'000, clock_.NowUnixMillis() + 1'000), false).ok());
}

TEST_F(EngineTest, AFailedActionIsRetriedWithBackoffUntilItSucceeds) {
  TriggerSpec spec = Interval(60'000, clock_.NowUnixMillis() + 1'000);
  spec.retry = RetryPolicy{.max_attempts = 3, .initial_backoff_ms = 2'000, .max_backoff_ms = 10'000};
  TriggerRecord t = Create(spec);
  next_status_ = 503;
  Advance(1'000ms);
  ASSERT_TRUE(WaitForFinalRuns(t.id, 1));
  RunRecord r = Runs(t.id)[0];
  EXPECT_EQ(r.status, RunStatus::kRetrying);
  EXPECT_EQ(r.attempts, 1u);
  EXPECT_EQ(r.http_status, 503);
  EXPECT_EQ(r.next_attempt_at_ms, clock_.NowUnixMillis() + 2'000);
  Advance(1'999ms);
  engine_->WaitIdle();
  EXPECT_EQ(Received().size(), 1u);
  next_status_ = 200;
  Advance(1ms);
  ASSERT_TRUE(WaitUntil([&] { return Runs(t.id)[0].status == RunStatus::kSucceeded; }));
  r = Runs(t.id)[0];
  EXPECT_EQ(r.attempts, 2u);
  EXPECT_EQ(r.http_status, 200);
  EXPECT_TRUE(r.error.empty());
  EXPECT_EQ(Received().size(), 2u);
  EXPECT_EQ(engine_->stats().retried, 1u);
}

TEST_F(EngineTest, RetriesStopAtMaxAttemptsWithTheLastError) {
  TriggerSpec spec = Interval(60'000, clock_.NowUnixMillis() + 1'000);
  spec.retry = RetryPolicy{.max_attempts = 2, .initial_backoff_ms = 1'000, .max_backoff_ms = 1'000};
  TriggerRecord t = Create(spec);
  next_status_ = 500;
  Advance(1'000ms);
  ASSERT_TRUE(WaitForFinalRuns(t.id, 1));
  Advance(1'000ms);
  ASSERT_TRUE(WaitUntil([&] { return Runs(t.id)[0].status == RunStatus::kFailed; }));
  const RunRecord r = Runs(t.id)[0];
  EXPECT_EQ(r.attempts, 2u);
  EXPECT_EQ(r.http_status, 500);
  EXPECT_FALSE(r.error.empty());
  EXPECT_TRUE(r.finished_at_ms.has_value());
  EXPECT_EQ(Received().size(), 2u);
}

TEST_F(EngineTest, CatchUpPoliciesDecideWhatWasMissedWhileDown) {
  const int64_t start = clock_.NowUnixMillis() + 60'000;
  TriggerSpec skip = Interval(60'000, start);
  skip.catch_up = CatchUp::kSkip;
  TriggerSpec once = Interval(60'000, start);
  once.catch_up = CatchUp::kOnce;
  TriggerSpec all = Interval(60'000, start);
  all.catch_up = CatchUp::kAll;
  TriggerSpec capped = Interval(60'000, start);
  capped.catch_up = CatchUp::kAll;
  const std::string s = Create(skip).id, o = Create(once).id, a = Create(all).id, c = Create(capped).id;
  (void)c;
  engine_->Stop();
  clock_.Advance(150s);  // down while start and start + 60 s were due
  StartEngine();
  ASSERT_TRUE(WaitForFinalRuns(o, 1));
  ASSERT_TRUE(WaitForFinalRuns(a, 2));
  EXPECT_TRUE(Runs(s).empty());
  EXPECT_EQ(Stored(s).next_due_ms, start + 120'000);
  auto once_runs = Runs(o);
  ASSERT_EQ(once_runs.size(), 1u);
  EXPECT_EQ(once_runs[0].scheduled_at_ms, start + 60'000);  // the latest missed time
  EXPECT_TRUE(once_runs[0].catch_up);
  auto all_runs = Runs(a);
  ASSERT_EQ(all_runs.size(), 2u);
  EXPECT_EQ(all_runs[1].scheduled_at_ms, start);
  EXPECT_EQ(all_runs[0].scheduled_at_ms, start + 60'000);
  EXPECT_TRUE(all_runs[0].catch_up && all_runs[1].catch_up);
  EXPECT_EQ(Stored(a).next_due_ms, start + 120'000);

  // "all" records at most max_catch_up (3 here) per trigger.
  engine_->Stop();
  clock_.Advance(600s);
  StartEngine();
  ASSERT_TRUE(WaitForFinalRuns(a, 5));
  EXPECT_EQ(Runs(a).size(), 5u);
  EXPECT_GT(*Stored(a).next_due_ms, clock_.NowUnixMillis());
}

TEST_F(EngineTest, AFiringAnotherProcessRecordedIsNotRecordedOrRunAgain) {
  const int64_t start = clock_.NowUnixMillis() + 1'000;
  TriggerRecord t = Create(Interval(1'000, start));
  // Another replica recorded (and ran) the first firing already.
  RunRecord theirs;
  theirs.id = TimeRunId(t.id, start);
  theirs.trigger_id = t.id;
  theirs.account = kAccount;
  theirs.status = RunStatus::kSucceeded;
  theirs.scheduled_at_ms = start;
  theirs.recorded_at_ms = start;
  TriggerStore triggers(*store_);
  ASSERT_TRUE(store::RunInTransaction(*store_, store::TxMode::kWrite, [&](store::Transaction& tx) {
                return triggers.InsertRun(tx, theirs).status();
              }).ok());
  Advance(2'000ms);
  ASSERT_TRUE(WaitForFinalRuns(t.id, 2));
  EXPECT_EQ(Received(), std::vector<std::string>{TimeRunId(t.id, start + 1'000)});
  EXPECT_EQ(Stored(t.id).runs, 1u);  // counted by whoever recorded it
}

TEST_F(EngineTest, AfterACrashPendingRunsRunAndRunningOnesFailWithoutRepeating) {
  TriggerRecord t = Create(Interval(3'600'000, clock_.NowUnixMillis() + 3'600'000));
  TriggerStore triggers(*store_);
  auto row = [&](int64_t at, RunStatus status, uint32_t attempts) {
    RunRecord r;
    r.id = TimeRunId(t.id, at);
    r.trigger_id = t.id;
    r.account = kAccount;
    r.status = status;
    r.attempts = attempts;
    r.scheduled_at_ms = at;
    r.recorded_at_ms = at;
    return r;
  };
  const RunRecord pending = row(1'000, RunStatus::kPending, 0);  // recorded; the action never started
  const RunRecord running = row(2'000, RunStatus::kRunning, 1);  // the action was under way
  engine_->Stop();
  ASSERT_TRUE(store::RunInTransaction(*store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
                RETURN_IF_ERROR(triggers.InsertRun(tx, pending).status());
                return triggers.InsertRun(tx, running).status();
              }).ok());
  StartEngine();
  ASSERT_TRUE(WaitForFinalRuns(t.id, 2));
  EXPECT_EQ(Received(), std::vector<std::string>{pending.id});  // run once; the other not repeated
  auto resumed = triggers.GetRun(pending.id);
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(resumed->status, RunStatus::kSucceeded);
  EXPECT_EQ(resumed->attempts, 1u);
  auto failed = triggers.GetRun(running.id);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->status, RunStatus::kFailed);
  EXPECT_NE(failed->error.find("interrupted by a restart"), std::string::npos);
  // A second restart changes nothing.
  Restart();
  engine_->WaitIdle();
  EXPECT_EQ(Received().size(), 1u);
}

TEST_F(EngineTest, CronTriggersFollowTheirZoneAcrossDstLeapDaysAndMonthEnds) {
  auto cron = [&](const char* expr, const char* zone) {
    TriggerSpec spec;
    spec.name = "cron";
    spec.condition = CronCondition{expr, zone};
    spec.action = WebhookAction{hook_.Url("/hook"), {}};
    return Create(spec);
  };
  // 02:30 does not exist in New York on 2026-03-08 (clocks jump 02:00 → 03:00 EST → EDT): it
  // fires at the jump, 03:00 EDT = 07:00Z.
  EXPECT_EQ(cron("30 2 * * *", "America/New_York").next_due_ms, At("2026-03-08T07:00:00.000Z"));
  EXPECT_EQ(cron("0 0 29 2 *", "").next_due_ms, At("2028-02-29T00:00:00.000Z"));
  EXPECT_EQ(cron("0 12 L * *", "UTC").next_due_ms, At("2026-03-31T12:00:00.000Z"));
  TriggerRecord secs = cron("*/20 * * * * *", "Europe/Berlin");
  EXPECT_EQ(secs.next_due_ms, At("2026-03-07T12:00:20.000Z"));
  Advance(40'000ms);
  ASSERT_TRUE(WaitForFinalRuns(secs.id, 2));
  EXPECT_EQ(Runs(secs.id)[0].id, TimeRunId(secs.id, At("2026-03-07T12:00:40.000Z")));
}

// ---- chain and price triggers, fed directly -------------------------------------------------

neo::NotificationEvent Transfer(uint32_t height, const std::string& contract, int64_t amount, uint32_t index) {
  neo::NotificationEvent n;
  n.block_index = height;
  n.index = index;
  n.container = *neo::UInt256::Parse("0x" + std::string(63, '0') + std::to_string(height % 10));
  n.notification.contract = *neo::UInt160::Parse(contract);
  n.notification.event_name = "Transfer";
  n.notification.state = neo::RpcStackItem(
      json::parse(R"({"type":"Array","value":[{"type":"Any"},{"type":"Any"},{"type":"Integer","value":")" +
                  std::to_string(amount) + R"("}]})"));
  return n;
}

class ChainEngineTest : public EngineTest {
 protected:
  // Block `height`, one second after the one before (the clock moves with it).
  void Block(uint32_t height, std::vector<neo::NotificationEvent> notes = {}, bool backlog = false) {
    clock_.Advance(1s);
    ChainBlock b;
    b.block.index = height;
    b.block.time_ms = uint64_t(clock_.NowUnixMillis());
    b.notifications = std::move(notes);
    b.backlog = backlog;
    ASSERT_TRUE(store::RunInTransaction(*store_, store::TxMode::kWrite, [&](store::Transaction& tx) {
                  return engine_->RecordBlock(tx, b);
                }).ok());
    engine_->AfterBlock(b);
    engine_->WaitIdle();
  }
  TriggerRecord BlockTrigger(BlockCondition c, CatchUp catch_up = CatchUp::kSkip) {
    TriggerSpec spec;
    spec.name = "blocks";
    spec.condition = c;
    spec.action = WebhookAction{hook_.Url("/hook"), {}};
    spec.catch_up = catch_up;
    return Create(spec);
  }
  static constexpr char kToken[] = "0xd2a4cff31913016155e38e474a2c06d08be276cf";
};

TEST_F(ChainEngineTest, BlockTriggersFireAtTheirHeightsOnceAndAtCompletes) {
  TriggerRecord every = BlockTrigger(BlockCondition{std::nullopt, 5});
  TriggerRecord at = BlockTrigger(BlockCondition{12, 0});
  for (uint32_t h = 1; h <= 15; ++h) Block(h);
  Block(10);  // the same block again (a replay): nothing twice
  ASSERT_TRUE(WaitForFinalRuns(every.id, 3));
  std::vector<std::string> ids;
  for (const auto& r : Runs(every.id)) ids.push_back(r.id);
  EXPECT_EQ(ids,
            (std::vector<std::string>{BlockRunId(every.id, 15), BlockRunId(every.id, 10), BlockRunId(every.id, 5)}));
  ASSERT_TRUE(WaitForFinalRuns(at.id, 1));
  EXPECT_EQ(Runs(at.id)[0].id, BlockRunId(at.id, 12));
  EXPECT_EQ(Stored(at.id).status, TriggerStatus::kCompleted);
  EXPECT_EQ(Stored(at.id).status_reason, "its block fired");
  EXPECT_EQ(Received().size(), 4u);
}

TEST_F(ChainEngineTest, BacklogBlocksFollowCatchUp) {
  TriggerRecord skip = BlockTrigger(BlockCondition{std::nullopt, 2}, CatchUp::kSkip);
  TriggerRecord once = BlockTrigger(BlockCondition{std::nullopt, 2}, CatchUp::kOnce);
  TriggerRecord all = BlockTrigger(BlockCondition{std::nullopt, 2}, CatchUp::kAll);
  for (uint32_t h = 1; h <= 6; ++h) Block(h, {}, /*backlog=*/true);
  Block(8);
  ASSERT_TRUE(WaitForFinalRuns(all.id, 4));
  EXPECT_EQ(Runs(skip.id).size(), 1u);  // only the live block 8
  auto once_runs = Runs(once.id);
  ASSERT_EQ(once_runs.size(), 2u);  // one for the backlog (its first missed height), then 8
  EXPECT_EQ(once_runs[1].id, BlockRunId(once.id, 2));
  EXPECT_TRUE(once_runs[1].catch_up);
  EXPECT_EQ(Runs(all.id).size(), 4u);  // 2, 4, 6 missed, 8 live
}

TEST_F(ChainEngineTest, EventTriggersMatchContractNameAndFilters) {
  TriggerSpec spec;
  spec.name = "big-transfers";
  spec.condition = EventCondition{kToken, "Transfer", {EventFilter{2, "Integer", "100"}}};
  spec.action = WebhookAction{hook_.Url("/hook"), {}};
  spec.catch_up = CatchUp::kAll;
  TriggerRecord t = Create(spec);
  Block(3, {Transfer(3, kToken, 100, 0), Transfer(3, kToken, 99, 1),
            Transfer(3, "0x0000000000000000000000000000000000000001", 100, 2), Transfer(3, kToken, 100, 3)});
  ASSERT_TRUE(WaitForFinalRuns(t.id, 2));
  auto runs = Runs(t.id);
  ASSERT_EQ(runs.size(), 2u);
  std::vector<std::string> ids{runs[0].id, runs[1].id};
  std::sort(ids.begin(), ids.end());
  const std::string tx = Transfer(3, kToken, 0, 0).container.ToString();
  EXPECT_EQ(ids, (std::vector<std::string>{EventRunId(t.id, tx, 0), EventRunId(t.id, tx, 3)}));
  json::value context = json::parse(runs[0].context_json);
  EXPECT_EQ(context.at("event").as_string(), "Transfer");
}

TEST_F(EngineTest, PriceTriggersFireOnCrossingsFromATestPriceSource) {
  TriggerSpec spec;
  spec.name = "neo-above-12";
  spec.condition = PriceCondition{"NEO/USD", PriceCondition::Mode::kAbove, "12", 0};
  spec.action = WebhookAction{hook_.Url("/hook"), {}};
  TriggerRecord t = Create(spec);
  auto tick = [&](int64_t price, uint64_t round) {
    engine_->OnPrice(PriceTick{"NEO/USD", price, 2, round, clock_.NowUnixMillis()});
    engine_->WaitIdle();
  };
  tick(1250, 1);  // already above at the first report: only sets the side
  tick(1190, 2);
  tick(1210, 3);  // crosses above: fires
  tick(1210, 3);  // the same round again: nothing
  tick(1300, 4);  // still above: nothing
  ASSERT_TRUE(WaitForFinalRuns(t.id, 1));
  auto runs = Runs(t.id);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].id, PriceRunId(t.id, "NEO/USD", 3));
  EXPECT_EQ(Received().size(), 1u);
}

// Another replica's API (an engine on the same store that is not started: it does not lead)
// changes triggers; the leader's engine learns of them at its next Sync and fires accordingly.
TEST_F(EngineTest, SyncPicksUpTriggersAnotherReplicasApiChanged) {
  EngineOptions o;
  o.max_triggers_per_account = 100;
  Engine follower(std::move(o), *store_, *actions_, clock_, random_);
  const int64_t start = clock_.NowUnixMillis() + 1'000;
  auto made = follower.Create(kAccount, Interval(1'000, start), /*paused=*/false);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  const std::string id = made->id;

  Advance(1'000ms);
  engine_->WaitIdle();
  EXPECT_TRUE(Runs(id).empty()) << "the leader fired a trigger it had not synced";
  ASSERT_TRUE(engine_->Sync().ok());
  Advance(1ms);  // the missed time is due at once
  ASSERT_TRUE(WaitForFinalRuns(id, 1));
  EXPECT_EQ(Runs(id)[0].id, id + ":t:" + std::to_string(start));

  // Paused through the follower: dropped at the next Sync, nothing fires after it.
  ASSERT_TRUE(follower.Pause(kAccount, id).ok());
  ASSERT_TRUE(engine_->Sync().ok());
  Advance(5'000ms);
  engine_->WaitIdle();
  EXPECT_EQ(Runs(id).size(), 1u);

  // Resumed, then deleted through the follower.
  ASSERT_TRUE(follower.Resume(kAccount, id).ok());
  ASSERT_TRUE(engine_->Sync().ok());
  Advance(1'000ms);
  ASSERT_TRUE(WaitForFinalRuns(id, 2));
  ASSERT_TRUE(follower.Delete(kAccount, id).ok());
  ASSERT_TRUE(engine_->Sync().ok());
  Advance(5'000ms);
  engine_->WaitIdle();
  EXPECT_EQ(Received().size(), 2u);
  // A Sync with nothing new changes nothing.
  ASSERT_TRUE(engine_->Sync().ok());
  EXPECT_EQ(engine_->stats().fired, 2u);
}

}  // namespace
}  // namespace neosl::automation
