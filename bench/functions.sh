#!/usr/bin/env bash
# Functions benchmark (issue #8): neosl's JavaScript runtime against Node.js, in one run.
#
#   bench/functions.sh [options]
#
# For the same function file (bench/functions/trivial.js unless --function):
#   (a) neosl, through the runtime's in-process API (runtime::WorkerPool: sandboxed function
#       workers, the enclave's proof included): warm (a compiled version) and cold (a new version
#       each time) latency, one invocation at a time; also the engine alone in-process, and the
#       pool's throughput with two workers;
#   (b) Node.js `vm.runInNewContext` in a warm process (a fresh context per invocation);
#   (c) a fresh `node` process per invocation — the model of Chainlink's functions-toolkit
#       simulator;
#   (d) trivial invocations per second through REST: `neosl serve` (role all, one worker per CPU)
#       driven by wrk, POST /v1/functions/{id}/invoke, every execution stored and signed.
# Targets (reported, not gated): (a) warm p50 ≤ (b) p50; (c) p50 ≥ 50 × (a) warm p50;
# (d) ≥ 2000 invocations/s on 2 cores. Exit non-zero only on errors.
#
# Options (environment variable in brackets):
#   -s, --seconds S        per latency measure of (a) and (b)                 [BENCH_SECONDS=5]
#   -n, --processes N      node processes for (c)                             [BENCH_PROCESSES=30]
#   -d, --duration D       wrk run for (d), e.g. 10s                          [BENCH_DURATION=10s]
#   -c, --connections N    wrk connections for (d)                            [BENCH_CONNECTIONS=16]
#   -f, --function F.js    the function file                                  [BENCH_FUNCTION]
#       --skip-install     do not run scripts/install-deps --bench first      [BENCH_SKIP_INSTALL=1]
#   -h, --help             this text
# Binaries: build/neosl and build/bench/functions_bench (BENCH_NEOSL_BIN, BENCH_FUNCTIONS_BIN).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_PER="${BENCH_SECONDS:-5}"
PROCESSES="${BENCH_PROCESSES:-30}"
DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-16}"
FUNCTION="${BENCH_FUNCTION:-$ROOT/bench/functions/trivial.js}"
SKIP_INSTALL="${BENCH_SKIP_INSTALL:-0}"
NEOSL_BIN="${BENCH_NEOSL_BIN:-$ROOT/build/neosl}"
FUNCTIONS_BIN="${BENCH_FUNCTIONS_BIN:-$ROOT/build/bench/functions_bench}"

die() { echo "functions.sh: ERROR: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo pipefail$/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
need_value() { if [ $# -lt 2 ] || [ -z "$2" ]; then die "option $1 needs a value (try --help)"; fi; }
while [ $# -gt 0 ]; do
  case "$1" in
    -s|--seconds) need_value "$@"; SECONDS_PER="$2"; shift 2 ;;
    -n|--processes) need_value "$@"; PROCESSES="$2"; shift 2 ;;
    -d|--duration) need_value "$@"; DURATION="$2"; shift 2 ;;
    -c|--connections) need_value "$@"; CONNECTIONS="$2"; shift 2 ;;
    -f|--function) need_value "$@"; FUNCTION="$2"; shift 2 ;;
    --skip-install) SKIP_INSTALL=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (try --help)" ;;
  esac
done

[ "$SKIP_INSTALL" = 1 ] || "$ROOT/scripts/install-deps" --bench
[ -x "$NEOSL_BIN" ] || die "$NEOSL_BIN not found (run 'make build')"
[ -x "$FUNCTIONS_BIN" ] || die "$FUNCTIONS_BIN not found (run 'make build')"
[ -r "$FUNCTION" ] || die "cannot read $FUNCTION"
command -v node >/dev/null || die "node is needed for the peers"
command -v wrk >/dev/null || die "wrk is needed for (d) (scripts/install-deps --bench)"

