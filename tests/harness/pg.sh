#!/usr/bin/env bash
# Throwaway PostgreSQL on 127.0.0.1 for tests; safe to call as root (runs the server as user "postgres").
#   eval "$(tests/harness/pg.sh start [PORT])"
#       starts a fresh cluster (free port when PORT is omitted), creates database asgard_test and prints
#       export PGDIR=… PGPORT=… PG_ADMIN_URL=postgres://postgres@127.0.0.1:PORT/postgres
#              ASGARD_TEST_PG_URL=postgres://postgres@127.0.0.1:PORT/asgard_test
#       The user "postgres" is a superuser (trust auth on loopback), so tests may CREATE DATABASE.
#   tests/harness/pg.sh createdb NAME      # needs PGPORT (from start); prints postgres://…/NAME
#   tests/harness/pg.sh stop "$PGDIR"      # immediate shutdown (pg_ctl kills the postmaster by its pid file) + rm -rf
# Needs initdb, pg_ctl (PostgreSQL server binaries) and psql on PATH.
set -euo pipefail
cd /tmp   # runuser keeps the cwd; avoid "could not change directory" warnings from e.g. /root
AS=()
if [ "$(id -u)" = 0 ]; then AS=(runuser -u postgres --); fi

start_once() {
  local port=$1 dir
  dir=$(mktemp -d /tmp/asgard-pg.XXXXXX)      # under /tmp: postgres must be able to traverse the parents
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
  chmod 700 "$dir"
  if ! "${AS[@]}" initdb -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2; rm -rf "$dir"; return 1
  fi
  # -k $dir: unix socket in our dir (the default /var/run/postgresql may not exist); durability off for speed.
  if ! "${AS[@]}" pg_ctl -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null 2>&1; then
    cat "$dir/server.log" >&2
    "${AS[@]}" pg_ctl -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"; return 1
  fi
  psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 -c 'CREATE DATABASE asgard_test' >/dev/null
  echo "export PGDIR=$dir PGPORT=$port PG_ADMIN_URL=postgres://postgres@127.0.0.1:$port/postgres ASGARD_TEST_PG_URL=postgres://postgres@127.0.0.1:$port/asgard_test"
}

case "${1:-}" in
start)
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres
  fi
  if [ -n "${2:-}" ]; then start_once "$2"; exit; fi
  # A free port can be taken between picking and binding: retry with a new one.
  for _ in 1 2 3; do
    port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
    start_once "$port" && exit 0
    echo "pg.sh: start on port $port failed, retrying" >&2
  done
  exit 1
  ;;
createdb)
  name=${2:?usage: $0 createdb NAME}; port=${PGPORT:?PGPORT not set (eval the output of: $0 start)}
  [[ "$name" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "pg.sh: bad database name $name" >&2; exit 2; }
  psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE $name" >/dev/null
  echo "postgres://postgres@127.0.0.1:$port/$name"
  ;;
stop)
  dir=${2:?usage: $0 stop PGDIR}
  case "$dir" in /tmp/asgard-pg.*) ;; *) echo "pg.sh: refusing to remove $dir" >&2; exit 2;; esac
  "${AS[@]}" pg_ctl -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*) echo "usage: $0 start [PORT] | createdb NAME | stop PGDIR" >&2; exit 2;;
esac
