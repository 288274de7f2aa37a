// GasCharger (services/gasbank/charging.h), the services' side of the gas bank's holds, against a
// FakeGasBank on an in-process mesh under the default policy: without a client it holds nothing;
// with one it reserves, charges and releases as the account the work is for; what the bank
// answers reaches the service's caller as what it means to them; settling outlives the deadline
// of the call being served.
#include "services/gasbank/charging.h"

#include <chrono>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mesh/client.h"
#include "mesh/context.h"
#include "mesh/policy.h"
#include "mesh/registry.h"
#include "mesh/server.h"
#include "unit/services/functions/fake_gas_bank.h"

namespace neosl::gasbank {
namespace {

using testing::FakeGasBank;
using ::testing::HasSubstr;

constexpr char kAccount[] = "acc_aaaaaaaaaaaaaaaaaaaa";

class GasChargerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto policy = mesh::AuthzPolicy::FromYaml(mesh::DefaultAuthzPolicyYaml());
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
    policy_ = std::make_unique<mesh::AuthzPolicy>(std::move(*policy));
    mesh::PipelineOptions po;
    po.policy = policy_.get();
    pipeline_ = std::make_unique<mesh::Pipeline>(std::move(po), SystemClock::Instance(), SecureRandom::Instance());
    bank_ = std::make_unique<FakeGasBank>(*pipeline_);
    server_ = std::make_unique<mesh::MeshServer>(mesh::ServerOptions{}, *pipeline_, "test-1");
    server_->AddService(bank_.get());
    ASSERT_TRUE(server_->Start().ok());
    registry_ = mesh::NewMemoryRegistry();
    auto reg = registry_->Register(mesh::Endpoint{"gasbank", "test-1", "inproc", "t", true, {}});
    ASSERT_TRUE(reg.ok());
    registration_ = std::move(*reg);
  }
  void TearDown() override {
    clients_.clear();
    registration_.reset();
    if (server_) server_->Shutdown(std::chrono::milliseconds(1000));
  }

  // A client of the mesh as service `identity`.
  mesh::MeshClient* Client(const std::string& identity = "random") {
    mesh::ClientOptions co;
    co.identity = identity;
    co.breaker.failure_threshold = 1000;  // every refusal here is the bank's own answer
    clients_.push_back(std::make_unique<mesh::MeshClient>(co, *registry_, mesh::InProcessChannels(*server_, identity),
                                                          SystemClock::Instance(), SecureRandom::Instance()));
    return clients_.back().get();
  }

  std::unique_ptr<mesh::AuthzPolicy> policy_;
  std::unique_ptr<mesh::Pipeline> pipeline_;
  std::unique_ptr<FakeGasBank> bank_;
  std::unique_ptr<mesh::MeshServer> server_;
  std::unique_ptr<mesh::Registry> registry_;
  std::unique_ptr<mesh::Registration> registration_;
  std::vector<std::unique_ptr<mesh::MeshClient>> clients_;
};

TEST_F(GasChargerTest, WithoutAClientNothingIsHeldOrCharged) {
  GasCharger off;
  EXPECT_FALSE(off.enabled());
  EXPECT_FALSE(GasCharger(nullptr).enabled());
  auto hold = off.Reserve(kAccount, "random.generate", {{"word", 3}}, "rnd_x");
  ASSERT_TRUE(hold.ok()) << hold.status().ToString();
  EXPECT_FALSE(hold->charged());
  EXPECT_EQ(hold->account, kAccount);
  EXPECT_EQ(hold->operation, "random.generate");
  EXPECT_EQ(hold->amount, 0);
  EXPECT_TRUE(off.Charge(*hold, {{"word", 3}}).ok());
  EXPECT_TRUE(off.Release(*hold).ok());
  EXPECT_TRUE(bank_->calls().empty());
}

TEST_F(GasChargerTest, AHoldIsReservedChargedAndReleasedForItsAccount) {
  GasCharger charger(Client("random"));
  EXPECT_TRUE(charger.enabled());
  ReserveOptions options;
  options.ttl = std::chrono::minutes(30);
  auto hold = charger.Reserve(kAccount, "random.generate", {{"word", 3}}, "rnd_1", options);
  ASSERT_TRUE(hold.ok()) << hold.status().ToString();
  EXPECT_TRUE(hold->charged());
  EXPECT_EQ(hold->amount, bank_->Fee("random.generate", {{"word", 3}}));
  ASSERT_TRUE(charger.Charge(*hold, {{"word", 2}}, 7, 5).ok());

  auto other = charger.Reserve(kAccount, "random.generate", {{"word", 1}}, "rnd_2");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_NE(other->id, hold->id);
  ASSERT_TRUE(charger.Release(*other).ok());

  auto calls = bank_->calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[0].method, "ReserveGas");
  EXPECT_EQ(calls[0].caller, "random");
  EXPECT_EQ(calls[0].account, kAccount);
  EXPECT_EQ(calls[0].operation, "random.generate");
  EXPECT_EQ(calls[0].units, (std::map<std::string, int64_t>{{"word", 3}}));
  EXPECT_EQ(calls[0].reference, "rnd_1");
  EXPECT_EQ(calls[0].ttl_ms, 30 * 60 * 1000);
  EXPECT_EQ(calls[1].method, "ChargeGas");
  EXPECT_EQ(calls[1].account, kAccount);
  EXPECT_EQ(calls[1].hold_id, hold->id);
  EXPECT_EQ(calls[1].operation, "random.generate");
  EXPECT_EQ(calls[1].units, (std::map<std::string, int64_t>{{"word", 2}}));
  EXPECT_EQ(calls[1].chain_system_fee, 7);
  EXPECT_EQ(calls[1].chain_network_fee, 5);
  EXPECT_EQ(calls[3].method, "ReleaseGas");
  EXPECT_EQ(calls[3].hold_id, other->id);
  EXPECT_EQ(bank_->HoldState(hold->id), "settled");
  EXPECT_EQ(bank_->HoldState(other->id), "released");
}

