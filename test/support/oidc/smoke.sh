#!/usr/bin/env bash
# Smoke test for provider.mjs using only curl and node: starts the provider,
# runs the authorization code flow with PKCE the way the C++ tests do (curl
# following redirects with a cookie jar), prints the ID token, then turns on
# each fault mode and shows what the token looks like and what a relying party
# should find wrong with it. Exits non-zero if anything is not as README.md
# describes.
#
#   npm ci --prefix test/support/oidc && test/support/oidc/smoke.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"  # so that the node snippets below resolve jose from node_modules
[ -d node_modules ] || { echo "smoke: run 'npm ci' in $here first" >&2; exit 1; }

tmp=$(mktemp -d /tmp/oidc-smoke.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

failures=0
pass() { printf '  ok    %s\n' "$*"; }
fail() { printf '  FAIL  %s\n' "$*"; failures=$((failures + 1)); }
die() { printf 'smoke: %s\n' "$*" >&2; exit 1; }
check() { # check <description> <expected> <actual>
  if [ "$2" = "$3" ]; then pass "$1: $3"; else fail "$1: expected '$2', got '$3'"; fi
}

# json <file> <key>: a top-level member of a JSON document (strings bare).
json() {
  node -e '
    const v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]];
    process.stdout.write(v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v));
  ' -- "$1" "$2"
}
rand() { node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))'; }
s256() { node -e 'process.stdout.write(require("crypto").createHash("sha256").update(process.argv[1]).digest("base64url"))' -- "$1"; }
query_param() { node -e 'process.stdout.write(new URL(process.argv[1]).searchParams.get(process.argv[2]) ?? "")' -- "$1" "$2"; }

# --- start ------------------------------------------------------------------
node provider.mjs >"$tmp/stdout" 2>"$tmp/stderr" &
pid=$!
for _ in $(seq 1 100); do
  [ -s "$tmp/stdout" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/stderr" >&2; die "provider exited"; }
  sleep 0.1
done
read -r word port <"$tmp/stdout" || true
[ "$word" = ready ] || die "no ready line: $(cat "$tmp/stdout")"
base="http://127.0.0.1:$port"
echo "provider: $base (pid $pid)"

# control <method> <path> [json body]: prints the status code.
control() {
  curl -sS -o "$tmp/control.json" -w '%{http_code}' -X "$1" -H 'content-type: application/json' \
    ${3:+--data "$3"} "$base$2"
}

echo "discovery"
curl -sSf "$base/.well-known/openid-configuration" -o "$tmp/discovery.json"
check issuer "$base" "$(json "$tmp/discovery.json" issuer)"
authorization_endpoint=$(json "$tmp/discovery.json" authorization_endpoint)
token_endpoint=$(json "$tmp/discovery.json" token_endpoint)
jwks_uri=$(json "$tmp/discovery.json" jwks_uri)
echo "  authorization $authorization_endpoint, token $token_endpoint, jwks $jwks_uri"
check "code_challenge_methods_supported" '["S256"]' "$(json "$tmp/discovery.json" code_challenge_methods_supported)"
check "token_endpoint_auth_methods_supported" '["client_secret_basic","client_secret_post"]' \
  "$(json "$tmp/discovery.json" token_endpoint_auth_methods_supported)"
curl -sSf "$jwks_uri" -o "$tmp/jwks.json"
check "JWKS kids" "k1 RS256 RSA 2048, k2 ES256 EC P-256" "$(node -e '
  const { keys } = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(keys.map((k) => `${k.kid} ${k.alg} ${k.kty} ${k.kty === "RSA" ? Buffer.from(k.n, "base64url").length * 8 : k.crv}`
    + (k.d ? " PRIVATE!" : "")).join(", "));' -- "$tmp/jwks.json")"

redirect_uri="http://127.0.0.1:9/cb"
check "PUT /test/clients" 204 "$(control PUT /test/clients '[
  {"client_id":"rs-client","client_secret":"rs-secret-0123456789","redirect_uris":["'"$redirect_uri"'"],"id_token_signed_response_alg":"RS256"},
  {"client_id":"es-client","client_secret":"es-secret-0123456789","redirect_uris":["'"$redirect_uri"'"],"id_token_signed_response_alg":"ES256"}]')"
