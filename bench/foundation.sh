# Foundation figures (issue 2), sourced by run.sh. SQLite, then (unless
# BENCH_PG=0) authenticated reads and registrations on Postgres.
# Floor and Asgard run side by side (each pinned to $SRV_CPU, the load
# generator to $GEN_CPU), the same wrk command against each, one after the other.

phase_foundation() {
  local dir="$BENCH_TMP/foundation" d=${BENCH_DURATION:-10} dp=${BENCH_POST_DURATION:-2}
  local W=(-t"${WRK_THREADS:-2}" -c16 --timeout 5s)
  log "foundation: starting the floor and Asgard (SQLite in $dir)"
  start_floor; start_asgard "$dir"
  sleep 2
  fact "{\"kind\":\"rss\",\"label\":\"floor idle\",\"mb\":$(rss_mb "$FLOOR_PID")}"
  fact "{\"kind\":\"rss\",\"label\":\"asgard idle after boot\",\"mb\":$(rss_mb "$ASG_PID")}"

  local tok; tok=$(login "$ASG_URL")
  local i
  for i in $(seq 20); do register "$ASG_URL" "$tok" "Seed $i" >/dev/null; done
  sleep 1
  fact "{\"kind\":\"rss\",\"label\":\"asgard after 1 login + 20 registrations\",\"mb\":$(rss_mb "$ASG_PID")}"

  # /healthz, authenticated GET /api/projects (20 projects), POST /api/projects.
  local target url
  for target in floor asgard; do
    if [ $target = floor ]; then url=$FLOOR_URL; pid=$FLOOR_PID; else url=$ASG_URL; pid=$ASG_PID; fi
    log "foundation: $target GET /healthz"
    $(gen_pin) wrk "${W[@]}" -d1s -s "$LUA/get.lua" "$url/healthz" >/dev/null 2>&1  # warm-up
    fact "$(wrk_run "foundation $target GET /healthz" "$pid" "$url/healthz" "${W[@]}" -d"${d}s" -s "$LUA/get.lua")"
    log "foundation: $target GET /api/projects (Bearer session)"
    BENCH_TOKEN=$tok $(gen_pin) wrk "${W[@]}" -d1s -s "$LUA/get.lua" "$url/api/projects" >/dev/null 2>&1
    fact "$(BENCH_TOKEN=$tok wrk_run "foundation $target GET /api/projects" "$pid" "$url/api/projects" "${W[@]}" -d"${d}s" -s "$LUA/get.lua")"
  done
  # POST /api/projects runs on a second Asgard with a fresh DB: ids are
  # proj-YYYY-NNNN, so a database holds at most 9,999 registrations a year
  # (beyond that: 409). Hence a short run (BENCH_POST_DURATION, default 2 s).
  log "foundation: floor POST /api/projects"
  fact "$(BENCH_TOKEN=$tok BENCH_RUN=floor wrk_run "foundation floor POST /api/projects" "$FLOOR_PID" "$FLOOR_URL/api/projects" "${W[@]}" -d"${dp}s" -s "$LUA/post_projects.lua")"
  local main_pid=$ASG_PID main_url=$ASG_URL ptok
  start_asgard "$dir-post"; ptok=$(login "$ASG_URL")
  log "foundation: asgard POST /api/projects (fresh DB)"
  fact "$(BENCH_TOKEN=$ptok BENCH_RUN=asgard wrk_run "foundation asgard POST /api/projects" "$ASG_PID" "$ASG_URL/api/projects" "${W[@]}" -d"${dp}s" -s "$LUA/post_projects.lua")"
  stop_pid "$ASG_PID"
  ASG_PID=$main_pid; ASG_URL=$main_url

  local n_asg
  n_asg=$(grep '"foundation asgard ' "$BENCH_TMP/wrk.jsonl" | grep -v 'POST /api/projects' | python3 -c 'import sys,json;print(sum(json.loads(l)["requests"] for l in sys.stdin))')
  # Top up to at least 100k requests served before the "after load" RSS.
  if [ "$n_asg" -lt 100000 ]; then
    local more=$((100000 - n_asg)) secs rec
    secs=$(grep '"foundation asgard GET /api/projects"' "$BENCH_TMP/wrk.jsonl" | tail -1 |
           python3 -c "import sys,json,math;print(math.ceil($more/json.load(sys.stdin)['rps'])+1)")
    log "foundation: topping up with GET /api/projects for ${secs}s (>= $more more requests)"
    rec=$(BENCH_TOKEN=$tok wrk_run "foundation asgard top-up GET /api/projects" "$ASG_PID" "$ASG_URL/api/projects" "${W[@]}" -d"${secs}s" -s "$LUA/get.lua")
    n_asg=$((n_asg + $(printf '%s' "$rec" | python3 -c 'import sys,json;print(json.load(sys.stdin)["requests"])')))
  fi
  fact "{\"kind\":\"rss\",\"label\":\"asgard after load\",\"requests\":$n_asg,\"mb\":$(rss_mb "$ASG_PID"),\"hwm_mb\":$(hwm_mb "$ASG_PID")}"
  fact "{\"kind\":\"rss\",\"label\":\"floor after load\",\"mb\":$(rss_mb "$FLOOR_PID")}"
  sleep "${BENCH_PAUSE:-10}"
  fact "{\"kind\":\"rss\",\"label\":\"asgard after load + ${BENCH_PAUSE:-10} s pause\",\"mb\":$(rss_mb "$ASG_PID")}"

  # A fresh TCP connection per request (Python raw socket, Connection: close).
  local n=${BENCH_FRESH_N:-1000}
  for target in floor asgard; do
    if [ $target = floor ]; then url=$FLOOR_URL; else url=$ASG_URL; fi
    log "foundation: $target fresh connection + request x$n"
    fact "$(jq_label "foundation $target fresh conn GET /healthz" "$($(gen_pin) python3 "$PY/fresh_conn.py" "$url/healthz" "$n")")"
    fact "$(jq_label "foundation $target fresh conn GET /api/projects" "$($(gen_pin) python3 "$PY/fresh_conn.py" "$url/api/projects" "$n" "$tok")")"
  done
  stop_pid "$ASG_PID"; stop_pid "$FLOOR_PID"

  # Cold start: exec -> /readyz ready, fresh SQLite file each boot, then an existing one.
  local nb=${BENCH_BOOTS:-10}
  log "foundation: cold start x$nb (fresh DB, existing DB, floor)"
  local CMD=(env RUST_LOG=warn ASGARD_ADMIN_PASSWORD="$ADMIN_PW" ASGARD_DATABASE_URL="sqlite://{dir}/a.db"
             $(srv_pin) "$ASGARD_BIN" serve --bind "127.0.0.1:{port}" --config "$dir/asgard.yaml")
  fact "$(jq_label "coldstart asgard fresh" "$(python3 "$PY/coldstart.py" fresh "$nb" "$BENCH_TMP/boots" -- "${CMD[@]}")")"
  fact "$(jq_label "coldstart asgard existing" "$(python3 "$PY/coldstart.py" existing "$nb" "$BENCH_TMP/boots" -- "${CMD[@]}")")"
  fact "$(jq_label "coldstart floor" "$(python3 "$PY/coldstart.py" fresh "$nb" "$BENCH_TMP/boots-floor" -- $(srv_pin) "$FLOOR_BIN" "127.0.0.1:{port}")")"

  if [ "${BENCH_PG:-1}" = 1 ]; then foundation_pg "$dir" "$d" "$dp" || log "foundation: the Postgres part failed"; fi
}

