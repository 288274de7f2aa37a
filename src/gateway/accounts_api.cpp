// Accounts and API keys over REST. Ids of another account answer 404, exactly like ids that do
// not exist, so a key cannot learn what it may not see.
#include <boost/json.hpp>

#include "core/encoding.h"
#include "gateway/routes.h"

namespace neosl::gateway {
namespace json = boost::json;
namespace {

constexpr int kMaxPage = 1000;
const char* const kNameChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._-@";

json::value Timestamp(std::optional<int64_t> ms) {
  if (!ms) return nullptr;
  return json::value(FormatRfc3339Millis(*ms));
}

json::object AccountJson(const Account& a) {
  return json::object{
      {"id", a.id.str()}, {"name", a.name}, {"platform", a.platform}, {"created_at", Timestamp(a.created_at_ms)}};
}

json::array RolesJson(const std::vector<Role>& roles) {
  json::array out;
  for (Role r : roles) out.emplace_back(RoleName(r));
  return out;
}

json::object KeyJson(const ApiKeyRecord& k) {
  return json::object{{"id", k.id.str()},
                      {"account_id", k.account_id.str()},
                      {"name", k.name},
                      {"roles", RolesJson(k.roles)},
                      {"created_at", Timestamp(k.created_at_ms)},
                      {"revoked_at", Timestamp(k.revoked_at_ms)}};
}

SchemaPtr AccountSchema() {
  return Object({{"id", String().Example("acc_3q2x7k5m4n6p8r2t4v6w"), kRequired},
                 {"name", String(), kRequired},
                 {"platform", Boolean().Describe("true only for the platform operator's account"), kRequired},
                 {"created_at", String().Format("date-time"), kRequired}});
}

SchemaPtr KeySchema(bool with_token) {
  std::vector<Property> props = {
      {"id", String(), kRequired},
      {"account_id", String(), kRequired},
      {"name", String(), kRequired},
      {"roles", Array(String().OneOf({"owner", "developer", "invoker", "viewer", "admin"})), kRequired},
      {"created_at", String().Format("date-time"), kRequired},
      {"revoked_at", String().Format("date-time").Describe("null while the key is live")},
  };
  if (with_token) {
    props.push_back({"key", String().Describe("The API key. Shown once; store it now."), kRequired});
  }
  return Object(std::move(props));
}

// An account the caller may manage, or NOT_FOUND as if it did not exist.
StatusOr<Account> VisibleAccount(AccountStore& accounts, const RequestContext& ctx, const std::string& id) {
  std::string missing = "account " + id + " not found";
  if (!AccountId::IsWellFormed(id) || !ctx.principal->CanManage(AccountId(id))) return NotFoundError(missing);
  auto account = accounts.GetAccount(AccountId(id));
  if (!account.ok() && account.status().code() == StatusCode::kNotFound) return NotFoundError(missing);
  return account;
}

}  // namespace

void RegisterAccountRoutes(Gateway& gateway, AccountStore& accounts) {
  AccountStore* store = &accounts;

  gateway.AddRoute(Route{
      .method = "POST",
      .path = "/v1/accounts",
      .operation_id = "CreateAccount",
      .summary = "Create an account (platform admin)",
      .tag = "accounts",
      .role = Role::kAdmin,
      .request = Object({{"name", String().Length(1, 64).Charset(kNameChars, "^[A-Za-z0-9 ._@-]{1,64}$"), kRequired}}),
      .response = AccountSchema(),
      .success_status = 201,
      .handler = [store](RequestContext& ctx) -> StatusOr<Reply> {
        ASSIGN_OR_RETURN(Account a, store->CreateAccount(std::string(ctx.body.at("name").as_string())));
        return Reply::Json(AccountJson(a), 201);
      }});

  gateway.AddRoute(
      Route{.method = "GET",
            .path = "/v1/accounts",
            .operation_id = "ListAccounts",
            .summary = "List accounts (platform admin), ordered by id",
            .tag = "accounts",
            .role = Role::kAdmin,
            .response = Object({{"accounts", Array(AccountSchema()), kRequired},
                                {"next_page_token", String().Describe("pass as page_token for the next page")}}),
            .query = {{"limit", "page size, 1-1000 (default 100)"}, {"page_token", "from the previous page"}},
            .handler = [store](RequestContext& ctx) -> StatusOr<Reply> {
              int limit = 100;
              std::string text, after;
              if (ctx.http.QueryParam("limit", &text)) {
                char* end = nullptr;
                long v = std::strtol(text.c_str(), &end, 10);
                if (text.empty() || *end != '\0' || v < 1 || v > kMaxPage) {
                  return InvalidArgumentError("query parameter 'limit' must be an integer from 1 to 1000")
                      .WithDetail(ErrorDetail{"FieldViolation", {}}.Add("field", "limit"));
                }
                limit = static_cast<int>(v);
              }
              ctx.http.QueryParam("page_token", &after);
              ASSIGN_OR_RETURN(auto list, store->ListAccounts(after, limit + 1));
              json::array out;
              for (size_t i = 0; i < list.size() && int(i) < limit; ++i) out.push_back(AccountJson(list[i]));
              json::object body{{"accounts", std::move(out)}};
              if (int(list.size()) > limit) body["next_page_token"] = list[limit - 1].id.str();
              return Reply::Json(body);
            }});

  gateway.AddRoute(Route{.method = "GET",
                         .path = "/v1/accounts/me",
                         .operation_id = "GetMe",
                         .summary = "The calling key's account and roles",
                         .tag = "accounts",
                         .role = Role::kViewer,
                         .response = Object({{"account", AccountSchema(), kRequired},
                                             {"key_id", String(), kRequired},
                                             {"roles", Array(String()), kRequired}}),
                         .handler = [store](RequestContext& ctx) -> StatusOr<Reply> {
                           ASSIGN_OR_RETURN(Account a, store->GetAccount(ctx.principal->account));
                           return Reply::Json(json::object{{"account", AccountJson(a)},
                                                           {"key_id", ctx.principal->key.str()},
                                                           {"roles", RolesJson(ctx.principal->roles)}});
                         }});

  gateway.AddRoute(Route{.method = "GET",
                         .path = "/v1/accounts/{id}",
                         .operation_id = "GetAccount",
                         .summary = "An account (its own keys, or the platform admin)",
                         .tag = "accounts",
                         .role = Role::kViewer,
                         .response = AccountSchema(),
                         .handler = [store](RequestContext& ctx) -> StatusOr<Reply> {
                           ASSIGN_OR_RETURN(Account a, VisibleAccount(*store, ctx, ctx.PathParam("id")));
                           return Reply::Json(AccountJson(a));
                         }});

  gateway.AddRoute(Route{
      .method = "POST",
      .path = "/v1/accounts/{id}/keys",
      .operation_id = "CreateApiKey",
      .summary = "Create an API key with roles; the key is returned once",
      .tag = "accounts",
      .role = Role::kOwner,
      .request = Object(
          {{"name", String().Length(0, 64).Charset(kNameChars, "^[A-Za-z0-9 ._@-]{0,64}$")},
           {"roles", Array(String().OneOf({"owner", "developer", "invoker", "viewer", "admin"})).MinItems(1).Unique(),
            kRequired}}),
      .response = KeySchema(true),
      .success_status = 201,
      .handler = [store](RequestContext& ctx) -> StatusOr<Reply> {
        ASSIGN_OR_RETURN(Account a, VisibleAccount(*store, ctx, ctx.PathParam("id")));
        std::vector<Role> roles;
        for (const auto& r : ctx.body.at("roles").as_array()) roles.push_back(*ParseRole(r.as_string()));
        std::string name;
        if (auto* n = ctx.body.as_object().if_contains("name")) name = n->as_string();
        auto issued = store->CreateKey(a.id, std::move(name), std::move(roles));
        if (!issued.ok()) {
          if (issued.status().code() == StatusCode::kInvalidArgument) {
            return Status(issued.status()).WithDetail(ErrorDetail{"FieldViolation", {}}.Add("field", "roles"));
          }
          return issued.status();
        }
        json::object body = KeyJson(issued->record);
        body["key"] = issued->token;
        return Reply::Json(body, 201);
      }});

  gateway.AddRoute(Route{.method = "GET",
                         .path = "/v1/accounts/{id}/keys",
                         .operation_id = "ListApiKeys",
                         .summary = "The account's API keys (never their secrets)",
                         .tag = "accounts",
                         .role = Role::kOwner,
                         .response = Object({{"keys", Array(KeySchema(false)), kRequired}}),
                         .handler = [store](RequestContext& ctx) -> StatusOr<Reply> {
                           ASSIGN_OR_RETURN(Account a, VisibleAccount(*store, ctx, ctx.PathParam("id")));
                           ASSIGN_OR_RETURN(auto keys, store->ListKeys(a.id));
                           json::array out;
                           for (const auto& k : keys) out.push_back(KeyJson(k));
                           return Reply::Json(json::object{{"keys", std::move(out)}});
                         }});

  gateway.AddRoute(Route{.method = "DELETE",
                         .path = "/v1/keys/{key_id}",
                         .operation_id = "RevokeApiKey",
                         .summary = "Revoke an API key; effective on the next request",
                         .tag = "accounts",
                         .role = Role::kOwner,
                         .response = KeySchema(false),
                         .handler = [store](RequestContext& ctx) -> StatusOr<Reply> {
                           const std::string& id = ctx.PathParam("key_id");
                           std::string missing = "API key " + id + " not found";
                           if (!ApiKeyId::IsWellFormed(id)) return NotFoundError(missing);
                           auto key = store->GetKey(ApiKeyId(id));
                           if (!key.ok())
                             return key.status().code() == StatusCode::kNotFound ? NotFoundError(missing)
                                                                                 : key.status();
                           if (!ctx.principal->CanManage(key->account_id)) return NotFoundError(missing);
                           ASSIGN_OR_RETURN(ApiKeyRecord revoked, store->RevokeKey(key->id));
                           return Reply::Json(KeyJson(revoked));
                         }});
}

}  // namespace neosl::gateway
