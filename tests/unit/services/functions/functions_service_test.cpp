// The functions service's management API over the in-process mesh: create, get, list, update,
// delete; what it refuses; quotas; secrets granted and revoked through the real secrets service;
// accounts that cannot see each other's functions.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "unit/services/functions/service_fixture.h"

namespace neosl::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string DetailOf(const Status& s, const std::string& type, const std::string& key) {
  for (const auto& d : s.details()) {
    if (d.type != type) continue;
    for (const auto& [k, v] : d.fields) {
      if (k != key) continue;
      if (auto* str = std::get_if<std::string>(&v)) return *str;
      if (auto* n = std::get_if<int64_t>(&v)) return std::to_string(*n);
    }
  }
  return "<none>";
}

TEST_F(FunctionsServiceTest, CreateGetListUpdateDelete) {
  Start();
  fpb::CreateFunctionRequest req;
  req.set_name("hello");
  req.set_source(kSource);
  req.set_description("says hello");
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function created, Create(req));
  EXPECT_TRUE(FunctionId::IsWellFormed(created.id())) << created.id();
  EXPECT_EQ(created.name(), "hello");
  EXPECT_EQ(created.version(), 1u);
  EXPECT_EQ(created.current_version(), 1u);
  EXPECT_EQ(created.source(), "");  // not echoed back
  EXPECT_EQ(created.source_hash(), HexEncode(FakeRunner::Sha(kSource)));
  EXPECT_EQ(created.limits().timeout_ms(), 10000u);
  EXPECT_EQ(created.limits().memory_mb(), 128u);
  EXPECT_EQ(created.description(), "says hello");
  EXPECT_FALSE(created.created_at().empty());
  EXPECT_EQ(runner_->checks(), 1);

  FN_ASSERT_OK_AND_ASSIGN(fpb::Function got, Get(created.id()));
  EXPECT_EQ(got.source(), kSource);
  EXPECT_EQ(got.source_hash(), created.source_hash());

  FN_ASSERT_OK_AND_ASSIGN(fpb::ListFunctionsResponse list, List());
  ASSERT_EQ(list.functions_size(), 1);
  EXPECT_EQ(list.functions(0).id(), created.id());
  EXPECT_EQ(list.functions(0).source(), "");  // lists carry no sources
  EXPECT_EQ(list.next_page_token(), "");

  const std::string v2 = "export default async function () { return 2; }\n";
  fpb::UpdateFunctionRequest update;
  update.set_id(created.id());
  update.set_source(v2);
  update.mutable_limits()->set_timeout_ms(2000);
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function updated, Update(update));
  EXPECT_EQ(updated.version(), 2u);
  EXPECT_EQ(updated.source_hash(), HexEncode(FakeRunner::Sha(v2)));
  EXPECT_EQ(updated.limits().timeout_ms(), 2000u);
  EXPECT_EQ(updated.limits().memory_mb(), 128u);   // a 0 field keeps its value
  EXPECT_EQ(updated.description(), "says hello");  // left out: unchanged

  // The old version is kept, for the executions that ran it.
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function v1, Get(created.id(), 1));
  EXPECT_EQ(v1.version(), 1u);
  EXPECT_EQ(v1.current_version(), 2u);
  EXPECT_EQ(v1.source(), kSource);
  EXPECT_EQ(v1.limits().timeout_ms(), 10000u);
  EXPECT_EQ(Get(created.id(), 3).status().code(), StatusCode::kNotFound);
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function current, Get(created.id()));
  EXPECT_EQ(current.source(), v2);

  fpb::UpdateFunctionRequest description_only;
  description_only.set_id(created.id());
  description_only.set_description("");
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function v3, Update(description_only));
  EXPECT_EQ(v3.version(), 3u);
  EXPECT_EQ(v3.description(), "");
  EXPECT_EQ(v3.source_hash(), updated.source_hash());

  fpb::UpdateFunctionRequest nothing;
  nothing.set_id(created.id());
  EXPECT_EQ(Update(nothing).status().code(), StatusCode::kInvalidArgument);

  ASSERT_TRUE(Delete(created.id()).ok());
  EXPECT_EQ(Get(created.id()).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Get(created.id(), 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Delete(created.id()).code(), StatusCode::kNotFound);
  FN_ASSERT_OK_AND_ASSIGN(list, List());
  EXPECT_EQ(list.functions_size(), 0);
}

TEST_F(FunctionsServiceTest, NamesAreUniquePerAccount) {
  Start();
  ASSERT_TRUE(Create("same").ok());
  Status again = Create("same").status();
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(again.message()), HasSubstr("same"));
  EXPECT_TRUE(Create("same", {}, kAccountB).ok());  // another account's namespace
}

