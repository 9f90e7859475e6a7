#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Two asgard replicas on one fresh Postgres database (same ASGARD_SECRET_KEY, free loopback ports), then
# tests/mcp/replicas.test.mjs against both. Creates its own database in the server of PG_URL with psql
# and drops it afterwards.
# Usage: tests/mcp/replicas.sh BIN PG_URL [LOG_DIR]
#   PG_URL: e.g. $ASGARD_TEST_PG_URL = postgres://postgres@127.0.0.1:PORT/asgard_test (a superuser).
# Exit status: the test's (non-zero on any failure or when a replica does not boot).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../harness/lib.sh
. "$ROOT/tests/harness/lib.sh"
BIN=${1:?usage: $0 BIN PG_URL [LOG_DIR]}
PG_URL=${2:?usage: $0 BIN PG_URL [LOG_DIR]}
[ -x "$BIN" ] || { echo "FAIL mcp-replicas: binary $BIN not found or not executable"; exit 1; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
WORK=$(mktemp -d /tmp/asgard-mcp-replicas.XXXXXX)
LOGS=${3:-$WORK/logs}
mkdir -p "$LOGS"

DB=mcp_replicas_$(python3 -c 'import secrets;print(secrets.token_hex(4))')
case "$PG_URL" in *\?*) PG_QUERY="?${PG_URL#*\?}" ;; *) PG_QUERY= ;; esac
PG_BASE=${PG_URL%%\?*}
DB_URL=${PG_BASE%/*}/$DB$PG_QUERY

PID_A='' PID_B='' CREATED=0
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  stop_pid "$PID_A" 10
  stop_pid "$PID_B" 10
  if [ "$CREATED" = 1 ]; then
    psql "$PG_URL" -qAt -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

fail() {
  echo "FAIL mcp-replicas setup: $1"
  for f in "$LOGS"/replica-*.err; do [ -s "$f" ] && { echo "----- tail of $f -----"; tail -n 20 "$f" | strip_ansi; }; done
  exit 1
}

psql "$PG_URL" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB" >"$LOGS/createdb.log" 2>&1 \
  || fail "CREATE DATABASE $DB failed: $(cat "$LOGS/createdb.log")"
CREATED=1

KEY=$(random_hex32)
ADMIN_PW=$(python3 -c 'import secrets;print(secrets.token_urlsafe(24))')
cat >"$WORK/asgard.yaml" <<'YAML'
groups:
- { key: platform, display_name: Platform, cost_center: CC-100 }
YAML

# start_replica NAME -> sets PORT_<NAME> and PID_<NAME>; retries on a port taken in between.
start_replica() {
  local name=$1 port pid i
  for i in 1 2 3; do
    port=$(free_port)
    (
      cd "$WORK" || exit 1
      ASGARD_DATABASE_URL="$DB_URL" ASGARD_SECRET_KEY="$KEY" ASGARD_ADMIN_PASSWORD="$ADMIN_PW" \
        exec "$BIN" serve --bind "127.0.0.1:$port" --config ./asgard.yaml
    ) >"$LOGS/replica-$name.out" 2>"$LOGS/replica-$name.err" &
    pid=$!
    if wait_http "http://127.0.0.1:$port/healthz" 60 "$pid"; then
      printf -v "PORT_$name" '%s' "$port"; printf -v "PID_$name" '%s' "$pid"
      return 0
    fi
    stop_pid "$pid" 5
    echo "  replica $name did not come up on port $port (attempt $i)" >&2
  done
  return 1
}
start_replica A || fail "replica A did not answer /healthz"
start_replica B || fail "replica B did not answer /healthz"
echo "mcp-replicas: A on 127.0.0.1:$PORT_A (pid $PID_A), B on 127.0.0.1:$PORT_B (pid $PID_B), database $DB"

MCP_BASE_A=http://127.0.0.1:$PORT_A MCP_BASE_B=http://127.0.0.1:$PORT_B MCP_ADMIN_PASSWORD=$ADMIN_PW \
  node "$ROOT/tests/mcp/replicas.test.mjs"
rc=$?
for n in A B; do
  pid_var=PID_$n
  kill -0 "${!pid_var}" 2>/dev/null || { echo "FAIL mcp-replicas: replica $n exited during the test"; rc=1; }
done
if [ "$rc" != 0 ]; then
  for n in A B; do echo "----- tail of replica-$n.err -----"; strip_ansi <"$LOGS/replica-$n.err" | grep -v 'INFO serve_inner: rmcp' | tail -n 15 | cut -c1-300; done
fi
exit "$rc"
