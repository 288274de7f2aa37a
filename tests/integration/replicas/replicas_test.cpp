// Two `neosl serve` replicas on one shared store (a SQLite file, or a PostgreSQL database in the
// "pg." copies), following one chain (a `neosl devchain`
// process): one runs the singletons under the lease, the other serves and waits. The leader is
// killed (SIGKILL) while contracts' requests are in flight; the follower takes the lease over
// within 5 s and every request is answered exactly once: one HALTed answer transaction per
// request from the platform's account on chain, one answered row per request in the store.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <signal.h>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/p256.h"
#include "integration/chain_fixture.h"
#include "neo/account.h"
#include "store/sqlite_store.h"
#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/test_store.h"
#include "support/test_store_open.h"

namespace neosl::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class ReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    chain_ = ServerProcess::Start({.command = {"devchain", "--port", "0", "--block-ms", "0"}}, &error);
    ASSERT_NE(chain_, nullptr) << error;
    neo::HttpRpcClientOptions o;
    o.url = "http://" + chain_->address();
    auto rpc = neo::HttpRpcClient::Create(o, SystemClock::Instance(), SecureRandom::Instance());
    ASSERT_TRUE(rpc.ok()) << rpc.status().ToString();
    rpc_ = std::move(*rpc);
    signer_ = std::make_unique<neo::KeyTransactionSigner>(devchain::DevWalletAt(0).key);
    sender_ = std::make_unique<neo::TransactionSender>(*rpc_, *signer_, SecureRandom::Instance(),
                                                       [](std::chrono::milliseconds d) {
                                                         // WaitForInclusion's poll interval, not a race cover.
                                                         std::this_thread::sleep_for(std::min(d, 20ms));
                                                       });
  }

  // A replica on the shared store; `data_dir` set to reuse prepared state; `role` one service
  // (with the mesh's CA and registry, as the processes of one service each in Kubernetes).
  std::unique_ptr<ServerProcess> StartReplica(const std::string& data_dir = "", const std::string& role = "all") {
    ServerOptions options;
    options.data_dir = data_dir;
    if (role != "all") {
      options.args = {"--role", role};
      if (!ca_ready_) {
        CommandResult ca = RunNeosl({"ca", "init", "--dir", shared_.File("ca")});
        EXPECT_EQ(ca.exit_code, 0) << ca.err;
        ca_ready_ = true;
      }
      options.env = {{"NEOSL_MESH_TLS_CA_DIR", shared_.File("ca")},
                     {"NEOSL_MESH_REGISTRY_DIR", shared_.File("registry")},
                     {"NEOSL_MESH_REGISTRY_LEASE_MS", "2000"}};
    }
    options.env.insert(options.env.end(), {{"NEOSL_CHAIN_MODE", "rpc"},
                                           {"NEOSL_CHAIN_RPC_URL", "http://" + chain_->address()},
                                           {"NEOSL_CHAIN_REQUESTS_POLL_MS", "100"},
                                           {"NEOSL_PRICEFEED_ENABLED", role == "pricefeed" ? "true" : "false"}});
    for (auto& kv : SharedStoreEnv(shared_.File("neosl.db"))) options.env.push_back(std::move(kv));
    std::string error;
    auto replica = ServerProcess::Start(std::move(options), &error);
    EXPECT_NE(replica, nullptr) << error;
    return replica;
  }

  // What replicas share besides the store (in Kubernetes: Secrets and the sealed volume): the
  // platform secret, the sealed state, the enclave signer, the key-hash secret, the admin key.
  // Not the replica id, the lock or the address files.
  void CopySharedState(const std::string& from, const std::string& to) {
    for (const auto& entry : fs::directory_iterator(from)) {
      const std::string name = entry.path().filename().string();
      if (name == "instance.id" || name == "serve.lock" || name == "listen.addr" || name == "devchain") continue;
      fs::copy(entry.path(), fs::path(to) / name, fs::copy_options::recursive);
    }
  }

  static std::string InstanceId(const ServerProcess& replica) {
    std::string id;
    std::ifstream(replica.data_dir() + "/instance.id") >> id;
    return id;
  }

  // The lease's holder and epoch as the shared store has them.
  std::pair<std::string, int64_t> Holder(const std::string& lease = "singletons") {
    auto store = ::neosl::testing::OpenTestStore({.path = shared_.File("neosl.db"), .read_connections = 1});
    if (!store.ok()) return {"", 0};
    auto rows = (*store)->Query("SELECT holder, epoch FROM leases WHERE name = ?", {lease});
    if (!rows.ok() || rows->empty()) return {"", 0};
    return {*(*rows)[0].Text(0), *(*rows)[0].Int(1)};
  }

  int64_t AnsweredRows() {
    auto store = ::neosl::testing::OpenTestStore({.path = shared_.File("neosl.db"), .read_connections = 1});
    if (!store.ok()) return -1;
    auto rows = (*store)->Query("SELECT COUNT(*) FROM chain_requests WHERE status = 'answered'");
    return rows.ok() ? *(*rows)[0].Int(0) : -1;
  }

  // The enclave's Neo account, from the attested public keys.
  neo::UInt160 PlatformAccount(const ServerProcess& replica) {
    HttpClient client(replica.address());
    auto r = client.Get("/v1/attestation?nonce=00112233445566778899");
    EXPECT_EQ(r.status, 200) << r.body;
    auto v = boost::json::parse(r.body);
    auto key = crypto::PublicKey::FromHex(std::string(v.at("public_keys").at("neo").as_string()));
    EXPECT_TRUE(key.ok());
    return neo::ScriptHash(neo::SingleSigScript(*key));
  }

  // SampleConsumer.request("random", "{}") from dev wallet 0; the request id.
  std::string Request() { return SampleConsumerRequest(*sender_, "random", "{}"); }

  bool Answered(const std::string& id, std::chrono::seconds within) {
    return SampleConsumerResponse(*rpc_, id, within).has_value();
  }

  // Transactions sent by `account` in blocks [from, tip], with whether each HALTed.
  std::vector<bool> TransactionsFrom(const neo::UInt160& account, uint32_t from) {
    std::vector<bool> halted;
    auto count = rpc_->GetBlockCount();
    EXPECT_TRUE(count.ok());
    if (!count.ok()) return halted;
    for (uint32_t i = from; i < *count; ++i) {
      auto block = rpc_->GetBlock(neo::BlockRef(i));
      EXPECT_TRUE(block.ok()) << block.status().ToString();
      if (!block.ok()) continue;
      for (const auto& hash : block->tx_hashes) {
        auto tx = rpc_->GetRawTransaction(hash);
        EXPECT_TRUE(tx.ok());
        if (!tx.ok() || tx->sender != account) continue;
        auto log = rpc_->GetApplicationLog(hash);
        halted.push_back(log.ok() && !log->executions.empty() && log->executions[0].vm_state == neo::VmState::kHalt);
      }
    }
    return halted;
  }

  TempDir shared_;
  bool ca_ready_ = false;
  std::unique_ptr<ServerProcess> chain_;
  std::unique_ptr<neo::HttpRpcClient> rpc_;
  std::unique_ptr<neo::KeyTransactionSigner> signer_;
  std::unique_ptr<neo::TransactionSender> sender_;
};