TEST_F(FunctionsServiceTest, ListPagesByName) {
  Start();
  for (const char* name : {"e", "b", "d", "a", "c"}) ASSERT_TRUE(Create(name).ok());
  std::vector<std::string> names;
  std::string token;
  int pages = 0;
  do {
    FN_ASSERT_OK_AND_ASSIGN(fpb::ListFunctionsResponse page, List(2, token));
    for (const auto& f : page.functions()) names.push_back(f.name());
    token = page.next_page_token();
    ++pages;
  } while (!token.empty());
  EXPECT_THAT(names, ElementsAre("a", "b", "c", "d", "e"));
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(List(101).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(List(-1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(List(0, "zz").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(FunctionsServiceTest, QuotaPerAccount) {
  options_.max_functions_per_account = 2;
  Start();
  ASSERT_TRUE(Create("one").ok());
  ASSERT_TRUE(Create("two").ok());
  Status third = Create("three").status();
  EXPECT_EQ(third.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(DetailOf(third, "QuotaFailure", "limit"), "2");
  EXPECT_EQ(DetailOf(third, "QuotaFailure", "resource"), "functions");
  EXPECT_TRUE(Create("three", {}, kAccountB).ok());
  EXPECT_EQ(runner_->checks(), 3);  // the refused one was not even compiled
}

TEST_F(FunctionsServiceTest, RefusesBadRequests) {
  Start();
  auto code = [&](const fpb::CreateFunctionRequest& r) { return Create(r).status(); };
  fpb::CreateFunctionRequest ok;
  ok.set_name("ok");
  ok.set_source(kSource);

  auto r = ok;
  r.set_name("bad name");
  EXPECT_EQ(DetailOf(code(r), "FieldViolation", "field"), "name");
  r.set_name(std::string(65, 'a'));
  EXPECT_EQ(code(r).code(), StatusCode::kInvalidArgument);
  r = ok;
  r.set_source("");
  EXPECT_EQ(DetailOf(code(r), "FieldViolation", "field"), "source");
  r.set_source(std::string(runtime::kMaxSourceBytes + 1, 'x'));
  EXPECT_THAT(std::string(code(r).message()), HasSubstr("262144"));
  r.set_source("export default 1; \xC0\xAF");  // protobuf itself refuses it (and the service would)
  EXPECT_FALSE(code(r).ok());
  r.set_source(std::string("a\0b", 3));
  EXPECT_EQ(code(r).code(), StatusCode::kInvalidArgument);
  r = ok;
  r.set_description(std::string(1025, 'd'));
  EXPECT_EQ(DetailOf(code(r), "FieldViolation", "field"), "description");
  r = ok;
  r.add_secrets("fine");
  r.add_secrets("not fine");
  EXPECT_EQ(DetailOf(code(r), "FieldViolation", "field"), "secrets[1]");
  r = ok;
  for (int i = 0; i <= 100; ++i) r.add_secrets("s" + std::to_string(i));
  EXPECT_EQ(DetailOf(code(r), "FieldViolation", "field"), "secrets");

  EXPECT_EQ(Get("fn_nope").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Get("fn_aaaaaaaaaaaaaaaaaaaa").status().code(), StatusCode::kNotFound);
  // Without an account there is nothing to act for.
  EXPECT_EQ(Create("x", {}, "").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(runner_->checks(), 0);
}

TEST_F(FunctionsServiceTest, ValidatesLimits) {
  Start();
  fpb::CreateFunctionRequest r;
  r.set_name("limited");
  r.set_source(kSource);
  r.mutable_limits()->set_timeout_ms(50);
  Status s = Create(r).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DetailOf(s, "FieldViolation", "field"), "limits.timeout_ms");
  r.mutable_limits()->set_timeout_ms(30001);
  EXPECT_EQ(DetailOf(Create(r).status(), "FieldViolation", "field"), "limits.timeout_ms");
  r.mutable_limits()->set_timeout_ms(30000);
  r.mutable_limits()->set_memory_mb(1024);
  EXPECT_EQ(DetailOf(Create(r).status(), "FieldViolation", "field"), "limits.memory_mb");
  r.mutable_limits()->set_memory_mb(8);
  EXPECT_EQ(DetailOf(Create(r).status(), "FieldViolation", "field"), "limits.memory_mb");
  r.mutable_limits()->set_memory_mb(512);
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function f, Create(r));
  EXPECT_EQ(f.limits().timeout_ms(), 30000u);
  EXPECT_EQ(f.limits().memory_mb(), 512u);

  fpb::UpdateFunctionRequest u;
  u.set_id(f.id());
  u.mutable_limits()->set_memory_mb(600);
  EXPECT_EQ(DetailOf(Update(u).status(), "FieldViolation", "field"), "limits.memory_mb");
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function unchanged, Get(f.id()));
  EXPECT_EQ(unchanged.version(), 1u);
}

TEST_F(FunctionsServiceTest, SyntaxErrorCarriesLineAndColumn) {
  Start();
  runner_->FailCheck({"unexpected token: '}'", "", 3, 7});
  Status s = Create("broken").status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("line 3, column 7"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("unexpected token"));
  EXPECT_EQ(DetailOf(s, "FieldViolation", "field"), "source");
  EXPECT_EQ(DetailOf(s, "FieldViolation", "line"), "3");
  EXPECT_EQ(DetailOf(s, "FieldViolation", "column"), "7");
  FN_ASSERT_OK_AND_ASSIGN(fpb::ListFunctionsResponse list, List());
  EXPECT_EQ(list.functions_size(), 0);  // nothing stored

  // An update with a bad source makes no new version.
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function f, Create("fine"));
  runner_->FailCheck({"missing default export", "", 1, 1});
  fpb::UpdateFunctionRequest u;
  u.set_id(f.id());
  u.set_source("export const x = 1;");
  EXPECT_THAT(std::string(Update(u).status().message()), HasSubstr("line 1, column 1"));
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function same, Get(f.id()));
  EXPECT_EQ(same.version(), 1u);
}

TEST_F(FunctionsServiceTest, SecretsGrantedOnCreateRegrantedOnUpdateRevokedOnDelete) {
  Start();
  ASSERT_TRUE(PutSecret("api_key", "k-1").ok());
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function f, Create("with-secrets", {"db_pw", "api_key", "api_key"}));
  EXPECT_THAT(f.secrets(), ElementsAre("api_key", "db_pw"));  // sorted, once each
  EXPECT_THAT(f.missing_secrets(), ElementsAre("db_pw"));     // granted, not stored yet

  std::vector<std::string> audit = Audit();
  EXPECT_THAT(audit, Contains("grant api_key key:test"));
  EXPECT_THAT(audit, Contains("grant db_pw key:test"));

  // The secrets service lists the function under the secret it is granted.
  spb::ListSecretsResponse secrets;
  ASSERT_TRUE(Call([&](grpc::ClientContext* c) {
                return secrets_stub_->ListSecrets(c, spb::ListSecretsRequest(), &secrets);
              }).ok());
  ASSERT_EQ(secrets.secrets_size(), 1);
  EXPECT_THAT(secrets.secrets(0).functions(), ElementsAre(f.id()));

  fpb::UpdateFunctionRequest u;
  u.set_id(f.id());
  u.mutable_secrets()->add_names("api_key");
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function v2, Update(u));
  EXPECT_THAT(v2.secrets(), ElementsAre("api_key"));
  EXPECT_THAT(Audit(), Contains("revoke db_pw key:test"));

  ASSERT_TRUE(Delete(f.id()).ok());
  audit = Audit();
  EXPECT_THAT(audit, Contains("revoke api_key key:test"));
  ASSERT_TRUE(Call([&](grpc::ClientContext* c) {
                return secrets_stub_->ListSecrets(c, spb::ListSecretsRequest(), &secrets);
              }).ok());
  EXPECT_THAT(secrets.secrets(0).functions(), IsEmpty());
}

