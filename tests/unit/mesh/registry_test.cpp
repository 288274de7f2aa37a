// The registry's Endpoint JSON, the memory backend and the file backend (across instances and
// across processes).
#include "mesh/registry.h"

#include <atomic>
#include <csignal>
#include <filesystem>
#include <thread>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "support/temp_dir.h"
#include "unit/mesh/registry_test_support.h"

namespace neosl::mesh {
namespace {
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Instances;
using testing::MakeEndpoint;
using testing::WaitFor;
using testing::WatchRecorder;

// --- Endpoint JSON ---

TEST(EndpointJson, MatchesTheDocumentedShape) {
  Endpoint e = MakeEndpoint("echo", "echo-3f2a", "127.0.0.1:4711");
  e.metadata["zone"] = "a";
  EXPECT_EQ(EndpointToJson(e),
            R"({"service":"echo","instance":"echo-3f2a","address":"127.0.0.1:4711","version":"0.1.0",)"
            R"("healthy":true,"metadata":{"zone":"a"}})");
  auto back = EndpointFromJson(EndpointToJson(e));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, e);
}

TEST(EndpointJson, DefaultsAndUnknownFields) {
  auto e = EndpointFromJson(R"({"service":"s","instance":"i","address":"a:1","expires_ms":5})");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE(e->healthy);
  EXPECT_EQ(e->version, "");
  EXPECT_TRUE(e->metadata.empty());
}

TEST(EndpointJson, RejectsMalformed) {
  for (const char* bad : {
           "",
           "[]",
           "{",
           R"({"instance":"i","address":"a:1"})",
           R"({"service":"","instance":"i","address":"a:1"})",
           R"({"service":"s","instance":7,"address":"a:1"})",
           R"({"service":"s","instance":"i"})",
           R"({"service":"s","instance":"i","address":"a:1","healthy":"yes"})",
           R"({"service":"s","instance":"i","address":"a:1","version":1})",
           R"({"service":"s","instance":"i","address":"a:1","metadata":{"k":1}})",
           R"({"service":"s","instance":"i","address":"a:1","metadata":[]})",
       }) {
    auto e = EndpointFromJson(bad);
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

// --- memory ---

TEST(MemoryRegistry, RegisterResolveClose) {
  auto registry = NewMemoryRegistry();
  EXPECT_EQ(registry->backend(), "memory");
  auto b = registry->Register(MakeEndpoint("echo", "echo-b"));
  auto a = registry->Register(MakeEndpoint("echo", "echo-a"));
  auto other = registry->Register(MakeEndpoint("other", "o-1"));
  ASSERT_TRUE(a.ok() && b.ok() && other.ok());
  auto live = registry->Resolve("echo");
  ASSERT_TRUE(live.ok());
  EXPECT_THAT(Instances(*live), ElementsAre("echo-a", "echo-b"));
  EXPECT_TRUE((*a)->Close().ok());
  EXPECT_TRUE((*a)->Close().ok());  // idempotent
  EXPECT_THAT(Instances(*registry->Resolve("echo")), ElementsAre("echo-b"));
  b->reset();  // the destructor deregisters
  EXPECT_TRUE(registry->Resolve("echo")->empty());
  EXPECT_TRUE(registry->Resolve("nothing")->empty());
}

TEST(MemoryRegistry, ValidatesEndpoints) {
  auto registry = NewMemoryRegistry();
  for (const Endpoint& e : {MakeEndpoint("", "i"), MakeEndpoint("s", ""), MakeEndpoint("s", "i", ""),
                            MakeEndpoint("a/b", "i"), MakeEndpoint("s", ".."), MakeEndpoint("s", "x y")}) {
    auto r = registry->Register(e);
    ASSERT_FALSE(r.ok()) << e.service << "/" << e.instance;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(registry->Resolve("../etc").status().code(), StatusCode::kInvalidArgument);
}

TEST(MemoryRegistry, WatchSeesEveryKindOfChange) {
  auto registry = NewMemoryRegistry();
  WatchRecorder rec;
  auto watch = registry->WatchService("echo", rec.Callback());
  ASSERT_TRUE(watch.ok());
  ASSERT_TRUE(rec.WaitInstances({}));  // the initial, empty set
  auto a = registry->Register(MakeEndpoint("echo", "echo-a"));
  ASSERT_TRUE(rec.WaitInstances({"echo-a"}));
  ASSERT_TRUE((*a)->SetHealthy(false).ok());
  ASSERT_TRUE(rec.WaitLatest([](const auto& live) { return live.size() == 1 && !live[0].healthy; }));
  auto unrelated = registry->Register(MakeEndpoint("other", "o-1"));
  ASSERT_TRUE((*a)->Close().ok());
  ASSERT_TRUE(rec.WaitInstances({}));
  // Every delivery differs from the one before it (no calls for unrelated services or no-ops).
  auto sets = rec.sets();
  for (size_t i = 1; i < sets.size(); ++i) EXPECT_NE(sets[i], sets[i - 1]);
}

TEST(MemoryRegistry, ReRegisteringReplacesAndTheOldHandleCannotRemoveTheNew) {
  auto registry = NewMemoryRegistry();
  Endpoint v1 = MakeEndpoint("echo", "echo-a", "127.0.0.1:1");
  Endpoint v2 = MakeEndpoint("echo", "echo-a", "127.0.0.1:2");
  auto first = registry->Register(v1);
  auto second = registry->Register(v2);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_THAT(*registry->Resolve("echo"), ElementsAre(v2));
  EXPECT_EQ((*first)->SetHealthy(false).code(), StatusCode::kFailedPrecondition);
  first->reset();
  EXPECT_THAT(*registry->Resolve("echo"), ElementsAre(v2));
}

TEST(MemoryRegistry, CallbacksMayUseTheRegistryAndDestroyTheirWatch) {
  auto registry = NewMemoryRegistry();
  std::unique_ptr<Registry::Watch> watch;
  std::mutex mu;
  std::atomic<int> resolved{-1};
  auto w = registry->WatchService("echo", [&](const std::vector<Endpoint>& live) {
    resolved = static_cast<int>(registry->Resolve("echo")->size());  // no lock is held here
    if (!live.empty()) {
      std::lock_guard lock(mu);
      watch.reset();  // destroying the watch from its own callback
    }
  });
  ASSERT_TRUE(w.ok());
  {
    std::lock_guard lock(mu);
    watch = std::move(*w);
  }
  auto a = registry->Register(MakeEndpoint("echo", "echo-a"));
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard lock(mu);
        return watch == nullptr;
      },
      5s));
  EXPECT_EQ(resolved.load(), 1);
}

// --- file ---

RegistryOptions FastOptions(std::chrono::milliseconds ttl = 600ms) {
  RegistryOptions o;
  o.lease_ttl = ttl;
  o.poll_interval = 50ms;
  return o;
}

TEST(FileRegistry, TwoInstancesOnOneDirectorySeeEachOther) {
  neosl::testing::TempDir dir;
  auto a = NewFileRegistry(dir.path(), FastOptions(), SystemClock::Instance());
  auto b = NewFileRegistry(dir.path(), FastOptions(), SystemClock::Instance());
  ASSERT_TRUE(a.ok() && b.ok()) << a.status().ToString();
  EXPECT_EQ((*a)->backend(), "file");
  WatchRecorder rec;
  auto watch = (*b)->WatchService("echo", rec.Callback());
  ASSERT_TRUE(watch.ok());
  ASSERT_TRUE(rec.WaitInstances({}));

  Endpoint e = MakeEndpoint("echo", "echo-1");
  e.metadata["zone"] = "z1";
  auto reg = (*a)->Register(e);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/echo/echo-1.json"));
  ASSERT_TRUE(rec.WaitInstances({"echo-1"}));
  EXPECT_THAT(*(*b)->Resolve("echo"), ElementsAre(e));

  ASSERT_TRUE((*reg)->SetHealthy(false).ok());
  ASSERT_TRUE(rec.WaitLatest([](const auto& live) { return live.size() == 1 && !live[0].healthy; }));

  ASSERT_TRUE((*reg)->Close().ok());
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/echo/echo-1.json"));
  ASSERT_TRUE(rec.WaitInstances({}));
}

TEST(FileRegistry, KeepaliveRenewsTheExpiry) {
  neosl::testing::TempDir dir;
  auto registry = NewFileRegistry(dir.path(), FastOptions(300ms), SystemClock::Instance());
  ASSERT_TRUE(registry.ok());
  auto reg = (*registry)->Register(MakeEndpoint("echo", "echo-1"));
  ASSERT_TRUE(reg.ok());
  std::string path = dir.path() + "/echo/echo-1.json";
  std::string first = neosl::testing::ReadFile(path);
  ASSERT_TRUE(WaitFor([&] { return neosl::testing::ReadFile(path) != first; }, 2s));
  // Alive well past its lease: renewals keep it there.
  auto registered_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] { return std::chrono::steady_clock::now() - registered_at > 900ms; }, 2s));
  EXPECT_THAT(Instances(*(*registry)->Resolve("echo")), ElementsAre("echo-1"));
}