check "PUT /test/login" 204 "$(control PUT /test/login \
  '{"sub":"smoke-1","email":"smoke1@example.com","email_verified":true,"name":"Smoke One"}')"

# authorize <client_id> <cookie jar> [extra query]: sets code, state, nonce,
# verifier and final_url (where the redirects ended: the client's redirect_uri,
# which nothing listens on, so curl's last hop fails to connect).
authorize() {
  state=$(rand) nonce=$(rand) verifier=$(rand)
  local url="$authorization_endpoint?response_type=code&client_id=$1&scope=openid%20email%20profile"
  url+="&redirect_uri=$(node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' -- "$redirect_uri")"
  url+="&state=$state&nonce=$nonce${3-&code_challenge=$(s256 "$verifier")&code_challenge_method=S256}"
  final_url=$(curl -sS -L --max-redirs 10 -b "$2" -c "$2" -o /dev/null -w '%{url_effective}' "$url" 2>/dev/null || true)
  code=$(query_param "$final_url" code)
}

# exchange <client_id> <secret> <basic|post>: the token response in
# $tmp/token.json; prints the HTTP status.
exchange() {
  local auth=(-u "$1:$2")
  [ "$3" = post ] && auth=(--data-urlencode "client_id=$1" --data-urlencode "client_secret=$2")
  curl -sS -o "$tmp/token.json" -w '%{http_code}' "${auth[@]}" \
    --data-urlencode grant_type=authorization_code --data-urlencode "code=$code" \
    --data-urlencode "redirect_uri=$redirect_uri" --data-urlencode "code_verifier=$verifier" \
    "$token_endpoint"
}

# inspect <id_token> <client_id> <client_secret>: prints three lines: the
# header, the payload, and what a strict relying party would object to ("ok"
# when nothing), checking the signature against the JWKS as published now.
inspect() {
  curl -sSf "$jwks_uri" -o "$tmp/jwks.json"
  ID_TOKEN=$1 CLIENT_ID=$2 CLIENT_SECRET=$3 ISSUER=$base NONCE=$nonce JWKS_FILE=$tmp/jwks.json \
    node --input-type=module -e '
      import { readFileSync } from "node:fs";
      import * as jose from "jose";
      const env = process.env;
      const [h, p, s] = env.ID_TOKEN.split(".");
      const decode = (seg) => JSON.parse(Buffer.from(seg, "base64url").toString("utf8"));
      const header = decode(h);
      const problems = [];
      let payload;
      try { payload = decode(p); } catch { problems.push("payload is not JSON"); }
      const { keys } = JSON.parse(readFileSync(env.JWKS_FILE, "utf8"));
      const jwk = keys.find((k) => k.kid === header.kid);
      if (header.alg === "none") {
        problems.push(`alg none, signature ${s === "" ? "empty" : "present"}`);
      } else if (header.alg === "HS256") {
        let keyedWithSecret = true;
        try { await jose.compactVerify(env.ID_TOKEN, new TextEncoder().encode(env.CLIENT_SECRET)); } catch { keyedWithSecret = false; }
        problems.push(`alg HS256 under kid ${header.kid} (${jwk?.alg ?? "unknown"} key), MAC ${keyedWithSecret ? "keyed with the client secret" : "not keyed with the client secret"}`);
      } else if (!jwk) {
        problems.push(`kid ${header.kid} not in JWKS`);
      } else {
        try {
          await jose.compactVerify(env.ID_TOKEN, await jose.importJWK(jwk, header.alg), { algorithms: [jwk.alg] });
        } catch (err) { problems.push(`signature invalid (${err.code})`); }
      }
      if (payload) {
        const now = Math.floor(Date.now() / 1000);
        for (const claim of ["iss", "sub", "aud", "exp", "iat", "nonce", "email", "email_verified", "name"]) {
          if (!(claim in payload)) problems.push(`no ${claim}`);
        }
        if (payload.iss !== env.ISSUER) problems.push(`iss ${payload.iss}`);
        const aud = [].concat(payload.aud);
        if (!aud.includes(env.CLIENT_ID) || aud.length !== 1) problems.push(`aud ${JSON.stringify(payload.aud)}`);
        if (payload.nonce !== env.NONCE) problems.push(`nonce ${payload.nonce}`);
        // Ages to the nearest 10 s: the two processes may read the clock a second apart.
        const age = (t) => `${Math.round((now - t) / 10) * 10}s ago`;
        if (!(payload.exp > now)) problems.push(`expired ${age(payload.exp)}, issued ${age(payload.iat)}`);
        if (payload.iat > now + 60) problems.push("iat in the future");
        if (payload.email_verified !== true) problems.push(`email_verified ${JSON.stringify(payload.email_verified)}`);
      }
      console.log(JSON.stringify(header));
      console.log(payload ? JSON.stringify(payload) : Buffer.from(p, "base64url").toString("latin1"));
      console.log(problems.join("; ") || "ok");
    '
}

