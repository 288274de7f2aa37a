// Invocations paid for through the gas bank (issue #12): the fee of the longest a function may
// run is held before anything of the invocation happens, charged by the milliseconds it ran when
// it succeeded, released when it did not. The bank is a FakeGasBank on the same in-process mesh,
// called by the service over its own client as "functions".
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/ids.h"
#include "unit/services/functions/service_fixture.h"

namespace neosl::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

class FunctionsChargingTest : public FunctionsServiceTest {
 protected:
  void SetUp() override { charging_ = true; }

  // InvokeFunction as another service calls it for an account (the oracle's post-processing).
  StatusOr<fpb::Execution> InvokeAs(const std::string& caller, const std::string& id, const std::string& account) {
    auto stub = fpb::Functions::NewStub(server_->InProcessChannel(caller));
    fpb::InvokeFunctionRequest req;
    req.set_id(id);
    req.set_args_json("1");
    fpb::Execution resp;
    RETURN_IF_ERROR(Call([&](grpc::ClientContext* c) { return stub->InvokeFunction(c, req, &resp); }, account));
    return resp;
  }

  static std::vector<std::string> Methods(const std::vector<GasBankCall>& calls) {
    std::vector<std::string> out;
    for (const auto& c : calls) out.push_back(c.method);
    return out;
  }
};

TEST_F(FunctionsChargingTest, AnAccountThatCannotPayIsRefusedBeforeAnythingRuns) {
  Start();
  ASSERT_TRUE(PutSecret("api_key", "k-1").ok());
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function f, Create("paid", {"api_key"}));
  bank_->SetPoor(kAccountA);

  Status refused = Invoke(f.id(), "1").status();
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition) << refused.ToString();
  EXPECT_THAT(std::string(refused.message()), HasSubstr("insufficient funds"));

  // Nothing of the invocation happened: no run, no execution, no secret handed out.
  EXPECT_TRUE(runner_->invocations().empty());
  FN_ASSERT_OK_AND_ASSIGN(fpb::ListExecutionsResponse list, Executions(f.id()));
  EXPECT_EQ(list.executions_size(), 0);
  EXPECT_THAT(Audit(), Not(Contains(HasSubstr("read api_key"))));
  auto calls = bank_->calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].method, "ReserveGas");
  EXPECT_EQ(calls[0].answer, StatusCode::kFailedPrecondition);
  EXPECT_EQ(calls[0].caller, "functions");
  EXPECT_EQ(calls[0].account, kAccountA);

  // Once it can pay, the same function runs.
  bank_->SetPoor(kAccountA, false);
  FN_ASSERT_OK_AND_ASSIGN(fpb::Execution e, Invoke(f.id(), "1"));
  EXPECT_EQ(e.status(), "succeeded");
}

TEST_F(FunctionsChargingTest, ASuccessHoldsTheLongestRunThenChargesTheRealOne) {
  Start();
  fpb::CreateFunctionRequest create;
  create.set_name("timed");
  create.set_source(kSource);
  create.mutable_limits()->set_timeout_ms(2500);
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function f, Create(create));
  FN_ASSERT_OK_AND_ASSIGN(fpb::Execution e, Invoke(f.id(), "1"));
  ASSERT_EQ(e.status(), "succeeded");

  auto calls = bank_->calls();
  ASSERT_EQ(Methods(calls), (std::vector<std::string>{"ReserveGas", "ChargeGas"}));
  const GasBankCall& reserve = calls[0];
  EXPECT_EQ(reserve.caller, "functions");
  EXPECT_EQ(reserve.account, kAccountA);
  EXPECT_EQ(reserve.operation, "functions.invoke");
  EXPECT_EQ(reserve.units, (std::map<std::string, int64_t>{{"ms", 2500}}));  // the function's time limit
  EXPECT_EQ(reserve.reference, e.id());                                      // the execution
  EXPECT_EQ(reserve.amount, bank_->Fee("functions.invoke", {{"ms", 2500}}));
  const GasBankCall& charge = calls[1];
  EXPECT_EQ(charge.hold_id, reserve.hold_id);
  EXPECT_EQ(charge.account, kAccountA);
  EXPECT_EQ(charge.operation, "functions.invoke");
  EXPECT_EQ(charge.units, (std::map<std::string, int64_t>{{"ms", 2}}));  // 1.5 ms ran, rounded up
  EXPECT_EQ(charge.amount, bank_->Fee("functions.invoke", {{"ms", 2}}));
  EXPECT_EQ(bank_->HoldState(reserve.hold_id), "settled");
}

