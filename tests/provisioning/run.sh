#!/usr/bin/env bash
# Provisioning tests against real parts (issue 4): Terraform + the hashicorp/aws mirror at /opt/tf-plugins,
# moto_server, SQLite, and PostgreSQL when ASGARD_TEST_PG_URL is set (a superuser URL: the suite creates a
# fresh database there and drops it at the end).
#
#   tests/provisioning/run.sh target/debug/asgard
#   ASGARD_TEST_PG_URL=postgres://postgres@127.0.0.1:PORT/asgard_test tests/provisioning/run.sh target/debug/asgard
#
# Env: PROV_ONLY=runner,bad,fixes,security,grants,e2e,selfdeploy,leak,faults (default: all)   PROV_LOG_DIR=dir (server/moto logs)
#      PROV_KEEP_TMP=1 (keep the temp dir: DBs, work dirs)
# Prints one PASS/FAIL line per check, a table of wall times, and ends with `N passed, M failed`;
# exits non-zero on any failure. Every process it starts is stopped at exit (Python atexit + signal handlers;
# each in its own process group, so Terraform children go too).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${1:?usage: $0 BIN}
exec python3 -u "$HERE/suite.py" "$BIN"
