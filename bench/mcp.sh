# MCP figures (issue 3), sourced by run.sh. SQLite, stateless JSON mode;
# then (unless BENCH_PG=0) tools/call on Postgres.

INIT_BODY='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}'
WHOAMI_BODY='{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"whoami","arguments":{}}}'
SEEDLIST_BODY='{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"seed_list","arguments":{}}}'

phase_mcp() {
  local dir="$BENCH_TMP/mcp" d=${BENCH_DURATION:-10}
  local W=(-t"${WRK_THREADS:-2}" -c16 --timeout 5s)
  log "mcp: starting the floor and Asgard (SQLite in $dir)"
  start_floor; start_asgard "$dir"
  sleep 1
  fact "{\"kind\":\"rss\",\"label\":\"mcp asgard idle after boot\",\"mb\":$(rss_mb "$ASG_PID")}"
  local tok pid key
  tok=$(login "$ASG_URL"); pid=$(register "$ASG_URL" "$tok" "MCP bench"); key=$(mint_key "$ASG_URL" "$tok" "$pid")
  sleep 2
  fact "{\"kind\":\"rss\",\"label\":\"mcp asgard idle (after 1 login, a registration and a key)\",\"mb\":$(rss_mb "$ASG_PID")}"

  # initialize once (what a client does), and check a call really succeeds.
  fact "$(jq_label "mcp check" "$(python3 "$PY/mcp_bench.py" check "$ASG_URL" "$key")")"

  local target url p body name
  for name in whoami seed_list; do
    if [ $name = whoami ]; then body=$WHOAMI_BODY; else body=$SEEDLIST_BODY; fi
    for target in floor asgard; do
      if [ $target = floor ]; then url=$FLOOR_URL; p=$FLOOR_PID; else url=$ASG_URL; p=$ASG_PID; fi
      log "mcp: $target tools/call $name, 16 connections"
      BENCH_TOKEN=$key BENCH_MCP_BODY=$body $(gen_pin) wrk "${W[@]}" -d1s -s "$LUA/mcp.lua" "$url/mcp" >/dev/null 2>&1
      fact "$(BENCH_TOKEN=$key BENCH_MCP_BODY=$body wrk_run "mcp $target tools/call $name c16" "$p" "$url/mcp" "${W[@]}" -d"${d}s" -s "$LUA/mcp.lua")"
      log "mcp: $target tools/call $name, sequential (1 connection)"
      fact "$(BENCH_TOKEN=$key BENCH_MCP_BODY=$body wrk_run "mcp $target tools/call $name c1" "$p" "$url/mcp" -t1 -c1 -d5s -s "$LUA/mcp.lua")"
    done
  done
  # 16 paced clients: each waits 3 ms after every reply (about 5,000 calls/s
  # in total when a call takes ~0.2 ms): latency at the target rate rather
  # than at saturation.
  for target in floor asgard; do
    if [ $target = floor ]; then url=$FLOOR_URL; p=$FLOOR_PID; else url=$ASG_URL; p=$ASG_PID; fi
    log "mcp: $target tools/call whoami, 16 paced clients"
    fact "$(BENCH_TOKEN=$key BENCH_MCP_BODY=$WHOAMI_BODY BENCH_DELAY_MS=3 wrk_run "mcp $target tools/call whoami c16 paced" "$p" "$url/mcp" "${W[@]}" -d"${d}s" -s "$LUA/mcp.lua")"
  done
  # A still-valid call after all that (no degradation into errors).
  fact "$(jq_label "mcp check after load" "$(python3 "$PY/mcp_bench.py" check "$ASG_URL" "$key")")"
  fact "{\"kind\":\"rss\",\"label\":\"mcp asgard after tools/call load\",\"mb\":$(rss_mb "$ASG_PID")}"

  log "mcp: 10,000 initialize calls"
  fact "$(jq_label "mcp initialize flood" "$($(gen_pin) python3 "$PY/mcp_bench.py" flood "$ASG_URL" "$key" 10000 16 "$ASG_PID")")"
  log "mcp: 100 GET /mcp streams"
  fact "$(jq_label "mcp get streams" "$($(gen_pin) python3 "$PY/mcp_bench.py" streams "$ASG_URL" "$key" 100 "$ASG_PID" 5)")"
  fact "{\"kind\":\"rss\",\"label\":\"mcp asgard end (hwm $(hwm_mb "$ASG_PID") MB)\",\"mb\":$(rss_mb "$ASG_PID")}"
  stop_pid "$ASG_PID"; stop_pid "$FLOOR_PID"
  if [ "${BENCH_PG:-1}" = 1 ]; then mcp_pg "$dir" "$d" || log "mcp: the Postgres part failed"; fi
}

# tools/call on Asgard backed by a local Postgres cluster (pinned with
# Asgard; its CPU is reported apart as db).
mcp_pg() {
  local dir=$1 d=$2 url tok pid key name body
  local W=(-t"${WRK_THREADS:-2}" -c16 --timeout 5s)
  [ -n "${PGPORT:-}" ] || start_pg || return 1
  url=$(pg_db mcp) || return 1
  start_asgard "$dir-pg" ASGARD_DATABASE_URL="$url" ASGARD_SECRET_KEY="$BENCH_PG_KEY"
  tok=$(login "$ASG_URL"); pid=$(register "$ASG_URL" "$tok" "MCP bench"); key=$(mint_key "$ASG_URL" "$tok" "$pid")
  fact "$(jq_label "mcp check pg" "$(python3 "$PY/mcp_bench.py" check "$ASG_URL" "$key")")"
  for name in whoami seed_list; do
    if [ $name = whoami ]; then body=$WHOAMI_BODY; else body=$SEEDLIST_BODY; fi
    log "mcp: asgard-pg tools/call $name, 16 connections"
    BENCH_TOKEN=$key BENCH_MCP_BODY=$body $(gen_pin) wrk "${W[@]}" -d1s -s "$LUA/mcp.lua" "$ASG_URL/mcp" >/dev/null 2>&1
    fact "$(BENCH_DB_MASTER=$BENCH_PG_MASTER BENCH_TOKEN=$key BENCH_MCP_BODY=$body wrk_run "mcp asgard-pg tools/call $name c16" "$ASG_PID" "$ASG_URL/mcp" "${W[@]}" -d"${d}s" -s "$LUA/mcp.lua")"
    log "mcp: asgard-pg tools/call $name, sequential (1 connection)"
    fact "$(BENCH_DB_MASTER=$BENCH_PG_MASTER BENCH_TOKEN=$key BENCH_MCP_BODY=$body wrk_run "mcp asgard-pg tools/call $name c1" "$ASG_PID" "$ASG_URL/mcp" -t1 -c1 -d5s -s "$LUA/mcp.lua")"
  done
  stop_pid "$ASG_PID"
}
