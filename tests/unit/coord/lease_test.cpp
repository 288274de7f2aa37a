#include "coord/lease.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "schema/migrations.h"
#include "store/sqlite_store.h"
#include "support/temp_dir.h"

namespace neosl::coord {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class LeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = OpenStore();
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(*opened);
    ASSERT_TRUE(store_->Migrate(schema::Migrations()).ok());
  }

  // Another connection to the same database, as another replica has.
  StatusOr<std::unique_ptr<store::Store>> OpenStore() {
    return store::OpenSqliteStore({.path = dir_.File("neosl.db"), .read_connections = 2});
  }

  std::unique_ptr<Lease> MakeLease(const std::string& holder, store::Store* store = nullptr) {
    LeaseOptions options{.name = "singletons", .holder = holder, .ttl = 3000ms, .renew_every = 1000ms};
    return std::make_unique<Lease>(
        store ? *store : *store_, clock_, options, [this](int64_t epoch) { elected_.push_back(epoch); },
        [this](const Status& s) { lost_.push_back(s); });
  }

  LeaseState MustStep(Lease& lease) {
    auto state = lease.Step();
    EXPECT_TRUE(state.ok()) << state.status().ToString();
    return state.ok() ? *state : LeaseState{};
  }

  int64_t CountMarks() {
    auto rows = store_->Query("SELECT COUNT(*) FROM marks");
    return rows.ok() ? *(*rows)[0].Int(0) : -1;
  }

  neosl::testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<store::Store> store_;
  std::vector<int64_t> elected_;
  std::vector<Status> lost_;
};

TEST_F(LeaseTest, TheFirstReplicaTakesItAtEpochOne) {
  auto a = MakeLease("replica-a");
  LeaseState state = MustStep(*a);
  EXPECT_TRUE(state.leader);
  EXPECT_EQ(state.epoch, 1);
  EXPECT_TRUE(a->leader());
  EXPECT_EQ(elected_, std::vector<int64_t>{1});
}

TEST_F(LeaseTest, ASecondReplicaWaitsForExpiryThenFencesTheFirstOut) {
  auto a = MakeLease("replica-a");
  auto b = MakeLease("replica-b");
  MustStep(*a);
  clock_.Advance(2999ms);
  LeaseState seen = MustStep(*b);
  EXPECT_FALSE(seen.leader);
  EXPECT_EQ(seen.holder, "replica-a");
  EXPECT_FALSE(b->leader());

  clock_.Advance(1ms);  // a's ttl is over and it did not renew
  LeaseState taken = MustStep(*b);
  EXPECT_TRUE(taken.leader);
  EXPECT_EQ(taken.epoch, 2);
  EXPECT_EQ(elected_, (std::vector<int64_t>{1, 2}));

  // a comes back: it finds b's lease, is told once, and stays a follower.
  EXPECT_FALSE(MustStep(*a).leader);
  EXPECT_FALSE(a->leader());
  MustStep(*a);
  ASSERT_EQ(lost_.size(), 1u);
  EXPECT_EQ(lost_[0].code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(lost_[0].message(), HasSubstr("epoch 2"));
}

TEST_F(LeaseTest, RenewingKeepsIt) {
  auto a = MakeLease("replica-a");
  auto b = MakeLease("replica-b");
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(MustStep(*a).leader);
    clock_.Advance(1000ms);
    EXPECT_FALSE(MustStep(*b).leader);
  }
  EXPECT_EQ(a->epoch(), 1);
  EXPECT_TRUE(lost_.empty());
}

TEST_F(LeaseTest, ReleaseHandsOverWithoutWaiting) {
  auto a = MakeLease("replica-a");
  auto b = MakeLease("replica-b");
  MustStep(*a);
  EXPECT_FALSE(MustStep(*b).leader);
  ASSERT_TRUE(a->Release().ok());
  EXPECT_FALSE(a->leader());
  LeaseState taken = MustStep(*b);  // no clock movement
  EXPECT_TRUE(taken.leader);
  EXPECT_EQ(taken.epoch, 2);
}

TEST_F(LeaseTest, ARestartedReplicaTakesItsOwnLeaseBackAtOnce) {
  auto first = MakeLease("replica-a");
  MustStep(*first);
  first.reset();  // its destructor releases the lease; a crash would not have
  // Put the row back as a crash leaves it: held, unexpired.
  ASSERT_TRUE(store::RunInTransaction(*store_, store::TxMode::kWrite, [&](store::Transaction& tx) {
                return tx.Exec("UPDATE leases SET expires_at_ms = ?", {clock_.NowUnixMillis() + 3000}).status();
              }).ok());
  auto again = MakeLease("replica-a");
  LeaseState state = MustStep(*again);
  EXPECT_TRUE(state.leader);
  EXPECT_EQ(state.epoch, 1);
  auto other = MakeLease("replica-b");
  EXPECT_FALSE(MustStep(*other).leader);
}

