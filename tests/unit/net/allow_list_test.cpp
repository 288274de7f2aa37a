// The operator's allow-list of private networks (net.allow_private): CIDR parsing and matching,
// and a real SocketRelay honouring it on the address it connects to.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/config.h"
#include "tee/socket_relay.h"
#include "unit/net/test_server.h"
#include <arpa/inet.h>
#include <netinet/in.h>

namespace neosl::tee {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

bool ContainsV4(const Cidr& network, const char* text) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  EXPECT_EQ(inet_pton(AF_INET, text, &a.sin_addr), 1) << text;
  return network.Contains(reinterpret_cast<const sockaddr*>(&a));
}

bool ContainsV6(const Cidr& network, const char* text) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  EXPECT_EQ(inet_pton(AF_INET6, text, &a.sin6_addr), 1) << text;
  return network.Contains(reinterpret_cast<const sockaddr*>(&a));
}

Cidr MustParse(std::string_view text) {
  auto network = Cidr::Parse(text);
  EXPECT_TRUE(network.ok()) << text << ": " << network.status().ToString();
  return network.ok() ? *network : Cidr();
}

TEST(CidrTest, ParsesIpv4Networks) {
  Cidr net24 = MustParse("10.1.2.0/24");
  EXPECT_EQ(net24.ToString(), "10.1.2.0/24");
  EXPECT_TRUE(ContainsV4(net24, "10.1.2.0"));
  EXPECT_TRUE(ContainsV4(net24, "10.1.2.255"));
  EXPECT_FALSE(ContainsV4(net24, "10.1.3.1"));
  EXPECT_FALSE(ContainsV4(net24, "11.1.2.1"));
  EXPECT_TRUE(ContainsV6(net24, "::ffff:10.1.2.3")) << "a v4-mapped address is its IPv4 address";
  EXPECT_FALSE(ContainsV6(net24, "::a01:203")) << "but an IPv6 address in general is not";

  Cidr host = MustParse("127.0.0.1/32");
  EXPECT_TRUE(ContainsV4(host, "127.0.0.1"));
  EXPECT_FALSE(ContainsV4(host, "127.0.0.2"));
  EXPECT_EQ(MustParse("127.0.0.1").ToString(), "127.0.0.1/32") << "a bare address is one host";

  Cidr odd = MustParse("172.16.0.0/12");
  EXPECT_TRUE(ContainsV4(odd, "172.31.255.255"));
  EXPECT_FALSE(ContainsV4(odd, "172.32.0.0"));
  Cidr all = MustParse("0.0.0.0/0");
  EXPECT_TRUE(ContainsV4(all, "192.168.1.1"));
  EXPECT_FALSE(ContainsV6(all, "::1"));
}

TEST(CidrTest, ParsesIpv6Networks) {
  Cidr loopback = MustParse("::1/128");
  EXPECT_EQ(loopback.ToString(), "::1/128");
  EXPECT_TRUE(ContainsV6(loopback, "::1"));
  EXPECT_FALSE(ContainsV6(loopback, "::2"));
  EXPECT_FALSE(ContainsV4(loopback, "127.0.0.1"));

  Cidr ula = MustParse("fd12:3456:789a::/48");
  EXPECT_TRUE(ContainsV6(ula, "fd12:3456:789a:1::5"));
  EXPECT_FALSE(ContainsV6(ula, "fd12:3456:789b::1"));
  Cidr odd = MustParse("fe80::/10");
  EXPECT_TRUE(ContainsV6(odd, "febf::1"));
  EXPECT_FALSE(ContainsV6(odd, "fec0::1"));
  EXPECT_EQ(MustParse("FD00::").ToString(), "fd00::/128");
}

TEST(CidrTest, RejectsBadInput) {
  for (std::string_view text :
       {"", "/24", "10.1.2.0/", "10.1.2.0/33", "::1/129", "10.1.2.3/24", "fd00::1/8", "10.1.2/24", "300.1.2.3/8",
        "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8/8", "10.0.0.0/0x8", "10.0.0.0/0008", " 10.0.0.0/8", "example.com/32",
        "fe80::1%eth0/128", "[::1]/128"}) {
    auto network = Cidr::Parse(text);
    ASSERT_FALSE(network.ok()) << "'" << text << "'";
    EXPECT_EQ(network.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(network.status().message()), HasSubstr("invalid CIDR '" + std::string(text) + "'"));
  }
}

