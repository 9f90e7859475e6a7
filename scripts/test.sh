#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Asgard's test command (the README's `./scripts/test.sh`; `.ci/run` calls it).
#
# Needs: the Rust toolchain (cargo, rustfmt, clippy), Node.js 20 + npm (npm registry reachable on the
# first run), python3, curl, PostgreSQL server binaries (initdb, pg_ctl) and psql.
#
# Checks, in order (each prints PASS/FAIL with its duration; a failing one prints its log tail):
#   npm-deps          npm test tools (package.json at the repo root -> node_modules/, Node 22 -> .node22/)
#   fmt, clippy       cargo fmt --check; cargo clippy --all-targets --locked -- -D warnings
#   deps              scripts/deps-check.py: licenses allow Apache-2.0 use, no heavy crate in two major
#                     versions (cargo metadata, offline)
#   doc               cargo doc --no-deps with warnings denied
#   build             cargo build --locked --bins --tests   (once; everything below reuses it)
#   postgres          a throwaway PostgreSQL on a free port (tests/harness/pg.sh); exports
#                     ASGARD_TEST_PG_URL=postgres://postgres@127.0.0.1:PORT/asgard_test (superuser:
#                     integration tests CREATE DATABASE their own per test)
#   cargo-test        cargo test --locked (unit + integration; integration tests run on SQLite, and on
#                     Postgres because ASGARD_TEST_PG_URL is set)
#   runbook-sqlite    tests/e2e/runbook.sh on a fresh SQLite file
#   runbook-postgres  tests/e2e/runbook.sh on a fresh Postgres database
#   mcp               tests/mcp/run.sh: MCP conformance suite + TypeScript SDK client
#   fuzz-rest         tests/fuzz/rest.sh: schemathesis fuzzes every REST operation from
#                     /api/openapi.json (no 5xx, only documented statuses), SQLite and Postgres
#   secret-arn        tests/aws/secret_arn.sh: boot secrets read from Secrets Manager (moto, signatures
#                     checked), database on the throwaway Postgres
#   provisioning      tests/provisioning/run.sh: Terraform + moto (runner, e2e, self-deploy, faults)
#   sso               tests/sso/run.sh: a real oidc-provider in headless Chromium
# Ends with the line `N passed, M failed`; exits 1 if any check failed.
#
# Env knobs:
#   ONLY=a,b      run only checks whose name starts with one of these (ONLY=runbook, ONLY=mcp,
#                 ONLY=cargo-test, ONLY=lint = fmt+clippy); `build` runs whenever a selected check needs it
#   SKIP_LINT=1   skip fmt and clippy
#   TEST_LOG_DIR  where logs go (default target/test-logs, wiped at start)
#   TAIL_LINES    lines of a failing check's log to print (default 60)
#   CARGO_TEST_ARGS  extra args after `cargo test --locked` (e.g. "-- --test-threads=1")
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=../tests/harness/lib.sh
. "$ROOT/tests/harness/lib.sh"

LOGDIR=${TEST_LOG_DIR:-$ROOT/target/test-logs}
{ rm -rf "$LOGDIR" && mkdir -p "$LOGDIR"; } || { echo "cannot create $LOGDIR"; exit 1; }
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET/debug/asgard
export CARGO_TERM_COLOR=never
# A developer's shell may carry settings that change what the server or the tests do.
unset ASGARD_DEV_INSECURE ASGARD_DATABASE_URL ASGARD_TEST_PG_URL

