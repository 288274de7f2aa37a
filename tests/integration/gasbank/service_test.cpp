// The gas bank service (services/gasbank/gasbank_service.h) as `neosl serve` runs it, minus the
// chain: an in-process mesh under the default authorization policy, real SQLite with every
// migration, and deposit keys derived in the test with real P-256 keys (the enclave's derivation
// is tested with the enclave). Accounts call as the gateway does; holds are taken as the services
// take them, through their own mesh identities. The REST routes run through the gateway's
// pipeline with API keys, the CSV export included.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "gateway/accounts.h"
#include "gateway/auth.h"
#include "gateway/gateway.h"
#include "gateway/grpc_routes.h"
#include "mesh/client.h"
#include "mesh/policy.h"
#include "mesh/registry.h"
#include "mesh/server.h"
#include "neo/account.h"
#include "neo/rpc_client.h"
#include "neo/tx_sender.h"
#include "schema/migrations.h"
#include "services/gasbank/gasbank_service.h"
#include "services/gasbank/usage.h"
#include "store/sqlite_store.h"
#include "support/status_details.h"
#include "support/temp_dir.h"
#include "support/test_store_open.h"
#include <grpcpp/client_context.h>

namespace neosl::services {
namespace {

using ::neosl::testing::DetailField;
using ::neosl::testing::FieldOf;

namespace json = boost::json;
using ::testing::HasSubstr;

constexpr char kAccountA[] = "acc_aaaaaaaaaaaaaaaaaaaa";
constexpr char kAccountB[] = "acc_bbbbbbbbbbbbbbbbbbbb";
constexpr char kPlatform[] = "acc_pppppppppppppppppppp";
// 2026-01-15T10:00:00Z: the service's clock starts here, so that usage falls on known days.
constexpr int64_t kStartMs = 1'768'471'200'000;

// Integers in datoshi; markup 10 %, rounded up.
constexpr char kSchedule[] = R"yaml(
operations:
  functions.invoke: {base: 1000, per_ms: 10}
  random.generate: {base: 500, per_word: 100}
  oracle.request: {base: 2000}
  pricefeed.update: {base: 0}
chain:
  markup_bps: 1000
)yaml";

class GasBankServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = ::neosl::testing::OpenTestStore({.path = dir_.File("neosl.db")});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Migrate(schema::Migrations()).ok());
    auto policy = mesh::AuthzPolicy::FromYaml(std::string(mesh::DefaultAuthzPolicyYaml()));
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
    policy_ = std::make_unique<mesh::AuthzPolicy>(std::move(*policy));
    mesh::PipelineOptions po;
    po.policy = policy_.get();
    pipeline_ = std::make_unique<mesh::Pipeline>(std::move(po), SystemClock::Instance(), SecureRandom::Instance());

    auto fees = gasbank::FeeSchedule::FromYaml(kSchedule);
    ASSERT_TRUE(fees.ok()) << fees.status().ToString();
    GasBankOptions options;
    options.fees = std::move(*fees);
    options.platform_account = kPlatform;
    options.confirmations = 3;
    options.hold_ttl = std::chrono::milliseconds(60'000);
    options.expire_interval = std::chrono::milliseconds(20);
    // A real P-256 key per account, derived deterministically (the enclave derives its own).
    gasbank::DepositKeyDeriver derive = [this](const std::string& account) -> StatusOr<crypto::PublicKey> {
      ++derivations_;
      const std::string seed = "gasbank service test deposit key:" + account;
      auto digest = crypto::Sha256(crypto::AsBytes(seed));
      ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::FromBytes(digest));
      return key.public_key();
    };
    service_ = std::make_unique<GasBankService>(*pipeline_, *store_, std::move(derive), clock_,
                                                SecureRandom::Instance(), std::move(options));
    server_ = std::make_unique<mesh::MeshServer>(mesh::ServerOptions{}, *pipeline_, "test-1");
    server_->AddService(service_.get());
    ASSERT_TRUE(server_->Start().ok());
    StartService();
    if (HasFatalFailure()) return;
    gateway_stub_ = gasbankpb::GasBank::NewStub(server_->InProcessChannel("gateway"));
    for (const char* caller : {"functions", "random", "oracle"}) {
      services_[caller] = gasbankpb::GasBank::NewStub(server_->InProcessChannel(caller));
    }
  }

  // Without a chain: withdrawals answer UNAVAILABLE.
  virtual void StartService() { ASSERT_TRUE(service_->Start(nullptr, neo::UInt160()).ok()); }

  void TearDown() override {
    if (service_) service_->Stop();
    if (server_) server_->Shutdown(std::chrono::milliseconds(1000));
  }

  static Status Call(const std::function<grpc::Status(grpc::ClientContext*)>& fn, const std::string& account) {
    grpc::ClientContext ctx;
    if (!account.empty()) ctx.AddMetadata("x-account-id", account);
    ctx.AddMetadata("x-actor-id", "key:test");
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return mesh::FromGrpcStatus(fn(&ctx));
  }

  StatusOr<gasbankpb::Account> Account(const std::string& account = kAccountA) {
    gasbankpb::GetAccountRequest req;
    gasbankpb::Account out;
    RETURN_IF_ERROR(Call([&](grpc::ClientContext* c) { return gateway_stub_->GetAccount(c, req, &out); }, account));
    return out;
  }
  StatusOr<gasbankpb::LedgerPage> Ledger(int32_t page_size, const std::string& token,
                                         const std::string& account = kAccountA) {
    gasbankpb::GetLedgerRequest req;
    req.set_page_size(page_size);
    req.set_page_token(token);
    gasbankpb::LedgerPage out;
    RETURN_IF_ERROR(Call([&](grpc::ClientContext* c) { return gateway_stub_->GetLedger(c, req, &out); }, account));
    return out;
  }
  StatusOr<gasbankpb::Usage> Usage(const std::string& from, const std::string& to, const std::string& group,
                                   const std::string& format = "", const std::string& account = kAccountA) {
    gasbankpb::GetUsageRequest req;
    req.set_from(from);
    req.set_to(to);
    req.set_group(group);
    req.set_format(format);
    gasbankpb::Usage out;
    RETURN_IF_ERROR(Call([&](grpc::ClientContext* c) { return gateway_stub_->GetUsage(c, req, &out); }, account));
    return out;
  }
  StatusOr<gasbankpb::GasHold> Reserve(const std::string& operation, const std::map<std::string, int64_t>& units,
                                       const std::string& reference, const std::string& account = kAccountA,
                                       const std::string& caller = "functions", int64_t ttl_ms = 0) {
    gasbankpb::ReserveGasRequest req;
    req.set_operation(operation);
    for (const auto& [unit, n] : units) (*req.mutable_units())[unit] = n;
    req.set_reference(reference);
    req.set_ttl_ms(ttl_ms);
    gasbankpb::GasHold out;
    auto& stub = *services_.at(caller);
    RETURN_IF_ERROR(Call([&](grpc::ClientContext* c) { return stub.ReserveGas(c, req, &out); }, account));
    return out;
  }
  StatusOr<gasbankpb::GasHold> Charge(const std::string& hold_id, const std::string& operation,
                                      const std::map<std::string, int64_t>& units, int64_t system_fee = 0,
                                      int64_t network_fee = 0, const std::string& account = kAccountA,
                                      const std::string& caller = "functions") {
    gasbankpb::ChargeGasRequest req;
    req.set_hold_id(hold_id);
    req.set_operation(operation);
    for (const auto& [unit, n] : units) (*req.mutable_units())[unit] = n;
    req.set_chain_system_fee(system_fee);
    req.set_chain_network_fee(network_fee);
    gasbankpb::GasHold out;
    auto& stub = *services_.at(caller);
    RETURN_IF_ERROR(Call([&](grpc::ClientContext* c) { return stub.ChargeGas(c, req, &out); }, account));
    return out;
  }
  StatusOr<gasbankpb::GasHold> Release(const std::string& hold_id, const std::string& account = kAccountA) {
    gasbankpb::ReleaseGasRequest req;
    req.set_hold_id(hold_id);
    gasbankpb::GasHold out;
    RETURN_IF_ERROR(
        Call([&](grpc::ClientContext* c) { return services_.at("functions")->ReleaseGas(c, req, &out); }, account));
    return out;
  }

  // A confirmed deposit, as the deposit watcher posts it.
  void Deposit(const std::string& account, int64_t amount) {
    gasbank::Entry entry{
        .key = "deposit:test:" + std::to_string(++deposits_),
        .kind = "deposit",
        .account = account,
        .service = "gasbank",
        .reference = "0xtest",
        .lines = {{gasbank::Book::kCustody, "", -amount}, {gasbank::Book::kAvailable, account, amount}}};
    auto posted = service_->ledger().Post(entry);
    ASSERT_TRUE(posted.ok()) << posted.status().ToString();
  }
  gasbank::Balance BalanceOf(const std::string& account) {
    auto b = service_->ledger().BalanceOf(account);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? *b : gasbank::Balance{};
  }
  int64_t Revenue() {
    auto r = service_->ledger().PlatformBalance(gasbank::Book::kRevenue);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : -1;
  }
  int64_t Entries() {
    auto rows = store_->Query("SELECT COUNT(*) FROM gasbank_entries");
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? *(*rows)[0].Int(0) : -1;
  }
  void ExpectAuditPasses() {
    auto audit = service_->ledger().Audit();
    ASSERT_TRUE(audit.ok()) << audit.status().ToString();
    EXPECT_TRUE(audit->ok) << ::testing::PrintToString(audit->problems);
  }

  ::neosl::testing::TempDir dir_;
  ManualClock clock_{kStartMs};
  std::atomic<int> derivations_{0};
  int deposits_ = 0;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<mesh::AuthzPolicy> policy_;
  std::unique_ptr<mesh::Pipeline> pipeline_;
  std::unique_ptr<GasBankService> service_;
  std::unique_ptr<mesh::MeshServer> server_;
  std::unique_ptr<gasbankpb::GasBank::Stub> gateway_stub_;
  std::map<std::string, std::unique_ptr<gasbankpb::GasBank::Stub>> services_;
};

