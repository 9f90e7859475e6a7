#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# SSO suite (SPEC §3.6, runbook step 7): a real OpenID provider (tests/sso/idp.mjs, npm oidc-provider)
# and real headless Chromium (Debian /usr/bin/chromium driven by npm playwright-core).
#   1. Asgard boots on a fresh SQLite with OIDC configured while the IdP is DOWN: it serves, local
#      login works, `/api/auth/config` says "oidc":true (runbook step 7's curl, verbatim), and
#      /api/auth/oidc/login answers a clear 503 page.
#   2. The IdP comes up: without a restart, SSO starts working (discovery retries with backoff).
#   3. A curl-only round trip (no browser) signs in.
#   4. tests/sso/sso.test.mjs in Chromium: the round trip, return_to, every refusal case, linking,
#      group mapping, profile refresh, CSRF, a disabled account, the local admin.
# Usage: tests/sso/run.sh BIN        Env: SSO_LOG_DIR (keep logs there; default: temp, removed)
# Ends with `N passed, M failed`; exits non-zero on any failure. Stops every process it started.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../harness/lib.sh
. "$ROOT/tests/harness/lib.sh"

BIN=${1:?usage: $0 BIN}
[ -x "$BIN" ] || { echo "FAIL sso: binary $BIN not found or not executable"; echo "0 passed, 1 failed"; exit 1; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
while read -r v; do unset "$v"; done < <(compgen -e | grep '^ASGARD_' || true)
T0=$SECONDS

WORK=$(mktemp -d /tmp/asgard-sso.XXXXXX)
LOGS=${SSO_LOG_DIR:-$WORK/logs}
mkdir -p "$LOGS"
SPID=""
IPID=""
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  stop_pid "$SPID" 10
  stop_pid "$IPID" 5
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && [ -s "$2" ] && head -c 1500 "$2" && echo; }
finish() {
  if [ "$FAILED" -gt 0 ]; then
    echo "----- tail of asgard log -----"; tail -n 40 "$LOGS/asgard.log" 2>/dev/null | strip_ansi
    echo "----- tail of idp log -----"; tail -n 20 "$LOGS/idp.log" 2>/dev/null
  fi
  echo "sso: $((SECONDS - T0)) s"
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
  exit
}
die() { fail "$1" "${2:-}"; finish; }

# ---- prerequisites: npm packages (repo-root package.json) and Chromium --------------------------
if ! [ -f "$ROOT/node_modules/oidc-provider/package.json" ] || ! [ -f "$ROOT/node_modules/playwright-core/package.json" ]; then
  "$ROOT/tests/harness/npm-deps.sh" >"$LOGS/npm.log" 2>&1 || die "npm dependencies could not be installed" "$LOGS/npm.log"
