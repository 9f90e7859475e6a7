#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# MCP suite: boots asgard on a fresh SQLite database (free loopback port, known admin password; provisioning
# armed with the repository's modules when `terraform` is on PATH, so demo-token resources get real
# secrets), logs in, registers a project and mints a project key, then runs these parts:
#   conformance  the official MCP conformance suite through the auth proxy, against conformance-baseline.yml
#   client       client.test.mjs: the official TypeScript SDK client (initialize, tools, calls)
#   scoping      scoping.test.mjs: key A vs project B through every project-scoped tool; member and
#                auditor PATs; register_project with a key / a member PAT
#   auth         auth.test.mjs: 401s (missing, malformed, unknown, revoked, session, killed, disabled
#                user, decommissioned) and the Host/Origin guard (403)
#   bad-input    bad-input.test.mjs: malformed JSON-RPC, unknown methods/tools, wrong types for every tool
#                property, huge payloads, garbage batches, wrong content types; then a seeded fuzz pass
#   replicas     replicas.sh: two replicas on one fresh Postgres database, requests alternating between
#                them (only when ASGARD_TEST_PG_URL is set; skipped with a note otherwise)
# Usage: tests/mcp/run.sh BIN
# Env:   MCP_LOG_DIR  keep logs and conformance results there (default: a temp dir, removed at exit)
#        ONLY_MCP=part[,part…]   run only these parts (names above)
#        ASGARD_TEST_PG_URL      postgres://…/db of a superuser, for the replicas part
#        MCP_FUZZ_SEED, MCP_FUZZ_N (default 2000)   replay / resize the fuzz pass
# Prints PASS/FAIL per part (per-test lines indented below it) and a final count; exits non-zero if any
# part failed.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../harness/lib.sh
. "$ROOT/tests/harness/lib.sh"

