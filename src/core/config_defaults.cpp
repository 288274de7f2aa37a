#include <string_view>

#include "core/config.h"

namespace neosl {

// The embedded defaults: every key that exists, with its type and default value. Open maps
// (whose entries the operator names) are marked by an entry called `_template`.
std::string_view Config::DefaultsYaml() {
  return R"yaml(# neosl configuration. Every key can be set by NEOSL_<PATH> (e.g. NEOSL_LISTEN,
# NEOSL_GATEWAY_MAX_BODY_BYTES); `neosl config print` shows the effective values.
listen: "127.0.0.1:8080"      # HOST:PORT of the REST API; port 0 picks a free port
data_dir: "./data"            # SQLite database, admin key, sealed state

log:
  level: info                 # trace | debug | info | warn | error | off
  format: json                # json | text
  file: ""                    # empty: stderr
  requests: true              # one line per HTTP request

gateway:
  threads: 0                  # I/O threads; 0 = one per core
  handler_threads: 64         # threads for requests that wait on a service (most of /v1), off the I/O threads
  max_body_bytes: 1048576     # larger request bodies get 413
  max_header_bytes: 16384     # larger request heads get 431
  header_timeout_ms: 10000    # time allowed to send a request head
  body_timeout_ms: 30000      # time allowed to send a request body
  idle_timeout_ms: 60000      # keep-alive connections idle longer are closed
  drain_timeout_ms: 10000     # on SIGTERM, how long in-flight requests may take to finish
  max_connections: 10000      # further connections are accepted and closed at once
  ws:                         # GET /v1/ws (docs/api.md, "WebSocket")
    max_subscriptions: 16     # live subscriptions per connection
    max_connections_per_account: 32  # open WebSockets per account; more get 429 before the upgrade
    max_message_bytes: 16384  # larger client messages close the connection (1009)
    max_queued_messages: 1024 # outbound messages a slow client may leave unread …
    max_queued_bytes: 4194304 # … or bytes; over either the connection is closed (1013)
    idle_timeout_ms: 60000    # ping after half of this without a frame from the client; close after all
    close_timeout_ms: 5000    # for the opening and closing handshakes
  tls:
    cert_file: ""             # PEM certificate chain; set both to serve HTTPS
    key_file: ""              # PEM private key

operations:                   # asynchronous calls: 202 and an operation (docs/api.md#asynchronous-operations)
  threads: 8                  # operations running at once in this gateway
  max_queued: 10000           # accepted and waiting to run; past it, 503
  allow_http_webhooks: false  # http:// webhook URLs (development); https:// otherwise
  webhook_backoff_ms: 10000   # after a failed delivery; doubles each time (±20% jitter) …
  webhook_max_backoff_ms: 3600000 # … up to this
  webhook_retry_for_ms: 86400000  # retried for this long after the first attempt, then failed
  webhook_timeout_ms: 10000   # one delivery attempt
  stream_poll_ms: 500         # the ws `operations` channel sees other replicas' ends within this
  orphan_after_ms: 30000      # a gateway silent this long is gone: its unfinished work is adopted (0: never)

store:
  driver: sqlite              # sqlite (embedded, one host) | postgres (shared by scale-out replicas)
  sqlite:
    path: ""                  # empty: <data_dir>/neosl.db
    read_connections: 4
    busy_timeout_ms: 5000
  postgres:
    dsn: ""                   # libpq string or postgresql:// URI (a secret: it holds the password)
    pool_size: 8              # connections per process; callers wait connect_timeout_ms for a free one
    connect_timeout_ms: 5000  # to get a connection (free or newly opened), else 503 UNAVAILABLE
    statement_timeout_ms: 30000  # per statement, enforced by the server; 0 = no limit

auth:
  # API keys are stored as HMAC-SHA256(key_hash_secret, key). Replicas must share it: give it
  # inline (from a secret store, e.g. NEOSL_AUTH_KEY_HASH_SECRET) or as a file. With neither,
  # a random one is created at <data_dir>/key-hash.secret.
  key_hash_secret: ""
  key_hash_secret_file: ""

rate_limits:                  # token buckets; 0 requests_per_second disables a bucket
  global:
    requests_per_second: 20000
    burst: 4000
  per_caller:                 # by API key id; "default" applies to keys not listed
    _template:
      requests_per_second: 0
      burst: 0
    default:
      requests_per_second: 200
      burst: 400
    anonymous:                # requests without a valid key, per client address
      requests_per_second: 20
      burst: 40
  per_method:                 # by operation id as in /v1/openapi.json, e.g. CreateAccount
    _template:
      requests_per_second: 0
      burst: 0
  redis:                      # the gateway's buckets shared by its replicas (docs/operations.md)
    dsn: ""                   # redis://[[user]:password@]host:port[/db]; empty: each process its own buckets
    timeout_ms: 50            # longest an admission waits on Redis, then fail_open decides
    key_prefix: "neosl:rl:"
    fail_open: true           # Redis down or slow: true = this process's own buckets, false = 503 UNAVAILABLE
    connections: 8            # persistent connections per process

chain:
  # devchain: run the embedded development network (not a Neo node; see docs/devchain.md).
  # rpc: use the Neo N3 node at rpc_url (TestNet, MainNet, a private net).
  mode: devchain
  rpc_url: ""                 # http(s)://host:port of a node's JSON-RPC; required when mode is rpc
  devchain:
    listen: "127.0.0.1:20332" # its JSON-RPC and /ws; port 0 picks a free port (see <data>/devchain.addr)
    block_ms: 1000            # block interval; 0 mines as soon as a transaction arrives
    data_dir: ""              # empty: <data_dir>/devchain
    wallets: 10               # funded development wallets (public keys: `neosl devchain wallets`)
  cache:                      # chain reads kept for every client of the process (docs/operations.md)
    enabled: true
    max_bytes: 67108864       # blocks, transactions, logs and state results kept; past it, LRU eviction
    height_ttl_ms: 1000       # how long a known block height stands; state results last until the next block

chain_requests:               # answering contracts' ServiceRequest notifications (docs/chain-requests.md)
  enabled: true               # run the relay in `neosl serve` (role all)
  confirmations: 0            # blocks after a request's block before it is acted on
  poll_ms: 1000               # how often a chain.rpc_url node is polled for new blocks
  devchain_fund_gas: 1000     # on the devchain, GAS the faucet tops the enclave's account up to at start

enclave:
  # sim: a hardened child process with simulated quotes (development; verifiers refuse it unless
  # they allow simulation). sgx: the same program under Gramine-SGX (docs/enclave.md).
  backend: sim
  sealed_dir: ""              # empty: <data_dir>/enclave; the only directory the enclave can touch
  platform_secret_file: ""    # empty: <data_dir>/platform.secret (0600, made once); sealing keys derive from it
  # signer: sealed state opens in any build signed by the same signer (survives rebuilds).
  # measurement: only in this exact binary (an upgrade needs `neosl enclave migrate`).
  seal_policy: signer
  # Production: the enclave measurement signed offline with `neosl enclave sign`. Empty: a
  # development signer key (<data_dir>/enclave-signer.key, made once) signs each build at start.
  sigstruct_file: ""
  ca_file: "/etc/ssl/certs/ca-certificates.crt"  # trust anchors for HTTPS made inside the enclave
  allow_private_networks: false  # let enclave HTTPS reach loopback and private addresses (tests only)
  call_timeout_ms: 10000      # how long a call into the enclave may take

net:
  # Outbound fetches (functions' fetch(), the oracle) go through the host, which refuses loopback,
  # private, link-local and metadata addresses. Comma-separated CIDRs listed here are reachable
  # anyway, e.g. "10.1.2.0/24, 127.0.0.1/32, ::1/128" (enclave.allow_private_networks opens all).
  allow_private: ""
  # Connections per second the enclave may open to one host name, so that neosl cannot be used
  # to flood a third party (0: unlimited); over it a fetch fails at once. The burst is how many
  # a host may get at once before the rate applies (0: the rate).
  per_host_rate: 50
  per_host_burst: 100

oracle:                       # external data into contracts (docs/oracle.md)
  timeout_ms: 5000            # per source, redirects included (Neo's OracleService: 5 s)
  content_types: "application/json, text/plain"  # media types a source may answer with
  max_result_bytes: 65535     # after the filter (Neo's OracleResponse.MaxResultSize)
  allow_http: false           # http:// sources besides https:// (development and tests)
  threads: 16                 # requests run at once
  queue: 1024                 # requests waiting for a thread; more is 429

pricefeed:                    # prices from several venues, aggregated and signed (docs/pricefeed.md)
  enabled: true
  poll_interval_ms: 1000      # a round of every followed pair this often
  timeout_ms: 2000            # per venue
  quorum: 3                   # usable quotes a round needs, after stale ones and outliers are dropped
  max_age_ms: 60000           # a venue's quote older than this is stale
  mad_k_milli: 3000           # outlier: over k x 1.4826 x MAD from the median (k = 3.000) …
  outlier_floor_bps: 10       # … and over this from it
  volume_weighted: false      # the median weighted by each venue's 24 h volume
  threads: 4                  # rounds at once
  max_feeds_per_account: 100
  default_deviation_bps: 50   # a feed publishes when the price moved this much …
  default_heartbeat_s: 3600   # … or this long after its last update
  watch_ttl_s: 600            # a pair read through GET /v1/prices is kept fresh this long
  valid_for_blocks: 20        # an update transaction not in a block by then is superseded
  max_update_fee: 50000000    # datoshi: an update transaction's fee cap, held from the feed's account
  allow_http: false           # http:// venue base URLs (tests and local mirrors)
  venues:                     # the venues' public APIs (base_url: tests point them at local servers)
    _template:
      base_url: ""
      enabled: true
    binance:
      base_url: "https://api.binance.com"
      enabled: true
    coinbase:
      base_url: "https://api.exchange.coinbase.com"
      enabled: true
    okx:
      base_url: "https://www.okx.com"
      enabled: true
    kraken:
      base_url: "https://api.kraken.com"
      enabled: true
    coingecko:
      base_url: "https://api.coingecko.com"
      enabled: true
    bybit:
      base_url: "https://api.bybit.com"
      enabled: false
    kucoin:
      base_url: "https://api.kucoin.com"
      enabled: false
  pairs:                      # the pairs feeds may follow; NEO_USD here is the pair NEO/USD
    _template:
      enabled: true           # false: not observed (a default pair an operator does not want)
      decimals: 8
      venues: ""              # comma-separated; empty: every enabled venue
      symbols: ""             # the venues' symbols where the convention does not fit: "kraken=XBTUSD, …"
    NEO_USD:
      enabled: true
      decimals: 8
      venues: ""
      symbols: ""
    GAS_USD:
      enabled: true
      decimals: 8
      venues: ""
      symbols: ""
    BTC_USD:
      enabled: true
      decimals: 8
      venues: ""
      symbols: ""
    ETH_USD:
      enabled: true
      decimals: 8
      venues: ""
      symbols: ""

gasbank:                      # prepaid GAS for every service (docs/gasbank.md)
  enabled: true               # false: nothing is charged and the gas bank API answers UNAVAILABLE
  confirmations: 1            # blocks after a deposit's block before it is credited
  hold_ttl_ms: 600000         # a hold neither charged nor released by then is released
  fee_schedule_file: ""       # YAML fee schedule (docs/gasbank.md); empty: the built-in one
  withdrawal_fee_reserve: 20000000  # datoshi held for a withdrawal's transaction fees (0.2 GAS)
  withdrawal_valid_for_blocks: 100  # a withdrawal transaction not in a block by then is rebuilt …
  withdrawal_max_attempts: 3        # … this many times before the withdrawal is returned
  min_withdrawal: 100000      # datoshi (0.001 GAS)
  threads: 4                  # gas bank calls served at once

automation:                   # triggers that run functions, contract calls and webhooks (docs/automation.md)
  enabled: true
  sync_ms: 2000               # the leader picks up triggers other replicas' APIs changed this often
  threads: 4                  # actions running at once
  max_triggers_per_account: 10000
  max_catch_up: 100           # catch_up all: missed firings recorded per trigger at most
  allow_http: false           # true: webhook URLs may be http:// (development only)
  webhook_timeout_ms: 10000
  max_tx_fee: 50000000        # datoshi: a contract action's transaction fee cap unless it sets one
  confirmations: 0            # blocks on top before block and event triggers see a block
  zoneinfo_dir: "/usr/share/zoneinfo"  # IANA time zones for cron triggers (Debian's tzdata)

secrets:
  max_per_account: 1000       # secrets an account may keep; more is 429 RESOURCE_EXHAUSTED
  max_value_bytes: 65536      # the largest value (the enclave refuses more than 64 KiB anyway)

functions:
  max_per_account: 1000       # functions an account may keep; more is 429 RESOURCE_EXHAUSTED
  max_executions_kept: 1000   # executions kept per function; older ones are deleted
  log_stream_queue: 256       # log lines a live log stream may fall behind before it is dropped
  service_threads: 4          # threads for the service's store and secrets work (not for running JS)
  # The runtime (docs/functions.md, "The runtime"): sandboxed function-worker processes, one
  # invocation at a time each, behind one bounded queue.
  enabled: true               # run functions here (false: the routes answer 503 UNAVAILABLE)
  workers: 0                  # function workers; 0: one per CPU
  queue_capacity: 0           # invocations that may wait; more is 429. 0: 64 per worker
  jit: true                   # SpiderMonkey's JIT in the workers (false: interpreter only, no exec memory)
  worker_grace_ms: 2000       # past an invocation's time limit before its silent worker is killed

mesh:
  # all: the gateway and every service in this process, calling each other through gRPC's
  # in-process channel. gateway | echo: one role per process, gRPC over mutual TLS between them,
  # found through the registry (docs/mesh.md). `neosl serve --role` sets this too.
  role: all
  listen: "127.0.0.1:0"       # gRPC address of a service role or the gateway; port 0 picks one
  advertise: ""               # the address peers dial; empty: the bound address
  instance: ""                # this instance's id; empty: <role>-<random>
  insecure: false             # plaintext gRPC between processes: benchmarks only, no authentication
  policy_file: ""             # who may call what (the seed's YAML); empty: the embedded default
  rate_limits_file: ""        # server-side limits (the seed's YAML); empty: the embedded default
  # Evidence policy for sensitive calls (tee AttestationPolicy YAML). Empty: this build's enclave
  # measurement, with simulation allowed only when enclave.backend is sim.
  attestation_policy_file: ""
  log_calls: false            # one info line per served call (else debug)
  drain_ms: 5000              # on shutdown, how long calls in flight may take
  tls:
    dir: ""                   # this process's certificate, key, ca.crt, crl.pem; empty: <data_dir>/mesh
    ca_dir: ""                # a CA (`neosl ca init`) to issue and renew this process's certificate from
    cert_hours: 24            # certificate lifetime, 24 to 48; renewed with a third left
  registry:
    backend: file             # file: one machine (a shared directory) | etcd: several machines
    dir: ""                   # file backend; empty: <data_dir>/registry
    etcd_endpoints: "http://127.0.0.1:2379"  # comma-separated
    etcd_prefix: "/neosl"
    lease_ms: 5000            # an instance that stops renewing is gone after this long
  client:
    timeout_ms: 5000          # deadline of a call that has none from its caller
    max_attempts: 3           # tries of an idempotent call that gets UNAVAILABLE
    backoff_initial_ms: 100
    backoff_max_ms: 1000
    breaker_failures: 5       # consecutive UNAVAILABLE that open an instance's circuit
    breaker_open_ms: 5000     # how long an open circuit fails fast before probing

observability:
  # HOST:PORT where a service role (serve --role functions, …; not gateway or all, whose API
  # already serves them) answers GET /v1/health, /v1/ready and /metrics for probes and scrapes.
  # Empty: off. Port 0 picks one, written to <data_dir>/observability.addr.
  listen: ""

replicas:                     # several serve processes on one shared store (docs/operations.md#replicas)
  # One replica at a time runs the singletons (chain relay, outbox, deposits, automation's
  # schedules, price publishing): the one holding the lease. A leader that dies is replaced
  # after lease_ttl_ms plus at most retry_ms; one that stops cleanly hands over at once.
  lease_ttl_ms: 3000
  renew_ms: 1000              # the leader renews this often (well under lease_ttl_ms)
  retry_ms: 500               # a follower tries this often
)yaml";
}

}  // namespace neosl
