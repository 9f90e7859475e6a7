#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# AWS emulator (moto_server) on a free 127.0.0.1 port, for provisioning tests.
#   eval "$(tests/harness/moto.sh start [LOGFILE])"
#       starts moto in the background and prints exports:
#       MOTO_PID MOTO_PORT AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
#       AWS_REGION=AWS_DEFAULT_REGION=us-east-1 TF_CLI_CONFIG_FILE=<tests/harness/terraformrc>
#       TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
#       (provider hashicorp/aws, the aws CLI and the Rust AWS SDK all honour AWS_ENDPOINT_URL; account 123456789012)
#   tests/harness/moto.sh reset            # needs MOTO_PORT: wipe all emulated state
#   tests/harness/moto.sh stop "$MOTO_PID" # SIGTERM (then SIGKILL) that one PID
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
case "${1:-}" in
start)
  log=${2:-$(mktemp /tmp/asgard-moto.XXXXXX.log)}
  command -v moto_server >/dev/null || { echo "moto.sh: moto_server not on PATH (pip install 'moto[server]')" >&2; exit 1; }
  for _ in 1 2 3; do
    port=$(free_port)
    # setsid + no inherited stdout: the caller's $(…) returns at once; the PID printed is moto's own.
    MOTO_ECS_SERVICE_RUNNING=1 MOTO_ACM_VALIDATION_WAIT=0 \
      setsid moto_server -H 127.0.0.1 -p "$port" </dev/null >"$log" 2>&1 &
    pid=$!
    if wait_port "$port" 30 "$pid"; then
      echo "export MOTO_PID=$pid MOTO_PORT=$port MOTO_LOG=$log AWS_ENDPOINT_URL=http://127.0.0.1:$port"
      echo "export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1"
      echo "export TF_CLI_CONFIG_FILE=$HERE/terraformrc TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1"
      exit 0
    fi
    stop_pid "$pid" 2
    echo "moto.sh: moto did not come up on port $port:" >&2; tail -5 "$log" >&2
  done
  exit 1
  ;;
reset)
  curl -fsS -X POST "http://127.0.0.1:${MOTO_PORT:?MOTO_PORT not set}/moto-api/reset" >/dev/null
  ;;
stop)
  stop_pid "${2:?usage: $0 stop MOTO_PID}" 5
  ;;
*) echo "usage: $0 start [LOGFILE] | reset | stop PID" >&2; exit 2;;
esac
