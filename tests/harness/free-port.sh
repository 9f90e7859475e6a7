#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Print a TCP port free on 127.0.0.1 right now.   PORT=$(tests/harness/free-port.sh)
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"; free_port
