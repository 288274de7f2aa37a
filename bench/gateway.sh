#!/usr/bin/env bash
# Gateway throughput/latency benchmark: neosl against nginx, measured in the same run.
#
#   bench/gateway.sh [options]          (or: make bench)
#
# wrk drives GET /v1/accounts/me on neosl (viewer API key, rate limits on but far above the
# load) and the same path on nginx serving a static copy of that response (same body size)
# on loopback. Both servers get the same number of threads/workers. After a 2 s warm-up of
# each, the measured runs alternate nginx, neosl, nginx, neosl (2 rounds by default) and the
# best round of each server (highest req/s, with that round's latencies) is reported.
#
# Options (environment variable in brackets):
#   -d, --duration D          measured wrk run per round, e.g. 10s, 30s      [BENCH_DURATION=10s]
#   -c, --connections N       wrk connections                                [BENCH_CONNECTIONS=64]
#   -t, --wrk-threads N       wrk threads                                    [BENCH_WRK_THREADS=2]
#       --gateway-threads N   neosl gateway I/O threads                      [BENCH_GATEWAY_THREADS=2]
#       --nginx-workers N     nginx worker processes                         [BENCH_NGINX_WORKERS=2]
#       --no-log              neosl: no per-request log lines                [BENCH_NO_LOG=1]
#                             (default: request log on, written to a file in the temp dir)
#       --skip-install        do not run scripts/install-deps --bench first  [BENCH_SKIP_INSTALL=1]
#   -r, --rounds N            measured rounds per server (best is reported)  [BENCH_ROUNDS=2]
#       --keep                keep the temp dir (logs, wrk outputs) and print its path
#   -h, --help                this text
#
# The neosl binary is build/neosl (override with BENCH_NEOSL_BIN). The script reports the
# targets (neosl >= 0.5 x nginx req/s, neosl p99 < 5 ms at 64 connections) but does not gate
# on them: it exits 0 when a target is missed and non-zero only on errors (a server that does
# not start, a non-200 check request, non-2xx responses or socket errors reported by wrk).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
WRK_THREADS="${BENCH_WRK_THREADS:-2}"
GATEWAY_THREADS="${BENCH_GATEWAY_THREADS:-2}"
NGINX_WORKERS="${BENCH_NGINX_WORKERS:-2}"
ROUNDS="${BENCH_ROUNDS:-2}"
NO_LOG="${BENCH_NO_LOG:-0}"
SKIP_INSTALL="${BENCH_SKIP_INSTALL:-0}"
KEEP=0
NEOSL_BIN="${BENCH_NEOSL_BIN:-$ROOT/build/neosl}"
WARMUP=2s
START_DEADLINE_S=20

die() { echo "gateway.sh: ERROR: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo pipefail$/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

need_value() { if [ $# -lt 2 ] || [ -z "$2" ]; then die "option $1 needs a value (try --help)"; fi; }
while [ $# -gt 0 ]; do
  case "$1" in
    -d|--duration) need_value "$@"; DURATION="$2"; shift 2 ;;
    --duration=*) DURATION="${1#*=}"; shift ;;
    -c|--connections) need_value "$@"; CONNECTIONS="$2"; shift 2 ;;
    --connections=*) CONNECTIONS="${1#*=}"; shift ;;
    -t|--wrk-threads) need_value "$@"; WRK_THREADS="$2"; shift 2 ;;
    --wrk-threads=*) WRK_THREADS="${1#*=}"; shift ;;
    --gateway-threads) need_value "$@"; GATEWAY_THREADS="$2"; shift 2 ;;
    --gateway-threads=*) GATEWAY_THREADS="${1#*=}"; shift ;;
    --nginx-workers) need_value "$@"; NGINX_WORKERS="$2"; shift 2 ;;
    --nginx-workers=*) NGINX_WORKERS="${1#*=}"; shift ;;
    -r|--rounds) need_value "$@"; ROUNDS="$2"; shift 2 ;;
    --rounds=*) ROUNDS="${1#*=}"; shift ;;
    --no-log) NO_LOG=1; shift ;;
    --skip-install) SKIP_INSTALL=1; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gateway.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done