# flow <client> <secret> <basic|post> <jar>: a whole login; sets id_token and verdict.
flow() {
  authorize "$1" "$4"
  if [ -z "$code" ]; then
    fail "authorization ($1) ended at '$final_url'"
    return 1
  fi
  [ "$(query_param "$final_url" state)" = "$state" ] || fail "state not returned ($final_url)"
  local status
  status=$(exchange "$1" "$2" "$3")
  if [ "$status" != 200 ]; then
    fail "token exchange ($1, $3): HTTP $status $(cat "$tmp/token.json")"
    return 1
  fi
  id_token=$(json "$tmp/token.json" id_token)
  inspect "$id_token" "$1" "$2" >"$tmp/inspect.txt"
  header=$(sed -n 1p "$tmp/inspect.txt") payload=$(sed -n 2p "$tmp/inspect.txt") verdict=$(sed -n 3p "$tmp/inspect.txt")
}

echo "happy path: RS256 client, client_secret_basic"
if flow rs-client rs-secret-0123456789 basic "$tmp/jar1"; then
  echo "  header  $header"
  echo "  payload $(node -e 'console.log(JSON.stringify(JSON.parse(process.argv[1]), null, 2).replace(/\n/g, "\n          "))' -- "$payload")"
  check "verdict" ok "$verdict"
  check "sub, email, email_verified, name" 'smoke-1 smoke1@example.com true Smoke One' \
    "$(node -e 'const p = JSON.parse(process.argv[1]); console.log(p.sub, p.email, p.email_verified, p.name)' -- "$payload")"
  check "header" '{"alg":"RS256","kid":"k1"}' "$(node -e 'const h = JSON.parse(process.argv[1]); console.log(JSON.stringify({ alg: h.alg, kid: h.kid }))' -- "$header")"
fi
check "redirect carries the issuer" "$base" "$(query_param "$final_url" iss)"
check "code is single use (second exchange)" 400 "$(exchange rs-client rs-secret-0123456789 basic)"

echo "happy path: ES256 client, client_secret_post"
if flow es-client es-secret-0123456789 post "$tmp/jar2"; then
  check "verdict" ok "$verdict"
  check "header" '{"alg":"ES256","kid":"k2"}' "$(node -e 'const h = JSON.parse(process.argv[1]); console.log(JSON.stringify({ alg: h.alg, kid: h.kid }))' -- "$header")"
fi