PASSED=0
FAILED=0
FAILED_NAMES=()
PGDIR=
CHECK_PID=
cleanup() {
  # The running check (a `timeout` process): SIGTERM makes timeout signal the check's whole process
  # group, so a suite's own EXIT trap stops the servers it started.
  if [ -n "$CHECK_PID" ]; then stop_pid "$CHECK_PID" 20; CHECK_PID=; fi
  if [ -n "$PGDIR" ]; then tests/harness/pg.sh stop "$PGDIR"; PGDIR=; fi
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

# selected NAME: is NAME chosen by $ONLY (and not skipped by SKIP_LINT)?
selected() {
  local name=$1 p
  if [ "${SKIP_LINT:-0}" = 1 ] && { [ "$name" = fmt ] || [ "$name" = clippy ]; }; then return 1; fi
  [ -z "${ONLY:-}" ] && return 0
  IFS=',' read -ra pats <<<"$ONLY"
  for p in "${pats[@]}"; do
    p=${p// /}
    [ -z "$p" ] && continue
    if [ "$p" = lint ] && { [ "$name" = fmt ] || [ "$name" = clippy ]; }; then return 0; fi
    [[ "$name" == "$p"* ]] && return 0
  done
  return 1
}
any_selected() { local n; for n in "$@"; do selected "$n" && return 0; done; return 1; }

record_fail() { FAILED=$((FAILED + 1)); FAILED_NAMES+=("$1"); }

# check NAME TIMEOUT_SECS CMD...: run CMD with its output in $LOGDIR/NAME.log; one PASS/FAIL line.
check() {
  local name=$1 limit=$2 t0 rc log=$LOGDIR/$1.log
  shift 2
  t0=$SECONDS
  echo "---- $name: $*"
  # In the background + wait, so that an interrupt reaches the EXIT trap at once (see cleanup).
  timeout --kill-after=15 "$limit" "$@" >"$log" 2>&1 </dev/null &
  CHECK_PID=$!
  wait "$CHECK_PID"
  rc=$?
  CHECK_PID=
  if [ "$rc" = 0 ]; then
    PASSED=$((PASSED + 1))
    echo "PASS $name ($((SECONDS - t0))s)"
    return 0
  fi
  record_fail "$name"
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "FAIL $name (timed out after ${limit}s; log: $log)"
  else
    echo "FAIL $name (exit $rc, $((SECONDS - t0))s; log: $log)"
  fi
  echo "----- last ${TAIL_LINES:-60} lines of $log -----"
  tail -n "${TAIL_LINES:-60}" "$log" | strip_ansi
  echo "-----"
  return 1
}
# scratch_db PREFIX CHECK: the URL of a fresh database on the throwaway Postgres, or nothing
# when there is none (the check then runs on SQLite only). A database that cannot be made while
# Postgres runs fails the call (and so the check), never silently narrows it to SQLite.
scratch_db() {
  [ "$PG_OK" = 1 ] || return 0
  tests/harness/pg.sh createdb "$1_$(python3 -c 'import secrets;print(secrets.token_hex(4))')" \
    2>"$LOGDIR/$2.createdb.log"
}
not_run() { record_fail "$1"; echo "FAIL $1 (not run: $2)"; }

# ---- what is needed
NEED_BUILD=0; any_selected build clippy deps doc cargo-test runbook-sqlite runbook-postgres mcp fuzz-rest secret-arn && NEED_BUILD=1
NEED_PG=0; any_selected postgres cargo-test runbook-postgres fuzz-rest secret-arn && NEED_PG=1
# npm-deps also installs the Python OpenAPI validator cargo-test uses.
NEED_NPM=0; any_selected npm-deps mcp cargo-test && NEED_NPM=1

for tool in cargo node npm python3 curl; do
  command -v "$tool" >/dev/null || echo "WARNING: $tool not on PATH; checks that use it will fail"
done
if [ "$NEED_PG" = 1 ]; then
  for tool in initdb pg_ctl psql; do
    command -v "$tool" >/dev/null || echo "WARNING: $tool not on PATH; the postgres check will fail"
  done
fi
echo "asgard tests: logs in $LOGDIR${ONLY:+, ONLY=$ONLY}${SKIP_LINT:+, SKIP_LINT=$SKIP_LINT}"

# ---- npm test tools
NPM_OK=1
if [ "$NEED_NPM" = 1 ]; then
  check npm-deps 900 tests/harness/npm-deps.sh || NPM_OK=0
fi

# ---- lint (fmt is instant; clippy after the build so compile errors are reported once, by the build)
if selected fmt; then check fmt 300 cargo fmt --all -- --check; fi

BUILD_OK=0
if [ "$NEED_BUILD" = 1 ]; then
  check build 2700 cargo build --locked --bins --tests && BUILD_OK=1
  if [ "$BUILD_OK" = 1 ] && [ ! -x "$BIN" ]; then
    echo "  (build passed but $BIN is missing)"; BUILD_OK=0
    PASSED=$((PASSED - 1)); record_fail build
  fi
fi

if selected clippy; then
  if [ "$BUILD_OK" = 1 ]; then check clippy 1800 cargo clippy --all-targets --locked -- -D warnings
  else not_run clippy "build failed"; fi
fi
# After the build: on a fresh machine only then are the crates on disk for an offline `cargo metadata`.
if selected deps; then
  if [ "$BUILD_OK" = 1 ]; then check deps 300 python3 scripts/deps-check.py
  else not_run deps "build failed"; fi
fi
if selected doc; then
  if [ "$BUILD_OK" = 1 ]; then RUSTDOCFLAGS="-D warnings" check doc 1200 cargo doc --no-deps --locked
  else not_run doc "build failed"; fi
fi

# ---- throwaway Postgres
PG_OK=0
if [ "$NEED_PG" = 1 ] && [ "$NEED_BUILD" = 1 ] && [ "$BUILD_OK" != 1 ]; then
  echo "  (postgres not started: everything that uses it needs the build)"
elif [ "$NEED_PG" = 1 ]; then
  t0=$SECONDS
  if out=$(tests/harness/pg.sh start 2>"$LOGDIR/postgres.log"); then
    eval "$out"
    export ASGARD_TEST_PG_URL
    PG_OK=1; PASSED=$((PASSED + 1))
    echo "PASS postgres ($((SECONDS - t0))s; ASGARD_TEST_PG_URL=$ASGARD_TEST_PG_URL)"
  else
    record_fail postgres
    echo "FAIL postgres (could not start a throwaway server; log: $LOGDIR/postgres.log)"
    tail -n 30 "$LOGDIR/postgres.log"
  fi
fi

# ---- cargo test (unit + integration, SQLite and Postgres)
if selected cargo-test; then
  if [ "$BUILD_OK" != 1 ]; then not_run cargo-test "build failed"
  else
    [ "$PG_OK" = 1 ] || echo "  note: no Postgres; integration tests run on SQLite only (the postgres check failed)"
    # shellcheck disable=SC2086
    check cargo-test 2400 cargo test --locked --no-fail-fast ${CARGO_TEST_ARGS:-}
    # Totals over every test binary (cargo prints one `test result:` line per binary).
    awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed/) p += $(i-1); if ($(i) ~ /^failed/) f += $(i-1); if ($(i) ~ /^ignored/) g += $(i-1) } }
         END { if (p + f + g > 0) printf "  cargo test: %d tests passed, %d failed, %d ignored\n", p, f, g }' "$LOGDIR/cargo-test.log"
  fi
