// Webhook actions (actions.h) against a real HTTP server on 127.0.0.1, through a real host-side
// fetcher over a real tee::SocketRelay: one that allows 127.0.0.1/32 as an operator's
// net.allow_private would, and one that does not (the SSRF refusal). Each attempt is paid for
// through the fake gas bank: reserved before the POST, charged on any answer, released when none.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <strings.h>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "net/fetcher.h"
#include "services/automation/actions.h"
#include "tee/socket_relay.h"
#include "unit/net/test_server.h"
#include "unit/services/automation/actions_fixture.h"

namespace neosl::automation {
namespace {

using neosl::testing::Methods;
using net::testing::ReceivedRequest;
using net::testing::Reply;
using net::testing::Respond;
using net::testing::TestServer;
using ::testing::HasSubstr;
using testing::kAccount;
using testing::MakeRun;
using testing::MakeTrigger;
using ::testing::Not;

// Secrets a webhook's URL and headers may carry, which no error may repeat.
constexpr char kSecretPath[] = "/hooks/s3cret-path";
constexpr char kSecretQuery[] = "?token=q5ecret";
constexpr char kSecretHeader[] = "Bearer h3ader-secret";

class WebhookActionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.Open();
    ASSERT_FALSE(HasFatalFailure());
    auto allowing = tee::SocketRelay::Create({.allow_private = {"127.0.0.1/32"}});
    ASSERT_TRUE(allowing.ok()) << allowing.status().ToString();
    allowing_relay_ = std::move(*allowing);
    auto refusing = tee::SocketRelay::Create({});
    ASSERT_TRUE(refusing.ok()) << refusing.status().ToString();
    refusing_relay_ = std::move(*refusing);
    auto fetcher = net::Fetcher::Create({}, *allowing_relay_);
    ASSERT_TRUE(fetcher.ok()) << fetcher.status().ToString();
    fetcher_ = std::move(*fetcher);
    auto guarded = net::Fetcher::Create({}, *refusing_relay_);
    ASSERT_TRUE(guarded.ok()) << guarded.status().ToString();
    guarded_fetcher_ = std::move(*guarded);
  }
  void TearDown() override { h_.Stop(); }

  // A server answering every request with `reply`.
  static std::unique_ptr<TestServer> Server(const Reply& reply) {
    return std::make_unique<TestServer>([reply](const ReceivedRequest&) { return reply; });
  }

  static TriggerRecord Hook(const TestServer& server) {
    return MakeTrigger(WebhookAction{server.Url(std::string(kSecretPath) + kSecretQuery),
                                     {{"Authorization", kSecretHeader},
                                      {"X-Custom", "yes"},
                                      {"content-type", "text/plain"},
                                      {"User-Agent", "spoofed"}}});
  }

