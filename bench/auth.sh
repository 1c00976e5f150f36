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

source "$HUNTAZE_ROOT/bench/lib.sh"
bench_services_up
start_server HUNTAZE_AUTH_RATE_LIMITS_USER_LIMIT=1000000 HUNTAZE_AUTH_RATE_LIMITS_IP_LIMIT="${IP_LIMIT:-1000000}" \
  HUNTAZE_AUTH_RATE_LIMITS_LOGIN_ACCOUNT_LIMIT=1000000 HUNTAZE_AUTH_RATE_LIMITS_LOGIN_IP_LIMIT=1000000

base="http://127.0.0.1:$port"
credentials='{"email":"bench@example.com","password":"correct horse battery"}'
curl -sf -X POST -H 'Content-Type: application/json' -d "$credentials" "$base/api/v1/auth/signup" >/dev/null
token=$(curl -sf -X POST -H 'Content-Type: application/json' -d "$credentials" "$base/api/v1/auth/login" |
  sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || die "login failed (config/dev.yaml does not require a verified email)"
curl -sf -H "Authorization: Bearer $token" "$base/api/v1/me" >/dev/null || die "GET /api/v1/me failed"

# measure <name> <connections> <url> [wrk args...]
measure() {
  local name=$1
  shift
  wrk_measure "auth_$name" "$@"
  if [ -n "$wrk_errors" ]; then
    log "$wrk_errors non-2xx responses for $name: the figures are not valid"
    exit 1
  fi
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
