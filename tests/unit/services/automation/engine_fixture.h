// What the engine tests (engine_test.cpp, manual_run_test.cpp) share: a real SQLite store with
// every migration, a manual clock that moves only when a test moves it, and webhook actions to a
// loopback server through the SSRF-checking relay, the server recording each run id and context
// it received and answering with the status a test sets.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/encoding.h"
#include "core/random.h"
#include "net/fetcher.h"
#include "schema/migrations.h"
#include "services/automation/engine.h"
#include "store/sqlite_store.h"
#include "support/temp_dir.h"
#include "tee/socket_relay.h"
#include "unit/net/test_server.h"

namespace neosl::automation::testing {

inline constexpr char kAccount[] = "acc_test";

// Waits (bounded) for a condition another thread makes true.
inline bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polls; the deadline bounds it
  }
  return true;
}

class EngineFixture : public ::testing::Test {
 protected:
  EngineFixture()
      : clock_(*ParseRfc3339Millis("2026-03-07T12:00:00.000Z")), hook_([this](const net::testing::ReceivedRequest& r) {
          boost::json::value body = boost::json::parse(r.body);
          {
            std::lock_guard lock(mu_);
            received_.push_back(std::string(body.at("run_id").as_string()));
            contexts_.push_back(boost::json::serialize(body.at("context")));
          }
          const int status = next_status_.load();
          return net::testing::Respond(status, status < 300 ? "OK" : "Error", "{}");
        }) {
    auto store = store::OpenSqliteStore({.path = dir_.File("neosl.db")});
    EXPECT_TRUE(store.ok());
    store_ = std::move(*store);
    EXPECT_TRUE(store_->Migrate(schema::Migrations()).ok());
    tee::SocketRelayOptions relay;
    relay.allow_private = {"127.0.0.1/32"};
    relay_ = std::make_unique<tee::SocketRelay>(relay);
    fetcher_ = std::move(net::Fetcher::Create({}, *relay_).value());
    ActionDeps deps;
    deps.fetcher = fetcher_.get();
    deps.clock = &clock_;
    actions_ = std::make_unique<ActionRunner>(deps, ActionOptions{});
  }

  ~EngineFixture() override {
    if (engine_) engine_->Stop();
  }

  // An engine on the fixture's store, not started. Time moves only when a test moves it: the
  // timer thread waits to be woken.
  std::unique_ptr<Engine> MakeEngine(size_t max_triggers = 100) {
    EngineOptions o;
    o.threads = 2;
    o.max_triggers_per_account = max_triggers;
    o.max_catch_up = 3;
    o.wait = [](std::unique_lock<std::mutex>& lock, std::condition_variable& wake, int64_t, std::optional<int64_t>) {
      wake.wait(lock);
    };
    return std::make_unique<Engine>(std::move(o), *store_, *actions_, clock_, random_);
  }

  void StartEngine(size_t max_triggers = 100) {
    engine_ = MakeEngine(max_triggers);
    Status started = engine_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
  }

  TriggerRecord Create(TriggerSpec spec, bool paused = false) {
    auto t = engine_->Create(kAccount, std::move(spec), paused);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : TriggerRecord{};
  }

  TriggerRecord Stored(const std::string& id) {
    auto t = TriggerStore(*store_).Get(kAccount, id);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : TriggerRecord{};
  }

  std::vector<std::string> Received() {
    std::lock_guard lock(mu_);
    return received_;
  }

  neosl::testing::TempDir dir_;
  ManualClock clock_;
  DeterministicRandom random_{7};
  std::mutex mu_;
  std::vector<std::string> received_, contexts_;
  std::atomic<int> next_status_{200};
  net::testing::TestServer hook_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<tee::SocketRelay> relay_;
  std::unique_ptr<net::Fetcher> fetcher_;
  std::unique_ptr<ActionRunner> actions_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace neosl::automation::testing
