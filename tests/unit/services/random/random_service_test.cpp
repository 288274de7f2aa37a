// The random service over an in-process mesh under the default policy, real SQLite with every
// migration, and a VRF key in the test standing in for the enclave's (the proofs are real
// ECVRF proofs; the enclave's own ECALL is tested through `neosl serve` in the e2e test).
#include "services/random/random_service.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/ecvrf.h"
#include "devchain/app_engine.h"
#include "mesh/policy.h"
#include "mesh/server.h"
#include "schema/migrations.h"
#include "services/random/random_core.h"
#include "store/sqlite_store.h"
#include "support/status_details.h"
#include "support/temp_dir.h"
#include <grpcpp/client_context.h>

namespace neosl::services {
namespace {

using ::neosl::testing::FieldOf;

namespace rpb = ::neosl::random::v1;
constexpr char kAccountA[] = "acc_aaaaaaaaaaaaaaaaaaaa";
constexpr char kAccountB[] = "acc_bbbbbbbbbbbbbbbbbbbb";

std::vector<uint8_t> Unhex(const std::string& hex) {
  auto b = HexDecode(hex);
  EXPECT_TRUE(b.has_value()) << hex;
  return b.value_or(std::vector<uint8_t>{});
}

class RandomServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::OpenSqliteStore({.path = dir_.File("neosl.db")});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Migrate(schema::Migrations()).ok());
    auto policy = mesh::AuthzPolicy::FromYaml(mesh::DefaultAuthzPolicyYaml());
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
    policy_ = std::make_unique<mesh::AuthzPolicy>(std::move(*policy));
    mesh::PipelineOptions po;
    po.policy = policy_.get();
    pipeline_ = std::make_unique<mesh::Pipeline>(std::move(po), SystemClock::Instance(), SecureRandom::Instance());
    VrfProver prover = [this](std::span<const uint8_t> alpha) -> StatusOr<VrfAnswer> {
      ++proofs_;
      VrfAnswer a;
      a.proof = crypto::ecvrf::Prove(key_, alpha);
      ASSIGN_OR_RETURN(a.output, crypto::ecvrf::ProofToHash(a.proof));
      return a;
    };
    service_ = std::make_unique<RandomService>(*pipeline_, *store_, std::move(prover), key_.public_key(),
                                               SystemClock::Instance(), SecureRandom::Instance());
    server_ = std::make_unique<mesh::MeshServer>(mesh::ServerOptions{}, *pipeline_, "test-1");
    server_->AddService(service_.get());
    ASSERT_TRUE(server_->Start().ok());
    stub_ = rpb::Random::NewStub(server_->InProcessChannel("gateway"));
  }
  void TearDown() override {
    stub_.reset();
    if (server_) server_->Shutdown(std::chrono::milliseconds(1000));
  }

  static Status Call(const std::function<grpc::Status(grpc::ClientContext*)>& fn,
                     const std::string& account = kAccountA) {
    grpc::ClientContext ctx;
    if (!account.empty()) ctx.AddMetadata("x-account-id", account);
    ctx.AddMetadata("x-actor-id", "key:test");
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return mesh::FromGrpcStatus(fn(&ctx));
  }
  StatusOr<rpb::RandomResult> Generate(int num_words, const std::string& seed = "",
                                       const std::string& account = kAccountA) {
    rpb::GenerateRandomRequest req;
    req.set_num_words(num_words);
    req.set_seed(seed);
    rpb::RandomResult out;
    RETURN_IF_ERROR(Call([&](grpc::ClientContext* c) { return stub_->GenerateRandom(c, req, &out); }, account));
    return out;
  }
  StatusOr<rpb::RandomResult> Get(const std::string& id, const std::string& account = kAccountA) {
    rpb::GetRandomRequest req;
    req.set_id(id);
    rpb::RandomResult out;
    RETURN_IF_ERROR(Call([&](grpc::ClientContext* c) { return stub_->GetRandom(c, req, &out); }, account));
    return out;
  }
  StatusOr<rpb::VerifyRandomResponse> Verify(const rpb::VerifyRandomRequest& req) {
    rpb::VerifyRandomResponse out;
    RETURN_IF_ERROR(Call([&](grpc::ClientContext* c) { return stub_->VerifyRandom(c, req, &out); }));
    return out;
  }

  testing::TempDir dir_;
  DeterministicRandom key_random_{42};
  crypto::PrivateKey key_ = crypto::PrivateKey::Generate(key_random_);
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<mesh::AuthzPolicy> policy_;
  std::unique_ptr<mesh::Pipeline> pipeline_;
  std::unique_ptr<RandomService> service_;
  std::unique_ptr<mesh::MeshServer> server_;
  std::unique_ptr<rpb::Random::Stub> stub_;
  std::atomic<int> proofs_{0};
};