TEST(FileRegistry, ExpiredEntriesAreNotLiveAndAreRemoved) {
  neosl::testing::TempDir dir;
  ManualClock clock;
  // A lease of an hour: the (real-time) keepalive never runs during the test.
  auto registry = NewFileRegistry(dir.path(), FastOptions(1h), clock);
  ASSERT_TRUE(registry.ok());
  auto reg = (*registry)->Register(MakeEndpoint("echo", "echo-1"));
  ASSERT_TRUE(reg.ok());
  clock.Advance(59min);
  EXPECT_EQ((*registry)->Resolve("echo")->size(), 1u);
  clock.Advance(2min);
  EXPECT_TRUE((*registry)->Resolve("echo")->empty());
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/echo/echo-1.json"));
  // The owner is alive after all: its next write brings the entry back.
  ASSERT_TRUE((*reg)->SetHealthy(false).ok());
  EXPECT_EQ((*registry)->Resolve("echo")->size(), 1u);
}

TEST(FileRegistry, MalformedFilesAreSkippedNotRemoved) {
  neosl::testing::TempDir dir;
  auto registry = NewFileRegistry(dir.path(), FastOptions(), SystemClock::Instance());
  ASSERT_TRUE(registry.ok());
  auto reg = (*registry)->Register(MakeEndpoint("echo", "good"));
  ASSERT_TRUE(reg.ok());
  std::string d = dir.path() + "/echo/";
  neosl::testing::WriteFile(d + "garbage.json", "{not json");
  neosl::testing::WriteFile(d + "noexpiry.json", R"({"service":"echo","instance":"noexpiry","address":"a:1"})");
  neosl::testing::WriteFile(d + "elsewhere.json",
                            R"({"service":"echo","instance":"other","address":"a:1","expires_ms":99999999999999})");
  neosl::testing::WriteFile(d + "README.txt", "not an entry");
  for (int i = 0; i < 2; ++i) {  // the second pass does not warn again, and still skips
    auto live = (*registry)->Resolve("echo");
    ASSERT_TRUE(live.ok()) << live.status().ToString();
    EXPECT_THAT(Instances(*live), ElementsAre("good"));
  }
  EXPECT_TRUE(std::filesystem::exists(d + "garbage.json"));
}

