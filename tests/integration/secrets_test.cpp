// Secrets end to end through `neosl serve`: the REST API, the mesh, the enclave's sealing, the
// store and the audit log — and what must never happen: a value in the database, a value across
// accounts, an audit log edited without anyone noticing.
#include <algorithm>
#include <cstdio>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/fixture.h"
#include "store/sqlite_store.h"
#include "support/test_store_open.h"

namespace neosl::testing {
namespace {

using ::testing::HasSubstr;
using Env = std::vector<std::pair<std::string, std::string>>;

constexpr char kMarker[] = "MARKER-7c1e2b-correct-horse-battery";

std::string Body(const std::string& value) {
  return R"({"value":")" + value + R"("})";
}

// Whether any file under `dir` contains `needle`.
bool AnyFileContains(const std::string& dir, const std::string& needle) {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str().find(needle) != std::string::npos) return true;
  }
  return false;
}

// Whether the readable memory of process `pid` contains `needle` (/proc/<pid>/maps and mem; the
// test runner is the server's parent, so it may read it).
bool ProcessMemoryContains(pid_t pid, const std::string& needle, size_t* scanned) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  int fd = open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0) << "cannot open the server's memory";
  if (fd < 0) return true;
  std::string line, carry;
  bool found = false;
  while (!found && std::getline(maps, line)) {
    unsigned long long lo = 0, hi = 0;
    char perms[5] = {0};
    if (std::sscanf(line.c_str(), "%llx-%llx %4s", &lo, &hi, perms) != 3 || perms[0] != 'r') continue;
    if (line.find("[vvar]") != std::string::npos || line.find("[vsyscall]") != std::string::npos) continue;
    std::vector<char> buf(1 << 20);
    for (unsigned long long at = lo; at < hi && !found; at += buf.size()) {
      size_t want = std::min<unsigned long long>(buf.size(), hi - at);
      ssize_t got = pread(fd, buf.data(), want, static_cast<off_t>(at));
      if (got <= 0) break;
      *scanned += size_t(got);
      found = std::string_view(buf.data(), size_t(got)).find(needle) != std::string_view::npos;
    }
  }
  close(fd);
  return found;
}

class SecretsTest : public ServerTest {
 protected:
  HttpResult Put(const std::string& name, const std::string& body, const std::string& key) {
    return client_->Request("PUT", "/v1/secrets/" + name, body,
                            {{"authorization", "Bearer " + key}, {"content-type", "application/json"}});
  }
};

TEST_F(SecretsTest, PutRotateListDeleteAndNoValueEverComesBack) {
  StartServer();
  auto r = Put("db_password", Body(kMarker), admin_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).at("version").as_string(), "1");
  EXPECT_EQ(Json(r).at("rotated_at").as_string(), "");
  r = Put("db_password", Body(std::string(kMarker) + "-2"), admin_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).at("version").as_string(), "2");
  EXPECT_NE(Json(r).at("rotated_at").as_string(), "");

  auto list = client_->Get("/v1/secrets", admin_);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_THAT(list.body, HasSubstr("\"db_password\""));
  EXPECT_THAT(list.body, ::testing::Not(HasSubstr(kMarker)));

  auto audit = client_->Get("/v1/secrets/audit", admin_);
  ASSERT_EQ(audit.status, 200) << audit.body;
  auto a = Json(audit).as_object();
  EXPECT_TRUE(a.at("verification").at("ok").as_bool()) << audit.body;
  ASSERT_EQ(a.at("entries").as_array().size(), 2u);
  EXPECT_EQ(a.at("entries").as_array()[0].at("action").as_string(), "create");
  EXPECT_EQ(a.at("entries").as_array()[1].at("action").as_string(), "rotate");
  EXPECT_THAT(std::string(a.at("entries").as_array()[0].at("actor").as_string()), ::testing::StartsWith("key:"));
  EXPECT_THAT(audit.body, ::testing::Not(HasSubstr(kMarker)));

  r = client_->Request("DELETE", "/v1/secrets/db_password", "", {{"authorization", "Bearer " + admin_}});
  ASSERT_EQ(r.status, 200) << r.body;
  r = client_->Request("DELETE", "/v1/secrets/db_password", "", {{"authorization", "Bearer " + admin_}});
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(Json(client_->Get("/v1/secrets", admin_)).at("secrets").as_array().size(), 0u);
  EXPECT_EQ(Json(client_->Get("/v1/secrets/audit", admin_)).at("entries").as_array().size(), 3u);

  // Nothing in the data directory (database, WAL, sealed state) holds a value.
  const std::string dir = server_->data_dir();
  EXPECT_EQ(server_->Stop(), 0);
  EXPECT_FALSE(AnyFileContains(dir, kMarker));
}

TEST_F(SecretsTest, AValueEncryptedByTheClientIsNeverInTheHostsMemoryOrDatabase) {
  StartServer();
  TempDir dir;
  WriteFile(dir.File("value"), kMarker);
  Env env = {{"NEOSL_URL", "http://" + server_->address()}, {"NEOSL_API_KEY", admin_}};
  auto put = RunNeosl({"secrets", "put", "vault_token", "--value-file", dir.File("value"), "--allow-simulation"}, env);
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_THAT(put.out, HasSubstr("\"version\""));
  // Control: the scan finds a marker the host does hold (the secret's name, from the request).
  size_t scanned = 0;
  EXPECT_TRUE(ProcessMemoryContains(server_->pid(), "vault_token", &scanned));
  scanned = 0;
  EXPECT_FALSE(ProcessMemoryContains(server_->pid(), kMarker, &scanned));
  EXPECT_GT(scanned, size_t(1) << 20);
  const std::string data = server_->data_dir();
  ASSERT_EQ(server_->Stop(), 0);
  EXPECT_FALSE(AnyFileContains(data, kMarker));
}

