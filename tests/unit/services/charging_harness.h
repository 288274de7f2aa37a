// What the tests of a charging service share: a SQLite store with every migration, the default
// mesh policy, an in-process pipeline and server, a client with the service's identity (for its
// GasCharger), and the fake gas bank registered as "gasbank" beside the service under test.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/random.h"
#include "mesh/client.h"
#include "mesh/policy.h"
#include "mesh/registry.h"
#include "mesh/server.h"
#include "schema/migrations.h"
#include "store/sqlite_store.h"
#include "support/temp_dir.h"
#include "unit/services/functions/fake_gas_bank.h"

namespace neosl::testing {

class ChargingHarness {
 public:
  // The store, pipeline, server, client of `identity` and the bank; ASSERTs (check
  // HasFatalFailure() after).
  void Open(const std::string& identity) {
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
    server_ = std::make_unique<mesh::MeshServer>(mesh::ServerOptions{}, *pipeline_, "test-1");
    registry_ = mesh::NewMemoryRegistry();
    mesh::ClientOptions co;
    co.identity = identity;
    client_ = std::make_unique<mesh::MeshClient>(co, *registry_, mesh::InProcessChannels(*server_, co.identity),
                                                 SystemClock::Instance(), SecureRandom::Instance());
    bank_ = std::make_unique<FakeGasBank>(*pipeline_);
  }

  // Serves `service` beside the bank and registers the bank where the client finds it.
  void Start(grpc::Service* service) {
    server_->AddService(bank_.get());
    server_->AddService(service);
    ASSERT_TRUE(server_->Start().ok());
    auto reg = registry_->Register(mesh::Endpoint{"gasbank", "test-1", "inproc", "t", true, {}});
    ASSERT_TRUE(reg.ok());
    registration_ = std::move(*reg);
  }

  // Before the service under test is destroyed.
  void Stop() {
    registration_.reset();
    if (server_) server_->Shutdown(std::chrono::milliseconds(1000));
  }

  int64_t Count(const std::string& sql) {
    auto rows = store_->Query(sql, {});
    EXPECT_TRUE(rows.ok() && rows->size() == 1);
    return rows.ok() && rows->size() == 1 ? (*rows)[0].Int(0).value() : -1;
  }

  store::Store& store() { return *store_; }
  mesh::Pipeline& pipeline() { return *pipeline_; }
  mesh::MeshServer& server() { return *server_; }
  mesh::MeshClient& client() { return *client_; }
  FakeGasBank& bank() { return *bank_; }

 private:
  TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<mesh::AuthzPolicy> policy_;
  std::unique_ptr<mesh::Pipeline> pipeline_;
  std::unique_ptr<mesh::MeshServer> server_;
  std::unique_ptr<mesh::Registry> registry_;
  std::unique_ptr<mesh::MeshClient> client_;
  std::unique_ptr<FakeGasBank> bank_;
  std::unique_ptr<mesh::Registration> registration_;
};

}  // namespace neosl::testing