TEST(FileRegistry, ReRegisteringReplacesAndTheOldHandleStops) {
  neosl::testing::TempDir dir;
  auto registry = NewFileRegistry(dir.path(), FastOptions(), SystemClock::Instance());
  ASSERT_TRUE(registry.ok());
  auto first = (*registry)->Register(MakeEndpoint("echo", "echo-1", "127.0.0.1:1"));
  auto second = (*registry)->Register(MakeEndpoint("echo", "echo-1", "127.0.0.1:2"));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ((*first)->SetHealthy(false).code(), StatusCode::kFailedPrecondition);
  first->reset();
  auto live = (*registry)->Resolve("echo");
  ASSERT_EQ(live->size(), 1u);
  EXPECT_EQ((*live)[0].address, "127.0.0.1:2");
  EXPECT_TRUE((*live)[0].healthy);
}

TEST(FileRegistry, ConcurrentRegistrationsFromManyInstances) {
  neosl::testing::TempDir dir;
  constexpr size_t kThreads = 8, kEach = 5;
  std::vector<std::unique_ptr<Registration>> regs(kThreads * kEach);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  std::atomic<int> failures{0};
  for (size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto registry = NewFileRegistry(dir.path(), FastOptions(), SystemClock::Instance());
      if (!registry.ok()) {
        ++failures;
        return;
      }
      for (size_t i = 0; i < kEach; ++i) {
        auto reg = (*registry)->Register(MakeEndpoint("echo", "e-" + std::to_string(t) + "-" + std::to_string(i)));
        if (!reg.ok()) {
          ++failures;
          continue;
        }
        regs[t * kEach + i] = std::move(*reg);
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  auto reader = NewFileRegistry(dir.path(), FastOptions(), SystemClock::Instance());
  EXPECT_EQ((*reader)->Resolve("echo")->size(), kThreads * kEach);
  regs.clear();
  EXPECT_TRUE((*reader)->Resolve("echo")->empty());
}

TEST(FileRegistry, RejectsBadOptions) {
  neosl::testing::TempDir dir;
  RegistryOptions o;
  o.lease_ttl = 0ms;
  EXPECT_EQ(NewFileRegistry(dir.path(), o, SystemClock::Instance()).status().code(), StatusCode::kInvalidArgument);
  o = RegistryOptions{};
  o.keepalive_interval = o.lease_ttl;
  EXPECT_EQ(NewFileRegistry(dir.path(), o, SystemClock::Instance()).status().code(), StatusCode::kInvalidArgument);
  neosl::testing::WriteFile(dir.File("a-file"), "x");
  auto r = NewFileRegistry(dir.File("a-file") + "/sub", RegistryOptions{}, SystemClock::Instance());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
}

// A child process registers and is then killed with SIGKILL: no deregistration, no more
// renewals. Its entry must vanish once its lease runs out.
TEST(FileRegistry, AKilledProcessDisappearsAfterItsLease) {
  neosl::testing::TempDir dir;
  const RegistryOptions options = FastOptions(600ms);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    auto registry = NewFileRegistry(dir.path(), options, SystemClock::Instance());
    if (!registry.ok()) ::_exit(2);
    auto reg = (*registry)->Register(MakeEndpoint("echo", "child"));
    if (!reg.ok()) ::_exit(3);
    char ok = 'r';
    (void)!::write(ready[1], &ok, 1);
    while (true) ::pause();
  }
  ::close(ready[1]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1) << "the child did not register";
  ::close(ready[0]);

  auto registry = NewFileRegistry(dir.path(), options, SystemClock::Instance());
  ASSERT_TRUE(registry.ok());
  WatchRecorder rec;
  auto watch = (*registry)->WatchService("echo", rec.Callback());
  ASSERT_TRUE(rec.WaitInstances({"child"}));
  // Renewed by the child beyond its first lease.
  std::string path = dir.path() + "/echo/child.json";
  std::string first = neosl::testing::ReadFile(path);
  ASSERT_TRUE(WaitFor([&] { return neosl::testing::ReadFile(path) != first; }, 2s));

  auto killed_at = std::chrono::steady_clock::now();
  ::kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(rec.WaitInstances({}, 5s)) << "the killed child's entry never went away";
  auto gone_after = std::chrono::steady_clock::now() - killed_at;
  // Its last renewal came before the kill, so its lease ran out by killed_at + lease_ttl; the
  // slack covers a loaded machine.
  EXPECT_LE(gone_after, options.lease_ttl + options.poll_interval + 1s);
  EXPECT_TRUE((*registry)->Resolve("echo")->empty());
  EXPECT_FALSE(std::filesystem::exists(path));  // the next resolve removed it
}

}  // namespace
}  // namespace neosl::mesh
