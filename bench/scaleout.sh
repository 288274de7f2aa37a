#!/usr/bin/env bash
# Scale-out benchmark (issue #14): the gateway + functions path with one and with two replicas
# of `neosl serve` on one shared PostgreSQL, in one run, on this machine.
#
#   bench/scaleout.sh [options]
#
# Set-up, all under a temp dir and stopped at the end: a throwaway PostgreSQL cluster (initdb +
# pg_ctl as the postgres user, loopback port, default durability: fsync and synchronous commit
# on), one `neosl devchain` both replicas follow, replicas of `neosl serve` (role all) with the
# shared platform secret and sealed state, and nginx as the round-robin load balancer in front
# of them (in front of the single replica too, so both configurations pay the same hop).
# wrk drives POST /v1/functions/{id}/invoke of bench/functions/trivial.js as the admin (the gas
# bank is off: the figure is the path, not the billing): each invocation runs in a sandboxed
# worker, is signed by the enclave and stored.
#
# Measured rounds alternate one replica, two replicas (2 rounds by default); every round and the
# best of each are reported with the CPU seconds used per 1,000 invocations by neosl (serve,
# enclave, workers) and by PostgreSQL, so the limit is visible: on 2 cores, two replicas share
# the same cores. Every invocation is of one function, whose execution counter is one row that
# both replicas update: the worst case for PostgreSQL's serializable writes.
#
# Options (environment variable in brackets):
#   -d, --duration D       measured wrk run per round                       [BENCH_DURATION=10s]
#   -c, --connections N    wrk connections                                  [BENCH_CONNECTIONS=32]
#   -r, --rounds N         measured rounds per configuration                [BENCH_ROUNDS=2]
#       --store S          postgres, or sqlite (one file shared on one host) [BENCH_STORE=postgres]
#       --skip-install     do not run scripts/install-deps --bench first    [BENCH_SKIP_INSTALL=1]
#       --keep             keep the temp dir (logs) and print its path
#   -h, --help             this text
# The neosl binary is build/neosl (BENCH_NEOSL_BIN). Exits non-zero only on errors.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
ROUNDS="${BENCH_ROUNDS:-2}"
STORE="${BENCH_STORE:-postgres}"
SKIP_INSTALL="${BENCH_SKIP_INSTALL:-0}"
KEEP=0
NEOSL_BIN="${BENCH_NEOSL_BIN:-$ROOT/build/neosl}"
FUNCTION="$ROOT/bench/functions/trivial.js"

die() { echo "scaleout.sh: ERROR: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo pipefail$/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
need_value() { if [ $# -lt 2 ] || [ -z "$2" ]; then die "option $1 needs a value (try --help)"; fi; }
while [ $# -gt 0 ]; do
  case "$1" in
    -d|--duration) need_value "$@"; DURATION="$2"; shift 2 ;;
    -c|--connections) need_value "$@"; CONNECTIONS="$2"; shift 2 ;;
    -r|--rounds) need_value "$@"; ROUNDS="$2"; shift 2 ;;
    --store) need_value "$@"; STORE="$2"; shift 2 ;;
    --skip-install) SKIP_INSTALL=1; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "scaleout.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ "$CONNECTIONS" =~ ^[1-9][0-9]*$ ]] || die "connections must be a positive integer"
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "rounds must be a positive integer"
[[ "$DURATION" =~ ^[1-9][0-9]*[smh]?$ ]] || die "duration must look like 10s or 1m"
case "$STORE" in postgres|sqlite) ;; *) die "--store must be postgres or sqlite, not '$STORE'" ;; esac
if [ "$SKIP_INSTALL" = 0 ]; then "$ROOT/scripts/install-deps" --bench || die "scripts/install-deps --bench failed"; fi
for tool in wrk curl python3 awk; do command -v "$tool" >/dev/null || die "'$tool' not found (scripts/install-deps --bench)"; done
NGINX_BIN="$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)"
[ -x "$NGINX_BIN" ] || die "nginx not found (scripts/install-deps --bench)"
[ -x "$NEOSL_BIN" ] || die "$NEOSL_BIN not found (make build)"
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [ "$STORE" = postgres ]; then [ -x "$PG_BIN/initdb" ] || die "PostgreSQL server not installed (scripts/install-deps)"; fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/neosl-scaleout.XXXXXX")"
chmod 755 "$TMP"
PIDS=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ -d "$TMP/pg" ]; then runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$TMP/pg" -m immediate stop >/dev/null 2>&1 || true; fi
  if [ "$KEEP" = 1 ]; then echo "scaleout.sh: kept $TMP" >&2; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_file() {  # wait_file FILE PID WHAT
  for _ in $(seq 300); do [ -s "$1" ] && return 0; kill -0 "$2" 2>/dev/null || break; sleep 0.1; done
  die "$3 did not start (see $TMP)"
}
# CPU seconds (user + system) of every process whose command line matches $1.
cpu_seconds() {
  python3 - "$1" <<'EOF'
import os, sys
pattern, total, hz = sys.argv[1], 0, os.sysconf('SC_CLK_TCK')
for pid in filter(str.isdigit, os.listdir('/proc')):
    try:
        cmd = open(f'/proc/{pid}/cmdline', 'rb').read().replace(b'\0', b' ').decode(errors='replace')
        if pattern not in cmd: continue
        f = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
        total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])  # utime stime cutime cstime
    except (OSError, IndexError, ValueError):
        pass