positive_int() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 must be a positive integer, got '$2'"; }
positive_int connections "$CONNECTIONS"
positive_int wrk-threads "$WRK_THREADS"
positive_int gateway-threads "$GATEWAY_THREADS"
positive_int nginx-workers "$NGINX_WORKERS"
positive_int rounds "$ROUNDS"
[[ "$DURATION" =~ ^[1-9][0-9]*[smh]?$ ]] || die "duration must look like 10s, 1m or 30, got '$DURATION'"
[ "$CONNECTIONS" -ge "$WRK_THREADS" ] || die "connections ($CONNECTIONS) must be >= wrk threads ($WRK_THREADS)"
case "$NO_LOG" in 1|true|yes|on) NO_LOG=1 ;; *) NO_LOG=0 ;; esac
case "$SKIP_INSTALL" in 1|true|yes|on) SKIP_INSTALL=1 ;; *) SKIP_INSTALL=0 ;; esac

if [ "$SKIP_INSTALL" = 0 ]; then
  "$ROOT/scripts/install-deps" --bench || die "scripts/install-deps --bench failed"
fi
for tool in wrk curl python3 awk; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (run scripts/install-deps --bench)"
done
NGINX_BIN="$(command -v nginx 2>/dev/null || true)"
[ -n "$NGINX_BIN" ] || { [ -x /usr/sbin/nginx ] && NGINX_BIN=/usr/sbin/nginx; } ||
  die "nginx not found (run scripts/install-deps --bench)"
[ -x "$NEOSL_BIN" ] || die "$NEOSL_BIN not found or not executable (run 'make build')"

# ---------------------------------------------------------------------------------------------
# Hermetic work dir; the trap stops both servers and removes it.
TMP="$(mktemp -d "${TMPDIR:-/tmp}/neosl-bench.XXXXXX")"
NEOSL_PID=""
NGINX_PID=""
WRK_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "$WRK_PID" "$NEOSL_PID" "$NGINX_PID"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for pid in "$WRK_PID" "$NEOSL_PID" "$NGINX_PID"; do
    if [ -z "$pid" ]; then continue; fi
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
  done
  if [ "$KEEP" = 1 ]; then
    echo "gateway.sh: kept work dir $TMP" >&2
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# curl_status URL [curl args...]: prints the HTTP status (000 when nothing answered).
curl_status() {
  local url="$1"; shift
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$url" 2>/dev/null || true
}