fi
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if ! [ -x "$CHROMIUM" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "sso: installing chromium (apt-get)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >"$LOGS/apt.log" 2>&1
fi
[ -x "$CHROMIUM" ] || die "Chromium not found at $CHROMIUM (apt-get install -y chromium)" "$LOGS/apt.log"
export CHROMIUM

# ---- 1. Asgard with OIDC configured, IdP down ------------------------------------------------------
APP_PORT=$(free_port)
IDP_PORT=$(free_port)
while [ "$IDP_PORT" = "$APP_PORT" ]; do IDP_PORT=$(free_port); done
BASE=http://127.0.0.1:$APP_PORT
IDP=http://127.0.0.1:$IDP_PORT
DB=$WORK/data/asgard.db
ADMIN_PW=$(python3 -c 'import secrets;print(secrets.token_urlsafe(24))')
CLIENT_SECRET=$(python3 -c 'import secrets;print(secrets.token_urlsafe(32))')
(
  cd "$WORK" || exit 1
  ASGARD_DATABASE_URL="sqlite://$DB" \
  ASGARD_SECRET_KEY="$(random_hex32)" \
  ASGARD_ADMIN_PASSWORD="$ADMIN_PW" \
  ASGARD_OIDC_ISSUER="$IDP" \
  ASGARD_OIDC_CLIENT_ID=asgard \
  ASGARD_OIDC_CLIENT_SECRET="$CLIENT_SECRET" \
  ASGARD_OIDC_REDIRECT_URI="$BASE/api/auth/oidc/callback" \
  ASGARD_OIDC_SCOPES="openid email profile groups" \
  ASGARD_OIDC_ADMIN_GROUPS=asgard-admins \
  exec "$BIN" serve --bind "127.0.0.1:$APP_PORT"
) >"$LOGS/asgard.log" 2>&1 &
SPID=$!
wait_http "$BASE/healthz" 60 "$SPID" || die "asgard did not answer /healthz within 60 s (IdP down at boot)" "$LOGS/asgard.log"
pass "asgard boots and serves while the IdP is down"

# Runbook step 7's check, verbatim (with the loopback base URL for https://$HOST).
if curl -s "$BASE/api/auth/config" | grep '"oidc":true' >/dev/null; then
  pass "runbook step 7: curl -s …/api/auth/config | grep '\"oidc\":true'"
else
  fail "runbook step 7: /api/auth/config does not say \"oidc\":true"
fi

login_body=$(python3 -c 'import json,sys;print(json.dumps({"username":"admin","password":sys.argv[1]}))' "$ADMIN_PW")
code=$(curl -s -o "$WORK/login.json" -w '%{http_code}' -H 'content-type: application/json' -d "$login_body" "$BASE/api/auth/login")
if [ "$code" = 200 ] && json_get token <"$WORK/login.json" >/dev/null; then
  pass "local admin login works while the IdP is down"
else
  fail "local admin login while the IdP is down -> $code" "$WORK/login.json"
fi

code=$(curl -s -o "$WORK/503.html" -D "$WORK/503.h" -w '%{http_code}' "$BASE/api/auth/oidc/login")
if [ "$code" = 503 ] && grep -qi '^content-type: text/html' "$WORK/503.h" && grep -q 'data-code="sso_not_ready"' "$WORK/503.html" \
   && grep -q 'not available yet' "$WORK/503.html" && ! grep -qi '^set-cookie' "$WORK/503.h"; then
  pass "/api/auth/oidc/login answers a clear 503 page while discovery has not succeeded"
else
  fail "/api/auth/oidc/login with the IdP down -> $code" "$WORK/503.html"
fi

# ---- 2. the IdP comes up; SSO starts working without a restart --------------------------------------
t_up=$SECONDS
IDP_PORT=$IDP_PORT REDIRECT_URI="$BASE/api/auth/oidc/callback" CLIENT_SECRET="$CLIENT_SECRET" \
  node "$ROOT/tests/sso/idp.mjs" >"$LOGS/idp.log" 2>&1 &
IPID=$!
wait_http "$IDP/.well-known/openid-configuration" 30 "$IPID" || die "the test IdP did not start" "$LOGS/idp.log"
ready=
for _ in $(seq 1 120); do
  code=$(curl -s -o /dev/null -D "$WORK/login.h" -w '%{http_code}' "$BASE/api/auth/oidc/login")
  [ "$code" = 302 ] && { ready=1; break; }
  sleep 0.5
done
loc=$(grep -i '^location:' "$WORK/login.h" | tr -d '\r' | cut -d' ' -f2-)
if [ -n "$ready" ] && [[ "$loc" == "$IDP/auth?"* ]] && [[ "$loc" == *code_challenge_method=S256* ]] \
   && [[ "$loc" == *"&state="* ]] && [[ "$loc" == *"&nonce="* ]] && [[ "$loc" == *response_type=code* ]]; then
  pass "SSO starts working $((SECONDS - t_up)) s after the IdP is started (302 to the IdP with PKCE S256, state, nonce)"
else
  die "SSO did not become ready within 60 s of the IdP coming up (last: $code $loc)" "$LOGS/asgard.log"
fi

# ---- 3. curl-only round trip ------------------------------------------------------------------------
if out=$("$ROOT/tests/sso/curl-login.sh" "$BASE" curl-user 2>&1) && [ "$(json_get username <<<"$out")" = curl-user ]; then
  pass "curl round trip: login → IdP → callback → /api/auth/me is the user"
else
  echo "$out" >"$WORK/curl.out"; fail "curl round trip" "$WORK/curl.out"
fi

# ---- 4. the browser suite ---------------------------------------------------------------------------
# The API cannot give the bootstrap admin an email; set one in the database for the
# "IdP user with the admin's email" case.
python3 - "$DB" <<'PY' || die "could not set the admin's email in $DB"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=10)
c.execute("UPDATE users SET email = 'admin@corp.example' WHERE username = 'admin' AND is_bootstrap = 1")
c.commit()
PY
ASGARD_BASE=$BASE IDP_BASE=$IDP ASGARD_DB=$DB ADMIN_PASSWORD=$ADMIN_PW \
  node "$ROOT/tests/sso/sso.test.mjs" >"$LOGS/browser.log" 2>&1
rc=$?
grep -E '^(PASS|FAIL) ' "$LOGS/browser.log"
result=$(grep -E '^RESULT ' "$LOGS/browser.log" | tail -1)
if [ -z "$result" ]; then
  fail "browser suite did not finish (exit $rc)" "$LOGS/browser.log"
else
  p=${result#*passed=}; p=${p%% *}
  f=${result#*failed=}
  PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
  [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && fail "browser suite exited $rc" "$LOGS/browser.log"
fi
finish
