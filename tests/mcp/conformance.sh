#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Run the official MCP server conformance suite against a Bearer-protected Streamable HTTP endpoint.
# Usage: tests/mcp/conformance.sh <mcp-url> <bearer-token> [baseline.yml] [results-dir]
#   baseline defaults to tests/mcp/conformance-baseline.yml; results-dir to a temp dir.
# The conformance CLI cannot send headers, so tests/harness/auth-proxy.mjs (on a free loopback port)
# adds `Authorization: Bearer <token>` to every request. The suite (>= 0.1.14) needs Node 22:
# tests/harness/npm-deps.sh installs it into .node22/ (override with ASGARD_NODE22=/path/to/node).
# Exit status: the suite's (0 = every failure is in the baseline and no baseline entry passes).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../harness/lib.sh
. "$ROOT/tests/harness/lib.sh"
URL=${1:?usage: $0 <mcp-url> <bearer-token> [baseline.yml] [results-dir]}
TOKEN=${2:?bearer token}
BASELINE=${3:-$ROOT/tests/mcp/conformance-baseline.yml}
OUT=${4:-$(mktemp -d /tmp/asgard-conformance.XXXXXX)}
NODE22=$(node22_bin "$ROOT")
CONF=$ROOT/node_modules/@modelcontextprotocol/conformance/dist/index.js
if [ ! -x "$NODE22" ] || [ ! -f "$CONF" ]; then echo "conformance.sh: run tests/harness/npm-deps.sh first ($NODE22 / $CONF missing)" >&2; exit 1; fi

ORIGIN=$(printf '%s' "$URL" | sed -E 's#^(https?://[^/]+).*#\1#'); MCP_PATH=${URL#"$ORIGIN"}
mkdir -p "$OUT"
PROXY_PID=
trap 'stop_pid "$PROXY_PID" 2' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
for _ in 1 2 3; do
  PORT=$(free_port)
  node "$ROOT/tests/harness/auth-proxy.mjs" "$PORT" "$ORIGIN" "$TOKEN" 2>"$OUT/auth-proxy.log" &
  PROXY_PID=$!
  wait_port "$PORT" 10 "$PROXY_PID" && break
  stop_pid "$PROXY_PID" 1; PROXY_PID=
done
[ -n "$PROXY_PID" ] || { echo "conformance.sh: auth proxy did not start" >&2; cat "$OUT/auth-proxy.log" >&2; exit 1; }
echo "conformance: $URL via proxy 127.0.0.1:$PORT, baseline $BASELINE, results $OUT"
"$NODE22" "$CONF" server --url "http://127.0.0.1:$PORT$MCP_PATH" -o "$OUT" --expected-failures "$BASELINE"
