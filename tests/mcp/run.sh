#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# MCP suite: boots asgard on a fresh SQLite database (free loopback port, known admin password), logs
# in, registers a project and mints a project key, then runs
#   (a) the official MCP conformance suite through the auth proxy, against tests/mcp/conformance-baseline.yml
#   (b) tests/mcp/client.test.mjs, the official TypeScript SDK client (initialize, tools, calls).
# Usage: tests/mcp/run.sh BIN
# Env:   MCP_LOG_DIR  keep logs and conformance results there (default: a temp dir, removed at exit)
#        ONLY_MCP=conformance|client   run only one of (a)/(b)
# Prints PASS/FAIL per part; exits non-zero if any part failed.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../harness/lib.sh
. "$ROOT/tests/harness/lib.sh"

BIN=${1:?usage: $0 BIN}
[ -x "$BIN" ] || { echo "FAIL mcp: binary $BIN not found or not executable"; exit 1; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
while read -r v; do unset "$v"; done < <(compgen -e | grep '^ASGARD_' || true)

"$ROOT/tests/harness/npm-deps.sh" || { echo "FAIL mcp: npm dependencies could not be installed"; exit 1; }

WORK=$(mktemp -d /tmp/asgard-mcp.XXXXXX)
LOGS=${MCP_LOG_DIR:-$WORK/logs}
mkdir -p "$LOGS"
SPID=
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  stop_pid "$SPID" 10
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

die() {
  echo "FAIL mcp setup: $1"
  [ -n "${2:-}" ] && [ -s "$2" ] && { echo "----- response -----"; head -c 2000 "$2"; echo; }
  echo "----- tail of server.err -----"; tail -n 40 "$LOGS/server.err" 2>/dev/null | strip_ansi
  exit 1
}
req() {
  local out=$1 method=$2 url=$3; shift 3
  curl -sS --max-time 15 -o "$out" -w '%{http_code}' -X "$method" "$url" "$@" 2>"$out.curl" || true
}

cat >"$WORK/asgard.yaml" <<'YAML'
groups:
- { key: platform, display_name: Platform, cost_center: CC-100 }
YAML
ADMIN_PW=$(python3 -c 'import secrets;print(secrets.token_urlsafe(24))')
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
(
  cd "$WORK" || exit 1
  ASGARD_DATABASE_URL="sqlite://$WORK/data/asgard.db" \
  ASGARD_SECRET_KEY="$(random_hex32)" \
  ASGARD_ADMIN_PASSWORD="$ADMIN_PW" \
  exec "$BIN" serve --bind "127.0.0.1:$PORT" --config ./asgard.yaml
) >"$LOGS/server.out" 2>"$LOGS/server.err" &
SPID=$!
wait_http "$BASE/healthz" 60 "$SPID" || die "asgard did not answer /healthz within 60 s"

LOGIN_BODY=$(python3 -c 'import json,sys;print(json.dumps({"username":"admin","password":sys.argv[1]}))' "$ADMIN_PW")
code=$(req "$WORK/login.json" POST "$BASE/api/auth/login" -H 'content-type: application/json' -d "$LOGIN_BODY")
[ "$code" = 200 ] || die "POST /api/auth/login -> $code" "$WORK/login.json"
TOKEN=$(json_get token <"$WORK/login.json") || die "login response has no token" "$WORK/login.json"
code=$(req "$WORK/project.json" POST "$BASE/api/projects" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d '{"name":"MCP suite","owner_email":"owner@corp.example","manager_email":"mgr@corp.example","group":"platform","budget_usd":100}')
case "$code" in 2??) ;; *) die "POST /api/projects -> $code" "$WORK/project.json" ;; esac
PID=$(json_get project_id <"$WORK/project.json") || die "project response has no project_id" "$WORK/project.json"
code=$(req "$WORK/key.json" POST "$BASE/api/projects/$PID/keys" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"name":"agent"}')
case "$code" in 2??) ;; *) die "POST /api/projects/$PID/keys -> $code" "$WORK/key.json" ;; esac
KEY=$(json_get key <"$WORK/key.json") || die "key response has no key" "$WORK/key.json"
[ -n "$KEY" ] || die "empty key" "$WORK/key.json"
echo "mcp: asgard on $BASE, project $PID, key minted"

FAILED=0
if [ "${ONLY_MCP:-conformance}" = conformance ] || [ -z "${ONLY_MCP:-}" ]; then
  if "$ROOT/tests/mcp/conformance.sh" "$BASE/mcp" "$KEY" "$ROOT/tests/mcp/conformance-baseline.yml" "$LOGS/conformance" \
      >"$LOGS/conformance.log" 2>&1; then
    echo "PASS mcp conformance ($(grep -E '^Total:' "$LOGS/conformance.log" | tail -1 | strip_ansi))"
  else
    FAILED=1
    echo "FAIL mcp conformance (log: $LOGS/conformance.log)"
    # The per-scenario lines, the failed checks, and the baseline verdict.
    strip_ansi <"$LOGS/conformance.log" | grep -E '^Total:|Unexpected|Stale|Baseline|^  [✓✗] ' | head -n 80
    # Why the scenarios outside the baseline failed (from each scenario's checks.json).
    python3 - "$LOGS/conformance" "$ROOT/tests/mcp/conformance-baseline.yml" <<'PY'
import glob, json, os, re, sys
out, baseline = sys.argv[1], sys.argv[2]
expected = set(re.findall(r"^\s*-\s*([a-z0-9-]+)", open(baseline).read(), re.M))
for d in sorted(glob.glob(os.path.join(out, "server-*"))):
    scen = re.sub(r"^server-|-\d{4}-\d{2}-\d{2}T[\d-]+Z$", "", os.path.basename(d))
    if scen in expected:
        continue
    try:
        checks = json.load(open(os.path.join(d, "checks.json")))
    except Exception:
        continue
    for c in checks:
        if c.get("status") in ("FAILURE", "WARNING"):
            msg = c.get("errorMessage") or json.dumps(c.get("details"))[:300]
            print(f"  {scen}: {c.get('status')} {c.get('id')}: {msg}")
PY
  fi
fi
if [ "${ONLY_MCP:-client}" = client ] || [ -z "${ONLY_MCP:-}" ]; then
  if node "$ROOT/tests/mcp/client.test.mjs" "$BASE/mcp" "$KEY" "$PID" >"$LOGS/client.log" 2>&1; then
    echo "PASS mcp client (TypeScript SDK)"
    grep -E '^PASS' "$LOGS/client.log" | sed 's/^/  /'
  else
    FAILED=1
    echo "FAIL mcp client (TypeScript SDK)"
    sed 's/^/  /' "$LOGS/client.log" | tail -n 40
  fi
fi

kill -0 "$SPID" 2>/dev/null || { echo "FAIL mcp: asgard exited during the suite"; FAILED=1; }
if [ "$FAILED" != 0 ]; then
  echo "----- tail of server.err (without rmcp's per-request INFO lines) -----"
  strip_ansi <"$LOGS/server.err" | grep -v 'INFO serve_inner: rmcp::service' | tail -n 20 | cut -c1-300
fi
exit "$FAILED"