BIN=${1:?usage: $0 BIN}
[ -x "$BIN" ] || { echo "FAIL mcp: binary $BIN not found or not executable"; exit 1; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
PG_URL=${ASGARD_TEST_PG_URL:-}
while read -r v; do unset "$v"; done < <(compgen -e | grep '^ASGARD_' || true)
T_START=$SECONDS

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
# Armed with the repository's modules when terraform is here (demo-token needs no provider and no cloud).
ARMED=0
ARM_ENV=()
if command -v terraform >/dev/null 2>&1; then
  ARMED=1
  mkdir -p "$WORK/tf"
  ARM_ENV=(ASGARD_TF_MODULES_DIR="$ROOT/modules" ASGARD_TF_WORK_DIR="$WORK/tf"
    TF_CLI_CONFIG_FILE="$ROOT/tests/harness/terraformrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1)
else
  echo "mcp: note: terraform not on PATH; provisioning unarmed (secret scoping checks use refs without values)"
fi
for _ in 1 2 3; do
  PORT=$(free_port)
  BASE=http://127.0.0.1:$PORT
  (
    cd "$WORK" || exit 1
    exec env ASGARD_DATABASE_URL="sqlite://$WORK/data/asgard.db" \
      ASGARD_SECRET_KEY="$(random_hex32)" \
      ASGARD_ADMIN_PASSWORD="$ADMIN_PW" \
      "${ARM_ENV[@]}" \
      "$BIN" serve --bind "127.0.0.1:$PORT" --config ./asgard.yaml
  ) >"$LOGS/server.out" 2>"$LOGS/server.err" &
  SPID=$!
  wait_http "$BASE/healthz" 60 "$SPID" && break
  stop_pid "$SPID" 5; SPID=
  rm -rf "$WORK/data"
done
[ -n "$SPID" ] || die "asgard did not answer /healthz within 60 s"

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

# want PART: is PART selected by ONLY_MCP (a comma-separated list; empty = all)?
want() {
  [ -z "${ONLY_MCP:-}" ] && return 0
  case ",${ONLY_MCP// /}," in *",$1,"*) return 0 ;; esac
  return 1
}
FAILED=0
PARTS_PASSED=0 PARTS_FAILED=0 PARTS_SKIPPED=0 TESTS_PASSED=0 TESTS_FAILED=0
# part_result NAME RC LOG [SUMMARY]: one PASS/FAIL line for the part, its per-test lines indented below.
part_result() {
  local name=$1 rc=$2 log=$3 summary=${4:-} p f
  p=$(grep -cE '^PASS ' "$log" 2>/dev/null); f=$(grep -cE '^FAIL ' "$log" 2>/dev/null)
  TESTS_PASSED=$((TESTS_PASSED + ${p:-0})); TESTS_FAILED=$((TESTS_FAILED + ${f:-0}))
  if [ "$rc" = 0 ]; then
    PARTS_PASSED=$((PARTS_PASSED + 1))
    echo "PASS mcp $name (${summary:-${p:-0} tests passed})"
    grep -E '^(PASS|  )' "$log" | sed 's/^/    /'
  else
    PARTS_FAILED=$((PARTS_FAILED + 1)); FAILED=1
    echo "FAIL mcp $name (${p:-0} passed, ${f:-0} failed; log: $log)"
    grep -vE '^PASS ' "$log" | head -n 60 | sed 's/^/    /'
  fi
}
# run_part NAME TIMEOUT CMD...: CMD's output to $LOGS/NAME.log, then part_result.
run_part() {
  local name=$1 limit=$2 rc
  shift 2
  timeout --kill-after=10 "$limit" "$@" >"$LOGS/$name.log" 2>&1 </dev/null
  rc=$?
  [ "$rc" = 124 ] && echo "FAIL $name: timed out after ${limit}s" >>"$LOGS/$name.log"
  part_result "$name" "$rc" "$LOGS/$name.log"
}

if want conformance; then
  if "$ROOT/tests/mcp/conformance.sh" "$BASE/mcp" "$KEY" "$ROOT/tests/mcp/conformance-baseline.yml" "$LOGS/conformance" \
      >"$LOGS/conformance.log" 2>&1; then
    PARTS_PASSED=$((PARTS_PASSED + 1)); TESTS_PASSED=$((TESTS_PASSED + 1))
    echo "PASS mcp conformance ($(grep -E '^Total:' "$LOGS/conformance.log" | tail -1 | strip_ansi); failures as in the baseline)"
  else
    FAILED=1; PARTS_FAILED=$((PARTS_FAILED + 1)); TESTS_FAILED=$((TESTS_FAILED + 1))
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
if want client; then
  if node "$ROOT/tests/mcp/client.test.mjs" "$BASE/mcp" "$KEY" "$PID" >"$LOGS/client.log" 2>&1; then
    PARTS_PASSED=$((PARTS_PASSED + 1))
    TESTS_PASSED=$((TESTS_PASSED + $(grep -c '^PASS' "$LOGS/client.log")))
    echo "PASS mcp client (TypeScript SDK)"
    grep -E '^PASS' "$LOGS/client.log" | sed 's/^/  /'
  else
    FAILED=1; PARTS_FAILED=$((PARTS_FAILED + 1))
    TESTS_PASSED=$((TESTS_PASSED + $(grep -c '^PASS' "$LOGS/client.log"))); TESTS_FAILED=$((TESTS_FAILED + 1))
    echo "FAIL mcp client (TypeScript SDK)"
    sed 's/^/  /' "$LOGS/client.log" | tail -n 40
  fi
fi

export MCP_BASE=$BASE MCP_ADMIN_PASSWORD=$ADMIN_PW MCP_ARMED=$ARMED MCP_SERVER_PID=$SPID
want scoping && run_part scoping 300 node "$ROOT/tests/mcp/scoping.test.mjs"
want auth && run_part auth 180 node "$ROOT/tests/mcp/auth.test.mjs"
want bad-input && run_part bad-input 480 node "$ROOT/tests/mcp/bad-input.test.mjs"
unset MCP_BASE MCP_ADMIN_PASSWORD MCP_ARMED MCP_SERVER_PID

kill -0 "$SPID" 2>/dev/null || { echo "FAIL mcp: asgard exited during the suite"; FAILED=1; PARTS_FAILED=$((PARTS_FAILED + 1)); }
if [ "$FAILED" != 0 ]; then
  echo "----- tail of server.err (without rmcp's per-request INFO lines) -----"
  strip_ansi <"$LOGS/server.err" | grep -v 'INFO serve_inner: rmcp::service' | tail -n 20 | cut -c1-300
fi
stop_pid "$SPID" 10; SPID=

if want replicas; then
  if [ -z "$PG_URL" ]; then
    PARTS_SKIPPED=$((PARTS_SKIPPED + 1))
    # Under CI a part that did not run is a failure.
    if [ -n "${CI:-}" ] && [ "${CI:-}" != 0 ]; then PARTS_FAILED=$((PARTS_FAILED + 1)); fi
    echo "SKIP mcp replicas: ASGARD_TEST_PG_URL is not set (scripts/test.sh sets it when Postgres runs; or: eval \"\$(tests/harness/pg.sh start)\")"
  else
    run_part replicas 300 "$ROOT/tests/mcp/replicas.sh" "$BIN" "$PG_URL" "$LOGS/replicas"
  fi
fi

echo "mcp: parts $PARTS_PASSED passed, $PARTS_FAILED failed, $PARTS_SKIPPED skipped; tests $TESTS_PASSED passed, $TESTS_FAILED failed; $((SECONDS - T_START))s"
exit "$FAILED"