TEST_F(ReplicasTest, AKilledLeaderIsReplacedWithin5SecondsAndEveryRequestIsAnsweredOnce) {
  auto a = StartReplica();
  ASSERT_NE(a, nullptr);
  const neo::UInt160 platform = PlatformAccount(*a);
  ASSERT_FALSE(GasTransfer(*sender_, signer_->account(), platform, 100'00000000).empty());
  auto first_block = rpc_->GetBlockCount();
  ASSERT_TRUE(first_block.ok());

  TempDir b_dir;
  CopySharedState(a->data_dir(), b_dir.path());
  auto b = StartReplica(b_dir.path());
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(PlatformAccount(*b), platform) << "replicas must share the enclave's keys";
  EXPECT_EQ(Holder(), std::make_pair(InstanceId(*a), int64_t{1}));
  EXPECT_NE(b->Logs().find("following"), std::string::npos);

  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(Request());
  for (const auto& id : ids) ASSERT_TRUE(Answered(id, 30s)) << "request " << id;

  // Two more requests, and the leader dies before it can be sure to have answered them.
  ids.push_back(Request());
  ids.push_back(Request());
  const auto killed_at = std::chrono::steady_clock::now();
  EXPECT_EQ(a->Stop(SIGKILL), 128 + SIGKILL);

  const std::string b_id = InstanceId(*b);
  while (Holder().first != b_id && std::chrono::steady_clock::now() < killed_at + 20s) {
    std::this_thread::sleep_for(20ms);  // polls the store for the takeover, bounded
  }
  const auto takeover = std::chrono::steady_clock::now() - killed_at;
  ASSERT_EQ(Holder(), std::make_pair(b_id, int64_t{2}));
  EXPECT_LT(takeover, 5s) << "took " << std::chrono::duration_cast<std::chrono::milliseconds>(takeover).count()
                          << " ms";
  std::printf("takeover after SIGKILL: %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(takeover).count()));

  for (int i = 0; i < 3; ++i) ids.push_back(Request());
  for (const auto& id : ids) EXPECT_TRUE(Answered(id, 30s)) << "request " << id;

  // Exactly once: one HALTed answer per request from the platform's account, one row each.
  std::vector<bool> answers = TransactionsFrom(platform, *first_block);
  EXPECT_EQ(answers.size(), ids.size());
  for (bool halted : answers) EXPECT_TRUE(halted);
  // The store learns of an answer when the relay next looks at the chain: wait for it, bounded.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (AnsweredRows() != int64_t(ids.size()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(AnsweredRows(), int64_t(ids.size()));
  EXPECT_EQ(b->Stop(), 0);
}

TEST_F(ReplicasTest, ACleanStopHandsTheLeaseOverAtOnce) {
  auto a = StartReplica();
  ASSERT_NE(a, nullptr);
  TempDir b_dir;
  CopySharedState(a->data_dir(), b_dir.path());
  auto b = StartReplica(b_dir.path());
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(Holder().first, InstanceId(*a));
  const auto stopped_at = std::chrono::steady_clock::now();
  EXPECT_EQ(a->Stop(), 0);
  const std::string b_id = InstanceId(*b);
  while (Holder().first != b_id && std::chrono::steady_clock::now() < stopped_at + 20s) {
    std::this_thread::sleep_for(20ms);  // polls the store, bounded
  }
  EXPECT_EQ(Holder(), std::make_pair(b_id, int64_t{2}));
  // Released, not expired: within the follower's retry interval, far under the lease's ttl.
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, 2500ms);
  // The lease row changes before the new leader has started its singletons: wait for that, bounded.
  while (b->Logs().find("running the singletons") == std::string::npos &&
         std::chrono::steady_clock::now() < stopped_at + 20s) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_NE(b->Logs().find("running the singletons"), std::string::npos);
  EXPECT_EQ(b->Stop(), 0);
}

// One process per service, as in Kubernetes: each service's replicas elect their own leader
// (the lease "singletons.<role>"). The random role's leader relays contracts' random requests
// alone, under a cursor of its own; when it is killed, the other random replica takes over and
// every request is still answered exactly once.
TEST_F(ReplicasTest, EachServiceRoleElectsItsOwnLeader) {
  // The shared state (enclave keys, schema) from a first replica of role all, then stopped.
  TempDir seed_dir;
  neo::UInt160 platform;
  {
    auto seed = StartReplica(seed_dir.File("data"));
    ASSERT_NE(seed, nullptr);
    platform = PlatformAccount(*seed);
    ASSERT_FALSE(GasTransfer(*sender_, signer_->account(), platform, 100'00000000).empty());
    ASSERT_EQ(seed->Stop(), 0);
  }
  auto start = [&](const std::string& role, TempDir& dir) {
    fs::create_directories(dir.File("data"));
    CopySharedState(seed_dir.File("data"), dir.File("data"));
    return StartReplica(dir.File("data"), role);
  };
  TempDir r1_dir, r2_dir, p1_dir, p2_dir;
  auto random1 = start("random", r1_dir);
  ASSERT_NE(random1, nullptr);
  auto random2 = start("random", r2_dir);
  ASSERT_NE(random2, nullptr);
  auto pricefeed1 = start("pricefeed", p1_dir);
  ASSERT_NE(pricefeed1, nullptr);
  auto pricefeed2 = start("pricefeed", p2_dir);
  ASSERT_NE(pricefeed2, nullptr);
  auto first_block = rpc_->GetBlockCount();
  ASSERT_TRUE(first_block.ok());

  EXPECT_EQ(Holder("singletons.random").first, InstanceId(*random1));
  EXPECT_EQ(Holder("singletons.pricefeed").first, InstanceId(*pricefeed1));
  EXPECT_NE(random2->Logs().find("following"), std::string::npos);
  EXPECT_NE(pricefeed2->Logs().find("following"), std::string::npos);
  EXPECT_NE(random1->Logs().find("chain_requests.random"), std::string::npos) << random1->Logs();

  std::vector<std::string> ids = {Request(), Request()};
  for (const auto& id : ids) ASSERT_TRUE(Answered(id, 30s)) << "request " << id;

  const auto killed_at = std::chrono::steady_clock::now();
  EXPECT_EQ(random1->Stop(SIGKILL), 128 + SIGKILL);
  const std::string r2_id = InstanceId(*random2);
  while (Holder("singletons.random").first != r2_id && std::chrono::steady_clock::now() < killed_at + 20s) {
    std::this_thread::sleep_for(20ms);  // polls the store for the takeover, bounded
  }
  EXPECT_LT(std::chrono::steady_clock::now() - killed_at, 5s);
  ASSERT_EQ(Holder("singletons.random").first, r2_id);
  EXPECT_EQ(Holder("singletons.pricefeed").first, InstanceId(*pricefeed1)) << "another service's lease moved";

  ids.push_back(Request());
  for (const auto& id : ids) EXPECT_TRUE(Answered(id, 30s)) << "request " << id;
  std::vector<bool> answers = TransactionsFrom(platform, *first_block);
  EXPECT_EQ(answers.size(), ids.size());
  for (bool halted : answers) EXPECT_TRUE(halted);
  EXPECT_EQ(random2->Stop(), 0);
  EXPECT_EQ(pricefeed1->Stop(), 0);
  EXPECT_EQ(pricefeed2->Stop(), 0);
}

TEST_F(ReplicasTest, ASecondServeOnTheSameDataDirIsRefused) {
  auto a = StartReplica();
  ASSERT_NE(a, nullptr);
  CommandResult again = RunNeosl({"serve", "--listen", "127.0.0.1:0", "--data", a->data_dir()});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("another neosl serve is using the data directory"), std::string::npos) << again.err;
  // The first one is unharmed.
  HttpClient client(a->address());
  EXPECT_EQ(client.Get("/v1/health").status, 200);
}

}  // namespace
}  // namespace neosl::testing
