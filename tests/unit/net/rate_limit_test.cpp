// The relay's per-host connection rate limit (SocketRelayOptions::per_host_rate): a token bucket
// per host name, timed by a ManualClock, so nothing here sleeps. A connection the bucket admits
// goes on to resolve and connect (to a loopback server, or refused as a private address); one it
// does not is refused before the name is resolved.
#include <cmath>
#include <limits>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "tee/socket_relay.h"
#include "unit/net/test_server.h"

namespace neosl::tee {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

bool RateLimited(const StatusOr<uint64_t>& conn) {
  return !conn.ok() && conn.status().code() == StatusCode::kResourceExhausted &&
         conn.status().message().find("rate limit") != std::string_view::npos;
}

// Connects and closes again; true unless the rate limit refused it.
bool Admitted(SocketRelay& relay, const std::string& host, uint16_t port = 9) {
  auto conn = relay.Connect(host, port, milliseconds(2000));
  if (conn.ok()) relay.Close(*conn);
  return !RateLimited(conn);
}

TEST(SocketRelayRateLimit, UnlimitedByDefault) {
  ManualClock clock;
  SocketRelay relay({}, clock);
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(Admitted(relay, "127.0.0.1")) << i;
  EXPECT_EQ(relay.rate_limited_hosts(), 0u);
}

TEST(SocketRelayRateLimit, BurstThenRefillAtTheRate) {
  net::testing::TestServer server([](const net::testing::ReceivedRequest&) { return net::testing::Reply{}; });
  ManualClock clock;
  auto relay = SocketRelay::Create({.allow_private = {"127.0.0.1/32"}, .per_host_rate = 1, .per_host_burst = 2}, clock);
  ASSERT_TRUE(relay.ok()) << relay.status().ToString();

  for (int i = 0; i < 2; ++i) {
    auto conn = (*relay)->Connect("127.0.0.1", server.port(), milliseconds(2000));
    ASSERT_TRUE(conn.ok()) << i << ": " << conn.status().ToString();
    (*relay)->Close(*conn);
  }
  auto refused = (*relay)->Connect("127.0.0.1", server.port(), milliseconds(2000));
  ASSERT_TRUE(RateLimited(refused)) << refused.status().ToString();
  EXPECT_EQ(refused.status().message(), "rate limit for host 127.0.0.1");

  clock.Advance(milliseconds(999));
  EXPECT_FALSE(Admitted(**relay, "127.0.0.1", server.port())) << "not a whole token yet";
  clock.Advance(milliseconds(1));
  auto again = (*relay)->Connect("127.0.0.1", server.port(), milliseconds(2000));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  (*relay)->Close(*again);
  EXPECT_FALSE(Admitted(**relay, "127.0.0.1", server.port()));

  // A long pause refills the bucket to its burst, no further.
  clock.Advance(milliseconds(60'000));
  EXPECT_TRUE(Admitted(**relay, "127.0.0.1", server.port()));
  EXPECT_TRUE(Admitted(**relay, "127.0.0.1", server.port()));
  EXPECT_FALSE(Admitted(**relay, "127.0.0.1", server.port()));
}

TEST(SocketRelayRateLimit, RefusesBeforeResolvingAndEveryAttemptCounts) {
  ManualClock clock;
  SocketRelay relay({.per_host_rate = 1, .per_host_burst = 1}, clock);
  // Admitted, then refused by the private-address check: the attempt still took the token.
  auto first = relay.Connect("127.0.0.1", 9, milliseconds(2000));
  EXPECT_EQ(first.status().code(), StatusCode::kPermissionDenied) << first.status().ToString();
  auto second = relay.Connect("127.0.0.1", 9, milliseconds(2000));
  EXPECT_TRUE(RateLimited(second)) << second.status().ToString();
}

TEST(SocketRelayRateLimit, HostsHaveTheirOwnBuckets) {
  ManualClock clock;
  SocketRelay relay({.per_host_rate = 1, .per_host_burst = 1}, clock);
  EXPECT_TRUE(Admitted(relay, "127.0.0.1"));
  EXPECT_FALSE(Admitted(relay, "127.0.0.1"));
  EXPECT_TRUE(Admitted(relay, "127.0.0.2"));
  EXPECT_FALSE(Admitted(relay, "127.0.0.2"));
  // One name as DNS sees it: case and a trailing dot make no new bucket (and, refused before
  // resolving, these names are never looked up).
  EXPECT_TRUE(Admitted(relay, "localhost"));
  EXPECT_FALSE(Admitted(relay, "LocalHost."));
  EXPECT_FALSE(Admitted(relay, "LOCALHOST"));
  EXPECT_EQ(relay.rate_limited_hosts(), 3u);
}

TEST(SocketRelayRateLimit, BurstDefaultsToTheRateAndAtLeastOne) {
  ManualClock clock;
  SocketRelay three({.per_host_rate = 3}, clock);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Admitted(three, "127.0.0.1")) << i;
  EXPECT_FALSE(Admitted(three, "127.0.0.1"));

  SocketRelay slow({.per_host_rate = 0.5}, clock);
  EXPECT_TRUE(Admitted(slow, "127.0.0.1"));
  EXPECT_FALSE(Admitted(slow, "127.0.0.1"));
  clock.Advance(milliseconds(1999));
  EXPECT_FALSE(Admitted(slow, "127.0.0.1"));
  clock.Advance(milliseconds(1));
  EXPECT_TRUE(Admitted(slow, "127.0.0.1"));

  SocketRelay fractional({.per_host_rate = 1, .per_host_burst = 0.25}, clock);
  EXPECT_TRUE(Admitted(fractional, "127.0.0.1")) << "a burst under one token still admits one";
  EXPECT_FALSE(Admitted(fractional, "127.0.0.1"));
}

TEST(SocketRelayRateLimit, BucketsAreBounded) {
  ManualClock clock;
  SocketRelay relay({.per_host_rate = 1, .per_host_burst = 1, .max_rate_limited_hosts = 3}, clock);
  for (std::string host : {"127.0.0.1", "127.0.0.2", "127.0.0.3"}) {
    EXPECT_TRUE(Admitted(relay, host)) << host;
    clock.Advance(milliseconds(100));
  }
  EXPECT_EQ(relay.rate_limited_hosts(), 3u);

  // Every bucket is still limiting: the least recently used one (127.0.0.1) makes way.
  EXPECT_TRUE(Admitted(relay, "127.0.0.4"));
  EXPECT_EQ(relay.rate_limited_hosts(), 3u);
  EXPECT_FALSE(Admitted(relay, "127.0.0.2")) << "still remembered";
  EXPECT_FALSE(Admitted(relay, "127.0.0.3")) << "still remembered";
  EXPECT_FALSE(Admitted(relay, "127.0.0.4")) << "still remembered";
  EXPECT_TRUE(Admitted(relay, "127.0.0.1")) << "forgotten, so it starts afresh";
  EXPECT_EQ(relay.rate_limited_hosts(), 3u);

  // Once they have refilled, buckets are dropped wholesale to make room.
  clock.Advance(milliseconds(5000));
  EXPECT_TRUE(Admitted(relay, "127.0.0.5"));
  EXPECT_EQ(relay.rate_limited_hosts(), 1u);

  // A flood of distinct names never grows the table past its bound.
  for (int i = 0; i < 100; ++i) Admitted(relay, "127.0.1." + std::to_string(i));
  EXPECT_EQ(relay.rate_limited_hosts(), 3u);
}

TEST(SocketRelayRateLimit, CreateRejectsBadRates) {
  for (auto [rate, burst] : {std::pair{-1.0, 0.0}, std::pair{1.0, -1.0}, std::pair{std::nan(""), 0.0},
                             std::pair{std::numeric_limits<double>::infinity(), 0.0}}) {
    auto relay = SocketRelay::Create({.per_host_rate = rate, .per_host_burst = burst});
    ASSERT_FALSE(relay.ok()) << rate << "/" << burst;
    EXPECT_EQ(relay.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(relay.status().message()), HasSubstr("rate"));
  }
  // The constructor takes them as no limit at all.
  ManualClock clock;
  SocketRelay relay({.per_host_rate = -1}, clock);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(Admitted(relay, "127.0.0.1"));
}

}  // namespace
}  // namespace neosl::tee
