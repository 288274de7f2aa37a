// The etcd backend against a real etcd started for each test (tests/support/etcd_process.h).
#include <csignal>
#include <iostream>
#include <unistd.h>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "core/encoding.h"
#include "mesh/registry.h"
#include "support/etcd_process.h"
#include "support/http_client.h"
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
namespace json = boost::json;

std::string B64(std::string_view s) {
  return Base64Encode(std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

class EtcdRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (neosl::testing::EtcdProcess::Binary().empty()) {
      GTEST_SKIP() << "etcd not installed (/usr/bin/etcd; scripts/install-deps installs etcd-server, or set "
                      "NEOSL_ETCD): skipping the etcd registry tests";
    }
    std::string error;
    etcd_ = neosl::testing::EtcdProcess::Launch(&error);
    ASSERT_TRUE(etcd_) << error;
  }

  EtcdOptions Etcd() const {
    EtcdOptions o;
    o.endpoints = {etcd_->endpoint()};
    o.prefix = "/test";
    o.request_timeout = 1s;
    return o;
  }
  static RegistryOptions Options(std::chrono::milliseconds ttl = 1s) {
    RegistryOptions o;
    o.lease_ttl = ttl;
    o.poll_interval = 50ms;
    return o;
  }
  std::unique_ptr<Registry> NewRegistry(std::chrono::milliseconds ttl = 1s) {
    auto r = NewEtcdRegistry(Etcd(), Options(ttl));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(*r) : nullptr;
  }

  // A raw call to etcd's gateway, bypassing the registry.
  json::object Raw(const std::string& path, const json::object& body) {
    neosl::testing::HttpClient http(etcd_->endpoint().substr(7));
    auto r = http.Post(path, json::serialize(body));
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    json::error_code ec;
    json::value v = json::parse(r.body, ec);
    return !ec && v.is_object() ? v.get_object() : json::object{};
  }
  json::object RawGet(const std::string& key) { return Raw("/v3/kv/range", {{"key", B64(key)}}); }

  std::unique_ptr<neosl::testing::EtcdProcess> etcd_;
};

TEST_F(EtcdRegistryTest, RegisterResolveClose) {
  auto registry = NewRegistry();
  ASSERT_TRUE(registry);
  EXPECT_EQ(registry->backend(), "etcd");
  Endpoint b = MakeEndpoint("echo", "echo-b", "127.0.0.1:2");
  b.metadata["zone"] = "z";
  auto rb = registry->Register(b);
  auto ra = registry->Register(MakeEndpoint("echo", "echo-a", "127.0.0.1:1"));
  auto ro = registry->Register(MakeEndpoint("echo2", "x"));  // a service whose name extends "echo"
  ASSERT_TRUE(ra.ok() && rb.ok() && ro.ok()) << ra.status().ToString();
  auto live = registry->Resolve("echo");
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  EXPECT_THAT(Instances(*live), ElementsAre("echo-a", "echo-b"));
  EXPECT_EQ((*live)[1], b);

  // The stored value: the endpoint JSON under <prefix>/services/<service>/<instance>, on a lease.
  json::object got = RawGet("/test/services/echo/echo-b");
  ASSERT_TRUE(got.contains("kvs"));
  const json::object& kv = got["kvs"].as_array()[0].as_object();
  auto value = Base64Decode(kv.at("value").as_string());
  ASSERT_TRUE(value);
  EXPECT_EQ(std::string(value->begin(), value->end()), EndpointToJson(b));
  EXPECT_NE(kv.at("lease").as_string(), "0");

  ASSERT_TRUE((*ra)->Close().ok());
  EXPECT_THAT(Instances(*registry->Resolve("echo")), ElementsAre("echo-b"));
  rb->reset();
  EXPECT_TRUE(registry->Resolve("echo")->empty());
  EXPECT_FALSE(RawGet("/test/services/echo/echo-b").contains("kvs"));
}