fi

# ---- end-to-end: the deploy runbook on both engines
if selected runbook-sqlite; then
  if [ "$BUILD_OK" != 1 ]; then not_run runbook-sqlite "build failed"
  else
    RUNBOOK_LOG_DIR=$LOGDIR/runbook-sqlite check runbook-sqlite 600 tests/e2e/runbook.sh "$BIN" sqlite \
      && grep -E '^PASS' "$LOGDIR/runbook-sqlite.log" | sed 's/^/  /'
  fi
fi
if selected runbook-postgres; then
  if [ "$BUILD_OK" != 1 ]; then not_run runbook-postgres "build failed"
  elif [ "$PG_OK" != 1 ]; then not_run runbook-postgres "no Postgres"
  else
    RB_DB=runbook_$(python3 -c 'import secrets;print(secrets.token_hex(4))')
    if RB_URL=$(tests/harness/pg.sh createdb "$RB_DB" 2>"$LOGDIR/runbook-postgres.createdb.log"); then
      RUNBOOK_LOG_DIR=$LOGDIR/runbook-postgres check runbook-postgres 600 tests/e2e/runbook.sh "$BIN" "$RB_URL" \
        && grep -E '^PASS' "$LOGDIR/runbook-postgres.log" | sed 's/^/  /'
    else
      not_run runbook-postgres "CREATE DATABASE $RB_DB failed: $(cat "$LOGDIR/runbook-postgres.createdb.log")"
    fi
  fi
