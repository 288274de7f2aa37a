#include "support/test_store.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unistd.h>

#include "support/postgres_cluster.h"

namespace neosl::testing {
namespace {

struct Shared {
  std::mutex mu;
  std::unique_ptr<PostgresCluster> cluster;
  std::map<std::string, std::string> dsn_by_key;
  int shared_count = 0;
};

Shared& State() {
  static Shared* state = new Shared();  // never destroyed: servers may still use it at exit
  return *state;
}

// The cluster is stopped (its files removed) by this object's destructor at exit; the servers
// of the test are gone by then.
struct ClusterOwner {
  ~ClusterOwner() {
    std::lock_guard<std::mutex> lock(State().mu);
    State().cluster.reset();
  }
};

std::string Canonical(const std::string& path) {
  std::error_code ec;
  auto abs = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : abs.string();
}

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "test store: %s\n", why.c_str());
  std::abort();
}

}  // namespace

bool OnPostgres() {
  const char* v = std::getenv("NEOSL_TEST_STORE");  // NOLINT(concurrency-mt-unsafe): nothing sets it
  return v != nullptr && std::string(v) == "postgres";
}

std::string PostgresDsnFor(const std::string& key) {
  static ClusterOwner owner;
  Shared& s = State();
  std::lock_guard<std::mutex> lock(s.mu);
  const std::string k = Canonical(key);
  if (auto it = s.dsn_by_key.find(k); it != s.dsn_by_key.end()) return it->second;
  std::string error;
  if (!s.cluster) {
    // Launched from a thread that lives as long as the process: the server is told to shut
    // down when the thread that started it ends, and the test's own thread may be short-lived.
    std::promise<std::unique_ptr<PostgresCluster>> launched;
    auto future = launched.get_future();
    std::thread([&launched, &error] {
      launched.set_value(PostgresCluster::Launch(&error));
      for (;;) ::pause();
    }).detach();
    s.cluster = future.get();
    if (!s.cluster) Die("cannot start PostgreSQL: " + error);
  }
  std::string dsn = s.cluster->CreateDatabase(&error);
  if (dsn.empty()) Die("cannot create a database: " + error);
  s.dsn_by_key.emplace(k, dsn);
  return dsn;
}

EnvList StoreEnv(const std::string& data_dir) {
  if (!OnPostgres()) return {};
  return {{"NEOSL_STORE_DRIVER", "postgres"}, {"NEOSL_STORE_POSTGRES_DSN", PostgresDsnFor(data_dir + "/neosl.db")}};
}

EnvList SharedStoreEnv(const std::string& sqlite_path) {
  if (!OnPostgres()) return {{"NEOSL_STORE_DRIVER", "sqlite"}, {"NEOSL_STORE_SQLITE_PATH", sqlite_path}};
  return {{"NEOSL_STORE_DRIVER", "postgres"}, {"NEOSL_STORE_POSTGRES_DSN", PostgresDsnFor(sqlite_path)}};
}

}  // namespace neosl::testing
