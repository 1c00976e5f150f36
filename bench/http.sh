#!/usr/bin/env bash
# HTTP throughput and latency of the release build, measured with wrk on this
# machine: /healthz (no I/O) and /readyz (one PostgreSQL and one Redis round
# trip), 10 s each. Prints wrk's report and one BENCH line per figure.
#
#   bench/http.sh                 defaults: 64 connections, 10 s, 1 wrk thread
#   CONNECTIONS=256 DURATION=20 bench/http.sh
set -euo pipefail
source "$(dirname "$0")/../scripts/lib/common.sh"
cd "$HUNTAZE_ROOT"

connections=${CONNECTIONS:-64}
duration=${DURATION:-10}
wrk_threads=${WRK_THREADS:-1}

"$HUNTAZE_ROOT/scripts/bootstrap"
build release

tmp=$(mktemp -d /tmp/huntaze-bench.XXXXXX)
chmod 755 "$tmp"
server=""
cleanup() {
  [ -n "$server" ] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  pg_stop "$tmp/pg"
  redis_stop "$tmp/redis"
  rm -rf "$tmp"
}
trap cleanup EXIT

pg_port=$(free_port); pg_start "$tmp/pg" "$pg_port" test
redis_port=$(free_port); redis_start "$tmp/redis" "$redis_port" test
pg_createdb "$pg_port" huntaze

# start_server <access_log true|false>
start_server() {
  port=$(free_port)
  HUNTAZE_DATABASE_URL="$(pg_url "$pg_port" huntaze)" HUNTAZE_REDIS_PORT="$redis_port" \
  HUNTAZE_SERVER_PORT="$port" HUNTAZE_SERVER_ACCESS_LOG="$1" HUNTAZE_LOG_LEVEL=warn \
    build/release/huntaze serve --config config/dev.yaml >"$tmp/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do
    build/release/huntaze healthcheck --url "http://127.0.0.1:$port/healthz" 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$tmp/server.log" >&2
  die "server did not start"
}

stop_server() {
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=""
}

# to_ms <wrk latency like 812.00us | 1.23ms | 2.00s>
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n = n / 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n = n * 1000
    printf "%.3f", n }'
}

# measure <name> <path>
measure() {
  local name=$1 path=$2
  local out="$tmp/wrk-$name.txt"
  wrk -t"$wrk_threads" -c"$connections" -d"${duration}s" --latency "http://127.0.0.1:$port$path" >"$out"
  cat "$out"
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  errors=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$out")
  [ -n "$errors" ] && log "warning: $errors non-2xx responses for $path"
  results+=("BENCH http_${name}_rps $rps req/s" "BENCH http_${name}_p50 $p50 ms" "BENCH http_${name}_p99 $p99 ms")
}

results=()

# The yardstick: a bare single-threaded Beast coroutine server.
port=$(free_port)
build/release/bench/bench_baseline_server "$port" &
server=$!
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
measure baseline_beast /
stop_server

log "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; wrk -t$wrk_threads -c$connections -d${duration}s"

start_server false
measure healthz /healthz
measure readyz /readyz
stop_server

start_server true
measure healthz_access_log /healthz
stop_server

printf '%s\n' "${results[@]}"
