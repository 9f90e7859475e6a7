# Shared helpers for bench/*.sh (sourced by bench/run.sh). Bash only.
# Every process started here is recorded in BENCH_PIDS and stopped by the
# EXIT trap in run.sh; scratch files live under $BENCH_TMP.

BENCH_PIDS=()
BENCH_PGDIRS=()
CLK_TCK=$(getconf CLK_TCK)

log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }

free_port() {
  python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'
}

# CPU pinning: the server gets CPU $SRV_CPU, the load generator $GEN_CPU
# (defaults 0 and 1 on a 2-core box). BENCH_PIN=0 disables pinning.
srv_pin() { if [ "${BENCH_PIN:-1}" = 1 ]; then echo "taskset -c ${SRV_CPU:-0}"; fi; }
gen_pin() { if [ "${BENCH_PIN:-1}" = 1 ]; then echo "taskset -c ${GEN_CPU:-1}"; fi; }

# utime+stime of a process (all threads, live and exited) in seconds.
# /proc/PID/stat fields 14 and 15; comm (field 2) may hold spaces, so cut
# through ") " first: then utime is $12 and stime $13. Clock ticks.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12+$13}'; }

rss_mb() { awk '/^VmRSS:/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
hwm_mb() { awk '/^VmHWM:/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

# wait_http URL BODY_SUBSTRING [TIMEOUT_S]
wait_http() {
  local url=$1 want=$2 t=${3:-30} i
  for i in $(seq $((t * 20))); do
    if curl -fsS -m 1 "$url" 2>/dev/null | grep -q "$want"; then return 0; fi
    sleep 0.05
  done
  log "timed out waiting for $url"; return 1
}

stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
  kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; return 0
}

# start_floor -> sets FLOOR_PID FLOOR_URL
start_floor() {
  local port; port=$(free_port)
  $(srv_pin) "$FLOOR_BIN" "127.0.0.1:$port" >"$BENCH_TMP/floor.log" 2>&1 &
  FLOOR_PID=$!; BENCH_PIDS+=("$FLOOR_PID")
  FLOOR_URL="http://127.0.0.1:$port"
  wait_http "$FLOOR_URL/healthz" ok
}

# start_asgard DIR [extra env assignments...] -> sets ASG_PID ASG_URL
# DIR gets asgard.yaml (unless present), the SQLite DB and the log.
start_asgard() {
  local dir=$1; shift
  mkdir -p "$dir"
  [ -f "$dir/asgard.yaml" ] || printf 'groups:\n  - { key: platform, display_name: Platform, cost_center: CC-100 }\n' >"$dir/asgard.yaml"
  local port; port=$(free_port)
  env RUST_LOG="${BENCH_RUST_LOG:-warn}" ASGARD_ADMIN_PASSWORD="$ADMIN_PW" \
      ASGARD_DATABASE_URL="sqlite://$dir/a.db" "$@" \
      $(srv_pin) "$ASGARD_BIN" serve --bind "127.0.0.1:$port" --config "$dir/asgard.yaml" \
      >>"$dir/asgard.log" 2>&1 &
  ASG_PID=$!; BENCH_PIDS+=("$ASG_PID")
  ASG_URL="http://127.0.0.1:$port"
  wait_http "$ASG_URL/readyz" ready 60
}

# login URL -> prints a session token
login() {
  curl -fsS -X POST "$1/api/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$ADMIN_PW\"}" |
    python3 -c 'import sys,json;print(json.load(sys.stdin)["token"])'
}

# register URL TOKEN NAME -> prints project_id (the runbook's body, another name)
register() {
  curl -fsS -X POST "$1/api/projects" -H "authorization: Bearer $2" -H 'content-type: application/json' \
    -d "{\"name\":\"$3\",\"owner_email\":\"owner@corp.example\",\"manager_email\":\"mgr@corp.example\",\"group\":\"platform\",\"budget_usd\":100}" |
    python3 -c 'import sys,json;print(json.load(sys.stdin)["project_id"])'
}

# mint_key URL TOKEN PROJECT -> prints key
mint_key() {
  curl -fsS -X POST "$1/api/projects/$3/keys" -H "authorization: Bearer $2" -H 'content-type: application/json' \
    -d '{"name":"agent"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["key"])'
}

# start_pg -> sets PGPORT and BENCH_PG_MASTER: a throwaway PostgreSQL cluster
# (tests/harness/pg.sh: fsync and synchronous_commit off) pinned to the
# server's CPU, stopped by the EXIT trap. pg_db NAME prints a new database's URL.
start_pg() {
  local out; out=$("$REPO/tests/harness/pg.sh" start) || { log "postgres did not start"; return 1; }
  eval "$out"
  BENCH_PGDIRS+=("$PGDIR")
  BENCH_PG_MASTER=$(head -1 "$PGDIR/data/postmaster.pid")
  # Postgres needs the master key from the environment (no key file beside it).
  BENCH_PG_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  # Pin the postmaster (backends forked later inherit it) with Asgard.
  if [ "${BENCH_PIN:-1}" = 1 ]; then taskset -a -p -c "${SRV_CPU:-0}" "$BENCH_PG_MASTER" >/dev/null; fi
}
pg_db() { PGPORT=$PGPORT "$REPO/tests/harness/pg.sh" createdb "$1"; }
stop_pgs() {
  local d
  for d in "${BENCH_PGDIRS[@]}"; do "$REPO/tests/harness/pg.sh" stop "$d"; done
  BENCH_PGDIRS=()
}
# CPU ticks of the cluster: the postmaster and its live children (backends
# hold their connection for the run, so their time is all here).
pg_ticks() {
  local m=$1 t=0 c
  for c in "$m" $(pgrep -P "$m"); do t=$((t + $(cpu_ticks "$c" 2>/dev/null || echo 0))); done
  echo "$t"
}

# wrk_run LABEL PID URL [wrk args...] : runs wrk pinned, with CPU accounting of
# PID (and, with BENCH_DB_MASTER set, of that Postgres cluster as db_cpu).
# Lua scripts end with bench/lua/report.lua's done() which prints one
# JSON line. Appends a JSON record to $BENCH_TMP/wrk.jsonl and echoes it.
wrk_run() {
  local label=$1 pid=$2 url=$3; shift 3
  local t0 t1 out d0=0 d1=0
  [ -n "${BENCH_DB_MASTER:-}" ] && d0=$(pg_ticks "$BENCH_DB_MASTER")
  t0=$(cpu_ticks "$pid")
  out=$($(gen_pin) wrk "$@" "$url" 2>&1)
  t1=$(cpu_ticks "$pid")
  [ -n "${BENCH_DB_MASTER:-}" ] && d1=$(pg_ticks "$BENCH_DB_MASTER")
  local js; js=$(printf '%s\n' "$out" | grep '^{"wrk":' | tail -1)
  if [ -z "$js" ]; then log "wrk produced no report for $label:"; printf '%s\n' "$out" >&2; return 1; fi
  local non2xx; non2xx=$(printf '%s\n' "$out" | awk '/Non-2xx or 3xx responses/ {print $NF}')
  local rec
  rec=$(python3 - "$label" "$js" "$t0" "$t1" "$CLK_TCK" "${non2xx:-0}" "$(rss_mb "$pid")" "$d0" "$d1" <<'PY'
import json, sys
label, js, t0, t1, tck, non2xx, rss, d0, d1 = sys.argv[1:]
d = json.loads(js)["wrk"]
n = d["requests"]
cpu = (int(t1) - int(t0)) / int(tck)
d.update(kind="wrk", label=label, server_cpu_s=cpu, cpu_us_per_req=(cpu / n * 1e6) if n else None,
         non2xx=int(non2xx), rss_mb=float(rss))
if int(d1) > int(d0):
    db = (int(d1) - int(d0)) / int(tck)
    d.update(db_cpu_s=db, db_cpu_us_per_req=(db / n * 1e6) if n else None)
print(json.dumps(d))
PY
)
  printf '%s\n' "$rec" >>"$BENCH_TMP/wrk.jsonl"
  printf '%s\n' "$rec"
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# fact JSON : record one figure for the report.
fact() { printf '%s\n' "$1" >>"$BENCH_TMP/facts.jsonl"; }
# jq_label LABEL JSON -> JSON with "label" added.
jq_label() {
  python3 -c 'import sys,json;d=json.loads(sys.argv[2]);d["label"]=sys.argv[1];print(json.dumps(d))' "$1" "$2"
}
