#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Wait until 127.0.0.1:PORT accepts connections.   tests/harness/wait-for-port.sh PORT [TIMEOUT_SECS=20] [PID]
# Exit 0 when up, 1 on timeout, 2 when PID (if given) exited first.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"; wait_port "${1:?usage: $0 PORT [TIMEOUT_SECS] [PID]}" "${2:-20}" "${3:-}"
