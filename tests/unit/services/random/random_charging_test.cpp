// Random requests paid for through the gas bank (issue #12): the fee of the words is held before
// the enclave proves, charged once the answer is stored, released when it is not. The service
// calls a FakeGasBank on the same in-process mesh over its own client, as "random"; a VRF key in
// the test stands in for the enclave's.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crypto/ecvrf.h"
#include "mesh/client.h"
#include "mesh/policy.h"
#include "mesh/registry.h"
#include "mesh/server.h"
#include "schema/migrations.h"
#include "services/random/random_service.h"
#include "store/sqlite_store.h"
#include "support/temp_dir.h"
#include "unit/services/charging_harness.h"
#include <grpcpp/client_context.h>

namespace neosl::services {
namespace {

namespace rpb = ::neosl::random::v1;
using testing::FakeGasBank;
using testing::GasBankCall;
using ::testing::HasSubstr;
using testing::Methods;

constexpr char kAccount[] = "acc_aaaaaaaaaaaaaaaaaaaa";

class RandomChargingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    harness_.Open(std::string(RandomService::kIdentity));
    ASSERT_FALSE(HasFatalFailure());
    bank_ = &harness_.bank();
    VrfProver prover = [this](std::span<const uint8_t> alpha) -> StatusOr<VrfAnswer> {
      ++proofs_;
      if (enclave_down_) return UnavailableError("the enclave is restarting");
      VrfAnswer a;
      a.proof = crypto::ecvrf::Prove(key_, alpha);
      ASSIGN_OR_RETURN(a.output, crypto::ecvrf::ProofToHash(a.proof));
      return a;
    };
    service_ = std::make_unique<RandomService>(harness_.pipeline(), harness_.store(), std::move(prover),
                                               key_.public_key(), SystemClock::Instance(), SecureRandom::Instance(),
                                               gasbank::GasCharger(&harness_.client()));
    harness_.Start(service_.get());
    ASSERT_FALSE(HasFatalFailure());
    stub_ = rpb::Random::NewStub(harness_.server().InProcessChannel("gateway"));
  }
  void TearDown() override {
    stub_.reset();
    harness_.Stop();
    service_.reset();
  }

  StatusOr<rpb::RandomResult> Generate(int num_words) {
    rpb::GenerateRandomRequest req;
    req.set_num_words(num_words);
    rpb::RandomResult out;
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-account-id", kAccount);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    RETURN_IF_ERROR(mesh::FromGrpcStatus(stub_->GenerateRandom(&ctx, req, &out)));
    return out;
  }

  int64_t StoredRequests() {
    auto rows = harness_.store().Query("SELECT COUNT(*) FROM random_requests", {});
    EXPECT_TRUE(rows.ok() && rows->size() == 1);
    return rows.ok() && rows->size() == 1 ? (*rows)[0].Int(0).value() : -1;
  }

  DeterministicRandom key_random_{7};
  crypto::PrivateKey key_ = crypto::PrivateKey::Generate(key_random_);
  testing::ChargingHarness harness_;
  FakeGasBank* bank_ = nullptr;
  std::unique_ptr<RandomService> service_;
  std::unique_ptr<rpb::Random::Stub> stub_;
  std::atomic<int> proofs_{0};
  std::atomic<bool> enclave_down_{false};
};

TEST_F(RandomChargingTest, AnAccountThatCannotPayGetsNoProof) {
  bank_->SetPoor(kAccount);
  auto refused = Generate(4);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition) << refused.status().ToString();
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("insufficient funds"));
  EXPECT_EQ(proofs_.load(), 0) << "the enclave proved for an account that cannot pay";
  EXPECT_EQ(StoredRequests(), 0);
  auto calls = bank_->calls();
  ASSERT_EQ(Methods(calls), std::vector<std::string>{"ReserveGas"});
  EXPECT_EQ(calls[0].caller, "random");
  EXPECT_EQ(calls[0].account, kAccount);
}

TEST_F(RandomChargingTest, AStoredAnswerChargesTheWordsItHeld) {
  auto r = Generate(4);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto calls = bank_->calls();
  ASSERT_EQ(Methods(calls), (std::vector<std::string>{"ReserveGas", "ChargeGas"}));
  EXPECT_EQ(calls[0].caller, "random");
  EXPECT_EQ(calls[0].account, kAccount);
  EXPECT_EQ(calls[0].operation, "random.generate");
  EXPECT_EQ(calls[0].units, (std::map<std::string, int64_t>{{"word", 4}}));
  EXPECT_EQ(calls[0].reference, r->request_id());
  EXPECT_EQ(calls[0].amount, bank_->Fee("random.generate", {{"word", 4}}));
  EXPECT_EQ(calls[1].hold_id, calls[0].hold_id);
  EXPECT_EQ(calls[1].account, kAccount);
  EXPECT_EQ(calls[1].units, (std::map<std::string, int64_t>{{"word", 4}}));
  EXPECT_EQ(bank_->HoldState(calls[0].hold_id), "settled");
  EXPECT_EQ(StoredRequests(), 1);
}

TEST_F(RandomChargingTest, AProofThatFailsReleasesTheHold) {
  enclave_down_ = true;
  auto failed = Generate(2);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable) << failed.status().ToString();
  EXPECT_EQ(StoredRequests(), 0);
  auto calls = bank_->calls();
  ASSERT_EQ(Methods(calls), (std::vector<std::string>{"ReserveGas", "ReleaseGas"}));
  EXPECT_EQ(calls[1].hold_id, calls[0].hold_id);
  EXPECT_EQ(bank_->HoldState(calls[0].hold_id), "released");
}

TEST_F(RandomChargingTest, AChainRequestsDrawIsNotCharged) {
  // A chain request names a contract, not an account of ours: nothing to charge.
  auto drawn = service_->Draw("neo:0x746adb4cfa2fa90e0f16f1d1049b201b4db209de", "7", {}, 3);
  ASSERT_TRUE(drawn.ok()) << drawn.status().ToString();
  EXPECT_TRUE(bank_->calls().empty());
}

}  // namespace
}  // namespace neosl::services
