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
)sql"},
      // Secrets (docs/secrets.md): values only as enclave ciphertext, every version kept until
      // the secret is deleted; and the per-account, hash-chained audit log with its signed
      // checkpoints. No foreign key to accounts: a service owns its tables, and in one-role-per-
      // process mode the accounts live in the gateway's store.
      {2, "secrets and audit log",
       R"sql(
CREATE TABLE secrets (
  account_id     TEXT NOT NULL,
  name           TEXT NOT NULL,
  version        INTEGER NOT NULL CHECK (version >= 1),
  created_at_ms  INTEGER NOT NULL,
  rotated_at_ms  INTEGER,
  PRIMARY KEY (account_id, name)
);
CREATE TABLE secret_versions (
  account_id     TEXT NOT NULL,
  name           TEXT NOT NULL,
  version        INTEGER NOT NULL CHECK (version >= 1),
  ciphertext     BLOB NOT NULL,
  created_at_ms  INTEGER NOT NULL,
  PRIMARY KEY (account_id, name, version),
  FOREIGN KEY (account_id, name) REFERENCES secrets(account_id, name) ON DELETE CASCADE
);
CREATE TABLE audit_log (
  account_id     TEXT NOT NULL,
  seq            INTEGER NOT NULL CHECK (seq >= 1),
  at_ms          INTEGER NOT NULL,
  action         TEXT NOT NULL,
  subject        TEXT NOT NULL,
  actor          TEXT NOT NULL,
  details        TEXT NOT NULL,
  prev_hash      BLOB NOT NULL,
  hash           BLOB NOT NULL,
  PRIMARY KEY (account_id, seq)
);
CREATE TABLE audit_checkpoints (
  account_id     TEXT NOT NULL,
  seq            INTEGER NOT NULL,
  hash           BLOB NOT NULL,
  signature      BLOB NOT NULL,
  public_key     BLOB NOT NULL,
  at_ms          INTEGER NOT NULL,
  PRIMARY KEY (account_id, seq)
);
)sql"},
      // Which functions may read which secrets (docs/secrets.md, "Access control"). A grant
      // names the secret, not a row of `secrets`: it outlives a delete, and a secret created
      // again under the name is readable again by the functions granted it.
      {3, "secret grants",
       R"sql(
CREATE TABLE secret_grants (
  account_id     TEXT NOT NULL,
  function_id    TEXT NOT NULL,
  name           TEXT NOT NULL,
  granted_at_ms  INTEGER NOT NULL,
  PRIMARY KEY (account_id, function_id, name)
);
CREATE INDEX secret_grants_by_name ON secret_grants(account_id, name);
)sql"},
      // Functions (docs/functions.md): each function's versions are kept (an execution names the
      // version it ran), and its executions up to functions.max_executions_kept, newest by `seq`,
      // which functions.execution_seq hands out. No foreign keys, as for secrets: the service
      // owns its tables.
      {4, "functions and executions",
       R"sql(
CREATE TABLE functions (
  id               TEXT PRIMARY KEY,
  account_id       TEXT NOT NULL,
  name             TEXT NOT NULL,
  current_version  INTEGER NOT NULL CHECK (current_version >= 1),
  execution_seq    INTEGER NOT NULL DEFAULT 0,
  created_at_ms    INTEGER NOT NULL,
  UNIQUE (account_id, name)
);
CREATE TABLE function_versions (
  function_id      TEXT NOT NULL,
  version          INTEGER NOT NULL CHECK (version >= 1),
  source           TEXT NOT NULL,
  source_hash      BLOB NOT NULL,
  secrets          TEXT NOT NULL,
  timeout_ms       INTEGER NOT NULL,
  memory_mb        INTEGER NOT NULL,
  description      TEXT NOT NULL,
  created_at_ms    INTEGER NOT NULL,
  PRIMARY KEY (function_id, version)
);
CREATE TABLE executions (
  id               TEXT PRIMARY KEY,
  account_id       TEXT NOT NULL,
  function_id      TEXT NOT NULL,
  seq              INTEGER NOT NULL CHECK (seq >= 1),
  version          INTEGER NOT NULL CHECK (version >= 1),
  trigger_kind     TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
  result_json      TEXT NOT NULL,
  error_json       TEXT NOT NULL,
  error_code       TEXT NOT NULL,
  error_message    TEXT NOT NULL,
  error_line       INTEGER NOT NULL,
  error_column     INTEGER NOT NULL,
  error_stack      TEXT NOT NULL,
  logs             TEXT NOT NULL,
  logs_truncated   INTEGER NOT NULL CHECK (logs_truncated IN (0, 1)),
  started_at_ms    INTEGER NOT NULL,
  duration_us      INTEGER NOT NULL,
  cold             INTEGER NOT NULL CHECK (cold IN (0, 1)),
  args_json        TEXT NOT NULL,
  source_hash      BLOB NOT NULL,
  args_hash        BLOB NOT NULL,
  result_hash      BLOB NOT NULL,
  signature        BLOB NOT NULL,
  signing_key      BLOB NOT NULL
);
CREATE UNIQUE INDEX executions_by_function ON executions(function_id, seq DESC);
)sql"},
      // Random (docs/random.md): each API request with its VRF input and proof, so that it is
      // answered the same way every time; the words are derived from `output` when read.
      {5, "random requests",
       R"sql(
CREATE TABLE random_requests (
  id             TEXT PRIMARY KEY,
  account_id     TEXT NOT NULL,
  seed           BLOB NOT NULL,
  num_words      INTEGER NOT NULL CHECK (num_words BETWEEN 1 AND 500),
  alpha          BLOB NOT NULL,
  output         BLOB NOT NULL,
  proof          BLOB NOT NULL,
  public_key     BLOB NOT NULL,
  created_at_ms  INTEGER NOT NULL
);
CREATE INDEX random_requests_by_account ON random_requests(account_id, created_at_ms);
)sql"},
      // Requests from the chain (docs/chain-requests.md, "The relay"): one row per ServiceRequest,
      // keyed by the emitting contract and its request id so that a replayed notification is a
      // no-op; the answer and the signed callback transaction are stored before they are sent.
      // request_id is the Integer's decimal text (NeoVM integers reach 256 bits). The cursor is
      // the last block whose requests are all recorded: where following resumes.
      {6, "chain requests",
       R"sql(
CREATE TABLE chain_requests (
  contract            TEXT NOT NULL,
  request_id          TEXT NOT NULL,
  tx_hash             TEXT NOT NULL,
  notification_index  INTEGER NOT NULL,
  block_index         INTEGER NOT NULL,
  requester           TEXT NOT NULL,
  service             TEXT NOT NULL,
  payload             BLOB NOT NULL,
  callback            TEXT NOT NULL,
  status              TEXT NOT NULL
                      CHECK (status IN ('received', 'answering', 'sent', 'answered', 'failed')),
  answer_code         INTEGER,
  answer_result       BLOB,
  answer_signature    BLOB,
  answer_tx_hash      TEXT,
  answer_tx           BLOB,
  answer_block_index  INTEGER,
  attempts            INTEGER NOT NULL DEFAULT 0,
  error               TEXT NOT NULL DEFAULT '',
  received_at_ms      INTEGER NOT NULL,
  updated_at_ms       INTEGER NOT NULL,
  answered_at_ms      INTEGER,
  PRIMARY KEY (contract, request_id)
);
CREATE INDEX chain_requests_by_status ON chain_requests(status, block_index);
CREATE TABLE chain_request_cursors (
  name                TEXT PRIMARY KEY,
  block_index         INTEGER NOT NULL,
  updated_at_ms       INTEGER NOT NULL
);
)sql"},
      // Oracle requests made through the API (docs/oracle.md): `body` is the OracleRequest
      // message (proto/neosl/oracle/v1), as the API shows it, without header values; status and
      // code are columns so that unfinished requests can be found after a restart.
      {7, "oracle requests",
       R"sql(
CREATE TABLE oracle_requests (
  id               TEXT PRIMARY KEY,
  account_id       TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  code             INTEGER,
  body             BLOB NOT NULL,
  created_at_ms    INTEGER NOT NULL,
  completed_at_ms  INTEGER
);
CREATE INDEX oracle_requests_by_account ON oracle_requests(account_id, created_at_ms);
CREATE INDEX oracle_requests_by_status ON oracle_requests(status);
)sql"},
      // Transactions the platform sends for its services (src/chain_tx/outbox.h): one row per
      // caller's key, so that the same key never sends twice; the signed transaction is stored
      // before it is relayed, and followed until it is in a block (halt / fault) or given up.
      {8, "chain outbox",
       R"sql(
CREATE TABLE chain_outbox (
  item_key        TEXT PRIMARY KEY,
  owner           TEXT NOT NULL,
  account_id      TEXT NOT NULL DEFAULT '',
  script          BLOB NOT NULL,
  valid_for       INTEGER NOT NULL,
  max_fee         INTEGER NOT NULL,
  max_attempts    INTEGER NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'halt', 'fault', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  tx_hash         TEXT,
  tx              BLOB,
  valid_until     INTEGER,
  system_fee      INTEGER,
  network_fee     INTEGER,
  block_index     INTEGER,
  gas_consumed    INTEGER,
  error           TEXT NOT NULL DEFAULT '',
  created_at_ms   INTEGER NOT NULL,
  updated_at_ms   INTEGER NOT NULL
);
CREATE INDEX chain_outbox_by_state ON chain_outbox(state, created_at_ms);
CREATE INDEX chain_outbox_by_owner ON chain_outbox(owner, created_at_ms);
)sql"},
      // Price feeds (docs/pricefeed.md): per pair the round counter and the latest signed report
      // (a serialized PriceReport); per feed its configuration (a serialized Feed) and what it
      // last published; per published round the report and the outbox key of its transaction.
      {9, "price feeds",
       R"sql(
CREATE TABLE price_pairs (
  pair            TEXT PRIMARY KEY,
  round           INTEGER NOT NULL,
  report          BLOB,
  status          TEXT NOT NULL CHECK (status IN ('ok', 'degraded')),
  reason          TEXT NOT NULL DEFAULT '',
  updated_at_ms   INTEGER NOT NULL
);
CREATE TABLE price_feeds (
  id                 TEXT PRIMARY KEY,
  account_id         TEXT NOT NULL,
  pair               TEXT NOT NULL,
  config             BLOB NOT NULL,
  last_round         INTEGER,
  last_price         INTEGER,
  last_published_ms  INTEGER,
  last_direction     INTEGER NOT NULL DEFAULT 0,
  republish          INTEGER NOT NULL DEFAULT 0,
  updates            INTEGER NOT NULL DEFAULT 0,
  created_at_ms      INTEGER NOT NULL,
  deleted_at_ms      INTEGER
);
CREATE INDEX price_feeds_by_account ON price_feeds(account_id, created_at_ms);
CREATE INDEX price_feeds_by_pair ON price_feeds(pair);
CREATE TABLE price_updates (
  feed_id         TEXT NOT NULL,
  round           INTEGER NOT NULL,
  cause           TEXT NOT NULL,
  report          BLOB NOT NULL,
  outbox_key      TEXT,
  created_at_ms   INTEGER NOT NULL,
  PRIMARY KEY (feed_id, round)
);
)sql"},
      // The gas bank's ledger (services/gasbank/ledger.h): a gap-free journal of entries (seq from
      // the one gasbank_journal row, which also serialises postings on PostgreSQL), their lines,
      // each book's cached balance ('' is the account of the platform books) and the holds.
      {10, "gas bank ledger",
       R"sql(
CREATE TABLE gasbank_journal (
  id              INTEGER PRIMARY KEY CHECK (id = 1),
  last_seq        INTEGER NOT NULL
);
INSERT INTO gasbank_journal (id, last_seq) VALUES (1, 0);
CREATE TABLE gasbank_entries (
  seq             INTEGER PRIMARY KEY,
  entry_key       TEXT NOT NULL UNIQUE,
  kind            TEXT NOT NULL,
  account_id      TEXT NOT NULL,
  service         TEXT NOT NULL,
  reference       TEXT NOT NULL,
  lines_digest    TEXT NOT NULL,
  created_at_ms   INTEGER NOT NULL
);
CREATE INDEX gasbank_entries_by_account ON gasbank_entries(account_id, seq);
CREATE TABLE gasbank_lines (
  seq             INTEGER NOT NULL REFERENCES gasbank_entries(seq),
  line_no         INTEGER NOT NULL,
  book            TEXT NOT NULL,
  account_id      TEXT NOT NULL,
  amount          INTEGER NOT NULL,
  PRIMARY KEY (seq, line_no)
) WITHOUT ROWID;
CREATE TABLE gasbank_balances (
  book            TEXT NOT NULL,
  account_id      TEXT NOT NULL,
  balance         INTEGER NOT NULL CHECK (balance >= 0 OR book IN ('revenue', 'custody')),
  PRIMARY KEY (book, account_id)
) WITHOUT ROWID;
CREATE TABLE gasbank_holds (
  id              TEXT PRIMARY KEY,
  account_id      TEXT NOT NULL,
  service         TEXT NOT NULL,
  reference       TEXT NOT NULL,
  amount          INTEGER NOT NULL CHECK (amount > 0),
  state           TEXT NOT NULL CHECK (state IN ('open', 'settled', 'released')),
  charged         INTEGER NOT NULL DEFAULT 0,
  hold_key        TEXT NOT NULL UNIQUE,
  created_at_ms   INTEGER NOT NULL,
  expires_at_ms   INTEGER NOT NULL,
  settled_at_ms   INTEGER
);
CREATE INDEX gasbank_holds_by_state ON gasbank_holds(state, expires_at_ms);
)sql"},
      // The gas bank's deposit addresses, deposits and withdrawals (services/gasbank/deposits.h,
      // withdrawals.h) and its settings (the hot wallet's address, for the audit).
      {11, "gas bank deposits and withdrawals",
       R"sql(
CREATE TABLE gasbank_addresses (
  account_id      TEXT PRIMARY KEY,
  script_hash     TEXT NOT NULL UNIQUE,
  address         TEXT NOT NULL,
  public_key      TEXT NOT NULL,
  created_at_ms   INTEGER NOT NULL
);
CREATE TABLE gasbank_deposits (
  tx_hash         TEXT NOT NULL,
  notify_index    INTEGER NOT NULL,
  account_id      TEXT NOT NULL,
  from_hash       TEXT NOT NULL,
  amount          INTEGER NOT NULL CHECK (amount > 0),
  block_index     INTEGER NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('seen', 'credited')),
  entry_seq       INTEGER,
  created_at_ms   INTEGER NOT NULL,
  credited_at_ms  INTEGER,
  PRIMARY KEY (tx_hash, notify_index)
);
CREATE INDEX gasbank_deposits_by_state ON gasbank_deposits(state, block_index);
CREATE INDEX gasbank_deposits_by_account ON gasbank_deposits(account_id, block_index);
CREATE TABLE gasbank_withdrawals (
  id              TEXT PRIMARY KEY,
  account_id      TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  to_hash         TEXT NOT NULL,
  amount          INTEGER NOT NULL CHECK (amount > 0),
  fee_hold_id     TEXT NOT NULL,
  fee_reserved    INTEGER NOT NULL,
  fee_charged     INTEGER NOT NULL DEFAULT 0,
  state           TEXT NOT NULL CHECK (state IN ('pending', 'settled', 'returned')),
  outbox_key      TEXT NOT NULL UNIQUE,
  error           TEXT NOT NULL DEFAULT '',
  created_at_ms   INTEGER NOT NULL,
  updated_at_ms   INTEGER NOT NULL,
  UNIQUE (account_id, idempotency_key)
);
CREATE INDEX gasbank_withdrawals_by_state ON gasbank_withdrawals(state);
CREATE INDEX gasbank_withdrawals_by_account ON gasbank_withdrawals(account_id, created_at_ms);
CREATE TABLE gasbank_settings (
  name            TEXT PRIMARY KEY,
  value           TEXT NOT NULL
);
)sql"},
      // Contract automation (services/automation/trigger_store.h): triggers with their spec and
      // state, and runs keyed by their deterministic firing id; an outbox item's own witness
      // scope (automation's calls are signed fee-only). The same SQL on both backends.
      {12, "automation triggers and runs",
       R"sql(
CREATE TABLE automation_triggers (
  id               TEXT PRIMARY KEY,
  account_id       TEXT NOT NULL,
  name             TEXT NOT NULL,
  kind             TEXT NOT NULL CHECK (kind IN ('cron', 'interval', 'block', 'event', 'price')),
  spec_json        TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('active', 'paused', 'completed')),
  status_reason    TEXT NOT NULL DEFAULT '',
  runs             BIGINT NOT NULL DEFAULT 0 CHECK (runs >= 0),
  next_due_ms      BIGINT,
  last_fired_at_ms BIGINT,
  state_json       TEXT NOT NULL DEFAULT '',
  created_at_ms    BIGINT NOT NULL,
  updated_at_ms    BIGINT NOT NULL
);
CREATE INDEX automation_triggers_by_account ON automation_triggers(account_id, created_at_ms);
CREATE INDEX automation_triggers_by_status ON automation_triggers(status, kind);
CREATE TABLE automation_runs (
  id                 TEXT PRIMARY KEY,
  trigger_id         TEXT NOT NULL,
  account_id         TEXT NOT NULL,
  status             TEXT NOT NULL CHECK (status IN ('pending', 'running', 'retrying', 'succeeded', 'failed')),
  scheduled_at_ms    BIGINT NOT NULL,
  recorded_at_ms     BIGINT NOT NULL,
  finished_at_ms     BIGINT,
  attempts           BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at_ms BIGINT,
  context_json       TEXT NOT NULL,
  catch_up           BIGINT NOT NULL DEFAULT 0 CHECK (catch_up IN (0, 1)),
  execution_id       TEXT NOT NULL DEFAULT '',
  tx_hash            TEXT NOT NULL DEFAULT '',
  http_status        BIGINT NOT NULL DEFAULT 0,
  error              TEXT NOT NULL DEFAULT ''
);
CREATE INDEX automation_runs_by_trigger ON automation_runs(trigger_id, scheduled_at_ms, id);
CREATE INDEX automation_runs_by_status ON automation_runs(status);
ALTER TABLE chain_outbox ADD COLUMN scopes BIGINT;
)sql"},
      // Replicas elect the one that runs the singletons (coord/lease.h). `epoch` rises with every
      // change of holder and fences a deposed holder's writes out.
      {13, "replica leases",
       R"sql(
CREATE TABLE leases (
  name          TEXT PRIMARY KEY,
  holder        TEXT NOT NULL,
  epoch         INTEGER NOT NULL CHECK (epoch >= 1),
  expires_at_ms INTEGER NOT NULL,
  renewed_at_ms INTEGER NOT NULL
);
)sql"},
      // Asynchronous operations (gateway/operation_store.h): what a 202 promised, kept until done
      // and after, so that a restart resumes or fails it and a client can always ask; and the
      // deliveries of their completion to webhooks.
      {14, "asynchronous operations",
       R"sql(
CREATE TABLE operations (
  id             TEXT PRIMARY KEY,
  account_id     TEXT NOT NULL,
  kind           TEXT NOT NULL,
  state          TEXT NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
  request_json   TEXT NOT NULL,
  http_status    INTEGER NOT NULL DEFAULT 0,
  result_json    TEXT NOT NULL DEFAULT '',
  error_json     TEXT NOT NULL DEFAULT '',
  webhook_url    TEXT NOT NULL DEFAULT '',
  owner          TEXT NOT NULL,
  attempts       INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  created_at_ms  INTEGER NOT NULL,
  updated_at_ms  INTEGER NOT NULL,
  started_at_ms  INTEGER,
  finished_at_ms INTEGER,
  webhook_state       TEXT NOT NULL DEFAULT '' CHECK (webhook_state IN ('', 'pending', 'delivered', 'failed')),
  webhook_attempts    INTEGER NOT NULL DEFAULT 0 CHECK (webhook_attempts >= 0),
  webhook_first_at_ms INTEGER,
  webhook_next_at_ms  INTEGER
);
CREATE INDEX operations_by_account ON operations(account_id, created_at_ms, id);
CREATE INDEX operations_unfinished ON operations(state, owner);
CREATE INDEX operations_webhooks_due ON operations(webhook_state, owner, webhook_next_at_ms);
CREATE TABLE operation_deliveries (
  operation_id TEXT NOT NULL,
  attempt      INTEGER NOT NULL CHECK (attempt >= 1),
  at_ms        INTEGER NOT NULL,
  http_status  INTEGER NOT NULL DEFAULT 0,
  error        TEXT NOT NULL DEFAULT '',
  duration_ms  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (operation_id, attempt)
);
)sql"},
      // Operations as they end, for the `operations` WebSocket channel (by account and finish);
      // and the gateways that run them, each seen at its last heartbeat, so that a live one
      // adopts the unfinished work of one gone for good (gateway/operation_store.h).
      {15, "operation streams and owners",
       R"sql(
CREATE INDEX operations_by_finish ON operations(account_id, finished_at_ms, id);
CREATE TABLE operation_owners (
  owner      TEXT PRIMARY KEY,
  seen_at_ms INTEGER NOT NULL
);
)sql"},
  };
  return kMigrations;
}

}  // namespace neosl::schema