TEST_F(SecretsTest, TheValueLimitHoldsForValuesEncryptedByTheClient) {
  StartServer({.env = {{"NEOSL_SECRETS_MAX_VALUE_BYTES", "16"}}});
  TempDir dir;
  WriteFile(dir.File("small"), std::string(16, 's'));
  WriteFile(dir.File("big"), std::string(17, 'b'));
  Env env = {{"NEOSL_URL", "http://" + server_->address()}, {"NEOSL_API_KEY", admin_}};
  auto ok = RunNeosl({"secrets", "put", "small", "--value-file", dir.File("small"), "--allow-simulation"}, env);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  auto big = RunNeosl({"secrets", "put", "big", "--value-file", dir.File("big"), "--allow-simulation"}, env);
  EXPECT_NE(big.exit_code, 0);
  EXPECT_THAT(big.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(big.err, HasSubstr("16-byte limit"));
  EXPECT_EQ(Put("plain", Body(std::string(17, 'p')), admin_).status, 400);
}

TEST_F(SecretsTest, BadInputIsAClearError) {
  StartServer({.env = {{"NEOSL_SECRETS_MAX_PER_ACCOUNT", "2"}}});
  EXPECT_EQ(Put("has%20space", Body("x"), admin_).status, 400);
  EXPECT_EQ(Put(std::string(65, 'a'), Body("x"), admin_).status, 400);
  EXPECT_EQ(Put("n", R"({})", admin_).status, 400);
  EXPECT_EQ(Put("n", R"({"value":"a","encrypted_value":"00"})", admin_).status, 400);
  EXPECT_EQ(Put("n", R"({"encrypted_value":"zz"})", admin_).status, 400);
  auto undecryptable = Put("n", R"({"encrypted_value":"0011"})", admin_);
  EXPECT_EQ(undecryptable.status, 400) << undecryptable.body;
  EXPECT_THAT(undecryptable.body, HasSubstr("neosl-secret-v1"));
  EXPECT_EQ(Put("n", Body(std::string(65537, 'v')), admin_).status, 400);
  ASSERT_EQ(Put("one", Body("1"), admin_).status, 200);
  ASSERT_EQ(Put("two", Body("2"), admin_).status, 200);
  auto third = Put("three", Body("3"), admin_);
  EXPECT_EQ(third.status, 429) << third.body;
  EXPECT_EQ(ErrorCode(third), "RESOURCE_EXHAUSTED");
  EXPECT_EQ(Put("two", Body("2b"), admin_).status, 200);  // rotating is not a new secret
  std::string dapp = CreateAccount("dapp");
  auto viewer = CreateKey(dapp, R"(["viewer"])");
  EXPECT_EQ(Put("one", Body("x"), viewer.second).status, 403);  // writing needs developer
  EXPECT_EQ(client_->Get("/v1/secrets", viewer.second).status, 200);
}

TEST_F(SecretsTest, AnotherAccountCanNeitherSeeNorTouchASecret) {
  StartServer();
  ASSERT_EQ(Put("api_token", Body(kMarker), admin_).status, 200);
  std::string other = CreateAccount("other dapp");
  auto [id, key] = CreateKey(other, R"(["developer"])");
  auto list = client_->Get("/v1/secrets", key);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(Json(list).at("secrets").as_array().size(), 0u);
  auto del = client_->Request("DELETE", "/v1/secrets/api_token", "", {{"authorization", "Bearer " + key}});
  EXPECT_EQ(del.status, 404) << del.body;
  EXPECT_EQ(Json(client_->Get("/v1/secrets/audit", key)).at("entries").as_array().size(), 0u);
  // Its own secret of the same name is its own.
  auto mine = Put("api_token", Body("theirs"), key);
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_EQ(Json(mine).at("version").as_string(), "1");
  EXPECT_EQ(Json(client_->Get("/v1/secrets", admin_)).at("secrets").as_array()[0].at("version").as_string(), "1");
}

TEST_F(SecretsTest, ARestartKeepsSecretsAndTheAuditLogAndAnEditIsDetected) {
  TempDir data;  // outlives each server process
  ServerOptions again;
  again.data_dir = data.File("data");
  StartServer(again);
  ASSERT_EQ(Put("a", Body(kMarker), admin_).status, 200);
  ASSERT_EQ(Put("a", Body(kMarker), admin_).status, 200);
  ASSERT_EQ(Put("b", Body(kMarker), admin_).status, 200);
  const std::string dir = server_->data_dir();
  ASSERT_EQ(server_->Stop(), 0);

  StartServer(again);
  auto list = Json(client_->Get("/v1/secrets", admin_)).at("secrets").as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].at("version").as_string(), "2");
  auto audit = Json(client_->Get("/v1/secrets/audit", admin_));
  EXPECT_TRUE(audit.at("verification").at("ok").as_bool());
  ASSERT_EQ(server_->Stop(), 0);

  // Someone with the database edits an entry: the CLI and the API both see it.
  auto r = RunNeosl({"audit", "verify", "--data", dir});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  {
    store::SqliteOptions o;
    o.path = dir + "/neosl.db";
    auto s = ::neosl::testing::OpenTestStore(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    auto tx = (*s)->Begin(store::TxMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)->Exec("UPDATE audit_log SET subject = 'z' WHERE seq = 2").ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  r = RunNeosl({"audit", "verify", "--data", dir});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("seq 2"));
  StartServer(again);
  audit = Json(client_->Get("/v1/secrets/audit", admin_));
  EXPECT_FALSE(audit.at("verification").at("ok").as_bool());
  EXPECT_EQ(audit.at("verification").at("first_bad_seq").as_string(), "2");
}

}  // namespace
}  // namespace neosl::testing