// The acceptance criterion: a cluster on etcd discovers a new replica within its lease time.
TEST_F(EtcdRegistryTest, WatchDiscoversANewReplicaWithinItsLeaseTime) {
  const auto lease = 2s;
  auto registry = NewRegistry(lease);
  ASSERT_TRUE(registry);
  auto first = registry->Register(MakeEndpoint("echo", "echo-1"));
  ASSERT_TRUE(first.ok());
  WatchRecorder rec;
  auto watch = registry->WatchService("echo", rec.Callback());
  ASSERT_TRUE(watch.ok());
  ASSERT_TRUE(rec.WaitInstances({"echo-1"}));

  // The new replica registers through its own registry, as another machine would.
  auto other = NewRegistry(lease);
  auto started = std::chrono::steady_clock::now();
  auto second = other->Register(MakeEndpoint("echo", "echo-2"));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_TRUE(rec.WaitInstances({"echo-1", "echo-2"}, lease));
  auto discovered = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  std::cout << "etcd discovery of a new replica took " << discovered.count() << " ms (lease "
            << std::chrono::milliseconds(lease).count() << " ms)\n";
  RecordProperty("discovery_ms", static_cast<int>(discovered.count()));
  EXPECT_LT(discovered, lease);

  ASSERT_TRUE((*second)->SetHealthy(false).ok());
  ASSERT_TRUE(rec.WaitLatest([](const auto& live) { return live.size() == 2 && !live[1].healthy; }));
  ASSERT_TRUE((*second)->Close().ok());
  ASSERT_TRUE(rec.WaitInstances({"echo-1"}));
}

// A replica that crashes (SIGKILL: no revoke, no more keepalives) disappears when its lease runs out.
TEST_F(EtcdRegistryTest, ACrashedReplicaDisappearsAfterItsLease) {
  const auto lease = 1s;
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    auto registry = NewEtcdRegistry(Etcd(), Options(lease));
    if (!registry.ok()) ::_exit(2);
    auto reg = (*registry)->Register(MakeEndpoint("echo", "doomed"));
    if (!reg.ok()) ::_exit(3);
    char ok = 'r';
    (void)!::write(ready[1], &ok, 1);
    while (true) ::pause();
  }
  ::close(ready[1]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1) << "the child did not register";
  ::close(ready[0]);

  auto registry = NewRegistry(lease);
  ASSERT_TRUE(registry);
  WatchRecorder rec;
  auto watch = registry->WatchService("echo", rec.Callback());
  ASSERT_TRUE(rec.WaitInstances({"doomed"}));

  auto killed_at = std::chrono::steady_clock::now();
  ::kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  // etcd looks for expired leases every 500 ms, on top of the TTL.
  ASSERT_TRUE(rec.WaitInstances({}, 5s));
  auto gone = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed_at);
  std::cout << "a SIGKILLed replica disappeared after " << gone.count() << " ms (lease 1000 ms)\n";
  EXPECT_LE(gone, lease + 500ms + 1500ms);
}

// When etcd forgets the lease (it expired while this process was stalled; here revoked behind the
// registration's back), the keepalive notices, grants a new lease and writes the key again.
TEST_F(EtcdRegistryTest, ALostLeaseIsGrantedAgain) {
  auto registry = NewRegistry();
  ASSERT_TRUE(registry);
  auto reg = registry->Register(MakeEndpoint("echo", "echo-1"));
  ASSERT_TRUE(reg.ok());
  std::string key = "/test/services/echo/echo-1";
  std::string lease(RawGet(key)["kvs"].as_array()[0].as_object().at("lease").as_string());
  Raw("/v3/lease/revoke", {{"ID", lease}});
  ASSERT_TRUE(WaitFor([&] { return !RawGet(key).contains("kvs"); }, 2s));
  ASSERT_TRUE(WaitFor(
      [&] {
        json::object got = RawGet(key);
        return got.contains("kvs") && got["kvs"].as_array()[0].as_object().at("lease").as_string() != lease;
      },
      3s))
      << "the registration did not come back on a new lease";
  EXPECT_EQ(registry->Resolve("echo")->size(), 1u);
}

TEST_F(EtcdRegistryTest, MalformedValuesAreSkipped) {
  auto registry = NewRegistry();
  ASSERT_TRUE(registry);
  auto reg = registry->Register(MakeEndpoint("echo", "good"));
  ASSERT_TRUE(reg.ok());
  Raw("/v3/kv/put", {{"key", B64("/test/services/echo/bad")}, {"value", B64("{nope")}});
  Raw("/v3/kv/put",
      {{"key", B64("/test/services/echo/moved")}, {"value", B64(EndpointToJson(MakeEndpoint("echo", "x")))}});
  auto live = registry->Resolve("echo");
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  EXPECT_THAT(Instances(*live), ElementsAre("good"));
}

