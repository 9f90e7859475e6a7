# request_resource under a burst (issue 9): COUNT calls at once into one
# project, answer time per call, on SQLite and on Postgres, sourced by
# run.sh. Unarmed, so the figure is the request path alone (validation,
# the budget check under the project lock, the insert). The server is
# pinned like the other phases (and Postgres with it); the clients get the
# other CPU.

phase_burst() {
  local dir="$BENCH_TMP/burst" n=${BENCH_BURST_N:-20} r=${BENCH_BURST_ROUNDS:-3}
  local engine tok pid key line url
  for engine in sqlite postgres; do
    if [ "$engine" = postgres ]; then
      [ "${BENCH_PG:-1}" = 1 ] || continue
      [ -n "${PGPORT:-}" ] || start_pg || return 1
      url=$(pg_db burst) || return 1
      start_asgard "$dir-$engine" ASGARD_DATABASE_URL="$url" ASGARD_SECRET_KEY="$BENCH_PG_KEY"
    else
      start_asgard "$dir-$engine"
    fi
    tok=$(login "$ASG_URL"); pid=$(register "$ASG_URL" "$tok" "Burst $engine"); key=$(mint_key "$ASG_URL" "$tok" "$pid")
    log "burst: $n request_resource at once into one project, $r rounds ($engine)"
    while read -r line; do
      fact "$(jq_label "burst $engine" "$line")"
    done < <($(gen_pin) python3 "$PY/burst.py" "$ASG_URL" "$key" "$n" "$r" "b")
    stop_pid "$ASG_PID"
  done
}
