# Shared by the wrk benchmarks (bench/http.sh, bench/auth.sh): private
# PostgreSQL and Redis in a temporary directory torn down on exit, the
# release server started with extra environment, and wrk's report turned into
# BENCH lines. Source it after scripts/lib/common.sh, once the release build
# is done.

server=""
results=()

# Sets $tmp, $pg_port and $redis_port; database "huntaze" exists.
bench_services_up() {
  tmp=$(mktemp -d /tmp/huntaze-bench.XXXXXX)
  chmod 755 "$tmp"  # the unprivileged PostgreSQL user must reach its data dir
  trap bench_cleanup EXIT
  pg_port=$(free_port); pg_start "$tmp/pg" "$pg_port" test
  redis_port=$(free_port); redis_start "$tmp/redis" "$redis_port" test
  pg_createdb "$pg_port" huntaze
}

bench_cleanup() {
  stop_server
  pg_stop "$tmp/pg"
  redis_stop "$tmp/redis"
  rm -rf "$tmp"
}

# start_server [VAR=value ...]: build/release/huntaze with $BENCH_CONFIG (default config/dev.yaml) on
# a free port ($port), quiet, no access log unless the arguments say so;
# returns once /healthz answers.
start_server() {
  port=$(free_port)
  env HUNTAZE_DATABASE_URL="$(pg_url "$pg_port" huntaze)" HUNTAZE_REDIS_PORT="$redis_port" \
    HUNTAZE_SERVER_PORT="$port" HUNTAZE_SERVER_ACCESS_LOG=false HUNTAZE_LOG_LEVEL=warn "$@" \
    build/release/huntaze serve --config "${BENCH_CONFIG:-config/dev.yaml}" >"$tmp/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do
    build/release/huntaze healthcheck --url "http://127.0.0.1:$port/healthz" 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$tmp/server.log" >&2
  die "server did not start"
}

stop_server() {
  [ -n "$server" ] || return 0
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

# wrk_measure <label> <connections> <url> [wrk args...]: runs wrk for
# $duration s with $wrk_threads threads, prints its report, appends
# "BENCH <label>_rps|_p50|_p99" to results, and leaves the count of non-2xx
# answers in $wrk_errors ("" for none).
wrk_measure() {
  local label=$1 conns=$2 url=$3
  shift 3
  local out="$tmp/wrk-$label.txt"
  wrk -t"$wrk_threads" -c"$conns" -d"${duration}s" --latency "$@" "$url" >"$out"
  cat "$out"
  local rps p50 p99
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  wrk_errors=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$out")
  results+=("BENCH ${label}_rps $rps req/s" "BENCH ${label}_p50 $p50 ms" "BENCH ${label}_p99 $p99 ms")
}