TEST(CidrTest, ParsesCommaSeparatedAllowLists) {
  auto list = ParseAllowList(" 10.0.0.0/8, ::1/128 ,127.0.0.1/32,");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_THAT(*list, ElementsAre("10.0.0.0/8", "::1/128", "127.0.0.1/32"));
  auto empty = ParseAllowList("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  auto bad = ParseAllowList("10.0.0.0/8, bogus");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("'bogus'"));
}

TEST(CidrTest, ConfigKeyCarriesTheList) {
  auto defaults = Config::Load(std::nullopt, {});
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->String("net.allow_private"), "");
  auto from_env = Config::Load(std::nullopt, {{"NEOSL_NET_ALLOW_PRIVATE", "10.1.2.0/24,::1/128"}});
  ASSERT_TRUE(from_env.ok()) << from_env.status().ToString();
  auto list = ParseAllowList(from_env->String("net.allow_private"));
  ASSERT_TRUE(list.ok());
  EXPECT_THAT(*list, ElementsAre("10.1.2.0/24", "::1/128"));
}

// ---- The relay ------------------------------------------------------------------------------

TEST(SocketRelayAllowList, CreateRejectsMalformedEntries) {
  auto relay = SocketRelay::Create({.allow_private = {"127.0.0.1/32", "127.0.0.1/33"}});
  ASSERT_FALSE(relay.ok());
  EXPECT_EQ(relay.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(relay.status().message()), HasSubstr("127.0.0.1/33"));
}

TEST(SocketRelayAllowList, ConnectsOnlyToAllowedPrivateAddresses) {
  net::testing::TestServer server([](const net::testing::ReceivedRequest&) { return net::testing::Reply{}; });
  auto relay = SocketRelay::Create({.allow_private = {"127.0.0.1/32", "::1/128"}});
  ASSERT_TRUE(relay.ok()) << relay.status().ToString();
  auto conn = (*relay)->Connect("127.0.0.1", server.port(), milliseconds(2000));
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  (*relay)->Close(*conn);
  for (std::string host : {"127.0.0.2", "10.0.0.1", "169.254.169.254", "::ffff:127.0.0.2", "fd00::1"}) {
    auto refused = (*relay)->Connect(host, server.port(), milliseconds(2000));
    ASSERT_FALSE(refused.ok()) << host;
    EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied) << host << ": " << refused.status().ToString();
  }
  // A v4-mapped spelling of an allowed address is that address.
  auto mapped = (*relay)->Connect("::ffff:127.0.0.1", server.port(), milliseconds(2000));
  EXPECT_NE(mapped.status().code(), StatusCode::kPermissionDenied) << mapped.status().ToString();
  if (mapped.ok()) (*relay)->Close(*mapped);
}

TEST(SocketRelayAllowList, MalformedEntriesAllowNothingThroughTheConstructor) {
  net::testing::TestServer server([](const net::testing::ReceivedRequest&) { return net::testing::Reply{}; });
  SocketRelay relay({.allow_private = {"127.0.0.1/33", "bogus"}});
  auto conn = relay.Connect("127.0.0.1", server.port(), milliseconds(2000));
  EXPECT_EQ(conn.status().code(), StatusCode::kPermissionDenied) << conn.status().ToString();
}

TEST(SocketRelayAllowList, AllowPrivateNetworksStillAllowsEverything) {
  net::testing::TestServer server([](const net::testing::ReceivedRequest&) { return net::testing::Reply{}; },
                                  "127.0.0.2");
  SocketRelay relay({.allow_private_networks = true, .allow_private = {"10.0.0.0/8"}});
  auto conn = relay.Connect("127.0.0.2", server.port(), milliseconds(2000));
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  relay.Close(*conn);
}

}  // namespace
}  // namespace neosl::tee