print(f'{total / hz:.2f}')
EOF
}

# --- the store -----------------------------------------------------------------------------
STORE_ENV=()
if [ "$STORE" = postgres ]; then
  PG_PORT="$(free_port)"
  mkdir -p "$TMP/pg" && chown postgres "$TMP/pg"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$TMP/pg" -A trust -U postgres >"$TMP/initdb.log" 2>&1 ||
    die "initdb failed: $(tail -3 "$TMP/initdb.log")"
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$TMP/pg" -w -l "$TMP/pg/server.log" \
    -o "-p $PG_PORT -k $TMP/pg -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null ||
    die "PostgreSQL did not start: $(tail -3 "$TMP/pg/server.log")"
  runuser -u postgres -- "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" neosl || die "createdb failed"
  STORE_ENV=(NEOSL_STORE_DRIVER=postgres
             "NEOSL_STORE_POSTGRES_DSN=host=127.0.0.1 port=$PG_PORT dbname=neosl user=postgres")
else
  STORE_ENV=(NEOSL_STORE_SQLITE_PATH="$TMP/shared.db")
fi

# --- the chain both replicas follow ----------------------------------------------------------
mkdir -p "$TMP/chain"
"$NEOSL_BIN" devchain --port 0 --block-ms 1000 --data "$TMP/chain" >"$TMP/chain.log" 2>&1 &
PIDS+=($!)
wait_file "$TMP/chain/listen.addr" "${PIDS[-1]}" "neosl devchain"
CHAIN_URL="http://$(tr -d '[:space:]' <"$TMP/chain/listen.addr")"

# --- replicas --------------------------------------------------------------------------------
start_replica() {  # start_replica N: data dir $TMP/rN, address in $TMP/rN/listen.addr
  local dir="$TMP/r$1"
  mkdir -p "$dir"
  if [ "$1" != 1 ]; then  # the shared state of a replica set (docs/operations.md#replicas)
    cp -a "$TMP/r1/platform.secret" "$TMP/r1/key-hash.secret" "$TMP/r1/enclave-signer.key" "$TMP/r1/admin.key" "$dir/"
    cp -a "$TMP/r1/enclave" "$dir/"
  fi
  env "${STORE_ENV[@]}" NEOSL_CHAIN_MODE=rpc NEOSL_CHAIN_RPC_URL="$CHAIN_URL" NEOSL_GASBANK_ENABLED=false \
    NEOSL_PRICEFEED_ENABLED=false NEOSL_LOG_REQUESTS=false NEOSL_LOG_LEVEL=warn \
    NEOSL_RATE_LIMITS_PER_CALLER_DEFAULT_REQUESTS_PER_SECOND=100000000 \
    NEOSL_RATE_LIMITS_PER_CALLER_DEFAULT_BURST=100000000 \
    NEOSL_RATE_LIMITS_GLOBAL_REQUESTS_PER_SECOND=100000000 NEOSL_RATE_LIMITS_GLOBAL_BURST=100000000 \
    "$NEOSL_BIN" serve --listen 127.0.0.1:0 --data "$dir" >"$TMP/r$1.log" 2>&1 &
  PIDS+=($!)
  wait_file "$dir/listen.addr" "${PIDS[-1]}" "replica $1"
}
start_replica 1
ADDR1="$(tr -d '[:space:]' <"$TMP/r1/listen.addr")"
KEY="$(tr -d '[:space:]' <"$TMP/r1/admin.key")"
python3 -c 'import json,sys; print(json.dumps({"name":"scaleout","source":open(sys.argv[1]).read()}))' "$FUNCTION" \
  >"$TMP/create.json"
ID="$(curl -fsS -X POST "http://$ADDR1/v1/functions" -H "authorization: Bearer $KEY" \
        -H 'content-type: application/json' --data-binary @"$TMP/create.json" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')" || die "creating the function failed"
start_replica 2
ADDR2="$(tr -d '[:space:]' <"$TMP/r2/listen.addr")"
# The function made through replica 1 is invoked through replica 2: one store.
status="$(curl -s -o "$TMP/check.json" -w '%{http_code}' -X POST "http://$ADDR2/v1/functions/$ID/invoke" \
  -H "authorization: Bearer $KEY" -H 'content-type: application/json' -d '{"args":[1,2,3]}')"
[ "$status" = 200 ] || die "invoking through replica 2 answered $status: $(cat "$TMP/check.json")"

