// A crash during a firing (issue #13): `neosl serve` is killed with SIGKILL right after a firing
// is recorded, and right after its action is marked running, then restarted on the same data
// directory. The first firing is resumed and its webhook called exactly once; the second is
// marked failed, not repeated (its action may have run); firing goes on either way.
#include <chrono>
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "integration/automation/automation_fixture.h"

namespace neosl::testing {
namespace {

namespace json = boost::json;
using gateway::ws_test::WaitUntil;

constexpr int kKilled = 128 + 9;

class AutomationCrashTest : public AutomationServerTest {
 protected:
  // Arms serve with `point`, creates a 1 s webhook trigger and waits for the kill; restarts.
  std::string CrashAt(const std::string& point) {
    Start(point);
    if (HasFatalFailure()) return "";
    MakeFundedAccount();
    const std::string id = CreateTrigger(R"({"name":"crash","interval":{"every_ms":1000},
        "action":{"webhook":{"url":")" + hook_.Url("/hook") +
                                         R"("}}})");
    EXPECT_EQ(server_->WaitExit(std::chrono::seconds(30)), kKilled) << server_->Logs();
    EXPECT_NE(server_->Logs().find("crash point reached"), std::string::npos);
    Start();
    return id;
  }
};

TEST_F(AutomationCrashTest, AFiringRecordedBeforeTheCrashRunsOnceAfterTheRestart) {
  const std::string id = CrashAt("automation.fire.after_record");
  ASSERT_FALSE(id.empty());
  // The firing recorded at the crash is resumed, and the schedule goes on after it.
  ASSERT_TRUE(WaitUntil([&] { return CountRuns(id, "succeeded") >= 2; })) << server_->Logs();
  json::array runs = Runs(id);
  const json::value& first = runs.back();  // newest first
  const std::string first_id(first.at("id").as_string());
  EXPECT_EQ(first.at("status").as_string(), "succeeded");
  EXPECT_EQ(HooksFor(first_id), 1u);
  for (const auto& run : runs) {
    EXPECT_LE(HooksFor(std::string(run.at("id").as_string())), 1u);
  }
}

TEST_F(AutomationCrashTest, AnActionInterruptedByTheCrashIsFailedNotRepeated) {
  const std::string id = CrashAt("automation.action.before_run");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitUntil([&] { return CountRuns(id, "succeeded") >= 1 && CountRuns(id, "failed") == 1; }))
      << server_->Logs();
  for (const auto& run : Runs(id)) {
    if (run.at("status").as_string() != "failed") continue;
    EXPECT_NE(std::string(run.at("error").as_string()).find("interrupted by a restart"), std::string::npos);
    EXPECT_EQ(HooksFor(std::string(run.at("id").as_string())), 0u);  // killed before the call
  }
}

}  // namespace
}  // namespace neosl::testing