TEST_F(GasBankServiceTest, TheDepositAddressIsMadeOnceAndStaysTheSame) {
  auto first = Account();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(derivations_.load(), 1);
  // The address of the derived key's single-signature account, shown both ways.
  auto digest = crypto::Sha256(crypto::AsBytes(std::string("gasbank service test deposit key:") + kAccountA));
  auto key = crypto::PrivateKey::FromBytes(digest);
  ASSERT_TRUE(key.ok());
  const neo::UInt160 hash = neo::ScriptHash(neo::SingleSigScript(key->public_key()));
  EXPECT_EQ(first->deposit_address(), neo::ToAddress(hash));
  EXPECT_EQ(first->deposit_script_hash(), hash.ToString());
  EXPECT_EQ(first->account_id(), kAccountA);
  EXPECT_EQ(first->available(), 0);
  EXPECT_EQ(first->available_gas(), "0.00000000");
  EXPECT_EQ(first->confirmations(), 3u);
  EXPECT_EQ(first->pending_deposits(), 0);
  EXPECT_TRUE(first->charged());

  Deposit(kAccountA, 150'000'000);
  auto again = Account();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->deposit_address(), first->deposit_address());
  EXPECT_EQ(derivations_.load(), 1);  // recorded, not derived again
  EXPECT_EQ(again->available(), 150'000'000);
  EXPECT_EQ(again->available_gas(), "1.50000000");

  auto other = Account(kAccountB);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->deposit_address(), first->deposit_address());
  auto platform = Account(kPlatform);
  ASSERT_TRUE(platform.ok());
  EXPECT_FALSE(platform->charged());

  EXPECT_EQ(Account("").status().code(), StatusCode::kPermissionDenied);
}

