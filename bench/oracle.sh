#!/usr/bin/env bash
# Oracle benchmark (issue #10), in one run:
#   (a) fetch + check + filter of a loopback JSON source (oracle::FetchSource through a real
#       SocketRelay and net::Fetcher, a new connection per call, Neo JPath `$.data.lastPrice`)
#       against the peer: a plain Boost.Beast GET of the same URL, a new connection per call;
#   (b) chain requests through `neosl serve` on its devchain (blocks on demand): N transactions
#       calling SampleConsumer.request("oracle", …) one at a time, each waited for on chain;
#       the relay's time from seeing the notification to sending the callback transaction
#       (fetch, filter, signature, store and the transaction included), from the serve's log;
#   (c) POST /v1/oracle/requests through REST (wrk), each request fetched by the enclave,
#       filtered, signed and stored, against wrk's plain GETs of the source itself.
# Target (reported, not gated): (b) p50 under 5 ms. Exit non-zero only on errors.
#
# Options (environment variable in brackets):
#   -s, --seconds S        for (a)                                    [BENCH_SECONDS=5]
#   -n, --requests N       chain requests for (b)                     [BENCH_REQUESTS=200]
#   -d, --duration D       wrk run for (c), e.g. 10s                  [BENCH_DURATION=10s]
#   -c, --connections N    wrk connections for (c)                    [BENCH_CONNECTIONS=16]
#       --skip-install     do not run scripts/install-deps --bench    [BENCH_SKIP_INSTALL=1]
#   -h, --help             this text
# Binaries: build/neosl and build/bench/oracle_bench (BENCH_NEOSL_BIN, BENCH_ORACLE_BIN).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_PER="${BENCH_SECONDS:-5}"
REQUESTS="${BENCH_REQUESTS:-200}"
DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-16}"
SKIP_INSTALL="${BENCH_SKIP_INSTALL:-0}"
NEOSL_BIN="${BENCH_NEOSL_BIN:-$ROOT/build/neosl}"
ORACLE_BIN="${BENCH_ORACLE_BIN:-$ROOT/build/bench/oracle_bench}"

die() { echo "oracle.sh: ERROR: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo pipefail$/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
need_value() { if [ $# -lt 2 ] || [ -z "$2" ]; then die "option $1 needs a value (try --help)"; fi; }
while [ $# -gt 0 ]; do
  case "$1" in
    -s|--seconds) need_value "$@"; SECONDS_PER="$2"; shift 2 ;;
    -n|--requests) need_value "$@"; REQUESTS="$2"; shift 2 ;;
    -d|--duration) need_value "$@"; DURATION="$2"; shift 2 ;;
    -c|--connections) need_value "$@"; CONNECTIONS="$2"; shift 2 ;;
    --skip-install) SKIP_INSTALL=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (try --help)" ;;
  esac
done

[ "$SKIP_INSTALL" = 1 ] || "$ROOT/scripts/install-deps" --bench
[ -x "$NEOSL_BIN" ] || die "$NEOSL_BIN not found (run 'make build')"
[ -x "$ORACLE_BIN" ] || die "$ORACLE_BIN not found (run 'make build')"
command -v wrk >/dev/null || die "wrk is needed for (c) (scripts/install-deps --bench)"
command -v node >/dev/null || die "node is needed for the summary"

TMP="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

echo "oracle.sh: $(nproc) CPUs" >&2
echo "(a) fetch + filter against a plain GET …" >&2
"$ORACLE_BIN" fetch "$SECONDS_PER" >"$TMP/results"

echo "(b) chain requests through neosl serve …" >&2
mkdir -p "$TMP/data"
NEOSL_RATE_LIMITS_PER_CALLER_DEFAULT_REQUESTS_PER_SECOND=100000000 \
NEOSL_RATE_LIMITS_PER_CALLER_DEFAULT_BURST=100000000 \
NEOSL_RATE_LIMITS_GLOBAL_REQUESTS_PER_SECOND=100000000 NEOSL_RATE_LIMITS_GLOBAL_BURST=100000000 \
NEOSL_LOG_REQUESTS=false NEOSL_CHAIN_DEVCHAIN_LISTEN=127.0.0.1:0 NEOSL_CHAIN_DEVCHAIN_BLOCK_MS=0 \
NEOSL_NET_ALLOW_PRIVATE=127.0.0.1/32 NEOSL_ORACLE_ALLOW_HTTP=true NEOSL_NET_PER_HOST_RATE=0 \
  "$NEOSL_BIN" serve --listen 127.0.0.1:0 --data "$TMP/data" >"$TMP/neosl.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 150); do [ -s "$TMP/data/listen.addr" ] && [ -s "$TMP/data/devchain/listen.addr" ] && break; sleep 0.2; done
