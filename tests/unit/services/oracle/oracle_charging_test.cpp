// Oracle requests paid for through the gas bank (issue #12): the fee of the request's sources is
// held before anything is fetched or stored (asynchronous requests too, before "pending" is
// answered), charged when the request succeeds, released when it fails. The service runs over an
// in-process mesh with SQLite and calls a FakeGasBank there over its own client, as "oracle"; the
// enclave is stood in for by a function that counts its runs and answers what the test says.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mesh/client.h"
#include "mesh/policy.h"
#include "mesh/registry.h"
#include "mesh/server.h"
#include "schema/migrations.h"
#include "services/oracle/oracle_service.h"
#include "services/oracle/response_code.h"
#include "store/sqlite_store.h"
#include "support/temp_dir.h"
#include "unit/services/charging_harness.h"
#include <grpcpp/client_context.h>

namespace neosl::services {
namespace {

namespace opb = ::neosl::oracle::v1;
using testing::FakeGasBank;
using testing::GasBankCall;
using ::testing::HasSubstr;
using testing::Methods;

constexpr char kAccount[] = "acc_aaaaaaaaaaaaaaaaaaaa";

class OracleChargingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    harness_.Open(std::string(OracleService::kIdentity));
    ASSERT_FALSE(HasFatalFailure());
    bank_ = &harness_.bank();
    OracleEnclave enclave;
    enclave.run = [this](const tee::v1::OracleRunRequest& run) -> StatusOr<tee::v1::OracleRunResponse> {
      ++runs_;
      tee::v1::OracleRunResponse out;
      out.set_code(code_.load());
      out.set_result(code_.load() == 0 ? "42" : "");
      for (int i = 0; i < run.sources_size(); ++i) {
        auto* s = out.add_sources();
        s->set_code(code_.load());
        s->set_agreed(code_.load() == 0);
      }
      return out;
    };
    enclave.finalize = [](const tee::v1::OracleFinalizeRequest&) -> StatusOr<tee::v1::OracleRunResponse> {
      return UnimplementedError("no post-processing here");
    };
    OracleOptions options;
    options.threads = 2;
    service_ = std::make_unique<OracleService>(
        harness_.pipeline(), harness_.store(), std::move(enclave), harness_.client(), SystemClock::Instance(),
        SecureRandom::Instance(), report_key_.public_key(), options, gasbank::GasCharger(&harness_.client()));
    harness_.Start(service_.get());
    ASSERT_FALSE(HasFatalFailure());
    stub_ = opb::Oracle::NewStub(harness_.server().InProcessChannel("gateway"));
  }
  void TearDown() override {
    stub_.reset();
    harness_.Stop();
    service_.reset();
  }

  // A request of `n` sources (https, no secrets), synchronous unless `async`.
  static opb::CreateOracleRequestRequest Request(int n, bool async = false) {
    opb::CreateOracleRequestRequest req;
    for (int i = 0; i < n; ++i) req.add_sources()->set_url("https://venue" + std::to_string(i) + ".example/price");
    req.set_async(async);
    return req;
  }

  StatusOr<opb::OracleRequest> Create(const opb::CreateOracleRequestRequest& req) {
    opb::OracleRequest out;
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-account-id", kAccount);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    RETURN_IF_ERROR(mesh::FromGrpcStatus(stub_->CreateOracleRequest(&ctx, req, &out)));
    return out;
  }

  int64_t Stored(const std::string& where = "1 = 1") {
    auto rows = harness_.store().Query("SELECT COUNT(*) FROM oracle_requests WHERE " + where, {});
    EXPECT_TRUE(rows.ok() && rows->size() == 1);
    return rows.ok() && rows->size() == 1 ? (*rows)[0].Int(0).value() : -1;
  }

  crypto::PrivateKey report_key_ = crypto::PrivateKey::Generate(SecureRandom::Instance());
  testing::ChargingHarness harness_;
  FakeGasBank* bank_ = nullptr;
  std::unique_ptr<OracleService> service_;
  std::unique_ptr<opb::Oracle::Stub> stub_;
  std::atomic<int> runs_{0};
  std::atomic<uint32_t> code_{0};  // what the enclave answers: 0 Success
};

