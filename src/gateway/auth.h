// Authentication of API keys sent as `Authorization: Bearer nsl_<id>_<secret>`.
//
// The key id locates the stored record; the whole token is hashed with the platform's key-hash
// secret and compared in constant time. A revoked key fails on the very next request because
// nothing is cached between requests.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/ids.h"
#include "core/random.h"
#include "core/secret.h"
#include "core/status.h"
#include "gateway/accounts.h"

namespace neosl::gateway {

struct Principal {
  AccountId account;
  ApiKeyId key;
  std::vector<Role> roles;

  bool admin() const;
  // Whether the key holds `role` or a role above it.
  bool Has(Role role) const;
  // Whether the caller may see resources of `account`: its own, or any for the admin.
  bool CanManage(const AccountId& other) const { return admin() || other == account; }
};

// Splits "nsl_<id>_<secret>" into its id, checking the shape; UNAUTHENTICATED otherwise.
StatusOr<ApiKeyId> ParseApiKey(std::string_view token);

class Authenticator {
 public:
  Authenticator(AccountStore& accounts, const KeyHasher& hasher) : accounts_(accounts), hasher_(hasher) {}

  // `authorization`: the Authorization header's value. UNAUTHENTICATED when missing, malformed,
  // unknown, wrong or revoked; UNAVAILABLE when the store cannot be read.
  StatusOr<Principal> Authenticate(std::string_view authorization) const;

 private:
  AccountStore& accounts_;
  const KeyHasher& hasher_;
};

// The key-hash secret: auth.key_hash_secret, else the file auth.key_hash_secret_file, else
// <data_dir>/key-hash.secret, made (32 random bytes, mode 0600) if it does not exist yet.
StatusOr<SecretBytes> LoadKeyHashSecret(const Config& config, const std::string& data_dir, RandomSource& random);

}  // namespace neosl::gateway
