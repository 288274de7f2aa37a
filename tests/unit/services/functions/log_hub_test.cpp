// The log fan-out hub on its own: every subscriber of a function gets every line, in order; one
// that falls `capacity` lines behind is dropped (RESOURCE_EXHAUSTED) without holding up the others
// or growing memory; a closed function ends its subscriptions.
#include "services/functions/log_hub.h"

#include <atomic>
#include <string>

#include <gtest/gtest.h>

namespace neosl::services::functions {
namespace {

namespace pb = ::neosl::functions::v1;

pb::LogEntry Line(const std::string& function_id, const std::string& message) {
  pb::LogEntry e;
  e.set_function_id(function_id);
  e.set_message(message);
  return e;
}

TEST(FunctionLogHubTest, FansOutToEverySubscriberOfTheFunction) {
  LogHub hub(8, 4);
  std::atomic<int> notified_a{0}, notified_b{0}, notified_other{0};
  auto a = hub.Subscribe("fn_a", [&] { ++notified_a; });
  auto b = hub.Subscribe("fn_a", [&] { ++notified_b; });
  auto other = hub.Subscribe("fn_b", [&] { ++notified_other; });
  ASSERT_TRUE(a.ok() && b.ok() && other.ok());
  EXPECT_EQ(hub.subscribers("fn_a"), 2u);

  hub.Publish(Line("fn_a", "one"));
  hub.Publish(Line("fn_a", "two"));
  hub.Publish(Line("fn_c", "nobody listens"));
  EXPECT_EQ(notified_a, 2);
  EXPECT_EQ(notified_b, 2);
  EXPECT_EQ(notified_other, 0);
  for (auto* q : {&*a, &*b}) {
    EXPECT_EQ((*q)->Pop()->message(), "one");
    EXPECT_EQ((*q)->Pop()->message(), "two");
    EXPECT_FALSE((*q)->Pop().has_value());
    EXPECT_FALSE((*q)->closed().has_value());
  }
  EXPECT_EQ((*other)->size(), 0u);

  hub.Unsubscribe("fn_a", a->get());
  hub.Publish(Line("fn_a", "three"));
  EXPECT_EQ((*a)->size(), 0u);
  EXPECT_EQ((*b)->size(), 1u);
}

TEST(FunctionLogHubTest, DropsASlowSubscriberAndKeepsTheOthers) {
  LogHub hub(3, 4);
  int slow_notified = 0;
  auto slow = hub.Subscribe("fn_a", [&] { ++slow_notified; });
  auto fast = hub.Subscribe("fn_a", nullptr);
  ASSERT_TRUE(slow.ok() && fast.ok());
  for (int i = 0; i < 10; ++i) {
    hub.Publish(Line("fn_a", std::to_string(i)));
    ASSERT_TRUE((*fast)->Pop().has_value());  // keeps up
  }
  // The fourth line found the slow queue full: dropped, its lines discarded, and told so.
  ASSERT_TRUE((*slow)->closed().has_value());
  EXPECT_EQ((*slow)->closed()->code(), StatusCode::kResourceExhausted);
  EXPECT_EQ((*slow)->size(), 0u);
  EXPECT_EQ(slow_notified, 4);
  EXPECT_EQ(hub.subscribers("fn_a"), 1u);
  EXPECT_EQ(hub.dropped(), 1u);
  EXPECT_FALSE((*fast)->closed().has_value());
}

TEST(FunctionLogHubTest, BoundsSubscribersPerFunction) {
  LogHub hub(3, 2);
  auto one = hub.Subscribe("fn_a", nullptr);
  auto two = hub.Subscribe("fn_a", nullptr);
  auto three = hub.Subscribe("fn_a", nullptr);
  EXPECT_TRUE(one.ok() && two.ok());
  EXPECT_EQ(three.status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(hub.Subscribe("fn_b", nullptr).ok());
}

TEST(FunctionLogHubTest, ClosingAFunctionEndsItsSubscriptionsAfterWhatIsQueued) {
  LogHub hub(3, 2);
  int notified = 0;
  auto q = hub.Subscribe("fn_a", [&] { ++notified; });
  ASSERT_TRUE(q.ok());
  hub.Publish(Line("fn_a", "last words"));
  hub.CloseFunction("fn_a", Status());
  EXPECT_EQ(notified, 2);
  ASSERT_TRUE((*q)->closed().has_value());
  EXPECT_TRUE((*q)->closed()->ok());
  EXPECT_EQ((*q)->Pop()->message(), "last words");
  EXPECT_EQ(hub.subscribers("fn_a"), 0u);
  hub.Publish(Line("fn_a", "after"));
  EXPECT_FALSE((*q)->Pop().has_value());
}

}  // namespace
}  // namespace neosl::services::functions
