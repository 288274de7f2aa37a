#include "gateway/accounts.h"

#include <algorithm>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/encoding.h"

namespace neosl::gateway {
namespace {

constexpr std::string_view kKeyColumns = "id, account_id, name, roles, created_at_ms, revoked_at_ms";

std::string JoinRoles(const std::vector<Role>& roles) {
  std::string out;
  for (Role r : roles) {
    if (!out.empty()) out += ",";
    out += RoleName(r);
  }
  return out;
}

StatusOr<std::vector<Role>> SplitRoles(std::string_view text) {
  std::vector<Role> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto role = ParseRole(text.substr(0, comma));
    if (!role) return DataLossError("stored key has an unknown role");
    out.push_back(*role);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return out;
}

StatusOr<Account> AccountFromRow(const store::Row& row) {
  Account a;
  ASSIGN_OR_RETURN(std::string id, row.Text(0));
  a.id = AccountId(std::move(id));
  ASSIGN_OR_RETURN(a.name, row.Text(1));
  ASSIGN_OR_RETURN(int64_t platform, row.Int(2));
  a.platform = platform != 0;
  ASSIGN_OR_RETURN(a.created_at_ms, row.Int(3));
  return a;
}

StatusOr<ApiKeyRecord> KeyFromRow(const store::Row& row) {
  ApiKeyRecord k;
  ASSIGN_OR_RETURN(std::string id, row.Text(0));
  k.id = ApiKeyId(std::move(id));
  ASSIGN_OR_RETURN(std::string account, row.Text(1));
  k.account_id = AccountId(std::move(account));
  ASSIGN_OR_RETURN(k.name, row.Text(2));
  ASSIGN_OR_RETURN(std::string roles, row.Text(3));
  ASSIGN_OR_RETURN(k.roles, SplitRoles(roles));
  ASSIGN_OR_RETURN(k.created_at_ms, row.Int(4));
  ASSIGN_OR_RETURN(k.revoked_at_ms, row.OptionalInt(5));
  return k;
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kViewer: return "viewer";
    case Role::kInvoker: return "invoker";
    case Role::kDeveloper: return "developer";
    case Role::kOwner: return "owner";
    case Role::kAdmin: return "admin";
  }
  return "viewer";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kViewer, Role::kInvoker, Role::kDeveloper, Role::kOwner, Role::kAdmin}) {
    if (RoleName(r) == name) return r;
  }
  return std::nullopt;
}

const std::vector<std::string>& AccountRoleNames() {
  static const std::vector<std::string> kNames = {"owner", "developer", "invoker", "viewer"};
  return kNames;
}

KeyHash KeyHasher::Hash(std::string_view token) const {
  KeyHash out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.bytes().data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(token.data()), token.size(), out.data(), &len);
  return out;
}

StatusOr<Account> AccountStore::CreateAccount(std::string name) {
  Account a{AccountId::Generate(random_), std::move(name), false, clock_.NowUnixMillis()};
  const Status written = store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) {
    return tx
        .Exec("INSERT INTO accounts (id, name, platform, created_at_ms) VALUES (?, ?, 0, ?)",
              {a.id.str(), a.name, a.created_at_ms})
        .status();
  });
  RETURN_IF_ERROR(written);
  return a;
}

StatusOr<Account> AccountStore::GetAccount(const AccountId& id) {
  ASSIGN_OR_RETURN(auto rows,
                   store_.Query("SELECT id, name, platform, created_at_ms FROM accounts WHERE id = ?", {id.str()}));
  if (rows.empty()) return NotFoundError("account " + id.str() + " not found");
  return AccountFromRow(rows[0]);
}

StatusOr<std::vector<Account>> AccountStore::ListAccounts(const std::string& after, int limit) {
  ASSIGN_OR_RETURN(auto rows, store_.Query("SELECT id, name, platform, created_at_ms FROM accounts "
                                           "WHERE id > ? ORDER BY id LIMIT ?",
                                           {after, int64_t(limit)}));
  std::vector<Account> out;
  for (const auto& row : rows) {
    ASSIGN_OR_RETURN(Account a, AccountFromRow(row));
    out.push_back(std::move(a));
  }
  return out;
}

StatusOr<IssuedKey> AccountStore::InsertKey(store::Transaction& tx, const AccountId& account, std::string name,
                                            const std::vector<Role>& roles) {
  IssuedKey key;
  key.record.id = ApiKeyId::Generate(random_);
  key.record.account_id = account;
  key.record.name = std::move(name);
  key.record.roles = roles;
  key.record.created_at_ms = clock_.NowUnixMillis();
  uint8_t secret[32];
  random_.Fill(secret);
  key.token = "nsl_" + key.record.id.str() + "_" + Base32Encode(secret);
  OPENSSL_cleanse(secret, sizeof secret);
  KeyHash hash = hasher_.Hash(key.token);
  RETURN_IF_ERROR(
      tx.Exec("INSERT INTO api_keys (id, account_id, name, roles, secret_hash, created_at_ms) "
              "VALUES (?, ?, ?, ?, ?, ?)",
              {key.record.id.str(), account.str(), key.record.name, JoinRoles(roles),
               store::Blob(hash.begin(), hash.end()), key.record.created_at_ms}));
  return key;
}