// etcd down: calls fail with UNAVAILABLE naming the endpoint; after etcd restarts on the same data,
// the registration is there again and stays (its keepalives work again).
TEST_F(EtcdRegistryTest, EtcdDownIsUnavailableAndRegistrationsRecover) {
  const auto lease = 1s;
  auto registry = NewRegistry(lease);
  ASSERT_TRUE(registry);
  auto reg = registry->Register(MakeEndpoint("echo", "echo-1"));
  ASSERT_TRUE(reg.ok());
  WatchRecorder rec;
  auto watch = registry->WatchService("echo", rec.Callback());
  ASSERT_TRUE(rec.WaitInstances({"echo-1"}));

  etcd_->Stop();
  auto live = registry->Resolve("echo");
  ASSERT_FALSE(live.ok());
  EXPECT_EQ(live.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(std::string(live.status().message()), HasSubstr(etcd_->endpoint()));
  auto again = registry->Register(MakeEndpoint("echo", "echo-2"));
  EXPECT_EQ(again.status().code(), StatusCode::kUnavailable);
  auto fresh = NewEtcdRegistry(Etcd(), Options(lease));
  ASSERT_FALSE(fresh.ok());
  EXPECT_EQ(fresh.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(std::string(fresh.status().message()), HasSubstr(etcd_->endpoint()));
  // Down for longer than the lease.
  auto down_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] { return std::chrono::steady_clock::now() - down_at > lease + 200ms; }, 5s));

  std::string error;
  ASSERT_TRUE(etcd_->Restart(&error)) << error;
  ASSERT_TRUE(WaitFor([&] { return registry->Resolve("echo").ok(); }, 5s));
  EXPECT_THAT(Instances(*registry->Resolve("echo")), ElementsAre("echo-1"));
  // Still there after three lease times: renewed (or granted again), not merely not yet expired.
  auto back_at = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - back_at < 3 * lease) {
    auto now_live = registry->Resolve("echo");
    ASSERT_TRUE(now_live.ok()) << now_live.status().ToString();
    ASSERT_THAT(Instances(*now_live), ElementsAre("echo-1"));
    std::this_thread::sleep_for(100ms);  // sampling over a period, not waiting for a race
  }
  EXPECT_TRUE(rec.WaitInstances({"echo-1"}));
  ASSERT_TRUE((*reg)->Close().ok());
  EXPECT_TRUE(registry->Resolve("echo")->empty());
}

// etcd rebuilt without its data (no lease, no key): registrations write themselves back.
TEST_F(EtcdRegistryTest, RegistrationsComeBackAfterEtcdLosesItsData) {
  auto registry = NewRegistry();
  ASSERT_TRUE(registry);
  auto reg = registry->Register(MakeEndpoint("echo", "echo-1"));
  ASSERT_TRUE(reg.ok());
  std::string error;
  ASSERT_TRUE(etcd_->Restart(&error, /*wipe_data=*/true)) << error;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto live = registry->Resolve("echo");
        return live.ok() && live->size() == 1;
      },
      3s))
      << "the registration did not write itself back";
  ASSERT_TRUE((*reg)->SetHealthy(false).ok());
  EXPECT_FALSE((*registry->Resolve("echo"))[0].healthy);
}

TEST_F(EtcdRegistryTest, UsesTheNextEndpointWhenOneIsDown) {
  EtcdOptions o = Etcd();
  o.endpoints = {"http://127.0.0.1:1", etcd_->endpoint()};  // nothing listens on port 1
  auto registry = NewEtcdRegistry(o, Options());
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  auto reg = (*registry)->Register(MakeEndpoint("echo", "echo-1"));
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  EXPECT_THAT(Instances(*(*registry)->Resolve("echo")), ElementsAre("echo-1"));
}

TEST(EtcdRegistryOptions, RejectsBadEndpointsAndReportsUnreachableOnes) {
  RegistryOptions options;
  EXPECT_EQ(NewEtcdRegistry(EtcdOptions{}, options).status().code(), StatusCode::kInvalidArgument);
  for (const char* bad : {"https://127.0.0.1:2379", "http://127.0.0.1", "http://127.0.0.1:x", "http://h:1/path"}) {
    EtcdOptions o;
    o.endpoints = {bad};
    EXPECT_EQ(NewEtcdRegistry(o, options).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EtcdOptions o;
  o.endpoints = {"http://127.0.0.1:1", "127.0.0.1:9"};  // nothing listens on these
  o.request_timeout = 500ms;
  auto r = NewEtcdRegistry(o, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("http://127.0.0.1:1"));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("127.0.0.1:9"));
}

}  // namespace
}  // namespace neosl::mesh