TEST_F(RandomServiceTest, WordsComeFromAProofOverAnAlphaThatBindsAccountRequestAndSeed) {
  auto r = Generate(5, "C0FFEE");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->request_id().rfind("rnd_", 0), 0u);
  EXPECT_EQ(r->seed(), "c0ffee");
  ASSERT_EQ(r->randomness_size(), 5);
  EXPECT_EQ(r->public_key(), HexEncode(key_.public_key().Compressed()));

  const std::vector<uint8_t> alpha = random::Alpha(kAccountA, r->request_id(), Unhex("c0ffee"));
  EXPECT_EQ(r->alpha(), HexEncode(alpha));
  auto beta = crypto::ecvrf::Verify(key_.public_key().Compressed(), Unhex(r->proof()), alpha);
  ASSERT_TRUE(beta.ok()) << beta.status().ToString();
  EXPECT_EQ(r->output(), HexEncode(*beta));
  const auto words = random::Words(*beta, 5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r->randomness(i), HexEncode(words[size_t(i)])) << i;

  // Distinct words, and another request draws others.
  EXPECT_NE(r->randomness(0), r->randomness(1));
  auto again = Generate(5, "c0ffee");
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->request_id(), r->request_id());
  EXPECT_NE(again->randomness(0), r->randomness(0));
}

TEST_F(RandomServiceTest, ARequestIsAnsweredTheSameWayAgainAndOnlyToItsAccount) {
  auto r = Generate(3);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const int proofs = proofs_.load();
  auto got = Get(r->request_id());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->SerializeAsString(), r->SerializeAsString());
  EXPECT_EQ(proofs_.load(), proofs) << "a stored answer must not be proved again";
  EXPECT_EQ(Get(r->request_id(), kAccountB).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Get("rnd_nope").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(RandomServiceTest, BadInputNamesTheField) {
  for (int n : {0, -1, 501}) {
    auto r = Generate(n);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << n;
    EXPECT_EQ(FieldOf(r.status()), "num_words") << n;
  }
  for (const std::string& seed : std::vector<std::string>{"abc", "zz", std::string(130, 'a')}) {
    auto r = Generate(1, seed);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << seed;
    EXPECT_EQ(FieldOf(r.status()), "seed") << seed;
  }
  EXPECT_TRUE(Generate(500, std::string(128, 'f')).ok());
  EXPECT_EQ(Generate(1, "", "").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(proofs_.load(), 1) << "only the valid request was proved";
}

TEST_F(RandomServiceTest, VerifyAnswersValidOrWhyNotAndNeverFailsOnABadProof) {
  auto r = Generate(2, "01");
  ASSERT_TRUE(r.ok());
  rpb::VerifyRandomRequest req;
  req.set_public_key(r->public_key());
  req.set_alpha(r->alpha());
  req.set_proof(r->proof());
  req.set_num_words(2);
  auto ok = Verify(req);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(ok->valid());
  EXPECT_EQ(ok->output(), r->output());
  ASSERT_EQ(ok->randomness_size(), 2);
  EXPECT_EQ(ok->randomness(1), r->randomness(1));

  std::string tampered = r->proof();
  tampered[100] = tampered[100] == '0' ? '1' : '0';  // a digit of s
  req.set_proof(tampered);
  auto bad = Verify(req);
  ASSERT_TRUE(bad.ok()) << bad.status().ToString();
  EXPECT_FALSE(bad->valid());
  EXPECT_FALSE(bad->reason().empty());
  EXPECT_EQ(bad->randomness_size(), 0);

  req.set_proof(r->proof());
  req.set_alpha(r->alpha() + "00");  // another input
  auto other = Verify(req);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->valid());

  req.set_proof("xyz");
  auto malformed = Verify(req);
  EXPECT_EQ(malformed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(malformed.status()), "proof");
}

TEST_F(RandomServiceTest, TheChainResultIsAnArrayAContractDeserializes) {
  auto drawn = service_->Draw("neo:0x746adb4cfa2fa90e0f16f1d1049b201b4db209de", "7", Unhex("aa"), 3);
  ASSERT_TRUE(drawn.ok()) << drawn.status().ToString();
  auto result = random::ChainResult("7", drawn->words, drawn->vrf.output, drawn->vrf.proof, drawn->alpha);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const std::vector<uint8_t>& bytes = *result;
  auto item = devchain::DeserializeStackItem(bytes);
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  // As a contract sees it: [7, [w0, w1, w2], output, proof, alpha].
  const boost::json::value j = devchain::StackItemToJson(*item);
  ASSERT_EQ(j.at("type"), "Array");
  const auto& fields = j.at("value").as_array();
  ASSERT_EQ(fields.size(), 5u);
  EXPECT_EQ(fields[0].at("type"), "Integer");
  EXPECT_EQ(fields[0].at("value"), "7");
  ASSERT_EQ(fields[1].at("value").as_array().size(), 3u);
  EXPECT_EQ(fields[1].at("value").as_array()[2].at("value").as_string(), Base64Encode(drawn->words[2]));
  EXPECT_EQ(fields[2].at("value").as_string(), Base64Encode(drawn->vrf.output));
  EXPECT_EQ(fields[3].at("value").as_string(), Base64Encode(drawn->vrf.proof));
  EXPECT_EQ(fields[4].at("value").as_string(), Base64Encode(drawn->alpha));
  // And the devchain's BinarySerializer writes the same bytes back.
  auto again = devchain::SerializeStackItem(*item);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, bytes);
  EXPECT_FALSE(random::ChainResult("x7", drawn->words, drawn->vrf.output, drawn->vrf.proof, drawn->alpha).ok());
}

}  // namespace
}  // namespace neosl::services