fi

# ---- MCP: conformance suite + official TypeScript SDK client
if selected mcp; then
  if [ "$BUILD_OK" != 1 ]; then not_run mcp "build failed"
  elif [ "$NPM_OK" != 1 ]; then not_run mcp "npm dependencies missing"
  else
    MCP_LOG_DIR=$LOGDIR/mcp check mcp 900 tests/mcp/run.sh "$BIN" \
      && grep -E '^(PASS|  PASS)' "$LOGDIR/mcp.log" | sed 's/^/  /'
  fi
fi

# ---- REST fuzzing from the OpenAPI description (schemathesis, in its own venv)
if selected fuzz-rest; then
  if [ "$BUILD_OK" != 1 ]; then not_run fuzz-rest "build failed"
  else
    if ! FUZZ_URL=$(scratch_db fuzz fuzz-rest); then not_run fuzz-rest "no Postgres database (see fuzz-rest.createdb.log)"
    else FUZZ_LOG_DIR=$LOGDIR/fuzz check fuzz-rest 900 tests/fuzz/rest.sh "$BIN" $FUZZ_URL \
      && grep -E '^PASS' "$LOGDIR/fuzz-rest.log" | sed 's/^/  /'
    fi
  fi
fi

# ---- boot secrets from AWS Secrets Manager (moto), as the runbook's ECS self-deploy starts Asgard
if selected secret-arn; then
  if [ "$BUILD_OK" != 1 ]; then not_run secret-arn "build failed"
  else
    if ! ARN_URL=$(scratch_db arn secret-arn); then not_run secret-arn "no Postgres database (see secret-arn.createdb.log)"
    else check secret-arn 600 tests/aws/secret_arn.sh "$BIN" $ARN_URL \
      && grep -E '^PASS' "$LOGDIR/secret-arn.log" | sed 's/^/  /'
    fi
  fi
fi

# ---- provisioning: Terraform + moto against the binary (runner, bad input, e2e, self-deploy, leak scan on
# SQLite; runner, faults and leak scan on Postgres when the postgres check started one). Selected alone it
# reuses the existing binary; ONLY=build,postgres,provisioning gives it a fresh build and Postgres.
if selected provisioning; then
  if [ "$NEED_BUILD" = 1 ] && [ "$BUILD_OK" != 1 ]; then not_run provisioning "build failed"
  elif [ ! -x "$BIN" ]; then not_run provisioning "no binary at $BIN (ONLY=build,provisioning)"
  else
    [ "$PG_OK" = 1 ] || echo "  note: no Postgres; provisioning runs on SQLite only (fault tests skipped)"
    PROV_LOG_DIR=$LOGDIR/provisioning check provisioning 2400 tests/provisioning/run.sh "$BIN" \
      && sed -n '/^Wall times/,$p' "$LOGDIR/provisioning.log" | sed 's/^/  /'
  fi
fi

# ---- sso: real oidc-provider + headless Chromium against the binary
if selected sso; then
  # Never a stale binary: after a failed build the old one may still be on disk.
  if [ "$NEED_BUILD" = 1 ] && [ "$BUILD_OK" != 1 ]; then not_run sso "build failed"
  elif [ ! -x "$BIN" ]; then not_run sso "no binary at $BIN"
  else SSO_LOG_DIR=$LOGDIR/sso check sso 900 tests/sso/run.sh "$BIN"
  fi
fi

echo
if [ "$FAILED" -gt 0 ]; then echo "failed checks: ${FAILED_NAMES[*]} (logs in $LOGDIR)"; fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