# The routes whose cost depends on the database, on Asgard backed by a local
# Postgres cluster (pinned with Asgard; its CPU is reported apart as db).
foundation_pg() {
  local dir=$1 d=$2 dp=$3 url tok i
  local W=(-t"${WRK_THREADS:-2}" -c16 --timeout 5s)
  [ -n "${PGPORT:-}" ] || start_pg || return 1
  url=$(pg_db foundation) || return 1
  start_asgard "$dir-pg" ASGARD_DATABASE_URL="$url" ASGARD_SECRET_KEY="$BENCH_PG_KEY"
  tok=$(login "$ASG_URL")
  for i in $(seq 20); do register "$ASG_URL" "$tok" "Seed $i" >/dev/null; done
  log "foundation: asgard-pg GET /api/projects (Bearer session)"
  BENCH_TOKEN=$tok $(gen_pin) wrk "${W[@]}" -d1s -s "$LUA/get.lua" "$ASG_URL/api/projects" >/dev/null 2>&1
  fact "$(BENCH_DB_MASTER=$BENCH_PG_MASTER BENCH_TOKEN=$tok wrk_run "foundation asgard-pg GET /api/projects" "$ASG_PID" "$ASG_URL/api/projects" "${W[@]}" -d"${d}s" -s "$LUA/get.lua")"
  stop_pid "$ASG_PID"
  url=$(pg_db foundation_post) || return 1
  start_asgard "$dir-pg-post" ASGARD_DATABASE_URL="$url" ASGARD_SECRET_KEY="$BENCH_PG_KEY"; tok=$(login "$ASG_URL")
  log "foundation: asgard-pg POST /api/projects (fresh DB)"
  fact "$(BENCH_DB_MASTER=$BENCH_PG_MASTER BENCH_TOKEN=$tok BENCH_RUN=asgard-pg wrk_run "foundation asgard-pg POST /api/projects" "$ASG_PID" "$ASG_URL/api/projects" "${W[@]}" -d"${dp}s" -s "$LUA/post_projects.lua")"
  stop_pid "$ASG_PID"
}