  // Each call is a run of its own (its own hold), unless the test says which.
  ActionOutcome Run(const TriggerRecord& trigger, uint32_t attempt = 1, const net::Fetcher* fetcher = nullptr,
                    std::optional<int64_t> scheduled_ms = std::nullopt) {
    ActionRunner runner(h_.Deps(nullptr, fetcher != nullptr ? fetcher : fetcher_.get()), options_);
    const int64_t at = scheduled_ms.value_or(testing::kScheduledMs + 60'000 * runs_++);
    return runner.Run(trigger, MakeRun(trigger, at), attempt);
  }

  static void ExpectNoSecrets(const ActionOutcome& out) {
    EXPECT_THAT(out.error, Not(HasSubstr("s3cret-path")));
    EXPECT_THAT(out.error, Not(HasSubstr("q5ecret")));
    EXPECT_THAT(out.error, Not(HasSubstr("h3ader-secret")));
  }

  testing::ActionsHarness h_;
  ActionOptions options_;
  std::unique_ptr<tee::SocketRelay> allowing_relay_, refusing_relay_;
  std::unique_ptr<net::Fetcher> fetcher_, guarded_fetcher_;
  int64_t runs_ = 0;
};

TEST_F(WebhookActionTest, PostsTheFiringWithItsHeadersAndChargesTheAttempt) {
  auto server = Server(Respond(204, "No Content", ""));
  TriggerRecord trigger = Hook(*server);
  ActionOutcome out = Run(trigger, 2, nullptr, testing::kScheduledMs);
  EXPECT_EQ(out.kind, ActionOutcome::Kind::kSucceeded) << out.error;
  EXPECT_EQ(out.http_status, 204);
  EXPECT_EQ(out.error, "");

  auto received = server->requests();
  ASSERT_EQ(received.size(), 1u);
  const ReceivedRequest& r = received[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, std::string(kSecretPath) + kSecretQuery);
  EXPECT_EQ(r.body, FiringJson(trigger, MakeRun(trigger), 2));
  EXPECT_EQ(r.Header("Content-Type"), "application/json") << "the trigger's own is not sent";
  EXPECT_EQ(r.Header("Idempotency-Key"), MakeRun(trigger).id) << "the run's, the same for every attempt";
  EXPECT_EQ(r.Header("User-Agent"), "neosl-automation");
  EXPECT_EQ(r.Header("Authorization"), kSecretHeader);
  EXPECT_EQ(r.Header("X-Custom"), "yes");
  int content_types = 0;
  for (const auto& [name, value] : r.headers) content_types += strcasecmp(name.c_str(), "content-type") == 0;
  EXPECT_EQ(content_types, 1);

  auto calls = h_.bank().calls();
  ASSERT_EQ(Methods(calls), (std::vector<std::string>{"ReserveGas", "ChargeGas"}));
  EXPECT_EQ(calls[0].caller, "automation");
  EXPECT_EQ(calls[0].account, kAccount);
  EXPECT_EQ(calls[0].operation, "automation.webhook");
  EXPECT_EQ(calls[0].reference, MakeRun(trigger).id + "#2") << "each attempt has a hold of its own";
  EXPECT_EQ(calls[0].amount, 10'000);
  EXPECT_EQ(calls[1].amount, 10'000);
  EXPECT_EQ(h_.bank().HoldState(calls[0].hold_id), "settled");
}

TEST_F(WebhookActionTest, StatusesOtherThan2xxFailAndOnlySome4xxAreFinal) {
  struct Case {
    int status;
    bool retryable;
  };
  for (const Case& c :
       {Case{500, true}, Case{503, true}, Case{404, false}, Case{400, false}, Case{408, true}, Case{429, true}}) {
    auto server = Server(Respond(c.status, "Nope", "body with s3cret-path inside"));
    ActionOutcome out = Run(Hook(*server));
    EXPECT_EQ(out.kind, ActionOutcome::Kind::kFailed) << c.status;
    EXPECT_EQ(out.retryable, c.retryable) << c.status;
    EXPECT_EQ(out.http_status, c.status);
    EXPECT_THAT(out.error, HasSubstr("HTTP " + std::to_string(c.status)));
    EXPECT_THAT(out.error, HasSubstr("127.0.0.1")) << "the host is named";
    ExpectNoSecrets(out);
  }
  // Answered, so each attempt was charged.
  auto charges = h_.bank().calls("ChargeGas");
  EXPECT_EQ(charges.size(), 6u);
  for (const auto& c : charges) EXPECT_EQ(c.answer, StatusCode::kOk);
}

TEST_F(WebhookActionTest, RedirectsAreNotFollowed) {
  auto target = Server(Respond(200, "OK", ""));
  auto server = Server(net::testing::Redirect(302, target->Url("/elsewhere")));
  ActionOutcome out = Run(Hook(*server));
  EXPECT_EQ(out.kind, ActionOutcome::Kind::kFailed);
  EXPECT_EQ(out.http_status, 302);
  EXPECT_FALSE(out.retryable);  // it would be redirected again
  EXPECT_THAT(out.error, HasSubstr("redirect"));
  ExpectNoSecrets(out);
  EXPECT_EQ(server->requests().size(), 1u);
  EXPECT_TRUE(target->requests().empty());
}

TEST_F(WebhookActionTest, APrivateDestinationIsRefusedAsFunctionsFetchIs) {
  auto server = Server(Respond(200, "OK", ""));
  ActionOutcome out = Run(Hook(*server), 1, guarded_fetcher_.get());
  EXPECT_EQ(out.kind, ActionOutcome::Kind::kFailed);
  EXPECT_FALSE(out.retryable) << "refused the same way next time";
  EXPECT_EQ(out.http_status, 0);
  EXPECT_THAT(out.error, HasSubstr("PERMISSION_DENIED"));
  EXPECT_THAT(out.error, HasSubstr("127.0.0.1"));
  ExpectNoSecrets(out);
  EXPECT_TRUE(server->requests().empty()) << "nothing reached the private address";
  auto calls = h_.bank().calls();
  ASSERT_EQ(Methods(calls), (std::vector<std::string>{"ReserveGas", "ReleaseGas"}));
  EXPECT_EQ(h_.bank().HoldState(calls[0].hold_id), "released");
}

TEST_F(WebhookActionTest, NoAnswerIsRetryableAndCostsNothing) {
  options_.webhook_timeout = std::chrono::milliseconds(300);
  Reply stall;
  stall.stall = true;
  auto silent = Server(stall);
  ActionOutcome timed_out = Run(Hook(*silent));
  EXPECT_EQ(timed_out.kind, ActionOutcome::Kind::kFailed);
  EXPECT_TRUE(timed_out.retryable);
  EXPECT_THAT(timed_out.error, HasSubstr("DEADLINE_EXCEEDED"));
  ExpectNoSecrets(timed_out);

  // A port nobody listens on any more.
  auto gone = Server(Respond(200, "OK", ""));
  TriggerRecord closed = Hook(*gone);
  gone.reset();
  ActionOutcome refused = Run(closed);
  EXPECT_EQ(refused.kind, ActionOutcome::Kind::kFailed);
  EXPECT_TRUE(refused.retryable);
  EXPECT_THAT(refused.error, HasSubstr("UNAVAILABLE"));
  ExpectNoSecrets(refused);

  auto calls = h_.bank().calls();
  ASSERT_EQ(Methods(calls), (std::vector<std::string>{"ReserveGas", "ReleaseGas", "ReserveGas", "ReleaseGas"}));
  EXPECT_TRUE(h_.bank().calls("ChargeGas").empty());
}

TEST_F(WebhookActionTest, AnAccountThatCannotPaySendsNothingAndMayTryAgain) {
  h_.bank().SetPoor(kAccount);
  auto server = Server(Respond(200, "OK", ""));
  ActionOutcome out = Run(Hook(*server));
  EXPECT_EQ(out.kind, ActionOutcome::Kind::kFailed);
  EXPECT_TRUE(out.retryable) << "the account may be topped up before the next attempt";
  EXPECT_THAT(out.error, HasSubstr("insufficient funds"));
  EXPECT_TRUE(server->requests().empty());
}

TEST_F(WebhookActionTest, AnUnusableUrlFailsBeforeAnythingIsReserved) {
  ActionOutcome out = Run(MakeTrigger(WebhookAction{"ftp://example.com/s3cret-path", {}}));
  EXPECT_EQ(out.kind, ActionOutcome::Kind::kFailed);
  EXPECT_FALSE(out.retryable);
  EXPECT_THAT(out.error, HasSubstr("INVALID_ARGUMENT"));
  ExpectNoSecrets(out);
  EXPECT_TRUE(h_.bank().calls().empty());
}

}  // namespace
}  // namespace neosl::automation