[ -s "$TMP/data/listen.addr" ] || die "neosl serve did not start (log: $(tail -3 "$TMP/neosl.log"))"
ADDR="$(cat "$TMP/data/listen.addr")"
KEY="$(cat "$TMP/data/admin.key")"
CHAIN="$(cat "$TMP/data/devchain/listen.addr")"
for _ in $(seq 1 150); do grep -q "chain request relay running" "$TMP/neosl.log" && break; sleep 0.2; done
grep -q "chain request relay running" "$TMP/neosl.log" || die "the relay did not start (log: $(tail -3 "$TMP/neosl.log"))"
"$ORACLE_BIN" chain "http://$CHAIN" "$TMP/neosl.log" "$REQUESTS" >>"$TMP/results"

echo "(c) REST requests through neosl serve, and wrk on the source itself …" >&2
"$ORACLE_BIN" source "$TMP/source.addr" &
PIDS+=($!)
for _ in $(seq 1 50); do [ -s "$TMP/source.addr" ] && break; sleep 0.1; done
SOURCE="http://$(cat "$TMP/source.addr")/api/v3/ticker?symbol=NEOUSDT"
cat >"$TMP/oracle.lua" <<EOF
wrk.method = "POST"
wrk.body = '{"url": "$SOURCE", "filter": "\$.data.lastPrice"}'
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer $KEY"
EOF
CHECK="$(curl -fsS -X POST "http://$ADDR/v1/oracle/requests" -H "authorization: Bearer $KEY" \
          -H 'content-type: application/json' -d "{\"url\": \"$SOURCE\", \"filter\": \"\$.data.lastPrice\"}")"
case "$CHECK" in *'"code":"Success"'*) ;; *) die "a check request did not succeed: $CHECK" ;; esac
wrk -t1 -c"$CONNECTIONS" -d2s -s "$TMP/oracle.lua" "http://$ADDR/v1/oracle/requests" >/dev/null
wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$TMP/oracle.lua" "http://$ADDR/v1/oracle/requests" >"$TMP/wrk.txt"
if grep -q "Non-2xx" "$TMP/wrk.txt"; then die "wrk saw non-2xx answers: $(grep Non-2xx "$TMP/wrk.txt")"; fi
RPS="$(awk '/^Requests\/sec/ {print $2}' "$TMP/wrk.txt")"
P50="$(awk '$1 == "50%" {print $2}' "$TMP/wrk.txt")"
echo "{\"measure\":\"rest_oracle_requests\",\"per_second\":${RPS%.*},\"p50\":\"$P50\"}" >>"$TMP/results"
wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -H 'Connection: close' "$SOURCE" >"$TMP/wrk_source.txt"
RPS="$(awk '/^Requests\/sec/ {print $2}' "$TMP/wrk_source.txt")"
P50="$(awk '$1 == "50%" {print $2}' "$TMP/wrk_source.txt")"
echo "{\"measure\":\"wrk_source_direct\",\"per_second\":${RPS%.*},\"p50\":\"$P50\"}" >>"$TMP/results"

node - "$TMP/results" "$CONNECTIONS" <<'EOF'
const lines = require('fs').readFileSync(process.argv[2], 'utf8').trim().split('\n').map(JSON.parse);
const m = Object.fromEntries(lines.map((l) => [l.measure, l]));
const us = (v) => `${(v / 1000).toFixed(2).padStart(8)} ms`;
console.log('');
console.log(`(a) fetch + filter, in-process            ${String(m.fetch_filter.per_second).padStart(7)} /s   p50 ${us(m.fetch_filter.p50_us)}`);
console.log(`    plain GET (peer)                      ${String(m.plain_get.per_second).padStart(7)} /s   p50 ${us(m.plain_get.p50_us)}`);
console.log(`(b) notification → callback sent          p50 ${us(m.notification_to_callback_sent.p50_us)}   p99 ${us(m.notification_to_callback_sent.p99_us)}   (${m.notification_to_callback_sent.count} requests)`);
console.log(`    request tx sent → answer read on chain p50 ${us(m.request_tx_to_answer_on_chain.p50_us)}   p99 ${us(m.request_tx_to_answer_on_chain.p99_us)}`);
console.log(`(c) REST oracle requests, ${process.argv[3]} connections  ${String(m.rest_oracle_requests.per_second).padStart(7)} /s   p50 ${m.rest_oracle_requests.p50}`);
console.log(`    wrk GET on the source itself (peer)   ${String(m.wrk_source_direct.per_second).padStart(7)} /s   p50 ${m.wrk_source_direct.p50}`);
console.log('');
const ratio = m.fetch_filter.per_second / m.plain_get.per_second;
const p50 = m.notification_to_callback_sent.p50_us / 1000;
console.log(`fetch + filter / plain GET:                ${ratio.toFixed(2)}×`);
console.log(`REST requests / direct GETs:               ${(m.rest_oracle_requests.per_second / m.wrk_source_direct.per_second).toFixed(2)}×`);
console.log(`notification → callback sent, p50:         ${p50.toFixed(2)} ms   target < 5 ms: ${p50 < 5 ? 'met' : 'MISSED'}`);
EOF