json_field() {  # json_field FIELD <<< JSON
  python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# ---------------------------------------------------------------------------------------------
# neosl
mkdir -p "$TMP/data"
neosl_env=(
  NEOSL_GATEWAY_THREADS="$GATEWAY_THREADS"
  NEOSL_RATE_LIMITS_PER_CALLER_DEFAULT_REQUESTS_PER_SECOND=100000000
  NEOSL_RATE_LIMITS_PER_CALLER_DEFAULT_BURST=100000000
  NEOSL_RATE_LIMITS_GLOBAL_REQUESTS_PER_SECOND=100000000
  NEOSL_RATE_LIMITS_GLOBAL_BURST=100000000
)
if [ "$NO_LOG" = 1 ]; then
  neosl_env+=(NEOSL_LOG_REQUESTS=false NEOSL_LOG_FILE="$TMP/neosl.log")
  LOG_MODE="off (--no-log)"
else
  neosl_env+=(NEOSL_LOG_REQUESTS=true NEOSL_LOG_FILE="$TMP/neosl.log")
  LOG_MODE="on, to a file"
fi
env "${neosl_env[@]}" "$NEOSL_BIN" serve --listen 127.0.0.1:0 --data "$TMP/data" \
  >"$TMP/neosl.out" 2>&1 &
NEOSL_PID=$!

deadline=$((SECONDS + START_DEADLINE_S))
while [ ! -s "$TMP/data/listen.addr" ]; do
  kill -0 "$NEOSL_PID" 2>/dev/null || { cat "$TMP/neosl.out" >&2; die "neosl exited during start-up"; }
  [ "$SECONDS" -lt "$deadline" ] || die "neosl did not write $TMP/data/listen.addr within ${START_DEADLINE_S}s"
  sleep 0.1
done
NEOSL_ADDR="$(tr -d '[:space:]' <"$TMP/data/listen.addr")"
NEOSL_BASE="http://$NEOSL_ADDR"
[ -s "$TMP/data/admin.key" ] || die "neosl did not write $TMP/data/admin.key"
ADMIN_KEY="$(tr -d '[:space:]' <"$TMP/data/admin.key")"
while [ "$(curl_status "$NEOSL_BASE/v1/accounts/me" -H "Authorization: Bearer $ADMIN_KEY")" != 200 ]; do
  kill -0 "$NEOSL_PID" 2>/dev/null || { cat "$TMP/neosl.out" >&2; die "neosl exited during start-up"; }
  [ "$SECONDS" -lt "$deadline" ] || die "neosl at $NEOSL_ADDR did not answer 200 within ${START_DEADLINE_S}s"
  sleep 0.1
done

# A normal account with a viewer key: the benchmark does not use the admin key.
account_json="$(curl -sS --fail-with-body --max-time 5 -X POST "$NEOSL_BASE/v1/accounts" \
  -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json' \
  -d '{"name":"bench"}')" || die "creating the account failed: $account_json"
ACCOUNT_ID="$(json_field id <<<"$account_json")" || die "no account id in: $account_json"
key_json="$(curl -sS --fail-with-body --max-time 5 -X POST "$NEOSL_BASE/v1/accounts/$ACCOUNT_ID/keys" \
  -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json' \
  -d '{"roles":["viewer"]}')" || die "creating the viewer key failed: $key_json"
API_KEY="$(json_field key <<<"$key_json")" || die "no key in: $key_json"
AUTH_HEADER="Authorization: Bearer $API_KEY"

# One checked request; its body becomes nginx's static file (same length).
NEOSL_URL="$NEOSL_BASE/v1/accounts/me"
status="$(curl -sS --max-time 5 -o "$TMP/me.json" -w '%{http_code}' -H "$AUTH_HEADER" "$NEOSL_URL")" ||
  die "GET $NEOSL_URL failed"
[ "$status" = 200 ] || die "GET $NEOSL_URL with the viewer key returned $status: $(cat "$TMP/me.json")"
BODY_BYTES="$(wc -c <"$TMP/me.json" | tr -d ' ')"

# ---------------------------------------------------------------------------------------------
# nginx: own config, everything under $TMP, static copy of the neosl response at the same path.
NGINX_PORT="$(free_port)"
mkdir -p "$TMP/nginx/www/v1/accounts" "$TMP/nginx/logs"
cp "$TMP/me.json" "$TMP/nginx/www/v1/accounts/me"
# When run as root, nginx workers drop to 'nobody': let them traverse to the static file.
chmod 711 "$TMP"
chmod -R a+rX "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes $NGINX_WORKERS;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events {
    worker_connections 4096;
}
http {
    access_log off;
    client_body_temp_path $TMP/nginx/client_body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    types { }
    default_type application/json;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $TMP/nginx/www;
        location / {
            try_files \$uri =404;
        }
    }
}
EOF
"$NGINX_BIN" -t -q -p "$TMP/nginx" -e "$TMP/nginx/logs/error.log" -c "$TMP/nginx/nginx.conf" \
  >"$TMP/nginx/test.out" 2>&1 || { cat "$TMP/nginx/test.out" >&2; die "nginx rejected its config"; }
"$NGINX_BIN" -p "$TMP/nginx" -e "$TMP/nginx/logs/error.log" -c "$TMP/nginx/nginx.conf" \
  -g 'daemon off;' >"$TMP/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
NGINX_URL="http://127.0.0.1:$NGINX_PORT/v1/accounts/me"