TEST_F(GasChargerTest, TheSameWorkReservedAgainGetsTheSameHold) {
  GasCharger charger(Client("pricefeed"));
  auto first = charger.Reserve(kAccount, "pricefeed.update", {}, "fd_x:7");
  auto again = charger.Reserve(kAccount, "pricefeed.update", {}, "fd_x:7");
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->id, again->id);
}

TEST_F(GasChargerTest, AnEmptyHoldIsNeverSentToTheBank) {
  GasCharger charger(Client("oracle"));
  ChargeHold platform{"", kAccount, "oracle.request", 0};  // what the bank gives the platform's account
  EXPECT_TRUE(charger.Charge(platform, {{"source", 1}}).ok());
  EXPECT_TRUE(charger.Release(platform).ok());
  EXPECT_TRUE(bank_->calls().empty());
}

TEST_F(GasChargerTest, InsufficientFundsReachTheCallerAsTheBankSaidThem) {
  GasCharger charger(Client("functions"));
  bank_->SetPoor(kAccount);
  auto hold = charger.Reserve(kAccount, "functions.invoke", {{"ms", 1000}}, "ex_1");
  ASSERT_FALSE(hold.ok());
  EXPECT_EQ(hold.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(hold.status().message()), HasSubstr("insufficient funds"));
}

TEST_F(GasChargerTest, WhatTheBankRefusesIsMappedForTheCaller) {
  GasCharger charger(Client("functions"));
  struct Case {
    Status bank;
    StatusCode caller;
  };
  for (const Case& c : {Case{UnavailableError("restarting"), StatusCode::kUnavailable},
                        Case{ResourceExhaustedError("busy"), StatusCode::kResourceExhausted},
                        Case{NotFoundError("no such operation"), StatusCode::kInternal},
                        Case{InvalidArgumentError("units: no price per fortnight"), StatusCode::kInternal},
                        Case{AlreadyExistsError("the key was used for other work"), StatusCode::kInternal}}) {
    bank_->Fail("ReserveGas", c.bank);
    auto hold = charger.Reserve(kAccount, "functions.invoke", {{"ms", 1000}}, "ex_1");
    ASSERT_FALSE(hold.ok()) << c.bank.ToString();
    EXPECT_EQ(hold.status().code(), c.caller) << c.bank.ToString() << " → " << hold.status().ToString();
  }
  // A fee schedule's name the bank does not know is ours to fix, not the caller's.
  bank_->Fail("ReserveGas", Status());
  auto unpriced = charger.Reserve(kAccount, "functions.nothing", {}, "ex_2");
  EXPECT_EQ(unpriced.status().code(), StatusCode::kInternal) << unpriced.status().ToString();
  // So is a service the policy does not let charge.
  auto denied = GasCharger(Client("secrets")).Reserve(kAccount, "functions.invoke", {{"ms", 1}}, "ex_3");
  EXPECT_EQ(denied.status().code(), StatusCode::kInternal) << denied.status().ToString();
}

TEST_F(GasChargerTest, ABankThatIsNotThereIsUnavailable) {
  registration_.reset();
  GasCharger charger(Client("random"));
  auto hold = charger.Reserve(kAccount, "random.generate", {{"word", 1}}, "rnd_1");
  EXPECT_EQ(hold.status().code(), StatusCode::kUnavailable) << hold.status().ToString();
  EXPECT_TRUE(bank_->calls().empty());
}

TEST_F(GasChargerTest, SettlingOutlivesTheDeadlineOfTheCallBeingServed) {
  GasCharger charger(Client("functions"));
  auto hold = charger.Reserve(kAccount, "functions.invoke", {{"ms", 1000}}, "ex_1");
  auto other = charger.Reserve(kAccount, "functions.invoke", {{"ms", 1000}}, "ex_2");
  ASSERT_TRUE(hold.ok() && other.ok());
  // The invocation outran its caller: the call being served is past its deadline.
  mesh::CallContext served;
  served.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  served.account = kAccount;
  served.deadline = std::chrono::system_clock::now() - std::chrono::seconds(1);
  mesh::ScopedCall scope(&served);
  // A new hold is refused (the work would start too late) …
  auto late = charger.Reserve(kAccount, "functions.invoke", {{"ms", 1000}}, "ex_3");
  EXPECT_EQ(late.status().code(), StatusCode::kDeadlineExceeded) << late.status().ToString();
  // … but what was done is still charged, and what was not is still given back.
  Status charged = charger.Charge(*hold, {{"ms", 20}});
  EXPECT_TRUE(charged.ok()) << charged.ToString();
  Status released = charger.Release(*other);
  EXPECT_TRUE(released.ok()) << released.ToString();
  EXPECT_EQ(bank_->HoldState(hold->id), "settled");
  EXPECT_EQ(bank_->HoldState(other->id), "released");
  for (const auto& c : bank_->calls("ChargeGas")) EXPECT_TRUE(c.had_deadline) << "the client's own timeout";
}

}  // namespace
}  // namespace neosl::gasbank
