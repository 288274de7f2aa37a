// The one check of a webhook URL (net/webhook_url.h), shared by operation webhooks and
// automation's webhook actions: its form, by the fetcher's own parser, and its host, by the
// relay's rules (a real SocketRelay at the end).
#include "net/webhook_url.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/status_details.h"
#include "tee/socket_relay.h"

namespace neosl::net {
namespace {

using ::neosl::testing::FieldOf;

using ::testing::HasSubstr;

constexpr std::string_view kField = "webhook_url";

void ExpectRefused(std::string_view url, const WebhookUrlRules& rules, std::string_view says) {
  SCOPED_TRACE(std::string(url));
  const Status s = CheckWebhookUrl(url, kField, rules);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(FieldOf(s), kField) << s.ToString();
  EXPECT_THAT(std::string(s.message()), HasSubstr(std::string(says)));
}

TEST(WebhookUrlTest, TheFormIsTheFetchersAndHttpsOnlyUnlessAllowed) {
  const WebhookUrlRules rules;
  for (std::string_view ok : {"https://hooks.example.com:8443/a/b?c=d#e", "https://[2001:db8::1]:443/",
                              "HTTPS://Example.COM", "https://203.0.113.7/hook"}) {
    EXPECT_TRUE(CheckWebhookUrl(ok, kField, rules).ok()) << ok;
  }
  ExpectRefused("", rules, "https://");
  ExpectRefused("ftp://example.com/x", rules, "must be an https:// URL");
  ExpectRefused("not a url", rules, "without spaces");
  ExpectRefused("https://example.com/a b", rules, "without spaces");
  ExpectRefused("https://example.com/\x7f", rules, "control");
  ExpectRefused("https://example.com/" + std::string(2048, 'a'), rules, "2048");
  ExpectRefused("https://user:pw@example.com/", rules, "credentials");
  ExpectRefused("https:///path", rules, "no host");
  ExpectRefused("https://example.com:0/", rules, "port");
  ExpectRefused("https://example.com:65536/", rules, "port");
  ExpectRefused("https://example.com:/", rules, "port");
  ExpectRefused("https://[::1/", rules, "IPv6");
  ExpectRefused("https://[not-v6]/", rules, "IPv6");
  ExpectRefused("https://[::1]x/", rules, "authority");
  ExpectRefused("https://ex!ample.com/", rules, "invalid characters");
  // A number standing for an address is not taken: 2130706433 is 127.0.0.1.
  ExpectRefused("https://2130706433/", rules, "host");
  // http:// is refused naming the setting that would allow it, and taken where it is set.
  WebhookUrlRules dev{.allow_http = false, .http_setting = "operations.allow_http_webhooks"};
  ExpectRefused("http://localhost:8080/hook", dev, "operations.allow_http_webhooks");
  dev.allow_http = true;
  EXPECT_TRUE(CheckWebhookUrl("http://localhost:8080/hook", kField, dev).ok());
  ExpectRefused("ftp://example.com/x", dev, "http:// or https://");
}

TEST(WebhookUrlTest, TheHostIsAskedAboutOnlyOnceTheFormIsRight) {
  std::vector<std::string> asked;
  WebhookUrlRules rules;
  rules.check_destination = [&asked](const std::string& host) -> Status {
    asked.push_back(host);
    if (host == "gone.example") return UnavailableError("cannot resolve gone.example");
    if (host != "hooks.example.com") return PermissionDeniedError("destination " + host + " is private");
    return Status();
  };
  EXPECT_TRUE(CheckWebhookUrl("https://Hooks.Example.com/x", kField, rules).ok());
  ExpectRefused("https://10.0.0.1/x", rules, "private address");
  ExpectRefused("https://[FD00::1]:8443/x", rules, "webhooks go to public hosts only");
  ExpectRefused("https://gone.example/x", rules, "cannot be used: cannot resolve gone.example");
  ExpectRefused("https://user:pw@10.0.0.1/x", rules, "credentials");
  // Lower-case as the fetcher connects to it; an IPv6 literal bracketed as written.
  EXPECT_EQ(asked, (std::vector<std::string>{"hooks.example.com", "10.0.0.1", "[fd00::1]", "gone.example"}));
}

TEST(WebhookUrlTest, ARealRelayRefusesPrivateAddressesItHasNotBeenToldToAllow) {
  auto relay = tee::SocketRelay::Create({.allow_private = {"127.0.0.1/32"}});
  ASSERT_TRUE(relay.ok()) << relay.status().ToString();
  WebhookUrlRules rules;
  rules.check_destination = [r = relay->get()](const std::string& host) { return r->CheckDestination(host); };
  for (std::string_view url : {"https://10.0.0.1/hook", "https://169.254.169.254/latest/meta-data",
                               "https://[::1]/hook", "https://127.0.0.2/hook", "https://192.168.1.1:8443/"}) {
    ExpectRefused(url, rules, "private address");
  }
  EXPECT_TRUE(CheckWebhookUrl("https://127.0.0.1:9/hook", kField, rules).ok());  // allowed by the operator
  EXPECT_TRUE(CheckWebhookUrl("https://203.0.113.7/hook", kField, rules).ok());
}

}  // namespace
}  // namespace neosl::net