StatusOr<IssuedKey> AccountStore::CreateKey(const AccountId& account, std::string name, std::vector<Role> roles) {
  std::sort(roles.begin(), roles.end(), [](Role a, Role b) { return a > b; });
  roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
  IssuedKey key;
  const Status written = store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto row, tx.QueryOptional("SELECT platform FROM accounts WHERE id = ?", {account.str()}));
    if (!row) return NotFoundError("account " + account.str() + " not found");
    ASSIGN_OR_RETURN(int64_t platform, row->Int(0));
    bool wants_admin = std::find(roles.begin(), roles.end(), Role::kAdmin) != roles.end();
    if (wants_admin != (platform != 0)) {
      return InvalidArgumentError(platform ? "keys of the platform account carry exactly the admin role"
                                           : "the admin role belongs to the platform account only");
    }
    ASSIGN_OR_RETURN(key, InsertKey(tx, account, name, roles));
    return Status();
  });
  RETURN_IF_ERROR(written);
  return key;
}

StatusOr<ApiKeyRecord> AccountStore::GetKey(const ApiKeyId& id) {
  ASSIGN_OR_RETURN(auto rows,
                   store_.Query("SELECT " + std::string(kKeyColumns) + " FROM api_keys WHERE id = ?", {id.str()}));
  if (rows.empty()) return NotFoundError("API key " + id.str() + " not found");
  return KeyFromRow(rows[0]);
}

StatusOr<std::vector<ApiKeyRecord>> AccountStore::ListKeys(const AccountId& account) {
  ASSIGN_OR_RETURN(auto rows, store_.Query("SELECT " + std::string(kKeyColumns) +
                                               " FROM api_keys WHERE account_id = ? ORDER BY created_at_ms, id",
                                           {account.str()}));
  std::vector<ApiKeyRecord> out;
  for (const auto& row : rows) {
    ASSIGN_OR_RETURN(ApiKeyRecord k, KeyFromRow(row));
    out.push_back(std::move(k));
  }
  return out;
}

StatusOr<ApiKeyRecord> AccountStore::RevokeKey(const ApiKeyId& id) {
  ApiKeyRecord key;
  const Status written = store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(
        auto row, tx.QueryOptional("SELECT " + std::string(kKeyColumns) + " FROM api_keys WHERE id = ?", {id.str()}));
    if (!row) return NotFoundError("API key " + id.str() + " not found");
    ASSIGN_OR_RETURN(key, KeyFromRow(*row));
    if (key.revoked_at_ms) return Status();
    if (std::find(key.roles.begin(), key.roles.end(), Role::kAdmin) != key.roles.end()) {
      ASSIGN_OR_RETURN(auto live, tx.QueryOne("SELECT COUNT(*) FROM api_keys WHERE account_id = ? AND "
                                              "revoked_at_ms IS NULL",
                                              {key.account_id.str()}));
      ASSIGN_OR_RETURN(int64_t n, live.Int(0));
      if (n <= 1) {
        return FailedPreconditionError("this is the platform's last admin key; create another before revoking it");
      }
    }
    key.revoked_at_ms = clock_.NowUnixMillis();
    return tx.Exec("UPDATE api_keys SET revoked_at_ms = ? WHERE id = ?", {*key.revoked_at_ms, id.str()}).status();
  });
  RETURN_IF_ERROR(written);
  return key;
}

StatusOr<std::optional<AccountStore::StoredKey>> AccountStore::FindForAuth(const ApiKeyId& id) {
  ASSIGN_OR_RETURN(
      auto rows,
      store_.Query("SELECT " + std::string(kKeyColumns) + ", secret_hash FROM api_keys WHERE id = ?", {id.str()}));
  if (rows.empty()) return std::optional<StoredKey>();
  StoredKey out;
  ASSIGN_OR_RETURN(out.record, KeyFromRow(rows[0]));
  ASSIGN_OR_RETURN(out.hash, rows[0].Bytes(6));
  return std::optional<StoredKey>(std::move(out));
}

StatusOr<std::optional<IssuedKey>> AccountStore::BootstrapAdmin() {
  // Replicas starting together on one store race here: serialisable writes (and the retry of an
  // aborted one) make exactly one of them create the platform's admin key.
  std::optional<IssuedKey> issued;
  const Status written = store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    issued.reset();
    ASSIGN_OR_RETURN(auto existing,
                     tx.QueryOptional("SELECT a.id FROM accounts a JOIN api_keys k ON k.account_id = a.id "
                                      "WHERE a.platform = 1 AND k.revoked_at_ms IS NULL LIMIT 1"));
    if (existing) return Status();
    ASSIGN_OR_RETURN(auto platform, tx.QueryOptional("SELECT id FROM accounts WHERE platform = 1 LIMIT 1"));
    AccountId account;
    if (platform) {
      ASSIGN_OR_RETURN(std::string id, platform->Text(0));
      account = AccountId(std::move(id));
    } else {
      account = AccountId::Generate(random_);
      RETURN_IF_ERROR(tx.Exec("INSERT INTO accounts (id, name, platform, created_at_ms) VALUES (?, 'platform', 1, ?)",
                              {account.str(), clock_.NowUnixMillis()})
                          .status());
    }
    ASSIGN_OR_RETURN(IssuedKey key, InsertKey(tx, account, "admin", {Role::kAdmin}));
    issued = std::move(key);
    return Status();
  });
  RETURN_IF_ERROR(written);
  return issued;
}

}  // namespace neosl::gateway