TEST_F(GasBankServiceTest, ReserveThenChargeMovesTheFeeToRevenueOnce) {
  Deposit(kAccountA, 100'000'000);
  // functions.invoke for at most 1000 ms: 1000 + 10 × 1000.
  auto hold = Reserve("functions.invoke", {{"ms", 1000}}, "ex_1");
  ASSERT_TRUE(hold.ok()) << hold.status().ToString();
  EXPECT_THAT(hold->hold_id(), ::testing::StartsWith("hold_"));
  EXPECT_EQ(hold->amount(), 11'000);
  EXPECT_EQ(hold->state(), "open");
  EXPECT_EQ(BalanceOf(kAccountA).available, 100'000'000 - 11'000);
  EXPECT_EQ(BalanceOf(kAccountA).held, 11'000);

  // 200 ms used (1000 + 2000) and a transaction of 100 + 50 with the 10 % markup (165).
  auto charged = Charge(hold->hold_id(), "functions.invoke", {{"ms", 200}}, 100, 50);
  ASSERT_TRUE(charged.ok()) << charged.status().ToString();
  EXPECT_EQ(charged->state(), "settled");
  EXPECT_EQ(charged->charged(), 3'165);
  EXPECT_EQ(BalanceOf(kAccountA).available, 100'000'000 - 3'165);
  EXPECT_EQ(BalanceOf(kAccountA).held, 0);
  EXPECT_EQ(Revenue(), 3'165);

  // The same charge again (a retry): answered as it is, nothing moves.
  const int64_t entries = Entries();
  auto again = Charge(hold->hold_id(), "functions.invoke", {{"ms", 200}}, 100, 50);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->charged(), 3'165);
  EXPECT_EQ(Entries(), entries);
  EXPECT_EQ(Revenue(), 3'165);
  // Another charge, or a release, of a settled hold is a conflict.
  EXPECT_EQ(Charge(hold->hold_id(), "functions.invoke", {{"ms", 300}}).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(Release(hold->hold_id()).status().code(), StatusCode::kFailedPrecondition);
  // The same reserve again finds the first hold (keyed functions:ex_1), settled.
  auto rereserved = Reserve("functions.invoke", {{"ms", 1000}}, "ex_1");
  ASSERT_TRUE(rereserved.ok()) << rereserved.status().ToString();
  EXPECT_EQ(rereserved->hold_id(), hold->hold_id());
  EXPECT_EQ(rereserved->state(), "settled");
  EXPECT_EQ(Entries(), entries);

  // Never more than the hold: 10 ms reserved (1100), 1000 ms used.
  auto small = Reserve("functions.invoke", {{"ms", 10}}, "ex_2");
  ASSERT_TRUE(small.ok());
  auto capped = Charge(small->hold_id(), "functions.invoke", {{"ms", 1000}}, 5'000, 5'000);
  ASSERT_TRUE(capped.ok()) << capped.status().ToString();
  EXPECT_EQ(capped->charged(), 1'100);
  EXPECT_EQ(Revenue(), 3'165 + 1'100);
  ExpectAuditPasses();
}

TEST_F(GasBankServiceTest, TooLittleIsRefusedBeforeAnyWorkAndChangesNothing) {
  Deposit(kAccountA, 5'000);
  const int64_t entries = Entries();
  auto hold = Reserve("functions.invoke", {{"ms", 1000}}, "ex_poor");
  ASSERT_EQ(hold.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(hold.status().message(),
            "insufficient funds: available 0.00005000 GAS, the operation needs 0.00011000 GAS");
  EXPECT_EQ(DetailField(hold.status(), "PreconditionFailure", "type"), "INSUFFICIENT_FUNDS");
  EXPECT_EQ(DetailField(hold.status(), "PreconditionFailure", "available"), "5000");
  EXPECT_EQ(DetailField(hold.status(), "PreconditionFailure", "required"), "11000");
  EXPECT_EQ(Entries(), entries);
  EXPECT_EQ(BalanceOf(kAccountA).available, 5'000);
  EXPECT_EQ(BalanceOf(kAccountA).held, 0);
  // What fits still goes through.
  EXPECT_TRUE(Reserve("functions.invoke", {{"ms", 100}}, "ex_fits").ok());
  ExpectAuditPasses();
}

TEST_F(GasBankServiceTest, ReleaseGivesTheHoldBackOnce) {
  Deposit(kAccountA, 1'000'000);
  auto hold = Reserve("oracle.request", {}, "orc_1", kAccountA, "oracle");
  ASSERT_TRUE(hold.ok()) << hold.status().ToString();
  EXPECT_EQ(BalanceOf(kAccountA).held, 2'000);
  auto released = Release(hold->hold_id());
  ASSERT_TRUE(released.ok()) << released.status().ToString();
  EXPECT_EQ(released->state(), "released");
  EXPECT_EQ(released->charged(), 0);
  EXPECT_EQ(BalanceOf(kAccountA).available, 1'000'000);
  EXPECT_EQ(BalanceOf(kAccountA).held, 0);
  const int64_t entries = Entries();
  auto again = Release(hold->hold_id());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->state(), "released");
  EXPECT_EQ(Entries(), entries);
  EXPECT_EQ(Charge(hold->hold_id(), "oracle.request", {}).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Revenue(), 0);
  ExpectAuditPasses();
}

TEST_F(GasBankServiceTest, AnotherAccountsHoldIsNotFound) {
  Deposit(kAccountA, 1'000'000);
  auto hold = Reserve("random.generate", {{"word", 3}}, "rnd_1", kAccountA, "random");
  ASSERT_TRUE(hold.ok()) << hold.status().ToString();
  EXPECT_EQ(hold->amount(), 800);
  auto charged = Charge(hold->hold_id(), "random.generate", {{"word", 3}}, 0, 0, kAccountB, "random");
  EXPECT_EQ(charged.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Release(hold->hold_id(), kAccountB).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Release("hold_nosuchholdnosuchhold").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(BalanceOf(kAccountA).held, 800);  // untouched
  EXPECT_EQ(Charge("", "random.generate", {}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(GasBankServiceTest, ThePlatformAndUnpricedOperationsAreNotCharged) {
  // The platform's own account has no balance, and needs none.
  auto platform = Reserve("functions.invoke", {{"ms", 1000}}, "ex_p", kPlatform);
  ASSERT_TRUE(platform.ok()) << platform.status().ToString();
  EXPECT_EQ(platform->hold_id(), "");
  EXPECT_EQ(platform->amount(), 0);
  // An operation the schedule does not price, or prices at 0, holds nothing.
  auto unpriced = Reserve("automation.tick", {{"run", 1}}, "t_1");
  ASSERT_TRUE(unpriced.ok()) << unpriced.status().ToString();
  EXPECT_EQ(unpriced->hold_id(), "");
  auto free = Reserve("pricefeed.update", {}, "fd_1");
  ASSERT_TRUE(free.ok()) << free.status().ToString();
  EXPECT_EQ(free->hold_id(), "");
  EXPECT_EQ(Entries(), 0);

  // A caller's mistakes show whatever the account.
  auto unit = Reserve("functions.invoke", {{"bytes", 10}}, "ex_u", kPlatform);
  EXPECT_EQ(unit.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(unit.status()), "units");
  auto negative = Reserve("functions.invoke", {{"ms", -1}}, "ex_n");
  EXPECT_EQ(negative.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(Reserve("", {}, "ex_o").status()), "operation");
  EXPECT_EQ(FieldOf(Reserve("functions.invoke", {}, "").status()), "reference");
  EXPECT_EQ(FieldOf(Reserve("functions.invoke", {}, "ex_t", kAccountA, "functions", -5).status()), "ttl_ms");
  EXPECT_EQ(Reserve("functions.invoke", {}, "ex_x", "").status().code(), StatusCode::kPermissionDenied);
  // The gateway may not take holds (mesh policy).
  gasbankpb::ReserveGasRequest req;
  req.set_operation("functions.invoke");
  req.set_reference("ex_g");
  gasbankpb::GasHold out;
  EXPECT_EQ(Call([&](grpc::ClientContext* c) { return gateway_stub_->ReserveGas(c, req, &out); }, kAccountA).code(),
            StatusCode::kPermissionDenied);
}

TEST_F(GasBankServiceTest, AHoldPastItsTimeIsReleased) {
  Deposit(kAccountA, 1'000'000);
  auto hold = Reserve("functions.invoke", {{"ms", 100}}, "ex_slow", kAccountA, "functions", 1'000);
  ASSERT_TRUE(hold.ok()) << hold.status().ToString();
  EXPECT_EQ(BalanceOf(kAccountA).held, 2'000);
  clock_.Advance(std::chrono::milliseconds(1'001));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (BalanceOf(kAccountA).held != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(BalanceOf(kAccountA).held, 0);
  EXPECT_EQ(BalanceOf(kAccountA).available, 1'000'000);
  auto page = Ledger(1, "");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->entries_size(), 1);
  EXPECT_EQ(page->entries(0).kind(), "expire");
  // Too late to charge; a release answers it as it is.
  EXPECT_EQ(Charge(hold->hold_id(), "functions.invoke", {{"ms", 1}}).status().code(), StatusCode::kFailedPrecondition);
  auto released = Release(hold->hold_id());
  ASSERT_TRUE(released.ok()) << released.status().ToString();
  EXPECT_EQ(released->state(), "released");
  ExpectAuditPasses();
}

TEST_F(GasBankServiceTest, TheLedgerPagesNewestFirst) {
  Deposit(kAccountA, 1'000'000);
  Deposit(kAccountB, 1'000'000);  // another account's entries never show
  for (int i = 0; i < 5; ++i) {
    auto hold = Reserve("functions.invoke", {{"ms", 100}}, "ex_" + std::to_string(i));
    ASSERT_TRUE(hold.ok()) << hold.status().ToString();
    ASSERT_TRUE(Charge(hold->hold_id(), "functions.invoke", {{"ms", 10}}).ok());
    ASSERT_TRUE(Reserve("functions.invoke", {{"ms", 100}}, "b_" + std::to_string(i), kAccountB).ok());
  }
  // 1 deposit + 5 × (hold, settle) = 11 entries: pages of 4, 4 and 3.
  std::vector<int64_t> seqs;
  std::string token;
  std::vector<int> sizes;
  for (int page = 0; page < 3; ++page) {
    auto p = Ledger(4, token);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    sizes.push_back(p->entries_size());
    for (const auto& e : p->entries()) seqs.push_back(e.seq());
    token = p->next_page_token();
    if (page < 2) {
      EXPECT_FALSE(token.empty());
    }
  }
  EXPECT_EQ(sizes, (std::vector<int>{4, 4, 3}));
  EXPECT_TRUE(token.empty());
  ASSERT_EQ(seqs.size(), 11u);
  for (size_t i = 1; i < seqs.size(); ++i) EXPECT_GT(seqs[i - 1], seqs[i]);

  auto newest = Ledger(0, "");
  ASSERT_TRUE(newest.ok());
  EXPECT_EQ(newest->entries_size(), 11);  // 0: the default page of 50
  // The newest entry settles 2000 held for 1100: held −2000, revenue +1100, available +900.
  const auto& settle = newest->entries(0);
  EXPECT_EQ(settle.kind(), "settle");
  EXPECT_EQ(settle.service(), "functions");
  EXPECT_EQ(settle.reference(), "ex_4");
  EXPECT_EQ(settle.available_change(), 900);
  std::map<std::string, int64_t> lines;
  for (const auto& l : settle.lines()) lines[l.book()] = l.amount();
  EXPECT_EQ(lines, (std::map<std::string, int64_t>{{"held", -2'000}, {"revenue", 1'100}, {"available", 900}}));
  EXPECT_EQ(newest->entries(10).kind(), "deposit");
  EXPECT_EQ(newest->entries(10).available_change(), 1'000'000);
  EXPECT_EQ(newest->entries(10).created_at(), "2026-01-15T10:00:00.000Z");

  for (const std::string& bad : {std::string("zz"), std::string("6c65646765723a"),  // "ledger:"
                                 HexEncode(crypto::AsBytes(std::string("ledger:-3"))), std::string("00")}) {
    auto p = Ledger(4, bad);
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(FieldOf(p.status()), "page_token") << bad;
  }
  EXPECT_EQ(FieldOf(Ledger(501, "").status()), "page_size");
  EXPECT_EQ(FieldOf(Ledger(-1, "").status()), "page_size");
}

TEST_F(GasBankServiceTest, UsageByDayAndByServiceAsJsonAndCsv) {
  Deposit(kAccountA, 10'000'000);
  auto run = [&](const std::string& caller, const std::string& operation, const std::map<std::string, int64_t>& units,
                 const std::string& reference) {
    auto hold = Reserve(operation, units, reference, kAccountA, caller);
    ASSERT_TRUE(hold.ok()) << hold.status().ToString();
    auto charged = Charge(hold->hold_id(), operation, units, 0, 0, kAccountA, caller);
    ASSERT_TRUE(charged.ok()) << charged.status().ToString();
  };
  // 2026-01-15: functions 3000 and 1100, random 700; a release and a charge of 0 are not usage.
  run("functions", "functions.invoke", {{"ms", 200}}, "ex_1");
  run("functions", "functions.invoke", {{"ms", 10}}, "ex_2");
  run("random", "random.generate", {{"word", 2}}, "rnd_1");
  auto released = Reserve("oracle.request", {}, "orc_1", kAccountA, "oracle");
  ASSERT_TRUE(released.ok());
  ASSERT_TRUE(Release(released->hold_id()).ok());
  auto zero = Reserve("oracle.request", {}, "orc_2", kAccountA, "oracle");
  ASSERT_TRUE(zero.ok());
  ASSERT_TRUE(Charge(zero->hold_id(), "oracle.unpriced", {}, 0, 0, kAccountA, "oracle").ok());
  // 2026-01-16: oracle 2000 (with "quotes" and commas none of ours need, but the CSV must cope).
  clock_.Advance(std::chrono::hours(24));
  run("oracle", "oracle.request", {}, "orc_3");
  // Another account's usage is not ours.
  Deposit(kAccountB, 10'000'000);
  auto b = Reserve("oracle.request", {}, "orc_b", kAccountB, "oracle");
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(Charge(b->hold_id(), "oracle.request", {}, 0, 0, kAccountB, "oracle").ok());

  auto by_day = Usage("2026-01-15", "2026-01-16", "day", "json");
  ASSERT_TRUE(by_day.ok()) << by_day.status().ToString();
  EXPECT_EQ(by_day->group(), "day");
  EXPECT_EQ(by_day->from(), "2026-01-15T00:00:00.000Z");
  EXPECT_EQ(by_day->to(), "2026-01-17T00:00:00.000Z");
  ASSERT_EQ(by_day->rows_size(), 2);
  EXPECT_EQ(by_day->rows(0).key(), "2026-01-15");
  EXPECT_EQ(by_day->rows(0).operations(), 3);
  EXPECT_EQ(by_day->rows(0).charged(), 4'800);
  EXPECT_EQ(by_day->rows(0).charged_gas(), "0.00004800");
  EXPECT_EQ(by_day->rows(1).key(), "2026-01-16");
  EXPECT_EQ(by_day->rows(1).operations(), 1);
  EXPECT_EQ(by_day->rows(1).charged(), 2'000);
  EXPECT_EQ(by_day->total_charged(), 6'800);
  EXPECT_EQ(by_day->total_charged_gas(), "0.00006800");
  EXPECT_EQ(by_day->csv(), "");

  auto csv = Usage("2026-01-15", "2026-01-16", "", "csv");
  ASSERT_TRUE(csv.ok()) << csv.status().ToString();
  EXPECT_EQ(csv->csv(),
            "day,operations,charged_datoshi,charged_gas\r\n"
            "2026-01-15,3,4800,0.00004800\r\n"
            "2026-01-16,1,2000,0.00002000\r\n");

  auto by_service = Usage("2026-01-15T00:00:00Z", "2026-01-16T12:00:00Z", "service", "csv");
  ASSERT_TRUE(by_service.ok()) << by_service.status().ToString();
  EXPECT_EQ(by_service->csv(),
            "service,operations,charged_datoshi,charged_gas\r\n"
            "functions,2,4100,0.00004100\r\n"
            "oracle,1,2000,0.00002000\r\n"
            "random,1,700,0.00000700\r\n");
  ASSERT_EQ(by_service->rows_size(), 3);
  EXPECT_EQ(by_service->rows(0).key(), "functions");

  // Only the first day, and the defaults (the 30 days to now) with everything in them.
  auto first_day = Usage("2026-01-15", "2026-01-15", "service", "csv");
  ASSERT_TRUE(first_day.ok());
  EXPECT_EQ(first_day->total_charged(), 4'800);
  // Without `to`, everything up to and including this very millisecond (the end is exclusive).
  auto defaults = Usage("", "", "", "");
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->group(), "day");
  EXPECT_EQ(defaults->total_charged(), 6'800);
  EXPECT_EQ(defaults->to(), FormatRfc3339Millis(clock_.NowUnixMillis() + 1));
  // With it, the end is exclusive: a charge at exactly `to` falls in the next range.
  auto until_now = Usage("", FormatRfc3339Millis(clock_.NowUnixMillis()), "", "");
  ASSERT_TRUE(until_now.ok()) << until_now.status().ToString();
  EXPECT_EQ(until_now->total_charged(), 4'800);

  EXPECT_EQ(FieldOf(Usage("", "", "month", "").status()), "group");
  EXPECT_EQ(FieldOf(Usage("", "", "day", "xml").status()), "format");
  EXPECT_EQ(FieldOf(Usage("yesterday", "", "", "").status()), "from");
  EXPECT_EQ(FieldOf(Usage("", "2026-02-30", "", "").status()), "to");
  EXPECT_EQ(FieldOf(Usage("2026-01-16", "2026-01-15", "", "").status()), "from");
  auto too_long = Usage("2025-01-01", "2026-01-15", "", "");
  EXPECT_EQ(too_long.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(too_long.status().message()), HasSubstr("366 days"));
  EXPECT_TRUE(Usage("2025-01-15", "2026-01-15", "", "").ok());  // 366 days exactly
}

TEST_F(GasBankServiceTest, WithdrawalsNeedTheChain) {
  Deposit(kAccountA, 100'000'000);
  gasbankpb::WithdrawalRequest req;
  req.set_to("NZNovQU4S7UDHi1ThVdtZVNQsCrXKcpDzc");
  req.set_amount(10'000'000);
  req.set_idempotency_key("w-1");
  gasbankpb::Withdrawal out;
  Status s = Call([&](grpc::ClientContext* c) { return gateway_stub_->RequestWithdrawal(c, req, &out); }, kAccountA);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_EQ(BalanceOf(kAccountA).available, 100'000'000);

  gasbankpb::GetWithdrawalRequest get;
  get.set_id("wd_nosuchwithdrawalxx");
  s = Call([&](grpc::ClientContext* c) { return gateway_stub_->GetWithdrawal(c, get, &out); }, kAccountA);
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  get.set_id("");
  s = Call([&](grpc::ClientContext* c) { return gateway_stub_->GetWithdrawal(c, get, &out); }, kAccountA);
  EXPECT_EQ(FieldOf(s), "id");
}

TEST_F(GasBankServiceTest, AThousandConcurrentReservesNeverOverdraw) {
  // random.generate of 5 words: 1000 datoshi. A balance of 10.5 fees: exactly 10 fit.
  constexpr int kCalls = 1000;
  constexpr int64_t kFee = 1'000;
  Deposit(kAccountA, 10 * kFee + kFee / 2);
  std::mutex mu;
  std::condition_variable cv;
  bool go = false;
  std::atomic<int> ok{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  threads.reserve(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return go; });
      }
      auto hold = Reserve("random.generate", {{"word", 5}}, "rnd_" + std::to_string(i), kAccountA, "random");
      if (hold.ok() && hold->amount() == kFee) {
        ++ok;
      } else if (hold.status().code() == StatusCode::kFailedPrecondition) {
        ++refused;
      } else {
        ++other;
        ADD_FAILURE() << hold.status().ToString();
      }
    });
  }
  {
    std::lock_guard lock(mu);
    go = true;
  }
  cv.notify_all();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 10);
  EXPECT_EQ(refused.load(), kCalls - 10);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(BalanceOf(kAccountA).available, kFee / 2);
  EXPECT_EQ(BalanceOf(kAccountA).held, 10 * kFee);
  ExpectAuditPasses();
}

// ---- withdrawals with an outbox that is never started: recorded, never sent ----

class GasBankOutboxTest : public GasBankServiceTest {
 protected:
  void StartService() override {
    neo::HttpRpcClientOptions rpc;
    rpc.url = "http://127.0.0.1:1";  // never called: the outbox does not start
    auto client = neo::HttpRpcClient::Create(rpc, SystemClock::Instance(), SecureRandom::Instance());
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    rpc_ = std::move(*client);
    outbox_ = std::make_unique<chain_tx::Outbox>(chain_tx::OutboxOptions{}, *store_, *rpc_, signer_,
                                                 SecureRandom::Instance(), clock_);
    ASSERT_TRUE(service_->Start(outbox_.get(), signer_.account()).ok());
  }

  StatusOr<gasbankpb::Withdrawal> Withdraw(const std::string& to, int64_t amount, const std::string& key) {
    gasbankpb::WithdrawalRequest req;
    req.set_to(to);
    req.set_amount(amount);
    req.set_idempotency_key(key);
    gasbankpb::Withdrawal out;
    RETURN_IF_ERROR(
        Call([&](grpc::ClientContext* c) { return gateway_stub_->RequestWithdrawal(c, req, &out); }, kAccountA));
    return out;
  }

  neo::KeyTransactionSigner signer_{crypto::PrivateKey::Generate(SecureRandom::Instance())};
  std::unique_ptr<neo::HttpRpcClient> rpc_;
  std::unique_ptr<chain_tx::Outbox> outbox_;
};

TEST_F(GasBankOutboxTest, AWithdrawalIsRecordedOncePerKey) {
  // The hot wallet is recorded for the audit.
  auto settings = store_->Query("SELECT name, value FROM gasbank_settings ORDER BY name");
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  std::map<std::string, std::string> recorded;
  for (const auto& row : *settings) recorded[*row.Text(0)] = *row.Text(1);
  EXPECT_EQ(recorded["hot_script_hash"], signer_.account().ToString());
  EXPECT_EQ(recorded["hot_address"], neo::ToAddress(signer_.account()));

  Deposit(kAccountA, 100'000'000);
  const std::string to = neo::ToAddress(neo::UInt160());
  auto w = Withdraw(to, 10'000'000, "payout-1");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_THAT(w->withdrawal_id(), ::testing::StartsWith("wd_"));
  EXPECT_EQ(w->state(), "pending");
  EXPECT_EQ(w->amount(), 10'000'000);
  EXPECT_EQ(w->to(), to);
  EXPECT_FALSE(w->replay());
  const int64_t reserve = w->fee_reserved();
  EXPECT_GT(reserve, 0);
  EXPECT_EQ(BalanceOf(kAccountA).available, 100'000'000 - 10'000'000 - reserve);
  EXPECT_EQ(BalanceOf(kAccountA).pending_withdrawal, 10'000'000);

  auto again = Withdraw(to, 10'000'000, "payout-1");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->withdrawal_id(), w->withdrawal_id());
  EXPECT_TRUE(again->replay());
  EXPECT_EQ(BalanceOf(kAccountA).pending_withdrawal, 10'000'000);
  EXPECT_EQ(Withdraw(to, 20'000'000, "payout-1").status().code(), StatusCode::kAlreadyExists);

  gasbankpb::GetWithdrawalRequest get;
  get.set_id(w->withdrawal_id());
  gasbankpb::Withdrawal shown;
  ASSERT_TRUE(
      Call([&](grpc::ClientContext* c) { return gateway_stub_->GetWithdrawal(c, get, &shown); }, kAccountA).ok());
  EXPECT_EQ(shown.state(), "pending");
  EXPECT_EQ(shown.idempotency_key(), "payout-1");
  // Another account does not see it.
  EXPECT_EQ(
      Call([&](grpc::ClientContext* c) { return gateway_stub_->GetWithdrawal(c, get, &shown); }, kAccountB).code(),
      StatusCode::kNotFound);

  // Short of amount + reserve: refused, nothing written.
  const int64_t available = BalanceOf(kAccountA).available;
  auto poor = Withdraw(to, available, "payout-2");
  ASSERT_EQ(poor.status().code(), StatusCode::kFailedPrecondition) << poor.status().ToString();
  EXPECT_EQ(poor.status().message(), "insufficient funds: available " + gasbank::FormatGas(available) +
                                         " GAS, the operation needs " + gasbank::FormatGas(available + reserve) +
                                         " GAS");
  EXPECT_THAT(DetailField(poor.status(), "PreconditionFailure", "description"), HasSubstr("fee reserve"));
  EXPECT_EQ(BalanceOf(kAccountA).available, available);
  ExpectAuditPasses();
}

// ---- REST: the gateway's routes for the gas bank, with API keys ----

class GasBankRestTest : public GasBankServiceTest {
 protected:
  void SetUp() override {
    GasBankServiceTest::SetUp();
    if (HasFatalFailure()) return;
    hasher_ = std::make_unique<gateway::KeyHasher>(SecretBytes(std::string_view("0123456789abcdef0123456789abcdef")));
    accounts_ =
        std::make_unique<gateway::AccountStore>(*store_, *hasher_, SystemClock::Instance(), SecureRandom::Instance());
    auto account = accounts_->CreateAccount("acme");
    ASSERT_TRUE(account.ok());
    account_ = account->id.str();
    viewer_ = Key(gateway::Role::kViewer);
    developer_ = Key(gateway::Role::kDeveloper);
    owner_ = Key(gateway::Role::kOwner);

    registry_ = mesh::NewMemoryRegistry();
    auto reg = registry_->Register(mesh::Endpoint{"gasbank", "test-1", "inproc", "t", true, {}});
    ASSERT_TRUE(reg.ok());
    registration_ = std::move(*reg);
    mesh::ClientOptions co;
    co.identity = "gateway";
    client_ = std::make_unique<mesh::MeshClient>(co, *registry_, mesh::InProcessChannels(*server_, "gateway"),
                                                 SystemClock::Instance(), SecureRandom::Instance());
    limiter_ = std::make_unique<RateLimiter>(RateLimitConfig{}, SystemClock::Instance());
    auth_ = std::make_unique<gateway::Authenticator>(*accounts_, *hasher_);
    gateway_ = std::make_unique<gateway::Gateway>(*auth_, *limiter_, SecureRandom::Instance(), false);
    std::vector<gateway::MeshRoute> routes;  // the gas bank's (the other services are not here)
    for (auto& route : gateway::BuiltinMeshRoutes()) {
      if (route.service == "gasbank") routes.push_back(std::move(route));
    }
    gateway::RegisterMeshRoutes(*gateway_, *client_, routes);
    gateway_->Freeze();
  }
  void TearDown() override {
    gateway_.reset();
    client_.reset();
    registration_.reset();
    GasBankServiceTest::TearDown();
  }

  std::string Key(gateway::Role role) {
    auto key = accounts_->CreateKey(AccountId(account_), "k", {role});
    EXPECT_TRUE(key.ok());
    return key.ok() ? key->token : std::string();
  }
  gateway::HttpResponse Http(const std::string& method, const std::string& target, const std::string& body,
                             const std::string& token) {
    const std::string authorization = "Bearer " + token;  // the request holds views
    gateway::HttpRequest request{method, target, body, "127.0.0.1", {{"authorization", authorization}}};
    gateway::HttpResponse response;
    gateway_->Handle(request, response);
    return response;
  }
  static json::object Object(const gateway::HttpResponse& r) {
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    EXPECT_FALSE(ec) << r.body;
    return v.is_object() ? v.as_object() : json::object();
  }

  std::unique_ptr<gateway::KeyHasher> hasher_;
  std::unique_ptr<gateway::AccountStore> accounts_;
  std::string account_, viewer_, developer_, owner_;
  std::unique_ptr<mesh::Registry> registry_;
  std::unique_ptr<mesh::Registration> registration_;
  std::unique_ptr<mesh::MeshClient> client_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<gateway::Authenticator> auth_;
  std::unique_ptr<gateway::Gateway> gateway_;
};

TEST_F(GasBankRestTest, UsageAnswersCsvAsTextCsv) {
  Deposit(account_, 10'000'000);
  auto hold = Reserve("functions.invoke", {{"ms", 200}}, "ex_rest", account_);
  ASSERT_TRUE(hold.ok()) << hold.status().ToString();
  ASSERT_TRUE(Charge(hold->hold_id(), "functions.invoke", {{"ms", 200}}, 0, 0, account_).ok());

  auto csv = Http("GET", "/v1/gasbank/usage?from=2026-01-15&to=2026-01-15&group=service&format=csv", "", viewer_);
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.content_type, "text/csv; charset=utf-8");
  EXPECT_EQ(csv.body, "service,operations,charged_datoshi,charged_gas\r\nfunctions,1,3000,0.00003000\r\n");

  auto as_json = Http("GET", "/v1/gasbank/usage?from=2026-01-15&to=2026-01-15", "", viewer_);
  ASSERT_EQ(as_json.status, 200) << as_json.body;
  EXPECT_EQ(as_json.content_type, "application/json");
  json::object usage = Object(as_json);
  EXPECT_EQ(usage["total_charged"], "3000");  // int64 as a string
  EXPECT_EQ(usage["rows"].as_array().at(0).at("key"), "2026-01-15");

  auto bad = Http("GET", "/v1/gasbank/usage?group=week", "", viewer_);
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_THAT(bad.body, HasSubstr("\"field\":\"group\""));
}

TEST_F(GasBankRestTest, AccountLedgerAndWithdrawalRoutes) {
  Deposit(account_, 150'000'000);
  auto account = Http("GET", "/v1/gasbank/account", "", viewer_);
  ASSERT_EQ(account.status, 200) << account.body;
  json::object a = Object(account);
  EXPECT_EQ(a["available"], "150000000");
  EXPECT_EQ(a["available_gas"], "1.50000000");
  EXPECT_THAT(std::string(a["deposit_address"].as_string()), ::testing::StartsWith("N"));

  auto ledger = Http("GET", "/v1/gasbank/ledger?page_size=1", "", viewer_);
  ASSERT_EQ(ledger.status, 200) << ledger.body;
  EXPECT_EQ(Object(ledger)["entries"].as_array().size(), 1u);
  EXPECT_EQ(Http("GET", "/v1/gasbank/ledger?page_token=zz", "", viewer_).status, 400);

  // Money leaves: owners only. Without a chain here, the bank cannot send it.
  const std::string body = R"({"to":"NZNovQU4S7UDHi1ThVdtZVNQsCrXKcpDzc","amount":"1000000","idempotency_key":"w1"})";
  EXPECT_EQ(Http("POST", "/v1/gasbank/withdrawals", body, developer_).status, 403);
  auto sent = Http("POST", "/v1/gasbank/withdrawals", body, owner_);
  EXPECT_EQ(sent.status, 503) << sent.body;
  EXPECT_EQ(
      Http("POST", "/v1/gasbank/withdrawals", R"({"to":"N1","amount":1000,"idempotency_key":"w"})", owner_).status,
      400);
  EXPECT_EQ(Http("GET", "/v1/gasbank/withdrawals/wd_nosuchwithdrawalxx", "", viewer_).status, 404);

  // The OpenAPI document lists them, and says what format=csv answers.
  boost::system::error_code ec;
  json::value doc = json::parse(gateway_->openapi(), ec);
  ASSERT_FALSE(ec);
  const json::object& paths = doc.at("paths").as_object();
  for (const char* path : {"/v1/gasbank/account", "/v1/gasbank/ledger", "/v1/gasbank/usage", "/v1/gasbank/withdrawals",
                           "/v1/gasbank/withdrawals/{id}"}) {
    EXPECT_TRUE(paths.contains(path)) << path;
  }
  EXPECT_THAT(std::string(paths.at("/v1/gasbank/usage").at("get").at("description").as_string()),
              HasSubstr("text/csv"));
  EXPECT_EQ(paths.at("/v1/gasbank/withdrawals").at("post").at("x-required-role"), "owner");
}

}  // namespace
}  // namespace neosl::services