# --- nginx in front ----------------------------------------------------------------------------
LB_PORT="$(free_port)"
mkdir -p "$TMP/nginx/logs"
write_nginx() {  # write_nginx ADDR...
  {
    echo "worker_processes 1; pid $TMP/nginx/nginx.pid; error_log $TMP/nginx/logs/error.log warn;"
    echo "events { worker_connections 4096; }"
    echo "http { access_log off; upstream neosl {"
    for a in "$@"; do echo "  server $a;"; done
    echo "  keepalive 64; }"
    echo "  server { listen 127.0.0.1:$LB_PORT; location / { proxy_pass http://neosl;"
    echo "    proxy_http_version 1.1; proxy_set_header Connection \"\"; } } }"
  } >"$TMP/nginx/nginx.conf"
}
write_nginx "$ADDR1"
"$NGINX_BIN" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g 'daemon off;' >"$TMP/nginx.out" 2>&1 &
NGINX_PID=$!
PIDS+=($NGINX_PID)
for _ in $(seq 50); do [ -s "$TMP/nginx/nginx.pid" ] && break; sleep 0.1; done
use_replicas() {  # use_replicas N: nginx sends to the first N replicas
  if [ "$1" = 1 ]; then write_nginx "$ADDR1"; else write_nginx "$ADDR1" "$ADDR2"; fi
  kill -HUP "$NGINX_PID"
  sleep 0.5  # nginx's old workers finish after the reload; the warm-up run follows anyway
}

cat >"$TMP/invoke.lua" <<EOF
wrk.method = "POST"
wrk.body = '{"args":[1,2,3]}'
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer $KEY"
-- Every answer other than 200 is counted by status, with one body of each, and printed at the end.
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) codes = {} samples = {} end
function response(status, headers, body)
  if status ~= 200 then
    codes[status] = (codes[status] or 0) + 1
    if samples[status] == nil then samples[status] = body end
  end
end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    local c, s = t:get("codes"), t:get("samples")
    for status, n in pairs(c) do io.write(string.format("status %d: %d, e.g. %s\n", status, n, s[status])) end
  end
end
EOF
URL="http://127.0.0.1:$LB_PORT/v1/functions/$ID/invoke"
run_round() {  # run_round N ROUND: prints "N rps p50 p99 neosl_cpu_per_1k pg_cpu_per_1k"
  use_replicas "$1"
  wrk -t2 -c"$CONNECTIONS" -d2s -s "$TMP/invoke.lua" "$URL" >/dev/null
  local n0 p0
  n0="$(cpu_seconds "$NEOSL_BIN")"; p0="$(cpu_seconds postgres)"
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$TMP/invoke.lua" "$URL" >"$TMP/wrk-$1-$2.txt"
  local n1 p1
  n1="$(cpu_seconds "$NEOSL_BIN")"; p1="$(cpu_seconds postgres)"
  if grep -q "Non-2xx\|Socket errors" "$TMP/wrk-$1-$2.txt"; then
    die "wrk saw errors with $1 replica(s): $(grep -h "Non-2xx\|Socket errors\|^status" "$TMP/wrk-$1-$2.txt")"
  fi
  awk -v n="$1" -v dn="$(python3 -c "print($n1-$n0)")" \
      -v dp="$(python3 -c "print($p1-$p0)")" '
    /^Requests\/sec/ {rps=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2}
    /requests in/ {reqs=$1}
    END {printf "%s %s %s %s %.2f %.2f\n", n, rps, p50, p99, 1000*dn/reqs, 1000*dp/reqs}' "$TMP/wrk-$1-$2.txt"
}

echo "scaleout.sh: $(nproc) CPUs, store $STORE, $CONNECTIONS connections, $DURATION x $ROUNDS rounds" >&2
: >"$TMP/results"
for round in $(seq "$ROUNDS"); do
  run_round 1 "$round" >>"$TMP/results"
  run_round 2 "$round" >>"$TMP/results"
done
python3 - "$TMP/results" "$STORE" "$(nproc)" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
best = {}
for n, rps, p50, p99, ncpu, pcpu in rows:
    if n not in best or float(rps) > float(best[n][0]):
        best[n] = (rps, p50, p99, ncpu, pcpu)
header = f"{'replicas':>8} {'invocations/s':>14} {'p50':>9} {'p99':>9} {'neosl cpu-s/1k':>15} {'store cpu-s/1k':>15}"
print(f"store {sys.argv[2]}, {sys.argv[3]} CPUs; every round, in the order run:")
print(header)
for n, rps, p50, p99, ncpu, pcpu in rows:
    print(f"{n:>8} {float(rps):>14.0f} {p50:>9} {p99:>9} {ncpu:>15} {pcpu:>15}")
print(f"best of {len(rows) // 2} rounds each:")
print(header)
for n in sorted(best):
    rps, p50, p99, ncpu, pcpu = best[n]
    print(f"{n:>8} {float(rps):>14.0f} {p50:>9} {p99:>9} {ncpu:>15} {pcpu:>15}")
if '1' in best and '2' in best:
    print(f"two replicas / one: {float(best['2'][0]) / float(best['1'][0]):.2f}")
EOF