deadline=$((SECONDS + START_DEADLINE_S))
while [ "$(curl_status "$NGINX_URL" -H "$AUTH_HEADER")" != 200 ]; do
  if ! kill -0 "$NGINX_PID" 2>/dev/null; then
    cat "$TMP/nginx/stdout.log" "$TMP/nginx/logs/error.log" >&2 2>/dev/null || true
    die "nginx exited during start-up"
  fi
  [ "$SECONDS" -lt "$deadline" ] || die "nginx on port $NGINX_PORT did not answer 200 within ${START_DEADLINE_S}s"
  sleep 0.1
done
nginx_bytes="$(curl -sS --max-time 5 -H "$AUTH_HEADER" "$NGINX_URL" | wc -c | tr -d ' ')"
[ "$nginx_bytes" = "$BODY_BYTES" ] || die "nginx body is $nginx_bytes bytes, neosl's is $BODY_BYTES"

# ---------------------------------------------------------------------------------------------
# Machine context.
cpu_model="$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)"
[ -n "$cpu_model" ] || cpu_model="$(awk -F': *' '/^(Hardware|cpu model|Model)/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)"
[ -n "$cpu_model" ] || cpu_model="unknown"
wrk_version="$({ wrk -v 2>&1 || true; } | awk 'NR==1 {print $2; exit}')"  # wrk -v exits 1
nginx_version="$("$NGINX_BIN" -v 2>&1 | sed 's/^nginx version: //')"
neosl_version="$("$NEOSL_BIN" version 2>/dev/null | sed -n 's/.*"version" *: *"\([^"]*\)".*/\1/p')"
[ -n "$neosl_version" ] || neosl_version=unknown
ncpu="$(nproc)"

echo "== neosl gateway benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'))"
echo "machine:   nproc=$ncpu, CPU: $cpu_model"
echo "versions:  wrk $wrk_version; $nginx_version; neosl $neosl_version"
echo "note:      wrk, nginx and neosl all share the same $ncpu cores (no pinning)"
echo "request:   GET /v1/accounts/me, Authorization: Bearer <viewer key>, response body $BODY_BYTES bytes"
echo "neosl:     $NEOSL_ADDR, $GATEWAY_THREADS gateway threads, rate limits on (1e8 req/s, not hit), request log $LOG_MODE"
echo "nginx:     127.0.0.1:$NGINX_PORT, $NGINX_WORKERS workers, static file, keepalive_requests 1000000, access_log off"
echo "load:      wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION --latency; warm-up $WARMUP each; $ROUNDS rounds alternating nginx/neosl"
echo

# ---------------------------------------------------------------------------------------------
# wrk runs and parsing.
run_wrk() {  # run_wrk OUTFILE DURATION URL
  local out="$1" dur="$2" url="$3" rc=0
  # In the background so that a signal to this script interrupts the wait at once.
  wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$dur" --latency -H "$AUTH_HEADER" "$url" >"$out" 2>&1 &
  WRK_PID=$!
  wait "$WRK_PID" || rc=$?
  WRK_PID=""
  if [ "$rc" -ne 0 ]; then cat "$out" >&2; die "wrk failed against $url (exit $rc)"; fi
}

# parse_wrk FILE -> "REQS_PER_SEC P50_MS P99_MS NON2XX SOCKET_ERRORS REQUESTS"
parse_wrk() {
  awk '
    function ms(v,   n, u) {
      n = v + 0
      u = v; sub(/^[0-9.]+/, "", u)
      if (u == "us") return n / 1000
      if (u == "ms") return n
      if (u == "s")  return n * 1000
      if (u == "m")  return n * 60000
      if (u == "h")  return n * 3600000
      return -1
    }
    /^Requests\/sec:/                  { rps = $2 }
    /^[[:space:]]*50%[[:space:]]/      { p50 = ms($2) }
    /^[[:space:]]*99%[[:space:]]/      { p99 = ms($2) }
    /Non-2xx or 3xx responses:/        { non2xx = $NF }
    /^[[:space:]]*Socket errors:/ {
      line = $0; sub(/.*Socket errors:[[:space:]]*/, "", line)
      n = split(line, parts, /,[[:space:]]*/)
      for (i = 1; i <= n; i++) { split(parts[i], kv, /[[:space:]]+/); sockerr += kv[2] }
    }
    /requests in/                      { reqs = $1 }
    END {
      if (rps == "" || p50 == "" || p99 == "" || p50 < 0 || p99 < 0) exit 1
      printf "%s %.3f %.3f %d %d %d\n", rps, p50, p99, non2xx + 0, sockerr + 0, reqs + 0
    }' "$1"
}

check_run() {  # check_run NAME FILE -> prints the parsed fields, dies on errors
  local name="$1" file="$2" parsed
  parsed="$(parse_wrk "$file")" || { cat "$file" >&2; die "could not parse wrk output for $name ($file)"; }
  read -r rps p50 p99 non2xx sockerr reqs <<<"$parsed"
  if [ "$non2xx" -ne 0 ] || [ "$sockerr" -ne 0 ] || [ "$reqs" -eq 0 ]; then
    cat "$file" >&2
    die "$name: wrk reported $non2xx non-2xx responses and $sockerr socket errors in $reqs requests"
  fi
  echo "$parsed"
}

alive() {
  kill -0 "$NEOSL_PID" 2>/dev/null || { tail -n 20 "$TMP/neosl.out" >&2; die "neosl died during the benchmark"; }
  kill -0 "$NGINX_PID" 2>/dev/null || die "nginx died during the benchmark"
}

echo "warm-up ($WARMUP each)..." >&2
run_wrk "$TMP/warmup-nginx.txt" "$WARMUP" "$NGINX_URL"; check_run nginx-warmup "$TMP/warmup-nginx.txt" >/dev/null
run_wrk "$TMP/warmup-neosl.txt" "$WARMUP" "$NEOSL_URL"; check_run neosl-warmup "$TMP/warmup-neosl.txt" >/dev/null
alive

declare -A best_rps best_p50 best_p99
printf '%-7s %-6s %12s %10s %10s\n' server round "req/s" "p50 ms" "p99 ms"
for round in $(seq "$ROUNDS"); do
  for name in nginx neosl; do
    if [ "$name" = nginx ]; then url="$NGINX_URL"; else url="$NEOSL_URL"; fi
    echo "round $round: $name ($DURATION)..." >&2
    out="$TMP/wrk-$name-$round.txt"
    run_wrk "$out" "$DURATION" "$url"
    alive
    parsed="$(check_run "$name round $round" "$out")" || exit 1
    read -r rps p50 p99 _ _ _ <<<"$parsed"
    printf '%-7s %-6s %12.0f %10.2f %10.2f\n' "$name" "$round" "$rps" "$p50" "$p99"
    # Best of the rounds = the run with the highest req/s (its latencies are reported with it).
    if [ -z "${best_rps[$name]:-}" ] || awk -v a="$rps" -v b="${best_rps[$name]}" 'BEGIN { exit !(a > b) }'; then
      best_rps[$name]="$rps"; best_p50[$name]="$p50"; best_p99[$name]="$p99"
    fi
  done
done

# neosl must still answer the checked request after the load.
[ "$(curl_status "$NEOSL_URL" -H "$AUTH_HEADER")" = 200 ] || die "neosl no longer answers 200 after the run"

echo
echo "best of $ROUNDS (run with the highest req/s per server), -c$CONNECTIONS -t$WRK_THREADS -d$DURATION:"
printf '%-7s %12s %10s %10s\n' server "req/s" "p50 ms" "p99 ms"
for name in nginx neosl; do
  printf '%-7s %12.0f %10.2f %10.2f\n' "$name" "${best_rps[$name]}" "${best_p50[$name]}" "${best_p99[$name]}"
done
echo
awk -v n="${best_rps[neosl]}" -v g="${best_rps[nginx]}" -v p99="${best_p99[neosl]}" -v c="$CONNECTIONS" 'BEGIN {
  ratio = (g > 0) ? n / g : 0
  printf "ratio neosl/nginx = %.2f (target >= 0.5%s); neosl p99 = %.2f ms (target < 5 ms at 64 connections%s)\n",
    ratio, (ratio >= 0.5 ? ", met" : ", MISSED"), p99,
    (c != 64 ? ", run used " c : (p99 < 5 ? ", met" : ", MISSED"))
}'