TMP="$(mktemp -d)"
NEOSL_PID=""
cleanup() {
  if [ -n "$NEOSL_PID" ]; then kill "$NEOSL_PID" 2>/dev/null || true; wait "$NEOSL_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

echo "functions.sh: $(nproc) CPUs, function $(basename "$FUNCTION"), $SECONDS_PER s per latency measure" >&2
echo "(a) neosl runtime …" >&2
"$FUNCTIONS_BIN" "$NEOSL_BIN" "$SECONDS_PER" "$FUNCTION" --engine 2>/dev/null | grep '^{' >"$TMP/results"
"$FUNCTIONS_BIN" "$NEOSL_BIN" 1 "$FUNCTION" --throughput 2>/dev/null | grep pool_throughput >>"$TMP/results"
echo "(b) node vm …" >&2
node "$ROOT/bench/functions/peer.js" vm "$FUNCTION" "$SECONDS_PER" >>"$TMP/results"
echo "(c) node process per invocation …" >&2
node "$ROOT/bench/functions/peer.js" process "$FUNCTION" "$PROCESSES" >>"$TMP/results"

echo "(d) REST through neosl serve …" >&2
mkdir -p "$TMP/data"
NEOSL_RATE_LIMITS_PER_CALLER_DEFAULT_REQUESTS_PER_SECOND=100000000 \
NEOSL_RATE_LIMITS_PER_CALLER_DEFAULT_BURST=100000000 \
NEOSL_RATE_LIMITS_GLOBAL_REQUESTS_PER_SECOND=100000000 NEOSL_RATE_LIMITS_GLOBAL_BURST=100000000 \
NEOSL_LOG_REQUESTS=false NEOSL_LOG_LEVEL=warn \
  "$NEOSL_BIN" serve --listen 127.0.0.1:0 --data "$TMP/data" >"$TMP/neosl.log" 2>&1 &
NEOSL_PID=$!
for _ in $(seq 1 100); do [ -s "$TMP/data/listen.addr" ] && break; sleep 0.2; done
[ -s "$TMP/data/listen.addr" ] || die "neosl serve did not start (log: $(tail -3 "$TMP/neosl.log"))"
ADDR="$(cat "$TMP/data/listen.addr")"
KEY="$(cat "$TMP/data/admin.key")"
node -e 'const fs=require("fs");process.stdout.write(JSON.stringify({name:"bench",source:fs.readFileSync(process.argv[1],"utf8")}))' \
  "$FUNCTION" >"$TMP/create.json"
ID="$(curl -fsS -X POST "http://$ADDR/v1/functions" -H "authorization: Bearer $KEY" \
        -H 'content-type: application/json' --data-binary @"$TMP/create.json" |
      node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).id))')"
[ -n "$ID" ] || die "creating the function failed"
cat >"$TMP/invoke.lua" <<EOF
wrk.method = "POST"
wrk.body = '{"args":[1,2,3]}'
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer $KEY"
EOF
STATUS="$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$ADDR/v1/functions/$ID/invoke" \
            -H "authorization: Bearer $KEY" -H 'content-type: application/json' -d '{"args":[1,2,3]}')"
[ "$STATUS" = 200 ] || die "a check invocation answered $STATUS"
wrk -t1 -c"$CONNECTIONS" -d2s -s "$TMP/invoke.lua" "http://$ADDR/v1/functions/$ID/invoke" >/dev/null
wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$TMP/invoke.lua" "http://$ADDR/v1/functions/$ID/invoke" \
  >"$TMP/wrk.txt"
if grep -q "Non-2xx" "$TMP/wrk.txt"; then die "wrk saw non-2xx answers: $(grep Non-2xx "$TMP/wrk.txt")"; fi
RPS="$(awk '/^Requests\/sec/ {print $2}' "$TMP/wrk.txt")"
P50="$(awk '$1 == "50%" {print $2}' "$TMP/wrk.txt")"
echo "{\"measure\":\"rest_invocations\",\"per_second\":${RPS%.*},\"p50\":\"$P50\",\"connections\":$CONNECTIONS}" \
  >>"$TMP/results"

node - "$TMP/results" <<'EOF'
const lines = require('fs').readFileSync(process.argv[2], 'utf8').trim().split('\n').map(JSON.parse);
const m = Object.fromEntries(lines.map((l) => [l.measure, l]));
const row = (name, l) => console.log(name.padEnd(46) + (l.p50_us !== undefined ? `p50 ${l.p50_us.toFixed(1).padStart(9)} µs   ` : ' '.repeat(20)) +
  (l.p99_us !== undefined ? `p99 ${l.p99_us.toFixed(1).padStart(9)} µs   ` : ' '.repeat(20)) + `${String(l.per_second).padStart(7)} /s`);
console.log('');
row('(a) neosl warm (worker pool, signed)', m.neosl_warm);
row('(a) neosl cold (new version each time)', m.neosl_cold);
row('    engine alone, in-process, warm', m.engine_in_process_warm);
row('    worker pool, 2 workers, 16 in flight', m.pool_throughput_2_workers);
row('(b) node vm.runInNewContext, warm', m.node_vm_warm);
row('(c) node process per invocation', m.node_process_per_invocation);
row(`(d) REST invoke, ${m.rest_invocations.connections} connections (p50 ${m.rest_invocations.p50})`, m.rest_invocations);
const warmVsVm = m.neosl_warm.p50_us / m.node_vm_warm.p50_us;
const procVsWarm = m.node_process_per_invocation.p50_us / m.neosl_warm.p50_us;
console.log('');
console.log(`warm p50 / node vm p50:              ${warmVsVm.toFixed(2)}×   target ≤ 1: ${warmVsVm <= 1 ? 'met' : 'MISSED'}`);
console.log(`engine alone p50 / node vm p50:      ${(m.engine_in_process_warm.p50_us / m.node_vm_warm.p50_us).toFixed(2)}×`);
console.log(`process per invocation / warm (p50): ${procVsWarm.toFixed(0)}×   target ≥ 50: ${procVsWarm >= 50 ? 'met' : 'MISSED'}`);
console.log(`REST invocations/s:                  ${m.rest_invocations.per_second}   target ≥ 2000: ${m.rest_invocations.per_second >= 2000 ? 'met' : 'MISSED'}`);
EOF
