#!/usr/bin/env bash
# Authentication on the release build, measured with wrk on this machine:
#   - authenticated GET /api/v1/me with a Bearer access token: the JWT check,
#     one Redis script call (per-user and per-address rules and the session
#     deny-list together), and the user's row and memberships from PostgreSQL;
#   - logins per second (POST /api/v1/auth/login, dominated by argon2id on
#     the compute pool), and the cost of one hash (bench_passwords).
# Rate limits are raised so that the benchmark measures the work, not 429s
# (the script still runs on every request).
#
#   bench/auth.sh                          defaults: 64 connections, 10 s, 1 wrk thread
#   CONNECTIONS=128 DURATION=20 bench/auth.sh
set -euo pipefail
source "$(dirname "$0")/../scripts/lib/common.sh"
cd "$HUNTAZE_ROOT"

connections=${CONNECTIONS:-64}
duration=${DURATION:-10}
wrk_threads=${WRK_THREADS:-1}
login_connections=${LOGIN_CONNECTIONS:-8}

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

port=$(free_port)
HUNTAZE_DATABASE_URL="$(pg_url "$pg_port" huntaze)" HUNTAZE_REDIS_PORT="$redis_port" \
HUNTAZE_SERVER_PORT="$port" HUNTAZE_SERVER_ACCESS_LOG=false HUNTAZE_LOG_LEVEL=warn \
HUNTAZE_AUTH_RATE_LIMITS_USER_LIMIT=1000000 HUNTAZE_AUTH_RATE_LIMITS_IP_LIMIT=${IP_LIMIT:-1000000} \
HUNTAZE_AUTH_RATE_LIMITS_LOGIN_ACCOUNT_LIMIT=1000000 HUNTAZE_AUTH_RATE_LIMITS_LOGIN_IP_LIMIT=1000000 \
  build/release/huntaze serve --config config/dev.yaml >"$tmp/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  build/release/huntaze healthcheck --url "http://127.0.0.1:$port/healthz" 2>/dev/null && break
  sleep 0.1
done
build/release/huntaze healthcheck --url "http://127.0.0.1:$port/healthz" || { cat "$tmp/server.log" >&2; die "server did not start"; }

base="http://127.0.0.1:$port"
credentials='{"email":"bench@example.com","password":"correct horse battery"}'
curl -sf -X POST -H 'Content-Type: application/json' -d "$credentials" "$base/api/v1/auth/signup" >/dev/null
token=$(curl -sf -X POST -H 'Content-Type: application/json' -d "$credentials" "$base/api/v1/auth/login" |
  sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || die "login failed (config/dev.yaml does not require a verified email)"
curl -sf -H "Authorization: Bearer $token" "$base/api/v1/me" >/dev/null || die "GET /api/v1/me failed"

to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n = n / 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n = n * 1000
    printf "%.3f", n }'
}

results=()
# measure <name> <connections> <url> [wrk args...]
measure() {
  local name=$1 conns=$2 url=$3
  shift 3
  local out="$tmp/wrk-$name.txt"
  wrk -t"$wrk_threads" -c"$conns" -d"${duration}s" --latency "$@" "$url" >"$out"
  cat "$out"
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  errors=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$out")
  if [ -n "$errors" ]; then
    log "$errors non-2xx responses for $name: the figures are not valid"
    exit 1
  fi
  results+=("BENCH auth_${name}_rps $rps req/s" "BENCH auth_${name}_p50 $p50 ms" "BENCH auth_${name}_p99 $p99 ms")
}

log "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; wrk -t$wrk_threads -c$connections -d${duration}s"
measure me "$connections" "$base/api/v1/me" -H "Authorization: Bearer $token"

cat >"$tmp/login.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$credentials'
LUA
measure login "$login_connections" "$base/api/v1/auth/login" -s "$tmp/login.lua"

build/release/bench/bench_passwords 20 >"$tmp/passwords.txt"
grep -v "^BENCH" "$tmp/passwords.txt"
results+=("$(grep '^BENCH argon2id_hash' "$tmp/passwords.txt")" "$(grep '^BENCH argon2id_verify' "$tmp/passwords.txt")")

printf '%s\n' "${results[@]}"
