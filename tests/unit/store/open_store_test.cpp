// OpenStore: the configuration's choice of backend. The PostgreSQL side against a real server
// is in postgres_store_test.cpp.
#include "store/open_store.h"

#include <filesystem>
#include <map>
#include <string>
#include <utility>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace neosl::store {
namespace {

using ::neosl::testing::TempDir;
using ::testing::HasSubstr;

StatusOr<std::unique_ptr<Store>> OpenWith(const std::map<std::string, std::string>& env, const std::string& dir) {
  StatusOr<Config> config = Config::Load(std::nullopt, env);
  if (!config.ok()) return config.status();
  return OpenStore(*config, dir);
}

TEST(OpenStoreTest, DefaultsToSqliteInTheDataDirectory) {
  TempDir dir;
  StatusOr<std::unique_ptr<Store>> store = OpenWith({}, dir.path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->backend(), "sqlite");
  EXPECT_TRUE(std::filesystem::exists(dir.File("neosl.db")));

  const std::string elsewhere = dir.File("other.db");
  store = OpenWith({{"NEOSL_STORE_SQLITE_PATH", elsewhere}}, dir.path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(elsewhere));
}

TEST(OpenStoreTest, UnknownDriverIsNamed) {
  TempDir dir;
  StatusOr<std::unique_ptr<Store>> store = OpenWith({{"NEOSL_STORE_DRIVER", "mysql"}}, dir.path());
  ASSERT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("'mysql'"));
  EXPECT_FALSE(std::filesystem::exists(dir.File("neosl.db")));
}

TEST(OpenStoreTest, PostgresKeysAreCheckedBeforeConnecting) {
  TempDir dir;
  const std::map<std::string, std::string> postgres = {{"NEOSL_STORE_DRIVER", "postgres"}};
  StatusOr<std::unique_ptr<Store>> store = OpenWith(postgres, dir.path());
  ASSERT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("store.postgres.dsn"));

  const std::pair<std::string, std::string> kWrong[] = {
      {"POOL_SIZE", "0"}, {"POOL_SIZE", "4294967296"}, {"CONNECT_TIMEOUT_MS", "0"}, {"STATEMENT_TIMEOUT_MS", "-1"}};
  for (const auto& [key, value] : kWrong) {
    auto env = postgres;
    env["NEOSL_STORE_POSTGRES_DSN"] = "host=127.0.0.1 port=1 password=pw-never-shown";
    env["NEOSL_STORE_POSTGRES_" + key] = value;
    store = OpenWith(env, dir.path());
    ASSERT_EQ(store.status().code(), StatusCode::kInvalidArgument) << key;
    EXPECT_THAT(std::string(store.status().message()), HasSubstr("store.postgres."));
    EXPECT_THAT(std::string(store.status().message()), ::testing::Not(HasSubstr("pw-never-shown")));
  }
}

TEST(OpenStoreTest, TheDsnIsASecretOfTheConfiguration) {
  StatusOr<Config> config =
      Config::Load(std::nullopt, {{"NEOSL_STORE_POSTGRES_DSN", "postgresql://neosl:pw-never-shown@db/neosl"}});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_THAT(config->ToJson(), ::testing::Not(HasSubstr("pw-never-shown")));
  EXPECT_EQ(config->Int("store.postgres.pool_size"), 8);
  EXPECT_EQ(config->Int("store.postgres.connect_timeout_ms"), 5000);
  EXPECT_EQ(config->Int("store.postgres.statement_timeout_ms"), 30000);
}

}  // namespace
}  // namespace neosl::store