TEST_F(OracleChargingTest, AnAccountThatCannotPayIsRefusedBeforeAnythingIsFetched) {
  bank_->SetPoor(kAccount);
  for (bool async : {false, true}) {
    auto refused = Create(Request(3, async));
    ASSERT_FALSE(refused.ok()) << async;
    EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition) << refused.status().ToString();
    EXPECT_THAT(std::string(refused.status().message()), HasSubstr("insufficient funds"));
  }
  EXPECT_EQ(runs_.load(), 0) << "fetched for an account that cannot pay";
  EXPECT_EQ(Stored(), 0);
  auto calls = bank_->calls();
  ASSERT_EQ(Methods(calls), (std::vector<std::string>{"ReserveGas", "ReserveGas"}));
  EXPECT_EQ(calls[0].caller, "oracle");
  EXPECT_EQ(calls[0].account, kAccount);
  EXPECT_EQ(calls[0].operation, "oracle.request");
  EXPECT_EQ(calls[0].units, (std::map<std::string, int64_t>{{"source", 3}}));
}

TEST_F(OracleChargingTest, ASucceededRequestChargesItsSources) {
  auto r = Create(Request(3));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status(), "succeeded");
  auto calls = bank_->calls();
  ASSERT_EQ(Methods(calls), (std::vector<std::string>{"ReserveGas", "ChargeGas"}));
  EXPECT_EQ(calls[0].reference, r->request_id());
  EXPECT_EQ(calls[0].units, (std::map<std::string, int64_t>{{"source", 3}}));
  EXPECT_EQ(calls[0].amount, bank_->Fee("oracle.request", {{"source", 3}}));
  EXPECT_EQ(calls[1].hold_id, calls[0].hold_id);
  EXPECT_EQ(calls[1].account, kAccount);
  EXPECT_EQ(calls[1].operation, "oracle.request");
  EXPECT_EQ(calls[1].units, (std::map<std::string, int64_t>{{"source", 3}}));
  EXPECT_EQ(bank_->HoldState(calls[0].hold_id), "settled");
}

TEST_F(OracleChargingTest, AFailedRequestReleasesItsHold) {
  code_ = uint32_t(oracle::ResponseCode::kNotFound);
  auto r = Create(Request(1));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status(), "failed");
  EXPECT_EQ(runs_.load(), 1);
  auto calls = bank_->calls();
  ASSERT_EQ(Methods(calls), (std::vector<std::string>{"ReserveGas", "ReleaseGas"}));
  EXPECT_EQ(calls[1].hold_id, calls[0].hold_id);
  EXPECT_EQ(bank_->HoldState(calls[0].hold_id), "released");
}

TEST_F(OracleChargingTest, AnAsyncRequestIsHeldBeforeItIsPendingAndSettledWhenItFinishes) {
  auto pending = Create(Request(2, /*async=*/true));
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  EXPECT_EQ(pending->status(), "pending");
  // The hold was taken before the answer.
  auto first = bank_->calls();
  ASSERT_GE(first.size(), 1u);
  EXPECT_EQ(first[0].method, "ReserveGas");
  EXPECT_EQ(first[0].reference, pending->request_id());
  EXPECT_EQ(first[0].units, (std::map<std::string, int64_t>{{"source", 2}}));

  ASSERT_TRUE(bank_->WaitForCalls(2)) << "the finished request was never settled";
  auto calls = bank_->calls();
  ASSERT_EQ(Methods(calls), (std::vector<std::string>{"ReserveGas", "ChargeGas"}));
  EXPECT_EQ(calls[1].hold_id, calls[0].hold_id);
  EXPECT_EQ(Stored("status = 'succeeded'"), 1);
}

TEST_F(OracleChargingTest, ARequestRefusedBeforeItRunsReleasesItsHold) {
  // Its header names a secret, and the secrets service is not there to resolve it.
  auto req = Request(1);
  auto* h = req.mutable_sources(0)->add_headers();
  h->set_name("Authorization");
  h->set_value("Bearer {{secrets.VENUE_KEY}}");
  auto refused = Create(req);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(runs_.load(), 0);
  EXPECT_EQ(Stored(), 0);
  auto calls = bank_->calls();
  ASSERT_EQ(Methods(calls), (std::vector<std::string>{"ReserveGas", "ReleaseGas"}));
  EXPECT_EQ(calls[1].hold_id, calls[0].hold_id);
}

}  // namespace
}  // namespace neosl::services
