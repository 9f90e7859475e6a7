#!/usr/bin/env bash
# Asgard benchmarks: figures as ratios to a floor measured in the same run.
#
#   bench/run.sh [foundation|mcp|provisioning|burst|all]      (default: all)
#
# Builds `asgard` and the floor (examples/floor.rs) in release if missing,
# installs Debian `wrk` if missing, runs the phase(s), prints a markdown
# table and writes it to bench/results/<date>[-phase].md. See bench/README.md.
#
# Knobs (env): BENCH_DURATION (10 s per wrk run), BENCH_POST_DURATION (2 s),
# BENCH_PIN (1: server on CPU $SRV_CPU=0, load generator on $GEN_CPU=1),
# WRK_THREADS (2), BENCH_BOOTS (10), BENCH_FRESH_N (1000), BENCH_PROV_N (3),
# BENCH_WAIT_QUIET=1 waits for load < BENCH_QUIET_LOAD first,
# BENCH_PG=0 skips the Postgres figures (they need initdb/pg_ctl/psql),
# BENCH_BURST_N (20) / BENCH_BURST_ROUNDS (3) for the burst phase,
# BENCH_KEEP=1 keeps the scratch dir, BENCH_NO_BUILD=1 skips cargo,
# ASGARD_BIN / FLOOR_BIN to use other binaries.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$REPO/bench"; LUA="$BENCH/lua"; PY="$BENCH/py"
export BENCH_LUA_DIR="$LUA"
PHASE=${1:-all}
case "$PHASE" in foundation|mcp|provisioning|burst|all) ;; *) echo "usage: $0 [foundation|mcp|provisioning|burst|all]" >&2; exit 2;; esac

ASGARD_BIN=${ASGARD_BIN:-$REPO/target/release/asgard}
FLOOR_BIN=${FLOOR_BIN:-$REPO/target/release/examples/floor}
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  (cd "$REPO" && cargo build --release --bin asgard --example floor) || { echo "release build failed" >&2; exit 1; }
fi
for b in "$ASGARD_BIN" "$FLOOR_BIN"; do [ -x "$b" ] || { echo "missing $b" >&2; exit 1; }; done
if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y wrk >/dev/null 2>&1; } ||
    { echo "wrk is missing and could not be installed" >&2; exit 1; }
fi

BENCH_TMP=$(mktemp -d /tmp/asgard-bench.XXXXXX)
ADMIN_PW="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
source "$BENCH/lib.sh"
cleanup() {
  local p
  for p in "${BENCH_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 0.3
  for p in "${BENCH_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  stop_pgs
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "scratch kept in $BENCH_TMP" >&2; else rm -rf "$BENCH_TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
source "$BENCH/foundation.sh"
source "$BENCH/mcp.sh"
source "$BENCH/provisioning.sh"
source "$BENCH/burst.sh"

# Other work on the box skews every figure: optionally wait (up to
# BENCH_QUIET_WAIT s, default 1800) for the 1-minute load to drop below
# BENCH_QUIET_LOAD (default 0.5). The load before and after is recorded.
if [ "${BENCH_WAIT_QUIET:-0}" = 1 ]; then
  waited=0
  while awk -v l="${BENCH_QUIET_LOAD:-0.5}" '{exit !($1 >= l)}' /proc/loadavg && [ "$waited" -lt "${BENCH_QUIET_WAIT:-1800}" ]; do
    [ $((waited % 60)) = 0 ] && log "waiting for a quiet machine (load $(loadavg))"
    sleep 5; waited=$((waited + 5))
  done
fi
DATE=$(date +%F)
LOAD_BEFORE=$(loadavg)
rc=0
for ph in foundation mcp provisioning burst; do
  if [ "$PHASE" = all ] || [ "$PHASE" = "$ph" ]; then
    "phase_$ph" || { log "phase $ph failed"; rc=1; }
  fi
done

python3 - "$BENCH_TMP/machine.json" <<PY
import json, os, platform, subprocess, sys
def sh(c):
    try: return subprocess.run(c, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception: return ""
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next((l.split(":", 1)[1].strip() for l in open("/proc/meminfo") if l.startswith("MemTotal")), "?")
json.dump({
  "date": "$DATE", "command": "bench/run.sh $PHASE", "git": sh("cd $REPO && git rev-parse --short HEAD") + (" (dirty)" if sh("cd $REPO && git status --porcelain src Cargo.toml") else ""),
  "cpu": cpu, "nproc": os.cpu_count(), "kernel": platform.release(), "memory": mem,
  "pinning": "server on CPU ${SRV_CPU:-0}, wrk/clients on CPU ${GEN_CPU:-1} (taskset)" if "${BENCH_PIN:-1}" == "1" else "none",
  "load_before": "$LOAD_BEFORE", "load_after": open("/proc/loadavg").read().split()[:3] and " ".join(open("/proc/loadavg").read().split()[:3]),
  "wrk": sh("wrk --version 2>&1 | head -1").split(" Copyright")[0],
  "binary": sh("$ASGARD_BIN version") + ", built " + sh("date -r $ASGARD_BIN '+%F %T'") + (" (" + "$ASGARD_BIN" + ")" if "$ASGARD_BIN" != "$REPO/target/release/asgard" else ""),
  "terraform": sh("terraform version 2>/dev/null | head -1"),
}, open(sys.argv[1], "w"))
PY
mkdir -p "$BENCH/results"
if [ "$PHASE" = all ]; then OUT="$BENCH/results/$DATE.md"; else OUT="$BENCH/results/$DATE-$PHASE.md"; fi
touch "$BENCH_TMP/facts.jsonl"
python3 "$PY/report.py" "$BENCH_TMP/facts.jsonl" "$BENCH_TMP/machine.json" >"$OUT" && cat "$OUT"
echo "written: ${OUT#$REPO/}" >&2
exit $rc
