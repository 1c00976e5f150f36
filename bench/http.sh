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

source "$HUNTAZE_ROOT/bench/lib.sh"
bench_services_up

# measure <name> <path>
measure() {
  wrk_measure "http_$1" "$connections" "http://127.0.0.1:$port$2"
  [ -n "$wrk_errors" ] && log "warning: $wrk_errors non-2xx responses for $2"
  return 0
}

# The yardstick: a bare single-threaded Beast coroutine server.
port=$(free_port)
build/release/bench/bench_baseline_server "$port" &
server=$!
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
measure baseline_beast /
stop_server

log "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; wrk -t$wrk_threads -c$connections -d${duration}s"

start_server
measure healthz /healthz
measure readyz /readyz
stop_server

start_server HUNTAZE_SERVER_ACCESS_LOG=true
measure healthz_access_log /healthz
stop_server

printf '%s\n' "${results[@]}"