echo "another account, same cookie jar"
check "PUT /test/login" 204 "$(control PUT /test/login '{"sub":"smoke-2","email":"smoke2@example.com","email_verified":false,"name":"Smoke Two"}')"
if flow rs-client rs-secret-0123456789 basic "$tmp/jar1"; then
  check "sub, email_verified" "smoke-2 false" "$(node -e 'const p = JSON.parse(process.argv[1]); console.log(p.sub, p.email_verified)' -- "$payload")"
fi
control PUT /test/login '{"sub":"smoke-1","email":"smoke1@example.com","email_verified":true,"name":"Smoke One"}' >/dev/null

echo "PKCE is required"
authorize rs-client "$tmp/jar3" ""
check "authorization without code_challenge" "invalid_request / Authorization Server policy requires PKCE to be used for this request" \
  "$(query_param "$final_url" error) / $(query_param "$final_url" error_description)"
check "wrong secret" 401 "$(authorize rs-client "$tmp/jar3"; exchange rs-client wrong basic)"

echo "fault modes (each: header, payload, what a relying party must object to)"
expect_fault() { # mode expected-verdict
  check "PUT /test/fault $1" 204 "$(control PUT /test/fault "{\"mode\":\"$1\"}")"
  flow rs-client rs-secret-0123456789 basic "$tmp/jar1" || return 0
  printf '        %s\n        %s\n' "$header" "$(cut -c1-240 <<<"$payload")"
  check "$1 verdict" "$2" "$verdict"
}
expect_fault none "ok"
expect_fault tamper "signature invalid (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)"
expect_fault nonce "nonce wrong-nonce"
expect_fault audience 'aud "someone-else"'
expect_fault expired "expired 600s ago, issued 1200s ago"
expect_fault issuer "iss http://evil.example"
expect_fault new_kid "kid k3 not in JWKS"
expect_fault unknown_kid "kid k4 not in JWKS"
expect_fault alg_none "alg none, signature empty"
expect_fault hs256 "alg HS256 under kid k1 (RS256 key), MAC keyed with the client secret"
expect_fault unverified_email "email_verified false"
expect_fault no_email "no email; no email_verified; email_verified undefined"
check "unknown mode" 400 "$(control PUT /test/fault '{"mode":"bogus"}')"

echo "rotation"
check "PUT /test/rotate" 204 "$(control PUT /test/rotate)"
curl -sSf "$jwks_uri" -o "$tmp/jwks.json"
check "JWKS kids" "k1 k2 k3" "$(node -e 'const { keys } = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(keys.map((k) => k.kid + (k.d ? "(private!)" : "")).join(" "))' -- "$tmp/jwks.json")"
expect_fault new_kid "ok"
expect_fault unknown_kid "kid k4 not in JWKS"
control PUT /test/fault '{"mode":"none"}' >/dev/null

echo "token endpoint status injection"
check "PUT /test/token_status 500" 204 "$(control PUT /test/token_status '{"status":500}')"
authorize rs-client "$tmp/jar1"
check "token endpoint" "500 server_error" "$(exchange rs-client rs-secret-0123456789 basic) $(json "$tmp/token.json" error)"
check "PUT /test/token_status 0" 204 "$(control PUT /test/token_status '{"status":0}')"
check "the same code afterwards" 200 "$(exchange rs-client rs-secret-0123456789 basic)"

echo "stats"
check "GET /test/stats" 200 "$(control GET /test/stats)"
echo "  $(cat "$tmp/control.json")"

echo "SIGTERM"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
check "exit status" 0 "$status"
if [ -s "$tmp/stderr" ]; then
  echo "provider stderr:"
  sed 's/^/  /' "$tmp/stderr"
fi
check "stdout is only the ready line" "ready $port" "$(cat "$tmp/stdout")"

if [ "$failures" -ne 0 ]; then
  echo "smoke: $failures check(s) FAILED"
  exit 1
fi
echo "smoke: all checks passed"