TEST_F(FunctionsServiceTest, AnotherAccountsFunctionIsNotFound) {
  Start();
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function f, Create("mine"));
  FN_ASSERT_OK_AND_ASSIGN(fpb::Execution e, Invoke(f.id(), "1"));
  EXPECT_EQ(Get(f.id(), 0, kAccountB).status().code(), StatusCode::kNotFound);
  fpb::UpdateFunctionRequest u;
  u.set_id(f.id());
  u.set_description("hijacked");
  EXPECT_EQ(Update(u, kAccountB).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Delete(f.id(), kAccountB).code(), StatusCode::kNotFound);
  EXPECT_EQ(Invoke(f.id(), "1", kAccountB).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Executions(f.id(), 0, "", kAccountB).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(GetExecution(e.id(), kAccountB).status().code(), StatusCode::kNotFound);
  FN_ASSERT_OK_AND_ASSIGN(fpb::ListFunctionsResponse theirs, List(0, "", kAccountB));
  EXPECT_EQ(theirs.functions_size(), 0);
  EXPECT_EQ(runner_->invocations().size(), 1u);
  // Still there, unchanged, for its owner.
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function still, Get(f.id()));
  EXPECT_EQ(still.version(), 1u);
}

}  // namespace
}  // namespace neosl::testing
