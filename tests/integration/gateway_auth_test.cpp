// Accounts, API keys, authentication and authorization through the real server.
#include <sys/stat.h>

#include "integration/fixture.h"
#include "support/test_store.h"
#include "support/test_store_open.h"

namespace neosl::testing {
namespace {

// Everything the store holds, as text: the SQLite files, or every row of every table of the
// PostgreSQL database.
std::string StoreContents(const std::string& data_dir) {
  if (!OnPostgres()) return ReadFile(data_dir + "/neosl.db") + ReadFile(data_dir + "/neosl.db-wal");
  auto store = OpenDataDirStore(data_dir);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return "";
  auto tables = (*store)->Query("SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'");
  EXPECT_TRUE(tables.ok()) << tables.status().ToString();
  std::string all;
  for (const auto& table : tables.ok() ? *tables : std::vector<store::Row>{}) {
    auto rows = (*store)->Query("SELECT t::text FROM \"" + *table.Text(0) + "\" t");
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    for (const auto& row : rows.ok() ? *rows : std::vector<store::Row>{}) all += *row.Text(0) + "\n";
  }
  return all;
}

class GatewayAuthTest : public ServerTest {
 protected:
  void SetUp() override { StartServer(); }
};

TEST_F(GatewayAuthTest, AdminKeyFileIsPrivateAndNeverLogged) {
  struct stat st {};
  ASSERT_EQ(stat((server_->data_dir() + "/admin.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_EQ(admin_.rfind("nsl_", 0), 0u);
  auto me = client_->Get("/v1/accounts/me", admin_);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(Json(me).at("roles").at(0).as_string(), "admin");
  std::string logs = server_->Logs();
  EXPECT_NE(logs.find(server_->data_dir() + "/admin.key"), std::string::npos) << "the path is logged";
  EXPECT_EQ(logs.find(admin_), std::string::npos) << "the key itself must never be logged";
  std::string secret_part = admin_.substr(admin_.rfind('_') + 1);
  EXPECT_EQ(logs.find(secret_part), std::string::npos);
}

TEST_F(GatewayAuthTest, MissingMalformedAndUnknownKeysAre401) {
  auto missing = client_->Get("/v1/accounts/me");
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(ErrorCode(missing), "UNAUTHENTICATED");
  EXPECT_EQ(missing.Header("www-authenticate"), "Bearer");

  auto basic = client_->Request("GET", "/v1/accounts/me", "", {{"Authorization", "Basic Zm9vOmJhcg=="}});
  EXPECT_EQ(basic.status, 401);

  auto malformed = client_->Get("/v1/accounts/me", "nsl_short_x");
  EXPECT_EQ(malformed.status, 401);
  EXPECT_NE(Json(malformed).at("error").at("message").as_string().find("malformed"), std::string::npos);

  // Right shape, right id, wrong secret.
  std::string forged = admin_;
  forged.back() = forged.back() == 'a' ? 'b' : 'a';
  auto wrong = client_->Get("/v1/accounts/me", forged);
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(Json(wrong).at("error").at("message").as_string(), "invalid API key");
}

TEST_F(GatewayAuthTest, KeysAreShownOnceAndListedWithoutSecrets) {
  std::string acc = CreateAccount("alice");
  auto [key_id, token] = CreateKey(acc, "[\"owner\"]");
  EXPECT_EQ(token.rfind("nsl_" + key_id + "_", 0), 0u);
  auto list = client_->Get("/v1/accounts/" + acc + "/keys", token);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.body.find(token.substr(token.rfind('_') + 1)), std::string::npos);
  EXPECT_EQ(list.body.find("\"key\""), std::string::npos);
  EXPECT_EQ(Json(list).at("keys").as_array().size(), 1u);
  // The store holds only a hash: the secret does not appear in the database.
  std::string db = StoreContents(server_->data_dir());
  EXPECT_NE(db.find("alice"), std::string::npos) << "the store's contents were not read";
  EXPECT_EQ(db.find(token.substr(token.rfind('_') + 1)), std::string::npos);
}

TEST_F(GatewayAuthTest, RevokedKeyFailsOnTheNextRequest) {
  std::string acc = CreateAccount("bob");
  auto [owner_id, owner] = CreateKey(acc, "[\"owner\"]");
  auto [viewer_id, viewer] = CreateKey(acc, "[\"viewer\"]", owner);
  ASSERT_EQ(client_->Get("/v1/accounts/me", viewer).status, 200);
  auto del = client_->Delete("/v1/keys/" + viewer_id, owner);
  ASSERT_EQ(del.status, 200) << del.body;
  EXPECT_TRUE(Json(del).at("revoked_at").is_string());
  auto after = client_->Get("/v1/accounts/me", viewer);
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(Json(after).at("error").at("message").as_string(), "API key has been revoked");
  // Revoking again is idempotent.
  EXPECT_EQ(client_->Delete("/v1/keys/" + viewer_id, owner).status, 200);
  // The owner key is unaffected.
  EXPECT_EQ(client_->Get("/v1/accounts/me", owner).status, 200);
}

TEST_F(GatewayAuthTest, WrongRoleIs403WithTheSeedsDetails) {
  std::string acc = CreateAccount("carol");
  auto [id, viewer] = CreateKey(acc, "[\"viewer\"]");
  auto r = client_->Post("/v1/accounts/" + acc + "/keys", "{\"roles\":[\"viewer\"]}", viewer);
  EXPECT_EQ(r.status, 403);
  auto err = Json(r).at("error");
  EXPECT_EQ(err.at("code").as_string(), "PERMISSION_DENIED");
  auto detail = err.at("details").at(0);
  EXPECT_EQ(detail.at("type").as_string(), "AuthorizationError");
  EXPECT_EQ(detail.at("required_role").as_string(), "owner");
  EXPECT_EQ(detail.at("operation").as_string(), "CreateApiKey");
  // Account keys cannot use admin routes.
  auto [oid, owner] = CreateKey(acc, "[\"owner\"]");
  EXPECT_EQ(client_->Post("/v1/accounts", "{\"name\":\"x\"}", owner).status, 403);
  EXPECT_EQ(client_->Get("/v1/accounts", owner).status, 403);
}

TEST_F(GatewayAuthTest, AnotherAccountsIdsAre404LikeMissingOnes) {
  std::string a = CreateAccount("a");
  std::string b = CreateAccount("b");
  auto [aid, a_owner] = CreateKey(a, "[\"owner\"]");
  auto [bid, b_owner] = CreateKey(b, "[\"owner\"]");
  auto foreign = client_->Get("/v1/accounts/" + b, a_owner);
  auto missing = client_->Get("/v1/accounts/acc_aaaaaaaaaaaaaaaaaaaa", a_owner);
  EXPECT_EQ(foreign.status, 404);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(ErrorCode(foreign), "NOT_FOUND");
  EXPECT_EQ(client_->Get("/v1/accounts/" + b + "/keys", a_owner).status, 404);
  EXPECT_EQ(client_->Post("/v1/accounts/" + b + "/keys", "{\"roles\":[\"owner\"]}", a_owner).status, 404);
  EXPECT_EQ(client_->Delete("/v1/keys/" + bid, a_owner).status, 404);
  EXPECT_EQ(client_->Delete("/v1/keys/zzzzzzzzzzzzzzzz", a_owner).status, 404);
  // b's key still works: a's attempt did nothing.
  EXPECT_EQ(client_->Get("/v1/accounts/me", b_owner).status, 200);
  EXPECT_EQ(client_->Get("/v1/accounts/" + a, a_owner).status, 200);
}

TEST_F(GatewayAuthTest, RolesAreHierarchicalAndAdminStaysOnThePlatform) {
  std::string acc = CreateAccount("dave");
  auto [did, dev] = CreateKey(acc, "[\"developer\"]");
  auto me = client_->Get("/v1/accounts/me", dev);
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(Json(me).at("account").at("id").as_string(), acc);
  // Developer is below owner: may not mint keys.
  EXPECT_EQ(client_->Post("/v1/accounts/" + acc + "/keys", "{\"roles\":[\"viewer\"]}", dev).status, 403);
  // Nobody can give an ordinary account the admin role.
  auto r = client_->Post("/v1/accounts/" + acc + "/keys", "{\"roles\":[\"admin\"]}", admin_);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(ErrorCode(r), "INVALID_ARGUMENT");
}

TEST_F(GatewayAuthTest, LastAdminKeyCannotBeRevoked) {
  auto me = Json(client_->Get("/v1/accounts/me", admin_));
  std::string key_id(me.at("key_id").as_string());
  auto r = client_->Delete("/v1/keys/" + key_id, admin_);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(ErrorCode(r), "FAILED_PRECONDITION");
  EXPECT_EQ(client_->Get("/v1/accounts/me", admin_).status, 200);
}

TEST_F(GatewayAuthTest, ValidationNamesTheField) {
  struct Case {
    std::string body, field;
  };
  for (const Case& c : std::vector<Case>{{"{", "(body)"},
                                         {"[]", "(body)"},
                                         {"{}", "name"},
                                         {"{\"name\":5}", "name"},
                                         {"{\"name\":\"\"}", "name"},
                                         {"{\"name\":\"ok\",\"extra\":true}", "extra"},
                                         {"{\"name\":\"bad/char\"}", "name"}}) {
    auto r = client_->Post("/v1/accounts", c.body, admin_);
    EXPECT_EQ(r.status, 400) << c.body;
    auto err = Json(r).at("error");
    EXPECT_EQ(err.at("code").as_string(), "INVALID_ARGUMENT") << c.body;
    EXPECT_EQ(err.at("details").at(0).at("field").as_string(), c.field) << c.body << " → " << r.body;
  }
  std::string acc = CreateAccount("eve");
  auto r = client_->Post("/v1/accounts/" + acc + "/keys", "{\"roles\":[\"owner\",\"root\"]}", admin_);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r).at("error").at("details").at(0).at("field").as_string(), "roles[1]");
  r = client_->Post("/v1/accounts/" + acc + "/keys", "{\"roles\":[]}", admin_);
  EXPECT_EQ(Json(r).at("error").at("details").at(0).at("field").as_string(), "roles");
}

TEST_F(GatewayAuthTest, AccountListPagesThroughEverything) {
  for (int i = 0; i < 5; ++i) CreateAccount("p" + std::to_string(i));
  std::set<std::string> seen;
  std::string token;
  for (int page = 0; page < 10; ++page) {
    auto r = client_->Get("/v1/accounts?limit=2" + (token.empty() ? "" : "&page_token=" + token), admin_);
    ASSERT_EQ(r.status, 200) << r.body;
    auto v = Json(r);
    for (auto& a : v.at("accounts").as_array()) seen.insert(std::string(a.at("id").as_string()));
    if (!v.as_object().contains("next_page_token")) break;
    token = std::string(v.at("next_page_token").as_string());
  }
  EXPECT_EQ(seen.size(), 6u);  // five plus the platform account
  EXPECT_EQ(client_->Get("/v1/accounts?limit=0", admin_).status, 400);
  EXPECT_EQ(client_->Get("/v1/accounts?limit=abc", admin_).status, 400);
}

}  // namespace
}  // namespace neosl::testing