TEST_F(FunctionsChargingTest, AFailedOrTimedOutRunReleasesItsHold) {
  Start();
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function f, Create("failing"));
  runner_->Script({.status = DeadlineExceededError("the function ran past its 10000 ms limit")});
  runner_->Script({.status = UnknownError("TypeError: x is undefined")});
  FN_ASSERT_OK_AND_ASSIGN(fpb::Execution timeout, Invoke(f.id(), "1"));
  EXPECT_EQ(timeout.status(), "failed");
  FN_ASSERT_OK_AND_ASSIGN(fpb::Execution thrown, Invoke(f.id(), "2"));
  EXPECT_EQ(thrown.status(), "failed");

  auto calls = bank_->calls();
  ASSERT_EQ(Methods(calls), (std::vector<std::string>{"ReserveGas", "ReleaseGas", "ReserveGas", "ReleaseGas"}));
  EXPECT_EQ(calls[0].reference, timeout.id());
  EXPECT_EQ(calls[1].hold_id, calls[0].hold_id);
  EXPECT_EQ(calls[2].reference, thrown.id());
  EXPECT_EQ(calls[3].hold_id, calls[2].hold_id);
  EXPECT_EQ(bank_->HoldState(calls[0].hold_id), "released");
  EXPECT_EQ(bank_->HoldState(calls[2].hold_id), "released");
}

TEST_F(FunctionsChargingTest, AnInvocationTheRuntimeOrTheSecretsRefuseReleasesItsHold) {
  Start();
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function busy, Create("busy"));
  runner_->Script({.refuse = ResourceExhaustedError("the runtime's queue is full")});
  EXPECT_EQ(Invoke(busy.id(), "1").status().code(), StatusCode::kResourceExhausted);
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function needs, Create("needs", {"absent"}));
  EXPECT_EQ(Invoke(needs.id(), "1").status().code(), StatusCode::kFailedPrecondition);

  auto calls = bank_->calls();
  ASSERT_EQ(Methods(calls), (std::vector<std::string>{"ReserveGas", "ReleaseGas", "ReserveGas", "ReleaseGas"}));
  EXPECT_EQ(calls[1].hold_id, calls[0].hold_id);
  EXPECT_EQ(calls[3].hold_id, calls[2].hold_id);
  EXPECT_TRUE(runner_->invocations().size() == 1u);  // the busy one reached the runtime; the other did not
}

TEST_F(FunctionsChargingTest, AServiceInvokingForAnAccountChargesThatAccount) {
  Start();
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function f, Create("post"));
  bank_->SetPoor(kAccountA);
  Status refused = InvokeAs("oracle", f.id(), kAccountA).status();
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition) << refused.ToString();
  EXPECT_TRUE(runner_->invocations().empty());

  bank_->SetPoor(kAccountA, false);
  FN_ASSERT_OK_AND_ASSIGN(fpb::Execution e, InvokeAs("oracle", f.id(), kAccountA));
  auto calls = bank_->calls();
  ASSERT_EQ(Methods(calls), (std::vector<std::string>{"ReserveGas", "ReserveGas", "ChargeGas"}));
  EXPECT_EQ(calls[1].account, kAccountA);
  EXPECT_EQ(calls[1].reference, e.id());
  EXPECT_EQ(calls[2].account, kAccountA);
  EXPECT_EQ(calls[2].hold_id, calls[1].hold_id);
}

TEST_F(FunctionsChargingTest, ABankThatCannotBeReachedRefusesTheInvocation) {
  Start();
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function f, Create("unreachable"));
  bank_->Fail("ReserveGas", UnavailableError("the gas bank is restarting"));
  Status s = Invoke(f.id(), "1").status();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_TRUE(runner_->invocations().empty());
}

}  // namespace
}  // namespace neosl::testing