TEST_F(LeaseTest, TheFenceRefusesADeposedLeadersWritesAndKeepsReads) {
  ASSERT_TRUE(store::RunInTransaction(*store_, store::TxMode::kWrite, [](store::Transaction& tx) {
                return tx.Exec("CREATE TABLE marks (who TEXT NOT NULL)").status();
              }).ok());
  auto a = MakeLease("replica-a");
  auto b = MakeLease("replica-b");
  MustStep(*a);
  auto fenced_a = MakeFencedStore(*store_, "singletons", "replica-a", a->epoch());
  auto mark = [](store::Store& s, const std::string& who) {
    return store::RunInTransaction(s, store::TxMode::kWrite, [&](store::Transaction& tx) {
      return tx.Exec("INSERT INTO marks (who) VALUES (?)", {who}).status();
    });
  };
  ASSERT_TRUE(mark(*fenced_a, "a").ok());
  EXPECT_EQ(CountMarks(), 1);

  clock_.Advance(3000ms);
  ASSERT_TRUE(MustStep(*b).leader);
  Status refused = mark(*fenced_a, "a");
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("fenced"));
  EXPECT_EQ(CountMarks(), 1) << "a deposed leader's write landed";
  auto read = fenced_a->Query("SELECT COUNT(*) FROM marks");
  EXPECT_TRUE(read.ok());

  auto fenced_b = MakeFencedStore(*store_, "singletons", "replica-b", b->epoch());
  EXPECT_TRUE(mark(*fenced_b, "b").ok());
  EXPECT_EQ(CountMarks(), 2);
  // A fence with no lease at all refuses too.
  auto nobody = MakeFencedStore(*store_, "other", "replica-b", 1);
  EXPECT_EQ(mark(*nobody, "b").code(), StatusCode::kFailedPrecondition);
}

TEST_F(LeaseTest, AStoreFencedByTheLeaseWritesOnlyWhileItLeads) {
  ASSERT_TRUE(store::RunInTransaction(*store_, store::TxMode::kWrite, [](store::Transaction& tx) {
                return tx.Exec("CREATE TABLE marks (who TEXT NOT NULL)").status();
              }).ok());
  auto a = MakeLease("replica-a");
  auto b = MakeLease("replica-b");
  auto fenced = MakeFencedStore(*store_, *a);
  auto mark = [&] {
    return store::RunInTransaction(*fenced, store::TxMode::kWrite, [](store::Transaction& tx) {
      return tx.Exec("INSERT INTO marks (who) VALUES ('a')").status();
    });
  };
  Status before = mark();
  EXPECT_EQ(before.code(), StatusCode::kFailedPrecondition) << "written before the election";
  EXPECT_THAT(before.message(), HasSubstr("does not hold"));
  MustStep(*a);
  EXPECT_TRUE(mark().ok());
  clock_.Advance(3000ms);
  MustStep(*b);
  // a has not noticed yet (no step since): the fence in the store refuses it anyway.
  ASSERT_TRUE(a->leader());
  EXPECT_EQ(mark().code(), StatusCode::kFailedPrecondition);
  MustStep(*a);
  EXPECT_FALSE(a->leader());
  EXPECT_EQ(mark().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(CountMarks(), 1);
}

TEST_F(LeaseTest, ConcurrentCandidatesElectExactlyOne) {
  constexpr int kReplicas = 8;
  std::vector<std::unique_ptr<store::Store>> stores;
  std::vector<std::unique_ptr<Lease>> leases;
  for (int i = 0; i < kReplicas; ++i) {
    auto s = OpenStore();
    ASSERT_TRUE(s.ok());
    stores.push_back(std::move(*s));
    LeaseOptions options{.name = "singletons", .holder = "replica-" + std::to_string(i)};
    leases.push_back(std::make_unique<Lease>(*stores.back(), clock_, options, nullptr, nullptr));
  }
  std::atomic<int> leaders{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (auto& lease : leases) {
    threads.emplace_back([&lease, &leaders, &failures] {
      auto state = lease->Step();
      if (!state.ok()) ++failures;
      if (state.ok() && state->leader) ++leaders;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(leaders.load(), 1);
  int holding = 0;
  for (auto& lease : leases) holding += lease->leader() ? 1 : 0;
  EXPECT_EQ(holding, 1);
}

TEST_F(LeaseTest, AStoppedLeaderHandsOverToARunningFollower) {
  SystemClock& real = SystemClock::Instance();
  std::atomic<int64_t> b_elected{0};
  LeaseOptions a_options{.name = "singletons", .holder = "replica-a", .retry_every = 20ms};
  LeaseOptions b_options{.name = "singletons", .holder = "replica-b", .retry_every = 20ms};
  Lease a(*store_, real, a_options, nullptr, nullptr);
  Lease b(
      *store_, real, b_options, [&](int64_t epoch) { b_elected = epoch; }, nullptr);
  ASSERT_TRUE(a.Start().ok());
  EXPECT_TRUE(a.leader()) << "a lone replica leads once Start returns";
  ASSERT_TRUE(b.Start().ok());
  EXPECT_FALSE(b.leader());
  a.Stop();
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (b_elected.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);  // polling for the follower's next attempt, with a deadline
  }
  EXPECT_EQ(b_elected.load(), 2);
  EXPECT_TRUE(b.leader());
}

TEST(InstanceIdTest, IsMadeOnceAndKept) {
  neosl::testing::TempDir dir;
  auto first = LoadInstanceId(dir.path());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->size(), 16u);
  auto second = LoadInstanceId(dir.path());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
  neosl::testing::TempDir other;
  EXPECT_NE(*LoadInstanceId(other.path()), *first);
}

TEST(InstanceIdTest, RacingProcessesAgree) {
  neosl::testing::TempDir dir;
  std::vector<std::string> ids(8);
  std::vector<std::thread> threads;
  for (auto& id : ids) {
    threads.emplace_back([&id, &dir] {
      auto got = LoadInstanceId(dir.path());
      id = got.ok() ? *got : got.status().ToString();
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& id : ids) EXPECT_EQ(id, ids[0]);
}

TEST(InstanceIdTest, AGarbledFileIsAnErrorNotANewId) {
  neosl::testing::TempDir dir;
  neosl::testing::WriteFile(dir.File("instance.id"), "x\n");
  EXPECT_EQ(LoadInstanceId(dir.path()).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace neosl::coord
