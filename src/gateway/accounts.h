// Accounts and their API keys, kept in the store. Every resource of the platform belongs to one
// account; a key carries roles within its account, and the platform account's key is the admin.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/random.h"
#include "core/secret.h"
#include "core/status.h"
#include "store/store.h"

namespace neosl::gateway {

// Roles within an account, ordered: each includes the ones below it. `kAdmin` is the platform
// operator's and is held only by keys of the platform account.
enum class Role { kViewer = 1, kInvoker = 2, kDeveloper = 3, kOwner = 4, kAdmin = 5 };

std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);
// The roles an account's keys may be given (everything but admin), by name.
const std::vector<std::string>& AccountRoleNames();

struct Account {
  AccountId id;
  std::string name;
  bool platform = false;
  int64_t created_at_ms = 0;
};

struct ApiKeyRecord {
  ApiKeyId id;
  AccountId account_id;
  std::string name;
  std::vector<Role> roles;
  int64_t created_at_ms = 0;
  std::optional<int64_t> revoked_at_ms;
};

// A newly made key: the record and the token, which is shown to the caller once and never kept.
struct IssuedKey {
  ApiKeyRecord record;
  std::string token;  // "nsl_<id>_<secret>"
};

using KeyHash = std::array<uint8_t, 32>;

// HMAC-SHA256 under the platform's key-hash secret: what is stored instead of a key.
class KeyHasher {
 public:
  explicit KeyHasher(SecretBytes secret) : secret_(std::move(secret)) {}
  KeyHash Hash(std::string_view token) const;

 private:
  SecretBytes secret_;
};

class AccountStore {
 public:
  AccountStore(store::Store& store, const KeyHasher& hasher, const Clock& clock, RandomSource& random)
      : store_(store), hasher_(hasher), clock_(clock), random_(random) {}

  StatusOr<Account> CreateAccount(std::string name);
  StatusOr<Account> GetAccount(const AccountId& id);
  // Accounts ordered by id, after `after` (exclusive), at most `limit`.
  StatusOr<std::vector<Account>> ListAccounts(const std::string& after, int limit);

  StatusOr<IssuedKey> CreateKey(const AccountId& account, std::string name, std::vector<Role> roles);
  StatusOr<ApiKeyRecord> GetKey(const ApiKeyId& id);
  StatusOr<std::vector<ApiKeyRecord>> ListKeys(const AccountId& account);
  // Revokes a key; revoking a revoked key is a no-op that returns it. The platform's last live
  // admin key cannot be revoked (FAILED_PRECONDITION): that would lock the operator out.
  StatusOr<ApiKeyRecord> RevokeKey(const ApiKeyId& id);

  // The record and stored hash of a key, for authentication.
  struct StoredKey {
    ApiKeyRecord record;
    store::Blob hash;
  };
  StatusOr<std::optional<StoredKey>> FindForAuth(const ApiKeyId& id);

  // On first start: makes the platform account and its admin key, and returns the key. Returns
  // nullopt when a live admin key exists already.
  StatusOr<std::optional<IssuedKey>> BootstrapAdmin();

 private:
  StatusOr<IssuedKey> InsertKey(store::Transaction& tx, const AccountId& account, std::string name,
                                const std::vector<Role>& roles);

  store::Store& store_;
  const KeyHasher& hasher_;
  const Clock& clock_;
  RandomSource& random_;
};

}  // namespace neosl::gateway
