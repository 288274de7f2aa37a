#include "schema/migrations.h"

namespace neosl::schema {

const std::vector<store::Migration>& Migrations() {
  static const std::vector<store::Migration> kMigrations = {
      {1, "accounts and api keys",
       R"sql(
CREATE TABLE accounts (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  platform      INTEGER NOT NULL DEFAULT 0 CHECK (platform IN (0, 1)),
  created_at_ms INTEGER NOT NULL
);
CREATE TABLE api_keys (
  id            TEXT PRIMARY KEY,
  account_id    TEXT NOT NULL REFERENCES accounts(id),
  name          TEXT NOT NULL,
  roles         TEXT NOT NULL,
  secret_hash   BLOB NOT NULL,
  created_at_ms INTEGER NOT NULL,
  revoked_at_ms INTEGER
);
CREATE INDEX api_keys_by_account ON api_keys(account_id, created_at_ms);
)sql",
       R"sql(
CREATE TABLE accounts (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  platform      BIGINT NOT NULL DEFAULT 0 CHECK (platform IN (0, 1)),
  created_at_ms BIGINT NOT NULL
);
CREATE TABLE api_keys (
  id            TEXT PRIMARY KEY,
  account_id    TEXT NOT NULL REFERENCES accounts(id),
  name          TEXT NOT NULL,
  roles         TEXT NOT NULL,
  secret_hash   BYTEA NOT NULL,
  created_at_ms BIGINT NOT NULL,
  revoked_at_ms BIGINT
);
CREATE INDEX api_keys_by_account ON api_keys(account_id, created_at_ms);
)sql"},
  };
  return kMigrations;
}

}  // namespace neosl::schema
